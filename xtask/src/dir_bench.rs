//! `cargo xtask bench directory`: password resets written back through the release
//! server into a real OpenLDAP slapd (Password Modify over StartTLS) and a real Samba AD
//! DC (`unicodePwd` over LDAPS), beside a raw ldap3 loop doing the same write against the
//! same directory in the same run, at a few concurrency levels.
//!
//! Per level and path every reset uses a person of its own, so no one meets the
//! per-person reset throttle, a TOTP code is used once, and the directory's password
//! history never refuses. Through the server, flows are verified first (untimed); only
//! `POST /v1/flows/{id}/password` is timed, which is the writeback as a kiosk sees it.
//!
//! A third loop, "raw+lookup", does what the server asks of the directory per reset (the
//! person's entry searched by login, their groups searched, then the write), so the gap
//! between server and raw splits into directory work and the server's own.
//!
//! Progress goes to stderr; the report to stdout.

mod cpu;
mod raw;
pub mod through;
pub mod users;

use std::path::Path;
use std::time::Duration;

use anyhow::Context as _;

use users::Target;

/// Concurrent resets measured, one line each.
const LEVELS: [usize; 3] = [1, 8, 32];
/// Pooled connections of the raw loops: the server's default `pool_size`.
const RAW_CONNECTIONS: usize = 4;
/// Each level runs server, raw and raw+lookup in turns this many times, so a disk or a
/// neighbour that is slow for a moment weighs on all three alike.
const ROUNDS: usize = 3;
/// The share of the raw loop's rate the server should reach.
const GOAL_PERCENT: f64 = 80.0;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Kind {
    Slapd,
    Samba,
}

impl Kind {
    pub fn label(self) -> &'static str {
        match self {
            Kind::Slapd => "slapd",
            Kind::Samba => "samba",
        }
    }
}

struct Options {
    /// Resets per level and path, at least (a level runs at least 8 rounds).
    resets: usize,
    kinds: Vec<Kind>,
    /// Leave the test fixture's slapd without indexes.
    unindexed: bool,
}

impl Options {
    fn parse(args: &[&str]) -> anyhow::Result<Options> {
        let mut options = Options {
            resets: 64,
            kinds: vec![Kind::Slapd, Kind::Samba],
            unindexed: false,
        };
        let mut args = args.iter();
        while let Some(arg) = args.next() {
            match *arg {
                "--resets" => {
                    let v = args.next().context("--resets needs a value")?;
                    let n: usize = v
                        .parse()
                        .with_context(|| format!("--resets {v:?}: not a number"))?;
                    anyhow::ensure!((8..=2000).contains(&n), "--resets: 8 to 2000");
                    options.resets = n;
                }
                "--only" => {
                    let v = args.next().context("--only needs a value")?;
                    options.kinds = match *v {
                        "slapd" => vec![Kind::Slapd],
                        "samba" => vec![Kind::Samba],
                other => anyhow::bail!("--only {other:?}: slapd or samba"),
                    };
                }
                "--unindexed" => options.unindexed = true,
                other => anyhow::bail!(
                    "unknown argument {other:?}\n\
                     usage: cargo xtask bench directory [--resets N] [--only slapd|samba] [--unindexed]\n\
                     \x20 --resets N   resets per level and path, at least (default 64; a level\n\
                     \x20              runs at least 8 rounds of its concurrency)\n\
                     \x20 --only D     one directory: slapd or samba (default both)\n\
                     \x20 --unindexed  slapd as the test fixture makes it, without the equality\n\
                     \x20              indexes (uid, mail, member) a production directory has"
                ),
            }
        }
        Ok(options)
    }

    /// Resets at `concurrency`: enough rounds that the tail of the last one weighs little.
    fn resets_at(&self, concurrency: usize) -> usize {
        self.resets.max(8 * concurrency)
    }
}

