//! A real PostgreSQL (Debian's `postgresql`, the version under /usr/lib/postgresql) for
//! black-box tests, on loopback only: `initdb -N` in a temp folder owned by the package's
//! `postgres` user (it refuses to run as root), the postmaster in the foreground under
//! `setpriv` so the kit owns its PID, a random scram-sha-256 password from a file, and TLS
//! with its own certificate. [`Postgres::shared`] starts one per test process; each test
//! takes a fresh database of its own ([`Postgres::create_database`]). Fixtures use `psql`,
//! a client independent of the server's driver. Needs `./run test`'s packages.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use nix::sys::signal::Signal;

use crate::dirs::process::{self, Daemon};
use crate::dirs::{random_string, self_signed_cert, temp_folder};

/// The database superuser the kit connects as (and the servers under test, for now).
pub const USER: &str = "postgres";

/// A running PostgreSQL; stopped and its folder removed when dropped (or, for the shared
/// one, when the test process ends).
pub struct Postgres {
    /// Its port on 127.0.0.1.
    pub port: u16,
    /// A file whose first line is the password of [`USER`] (`store.password_file`).
    pub password_file: PathBuf,
    /// The certificate to trust for `sslmode=verify-full` (self-signed, IP:127.0.0.1).
    pub ca_file: PathBuf,
    /// The cluster's folder (data, socket, log, certificate).
    pub dir: PathBuf,
    password: String,
    daemon: Daemon,
    args: Vec<String>,
    next_database: AtomicU32,
}

static SHARED: OnceLock<Result<Postgres, String>> = OnceLock::new();

