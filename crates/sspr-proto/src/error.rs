use serde::{Deserialize, Serialize};
use ts_rs::TS;
use utoipa::ToSchema;

use crate::{DirectoryResult, PasswordReason};

/// Every error the API returns, as one closed set. Callers act on the code, never on the
/// message, which is for people.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, TS, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// Malformed JSON, a wrong type, or a field out of bounds.
    BadRequest,
    /// The body is over 64 KiB.
    PayloadTooLarge,
    /// Missing, bad, stale or replayed request signature, or an unknown kiosk.
    Unauthorized,
    /// This kiosk was revoked.
    KioskRevoked,
    /// The enrollment code is unknown, used or expired.
    EnrollmentInvalid,
    /// No such flow, challenge or route.
    NotFound,
    /// The flow ran out of time; start again.
    FlowExpired,
    /// The step is not allowed now: skipped, repeated, or after the flow ended.
    StepNotAllowed,
    /// The method is not offered in this flow.
    MethodUnavailable,
    /// The code was wrong.
    CodeInvalid,
    /// The code has expired; request a new one.
    CodeExpired,
    /// Too many requests of this kind; `retry_after_secs` says when to try again.
    Throttled,
    /// Too many failed verifications: blocked until `retry_after_secs` passes.
    Blocked,
    /// The new password is not accepted; `reasons` says why.
    PasswordRejected,
    /// The directory can't be reached; nothing was changed.
    DirectoryUnavailable,
    /// The code couldn't be sent (the mail relay is down or refused it); nothing was
    /// counted against the person: choose another method, or try again later.
    DeliveryFailed,
    /// Some linked directories hold the new password and some don't; `directories` says
    /// which. Trying again with the same password finishes the rest.
    PartiallyWritten,
    /// Self-service is not available for this request by policy.
    NotAllowed,
    /// Something went wrong on the server; nothing was changed.
    Internal,
    /// The server can't reach its database just now (several processes on PostgreSQL):
    /// nothing was changed; try again in a moment (`retry_after_secs`).
    Unavailable,
    /// The console: the session's CSRF token is missing or stale (sign in again or reload).
    CsrfInvalid,
    /// The console: this change wants the passkey again (last checked over 5 minutes ago).
    ReauthRequired,
    /// The console: the policy can't be saved as it is; `problems` says why. Nothing changed.
    PolicyInvalid,
    /// The console: someone saved another version meanwhile; nothing changed. Reload.
    PolicyChanged,
    /// Never sent by the server: the kiosk's own code for "the server can't be reached".
    Unreachable,
    /// Never sent by the server: this kiosk has no enrollment yet.
    NotEnrolled,
}

impl ErrorCode {
    /// The HTTP status this code is sent with.
    pub fn http_status(self) -> u16 {
        match self {
            ErrorCode::BadRequest | ErrorCode::MethodUnavailable => 400,
            ErrorCode::Unauthorized | ErrorCode::ReauthRequired => 401,
            ErrorCode::KioskRevoked
            | ErrorCode::EnrollmentInvalid
            | ErrorCode::NotAllowed
            | ErrorCode::CsrfInvalid => 403,
            ErrorCode::NotFound => 404,
            ErrorCode::StepNotAllowed | ErrorCode::PolicyChanged => 409,
            ErrorCode::FlowExpired | ErrorCode::CodeExpired => 410,
            ErrorCode::PayloadTooLarge => 413,
            ErrorCode::CodeInvalid | ErrorCode::PasswordRejected | ErrorCode::PolicyInvalid => 422,
            ErrorCode::Throttled | ErrorCode::Blocked => 429,
            ErrorCode::Internal => 500,
            ErrorCode::DirectoryUnavailable
            | ErrorCode::Unavailable
            | ErrorCode::DeliveryFailed
            | ErrorCode::PartiallyWritten
            | ErrorCode::Unreachable
            | ErrorCode::NotEnrolled => 503,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::BadRequest => "bad_request",
            ErrorCode::PayloadTooLarge => "payload_too_large",
            ErrorCode::Unauthorized => "unauthorized",
            ErrorCode::KioskRevoked => "kiosk_revoked",
            ErrorCode::EnrollmentInvalid => "enrollment_invalid",
            ErrorCode::NotFound => "not_found",
            ErrorCode::FlowExpired => "flow_expired",
            ErrorCode::StepNotAllowed => "step_not_allowed",
            ErrorCode::MethodUnavailable => "method_unavailable",
            ErrorCode::CodeInvalid => "code_invalid",
            ErrorCode::CodeExpired => "code_expired",
            ErrorCode::Throttled => "throttled",
            ErrorCode::Blocked => "blocked",
            ErrorCode::PasswordRejected => "password_rejected",
            ErrorCode::DirectoryUnavailable => "directory_unavailable",
            ErrorCode::DeliveryFailed => "delivery_failed",
            ErrorCode::PartiallyWritten => "partially_written",
            ErrorCode::NotAllowed => "not_allowed",
            ErrorCode::Internal => "internal",
            ErrorCode::Unavailable => "unavailable",
            ErrorCode::CsrfInvalid => "csrf_invalid",
            ErrorCode::ReauthRequired => "reauth_required",
            ErrorCode::PolicyInvalid => "policy_invalid",
            ErrorCode::PolicyChanged => "policy_changed",
            ErrorCode::Unreachable => "unreachable",
            ErrorCode::NotEnrolled => "not_enrolled",
        }
    }
}

/// The body of every error response.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, TS, ToSchema)]
pub struct ErrorBody {
    pub code: ErrorCode,
    /// For people; never parsed.
    pub message: String,
    /// The flow's reference code, for the helpdesk.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub reference: Option<String>,
    /// When to try again (throttled, blocked).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional, as = "Option<u32>")]
    pub retry_after_secs: Option<u64>,
    /// Why a password was rejected.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[ts(optional, as = "Option<Vec<PasswordReason>>")]
    pub reasons: Vec<PasswordReason>,
    /// Per directory, when a change reached some linked directories and not others.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[ts(optional, as = "Option<Vec<DirectoryResult>>")]
    pub directories: Vec<DirectoryResult>,
    /// Why a policy can't be saved (the console).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[ts(optional, as = "Option<Vec<String>>")]
    pub problems: Vec<String>,
}

impl ErrorBody {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        ErrorBody {
            code,
            message: message.into(),
            reference: None,
            retry_after_secs: None,
            reasons: Vec::new(),
            directories: Vec::new(),
            problems: Vec::new(),
        }
    }
}

impl std::fmt::Display for ErrorBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code.as_str(), self.message)
    }
}

impl std::error::Error for ErrorBody {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_serialise_as_their_names() {
        for code in [
            ErrorCode::BadRequest,
            ErrorCode::Blocked,
            ErrorCode::StepNotAllowed,
            ErrorCode::DirectoryUnavailable,
        ] {
            let json = serde_json::to_string(&code).unwrap_or_default();
            assert_eq!(json, format!("\"{}\"", code.as_str()));
        }
    }
}
