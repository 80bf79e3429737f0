//! PostgreSQL (issue 17): reaching the database as libpq users expect, its schema, and
//! the pool the store's operations run on (`Store::open_postgres`).
//!
//! sqlx's PostgreSQL driver reads libpq's URL options (`sslmode` up to `verify-full`,
//! `sslrootcert`, `sslcert`, `sslkey`) and its variables (`PGPASSWORD`, `PGSSLMODE`,
//! `~/.pgpass`), and its migrator keeps the same `_sqlx_migrations` table the SQLite store
//! keeps, takes an advisory lock so processes starting together migrate once, and runs
//! each migration in one transaction (PostgreSQL's DDL is transactional).

use std::path::Path;
use std::str::FromStr as _;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgConnection, PgPool, PgPoolOptions};
use sqlx::Connection as _;

/// The migrations of `migrations-postgres/`, the twins of `migrations/` (a test compares
/// the two lists, and the tables and columns they make).
static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations-postgres");

/// How long reaching the database may take at start before we say it is not answering.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// The URL options understood, as libpq names them. Any other is refused by name: sqlx
/// would ignore it and log its value, which may be a mistyped password option.
const KNOWN_OPTIONS: &[&str] = &[
    "sslmode",
    "sslrootcert",
    "sslcert",
    "sslkey",
    "host",
    "hostaddr",
    "port",
    "dbname",
    "user",
    "password",
    "application_name",
    "options",
];

