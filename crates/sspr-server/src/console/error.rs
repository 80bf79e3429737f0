//! What can go wrong in the admin console, in its own terms; `crate::error` words it.

use crate::fault::Internal;
use crate::flow::LoginProblem;

#[derive(Debug)]
pub enum ConsoleError {
    Login(LoginProblem),
    /// No session, or it ended (15 minutes idle, 8 hours at most).
    NoSession,
    /// The login, the password or the passkey wasn't right, or the account is in no
    /// console group or has no passkey: one answer for all of them.
    SignInFailed,
    /// The passkey step without a password step before it.
    SignInFirst,
    DirectoryDown,
    Blocked {
        retry_after: i64,
    },
    /// Passkeys need a host name (`approval.public_url`): without them nobody signs in.
    PasskeysOff,
    /// A state-changing call without the session's CSRF token (or with another's).
    Csrf,
    /// A policy change wants the passkey again.
    Reauth,
    StartReauthFirst,
    /// The passkey asked for again didn't verify (the session stays).
    ReauthFailed,
    /// This role may not do that.
    Forbidden(&'static str),
    /// `console.policy_read_only`.
    PolicyReadOnly,
    PolicyInvalid(Vec<String>),
    /// Another version was saved since the one the change was made over.
    PolicyChanged,
    BadInput(String),
    NotFound(&'static str),
    Internal(Internal),
}

pub type ConsoleResult<T> = Result<T, ConsoleError>;

impl From<crate::store::StoreError> for ConsoleError {
    fn from(e: crate::store::StoreError) -> Self {
        ConsoleError::Internal(Internal::store(e))
    }
}

impl From<LoginProblem> for ConsoleError {
    fn from(p: LoginProblem) -> Self {
        ConsoleError::Login(p)
    }
}
