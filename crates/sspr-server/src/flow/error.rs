//! What can go wrong in a flow's step, as the flow knows it. `crate::error` turns each into
//! the code and the words a person is shown (each message once); the step attaches the
//! flow's reference once (`StepError`).

use sspr_proto::{DirectoryResult, Outcome, PasswordReason};

use crate::fault::Internal;

/// Why a login as typed can't be looked up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoginProblem {
    Empty,
    TooLong,
    ControlCharacters,
}

/// Why a step is refused by the flow's state or the step's own rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Not verified yet (verifying).
    NotVerified,
    /// Verified (or writing): the next step is the password or the unlock.
    AlreadyVerified,
    Completed,
    Cancelled,
    /// This method was verified already in this flow.
    MethodDone,
    /// This challenge was answered already.
    CodeUsed,
    /// Another request moved the flow meanwhile.
    FlowChanged,
    /// An approval is answered on the phone, not with a code.
    ApprovalOnPhone,
}

impl Refusal {
    /// As the audit says it.
    pub fn as_str(self) -> &'static str {
        match self {
            Refusal::NotVerified => "not_verified",
            Refusal::AlreadyVerified => "already_verified",
            Refusal::Completed => "completed",
            Refusal::Cancelled => "cancelled",
            Refusal::MethodDone => "method_done",
            Refusal::CodeUsed => "challenge_used",
            Refusal::FlowChanged => "flow_changed",
            Refusal::ApprovalOnPhone => "approval_on_phone",
        }
    }
}

/// Where a phone's approval stands when it is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApprovalRefusal {
    /// The kiosk's attempt has ended.
    KioskEnded,
    /// The phone is past this step.
    PastStep,
    /// The number the kiosk shows wasn't typed yet.
    NumberFirst,
    /// Another answer is being checked.
    BeingAnswered,
    /// Approved already (deny after approval).
    ApprovedAlready,
    /// The new password comes after the approval.
    ApproveFirst,
}

#[derive(Debug)]
pub enum FlowError {
    Login(LoginProblem),
    BadLocale,
    /// An unlock was asked for where unlocking alone is turned off.
    UnlockOff,
    /// The unlock step of a flow that isn't for unlocking, or where it is turned off.
    UnlockNotOffered,
    FlowNotFound,
    ChallengeNotFound,
    FlowExpired,
    Step(Refusal),
    MethodUnavailable,
    Blocked {
        retry_after: i64,
    },
    /// A code was sent a moment ago; another may be asked for in `wait` seconds.
    ResendWait {
        wait: i64,
    },
    RateLimited {
        wait: i64,
    },
    DeliveryFailed,
    CodeExpired,
    NewerCodeSent,
    CodeMissing,
    CodeNotDigits,
    CodeInvalid {
        reused: bool,
    },
    /// Security questions: not every question has an answer (`count` are asked).
    AnswersMissing {
        count: usize,
    },
    /// Security questions: an answer can't be checked as typed (too long, control
    /// characters).
    AnswerRefused(crate::methods::questions::Problem),
    /// Security questions: not all answers were right (never which).
    AnswersWrong,
    DirectoryDown,
    /// The directory lost the connection while it wrote: the change may or may not be
    /// there.
    WriteInDoubt,
    PasswordRejected(Vec<PasswordReason>),
    /// The person can't be changed by self-service now (gone, disabled).
    AccountNotChangeable,
    /// The directory refused the change for this account.
    AccountDenied,
    /// The directory can't make this change (its words).
    Unsupported(String),
    PartiallyWritten {
        outcome: Outcome,
        directories: Vec<DirectoryResult>,
    },
    ApprovalUnknown,
    ApprovalExpired,
    /// The approval failed (`shown` is what the kiosk was told).
    ApprovalFailed {
        blocked: bool,
        message: &'static str,
    },
    ApprovalStep(ApprovalRefusal),
    ApprovalOff,
    /// Only the phone that approved may set the new password.
    NotTheApprovingPhone,
    Internal(Internal),
}

pub type FlowResult<T> = Result<T, FlowError>;

/// A step's failure with the flow's reference, when there is a flow.
#[derive(Debug)]
pub struct StepError {
    pub error: FlowError,
    pub reference: Option<String>,
}

pub type StepResult<T> = Result<T, StepError>;

impl FlowError {
    /// With the flow's reference, once per step.
    pub fn at(self, reference: &str) -> StepError {
        StepError {
            error: self,
            reference: Some(reference.to_string()),
        }
    }
}

impl From<FlowError> for StepError {
    fn from(error: FlowError) -> Self {
        StepError {
            error,
            reference: None,
        }
    }
}

impl From<crate::store::StoreError> for FlowError {
    fn from(e: crate::store::StoreError) -> Self {
        FlowError::Internal(Internal::store(e))
    }
}

impl From<crate::store::StoreError> for StepError {
    fn from(e: crate::store::StoreError) -> Self {
        FlowError::from(e).into()
    }
}
