//! Login-screen mode: a "Reset password / Unlock" button on the display manager's greeter
//! that opens the kiosk window above it.
//!
//! LightDM's display-setup-script (`packaging/login-screen/sspr-kiosk-greeter`) lets the
//! kiosk's system user draw on the display and starts `sspr-kiosk --login-button` as that
//! user. The button is a small GTK window that never takes the keyboard (people keep
//! typing into the greeter), sits above the greeter, and when pressed starts
//! `sspr-kiosk --login-screen`: the kiosk full screen, which ends on Cancel, Done and the
//! idle timeout. When it ends, however it ends (a crash too), the button comes back and
//! hands the keyboard to the greeter.
//!
//! While the greeter waits, the button asks the server for the kiosk's settings now and
//! then: it enrolls the PC at its first start (from `--enroll-code` or the code file), and
//! a PC revoked by IT shows "out of service" with the helpdesk instead of the button.

use std::cell::RefCell;
use std::process::{Child, Command, ExitCode};
use std::rc::Rc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use gtk::prelude::*;
use sspr_proto::{ErrorCode, Helpdesk};

use crate::config::{ButtonPosition, KioskConfig};

/// The system user the login screen's kiosk runs as (made by the package).
pub const KIOSK_USER: &str = "sspr-kiosk";

/// What the button shows.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Shown {
    /// Enrolled (or the server hasn't answered yet: pressing says so).
    Ready,
    /// Revoked by IT.
    OutOfService(Helpdesk),
    /// No key and no enrollment code.
    NotSetUp,
}

struct Texts {
    button: &'static str,
    out_of_service: &'static str,
    helpdesk: &'static str,
    not_set_up: &'static str,
}

/// The button's words in the kiosk's languages (the UI's own terms: `ui/src/i18n`).
fn texts(locale: &str) -> Texts {
    let lang = locale.get(..2).unwrap_or("en").to_ascii_lowercase();
    match lang.as_str() {
        "de" => Texts {
            button: "Passwort zurücksetzen / Konto entsperren",
            out_of_service: "Passwort-Zurücksetzen ist außer Betrieb",
            helpdesk: "Helpdesk",
            not_set_up: "Passwort-Zurücksetzen ist auf diesem PC nicht eingerichtet",
        },
        "fr" => Texts {
            button: "Réinitialiser le mot de passe / Déverrouiller",
            out_of_service: "La réinitialisation du mot de passe est hors service",
            helpdesk: "Assistance",
            not_set_up: "La réinitialisation du mot de passe n'est pas configurée sur ce PC",
        },
        "es" => Texts {
            button: "Restablecer la contraseña / Desbloquear",
            out_of_service: "El restablecimiento de contraseñas está fuera de servicio",
            helpdesk: "Soporte",
            not_set_up: "El restablecimiento de contraseñas no está configurado en este PC",
        },
        "it" => Texts {
            button: "Reimposta la password / Sblocca",
            out_of_service: "La reimpostazione della password è fuori servizio",
            helpdesk: "Helpdesk",
            not_set_up: "La reimpostazione della password non è configurata su questo PC",
        },
        "nl" => Texts {
            button: "Wachtwoord opnieuw instellen / Deblokkeren",
            out_of_service: "Wachtwoord opnieuw instellen is buiten gebruik",
            helpdesk: "Helpdesk",
            not_set_up: "Wachtwoord opnieuw instellen is niet ingericht op deze pc",
        },
        "pl" => Texts {
            button: "Zresetuj hasło / Odblokuj konto",
            out_of_service: "Resetowanie hasła jest niedostępne",
            helpdesk: "Pomoc techniczna",
            not_set_up: "Resetowanie hasła nie jest skonfigurowane na tym komputerze",
        },
        _ => Texts {
            button: "Reset password / Unlock",
            out_of_service: "Password reset is out of service",
            helpdesk: "Helpdesk",
            not_set_up: "Password reset isn't set up on this PC",
        },
    }
}

