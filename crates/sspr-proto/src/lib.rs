//! Wire types of the SSPR kiosk API (v1), shared by the server, the kiosk, the client and
//! the tests. The TypeScript bindings (`shared/wire.ts`) and the OpenAPI document are
//! generated from these types; CI fails when either committed copy is stale.

mod admin;
mod approval;
mod error;
mod security_info;
mod typescript;

pub use admin::*;
pub use approval::*;
pub use error::{ErrorBody, ErrorCode};
pub use security_info::*;
pub use typescript::typescript_bindings;

use serde::{Deserialize, Serialize};
use ts_rs::TS;
use utoipa::ToSchema;

/// Path of the kiosk API's version prefix.
pub const API_PREFIX: &str = "/v1";

/// What the person came to do.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, TS, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Intent {
    Reset,
    Unlock,
}

impl Intent {
    pub fn as_str(self) -> &'static str {
        match self {
            Intent::Reset => "reset",
            Intent::Unlock => "unlock",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "reset" => Some(Intent::Reset),
            "unlock" => Some(Intent::Unlock),
            _ => None,
        }
    }
}

/// A kind of verification method a person can register.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash, TS, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MethodKind {
    /// A one-time code sent by email.
    Email,
    /// A code from an authenticator app (TOTP).
    Totp,
    /// A one-time code sent by SMS.
    Sms,
    /// A one-time code read out by a voice call.
    Voice,
    /// Security questions (never enough on their own).
    Questions,
    /// Approval on the phone by QR code and passkey.
    Approval,
}

impl MethodKind {
    pub fn as_str(self) -> &'static str {
        match self {
            MethodKind::Email => "email",
            MethodKind::Totp => "totp",
            MethodKind::Sms => "sms",
            MethodKind::Voice => "voice",
            MethodKind::Questions => "questions",
            MethodKind::Approval => "approval",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "email" => MethodKind::Email,
            "totp" => MethodKind::Totp,
            "sms" => MethodKind::Sms,
            "voice" => MethodKind::Voice,
            "questions" => MethodKind::Questions,
            "approval" => MethodKind::Approval,
            _ => return None,
        })
    }
}

/// Where a flow stands.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, TS, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum FlowState {
    /// More methods must be verified.
    Verifying,
    /// Enough methods were verified: set the new password or unlock.
    Verified,
    /// The password was set or the account unlocked.
    Completed,
    /// The flow was cancelled.
    Cancelled,
}

/// `POST /v1/flows`
#[derive(Serialize, Deserialize, Clone, Debug, TS, ToSchema)]
pub struct StartFlowRequest {
    /// Username or email address, as the person typed it.
    pub login: String,
    pub intent: Intent,
    /// BCP 47 language tag for messages and emails, e.g. "en" or "de".
    #[serde(default)]
    #[ts(optional)]
    pub locale: Option<String>,
}

/// One of the person's registered methods, masked.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, TS, ToSchema)]
pub struct MethodView {
    /// Stable within the flow; pass it to `POST /v1/flows/{id}/challenges`.
    pub id: String,
    pub kind: MethodKind,
    /// Where the code goes, masked ("j•••@e•••.org"), or the app's label.
    pub masked: String,
    /// Verified already in this flow.
    pub done: bool,
    /// A mobile number (`sms`) that may be called instead of texted
    /// (`ChallengeRequest::call`).
    #[serde(default)]
    #[ts(optional, as = "Option<bool>")]
    pub can_call: bool,
}

/// Rules a new password must meet, shown before the person types.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, TS, ToSchema)]
pub struct PasswordRules {
    pub min_length: u32,
    pub max_length: u32,
    /// The password may not contain the person's own names.
    pub no_names: bool,
    /// Common and banned passwords are refused.
    pub banned_list: bool,
    /// Characters must come from at least this many of four kinds (upper case, lower
    /// case, digits, symbols); 0 when the directories don't ask for it.
    pub categories: u8,
    /// The directory refuses this many of the person's previous passwords; 0 for none.
    pub history: u32,
}

/// A flow as the kiosk sees it.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, TS, ToSchema)]
pub struct FlowView {
    pub flow_id: String,
    /// Short code that finds this attempt in the audit (`sspr-server audit --ref`).
    pub reference: String,
    pub intent: Intent,
    pub state: FlowState,
    pub methods: Vec<MethodView>,
    /// How many methods must be verified.
    pub required: u8,
    /// How many are verified.
    pub done: u8,
    /// Seconds until the flow expires.
    pub expires_in_secs: u32,
    pub password_rules: PasswordRules,
    /// Unlock without a reset is allowed (intent unlock only).
    pub unlock_allowed: bool,
}

/// `POST /v1/flows/{id}/challenges`
#[derive(Serialize, Deserialize, Clone, Debug, TS, ToSchema)]
pub struct ChallengeRequest {
    /// A `MethodView::id` of this flow.
    pub method_id: String,
    /// Approval only: after approving, the person types the new password on the phone,
    /// not on the kiosk (when policy offers it).
    #[serde(default)]
    #[ts(optional, as = "Option<bool>")]
    pub finish_on_phone: bool,
    /// A mobile number only (`MethodView::can_call`): call it and read the code out
    /// instead of texting it. Still the one method.
    #[serde(default)]
    #[ts(optional, as = "Option<bool>")]
    pub call: bool,
}

