//! The store's operations on both engines (issue 17): the server crate's `Store` driven as
//! a library against a SQLite file and against the kit's real PostgreSQL, the same
//! checks for each. Operations no command reaches on PostgreSQL yet (nonces, throttles,
//! idempotency, policy versions, registrations, directory writes, flows and challenges)
//! are checked here; what a command reaches is checked through the binary too
//! (`postgres.rs`). `access`: what guards a request (kiosks, nonces, throttles,
//! idempotency, the policy); `records`: what a flow and the audit keep.

mod access;
mod records;

use sspr_server::store::Store;
use sspr_tests::postgres::Postgres;

/// A store on each engine, migrated: (its name, the store); and for PostgreSQL, a way to
/// open another handle on the same database, as another server process would.
pub struct Engines {
    pub dir: std::path::PathBuf,
    pg_url: String,
    pub database: String,
}

impl Engines {
    pub async fn new(name: &str) -> (Engines, Vec<(&'static str, Store)>) {
        let dir = std::env::temp_dir().join(format!(
            "sspr-store-{name}-{}-{}",
            std::process::id(),
            sspr_tests::free_port().unwrap()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let sqlite = Store::open(&format!("sqlite://{}/sspr.db", dir.display()))
            .await
            .unwrap();
        sqlite.migrate().await.unwrap();
        let pg = Postgres::shared().unwrap();
        let database = pg.create_database().unwrap();
        let pg_url = format!(
            "{}?sslmode=verify-full&sslrootcert={}",
            pg.url(&database),
            pg.ca_file.display()
        );
        let engines = Engines {
            dir,
            pg_url,
            database,
        };
        let postgres = engines.another().await;
        postgres.migrate().await.unwrap();
        (engines, vec![("sqlite", sqlite), ("postgres", postgres)])
    }

    /// Another handle (another pool) on the PostgreSQL database.
    pub async fn another(&self) -> Store {
        let pg = Postgres::shared().unwrap();
        Store::open_postgres(&self.pg_url, Some(&pg.password_file))
            .await
            .unwrap()
    }
}

impl Drop for Engines {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
