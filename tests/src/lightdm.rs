//! LightDM in its test mode with its GTK greeter, as root so its hooks run as they do on
//! a real PC (`../shared/notes/lightdm.md`): an Xvfb, LightDM's Xephyr inside it (1024×768),
//! a private system bus, and the login screen's hooks as the package installs them
//! (`packaging/login-screen`: the postinst's system user, the greeter hook with the kiosk's
//! configuration). The kiosk the button opens is driven through WebKitWebDriver attached
//! to its remote inspector (`--target`), since the button, not the test, starts it.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use fantoccini::ClientBuilder;
use nix::sys::signal::Signal;

use crate::dirs::process::{remove_at_exit, Daemon};
use crate::free_port;
use crate::kiosk::{kiosk_binary, KioskWindow};

/// The kiosk's system user (made by the package's postinst).
pub const KIOSK_USER: &str = "sspr-kiosk";

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default()
}

fn sh(cmd: &mut Command) -> anyhow::Result<String> {
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .with_context(|| format!("{cmd:?}"))?;
    anyhow::ensure!(
        out.status.success(),
        "{cmd:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// A running LightDM with the login screen's button; everything stops when dropped.
pub struct LightDm {
    pub dir: PathBuf,
    /// The Xvfb LightDM's Xephyr draws into (screenshots are taken here).
    outer: String,
    /// The greeter's display (Xephyr's), and the cookie to reach it.
    pub display: String,
    xauthority: PathBuf,
    /// The kiosk's remote inspector (WebKitWebDriver attaches here).
    inspector: u16,
    _xvfb: Daemon,
    _bus: Daemon,
    lightdm: Daemon,
    shot: usize,
    pub shots: PathBuf,
}

/// What the PC's `/etc/sspr-kiosk/config.toml` says (the test writes its own).
pub struct PcSetup<'a> {
    pub server_url: &'a str,
    /// Dropped in the code file, as configuration management would.
    pub enrollment_code: &'a str,
    pub location: &'a str,
    pub idle_timeout_secs: Option<u32>,
    pub locale: &'a str,
    /// How often the button asks the server how the PC stands (the default when None).
    pub status_refresh_secs: Option<u32>,
    /// `login_screen = true`: the greeter hook starts the button (off: the greeter alone).
    pub button: bool,
    /// The kiosk window opens its remote inspector for WebKitWebDriver (tests); off for
    /// the bench, which watches the screen instead.
    pub automation: bool,
}

impl<'a> PcSetup<'a> {
    /// A PC with the button, in English, its window driveable by the test.
    pub fn new(server_url: &'a str, enrollment_code: &'a str) -> PcSetup<'a> {
        PcSetup {
            server_url,
            enrollment_code,
            location: "Library, 2nd floor",
            idle_timeout_secs: None,
            locale: "en",
            status_refresh_secs: None,
            button: true,
            automation: true,
        }
    }
}