fn label(shown: &Shown, locale: &str) -> String {
    let t = texts(locale);
    match shown {
        Shown::Ready => t.button.to_string(),
        Shown::NotSetUp => t.not_set_up.to_string(),
        Shown::OutOfService(h) => {
            let contact: Vec<&str> = [&h.phone, &h.email, &h.url]
                .into_iter()
                .flatten()
                .map(String::as_str)
                .collect();
            if contact.is_empty() {
                t.out_of_service.to_string()
            } else {
                format!(
                    "{}\n{}: {}",
                    t.out_of_service,
                    t.helpdesk,
                    contact.join(" · ")
                )
            }
        }
    }
}

/// When started as root (IT staging a PC by hand, or a hook that didn't switch), become
/// the kiosk's own user first: the key file is that user's, and nothing here needs more.
pub fn drop_root() -> Result<(), String> {
    use nix::unistd::{getuid, setgid, setgroups, setuid, User};
    if !getuid().is_root() {
        return Ok(());
    }
    let user = User::from_name(KIOSK_USER)
        .map_err(|e| format!("looking up user {KIOSK_USER}: {e}"))?
        .ok_or_else(|| {
            format!("there is no user {KIOSK_USER}: install the package (it adds the user) or add it as a system user")
        })?;
    setgroups(&[user.gid]).map_err(|e| format!("setgroups: {e}"))?;
    setgid(user.gid).map_err(|e| format!("setgid: {e}"))?;
    setuid(user.uid).map_err(|e| format!("setuid: {e}"))?;
    if setuid(nix::unistd::Uid::from_raw(0)).is_ok() {
        return Err("could not drop root".into());
    }
    std::env::set_var("HOME", &user.dir);
    std::env::set_var("USER", KIOSK_USER);
    std::env::set_var("LOGNAME", KIOSK_USER);
    Ok(())
}

/// The button turned GTK's OpenGL off for itself (not for the window it opens).
static GL_DISABLED_HERE: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Set by the login window for the image it re-executes once it is confined.
const CONFINED_MARK: &str = "SSPR_KIOSK_CONFINED";

/// Confines the login screen's window (see `confine`) and starts it again confined.
///
/// WebKit's libraries start a thread of their own (JavaScriptCore's memory scavenger)
/// before `main`, and Landlock confines only the calling thread and what it starts
/// after: so this process confines itself and then executes its own program again,
/// whose every thread is born confined. In that second image this checks that it is
/// (listing `/` must be refused) and returns. A kernel without Landlock leaves the
/// window unconfined, said in the log; a ruleset Landlock refuses keeps it closed.
pub fn confine_window(
    config: &KioskConfig,
    config_path: Option<&std::path::Path>,
) -> Result<(), String> {
    use crate::confine::{Confinement, Enforced};
    use std::os::unix::process::CommandExt as _;
    tracing::debug!(
        confined = std::env::var_os(CONFINED_MARK).is_some(),
        "login window starts"
    );
    if let Ok(mark) = std::env::var(CONFINED_MARK) {
        std::env::remove_var(CONFINED_MARK);
        let refused = matches!(std::fs::read_dir("/"),
            Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied);
        if mark == "fully" && !refused {
            return Err("the window was to be confined and is not: it will not open".into());
        }
        return Ok(());
    }
    let session = std::env::var_os("XDG_RUNTIME_DIR").map(std::path::PathBuf::from);
    let inspector = std::env::var("WEBKIT_INSPECTOR_SERVER")
        .ok()
        .and_then(|a| a.rsplit_once(':').and_then(|(_, p)| p.parse::<u16>().ok()));
    let c = Confinement::for_login_window(config, config_path, session.as_deref(), inspector);
    let mark = match c.apply()? {
        Enforced::Fully => {
            tracing::info!(
                connect_tcp = ?c.connect_tcp,
                inspector = ?c.bind_tcp,
                "confined (Landlock): runs only WebKit's helpers, reads no home, writes only its session and key folders, connects only to the server's port"
            );
            "fully"
        }
        Enforced::Partly => {
            tracing::warn!(
                "confined only in part: this kernel's Landlock lacks some rules (Linux 6.12 or later has them all)"
            );
            "partly"
        }
        Enforced::Not => {
            tracing::warn!(
                "not confined: this kernel has no Landlock (Linux 5.13 or later, with landlock in lsm=)"
            );
            "not"
        }
    };
    let exe = std::env::current_exe().map_err(|e| format!("the window's own program: {e}"))?;
    let err = Command::new(exe)
        .args(std::env::args_os().skip(1))
        .env(CONFINED_MARK, mark)
        .exec();
    Err(format!("starting the confined window: {err}"))
}

