//! Persistence, on one of two engines (`Engine`): SQLite (one file, WAL, the default and
//! the demo) through rusqlite on the calling thread, or PostgreSQL (issue 17) through
//! sqlx's pool, for several server processes on one database. The server keeps only
//! registrations, flows, challenges, throttles, kiosks and audit; the directory keeps the
//! users (the built-in directory keeps them here too).
//!
//! SQLite: one connection writes and a few read (`db`): SQLite allows one writer at a
//! time, and writers racing on several connections sleep in SQLite's busy handler
//! (milliseconds at a time). Statements run on the request's own thread: handing each to
//! a worker thread and back cost far more than running it. Audit rows, signature nonces
//! and new flows go through a batching writer (`batch`) whose commits many requests
//! share, and the WAL is checkpointed in the background, never inside a request's commit.
//!
//! PostgreSQL: each operation is one statement or one transaction on a pooled
//! connection, awaited (a round trip to another machine must not hold a runtime thread).
//! Nothing is kept in memory that another process would need: a signature nonce is a
//! unique row, refused by the database across processes.
//!
//! Why an enum and not a trait: every operation keeps the SQL of both engines side by
//! side in one function (`match &self.engine`), so a reader and a reviewer see both
//! statements at once and a change to one is seen beside the other; the SQLite arm stays
//! exactly the code it was (no boxing, no extra await point, no dynamic dispatch), and a
//! `match` costs nothing measurable beside a statement. Only `backup` (SQLite's
//! `VACUUM INTO`) has no PostgreSQL arm: PostgreSQL is backed up with `pg_dump`.

mod audit;
mod batch;
mod copy;
mod db;
mod flow_events;
mod housekeeper;
mod idempotency;
mod insights;
mod kiosks;
mod nonces;
mod policy;
pub mod postgres;
mod registrations;
mod sessions;
mod throttle;
mod writes;

pub use idempotency::Claim;

pub use audit::{AuditFilter, AuditQuery, AuditRow};
pub use copy::CopiedTable;
pub use db::{Db, StoreError, StoreResult};
pub use flow_events::{StoredEvent, FLOW_EVENTS};
pub use housekeeper::Housekeeper;
pub use insights::FlowEvent;
pub use kiosks::{EnrollAs, EnrollmentCodeRow, KioskRow, KiosksVersion, StagingCode};
pub use policy::PolicyVersion;
pub use registrations::{seal_totp, Registration};
pub use sessions::{Changed as SessionChanged, SessionRow};
pub use writes::WrittenTo;

use std::path::{Path, PathBuf};
use std::sync::Arc;

/// One file of `migrations/` (`NNNN_words.sql`): its version, sqlx's description of it
/// (the words), and its text.
macro_rules! migration {
    ($version:literal, $description:literal, $file:literal) => {
        db::Migration {
            version: $version,
            description: $description,
            sql: include_str!(concat!("../../migrations/", $file, ".sql")),
        }
    };
}

/// The files of `migrations/`, in order (see `db::Migration`; a test checks the list).
const MIGRATIONS: &[db::Migration] = &[
    migration!(1, "init", "0001_init"),
    migration!(3, "flow writes", "0003_flow_writes"),
    migration!(4, "nonces append only", "0004_nonces_append_only"),
    migration!(5, "audit indexes", "0005_audit_indexes"),
    migration!(
        6,
        "flow references not unique",
        "0006_flow_references_not_unique"
    ),
    migration!(7, "security info reviews", "0007_security_info_reviews"),
    migration!(8, "kiosk last seen", "0008_kiosk_last_seen"),
    migration!(9, "idempotency", "0009_idempotency"),
    migration!(10, "writes in doubt", "0010_writes_in_doubt"),
    migration!(11, "policy versions", "0011_policy_versions"),
    migration!(12, "audit by event", "0012_audit_by_event"),
    migration!(13, "kiosk version", "0013_kiosk_version"),
    migration!(14, "challenge delivery", "0014_challenge_delivery"),
    migration!(15, "enrollment codes", "0015_enrollment_codes"),
    migration!(16, "nonces once", "0016_nonces_once"),
    migration!(17, "challenge order", "0017_challenge_order"),
    migration!(18, "web sessions", "0018_web_sessions"),
    migration!(19, "flow events", "0019_flow_events"),
];

#[derive(Clone)]
pub struct Store {
    engine: Engine,
    /// Bumped by revocations and enrollments in this process.
    kiosk_generation: Arc<std::sync::atomic::AtomicU64>,
}

/// The database a store runs on (see the module's comment for why an enum).
#[derive(Clone)]
pub(crate) enum Engine {
    Sqlite(Sqlite),
    Postgres(sqlx::PgPool),
}

/// The SQLite store's parts.
#[derive(Clone)]
pub(crate) struct Sqlite {
    pub(crate) db: Arc<Db>,
    batch: batch::Batcher,
    nonces: Arc<nonces::Nonces>,
    /// Touched (replaced) whenever a kiosk is revoked, so a running server in another
    /// process notices at once; None for a store without a file.
    kiosk_signal: Option<PathBuf>,
}