impl Postgres {
    /// The PostgreSQL shared by this test process, started on first use. Tests sharing it
    /// each take their own database.
    pub fn shared() -> anyhow::Result<&'static Postgres> {
        SHARED
            .get_or_init(|| Postgres::start().map_err(|e| format!("{e:#}")))
            .as_ref()
            .map_err(|e| anyhow::anyhow!("starting the shared PostgreSQL: {e}"))
    }

    /// A private PostgreSQL on a fresh port (for tests that stop it), ready for queries.
    pub fn start() -> anyhow::Result<Postgres> {
        let bin = server_bin_dir()?;
        let dir = temp_folder("postgres")?;
        let (uid, gid) = postgres_user()?;
        let (cert, key) = self_signed_cert(&dir, "127.0.0.1", &["localhost"])?;
        let password = random_string(24);
        let password_file = dir.join("password");
        std::fs::write(&password_file, format!("{password}\n"))
            .context("writing the password file")?;
        for path in [&dir, &password_file, &cert, &key] {
            nix::unistd::chown(path, Some(uid), Some(gid))
                .with_context(|| format!("giving {} to postgres", path.display()))?;
        }
        let data = dir.join("data");
        let initdb = Command::new("runuser")
            .args(["-u", USER, "--"])
            .arg(bin.join("initdb"))
            .arg("-D")
            .arg(&data)
            .args([
                "-U",
                USER,
                "--auth=scram-sha-256",
                "-N",
                "--no-locale",
                "-E",
                "UTF8",
            ])
            .arg(format!("--pwfile={}", password_file.display()))
            .output()
            .context("running initdb")?;
        anyhow::ensure!(
            initdb.status.success(),
            "initdb failed: {}",
            String::from_utf8_lossy(&initdb.stderr)
        );

        let port = crate::free_port()?;
        let postgres = bin.join("postgres");
        let args: Vec<String> = [
            "--pdeathsig",
            "keep",
            "--reuid",
            USER,
            "--regid",
            USER,
            "--init-groups",
            "--",
            path_str(&postgres)?,
            "-D",
            path_str(&data)?,
            "-p",
            &port.to_string(),
            "-k",
            path_str(&dir)?,
            "-c",
            "listen_addresses=127.0.0.1",
            "-c",
            "ssl=on",
            "-c",
            &format!("ssl_cert_file={}", path_str(&cert)?),
            "-c",
            &format!("ssl_key_file={}", path_str(&key)?),
            // A throwaway cluster: no waiting for the disk.
            "-c",
            "fsync=off",
            "-c",
            "synchronous_commit=off",
            // Each connection's user, database and TLS in the log, for tests to check.
            "-c",
            "log_connections=on",
        ]
        .into_iter()
        .map(String::from)
        .collect();
        let arg_refs: Vec<&str> = args.iter().map(String::as_str).collect();
        let daemon = Daemon::start(
            "postgres",
            "setpriv",
            &arg_refs,
            &dir.join("postgres.log"),
            false,
        )?;
        let pg = Postgres {
            port,
            password_file,
            ca_file: cert,
            dir,
            password,
            daemon,
            args,
            next_database: AtomicU32::new(1),
        };
        pg.wait_ready()?;
        Ok(pg)
    }

    /// Waits until a query answers (the postmaster accepts connections ~0.2 s after it
    /// starts on this machine).
    fn wait_ready(&self) -> anyhow::Result<()> {
        let started = Instant::now();
        loop {
            if let Some(status) = self.daemon.exited() {
                anyhow::bail!("postgres exited ({status}): {}", self.daemon.log_tail(20));
            }
            if self.psql("postgres", "SELECT 1").is_ok() {
                return Ok(());
            }
            anyhow::ensure!(
                started.elapsed() < Duration::from_secs(30),
                "postgres did not answer within 30 s: {}",
                self.daemon.log_tail(20)
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// A new, empty database of its own (owned by [`USER`]); returns its name.
    pub fn create_database(&self) -> anyhow::Result<String> {
        let name = format!(
            "t{}_{}",
            self.next_database.fetch_add(1, Ordering::Relaxed),
            random_string(8).to_lowercase()
        );
        self.psql("postgres", &format!("CREATE DATABASE {name}"))?;
        Ok(name)
    }

    /// A URL with the password, for the kit's own pool (never a server's configuration).
    pub fn url_with_password(&self, database: &str) -> String {
        format!(
            "postgres://{USER}:{}@127.0.0.1:{}/{database}",
            self.password, self.port
        )
    }

    /// `store.url` for `database`, without the password (that is in `password_file`).
    pub fn url(&self, database: &str) -> String {
        format!("postgres://{USER}@127.0.0.1:{}/{database}", self.port)
    }

    /// The `[store]` section for `database`: the URL with TLS checked against the
    /// cluster's certificate, and the password file.
    pub fn store_settings(&self, database: &str) -> String {
        format!(
            "[store]\nurl = \"{}?sslmode=verify-full&sslrootcert={}\"\npassword_file = \"{}\"\n",
            self.url(database),
            self.ca_file.display(),
            self.password_file.display()
        )
    }

    /// Runs `sql` in `database` with psql; its rows, one a line, fields split by `|`.
    pub fn psql(&self, database: &str, sql: &str) -> anyhow::Result<String> {
        let out = Command::new("psql")
            .env("PGPASSWORD", &self.password)
            .env("PGCONNECT_TIMEOUT", "5")
            .args(["-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1"])
            .args(["-h", "127.0.0.1", "-p", &self.port.to_string()])
            .args(["-U", USER, "-d", database, "-c", sql])
            .output()
            .context("running psql")?;
        anyhow::ensure!(
            out.status.success(),
            "psql {sql:?} failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        );
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
    }

    /// Everything `database` holds, as `pg_dump` writes it (schema and rows, as text).
    pub fn dump(&self, database: &str) -> anyhow::Result<Vec<u8>> {
        let out = Command::new(server_bin_dir()?.join("pg_dump"))
            .env("PGPASSWORD", &self.password)
            .args(["-h", "127.0.0.1", "-p", &self.port.to_string()])
            .args(["-U", USER, "-d", database])
            .output()
            .context("running pg_dump")?;
        anyhow::ensure!(
            out.status.success(),
            "pg_dump failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        );
        Ok(out.stdout)
    }

    /// What the postmaster has logged so far (connections included).
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.daemon.log).unwrap_or_default()
    }

    /// Stops PostgreSQL (SIGINT: a fast shutdown) and waits until it is gone. For private
    /// instances.
    pub fn stop(&self) {
        self.daemon
            .stop_with(Signal::SIGINT, Duration::from_secs(10));
    }

    /// Starts a stopped PostgreSQL again on the same port with the same data.
    pub fn restart(&self) -> anyhow::Result<()> {
        let args: Vec<&str> = self.args.iter().map(String::as_str).collect();
        self.daemon.restart("setpriv", &args, false)?;
        self.wait_ready()
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        self.stop();
        if !process::keep_data() {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

/// The newest PostgreSQL's server programs (Debian keeps them off PATH).
fn server_bin_dir() -> anyhow::Result<PathBuf> {
    let root = Path::new("/usr/lib/postgresql");
    let newest = std::fs::read_dir(root)
        .with_context(|| {
            format!(
                "{} is missing: install postgresql (./run test does)",
                root.display()
            )
        })?
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .max()
        .with_context(|| format!("no PostgreSQL version under {}", root.display()))?;
    Ok(root.join(newest.to_string()).join("bin"))
}

/// The package's `postgres` user and group.
fn postgres_user() -> anyhow::Result<(nix::unistd::Uid, nix::unistd::Gid)> {
    let user = nix::unistd::User::from_name(USER)
        .context("looking up the postgres user")?
        .context("there is no postgres user: install postgresql (./run test does)")?;
    Ok((user.uid, user.gid))
}

fn path_str(p: &Path) -> anyhow::Result<&str> {
    p.to_str()
        .with_context(|| format!("{} is not UTF-8", p.display()))
}
