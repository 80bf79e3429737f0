//! Directory daemons that never outlive the test process, even when it panics or is killed.
//!
//! Three layers, because statics are never dropped and `atexit` needs `unsafe` (forbidden in
//! this workspace):
//! - each daemon runs under `setpriv --pdeathsig KILL`, spawned from one thread that lives as
//!   long as the process (the death signal follows the *thread* that forked);
//! - each daemon leads its own process group (Samba forks a family), and a watchdog shell
//!   holding the read end of a pipe kills those groups and removes the data folders when
//!   the pipe closes, that is when this process ends, however it ends;
//! - Samba runs with `-i` and a piped stdin, so it also shuts itself down on EOF.

use std::fs::File;
use std::io::Write as _;
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use nix::sys::signal::{killpg, Signal};
use nix::unistd::Pid;

/// The watchdog: reads `pgid N`, `forget N` and `dir PATH` lines; on EOF kills the groups
/// and removes the folders. It ignores the terminal's signals so Ctrl-C still cleans up.
const WATCHDOG: &str = r#"
trap '' INT TERM HUP QUIT
groups=''
dirs=''
while IFS=' ' read -r kind arg; do
  case "$kind" in
    pgid) groups="$groups $arg" ;;
    forget) groups=$(for g in $groups; do [ "$g" = "$arg" ] || printf ' %s' "$g"; done) ;;
    dir) dirs="$dirs
$arg" ;;
  esac
done
for g in $groups; do kill -KILL -- "-$g" 2>/dev/null; done
printf '%s\n' "$dirs" | while IFS= read -r d; do
  if [ -n "$d" ]; then rm -rf -- "$d"; fi
done
"#;

static WATCHDOG_PIPE: OnceLock<Result<Mutex<ChildStdin>, String>> = OnceLock::new();

fn tell_watchdog(line: &str) -> anyhow::Result<()> {
    let pipe = WATCHDOG_PIPE.get_or_init(|| {
        start_watchdog()
            .map(Mutex::new)
            .map_err(|e| format!("{e:#}"))
    });
    let pipe = pipe.as_ref().map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut pipe = pipe
        .lock()
        .map_err(|_| anyhow::anyhow!("watchdog pipe poisoned"))?;
    writeln!(pipe, "{line}").context("telling the cleanup watchdog")?;
    pipe.flush().context("telling the cleanup watchdog")
}

fn start_watchdog() -> anyhow::Result<ChildStdin> {
    let mut child = Command::new("sh")
        .args(["-c", WATCHDOG])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        // Its own group: a Ctrl-C to the test's group must not take it down first.
        .process_group(0)
        .spawn()
        .context("starting the cleanup watchdog (sh)")?;
    child
        .stdin
        .take()
        .context("the cleanup watchdog has no stdin")
}

/// Removes `dir` when the test process ends, unless SSPR_KEEP_TEST_DATA is set.
pub(crate) fn remove_at_exit(dir: &Path) -> anyhow::Result<()> {
    if keep_data() {
        return Ok(());
    }
    let text = dir.to_str().context("temp folder path is not UTF-8")?;
    anyhow::ensure!(!text.contains('\n'), "temp folder path has a newline");
    tell_watchdog(&format!("dir {text}"))
}

/// Whether SSPR_KEEP_TEST_DATA asks to keep data folders (as tests/src/lib.rs does).
pub(crate) fn keep_data() -> bool {
    std::env::var_os("SSPR_KEEP_TEST_DATA").is_some()
}

type SpawnJob = Box<dyn FnOnce() + Send>;

static SPAWNER: OnceLock<Result<Mutex<mpsc::Sender<SpawnJob>>, String>> = OnceLock::new();

/// Spawns `cmd` from a thread that lives until the process exits, so a parent-death signal
/// set in the child fires when the *process* dies, not when the test thread that happened
/// to start a shared fixture returns.
fn spawn_from_keeper(mut cmd: Command) -> anyhow::Result<Child> {
    let spawner = SPAWNER.get_or_init(|| {
        let (tx, rx) = mpsc::channel::<SpawnJob>();
        std::thread::Builder::new()
            .name("sspr-dirs-spawner".into())
            .spawn(move || {
                for job in rx {
                    job();
                }
            })
            .map(|_| Mutex::new(tx))
            .map_err(|e| format!("starting the spawner thread: {e}"))
    });
    let spawner = spawner.as_ref().map_err(|e| anyhow::anyhow!("{e}"))?;
    let (reply_tx, reply_rx) = mpsc::channel();
    spawner
        .lock()
        .map_err(|_| anyhow::anyhow!("spawner poisoned"))?
        .send(Box::new(move || {
            let _ = reply_tx.send(cmd.spawn());
        }))
        .map_err(|_| anyhow::anyhow!("the spawner thread is gone"))?;
    Ok(reply_rx
        .recv()
        .context("the spawner thread dropped the job")??)
}