/// `sspr-kiosk --enroll-code CODE` on a login-screen PC: enroll, keep the key, exit.
pub fn enroll(config: KioskConfig) -> ExitCode {
    if let Err(e) = drop_root() {
        eprintln!("sspr-kiosk: {e}");
        return ExitCode::from(2);
    }
    let store = crate::device::KeyStore::for_config(&config);
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("sspr-kiosk: {e}");
            return ExitCode::FAILURE;
        }
    };
    match rt.block_on(async {
        // Already enrolled with this server: say so, and keep the key (a code spent twice
        // by configuration management must not make a second kiosk).
        if let Ok(Some((_, id))) = store.load() {
            return Ok(format!(
                "already enrolled as kiosk {id}; key in {}",
                store.describe()
            ));
        }
        let client = crate::state::connect(&config).await?;
        let id = client.kiosk_id().unwrap_or_default().to_string();
        Ok::<_, sspr_proto::ErrorBody>(format!(
            "enrolled as kiosk {id} with {}; key in {}",
            config.server_url,
            store.describe()
        ))
    }) {
        Ok(m) => {
            println!("{m}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("sspr-kiosk: {} ({})", e.message, e.code.as_str());
            ExitCode::FAILURE
        }
    }
}

/// Asks the server how this PC stands, now and every `status_refresh_secs`.
fn watch_status(config: KioskConfig, shown: Arc<Mutex<Shown>>) {
    // 0: only at start (as the kiosk's own setting means "never again").
    let every = match config.status_refresh_secs {
        0 => None,
        n => Some(Duration::from_secs(u64::from(n.max(2)))),
    };
    let Ok(rt) = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    else {
        return;
    };
    let mut client = None;
    let mut helpdesk = Helpdesk {
        url: None,
        phone: None,
        email: None,
    };
    loop {
        let next = rt.block_on(async {
            let c = match client.take() {
                Some(c) => c,
                None => crate::state::connect(&config).await?,
            };
            let settings = c.settings().await.map_err(crate::state::ui_error);
            client = Some(c);
            settings
        });
        let now = match next {
            Ok(settings) => {
                helpdesk = settings.helpdesk;
                Some(Shown::Ready)
            }
            Err(e) if e.code == ErrorCode::KioskRevoked => {
                Some(Shown::OutOfService(helpdesk.clone()))
            }
            Err(e) if e.code == ErrorCode::NotEnrolled && config.enrollment_code.is_none() => {
                Some(Shown::NotSetUp)
            }
            Err(e) => {
                // Unreachable for now: the button stays; pressing it says so.
                tracing::warn!(
                    code = e.code.as_str(),
                    "asking the server how this PC stands"
                );
                None
            }
        };
        if let (Some(now), Ok(mut s)) = (now, shown.lock()) {
            *s = now;
        }
        match every {
            Some(every) => std::thread::sleep(every),
            None => return,
        }
    }
}