pub fn run(root: &Path, args: &[&str]) -> anyhow::Result<()> {
    let options = Options::parse(args)?;
    let Some(binary) = crate::bench::release_server(root, "directory", args)? else {
        return Ok(());
    };
    // The test kit starts this binary (it would look beside a test executable otherwise).
    std::env::set_var("SSPR_SERVER_BIN", &binary);

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let load_before = load_average();
    let result = runtime.block_on(async {
        let mut lines = Vec::new();
        for kind in &options.kinds {
            lines.extend(measure(*kind, &options).await?);
        }
        anyhow::Ok(lines)
    });
    runtime.shutdown_timeout(Duration::from_secs(2));
    let lines = result?;
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    println!(
        "bench directory: {cores} cores; load average {load_before} before, {} after; \
         server pool_size {RAW_CONNECTIONS}, raw loops on {RAW_CONNECTIONS} connections; \
         slapd {}; resets per level: {}",
        load_average(),
        if options.unindexed {
            "without indexes (as the test fixture makes it)"
        } else {
            "with eq indexes on objectClass, uid, mail, member"
        },
        LEVELS
            .iter()
            .map(|c| format!("{} at conc {c}", options.resets_at(*c)))
            .collect::<Vec<_>>()
            .join(", ")
    );
    for line in lines {
        println!("{line}");
    }
    Ok(())
}

/// Timings of one loop at one level.
pub struct Timed {
    pub ok: usize,
    pub errors: usize,
    pub first_error: Option<String>,
    pub elapsed: Duration,
    /// Latency of each successful reset, sorted.
    pub latencies: Vec<Duration>,
    pub cpu: cpu::Usage,
}

impl Timed {
    fn empty() -> Timed {
        Timed {
            ok: 0,
            errors: 0,
            first_error: None,
            elapsed: Duration::ZERO,
            latencies: Vec::new(),
            cpu: cpu::Usage::default(),
        }
    }

    /// Another run of the same loop: counts, times and CPU add up.
    fn absorb(&mut self, other: Timed) {
        self.ok += other.ok;
        self.errors += other.errors;
        if self.first_error.is_none() {
            self.first_error = other.first_error;
        }
        self.elapsed += other.elapsed;
        self.latencies.extend(other.latencies);
        self.latencies.sort();
        self.cpu.server += other.cpu.server;
        self.cpu.directory += other.cpu.directory;
        self.cpu.bench += other.cpu.bench;
    }

    pub fn per_sec(&self) -> f64 {
        let secs = self.elapsed.as_secs_f64();
        if secs > 0.0 {
            self.ok as f64 / secs
        } else {
            0.0
        }
    }

    /// Nearest-rank percentile in milliseconds.
    pub fn ms(&self, p: f64) -> f64 {
        if self.latencies.is_empty() {
            return f64::NAN;
        }
        let rank = ((p / 100.0) * self.latencies.len() as f64).ceil() as usize;
        self.latencies[rank.clamp(1, self.latencies.len()) - 1].as_secs_f64() * 1000.0
    }

    fn errors_note(&self) -> String {
        match (&self.first_error, self.errors) {
            (_, 0) => String::new(),
            (Some(e), n) => format!(" [{n} failed, first: {e}]"),
            (None, n) => format!(" [{n} failed]"),
        }
    }
}

/// One directory: start it, make its people, start the server, then every level.
async fn measure(kind: Kind, options: &Options) -> anyhow::Result<Vec<String>> {
    progress(format!("{}: starting", kind.label()));
    let unindexed = options.unindexed;
    let target = tokio::task::spawn_blocking(move || Target::start(kind, unindexed)).await??;
    let target = std::sync::Arc::new(target);

    // Three loops (server, raw, raw+lookup) per level, a fresh person for every reset.
    let per_path: usize = LEVELS.iter().map(|c| options.resets_at(*c)).sum();
    let started = std::time::Instant::now();
    progress(format!(
        "{}: adding {} people (as the directory's administrator)",
        kind.label(),
        per_path * 3
    ));
    let people = {
        let target = target.clone();
        tokio::task::spawn_blocking(move || users::add_people(&target, per_path * 3)).await??
    };
    progress(format!(
        "{}: people added in {:.1} s",
        kind.label(),
        started.elapsed().as_secs_f64()
    ));
    let (server_people, rest) = people.split_at(per_path);
    let (raw_people, lookup_people) = rest.split_at(per_path);

    let server = through::Server::start(&target, server_people).await?;
    let raw = raw::Raw::connect(&target, RAW_CONNECTIONS).await?;

    let mut lines = Vec::new();
    // One cursor for all three lists: they are equally long.
    let mut at = 0;
    for concurrency in LEVELS {
        let n = options.resets_at(concurrency);
        let label = kind.label();
        progress(format!(
            "{label} conc {concurrency}: {n} resets each through the server, raw, raw+lookup \
             (in {ROUNDS} alternating rounds)"
        ));
        let (mut through, mut bare, mut lookup) = (Timed::empty(), Timed::empty(), Timed::empty());
        for round in 0..ROUNDS {
            // Round `round`'s share of the level's n people.
            let (from, to) = (at + n * round / ROUNDS, at + n * (round + 1) / ROUNDS);
            through.absorb(
                server
                    .run(&target, &server_people[from..to], concurrency)
                    .await?,
            );
            bare.absorb(
                raw.run(&target, &raw_people[from..to], concurrency, false)
                    .await?,
            );
            lookup.absorb(
                raw.run(&target, &lookup_people[from..to], concurrency, true)
                    .await?,
            );
        }
        at += n;
        lines.extend(report(kind, concurrency, &through, &bare, &lookup));
        if concurrency == 1 {
            let signed = server.signed_requests(&target, n).await?;
            lines.push(bound_at_one(kind, &bare, &signed));
        }
    }
    raw.close().await;
    drop(server);
    // The directory stops when its handle is dropped (the last Arc is here).
    drop(target);
    Ok(lines)
}

