//! Password hashing (argon2id, tens of milliseconds of CPU each) on threads of their own,
//! scheduled as SCHED_IDLE: a request thread woken on a core that is hashing takes it at
//! once, instead of waiting out the hash's time slice. (Measured with `perf sched` on 2
//! cores: request threads still waited up to 8 ms now and then, queued on the other,
//! busy core; p99 at 64 concurrent flows didn't move, so the tail lies elsewhere.)
//! Under load the hashes use whatever CPU the other steps leave, and one thread a core
//! keeps every core hashing when nothing else needs it. The price: a server whose cores
//! are saturated by other work (a flood of identify requests) finishes resets slowly
//! until the flood ends, rather than answering everything slowly.

use std::sync::{Arc, Mutex};

use tokio::sync::{mpsc, oneshot};

/// Runs the hash unless nobody waits for it any more (the request went away).
type Job = Box<dyn FnOnce() + Send>;

/// Hashes waiting at most: more requests wait for room (each on its own task, holding no
/// thread), so a flood of sign-ins can't pile up unbounded work.
const QUEUE: usize = 64;

pub struct Hasher {
    jobs: mpsc::Sender<Job>,
    /// Jobs run to the end, for the tests that check a path hashes at all.
    finished: Arc<std::sync::atomic::AtomicU64>,
}

impl Hasher {
    /// `threads` hashing threads (one a core is right: a hash is pure CPU).
    pub fn start(threads: usize) -> Hasher {
        let (jobs, queue) = mpsc::channel::<Job>(QUEUE);
        let queue = Arc::new(Mutex::new(queue));
        for n in 0..threads.max(1) {
            let queue = queue.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("sspr-hash-{n}"))
                .spawn(move || {
                    lower_priority();
                    loop {
                        // The lock is let go before the job runs.
                        let job = match queue.lock() {
                            Ok(mut queue) => queue.blocking_recv(),
                            Err(_) => return,
                        };
                        match job {
                            Some(job) => job(),
                            None => return,
                        }
                    }
                });
            if let Err(e) = spawned {
                tracing::error!(error = %e, "starting a password hashing thread failed");
            }
        }
        Hasher {
            jobs,
            finished: Arc::default(),
        }
    }

    /// How many jobs ran to the end (not those skipped because nobody waited any more).
    #[cfg(test)]
    pub fn finished(&self) -> u64 {
        self.finished.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Runs `f` on a hashing thread; waits without holding a request thread.
    pub async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> anyhow::Result<T> {
        let (done, answer) = oneshot::channel();
        let finished = self.finished.clone();
        let job: Job = Box::new(move || {
            if !done.is_closed() {
                let out = f();
                finished.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let _ = done.send(out);
            }
        });
        self.jobs
            .send(job)
            .await
            .map_err(|_| anyhow::anyhow!("the hashing threads stopped"))?;
        answer
            .await
            .map_err(|_| anyhow::anyhow!("a hashing thread stopped"))
    }
}

/// The calling thread only: Linux schedules each thread on its own.
fn lower_priority() {
    use thread_priority::{NormalThreadSchedulePolicy, ThreadPriority, ThreadSchedulePolicy};
    let idle = ThreadSchedulePolicy::Normal(NormalThreadSchedulePolicy::Idle);
    let set = thread_priority::set_thread_priority_and_policy(
        thread_priority::thread_native_id(),
        ThreadPriority::Min,
        idle,
    );
    if let Err(e) = set {
        tracing::warn!(
            error = ?e,
            "lowering the priority of a hashing thread failed; hashes compete with requests"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn runs_jobs_at_a_lower_priority() {
        let hasher = Hasher::start(2);
        let policy = hasher
            .run(thread_priority::thread_schedule_policy)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            policy,
            thread_priority::ThreadSchedulePolicy::Normal(
                thread_priority::NormalThreadSchedulePolicy::Idle
            )
        );
        let answers: Vec<u32> =
            futures::future::join_all((0..8).map(|n| hasher.run(move || n * 2)))
                .await
                .into_iter()
                .map(Result::unwrap)
                .collect();
        assert_eq!(answers, vec![0, 2, 4, 6, 8, 10, 12, 14]);
    }
}
