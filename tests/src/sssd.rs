//! A shared Linux workstation's sign-in, for tests that follow a password from the kiosk to
//! a PC: a real `sssd` with an LDAP domain on a test slapd (StartTLS, cached credentials on,
//! as on a PC that must let people in while the directory can't be reached), and a PAM
//! service of the kit's own, [`PAM_SERVICE`], that signs people in through it with
//! `pamtester`, as a login screen does.
//!
//! sssd's sockets and cache are at fixed paths (`/var/lib/sss`), so one sssd runs at a time
//! on the machine: handles in this process take turns (an [`Sssd`] has sssd to itself until
//! it is dropped), test processes take a lock file, and the kit refuses to start while any
//! other sssd runs (a system one included). Every new instance starts with an empty cache.
//! sssd runs in the foreground as a child under `setpriv --pdeathsig` (see `dirs::process`),
//! so nothing outlives the test process. Needs root and the packages `./run test` installs
//! (sssd-ldap, libpam-sss, pamtester).

use std::fs::File;
use std::io::{Read as _, Write as _};
use std::os::unix::fs::OpenOptionsExt as _;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{mpsc, Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use nix::errno::Errno;
use nix::fcntl::{Flock, FlockArg};
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

use crate::dirs::process::{self, Daemon};
use crate::dirs::{temp_folder, Slapd};

/// The PAM service the kit writes ([`PAM_SERVICE_FILE`]) and signs in through; a login
/// screen under test (LightDM's `pam-service`) can name it too.
pub const PAM_SERVICE: &str = "sspr-test-login";
/// Where the kit writes [`PAM_SERVICE`]'s stack ([`PAM_STACK`]). Left in place when the
/// tests end (it signs in through sssd only, which refuses everyone when not running).
pub const PAM_SERVICE_FILE: &str = "/etc/pam.d/sspr-test-login";
/// The stack of [`PAM_SERVICE`]: a shared workstation's sign-in for directory people, as
/// Debian's common-auth and common-account have it for people who are not local once
/// libpam-sss is installed, without the local-account modules in front.
pub const PAM_STACK: &str = "\
# Written by the SSPR test kit (tests/src/sssd.rs) for its tests: a shared workstation's
# sign-in for directory people, through sssd. Safe to delete.
auth     required  pam_sss.so
account  required  pam_sss.so
password required  pam_deny.so
session  required  pam_permit.so
";
/// The sssd domain's name.
pub const DOMAIN: &str = "sspr-test";

/// Where sssd's PAM responder listens (fixed when sssd is built).
const PAM_SOCKET: &str = "/var/lib/sss/pipes/pam";
/// sssd's sockets between its own processes (fixed when sssd is built).
const PRIVATE_PIPES: &str = "/var/lib/sss/pipes/private";
/// sssd's caches and its configuration database (fixed when sssd is built).
const DB_DIR: &str = "/var/lib/sss/db";
/// sssd's pid file (fixed when sssd is built). sssd refuses to start while the process it
/// names exists, a zombie included: an earlier test process's sssd, killed when that
/// process ended, stays one until init reaps it.
const PID_FILE: &str = "/run/sssd.pid";
/// Held by the test process whose sssd runs.
const MACHINE_LOCK: &str = "/run/lock/sspr-test-sssd.lock";
/// How long a handle waits for sssd while another test (of this process or another) has it.
const TURN_WAIT: Duration = Duration::from_secs(180);
/// A login no directory holds, to see that sssd answers.
const PROBE_LOGIN: &str = "sspr-no-such-person";

/// What a sign-in through [`PAM_SERVICE`] answered: signed in or refused (anything else
/// is an `Err`).
#[derive(Debug, Clone)]
pub struct SignIn {
    /// PAM signed the person in.
    pub accepted: bool,
    /// sssd checked the password against its cache because the directory can't be reached
    /// (pam_sss said "Authenticated with cached credentials").
    pub cached: bool,
    /// What pamtester and pam_sss printed.
    pub said: String,
}

/// Exclusive use of the one sssd, configured for one slapd. [`Sssd::shared`] keeps its
/// sssd for later handles on the shared slapd until the process ends; [`Sssd::start`]'s is
/// stopped (and its cache wiped) when the handle is dropped.
pub struct Sssd {
    instance: Arc<Instance>,
    _turn: Turn,
}

impl Sssd {
    /// sssd for [`Slapd::shared`]: started on first use (with an empty cache), then kept
    /// for later handles of this process, cache and all, like the shared slapd. Waits
    /// while another handle has sssd.
    pub fn shared() -> anyhow::Result<Sssd> {
        Self::lease(Slapd::shared()?, true)
    }

    /// A fresh sssd (empty cache) for `slapd`, stopped and wiped when dropped. For a
    /// private slapd that a test stops and restarts. Waits while another handle has sssd.
    pub fn start(slapd: &Slapd) -> anyhow::Result<Sssd> {
        Self::lease(slapd, false)
    }

    fn lease(slapd: &Slapd, keep: bool) -> anyhow::Result<Sssd> {
        let turn = Turn::take()?;
        if let Some(current) = turns().running.take() {
            if keep
                && current.keep
                && current.ldap_url == slapd.ldap_url
                && current.daemon.exited().is_none()
            {
                turns().running = Some(current.clone());
                return Ok(Sssd {
                    instance: current,
                    _turn: turn,
                });
            }
            // Only the turn's holder touches `running`: this is the last reference, and
            // dropping it lets go of the machine lock.
            current.stop();
        }
        let instance = Arc::new(Instance::start(slapd, keep)?);
        turns().running = Some(instance.clone());
        Ok(Sssd {
            instance,
            _turn: turn,
        })
    }

    /// Signs `user` in with `password` through [`PAM_SERVICE`] (`pamtester ... authenticate`,
    /// the password on stdin), as a login screen does: `Ok(true)` signed in, `Ok(false)`
    /// refused. Errors when sssd can't be reached or can't check the password at all
    /// (offline with nothing cached), or doesn't know `user`.
    pub fn pam_sign_in(&self, user: &str, password: &str) -> anyhow::Result<bool> {
        Ok(self.sign_in(user, password)?.accepted)
    }

    /// [`Sssd::pam_sign_in`], saying also whether sssd signed them in from its cache.
    pub fn sign_in(&self, user: &str, password: &str) -> anyhow::Result<SignIn> {
        let said = pamtester(user, password)?;
        match said.answer {
            Answer::Accepted => Ok(SignIn {
                accepted: true,
                cached: said.text.contains("Authenticated with cached credentials"),
                said: said.text,
            }),
            Answer::Refused => Ok(SignIn {
                accepted: false,
                cached: false,
                said: said.text,
            }),
            Answer::Unavailable => {
                if let Some(status) = self.instance.daemon.exited() {
                    anyhow::bail!(
                        "sssd is not running ({status}), so PAM could not check {user}'s \
                         password; sssd's log:\n{}",
                        self.log_tail(40)
                    );
                }
                anyhow::ensure!(
                    UnixStream::connect(PAM_SOCKET).is_ok(),
                    "sssd runs but nothing answers on {PAM_SOCKET}, so PAM could not check \
                     {user}'s password; sssd's log:\n{}",
                    self.log_tail(40)
                );
                anyhow::bail!(
                    "sssd answered that it can't check {user}'s password (PAM_AUTHINFO_UNAVAIL): \
                     the directory can't be reached and there is no cached password for them \
                     (never signed in online?); sssd's log:\n{}",
                    self.log_tail(40)
                )
            }
            Answer::UserUnknown => anyhow::bail!(
                "sssd does not know {user} (PAM_USER_UNKNOWN): not under the slapd's users_dn \
                 as a posixAccount (Slapd::add_posix_user), or the directory can't be reached \
                 and they never signed in online; sssd's log:\n{}",
                self.log_tail(40)
            ),
            Answer::Other => anyhow::bail!(
                "pamtester answered neither yes nor no for {user} ({}): {}; sssd's log:\n{}",
                said.status,
                said.text.trim(),
                self.log_tail(40)
            ),
        }
    }

    /// Signs in again and again (every 100 ms) until `until` holds for the answer or
    /// `within` has passed; returns the last answer. For a state sssd reaches by itself
    /// (back online after the directory returns). Use with the right password only: each
    /// wrong one online is a failed bind, and ppolicy locks the account after a few.
    pub fn sign_in_until(
        &self,
        user: &str,
        password: &str,
        within: Duration,
        until: impl Fn(&SignIn) -> bool,
    ) -> anyhow::Result<SignIn> {
        let deadline = Instant::now() + within;
        loop {
            let answer = self.sign_in(user, password)?;
            if until(&answer) || Instant::now() >= deadline {
                return Ok(answer);
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Tells sssd the network is back (SIGUSR2, which its own watch of the network sends
    /// when a link comes up; loopback never goes down): it tries the directory now instead
    /// of at its next retry.
    pub fn go_online(&self) -> anyhow::Result<()> {
        let pid = self.instance.daemon.pid().context("sssd is not running")?;
        let pid = Pid::from_raw(i32::try_from(pid).context("pid out of range")?);
        kill(pid, Signal::SIGUSR2).context("signalling sssd")
    }

    /// Kills sssd and its processes at once (SIGKILL), as a crash would: sign-ins are then
    /// errors that say sssd isn't running, not refusals. The next handle starts a new one.
    pub fn kill(&self) {
        let monitor = self.instance.daemon.pid();
        // Its responders and back end lead process groups of their own.
        let children = monitor.map(children_of).unwrap_or_default();
        self.instance
            .daemon
            .stop_with(Signal::SIGKILL, Duration::from_secs(5));
        for child in children {
            let _ = kill(child, Signal::SIGKILL);
        }
        let deadline = Instant::now() + Duration::from_secs(5);
        while !sssd_processes().is_empty() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The last `lines` lines of sssd's log (debug level 3), for messages; without the
    /// note sssd logs at every PAM request when SELinux is off.
    pub fn log_tail(&self, lines: usize) -> String {
        log_tail(&self.instance.daemon, lines)
    }

    /// The folder with sssd's configuration and log.
    pub fn dir(&self) -> &Path {
        &self.instance.dir
    }
}

impl Drop for Sssd {
    fn drop(&mut self) {
        if !self.instance.keep {
            self.instance.stop();
            turns().running = None;
        }
    }
}

/// A running sssd.
struct Instance {
    daemon: Daemon,
    ldap_url: String,
    dir: PathBuf,
    /// Kept for later handles until the process ends; else stopped with its handle.
    keep: bool,
    _machine: Flock<File>,
}

impl Instance {
    fn start(slapd: &Slapd, keep: bool) -> anyhow::Result<Instance> {
        let started = Instant::now();
        let machine = machine_lock()?;
        no_other_sssd()?;
        // No sssd runs (a zombie may still have the pid it names): the pid file is stale.
        remove_if_there(Path::new(PID_FILE))?;
        wipe_cache().context("wiping sssd's cache")?;
        write_pam_service()?;
        let dir = temp_folder("sssd")?;
        let conf = dir.join("sssd.conf");
        // sssd refuses a configuration others may read.
        File::options()
            .create_new(true)
            .write(true)
            .mode(0o600)
            .open(&conf)
            .and_then(|mut f| f.write_all(config(slapd).as_bytes()))
            .with_context(|| format!("writing {}", conf.display()))?;
        let conf_arg = conf.to_str().context("temp folder path is not UTF-8")?;
        let daemon = Daemon::start(
            "sssd",
            "sssd",
            &["-i", "-c", conf_arg, "--logger=stderr", "-d", "3"],
            &dir.join("sssd.log"),
            false,
        )?;
        let instance = Instance {
            daemon,
            ldap_url: slapd.ldap_url.clone(),
            dir,
            keep,
            _machine: machine,
        };
        if keep {
            // A kept sssd is killed when the process ends: its cache goes then too.
            for name in cache_files() {
                process::remove_at_exit(&Path::new(DB_DIR).join(name))?;
            }
        }
        instance.wait_ready()?;
        eprintln!(
            "sssd for {} ready in {} ms",
            instance.ldap_url,
            started.elapsed().as_millis()
        );
        Ok(instance)
    }

    /// Until PAM answers through sssd for a login no directory holds (sssd knows no such
    /// person), or sssd exits, or 20 s pass.
    fn wait_ready(&self) -> anyhow::Result<()> {
        let deadline = Instant::now() + Duration::from_secs(20);
        let mut last = String::new();
        loop {
            if let Some(status) = self.daemon.exited() {
                anyhow::bail!(
                    "sssd exited ({status}); its log:\n{}",
                    log_tail(&self.daemon, 40)
                );
            }
            if UnixStream::connect(PAM_SOCKET).is_ok() {
                let said = pamtester(PROBE_LOGIN, "probe")?;
                if said.answer == Answer::UserUnknown {
                    return Ok(());
                }
                last = said.text;
            }
            anyhow::ensure!(
                Instant::now() < deadline,
                "sssd did not answer PAM in 20 s (last: {}); its log:\n{}",
                last.trim(),
                log_tail(&self.daemon, 40)
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Stops sssd (SIGTERM, then SIGKILL after 5 s) and wipes its cache.
    fn stop(&self) {
        self.daemon
            .stop_with(Signal::SIGTERM, Duration::from_secs(5));
        if let Err(e) = wipe_cache() {
            eprintln!("wiping sssd's cache: {e:#}");
        }
    }
}

fn log_tail(daemon: &Daemon, lines: usize) -> String {
    let all = daemon.log_tail(lines * 4);
    let kept: Vec<&str> = all
        .lines()
        .filter(|l| {
            !(l.contains("expected to happen in case SELinux is disabled")
                || l.starts_with("SELINUX_getpeercon failed")
                || l.starts_with("Please, consider enabling SELinux"))
        })
        .collect();
    kept[kept.len().saturating_sub(lines)..].join("\n")
}

/// Whose turn it is to use sssd in this process, and the sssd that runs.
struct Turns {
    busy: bool,
    running: Option<Arc<Instance>>,
}

static TURNS: Mutex<Turns> = Mutex::new(Turns {
    busy: false,
    running: None,
});
static TURN_FREED: Condvar = Condvar::new();

/// The state, even if a test panicked while holding it (it only ever holds it briefly).
fn turns() -> MutexGuard<'static, Turns> {
    TURNS.lock().unwrap_or_else(PoisonError::into_inner)
}

/// This process's turn with sssd, given back when dropped.
struct Turn;

impl Turn {
    fn take() -> anyhow::Result<Turn> {
        let deadline = Instant::now() + TURN_WAIT;
        let mut state = turns();
        while state.busy {
            let left = deadline
                .checked_duration_since(Instant::now())
                .with_context(|| {
                    format!(
                        "another test of this process has had sssd for {} s",
                        TURN_WAIT.as_secs()
                    )
                })?;
            state = TURN_FREED
                .wait_timeout(state, left)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
        state.busy = true;
        Ok(Turn)
    }
}

impl Drop for Turn {
    fn drop(&mut self) {
        turns().busy = false;
        TURN_FREED.notify_all();
    }
}

/// The lock that keeps one test process's sssd on the machine at a time (released when
/// the instance is dropped or the process ends).
fn machine_lock() -> anyhow::Result<Flock<File>> {
    let deadline = Instant::now() + TURN_WAIT;
    let mut file = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(MACHINE_LOCK)
        .with_context(|| format!("opening {MACHINE_LOCK} (the sssd tests need root)"))?;
    loop {
        match Flock::lock(file, FlockArg::LockExclusiveNonblock) {
            Ok(lock) => return Ok(lock),
            Err((f, Errno::EWOULDBLOCK)) if Instant::now() < deadline => {
                file = f;
                std::thread::sleep(Duration::from_millis(100));
            }
            Err((_, Errno::EWOULDBLOCK)) => anyhow::bail!(
                "another test process has held {MACHINE_LOCK} (its sssd) for {} s",
                TURN_WAIT.as_secs()
            ),
            Err((_, e)) => return Err(e).with_context(|| format!("locking {MACHINE_LOCK}")),
        }
    }
}

/// Fails when an sssd not started by this kit runs (after waiting 5 s for one that is
/// going away, such as an earlier test process's), or something else answers on sssd's
/// PAM socket (systemd's `sssd-pam.socket`).
fn no_other_sssd() -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut others = sssd_processes();
    while !others.is_empty() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
        others = sssd_processes();
    }
    anyhow::ensure!(
        others.is_empty(),
        "another sssd runs ({}): the test kit's sssd needs /var/lib/sss to itself; stop it \
         (`systemctl stop sssd`) and run the tests again",
        others.join(", ")
    );
    anyhow::ensure!(
        UnixStream::connect(PAM_SOCKET).is_err(),
        "something answers on {PAM_SOCKET} though no sssd runs (systemd's sssd-pam.socket?): \
         stop it (`systemctl stop sssd-pam.socket sssd-pam-priv.socket`) and run the tests again"
    );
    Ok(())
}

/// Live sssd processes on the machine (`pid (name)`): the monitor and its responders and
/// back ends, not the separate KCM service, not zombies.
fn sssd_processes() -> Vec<String> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    let mut found = Vec::new();
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name
            .to_str()
            .filter(|n| n.bytes().all(|b| b.is_ascii_digit()))
        else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        // "PID (comm) STATE ...": comm may hold spaces and parentheses.
        let (Some(open), Some(close)) = (stat.find('('), stat.rfind(')')) else {
            continue;
        };
        let comm = &stat[open + 1..close];
        let state = stat[close + 1..].trim_start().chars().next();
        let is_sssd = comm == "sssd" || (comm.starts_with("sssd_") && comm != "sssd_kcm");
        if is_sssd && state != Some('Z') {
            found.push(format!("{pid} ({comm})"));
        }
    }
    found
}

/// The processes whose parent is `pid`.
fn children_of(pid: u32) -> Vec<Pid> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|entry| {
            let child: i32 = entry.file_name().to_str()?.parse().ok()?;
            let stat = std::fs::read_to_string(entry.path().join("stat")).ok()?;
            // "PID (comm) STATE PPID ...".
            let ppid: u32 = stat[stat.rfind(')')? + 1..]
                .split_whitespace()
                .nth(1)?
                .parse()
                .ok()?;
            (ppid == pid).then_some(Pid::from_raw(child))
        })
        .collect()
}

/// The files of sssd's state for [`DOMAIN`]: its cache, the cache's timestamps, and the
/// configuration database (rebuilt from the configuration file at each start).
fn cache_files() -> [String; 3] {
    [
        format!("cache_{DOMAIN}.ldb"),
        format!("timestamps_{DOMAIN}.ldb"),
        "config.ldb".to_string(),
    ]
}

/// Removes [`cache_files`], and the sockets of [`DOMAIN`]'s back ends that were killed
/// (named for their pid, so a new one never reuses them); only while no sssd runs.
fn wipe_cache() -> anyhow::Result<()> {
    for name in cache_files() {
        remove_if_there(&Path::new(DB_DIR).join(name))?;
    }
    let back_end = format!("sbus-dp_{DOMAIN}");
    if let Ok(entries) = std::fs::read_dir(PRIVATE_PIPES) {
        for entry in entries.flatten() {
            if entry.file_name().to_string_lossy().starts_with(&back_end) {
                remove_if_there(&entry.path())?;
            }
        }
    }
    Ok(())
}

fn remove_if_there(path: &Path) -> anyhow::Result<()> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            Err(e).with_context(|| format!("removing {}", path.display()))
        }
        _ => Ok(()),
    }
}

