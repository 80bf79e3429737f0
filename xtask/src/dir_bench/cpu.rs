//! CPU time over a timed loop, from /proc: the server's process, the directory's
//! processes (found by their data folder on the command line) and this one.

use std::path::Path;

/// CPU seconds spent during a loop.
#[derive(Default, Clone, Copy)]
pub struct Usage {
    pub server: f64,
    pub directory: f64,
    pub bench: f64,
}

/// Ticks per second of /proc's utime and stime (USER_HZ, 100 on Linux).
const TICKS: f64 = 100.0;

pub struct Snapshot {
    server_marker: Option<String>,
    directory_marker: String,
    server: u64,
    directory: u64,
    bench: u64,
}

impl Snapshot {
    /// `server` is a string on the server's command line (its config path), if any.
    pub fn take(server: Option<&Path>, directory: &Path) -> Snapshot {
        let server_marker = server.map(|p| p.display().to_string());
        let directory_marker = directory.display().to_string();
        Snapshot {
            server: server_marker.as_deref().map(ticks_matching).unwrap_or(0),
            directory: ticks_matching(&directory_marker),
            bench: ticks_of("self").unwrap_or(0),
            server_marker,
            directory_marker,
        }
    }

    pub fn usage_since(&self) -> Usage {
        let server = self
            .server_marker
            .as_deref()
            .map(ticks_matching)
            .unwrap_or(0);
        let directory = ticks_matching(&self.directory_marker);
        let bench = ticks_of("self").unwrap_or(0);
        Usage {
            server: server.saturating_sub(self.server) as f64 / TICKS,
            directory: directory.saturating_sub(self.directory) as f64 / TICKS,
            bench: bench.saturating_sub(self.bench) as f64 / TICKS,
        }
    }
}

/// utime + stime of every process that names `marker` on its command line or has a
/// file under it open.
fn ticks_matching(marker: &str) -> u64 {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return 0;
    };
    let own = std::process::id().to_string();
    entries
        .flatten()
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|pid| pid.bytes().all(|b| b.is_ascii_digit()) && *pid != own)
        .filter(|pid| names(pid, marker))
        .filter_map(|pid| ticks_of(&pid))
        .sum()
}

/// Whether the process's command line contains `marker`, or one of its open files is
/// under it (Samba rewrites its command line into a process title).
fn names(pid: &str, marker: &str) -> bool {
    let cmdline = std::fs::read(format!("/proc/{pid}/cmdline"))
        .map(|c| String::from_utf8_lossy(&c).contains(marker))
        .unwrap_or(false);
    cmdline
        || std::fs::read_dir(format!("/proc/{pid}/fd"))
            .map(|fds| {
                fds.flatten().any(|fd| {
                    std::fs::read_link(fd.path())
                        .map(|target| target.starts_with(marker))
                        .unwrap_or(false)
                })
            })
            .unwrap_or(false)
}

/// utime + stime of one process (`self` or a pid).
fn ticks_of(pid: &str) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name may hold spaces; fields after its closing parenthesis.
    let rest = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // Fields 14 and 15 of stat(5); here 0-based after the name: state is 0.
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some(utime + stime)
}
