//! One TOML file with environment overrides (`SSPR_SECTION__KEY=value`), e.g.
//! `SSPR_SMTP__HOST=mail.example.org`. `sspr-server.example.toml` documents every key.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use figment::providers::{Env, Format, Serialized, Toml};
use figment::Figment;
use secrecy::SecretString;
use serde::{Deserialize, Serialize};

/// The methods this server can offer (`policy.methods` may name only these).
pub const AVAILABLE_METHODS: [sspr_proto::MethodKind; 6] = [
    sspr_proto::MethodKind::Email,
    sspr_proto::MethodKind::Totp,
    sspr_proto::MethodKind::Approval,
    sspr_proto::MethodKind::Sms,
    sspr_proto::MethodKind::Voice,
    sspr_proto::MethodKind::Questions,
];

mod directory;
mod phone;
pub use crate::methods::questions::policy::{Question, QuestionsPolicy, ANSWER_MAX, QUESTION_MAX};
pub use directory::{DirectoryConfig, DirectoryKind, LinkBy};
pub use phone::{HttpBody, SmsConfig, SmsProvider, SmsProviderKind, VoiceConfig};

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    pub server: ServerConfig,
    pub store: StoreConfig,
    pub organization: OrganizationConfig,
    pub helpdesk: HelpdeskConfig,
    pub kiosk: KioskConfig,
    pub policy: PolicyConfig,
    pub password: PasswordConfig,
    pub throttle: ThrottleConfig,
    pub smtp: SmtpConfig,
    pub directory: DirectoryConfig,
    pub approval: ApprovalConfig,
    pub metrics: MetricsConfig,
    pub console: ConsoleConfig,
    pub sms: SmsConfig,
    pub voice: VoiceConfig,
}

/// The admin console (`/admin`): who may sign in to it, by directory group (nested groups
/// count, as for `policy.admin_groups`). Nobody in a group: nobody signs in.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ConsoleConfig {
    /// Change the policy and kiosks; everything the others may.
    pub admin_groups: Vec<String>,
    /// Read the audit and insights, look up a reference code, clear a person's methods.
    pub helpdesk_groups: Vec<String>,
    /// Insights only.
    pub reader_groups: Vec<String>,
    /// The policy is managed as code (`sspr-server policy import`): the console shows it
    /// and never edits it.
    pub policy_read_only: bool,
    /// A policy change asks for the passkey again when it was last checked longer ago
    /// than this (seconds; 300 at most, stricter if lower).
    pub reauth_after_secs: u32,
}

impl Default for ConsoleConfig {
    fn default() -> Self {
        ConsoleConfig {
            admin_groups: Vec::new(),
            helpdesk_groups: Vec::new(),
            reader_groups: Vec::new(),
            policy_read_only: false,
            reauth_after_secs: 300,
        }
    }
}

/// `GET /metrics` (Prometheus text format): on a listener of its own, or on the main one
/// for a bearer token of its own; neither set, there is none.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MetricsConfig {
    /// A listener that serves only `/metrics`, without a token: keep it on loopback or a
    /// management network.
    pub listen: Option<SocketAddr>,
    /// `/metrics` on the main listener, for `Authorization: Bearer <token>` (at least 16
    /// characters). Better set as SSPR_METRICS__TOKEN, or kept in `token_file`.
    #[serde(skip_serializing)]
    pub token: Option<SecretString>,
    pub token_file: Option<PathBuf>,
}

impl MetricsConfig {
    pub fn token(&self) -> anyhow::Result<Option<SecretString>> {
        read_secret(&self.token, &self.token_file, "metrics.token")
    }
}

/// Approval by QR code on the phone, and the passkeys it uses.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ApprovalConfig {
    /// The URL phones reach the server at (defaults to `server.public_url`). Its host is
    /// the passkeys' relying party id: a domain name, https (or http://localhost to try).
    pub public_url: Option<String>,
    /// The new password typed on the phone after approving: "off", "offer", "always".
    pub password_on_phone: sspr_proto::PasswordOnPhone,
    /// Seconds an approval QR code is good for.
    pub ttl_secs: u32,
}