/// Writes [`PAM_STACK`] to [`PAM_SERVICE_FILE`] unless it is there already (atomically:
/// another test process may be signing in through it).
fn write_pam_service() -> anyhow::Result<()> {
    if std::fs::read_to_string(PAM_SERVICE_FILE).is_ok_and(|s| s == PAM_STACK) {
        return Ok(());
    }
    let temp = format!("{PAM_SERVICE_FILE}.{}.tmp", std::process::id());
    std::fs::write(&temp, PAM_STACK)
        .and_then(|()| std::fs::rename(&temp, PAM_SERVICE_FILE))
        .with_context(|| format!("writing {PAM_SERVICE_FILE} (the sssd tests need root)"))
}

/// sssd.conf: PAM only (the kit's people stay out of the machine's NSS), one LDAP domain
/// over StartTLS as the slapd's read account, cached credentials, quick to notice the
/// directory is back.
fn config(slapd: &Slapd) -> String {
    format!(
        r#"# Written by the SSPR test kit (tests/src/sssd.rs).
[sssd]
services = pam
domains = {DOMAIN}

[pam]
# Informational messages too: pam_sss says "Authenticated with cached credentials" when
# sssd signs someone in from its cache.
pam_verbosity = 2
# Cached sign-ins for as long and as often as the directory stays away (the defaults).
offline_credentials_expiration = 0
offline_failed_login_attempts = 0

[domain/{DOMAIN}]
id_provider = ldap
auth_provider = ldap
access_provider = permit
chpass_provider = none
sudo_provider = none
autofs_provider = none
ldap_uri = {url}
ldap_id_use_start_tls = true
ldap_tls_reqcert = demand
ldap_tls_cacert = {ca}
ldap_schema = rfc2307
ldap_search_base = {base}
ldap_user_search_base = {users}
ldap_default_bind_dn = {bind_dn}
ldap_default_authtok_type = password
ldap_default_authtok = {bind_password}
# A PC that lets people in with their last good password while the directory can't be
# reached; online, every sign-in asks the directory.
cache_credentials = true
cached_auth_timeout = 0
enumerate = false
# Loopback: a directory that is down refuses at once; these bound a hung one.
ldap_network_timeout = 2
ldap_opt_timeout = 3
ldap_search_timeout = 3
# Offline, try the directory again every second (not from 60 s doubling to an hour).
offline_timeout = 1
offline_timeout_max = 0
offline_timeout_random_offset = 0
"#,
        url = slapd.ldap_url,
        ca = slapd.ca_file.display(),
        base = slapd.base_dn,
        users = slapd.users_dn,
        bind_dn = slapd.service_dn,
        bind_password = slapd.service_password,
    )
}

