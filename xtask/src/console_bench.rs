//! `cargo xtask bench console`: the admin console (issue 14) against a large audit. It
//! generates a year of a large organisation's audit events (5 million by default) straight
//! into a migrated store, starts the release server on it (and waits for usage & insights'
//! warm-up, its memory sampled), signs in to the console with a passkey, and, while kiosks
//! keep running flows against the same server, times the overview, the insights for 30
//! and 365 days, the coverage and the audit's first page, one request at a time. Beside
//! them, in the same run on the same file: bare `SELECT count(*)` floors over the same
//! rows, the store's own queries run directly (and their plans). Then the audit export is
//! streamed to a counting sink while the server's memory is sampled: constant memory means
//! the whole trail's export peaks no higher than the last 30 days'. Meanwhile a thread of
//! its own asks the server's /healthz every 50 ms: whether it answers at all.
//!
//! Progress goes to stderr; the report to stdout.

use std::cmp::Ordering as CmpOrdering;
use std::collections::BinaryHeap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use base64::Engine as _;
use rusqlite::{Connection, OpenFlags};
use serde_json::json;
use sspr_client::{Client, DeviceKey};
use sspr_proto::{FlowState, Intent, MethodKind, StartFlowRequest};
use sspr_tests::phone::Phone;
use sspr_tests::TestServer;

use crate::bench::mail::Codes;
use crate::bench::progress;
use crate::dir_bench::through::NO_THROTTLES;

const DAY: i64 = 86_400;
/// The issue's goals: p99 of a 30-day view (and the overview), and of a 365-day view.
const GOAL_30D: Duration = Duration::from_millis(300);
const GOAL_365D: Duration = Duration::from_millis(1000);
/// Console requests timed per endpoint at least (one at a time), and at most.
const MIN_SAMPLES: usize = 30;
const MAX_SAMPLES: usize = 1000;
/// Runs of each floor query.
const FLOOR_RUNS: usize = 10;
/// Runs of each of the store's own queries (the warm-up's read takes seconds).
const STORE_RUNS: usize = 3;
/// Kiosks in the generated year (and enrolled in the store).
const KIOSKS: usize = 20;
/// People in the generated year.
const PEOPLE: u64 = 20_000;
/// The built-in directory's name, as resets record it.
const DIRECTORY: &str = "Built-in directory";
/// Rows a generating transaction commits.
const COMMIT_EVERY: u64 = 100_000;
/// The generated year's seed: every run writes the same trail (the times move with now).
const SEED: u64 = 0x5eed_c0de_2026;

const ADMIN: &str = "benchadmin";
const ADMIN_PASSWORD: &str = "Bench-console-password-1";
/// People the kiosk load runs flows for (each worker has its own, one flow at a time).
const LOAD_PEOPLE_PER_WORKER: usize = 4;

const CONFIG: &str = r#"
[console]
admin_groups = ["SSPR Admins"]
"#;

struct Options {
    events: u64,
    window: Duration,
    keep: bool,
    server: Option<PathBuf>,
    workers: usize,
    /// Flows a second all kiosks together start (0: each starts its next at once).
    rate: f64,
}

fn parse(args: &[&str]) -> anyhow::Result<Options> {
    let mut o = Options {
        events: 5_000_000,
        window: Duration::from_secs(10),
        keep: false,
        server: None,
        workers: 8,
        rate: 10.0,
    };
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        let mut number = |name: &str| -> anyhow::Result<u64> {
            let v = args
                .next()
                .with_context(|| format!("{name} needs a value"))?;
            v.replace('_', "")
                .parse()
                .with_context(|| format!("{name} {v:?}: not a number"))
        };
        match *arg {
            "--events" => {
                o.events = number("--events")?;
                anyhow::ensure!(
                    (10_000..=50_000_000).contains(&o.events),
                    "--events: 10000 to 50000000"
                );
            }
            "--secs" => {
                let secs = number("--secs")?;
                anyhow::ensure!((1..=600).contains(&secs), "--secs: 1 to 600");
                o.window = Duration::from_secs(secs);
            }
            "--kiosks" => {
                o.workers = number("--kiosks")? as usize;
                anyhow::ensure!((1..=KIOSKS).contains(&o.workers), "--kiosks: 1 to {KIOSKS}");
            }
            "--rate" => {
                o.rate = number("--rate")? as f64;
                anyhow::ensure!(o.rate <= 1000.0, "--rate: 0 to 1000");
            }
            "--keep" => o.keep = true,
            "--server" => {
                let v = args.next().context("--server needs a path")?;
                o.server = Some(PathBuf::from(v));
            }
            other => anyhow::bail!(
                "unknown argument {other:?}\n\
                 usage: cargo xtask bench console [--events N] [--secs N] [--kiosks N] [--rate N]\n\
                 \x20                                [--keep] [--server BIN]\n\
                 \x20 --events N   audit events to generate over the past 365 days (default 5000000)\n\
                 \x20 --secs N     the kiosk load's windows alone, and the least time each console\n\
                 \x20              request is repeated for (at least {MIN_SAMPLES} times) (default 10)\n\
                 \x20 --kiosks N   kiosks running flows meanwhile, one flow at a time each (default 8)\n\
                 \x20 --rate N     flows a second they start together (default 10; 0: each kiosk\n\
                 \x20              starts its next flow as soon as the last ends, as fast as it goes)\n\
                 \x20 --keep       keep the store, the server's folder and its log\n\
                 \x20 --server BIN measure this server binary instead (an earlier build)"
            ),
        }
    }
    Ok(o)
}

pub fn run(root: &Path, args: &[&str]) -> anyhow::Result<()> {
    let options = parse(args)?;
    let Some(built) = crate::bench::release_server(root, "console", args)? else {
        return Ok(());
    };
    let binary = match &options.server {
        Some(other) => {
            anyhow::ensure!(
                other.is_file(),
                "--server {}: no such file",
                other.display()
            );
            progress(format!("measuring {}", other.display()));
            other.clone()
        }
        None => built,
    };
    std::env::set_var("SSPR_SERVER_BIN", &binary);
    if options.keep {
        std::env::set_var("SSPR_KEEP_TEST_DATA", "1");
    }
    let work = Work::new(options.keep)?;
    let generated = generate(&binary, &work, options.events)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let result = runtime.block_on(measure(&options, &binary, &work, generated));
    runtime.shutdown_timeout(Duration::from_secs(2));
    print!("{}", result?);
    Ok(())
}

/// The bench's own folder (the generated store); removed at the end unless kept.
struct Work {
    dir: PathBuf,
    keep: bool,
}

impl Work {
    fn new(keep: bool) -> anyhow::Result<Work> {
        let dir = std::env::temp_dir().join(format!("sspr-bench-console-{}", std::process::id()));
        if dir.exists() {
            std::fs::remove_dir_all(&dir)?;
        }
        std::fs::create_dir_all(dir.join("store"))?;
        Ok(Work { dir, keep })
    }

    fn store(&self) -> PathBuf {
        self.dir.join("store")
    }

    fn db(&self) -> PathBuf {
        self.store().join("sspr.db")
    }
}

