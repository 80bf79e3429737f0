//! A closed-loop load generator: N workers, each starting its next operation as soon as
//! the last one ended, for a fixed window. An operation returns its steps' latencies.

use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Latencies of one step, sorted once the run is over.
#[derive(Default, Clone)]
pub struct Samples(Vec<Duration>);

impl Samples {
    /// Latencies measured elsewhere (sorted here).
    pub fn of(mut times: Vec<Duration>) -> Samples {
        times.sort_unstable();
        Samples(times)
    }

    /// How many latencies there are.
    pub fn count(&self) -> usize {
        self.0.len()
    }

    /// Nearest-rank percentile (`p` in 0..=100); None without samples.
    pub fn percentile(&self, p: f64) -> Option<Duration> {
        if self.0.is_empty() {
            return None;
        }
        let rank = ((p / 100.0) * self.0.len() as f64).ceil() as usize;
        self.0.get(rank.clamp(1, self.0.len()) - 1).copied()
    }

    pub fn median(&self) -> Option<Duration> {
        self.percentile(50.0)
    }
}

/// What a run measured.
pub struct Run {
    /// Operations that completed, and those that failed.
    pub ok: usize,
    pub errors: usize,
    pub first_error: Option<String>,
    /// From the start until the last worker stopped (in-flight operations finish).
    pub elapsed: Duration,
    /// Per step, the latency of every completed operation.
    pub steps: Vec<Samples>,
}

impl Run {
    pub fn empty(steps: usize) -> Run {
        Run {
            ok: 0,
            errors: 0,
            first_error: None,
            elapsed: Duration::ZERO,
            steps: vec![Samples::default(); steps],
        }
    }

    pub fn per_sec(&self) -> f64 {
        let secs = self.elapsed.as_secs_f64();
        if secs > 0.0 {
            self.ok as f64 / secs
        } else {
            0.0
        }
    }

    /// Two runs as one (counts and samples add up, so do the times).
    pub fn merge(mut self, other: Run) -> Run {
        self.elapsed += other.elapsed;
        self.absorb(other);
        self.sort();
        self
    }

    /// Takes in another worker's counts and samples (not its time).
    fn absorb(&mut self, other: Run) {
        self.ok += other.ok;
        self.errors += other.errors;
        self.first_error = self.first_error.take().or(other.first_error);
        if self.steps.len() < other.steps.len() {
            self.steps.resize(other.steps.len(), Samples::default());
        }
        for (mine, theirs) in self.steps.iter_mut().zip(other.steps) {
            mine.0.extend(theirs.0);
        }
    }

    fn sort(&mut self) {
        for step in &mut self.steps {
            step.0.sort_unstable();
        }
    }

    fn add(&mut self, times: Vec<Duration>) {
        if self.steps.len() < times.len() {
            self.steps.resize(times.len(), Samples::default());
        }
        for (step, t) in self.steps.iter_mut().zip(times) {
            step.0.push(t);
        }
        self.ok += 1;
    }

    fn fail(&mut self, error: String) {
        self.errors += 1;
        self.first_error.get_or_insert(error);
    }
}

/// Runs `op(0)`, `op(1)`, ... on `concurrency` workers until `window` has passed or
/// `max_ops` were started; operations under way at the end are finished and counted.
pub async fn closed_loop<Op, Fut>(
    concurrency: usize,
    window: Duration,
    max_ops: usize,
    op: Op,
) -> Run
where
    Op: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = anyhow::Result<Vec<Duration>>> + Send + 'static,
{
    ramped(concurrency, window, max_ops, Duration::ZERO, op).await
}

/// `closed_loop` whose workers start `stagger` apart (worker `i` after `i × stagger`,
/// inside the window), as people arrive at kiosks, not all in the same instant.
pub async fn ramped<Op, Fut>(
    concurrency: usize,
    window: Duration,
    max_ops: usize,
    stagger: Duration,
    op: Op,
) -> Run
where
    Op: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = anyhow::Result<Vec<Duration>>> + Send + 'static,
{
    let op = Arc::new(op);
    let next = Arc::new(AtomicUsize::new(0));
    let start = Instant::now();
    let deadline = start + window;
    let mut workers = tokio::task::JoinSet::new();
    for i in 0..concurrency {
        let (op, next) = (op.clone(), next.clone());
        let first = start + stagger * i as u32;
        workers.spawn(async move {
            tokio::time::sleep_until(first.into()).await;
            let mut mine = Run::empty(0);
            while Instant::now() < deadline {
                let n = next.fetch_add(1, Ordering::Relaxed);
                if n >= max_ops {
                    break;
                }
                match op(n).await {
                    Ok(times) => mine.add(times),
                    Err(e) => mine.fail(format!("{e:#}")),
                }
            }
            mine
        });
    }
    let mut run = Run::empty(0);
    while let Some(worker) = workers.join_next().await {
        match worker {
            Ok(mine) => run.absorb(mine),
            Err(e) => run.fail(format!("a worker failed: {e}")),
        }
    }
    run.elapsed = start.elapsed();
    run.sort();
    run
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let s = Samples((1..=100).map(Duration::from_millis).collect());
        assert_eq!(s.median(), Some(Duration::from_millis(50)));
        assert_eq!(s.percentile(99.0), Some(Duration::from_millis(99)));
        assert_eq!(s.percentile(100.0), Some(Duration::from_millis(100)));
        assert_eq!(s.percentile(0.0), Some(Duration::from_millis(1)));
        assert_eq!(Samples::default().median(), None);
    }

    #[tokio::test]
    async fn stops_at_max_ops_and_counts_failures() {
        let run = closed_loop(4, Duration::from_secs(5), 10, |n| async move {
            anyhow::ensure!(n % 2 == 0, "odd");
            Ok(vec![Duration::from_micros(n as u64)])
        })
        .await;
        assert_eq!((run.ok, run.errors), (5, 5));
        assert_eq!(run.first_error.as_deref(), Some("odd"));
        assert_eq!(run.steps[0].0.len(), 5);
    }

    #[tokio::test]
    async fn staggered_workers_start_apart() {
        let start = Instant::now();
        // Each operation outlasts the window: every worker runs exactly one.
        let run = ramped(
            3,
            Duration::from_millis(50),
            100,
            Duration::from_millis(20),
            move |_| async move {
                let began = start.elapsed();
                tokio::time::sleep(Duration::from_millis(100)).await;
                Ok(vec![began])
            },
        )
        .await;
        let started = &run.steps[0].0;
        assert_eq!(started.len(), 3, "{started:?}");
        assert!(
            started[1] >= Duration::from_millis(20) && started[2] >= Duration::from_millis(40),
            "{started:?}"
        );
    }
}