fn report(
    kind: Kind,
    concurrency: usize,
    server: &Timed,
    raw: &Timed,
    lookup: &Timed,
) -> Vec<String> {
    let ratio = if raw.per_sec() > 0.0 {
        100.0 * server.per_sec() / raw.per_sec()
    } else {
        0.0
    };
    let pass = ratio >= GOAL_PERCENT && server.errors == 0 && raw.errors == 0;
    let label = kind.label();
    let pad = " ".repeat(label.len());
    let cpu_line = |name: &str, t: &Timed| {
        let n = t.ok.max(1) as f64;
        let mut parts = Vec::new();
        if t.cpu.server > 0.0 {
            parts.push(format!("sspr-server {:.2}", t.cpu.server * 1000.0 / n));
        }
        parts.push(format!("{label} {:.2}", t.cpu.directory * 1000.0 / n));
        parts.push(format!("bench {:.2}", t.cpu.bench * 1000.0 / n));
        format!("{name} {}", parts.join(", "))
    };
    vec![
        format!(
            "{label} conc {concurrency:>2}: server {:.0} resets/s, p50 {:.1} ms, p99 {:.1} ms | \
             raw {:.0} resets/s, p50 {:.1} ms, p99 {:.1} ms | server/raw {ratio:.1} % \
             (goal >= {GOAL_PERCENT:.0} %) {}{}{}",
            server.per_sec(),
            server.ms(50.0),
            server.ms(99.0),
            raw.per_sec(),
            raw.ms(50.0),
            raw.ms(99.0),
            if pass { "PASS" } else { "FAIL" },
            server.errors_note(),
            raw.errors_note(),
        ),
        format!(
            "{pad}   diagnosis: raw+lookup (the server's search + write) {:.0} \
             resets/s, p50 {:.1} ms, p99 {:.1} ms{}; cpu ms/reset: {} | {} | {}",
            lookup.per_sec(),
            lookup.ms(50.0),
            lookup.ms(99.0),
            lookup.errors_note(),
            cpu_line("server path:", server),
            cpu_line("raw:", raw),
            cpu_line("raw+lookup:", lookup),
        ),
    ]
}

/// One at a time, a reset through the server is a signed request plus the directory's
/// write, one after the other: the share of the raw loop's rate it could reach if the
/// server did nothing else (no flow, no search, no commit).
fn bound_at_one(kind: Kind, raw: &Timed, signed: &Timed) -> String {
    let mean = |t: &Timed| t.elapsed.as_secs_f64() / t.ok.max(1) as f64;
    let (raw_s, signed_s) = (mean(raw), mean(signed));
    format!(
        "{}   bound: a signed request that does nothing (GET /v1/kiosk/settings), one at a \
         time, takes {:.2} ms (p50 {:.2} ms){}; with the raw write's {:.2} ms that leaves the \
         server at most {:.1} % of the raw loop at conc 1 if it did nothing else",
        " ".repeat(kind.label().len()),
        signed_s * 1e3,
        signed.ms(50.0),
        signed.errors_note(),
        raw_s * 1e3,
        100.0 * raw_s / (raw_s + signed_s),
    )
}

/// `/proc/loadavg`'s first three fields.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".into())
}

pub use crate::bench::progress;
