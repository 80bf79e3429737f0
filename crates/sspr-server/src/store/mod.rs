//! Persistence: sqlx over SQLite (one file, WAL). The server keeps only registrations,
//! flows, challenges, throttles, kiosks and audit; the directory keeps the users.
//!
//! One connection writes and a small pool reads: SQLite allows one writer at a time, and
//! writers racing on several connections sleep in SQLite's busy handler (milliseconds at
//! a time). Audit rows and signature nonces go through a batching writer (`batch`), and
//! the WAL is checkpointed in the background, never inside a request's commit.

mod audit;
mod batch;
mod flows;
mod kiosks;
mod registrations;
mod throttle;
mod writes;

pub use audit::{AuditQuery, AuditRow};
pub use flows::{ChallengeRow, FlowMethod, FlowRow};
pub use kiosks::{KioskRow, KiosksVersion};
pub use registrations::Registration;

use std::path::PathBuf;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::SqlitePool;

pub type StoreResult<T> = Result<T, sqlx::Error>;

/// Connections that only read (the writer is one more).
const READERS: u32 = 4;

#[derive(Clone)]
pub struct Store {
    /// The one connection that writes.
    pool: SqlitePool,
    /// Connections for reads; they see every write committed before they start.
    read: SqlitePool,
    batch: batch::Batcher,
    nonces: Arc<kiosks::Nonces>,
    /// Touched (replaced) whenever a kiosk is revoked, so a running server in another
    /// process notices at once; None for a store without a file.
    kiosk_signal: Option<PathBuf>,
    /// Bumped by revocations and enrollments in this process.
    kiosk_generation: Arc<std::sync::atomic::AtomicU64>,
}

impl Store {
    /// Opens (and creates) the store at a sqlx URL such as `sqlite:///var/lib/sspr/sspr.db`.
    pub async fn open(url: &str) -> anyhow::Result<Store> {
        let options = SqliteConnectOptions::from_str(url)
            .map_err(|e| anyhow::anyhow!("store.url {url:?}: {e}"))?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(10))
            .foreign_keys(true)
            // Checkpoints run in the background (`checkpoint`), not in a request's commit.
            .pragma("wal_autocheckpoint", "0");
        let in_memory = options
            .get_filename()
            .to_string_lossy()
            .contains(":memory:")
            || url.contains("mode=memory");
        let kiosk_signal = (!in_memory).then(|| kiosks::signal_path(options.get_filename()));
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options.clone())
            .await
            .map_err(|e| anyhow::anyhow!("opening the store {url:?}: {e}"))?;
        // An in-memory store is one connection's: readers share the writer there.
        let read = if in_memory {
            pool.clone()
        } else {
            SqlitePoolOptions::new()
                .max_connections(READERS)
                .acquire_timeout(Duration::from_secs(10))
                .connect_lazy_with(options)
        };
        Ok(Store {
            batch: batch::Batcher::start(pool.clone()),
            pool,
            read,
            nonces: Arc::default(),
            kiosk_signal,
            kiosk_generation: Arc::default(),
        })
    }

    pub async fn migrate(&self) -> anyhow::Result<()> {
        sqlx::migrate!("./migrations")
            .run(&self.pool)
            .await
            .map_err(|e| anyhow::anyhow!("migrating the store: {e}"))
    }

    pub async fn ping(&self) -> bool {
        sqlx::query("SELECT 1").execute(&self.read).await.is_ok()
    }

    /// The writing connection.
    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    /// Connections for reads (and for the rare write that may wait on the writer, such as
    /// the built-in directory's).
    pub fn read_pool(&self) -> &SqlitePool {
        &self.read
    }

    /// Waits until every audit row and nonce handed over so far is committed. Call before
    /// the process exits.
    pub async fn flush(&self) {
        self.batch.flush().await;
    }

    /// Copies the WAL into the database file without blocking the writer. With
    /// `wal_autocheckpoint` off, the server calls this in the background.
    pub async fn checkpoint(&self) -> StoreResult<()> {
        sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
            .execute(&self.read)
            .await?;
        Ok(())
    }
}
