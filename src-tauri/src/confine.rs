//! The login screen's kiosk window confines itself with Landlock before it starts GTK
//! and WebKit (which inherit it): it may execute only WebKit's own helpers, read the
//! system's files but no one's home, write only its own session folder and the PC's
//! key folder, and open TCP connections only to the server's port.
//!
//! Landlock rules are per thread and inherited by what a thread starts; WebKit's
//! libraries start a thread before `main`, so the window confines itself and then
//! executes its own program again (`login_screen::confine_window`). Landlock can't name a remote
//! address, only a port: "only the server" is "only the server's port" here; the
//! firewall (nftables `meta skuid sspr-kiosk`) is where to narrow it to one address.

use std::path::{Path, PathBuf};

use landlock::{
    Access, AccessFs, AccessNet, CompatLevel, Compatible, NetPort, PathBeneath, PathFd, Ruleset,
    RulesetAttr, RulesetCreatedAttr, RulesetStatus, Scope, ABI,
};

use crate::config::KioskConfig;

/// The newest Landlock ABI this code was written and tested against (Linux 6.12): file
/// rights with device ioctls (v5), TCP ports (v4) and signals scoped to the sandbox (v6).
const WRITTEN_FOR: ABI = ABI::V6;

/// What the confined process may still do; everything else Landlock handles is refused.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Confinement {
    /// May execute (and read) files beneath these.
    pub exec: Vec<PathBuf>,
    /// May read files and list folders beneath these.
    pub read: Vec<PathBuf>,
    /// May read, create, change and remove beneath these.
    pub write: Vec<PathBuf>,
    /// May open TCP connections to these ports (on any address).
    pub connect_tcp: Vec<u16>,
    /// May listen on these TCP ports (only the WebKit inspector a test asks for, through
    /// `WEBKIT_INSPECTOR_SERVER` in the greeter hook's environment file).
    pub bind_tcp: Vec<u16>,
}

/// How much of a [`Confinement`] the running kernel enforces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Enforced {
    Fully,
    Partly,
    Not,
}

/// System folders the window reads: libraries, fonts, certificates, the display's
/// sockets and devices. Not `/home`, `/root`, `/mnt`, `/media`, `/srv` or `/tmp`.
const SYSTEM_READ: &[&str] = &["/usr", "/etc", "/proc", "/sys", "/dev", "/run", "/var"];

/// The ELF interpreters a WebKit helper's `execve` opens (Landlock checks them too).
const INTERPRETERS: &[&str] = &[
    "/lib64/ld-linux-x86-64.so.2",
    "/lib/ld-linux-aarch64.so.1",
    "/lib/ld-linux-armhf.so.3",
];

impl Confinement {
    /// The login screen's window: `session` is the fresh folder the button made for this
    /// opening (its `XDG_RUNTIME_DIR`), `inspector` a WebKit inspector port a test set.
    pub fn for_login_window(
        config: &KioskConfig,
        config_path: Option<&Path>,
        session: Option<&Path>,
        inspector: Option<u16>,
    ) -> Confinement {
        let mut exec: Vec<PathBuf> = webkit_helper_dirs();
        exec.extend(INTERPRETERS.iter().map(PathBuf::from));
        // Its own program: the window executes itself again once confined.
        exec.extend(std::env::current_exe().ok());
        let mut read: Vec<PathBuf> = SYSTEM_READ.iter().map(PathBuf::from).collect();
        if let Some(dir) = config_path.and_then(Path::parent) {
            read.push(dir.to_path_buf());
        }
        if let Some(dir) = config.enrollment_code_file.parent() {
            read.push(dir.to_path_buf());
        }
        let mut write = vec![PathBuf::from("/dev"), PathBuf::from("/proc")];
        write.push(config.state_dir.clone());
        write.extend(session.map(Path::to_path_buf));
        Confinement {
            exec,
            read,
            write,
            // WebKit's processes reach the inspector (a test's) over TCP too.
            connect_tcp: server_port(&config.server_url)
                .into_iter()
                .chain(inspector)
                .collect(),
            bind_tcp: inspector.into_iter().collect(),
        }
    }

