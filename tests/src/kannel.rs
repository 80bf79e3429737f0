//! Kannel, the SMS gateway, with its fake SMSC standing in for the operator: bearerbox,
//! smsbox and `fakesmsc` on loopback (Debian's `kannel` and `kannel-extras`). The server
//! sends through smsbox's `sendsms` interface; the fake SMSC prints every message it
//! receives, and a test reads the code a person's phone would show from there.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use nix::sys::signal::Signal;

use crate::dirs::process::Daemon;
use crate::dirs::{random_string, temp_folder};
use crate::free_port;

const BEARERBOX: &str = "/usr/sbin/bearerbox";
const SMSBOX: &str = "/usr/sbin/smsbox";
const FAKESMSC: &str = "/usr/lib/kannel/test/fakesmsc";

pub struct Kannel {
    /// `http://127.0.0.1:PORT`: smsbox's sendsms interface.
    pub sendsms_url: String,
    pub username: String,
    pub password: String,
    fakesmsc_log: PathBuf,
    // Stopped in this order when dropped: the fake SMSC, smsbox, bearerbox.
    _fakesmsc: Daemon,
    _smsbox: Daemon,
    _bearerbox: Daemon,
}

/// A message the fake SMSC received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sms {
    pub from: String,
    pub to: String,
    pub text: String,
}

impl Sms {
    /// The message in one line the fake SMSC printed, if it tells one:
    /// "... Got message N: <FROM TO text THE TEXT>".
    pub fn from_fakesmsc_line(line: &str) -> Option<Sms> {
        let rest = line.split_once("Got message ")?.1;
        let body = rest.split_once(": <")?.1.trim_end().strip_suffix('>')?;
        let mut parts = body.splitn(4, ' ');
        let from = parts.next()?.to_string();
        let to = parts.next()?.to_string();
        let kind = parts.next()?;
        (kind == "text").then_some(())?;
        Some(Sms {
            from,
            to,
            text: parts.next().unwrap_or_default().to_string(),
        })
    }
}