impl Drop for Work {
    fn drop(&mut self) {
        if !self.keep {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

fn unix_now() -> i64 {
    sspr_tests::unix_now() as i64
}

// ---------------------------------------------------------------------------------------
// The generated year.

/// "2026-12-09T13:00:00Z", as the server writes `at` (`audit::rfc3339`).
fn rfc3339(unix: i64) -> String {
    let (y, m, d) = civil(unix.div_euclid(DAY));
    let s = unix.rem_euclid(DAY);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        s / 3600,
        s % 3600 / 60,
        s % 60
    )
}

/// Year, month and day of a day number (days since 1970-01-01; Hinnant's algorithm).
fn civil(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// splitmix64: small, fast, and the same stream for the same seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        mix(self.0)
    }

    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    /// Whole seconds in `lo..=hi`.
    fn secs(&mut self, lo: i64, hi: i64) -> i64 {
        lo + self.below((hi - lo + 1) as u64) as i64
    }

    fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    fn exp(&mut self, mean: f64) -> f64 {
        -mean * (1.0 - self.unit()).ln()
    }
}

fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// How busy the kiosks are at `t` (UTC), relative: weekday office hours, a Monday morning
/// rush (forgotten passwords after the weekend), quiet nights and weekends.
fn busyness(t: i64) -> f64 {
    let days = t.div_euclid(DAY);
    let hour = t.rem_euclid(DAY) / 3600;
    let weekday = (days + 3).rem_euclid(7); // 0 is Monday.
    if weekday >= 5 {
        return 0.1;
    }
    match hour {
        7..=9 if weekday == 0 => 5.0,
        7..=9 => 2.5,
        10..=16 => 1.8,
        17..=19 => 0.6,
        _ => 0.08,
    }
}

/// A flow's reference code ("K7Q4-M2XD"): the flow's number through a bijection of 40
/// bits, so every flow's is its own.
fn reference(flow: u64) -> String {
    const MASK: u64 = (1 << 40) - 1;
    const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
    let mut x = flow & MASK;
    for _ in 0..3 {
        x = x.wrapping_mul(0x9e37_79b9_7f4b) & MASK;
        x ^= x >> 19;
    }
    let mut out = String::with_capacity(9);
    for i in 0..8 {
        if i == 4 {
            out.push('-');
        }
        let c = ((x >> (35 - 5 * i)) & 31) as usize;
        out.push(char::from(ALPHABET[c]));
    }
    out
}

fn kiosk_id(i: usize) -> String {
    format!("{:016x}", mix(i as u64 + 0x0001_0000))
}

fn kiosk_key(i: usize) -> DeviceKey {
    let mut seed = [0u8; 32];
    seed[..8].copy_from_slice(&mix(i as u64 + 0x0002_0000).to_le_bytes());
    seed[8] = i as u8;
    DeviceKey::from_seed(seed)
}

const KIOSK_PLACES: [&str; 5] = [
    "Main entrance",
    "Library",
    "IT service desk",
    "Staff canteen",
    "Building B lobby",
];

#[derive(Clone, Copy)]
enum Who {
    Person(u64),
    Unknown(u64),
}

/// An event waiting to be written: rows go out in time order, and flows overlap.
struct Pending {
    at: i64,
    seq: u64,
    event: &'static str,
    outcome: &'static str,
    kiosk: Option<usize>,
    flow: Option<u64>,
    who: Who,
    detail: String,
}

impl PartialEq for Pending {
    fn eq(&self, other: &Self) -> bool {
        (self.at, self.seq) == (other.at, other.seq)
    }
}

impl Eq for Pending {}

impl PartialOrd for Pending {
    fn partial_cmp(&self, other: &Self) -> Option<CmpOrdering> {
        Some(self.cmp(other))
    }
}

impl Ord for Pending {
    /// Reversed: the heap gives the earliest first.
    fn cmp(&self, other: &Self) -> CmpOrdering {
        (other.at, other.seq).cmp(&(self.at, self.seq))
    }
}

/// Where one flow is: its time so far, kiosk, number and person.
struct At {
    t: i64,
    kiosk: Option<usize>,
    flow: Option<u64>,
    who: Who,
}

/// The year's events, flow by flow (arrivals a Poisson process shaped by `busyness`),
/// handed out one row at a time in time order. The same seed and gap give the same rows;
/// `shift` moves only the times written inside details (a block's `until`).
struct Generator {
    rng: Rng,
    next_start: f64,
    mean_gap: f64,
    shift: i64,
    flows: u64,
    seq: u64,
    pending: BinaryHeap<Pending>,
    kiosk_weights: Vec<f64>,
}

impl Generator {
    fn new(start: i64, mean_gap: f64, shift: i64) -> Generator {
        // Some kiosks are much busier than others (the main entrance).
        let weights: Vec<f64> = (0..KIOSKS)
            .map(|i| 1.0 / (i as f64 + 1.0).powf(0.8))
            .collect();
        let total: f64 = weights.iter().sum();
        let mut cumulative = 0.0;
        Generator {
            rng: Rng(SEED),
            next_start: start as f64,
            mean_gap,
            shift,
            flows: 0,
            seq: 0,
            pending: BinaryHeap::new(),
            kiosk_weights: weights
                .iter()
                .map(|w| {
                    cumulative += w / total;
                    cumulative
                })
                .collect(),
        }
    }

    fn next_row(&mut self) -> Pending {
        loop {
            if let Some(top) = self.pending.peek() {
                if (top.at as f64) < self.next_start {
                    if let Some(row) = self.pending.pop() {
                        return row;
                    }
                }
            }
            let start = self.next_start as i64;
            self.add_flow(start);
            let gap = self.rng.exp(self.mean_gap / busyness(start));
            self.next_start += gap.max(1.0);
        }
    }

    fn push(&mut self, at: &At, event: &'static str, outcome: &'static str, detail: String) {
        self.seq += 1;
        self.pending.push(Pending {
            at: at.t,
            seq: self.seq,
            event,
            outcome,
            kiosk: at.kiosk,
            flow: at.flow,
            who: at.who,
            detail,
        });
    }

    fn kiosk(&mut self) -> usize {
        let u = self.rng.unit();
        self.kiosk_weights
            .iter()
            .position(|c| u < *c)
            .unwrap_or(KIOSKS - 1)
    }

    fn method(&mut self) -> &'static str {
        let u = self.rng.unit();
        if u < 0.55 {
            "email"
        } else if u < 0.88 {
            "totp"
        } else {
            "sms"
        }
    }