    /// Confines the calling thread and everything it starts from now on. Paths that
    /// don't exist are left out (a PC without `/lib64`). Errors only when Landlock
    /// exists but refuses the rules; a kernel without it gives `Enforced::Not`.
    pub fn apply(&self) -> Result<Enforced, String> {
        let abi = WRITTEN_FOR;
        let fs_all = AccessFs::from_all(abi);
        let read = AccessFs::from_read(abi) & !AccessFs::Execute;
        let exec = AccessFs::Execute | AccessFs::ReadFile | AccessFs::ReadDir;
        let fail = |e: landlock::RulesetError| format!("Landlock: {e}");
        let ruleset = Ruleset::default()
            .set_compatibility(CompatLevel::BestEffort)
            .handle_access(fs_all)
            .map_err(fail)?
            .handle_access(AccessNet::from_all(abi))
            .map_err(fail)?
            .scope(Scope::Signal)
            .map_err(fail)?
            .create()
            .map_err(fail)?;
        let mut ruleset = ruleset;
        let rules = [
            (&self.exec, exec),
            (&self.read, read),
            (&self.write, fs_all & !AccessFs::Execute),
        ];
        for (paths, access) in rules {
            for path in paths {
                let Ok(fd) = PathFd::new(path) else { continue };
                // A rule on a file may carry only a file's rights.
                let access = if path.is_dir() {
                    access
                } else {
                    access & AccessFs::from_file(abi)
                };
                ruleset = ruleset
                    .add_rule(PathBeneath::new(fd, access))
                    .map_err(fail)?;
            }
        }
        for port in &self.connect_tcp {
            ruleset = ruleset
                .add_rule(NetPort::new(*port, AccessNet::ConnectTcp))
                .map_err(fail)?;
        }
        for port in &self.bind_tcp {
            ruleset = ruleset
                .add_rule(NetPort::new(*port, AccessNet::BindTcp))
                .map_err(fail)?;
        }
        let status = ruleset.restrict_self().map_err(fail)?;
        Ok(match status.ruleset {
            RulesetStatus::FullyEnforced => Enforced::Fully,
            RulesetStatus::PartiallyEnforced => Enforced::Partly,
            RulesetStatus::NotEnforced => Enforced::Not,
        })
    }
}

/// WebKitGTK's helper programs (`WebKitWebProcess`, `WebKitNetworkProcess`) live in
/// `/usr/lib/<multiarch>/webkit2gtk-4.1/`.
fn webkit_helper_dirs() -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir("/usr/lib") else {
        return Vec::new();
    };
    entries
        .flatten()
        .map(|e| e.path().join("webkit2gtk-4.1"))
        .filter(|p| p.is_dir())
        .collect()
}