impl Default for ApprovalConfig {
    fn default() -> Self {
        ApprovalConfig {
            public_url: None,
            password_on_phone: sspr_proto::PasswordOnPhone::Offer,
            ttl_secs: 120,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    /// Where to listen. Loopback by default; put a TLS reverse proxy in front.
    pub listen: SocketAddr,
    /// The URL kiosks and phones use to reach the server (scheme and authority are part of
    /// every request signature). Defaults to `http://<listen>`.
    pub public_url: Option<String>,
    /// File with the server's 32-byte secret key (decoys, code hashes). Made on first start.
    pub secret_file: PathBuf,
    /// Log format: "text" or "json".
    pub log_format: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StoreConfig {
    /// `sqlite://FILE` (WAL) is the default; `sqlite:///abs/path` for an absolute path.
    /// `postgres://USER@HOST:PORT/DB?sslmode=verify-full&sslrootcert=CA.pem` for
    /// PostgreSQL (libpq's options and PG* variables; `migrate`, `kiosk` and `audit` run on it
    /// so far).
    pub url: String,
    /// PostgreSQL: a file whose first line is the password (else the URL, PGPASSWORD or
    /// ~/.pgpass, as libpq reads them).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub password_file: Option<PathBuf>,
    /// Audit rows older than this many days are deleted (0: kept for ever).
    pub audit_retention_days: u32,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct OrganizationConfig {
    pub name: String,
    pub accent_color: String,
    pub default_locale: String,
    /// The logo the kiosk and the pages show: a data URL of a PNG or a plain SVG, at most
    /// 40 KiB (`logo`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub logo: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct HelpdeskConfig {
    pub url: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct KioskConfig {
    /// Idle seconds before a kiosk wipes itself and returns to Start.
    pub idle_timeout_secs: u32,
    /// Largest accepted difference between a signature's `created` and the server's clock.
    pub signature_max_skew_secs: u64,
    /// Hours an enrollment code stays valid.
    pub enrollment_code_hours: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Enablement {
    None,
    Group,
    All,
}

/// Where the numbers for text messages and calls come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NumberSource {
    /// Numbers people registered on "My security info", and those administrators
    /// registered for them (`directory register`).
    Registered,
    /// The directory's: `mobile` and `telephoneNumber` in LDAP and Active Directory,
    /// the mobile and office authentication phones in Entra ID.
    Directory,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct PolicyConfig {
    /// Self-service for nobody, for members of `group`, or for all.
    pub enabled: Enablement,
    pub group: String,
    /// Methods people may use: "email", "totp", "approval", "sms", "voice", "questions".
    pub methods: Vec<sspr_proto::MethodKind>,
    /// Methods required for people who are not administrators: 1 or 2.
    pub methods_required: u8,
    /// Directory groups whose members are administrators: always two methods, never
    /// security questions.
    pub admin_groups: Vec<String>,
    /// Administrators may use self-service at all.
    pub admins_allowed: bool,
    /// Unlock without a reset.
    pub allow_unlock: bool,
    /// Email the person after a reset or unlock.
    pub notify_user: bool,
    /// Email every administrator when an administrator resets.
    pub notify_admins_on_admin_reset: bool,
    /// Seconds a flow lives (15 minutes at most).
    pub flow_ttl_secs: u32,
    /// Seconds a sent code lives.
    pub code_ttl_secs: u32,
    /// Digits in a sent code (6 to 8).
    pub code_length: u8,
    /// Seconds before another code may be sent for the same method.
    pub resend_after_secs: u32,
    /// Days after which "My security info" asks people to confirm their methods are
    /// still current (0 to 730; 0: never ask).
    pub reconfirm_days: u32,
    /// Where numbers for "sms" and "voice" come from: "registered", "directory" or both
    /// (a registered number wins over the directory's).
    pub numbers_from: Vec<NumberSource>,
    /// Security questions (used when `methods` names "questions").
    pub questions: QuestionsPolicy,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PasswordConfig {
    pub min_length: u32,
    pub max_length: u32,
    /// The organisation's own banned terms, added to the list shipped with the server.
    pub banned: Vec<String>,
    /// A file with more banned terms, one a line.
    pub banned_file: Option<PathBuf>,
}

/// A limit: at most `max` events in `window_secs`.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Limit {
    pub max: u32,
    pub window_secs: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ThrottleConfig {
    /// Failed verifications before the person is blocked.
    pub failed_verifications: Limit,
    /// How long the block lasts.
    pub block_secs: u64,
    /// Authenticator, SMS and voice challenges.
    pub phone_challenges: Limit,
    pub emails: Limit,
    /// Completed resets of one account; more blocks it for `block_secs`.
    pub resets: Limit,
    /// The same limits for one kiosk, across everyone who uses it.
    pub kiosk_failed_verifications: Limit,
    pub kiosk_phone_challenges: Limit,
    pub kiosk_emails: Limit,
    pub kiosk_block_secs: u64,
    /// Codes by text message or call to one number, whoever asks (against SMS pumping
    /// and a number shared by many, as an office's).
    pub destination_messages: Limit,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SmtpTls {
    None,
    Starttls,
    Tls,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SmtpConfig {
    pub host: String,
    pub port: u16,
    pub tls: SmtpTls,
    pub username: Option<String>,
    /// Never written out (and never printed: `SecretString` has no `Debug` of its value).
    #[serde(skip_serializing)]
    pub password: Option<SecretString>,
    pub from: String,
    pub timeout_secs: u64,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 8443)),
            public_url: None,
            secret_file: PathBuf::from("sspr-secret.key"),
            log_format: "text".into(),
        }
    }
}

impl Default for StoreConfig {
    fn default() -> Self {
        StoreConfig {
            url: "sqlite://sspr.db".into(),
            password_file: None,
            audit_retention_days: 0,
        }
    }
}

impl Default for OrganizationConfig {
    fn default() -> Self {
        OrganizationConfig {
            logo: None,
            name: "Example Organisation".into(),
            accent_color: "#0b5cad".into(),
            default_locale: "en".into(),
        }
    }
}

impl Default for KioskConfig {
    fn default() -> Self {
        KioskConfig {
            idle_timeout_secs: 90,
            signature_max_skew_secs: 60,
            enrollment_code_hours: 24,
        }
    }
}

impl Default for PolicyConfig {
    fn default() -> Self {
        PolicyConfig {
            enabled: Enablement::All,
            group: "SSPR Users".into(),
            methods: vec![sspr_proto::MethodKind::Email, sspr_proto::MethodKind::Totp],
            methods_required: 1,
            admin_groups: vec!["Domain Admins".into()],
            admins_allowed: true,
            allow_unlock: true,
            notify_user: true,
            notify_admins_on_admin_reset: true,
            flow_ttl_secs: 15 * 60,
            code_ttl_secs: 5 * 60,
            code_length: 6,
            resend_after_secs: 30,
            reconfirm_days: 180,
            numbers_from: vec![NumberSource::Registered],
            questions: QuestionsPolicy::default(),
        }
    }
}

impl Default for PasswordConfig {
    fn default() -> Self {
        PasswordConfig {
            min_length: 15,
            max_length: 256,
            banned: Vec::new(),
            banned_file: None,
        }
    }
}

const HOUR: u64 = 3600;
const DAY: u64 = 24 * HOUR;

impl Default for ThrottleConfig {
    // Entra ID's numbers; the kiosk limits are wider because many people share a kiosk.
    fn default() -> Self {
        ThrottleConfig {
            failed_verifications: Limit {
                max: 5,
                window_secs: DAY,
            },
            block_secs: DAY,
            phone_challenges: Limit {
                max: 5,
                window_secs: HOUR,
            },
            emails: Limit {
                max: 10,
                window_secs: 600,
            },
            resets: Limit {
                max: 5,
                window_secs: HOUR,
            },
            kiosk_failed_verifications: Limit {
                max: 30,
                window_secs: HOUR,
            },
            kiosk_phone_challenges: Limit {
                max: 60,
                window_secs: HOUR,
            },
            kiosk_emails: Limit {
                max: 60,
                window_secs: 600,
            },
            kiosk_block_secs: HOUR,
            destination_messages: Limit {
                max: 10,
                window_secs: HOUR,
            },
        }
    }
}

impl Default for SmtpConfig {
    fn default() -> Self {
        SmtpConfig {
            host: "127.0.0.1".into(),
            port: 25,
            tls: SmtpTls::Starttls,
            username: None,
            password: None,
            from: "SSPR <sspr@example.org>".into(),
            timeout_secs: 10,
        }
    }
}

/// Reads a secret given inline or as a file (first line, trimmed); `what` names the key.
pub fn read_secret(
    inline: &Option<SecretString>,
    file: &Option<PathBuf>,
    what: &str,
) -> anyhow::Result<Option<SecretString>> {
    match (inline, file) {
        (Some(v), _) => Ok(Some(v.clone())),
        (None, Some(path)) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| anyhow::anyhow!("{what}_file {}: {e}", path.display()))?;
            let text = zeroize::Zeroizing::new(text);
            Ok(Some(SecretString::from(
                text.lines().next().unwrap_or_default().trim(),
            )))
        }
        (None, None) => Ok(None),
    }
}

impl Config {
    /// Reads `path` (if given), then `SSPR_*` environment overrides, and checks the result.
    pub fn load(path: Option<&Path>) -> anyhow::Result<Config> {
        let mut fig = Figment::from(Serialized::defaults(Config::default()));
        if let Some(path) = path {
            if !path.exists() {
                anyhow::bail!("config file {} does not exist", path.display());
            }
            fig = fig.merge(Toml::file(path));
        }
        let config: Config = fig
            // Only SECTION__KEY names: SSPR_LOG and SSPR_CONFIG are for the command line.
            .merge(
                Env::prefixed("SSPR_")
                    .filter(|k| k.as_str().contains("__"))
                    .split("__"),
            )
            .extract()
            .map_err(|e| anyhow::anyhow!("configuration: {e}"))?;
        config.validate()?;
        Ok(config)
    }

    pub fn validate(&self) -> anyhow::Result<()> {
        if let Some(token) = self.metrics.token()? {
            anyhow::ensure!(
                secrecy::ExposeSecret::expose_secret(&token).chars().count() >= 16,
                "metrics.token must be at least 16 characters"
            );
        }
        if let Some(logo) = &self.organization.logo {
            if let Some(problem) = crate::logo::problem(logo) {
                anyhow::bail!("{problem}");
            }
        }
        anyhow::ensure!(
            (1..=300).contains(&self.console.reauth_after_secs),
            "console.reauth_after_secs must be between 1 and 300"
        );
        anyhow::ensure!(
            crate::methods::phone::region(&self.sms.default_region).is_some(),
            "sms.default_region {:?} isn't a region code (such as DE, GB, US)",
            self.sms.default_region
        );
        for c in &self.sms.allowed_countries {
            anyhow::ensure!(
                crate::methods::phone::region(c).is_some(),
                "sms.allowed_countries: {c:?} isn't a region code"
            );
        }
        anyhow::ensure!(
            (1..=60).contains(&self.sms.timeout_secs),
            "sms.timeout_secs must be between 1 and 60"
        );
        for p in &self.sms.provider {
            anyhow::ensure!(
                p.url.starts_with("http://") || p.url.starts_with("https://"),
                "sms.provider {:?}: url must be http(s)://",
                p.name
            );
        }
        anyhow::ensure!(
            !self.policy.methods.contains(&sspr_proto::MethodKind::Voice)
                || !self.voice.provider.is_empty(),
            "policy.methods has \"voice\" but [[voice.provider]] names no gateway"
        );
        for p in &self.voice.provider {
            anyhow::ensure!(
                p.kind == SmsProviderKind::Http,
                "voice.provider {:?}: calls go through an HTTP gateway (kind = \"http\")",
                p.name
            );
        }
        anyhow::ensure!(
            (1..=60).contains(&self.voice.timeout_secs),
            "voice.timeout_secs must be between 1 and 60"
        );
        anyhow::ensure!(
            !self.policy.methods.contains(&sspr_proto::MethodKind::Sms)
                || !self.sms.provider.is_empty(),
            "policy.methods has \"sms\" but [[sms.provider]] names no gateway"
        );
        let p = &self.policy;
        anyhow::ensure!(
            (1..=2).contains(&p.methods_required),
            "policy.methods_required must be 1 or 2"
        );
        anyhow::ensure!(
            p.flow_ttl_secs >= 1 && p.flow_ttl_secs <= 15 * 60,
            "policy.flow_ttl_secs must be between 1 and 900"
        );
        anyhow::ensure!(
            p.code_ttl_secs >= 1 && p.code_ttl_secs <= 15 * 60,
            "policy.code_ttl_secs must be between 1 and 900"
        );
        anyhow::ensure!(
            (6..=8).contains(&p.code_length),
            "policy.code_length must be 6, 7 or 8"
        );
        anyhow::ensure!(
            self.store.audit_retention_days <= 36_500,
            "store.audit_retention_days must be between 0 (keep every row) and 36500"
        );
        anyhow::ensure!(
            p.reconfirm_days <= 730,
            "policy.reconfirm_days must be between 0 (never ask) and 730"
        );
        anyhow::ensure!(
            !p.numbers_from.is_empty()
                || !p.methods.iter().any(|m| matches!(
                    m,
                    sspr_proto::MethodKind::Sms | sspr_proto::MethodKind::Voice
                )),
            "policy.numbers_from is empty, so \"sms\" and \"voice\" would have no number to use: \
             name \"registered\", \"directory\" or both"
        );
        let mut sources = p.numbers_from.clone();
        sources.sort_by_key(|s| *s as u8);
        sources.dedup();
        anyhow::ensure!(
            sources.len() == p.numbers_from.len(),
            "policy.numbers_from names a source twice"
        );
        for m in &p.methods {
            anyhow::ensure!(
                AVAILABLE_METHODS.contains(m),
                "policy.methods: {:?} is not available yet (use email, totp, approval, sms, voice, questions)",
                m.as_str()
            );
        }
        if let Some(problem) = p
            .questions
            .problems(
                p.methods.contains(&sspr_proto::MethodKind::Questions),
                p.methods_required,
            )
            .into_iter()
            .next()
        {
            anyhow::bail!(problem);
        }
        let pw = &self.password;
        anyhow::ensure!(
            pw.min_length >= 8 && pw.min_length <= pw.max_length && pw.max_length <= 1024,
            "password.min_length must be at least 8 and at most password.max_length (at most 1024)"
        );
        anyhow::ensure!(
            self.server.listen.ip().is_loopback()
                || std::env::var_os("SSPR_ALLOW_PUBLIC_LISTEN").is_some(),
            "server.listen must be a loopback address; put a TLS reverse proxy in front \
             (set SSPR_ALLOW_PUBLIC_LISTEN=1 to override)"
        );
        self.directory.validate(true)?;
        Ok(())
    }

    /// Scheme and authority the kiosks sign, without a trailing slash.
    /// Where phones reach the server: the approval QR codes and the passkeys' origin.
    pub fn phone_origin(&self) -> String {
        match &self.approval.public_url {
            Some(url) => url.trim_end_matches('/').to_string(),
            None => self.public_origin(),
        }
    }

    pub fn public_origin(&self) -> String {
        match &self.server.public_url {
            Some(url) => url.trim_end_matches('/').to_string(),
            None => format!("http://{}", self.server.listen),
        }
    }
}

#[cfg(test)]
mod tests;
