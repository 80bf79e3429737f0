//! The figures, one line each, and the goals with the measured ratio.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use super::cpu::Usage;
use super::floors::HashRate;
use super::load::{Run, Samples};
use super::target::THROTTLE_MAX;
use super::work::{HASHING_STEP, MAIL_STEP, STEPS};
use super::Measured;

/// Goals (from the issue).
const IDENTIFY_SHARE_OF_BARE: f64 = 0.25;
const FLOWS_SHARE_OF_HASHES: f64 = 0.70;
const P99_LIMIT: Duration = Duration::from_millis(10);
const P99_AT: usize = 64;

pub struct Identify {
    pub concurrency: usize,
    pub known: Measured,
    pub unknown: Measured,
    /// One at a time, known and unknown in turns: steps are [known, unknown].
    pub pairs: Run,
}

pub struct FlowLevel {
    pub concurrency: usize,
    pub measured: Measured,
    /// The run stopped because every imported person had been used.
    pub ran_out: bool,
}

pub struct Report {
    pub cores: usize,
    pub window: Duration,
    pub people: usize,
    pub people_used: usize,
    pub import: Duration,
    pub hash: HashRate,
    pub bare: Measured,
    /// The cheapest signed request the server answers (`GET /v1/kiosk/settings`: the
    /// signature check, the nonce's commit, nothing of its own): what every kiosk request
    /// costs before its handler runs.
    pub signed: Measured,
    pub identify: Identify,
    pub flows: Vec<FlowLevel>,
    pub server_log: Option<PathBuf>,
}

fn ms(d: Option<Duration>) -> String {
    d.map(|d| format!("{:.2}", d.as_secs_f64() * 1e3))
        .unwrap_or_else(|| "-".into())
}

fn p50_p99(s: &Samples) -> String {
    format!("{}/{}", ms(s.median()), ms(s.percentile(99.0)))
}

fn cpu(usage: &Option<Usage>) -> String {
    usage
        .map(|u| {
            format!(
                "  cores used: server {:.2}, bench {:.2}, other {:.2}",
                u.server, u.bench, u.other
            )
        })
        .unwrap_or_default()
}

/// For the floors, which run inside the bench process.
fn cpu_in_process(usage: &Option<Usage>) -> String {
    usage
        .map(|u| format!("  cores used: bench {:.2}, other {:.2}", u.bench, u.other))
        .unwrap_or_default()
}

fn errors(run: &Run) -> String {
    match &run.first_error {
        Some(e) => format!("  {} FAILED (first: {e})", run.errors),
        None => String::new(),
    }
}

fn median_difference(known: Option<&Samples>, unknown: Option<&Samples>) -> String {
    match (
        known.and_then(Samples::median),
        unknown.and_then(Samples::median),
    ) {
        (Some(k), Some(u)) => {
            let us = (k.as_secs_f64() - u.as_secs_f64()) * 1e6;
            format!("{us:+.0} µs")
        }
        _ => "-".into(),
    }
}

fn verdict(ok: bool) -> &'static str {
    if ok {
        "PASS"
    } else {
        "SHORT"
    }
}

impl Report {
    fn flow_lines(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for level in &self.flows {
            let run = &level.measured.run;
            let steps: Vec<String> = STEPS
                .iter()
                .zip(&run.steps)
                .map(|(name, s)| format!("{name} {}", p50_p99(s)))
                .collect();
            let steps = if steps.is_empty() {
                "none completed".to_string()
            } else {
                format!("p50/p99 ms: {}", steps.join("  "))
            };
            writeln!(
                f,
                "flows     {:>2} concurrent: {:>7.1} flows/s  ({} in {:.1} s)  {steps}{}{}{}",
                level.concurrency,
                run.per_sec(),
                run.ok,
                run.elapsed.as_secs_f64(),
                cpu(&level.measured.cpu),
                errors(run),
                if level.ran_out {
                    "  (ran out of people)"
                } else {
                    ""
                },
            )?;
        }
        Ok(())
    }

    fn identify_line(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (known, unknown) = (&self.identify.known, &self.identify.unknown);
        let side = |m: &Measured| {
            format!(
                "{:.0} req/s (p50/p99 {} ms){}",
                m.run.per_sec(),
                m.run.steps.first().map(p50_p99).unwrap_or_default(),
                errors(&m.run)
            )
        };
        let pairs = &self.identify.pairs;
        writeln!(
            f,
            "identify  {c} concurrent: known {}  unknown {}  median known − unknown: {} at {c} \
             concurrent, {} one at a time ({} alternating pairs, p50 known/unknown {}/{} ms){}{}",
            side(known),
            side(unknown),
            median_difference(known.run.steps.first(), unknown.run.steps.first()),
            median_difference(pairs.steps.first(), pairs.steps.get(1)),
            pairs.ok,
            ms(pairs.steps.first().and_then(Samples::median)),
            ms(pairs.steps.get(1).and_then(Samples::median)),
            errors(pairs),
            cpu(&known.cpu.zip(unknown.cpu).map(|(k, u)| k.add(&u))),
            c = self.identify.concurrency,
        )
    }

