//! The figures, one line each, and the goals with the measured ratio.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use super::cpu::Usage;
use super::floors::HashRate;
use super::load::{Run, Samples};
use super::mail::Tally;
use super::questions;
use super::target::THROTTLE_MAX;
use super::work::{CHALLENGE_STEP, HASHING_STEP, MAIL_STEP, SMS_STEPS, STEPS};
use super::Measured;

/// Goals (from the issues).
const IDENTIFY_SHARE_OF_BARE: f64 = 0.25;
const FLOWS_SHARE_OF_HASHES: f64 = 0.70;
const P99_LIMIT: Duration = Duration::from_millis(10);
const P99_AT: usize = 64;
/// Resets with a texted code and with an emailed one, side by side: the slower's rate at
/// least this share of the faster's ("within 10 % of each other's rate").
const MIX_RATE_SHARE: f64 = 0.90;

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

/// Resets with a texted code beside resets with an emailed one, at the same time, half
/// of the flows each (their own runs carry no CPU figures: they shared the cores).
pub struct MixLevel {
    pub concurrency: usize,
    pub sms: FlowLevel,
    pub email: FlowLevel,
    pub cpu: Option<Usage>,
    /// Codes (texted, emailed) asked for, and how many had already been read back (from
    /// the fake SMSC, the mailbox) when their challenge call returned.
    pub early: (Tally, Tally),
}

impl MixLevel {
    /// The slower kind's rate as a share of the faster's.
    fn rate_share(&self) -> f64 {
        let (sms, email) = (
            self.sms.measured.run.per_sec(),
            self.email.measured.run.per_sec(),
        );
        sms.min(email) / sms.max(email).max(f64::EPSILON)
    }
}

pub struct Report {
    pub cores: usize,
    /// Where the store is: "SQLite" or a PostgreSQL line.
    pub store: String,
    /// `policy.methods`, as configured.
    pub methods: Vec<&'static str>,
    /// Security questions registered and checked; None with `--no-questions`.
    pub questions: Option<questions::Measured>,
    pub window: Duration,
    /// People imported of each kind (emailed codes; texted codes when `mix` is there).
    pub people: usize,
    pub people_used: usize,
    pub texted_used: usize,
    /// The runs with texted codes beside emailed ones; None without SMS (`--no-sms`).
    pub mix: Option<Vec<MixLevel>>,
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
            let gateway = u
                .gateway
                .map(|g| format!(", Kannel {g:.2}"))
                .unwrap_or_default();
            format!(
                "  cores used: server {:.2}{gateway}, bench {:.2}, other {:.2}",
                u.server, u.bench, u.other
            )
        })
        .unwrap_or_default()
}

/// Each step's p50/p99, by name.
fn step_times(names: &[&str], run: &Run) -> String {
    let steps: Vec<String> = names
        .iter()
        .zip(&run.steps)
        .map(|(name, s)| format!("{name} {}", p50_p99(s)))
        .collect();
    if steps.is_empty() {
        "none completed".to_string()
    } else {
        format!("p50/p99 ms: {}", steps.join("  "))
    }
}