impl LightDm {
    pub fn start(test: &str, pc: &PcSetup<'_>) -> anyhow::Result<LightDm> {
        anyhow::ensure!(
            nix::unistd::geteuid().is_root(),
            "the login-screen tests run LightDM as root, as a PC does"
        );
        // The package's postinst: the kiosk's system user and its 0700 folder.
        sh(Command::new(repo().join("packaging/login-screen/postinst")).arg("configure"))?;
        let dir = std::env::temp_dir().join(format!(
            "sspr-lightdm-{}-{}",
            std::process::id(),
            rand::random::<u32>()
        ));
        for sub in ["bin", "run", "log", "cache"] {
            std::fs::create_dir_all(dir.join(sub))?;
        }
        remove_at_exit(&dir)?;
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755))?;
        // The PC's own folder for the key, the kiosk user's only (as /var/lib/sspr-kiosk).
        let state = dir.join("state");
        std::fs::create_dir_all(&state)?;
        sh(Command::new("chown")
            .arg(format!("{KIOSK_USER}:{KIOSK_USER}"))
            .arg(&state))?;
        std::fs::set_permissions(&state, std::fs::Permissions::from_mode(0o700))?;
        let code_file = dir.join("enroll-code");
        std::fs::write(&code_file, format!("{}\n", pc.enrollment_code))?;
        sh(Command::new("chgrp").arg(KIOSK_USER).arg(&code_file))?;
        std::fs::set_permissions(&code_file, std::fs::Permissions::from_mode(0o640))?;
        let mut config = format!(
            "server_url = \"{}\"\nlogin_screen = {}\ndefault_locale = \"{}\"\nlocation = \"{}\"\nstate_dir = \"{}\"\nenrollment_code_file = \"{}\"\n",
            pc.server_url,
            pc.button,
            pc.locale,
            pc.location,
            state.display(),
            code_file.display()
        );
        if let Some(idle) = pc.idle_timeout_secs {
            config.push_str(&format!("idle_timeout_secs = {idle}\n"));
        }
        if let Some(every) = pc.status_refresh_secs {
            config.push_str(&format!("status_refresh_secs = {every}\n"));
        }
        let config_path = dir.join("config.toml");
        std::fs::write(&config_path, config)?;
        // Under test only: the kiosk window opens its remote inspector for WebKitWebDriver.
        let inspector = free_port()?;
        let env_file = dir.join("kiosk.env");
        let mut env = String::from("SSPR_KIOSK_LOG=info,sspr_kiosk=debug\nNO_AT_BRIDGE=1\n");
        if pc.automation {
            env.push_str(&format!(
                "TAURI_WEBVIEW_AUTOMATION=true\nWEBKIT_INSPECTOR_SERVER=127.0.0.1:{inspector}\n"
            ));
        }
        std::fs::write(&env_file, env)?;

        // LightDM runs plain `Xephyr` from PATH: one that sets the size and drops the
        // VT options a root LightDM passes (Xephyr refuses them).
        let xephyr = dir.join("bin/Xephyr");
        std::fs::write(
            &xephyr,
            "#!/bin/sh\nargs=\"\"\nfor a in \"$@\"; do case \"$a\" in vt*|-novtswitch) ;; *) args=\"$args $a\";; esac; done\n# shellcheck disable=SC2086\nexec /usr/bin/Xephyr -screen 1024x768 $args\n",
        )?;
        std::fs::set_permissions(&xephyr, std::fs::Permissions::from_mode(0o755))?;
        let hook = repo().join("packaging/login-screen/sspr-kiosk-greeter");
        let kiosk = kiosk_binary()?;
        std::fs::write(
            dir.join("lightdm.conf"),
            format!(
                "[LightDM]\nsessions-directory={sessions}\n\n[Seat:*]\ngreeter-session=lightdm-gtk-greeter\ngreeter-hide-users=true\ngreeter-show-manual-login=true\nallow-guest=false\npam-service={pam}\ndisplay-setup-script={hook} display-setup --config {config} --bin {kiosk} --env {env} --log {log}\nsession-setup-script={hook} session-setup\n",
                sessions = dir.join("sessions").display(),
                pam = crate::sssd::PAM_SERVICE,
                hook = hook.display(),
                config = config_path.display(),
                kiosk = kiosk.display(),
                env = env_file.display(),
                log = dir.join("kiosk.log").display(),
            ),
        )?;
        std::fs::create_dir_all(dir.join("sessions"))?;
        std::fs::write(
            dir.join("sessions/sspr-test.desktop"),
            "[Desktop Entry]\nName=Test session\nExec=/bin/true\nType=Application\n",
        )?;

        let n = (400..800)
            .map(|_| 400 + rand::random::<u32>() % 400)
            .find(|n| !Path::new(&format!("/tmp/.X11-unix/X{n}")).exists())
            .context("no free X display")?;
        let outer = format!(":{n}");
        let xvfb = Daemon::start(
            "Xvfb",
            "Xvfb",
            &[&outer, "-screen", "0", "1280x1024x24", "-nolisten", "tcp"],
            &dir.join("xvfb.log"),
            false,
        )?;
        wait_for(Duration::from_secs(10), || {
            Path::new(&format!("/tmp/.X11-unix/X{n}")).exists()
        })
        .context("Xvfb did not come up")?;
        let bus_socket = dir.join("run/system_bus_socket");
        let bus = Daemon::start(
            "dbus-daemon",
            "dbus-daemon",
            &[
                "--session",
                "--nofork",
                &format!("--address=unix:path={}", bus_socket.display()),
            ],
            &dir.join("bus.log"),
            false,
        )?;
        wait_for(Duration::from_secs(10), || bus_socket.exists()).context("system bus")?;
        let path = format!(
            "{}:{}",
            dir.join("bin").display(),
            std::env::var("PATH").unwrap_or_default()
        );
        let conf = dir.join("lightdm.conf");
        let lightdm = Daemon::start(
            "lightdm",
            "env",
            &[
                &format!("DISPLAY={outer}"),
                &format!("DBUS_SYSTEM_BUS_ADDRESS=unix:path={}", bus_socket.display()),
                &format!("PATH={path}"),
                "dbus-run-session",
                "--",
                "lightdm",
                "--test-mode",
                "--debug",
                "-c",
                &conf.to_string_lossy(),
                "--log-dir",
                &dir.join("log").to_string_lossy(),
                "--run-dir",
                &dir.join("run").to_string_lossy(),
                "--cache-dir",
                &dir.join("cache").to_string_lossy(),
            ],
            &dir.join("lightdm.out"),
            false,
        )?;
        // Xephyr's display: LightDM names its log after it (x-N.log).
        let log_dir = dir.join("log");
        let display = wait_for_value(Duration::from_secs(20), || {
            std::fs::read_dir(&log_dir).ok()?.flatten().find_map(|e| {
                let name = e.file_name().to_string_lossy().into_owned();
                let n = name.strip_prefix("x-")?.strip_suffix(".log")?.to_string();
                Some(format!(":{n}"))
            })
        })
        .with_context(|| format!("LightDM started no X server: {}", lightdm.log_tail(30)))?;
        let xauthority = dir.join("run/root").join(&display);
        let shots = crate::profile_dir()
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(crate::target_dir)
            .join("e2e")
            .join(test);
        let _ = std::fs::remove_dir_all(&shots);
        std::fs::create_dir_all(&shots)?;
        Ok(LightDm {
            dir,
            outer,
            display,
            xauthority,
            inspector,
            _xvfb: xvfb,
            _bus: bus,
            lightdm,
            shot: 0,
            shots,
        })
    }

    /// `xdotool` on the greeter's display.
    pub fn xdotool(&self, args: &[&str]) -> anyhow::Result<String> {
        sh(Command::new("xdotool")
            .args(args)
            .env("DISPLAY", &self.display)
            .env("XAUTHORITY", &self.xauthority))
    }

    /// The visible windows of a class (`lightdm-gtk-greeter`, `sspr-kiosk`).
    pub fn windows(&self, class: &str) -> Vec<String> {
        self.xdotool(&["search", "--onlyvisible", "--class", class])
            .map(|s| s.lines().map(str::to_string).collect())
            .unwrap_or_default()
    }

    /// The greeter's window, once it shows.
    pub fn greeter(&self, secs: u64) -> anyhow::Result<String> {
        wait_for_value(Duration::from_secs(secs), || {
            self.windows("lightdm-gtk-greeter").into_iter().next()
        })
        .with_context(|| format!("no greeter: {}", self.log_tail(40)))
    }

    /// Whether the keyboard focus is on a window of the greeter's X client (its top-level
    /// window or one of its own: X gives each client a range of window ids).
    pub fn greeter_has_keyboard(&self, greeter: &str) -> bool {
        const CLIENT: u64 = !0x1F_FFFF;
        let focus = self.xdotool(&["getwindowfocus"]).unwrap_or_default();
        match (focus.trim().parse::<u64>(), greeter.trim().parse::<u64>()) {
            (Ok(f), Ok(g)) => f & CLIENT == g & CLIENT,
            _ => false,
        }
    }

    /// The login screen's button (a small window of class sspr-kiosk), once it shows.
    pub fn button(&self, secs: u64) -> anyhow::Result<String> {
        wait_for_value(Duration::from_secs(secs), || {
            self.windows("sspr-kiosk").into_iter().find(|w| {
                self.xdotool(&["getwindowgeometry", w])
                    .ok()
                    .and_then(|g| geometry_size(&g))
                    .is_some_and(|(w, h)| w < 800 && h < 200)
            })
        })
        .with_context(|| format!("no button: {}", self.log_tail(40)))
    }

    /// Presses the button as a person does: the pointer onto it, a click.
    /// The button's width and height.
    pub fn button_size(&self) -> Option<(u32, u32)> {
        let w = self.button(10).ok()?;
        geometry_size(&self.xdotool(&["getwindowgeometry", &w]).ok()?)
    }

    /// Waits for the kiosk window's process to run.
    pub fn press_button(&self) -> anyhow::Result<()> {
        let w = self.button(30)?;
        // Shown before the greeter, the button is above it again within a quarter of a
        // second: a person's first click may land on the greeter before that, and so
        // may this one (then it clicks again, as a person would).
        let opened = || {
            self.kiosk_processes()
                .iter()
                .any(|p| p.contains("--login-screen"))
                .then_some(())
        };
        for _ in 0..3 {
            self.xdotool(&["mousemove", "--window", &w, "20", "12", "click", "1"])?;
            if wait_for_value(Duration::from_secs(3), opened).is_ok() {
                return Ok(());
            }
        }
        wait_for_value(Duration::from_secs(5), opened).with_context(|| {
            format!(
                "pressing the button opened no kiosk window: {}",
                self.kiosk_log()
            )
        })
    }

    /// What the button and the kiosk window said (the hook's --log).
    pub fn kiosk_log(&self) -> String {
        std::fs::read_to_string(self.dir.join("kiosk.log")).unwrap_or_default()
    }

    /// The kiosk window the button opened, through WebKitWebDriver attached to it.
    pub async fn kiosk(&self, secs: u64) -> anyhow::Result<(KioskWindow, WebDriver)> {
        let port = free_port()?;
        let child = Command::new("WebKitWebDriver")
            .arg(format!("--port={port}"))
            .arg(format!("--target=127.0.0.1:{}", self.inspector))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context("WebKitWebDriver")?;
        let driver = WebDriver { child };
        let url = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            let attempt = tokio::time::timeout(
                Duration::from_secs(10),
                ClientBuilder::native().connect(&url),
            )
            .await
            .map_err(|_| anyhow::anyhow!("no answer in 10 s"))
            .and_then(|r| r.map_err(anyhow::Error::from));
            match attempt {
                Ok(client) => {
                    return Ok((
                        KioskWindow::attached(client, self.shots.clone(), "kiosk"),
                        driver,
                    ))
                }
                Err(e) if Instant::now() > deadline => {
                    anyhow::bail!("no kiosk window to attach to: {e}; {}", self.log_tail(30))
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(250)).await,
            }
        }
    }

    /// Lets the kiosk's user reach the greeter's display, as the hook does when the
    /// button is on (for a PC set up without it).
    pub fn allow_kiosk_user(&self) -> anyhow::Result<()> {
        sh(Command::new("xhost")
            .arg(format!("+SI:localuser:{KIOSK_USER}"))
            .env("DISPLAY", &self.display)
            .env("XAUTHORITY", &self.xauthority))
        .map(|_| ())
    }

    /// Watches the screen as a person sees it (what Xephyr draws into the outer display).
    pub fn frames(&self) -> anyhow::Result<Frames> {
        use x11rb::connection::Connection as _;
        let (conn, screen) = x11rb::connect(Some(&self.outer)).context("connecting to X")?;
        let root = conn.setup().roots[screen].root;
        Ok(Frames { conn, root })
    }

    /// The screen as a person sees it now, to `path` (a PNG).
    pub fn screenshot_to(&self, path: &Path) -> anyhow::Result<()> {
        screenshot(&self.outer, 1024, 768, path)
    }

    /// The greeter's screen as a person sees it: `NN-name.png`.
    pub fn shoot(&mut self, name: &str) -> anyhow::Result<PathBuf> {
        // What was just mapped is drawn a moment later.
        std::thread::sleep(Duration::from_millis(400));
        self.shot += 1;
        let path = self.shots.join(format!("{:02}-{name}.png", self.shot));
        screenshot(&self.outer, 1024, 768, &path)?;
        Ok(path)
    }

    /// Processes of the kiosk's user, as `pid command line`.
    pub fn kiosk_processes(&self) -> Vec<String> {
        sh(Command::new("pgrep").args(["-a", "-u", KIOSK_USER]))
            .map(|s| s.lines().map(str::to_string).collect())
            .unwrap_or_default()
    }

    pub fn state_dir(&self) -> PathBuf {
        self.dir.join("state")
    }

    pub fn log_tail(&self, lines: usize) -> String {
        let log = std::fs::read_to_string(self.dir.join("log/lightdm.log")).unwrap_or_default();
        let all: Vec<&str> = log.lines().collect();
        format!(
            "{}\n{}",
            all[all.len().saturating_sub(lines)..].join("\n"),
            self.lightdm.log_tail(5)
        )
    }

    /// LightDM's own log.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("log/lightdm.log")).unwrap_or_default()
    }
}

