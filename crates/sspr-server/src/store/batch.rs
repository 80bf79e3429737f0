//! The batching writer: audit rows, signature nonces and the writes of the busiest steps
//! (`Job::Write`) from many requests go to the store in one transaction, as soon as the
//! previous one committed (no timer: one request alone is written at once). A commit costs
//! far more than the rows in it, so this is what lets the store keep up under load. Jobs
//! are taken in order, so a flush covers everything before it. The writer has a thread of
//! its own: a commit never holds up a request's thread.

use std::sync::Arc;

use rusqlite::Connection;
use tokio::sync::{mpsc, oneshot};

use super::{AuditRow, Db, StoreError, StoreResult};

/// Jobs waiting beyond this make `record` wait: memory stays bounded under overload.
const QUEUE: usize = 8192;
/// Jobs in one transaction at most.
const PER_TRANSACTION: usize = 1024;
/// A kiosk's `last_seen_at` is written at most this often (seconds): with the nonces, in
/// the same transaction, so a busy kiosk costs one more row write a minute, not a request.
pub(super) const SEEN_EVERY: i64 = 60;

pub(super) enum Job {
    Audit(Box<AuditRow>, i64),
    /// Acknowledged once the nonce is committed.
    Nonce {
        kiosk_id: String,
        nonce: String,
        seen_at: i64,
        done: oneshot::Sender<StoreResult<()>>,
    },
    /// Statements of one request, all or none (a savepoint of their own), acknowledged
    /// once committed.
    Write(WriteFn, oneshot::Sender<StoreResult<()>>),
    Flush(oneshot::Sender<()>),
}

pub(super) type WriteFn = Box<dyn FnOnce(&Connection) -> rusqlite::Result<()> + Send>;

#[derive(Clone)]
pub(super) struct Batcher {
    jobs: mpsc::Sender<Job>,
}

impl Batcher {
    pub fn start(db: Arc<Db>) -> Batcher {
        let (jobs, queue) = mpsc::channel(QUEUE);
        let spawned = std::thread::Builder::new()
            .name("sspr-store-writer".into())
            .spawn(move || run(&db, queue));
        if let Err(e) = spawned {
            // Every write then fails with "the writer stopped", and says so.
            tracing::error!(error = %e, "starting the store's writer thread failed");
        }
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

fn run(db: &Db, mut queue: mpsc::Receiver<Job>) {
    let mut jobs = Vec::new();
    // When each kiosk's last_seen_at was last written, as this thread knows.
    let mut seen: std::collections::HashMap<String, i64> = Default::default();
    while queue.blocking_recv_many(&mut jobs, PER_TRANSACTION) > 0 {
        let mut audit = Vec::new();
        let mut nonces = Vec::new();
        let mut acks = Vec::new();
        let mut writes = Vec::new();
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
                Job::Write(f, done) => writes.push((f, done)),
                Job::Flush(done) => flushes.push(done),
            }
        }
        let mut touch: Vec<(String, i64)> = Vec::new();
        for (kiosk, _, at) in &nonces {
            let last = seen.get(kiosk).copied().unwrap_or(i64::MIN);
            if *at >= last.saturating_add(SEEN_EVERY) {
                seen.insert(kiosk.clone(), *at);
                touch.push((kiosk.clone(), *at));
            }
        }
        let mut outcomes = Vec::with_capacity(writes.len());
        let result = write(db, &audit, &nonces, &touch, writes, &mut outcomes);
        if let Err(e) = &result {
            tracing::error!(error = %e, rows = audit.len(), "writing audit rows failed");
        }
        for ack in acks {
            let _ = ack.send(match &result {
                Ok(()) => Ok(()),
                Err(e) => Err(e.shared("storing the nonce")),
            });
        }
        for (done, outcome) in outcomes {
            let _ = done.send(match (&result, outcome) {
                (Ok(()), outcome) => outcome,
                (Err(e), _) => Err(e.shared("committing")),
            });
        }
        for done in flushes {
            let _ = done.send(());
        }
        // Right after a background checkpoint, when little is left to copy.
        if db.checkpointed() {
            if let Err(e) = db.restart_wal() {
                tracing::warn!(error = %e, "restarting the store's WAL failed");
            }
        }
    }
}

type Ack = oneshot::Sender<StoreResult<()>>;

/// One transaction for the lot. Each `Job::Write` is a savepoint: one that fails is undone
/// alone and its request told (in `outcomes`, answered once the rest committed). Every
/// job's acknowledgement is in `outcomes` whatever happens; when the transaction fails as
/// a whole, the caller answers them all with that error.
fn write(
    db: &Db,
    audit: &[(Box<AuditRow>, i64)],
    nonces: &[(String, String, i64)],
    touch: &[(String, i64)],
    writes: Vec<(WriteFn, Ack)>,
    outcomes: &mut Vec<(Ack, StoreResult<()>)>,
) -> StoreResult<()> {
    if audit.is_empty() && nonces.is_empty() && writes.is_empty() {
        return Ok(());
    }
    let mut jobs = Vec::with_capacity(writes.len());
    for (f, done) in writes {
        jobs.push(f);
        outcomes.push((done, Ok(())));
    }
    db.transaction(|c| {
        for (f, (_, outcome)) in jobs.into_iter().zip(outcomes.iter_mut()) {
            c.prepare_cached("SAVEPOINT job")?.execute([])?;
            // A panicking job fails alone; the writer thread goes on for everyone else.
            let result = match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(c))) {
                Ok(result) => result.map_err(StoreError::from),
                Err(_) => Err(StoreError::Other("a batched write panicked".into())),
            };
            if result.is_err() {
                c.prepare_cached("ROLLBACK TO job")?.execute([])?;
            }
            c.prepare_cached("RELEASE job")?.execute([])?;
            *outcome = result;
        }
        if !nonces.is_empty() {
            let mut insert = c.prepare_cached(
                // Each nonce once: `remember_nonce` lets only unseen ones through.
                "INSERT INTO nonces (kiosk_id, nonce, seen_at) VALUES (?, ?, ?)",
            )?;
            for (kiosk, nonce, at) in nonces {
                insert.execute(rusqlite::params![kiosk, nonce, at])?;
            }
        }
        for (kiosk, at) in touch {
            c.prepare_cached("UPDATE kiosks SET last_seen_at = ? WHERE id = ?")?
                .execute(rusqlite::params![at, kiosk])?;
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
