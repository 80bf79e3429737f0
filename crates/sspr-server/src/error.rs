//! The one way errors leave the server. Each service says what went wrong in its own
//! terms (`flow::FlowError`, `security_info::MyError`); the `From`s here turn each into an
//! `ErrorCode` and the words a person reads, every message once. An internal fault
//! carries its cause (`Internal`) in the response, never in its body: the request
//! middleware (`http::correlate`) logs it once, with its source chain.

use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use sspr_proto::{ErrorBody, ErrorCode, Outcome, PasswordReason};

use crate::console::ConsoleError;
pub use crate::fault::Internal;
use crate::flow::{ApprovalRefusal, FlowError, LoginProblem, Refusal, StepError};
use crate::security_info::MyError;
use crate::store::StoreError;

#[derive(Debug, Clone)]
pub struct ApiError {
    pub body: Box<ErrorBody>,
    cause: Option<Internal>,
}

pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        ApiError {
            body: Box::new(ErrorBody::new(code, message)),
            cause: None,
        }
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        ApiError::new(ErrorCode::BadRequest, message)
    }

    pub fn not_found(what: &str) -> Self {
        ApiError::new(ErrorCode::NotFound, format!("No such {what}."))
    }

    pub fn step(message: impl Into<String>) -> Self {
        ApiError::new(ErrorCode::StepNotAllowed, message)
    }

    /// A fault of the server's: a generic answer; the cause is logged by the request
    /// middleware.
    pub fn internal(cause: Internal) -> Self {
        if cause.unavailable {
            return ApiError {
                body: Box::new(ErrorBody::new(
                    ErrorCode::Unavailable,
                    "The password service can't reach its database for a moment. Nothing was changed; please try again in a moment.",
                )),
                cause: Some(cause),
            }
            .with_retry_after(UNAVAILABLE_RETRY_SECS);
        }
        let message = if cause.full {
            "The server can't save anything right now (its disk is full). Nothing was changed; please try again later, or contact the helpdesk."
        } else {
            "Something went wrong on the server. Nothing was changed; please try again."
        };
        ApiError {
            body: Box::new(ErrorBody::new(ErrorCode::Internal, message)),
            cause: Some(cause),
        }
    }

    pub fn with_reference(mut self, reference: &str) -> Self {
        self.body.reference = Some(reference.to_string());
        self
    }

    pub fn with_retry_after(mut self, secs: i64) -> Self {
        self.body.retry_after_secs = Some(secs.max(1) as u64);
        self
    }

    pub fn with_reasons(mut self, reasons: Vec<PasswordReason>) -> Self {
        self.body.reasons = reasons;
        self
    }

    pub fn code(&self) -> ErrorCode {
        self.body.code
    }

    pub fn message(&self) -> &str {
        &self.body.message
    }

    /// The internal cause, if this is a fault of the server's.
    pub fn cause(&self) -> Option<&Internal> {
        self.cause.as_ref()
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        ApiError::internal(Internal::store(e))
    }
}

impl From<Internal> for ApiError {
    fn from(e: Internal) -> Self {
        ApiError::internal(e)
    }
}

/// When a person is told to try again while the database is away: about as long as the
/// pool waits for a connection, so the next try meets a database back or a fresh answer.
const UNAVAILABLE_RETRY_SECS: i64 = 5;

fn blocked_for(retry_after: i64) -> ApiError {
    let hours = (retry_after + 3599) / 3600;
    let when = if hours <= 1 {
        "within the hour".to_string()
    } else {
        format!("in about {hours} hours")
    };
    ApiError::new(
        ErrorCode::Blocked,
        format!("Too many attempts. Self-service is blocked for now; try again {when}, or contact the helpdesk."),
    )
    .with_retry_after(retry_after)
}

fn login_problem(p: LoginProblem) -> ApiError {
    ApiError::bad_request(match p {
        LoginProblem::Empty => "Enter your username or email address.".to_string(),
        LoginProblem::TooLong => format!(
            "A username or email address has at most {} characters.",
            crate::flow::MAX_LOGIN_CHARS
        ),
        LoginProblem::ControlCharacters => {
            "A username or email address can't contain control characters.".to_string()
        }
    })
}

