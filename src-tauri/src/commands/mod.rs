//! One thin command per user action: each calls sspr-client and maps the result. Errors
//! reach the UI as `{code, message}`.

pub mod approval;
pub mod flow;
pub mod kiosk;
