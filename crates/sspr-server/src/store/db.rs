//! SQLite on the calling thread: one writing connection behind a mutex and a few reading
//! connections, each statement prepared once per connection (`prepare_cached`). A
//! statement here takes microseconds, far less than handing it to another thread and
//! back, so async callers run it in place.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use rusqlite::{Connection, OpenFlags, TransactionBehavior};
use sha2::{Digest, Sha384};

pub type StoreResult<T> = Result<T, StoreError>;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(transparent)]
    Sqlite(#[from] rusqlite::Error),
    #[error("{0}")]
    Other(String),
}

/// Reading connections kept open (more are opened while all of these are busy, and closed
/// after). Statements don't yield, so no more run at once than there are threads.
const READERS: usize = 4;
/// Statements each connection keeps prepared.
const STATEMENTS: usize = 64;

pub struct Db {
    writer: Mutex<Connection>,
    readers: Mutex<Vec<Connection>>,
    /// None for an in-memory store, where the writer reads too (its data is its own).
    path: Option<PathBuf>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic can't leave a connection half-used: a transaction rolls back on drop.
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Runs a statement that may answer with a row (most PRAGMAs do), ignoring the row.
fn run(conn: &Connection, sql: &str) -> rusqlite::Result<()> {
    let mut stmt = conn.prepare(sql)?;
    let mut rows = stmt.query([])?;
    while rows.next()?.is_some() {}
    Ok(())
}

fn configure(conn: &Connection) -> rusqlite::Result<()> {
    conn.busy_timeout(Duration::from_secs(10))?;
    run(conn, "PRAGMA journal_mode = WAL")?;
    run(conn, "PRAGMA synchronous = NORMAL")?;
    run(conn, "PRAGMA foreign_keys = ON")?;
    // Checkpoints run in the background (`Store::checkpoint`), not in a request's commit.
    run(conn, "PRAGMA wal_autocheckpoint = 0")?;
    conn.set_prepared_statement_cache_capacity(STATEMENTS);
    Ok(())
}

fn open_file(path: &Path) -> rusqlite::Result<Connection> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    configure(&conn)?;
    Ok(conn)
}

/// The file a sqlx-style URL names (`sqlite://FILE`, `sqlite:///abs/FILE`, `sqlite:FILE`,
/// options after `?` ignored), or None for an in-memory store.
pub(super) fn parse_url(url: &str) -> anyhow::Result<Option<PathBuf>> {
    let rest = url
        .strip_prefix("sqlite:")
        .ok_or_else(|| anyhow::anyhow!("store.url {url:?}: not a sqlite: URL"))?;
    let rest = rest.strip_prefix("//").unwrap_or(rest);
    let (file, query) = rest.split_once('?').unwrap_or((rest, ""));
    if file.is_empty() || file == ":memory:" || query.split('&').any(|o| o == "mode=memory") {
        return Ok(None);
    }
    Ok(Some(PathBuf::from(file)))
}

impl Db {
    pub(super) fn open(path: Option<PathBuf>) -> rusqlite::Result<Db> {
        let writer = match &path {
            Some(path) => open_file(path)?,
            None => {
                let conn = Connection::open_in_memory()?;
                configure(&conn)?;
                conn
            }
        };
        Ok(Db {
            writer: Mutex::new(writer),
            readers: Mutex::default(),
            path,
        })
    }

    /// Runs `f` on the writing connection (one caller at a time).
    pub fn write<T>(&self, f: impl FnOnce(&Connection) -> rusqlite::Result<T>) -> StoreResult<T> {
        let conn = lock(&self.writer);
        Ok(f(&conn)?)
    }

    /// Runs `f` in one transaction on the writing connection; rolled back when it fails.
    pub fn transaction<T>(
        &self,
        f: impl FnOnce(&Connection) -> rusqlite::Result<T>,
    ) -> StoreResult<T> {
        let mut conn = lock(&self.writer);
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let value = f(&tx)?;
        tx.commit()?;
        Ok(value)
    }

