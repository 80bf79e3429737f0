use rusqlite::params;

use super::{Store, StoreError, StoreResult};

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
    pub async fn insert_audit(&self, row: AuditRow, at_unix: i64) -> StoreResult<()> {
        self.batch
            .send(super::batch::Job::Audit(Box::new(row), at_unix))
            .await
            .map_err(|_| StoreError::Other("the audit writer stopped".into()))
    }

    /// Deletes the audit rows from before `before` (unix seconds), oldest first, a slice a
    /// commit so the writer is never held long; returns how many went.
    pub async fn purge_audit_before(&self, before: i64) -> StoreResult<usize> {
        const SLICE: usize = 5000;
        let mut total = 0;
        loop {
            let n = self
                .write_batched(move |c| {
                    c.prepare_cached(
                        "DELETE FROM audit WHERE id IN
                         (SELECT id FROM audit WHERE at_unix < ? ORDER BY at_unix LIMIT ?)",
                    )?
                    .execute(params![before, SLICE as i64])
                })
                .await?;
            total += n;
            if n < SLICE {
                return Ok(total);
            }
        }
    }

    pub async fn audit(&self, q: &AuditQuery) -> StoreResult<Vec<AuditRow>> {
        let limit = if q.limit > 0 { q.limit } else { 1000 };
        let mut rows = self.db.read(|c| {
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