/// Hands the keyboard back to the greeter: the largest viewable top-level window.
fn focus_greeter() {
    use x11rb::connection::Connection as _;
    use x11rb::protocol::xproto::{ConnectionExt as _, InputFocus, MapState};
    let focus = || -> Result<(), Box<dyn std::error::Error>> {
        let (conn, screen) = x11rb::connect(None)?;
        let root = conn.setup().roots[screen].root;
        let mut best = (0u32, None);
        for w in conn.query_tree(root)?.reply()?.children {
            if conn.get_window_attributes(w)?.reply()?.map_state != MapState::VIEWABLE {
                continue;
            }
            let g = conn.get_geometry(w)?.reply()?;
            let area = u32::from(g.width) * u32::from(g.height);
            if area > best.0 {
                best = (area, Some(w));
            }
        }
        if let Some(w) = best.1 {
            conn.set_input_focus(InputFocus::PARENT, w, x11rb::CURRENT_TIME)?;
            // A round trip: the focus is set before this process moves on.
            conn.get_input_focus()?.reply()?;
        }
        Ok(())
    };
    if let Err(e) = focus() {
        tracing::warn!(error = %e, "handing the keyboard back to the greeter");
    }
}

/// One opening of the kiosk window: its process (group) and its private folder.
struct KioskRun {
    child: Child,
    started: Instant,
    dir: std::path::PathBuf,
}

impl KioskRun {
    /// Whatever the window left: helpers still running in its process group (a session
    /// bus, the accessibility bus) and every file it wrote. Nothing outlives a person.
    fn clean_up(self) {
        let group = nix::unistd::Pid::from_raw(self.child.id() as i32);
        let _ = nix::sys::signal::killpg(group, nix::sys::signal::Signal::SIGKILL);
        if let Err(e) = std::fs::remove_dir_all(&self.dir) {
            tracing::warn!(error = %e, dir = %self.dir.display(), "removing the kiosk's folder");
        }
    }
}

/// Starts the kiosk window in a process group of its own, with its own session bus
/// (`dbus-run-session`: nothing autolaunched outlives it) and a fresh 0700 folder for
/// everything it writes (runtime, cache, temporary files), removed when it ends.
/// The kiosk's program, which the button starts for the window: beside the button's own
/// (`sspr-kiosk-button` starts `sspr-kiosk`), or this one when it is both.
fn window_program() -> std::path::PathBuf {
    let own = std::env::current_exe().unwrap_or_else(|_| "/usr/bin/sspr-kiosk".into());
    if own.file_name().is_some_and(|n| n == "sspr-kiosk-button") {
        own.with_file_name("sspr-kiosk")
    } else {
        own
    }
}

fn open_kiosk(config_path: Option<&std::path::Path>) -> std::io::Result<KioskRun> {
    use std::os::unix::fs::DirBuilderExt as _;
    use std::os::unix::process::CommandExt as _;
    let dir = std::env::temp_dir().join(format!(
        "sspr-kiosk-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default()
    ));
    std::fs::DirBuilder::new().mode(0o700).create(&dir)?;
    for sub in ["cache", "config", "data", "tmp"] {
        std::fs::DirBuilder::new()
            .mode(0o700)
            .create(dir.join(sub))?;
    }
    let exe = window_program();
    let mut cmd = Command::new("dbus-run-session");
    cmd.arg("--").arg(exe).arg("--login-screen");
    if let Some(p) = config_path {
        cmd.arg("--config").arg(p);
    }
    cmd.env("XDG_RUNTIME_DIR", &dir)
        .env("XDG_CACHE_HOME", dir.join("cache"))
        .env("XDG_CONFIG_HOME", dir.join("config"))
        .env("XDG_DATA_HOME", dir.join("data"))
        .env("TMPDIR", dir.join("tmp"))
        .env_remove("DBUS_SESSION_BUS_ADDRESS")
        .env_remove(CONFINED_MARK)
        .process_group(0);
    if GL_DISABLED_HERE.load(std::sync::atomic::Ordering::Relaxed) {
        cmd.env_remove("GDK_GL");
    }
    match cmd.spawn() {
        Ok(child) => Ok(KioskRun {
            child,
            started: Instant::now(),
            dir,
        }),
        Err(e) => {
            let _ = std::fs::remove_dir_all(&dir);
            Err(e)
        }
    }
}