    /// Runs `f` on a reading connection; it sees every write committed before it starts.
    pub fn read<T>(&self, f: impl FnOnce(&Connection) -> rusqlite::Result<T>) -> StoreResult<T> {
        let Some(path) = &self.path else {
            return self.write(f);
        };
        let idle = lock(&self.readers).pop();
        let conn = match idle {
            Some(conn) => conn,
            None => open_file(path)?,
        };
        let value = f(&conn);
        let mut readers = lock(&self.readers);
        if readers.len() < READERS {
            readers.push(conn);
        }
        Ok(value?)
    }

    /// Applies the migrations not applied yet, bookkept in sqlx's `_sqlx_migrations` table
    /// (same versions, descriptions and checksums), so a store migrated by either works
    /// with the other.
    pub(super) fn migrate(&self, migrations: &[Migration]) -> anyhow::Result<()> {
        let conn = lock(&self.writer);
        conn.execute_batch(
            "CREATE TABLE IF NOT EXISTS _sqlx_migrations (
                version BIGINT PRIMARY KEY,
                description TEXT NOT NULL,
                installed_on TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
                success BOOLEAN NOT NULL,
                checksum BLOB NOT NULL,
                execution_time BIGINT NOT NULL
            );",
        )?;
        let applied: Vec<(i64, bool, Vec<u8>)> = conn
            .prepare("SELECT version, success, checksum FROM _sqlx_migrations ORDER BY version")?
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
            .collect::<rusqlite::Result<_>>()?;
        for (version, success, checksum) in &applied {
            anyhow::ensure!(
                *success,
                "migration {version} was left partly applied (dirty)"
            );
            let Some(m) = migrations.iter().find(|m| m.version == *version) else {
                anyhow::bail!("migration {version} was applied but is not known to this server");
            };
            anyhow::ensure!(
                m.checksum().as_slice() == checksum.as_slice(),
                "migration {version} was applied but has been modified"
            );
        }
        drop(conn);
        for m in migrations {
            if applied.iter().any(|(v, ..)| *v == m.version) {
                continue;
            }
            let started = Instant::now();
            self.transaction(|tx| {
                tx.execute_batch(m.sql)?;
                tx.execute(
                    "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time)
                     VALUES (?, ?, TRUE, ?, -1)",
                    rusqlite::params![m.version, m.description, m.checksum()],
                )?;
                Ok(())
            })
            .map_err(|e| anyhow::anyhow!("migration {} ({}): {e}", m.version, m.description))?;
            let nanos = i64::try_from(started.elapsed().as_nanos()).unwrap_or(i64::MAX);
            self.write(|c| {
                c.execute(
                    "UPDATE _sqlx_migrations SET execution_time = ? WHERE version = ?",
                    rusqlite::params![nanos, m.version],
                )
            })?;
        }
        Ok(())
    }
}

/// One file of `migrations/`: `NNNN_words_here.sql` is version NNNN, "words here".
pub(super) struct Migration {
    pub version: i64,
    pub description: &'static str,
    pub sql: &'static str,
}

impl Migration {
    /// What sqlx keeps to notice an applied migration's file changed: SHA-384 of the SQL.
    fn checksum(&self) -> Vec<u8> {
        Sha384::digest(self.sql.as_bytes()).to_vec()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        let p = |u: &str| parse_url(u).unwrap();
        assert_eq!(
            p("sqlite:///var/lib/sspr/sspr.db"),
            Some("/var/lib/sspr/sspr.db".into())
        );
        assert_eq!(p("sqlite://sspr.db"), Some("sspr.db".into()));
        assert_eq!(p("sqlite:sspr.db?mode=rwc"), Some("sspr.db".into()));
        assert_eq!(p("sqlite::memory:"), None);
        assert_eq!(p("sqlite://file?mode=memory"), None);
        assert!(parse_url("postgres://x").is_err());
    }
}