/// A challenge was made: a code was sent, or the person is asked for one.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, TS, ToSchema)]
pub struct ChallengeView {
    pub challenge_id: String,
    pub method_id: String,
    pub kind: MethodKind,
    /// Where the code was sent, masked; absent for authenticator codes.
    #[ts(optional)]
    pub sent_to: Option<String>,
    /// Digits the code has.
    pub code_length: u8,
    /// Seconds until the code expires.
    pub expires_in_secs: u32,
    /// Seconds before another code may be requested for this method.
    pub resend_after_secs: u32,
    /// Approval only: the URL the kiosk shows as a QR code (`<public URL>/a/<token>`).
    /// Follow `GET /v1/flows/{id}/events` for what the phone does.
    #[ts(optional)]
    pub approval_url: Option<String>,
    /// Approval only: the password will be typed on the phone.
    #[serde(default)]
    pub finish_on_phone: bool,
    /// Codes by text message or call: they are sent after this answer; follow
    /// `GET /v1/flows/{id}/challenges/{cid}` until `sent` or `failed`. `sent` for an
    /// emailed code (sent before this answer); absent when nothing is sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub delivery: Option<Delivery>,
    /// Security questions only: the questions to answer, in the flow's language, in the
    /// order `VerifyRequest::answers` follows.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[ts(optional, as = "Option<Vec<String>>")]
    pub questions: Vec<String>,
}

/// Where sending a code stands.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, TS, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Delivery {
    /// On its way to a gateway.
    Sending,
    /// A gateway took it.
    Sent,
    /// Every gateway failed: nothing was counted; choose another method or ask again.
    Failed,
}

impl Delivery {
    pub fn as_str(self) -> &'static str {
        match self {
            Delivery::Sending => "sending",
            Delivery::Sent => "sent",
            Delivery::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<Delivery> {
        Some(match s {
            "sending" => Delivery::Sending,
            "sent" => Delivery::Sent,
            "failed" => Delivery::Failed,
            _ => return None,
        })
    }
}

/// `GET /v1/flows/{id}/challenges/{cid}`: where a challenge's code stands.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, TS, ToSchema)]
pub struct ChallengeStatus {
    pub challenge_id: String,
    #[ts(optional)]
    pub delivery: Option<Delivery>,
}

/// `POST /v1/flows/{id}/challenges/{cid}/verify`
#[derive(Serialize, Deserialize, Clone, Default, TS, ToSchema)]
pub struct VerifyRequest {
    #[serde(default)]
    #[ts(optional)]
    pub code: Option<String>,
    #[serde(default)]
    #[ts(optional)]
    pub answers: Option<Vec<String>>,
}

impl std::fmt::Debug for VerifyRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("VerifyRequest { .. }")
    }
}

/// `POST /v1/flows/{id}/password-check`
#[derive(Serialize, Deserialize, Clone, TS, ToSchema)]
pub struct PasswordCheckRequest {
    pub candidate: String,
}

impl std::fmt::Debug for PasswordCheckRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PasswordCheckRequest { .. }")
    }
}

/// Why a new password is not accepted.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, TS, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PasswordReasonCode {
    TooShort,
    TooLong,
    /// On the banned list (common passwords and the organisation's own terms).
    Banned,
    /// Contains the person's name, username or email.
    ContainsName,
    /// Control characters are not allowed.
    InvalidCharacters,
    /// Needs characters of more kinds (upper case, lower case, digits, symbols).
    NeedsVariety,
    /// Used before: the directory keeps a history of old passwords.
    UsedBefore,
    /// The directory refused it; the message says why.
    Directory,
}

/// One reason, with a message a person can act on.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, TS, ToSchema)]
pub struct PasswordReason {
    pub code: PasswordReasonCode,
    pub message: String,
}

/// Result of a live password check.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, TS, ToSchema)]
pub struct PasswordCheck {
    pub acceptable: bool,
    pub reasons: Vec<PasswordReason>,
}

/// `POST /v1/flows/{id}/password`
#[derive(Serialize, Deserialize, Clone, TS, ToSchema)]
pub struct SetPasswordRequest {
    pub new_password: String,
}

impl std::fmt::Debug for SetPasswordRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SetPasswordRequest { .. }")
    }
}

/// What was done.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, TS, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    PasswordReset,
    Unlocked,
}

/// What one directory said.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, TS, ToSchema)]
pub struct DirectoryResult {
    pub directory: String,
    /// Whether this directory now holds the change.
    pub ok: bool,
    pub message: String,
}

/// The flow is done.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, TS, ToSchema)]
pub struct DoneView {
    pub outcome: Outcome,
    pub reference: String,
    pub directories: Vec<DirectoryResult>,
}