fn ran_out(level: &FlowLevel) -> &'static str {
    if level.ran_out {
        "  (ran out of people)"
    } else {
        ""
    }
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
            writeln!(
                f,
                "flows     {:>2} concurrent: {:>7.1} flows/s  ({} in {:.1} s)  {}{}{}{}",
                level.concurrency,
                run.per_sec(),
                run.ok,
                run.elapsed.as_secs_f64(),
                step_times(&STEPS, run),
                cpu(&level.measured.cpu),
                errors(run),
                ran_out(level),
            )?;
        }
        Ok(())
    }

    fn mix_lines(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Some(mix) = &self.mix else {
            return writeln!(
                f,
                "mix       not measured (--no-sms): no resets with texted codes"
            );
        };
        for level in mix {
            let (sms, email) = (&level.sms.measured.run, &level.email.measured.run);
            writeln!(
                f,
                "mix       {} concurrent, {} texted beside {} emailed at once: SMS + TOTP {:.1} \
                 flows/s, email + TOTP {:.1} flows/s, the slower at {:.1} % of the faster \
                 (goal: within {:.0} % of each other's rate){}",
                level.concurrency,
                level.sms.concurrency,
                level.email.concurrency,
                sms.per_sec(),
                email.per_sec(),
                level.rate_share() * 100.0,
                (1.0 - MIX_RATE_SHARE) * 100.0,
                cpu(&level.cpu),
            )?;
            for (label, names, kind, early, at) in [
                ("sms  ", &SMS_STEPS, &level.sms, level.early.0, "fake SMSC"),
                ("email", &STEPS, &level.email, level.early.1, "mailbox"),
            ] {
                let run = &kind.measured.run;
                let goal = if level.concurrency == P99_AT {
                    format!(
                        "  (goal: the challenge call '{}' p99 ≤ {} ms at {P99_AT} concurrent)",
                        names[CHALLENGE_STEP],
                        P99_LIMIT.as_millis()
                    )
                } else {
                    String::new()
                };
                writeln!(
                    f,
                    "mix {label} {:>2} of {}: {:>7.1} flows/s  ({} in {:.1} s)  {}{goal}; the \
                     code was at the {at} before the challenge call returned for {} of {}{}{}",
                    kind.concurrency,
                    level.concurrency,
                    run.per_sec(),
                    run.ok,
                    run.elapsed.as_secs_f64(),
                    step_times(names, run),
                    early.early,
                    early.asked,
                    errors(run),
                    ran_out(kind),
                )?;
            }
        }
        Ok(())
    }

    fn mix_goal_lines(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Some(mix) = &self.mix else {
            return Ok(());
        };
        let levels: Vec<String> = mix
            .iter()
            .map(|l| {
                format!(
                    "at {} concurrent SMS {:.1} / email {:.1} flows/s, the slower at {:.1} %",
                    l.concurrency,
                    l.sms.measured.run.per_sec(),
                    l.email.measured.run.per_sec(),
                    l.rate_share() * 100.0
                )
            })
            .collect();
        let all_ok = mix.iter().all(|l| {
            l.rate_share() >= MIX_RATE_SHARE
                && l.sms.measured.run.ok > 0
                && l.email.measured.run.ok > 0
        });
        writeln!(
            f,
            "goal      resets with SMS (through Kannel) + TOTP and with email + TOTP, side by side \
             in the same run, within {:.0} % of each other's rate: {}  {}",
            (1.0 - MIX_RATE_SHARE) * 100.0,
            levels.join("; "),
            verdict(!mix.is_empty() && all_ok),
        )?;
        if let Some(level) = mix.iter().find(|l| l.concurrency == P99_AT) {
            let side = |names: &[&str; 7], kind: &FlowLevel| {
                let step = kind.measured.run.steps.get(CHALLENGE_STEP);
                let p99 = step.and_then(|s| s.percentile(99.0));
                format!(
                    "{} p50/p99 {}/{} ms  {}",
                    names[CHALLENGE_STEP],
                    ms(step.and_then(Samples::median)),
                    ms(p99),
                    verdict(p99.is_some_and(|p| p <= P99_LIMIT)),
                )
            };
            writeln!(
                f,
                "goal      p99 of the challenge call ≤ {} ms at {P99_AT} concurrent (the send \
                 taken off the request path; {} texted beside {} emailed): {}; {}",
                P99_LIMIT.as_millis(),
                level.sms.concurrency,
                level.email.concurrency,
                side(&SMS_STEPS, &level.sms),
                side(&STEPS, &level.email),
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
            "floor     argon2id ({}) on {} threads: {:.1} hashes/s ({} in {:.1} s){}; one \
             hash alone (one thread, one after another, {} of them): p50/p99 {} ms",
            self.hash.params,
            self.hash.threads,
            self.hash.per_sec(),
            self.hash.hashes,
            self.hash.elapsed.as_secs_f64(),
            cpu_in_process(&self.hash.cpu),
            self.hash.single.count(),
            p50_p99(&self.hash.single),
        )
    }

    fn questions_lines(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Some(q) = &self.questions else {
            return writeln!(
                f,
                "questions not measured (--no-questions): no security questions"
            );
        };
        let failed = match &q.first_failure {
            Some(e) => format!("  {} FAILED (first: {e})", q.failures),
            None => String::new(),
        };
        writeln!(
            f,
            "questions {} people registered {} answers each on My security info (password, a \
             code emailed to them and read from the mailbox, PUT /v1/my/questions), one after \
             another in {:.1} s; then one answer check at a time (the verify call; each in a \
             fresh flow: identify, the questions' challenge, the answers), people in turns{failed}",
            q.people,
            q.registered,
            q.registration.as_secs_f64(),
        )?;
        let single = self.hash.single.median();
        let times = |check: Option<Duration>, hash: Option<Duration>| match (check, hash) {
            (Some(c), Some(h)) => format!("{:.2}", c.as_secs_f64() / h.as_secs_f64().max(1e-9)),
            _ => "-".into(),
        };
        writeln!(
            f,
            "questions one answer check (ask = {} answers, every one hashed), all right: p50/p99 \
             {} ms ({} checks) = {} × the argon2id floor's single hash ({} ms, p50, same run); \
             a hash the bench timed after each check: p50 {} ms, so {} × that",
            q.asked,
            p50_p99(&q.right),
            q.right.count(),
            times(q.right.median(), single),
            ms(single),
            ms(q.between.median()),
            times(q.right.median(), q.between.median()),
        )?;
        writeln!(
            f,
            "questions a wrong answer's check: the first wrong p50 {} ms ({} checks), the last \
             wrong p50 {} ms ({}); p99 {} / {} ms; {} wrong checks a person, in turns with \
             the right ones",
            ms(q.first_wrong.median()),
            q.first_wrong.count(),
            ms(q.last_wrong.median()),
            q.last_wrong.count(),
            ms(q.first_wrong.percentile(99.0)),
            ms(q.last_wrong.percentile(99.0)),
            questions::WRONG_EACH,
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
        self.mix_goal_lines(f)
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
        writeln!(f, "store     {}", self.store)?;
        writeln!(
            f,
            "setup     policy.methods {}, methods_required = 2; every [throttle] limit raised to \
             max = {THROTTLE_MAX} (one kiosk resets hundreds of people); {} people imported in \
             {:.1} s, {} used, each for one reset at most; one enrolled kiosk; in the flow runs \
             the flows start {} ms apart, then each worker starts its next as soon as one ends",
            self.methods.join(", "),
            self.people * if self.mix.is_some() { 2 } else { 1 }
                + self.questions.as_ref().map_or(0, |q| q.people),
            self.import.as_secs_f64(),
            self.people_used + self.texted_used,
            crate::bench::FLOW_STAGGER.as_millis(),
        )?;
        if self.mix.is_some() {
            writeln!(
                f,
                "setup     {p} of the people have an email address for codes, {p} a mobile \
                 number instead (registered by `directory register`); {} and {} used; \
                 each number is texted once (so a limit per \
                 number, where the server has one, stays at its default); codes texted through Kannel (bearerbox + \
                 smsbox, sendsms on loopback) to its fake SMSC, standing in for the operator, \
                 and read back from what the fake SMSC received ('text': from the challenge's \
                 answer until the bench read the code there)",
                self.people_used,
                self.texted_used,
                p = self.people,
            )?;
        }
        self.flow_lines(f)?;
        self.mix_lines(f)?;
        self.identify_line(f)?;
        self.questions_lines(f)?;
        self.floor_lines(f)?;
        self.goal_lines(f)?;
        if let Some(log) = &self.server_log {
            writeln!(f, "kept      {}", log.display())?;
        }
        Ok(())
    }
}