const DIRECTORY_DOWN: &str = "We can't reach the directory right now; nothing was changed. Please try again or contact the helpdesk.";

impl From<FlowError> for ApiError {
    fn from(e: FlowError) -> Self {
        use ErrorCode as C;
        use FlowError as F;
        match e {
            F::Login(p) => login_problem(p),
            F::BadLocale => ApiError::bad_request(
                "The locale must be a language tag such as \"en\" or \"de\".",
            ),
            F::UnlockOff => ApiError::new(
                C::NotAllowed,
                "Unlocking without a reset is turned off here. Choose \"Reset my password\".",
            ),
            F::UnlockNotOffered => ApiError::new(
                C::NotAllowed,
                "Unlocking without a reset isn't allowed here; set a new password instead.",
            ),
            F::FlowNotFound => ApiError::not_found("flow"),
            F::ChallengeNotFound => ApiError::not_found("challenge"),
            F::FlowExpired => {
                ApiError::new(C::FlowExpired, "This attempt timed out. Please start again.")
            }
            F::Step(r) => ApiError::step(match r {
                Refusal::NotVerified => "Verify your identity first.",
                Refusal::AlreadyVerified => "You are verified already; set your new password.",
                Refusal::Completed => "This attempt is finished already.",
                Refusal::Cancelled => "This attempt was cancelled. Please start again.",
                Refusal::MethodDone => "You verified this method already; choose another one.",
                Refusal::CodeUsed => "That code was used already.",
                Refusal::FlowChanged => "This attempt changed meanwhile; start again.",
                Refusal::ApprovalOnPhone => {
                    "An approval is answered on the phone, not with a code."
                }
            }),
            F::MethodUnavailable => {
                ApiError::new(C::MethodUnavailable, "That method isn't offered here.")
            }
            F::Blocked { retry_after } => blocked_for(retry_after),
            F::ResendWait { wait } => ApiError::new(
                C::Throttled,
                format!("A code was just sent. You can ask for another in {wait} seconds."),
            )
            .with_retry_after(wait),
            F::RateLimited { wait } => ApiError::new(
                C::Throttled,
                "Too many codes were requested. Please wait before asking again, or use another method.",
            )
            .with_retry_after(wait),
            F::DeliveryFailed => ApiError::new(
                C::DeliveryFailed,
                "We couldn't send the code right now. Nothing was counted against you: choose another method, or try again in a moment.",
            ),
            F::CodeExpired => {
                ApiError::new(C::CodeExpired, "That code has expired. Ask for a new one.")
            }
            F::NewerCodeSent => ApiError::new(
                C::CodeExpired,
                "A newer code was sent. Use the code from the latest message.",
            ),
            F::CodeMissing => ApiError::bad_request("Enter the code."),
            F::CodeNotDigits => ApiError::bad_request("A code is made of digits only."),
            F::CodeInvalid { reused } => ApiError::new(
                C::CodeInvalid,
                if reused {
                    "That authenticator code was used already. Wait for the next one."
                } else {
                    "That code isn't right. Check it and try again."
                },
            ),
            F::AnswersMissing { count } => {
                ApiError::bad_request(format!("Answer all {count} questions."))
            }
            F::AnswerRefused(problem) => {
                let mut why = problem.to_string();
                if let Some(first) = why.get_mut(0..1) {
                    first.make_ascii_uppercase();
                }
                ApiError::bad_request(format!("{why}."))
            }
            F::AnswersWrong => ApiError::new(
                C::CodeInvalid,
                "Those answers aren't all right. Check them and try again.",
            ),
            F::DirectoryDown => ApiError::new(C::DirectoryUnavailable, DIRECTORY_DOWN),
            F::WriteInDoubt => ApiError::new(
                C::DirectoryUnavailable,
                "We lost the directory while it was making the change, so we can't tell yet whether it was made. Try again in a moment (with the same password, if you were setting one): we check first, then finish. Or contact the helpdesk.",
            ),
            F::PasswordRejected(reasons) => ApiError::new(
                C::PasswordRejected,
                "That password can't be used. See the reasons and choose another.",
            )
            .with_reasons(reasons),
            F::AccountNotChangeable => ApiError::new(
                C::NotAllowed,
                "This account can't be changed by self-service now. Please contact the helpdesk.",
            ),
            F::AccountDenied => ApiError::new(
                C::NotAllowed,
                "This account can't be changed by self-service. Please contact the helpdesk.",
            ),
            F::Unsupported(why) => ApiError::new(C::NotAllowed, why),
            F::PartiallyWritten {
                outcome,
                directories,
            } => {
                let mut e = ApiError::new(
                    C::PartiallyWritten,
                    match outcome {
                        Outcome::PasswordReset => "Your new password is set in some places but not all. Try again with the same password to finish, or contact the helpdesk.",
                        Outcome::Unlocked => "Your account is unlocked in some places but not all. Try again, or contact the helpdesk.",
                    },
                );
                e.body.directories = directories;
                e
            }
            F::ApprovalUnknown => ApiError::new(
                C::NotFound,
                "This approval code is unknown or was used already. Start again at the kiosk.",
            ),
            F::ApprovalExpired => ApiError::new(
                C::CodeExpired,
                "This approval code has expired. Start again at the kiosk.",
            ),
            F::ApprovalFailed { blocked, message } => ApiError::new(
                if blocked { C::Blocked } else { C::CodeInvalid },
                message,
            ),
            F::ApprovalStep(r) => ApiError::step(match r {
                ApprovalRefusal::KioskEnded => {
                    "This attempt at the kiosk has ended. Start again at the kiosk."
                }
                ApprovalRefusal::PastStep => {
                    "This approval is past that step. Start again at the kiosk."
                }
                ApprovalRefusal::NumberFirst => {
                    "Type the number the kiosk shows first, or start again at the kiosk."
                }
                ApprovalRefusal::BeingAnswered => "This approval is being answered already.",
                ApprovalRefusal::ApprovedAlready => {
                    "This was approved already. To stop, cancel at the kiosk."
                }
                ApprovalRefusal::ApproveFirst => "Approve first; the new password comes after.",
            }),
            F::ApprovalOff => ApiError::new(
                C::MethodUnavailable,
                "Approval on the phone is not set up on this server.",
            ),
            F::NotTheApprovingPhone => ApiError::new(
                C::Unauthorized,
                "Only the phone that approved can set the new password.",
            ),
            F::Internal(cause) => ApiError::internal(cause),
        }
    }
}