/// How pamtester's run ended (from pam_strerror's text, in the C locale).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Answer {
    /// "successfully authenticated".
    Accepted,
    /// PAM_AUTH_ERR: wrong password.
    Refused,
    /// PAM_AUTHINFO_UNAVAIL: sssd unreachable, or it can't check (offline, nothing cached).
    Unavailable,
    /// PAM_USER_UNKNOWN.
    UserUnknown,
    /// Anything else.
    Other,
}

struct Said {
    answer: Answer,
    status: String,
    text: String,
}

/// `pamtester PAM_SERVICE user authenticate`, the password on stdin; killed after 30 s.
fn pamtester(user: &str, password: &str) -> anyhow::Result<Said> {
    anyhow::ensure!(
        !user.is_empty() && !user.starts_with('-') && !user.contains(char::is_whitespace),
        "{user:?} is not a login pamtester can take"
    );
    anyhow::ensure!(
        !password.contains('\n'),
        "a password with a line break can't be typed"
    );
    let mut child = Command::new("pamtester")
        .args([PAM_SERVICE, user, "authenticate"])
        .env("LC_ALL", "C")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .context("running pamtester (`./run test` installs it)")?;
    if let Some(mut stdin) = child.stdin.take() {
        // pamtester may already be gone (an error before the prompt): its answer says why.
        let _ = writeln!(stdin, "{password}");
    }
    let pid = child.id();
    let mut stdout = child.stdout.take().context("pamtester's stdout")?;
    let mut stderr = child.stderr.take().context("pamtester's stderr")?;
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut out = String::new();
        let mut err = String::new();
        let _ = stdout.read_to_string(&mut out);
        let _ = stderr.read_to_string(&mut err);
        let _ = tx.send(child.wait().map(|status| (status, out + &err)));
    });
    let (status, text) = match rx.recv_timeout(Duration::from_secs(30)) {
        Ok(done) => done.context("waiting for pamtester")?,
        Err(_) => {
            let _ = kill(Pid::from_raw(i32::try_from(pid)?), Signal::SIGKILL);
            anyhow::bail!("pamtester did not answer in 30 s for {user}");
        }
    };
    let answer = if status.success() && text.contains("successfully authenticated") {
        Answer::Accepted
    } else if status.success() {
        Answer::Other
    } else if text.contains("Authentication failure") {
        Answer::Refused
    } else if text.contains("cannot retrieve authentication info") {
        Answer::Unavailable
    } else if text.contains("User not known to the underlying authentication module") {
        Answer::UserUnknown
    } else {
        Answer::Other
    };
    Ok(Said {
        answer,
        status: status.to_string(),
        text,
    })
}