/// How to reach the helpdesk.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, Default, TS, ToSchema)]
pub struct Helpdesk {
    #[ts(optional)]
    pub url: Option<String>,
    #[ts(optional)]
    pub phone: Option<String>,
    #[ts(optional)]
    pub email: Option<String>,
}

/// `GET /v1/kiosk/settings`
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, TS, ToSchema)]
pub struct KioskSettings {
    pub organization: String,
    /// CSS colour, e.g. "#0b5cad".
    pub accent_color: String,
    pub helpdesk: Helpdesk,
    pub idle_timeout_secs: u32,
    pub kiosk_id: String,
    pub kiosk_name: String,
    pub kiosk_location: String,
    pub default_locale: String,
    pub locales: Vec<String>,
    pub unlock_enabled: bool,
    /// After approving on the phone, whether the new password may (or must) be typed there.
    pub password_on_phone: PasswordOnPhone,
    /// The organisation's logo: a data URL of a PNG or a plain SVG (checked by the server).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub logo: Option<String>,
}

/// Policy: the new password typed on the phone after an approval, never on the kiosk.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Default, TS, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PasswordOnPhone {
    Off,
    /// The kiosk offers the choice.
    #[default]
    Offer,
    Always,
}

/// `POST /v1/kiosks/enroll` (the only kiosk request that is not signed).
#[derive(Serialize, Deserialize, Clone, TS, ToSchema)]
pub struct EnrollRequest {
    /// An enrollment code from `sspr-server kiosk enroll-code` or the console: a one-time
    /// code for a named kiosk, or a staging code that enrolls several PCs.
    pub code: String,
    /// The kiosk's Ed25519 public key, 32 bytes, base64url without padding.
    pub public_key: String,
    /// The PC's host name: with a staging code, the new kiosk's name (1–64 printable
    /// characters); else `<prefix>-<n>`. A one-time code keeps the name IT gave it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub name: Option<String>,
    /// Where the PC stands, from the kiosk's own configuration (1–64 printable
    /// characters): with a staging code, the new kiosk's location, else the code's. A
    /// one-time code keeps the location IT gave it, and takes this one only when IT left
    /// it empty.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub location: Option<String>,
}

impl std::fmt::Debug for EnrollRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EnrollRequest")
            .field("public_key", &self.public_key)
            .field("name", &self.name)
            .field("location", &self.location)
            .finish_non_exhaustive()
    }
}

/// The kiosk is enrolled: sign every later request with key id `kiosk_id`.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, TS, ToSchema)]
pub struct EnrollResponse {
    pub kiosk_id: String,
    pub name: String,
    pub location: String,
}

/// `GET /healthz`, `GET /readyz`
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, TS, ToSchema)]
pub struct Health {
    pub ok: bool,
    pub store: bool,
    /// Every directory answers.
    pub directory: bool,
    /// Names of the directories that don't answer (why is in the server's log).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[ts(optional, as = "Option<Vec<String>>")]
    pub unavailable: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_do_not_debug_print() {
        let v = VerifyRequest {
            code: Some("123456".into()),
            answers: None,
        };
        let p = SetPasswordRequest {
            new_password: "hunter2hunter2".into(),
        };
        let c = PasswordCheckRequest {
            candidate: "hunter2hunter2".into(),
        };
        let e = EnrollRequest {
            code: "ABCD-EFGH".into(),
            public_key: "pk".into(),
            name: Some("pc-0042".into()),
            location: None,
        };
        let all = format!("{v:?}{p:?}{c:?}{e:?}");
        assert!(!all.contains("123456"));
        assert!(!all.contains("hunter2"));
        assert!(!all.contains("ABCD"));
    }

    /// A kiosk from before names and locations still enrolls, and one that says nothing
    /// sends nothing: the fields are optional both ways.
    #[test]
    fn enroll_request_name_and_location_are_optional() {
        let old: EnrollRequest =
            serde_json::from_str(r#"{"code":"ABCD","public_key":"pk"}"#).unwrap();
        assert_eq!((old.name, old.location), (None, None));
        let new: EnrollRequest = serde_json::from_str(
            r#"{"code":"ABCD","public_key":"pk","name":"pc-7","location":"Room 2"}"#,
        )
        .unwrap();
        assert_eq!(new.name.as_deref(), Some("pc-7"));
        assert_eq!(new.location.as_deref(), Some("Room 2"));
        let bare = EnrollRequest {
            name: None,
            location: None,
            ..new
        };
        assert_eq!(
            serde_json::to_string(&bare).unwrap(),
            r#"{"code":"ABCD","public_key":"pk"}"#
        );
    }

    #[test]
    fn method_kind_round_trips() {
        for k in [
            MethodKind::Email,
            MethodKind::Totp,
            MethodKind::Sms,
            MethodKind::Voice,
            MethodKind::Questions,
            MethodKind::Approval,
        ] {
            assert_eq!(MethodKind::parse(k.as_str()), Some(k));
            let json = serde_json::to_string(&k).unwrap_or_default();
            assert_eq!(json, format!("\"{}\"", k.as_str()));
        }
    }
}