impl Store {
    /// Opens (and creates) the SQLite store at a URL such as
    /// `sqlite:///var/lib/sspr/sspr.db` (`open_any` opens either engine).
    pub async fn open(url: &str) -> anyhow::Result<Store> {
        anyhow::ensure!(
            !postgres::is_postgres_url(url),
            "store.url names PostgreSQL, which this command does not use: it works on a \
             sqlite:// store"
        );
        let path = db::parse_url(url)?;
        if let Some(path) = &path {
            keep_private(path)?;
        }
        let kiosk_signal = path.as_deref().map(kiosks::signal_path);
        let db = Db::open(path).map_err(|e| anyhow::anyhow!("opening the store {url:?}: {e}"))?;
        let db = Arc::new(db);
        Ok(Store {
            engine: Engine::Sqlite(Sqlite {
                batch: batch::Batcher::start(db.clone()),
                db,
                nonces: Arc::default(),
                kiosk_signal,
            }),
            kiosk_generation: Arc::default(),
        })
    }

    /// Opens the PostgreSQL store at `url` (libpq's options; the password from
    /// `password_file`, else as libpq finds it), migrated. The database must answer now:
    /// what is wrong is said in words an operator acts on, never with the password.
    pub async fn open_postgres(url: &str, password_file: Option<&Path>) -> anyhow::Result<Store> {
        let pool = postgres::open(url, password_file).await?;
        Ok(Store {
            engine: Engine::Postgres(pool),
            kiosk_generation: Arc::default(),
        })
    }

    /// The store `url` names, on either engine (the password file for PostgreSQL only).
    pub async fn open_any(url: &str, password_file: Option<&Path>) -> anyhow::Result<Store> {
        if postgres::is_postgres_url(url) {
            Store::open_postgres(url, password_file).await
        } else {
            Store::open(url).await
        }
    }

    pub(crate) fn engine(&self) -> &Engine {
        &self.engine
    }

    /// The SQLite store's parts, for the SQLite arm of an operation (an error on
    /// PostgreSQL, where no such arm is reached).
    pub(crate) fn sqlite(&self) -> StoreResult<&Sqlite> {
        match &self.engine {
            Engine::Sqlite(s) => Ok(s),
            Engine::Postgres(_) => Err(StoreError::Other(
                "a SQLite statement was reached on a PostgreSQL store".into(),
            )),
        }
    }

    pub async fn migrate(&self) -> anyhow::Result<()> {
        match &self.engine {
            Engine::Sqlite(s) => {
                s.db.migrate(MIGRATIONS)
                    .map_err(|e| anyhow::anyhow!("migrating the store: {e}"))
            }
            Engine::Postgres(pool) => postgres::migrate_pool(pool).await,
        }
    }

    pub async fn ping(&self) -> bool {
        match &self.engine {
            Engine::Sqlite(s) => {
                s.db.read(|c| c.query_row("SELECT 1", [], |_| Ok(())))
                    .is_ok()
            }
            Engine::Postgres(pool) => sqlx::query("SELECT 1").execute(pool).await.is_ok(),
        }
    }

    /// The SQLite connections (for the built-in directory's statements).
    pub fn db(&self) -> StoreResult<&Db> {
        Ok(&self.sqlite()?.db)
    }

    /// Runs `f` in the next batched transaction (see `batch`) and returns its value once
    /// it is committed. Every write of a request goes this way: many requests share one
    /// commit, and no request's thread ever waits for the writing connection (a commit
    /// that stalls on the disk would hold that runtime thread and every task on it).
    pub(crate) async fn write_batched<T: Send + 'static>(
        &self,
        f: impl FnOnce(&rusqlite::Connection) -> rusqlite::Result<T> + Send + 'static,
    ) -> StoreResult<T> {
        let (done, committed) = tokio::sync::oneshot::channel();
        let (value_in, value_out) = tokio::sync::oneshot::channel();
        let stopped = || StoreError::Other("the store's writer stopped".into());
        let job = move |c: &rusqlite::Connection| {
            let value = f(c)?;
            let _ = value_in.send(value);
            Ok(())
        };
        self.sqlite()?
            .batch
            .send(batch::Job::Write(Box::new(job), done))
            .await
            .map_err(|_| stopped())?;
        // The value only counts once the transaction holding it committed.
        committed.await.map_err(|_| stopped())??;
        value_out.await.map_err(|_| stopped())
    }

    /// Waits until every audit row and nonce handed over so far is committed. Call before
    /// the process exits.
    pub async fn flush(&self) {
        // PostgreSQL: each write is committed before its call returns.
        if let Engine::Sqlite(s) = &self.engine {
            s.batch.flush().await;
        }
    }

    /// Copies the WAL into the database file without blocking the writer. With
    /// `wal_autocheckpoint` off, the server calls this in the background.
    pub async fn checkpoint(&self) -> StoreResult<()> {
        // Copying pages takes milliseconds: on a blocking thread, not a request's.
        // PostgreSQL checkpoints by itself.
        let Engine::Sqlite(s) = &self.engine else {
            return Ok(());
        };
        let db = s.db.clone();
        tokio::task::spawn_blocking(move || db.checkpoint())
            .await
            .map_err(|e| StoreError::Other(format!("checkpointing: {e}")))?
    }
}

