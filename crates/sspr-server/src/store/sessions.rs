//! Web sessions ("My security info", the console) as rows, so every process sharing the
//! database serves every session (issue 17), and a restart signs nobody out. The store
//! sees only a keyed hash of the cookie (`id`), the session sealed by the caller (`data`)
//! and when it ends; what a session holds is the caller's (`crate::web_session`).
//!
//! A change is read, made and written in one transaction holding the row (SQLite's one
//! writer; `FOR UPDATE` on PostgreSQL), so two requests of one session on two processes
//! never both use a code or a passkey check once meant for one.

use rusqlite::OptionalExtension;

use super::{Engine, Store, StoreResult};

/// What a change to a session leaves: its new sealed data and end, or None when nothing
/// changed (nothing is written).
pub type Changed = Option<(String, i64)>;

impl Store {
    /// Stores a new session (a cookie is random: an id never repeats).
    pub async fn put_session(
        &self,
        id: &str,
        kind: &str,
        data: &str,
        expires_at: i64,
    ) -> StoreResult<()> {
        match self.engine() {
            Engine::Sqlite(s) => s.db.write(|c| {
                c.prepare_cached(
                    "INSERT OR REPLACE INTO web_sessions (id, kind, data, expires_at)
                     VALUES (?, ?, ?, ?)",
                )?
                .execute(rusqlite::params![id, kind, data, expires_at])
                .map(drop)
            }),
            Engine::Postgres(pg) => {
                sqlx::query(
                    "INSERT INTO web_sessions (id, kind, data, expires_at) VALUES ($1, $2, $3, $4)
                     ON CONFLICT (id) DO UPDATE
                         SET kind = EXCLUDED.kind, data = EXCLUDED.data,
                             expires_at = EXCLUDED.expires_at",
                )
                .bind(id)
                .bind(kind)
                .bind(data)
                .bind(expires_at)
                .execute(pg)
                .await?;
                Ok(())
            }
        }
    }

    /// Ends a session, returning its data if it was alive at `now`.
    pub async fn take_session(
        &self,
        id: &str,
        kind: &str,
        now: i64,
    ) -> StoreResult<Option<String>> {
        let data: Option<(String, i64)> = match self.engine() {
            Engine::Sqlite(s) => s.db.write(|c| {
                c.prepare_cached(
                    "DELETE FROM web_sessions WHERE id = ? AND kind = ?
                     RETURNING data, expires_at",
                )?
                .query_row(rusqlite::params![id, kind], |r| Ok((r.get(0)?, r.get(1)?)))
                .optional()
            })?,
            Engine::Postgres(pg) => {
                sqlx::query_as(
                    "DELETE FROM web_sessions WHERE id = $1 AND kind = $2
                     RETURNING data, expires_at",
                )
                .bind(id)
                .bind(kind)
                .fetch_optional(pg)
                .await?
            }
        };
        Ok(data.filter(|(_, ends)| *ends > now).map(|(data, _)| data))
    }

    /// Runs `change` on the data of a session alive at `now` and writes what it leaves,
    /// all in one transaction holding the row; None when there is no such session.
    pub async fn change_session<T>(
        &self,
        id: &str,
        kind: &str,
        now: i64,
        change: impl FnOnce(&str) -> (T, Changed),
    ) -> StoreResult<Option<T>> {
        match self.engine() {
            Engine::Sqlite(s) => s.db.transaction(|c| {
                let data: Option<String> = c
                    .prepare_cached(
                        "SELECT data FROM web_sessions
                         WHERE id = ? AND kind = ? AND expires_at > ?",
                    )?
                    .query_row(rusqlite::params![id, kind, now], |r| r.get(0))
                    .optional()?;
                let Some(data) = data else {
                    return Ok(None);
                };
                let (value, changed) = change(&data);
                if let Some((data, expires_at)) = changed {
                    c.prepare_cached(
                        "UPDATE web_sessions SET data = ?, expires_at = ? WHERE id = ?",
                    )?
                    .execute(rusqlite::params![data, expires_at, id])?;
                }
                Ok(Some(value))
            }),
            Engine::Postgres(pg) => {
                let mut tx = pg.begin().await?;
                let data: Option<String> = sqlx::query_scalar(
                    "SELECT data FROM web_sessions
                     WHERE id = $1 AND kind = $2 AND expires_at > $3 FOR UPDATE",
                )
                .bind(id)
                .bind(kind)
                .bind(now)
                .fetch_optional(&mut *tx)
                .await?;
                let Some(data) = data else {
                    return Ok(None);
                };
                let (value, changed) = change(&data);
                if let Some((data, expires_at)) = changed {
                    sqlx::query("UPDATE web_sessions SET data = $1, expires_at = $2 WHERE id = $3")
                        .bind(data)
                        .bind(expires_at)
                        .bind(id)
                        .execute(&mut *tx)
                        .await?;
                }
                tx.commit().await?;
                Ok(Some(value))
            }
        }
    }

    /// Forgets sessions that ended before `now` (housekeeping).
    pub async fn purge_sessions_before(&self, now: i64) -> StoreResult<u64> {
        Ok(match self.engine() {
            Engine::Sqlite(s) => s.db.write(|c| {
                c.prepare_cached("DELETE FROM web_sessions WHERE expires_at <= ?")?
                    .execute([now])
                    .map(|n| n as u64)
            })?,
            Engine::Postgres(pg) => sqlx::query("DELETE FROM web_sessions WHERE expires_at <= $1")
                .bind(now)
                .execute(pg)
                .await?
                .rows_affected(),
        })
    }
}
