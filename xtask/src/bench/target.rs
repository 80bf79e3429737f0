//! The server under test: the release `sspr-server` binary with its own folder, a
//! configuration for benching (with a Kannel gateway for text messages, when one runs),
//! people imported into the built-in directory, serving on a free loopback port. It is
//! stopped (and its folder removed) when dropped.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::Context as _;

/// Every throttle limit of the server, raised out of the way: the bench is one kiosk
/// resetting hundreds of people a minute, which the defaults rightly refuse.
pub const THROTTLE_MAX: u32 = 1_000_000;
/// `[policy.questions]`: questions each person registers, and those a kiosk asks (and
/// checks, every one, right or wrong).
pub const QUESTIONS_REGISTER: usize = 3;
pub const QUESTIONS_ASK: usize = 3;

/// How a person's first code reaches them; the second method is always an authenticator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channel {
    Email,
    /// A text message through Kannel.
    Sms,
}

/// One person in the built-in directory, with an email address or a mobile number for
/// codes, and an authenticator.
pub struct Person {
    /// Their directory password, when the bench signs in with it (on "My security
    /// info"); else a random one nobody knows.
    pub password: Option<String>,
    pub username: String,
    pub channel: Channel,
    /// Where their codes go (an email address, or a mobile number in E.164); nobody
    /// else's codes go there.
    pub address: String,
    /// Base32, 160 bits.
    pub totp: String,
}

/// `n` people whose codes go by `channel`.
pub fn people(n: usize, channel: Channel) -> Vec<Person> {
    (1..=n)
        .map(|i| {
            let (username, address) = match channel {
                Channel::Email => {
                    let username = format!("bench{i:07}");
                    let address = format!("{username}@home.example.net");
                    (username, address)
                }
                // German mobile numbers (0151 and eight digits), one each.
                Channel::Sms => (format!("texted{i:07}"), format!("+49151{i:08}")),
            };
            Person {
                password: None,
                username,
                channel,
                address,
                totp: sspr_server::methods::totp::new_secret(),
            }
        })
        .collect()
}

/// `n` people who register security questions on "My security info": each has a
/// password the bench knows (to sign in there) and an email address for codes.
pub fn questioned(n: usize) -> Vec<Person> {
    (1..=n)
        .map(|i| {
            let username = format!("asked{i:07}");
            Person {
                password: Some(format!("amber lighthouse {i:07} gravel")),
                address: format!("{username}@home.example.net"),
                username,
                channel: Channel::Email,
                totp: sspr_server::methods::totp::new_secret(),
            }
        })
        .collect()
}

/// The import file (docs/directory-import.example.toml's format). A mobile number isn't
/// imported with a person: `register_toml` registers it.
fn people_toml(people: &[&Person]) -> String {
    let mut out = String::new();
    for p in people {
        // Names that no password here contains, so the new password is accepted.
        let _ = write!(
            out,
            "[[user]]\nusername = \"{u}\"\ngiven_name = \"Bench\"\nsurname = \"Person\"\n\
             email = \"{u}@staff.example.org\"\ngroups = [\"Staff\"]\n",
            u = p.username,
        );
        if let Some(password) = &p.password {
            let _ = writeln!(out, "password = \"{password}\"");
        }
        let _ = writeln!(out, "[user.methods]\ntotp = \"{}\"", p.totp);
        if p.channel == Channel::Email {
            let _ = writeln!(out, "email = \"{}\"", p.address);
        }
        out.push('\n');
    }
    out
}

/// The `directory register` file giving texted people their mobile numbers.
fn register_toml(people: &[&Person]) -> String {
    let mut out = String::new();
    for p in people.iter().filter(|p| p.channel == Channel::Sms) {
        let _ = write!(
            out,
            "[[person]]\nlogin = \"{}\"\nmobile = \"{}\"\n\n",
            p.username, p.address
        );
    }
    out
}

/// `policy.methods` as the bench sets it: email and authenticator codes, texted codes
/// with a gateway, security questions when measured.
pub fn methods(sms: bool, questions: bool) -> Vec<&'static str> {
    let mut methods = vec!["email", "totp"];
    if sms {
        methods.push("sms");
    }
    if questions {
        methods.push("questions");
    }
    methods
}

/// The server's configuration; `sms_provider` is a `[[sms.provider]]` table (Kannel's), or
/// None for no text messages; `questions` enables security questions (the defaults:
/// three registered, three asked). With neither, a server from before both reads it.
fn config(
    dir: &Path,
    port: u16,
    smtp_port: u16,
    sms_provider: Option<&str>,
    questions: bool,
    store_section: Option<&str>,
) -> String {
    let store = match store_section {
        Some(section) => section.to_string(),
        None => format!("[store]\nurl = \"sqlite://{}/sspr.db\"\n", dir.display()),
    };
    let limit = |window: u32| format!("{{ max = {THROTTLE_MAX}, window_secs = {window} }}");
    let mut methods = String::new();
    if sms_provider.is_some() || questions {
        let listed: Vec<String> = self::methods(sms_provider.is_some(), questions)
            .iter()
            .map(|m| format!("{m:?}"))
            .collect();
        methods = format!("methods = [{}]\n", listed.join(", "));
    }
    methods.push_str("methods_required = 2\n");
    if questions {
        let _ = write!(
            methods,
            "\n[policy.questions]\nregister = {QUESTIONS_REGISTER}\nask = {QUESTIONS_ASK}\n"
        );
    }
    let sms = match sms_provider {
        Some(provider) => format!(
            "\n[sms]\ndefault_region = \"DE\"\nsender = \"SSPR\"\ntimeout_secs = 5\n{provider}"
        ),
        None => String::new(),
    };
    format!(
        r#"# Written by `cargo xtask bench server`.
[server]
listen = "127.0.0.1:{port}"
public_url = "http://127.0.0.1:{port}"
secret_file = "{dir}/secret.key"

{store}
[organization]
name = "Bench Org"

[helpdesk]
url = "https://help.example.org/password"

[policy]
# Every reset verifies a code (emailed, or texted) and an authenticator code; security
# questions are only checked, never used for a reset.
{methods}
[throttle]
failed_verifications = {hour}
phone_challenges = {hour}
emails = {hour}
resets = {hour}
kiosk_failed_verifications = {hour}
kiosk_phone_challenges = {hour}
kiosk_emails = {hour}

[smtp]
host = "127.0.0.1"
port = {smtp_port}
tls = "none"
from = "SSPR <sspr@example.org>"
{sms}"#,
        dir = dir.display(),
        hour = limit(3600),
    )
}