const CSS: &str = "
window#sspr-login { background-color: #1d2631; }
button#sspr-login-button {
  background-image: none; background-color: #1d2631; color: #ffffff;
  border: 1px solid rgba(255,255,255,0.45); border-radius: 0; box-shadow: none;
  text-shadow: none; padding: 10px 22px; font-size: 15px; font-weight: bold;
}
button#sspr-login-button:hover { background-color: #2b3947; }
button#sspr-login-button:active { background-color: #0f151c; }
button#sspr-login-button.off { font-weight: normal; color: #f2f4f7; }
";

/// `sspr-kiosk --login-button`: the greeter's button. Exits at once when `login_screen`
/// is off, so the display manager's hook can start it unconditionally.
pub fn button(config: KioskConfig, config_path: Option<std::path::PathBuf>) -> ExitCode {
    if !config.login_screen {
        eprintln!("sspr-kiosk: login_screen is off in the configuration: no button");
        return ExitCode::SUCCESS;
    }
    if let Err(e) = drop_root() {
        eprintln!("sspr-kiosk: {e}");
        return ExitCode::from(2);
    }
    // GTK on X11 asks OpenGL for the best visual when it opens the display, which loads
    // Mesa (llvmpipe: libLLVM) into the process: 56 MB of the button's 85 MB RSS, for a
    // label. The button draws nothing with GL; the window it opens gets the environment
    // as it was.
    if std::env::var_os("GDK_GL").is_none() {
        std::env::set_var("GDK_GL", "disable");
        GL_DISABLED_HERE.store(true, std::sync::atomic::Ordering::Relaxed);
    }
    if gtk::init().is_err() {
        eprintln!("sspr-kiosk: no display for the login screen's button");
        return ExitCode::FAILURE;
    }
    if let Some(screen) = gtk::gdk::Screen::default() {
        let css = gtk::CssProvider::new();
        if css.load_from_data(CSS.as_bytes()).is_ok() {
            gtk::StyleContext::add_provider_for_screen(
                &screen,
                &css,
                gtk::STYLE_PROVIDER_PRIORITY_APPLICATION,
            );
        }
    }
    let locale = config.default_locale.clone();
    let shown = Arc::new(Mutex::new(Shown::Ready));
    {
        let config = config.clone();
        let shown = shown.clone();
        std::thread::spawn(move || watch_status(config, shown));
    }

    // A pop-up window: no window manager decorates or moves it, and it takes no focus.
    let window = gtk::Window::new(gtk::WindowType::Popup);
    window.set_widget_name("sspr-login");
    window.set_accept_focus(false);
    window.set_focus_on_map(false);
    window.set_keep_above(true);
    let button = gtk::Button::with_label(&label(&Shown::Ready, &locale));
    if let Some(l) = button.child().and_then(|c| c.downcast::<gtk::Label>().ok()) {
        l.set_justify(gtk::Justification::Center);
    }
    button.set_widget_name("sspr-login-button");
    button.set_can_focus(false);
    window.add(&button);

    let child: Rc<RefCell<Option<KioskRun>>> = Rc::new(RefCell::new(None));
    {
        let child = child.clone();
        let window = window.clone();
        let shown = shown.clone();
        button.connect_clicked(move |_| {
            if child.borrow().is_some() || shown.lock().map(|s| *s != Shown::Ready).unwrap_or(true)
            {
                return;
            }
            match open_kiosk(config_path.as_deref()) {
                Ok(run) => {
                    tracing::info!(pid = run.child.id(), "kiosk opened from the login screen");
                    *child.borrow_mut() = Some(run);
                    window.hide();
                }
                Err(e) => tracing::error!(error = %e, "starting the kiosk window"),
            }
        });
    }

    let place = {
        let window = window.clone();
        let position = config.login_button_position;
        move || {
            let display = gtk::prelude::WidgetExt::display(&window);
            let Some(monitor) = display.primary_monitor().or_else(|| display.monitor(0)) else {
                return;
            };
            let geometry = monitor.geometry();
            let (sw, sh) = (geometry.width(), geometry.height());
            let (w, h) = window.size();
            let y = match position {
                ButtonPosition::Bottom => sh - h - sh / 12,
                ButtonPosition::Top => sh / 12,
            };
            window.move_((sw - w) / 2, y.max(0));
        }
    };
    window.show_all();
    place();
    {
        // A new label changes the size: centred again once GTK has given it.
        let place = place.clone();
        window.connect_size_allocate(move |_, _| place());
    }

    // Four times a second: follow the server's word, notice the kiosk window ending, and stay
    // above the greeter (which may be mapped after us, or restarted).
    let mut last = Shown::Ready;
    gtk::glib::timeout_add_local(Duration::from_millis(250), move || {
        let now = shown.lock().map(|s| s.clone()).unwrap_or(Shown::Ready);
        if now != last {
            button.set_label(&label(&now, &locale));
            if now == Shown::Ready {
                button.style_context().remove_class("off");
            } else {
                button.style_context().add_class("off");
            }
            last = now;
            window.resize(1, 1);
            place();
        }
        let ended = match child.borrow_mut().as_mut() {
            Some(run) => match run.child.try_wait() {
                Ok(Some(status)) => {
                    tracing::info!(%status, secs = run.started.elapsed().as_secs(), "kiosk window ended");
                    true
                }
                Ok(None) => false,
                Err(_) => true,
            },
            None => {
                if let Some(w) = window.window() {
                    w.raise();
                }
                false
            }
        };
        if ended {
            if let Some(run) = child.borrow_mut().take() {
                run.clean_up();
            }
            window.show_all();
            place();
            // The X server closes the ended window's connection when it gets to it, and
            // the keyboard's focus reverts then: set it again a few times meanwhile.
            focus_greeter();
            for ms in [250, 750, 1500, 3000] {
                gtk::glib::timeout_add_local_once(Duration::from_millis(ms), focus_greeter);
            }
        }
        gtk::glib::ControlFlow::Continue
    });
    gtk::main();
    ExitCode::SUCCESS
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_label_says_what_the_pc_can_do() {
        assert_eq!(label(&Shown::Ready, "en"), "Reset password / Unlock");
        assert_eq!(
            label(&Shown::Ready, "de-DE"),
            "Passwort zurücksetzen / Konto entsperren"
        );
        let helpdesk = Helpdesk {
            url: None,
            phone: Some("+49 30 1234".into()),
            email: Some("help@example.org".into()),
        };
        assert_eq!(
            label(&Shown::OutOfService(helpdesk), "en"),
            "Password reset is out of service\nHelpdesk: +49 30 1234 · help@example.org"
        );
        assert_eq!(
            label(
                &Shown::OutOfService(Helpdesk {
                    url: None,
                    phone: None,
                    email: None
                }),
                "de"
            ),
            "Passwort-Zurücksetzen ist außer Betrieb"
        );
        // Each of the kiosk's languages has its own words, and the start screen's term.
        for (locale, term) in [
            ("fr-FR", "Réinitialiser le mot de passe"),
            ("es", "Restablecer la contraseña"),
            ("it", "Reimposta la password"),
            ("nl", "Wachtwoord opnieuw instellen"),
            ("pl", "Zresetuj hasło"),
        ] {
            assert!(label(&Shown::Ready, locale).starts_with(term), "{locale}");
            assert_ne!(
                label(&Shown::NotSetUp, locale),
                label(&Shown::NotSetUp, "en")
            );
        }
        assert_eq!(label(&Shown::Ready, "x"), "Reset password / Unlock");
    }
}
