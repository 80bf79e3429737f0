//! The batching writer: audit rows and signature nonces from many requests go to the store
//! in one transaction, as soon as the previous one committed (no timer: one request alone
//! is written at once). Jobs are taken in order, so a flush covers everything before it.

use sqlx::{QueryBuilder, Sqlite, SqlitePool};
use tokio::sync::{mpsc, oneshot};

use super::{AuditRow, StoreResult};

/// Jobs waiting beyond this make `record` wait: memory stays bounded under overload.
const QUEUE: usize = 8192;
/// Rows in one INSERT (SQLite allows 32766 bound values; an audit row binds 10).
const ROWS_PER_INSERT: usize = 256;

pub(super) enum Job {
    Audit(Box<AuditRow>, i64),
    /// Acknowledged once the nonce is committed.
    Nonce {
        kiosk_id: String,
        nonce: String,
        seen_at: i64,
        done: oneshot::Sender<StoreResult<()>>,
    },
    Flush(oneshot::Sender<()>),
}

#[derive(Clone)]
pub(super) struct Batcher {
    jobs: mpsc::Sender<Job>,
}

impl Batcher {
    pub fn start(pool: SqlitePool) -> Batcher {
        let (jobs, queue) = mpsc::channel(QUEUE);
        tokio::spawn(run(pool, queue));
        Batcher { jobs }
    }

    pub async fn send(&self, job: Job) -> Result<(), Job> {
        self.jobs.send(job).await.map_err(|e| e.0)
    }

    pub async fn flush(&self) {
        let (done, flushed) = oneshot::channel();
        if self.jobs.send(Job::Flush(done)).await.is_ok() {
            let _ = flushed.await;
        }
    }
}

async fn run(pool: SqlitePool, mut queue: mpsc::Receiver<Job>) {
    let mut jobs = Vec::new();
    while queue.recv_many(&mut jobs, 4 * ROWS_PER_INSERT).await > 0 {
        let mut audit = Vec::new();
        let mut nonces = Vec::new();
        let mut acks = Vec::new();
        let mut flushes = Vec::new();
        for job in jobs.drain(..) {
            match job {
                Job::Audit(row, at) => audit.push((row, at)),
                Job::Nonce {
                    kiosk_id,
                    nonce,
                    seen_at,
                    done,
                } => {
                    nonces.push((kiosk_id, nonce, seen_at));
                    acks.push(done);
                }
                Job::Flush(done) => flushes.push(done),
            }
        }
        let result = write(&pool, &audit, &nonces).await;
        if let Err(e) = &result {
            tracing::error!(error = %e, rows = audit.len(), "writing audit rows failed");
        }
        for ack in acks {
            let _ = ack.send(match &result {
                Ok(()) => Ok(()),
                Err(e) => Err(sqlx::Error::Protocol(format!("storing the nonce: {e}"))),
            });
        }
        for done in flushes {
            let _ = done.send(());
        }
    }
}

/// One transaction for the lot; a lone statement needs none.
async fn write(
    pool: &SqlitePool,
    audit: &[(Box<AuditRow>, i64)],
    nonces: &[(String, String, i64)],
) -> StoreResult<()> {
    let statements = audit.len().div_ceil(ROWS_PER_INSERT) + nonces.len().div_ceil(ROWS_PER_INSERT);
    if statements == 0 {
        return Ok(());
    }
    if statements == 1 {
        let mut conn = pool.acquire().await?;
        return insert(&mut conn, audit, nonces).await;
    }
    let mut tx = pool.begin().await?;
    insert(&mut tx, audit, nonces).await?;
    tx.commit().await
}

async fn insert(
    conn: &mut sqlx::SqliteConnection,
    audit: &[(Box<AuditRow>, i64)],
    nonces: &[(String, String, i64)],
) -> StoreResult<()> {
    for chunk in nonces.chunks(ROWS_PER_INSERT) {
        let mut q = QueryBuilder::<Sqlite>::new("INSERT INTO nonces (kiosk_id, nonce, seen_at) ");
        q.push_values(chunk, |mut b, (kiosk, nonce, at)| {
            b.push_bind(kiosk).push_bind(nonce).push_bind(*at);
        });
        q.push(" ON CONFLICT (kiosk_id, nonce) DO NOTHING");
        q.build().execute(&mut *conn).await?;
    }
    for chunk in audit.chunks(ROWS_PER_INSERT) {
        let mut q = QueryBuilder::<Sqlite>::new(
            "INSERT INTO audit (at, at_unix, event, outcome, correlation_id, kiosk_id, reference, login, user_id, detail) ",
        );
        q.push_values(chunk, |mut b, (row, at_unix)| {
            b.push_bind(&row.at)
                .push_bind(*at_unix)
                .push_bind(&row.event)
                .push_bind(&row.outcome)
                .push_bind(&row.correlation_id)
                .push_bind(&row.kiosk_id)
                .push_bind(&row.reference)
                .push_bind(&row.login)
                .push_bind(&row.user_id)
                .push_bind(&row.detail);
        });
        q.build().execute(&mut *conn).await?;
    }
    Ok(())
}
