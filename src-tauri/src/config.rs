//! The kiosk's configuration: one TOML file (`/etc/sspr-kiosk/config.toml` by default)
//! and a few command-line flags that IT uses when staging a kiosk.

use std::path::{Path, PathBuf};

use serde::Deserialize;

pub const DEFAULT_PATH: &str = "/etc/sspr-kiosk/config.toml";

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct KioskConfig {
    /// The server's public URL, exactly as the server's `server.public_url`.
    pub server_url: String,
    /// Full screen, undecorated, always on top; windowed when false (the demo).
    pub kiosk_mode: bool,
    /// Language shown first ("en", "de"); the person can switch.
    pub default_locale: String,
    /// Overrides the server's idle timeout (seconds) when set.
    pub idle_timeout_secs: Option<u32>,
    /// While nobody uses it, the kiosk asks the server for its settings this often
    /// (seconds; 0 never): it shows a revocation at once, takes up changed branding, and
    /// shows the staff it is alive (`sspr-server kiosk list`).
    pub status_refresh_secs: u32,
    /// A one-time enrollment code for the first start (from `sspr-server kiosk enroll-code`).
    pub enrollment_code: Option<String>,
    /// A file holding the enrollment code, dropped by configuration management when IT
    /// stages many PCs (used when `enrollment_code` is not set and the file exists).
    pub enrollment_code_file: PathBuf,
    /// Keyring service name under which the device key is kept.
    pub keyring_service: String,
    /// Where the device key is kept: the Secret Service ("keyring") or a 0600 file in
    /// `state_dir` ("file"). Default: "file" on the login screen (no keyring runs there
    /// before anyone signs in), else "keyring".
    pub key_store: Option<KeyStoreKind>,
    /// The kiosk's own folder: the device key (with `key_store = "file"`) and what the
    /// login screen's button remembers.
    pub state_dir: PathBuf,
    /// Login-screen mode: the display manager's greeter shows a "Reset password / Unlock"
    /// button that opens the kiosk above it (LightDM; see the README).
    pub login_screen: bool,
    /// The name this PC enrolls under (default: its host name).
    pub name: Option<String>,
    /// Where this PC is, shown to IT in `sspr-server kiosk list` and the console.
    pub location: Option<String>,
    /// Where the login screen's button sits: "bottom" (centred, above the lower edge,
    /// the default) or "top".
    pub login_button_position: ButtonPosition,
    /// Draw the pages on the GPU (WebKit's Skia GPU path). Off by default: the kiosk's
    /// screens are a few boxes and words, which the CPU draws at once, while WebKit's GPU
    /// path on a PC without a GPU driver (Mesa's software GL, as on most login screens and
    /// virtual machines) took a second to show the first screen. Turn it on where the PC
    /// has a real GPU and its driver, if you measure it faster there.
    pub gpu_rendering: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KeyStoreKind {
    Keyring,
    File,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ButtonPosition {
    #[default]
    Bottom,
    Top,
}

impl Default for KioskConfig {
    fn default() -> Self {
        KioskConfig {
            server_url: "http://127.0.0.1:8443".into(),
            kiosk_mode: true,
            default_locale: "en".into(),
            idle_timeout_secs: None,
            status_refresh_secs: 300,
            enrollment_code: None,
            enrollment_code_file: PathBuf::from("/etc/sspr-kiosk/enroll-code"),
            keyring_service: "sspr-kiosk".into(),
            key_store: None,
            state_dir: PathBuf::from("/var/lib/sspr-kiosk"),
            login_screen: false,
            name: None,
            location: None,
            login_button_position: ButtonPosition::Bottom,
            gpu_rendering: false,
        }
    }
}

/// What the command line says: `--config FILE`, `--server URL`, `--enroll-code CODE`,
/// `--kiosk` / `--windowed`, and the login screen's two: `--login-button` (the greeter's
/// button) and `--login-screen` (the window it opens).
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Args {
    pub config: Option<PathBuf>,
    pub server: Option<String>,
    pub enroll_code: Option<String>,
    pub kiosk_mode: Option<bool>,
    pub login_button: bool,
    pub login_window: bool,
}

/// What this process is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// The kiosk window (a dedicated kiosk, or the demo).
    Kiosk,
    /// The window the login screen's button opens: it ends (back to the greeter) on
    /// Cancel, Done and the idle timeout.
    LoginWindow,
    /// The button on the greeter.
    LoginButton,
    /// `--enroll-code` on a login-screen PC: enroll, store the key, and exit.
    Enroll,
}

impl Args {
    pub fn role(&self, config: &KioskConfig) -> Role {
        if self.login_button {
            Role::LoginButton
        } else if self.login_window {
            Role::LoginWindow
        } else if config.login_screen && self.enroll_code.is_some() {
            Role::Enroll
        } else {
            Role::Kiosk
        }
    }
}

pub fn parse_args(args: impl IntoIterator<Item = String>) -> Result<Args, String> {
    let mut out = Args::default();
    let mut it = args.into_iter();
    while let Some(a) = it.next() {
        let mut value = |name: &str| it.next().ok_or_else(|| format!("{name} needs a value"));
        match a.as_str() {
            "--config" => out.config = Some(PathBuf::from(value("--config")?)),
            "--server" => out.server = Some(value("--server")?),
            "--enroll-code" => out.enroll_code = Some(value("--enroll-code")?),
            "--kiosk" => out.kiosk_mode = Some(true),
            "--windowed" => out.kiosk_mode = Some(false),
            "--login-button" => out.login_button = true,
            "--login-screen" => out.login_window = true,
            other => return Err(format!("unknown argument {other:?}; use --config, --server, --enroll-code, --kiosk, --windowed, --login-button, --login-screen")),
        }
    }
    Ok(out)
}

impl KioskConfig {
    /// The file named on the command line, else the default path if it exists, else
    /// defaults; then the command line's overrides.
    /// Where the device key lives (see `key_store`).
    pub fn key_store_kind(&self) -> KeyStoreKind {
        self.key_store.unwrap_or(if self.login_screen {
            KeyStoreKind::File
        } else {
            KeyStoreKind::Keyring
        })
    }

    /// The name this PC enrolls under: `name`, else the host name.
    pub fn enroll_name(&self) -> Option<String> {
        self.name.clone().or_else(|| {
            std::fs::read_to_string("/proc/sys/kernel/hostname")
                .ok()
                .map(|h| h.trim().to_string())
                .filter(|h| !h.is_empty())
        })
    }

    pub fn load(args: &Args) -> Result<KioskConfig, String> {
        let path = args.config.clone().or_else(|| {
            let p = Path::new(DEFAULT_PATH);
            p.exists().then(|| p.to_path_buf())
        });
        let mut config = match &path {
            Some(p) => {
                let text =
                    std::fs::read_to_string(p).map_err(|e| format!("{}: {e}", p.display()))?;
                toml::from_str(&text).map_err(|e| parse_error(p, &text, &e))?
            }
            None => KioskConfig::default(),
        };
        if let Some(s) = &args.server {
            config.server_url = s.clone();
        }
        if let Some(c) = &args.enroll_code {
            config.enrollment_code = Some(c.clone());
        }
        if let Some(k) = args.kiosk_mode {
            config.kiosk_mode = k;
        }
        if config.enrollment_code.is_none() {
            // A code file dropped by configuration management; unreadable is the same as
            // absent here (the kiosk says "not set up" if it needs one).
            if let Ok(text) = std::fs::read_to_string(&config.enrollment_code_file) {
                let code = text.trim();
                if !code.is_empty() && code.len() <= 512 {
                    config.enrollment_code = Some(code.to_string());
                }
            }
        }
        // The console's enrollment QR code holds `sspr-enroll:<server URL>#<code>`: scanned
        // into the code (a barcode scanner types it), it names the server too.
        if let Some(qr) = config.enrollment_code.clone() {
            if let Some((server, code)) = enrollment_qr(&qr) {
                if args
                    .server
                    .as_deref()
                    .is_some_and(|s| s.trim_end_matches('/') != server)
                {
                    return Err(format!(
                        "the enrollment code is for {server}, but --server says {}",
                        args.server.as_deref().unwrap_or_default()
                    ));
                }
                config.server_url = server;
                config.enrollment_code = Some(code);
            }
        }
        for (what, value) in [("name", &config.name), ("location", &config.location)] {
            if let Some(v) = value {
                if v.trim().is_empty() || v.chars().count() > 64 || v.chars().any(char::is_control)
                {
                    return Err(format!(
                        "{what} {v:?} must be 1 to 64 characters with no control characters"
                    ));
                }
            }
        }
        config.server_url = config.server_url.trim_end_matches('/').to_string();
        if !(config.server_url.starts_with("https://") || config.server_url.starts_with("http://"))
        {
            return Err(format!(
                "server_url {:?} must start with https:// (or http:// on loopback)",
                config.server_url
            ));
        }
        Ok(config)
    }
}

/// The server and the code of an enrollment QR code's text (`sspr-enroll:URL#CODE`).
fn enrollment_qr(text: &str) -> Option<(String, String)> {
    let rest = text.trim().strip_prefix("sspr-enroll:")?;
    let (server, code) = rest.rsplit_once('#')?;
    (!server.is_empty() && !code.is_empty())
        .then(|| (server.trim_end_matches('/').to_string(), code.to_string()))
}

/// Where a configuration file is wrong, by line and column. The file may hold an
/// enrollment code and this message reaches the display manager's log: when the line at
/// fault is the code's (or unknown), what the message quotes is taken out.
fn parse_error(path: &Path, text: &str, e: &toml::de::Error) -> String {
    let mut secret = true;
    let at = e
        .span()
        .map(|span| {
            let start = span.start.min(text.len());
            let before = &text[..start];
            let line = before.matches('\n').count() + 1;
            let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
            let whole = text.lines().nth(line - 1).unwrap_or_default();
            secret = whole.trim_start().starts_with("enrollment_code");
            format!("line {line}, column {column}: ")
        })
        .unwrap_or_default();
    let message = if secret {
        redact_quoted(e.message())
    } else {
        e.message().to_string()
    };
    format!("{}: {at}{}", path.display(), message.trim())
}

fn redact_quoted(message: &str) -> String {
    let mut out = String::new();
    let mut quote: Option<char> = None;
    for c in message.chars() {
        match quote {
            Some(q) if c == q => {
                out.push('…');
                out.push(c);
                quote = None;
            }
            Some(_) => {}
            None if c == '`' || c == '"' => {
                out.push(c);
                quote = Some(c);
            }
            None => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bad_file_says_where_and_never_repeats_the_enrollment_code() {
        let dir = std::env::temp_dir().join(format!("sspr-kiosk-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let load = |text: &str| {
            let path = dir.join("config.toml");
            std::fs::write(&path, text).expect("write");
            KioskConfig::load(&Args {
                config: Some(path),
                ..Args::default()
            })
            .expect_err("refused")
        };
        let e = load(
            "server_url = \"https://sspr.example.org\"\nenrollment_code = \"K7Q2-SECRET\" x\n",
        );
        assert!(e.contains("line 2"), "{e}");
        assert!(!e.contains("K7Q2"), "{e}");
        let e = load("server_url = \"https://sspr.example.org\"\nenrollment_code = 4242\n");
        assert!(e.contains("line 2"), "{e}");
        assert!(!e.contains("4242"), "{e}");
        // Elsewhere the message is whole: it names the key at fault.
        let e = load("idle_timeout_secs = \"soon\"\n");
        assert!(e.contains("line 1") && e.contains("soon"), "{e}");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn flags_override_the_file() {
        let args =
            parse_args(["--server", "https://sspr.example.org/", "--windowed"].map(String::from));
        assert_eq!(
            args,
            Ok(Args {
                server: Some("https://sspr.example.org/".into()),
                kiosk_mode: Some(false),
                ..Args::default()
            })
        );
        let config = KioskConfig::load(&args.unwrap_or_default());
        let config = config.unwrap_or_default();
        assert_eq!(config.server_url, "https://sspr.example.org");
        assert!(!config.kiosk_mode);
        assert!(parse_args(["--nope".to_string()]).is_err());
    }

    #[test]
    fn an_enrollment_qr_code_names_the_server_and_the_code() {
        let args = parse_args(
            [
                "--enroll-code",
                "sspr-enroll:https://sspr.example.org#ABCD-EFGH-JKMN-PQRS",
            ]
            .map(String::from),
        )
        .unwrap_or_default();
        let config = KioskConfig::load(&args).unwrap_or_default();
        assert_eq!(config.server_url, "https://sspr.example.org");
        assert_eq!(
            config.enrollment_code.as_deref(),
            Some("ABCD-EFGH-JKMN-PQRS")
        );
        let clash = parse_args(
            [
                "--server",
                "https://other.example.org",
                "--enroll-code",
                "sspr-enroll:https://sspr.example.org#ABCD",
            ]
            .map(String::from),
        )
        .unwrap_or_default();
        assert!(KioskConfig::load(&clash).is_err());
        // A plain code stays as it is.
        assert_eq!(enrollment_qr("ABCD-EFGH"), None);
    }

    #[test]
    fn the_packaged_example_parses() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../packaging/config.toml.example");
        let text = std::fs::read_to_string(path).unwrap_or_default();
        let parsed: Result<KioskConfig, _> = toml::from_str(&text);
        assert!(parsed.is_ok(), "{parsed:?}");
    }
}
