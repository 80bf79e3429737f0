//! "My security info": the page where a person signs in with their directory password
//! (and, once they have one, a registered method) and manages what the kiosk can use.
//! The session is an HttpOnly cookie; these are its requests and answers.

use serde::{Deserialize, Serialize};
use ts_rs::TS;
use utoipa::ToSchema;

use crate::approval::redacted_debug;
use crate::{MethodKind, MethodView};

/// `POST /v1/my/sign-in`
#[derive(Serialize, Deserialize, Clone, TS, ToSchema)]
pub struct SignInRequest {
    pub login: String,
    pub password: String,
}

/// A registered method as its owner sees it.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, TS, ToSchema)]
pub struct MyMethod {
    pub id: String,
    pub kind: MethodKind,
    /// The name the person gave it ("Pixel 8"), or what it is ("Authenticator app").
    pub label: String,
    /// The address for an email, else empty.
    pub detail: String,
    /// When it was added (RFC 3339, UTC).
    pub added_at: String,
}

/// The session: who is signed in and what they have. While `second_factor` is not empty,
/// the password was right and one of these methods must be verified before anything else.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, TS, ToSchema)]
pub struct MySession {
    pub display_name: String,
    pub username: String,
    pub organization: String,
    pub signed_in: bool,
    pub second_factor: Vec<MethodView>,
    pub methods: Vec<MyMethod>,
    /// When the person last looked over their methods and kept them (confirmed them,
    /// added or removed one), RFC 3339 UTC; none before their first method.
    #[ts(optional)]
    pub reviewed_at: Option<String>,
    /// The organisation asks the person to confirm their methods are still current
    /// (`POST /v1/my/review`): it has been `review_days` days since `reviewed_at`.
    pub review_due: bool,
    /// Days between reviews; 0 when the organisation never asks.
    pub review_days: u32,
    /// Kinds of method the person may add here besides passkeys, authenticator apps and
    /// email (a mobile number when the server texts codes).
    #[serde(default)]
    pub can_add: Vec<MethodKind>,
}

/// `POST /v1/my/second-factor/start`
#[derive(Serialize, Deserialize, Clone, Debug, TS, ToSchema)]
pub struct SecondFactorStart {
    pub method_id: String,
}

/// What the second factor asks for: a code (sent to `sent_to`, or from the app), or a
/// passkey (`passkey` holds the WebAuthn request).
#[derive(Serialize, Deserialize, Clone, Debug, TS, ToSchema)]
pub struct SecondFactorChallenge {
    pub kind: MethodKind,
    #[ts(optional)]
    pub sent_to: Option<String>,
    #[ts(optional)]
    pub passkey: Option<crate::PasskeyRequest>,
}

/// `POST /v1/my/second-factor/finish`: a code, or the passkey's answer.
#[derive(Serialize, Deserialize, Clone, Default, TS, ToSchema)]
pub struct SecondFactorFinish {
    #[serde(default)]
    #[ts(optional)]
    pub code: Option<String>,
    #[serde(default)]
    #[ts(optional, type = "any")]
    #[schema(value_type = Object)]
    pub credential: Option<serde_json::Value>,
}

/// `POST /v1/my/passkeys/finish`
#[derive(Serialize, Deserialize, Clone, TS, ToSchema)]
pub struct PasskeyFinish {
    /// A name for this passkey ("My phone").
    pub name: String,
    #[ts(type = "any")]
    #[schema(value_type = Object)]
    pub credential: serde_json::Value,
}

/// `POST /v1/my/authenticator/start`: a new secret, shown once as text and as a QR code.
#[derive(Serialize, Deserialize, Clone, TS, ToSchema)]
pub struct AuthenticatorSetup {
    /// Base32, grouped in fours for typing.
    pub secret: String,
    /// `otpauth://totp/...`, what the QR code holds.
    pub uri: String,
    /// The QR code as an SVG document.
    pub qr_svg: String,
}

/// `POST /v1/my/authenticator/finish` and `POST /v1/my/email/finish`: one code confirms.
#[derive(Serialize, Deserialize, Clone, TS, ToSchema)]
pub struct ConfirmCode {
    pub code: String,
}

/// `POST /v1/my/mobile/start`: a mobile number (with its country code, or in the
/// organisation's region); a code is texted there.
#[derive(Serialize, Deserialize, Clone, Debug, TS, ToSchema)]
pub struct MobileStart {
    pub number: String,
}

/// `POST /v1/my/email/start`: an alternate address; a code is sent there.
#[derive(Serialize, Deserialize, Clone, Debug, TS, ToSchema)]
pub struct EmailStart {
    pub email: String,
}

redacted_debug!(
    SignInRequest,
    SecondFactorFinish,
    PasskeyFinish,
    AuthenticatorSetup,
    ConfirmCode
);

/// `GET /v1/my/questions`: what the organisation asks and what the person has registered
/// (the questions only: answers are never shown, to anyone).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, TS, ToSchema)]
pub struct MyQuestions {
    /// Questions to answer when registering.
    pub register: u8,
    /// Questions asked at a kiosk.
    pub ask: u8,
    /// Questions of one's own may be written.
    pub own_allowed: bool,
    /// The organisation's questions, in the page's language.
    pub list: Vec<QuestionChoice>,
    /// The questions the person registered, in the page's language (empty: none yet).
    pub registered: Vec<String>,
}

/// One of the organisation's questions.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, TS, ToSchema)]
pub struct QuestionChoice {
    pub id: String,
    pub text: String,
}

/// `PUT /v1/my/questions`: every question with its answer (`register` of them). Each
/// names a question of the list (`id`) or, when allowed, one of the person's own (`own`).
#[derive(Serialize, Deserialize, Clone, TS, ToSchema)]
pub struct QuestionsSave {
    pub answers: Vec<QuestionAnswer>,
}

#[derive(Serialize, Deserialize, Clone, TS, ToSchema)]
pub struct QuestionAnswer {
    #[serde(default)]
    #[ts(optional)]
    pub id: Option<String>,
    #[serde(default)]
    #[ts(optional)]
    pub own: Option<String>,
    pub answer: String,
}

redacted_debug!(QuestionsSave);