    fn add_flow(&mut self, start: i64) {
        self.flows += 1;
        let roll = self.rng.unit();
        let person = Who::Person(self.rng.below(PEOPLE));
        if roll < 0.03 {
            return self.security_info(start, person);
        }
        let mut f = At {
            t: start,
            kiosk: Some(self.kiosk()),
            flow: Some(self.flows),
            who: person,
        };
        if roll < 0.035 {
            let retry = self.rng.secs(30, 900);
            return self.push(
                &f,
                "flow_refused",
                "failure",
                format!(
                    r#"{{"event":"flow_refused","reason":"blocked","retry_after_secs":{retry}}}"#
                ),
            );
        }
        if roll < 0.075 {
            return self.decoy(f);
        }
        let intent = if self.rng.chance(0.2) {
            "unlock"
        } else {
            "reset"
        };
        let required = if self.rng.chance(0.15) { 2 } else { 1 };
        self.push(
            &f,
            "flow_started",
            "success",
            format!(
                r#"{{"event":"flow_started","intent":"{intent}","required":{required},"decoy":false,"reason":null}}"#
            ),
        );
        for done in 1..=required {
            let method = self.method();
            f.t += self.rng.secs(4, 20);
            self.push(
                &f,
                "challenge_sent",
                "success",
                format!(r#"{{"event":"challenge_sent","method":"{method}"}}"#),
            );
            if self.rng.chance(0.07) {
                // Walked away: cancelled on the kiosk, or left to expire.
                if self.rng.chance(0.5) {
                    f.t += self.rng.secs(10, 120);
                    self.push(
                        &f,
                        "flow_cancelled",
                        "success",
                        r#"{"event":"flow_cancelled"}"#.into(),
                    );
                }
                return;
            }
            let mut fails = 0;
            while self.rng.chance(if fails == 0 { 0.12 } else { 0.45 }) {
                fails += 1;
                f.t += self.rng.secs(15, 60);
                let reason = if self.rng.chance(0.1) {
                    "expired"
                } else {
                    "wrong_code"
                };
                self.push(
                    &f,
                    "verify_failed",
                    "failure",
                    format!(
                        r#"{{"event":"verify_failed","method":"{method}","reason":"{reason}"}}"#
                    ),
                );
                if fails == 5 {
                    let until = rfc3339(f.t + self.shift + 900);
                    return self.push(
                        &f,
                        "blocked",
                        "failure",
                        format!(r#"{{"event":"blocked","scope":"user","until":"{until}"}}"#),
                    );
                }
            }
            f.t += self.rng.secs(15, 90);
            self.push(
                &f,
                "verify_succeeded",
                "success",
                format!(
                    r#"{{"event":"verify_succeeded","method":"{method}","done":{done},"required":{required}}}"#
                ),
            );
        }
        if intent == "unlock" {
            f.t += self.rng.secs(2, 10);
            self.push(
                &f,
                "unlocked",
                "success",
                format!(r#"{{"event":"unlocked","directory":"{DIRECTORY}"}}"#),
            );
        } else {
            let mut rejected = 0;
            while rejected < 3 && self.rng.chance(if rejected == 0 { 0.18 } else { 0.3 }) {
                rejected += 1;
                f.t += self.rng.secs(10, 40);
                let reason = ["too_short", "banned", "contains_name", "used_before"]
                    [self.rng.below(4) as usize];
                self.push(
                    &f,
                    "password_rejected",
                    "failure",
                    format!(r#"{{"event":"password_rejected","reasons":["{reason}"]}}"#),
                );
            }
            f.t += self.rng.secs(10, 45);
            if self.rng.chance(0.004) {
                return self.push(
                    &f,
                    "writeback_failed",
                    "failure",
                    format!(
                        r#"{{"event":"writeback_failed","directory":"{DIRECTORY}","reason":"the directory refused the change"}}"#
                    ),
                );
            }
            if self.rng.chance(0.002) {
                return self.push(
                    &f,
                    "directory_unavailable",
                    "failure",
                    format!(
                        r#"{{"event":"directory_unavailable","directory":"{DIRECTORY}","reason":"connection refused"}}"#
                    ),
                );
            }
            self.push(
                &f,
                "password_reset",
                "success",
                format!(r#"{{"event":"password_reset","directory":"{DIRECTORY}"}}"#),
            );
        }
        f.t += 1;
        self.push(
            &f,
            "notification_sent",
            "success",
            r#"{"event":"notification_sent","kind":"user_notice","recipients":1}"#.into(),
        );
    }

    /// An unknown login at a kiosk: a decoy flow that can't succeed.
    fn decoy(&mut self, mut f: At) {
        f.who = Who::Unknown(self.rng.next());
        let required = if self.rng.chance(0.15) { 2 } else { 1 };
        let reason = if self.rng.chance(0.85) {
            "unknown"
        } else {
            "not_registered"
        };
        self.push(
            &f,
            "flow_started",
            "success",
            format!(
                r#"{{"event":"flow_started","intent":"reset","required":{required},"decoy":true,"reason":"{reason}"}}"#
            ),
        );
        f.t += self.rng.secs(5, 25);
        self.push(
            &f,
            "challenge_sent",
            "success",
            r#"{"event":"challenge_sent","method":"email"}"#.into(),
        );
        f.t += self.rng.secs(20, 120);
        if self.rng.chance(0.5) {
            self.push(
                &f,
                "verify_failed",
                "failure",
                r#"{"event":"verify_failed","method":"email","reason":"wrong_code"}"#.into(),
            );
        } else {
            self.push(
                &f,
                "flow_cancelled",
                "success",
                r#"{"event":"flow_cancelled"}"#.into(),
            );
        }
    }

    /// Someone on "My security info": signs in, maybe registers a method or confirms.
    fn security_info(&mut self, start: i64, who: Who) {
        let mut f = At {
            t: start,
            kiosk: None,
            flow: None,
            who,
        };
        for step in ["password", "second_factor"] {
            self.push(
                &f,
                "security_info_sign_in",
                "success",
                format!(r#"{{"event":"security_info_sign_in","step":"{step}"}}"#),
            );
            f.t += self.rng.secs(15, 60);
        }
        if self.rng.chance(0.6) {
            let method = self.method();
            self.push(
                &f,
                "method_registered",
                "success",
                format!(r#"{{"event":"method_registered","method":"{method}"}}"#),
            );
        } else {
            self.push(
                &f,
                "security_info_reviewed",
                "success",
                r#"{"event":"security_info_reviewed"}"#.into(),
            );
        }
    }
}

/// The first and last row's times of `n` rows.
fn dry_run(start: i64, mean_gap: f64, n: u64) -> (i64, i64) {
    let mut g = Generator::new(start, mean_gap, 0);
    let first = g.next_row().at;
    let mut last = first;
    for _ in 1..n {
        last = g.next_row().at;
    }
    (first, last)
}

struct Generated {
    rows: u64,
    took: Duration,
    first_at: i64,
    last_at: i64,
    flows: u64,
    file_bytes: u64,
}

/// Migrates a fresh store and writes `n` audit rows over the past 365 days, the newest a
/// minute ago, with the kiosks they name enrolled.
fn generate(binary: &Path, work: &Work, n: u64) -> anyhow::Result<Generated> {
    let config = work.dir.join("migrate.toml");
    std::fs::write(
        &config,
        format!(
            "[server]\nlisten = \"127.0.0.1:1\"\npublic_url = \"http://127.0.0.1:1\"\n\
             secret_file = \"{dir}/secret.key\"\n\n[store]\nurl = \"sqlite://{db}\"\n\n\
             [organization]\nname = \"Bench Org\"\n\n[helpdesk]\nurl = \"https://help.example.org/\"\n\n\
             [smtp]\nhost = \"127.0.0.1\"\nport = 25\ntls = \"none\"\nfrom = \"SSPR <sspr@example.org>\"\n",
            dir = work.dir.display(),
            db = work.db().display(),
        ),
    )?;
    progress("sspr-server migrate");
    let mut migrate = Command::new(binary);
    migrate.arg("--config").arg(&config).arg("migrate");
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("SSPR_") && name != "SSPR_LOG" {
            migrate.env_remove(name);
        }
    }
    let out = migrate.output().context("running sspr-server migrate")?;
    anyhow::ensure!(
        out.status.success(),
        "sspr-server migrate failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );

    let now = unix_now();
    let year = 365 * DAY;
    let start = now - year;
    // The gap between flows that makes `n` rows span the year: guessed, tried on a slice
    // of the rows, then the whole is dry-run for where its last row falls.
    let slice = n.min(300_000);
    let mut gap = year as f64 * 5.5 / n as f64;
    for _ in 0..2 {
        let (first, last) = dry_run(start, gap, slice);
        let span = ((last - first).max(1) as f64) * n as f64 / slice as f64;
        gap *= year as f64 / span;
    }
    progress(format!("generating {n} audit events (a dry run first)"));
    let (_, last) = dry_run(start, gap, n);
    let shift = now - 60 - last;

    let started = Instant::now();
    let mut conn = Connection::open(work.db())?;
    conn.execute_batch("PRAGMA synchronous = OFF; PRAGMA cache_size = -262144;")?;
    let tx = conn.transaction()?;
    {
        let mut stmt = tx.prepare(
            "INSERT INTO kiosks (id, name, location, public_key, created_at, enrolled_at, last_seen_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?5, ?6)",
        )?;
        for i in 0..KIOSKS {
            let key = base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(kiosk_key(i).public_key())?;
            // One kiosk hasn't been seen for two days: the overview has something to say.
            let seen = if i == KIOSKS - 1 {
                now - 2 * DAY
            } else {
                now - 60
            };
            stmt.execute(rusqlite::params![
                kiosk_id(i),
                format!("Kiosk {:02}", i + 1),
                KIOSK_PLACES[i % KIOSK_PLACES.len()],
                key,
                start - 30 * DAY,
                seen,
            ])?;
        }
    }
    tx.commit()?;

    let mut g = Generator::new(start, gap, shift);
    let mut ids = Rng(SEED ^ 0x00c0_ffee);
    let logins: Vec<String> = (0..PEOPLE).map(|i| format!("user{i:05}")).collect();
    let user_ids: Vec<String> = (0..PEOPLE)
        .map(|i| format!("{:016x}{:016x}", mix(i + 0x0003_0000), mix(i + 0x0004_0000)))
        .collect();
    let kiosks: Vec<String> = (0..KIOSKS).map(kiosk_id).collect();
    let (mut first_at, mut last_at) = (0, 0);
    conn.execute_batch("BEGIN")?;
    {
        let mut stmt = conn.prepare(
            "INSERT INTO audit (at, at_unix, event, outcome, correlation_id, kiosk_id, reference,
                                login, user_id, detail)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        )?;
        for i in 0..n {
            let row = g.next_row();
            let at = row.at + shift;
            if i == 0 {
                first_at = at;
            }
            last_at = at;
            let (login, user_id) = match row.who {
                Who::Person(p) => (
                    logins.get(p as usize).cloned(),
                    user_ids.get(p as usize).cloned(),
                ),
                Who::Unknown(x) => (Some(format!("guest{:06}", x % 1_000_000)), None),
            };
            stmt.execute(rusqlite::params![
                rfc3339(at),
                at,
                row.event,
                row.outcome,
                format!("{:016x}{:016x}", ids.next(), ids.next()),
                row.kiosk.and_then(|k| kiosks.get(k)),
                row.flow.map(reference),
                login,
                user_id,
                row.detail,
            ])?;
            if (i + 1) % COMMIT_EVERY == 0 {
                conn.execute_batch("COMMIT; BEGIN")?;
                if (i + 1) % (10 * COMMIT_EVERY) == 0 {
                    progress(format!(
                        "  {} rows, {:.0} rows/s",
                        i + 1,
                        (i + 1) as f64 / started.elapsed().as_secs_f64()
                    ));
                }
            }
        }
    }
    conn.execute_batch("COMMIT")?;
    conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
    let took = started.elapsed();
    let rows: u64 = conn.query_row("SELECT count(*) FROM audit", [], |r| r.get(0))?;
    anyhow::ensure!(rows == n, "the store holds {rows} audit rows, not {n}");
    drop(conn);
    let file_bytes = std::fs::metadata(work.db())?.len();
    progress(format!(
        "generated {rows} rows in {:.1} s ({:.0} rows/s), {} MB",
        took.as_secs_f64(),
        rows as f64 / took.as_secs_f64(),
        file_bytes / 1_000_000
    ));
    Ok(Generated {
        rows,
        took,
        first_at,
        last_at,
        flows: g.flows,
        file_bytes,
    })
}

// ---------------------------------------------------------------------------------------
// The kiosk load.

/// A flow's steps: identify, the email challenge, the code mail's arrival, verify.
const LOAD_STEPS: [&str; 4] = ["identify", "challenge", "mail", "verify"];
type Steps = [Duration; 4];

/// Kiosks running flows (identify, email code, verify) in the background, each one flow
/// at a time, until stopped; every finished flow is kept with when it ended.
struct Load {
    stop: Arc<AtomicBool>,
    done: Arc<Mutex<Vec<(Instant, Steps)>>>,
    failed: Arc<Mutex<Vec<(Instant, String)>>>,
    workers: Vec<tokio::task::JoinHandle<()>>,
    /// A runtime of its own: what the console's client does in this process (reading an
    /// export as fast as it comes) can't hold the kiosks up; only the server can.
    runtime: Option<tokio::runtime::Runtime>,
}

struct LoadFigures {
    flows: usize,
    errors: usize,
    per_sec: f64,
    p50: Option<Duration>,
    p99: Option<Duration>,
    /// Each step's median.
    steps: Steps,
    first_error: Option<String>,
}

struct LoadPerson {
    login: String,
    address: String,
}

fn load_people(workers: usize) -> Vec<LoadPerson> {
    (0..workers * LOAD_PEOPLE_PER_WORKER)
        .map(|i| LoadPerson {
            login: format!("load{i:03}"),
            address: format!("load{i:03}@home.example.net"),
        })
        .collect()
}

/// The import file: the console's admin (password and authenticator) and the load's
/// people (an email method each).
fn people_toml(admin_totp: &str, load: &[LoadPerson]) -> String {
    let mut out = format!(
        "[[user]]\nusername = \"{ADMIN}\"\ngiven_name = \"Bench\"\nsurname = \"Admin\"\n\
         email = \"{ADMIN}@example.org\"\ngroups = [\"Staff\", \"SSPR Admins\"]\n\
         password = \"{ADMIN_PASSWORD}\"\n[user.methods]\ntotp = \"{admin_totp}\"\n\n"
    );
    for p in load {
        let _ = write!(
            out,
            "[[user]]\nusername = \"{u}\"\ngiven_name = \"Load\"\nsurname = \"Person\"\n\
             email = \"{u}@staff.example.org\"\ngroups = [\"Staff\"]\n\
             [user.methods]\nemail = \"{a}\"\n\n",
            u = p.login,
            a = p.address
        );
    }
    out
}

async fn kiosk_flow(kiosk: &Client, codes: &Codes, person: &LoadPerson) -> anyhow::Result<Steps> {
    let mut lap = Instant::now();
    let mut steps = [Duration::ZERO; 4];
    let mut split = |i: usize| {
        steps[i] = lap.elapsed();
        lap = Instant::now();
    };
    let flow = kiosk
        .start_flow(&StartFlowRequest {
            login: person.login.clone(),
            intent: Intent::Reset,
            locale: None,
        })
        .await?;
    split(0);
    let email = flow
        .methods
        .iter()
        .find(|m| m.kind == MethodKind::Email)
        .context("the flow offers no email method")?
        .id
        .clone();
    let challenge = kiosk.challenge(&flow.flow_id, &email).await?;
    split(1);
    let code = codes.wait(&person.address, Duration::from_secs(10)).await?;
    split(2);
    let verified = kiosk
        .verify(&flow.flow_id, &challenge.challenge_id, &code)
        .await?;
    split(3);
    anyhow::ensure!(
        verified.state == FlowState::Verified,
        "not verified: {:?}",
        verified.state
    );
    Ok(steps)
}

impl Load {
    /// Each kiosk starts a flow every `every` (or at once after the last one when that
    /// took longer, or always at once when `every` is zero); kiosk `i` starts `i / n` of
    /// that late, so the flows are spread out.
    fn start(
        kiosks: Vec<Arc<Client>>,
        mailbox: &sspr_tests::sspr_mailbox::Mailbox,
        people: Vec<LoadPerson>,
        every: Duration,
    ) -> anyhow::Result<Load> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("kiosk-load")
            .enable_all()
            .build()?;
        let codes = {
            let _inside = runtime.enter();
            Arc::new(Codes::start(mailbox))
        };
        let stop = Arc::new(AtomicBool::new(false));
        let done = Arc::new(Mutex::new(Vec::new()));
        let failed = Arc::new(Mutex::new(Vec::new()));
        let mut workers = Vec::new();
        let mut people = people.into_iter();
        let count = kiosks.len().max(1) as u32;
        for (i, kiosk) in kiosks.into_iter().enumerate() {
            let mine: Vec<LoadPerson> = people.by_ref().take(LOAD_PEOPLE_PER_WORKER).collect();
            let (stop, done, failed, codes) =
                (stop.clone(), done.clone(), failed.clone(), codes.clone());
            workers.push(runtime.spawn(async move {
                let mut next = tokio::time::Instant::now() + every * i as u32 / count;
                let mut n = 0;
                while !stop.load(Ordering::Relaxed) {
                    tokio::time::sleep_until(next).await;
                    // The next start on this kiosk's beat (slots missed while a flow ran
                    // long are skipped, so the kiosks stay spread out).
                    next += every;
                    let now = tokio::time::Instant::now();
                    while !every.is_zero() && next < now {
                        next += every;
                    }
                    let Some(person) = mine.get(n % mine.len().max(1)) else {
                        return;
                    };
                    n += 1;
                    match kiosk_flow(&kiosk, &codes, person).await {
                        Ok(steps) => {
                            if let Ok(mut d) = done.lock() {
                                d.push((Instant::now(), steps));
                            }
                        }
                        Err(e) => {
                            if let Ok(mut f) = failed.lock() {
                                f.push((Instant::now(), format!("{e:#}")));
                            }
                            tokio::time::sleep(Duration::from_millis(200)).await;
                        }
                    }
                }
            }));
        }
        Ok(Load {
            stop,
            done,
            failed,
            workers,
            runtime: Some(runtime),
        })
    }

    /// The flows that ended between `from` and `to`.
    fn between(&self, from: Instant, to: Instant) -> LoadFigures {
        let flows: Vec<Steps> = self
            .done
            .lock()
            .map(|d| {
                d.iter()
                    .filter(|(end, _)| *end >= from && *end < to)
                    .map(|(_, steps)| *steps)
                    .collect()
            })
            .unwrap_or_default();
        let mut times: Vec<Duration> = flows.iter().map(|s| s.iter().sum()).collect();
        times.sort_unstable();
        let mut steps = [Duration::ZERO; 4];
        for (i, step) in steps.iter_mut().enumerate() {
            let mut each: Vec<Duration> = flows.iter().map(|s| s[i]).collect();
            each.sort_unstable();
            *step = percentile(&each, 50.0).unwrap_or_default();
        }
        let (errors, first_error) = self
            .failed
            .lock()
            .map(|f| {
                let mine: Vec<_> = f.iter().filter(|(at, _)| *at >= from && *at < to).collect();
                (mine.len(), mine.first().map(|(_, e)| e.clone()))
            })
            .unwrap_or_default();
        let secs = to.saturating_duration_since(from).as_secs_f64();
        LoadFigures {
            flows: times.len(),
            errors,
            per_sec: if secs > 0.0 {
                times.len() as f64 / secs
            } else {
                0.0
            },
            p50: percentile(&times, 50.0),
            p99: percentile(&times, 99.0),
            steps,
            first_error,
        }
    }

    async fn stop(mut self) {
        self.stop.store(true, Ordering::Relaxed);
        for worker in self.workers.drain(..) {
            let _ = worker.await;
        }
    }
}

impl Drop for Load {
    fn drop(&mut self) {
        // Dropped on the main runtime, where a runtime may not block to shut down.
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

/// Nearest rank (`p` in 0..=100) of sorted samples.
fn percentile(sorted: &[Duration], p: f64) -> Option<Duration> {
    if sorted.is_empty() {
        return None;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted.get(rank.clamp(1, sorted.len()) - 1).copied()
}

// ---------------------------------------------------------------------------------------
// The console.

/// A console session: the admin's cookie, on a client that waits as long as it takes.
struct Console {
    http: reqwest::Client,
    base: String,
    cookie: String,
    /// Where the health probe knocks.
    addr: std::net::SocketAddr,
}

/// Signs in as the tests do: a passkey registered on "My security info" (password and
/// authenticator code), then the console's password step and that passkey.
async fn sign_in(server: &TestServer, totp: &str) -> anyhow::Result<Console> {
    let mut phone = Phone::new(server)?;
    phone.enroll(ADMIN, ADMIN_PASSWORD, totp, "Bench").await?;
    let step = phone
        .post(
            "/v1/admin/sign-in",
            json!({ "login": ADMIN, "password": ADMIN_PASSWORD }),
        )
        .await?;
    anyhow::ensure!(step.status == 200, "console sign-in: {step:?}");
    let credential = phone.assert(&step.body["options"])?;
    let signed = phone
        .post(
            "/v1/admin/sign-in/passkey",
            json!({ "credential": credential }),
        )
        .await?;
    anyhow::ensure!(signed.ok(), "console passkey step: {signed:?}");
    let cookie = phone
        .cookie()
        .context("no console session cookie")?
        .to_string();
    Ok(Console {
        // No limit on a whole request: an export of millions of rows takes minutes. A
        // server that stops sending for ten minutes is given up on.
        http: reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .read_timeout(Duration::from_secs(600))
            .build()?,
        base: server.base.clone(),
        cookie,
        addr: server.addr,
    })
}

impl Console {
    async fn send(&self, path: &str) -> anyhow::Result<reqwest::Response> {
        let response = self
            .http
            .get(format!("{}{path}", self.base))
            .header(reqwest::header::COOKIE, &self.cookie)
            .send()
            .await?;
        if !response.status().is_success() {
            let status = response.status();
            let body = response.text().await.unwrap_or_default();
            anyhow::bail!("GET {path}: {status} {body}");
        }
        Ok(response)
    }

    /// One request, timed to its last byte; the body's length.
    async fn get(&self, path: &str) -> anyhow::Result<(Duration, usize)> {
        let started = Instant::now();
        let body = self.send(path).await?.bytes().await?;
        Ok((started.elapsed(), body.len()))
    }
}

/// A console page, measured.
struct Page {
    name: &'static str,
    goal: Option<Duration>,
    /// Which count floor stands beside it.
    floor: Floor,
    samples: Vec<Duration>,
    bytes: usize,
    load: LoadFigures,
    health: Health,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Floor {
    None,
    Days30,
    Days365,
}

/// The page's path at `now`.
type PathAt = fn(i64) -> String;

fn insights(days: i64, bucket: &str, now: i64) -> String {
    format!(
        "/v1/admin/insights?from={}&to={}&bucket={bucket}",
        rfc3339(now - days * DAY),
        rfc3339(now)
    )
}

const PAGES: [(&str, Option<Duration>, Floor, PathAt); 6] = [
    ("overview", Some(GOAL_30D), Floor::Days30, |_| {
        "/v1/admin/overview".into()
    }),
    (
        "insights, 30 days by day",
        Some(GOAL_30D),
        Floor::Days30,
        |now| insights(30, "day", now),
    ),
    (
        "insights, 365 days by week",
        Some(GOAL_365D),
        Floor::Days365,
        |now| insights(365, "week", now),
    ),
    (
        "insights, 365 days by month",
        Some(GOAL_365D),
        Floor::Days365,
        |now| insights(365, "month", now),
    ),
    ("coverage", None, Floor::None, |_| {
        "/v1/admin/coverage".into()
    }),
    ("audit, first page (100)", None, Floor::None, |_| {
        "/v1/admin/audit?limit=100".into()
    }),
];

/// One request first (not counted), then at least `MIN_SAMPLES`, one at a time, until
/// `window` has passed.
async fn measure_page(
    console: &Console,
    load: &Load,
    (name, goal, floor, path): (&'static str, Option<Duration>, Floor, PathAt),
    window: Duration,
) -> anyhow::Result<Page> {
    progress(format!("console: {name}"));
    let (first, _) = console.get(&path(unix_now())).await?;
    progress(format!("  first request {:.0} ms", ms(first)));
    let probe = Probe::start(console.addr);
    let started = Instant::now();
    let mut samples = Vec::new();
    let mut bytes = 0;
    while samples.len() < MIN_SAMPLES || (started.elapsed() < window && samples.len() < MAX_SAMPLES)
    {
        let (took, len) = console.get(&path(unix_now())).await?;
        samples.push(took);
        bytes = len;
    }
    let load = load.between(started, Instant::now());
    let health = probe.finish().await?;
    samples.sort_unstable();
    Ok(Page {
        name,
        goal,
        floor,
        samples,
        bytes,
        load,
        health,
    })
}

/// `GET /healthz` every 50 ms, each on a new connection, from a thread of its own: how
/// long the server takes to answer anything at all while the console works.
struct Probe {
    stop: Arc<AtomicBool>,
    thread: std::thread::JoinHandle<Health>,
}

/// The probe's answers: sorted times, and how many got none.
#[derive(Default)]
struct Health {
    times: Vec<Duration>,
    failed: usize,
}

impl Probe {
    fn start(addr: std::net::SocketAddr) -> Probe {
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let stop = stop.clone();
            std::thread::spawn(move || {
                let mut health = Health::default();
                while !stop.load(Ordering::Relaxed) {
                    match health_check(addr) {
                        Some(t) => health.times.push(t),
                        None => health.failed += 1,
                    }
                    std::thread::sleep(Duration::from_millis(50));
                }
                health.times.sort_unstable();
                health
            })
        };
        Probe { stop, thread }
    }

    async fn finish(self) -> anyhow::Result<Health> {
        self.stop.store(true, Ordering::Relaxed);
        let thread = self.thread;
        tokio::task::spawn_blocking(move || thread.join())
            .await?
            .map_err(|_| anyhow::anyhow!("the health probe failed"))
    }
}

fn health_check(addr: std::net::SocketAddr) -> Option<Duration> {
    use std::io::{Read as _, Write as _};
    let started = Instant::now();
    let mut s = std::net::TcpStream::connect_timeout(&addr, Duration::from_secs(30)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(120))).ok()?;
    s.write_all(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        .ok()?;
    let mut answer = Vec::new();
    s.read_to_end(&mut answer).ok()?;
    answer
        .starts_with(b"HTTP/1.1 200")
        .then(|| started.elapsed())
}

// ---------------------------------------------------------------------------------------
// Straight on the file: the floors, the store's own queries and their plans.

/// The store's queries as the console runs them, copied from
/// crates/sspr-server/src/store/{insights,audit}.rs and the event lists of
/// console/{insights,overview}.rs (keep in step with them).
const INSIGHTS_EVENTS: &str = "'flow_started','flow_refused','challenge_sent','challenge_refused',\
    'verify_succeeded','verify_failed','blocked','password_rejected','password_reset','unlocked',\
    'writeback_confirmed','writeback_failed','writeback_in_doubt','partially_written',\
    'directory_unavailable','step_refused','flow_cancelled'";

fn flow_events_sql() -> String {
    format!(
        "SELECT event, reference, at_unix, kiosk_id,
                json_extract(detail, '$.intent'), json_extract(detail, '$.decoy'),
                json_extract(detail, '$.required'), json_extract(detail, '$.done'),
                json_extract(detail, '$.method'), json_extract(detail, '$.reason'),
                json_extract(detail, '$.directory'), user_id
         FROM audit
         WHERE event IN ({INSIGHTS_EVENTS}) AND at_unix >= ?1 AND at_unix < ?2
           AND (?3 IS NULL OR kiosk_id = ?3)"
    )
}

/// The overview's day: one count for each event.
const EVENT_COUNT_SQL: &str = "SELECT COUNT(*) FROM audit WHERE event = ?1 AND at_unix >= ?2";
const TODAY_EVENTS: [&str; 11] = [
    "flow_started",
    "password_reset",
    "unlocked",
    "blocked",
    "verify_failed",
    "challenge_refused",
    "password_rejected",
    "writeback_failed",
    "partially_written",
    "flow_refused",
    "notification_failed",
];

/// A directory's newest write or failure: one event at a time, from its newest row back.
const LAST_DIRECTORY_EVENT_SQL: &str = "SELECT at_unix, detail FROM audit
     WHERE event = ?1 AND json_extract(detail, '$.directory') = ?2
     ORDER BY at_unix DESC LIMIT 1";
const WRITES: [&str; 3] = ["password_reset", "unlocked", "writeback_confirmed"];
const FAILURES: [&str; 3] = [
    "writeback_failed",
    "writeback_in_doubt",
    "directory_unavailable",
];

/// The audit's pages and the export's slices.
const AUDIT_PAGE_SQL: &str =
    "SELECT id, at, event, outcome, correlation_id, kiosk_id, reference, login, user_id, detail
     FROM audit
     WHERE (?1 IS NULL OR login = ?1 COLLATE NOCASE OR user_id = ?1)
       AND (?2 IS NULL OR kiosk_id = ?2)
       AND (?3 IS NULL OR event = ?3)
       AND (?4 IS NULL OR outcome = ?4)
       AND (?5 IS NULL OR reference = ?5 COLLATE NOCASE)
       AND (?6 IS NULL OR at_unix >= ?6)
       AND (?7 IS NULL OR at_unix < ?7)
       AND id < ?8
     ORDER BY id DESC LIMIT ?9";
/// The rowid bound of a first page (the store binds this when there is no `before`).
const NO_BOUND: i64 = i64::MAX;
/// Rows an export reads from the store at a time (console/audit_log.rs).
const EXPORT_SLICE: i64 = 1000;

/// Something timed `runs` times: sorted times, the rows it read, and the first row's
/// first column when a number (a count).
struct Timing {
    name: String,
    times: Vec<Duration>,
    rows: u64,
    value: Option<i64>,
}

/// Runs `sql` once with `params`, reading every column of every row as the store's
/// mapping does; (rows, the first row's first column if a number).
fn run_query(
    c: &Connection,
    sql: &str,
    params: &[&dyn rusqlite::ToSql],
) -> anyhow::Result<(u64, Option<i64>)> {
    let mut stmt = c.prepare_cached(sql)?;
    let mut q = stmt.query(params)?;
    let (mut n, mut value, mut width) = (0u64, None, 0usize);
    while let Some(row) = q.next()? {
        if n == 0 {
            value = row.get::<_, i64>(0).ok();
        }
        for i in 0..row.as_ref().column_count() {
            width += match row.get_ref(i)? {
                rusqlite::types::ValueRef::Text(t) => t.len(),
                _ => 1,
            };
        }
        n += 1;
    }
    std::hint::black_box(width);
    Ok((n, value))
}

fn timed(
    name: impl Into<String>,
    runs: usize,
    mut f: impl FnMut() -> anyhow::Result<(u64, Option<i64>)>,
) -> anyhow::Result<Timing> {
    let mut times = Vec::new();
    let (mut rows, mut value) = (0, None);
    for _ in 0..runs {
        let started = Instant::now();
        (rows, value) = f()?;
        times.push(started.elapsed());
    }
    times.sort_unstable();
    Ok(Timing {
        name: name.into(),
        times,
        rows,
        value,
    })
}

fn plan(c: &Connection, sql: &str) -> anyhow::Result<Vec<String>> {
    let mut stmt = c.prepare(&format!("EXPLAIN QUERY PLAN {sql}"))?;
    let mut out = Vec::new();
    // Unbound parameters: NULL (the plan doesn't depend on their values).
    let nulls = std::iter::repeat_n(rusqlite::types::Null, stmt.parameter_count());
    let mut rows = stmt.query(rusqlite::params_from_iter(nulls))?;
    while let Some(r) = rows.next()? {
        out.push(r.get::<_, String>(3)?);
    }
    Ok(out)
}

struct Direct {
    floors: Vec<Timing>,
    store: Vec<Timing>,
    plans: Vec<(String, Vec<String>)>,
}

/// On a read-only connection of its own, while the server runs (WAL lets both read).
fn direct(db: &Path, now: i64) -> anyhow::Result<Direct> {
    let c = Connection::open_with_flags(
        db,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    let (d30, d365) = (now - 30 * DAY, now - 365 * DAY);
    let midnight = now - now.rem_euclid(DAY);
    progress("floors: SELECT count(*), straight on the file");
    let count_since = "SELECT count(*) FROM audit WHERE at_unix >= ?1";
    let floors = vec![
        timed("SELECT count(*) FROM audit", FLOOR_RUNS, || {
            run_query(&c, "SELECT count(*) FROM audit", &[])
        })?,
        timed("count(*) WHERE at_unix >= now-30d", FLOOR_RUNS, || {
            run_query(&c, count_since, &[&d30])
        })?,
        timed("count(*) WHERE at_unix >= now-365d", FLOOR_RUNS, || {
            run_query(&c, count_since, &[&d365])
        })?,
    ];

    progress("the store's queries, straight on the file");
    let flow_events = flow_events_sql();
    let none: Option<String> = None;
    // The warm-up at start reads the 400 closed days before the last midnight (15
    // minutes and a minute ago), 31 days a read; each insights request reads today so
    // far.
    let closed_until = {
        let t = now - 15 * 60 - 60;
        t - t.rem_euclid(DAY)
    };
    let (month_from, month_to) = (closed_until - 31 * DAY, closed_until + 15 * 60);
    let today_to = now + 15 * 60;
    let max_id: i64 = c.query_row("SELECT max(id) FROM audit", [], |r| r.get(0))?;
    let rows: i64 = floors.first().and_then(|t| t.value).unwrap_or(0);
    let deep = max_id - rows / 2;
    let slice = EXPORT_SLICE;
    let directory = DIRECTORY;
    let each = |events: &[&str], sql: &str, p2: &dyn rusqlite::ToSql| {
        let mut total = (0, None);
        for e in events {
            let (n, v) = run_query(&c, sql, &[e, p2])?;
            total = (total.0 + n, total.1.or(v));
        }
        Ok::<_, anyhow::Error>(total)
    };
    let store = vec![
        timed(
            "flow_events, 31 days (one of the warm-up's reads)",
            STORE_RUNS,
            || run_query(&c, &flow_events, &[&month_from, &month_to, &none]),
        )?,
        timed(
            "flow_events, today so far (every insights call)",
            STORE_RUNS,
            || run_query(&c, &flow_events, &[&closed_until, &today_to, &none]),
        )?,
        timed("today's counts, 11 events (overview)", STORE_RUNS, || {
            each(&TODAY_EVENTS, EVENT_COUNT_SQL, &midnight)
        })?,
        timed(
            "last write of the directory, 3 events (overview)",
            STORE_RUNS,
            || each(&WRITES, LAST_DIRECTORY_EVENT_SQL, &directory),
        )?,
        timed(
            "last failure of the directory, 3 events (overview)",
            STORE_RUNS,
            || each(&FAILURES, LAST_DIRECTORY_EVENT_SQL, &directory),
        )?,
        timed("audit page, the newest 101 (audit)", STORE_RUNS, || {
            let limit = 101i64;
            let p: [&dyn rusqlite::ToSql; 9] = [
                &none, &none, &none, &none, &none, &none, &none, &NO_BOUND, &limit,
            ];
            run_query(&c, AUDIT_PAGE_SQL, &p)
        })?,
        timed(
            format!("export slice {slice} rows, half way back (id < {deep})"),
            STORE_RUNS,
            || {
                let p: [&dyn rusqlite::ToSql; 9] = [
                    &none, &none, &none, &none, &none, &none, &none, &deep, &slice,
                ];
                run_query(&c, AUDIT_PAGE_SQL, &p)
            },
        )?,
    ];
    let plans = vec![
        (
            "flow_events (insights)".to_string(),
            plan(&c, &flow_events)?,
        ),
        (
            "today's count of one event (overview)".to_string(),
            plan(&c, EVENT_COUNT_SQL)?,
        ),
        (
            "a directory's last event of one kind (overview)".to_string(),
            plan(&c, LAST_DIRECTORY_EVENT_SQL)?,
        ),
        (
            "audit_filtered (audit pages, export slices)".to_string(),
            plan(&c, AUDIT_PAGE_SQL)?,
        ),
    ];
    Ok(Direct {
        floors,
        store,
        plans,
    })
}

// ---------------------------------------------------------------------------------------
// The export.

/// The server process: the child of this process serving with the test server's config.
fn server_pid(config: &Path) -> Option<u32> {
    let me = std::process::id();
    let config = config.to_string_lossy();
    std::fs::read_dir("/proc")
        .ok()?
        .flatten()
        .find_map(|entry| {
            let pid: u32 = entry.file_name().to_str()?.parse().ok()?;
            let cmdline = std::fs::read(entry.path().join("cmdline")).ok()?;
            let args: Vec<String> = cmdline
                .split(|b| *b == 0)
                .map(|a| String::from_utf8_lossy(a).into_owned())
                .collect();
            let serves = args.iter().any(|a| a == "serve") && args.iter().any(|a| *a == config);
            let stat = std::fs::read_to_string(entry.path().join("stat")).ok()?;
            // "pid (comm) state ppid ...": the comm may hold spaces, so read after ')'.
            let ppid: u32 = stat
                .rsplit(')')
                .next()?
                .split_whitespace()
                .nth(1)?
                .parse()
                .ok()?;
            (serves && ppid == me).then_some(pid)
        })
}

/// Resident memory of `pid`, in KiB.
fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// The server's resident memory sampled every 100 ms by a thread of its own: its peak.
struct Rss {
    stop: Arc<AtomicBool>,
    thread: std::thread::JoinHandle<(u64, usize)>,
}

impl Rss {
    fn start(pid: u32) -> Rss {
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let stop = stop.clone();
            std::thread::spawn(move || {
                let (mut peak, mut samples) = (0, 0);
                while !stop.load(Ordering::Relaxed) {
                    if let Some(kib) = rss_kib(pid) {
                        peak = peak.max(kib);
                        samples += 1;
                    }
                    std::thread::sleep(Duration::from_millis(100));
                }
                (peak, samples)
            })
        };
        Rss { stop, thread }
    }

    /// The peak (KiB) and how many samples it is of.
    async fn finish(self) -> anyhow::Result<(u64, usize)> {
        self.stop.store(true, Ordering::Relaxed);
        let thread = self.thread;
        tokio::task::spawn_blocking(move || thread.join())
            .await?
            .map_err(|_| anyhow::anyhow!("the memory sampler failed"))
    }
}

struct Export {
    name: &'static str,
    rows: u64,
    bytes: u64,
    first_byte: Duration,
    took: Duration,
    rss_before: u64,
    rss_peak: u64,
    /// RSS samples taken during the export.
    samples: usize,
    health: Health,
    /// Rows a second over the first tenth of the rows, and over the last tenth.
    pace: [f64; 2],
    rss_after: u64,
    load: LoadFigures,
}

async fn export(
    console: &Console,
    load: &Load,
    name: &'static str,
    path: &str,
    pid: u32,
) -> anyhow::Result<Export> {
    progress(format!("export: {name}"));
    tokio::time::sleep(Duration::from_secs(1)).await;
    let rss_before = rss_kib(pid).unwrap_or(0);
    let rss = Rss::start(pid);
    let probe = Probe::start(console.addr);
    let started = Instant::now();
    let mut response = console.send(path).await?;
    let first_byte = started.elapsed();
    let (mut bytes, mut lines) = (0u64, 0u64);
    let mut next_note = Instant::now() + Duration::from_secs(10);
    // Rows so far, every 100 ms or so: how the pace changes along the way.
    let mut marks: Vec<(Duration, u64)> = vec![(first_byte, 0)];
    while let Some(chunk) = response.chunk().await? {
        bytes += chunk.len() as u64;
        lines += chunk.iter().filter(|b| **b == b'\n').count() as u64;
        let at = started.elapsed();
        if marks
            .last()
            .is_none_or(|(t, _)| at >= *t + Duration::from_millis(100))
        {
            marks.push((at, lines));
        }
        if Instant::now() >= next_note {
            next_note += Duration::from_secs(10);
            progress(format!("  {lines} rows so far"));
        }
    }
    let took = started.elapsed();
    marks.push((took, lines));
    let load = load.between(started, Instant::now());
    let health = probe.finish().await?;
    let (peak, samples) = rss.finish().await?;
    tokio::time::sleep(Duration::from_secs(1)).await;
    Ok(Export {
        name,
        // The header is a line; no field holds a line break (details are one-line JSON).
        rows: lines.saturating_sub(1),
        bytes,
        first_byte,
        took,
        rss_before,
        rss_peak: peak.max(rss_before),
        rss_after: rss_kib(pid).unwrap_or(0),
        samples,
        load,
        health,
        pace: [pace(&marks, 0.0, 0.1), pace(&marks, 0.9, 1.0)],
    })
}

/// Rows a second between the `from` and `to` fractions of the rows, from the marks.
fn pace(marks: &[(Duration, u64)], from: f64, to: f64) -> f64 {
    let total = marks.last().map(|m| m.1).unwrap_or(0) as f64;
    let at = |share: f64| {
        marks
            .iter()
            .find(|m| m.1 as f64 >= share * total)
            .or(marks.last())
            .copied()
            .unwrap_or_default()
    };
    let ((t0, r0), (t1, r1)) = (at(from), at(to));
    let secs = t1.saturating_sub(t0).as_secs_f64();
    if secs > 0.0 {
        (r1 - r0) as f64 / secs
    } else {
        0.0
    }
}

// ---------------------------------------------------------------------------------------
// The server's start.

/// What the server logs once usage & insights have read the past days (and if not).
const WARM_DONE: &str = "usage & insights: the past days are read";
const WARM_FAILED: &str = "usage & insights: reading the past days failed";

/// Usage & insights read the past 400 days' audit at start, in the background.
struct WarmUp {
    /// From the server answering /healthz to the log line.
    waited: Duration,
    /// The log line, without its colours.
    line: String,
    rss_peak: u64,
    rss_after: u64,
    health: Health,
}

fn without_colours(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            // CSI: ESC [ parameters, ended by a letter.
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Waits for the warm-up's log line (None: this server has no warm-up), sampling the
/// server's memory and asking /healthz meanwhile.
async fn warm_up(binary: &Path, server: &TestServer, pid: u32) -> anyhow::Result<Option<WarmUp>> {
    let text = std::fs::read(binary)?;
    if !text
        .windows(WARM_DONE.len())
        .any(|w| w == WARM_DONE.as_bytes())
    {
        return Ok(None);
    }
    progress("waiting for the server's warm-up (usage & insights read the past 400 days)");
    let rss = Rss::start(pid);
    let probe = Probe::start(server.addr);
    let started = Instant::now();
    let line = loop {
        let log = without_colours(&std::fs::read_to_string(&server.log_path)?);
        if let Some(line) = log
            .lines()
            .find(|l| l.contains(WARM_DONE) || l.contains(WARM_FAILED))
        {
            break line.to_string();
        }
        anyhow::ensure!(
            started.elapsed() < Duration::from_secs(30 * 60),
            "no warm-up line in the server's log after 30 minutes"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let waited = started.elapsed();
    let health = probe.finish().await?;
    let (rss_peak, _) = rss.finish().await?;
    progress(format!("  {:.1} s", waited.as_secs_f64()));
    Ok(Some(WarmUp {
        waited,
        line: line
            .split_once("usage & insights")
            .map(|(_, rest)| format!("usage & insights{rest}"))
            .unwrap_or(line),
        rss_peak,
        rss_after: rss_kib(pid).unwrap_or(0),
        health,
    }))
}

// ---------------------------------------------------------------------------------------
// The run.

struct Report {
    options_events: u64,
    generated: Generated,
    warm: Option<WarmUp>,
    cores: usize,
    workers: usize,
    rate: f64,
    alone_before: LoadFigures,
    alone_after: LoadFigures,
    during_console: LoadFigures,
    pages: Vec<Page>,
    direct: Direct,
    rows_before_export: u64,
    exports: Vec<Export>,
    kept: Option<(PathBuf, PathBuf)>,
}

async fn measure(
    options: &Options,
    binary: &Path,
    work: &Work,
    generated: Generated,
) -> anyhow::Result<Report> {
    progress("starting the release server on the generated store");
    let server = TestServer::start_with(sspr_tests::Options {
        extra_config: format!("{CONFIG}{NO_THROTTLES}"),
        store_dir: Some(work.store()),
        ..sspr_tests::Options::default()
    })
    .await?;
    let pid = server_pid(&server.config_path).context("the server's process wasn't found")?;
    let warm = warm_up(binary, &server, pid).await?;
    let admin_totp = sspr_server::methods::totp::new_secret();
    let people = load_people(options.workers);
    let file = server.dir.join("bench-people.toml");
    std::fs::write(&file, people_toml(&admin_totp, &people))?;
    progress(format!(
        "importing the console's admin and {} people",
        people.len()
    ));
    server.admin(&["directory", "import", &file.to_string_lossy()])?;

    progress("signing in to the console (a passkey from My security info)");
    let console = sign_in(&server, &admin_totp).await?;

    let kiosks = (0..options.workers)
        .map(|i| Client::new(&server.base, kiosk_key(i), Some(kiosk_id(i))).map(Arc::new))
        .collect::<Result<Vec<_>, _>>()?;
    progress(format!(
        "kiosk load: {} kiosks, one flow at a time each (identify, email code, verify), {}",
        options.workers,
        offered(options.rate)
    ));
    let every = if options.rate > 0.0 {
        Duration::from_secs_f64(options.workers as f64 / options.rate)
    } else {
        Duration::ZERO
    };
    let load = Load::start(kiosks, &server.mailbox, people, every)?;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let w = Instant::now();
    progress(format!("kiosk load alone, {} s", options.window.as_secs()));
    tokio::time::sleep(options.window).await;
    let alone_before = load.between(w, Instant::now());
    anyhow::ensure!(
        alone_before.flows > 0,
        "no kiosk flow finished: {}",
        alone_before.first_error.as_deref().unwrap_or("no error")
    );

    let console_started = Instant::now();
    let mut pages = Vec::new();
    for page in PAGES {
        pages.push(measure_page(&console, &load, page, options.window).await?);
    }
    let during_console = load.between(console_started, Instant::now());

    let db = work.db();
    let now = unix_now();
    let direct = tokio::task::spawn_blocking(move || direct(&db, now)).await??;
    let rows_before_export = direct
        .floors
        .first()
        .and_then(|t| t.value)
        .unwrap_or(0)
        .max(0) as u64;

    let since = format!(
        "/v1/admin/audit/export?format=csv&since={}",
        rfc3339(unix_now() - 30 * DAY)
    );
    let mut exports = vec![export(&console, &load, "since 30 days ago", &since, pid).await?];
    exports.push(
        export(
            &console,
            &load,
            "everything",
            "/v1/admin/audit/export?format=csv",
            pid,
        )
        .await?,
    );

    progress(format!(
        "kiosk load alone again, {} s",
        options.window.as_secs()
    ));
    let w = Instant::now();
    tokio::time::sleep(options.window).await;
    let alone_after = load.between(w, Instant::now());
    load.stop().await;

    Ok(Report {
        options_events: options.events,
        generated,
        warm,
        cores: std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1),
        workers: options.workers,
        rate: options.rate,
        alone_before,
        alone_after,
        during_console,
        pages,
        direct,
        rows_before_export,
        exports,
        kept: options
            .keep
            .then(|| (work.dir.clone(), server.log_path.clone())),
    })
}

// ---------------------------------------------------------------------------------------
// The report.

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn fmt_ms(d: Option<Duration>) -> String {
    match d {
        Some(d) if d >= Duration::from_secs(10) => format!("{:.1} s", d.as_secs_f64()),
        Some(d) => format!("{:.1} ms", ms(d)),
        None => "-".into(),
    }
}

fn offered(rate: f64) -> String {
    if rate > 0.0 {
        format!("{rate:.0} flows/s offered")
    } else {
        "each kiosk as fast as it goes".into()
    }
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

fn load_line(out: &mut String, label: &str, l: &LoadFigures) {
    let _ = writeln!(
        out,
        "  {label:<34} {:>7.1} flows/s  ({} flows, {} errors)  flow p50 {}  p99 {}",
        l.per_sec,
        l.flows,
        l.errors,
        fmt_ms(l.p50),
        fmt_ms(l.p99)
    );
    if l.flows > 0 {
        let steps: Vec<String> = LOAD_STEPS
            .iter()
            .zip(l.steps)
            .map(|(name, t)| format!("{name} {}", fmt_ms(Some(t))))
            .collect();
        let _ = writeln!(out, "  {:<34} steps' p50: {}", "", steps.join(", "));
    }
    if let Some(e) = &l.first_error {
        let _ = writeln!(out, "  {:<34} first error: {e}", "");
    }
}

impl std::fmt::Display for Report {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut out = String::new();
        let g = &self.generated;
        let _ = writeln!(
            out,
            "bench console: {} audit events, {} cores, {} kiosks running flows throughout ({})",
            self.options_events,
            self.cores,
            self.workers,
            offered(self.rate)
        );
        let _ = writeln!(
            out,
            "  generated: {} rows ({} flows and My security info visits) from {} to {}, in {:.1} s \
             ({:.0} rows/s); store file {} MB",
            g.rows,
            g.flows,
            rfc3339(g.first_at),
            rfc3339(g.last_at),
            g.took.as_secs_f64(),
            g.rows as f64 / g.took.as_secs_f64().max(1e-9),
            g.file_bytes / 1_000_000
        );
        match &self.warm {
            Some(w) => {
                let _ = writeln!(
                    out,
                    "  server start: the warm-up (usage & insights read the past 400 days) ended \
                     {:.1} s after the server answered; server RSS peak {:.1} MiB during it, \
                     {:.1} MiB after; GET /healthz meanwhile p99 {}, max {}\n  \
                     server's log: {}",
                    w.waited.as_secs_f64(),
                    mib(w.rss_peak),
                    mib(w.rss_after),
                    fmt_ms(percentile(&w.health.times, 99.0)),
                    fmt_ms(w.health.times.last().copied()),
                    w.line.trim()
                );
            }
            None => {
                let _ = writeln!(out, "  server start: this server has no warm-up");
            }
        }
        let floor_p99 = |i: usize| {
            self.direct
                .floors
                .get(i)
                .and_then(|t| percentile(&t.times, 99.0))
        };
        let _ = writeln!(
            out,
            "\nconsole requests, one at a time under the kiosk load (first request not counted):"
        );
        let _ = writeln!(
            out,
            "  {:<28} {:>5} {:>9} {:>9} {:>8} {:<7} {:>9} | {:>7} {:>9} | {:>9} {:>9} | body",
            "",
            "n",
            "p50",
            "p99",
            "goal",
            "",
            "floor p99",
            "flows/s",
            "flow p99",
            "health p99",
            "max"
        );
        let mut failed = 0;
        for p in &self.pages {
            let p99 = percentile(&p.samples, 99.0);
            let verdict = match (p.goal, p99) {
                (Some(goal), Some(p99)) if p99 <= goal => "PASS",
                (Some(_), _) => {
                    failed += 1;
                    "FAIL"
                }
                (None, _) => "no goal",
            };
            let floor = match p.floor {
                Floor::None => "-".to_string(),
                Floor::Days30 => fmt_ms(floor_p99(1)),
                Floor::Days365 => fmt_ms(floor_p99(2)),
            };
            let _ = writeln!(
                out,
                "  {:<28} {:>5} {:>9} {:>9} {:>8} {:<7} {:>9} | {:>7.1} {:>9} | {:>9} {:>9} | {} KB",
                p.name,
                p.samples.len(),
                fmt_ms(percentile(&p.samples, 50.0)),
                fmt_ms(p99),
                p.goal
                    .map(|g| fmt_ms(Some(g)))
                    .unwrap_or_else(|| "-".into()),
                verdict,
                floor,
                p.load.per_sec,
                fmt_ms(p.load.p99),
                fmt_ms(percentile(&p.health.times, 99.0)),
                fmt_ms(p.health.times.last().copied()),
                p.bytes / 1000
            );
        }
        let _ = writeln!(
            out,
            "  floor: the same run's SELECT count(*) over the page's days, p99 of {FLOOR_RUNS};\n  \
             flows/s, flow p99: the kiosk load while the page was measured;\n  \
             health: GET /healthz every 50 ms on a new connection meanwhile, from another thread"
        );

        let _ = writeln!(
            out,
            "\nkiosk load ({} kiosks, identify + email code + verify, {}):",
            self.workers,
            offered(self.rate)
        );
        load_line(&mut out, "alone, before", &self.alone_before);
        load_line(
            &mut out,
            "during the console requests",
            &self.during_console,
        );
        for e in &self.exports {
            load_line(
                &mut out,
                &format!("during the export ({})", e.name),
                &e.load,
            );
        }
        load_line(&mut out, "alone, after", &self.alone_after);

        let _ = writeln!(
            out,
            "\nfloors, straight on the file (read-only connection, server running, kiosk load on), {FLOOR_RUNS} runs:"
        );
        for t in &self.direct.floors {
            let _ = writeln!(
                out,
                "  {:<52} p50 {:>9}  p99 {:>9}  = {}",
                t.name,
                fmt_ms(percentile(&t.times, 50.0)),
                fmt_ms(percentile(&t.times, 99.0)),
                t.value.unwrap_or(0)
            );
        }
        let _ = writeln!(
            out,
            "\nthe store's own queries, straight on the file, every column read, {STORE_RUNS} runs:"
        );
        for t in &self.direct.store {
            let _ = writeln!(
                out,
                "  {:<52} p50 {:>9}  max {:>9}  {} rows",
                t.name,
                fmt_ms(percentile(&t.times, 50.0)),
                fmt_ms(t.times.last().copied()),
                t.rows
            );
        }
        let _ = writeln!(
            out,
            "\nquery plans (EXPLAIN QUERY PLAN on the generated store):"
        );
        for (name, lines) in &self.direct.plans {
            let _ = writeln!(out, "  {name}:");
            for l in lines {
                let _ = writeln!(out, "    {l}");
            }
        }

        let _ = writeln!(
            out,
            "\naudit export (CSV, streamed to a counting sink; server RSS sampled every 100 ms):"
        );
        for e in &self.exports {
            let _ = writeln!(
                out,
                "  {:<18} {:>9} rows {:>8.1} MB in {:>7.1} s ({:.0} rows/s, first byte {}); \
                 RSS before {:.1} MiB, peak {:.1} MiB (+{:.1}, {} samples), after {:.1} MiB",
                e.name,
                e.rows,
                e.bytes as f64 / 1e6,
                e.took.as_secs_f64(),
                e.rows as f64 / e.took.as_secs_f64().max(1e-9),
                fmt_ms(Some(e.first_byte)),
                mib(e.rss_before),
                mib(e.rss_peak),
                mib(e.rss_peak.saturating_sub(e.rss_before)),
                e.samples,
                mib(e.rss_after)
            );
            let _ = writeln!(
                out,
                "  {:<18} pace: {:.0} rows/s over the first tenth of the rows, {:.0} rows/s over the last",
                "", e.pace[0], e.pace[1]
            );
            let _ = writeln!(
                out,
                "  {:<18} meanwhile GET /healthz p50 {}, p99 {}, max {} ({} answered, {} not)",
                "",
                fmt_ms(percentile(&e.health.times, 50.0)),
                fmt_ms(percentile(&e.health.times, 99.0)),
                fmt_ms(e.health.times.last().copied()),
                e.health.times.len(),
                e.health.failed
            );
        }
        let growth = |e: &Export| e.rss_peak.saturating_sub(e.rss_before);
        if let [part, all] = self.exports.as_slice() {
            // Constant memory: the whole trail's export peaks no higher than a slice of it
            // does, give or take the allocator's noise (32 MiB).
            let ratio = all.rows as f64 / part.rows.max(1) as f64;
            let constant = growth(all) <= growth(part) + 32 * 1024;
            if !constant {
                failed += 1;
            }
            let _ = writeln!(
                out,
                "  constant memory: {:.1}x the rows, peak growth {:.1} MiB vs {:.1} MiB \
                 (goal: within 32 MiB of the smaller export's)  {}",
                ratio,
                mib(growth(all)),
                mib(growth(part)),
                if constant { "PASS" } else { "FAIL" }
            );
            let complete = all.rows >= self.rows_before_export;
            if !complete {
                failed += 1;
            }
            let _ = writeln!(
                out,
                "  complete: {} rows exported, {} in the store just before  {}",
                all.rows,
                self.rows_before_export,
                if complete { "PASS" } else { "FAIL" }
            );
        }
        let _ = writeln!(
            out,
            "\n{}",
            if failed == 0 {
                "every goal met".to_string()
            } else {
                format!("{failed} goal(s) missed")
            }
        );
        if let Some((dir, log)) = &self.kept {
            let _ = writeln!(
                out,
                "kept: {} (store), server log {}",
                dir.display(),
                log.display()
            );
        }
        f.write_str(&out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_written_as_the_server_writes_them() {
        for t in [
            0,
            951_782_400,
            1_796_774_400 + 13 * 3600 + 61,
            4_107_542_399,
        ] {
            assert_eq!(rfc3339(t), sspr_server::audit::rfc3339(t));
        }
    }

    #[test]
    fn references_are_unique_and_shaped_like_the_servers() {
        let mut seen = std::collections::HashSet::new();
        for f in 0..200_000 {
            let r = reference(f);
            assert_eq!(r.len(), 9);
            assert_eq!(&r[4..5], "-");
            assert!(seen.insert(r));
        }
    }

    #[test]
    fn pace_over_a_share_of_the_rows() {
        let s = Duration::from_secs;
        // 100 rows in the first second, then 900 more over 9 seconds: 100 rows/s throughout
        // the first tenth, and the last tenth (900 to 1000) in the last second.
        let marks = [(s(0), 0), (s(1), 100), (s(9), 900), (s(10), 1000)];
        assert_eq!(pace(&marks, 0.0, 0.1), 100.0);
        assert_eq!(pace(&marks, 0.9, 1.0), 100.0);
        let slowing = [(s(0), 0), (s(1), 100), (s(2), 900), (s(12), 1000)];
        assert_eq!(pace(&slowing, 0.9, 1.0), 10.0);
    }

    #[test]
    fn rows_come_in_time_order_and_details_are_json() {
        let mut g = Generator::new(1_700_000_000, 30.0, 0);
        let mut last = 0;
        for _ in 0..20_000 {
            let row = g.next_row();
            assert!(row.at >= last);
            last = row.at;
            let detail: serde_json::Value = serde_json::from_str(&row.detail).unwrap();
            assert_eq!(detail["event"], row.event);
        }
    }
}
