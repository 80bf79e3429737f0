//! The store on PostgreSQL (issue 17, first slice): `sspr-server migrate` on a real
//! PostgreSQL makes the same tables and columns as on SQLite, and every way a start can go
//! wrong (a bad URL, a wrong password, the database down or missing, TLS that doesn't
//! verify, a schema newer than the binary) is one clear line and a non-zero exit.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use sspr_tests::postgres::Postgres;

/// A folder of the test's own for configuration files.
fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "sspr-pgtest-{name}-{}-{}",
        std::process::id(),
        sspr_tests::unix_now()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

struct Run {
    ok: bool,
    stdout: String,
    stderr: String,
}

/// How many migrations the server has, and the newest one's version (from the names of
/// `migrations-postgres/`, `NNNN_words.sql`).
fn migrations() -> (usize, u32) {
    let dir = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../crates/sspr-server/migrations-postgres"
    );
    let versions: Vec<u32> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| {
            e.ok()?
                .file_name()
                .to_str()?
                .split('_')
                .next()?
                .parse()
                .ok()
        })
        .collect();
    (
        versions.len(),
        versions.iter().copied().max().unwrap_or_default(),
    )
}

/// Runs `sspr-server <args>` with `config` as its configuration file.
fn server(dir: &Path, config: &str, args: &[&str]) -> Run {
    let file = dir.join(format!("config-{}.toml", sspr_tests::free_port().unwrap()));
    std::fs::write(&file, config).unwrap();
    let out = Command::new(sspr_tests::server_binary().unwrap())
        .arg("--config")
        .arg(&file)
        .args(args)
        .env_remove("PGPASSWORD")
        .env("SSPR_LOG", "info")
        .output()
        .unwrap();
    let run = Run {
        ok: out.status.success(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    };
    assert!(
        !run.stderr.contains("panicked"),
        "the server panicked: {}",
        run.stderr
    );
    run
}

/// Runs `migrate`, which must fail with one `error:` line containing `expect` and nothing
/// of `secret` (the cluster's password).
#[track_caller]
fn refused(dir: &Path, config: &str, expect: &str, secret: &str) -> String {
    assert!(!secret.is_empty());
    let run = server(dir, config, &["migrate"]);
    assert!(!run.ok, "migrate succeeded: {}", run.stdout);
    let line = run.stderr.trim();
    assert!(line.starts_with("error: "), "{line}");
    assert!(line.contains(expect), "expected {expect:?} in {line:?}");
    assert!(
        !line.contains(secret) && !run.stdout.contains(secret),
        "the password was shown: {line}"
    );
    line.to_string()
}

/// table -> (column, kind of type, NOT NULL), sorted.
type Schema = BTreeMap<String, Vec<(String, &'static str, bool)>>;

/// SQLite's declared types and PostgreSQL's, as one kind each.
fn kind(declared: &str) -> &'static str {
    match declared.to_ascii_lowercase().as_str() {
        "integer" | "bigint" => "integer",
        "text" => "text",
        "blob" | "bytea" => "bytes",
        "boolean" => "boolean",
        "timestamp" | "timestamp with time zone" => "time",
        _ => "other",
    }
}

fn add(schema: &mut Schema, table: String, column: String, declared: &str, not_null: bool) {
    let kind = kind(declared);
    assert_ne!(kind, "other", "{table}.{column}: type {declared}");
    schema
        .entry(table)
        .or_default()
        .push((column, kind, not_null));
}

async fn sqlite_schema(file: &Path) -> Schema {
    let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}?mode=ro", file.display()))
        .await
        .unwrap();
    let rows: Vec<(String, String, String, bool, i64)> = sqlx::query_as(
        "SELECT m.name, p.name, p.type, p.\"notnull\", p.pk
         FROM sqlite_master m JOIN pragma_table_info(m.name) p
         WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%'",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    pool.close().await;
    let mut schema = Schema::new();
    for (table, column, declared, not_null, pk) in rows {
        // A primary key's columns can't be NULL in PostgreSQL; SQLite says so only when
        // the column is declared NOT NULL too (its INTEGER PRIMARY KEY is the row id).
        add(&mut schema, table, column, &declared, not_null || pk > 0);
    }
    schema.values_mut().for_each(|c| c.sort());
    schema
}

fn postgres_schema(pg: &Postgres, database: &str) -> Schema {
    let rows = pg
        .psql(
            database,
            "SELECT table_name, column_name, data_type, is_nullable = 'NO'
             FROM information_schema.columns WHERE table_schema = 'public'",
        )
        .unwrap();
    let mut schema = Schema::new();
    for line in rows.lines() {
        let f: Vec<&str> = line.split('|').collect();
        add(&mut schema, f[0].into(), f[1].into(), f[2], f[3] == "t");
    }
    schema.values_mut().for_each(|c| c.sort());
    schema
}

/// Both engines' migrations, each run by `sspr-server migrate`, make the same tables with
/// the same columns, kinds of type and NULLs; migrating again changes nothing; TLS is
/// verified against the cluster's certificate and the password comes from a file.
#[tokio::test]
async fn migrate_makes_the_same_schema_on_both_engines() {
    let pg = Postgres::shared().unwrap();
    let dir = temp_dir("schema");
    let sqlite_file = dir.join("sspr.db");
    let run = server(
        &dir,
        &format!("[store]\nurl = \"sqlite://{}\"\n", sqlite_file.display()),
        &["migrate"],
    );
    assert!(run.ok, "{}", run.stderr);

    let database = pg.create_database().unwrap();
    let config = pg.store_settings(&database);
    let run = server(&dir, &config, &["migrate"]);
    assert!(run.ok, "{}", run.stderr);
    assert_eq!(
        run.stdout.trim(),
        format!(
            "store is up to date: PostgreSQL at 127.0.0.1:{}/{database} (user postgres)",
            pg.port
        )
    );
    // Over TLS, verified against the cluster's certificate (sslmode=verify-full).
    let ours = format!("database={database}");
    let log = pg.log();
    let authorized: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("connection authorized:"))
        .filter(|l| l.split_whitespace().any(|w| w == ours))
        .collect();
    assert!(!authorized.is_empty(), "no connection to {database}");
    assert!(
        authorized.iter().all(|l| l.contains("SSL enabled")),
        "{authorized:?}"
    );
    let sqlite = sqlite_schema(&sqlite_file).await;
    let migrated = postgres_schema(pg, &database);
    let mut postgres = migrated.clone();
    // PostgreSQL's order of challenges (migration 17), which SQLite's rowid gives.
    if let Some(columns) = postgres.get_mut("challenges") {
        columns.retain(|(name, _, _)| name != "seq");
    }
    assert!(sqlite.len() >= 15, "{:?}", sqlite.keys());
    assert_eq!(sqlite, postgres);
    assert_eq!(
        pg.psql(
            &database,
            "SELECT count(*) FROM _sqlx_migrations WHERE success"
        )
        .unwrap(),
        migrations().0.to_string()
    );

    let again = server(&dir, &config, &["migrate"]);
    assert!(again.ok, "{}", again.stderr);
    assert_eq!(postgres_schema(pg, &database), migrated);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Every bad start is one clear line, a non-zero exit and no password anywhere.
#[tokio::test]
async fn bad_input_at_start_is_a_clear_refusal() {
    let pg = Postgres::shared().unwrap();
    let dir = temp_dir("refusals");
    let database = pg.create_database().unwrap();
    let password = std::fs::read_to_string(&pg.password_file).unwrap();
    let password = password.trim();
    let url = pg.url(&database);
    let with_file = |url: &str, file: &Path| {
        format!(
            "[store]\nurl = \"{url}\"\npassword_file = \"{}\"\n",
            file.display()
        )
    };
    let pw = &pg.password_file;

    refused(
        &dir,
        &with_file("postgres://postgres@127.0.0.1:99999/x", pw),
        "store.url",
        password,
    );
    // An option nobody knows is named; its value (a mistyped password option) is not.
    refused(
        &dir,
        &format!("[store]\nurl = \"{url}?pasword={password}\"\n"),
        "unknown option \"pasword\"",
        password,
    );
    let wrong = dir.join("wrong-password");
    std::fs::write(&wrong, "not-the-password\n").unwrap();
    refused(
        &dir,
        &with_file(&url, &wrong),
        "refused the password of user \"postgres\"",
        password,
    );
    refused(
        &dir,
        &with_file(&url, &dir.join("no-such-file")),
        "store.password_file",
        password,
    );
    refused(
        &dir,
        &with_file(&pg.url("no_such_database"), pw),
        "the database does not exist",
        password,
    );
    // verify-full with no CA of ours: the system's roots don't know the cluster's.
    refused(
        &dir,
        &with_file(&format!("{url}?sslmode=verify-full"), pw),
        "TLS with PostgreSQL",
        password,
    );
    // Nothing listens on a port just freed.
    let closed = sspr_tests::free_port().unwrap();
    refused(
        &dir,
        &with_file(&format!("postgres://postgres@127.0.0.1:{closed}/x"), pw),
        "is not answering",
        password,
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A schema newer than the binary (a newer server migrated it) is refused on both
/// engines, and the store is left as it was.
#[tokio::test]
async fn a_schema_newer_than_the_server_is_refused_on_both_engines() {
    let pg = Postgres::shared().unwrap();
    let dir = temp_dir("newer");
    let database = pg.create_database().unwrap();
    let config = pg.store_settings(&database);
    assert!(server(&dir, &config, &["migrate"]).ok);
    let future = "INSERT INTO _sqlx_migrations (version, description, success, checksum, \
                  execution_time) VALUES (9999, 'from the future', TRUE, X'00', 0)";
    pg.psql(&database, &future.replace("X'00'", "'\\x00'::bytea"))
        .unwrap();
    let password = std::fs::read_to_string(&pg.password_file).unwrap();
    let line = refused(
        &dir,
        &config,
        "newer than this server (migration 9999",
        password.trim(),
    );
    let (count, newest) = migrations();
    assert!(line.contains(&format!("knows up to {newest}")), "{line}");
    assert_eq!(
        pg.psql(&database, "SELECT count(*) FROM _sqlx_migrations")
            .unwrap(),
        (count + 1).to_string()
    );

    let file = dir.join("sspr.db");
    let sqlite = format!("[store]\nurl = \"sqlite://{}\"\n", file.display());
    assert!(server(&dir, &sqlite, &["migrate"]).ok);
    let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", file.display()))
        .await
        .unwrap();
    sqlx::query(future).execute(&pool).await.unwrap();
    pool.close().await;
    refused(
        &dir,
        &sqlite,
        "newer than this server (migration 9999",
        password.trim(),
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The database down at start is said so; once it is back, the same command works.
#[tokio::test]
async fn the_database_down_at_start_then_back() {
    let pg = Postgres::start().unwrap();
    let dir = temp_dir("down");
    let database = pg.create_database().unwrap();
    let config = pg.store_settings(&database);
    let password = std::fs::read_to_string(&pg.password_file).unwrap();
    pg.stop();
    refused(&dir, &config, "is not answering", password.trim());
    pg.restart().unwrap();
    let run = server(&dir, &config, &["migrate"]);
    assert!(run.ok, "{}", run.stderr);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Processes that start together on a new database migrate it once between them (the
/// migrator's advisory lock): each says the store is up to date, each migration is
/// applied once.
#[tokio::test]
async fn processes_migrating_together_migrate_once() {
    let pg = Postgres::shared().unwrap();
    let dir = temp_dir("together");
    let database = pg.create_database().unwrap();
    let file = dir.join("config.toml");
    std::fs::write(&file, pg.store_settings(&database)).unwrap();
    let children: Vec<_> = (0..3)
        .map(|_| {
            Command::new(sspr_tests::server_binary().unwrap())
                .arg("--config")
                .arg(&file)
                .arg("migrate")
                .env_remove("PGPASSWORD")
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for child in children {
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(String::from_utf8_lossy(&out.stdout).starts_with("store is up to date"));
    }
    assert_eq!(
        pg.psql(
            &database,
            "SELECT count(*), count(DISTINCT version) FROM _sqlx_migrations WHERE success"
        )
        .unwrap(),
        format!("{0}|{0}", migrations().0)
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The `kiosk` and `audit` commands run on PostgreSQL: a one-time code and a staging code
/// made (stored as hashes), listed and revoked, each step audited; `serve` is still
/// refused, saying so.
#[tokio::test]
async fn kiosk_and_audit_commands_on_postgres() {
    let pg = Postgres::shared().unwrap();
    let dir = temp_dir("kiosk-commands");
    let database = pg.create_database().unwrap();
    let config = format!(
        "{}[server]\nsecret_file = \"{}\"\n",
        pg.store_settings(&database),
        dir.join("secret.key").display()
    );
    let ok = |args: &[&str]| {
        let run = server(&dir, &config, args);
        assert!(run.ok, "{args:?}: {}", run.stderr);
        run.stdout
    };
    let refused = |args: &[&str], expect: &str| {
        let run = server(&dir, &config, args);
        assert!(!run.ok, "{args:?} succeeded: {}", run.stdout);
        assert!(run.stderr.contains(expect), "{args:?}: {}", run.stderr);
    };

    let code = ok(&[
        "kiosk",
        "enroll-code",
        "--name",
        "Front desk",
        "--location",
        "Hall",
    ]);
    let code = code.trim();
    assert!(code.len() >= 8, "{code}");
    let kiosk = pg
        .psql(
            &database,
            "SELECT id FROM kiosks WHERE name = 'Front desk' AND code_hash IS NOT NULL",
        )
        .unwrap();
    assert!(!kiosk.is_empty());
    let staging = ok(&["kiosk", "enroll-code", "--uses", "3", "--location", "Lab"]);
    let stored = pg
        .psql(
            &database,
            "SELECT code_hash FROM kiosks UNION ALL SELECT code_hash FROM enrollment_codes",
        )
        .unwrap();
    assert_eq!(stored.lines().count(), 2);
    assert!(
        !stored.contains(code) && !stored.contains(staging.trim()),
        "codes are stored as hashes"
    );

    assert!(ok(&["kiosk", "list"]).contains(&kiosk));
    let codes = ok(&["kiosk", "codes"]);
    let code_id = codes
        .lines()
        .nth(1)
        .and_then(|l| l.split_whitespace().next())
        .expect("a listed code")
        .to_string();
    ok(&["kiosk", "revoke-code", &code_id]);
    refused(&["kiosk", "revoke-code", &code_id], "revoked already");
    ok(&["kiosk", "revoke", &kiosk]);
    refused(&["kiosk", "revoke", &kiosk], "no active kiosk");
    assert_eq!(
        pg.psql(
            &database,
            &format!(
                "SELECT (SELECT revoked_at IS NOT NULL FROM kiosks WHERE id = '{kiosk}'), \
                 (SELECT revoked_at IS NOT NULL FROM enrollment_codes WHERE id = '{code_id}')"
            )
        )
        .unwrap(),
        "t|t"
    );

    let events: Vec<String> = ok(&["audit", "--json"])
        .lines()
        .map(|l| {
            let row: serde_json::Value = serde_json::from_str(l).unwrap();
            row["event"].as_str().unwrap().to_string()
        })
        .collect();
    assert_eq!(
        events,
        [
            "kiosk_enrollment_code_issued",
            "kiosk_enrollment_code_issued",
            "enrollment_code_revoked",
            "kiosk_revoked"
        ]
    );

    refused(&["backup", "/nowhere/copy.db"], "pg_dump");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A deployment moves from SQLite to PostgreSQL with `store copy`: every row, checked;
/// never into a store that holds rows; and a server on the copy, with the same secret
/// key, carries on (the kiosk's enrollment, the new password, the sealed authenticator
/// secrets and the audit all came along).
#[tokio::test]
async fn store_copy_moves_a_deployment_from_sqlite_to_postgres() {
    use sspr_tests::sspr_client::{Client, DeviceKey};
    use sspr_tests::sspr_proto::{Intent, MethodKind, Outcome};
    use sspr_tests::{Options, SameStore, TestServer};

    const NEW_PASSWORD: &str = "copper lantern over quiet fields";
    let mut old = TestServer::start_with(Options {
        // SQLite whatever the suite runs on: this is where a deployment comes from.
        store_dir: Some(temp_dir("copy-from")),
        ..Options::default()
    })
    .await
    .expect("server on SQLite");
    let kiosk = old.kiosk().await.expect("kiosk");
    let flow = kiosk
        .start_flow(&super::start("ada", Intent::Reset))
        .await
        .expect("flow");
    let flow = super::verify_email(&old, &kiosk, &flow, "ada@home.example.net").await;
    let done = kiosk
        .set_password(&flow.flow_id, NEW_PASSWORD)
        .await
        .expect("reset");
    assert_eq!(done.outcome, Outcome::PasswordReset);
    old.stop().expect("stop the SQLite server");
    let audit_before = old.audit(&[]).expect("audit").len();

    let pg = Postgres::shared().unwrap();
    let database = pg.create_database().unwrap();
    let to = format!(
        "{}?sslmode=verify-full&sslrootcert={}",
        pg.url(&database),
        pg.ca_file.display()
    );
    let from = format!("sqlite://{}", old.db_path().display());
    let password_file = pg.password_file.display().to_string();
    let copy = [
        "store",
        "copy",
        "--from",
        &from,
        "--to",
        &to,
        "--password-file",
        &password_file,
    ];
    let said = old.admin(&copy).expect("store copy");
    assert!(said.contains("checked row by row"), "{said}");
    let line = |table: &str| {
        said.lines()
            .find(|l| l.split_whitespace().next() == Some(table))
            .unwrap_or_default()
            .to_string()
    };
    let rows_of = |table: &str| {
        line(table)
            .split_whitespace()
            .nth(1)
            .unwrap_or("?")
            .to_string()
    };
    assert_eq!(rows_of("kiosks"), "1", "{said}");
    assert_eq!(rows_of("audit"), audit_before.to_string(), "{said}");
    for table in ["dir_users", "registrations", "flows", "challenges", "audit"] {
        let count = pg
            .psql(&database, &format!("SELECT COUNT(*) FROM {table}"))
            .unwrap();
        assert_eq!(rows_of(table), count, "{table}: {said}");
    }
    // Never into a store that holds rows: refused, nothing written twice.
    let again = old.admin(&copy).expect_err("a second copy is refused");
    assert!(format!("{again:#}").contains("not empty"), "{again:#}");
    assert_eq!(
        pg.psql(&database, "SELECT COUNT(*) FROM audit").unwrap(),
        audit_before.to_string()
    );

    let new = TestServer::start_with(Options {
        same_store_as: Some(SameStore {
            database,
            secret_file: old.secret_file.clone(),
        }),
        ..Options::default()
    })
    .await
    .expect("server on the copy");
    let kiosk = Client::new(
        &new.base,
        DeviceKey::from_seed(*kiosk.device_key().seed()),
        kiosk.kiosk_id().map(str::to_string),
    )
    .expect("client");
    kiosk
        .settings()
        .await
        .expect("the kiosk's enrollment came along");
    assert!(super::directory_password_is(&new, "ada", NEW_PASSWORD).await);
    // Ada's authenticator secret, sealed with the key, still checks.
    let flow = kiosk
        .start_flow(&super::start("ada", Intent::Reset))
        .await
        .expect("flow on the copy");
    assert!(flow.methods.iter().any(|m| m.kind == MethodKind::Totp));
    let flow = super::verify_totp(&kiosk, &flow, sspr_tests::ADA_TOTP).await;
    assert!(flow.done >= 1);
    assert!(new.audit(&[]).expect("audit").len() > audit_before);
}