/// A daemon in its own process group, killed with its group when the test process ends.
pub(crate) struct Daemon {
    name: &'static str,
    child: Mutex<Option<Child>>,
    /// Its stdout and stderr.
    pub(crate) log: PathBuf,
}

impl Daemon {
    /// Starts `program args` under `setpriv --pdeathsig KILL`, output to `log`. With
    /// `piped_stdin` the daemon's stdin stays open until it is stopped (Samba's `-i` exits
    /// on EOF).
    pub(crate) fn start(
        name: &'static str,
        program: &str,
        args: &[&str],
        log: &Path,
        piped_stdin: bool,
    ) -> anyhow::Result<Daemon> {
        let daemon = Daemon {
            name,
            child: Mutex::new(None),
            log: log.to_path_buf(),
        };
        daemon.launch(program, args, piped_stdin)?;
        Ok(daemon)
    }

    /// (Re)starts the daemon; any earlier child must be gone.
    fn launch(&self, program: &str, args: &[&str], piped_stdin: bool) -> anyhow::Result<()> {
        let out = File::options()
            .create(true)
            .append(true)
            .open(&self.log)
            .with_context(|| format!("opening {}", self.log.display()))?;
        let mut cmd = Command::new("setpriv");
        cmd.args(["--pdeathsig", "KILL", "--", program])
            .args(args)
            .stdin(if piped_stdin {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::from(out.try_clone()?))
            .stderr(Stdio::from(out))
            .process_group(0);
        let child = spawn_from_keeper(cmd).with_context(|| format!("starting {program}"))?;
        tell_watchdog(&format!("pgid {}", child.id()))?;
        *self.lock()? = Some(child);
        Ok(())
    }

    fn lock(&self) -> anyhow::Result<std::sync::MutexGuard<'_, Option<Child>>> {
        self.child
            .lock()
            .map_err(|_| anyhow::anyhow!("{} handle poisoned", self.name))
    }

    /// The exit status if the daemon has exited (or was never started).
    pub(crate) fn exited(&self) -> Option<String> {
        let mut guard = self.lock().ok()?;
        match guard.as_mut() {
            None => Some("stopped".into()),
            Some(child) => child.try_wait().ok().flatten().map(|s| s.to_string()),
        }
    }

    /// The process id of the running daemon (its group's leader), if it runs.
    pub(crate) fn pid(&self) -> Option<u32> {
        let mut guard = self.lock().ok()?;
        let child = guard.as_mut()?;
        match child.try_wait() {
            Ok(None) => Some(child.id()),
            _ => None,
        }
    }

    /// The last `lines` lines of the daemon's output, for error messages.
    pub(crate) fn log_tail(&self, lines: usize) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let all: Vec<&str> = text.lines().collect();
        all[all.len().saturating_sub(lines)..].join("\n")
    }

    /// Sends `signal` to the whole group, waits up to `grace` for the leader to exit, then
    /// SIGKILLs the group (stragglers included) and reaps the leader.
    /// Errors (which leave cleanup to the watchdog) are reported on stderr.
    pub(crate) fn stop_with(&self, signal: Signal, grace: Duration) {
        if let Err(e) = self.try_stop(signal, grace) {
            eprintln!("stopping {}: {e:#}", self.name);
        }
    }

    fn try_stop(&self, signal: Signal, grace: Duration) -> anyhow::Result<()> {
        let mut guard = self.lock()?;
        let Some(mut child) = guard.take() else {
            return Ok(());
        };
        let pgid = Pid::from_raw(i32::try_from(child.id()).context("pid out of range")?);
        // Closing stdin first lets Samba's `-i` mode begin its own shutdown.
        drop(child.stdin.take());
        let _ = killpg(pgid, signal);
        let deadline = Instant::now() + grace;
        let mut status: Option<ExitStatus> = None;
        while Instant::now() < deadline {
            if let Ok(Some(s)) = child.try_wait() {
                status = Some(s);
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = killpg(pgid, Signal::SIGKILL);
        if status.is_none() {
            let _ = child.wait();
        }
        // Wait (briefly) until no process of the group is left, so the ports are free.
        let deadline = Instant::now() + Duration::from_secs(5);
        while killpg(pgid, None).is_ok() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
        tell_watchdog(&format!("forget {pgid}"))
    }

    /// Restarts a stopped daemon with the same command line.
    pub(crate) fn restart(
        &self,
        program: &str,
        args: &[&str],
        piped_stdin: bool,
    ) -> anyhow::Result<()> {
        anyhow::ensure!(
            self.lock()?.is_none(),
            "{} is still running: stop or kill it first",
            self.name
        );
        self.launch(program, args, piped_stdin)
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        self.stop_with(Signal::SIGKILL, Duration::from_secs(2));
    }
}