impl Drop for LightDm {
    fn drop(&mut self) {
        self.lightdm
            .stop_with(Signal::SIGTERM, Duration::from_secs(3));
        // The button and any kiosk window run as the kiosk's user, outside LightDM's group.
        let _ = Command::new("pkill")
            .args(["-KILL", "-u", KIOSK_USER])
            .status();
    }
}

/// A WebKitWebDriver attached to a running kiosk; stops when dropped.
pub struct WebDriver {
    child: std::process::Child,
}

impl Drop for WebDriver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn geometry_size(text: &str) -> Option<(u32, u32)> {
    let line = text
        .lines()
        .find(|l| l.trim_start().starts_with("Geometry:"))?;
    let (w, h) = line.split(':').nth(1)?.trim().split_once('x')?;
    Some((w.parse().ok()?, h.parse().ok()?))
}

fn wait_for(within: Duration, ok: impl Fn() -> bool) -> anyhow::Result<()> {
    wait_for_value(within, || ok().then_some(())).context("timed out")
}

pub fn wait_for_value<T>(within: Duration, f: impl Fn() -> Option<T>) -> anyhow::Result<T> {
    let deadline = Instant::now() + within;
    loop {
        if let Some(v) = f() {
            return Ok(v);
        }
        anyhow::ensure!(Instant::now() < deadline, "timed out after {within:?}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The screen's picture, a frame at a time, as a hash: equal hashes, the same picture.
pub struct Frames {
    conn: x11rb::rust_connection::RustConnection,
    root: u32,
}

impl Frames {
    pub fn hash(&self) -> anyhow::Result<u64> {
        use std::hash::{Hash as _, Hasher as _};
        use x11rb::protocol::xproto::{ConnectionExt as _, ImageFormat};
        let image = self
            .conn
            .get_image(ImageFormat::Z_PIXMAP, self.root, 0, 0, 1024, 768, !0)?
            .reply()?;
        let mut h = std::collections::hash_map::DefaultHasher::new();
        image.data.hash(&mut h);
        Ok(h.finish())
    }
}

/// The top-left `width`×`height` of an X display's root window as a PNG.
pub fn screenshot(display: &str, width: u16, height: u16, path: &Path) -> anyhow::Result<()> {
    use x11rb::connection::Connection as _;
    use x11rb::protocol::xproto::{ConnectionExt as _, ImageFormat};
    let (conn, screen) = x11rb::connect(Some(display)).context("connecting to X")?;
    let root = &conn.setup().roots[screen];
    anyhow::ensure!(root.root_depth == 24, "a 24-bit display");
    let image = conn
        .get_image(ImageFormat::Z_PIXMAP, root.root, 0, 0, width, height, !0)?
        .reply()?;
    // 32 bits a pixel, BGRX on this little-endian box.
    let mut rgb = image::RgbImage::new(u32::from(width), u32::from(height));
    for (i, px) in image.data.chunks_exact(4).enumerate() {
        let (x, y) = (i as u32 % u32::from(width), i as u32 / u32::from(width));
        if y < u32::from(height) {
            rgb.put_pixel(x, y, image::Rgb([px[2], px[1], px[0]]));
        }
    }
    rgb.save(path)
        .with_context(|| format!("saving {}", path.display()))
}
