//! Test kit: starts the real `sspr-server` binary on a free loopback port with its own
//! data folder, a real SMTP listener for its mail, people imported into the built-in
//! directory, and an enrolled kiosk client. Everything stops when the handle is dropped.

use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::Context as _;
use sspr_client::{Client, DeviceKey};
use sspr_mailbox::{Mailbox, Received};

pub mod axe;
pub mod browser;
pub mod dirs;
pub mod faults;
pub mod graph;
pub mod kannel;
pub mod keys;
pub mod kiosk;
pub mod lightdm;
pub mod nginx;
pub mod phone;
pub mod postgres;
pub mod python;
pub mod sms_replay;
pub mod sssd;

pub use sspr_client;
pub use sspr_mailbox;
pub use sspr_proto;

/// Authenticator secrets of the fixture people (base32, 160 bits).
pub const ADA_TOTP: &str = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP";
pub const ALAN_TOTP: &str = "KRSXG5CTMVRXEZLUKRSXG5CTMVRXEZLU";
pub const GRACE_TOTP: &str = "MFRGGZDFMZTWQ2LKNNWG23TPOBYXE43U";
/// Current directory passwords (for "My security info" sign-ins).
pub const ADA_PASSWORD: &str = "Ada-current-password-1";
pub const BARBARA_PASSWORD: &str = "Barbara-current-password-1";
/// Grace is locked out: her password is right, and signs in nowhere until she unlocks.
pub const GRACE_PASSWORD: &str = "Grace-current-password-1";

/// The fixture directory: ada (staff), alan and margaret (administrators), grace
/// (locked), edsger (disabled), barbara (nothing registered).
pub const PEOPLE: &str = r#"
[[user]]
username = "ada"
given_name = "Ada"
surname = "Lovelace"
email = "ada.lovelace@example.org"
groups = ["Staff"]
password = "Ada-current-password-1"
[user.methods]
email = "ada@home.example.net"
totp = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"

[[user]]
username = "alan"
given_name = "Alan"
surname = "Turing"
email = "alan.turing@example.org"
groups = ["Staff", "Domain Admins"]
[user.methods]
email = "alan@home.example.net"
totp = "KRSXG5CTMVRXEZLUKRSXG5CTMVRXEZLU"

[[user]]
username = "margaret"
given_name = "Margaret"
surname = "Hamilton"
email = "margaret.hamilton@example.org"
groups = ["Domain Admins"]
[user.methods]
email = "margaret@home.example.net"

[[user]]
username = "grace"
given_name = "Grace"
surname = "Hopper"
email = "grace.hopper@example.org"
groups = ["Staff"]
locked = true
password = "Grace-current-password-1"
[user.methods]
email = "grace@home.example.net"
totp = "MFRGGZDFMZTWQ2LKNNWG23TPOBYXE43U"

[[user]]
username = "edsger"
given_name = "Edsger"
surname = "Dijkstra"
email = "edsger.dijkstra@example.org"
groups = ["Staff"]
disabled = true
[user.methods]
email = "edsger@home.example.net"
totp = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"

[[user]]
username = "barbara"
given_name = "Barbara"
surname = "Liskov"
email = "barbara.liskov@example.org"
groups = ["Staff"]
password = "Barbara-current-password-1"
"#;

/// The profile folder the running program was built into (`target/debug`): test binaries
/// live in its `deps/`, programs such as xtask in the folder itself. Found from the
/// executable, so a shared CARGO_TARGET_DIR works.
pub fn profile_dir() -> PathBuf {
    std::env::current_exe()
        .ok()
        .and_then(|exe| {
            let folder = exe.parent()?;
            if folder.file_name()? == "deps" {
                folder.parent().map(Path::to_path_buf)
            } else {
                Some(folder.to_path_buf())
            }
        })
        .unwrap_or_else(|| target_dir().join("debug"))
}

/// The workspace's target folder.
pub fn target_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("CARGO_TARGET_DIR") {
        return PathBuf::from(dir);
    }
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../target")
}

/// The server binary: `SSPR_SERVER_BIN`, else the workspace's debug build.
pub fn server_binary() -> anyhow::Result<PathBuf> {
    let path = std::env::var_os("SSPR_SERVER_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| profile_dir().join("sspr-server"));
    anyhow::ensure!(
        path.exists(),
        "{} is missing: run `cargo build -p sspr-server` first (the README's test command does)",
        path.display()
    );
    Ok(path)
}

pub fn free_port() -> anyhow::Result<u16> {
    let l = TcpListener::bind("127.0.0.1:0")?;
    Ok(l.local_addr()?.port())
}

pub fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default()
}

