//! The batching writer: audit rows and signature nonces from many requests go to the store
//! in one transaction, as soon as the previous one committed (no timer: one request alone
//! is written at once). Jobs are taken in order, so a flush covers everything before it.

use std::sync::Arc;

use tokio::sync::{mpsc, oneshot};

use super::{AuditRow, Db, StoreError, StoreResult};

/// Jobs waiting beyond this make `record` wait: memory stays bounded under overload.
const QUEUE: usize = 8192;
/// Jobs in one transaction at most.
const PER_TRANSACTION: usize = 1024;

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
    pub fn start(db: Arc<Db>) -> Batcher {
        let (jobs, queue) = mpsc::channel(QUEUE);
        tokio::spawn(run(db, queue));
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

async fn run(db: Arc<Db>, mut queue: mpsc::Receiver<Job>) {
    let mut jobs = Vec::new();
    while queue.recv_many(&mut jobs, PER_TRANSACTION).await > 0 {
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
        let result = write(&db, &audit, &nonces);
        if let Err(e) = &result {
            tracing::error!(error = %e, rows = audit.len(), "writing audit rows failed");
        }
        for ack in acks {
            let _ = ack.send(match &result {
                Ok(()) => Ok(()),
                Err(e) => Err(StoreError::Other(format!("storing the nonce: {e}"))),
            });
        }
        for done in flushes {
            let _ = done.send(());
        }
    }
}

/// One transaction for the lot.
fn write(
    db: &Db,
    audit: &[(Box<AuditRow>, i64)],
    nonces: &[(String, String, i64)],
) -> StoreResult<()> {
    if audit.is_empty() && nonces.is_empty() {
        return Ok(());
    }
    db.transaction(|c| {
        if !nonces.is_empty() {
            let mut insert = c.prepare_cached(
                "INSERT INTO nonces (kiosk_id, nonce, seen_at) VALUES (?, ?, ?)
                 ON CONFLICT (kiosk_id, nonce) DO NOTHING",
            )?;
            for (kiosk, nonce, at) in nonces {
                insert.execute(rusqlite::params![kiosk, nonce, at])?;
            }
        }
        if !audit.is_empty() {
            let mut insert = c.prepare_cached(
                "INSERT INTO audit (at, at_unix, event, outcome, correlation_id, kiosk_id, reference, login, user_id, detail)
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            )?;
            for (row, at_unix) in audit {
                insert.execute(rusqlite::params![
                    row.at,
                    at_unix,
                    row.event,
                    row.outcome,
                    row.correlation_id,
                    row.kiosk_id,
                    row.reference,
                    row.login,
                    row.user_id,
                    row.detail,
                ])?;
            }
        }
        Ok(())
    })
}
