//! Where the cores went during a run: the server's CPU time, this process's (the load
//! generator's) and everything else's, from /proc. On a box this small they compete, so
//! the split tells whether the server or the client is the limit, and whether something
//! else on the box (a build, say) took cores from both. Linux only; elsewhere left out.

use std::time::Instant;

/// /proc reports CPU times in USER_HZ ticks, which the kernel ABI fixes at 100.
const TICKS_PER_SEC: f64 = 100.0;

/// CPU seconds (user + system) a process has used so far.
fn cpu_secs(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) may hold spaces; the fields after it don't.
    let rest = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // Fields 14 and 15 of proc(5), utime and stime, are the 12th and 13th after the name.
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) / TICKS_PER_SEC)
}

/// CPU seconds every core of the box has been busy so far (the first line of /proc/stat:
/// everything but idle and iowait).
fn busy_secs() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let line = stat.lines().next()?.strip_prefix("cpu ")?;
    let ticks: Vec<f64> = line
        .split_whitespace()
        .map(|t| t.parse().ok())
        .collect::<Option<_>>()?;
    // user nice system idle iowait irq softirq steal (guest time is inside user already).
    let total: f64 = ticks.iter().take(8).sum();
    let idle = ticks.get(3)? + ticks.get(4)?;
    Some((total - idle) / TICKS_PER_SEC)
}

pub struct Snapshot {
    server_pid: Option<u32>,
    server: f64,
    bench: f64,
    busy: f64,
    at: Instant,
}

/// Cores used on average: by the server, by the load generator, by everything else.
#[derive(Clone, Copy)]
pub struct Usage {
    pub server: f64,
    pub bench: f64,
    pub other: f64,
    secs: f64,
}

/// The server's CPU seconds; none before it runs (the floors run in this process).
fn server_secs(pid: Option<u32>) -> Option<f64> {
    pid.map_or(Some(0.0), cpu_secs)
}

impl Snapshot {
    pub fn take(server_pid: Option<u32>) -> Option<Snapshot> {
        Some(Snapshot {
            server_pid,
            server: server_secs(server_pid)?,
            bench: cpu_secs(std::process::id())?,
            busy: busy_secs()?,
            at: Instant::now(),
        })
    }

    pub fn usage_since(&self) -> Option<Usage> {
        let secs = self.at.elapsed().as_secs_f64();
        if secs <= 0.0 {
            return None;
        }
        let server = (server_secs(self.server_pid)? - self.server) / secs;
        let bench = (cpu_secs(std::process::id())? - self.bench) / secs;
        let busy = (busy_secs()? - self.busy) / secs;
        Some(Usage {
            server,
            bench,
            other: (busy - server - bench).max(0.0),
            secs,
        })
    }
}

impl Usage {
    /// The average over both spans, weighted by their length.
    pub fn add(&self, other: &Usage) -> Usage {
        let secs = self.secs + other.secs;
        Usage {
            server: (self.server * self.secs + other.server * other.secs) / secs,
            bench: (self.bench * self.secs + other.bench * other.secs) / secs,
            other: (self.other * self.secs + other.other * other.secs) / secs,
            secs,
        }
    }
}
