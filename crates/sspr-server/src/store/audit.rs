use rusqlite::{params, OptionalExtension};

use sqlx::Row as _;

use super::{Engine, Store, StoreError, StoreResult};

#[derive(Debug, Clone, serde::Serialize)]
pub struct AuditRow {
    pub id: i64,
    pub at: String,
    pub event: String,
    pub outcome: String,
    pub correlation_id: String,
    pub kiosk_id: Option<String>,
    pub reference: Option<String>,
    pub login: Option<String>,
    pub user_id: Option<String>,
    pub detail: String,
}

#[derive(Debug, Default)]
pub struct AuditQuery {
    /// A login or a directory user id.
    pub user: Option<String>,
    pub since: Option<i64>,
    pub reference: Option<String>,
    pub limit: i64,
}

impl Store {
    /// Hands the row to the batching writer; it is committed within moments (at once when
    /// the writer is idle), and before the process exits if `flush` is awaited.
    /// On PostgreSQL the row is committed before this returns (no batching writer yet).
    pub async fn insert_audit(&self, row: AuditRow, at_unix: i64) -> StoreResult<()> {
        match self.engine() {
            Engine::Sqlite(s) => s
                .batch
                .send(super::batch::Job::Audit(Box::new(row), at_unix))
                .await
                .map_err(|_| StoreError::Other("the audit writer stopped".into())),
            Engine::Postgres(pg) => {
                sqlx::query(
                    "INSERT INTO audit (at, at_unix, event, outcome, correlation_id, kiosk_id,
                         reference, login, user_id, detail)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
                )
                .bind(row.at)
                .bind(at_unix)
                .bind(row.event)
                .bind(row.outcome)
                .bind(row.correlation_id)
                .bind(row.kiosk_id)
                .bind(row.reference)
                .bind(row.login)
                .bind(row.user_id)
                .bind(row.detail)
                .execute(pg)
                .await?;
                Ok(())
            }
        }
    }

    /// Deletes the audit rows from before `before` (unix seconds), oldest first, a slice a
    /// commit so the writer is never held long; returns how many went.
    pub async fn purge_audit_before(&self, before: i64) -> StoreResult<usize> {
        const SLICE: usize = 5000;
        let mut total = 0;
        loop {
            let n = match self.engine() {
                Engine::Sqlite(_) => {
                    self.write_batched(move |c| {
                        c.prepare_cached(
                            "DELETE FROM audit WHERE id IN
                             (SELECT id FROM audit WHERE at_unix < ? ORDER BY at_unix LIMIT ?)",
                        )?
                        .execute(params![before, SLICE as i64])
                    })
                    .await?
                }
                Engine::Postgres(pg) => sqlx::query(
                    "DELETE FROM audit WHERE id IN
                     (SELECT id FROM audit WHERE at_unix < $1 ORDER BY at_unix LIMIT $2)",
                )
                .bind(before)
                .bind(SLICE as i64)
                .execute(pg)
                .await?
                .rows_affected() as usize,
            };
            total += n;
            if n < SLICE {
                return Ok(total);
            }
        }
    }

    pub async fn audit(&self, q: &AuditQuery) -> StoreResult<Vec<AuditRow>> {
        let limit = if q.limit > 0 { q.limit } else { 1000 };
        let s = match self.engine() {
            Engine::Sqlite(s) => s,
            Engine::Postgres(pg) => {
                // lower() for SQLite's NOCASE (which folds ASCII only: a login and a
                // reference are ASCII).
                let mut rows = sqlx::query(
                    "SELECT id, at, event, outcome, correlation_id, kiosk_id, reference, login,
                         user_id, detail
                     FROM audit
                     WHERE ($1::TEXT IS NULL OR lower(login) = lower($1) OR user_id = $1)
                       AND ($2::BIGINT IS NULL OR at_unix >= $2)
                       AND ($3::TEXT IS NULL OR lower(reference) = lower($3))
                     ORDER BY id DESC LIMIT $4",
                )
                .bind(&q.user)
                .bind(q.since)
                .bind(&q.reference)
                .bind(limit)
                .fetch_all(pg)
                .await?
                .iter()
                .map(audit_row_pg)
                .collect::<sqlx::Result<Vec<_>>>()?;
                rows.reverse();
                return Ok(rows);
            }
        };
        let mut rows = s.db.read(|c| {
            c.prepare_cached(
                "SELECT id, at, event, outcome, correlation_id, kiosk_id, reference, login, user_id, detail
                 FROM audit
                 WHERE (?1 IS NULL OR login = ?1 COLLATE NOCASE OR user_id = ?1)
                   AND (?2 IS NULL OR at_unix >= ?2)
                   AND (?3 IS NULL OR reference = ?3 COLLATE NOCASE)
                 ORDER BY id DESC LIMIT ?4",
            )?
            .query_map(params![q.user, q.since, q.reference, limit], |r| {
                Ok(AuditRow {
                    id: r.get(0)?,
                    at: r.get(1)?,
                    event: r.get(2)?,
                    outcome: r.get(3)?,
                    correlation_id: r.get(4)?,
                    kiosk_id: r.get(5)?,
                    reference: r.get(6)?,
                    login: r.get(7)?,
                    user_id: r.get(8)?,
                    detail: r.get(9)?,
                })
            })?
            .collect::<rusqlite::Result<Vec<_>>>()
        })?;
        rows.reverse();
        Ok(rows)
    }
}

