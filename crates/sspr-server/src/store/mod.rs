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
//! `match` costs nothing measurable beside a statement. An operation not ported yet
//! answers a `StoreError` on PostgreSQL (`Store::sqlite`), and the commands that would
//! reach one refuse a PostgreSQL URL at start (`Store::open_postgres`'s callers).

mod audit;
mod batch;
mod db;
mod idempotency;
mod insights;
mod kiosks;
mod nonces;
mod policy;
pub mod postgres;
mod registrations;
mod throttle;
mod writes;

pub use idempotency::Claim;

pub use audit::{AuditFilter, AuditQuery, AuditRow};
pub use db::{Db, StoreError, StoreResult};
pub use insights::FlowEvent;
pub use kiosks::{EnrollAs, EnrollmentCodeRow, KioskRow, KiosksVersion, StagingCode};
pub use policy::PolicyVersion;
pub use registrations::{seal_totp, Registration};
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
    /// `sqlite:///var/lib/sspr/sspr.db`. A PostgreSQL URL is refused: serving from it is
    /// not finished; the commands whose operations all run there use `open_postgres`.
    pub async fn open(url: &str) -> anyhow::Result<Store> {
        anyhow::ensure!(
            !postgres::is_postgres_url(url),
            "store.url names PostgreSQL, where this version runs `sspr-server migrate`, \
             `kiosk` and `audit` only: serving from it is not finished (issue 17); use a \
             sqlite:// store for now"
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

    /// The store `url` names, on either engine (for the commands whose operations all run
    /// on PostgreSQL).
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

    /// The SQLite store's parts, for an operation that runs on SQLite only so far; on
    /// PostgreSQL an error (no command that reaches one opens a PostgreSQL store).
    pub(crate) fn sqlite(&self) -> StoreResult<&Sqlite> {
        match &self.engine {
            Engine::Sqlite(s) => Ok(s),
            Engine::Postgres(_) => Err(StoreError::Other(
                "this operation runs on SQLite only so far (issue 17)".into(),
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
mod tests {
    use super::*;

    /// A fresh folder of its own for a test's store files.
    fn temp_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("sspr-{name}-{}", crate::secret::random_id()));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    /// The store in `file`, migrated.
    async fn file_store(file: &std::path::Path) -> Store {
        let store = Store::open(&format!("sqlite://{}", file.display()))
            .await
            .unwrap();
        store.migrate().await.unwrap();
        store
    }

    /// Every file of `migrations/` is in `MIGRATIONS`, named as sqlx names it.
    #[test]
    fn migrations_listed() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/migrations");
        let mut files: Vec<(i64, String)> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .filter_map(|name| {
                let stem = name.strip_suffix(".sql")?;
                let (version, words) = stem.split_once('_')?;
                Some((version.parse().ok()?, words.replace('_', " ")))
            })
            .collect();
        files.sort();
        let listed: Vec<(i64, String)> = MIGRATIONS
            .iter()
            .map(|m| (m.version, m.description.to_string()))
            .collect();
        assert_eq!(files, listed);
    }

    /// A store that sqlx migrated (every server before this one) takes our migrations as
    /// applied, and sqlx takes ours: same table, versions and checksums.
    #[tokio::test]
    async fn migrations_agree_with_sqlx() {
        let dir = std::env::temp_dir().join(format!("sspr-migrate-{}", crate::secret::random_id()));
        std::fs::create_dir_all(&dir).unwrap();
        for (i, sqlx_first) in [true, false].into_iter().enumerate() {
            let url = format!("sqlite://{}/store{i}.db", dir.display());
            let by_sqlx = || async {
                let pool = sqlx::SqlitePool::connect(&format!("{url}?mode=rwc"))
                    .await
                    .unwrap();
                sqlx::migrate!("./migrations").run(&pool).await.unwrap();
                pool.close().await;
            };
            if sqlx_first {
                by_sqlx().await;
            }
            let store = Store::open(&url).await.unwrap();
            store.migrate().await.unwrap();
            assert!(store.kiosks().await.unwrap().is_empty());
            drop(store);
            by_sqlx().await;
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// A batched write that fails, or panics, fails alone: the others in the same
    /// transaction land, and the writer goes on.
    #[tokio::test]
    async fn a_failing_batched_write_fails_alone() {
        let store = Store::open("sqlite::memory:").await.unwrap();
        store
            .db()
            .unwrap()
            .write(|c| c.execute_batch("CREATE TABLE t (v INTEGER NOT NULL UNIQUE)"))
            .unwrap();
        let insert = |v: i64| {
            move |c: &rusqlite::Connection| c.execute("INSERT INTO t VALUES (?)", [v]).map(|_| ())
        };
        let (good, duplicate, broken, panics) = tokio::join!(
            store.write_batched(insert(1)),
            store.write_batched(|c| {
                c.execute("INSERT INTO t VALUES (2)", [])?;
                // The second statement fails: the first is undone with it.
                c.execute("INSERT INTO t VALUES (1)", []).map(|_| ())
            }),
            store.write_batched(|c| c.execute("INSERT INTO nowhere VALUES (3)", []).map(|_| ())),
            store.write_batched(|_| -> rusqlite::Result<()> { panic!("a bug in a write") }),
        );
        good.unwrap();
        assert!(duplicate.is_err());
        assert!(broken.is_err());
        assert!(panics.is_err());
        store.write_batched(insert(4)).await.unwrap();
        let values: Vec<i64> = store
            .db()
            .unwrap()
            .read(|c| {
                c.prepare("SELECT v FROM t ORDER BY v")?
                    .query_map([], |r| r.get(0))?
                    .collect()
            })
            .unwrap();
        assert_eq!(values, vec![1, 4]);
    }

    #[tokio::test]
    async fn migrates_twice_and_in_memory() {
        let store = Store::open("sqlite::memory:").await.unwrap();
        store.migrate().await.unwrap();
        store.migrate().await.unwrap();
        assert!(store.ping().await);
        assert!(store.kiosks().await.unwrap().is_empty());
    }

    /// The store and its backups hold authenticator secrets: a new store and every backup
    /// are the owner's alone; an existing store loses what every user could read; a
    /// backup never writes over a file.
    #[cfg(unix)]
    #[tokio::test]
    async fn the_store_and_its_backups_are_private() {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        let dir = temp_dir("private");
        let fresh = dir.join("fresh.db");
        let store = file_store(&fresh).await;
        assert_eq!(mode(&fresh), 0o600);
        let wal = dir.join("fresh.db-wal");
        assert_eq!(
            mode(&wal),
            0o600,
            "SQLite gives the WAL the store's permissions"
        );

        let copy = dir.join("copy.db");
        let summary = store.backup_to(&copy).await.unwrap();
        assert_eq!(mode(&copy), 0o600);
        assert_eq!(summary.kiosks, 0);
        let before = std::fs::read(&copy).unwrap();
        let again = store.backup_to(&copy).await.unwrap_err().to_string();
        assert!(again.contains("exists already"), "{again}");
        assert_eq!(std::fs::read(&copy).unwrap(), before);
        drop(store);

        let old = dir.join("old.db");
        std::fs::write(&old, b"").unwrap();
        std::fs::set_permissions(&old, std::fs::Permissions::from_mode(0o644)).unwrap();
        let store = file_store(&old).await;
        assert_eq!(
            mode(&old),
            0o640,
            "the group keeps its read; others lose theirs"
        );
        drop(store);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// A store from before sealing has its authenticator secrets sealed in place, once;
    /// nothing stores one in the plain again.
    #[tokio::test]
    async fn plain_authenticator_secrets_are_sealed_and_stay_sealed() {
        use sspr_proto::MethodKind;
        let store = Store::open("sqlite::memory:").await.unwrap();
        store.migrate().await.unwrap();
        let key = crate::secret::ServerKey::from_bytes([3; 32]);
        store
            .db()
            .unwrap()
            .write(|c| {
                c.execute(
                    "INSERT INTO registrations (user_id, kind, value, label, created_at)
                     VALUES ('u1', 'totp', 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP', 'App', 1)",
                    [],
                )
            })
            .unwrap();
        assert_eq!(store.seal_plain_totp(&key).await.unwrap(), 1);
        assert_eq!(store.seal_plain_totp(&key).await.unwrap(), 0);
        let regs = store.registrations("u1").await.unwrap();
        assert!(crate::secret::is_sealed(&regs[0].value));
        assert_eq!(
            regs[0]
                .totp_secret(&key)
                .as_ref()
                .map(secrecy::ExposeSecret::expose_secret),
            Some("JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP")
        );
        let plain = store
            .add_registration("u2", MethodKind::Totp, "JBSWY3DPEHPK3PXP", "App", 1)
            .await;
        assert!(plain.is_err());
        assert!(store.registrations("u2").await.unwrap().is_empty());
    }

    /// Sealing an old store leaves no plain secret anywhere in its files: not in free
    /// pages, not in the index, not in the WAL.
    #[tokio::test]
    async fn sealing_an_old_store_leaves_no_plain_secret_in_its_files() {
        let dir = temp_dir("seal");
        let file = dir.join("old.db");
        let store = file_store(&file).await;
        let plain = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";
        store
            .db()
            .unwrap()
            .write(|c| {
                c.execute(
                    "INSERT INTO registrations (user_id, kind, value, label, created_at)
                     VALUES ('u1', 'totp', ?, 'App', 1)",
                    [plain],
                )?;
                c.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
            })
            .unwrap();
        let holds = |name: &str| {
            std::fs::read(dir.join(name))
                .map(|b| b.windows(plain.len()).any(|w| w == plain.as_bytes()))
                .unwrap_or(false)
        };
        assert!(holds("old.db"), "the test's secret reached the file");
        let key = crate::secret::ServerKey::from_bytes([4; 32]);
        assert_eq!(store.seal_plain_totp(&key).await.unwrap(), 1);
        assert!(!holds("old.db") && !holds("old.db-wal"));
        let regs = store.registrations("u1").await.unwrap();
        assert_eq!(
            regs[0]
                .totp_secret(&key)
                .as_ref()
                .map(secrecy::ExposeSecret::expose_secret),
            Some(plain)
        );
        assert_eq!(store.unopenable_totp(&key).await.unwrap(), 0);
        let other = crate::secret::ServerKey::from_bytes([5; 32]);
        assert_eq!(store.unopenable_totp(&other).await.unwrap(), 1);
        drop(store);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// Retention deletes exactly the rows older than its cut, however many slices it takes.
    #[tokio::test]
    async fn audit_rows_past_retention_go_and_the_rest_stay() {
        let store = Store::open("sqlite::memory:").await.unwrap();
        store.migrate().await.unwrap();
        let row = |n: i64| AuditRow {
            id: 0,
            at: crate::audit::rfc3339(n),
            event: "flow_started".into(),
            outcome: "success".into(),
            correlation_id: format!("c{n}"),
            kiosk_id: None,
            reference: None,
            login: None,
            user_id: None,
            detail: "{}".into(),
        };
        // 12,000 old rows (more than two slices) and 3 recent ones.
        for n in 0..12_000 {
            store
                .insert_audit(row(1_000 + n % 50), 1_000 + n % 50)
                .await
                .unwrap();
        }
        for n in 0..3 {
            store.insert_audit(row(5_000 + n), 5_000 + n).await.unwrap();
        }
        store.flush().await;
        assert_eq!(store.purge_audit_before(5_000).await.unwrap(), 12_000);
        let left = store
            .audit(&AuditQuery {
                limit: 100,
                ..Default::default()
            })
            .await
            .unwrap();
        assert_eq!(left.len(), 3);
        assert_eq!(store.purge_audit_before(5_000).await.unwrap(), 0);
    }

    /// Remaking the flows table (migration 6) keeps flows and the challenges that point at
    /// them; foreign keys are on again afterwards; a migration that would leave rows
    /// pointing nowhere is refused whole.
    #[tokio::test]
    async fn remaking_a_table_keeps_the_rows_that_point_at_it() {
        let store = Store::open("sqlite::memory:").await.unwrap();
        let before_6: Vec<_> = MIGRATIONS
            .iter()
            .filter(|m| m.version < 6)
            .cloned()
            .collect();
        store.db().unwrap().migrate(&before_6).unwrap();
        store
            .db()
            .unwrap()
            .write(|c| {
                c.execute_batch(
                    "INSERT INTO flows VALUES ('f1', 'AAAA-BBBB', 'k1', 'ada', 'u1', 't', 'reset',
                         'en', 'verifying', 1, '[]', '[]', 0, 1, 2, NULL);
                     INSERT INTO challenges (id, flow_id, method_id, kind, created_at, expires_at)
                         VALUES ('c1', 'f1', 'm1', 'email', 1, 2);",
                )
            })
            .unwrap();
        store.migrate().await.unwrap();
        let read = |sql: &'static str| {
            store
                .db()
                .unwrap()
                .read(|c| c.query_row(sql, [], |r| r.get::<_, i64>(0)))
                .unwrap()
        };
        assert_eq!(
            read("SELECT COUNT(*) FROM challenges WHERE flow_id = 'f1'"),
            1
        );
        assert_eq!(
            read("SELECT COUNT(*) FROM flows WHERE reference = 'AAAA-BBBB'"),
            1
        );
        assert_eq!(
            store
                .db()
                .unwrap()
                .write(|c| c.query_row("PRAGMA foreign_keys", [], |r| r.get::<_, i64>(0)))
                .unwrap(),
            1
        );
        // The same reference twice is no error now.
        store
            .db()
            .unwrap()
            .write(|c| {
                c.execute(
                    "INSERT INTO flows SELECT 'f2', reference, kiosk_id, login, user_id, throttle_key,
                         intent, locale, state, required, methods, done, is_admin, created_at,
                         expires_at, finished_at FROM flows WHERE id = 'f1'",
                    [],
                )
            })
            .unwrap();

        // Run as sqlx runs it (foreign keys on, one transaction): the rows stay too.
        let by_sqlx = Store::open("sqlite::memory:").await.unwrap();
        by_sqlx.db().unwrap().migrate(&before_6).unwrap();
        let six = MIGRATIONS.iter().find(|m| m.version == 6).unwrap().sql;
        let kept = by_sqlx
            .db()
            .unwrap()
            .write(|c| {
                c.execute_batch(
                    "INSERT INTO flows VALUES ('f1', 'AAAA-BBBB', 'k1', 'ada', 'u1', 't', 'reset',
                         'en', 'verifying', 1, '[]', '[]', 0, 1, 2, NULL);
                     INSERT INTO challenges (id, flow_id, method_id, kind, created_at, expires_at)
                         VALUES ('c1', 'f1', 'm1', 'email', 1, 2);
                     INSERT INTO flow_writes VALUES ('f1', 'OpenLDAP', 'mac', 1);",
                )?;
                assert_eq!(
                    c.query_row("PRAGMA foreign_keys", [], |r| r.get::<_, i64>(0))?,
                    1
                );
                c.execute_batch(&format!("BEGIN; {six} COMMIT;"))?;
                c.query_row(
                    "SELECT (SELECT COUNT(*) FROM challenges) + (SELECT COUNT(*) FROM flow_writes)",
                    [],
                    |r| r.get::<_, i64>(0),
                )
            })
            .unwrap();
        assert_eq!(kept, 2, "the challenge and the write are still there");

        let dangling = db::Migration {
            version: 99,
            description: "dangling",
            sql: "INSERT INTO challenges (id, flow_id, method_id, kind, created_at, expires_at)
                  VALUES ('c2', 'nowhere', 'm1', 'email', 1, 2);",
        };
        let mut all: Vec<_> = MIGRATIONS.to_vec();
        all.push(dangling);
        let refused = store.db().unwrap().migrate(&all).unwrap_err().to_string();
        assert!(refused.contains("point at rows that are gone"), "{refused}");
        assert_eq!(read("SELECT COUNT(*) FROM challenges"), 1);
        assert_eq!(
            read("SELECT COUNT(*) FROM _sqlx_migrations WHERE version = 99"),
            0
        );
    }
}

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
