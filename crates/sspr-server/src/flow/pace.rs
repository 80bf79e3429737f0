//! A constant floor under the work that differs between a real person and a decoy
//! (identify's directory search and reads; a code's delivery): that part of each answer
//! lasts until a floor that covers nearly every such part, so how long an answer took
//! tells nothing about who exists. The rest of the step, the same work for both, isn't
//! held back.
//!
//! Doing the same work on both paths isn't enough: a directory answers a search that
//! finds a person (and their nested groups) measurably slower than one that finds nobody,
//! and `cargo xtask bench timing` separated the two at p < 1e-40 over 500 samples. The
//! floor follows the step's own recent durations (real and decoy alike), so it is a few
//! milliseconds against a fast directory and more against a slow one.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

/// Durations kept to set the floor from.
const WINDOW: usize = 512;
/// The floor is set again after this many steps.
const EVERY: usize = 32;
/// Before enough steps were seen: high enough for any directory's first answers.
const FIRST_FLOOR: Duration = Duration::from_millis(25);
const MIN_FLOOR: Duration = Duration::from_millis(2);
/// Above any step's own timeout (a relay's or a directory's), so a hanging one holds a
/// real person's answer no longer than a decoy's.
const MAX_FLOOR: Duration = Duration::from_secs(130);

pub struct Pacer {
    recent: Mutex<(VecDeque<u64>, usize)>,
    floor_us: AtomicU64,
}

impl Default for Pacer {
    fn default() -> Self {
        Pacer {
            recent: Mutex::new((VecDeque::with_capacity(WINDOW), 0)),
            floor_us: AtomicU64::new(FIRST_FLOOR.as_micros() as u64),
        }
    }
}

/// The floor for durations (µs): half again the 99th percentile, plus a millisecond for
/// the timer's granularity, within bounds.
fn floor_of(durations: &VecDeque<u64>) -> Duration {
    let mut sorted: Vec<u64> = durations.iter().copied().collect();
    sorted.sort_unstable();
    let p99 = sorted
        .get((sorted.len() * 99 / 100).min(sorted.len().saturating_sub(1)))
        .copied()
        .unwrap_or_default();
    Duration::from_micros(p99 + p99 / 2 + 1000).clamp(MIN_FLOOR, MAX_FLOOR)
}

impl Pacer {
    /// The floor now.
    pub fn floor(&self) -> Duration {
        Duration::from_micros(self.floor_us.load(Ordering::Relaxed))
    }

    /// Runs `work`, then waits until the floor has passed since it began. Only runs for
    /// which `counts` says so set the floor: a real person's (a decoy's is the quick one,
    /// and a flood of them must not pull the floor down to where a real one stands out).
    pub async fn pace<T>(
        &self,
        work: impl std::future::Future<Output = T>,
        counts: impl FnOnce(&T) -> bool,
    ) -> T {
        let started = Instant::now();
        let out = work.await;
        let took = started.elapsed();
        let floor = self.floor();
        if counts(&out) {
            self.record(took);
        }
        if took < floor {
            tokio::time::sleep_until(started + floor).await;
        }
        out
    }

    fn record(&self, took: Duration) {
        let Ok(mut recent) = self.recent.lock() else {
            return;
        };
        let (durations, since) = &mut *recent;
        if durations.len() == WINDOW {
            durations.pop_front();
        }
        durations.push_back(took.as_micros() as u64);
        *since += 1;
        if *since >= EVERY && durations.len() >= EVERY {
            *since = 0;
            self.floor_us
                .store(floor_of(durations).as_micros() as u64, Ordering::Relaxed);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_fast_and_a_slow_step_answer_at_the_same_time() {
        let pacer = Pacer::default();
        // Steps of 1 to 3 ms: the floor settles at 1.5 × p99 + 1 ms.
        for i in 0..64u64 {
            pacer
                .pace(
                    tokio::time::sleep(Duration::from_micros(1000 + (i % 3) * 1000)),
                    |_| true,
                )
                .await;
        }
        let floor = pacer.floor();
        assert!(
            floor >= Duration::from_micros(5000) && floor < Duration::from_millis(6),
            "{floor:?}"
        );
        let mut answered = Vec::new();
        for work in [Duration::from_micros(100), Duration::from_micros(2900)] {
            let started = tokio::time::Instant::now();
            pacer.pace(tokio::time::sleep(work), |_| true).await;
            answered.push(started.elapsed());
        }
        // Both at the floor (the timer wakes on its next millisecond).
        assert_eq!(answered[0], answered[1]);
        assert!(answered[0] >= floor && answered[0] < floor + Duration::from_millis(1));
        // A step slower than the floor isn't held back further.
        let started = tokio::time::Instant::now();
        pacer
            .pace(tokio::time::sleep(Duration::from_millis(50)), |_| true)
            .await;
        assert_eq!(started.elapsed(), Duration::from_millis(50));
        // Quick runs that don't count (decoys') leave the floor where it was.
        let before = pacer.floor();
        for _ in 0..600 {
            pacer.pace(async {}, |_| false).await;
        }
        assert_eq!(pacer.floor(), before);
    }

    #[test]
    fn the_floor_has_bounds() {
        let few: VecDeque<u64> = [10, 20, 30].into_iter().collect();
        assert_eq!(floor_of(&few), MIN_FLOOR);
        let slow: VecDeque<u64> = [200_000_000].into_iter().collect();
        assert_eq!(floor_of(&slow), MAX_FLOOR);
    }
}