/// Whether a store URL names PostgreSQL.
pub fn is_postgres_url(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

/// Where the store is, for messages: host, port, database and user, never a password.
pub fn shown(options: &PgConnectOptions) -> String {
    format!(
        "{}:{}/{} (user {})",
        options.get_host(),
        options.get_port(),
        // As libpq: no database named is the user's own.
        options.get_database().unwrap_or(options.get_username()),
        options.get_username()
    )
}

/// The connection options of `store.url`, with the password from `store.password_file`
/// when one is named (else from the URL, `PGPASSWORD` or `~/.pgpass`, as libpq does).
pub fn options(url: &str, password_file: Option<&Path>) -> anyhow::Result<PgConnectOptions> {
    let url = url::Url::parse(url)
        .map_err(|e| anyhow::anyhow!("store.url is not a URL we can read: {e}"))?;
    anyhow::ensure!(
        matches!(url.scheme(), "postgres" | "postgresql"),
        "store.url: not a postgres:// URL"
    );
    for (key, _) in url.query_pairs() {
        anyhow::ensure!(
            KNOWN_OPTIONS.contains(&key.as_ref()),
            "store.url: unknown option {key:?} (known: {})",
            KNOWN_OPTIONS.join(", ")
        );
    }
    let in_url = url.password().is_some() || url.query_pairs().any(|(k, _)| k == "password");
    let mut options = PgConnectOptions::from_str(url.as_str()).map_err(config_error)?;
    if let Some(file) = password_file {
        anyhow::ensure!(
            !in_url,
            "store.url holds a password and store.password_file names one: give it once"
        );
        options = options.password(&read_password(file)?);
    }
    Ok(options)
}

/// The first line of `file`; the file is the secret, so only its name is ever shown.
fn read_password(file: &Path) -> anyhow::Result<String> {
    let text = std::fs::read_to_string(file).map_err(|e| {
        anyhow::anyhow!(
            "store.password_file {}: cannot read it: {}",
            file.display(),
            e.kind()
        )
    })?;
    let password = text.lines().next().unwrap_or_default();
    anyhow::ensure!(
        !password.is_empty(),
        "store.password_file {}: the file is empty",
        file.display()
    );
    Ok(password.to_string())
}

/// One connection, or what went wrong in words an operator acts on.
pub async fn connect(options: &PgConnectOptions) -> anyhow::Result<PgConnection> {
    let at = shown(options);
    match tokio::time::timeout(CONNECT_TIMEOUT, PgConnection::connect_with(options)).await {
        Ok(Ok(conn)) => Ok(conn),
        Ok(Err(e)) => Err(explain(&at, options, e)),
        Err(_) => anyhow::bail!(
            "PostgreSQL at {at} did not answer within {} s",
            CONNECT_TIMEOUT.as_secs()
        ),
    }
}

fn explain(at: &str, options: &PgConnectOptions, e: sqlx::Error) -> anyhow::Error {
    let user = options.get_username();
    match e {
        sqlx::Error::Io(io) => anyhow::anyhow!(
            "PostgreSQL at {at} is not answering ({}): is it running, on that host and port?",
            io.kind()
        ),
        sqlx::Error::Tls(tls) => anyhow::anyhow!(
            "TLS with PostgreSQL at {at} failed: {tls} (check sslmode and sslrootcert)"
        ),
        sqlx::Error::Database(db) => match db.code().as_deref() {
            Some("28P01") => anyhow::anyhow!(
                "PostgreSQL at {at} refused the password of user {user:?}: check \
                 store.password_file (or PGPASSWORD)"
            ),
            Some("28000") => anyhow::anyhow!(
                "PostgreSQL at {at} refused the connection: {} (its pg_hba.conf)",
                db.message()
            ),
            Some("3D000") => anyhow::anyhow!(
                "PostgreSQL at {at}: the database does not exist (create it first: CREATE \
                 DATABASE ... OWNER {user})"
            ),
            _ => anyhow::anyhow!("PostgreSQL at {at}: {}", db.message()),
        },
        sqlx::Error::Protocol(what) => {
            anyhow::anyhow!("what answers at {at} is not PostgreSQL, or not as expected ({what})")
        }
        other => anyhow::anyhow!("PostgreSQL at {at}: {other}"),
    }
}

/// sqlx's configuration errors, without the prefix it repeats for each layer.
fn config_error(e: sqlx::Error) -> anyhow::Error {
    let text = e.to_string();
    let mut rest = text.as_str();
    while let Some(inner) = rest.strip_prefix("error with configuration: ") {
        rest = inner;
    }
    anyhow::anyhow!("store.url: {rest}")
}

/// The newest migration this server knows.
pub fn latest_known() -> i64 {
    MIGRATOR.iter().map(|m| m.version).max().unwrap_or_default()
}

/// The versions applied to the database (none if it was never migrated).
async fn applied(conn: &mut PgConnection) -> anyhow::Result<Vec<i64>> {
    let exists: bool = sqlx::query_scalar("SELECT to_regclass('_sqlx_migrations') IS NOT NULL")
        .fetch_one(&mut *conn)
        .await?;
    if !exists {
        return Ok(Vec::new());
    }
    Ok(
        sqlx::query_scalar("SELECT version FROM _sqlx_migrations ORDER BY version")
            .fetch_all(&mut *conn)
            .await?,
    )
}

/// Connections a process keeps to the database at most.
const POOL_SIZE: u32 = 16;
/// How long an operation waits for a connection before it fails ("try again"): the
/// database away must not hold requests for long.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);

/// A pool on the database `url` names, migrated. One connection is made first, so what
/// is wrong (the password, TLS, the database down) is said at start, in words.
pub async fn open(url: &str, password_file: Option<&Path>) -> anyhow::Result<PgPool> {
    let options = options(url, password_file)?;
    let mut conn = connect(&options).await?;
    migrate_conn(&mut conn, &shown(&options)).await?;
    let _ = conn.close().await;
    Ok(PgPoolOptions::new()
        .max_connections(POOL_SIZE)
        .acquire_timeout(ACQUIRE_TIMEOUT)
        .connect_lazy_with(options))
}

/// Creates or upgrades the schema of the pool's database.
pub async fn migrate_pool(pool: &PgPool) -> anyhow::Result<()> {
    let at = shown(&pool.connect_options());
    let mut conn = pool
        .acquire()
        .await
        .map_err(|e| explain(&at, &pool.connect_options(), e))?;
    migrate_conn(&mut conn, &at).await
}

/// Creates or upgrades the schema; refuses a schema newer than this server. Returns
/// where the store is, for messages.
pub async fn migrate(url: &str, password_file: Option<&Path>) -> anyhow::Result<String> {
    let options = options(url, password_file)?;
    let at = shown(&options);
    let mut conn = connect(&options).await?;
    migrate_conn(&mut conn, &at).await?;
    let _ = conn.close().await;
    Ok(at)
}

async fn migrate_conn(conn: &mut PgConnection, at: &str) -> anyhow::Result<()> {
    let newest = applied(&mut *conn)
        .await
        .map_err(|e| anyhow::anyhow!("PostgreSQL at {at}: reading the applied migrations: {e}"))?
        .into_iter()
        .max()
        .unwrap_or_default();
    anyhow::ensure!(
        newest <= latest_known(),
        "the store at {at} has a schema newer than this server (migration {newest}; this \
         server knows up to {}): run a server at least as new as the one that migrated it",
        latest_known()
    );
    MIGRATOR.run(&mut *conn).await.map_err(|e| match e {
        sqlx::migrate::MigrateError::VersionMismatch(v) => anyhow::anyhow!(
            "the store at {at}: migration {v} was applied from a different text than this \
             server's; it was not made by this project's servers"
        ),
        other => anyhow::anyhow!("migrating the store at {at}: {other}"),
    })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_as_libpq_reads_them() {
        let o = options(
            "postgres://sspr@db.example.org:5433/sspr?sslmode=verify-full&sslrootcert=/etc/ca.pem",
            None,
        )
        .unwrap();
        assert_eq!(shown(&o), "db.example.org:5433/sspr (user sspr)");
        assert!(is_postgres_url("postgresql://x/y"));
        assert!(!is_postgres_url("sqlite://sspr.db"));
    }

    /// Nothing in a refusal carries the password, wherever it was given.
    #[test]
    fn bad_urls_are_refused_by_name_without_the_password() {
        let refused = |url: &str| options(url, None).unwrap_err().to_string();
        let e = refused("postgres://sspr:s3cret@db/sspr?pasword=s3cret");
        assert!(e.contains("unknown option \"pasword\""), "{e}");
        assert!(!e.contains("s3cret"), "{e}");
        let e = refused("postgres://sspr@db/sspr?sslmode=sometimes");
        assert_eq!(e, "store.url: unknown value \"sometimes\" for `ssl_mode`");
        let e = refused("postgres://db:99999/sspr");
        assert!(e.starts_with("store.url"), "{e}");
        assert!(refused("mysql://db/sspr").contains("not a postgres:// URL"));
    }

    #[test]
    fn the_password_file_gives_the_password_once() {
        let dir = std::env::temp_dir().join(format!("sspr-pgpw-{}", crate::secret::random_id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("pw");
        std::fs::write(&file, "from-the-file\n").unwrap();
        let with_file = |url: &str| options(url, Some(&file));
        assert!(with_file("postgres://sspr@db/sspr").is_ok());
        let e = with_file("postgres://sspr:other@db/sspr")
            .unwrap_err()
            .to_string();
        assert!(e.contains("give it once"), "{e}");
        std::fs::write(&file, "").unwrap();
        let e = with_file("postgres://sspr@db/sspr")
            .unwrap_err()
            .to_string();
        assert!(e.contains("empty"), "{e}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// Every file of `migrations/` has its twin in `migrations-postgres/`, and no more.
    #[test]
    fn one_list_of_migrations_per_engine() {
        let names = |dir: &str| {
            let mut names: Vec<String> = std::fs::read_dir(dir)
                .unwrap()
                .map(|e| e.unwrap().file_name().into_string().unwrap())
                .collect();
            names.sort();
            names
        };
        let sqlite = names(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations"));
        let postgres = names(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations-postgres"));
        assert_eq!(sqlite, postgres);
        let known: Vec<i64> = MIGRATOR.iter().map(|m| m.version).collect();
        assert_eq!(known.len(), postgres.len());
        assert_eq!(
            Some(latest_known()),
            super::super::MIGRATIONS.last().map(|m| m.version)
        );
    }
}
