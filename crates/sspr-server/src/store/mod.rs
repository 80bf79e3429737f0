//! Persistence: sqlx over SQLite (one file, WAL). The server keeps only registrations,
//! flows, challenges, throttles, kiosks and audit; the directory keeps the users.

mod audit;
mod flows;
mod kiosks;
mod registrations;
mod throttle;
mod writes;

pub use audit::{AuditQuery, AuditRow};
pub use flows::{ChallengeRow, FlowMethod, FlowRow};
pub use kiosks::KioskRow;
pub use registrations::Registration;

use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::SqlitePool;

pub type StoreResult<T> = Result<T, sqlx::Error>;

#[derive(Clone)]
pub struct Store {
    pool: SqlitePool,
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
            .foreign_keys(true);
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options)
            .await
            .map_err(|e| anyhow::anyhow!("opening the store {url:?}: {e}"))?;
        Ok(Store { pool })
    }

    pub async fn migrate(&self) -> anyhow::Result<()> {
        sqlx::migrate!("./migrations")
            .run(&self.pool)
            .await
            .map_err(|e| anyhow::anyhow!("migrating the store: {e}"))
    }

    pub async fn ping(&self) -> bool {
        sqlx::query("SELECT 1").execute(&self.pool).await.is_ok()
    }

    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }
}
