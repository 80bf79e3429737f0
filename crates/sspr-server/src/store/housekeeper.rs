//! Which process does the housekeeping (forgetting spent nonces, old flows and counters,
//! audit rows past their retention). On SQLite one process serves the store, so it is
//! that one. On PostgreSQL, several processes share the database and the database
//! chooses: the process that holds a session-level advisory lock does it. The lock is held
//! on a connection of its own, kept out of the pool; when the process dies (or its
//! connection breaks) PostgreSQL lets the lock go, and another process takes it at its
//! next try.

use sqlx::postgres::PgConnection;
use sqlx::Connection as _;

use super::{Engine, Store};

/// The advisory lock's key (one 64-bit number for the whole database): "sspr" and "hk"
/// in ASCII, unlikely to meet another application's key in a shared database.
const LOCK_KEY: i64 = 0x7373_7072_686b;

/// Holds the housekeeping lock while this process has it.
#[derive(Default)]
pub struct Housekeeper {
    held: Option<PgConnection>,
}

impl Housekeeper {
    /// Whether this process does the housekeeping now: SQLite always; PostgreSQL when it
    /// holds the lock, checking that the connection holding it still answers, or when it
    /// takes it now. A database that doesn't answer makes it false (and the lock is let
    /// go, so another process may take it).
    pub async fn is_mine(&mut self, store: &Store) -> bool {
        let Engine::Postgres(pool) = store.engine() else {
            return true;
        };
        if let Some(conn) = self.held.as_mut() {
            if conn.ping().await.is_ok() {
                return true;
            }
            tracing::warn!("the connection holding the housekeeping lock broke; trying again");
            self.held = None;
        }
        let mut conn = match pool.acquire().await {
            // Out of the pool: the lock lives as long as this connection, not a loan.
            Ok(conn) => conn.detach(),
            Err(e) => {
                tracing::debug!(error = %e, "no connection to try the housekeeping lock");
                return false;
            }
        };
        match sqlx::query_scalar::<_, bool>("SELECT pg_try_advisory_lock($1)")
            .bind(LOCK_KEY)
            .fetch_one(&mut conn)
            .await
        {
            Ok(true) => {
                tracing::info!("this process does the housekeeping now (it holds the lock)");
                self.held = Some(conn);
                true
            }
            Ok(false) => {
                let _ = conn.close().await;
                false
            }
            Err(e) => {
                tracing::warn!(error = %e, "trying the housekeeping lock failed");
                false
            }
        }
    }
}
