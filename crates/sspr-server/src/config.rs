//! One TOML file with environment overrides (`SSPR_SECTION__KEY=value`), e.g.
//! `SSPR_SMTP__HOST=mail.example.org`. `sspr-server.example.toml` documents every key.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use figment::providers::{Env, Format, Serialized, Toml};
use figment::Figment;
use serde::{Deserialize, Serialize};

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
    /// sqlx URL; `sqlite://FILE` (WAL) is the default.
    pub url: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OrganizationConfig {
    pub name: String,
    pub accent_color: String,
    pub default_locale: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
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

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PolicyConfig {
    /// Self-service for nobody, for members of `group`, or for all.
    pub enabled: Enablement,
    pub group: String,
    /// Methods people may use: "email", "totp" (more come with their issues).
    pub methods: Vec<String>,
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
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SmtpTls {
    None,
    Starttls,
    Tls,
}

#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SmtpConfig {
    pub host: String,
    pub port: u16,
    pub tls: SmtpTls,
    pub username: Option<String>,
    pub password: Option<String>,
    pub from: String,
    pub timeout_secs: u64,
}

impl std::fmt::Debug for SmtpConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpConfig")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("tls", &self.tls)
            .field("username", &self.username)
            .field("from", &self.from)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DirectoryKind {
    /// Users kept in the server's own store (the demo directory).
    Builtin,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DirectoryConfig {
    pub kind: DirectoryKind,
    pub name: String,
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
        }
    }
}

impl Default for OrganizationConfig {
    fn default() -> Self {
        OrganizationConfig {
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
            methods: vec!["email".into(), "totp".into()],
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

impl Default for DirectoryConfig {
    fn default() -> Self {
        DirectoryConfig {
            kind: DirectoryKind::Builtin,
            name: "Built-in directory".into(),
        }
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
        for m in &p.methods {
            anyhow::ensure!(
                matches!(m.as_str(), "email" | "totp"),
                "policy.methods: unknown or not yet available method {m:?} (use email, totp)"
            );
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
        Ok(())
    }

    /// Scheme and authority the kiosks sign, without a trailing slash.
    pub fn public_origin(&self) -> String {
        match &self.server.public_url {
            Some(url) => url.trim_end_matches('/').to_string(),
            None => format!("http://{}", self.server.listen),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_entras_numbers() {
        let c = Config::default();
        assert!(c.validate().is_ok());
        assert_eq!(
            c.throttle.failed_verifications,
            Limit {
                max: 5,
                window_secs: DAY
            }
        );
        assert_eq!(
            c.throttle.emails,
            Limit {
                max: 10,
                window_secs: 600
            }
        );
        assert_eq!(c.password.min_length, 15);
        assert_eq!(c.password.max_length, 256);
    }

    #[test]
    fn bad_values_are_refused_with_the_key_named() {
        let mut c = Config::default();
        c.policy.methods_required = 3;
        let err = c
            .validate()
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("methods_required"), "{err}");
    }

    #[test]
    fn example_config_parses() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../sspr-server.example.toml");
        let config = Config::load(Some(&path));
        assert!(config.is_ok(), "{:?}", config.err());
    }
}