#[cfg(test)]
mod tests;

/// Creates the store's file readable by its owner only (it holds authenticator secrets
/// and who registered what), and takes away what every user of the machine could read of
/// an existing one, its WAL and shared-memory files too (SQLite gives those the store's
/// own permissions when it makes them).
#[cfg(unix)]
fn keep_private(path: &std::path::Path) -> anyhow::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    match private_new_file(path) {
        Ok(()) => return Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(e) => anyhow::bail!("creating the store {}: {e}", path.display()),
    }
    let suffixed = |suffix: &str| {
        let mut name = path.as_os_str().to_owned();
        name.push(suffix);
        PathBuf::from(name)
    };
    for file in [path.to_path_buf(), suffixed("-wal"), suffixed("-shm")] {
        let Ok(meta) = std::fs::metadata(&file) else {
            continue;
        };
        let mode = meta.permissions().mode();
        if mode & 0o007 != 0 {
            std::fs::set_permissions(&file, std::fs::Permissions::from_mode(mode & !0o007))
                .map_err(|e| anyhow::anyhow!("making {} private: {e}", file.display()))?;
            tracing::warn!(
                file = %file.display(),
                "every user of this machine could read the store; that is taken away"
            );
        }
    }
    Ok(())
}

#[cfg(not(unix))]
fn keep_private(_path: &std::path::Path) -> anyhow::Result<()> {
    Ok(())
}

/// A new, empty file only its owner may read or write; fails if `path` exists.
fn private_new_file(path: &std::path::Path) -> std::io::Result<()> {
    crate::secret::create_private(path).map(drop)
}

/// What a backup holds, counted in the copy itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupSummary {
    pub bytes: u64,
    pub kiosks: i64,
    pub registrations: i64,
    pub audit_rows: i64,
}

impl Store {
    /// The file a store URL names; None for a store in memory.
    pub fn file_of(url: &str) -> anyhow::Result<Option<PathBuf>> {
        db::parse_url(url)
    }

    /// Writes a consistent copy of the store to `to` (SQLite's `VACUUM INTO`: a snapshot
    /// taken in one read transaction, so a server writing meanwhile is no trouble), then
    /// opens the copy and checks it. `to` must not exist: nothing is ever overwritten.
    pub async fn backup_to(&self, to: &std::path::Path) -> anyhow::Result<BackupSummary> {
        anyhow::ensure!(
            self.plain_totp().await? == 0,
            "this store still holds authenticator secrets in the plain (from before they \
             were sealed): start the server once, which seals them, then back up"
        );
        // Made here, owner-only (VACUUM INTO fills an empty file): a copy is as secret as
        // the store, and an existing file is never written over.
        private_new_file(to).map_err(|e| match e.kind() {
            std::io::ErrorKind::AlreadyExists => anyhow::anyhow!(
                "{} exists already; a backup never overwrites a file (choose a new name)",
                to.display()
            ),
            _ => anyhow::anyhow!("creating the backup {}: {e}", to.display()),
        })?;
        let written = self.write_backup(to);
        if written.is_err() {
            // Half a copy is no backup, and would stand in the way of the next try.
            let _ = std::fs::remove_file(to);
        }
        written
    }

    fn write_backup(&self, to: &std::path::Path) -> anyhow::Result<BackupSummary> {
        let target = to
            .to_str()
            .ok_or_else(|| anyhow::anyhow!("{}: the path must be UTF-8", to.display()))?
            .to_owned();
        self.db()?
            .read(|c| c.execute("VACUUM INTO ?", [&target]))
            .map_err(|e| anyhow::anyhow!("writing the backup to {}: {e}", to.display()))?;
        let checking =
            |e: rusqlite::Error| anyhow::anyhow!("checking the backup {}: {e}", to.display());
        let copy =
            rusqlite::Connection::open_with_flags(to, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
                .map_err(checking)?;
        let ok: String = copy
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .map_err(checking)?;
        anyhow::ensure!(ok == "ok", "checking the backup {}: {ok}", to.display());
        let count = |table: &str| -> anyhow::Result<i64> {
            copy.query_row(&format!("SELECT COUNT(*) FROM {table}"), [], |r| r.get(0))
                .map_err(checking)
        };
        Ok(BackupSummary {
            bytes: std::fs::metadata(to).map(|m| m.len()).unwrap_or(0),
            kiosks: count("kiosks")?,
            registrations: count("registrations")?,
            audit_rows: count("audit")?,
        })
    }
}