/// The console's filters over the audit (each optional; all must hold).
#[derive(Debug, Default, Clone, serde::Deserialize)]
#[serde(default)]
pub struct AuditFilter {
    /// A login (any case) or a directory user id.
    pub login: Option<String>,
    pub kiosk: Option<String>,
    pub event: Option<String>,
    pub outcome: Option<String>,
    pub reference: Option<String>,
    /// Unix seconds, inclusive.
    pub since: Option<i64>,
    /// Unix seconds, exclusive.
    pub until: Option<i64>,
}

fn audit_row_pg(r: &sqlx::postgres::PgRow) -> sqlx::Result<AuditRow> {
    Ok(AuditRow {
        id: r.try_get(0)?,
        at: r.try_get(1)?,
        event: r.try_get(2)?,
        outcome: r.try_get(3)?,
        correlation_id: r.try_get(4)?,
        kiosk_id: r.try_get(5)?,
        reference: r.try_get(6)?,
        login: r.try_get(7)?,
        user_id: r.try_get(8)?,
        detail: r.try_get(9)?,
    })
}

fn audit_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<AuditRow> {
    Ok(AuditRow {
        id: r.get(0)?,
        at: r.get(1)?,
        event: r.get(2)?,
        outcome: r.get(3)?,
        correlation_id: r.get(4)?,
        kiosk_id: r.get(5)?,
        reference: r.get(6)?,
        login: r.get(7)?,
        user_id: r.get(8)?,
        detail: r.get(9)?,
    })
}

impl Store {
    /// Rows matching `f` with ids below `before` (None: from the newest), newest first,
    /// at most `limit`.
    pub async fn audit_filtered(
        &self,
        f: &AuditFilter,
        before: Option<i64>,
        limit: i64,
    ) -> StoreResult<Vec<AuditRow>> {
        if let Engine::Postgres(pg) = self.engine() {
            return Ok(sqlx::query(
                "SELECT id, at, event, outcome, correlation_id, kiosk_id, reference, login,
                     user_id, detail
                 FROM audit
                 WHERE ($1::TEXT IS NULL OR lower(login) = lower($1) OR user_id = $1)
                   AND ($2::TEXT IS NULL OR kiosk_id = $2)
                   AND ($3::TEXT IS NULL OR event = $3)
                   AND ($4::TEXT IS NULL OR outcome = $4)
                   AND ($5::TEXT IS NULL OR lower(reference) = lower($5))
                   AND ($6::BIGINT IS NULL OR at_unix >= $6)
                   AND ($7::BIGINT IS NULL OR at_unix < $7)
                   AND id < $8
                 ORDER BY id DESC LIMIT $9",
            )
            .bind(&f.login)
            .bind(&f.kiosk)
            .bind(&f.event)
            .bind(&f.outcome)
            .bind(&f.reference)
            .bind(f.since)
            .bind(f.until)
            .bind(before.unwrap_or(i64::MAX))
            .bind(limit)
            .fetch_all(pg)
            .await?
            .iter()
            .map(audit_row_pg)
            .collect::<sqlx::Result<Vec<_>>>()?);
        }
        let f = f.clone();
        self.sqlite()?.db.read(move |c| {
            c.prepare_cached(
                "SELECT id, at, event, outcome, correlation_id, kiosk_id, reference, login, user_id, detail
                 FROM audit
                 WHERE (?1 IS NULL OR login = ?1 COLLATE NOCASE OR user_id = ?1)
                   AND (?2 IS NULL OR kiosk_id = ?2)
                   AND (?3 IS NULL OR event = ?3)
                   AND (?4 IS NULL OR outcome = ?4)
                   AND (?5 IS NULL OR reference = ?5 COLLATE NOCASE)
                   AND (?6 IS NULL OR at_unix >= ?6)
                   AND (?7 IS NULL OR at_unix < ?7)
                   AND id < ?8
                 ORDER BY id DESC LIMIT ?9",
            )?
            .query_map(
                // A plain bound on the rowid (not "NULL or ..."), so each page or export
                // slice starts where the last ended instead of scanning from the newest.
                params![
                    f.login,
                    f.kiosk,
                    f.event,
                    f.outcome,
                    f.reference,
                    f.since,
                    f.until,
                    before.unwrap_or(i64::MAX),
                    limit
                ],
                audit_row,
            )?
            .collect::<rusqlite::Result<Vec<_>>>()
        })
    }

