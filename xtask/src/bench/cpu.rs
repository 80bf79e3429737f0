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
    /// The SMS gateway's processes (Kannel's), when it runs.
    gateway_pids: Vec<u32>,
    gateway: f64,
    bench: f64,
    busy: f64,
    at: Instant,
}

/// Cores used on average: by the server, by the load generator, by the SMS gateway when
/// it runs, by everything else.
#[derive(Clone, Copy)]
pub struct Usage {
    pub server: f64,
    pub gateway: Option<f64>,
    pub bench: f64,
    pub other: f64,
    secs: f64,
}

/// The server's CPU seconds; none before it runs (the floors run in this process).
fn server_secs(pid: Option<u32>) -> Option<f64> {
    pid.map_or(Some(0.0), cpu_secs)
}

/// The CPU seconds of every process in `pids`.
fn gateway_secs(pids: &[u32]) -> Option<f64> {
    pids.iter().map(|&pid| cpu_secs(pid)).sum()
}

impl Snapshot {
    pub fn take(server_pid: Option<u32>) -> Option<Snapshot> {
        Snapshot::with_gateway(server_pid, &[])
    }

    /// Also counts the cores the SMS gateway's processes use (none given: no gateway).
    pub fn with_gateway(server_pid: Option<u32>, gateway_pids: &[u32]) -> Option<Snapshot> {
        Some(Snapshot {
            server_pid,
            server: server_secs(server_pid)?,
            gateway_pids: gateway_pids.to_vec(),
            gateway: gateway_secs(gateway_pids)?,
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
        let gateway = if self.gateway_pids.is_empty() {
            None
        } else {
            Some((gateway_secs(&self.gateway_pids)? - self.gateway) / secs)
        };
        let bench = (cpu_secs(std::process::id())? - self.bench) / secs;
        let busy = (busy_secs()? - self.busy) / secs;
        Some(Usage {
            server,
            gateway,
            bench,
            other: (busy - server - gateway.unwrap_or(0.0) - bench).max(0.0),
            secs,
        })
    }
}

impl Usage {
    /// The average over both spans, weighted by their length.
    pub fn add(&self, other: &Usage) -> Usage {
        let secs = self.secs + other.secs;
        let gateway = match (self.gateway, other.gateway) {
            (Some(a), Some(b)) => Some((a * self.secs + b * other.secs) / secs),
            (a, b) => a.or(b),
        };
        Usage {
            server: (self.server * self.secs + other.server * other.secs) / secs,
            gateway,
            bench: (self.bench * self.secs + other.bench * other.secs) / secs,
            other: (self.other * self.secs + other.other * other.secs) / secs,
            secs,
        }
    }
}

/// This process's children called one of `names` (their command, as /proc shows it).
pub fn children_named(names: &[&str]) -> Vec<u32> {
    let me = std::process::id();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|&pid| {
            let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
                return false;
            };
            // "PID (COMM) STATE PPID ..."
            let Some((head, rest)) = stat.rsplit_once(')') else {
                return false;
            };
            let comm = head.split_once('(').map(|(_, c)| c).unwrap_or_default();
            let parent = rest.split_whitespace().nth(1).and_then(|p| p.parse().ok());
            parent == Some(me) && names.contains(&comm)
        })
        .collect()
}
