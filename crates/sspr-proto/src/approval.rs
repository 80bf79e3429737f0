//! Authenticator approval by QR code: what the kiosk is pushed over server-sent events,
//! and what the phone page sends and gets. The phone page is not a kiosk: its requests
//! are not signed; the approval token (in the body, never in a logged path) is its key.

use serde::{Deserialize, Serialize};
use ts_rs::TS;
use utoipa::ToSchema;

use crate::{DoneView, FlowView, Helpdesk, Intent, PasswordRules};

/// Why an approval failed; each fails the method.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, TS, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ApprovalFailure {
    /// The person tapped Deny on the phone.
    Denied,
    /// The number typed on the phone is not the one the kiosk showed.
    WrongNumber,
    /// Two minutes passed, or the flow ended.
    Expired,
    /// The passkey's answer did not verify (another passkey, another approval, a replay).
    PasskeyFailed,
    /// Too many failed verifications: the person is blocked for now.
    Blocked,
}

/// `GET /v1/flows/{id}/events`: one server-sent event; the SSE event name is `type`.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, TS, ToSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum FlowEvent {
    /// The phone opened the approval page: show this two-digit number.
    Scanned {
        challenge_id: String,
        number: String,
    },
    /// Approved on the phone: the method is verified; the flow as it stands.
    Approved {
        challenge_id: String,
        flow: FlowView,
    },
    /// Approved, and the new password is being typed on the phone: show "Finish on your
    /// phone" until `completed`.
    FinishOnPhone {
        challenge_id: String,
        flow: FlowView,
    },
    /// The password typed on the phone is set.
    Completed { done: DoneView },
    /// The approval failed; `message` says so plainly. Choose another method.
    Failed {
        challenge_id: String,
        reason: ApprovalFailure,
        message: String,
    },
}

/// Phone page: `POST /v1/approval/open`, `POST /v1/approval/deny`.
#[derive(Serialize, Deserialize, Clone, TS, ToSchema)]
pub struct ApprovalTokenRequest {
    pub token: String,
}

/// What the phone page shows before the person approves.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, TS, ToSchema)]
pub struct ApprovalInfo {
    pub organization: String,
    pub accent_color: String,
    pub kiosk_name: String,
    pub kiosk_location: String,
    /// The account, masked ("a•••a").
    pub account: String,
    pub intent: Intent,
    pub expires_in_secs: u32,
    pub helpdesk: Helpdesk,
}

/// Phone page: `POST /v1/approval/number`, the number the kiosk shows.
#[derive(Serialize, Deserialize, Clone, TS, ToSchema)]
pub struct ApprovalNumberRequest {
    pub token: String,
    pub number: String,
}

/// The WebAuthn request for the passkey, as `navigator.credentials.get` takes it once its
/// base64url fields are decoded (`{ publicKey: { challenge, allowCredentials, ... } }`).
#[derive(Serialize, Deserialize, Clone, Debug, TS, ToSchema)]
pub struct PasskeyRequest {
    #[ts(type = "any")]
    #[schema(value_type = Object)]
    pub options: serde_json::Value,
}

/// Phone page: `POST /v1/approval/finish`, the passkey's answer (`PublicKeyCredential`
/// with base64url fields).
#[derive(Serialize, Deserialize, Clone, TS, ToSchema)]
pub struct ApprovalFinishRequest {
    pub token: String,
    #[ts(type = "any")]
    #[schema(value_type = Object)]
    pub credential: serde_json::Value,
}

/// Approved. When `finish_on_phone`, the page asks for the new password next.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, TS, ToSchema)]
pub struct ApprovalGranted {
    pub finish_on_phone: bool,
    #[ts(optional)]
    pub password_rules: Option<PasswordRules>,
    /// With `finish_on_phone`: the key for the password calls. Only the phone that
    /// approved holds it (the token was on the kiosk's screen for anyone to see).
    #[ts(optional)]
    pub password_key: Option<String>,
}

/// Phone page: `POST /v1/approval/password-check`.
#[derive(Serialize, Deserialize, Clone, TS, ToSchema)]
pub struct ApprovalPasswordCheckRequest {
    pub token: String,
    /// `ApprovalGranted::password_key`.
    pub key: String,
    pub candidate: String,
}

/// Phone page: `POST /v1/approval/password`.
#[derive(Serialize, Deserialize, Clone, TS, ToSchema)]
pub struct ApprovalPasswordRequest {
    pub token: String,
    /// `ApprovalGranted::password_key`.
    pub key: String,
    pub new_password: String,
}

macro_rules! redacted_debug {
    ($($t:ident),*) => {$(
        impl std::fmt::Debug for $t {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(concat!(stringify!($t), " { .. }"))
            }
        }
    )*};
}
pub(crate) use redacted_debug;

redacted_debug!(
    ApprovalTokenRequest,
    ApprovalNumberRequest,
    ApprovalFinishRequest,
    ApprovalPasswordCheckRequest,
    ApprovalPasswordRequest
);