    /// How many rows of each of `events` since `since` (unix seconds): the overview's
    /// day. One range of the event index each (a GROUP BY over the index would read every
    /// event's whole range).
    pub async fn audit_event_counts(
        &self,
        events: &'static [&'static str],
        since: i64,
    ) -> StoreResult<Vec<(String, i64)>> {
        if let Engine::Postgres(pg) = self.engine() {
            let mut out = Vec::new();
            for e in events {
                let n: i64 = sqlx::query_scalar(
                    "SELECT COUNT(*) FROM audit WHERE event = $1 AND at_unix >= $2",
                )
                .bind(e)
                .bind(since)
                .fetch_one(pg)
                .await?;
                out.push((e.to_string(), n));
            }
            return Ok(out);
        }
        self.sqlite()?.db.read(move |c| {
            let mut stmt =
                c.prepare_cached("SELECT COUNT(*) FROM audit WHERE event = ?1 AND at_unix >= ?2")?;
            let mut out = Vec::new();
            for e in events {
                let n: i64 = stmt.query_row(params![e, since], |r| r.get(0))?;
                out.push((e.to_string(), n));
            }
            Ok(out)
        })
    }

    /// Flows started on each kiosk since `since`.
    pub async fn flows_by_kiosk(&self, since: i64) -> StoreResult<Vec<(String, i64)>> {
        if let Engine::Postgres(pg) = self.engine() {
            return Ok(sqlx::query_as(
                "SELECT kiosk_id, COUNT(*) FROM audit
                 WHERE at_unix >= $1 AND event = 'flow_started' AND kiosk_id IS NOT NULL
                 GROUP BY kiosk_id",
            )
            .bind(since)
            .fetch_all(pg)
            .await?);
        }
        self.sqlite()?.db.read(move |c| {
            c.prepare_cached(
                "SELECT kiosk_id, COUNT(*) FROM audit
                 WHERE at_unix >= ?1 AND event = 'flow_started' AND kiosk_id IS NOT NULL
                 GROUP BY kiosk_id",
            )?
            .query_map(params![since], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<Vec<_>>>()
        })
    }

    /// The newest row of any of `events` naming `directory` in its detail: (unix time,
    /// detail). A directory's last write, or its last failure. Each event's range of the
    /// index is read from its newest row back, until one names the directory.
    pub async fn last_directory_event(
        &self,
        directory: &str,
        events: &'static [&'static str],
    ) -> StoreResult<Option<(i64, String)>> {
        if let Engine::Postgres(pg) = self.engine() {
            let mut newest: Option<(i64, String)> = None;
            for e in events {
                // The detail is JSON kept as text (as on SQLite): read as jsonb here.
                let row: Option<(i64, String)> = sqlx::query_as(
                    "SELECT at_unix, detail FROM audit
                     WHERE event = $1 AND detail::jsonb ->> 'directory' = $2
                     ORDER BY at_unix DESC LIMIT 1",
                )
                .bind(e)
                .bind(directory)
                .fetch_optional(pg)
                .await?;
                if let Some(row) = row {
                    if newest.as_ref().is_none_or(|n| row.0 > n.0) {
                        newest = Some(row);
                    }
                }
            }
            return Ok(newest);
        }
        let directory = directory.to_string();
        self.sqlite()?.db.read(move |c| {
            let mut stmt = c.prepare_cached(
                "SELECT at_unix, detail FROM audit
                 WHERE event = ?1 AND json_extract(detail, '$.directory') = ?2
                 ORDER BY at_unix DESC LIMIT 1",
            )?;
            let mut newest: Option<(i64, String)> = None;
            for e in events {
                let row: Option<(i64, String)> = stmt
                    .query_row(params![e, directory], |r| Ok((r.get(0)?, r.get(1)?)))
                    .optional()?;
                if let Some(row) = row {
                    if newest.as_ref().is_none_or(|n| row.0 > n.0) {
                        newest = Some(row);
                    }
                }
            }
            Ok(newest)
        })
    }
}

