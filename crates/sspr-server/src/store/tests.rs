//! The store's own tests (SQLite; PostgreSQL is tested with the kit's cluster in
//! `tests/tests/api/store`).

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
