//! `[sms]` and `[voice]`: the gateways that send texted codes and make calls.

use std::path::PathBuf;

use secrecy::SecretString;
use serde::{Deserialize, Serialize};

use super::read_secret;

/// Codes read out by a phone call ("voice" in `policy.methods`), to the office number a
/// person registered (its extension dialled).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct VoiceConfig {
    /// The number calls come from (E.164, as the provider allows).
    pub caller_id: String,
    /// Seconds each gateway may take to accept the call before the next is tried.
    pub timeout_secs: u32,
    /// Gateways, tried in order: `kind = "http"` (preset "twilio": the Calls API with the
    /// code in TwiML; or a template whose fields may use {twiml}, {speech}, {digits}).
    pub provider: Vec<SmsProvider>,
}

impl Default for VoiceConfig {
    fn default() -> Self {
        VoiceConfig {
            caller_id: String::new(),
            timeout_secs: 5,
            provider: Vec::new(),
        }
    }
}

/// Text messages: how numbers are read and which gateways send (`sms::Sms`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SmsConfig {
    /// The region a number without a country code is read in ("DE").
    pub default_region: String,
    /// Countries codes may be sent to (region codes); empty: the default region only.
    pub allowed_countries: Vec<String>,
    /// The sender shown on the phone (an alphanumeric sender of up to 11 characters, or
    /// a number).
    pub sender: String,
    /// Seconds each gateway may take before the next is tried.
    pub timeout_secs: u32,
    /// Gateways, tried in order.
    pub provider: Vec<SmsProvider>,
}

impl Default for SmsConfig {
    fn default() -> Self {
        SmsConfig {
            default_region: "DE".into(),
            allowed_countries: Vec::new(),
            sender: "SSPR".into(),
            timeout_secs: 5,
            provider: Vec::new(),
        }
    }
}

impl SmsConfig {
    /// The countries codes may go to.
    pub fn allowed(&self) -> Vec<String> {
        if self.allowed_countries.is_empty() {
            vec![self.default_region.to_ascii_uppercase()]
        } else {
            self.allowed_countries.clone()
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SmsProviderKind {
    /// Kannel's `sendsms` HTTP interface (smsbox).
    Kannel,
    /// Any HTTP API, by a template (`method`, `url`, `body`, `fields`, `headers`,
    /// `success_status`, `success_pattern`), or a preset that fills it (`twilio`,
    /// `vonage`).
    Http,
}

/// How an HTTP gateway's fields travel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HttpBody {
    /// application/x-www-form-urlencoded
    Form,
    Json,
    /// The fields as the URL's query (a GET).
    Query,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmsProvider {
    /// Shown in the audit and the metrics.
    pub name: String,
    pub kind: SmsProviderKind,
    /// Kannel: smsbox's sendsms base URL (`http://127.0.0.1:13013`).
    pub url: String,
    #[serde(default)]
    pub username: Option<String>,
    /// Better kept in `password_file`, or set as an environment override.
    #[serde(default, skip_serializing)]
    pub password: Option<SecretString>,
    #[serde(default)]
    pub password_file: Option<PathBuf>,
    /// HTTP gateways: a preset ("twilio", "vonage") that fills what follows.
    #[serde(default)]
    pub preset: Option<String>,
    /// HTTP gateways: GET or POST (POST by default).
    #[serde(default)]
    pub method: Option<String>,
    #[serde(default)]
    pub body: Option<HttpBody>,
    /// HTTP gateways: the fields sent, with placeholders {to} (E.164), {to_digits} (no
    /// "+"), {message}, {sender}, {request_id}, {username}, {password}.
    #[serde(default)]
    pub fields: std::collections::BTreeMap<String, String>,
    /// HTTP gateways: headers, with the same placeholders.
    #[serde(default)]
    pub headers: std::collections::BTreeMap<String, String>,
    /// HTTP gateways: the statuses that mean "taken" (any 2xx when empty).
    #[serde(default)]
    pub success_status: Vec<u16>,
    /// HTTP gateways: text the answer must contain to mean "taken".
    #[serde(default)]
    pub success_pattern: Option<String>,
}

impl SmsProvider {
    pub fn password(&self) -> anyhow::Result<Option<SecretString>> {
        read_secret(&self.password, &self.password_file, "sms.provider.password")
    }
}
