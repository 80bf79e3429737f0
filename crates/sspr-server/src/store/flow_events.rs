//! What the server pushes to a kiosk about its flow, as rows in order (`flow_events`), so
//! a kiosk's event stream on any process sends every event, and one that reconnects
//! resumes after the last it had (`Last-Event-ID` is a row's id). On PostgreSQL each row
//! is announced to every process with `NOTIFY` on `FLOW_EVENTS`: its payload is the flow's
//! id and the row's, never the event (a payload is not a place for anything a kiosk
//! shouldn't see, and PostgreSQL limits it to 8,000 bytes); the listening process reads
//! the row itself.

use rusqlite::OptionalExtension;

use super::{Engine, Store, StoreResult};

/// The PostgreSQL channel new flow events are announced on.
pub const FLOW_EVENTS: &str = "sspr_flow_events";

/// A flow event as stored: its id, and its JSON (None: nothing to show yet).
pub type StoredEvent = (i64, Option<String>);

impl Store {
    /// Adds an event of `flow_id` (its JSON; None clears what a new listener is shown
    /// first) and announces it on PostgreSQL, in one statement; returns its id.
    pub async fn add_flow_event(
        &self,
        flow_id: &str,
        event: Option<&str>,
        now: i64,
    ) -> StoreResult<i64> {
        Ok(match self.engine() {
            Engine::Sqlite(s) => s.db.write(|c| {
                c.prepare_cached(
                    "INSERT INTO flow_events (flow_id, event, created_at) VALUES (?, ?, ?)
                     RETURNING id",
                )?
                .query_row(rusqlite::params![flow_id, event, now], |r| r.get(0))
            })?,
            Engine::Postgres(pg) => {
                // The announcement goes out when the row is committed, with it.
                sqlx::query_scalar(
                    "WITH added AS (
                         INSERT INTO flow_events (flow_id, event, created_at) VALUES ($1, $2, $3)
                         RETURNING id
                     )
                     SELECT added.id FROM added,
                         LATERAL (SELECT pg_notify($4, $1 || ' ' || added.id)) AS announced",
                )
                .bind(flow_id)
                .bind(event)
                .bind(now)
                .bind(FLOW_EVENTS)
                .fetch_one(pg)
                .await?
            }
        })
    }

    /// The latest event of `flow_id`, if it has any.
    pub async fn latest_flow_event(&self, flow_id: &str) -> StoreResult<Option<StoredEvent>> {
        Ok(match self.engine() {
            Engine::Sqlite(s) => s.db.read(|c| {
                c.prepare_cached(
                    "SELECT id, event FROM flow_events WHERE flow_id = ? ORDER BY id DESC LIMIT 1",
                )?
                .query_row([flow_id], |r| Ok((r.get(0)?, r.get(1)?)))
                .optional()
            })?,
            Engine::Postgres(pg) => {
                sqlx::query_as(
                    "SELECT id, event FROM flow_events WHERE flow_id = $1
                     ORDER BY id DESC LIMIT 1",
                )
                .bind(flow_id)
                .fetch_optional(pg)
                .await?
            }
        })
    }

    /// One event of `flow_id` by its id (as a NOTIFY named it).
    pub async fn flow_event(&self, flow_id: &str, id: i64) -> StoreResult<Option<StoredEvent>> {
        Ok(match self.engine() {
            Engine::Sqlite(s) => s.db.read(|c| {
                c.prepare_cached("SELECT id, event FROM flow_events WHERE id = ? AND flow_id = ?")?
                    .query_row(rusqlite::params![id, flow_id], |r| {
                        Ok((r.get(0)?, r.get(1)?))
                    })
                    .optional()
            })?,
            Engine::Postgres(pg) => {
                sqlx::query_as("SELECT id, event FROM flow_events WHERE id = $1 AND flow_id = $2")
                    .bind(id)
                    .bind(flow_id)
                    .fetch_optional(pg)
                    .await?
            }
        })
    }

    /// A connection listening for new flow events (PostgreSQL only: on SQLite one process
    /// serves the store, and it hands its events over in memory).
    pub async fn listen_flow_events(&self) -> StoreResult<Option<sqlx::postgres::PgListener>> {
        let Engine::Postgres(pg) = self.engine() else {
            return Ok(None);
        };
        let mut listener = sqlx::postgres::PgListener::connect_with(pg).await?;
        listener.listen(FLOW_EVENTS).await?;
        Ok(Some(listener))
    }

    /// Forgets events older than `before` (housekeeping; a flow lives minutes).
    pub async fn purge_flow_events_before(&self, before: i64) -> StoreResult<()> {
        match self.engine() {
            Engine::Sqlite(s) => s.db.write(|c| {
                c.prepare_cached("DELETE FROM flow_events WHERE created_at < ?")?
                    .execute([before])
                    .map(drop)
            })?,
            Engine::Postgres(pg) => {
                sqlx::query("DELETE FROM flow_events WHERE created_at < $1")
                    .bind(before)
                    .execute(pg)
                    .await?;
            }
        }
        Ok(())
    }
}