/// The current authenticator code for a secret, as a phone app would show it.
pub fn totp_now(secret: &str) -> String {
    totp_at(secret, unix_now())
}

/// The current second, at least `margin` seconds before the authenticator's
/// 30-second step ends: a test that means "the previous step" must not have
/// the server's clock cross into the next step before it asks.
pub async fn unix_now_in_step(margin: u64) -> u64 {
    let now = unix_now();
    let left = 30 - now % 30;
    if left > margin {
        return now;
    }
    tokio::time::sleep(std::time::Duration::from_secs(left)).await;
    unix_now()
}

pub fn totp_at(secret: &str, unix: u64) -> String {
    let bytes = totp_rs::Secret::Encoded(secret.to_string())
        .to_bytes()
        .unwrap_or_default();
    totp_rs::TOTP::new(totp_rs::Algorithm::SHA1, 6, 1, 30, bytes)
        .map(|t| t.generate(unix))
        .unwrap_or_default()
}

/// A running server with its mailbox and data folder.
pub struct TestServer {
    child: Child,
    pub base: String,
    /// Where phones reach the server (`http://localhost:PORT`: passkeys need a host name).
    pub phone_base: String,
    pub addr: SocketAddr,
    pub mailbox: Mailbox,
    pub dir: PathBuf,
    /// The folder of the store (`dir` unless the options named another).
    pub store_dir: PathBuf,
    pub config_path: PathBuf,
    pub log_path: PathBuf,
    /// The PostgreSQL database of the store, when the tests run on PostgreSQL
    /// (`store_is_postgres`).
    pub database: Option<String>,
    /// The server's secret key file.
    pub secret_file: PathBuf,
}

/// Whether test servers keep their stores on PostgreSQL (`SSPR_TEST_STORE=postgres`: the
/// kit's shared cluster, a database each) instead of a SQLite file in their folder. `./run
/// test` runs the API suite on both.
pub fn store_is_postgres() -> bool {
    std::env::var("SSPR_TEST_STORE").is_ok_and(|v| v == "postgres")
}

/// Extra TOML appended to the generated configuration (whole sections).
#[derive(Default)]
pub struct Options {
    pub extra_config: String,
    /// SSPR_LOG filter for the server (default "info").
    pub log: Option<String>,
    /// The configuration names a real directory: don't import the fixture people into
    /// the built-in one.
    pub real_directory: bool,
    /// Where kiosks reach the server (`server.public_url`, and `base`) when that is not
    /// its own address: a proxy the test puts in front.
    pub public_url: Option<String>,
    /// Where the server sends mail, when not straight to the mailbox (a `FaultyPort` in
    /// front of it).
    pub smtp_port: Option<u16>,
    /// Environment of the serving process (`SSPR_SECTION__KEY` overrides).
    pub env: Vec<(String, String)>,
    /// Where the store lives, when not in the server's own folder (a small disk).
    pub store_dir: Option<PathBuf>,
    /// Another running server's PostgreSQL database and secret key, to serve the same
    /// store as a second process (`TestServer::same_store`); its people are there already.
    pub same_store_as: Option<SameStore>,
    /// The store on PostgreSQL whatever `SSPR_TEST_STORE` says (a test of several
    /// processes).
    pub on_postgres: bool,
    /// The whole `[store]` section, for a store the test runs itself (a PostgreSQL it
    /// stops and starts); `db()` doesn't reach it.
    pub store_section: Option<String>,
    /// `approval.public_url` (the phone's and the console's origin, which passkeys are
    /// bound to) when not this server's own address: another process's, as if both stood
    /// behind one load balancer.
    pub phone_base: Option<String>,
}

/// What a second server process needs to serve another's store.
#[derive(Clone)]
pub struct SameStore {
    pub database: String,
    pub secret_file: PathBuf,
}

impl TestServer {
    pub async fn start() -> anyhow::Result<TestServer> {
        Self::start_with(Options::default()).await
    }

    /// A server with `extra` appended to its configuration (whole TOML sections).
    pub async fn with_config(extra: &str) -> anyhow::Result<TestServer> {
        Self::start_with(Options {
            extra_config: extra.to_string(),
            ..Options::default()
        })
        .await
    }