impl From<StepError> for ApiError {
    fn from(e: StepError) -> Self {
        let error = ApiError::from(e.error);
        match &e.reference {
            Some(r) => error.with_reference(r),
            None => error,
        }
    }
}

impl From<MyError> for ApiError {
    fn from(e: MyError) -> Self {
        use ErrorCode as C;
        use MyError as M;
        const PASSKEYS_OFF: &str = "Passkeys need the server to be reached by a host name; ask IT.";
        match e {
            M::Login(p) => login_problem(p),
            M::NoSession => ApiError::new(
                C::Unauthorized,
                "Please sign in (sessions end after 15 minutes).",
            ),
            M::SecondFactorNeeded => {
                ApiError::new(C::StepNotAllowed, "Verify one of your methods first.")
            }
            M::WrongSignIn => {
                ApiError::new(C::Unauthorized, "That username or password isn't right.")
            }
            M::DirectoryDown => ApiError::new(C::DirectoryUnavailable, DIRECTORY_DOWN),
            M::Blocked { retry_after } => blocked_for(retry_after),
            M::SignInUnsupported(why) => ApiError::new(
                C::NotAllowed,
                format!("Signing in here isn't possible for this account: {why}."),
            ),
            M::NothingToConfirm => {
                ApiError::step("There is nothing to confirm yet: add a method first.")
            }
            M::SignedInAlready => ApiError::step("You are signed in already."),
            M::NotYourMethod => ApiError::new(C::MethodUnavailable, "That method isn't yours."),
            M::PasskeysOff => ApiError::new(C::MethodUnavailable, PASSKEYS_OFF),
            M::ChooseMethodFirst => ApiError::step("Choose a method first."),
            M::TooManyCodes { wait, signing_in } => ApiError::new(
                C::Throttled,
                if signing_in {
                    "Too many codes were requested. Please wait, or use another method."
                } else {
                    "Too many codes were requested. Please wait a few minutes."
                },
            )
            .with_retry_after(wait),
            M::CodeExpired => {
                ApiError::new(C::CodeExpired, "That code has expired. Ask for a new one.")
            }
            M::SecondFactorFailed => ApiError::new(
                C::CodeInvalid,
                "That didn't verify. Check it and try again, or choose another method.",
            ),
            M::PasskeyName => ApiError::bad_request(
                "Give the passkey a name of up to 64 characters, such as \"My phone\".",
            ),
            M::StartPasskeyFirst => ApiError::step("Start adding a passkey first."),
            M::PasskeyRefused => ApiError::new(
                C::CodeInvalid,
                "The passkey could not be added. Please try again.",
            ),
            M::PasskeyTaken => ApiError::bad_request("This passkey is registered already."),
            M::StartAuthenticatorFirst => {
                ApiError::step("Start adding an authenticator app first.")
            }
            M::AuthenticatorCode => ApiError::new(
                C::CodeInvalid,
                "That code isn't right. Type the code the app shows now.",
            ),
            M::EmailAddress => {
                ApiError::bad_request("Enter an email address such as name@example.org.")
            }
            M::EnterAddressFirst => ApiError::step("Enter the address first."),
            M::EmailCodeExpired => ApiError::new(
                C::CodeExpired,
                "That code has expired. Enter the address again for a new one.",
            ),
            M::EmailCode => ApiError::new(
                C::CodeInvalid,
                "That code isn't right. Check the latest email and try again.",
            ),
            M::MethodNotFound => ApiError::not_found("method"),
            M::SmsOff => ApiError::new(
                C::MethodUnavailable,
                "Codes by text message aren't offered here.",
            ),
            M::TextFailed => ApiError::new(
                C::DeliveryFailed,
                "We couldn't send the text message right now. Try again in a moment, or use another method.",
            ),
            M::PhoneNumber(why) => ApiError::bad_request(why),
            M::QuestionsOff => ApiError::new(
                C::MethodUnavailable,
                "Security questions aren't offered here.",
            ),
            M::Questions(why) => {
                let mut why = why;
                if let Some(first) = why.get_mut(0..1) {
                    first.make_ascii_uppercase();
                }
                ApiError::bad_request(format!("{why}."))
            }
            M::EnterNumberFirst => ApiError::step("Enter the number first."),
            M::MobileCode => ApiError::new(
                C::CodeInvalid,
                "That code isn't right. Check the latest text message and try again.",
            ),
            M::MobileCodeExpired => ApiError::new(
                C::CodeExpired,
                "That code has expired. Enter the number again for a new one.",
            ),
            M::Internal(cause) => ApiError::internal(cause),
        }
    }
}