impl Store {
    /// Every row of the attempt with this reference code (oldest first, at most 500),
    /// read without an index on references (each would cost a random page a row
    /// written): the flow's time comes from the flows table (a day's flows) or from the
    /// flows started or refused (their range of the event index), then its rows from the
    /// time index within its life.
    pub async fn attempt_rows(&self, reference: &str) -> StoreResult<Vec<AuditRow>> {
        if let Engine::Postgres(pg) = self.engine() {
            return attempt_rows_pg(pg, reference).await;
        }
        let reference = reference.to_string();
        self.sqlite()?.db.read(move |c| {
            let from_flows: Option<(i64, i64)> = c
                .prepare_cached(
                    "SELECT created_at, expires_at FROM flows WHERE reference = ?1
                     ORDER BY created_at DESC LIMIT 1",
                )?
                .query_row(params![reference], |r| Ok((r.get(0)?, r.get(1)?)))
                .optional()?;
            let window = match from_flows {
                Some(w) => Some(w),
                None => c
                    .prepare_cached(
                        "SELECT at_unix FROM audit
                         WHERE event IN ('flow_started', 'flow_refused') AND reference = ?1
                         ORDER BY at_unix DESC LIMIT 1",
                    )?
                    .query_row(params![reference], |r| r.get::<_, i64>(0))
                    .optional()?
                    .map(|t| (t, t + 15 * 60)),
            };
            let Some((from, to)) = window else {
                return Ok(Vec::new());
            };
            c.prepare_cached(
                "SELECT id, at, event, outcome, correlation_id, kiosk_id, reference, login, user_id, detail
                 FROM audit
                 WHERE at_unix >= ?2 AND at_unix <= ?3 AND reference = ?1
                 ORDER BY id LIMIT 500",
            )?
            .query_map(params![reference, from - 1, to + 3600], audit_row)?
            .collect::<rusqlite::Result<Vec<_>>>()
        })
    }
}

/// `Store::attempt_rows` on PostgreSQL: the same three reads, in one snapshot.
async fn attempt_rows_pg(pg: &sqlx::PgPool, reference: &str) -> StoreResult<Vec<AuditRow>> {
    let mut tx = pg.begin().await?;
    sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        .execute(&mut *tx)
        .await?;
    let from_flows: Option<(i64, i64)> = sqlx::query_as(
        "SELECT created_at, expires_at FROM flows WHERE reference = $1
         ORDER BY created_at DESC LIMIT 1",
    )
    .bind(reference)
    .fetch_optional(&mut *tx)
    .await?;
    let window = match from_flows {
        Some(w) => Some(w),
        None => sqlx::query_scalar::<_, i64>(
            "SELECT at_unix FROM audit
             WHERE event IN ('flow_started', 'flow_refused') AND reference = $1
             ORDER BY at_unix DESC LIMIT 1",
        )
        .bind(reference)
        .fetch_optional(&mut *tx)
        .await?
        .map(|t| (t, t + 15 * 60)),
    };
    let Some((from, to)) = window else {
        return Ok(Vec::new());
    };
    let rows = sqlx::query(
        "SELECT id, at, event, outcome, correlation_id, kiosk_id, reference, login, user_id,
             detail
         FROM audit
         WHERE at_unix >= $2 AND at_unix <= $3 AND reference = $1
         ORDER BY id LIMIT 500",
    )
    .bind(reference)
    .bind(from - 1)
    .bind(to + 3600)
    .fetch_all(&mut *tx)
    .await?
    .iter()
    .map(audit_row_pg)
    .collect::<sqlx::Result<Vec<_>>>()?;
    tx.commit().await?;
    Ok(rows)
}