/// The TCP port a server URL reaches: its own, else its scheme's.
pub fn server_port(url: &str) -> Option<u16> {
    let url = tauri::Url::parse(url).ok()?;
    url.port_or_known_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write as _;
    use std::net::{TcpListener, TcpStream};
    use std::process::Command;

    #[test]
    fn the_login_window_reaches_only_the_servers_port_and_reads_no_home() {
        let config = KioskConfig {
            server_url: "https://sspr.example.org:8443".into(),
            state_dir: "/var/lib/sspr-kiosk".into(),
            ..KioskConfig::default()
        };
        let c = Confinement::for_login_window(
            &config,
            Some(Path::new("/etc/sspr-kiosk/config.toml")),
            Some(Path::new("/tmp/sspr-kiosk-1-2")),
            None,
        );
        assert_eq!(c.connect_tcp, vec![8443]);
        assert!(c.bind_tcp.is_empty());
        // (Its own program is wherever it was built; installed, /usr/bin.)
        let own = std::env::current_exe().expect("exe");
        for p in c
            .read
            .iter()
            .chain(&c.write)
            .chain(&c.exec)
            .filter(|p| **p != own)
        {
            for private in ["/home", "/root", "/mnt", "/media", "/srv"] {
                assert!(!p.starts_with(private), "{p:?} opens {private}");
            }
            assert!(
                p == Path::new("/tmp/sspr-kiosk-1-2") || !p.starts_with("/tmp"),
                "{p:?} opens /tmp"
            );
        }
        assert!(c.write.contains(&PathBuf::from("/var/lib/sspr-kiosk")));
        let own = std::env::current_exe().expect("exe");
        assert!(c.exec.iter().all(|p| p.ends_with("webkit2gtk-4.1")
            || INTERPRETERS.iter().any(|i| p == Path::new(i))
            || p == &own));
        assert_eq!(server_port("http://127.0.0.1/"), Some(80));
        assert_eq!(server_port("https://sspr.example.org/"), Some(443));
        assert_eq!(server_port("not a url"), None);
    }

    /// Runs in a child process (this test binary again) so the confinement ends with it.
    #[test]
    fn confined_child_probe() {
        let Ok(dirs) = std::env::var("SSPR_CONFINE_PROBE") else {
            return;
        };
        let mut parts = dirs.split('|');
        let (exec_dir, write_dir, home, allowed, other) = (
            PathBuf::from(parts.next().unwrap_or_default()),
            PathBuf::from(parts.next().unwrap_or_default()),
            PathBuf::from(parts.next().unwrap_or_default()),
            parts.next().unwrap_or_default().parse::<u16>().unwrap_or(0),
            parts.next().unwrap_or_default().parse::<u16>().unwrap_or(0),
        );
        let mut exec = vec![exec_dir.clone()];
        exec.extend(INTERPRETERS.iter().map(PathBuf::from));
        let c = Confinement {
            exec,
            read: vec!["/usr".into(), "/etc".into(), "/proc".into(), "/dev".into()],
            write: vec![write_dir.clone()],
            connect_tcp: vec![allowed],
            bind_tcp: Vec::new(),
        };
        let enforced = c.apply().expect("apply");
        let denied = |r: std::io::Result<()>| match r {
            Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => "denied".to_string(),
            Err(e) => format!("error {e}"),
            Ok(()) => "allowed".to_string(),
        };
        let run = |p: &Path| Command::new(p).status().map(|_| ());
        let report = [
            format!("enforced={enforced:?}"),
            format!("exec-helper={}", denied(run(&exec_dir.join("helper")))),
            format!("exec-bin-true={}", denied(run(Path::new("/bin/true")))),
            format!("exec-sh={}", denied(run(Path::new("/bin/sh")))),
            format!(
                "read-etc={}",
                denied(std::fs::read("/etc/hostname").map(|_| ()))
            ),
            format!(
                "read-home={}",
                denied(std::fs::read(home.join("secret")).map(|_| ()))
            ),
            format!("list-home={}", denied(std::fs::read_dir(&home).map(|_| ()))),
            format!(
                "write-session={}",
                denied(std::fs::write(write_dir.join("x"), b"x"))
            ),
            format!(
                "write-home={}",
                denied(std::fs::write(home.join("y"), b"y"))
            ),
            format!(
                "connect-server={}",
                denied(TcpStream::connect(("127.0.0.1", allowed)).map(|_| ()))
            ),
            format!(
                "connect-other={}",
                denied(TcpStream::connect(("127.0.0.1", other)).map(|_| ()))
            ),
            format!(
                "listen={}",
                denied(TcpListener::bind(("127.0.0.1", 0)).map(|_| ()))
            ),
        ];
        let mut out = std::io::stdout();
        let _ = writeln!(out, "\nPROBE {}", report.join(" "));
    }

    #[test]
    fn a_confined_process_runs_no_other_program_reads_no_home_and_reaches_one_port() {
        let base = std::env::temp_dir().join(format!("sspr-confine-{}", std::process::id()));
        let (exec_dir, write_dir, home) =
            (base.join("webkit"), base.join("session"), base.join("home"));
        for d in [&exec_dir, &write_dir, &home] {
            std::fs::create_dir_all(d).expect("dir");
        }
        std::fs::copy("/bin/true", exec_dir.join("helper")).expect("helper");
        std::fs::write(home.join("secret"), b"s").expect("secret");
        let server = TcpListener::bind("127.0.0.1:0").expect("listener");
        let other = TcpListener::bind("127.0.0.1:0").expect("listener");
        let ports = (
            server.local_addr().expect("addr").port(),
            other.local_addr().expect("addr").port(),
        );
        let out = Command::new(std::env::current_exe().expect("exe"))
            .args([
                "--exact",
                "confine::tests::confined_child_probe",
                "--nocapture",
            ])
            .args(["--test-threads", "1"])
            .env(
                "SSPR_CONFINE_PROBE",
                format!(
                    "{}|{}|{}|{}|{}",
                    exec_dir.display(),
                    write_dir.display(),
                    home.display(),
                    ports.0,
                    ports.1
                ),
            )
            .output()
            .expect("probe");
        let _ = std::fs::remove_dir_all(&base);
        let stdout = String::from_utf8_lossy(&out.stdout);
        let line = stdout
            .lines()
            .find_map(|l| l.split_once("PROBE ").map(|(_, r)| r))
            .unwrap_or_else(|| panic!("no probe line: {stdout}"));
        let got: Vec<&str> = line.split(' ').collect();
        assert_eq!(
            got,
            vec![
                "enforced=Fully",
                "exec-helper=allowed",
                "exec-bin-true=denied",
                "exec-sh=denied",
                "read-etc=allowed",
                "read-home=denied",
                "list-home=denied",
                "write-session=allowed",
                "write-home=denied",
                "connect-server=allowed",
                "connect-other=denied",
                "listen=denied",
            ],
            "this kernel must have Landlock ABI 4 or later for the login screen's promise"
        );
    }
}