    fn floor_lines(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "floor     bare axum 0.8 handler (small JSON, same client, {} concurrent): {:.0} req/s \
             (p50/p99 {} ms){}{}; kiosk API requests additionally carry an Ed25519 signature \
             the client must compute (and the server verify)",
            self.identify.concurrency,
            self.bare.run.per_sec(),
            self.bare.run.steps.first().map(p50_p99).unwrap_or_default(),
            cpu_in_process(&self.bare.cpu),
            errors(&self.bare.run),
        )?;
        writeln!(
            f,
            "floor     signed: GET /v1/kiosk/settings, the cheapest request a kiosk signs (the \
             signature's check and its nonce's commit, no handler work; same client, {} \
             concurrent): {:.0} req/s = {:.1} % of the bare handler (p50/p99 {} ms){}{}",
            self.identify.concurrency,
            self.signed.run.per_sec(),
            100.0 * self.signed.run.per_sec() / self.bare.run.per_sec().max(f64::EPSILON),
            self.signed
                .run
                .steps
                .first()
                .map(p50_p99)
                .unwrap_or_default(),
            cpu(&self.signed.cpu),
            errors(&self.signed.run),
        )?;
        writeln!(
            f,
            "floor     argon2id ({}) on {} threads: {:.1} hashes/s ({} in {:.1} s){}",
            self.hash.params,
            self.hash.threads,
            self.hash.per_sec(),
            self.hash.hashes,
            self.hash.elapsed.as_secs_f64(),
            cpu_in_process(&self.hash.cpu),
        )
    }

    fn goal_lines(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Identify: the slower of known and unknown logins counts.
        let identify = self
            .identify
            .known
            .run
            .per_sec()
            .min(self.identify.unknown.run.per_sec());
        let bare = self.bare.run.per_sec();
        let share = identify / bare.max(f64::EPSILON);
        writeln!(
            f,
            "goal      identify ≥ {:.0} % of the bare handler: {identify:.0} / {bare:.0} req/s = {:.1} %  {} \
             (a signed request that does nothing more reaches {:.1} %)",
            IDENTIFY_SHARE_OF_BARE * 100.0,
            share * 100.0,
            verdict(share >= IDENTIFY_SHARE_OF_BARE),
            100.0 * self.signed.run.per_sec() / bare.max(f64::EPSILON),
        )?;

        // Flows: the best level counts (one hash a reset, so the floor is the ceiling).
        let best = self.flows.iter().max_by(|a, b| {
            a.measured
                .run
                .per_sec()
                .total_cmp(&b.measured.run.per_sec())
        });
        if let Some(best) = best {
            let flows = best.measured.run.per_sec();
            let hashes = self.hash.per_sec();
            let share = flows / hashes.max(f64::EPSILON);
            writeln!(
                f,
                "goal      complete flows ≥ {:.0} % of the argon2id floor: {flows:.1} flows/s \
                 (at {} concurrent) / {hashes:.1} hashes/s = {:.1} %  {}",
                FLOWS_SHARE_OF_HASHES * 100.0,
                best.concurrency,
                share * 100.0,
                verdict(share >= FLOWS_SHARE_OF_HASHES),
            )?;
        }

        // Latency: every step but the one that hashes, at 64 concurrent flows.
        if let Some(level) = self.flows.iter().find(|l| l.concurrency == P99_AT) {
            let p99s: Vec<(&str, Duration)> = STEPS
                .iter()
                .zip(&level.measured.run.steps)
                .filter(|(name, _)| **name != HASHING_STEP)
                .filter_map(|(name, s)| Some((*name, s.percentile(99.0)?)))
                .collect();
            let over: Vec<String> = p99s
                .iter()
                .filter(|(_, p99)| *p99 > P99_LIMIT)
                .map(|(name, p99)| format!("{name} {}", ms(Some(*p99))))
                .collect();
            let detail = match p99s.iter().max_by_key(|(_, p99)| *p99) {
                Some((name, p99)) if over.is_empty() => {
                    format!("worst {name} {} ms", ms(Some(*p99)))
                }
                Some(_) => format!("over: {} ms", over.join(", ")),
                None => "no samples".into(),
            };
            let names: Vec<&str> = STEPS
                .iter()
                .filter(|name| **name != HASHING_STEP)
                .copied()
                .collect();
            writeln!(
                f,
                "goal      p99 ≤ {} ms at {P99_AT} concurrent flows for every step that does not \
                 hash ({}; '{MAIL_STEP}' is the code mail's arrival, not a request): {detail}  {}",
                P99_LIMIT.as_millis(),
                names.join(", "),
                verdict(!p99s.is_empty() && over.is_empty()),
            )?;
        }
        Ok(())
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "sspr-server bench: release build, {} cores, 127.0.0.1, {} s a measurement; the load \
             generator (sspr_client, which signs every request) runs on the same cores",
            self.cores,
            self.window.as_secs(),
        )?;
        writeln!(
            f,
            "setup     policy.methods_required = 2; every [throttle] limit raised to max = \
             {THROTTLE_MAX} (one kiosk resets hundreds of people); {} people imported in {:.1} s, \
             {} used, each for one reset at most; one enrolled kiosk; in the flow runs the \
             flows start {} ms apart, then each worker starts its next as soon as one ends",
            self.people,
            self.import.as_secs_f64(),
            self.people_used,
            crate::bench::FLOW_STAGGER.as_millis(),
        )?;
        self.flow_lines(f)?;
        self.identify_line(f)?;
        self.floor_lines(f)?;
        self.goal_lines(f)?;
        if let Some(log) = &self.server_log {
            writeln!(f, "kept      {}", log.display())?;
        }
        Ok(())
    }
}
