use super::{Store, StoreResult};

#[derive(Debug, Clone, serde::Serialize, sqlx::FromRow)]
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
            .map_err(|_| sqlx::Error::PoolClosed)
    }

    pub async fn audit(&self, q: &AuditQuery) -> StoreResult<Vec<AuditRow>> {
        let limit = if q.limit > 0 { q.limit } else { 1000 };
        sqlx::query_as::<_, AuditRow>(
            "SELECT id, at, event, outcome, correlation_id, kiosk_id, reference, login, user_id, detail
             FROM audit
             WHERE (?1 IS NULL OR login = ?1 COLLATE NOCASE OR user_id = ?1)
               AND (?2 IS NULL OR at_unix >= ?2)
               AND (?3 IS NULL OR reference = ?3 COLLATE NOCASE)
             ORDER BY id DESC LIMIT ?4",
        )
        .bind(&q.user)
        .bind(q.since)
        .bind(&q.reference)
        .bind(limit)
        .fetch_all(&self.read)
        .await
        .map(|mut rows| {
            rows.reverse();
            rows
        })
    }
}
