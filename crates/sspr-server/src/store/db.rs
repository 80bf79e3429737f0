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
    /// PostgreSQL's (sqlx's) errors name no password: the connection options never reach
    /// their text.
    #[error(transparent)]
    Postgres(#[from] sqlx::Error),
    /// The store's disk (or quota) is full: nothing was written.
    #[error("the store's disk is full: {0}")]
    Full(String),
    #[error("{0}")]
    Other(String),
}

impl StoreError {
    /// Whether the write failed for want of space (SQLITE_FULL), however it was passed on.
    pub fn is_full(&self) -> bool {
        match self {
            StoreError::Full(_) => true,
            StoreError::Sqlite(rusqlite::Error::SqliteFailure(e, _)) => {
                e.code == rusqlite::ErrorCode::DiskFull
            }
            // disk_full
            StoreError::Postgres(sqlx::Error::Database(e)) => e.code().as_deref() == Some("53100"),
            _ => false,
        }
    }

    /// Whether the database couldn't be reached or went away (PostgreSQL stopped, the
    /// network down, no connection free within the pool's wait): nothing was done, and
    /// the same request may well succeed in a moment.
    pub fn is_unavailable(&self) -> bool {
        match self {
            StoreError::Postgres(e) => match e {
                sqlx::Error::PoolTimedOut
                | sqlx::Error::PoolClosed
                | sqlx::Error::Io(_)
                | sqlx::Error::Tls(_)
                | sqlx::Error::WorkerCrashed => true,
                // connection_exception (08…), too_many_connections, admin_shutdown,
                // crash_shutdown, cannot_connect_now.
                sqlx::Error::Database(db) => db.code().is_some_and(|c| {
                    c.starts_with("08") || matches!(&*c, "53300" | "57P01" | "57P02" | "57P03")
                }),
                _ => false,
            },
            _ => false,
        }
    }

    /// The same failure, passed on to a caller that shared the commit.
    pub fn shared(&self, what: &str) -> StoreError {
        if self.is_full() {
            StoreError::Full(format!("{what}: {self}"))
        } else {
            StoreError::Other(format!("{what}: {self}"))
        }
    }
}

/// Reading connections kept open (more are opened while all of these are busy, and closed
/// after). Statements don't yield, so no more run at once than there are threads.
const READERS: usize = 4;
/// Statements each connection keeps prepared.
const STATEMENTS: usize = 64;

pub struct Db {
    writer: Mutex<Connection>,
    /// Set by each background checkpoint, taken by the writer (`restart_wal`).
    checkpointed: std::sync::atomic::AtomicBool,
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

/// How long a statement waits for another process's lock (an admin command's write).
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);
/// Frames (pages) a checkpoint may leave for `restart_wal` to copy: about a megabyte.
const RESTART_AFTER_LEFT: i64 = 256;
/// The WAL file is cut back to this after it starts over (it grows under a burst).
const WAL_KEEP_BYTES: i64 = 64 * 1024 * 1024;

