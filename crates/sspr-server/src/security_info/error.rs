//! What can go wrong on "My security info", in its own terms; `crate::error` words it.

use crate::fault::Internal;
use crate::flow::LoginProblem;

#[derive(Debug)]
pub enum MyError {
    Login(LoginProblem),
    /// No session, or it ended (15 minutes).
    NoSession,
    /// Signed in with the password only: one method is still to verify.
    SecondFactorNeeded,
    /// The login or the password isn't right (one answer for either).
    WrongSignIn,
    DirectoryDown,
    Blocked {
        retry_after: i64,
    },
    /// This directory can't check passwords here (its words).
    SignInUnsupported(String),
    NothingToConfirm,
    SignedInAlready,
    NotYourMethod,
    /// Passkeys need a host name phones reach the server by.
    PasskeysOff,
    ChooseMethodFirst,
    TooManyCodes {
        wait: i64,
        signing_in: bool,
    },
    CodeExpired,
    SecondFactorFailed,
    PasskeyName,
    StartPasskeyFirst,
    PasskeyRefused,
    PasskeyTaken,
    StartAuthenticatorFirst,
    AuthenticatorCode,
    EmailAddress,
    EnterAddressFirst,
    EmailCodeExpired,
    EmailCode,
    MethodNotFound,
    /// No SMS gateway is configured.
    SmsOff,
    /// Every gateway failed; nothing counted.
    TextFailed,
    PhoneNumber(String),
    EnterNumberFirst,
    MobileCode,
    MobileCodeExpired,
    /// Security questions aren't in the policy.
    QuestionsOff,
    /// The questions or answers break a rule (its words).
    Questions(String),
    Internal(Internal),
}

pub type MyResult<T> = Result<T, MyError>;

impl From<crate::store::StoreError> for MyError {
    fn from(e: crate::store::StoreError) -> Self {
        MyError::Internal(Internal::store(e))
    }
}

impl From<LoginProblem> for MyError {
    fn from(p: LoginProblem) -> Self {
        MyError::Login(p)
    }
}