impl Kannel {
    /// One Kannel for the whole test process.
    pub fn shared() -> anyhow::Result<&'static Kannel> {
        static SHARED: OnceLock<Result<Kannel, String>> = OnceLock::new();
        SHARED
            .get_or_init(|| Kannel::start().map_err(|e| format!("{e:#}")))
            .as_ref()
            .map_err(|e| anyhow::anyhow!("{e}"))
    }

    /// Whether bearerbox, smsbox and the fake SMSC are where `start` runs them.
    pub fn check_installed() -> anyhow::Result<()> {
        let missing: Vec<&str> = [BEARERBOX, SMSBOX, FAKESMSC]
            .into_iter()
            .filter(|p| !Path::new(p).exists())
            .collect();
        anyhow::ensure!(
            missing.is_empty(),
            "{} missing (Debian: apt-get install kannel kannel-extras)",
            missing.join(", ")
        );
        Ok(())
    }

    pub fn start() -> anyhow::Result<Kannel> {
        Kannel::check_installed()?;
        let dir = temp_folder("kannel")?;
        let (admin, smsbox, smsc, sendsms) =
            (free_port()?, free_port()?, free_port()?, free_port()?);
        let username = "sspr".to_string();
        let password = random_string(16);
        let conf = dir.join("kannel.conf");
        std::fs::write(
            &conf,
            format!(
                r#"group = core
admin-port = {admin}
admin-interface = 127.0.0.1
admin-password = {admin_password}
smsbox-port = {smsbox}
smsbox-interface = 127.0.0.1
wdp-interface-name = "127.0.0.1"
box-allow-ip = "127.0.0.1"
log-file = "{dir}/bearerbox.log"
log-level = 1
access-log = "{dir}/access.log"

group = smsc
smsc = fake
smsc-id = fake
host = 127.0.0.1
port = {smsc}
connect-allow-ip = 127.0.0.1

group = smsbox
bearerbox-host = 127.0.0.1
bearerbox-port = {smsbox}
sendsms-port = {sendsms}
sendsms-interface = 127.0.0.1
log-file = "{dir}/smsbox.log"
log-level = 1

group = sendsms-user
username = {username}
password = {password}
max-messages = 3
concatenation = true

group = sms-service
keyword = default
text = "No service"
"#,
                admin_password = random_string(16),
                dir = dir.display(),
            ),
        )?;
        let conf_arg = conf.to_string_lossy().into_owned();
        let bearerbox = Daemon::start(
            "bearerbox",
            BEARERBOX,
            &[&conf_arg],
            &dir.join("bearerbox.out"),
            false,
        )?;
        wait_port(smsc, &bearerbox, "bearerbox")?;
        let smsbox_d = Daemon::start(
            "smsbox",
            SMSBOX,
            &[&conf_arg],
            &dir.join("smsbox.out"),
            false,
        )?;
        wait_port(sendsms, &smsbox_d, "smsbox")?;
        let fakesmsc_log = dir.join("fakesmsc.out");
        let smsc_port = smsc.to_string();
        let fakesmsc = Daemon::start(
            "fakesmsc",
            FAKESMSC,
            &[
                "-H",
                "127.0.0.1",
                "-r",
                &smsc_port,
                "-i",
                "0.1",
                "-m",
                "0",
                "100 200 text hi",
            ],
            &fakesmsc_log,
            false,
        )?;
        let kannel = Kannel {
            sendsms_url: format!("http://127.0.0.1:{sendsms}"),
            username,
            password,
            fakesmsc_log,
            _fakesmsc: fakesmsc,
            _smsbox: smsbox_d,
            _bearerbox: bearerbox,
        };
        kannel.wait_connected()?;
        Ok(kannel)
    }

    /// Waits until bearerbox routes to the fake SMSC: a message sent now is delivered.
    fn wait_connected(&self) -> anyhow::Result<()> {
        let deadline = Instant::now() + Duration::from_secs(20);
        let probe = format!("+1555{}", rand::random::<u32>() % 1_000_000);
        while Instant::now() < deadline {
            let url = format!(
                "{}/cgi-bin/sendsms?username={}&password={}&from=probe&to={}&text=ready",
                self.sendsms_url,
                self.username,
                self.password,
                url::form_urlencoded::byte_serialize(probe.as_bytes()).collect::<String>()
            );
            let sent = std::process::Command::new("curl")
                .args(["-s", "-m", "2", &url])
                .output()
                .map(|o| String::from_utf8_lossy(&o.stdout).starts_with("0:"))
                .unwrap_or(false);
            if sent {
                let until = Instant::now() + Duration::from_secs(5);
                while Instant::now() < until {
                    if self.messages().iter().any(|m| m.to == probe) {
                        return Ok(());
                    }
                    std::thread::sleep(Duration::from_millis(100));
                }
            }
            std::thread::sleep(Duration::from_millis(300));
        }
        anyhow::bail!(
            "Kannel never delivered to its fake SMSC; fakesmsc said:\n{}",
            std::fs::read_to_string(&self.fakesmsc_log).unwrap_or_default()
        )
    }

    /// Every message the fake SMSC received so far.
    pub fn messages(&self) -> Vec<Sms> {
        let text = std::fs::read_to_string(&self.fakesmsc_log).unwrap_or_default();
        text.lines().filter_map(Sms::from_fakesmsc_line).collect()
    }

    /// The file the fake SMSC prints to, one line per message received among its other
    /// lines (`Sms::from_fakesmsc_line` reads them): for a reader that follows it as it
    /// grows rather than reading it whole.
    pub fn fakesmsc_log(&self) -> &Path {
        &self.fakesmsc_log
    }

    /// Waits for the `n`th message (counting from 1) to `to`, up to 10 s.
    pub async fn message_to(&self, to: &str, n: usize) -> anyhow::Result<Sms> {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let found: Vec<Sms> = self.messages().into_iter().filter(|m| m.to == to).collect();
            if let Some(m) = found.get(n.saturating_sub(1)) {
                return Ok(m.clone());
            }
            if Instant::now() >= deadline {
                anyhow::bail!(
                    "no message {n} to {to}; the fake SMSC has {:?}",
                    self.messages()
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// How many messages went to `to`.
    pub fn count_to(&self, to: &str) -> usize {
        self.messages().iter().filter(|m| m.to == to).count()
    }

    /// `[[sms.provider]]` for this Kannel.
    pub fn provider_toml(&self, name: &str) -> String {
        format!(
            "[[sms.provider]]\nname = \"{name}\"\nkind = \"kannel\"\nurl = \"{}\"\nusername = \"{}\"\npassword = \"{}\"\n",
            self.sendsms_url, self.username, self.password
        )
    }
}

/// Waits until `port` on loopback accepts connections (the daemon listens).
fn wait_port(port: u16, daemon: &Daemon, name: &str) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(15);
    while Instant::now() < deadline {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Ok(());
        }
        if let Some(status) = daemon.exited() {
            anyhow::bail!("{name} exited ({status}):\n{}", daemon.log_tail(20));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    anyhow::bail!("{name} never listened on {port}:\n{}", daemon.log_tail(20))
}

impl Drop for Kannel {
    fn drop(&mut self) {
        self._fakesmsc
            .stop_with(Signal::SIGTERM, Duration::from_secs(1));
        self._smsbox
            .stop_with(Signal::SIGTERM, Duration::from_secs(2));
        self._bearerbox
            .stop_with(Signal::SIGTERM, Duration::from_secs(3));
    }
}
