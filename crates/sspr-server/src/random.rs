//! Where the services' randomness comes from: the operating system's generator in the
//! server, a seeded generator in a unit test (so the codes and numbers it is shown repeat
//! from run to run). Every draw is uniform: a number below `n` is drawn by rejection, not
//! reduced with `%` (which favours the low numbers when `n` doesn't divide the range).

use std::sync::Mutex;

use rand::rngs::{OsRng, StdRng};
use rand::{Rng, RngCore, SeedableRng};

pub struct Random(Source);

enum Source {
    Os,
    Seeded(Box<Mutex<StdRng>>),
}

impl Random {
    /// The operating system's generator (the server's).
    pub fn os() -> Random {
        Random(Source::Os)
    }

    /// A generator that repeats its draws for a seed (tests).
    pub fn seeded(seed: u64) -> Random {
        Random(Source::Seeded(Box::new(Mutex::new(StdRng::seed_from_u64(
            seed,
        )))))
    }

    fn with<T>(&self, f: impl FnOnce(&mut dyn RngCore) -> T) -> T {
        match &self.0 {
            Source::Os => f(&mut OsRng),
            Source::Seeded(rng) => f(&mut *rng.lock().unwrap_or_else(|p| p.into_inner())),
        }
    }

    /// A number in `range`, each equally likely.
    pub fn in_range(&self, range: std::ops::RangeInclusive<u32>) -> u32 {
        self.with(|rng| rng.gen_range(range))
    }

    /// `n` decimal digits, each equally likely (a one-time code).
    pub fn digits(&self, n: u8) -> String {
        self.with(|rng| {
            (0..n)
                .map(|_| char::from(b'0' + rng.gen_range(0..10u8)))
                .collect()
        })
    }

    /// `N` random bytes (tokens, challenges).
    pub fn bytes<const N: usize>(&self) -> [u8; N] {
        let mut out = [0u8; N];
        self.with(|rng| rng.fill_bytes(&mut out));
        out
    }
}

impl std::fmt::Debug for Random {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self.0 {
            Source::Os => "Random(os)",
            Source::Seeded(_) => "Random(seeded)",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_seed_repeats_and_the_os_does_not() {
        let (a, b) = (Random::seeded(7), Random::seeded(7));
        assert_eq!(a.digits(8), b.digits(8));
        assert_eq!(a.bytes::<16>(), b.bytes::<16>());
        let os = Random::os();
        assert_ne!(os.bytes::<16>(), os.bytes::<16>());
    }

    /// 10..=99 drawn 90,000 times: every number about 1,000 times. With `% 90` on a byte,
    /// 10..=85 came up 3 times in 256 and 86..=99 2 times: a chi-square far past this bound.
    #[test]
    fn numbers_in_a_range_are_uniform() {
        let rng = Random::seeded(1);
        let mut counts = [0u32; 90];
        for _ in 0..90_000 {
            let n = rng.in_range(10..=99);
            assert!((10..=99).contains(&n));
            counts[(n - 10) as usize] += 1;
        }
        let chi2: f64 = counts
            .iter()
            .map(|&c| (f64::from(c) - 1000.0).powi(2) / 1000.0)
            .sum();
        // 89 degrees of freedom: p = 0.001 at 135.
        assert!(chi2 < 135.0, "chi-square {chi2}: {counts:?}");
        // What `% 90` on a byte gives, for comparison: the test above would catch it.
        let mut biased = [0u32; 90];
        for _ in 0..90_000 {
            biased[(rng.bytes::<1>()[0] % 90) as usize] += 1;
        }
        let chi2: f64 = biased
            .iter()
            .map(|&c| (f64::from(c) - 1000.0).powi(2) / 1000.0)
            .sum();
        assert!(chi2 > 135.0, "the biased draw wasn't caught: {chi2}");
    }
}