impl From<ConsoleError> for ApiError {
    fn from(e: ConsoleError) -> Self {
        use ConsoleError as E;
        use ErrorCode as C;
        match e {
            E::Login(p) => login_problem(p),
            E::NoSession => ApiError::new(
                C::Unauthorized,
                "Please sign in (sessions end after 15 minutes idle, or 8 hours).",
            ),
            E::SignInFailed => ApiError::new(
                C::Unauthorized,
                "The login, password or passkey wasn't right, or this account can't use the console.",
            ),
            E::SignInFirst => ApiError::new(
                C::Unauthorized,
                "Sign in with your login and password first (the passkey step waits 5 minutes).",
            ),
            E::DirectoryDown => ApiError::new(C::DirectoryUnavailable, DIRECTORY_DOWN),
            E::Blocked { retry_after } => ApiError::new(
                C::Blocked,
                "Too many failed sign-ins: signing in to the console is blocked for this account for now.",
            )
            .with_retry_after(retry_after),
            E::ReauthFailed => ApiError::new(
                C::CodeInvalid,
                "That passkey didn't verify. Try again with the passkey you registered.",
            ),
            E::PasskeysOff => ApiError::new(
                C::NotAllowed,
                "The console needs passkeys, and they need the server reached by a host name (approval.public_url).",
            ),
            E::Csrf => ApiError::new(
                C::CsrfInvalid,
                "This page's session token is missing or out of date. Reload the page and try again.",
            ),
            E::Reauth => ApiError::new(
                C::ReauthRequired,
                "Confirm it's you with your passkey again to change the policy.",
            ),
            E::StartReauthFirst => ApiError::step("Ask for the passkey check first."),
            E::Forbidden(what) => ApiError::new(
                C::NotAllowed,
                format!("Your console role doesn't let you {what}."),
            ),
            E::PolicyReadOnly => ApiError::new(
                C::NotAllowed,
                "The policy is managed as code here (console.policy_read_only): change it with `sspr-server policy import`.",
            ),
            E::PolicyInvalid(problems) => {
                let mut e = ApiError::new(
                    C::PolicyInvalid,
                    "The policy wasn't saved: nobody could pass it, or a value is out of range. Nothing changed.",
                );
                e.body.problems = problems;
                e
            }
            E::PolicyChanged => ApiError::new(
                C::PolicyChanged,
                "Someone saved another version of the policy meanwhile. Nothing changed: reload and make your change again.",
            ),
            E::BadInput(message) => ApiError::bad_request(message),
            E::NotFound(what) => ApiError::not_found(what),
            E::Internal(cause) => ApiError::internal(cause),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.body.code.http_status())
            .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let retry = self.body.retry_after_secs;
        let mut response = (status, axum::Json(*self.body)).into_response();
        if let Some(secs) = retry {
            if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
                response.headers_mut().insert("retry-after", v);
            }
        }
        // For the request middleware to log, once.
        if let Some(cause) = self.cause {
            response.extensions_mut().insert(cause);
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_flow_error_has_its_code_and_the_reference_once() {
        let cases = [
            (FlowError::FlowExpired, ErrorCode::FlowExpired),
            (FlowError::CodeExpired, ErrorCode::CodeExpired),
            (FlowError::NewerCodeSent, ErrorCode::CodeExpired),
            (
                FlowError::Step(Refusal::CodeUsed),
                ErrorCode::StepNotAllowed,
            ),
            (
                FlowError::CodeInvalid { reused: true },
                ErrorCode::CodeInvalid,
            ),
            (FlowError::Blocked { retry_after: 90 }, ErrorCode::Blocked),
            (FlowError::DeliveryFailed, ErrorCode::DeliveryFailed),
            (FlowError::DirectoryDown, ErrorCode::DirectoryUnavailable),
            (FlowError::FlowNotFound, ErrorCode::NotFound),
        ];
        for (error, code) in cases {
            let e = ApiError::from(error.at("ABCD-EFGH"));
            assert_eq!(e.code(), code);
            assert_eq!(e.body.reference.as_deref(), Some("ABCD-EFGH"));
            assert!(!e.message().is_empty());
        }
        let blocked = ApiError::from(FlowError::Blocked { retry_after: 90 });
        assert_eq!(blocked.body.retry_after_secs, Some(90));
        assert!(blocked.body.reference.is_none());
    }

    #[test]
    fn an_internal_cause_travels_beside_the_body_never_in_it() {
        let cause = Internal::new("reading a flow", std::io::Error::other("disk on fire"));
        let e = ApiError::from(FlowError::Internal(cause));
        assert_eq!(e.code(), ErrorCode::Internal);
        assert!(!e.message().contains("fire"));
        assert_eq!(
            e.cause().map(Internal::chain).as_deref(),
            Some("reading a flow: disk on fire")
        );
        let response = e.into_response();
        assert!(response.extensions().get::<Internal>().is_some());
        let full = ApiError::from(StoreError::Full("no space".into()));
        assert!(full.message().contains("disk is full"));
    }

    #[test]
    fn a_database_away_says_try_again_in_a_moment_not_a_fault() {
        let away = ApiError::from(StoreError::Postgres(sqlx::Error::PoolTimedOut));
        assert_eq!(away.code(), ErrorCode::Unavailable);
        assert!(away.message().contains("try again in a moment"));
        let response = away.into_response();
        assert_eq!(response.status(), 503);
        assert_eq!(
            response
                .headers()
                .get("retry-after")
                .and_then(|v| v.to_str().ok()),
            Some("5")
        );
        // A statement the database refused is a fault of ours, not a pause.
        let refused = ApiError::from(StoreError::Postgres(sqlx::Error::RowNotFound));
        assert_eq!(refused.code(), ErrorCode::Internal);
    }
}