    pub async fn start_with(options: Options) -> anyhow::Result<TestServer> {
        // A free port can be taken by another test's server between our look and our
        // bind (the server then says so and exits): try again on another.
        let mut tries = 0;
        loop {
            match Self::start_once(&options).await {
                Err(e) if tries < 3 && format!("{e:#}").contains("Address already in use") => {
                    tries += 1;
                }
                other => return other,
            }
        }
    }

    async fn start_once(options: &Options) -> anyhow::Result<TestServer> {
        let binary = server_binary()?;
        let mailbox = Mailbox::start("127.0.0.1:0".parse()?).await?;
        let dir = std::env::temp_dir().join(format!(
            "sspr-test-{}-{}",
            std::process::id(),
            rand::random::<u64>()
        ));
        std::fs::create_dir_all(&dir)?;
        let port = free_port()?;
        let addr: SocketAddr = format!("127.0.0.1:{port}").parse()?;
        let phone_base = options
            .phone_base
            .clone()
            .unwrap_or_else(|| format!("http://localhost:{port}"));
        let base = options
            .public_url
            .clone()
            .unwrap_or_else(|| format!("http://{addr}"));
        // On PostgreSQL (unless the test chose where a SQLite store lives): a database of
        // its own in the shared cluster, reached with TLS checked, as a deployment would.
        let database = if let Some(same) = &options.same_store_as {
            Some(same.database.clone())
        } else if (store_is_postgres() || options.on_postgres) && options.store_dir.is_none() {
            Some(postgres::Postgres::shared()?.create_database()?)
        } else {
            None
        };
        let secret_file = match &options.same_store_as {
            Some(same) => same.secret_file.clone(),
            None => dir.join("secret.key"),
        };
        let store = match (&options.store_section, &database) {
            (Some(section), _) => section.clone(),
            (None, Some(database)) => postgres::Postgres::shared()?.store_settings(database),
            (None, None) => format!(
                "[store]\nurl = \"sqlite://{}/sspr.db\"\n",
                options.store_dir.as_deref().unwrap_or(&dir).display()
            ),
        };
        let config = format!(
            r#"
[server]
listen = "{addr}"
public_url = "{base}"
secret_file = "{secret_file}"

{store}
[organization]
name = "Test Org"

[helpdesk]
url = "https://help.example.org/password"
phone = "+49 30 1234 5678"

[smtp]
host = "127.0.0.1"
port = {smtp}
tls = "none"
from = "SSPR <sspr@example.org>"

{extra}
"#,
            secret_file = secret_file.display(),
            smtp = options.smtp_port.unwrap_or(mailbox.addr().port()),
            extra = options.extra_config
        );
        let config_path = dir.join("sspr-server.toml");
        std::fs::write(&config_path, config)?;
        if !options.real_directory && options.same_store_as.is_none() {
            let people = dir.join("people.toml");
            std::fs::write(&people, PEOPLE)?;
            let out = Command::new(&binary)
                .arg("--config")
                .arg(&config_path)
                .args(["directory", "import"])
                .arg(&people)
                .env("SSPR_APPROVAL__PUBLIC_URL", &phone_base)
                .output()?;
            anyhow::ensure!(
                out.status.success(),
                "directory import failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }

        let log_path = dir.join("server.log");
        let log = std::fs::File::create(&log_path)?;
        let child = Command::new(&binary)
            .arg("--config")
            .arg(&config_path)
            .arg("serve")
            .envs(options.env.iter().map(|(k, v)| (k, v)))
            .env("SSPR_LOG", options.log.as_deref().unwrap_or("info"))
            .env("SSPR_APPROVAL__PUBLIC_URL", &phone_base)
            .stdout(Stdio::from(log.try_clone()?))
            .stderr(Stdio::from(log))
            .spawn()
            .context("starting sspr-server")?;
        let mut server = TestServer {
            child,
            base,
            phone_base,
            addr,
            mailbox,
            store_dir: options.store_dir.clone().unwrap_or_else(|| dir.clone()),
            dir,
            config_path,
            log_path,
            database,
            secret_file,
        };
        server.wait_ready().await?;
        Ok(server)
    }

    async fn wait_ready(&mut self) -> anyhow::Result<()> {
        let deadline = Instant::now() + Duration::from_secs(20);
        let http = reqwest::Client::new();
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                anyhow::bail!("server exited ({status}); log:\n{}", self.log());
            }
            if let Ok(r) = http
                .get(format!("http://{}/healthz", self.addr))
                .send()
                .await
            {
                if r.status().is_success() {
                    // The answer may come from another test's server that took the same
                    // free port first (this one then fails to bind and exits): ours must
                    // still be running.
                    tokio::time::sleep(Duration::from_millis(150)).await;
                    if let Ok(Some(status)) = self.child.try_wait() {
                        anyhow::bail!("server exited ({status}); log:\n{}", self.log());
                    }
                    return Ok(());
                }
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        anyhow::bail!("server did not start; log:\n{}", self.log())
    }

    /// Registers methods for people of the configured directories (`directory register`),
    /// from `[[person]]` TOML.
    pub fn register(&self, toml: &str) -> anyhow::Result<()> {
        let file = self
            .dir
            .join(format!("register-{}.toml", rand::random::<u32>()));
        std::fs::write(&file, toml)?;
        let path = file.display().to_string();
        self.admin(&["directory", "register", &path]).map(|_| ())
    }

    /// Runs an admin subcommand against this server's store; returns stdout.
    pub fn admin(&self, args: &[&str]) -> anyhow::Result<String> {
        let out = Command::new(server_binary()?)
            .arg("--config")
            .arg(&self.config_path)
            .args(args)
            .env("SSPR_APPROVAL__PUBLIC_URL", &self.phone_base)
            .output()?;
        anyhow::ensure!(
            out.status.success(),
            "sspr-server {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// A one-time enrollment code made by the admin command.
    pub fn enrollment_code(&self, name: &str) -> anyhow::Result<String> {
        let out = self.admin(&[
            "kiosk",
            "enroll-code",
            "--name",
            name,
            "--location",
            "Test lab",
        ])?;
        Ok(out.trim().to_string())
    }

    /// A kiosk client with a fresh key, enrolled with a fresh code.
    pub async fn kiosk(&self) -> anyhow::Result<Client> {
        self.kiosk_named("Test kiosk").await
    }

    pub async fn kiosk_named(&self, name: &str) -> anyhow::Result<Client> {
        let code = self.enrollment_code(name)?;
        let mut client = Client::new(&self.base, DeviceKey::generate(), None)?;
        client.enroll(&code, None, None).await?;
        Ok(client)
    }

    /// The server's log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log_path).unwrap_or_default()
    }

    /// The audit trail as JSON lines, once it has settled: the server's writer commits
    /// rows in batches a moment after the answer that made them, so the trail is read
    /// until two reads 50 ms apart agree (for at most 5 s).
    pub fn audit(&self, args: &[&str]) -> anyhow::Result<Vec<serde_json::Value>> {
        let deadline = Instant::now() + Duration::from_secs(5);
        let mut rows = self.audit_once(args)?;
        loop {
            std::thread::sleep(Duration::from_millis(50));
            let again = self.audit_once(args)?;
            if again.len() == rows.len() || Instant::now() > deadline {
                return Ok(again);
            }
            rows = again;
        }
    }

    fn audit_once(&self, args: &[&str]) -> anyhow::Result<Vec<serde_json::Value>> {
        let mut all = vec!["audit", "--json"];
        all.extend_from_slice(args);
        let out = self.admin(&all)?;
        out.lines()
            .map(|l| serde_json::from_str(l).map_err(Into::into))
            .collect()
    }

    /// The audit trail once `until` holds for it, or as it is after 10 s. The server's
    /// writer commits audit rows in batches a moment after the event, so a row written by
    /// a background task (an approval's expiry) may not be there yet when the kiosk hears.
    pub async fn audit_when(
        &self,
        args: &[&str],
        until: impl Fn(&[serde_json::Value]) -> bool,
    ) -> anyhow::Result<Vec<serde_json::Value>> {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let rows = self.audit_once(args)?;
            if until(&rows) || Instant::now() > deadline {
                return Ok(rows);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The first message to `to` that arrives after `since` (or is already there).
    pub async fn mail_to(&self, to: &str, subject_contains: &str) -> anyhow::Result<Received> {
        let want = to.to_string();
        let s = subject_contains.to_string();
        self.mailbox
            .wait_for(
                move |m| m.to.iter().any(|t| t == &want) && m.subject.contains(&s),
                Duration::from_secs(10),
            )
            .await
            .with_context(|| format!("no mail to {to:?} about {subject_contains:?}"))
    }

    /// Code mails delivered to `to` so far, in any of the seven languages ("code",
    /// "Bestätigungscode", "código", "codice", "kod").
    pub fn code_mails_to(&self, to: &str) -> Vec<Received> {
        self.mailbox
            .messages()
            .into_iter()
            .filter(|m| {
                let subject = m.subject.to_lowercase();
                m.to.iter().any(|t| t == to)
                    && ["code", "código", "codice", "kod"]
                        .iter()
                        .any(|w| subject.contains(w))
            })
            .collect()
    }

    /// The code in the newest code mail to `to`, waiting until more than `seen` code mails
    /// (see `code_mails_to`) have arrived.
    pub async fn code_mail(&self, to: &str, seen: usize) -> anyhow::Result<String> {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let mails = self.code_mails_to(to);
            if mails.len() > seen {
                let last = &mails[mails.len() - 1];
                return last.code(6).context("no 6-digit code in the mail");
            }
            anyhow::ensure!(Instant::now() < deadline, "no code mail to {to}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    pub fn mails_to(&self, to: &str) -> Vec<Received> {
        self.mailbox
            .messages()
            .into_iter()
            .filter(|m| m.to.iter().any(|t| t == to))
            .collect()
    }

    pub fn db_path(&self) -> PathBuf {
        self.store_dir.join("sspr.db")
    }

    /// The store, read-only on SQLite, to check what the server wrote. Queries run on
    /// either engine: placeholders `$1`, `$2`… (SQLite reads them as PostgreSQL does),
    /// and integers, text and NULLs only.
    pub async fn db(&self) -> anyhow::Result<sqlx::AnyPool> {
        self.any_pool("?mode=ro").await
    }

    /// The store, writable, under the running server (as an admin command writes): for a
    /// test to age rows, since time can't be fast-forwarded.
    pub async fn db_writable(&self) -> anyhow::Result<sqlx::AnyPool> {
        self.any_pool("").await
    }

    async fn any_pool(&self, sqlite_options: &str) -> anyhow::Result<sqlx::AnyPool> {
        sqlx::any::install_default_drivers();
        let url = match &self.database {
            Some(database) => postgres::Postgres::shared()?.url_with_password(database),
            None => format!("sqlite://{}{sqlite_options}", self.db_path().display()),
        };
        Ok(sqlx::pool::PoolOptions::new()
            .max_connections(2)
            .connect(&url)
            .await?)
    }

    /// What another server process needs to serve this one's store (PostgreSQL only).
    pub fn same_store(&self) -> Option<SameStore> {
        Some(SameStore {
            database: self.database.clone()?,
            secret_file: self.secret_file.clone(),
        })
    }

    /// The store as it lies on disk, to search for what must never be there: SQLite's file
    /// and its WAL, or the PostgreSQL database as `pg_dump` writes it.
    pub fn raw_store(&self) -> anyhow::Result<Vec<Vec<u8>>> {
        if let Some(database) = &self.database {
            return Ok(vec![postgres::Postgres::shared()?.dump(database)?]);
        }
        let mut wal = self.db_path().into_os_string();
        wal.push("-wal");
        Ok(vec![
            std::fs::read(self.db_path())?,
            std::fs::read(wal).unwrap_or_default(),
        ])
    }

    /// Whether `password` is the built-in directory's password for `username` now.
    pub async fn password_is(&self, username: &str, password: &str) -> anyhow::Result<bool> {
        use argon2::password_hash::{PasswordHash, PasswordVerifier};
        let hash: String =
            sqlx::query_scalar("SELECT password_hash FROM dir_users WHERE username = $1")
                .bind(username)
                .fetch_one(&self.db().await?)
                .await?;
        let parsed = PasswordHash::new(&hash).map_err(|e| anyhow::anyhow!("{e}"))?;
        Ok(argon2::Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok())
    }

    /// Whether the built-in directory has `username` locked.
    pub async fn is_locked(&self, username: &str) -> anyhow::Result<bool> {
        let locked: i64 = sqlx::query_scalar("SELECT locked FROM dir_users WHERE username = $1")
            .bind(username)
            .fetch_one(&self.db().await?)
            .await?;
        Ok(locked != 0)
    }
}

impl TestServer {
    /// Stops the server as an operator does (SIGTERM): it finishes, commits what it
    /// batched, and exits.
    pub fn stop(&mut self) -> anyhow::Result<()> {
        let pid = nix::unistd::Pid::from_raw(i32::try_from(self.child.id())?);
        nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM)?;
        let deadline = Instant::now() + Duration::from_secs(20);
        while self.child.try_wait()?.is_none() {
            anyhow::ensure!(
                Instant::now() < deadline,
                "the server did not stop within 20 s"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(())
    }

    /// Stops the server at once, as a crash or a network cut would look to its clients.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::env::var_os("SSPR_KEEP_TEST_DATA").is_none() {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}