fn configure(conn: &Connection) -> rusqlite::Result<()> {
    conn.busy_timeout(BUSY_TIMEOUT)?;
    run(conn, "PRAGMA journal_mode = WAL")?;
    run(conn, "PRAGMA synchronous = NORMAL")?;
    run(conn, "PRAGMA foreign_keys = ON")?;
    // Checkpoints run in the background (`Store::checkpoint`), not in a request's commit.
    run(conn, "PRAGMA wal_autocheckpoint = 0")?;
    run(
        conn,
        &format!("PRAGMA journal_size_limit = {WAL_KEEP_BYTES}"),
    )?;
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
        // Not shown: a URL of another engine may hold a password.
        .ok_or_else(|| anyhow::anyhow!("store.url: not a sqlite: URL"))?;
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
            checkpointed: Default::default(),
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

    /// Copies the WAL into the database file, waiting for nobody and on a reading
    /// connection, so the writer goes on meanwhile (the store's background task).
    pub fn checkpoint(&self) -> StoreResult<()> {
        let (frames, copied): (i64, i64) = self.read(|c| {
            c.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| {
                Ok((r.get(1)?, r.get(2)?))
            })
        })?;
        // Only when (nearly) everything was copied: else a restart would copy the rest
        // itself, holding the writer meanwhile.
        if frames - copied <= RESTART_AFTER_LEFT {
            self.checkpointed
                .store(true, std::sync::atomic::Ordering::Release);
        }
        Ok(())
    }

    /// Whether a background checkpoint finished since the last call.
    pub fn checkpointed(&self) -> bool {
        self.checkpointed
            .swap(false, std::sync::atomic::Ordering::AcqRel)
    }

    /// Lets the WAL start over from its beginning. The background checkpoints copy the
    /// WAL into the database, but under a steady load some reader always holds on to it
    /// and it is never reset: it grew to gigabytes in a bench run, and writing that much
    /// made commits stall. This copies what the last checkpoint left (little, right after
    /// one) and resets it, on the writing connection (so no writer is in the way), waiting
    /// for no reader: when one is busy it does nothing, and the next checkpoint is
    /// followed by another try. True when the WAL was reset.
    pub fn restart_wal(&self) -> StoreResult<bool> {
        if self.path.is_none() {
            return Ok(true);
        }
        let conn = lock(&self.writer);
        conn.busy_timeout(Duration::ZERO)?;
        let result = conn.query_row("PRAGMA wal_checkpoint(RESTART)", [], |r| r.get::<_, i64>(0));
        conn.busy_timeout(BUSY_TIMEOUT)?;
        Ok(result? == 0)
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
                let latest = migrations.last().map(|m| m.version).unwrap_or_default();
                anyhow::ensure!(
                    *version < latest,
                    "the store has a schema newer than this server (migration {version} was \
                     applied; this server knows up to {latest}): run a server at least as new \
                     as the one that migrated it"
                );
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
            // Foreign keys off while a migration runs (they can only change outside a
            // transaction), as SQLite's own steps for remaking a table say: dropping a
            // table that others point at would otherwise delete their rows. Instead, rows
            // pointing nowhere that weren't there before refuse the migration. One lock
            // throughout, so no other write runs with the keys off.
            let mut conn = lock(&self.writer);
            let migrated = (|| -> rusqlite::Result<()> {
                let before = dangling(&conn)?;
                run(&conn, "PRAGMA foreign_keys = OFF")?;
                let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
                tx.execute_batch(m.sql)?;
                let after = dangling(&tx)?;
                let new: Vec<&String> = after.iter().filter(|t| !before.contains(t)).collect();
                if !new.is_empty() {
                    return Err(rusqlite::Error::SqliteFailure(
                        rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_CONSTRAINT_FOREIGNKEY),
                        Some(format!("rows of {new:?} would point at rows that are gone")),
                    ));
                }
                tx.execute(
                    "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time)
                     VALUES (?, ?, TRUE, ?, -1)",
                    rusqlite::params![m.version, m.description, m.checksum()],
                )?;
                tx.commit()
            })();
            let keys_on = run(&conn, "PRAGMA foreign_keys = ON");
            drop(conn);
            migrated
                .and(keys_on)
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

/// Tables with rows whose foreign key points nowhere, with how many ("table: n").
fn dangling(conn: &Connection) -> rusqlite::Result<Vec<String>> {
    conn.prepare(
        "SELECT \"table\" || ': ' || COUNT(*) FROM pragma_foreign_key_check GROUP BY \"table\"",
    )?
    .query_map([], |r| r.get(0))?
    .collect()
}

/// One file of `migrations/`: `NNNN_words_here.sql` is version NNNN, "words here".
#[derive(Clone)]
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

    /// Frames in the WAL now (a checkpoint that copies them reports it).
    fn wal_frames(db: &Db) -> i64 {
        db.read(|c| c.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| r.get(1)))
            .unwrap()
    }

    #[test]
    fn the_wal_starts_over_unless_a_reader_holds_it() {
        let dir = std::env::temp_dir().join(format!("sspr-wal-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let db = Db::open(Some(dir.join("s.db"))).unwrap();
        db.write(|c| c.execute_batch("CREATE TABLE t (v BLOB)"))
            .unwrap();
        let fill = |n: usize| {
            for _ in 0..n {
                db.transaction(|c| {
                    c.execute("INSERT INTO t VALUES (randomblob(3000))", [])
                        .map(|_| ())
                })
                .unwrap();
            }
        };
        fill(200);
        assert!(wal_frames(&db) >= 200);

        // A reader in the middle of a read of an older state: nothing happens, and
        // nothing waits.
        let path = dir.join("s.db");
        let reader = open_file(&path).unwrap();
        reader.execute_batch("BEGIN").unwrap();
        reader
            .query_row("SELECT count(*) FROM t", [], |r| r.get::<_, i64>(0))
            .unwrap();
        fill(1);
        let started = Instant::now();
        assert!(!db.restart_wal().unwrap());
        assert!(started.elapsed() < Duration::from_secs(1));
        reader.execute_batch("COMMIT").unwrap();

        // Nobody reading: the next write goes to the start of the WAL.
        assert!(db.restart_wal().unwrap());
        fill(1);
        assert!(wal_frames(&db) < 10);
        // And ordinary writes still wait for another process's lock as before.
        assert!(
            db.write(|c| c.query_row("PRAGMA busy_timeout", [], |r| r.get::<_, i64>(0)))
                .unwrap()
                >= 10_000
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