pub struct ServerUnderTest {
    binary: PathBuf,
    dir: PathBuf,
    config: PathBuf,
    pub base: String,
    child: Option<Child>,
    keep: bool,
}

impl ServerUnderTest {
    /// A fresh folder with the configuration; nothing runs yet.
    pub fn prepare(
        binary: &Path,
        smtp_port: u16,
        sms_provider: Option<&str>,
        questions: bool,
        store_section: Option<&str>,
        keep: bool,
    ) -> anyhow::Result<ServerUnderTest> {
        let dir = std::env::temp_dir().join(format!("sspr-bench-{}", std::process::id()));
        if dir.exists() {
            std::fs::remove_dir_all(&dir)?;
        }
        std::fs::create_dir_all(&dir)?;
        let port = sspr_tests::free_port()?;
        let config = dir.join("sspr-server.toml");
        std::fs::write(
            &config,
            self::config(
                &dir,
                port,
                smtp_port,
                sms_provider,
                questions,
                store_section,
            ),
        )?;
        Ok(ServerUnderTest {
            binary: binary.to_path_buf(),
            dir,
            config,
            base: format!("http://127.0.0.1:{port}"),
            child: None,
            keep,
        })
    }

    fn command(&self) -> Command {
        let mut command = Command::new(&self.binary);
        command.arg("--config").arg(&self.config);
        // SSPR_SECTION__KEY variables would override the bench's configuration.
        for (name, _) in std::env::vars_os() {
            if name.to_string_lossy().starts_with("SSPR_") && name != "SSPR_LOG" {
                command.env_remove(name);
            }
        }
        command
    }

    fn admin(&self, args: &[&str]) -> anyhow::Result<String> {
        let out = self
            .command()
            .args(args)
            .output()
            .context("running sspr-server")?;
        anyhow::ensure!(
            out.status.success(),
            "sspr-server {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// A one-time enrollment code for the bench's kiosk. Run first: it also makes the
    /// store and the server's key, which the imports then share.
    pub fn enrollment_code(&self) -> anyhow::Result<String> {
        let out = self.admin(&[
            "kiosk",
            "enroll-code",
            "--name",
            "Bench kiosk",
            "--location",
            "loopback",
        ])?;
        Ok(out.trim().to_string())
    }

    /// Imports the people in `processes` parallel imports (each hashes its people's
    /// initial passwords one after another), then registers the mobile numbers of those
    /// texted; returns how long it took.
    pub fn import(&self, people: &[&Person], processes: usize) -> anyhow::Result<Duration> {
        let started = Instant::now();
        self.in_parallel("import", people, processes, people_toml)?;
        if people.iter().any(|p| p.channel == Channel::Sms) {
            let texted: Vec<&Person> = people
                .iter()
                .copied()
                .filter(|p| p.channel == Channel::Sms)
                .collect();
            self.in_parallel("register", &texted, processes, register_toml)?;
        }
        Ok(started.elapsed())
    }

    /// `directory <command> FILE` in `processes` processes at once, each with its share
    /// of `people` written by `file_of`.
    fn in_parallel(
        &self,
        command: &str,
        people: &[&Person],
        processes: usize,
        file_of: fn(&[&Person]) -> String,
    ) -> anyhow::Result<()> {
        let chunk = people.len().div_ceil(processes.max(1)).max(1);
        let mut children = Vec::new();
        for (i, part) in people.chunks(chunk).enumerate() {
            let file = self.dir.join(format!("people-{command}-{i}.toml"));
            std::fs::write(&file, file_of(part))?;
            let child = self
                .command()
                .args(["directory", command])
                .arg(&file)
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .with_context(|| format!("starting sspr-server directory {command}"))?;
            children.push(child);
        }
        for child in children {
            let out = child.wait_with_output()?;
            anyhow::ensure!(
                out.status.success(),
                "directory {command} failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        Ok(())
    }

    pub fn log_path(&self) -> PathBuf {
        self.dir.join("server.log")
    }

    /// Starts `serve` and waits until it answers /healthz.
    pub async fn start(&mut self) -> anyhow::Result<()> {
        let log = std::fs::File::create(self.log_path())?;
        let child = self
            .command()
            .arg("serve")
            .stdout(Stdio::from(log.try_clone()?))
            .stderr(Stdio::from(log))
            .spawn()
            .context("starting sspr-server serve")?;
        self.child = Some(child);
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(2))
            .build()?;
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Some(status) = self
                .child
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten())
            {
                anyhow::bail!("sspr-server exited ({status}); log:\n{}", self.log());
            }
            let health = http.get(format!("{}/healthz", self.base)).send().await;
            if health.is_ok_and(|r| r.status().is_success()) {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        anyhow::bail!("sspr-server did not start; log:\n{}", self.log())
    }

    /// The server's process id, once it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.log_path()).unwrap_or_default()
    }
}

impl Drop for ServerUnderTest {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        if !self.keep {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}
