//! What usage & insights read from the audit: the rows of some events over a time range
//! (by the `audit_event_at` index, one range per event), with the few fields of their
//! detail the reports use.

use rusqlite::params;

use sqlx::Row as _;

use super::{Engine, Store, StoreResult};

/// An audit row as the reports read it.
#[derive(Debug, Clone, Default)]
pub struct FlowEvent {
    pub event: String,
    pub reference: Option<String>,
    pub at: i64,
    pub kiosk_id: Option<String>,
    pub user_id: Option<String>,
    pub intent: Option<String>,
    pub decoy: bool,
    pub required: Option<i64>,
    pub done: Option<i64>,
    pub method: Option<String>,
    pub reason: Option<String>,
    pub directory: Option<String>,
}

impl Store {
    /// Rows of `events` from `from` (inclusive) to `to` (exclusive), on `kiosk` if given,
    /// in no particular order (sorting them would cost a temporary B-tree).
    pub async fn flow_events(
        &self,
        events: &'static [&'static str],
        from: i64,
        to: i64,
        kiosk: Option<String>,
    ) -> StoreResult<Vec<FlowEvent>> {
        let list = events
            .iter()
            .map(|e| format!("'{e}'"))
            .collect::<Vec<_>>()
            .join(",");
        let sql = format!(
            "SELECT event, reference, at_unix, kiosk_id,
                    json_extract(detail, '$.intent'), json_extract(detail, '$.decoy'),
                    json_extract(detail, '$.required'), json_extract(detail, '$.done'),
                    json_extract(detail, '$.method'), json_extract(detail, '$.reason'),
                    json_extract(detail, '$.directory'), user_id
             FROM audit
             WHERE event IN ({list}) AND at_unix >= ?1 AND at_unix < ?2
               AND (?3 IS NULL OR kiosk_id = ?3)"
        );
        if let Engine::Postgres(pg) = self.engine() {
            // The detail is JSON kept as text: read as jsonb, each field as SQLite's
            // json_extract gives it (a JSON true counts as a decoy, as 1 does there).
            let sql = format!(
                "SELECT event, reference, at_unix, kiosk_id,
                        d ->> 'intent', COALESCE((d ->> 'decoy')::BOOLEAN, FALSE),
                        (d ->> 'required')::BIGINT, (d ->> 'done')::BIGINT,
                        d ->> 'method', d ->> 'reason', d ->> 'directory', user_id
                 FROM (SELECT *, detail::jsonb AS d FROM audit
                       WHERE event IN ({list}) AND at_unix >= $1 AND at_unix < $2
                         AND ($3::TEXT IS NULL OR kiosk_id = $3)) AS rows"
            );
            return Ok(sqlx::query(&sql)
                .bind(from)
                .bind(to)
                .bind(kiosk)
                .fetch_all(pg)
                .await?
                .iter()
                .map(|r| {
                    Ok(FlowEvent {
                        event: r.try_get(0)?,
                        reference: r.try_get(1)?,
                        at: r.try_get(2)?,
                        kiosk_id: r.try_get(3)?,
                        intent: r.try_get(4)?,
                        decoy: r.try_get(5)?,
                        required: r.try_get(6)?,
                        done: r.try_get(7)?,
                        method: r.try_get(8)?,
                        reason: r.try_get(9)?,
                        directory: r.try_get(10)?,
                        user_id: r.try_get(11)?,
                    })
                })
                .collect::<sqlx::Result<Vec<_>>>()?);
        }
        self.db()?.read(move |c| {
            c.prepare_cached(&sql)?
                .query_map(params![from, to, kiosk], |r| {
                    Ok(FlowEvent {
                        event: r.get(0)?,
                        reference: r.get(1)?,
                        at: r.get(2)?,
                        kiosk_id: r.get(3)?,
                        intent: r.get(4)?,
                        decoy: r.get::<_, Option<i64>>(5)?.unwrap_or(0) != 0,
                        required: r.get(6)?,
                        done: r.get(7)?,
                        method: r.get(8)?,
                        reason: r.get(9)?,
                        directory: r.get(10)?,
                        user_id: r.get(11)?,
                    })
                })?
                .collect::<rusqlite::Result<Vec<_>>>()
        })
    }
}
