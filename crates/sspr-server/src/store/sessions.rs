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

/// A session's row but its id and kind: whom it belongs to, its sealed data, when it
/// ends, and when something is due to happen to it unasked.
pub struct SessionRow {
    pub owner: Option<String>,
    pub data: String,
    pub expires_at: i64,
    pub due_at: Option<i64>,
}

/// What a change to a session leaves: its new row, or None when nothing changed (nothing
/// is written).
pub type Changed = Option<SessionRow>;

impl Store {
    /// Stores a new session (a cookie is random: an id never repeats). With `alone`, the
    /// owner's other sessions of this kind end in the same transaction (a new approval
    /// replaces the flow's earlier one).
    pub async fn put_session(
        &self,
        id: &str,
        kind: &str,
        row: &SessionRow,
        alone: bool,
    ) -> StoreResult<()> {
        let SessionRow {
            owner,
            data,
            expires_at,
            due_at,
        } = row;
        match self.engine() {
            Engine::Sqlite(s) => s.db.transaction(|c| {
                if alone {
                    c.prepare_cached("DELETE FROM web_sessions WHERE kind = ? AND owner = ?")?
                        .execute(rusqlite::params![kind, owner])?;
                }
                c.prepare_cached(
                    "INSERT OR REPLACE INTO web_sessions (id, kind, owner, data, expires_at, due_at)
                     VALUES (?, ?, ?, ?, ?, ?)",
                )?
                .execute(rusqlite::params![id, kind, owner, data, expires_at, due_at])
                .map(drop)
            }),
            Engine::Postgres(pg) => {
                let mut tx = pg.begin().await?;
                if alone {
                    sqlx::query("DELETE FROM web_sessions WHERE kind = $1 AND owner = $2")
                        .bind(kind)
                        .bind(owner)
                        .execute(&mut *tx)
                        .await?;
                }
                sqlx::query(
                    "INSERT INTO web_sessions (id, kind, owner, data, expires_at, due_at)
                     VALUES ($1, $2, $3, $4, $5, $6)
                     ON CONFLICT (id) DO UPDATE
                         SET kind = EXCLUDED.kind, owner = EXCLUDED.owner, data = EXCLUDED.data,
                             expires_at = EXCLUDED.expires_at, due_at = EXCLUDED.due_at",
                )
                .bind(id)
                .bind(kind)
                .bind(owner)
                .bind(data)
                .bind(expires_at)
                .bind(due_at)
                .execute(&mut *tx)
                .await?;
                tx.commit().await?;
                Ok(())
            }
        }
    }

    /// The sessions of `kind` something is due to happen to at `now` (their ids).
    pub async fn due_sessions(&self, kind: &str, now: i64) -> StoreResult<Vec<String>> {
        Ok(match self.engine() {
            Engine::Sqlite(s) => s.db.read(|c| {
                c.prepare_cached(
                    "SELECT id FROM web_sessions
                     WHERE due_at IS NOT NULL AND due_at <= ? AND kind = ?",
                )?
                .query_map(rusqlite::params![now, kind], |r| r.get(0))?
                .collect()
            })?,
            Engine::Postgres(pg) => {
                sqlx::query_scalar(
                    "SELECT id FROM web_sessions
                     WHERE due_at IS NOT NULL AND due_at <= $1 AND kind = $2",
                )
                .bind(now)
                .bind(kind)
                .fetch_all(pg)
                .await?
            }
        })
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
                if let Some(row) = changed {
                    c.prepare_cached(
                        "UPDATE web_sessions SET owner = ?, data = ?, expires_at = ?, due_at = ?
                         WHERE id = ?",
                    )?
                    .execute(rusqlite::params![
                        row.owner,
                        row.data,
                        row.expires_at,
                        row.due_at,
                        id
                    ])?;
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
                if let Some(row) = changed {
                    sqlx::query(
                        "UPDATE web_sessions SET owner = $1, data = $2, expires_at = $3, due_at = $4
                         WHERE id = $5",
                    )
                    .bind(row.owner)
                    .bind(row.data)
                    .bind(row.expires_at)
                    .bind(row.due_at)
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
