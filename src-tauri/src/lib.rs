//! SSPR kiosk: the window a locked-out person uses. It renders the flow the server drives,
//! holds only the current flow, and forgets when idle. Commands live in `commands/`; the
//! device key lives in the OS keyring (`device`); nothing here decides anything.

pub mod commands;
pub mod config;
pub mod confine;
pub mod device;
pub mod login_screen;
pub mod qr;
pub mod state;

use tauri::{Manager, Runtime, WebviewUrl, WebviewWindowBuilder};

use config::{KioskConfig, Role};
use state::Kiosk;

/// Registers the kiosk's state and commands on a builder; tests pass a mock builder.
pub fn run_app<R: Runtime>(builder: tauri::Builder<R>, kiosk: Kiosk) -> tauri::Builder<R> {
    builder
        .manage(kiosk)
        .invoke_handler(tauri::generate_handler![
            commands::kiosk::kiosk_status,
            commands::kiosk::kiosk_mode,
            commands::kiosk::wipe,
            commands::kiosk::leave,
            commands::kiosk::qr_matrix,
            commands::flow::start_flow,
            commands::flow::request_code,
            commands::flow::code_delivery,
            commands::flow::verify_code,
            commands::flow::answer_questions,
            commands::flow::check_password,
            commands::flow::set_password,
            commands::flow::unlock_account,
            commands::flow::cancel_flow,
            commands::approval::start_approval,
            commands::approval::stop_approval,
        ])
}

/// Only the app's own pages may load; anything else (a link, a drag-and-drop) is refused.
fn is_app_url(url: &tauri::Url) -> bool {
    matches!(url.scheme(), "tauri")
        || (matches!(url.scheme(), "http" | "https") && url.host_str() == Some("tauri.localhost"))
        || (cfg!(dev) && url.host_str() == Some("localhost"))
}

fn init_log() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("SSPR_KIOSK_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        // The login screen's log is a file: no colour codes in it.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
}

fn load() -> Result<(config::Args, KioskConfig), std::process::ExitCode> {
    config::parse_args(std::env::args().skip(1))
        .and_then(|a| KioskConfig::load(&a).map(|c| (a, c)))
        .map_err(|e| {
            eprintln!("sspr-kiosk: {e}");
            std::process::ExitCode::from(2)
        })
}

/// `sspr-kiosk-button`: the login screen's button alone. A program of its own so that the
/// greeter's button never loads WebKit (which it doesn't use): that kept it at the size
/// of a GTK window (`cargo xtask bench kiosk --login-screen`).
pub fn run_button() -> std::process::ExitCode {
    init_log();
    match load() {
        Ok((args, config)) => login_screen::button(config, args.config.clone()),
        Err(code) => code,
    }
}

pub fn run() -> std::process::ExitCode {
    init_log();
    let (args, config) = match load() {
        Ok(c) => c,
        Err(code) => return code,
    };
    match args.role(&config) {
        Role::LoginButton => login_screen::button(config, args.config.clone()),
        Role::Enroll => login_screen::enroll(config),
        Role::LoginWindow => {
            // Opened by the login screen: its key is the login screen's (the file, by
            // default) whatever the file says about starting the button.
            let mut config = config;
            config.login_screen = true;
            if let Err(e) = login_screen::drop_root() {
                eprintln!("sspr-kiosk: {e}");
                return std::process::ExitCode::from(2);
            }
            if let Err(e) = login_screen::confine_window(&config, args.config.as_deref()) {
                eprintln!("sspr-kiosk: {e}");
                return std::process::ExitCode::from(2);
            }
            window(config, true)
        }
        Role::Kiosk => window(config, false),
    }
}

/// WebKit's switch to draw with Skia on the CPU (see `KioskConfig::gpu_rendering`).
const CPU_RENDERING: &str = "WEBKIT_SKIA_ENABLE_CPU_RENDERING";

/// The kiosk's window; `login_window`: opened by the login screen's button, it covers
/// the greeter and ends the process on Cancel, Done and the idle timeout.
fn window(config: KioskConfig, login_window: bool) -> std::process::ExitCode {
    let kiosk_mode = config.kiosk_mode || login_window;
    // Read by the WebKit processes this one starts; set before any of them is (a value
    // already in the environment, as an admin's experiment, wins).
    if !config.gpu_rendering && std::env::var_os(CPU_RENDERING).is_none() {
        std::env::set_var(CPU_RENDERING, "1");
    }
    // WebKit allows automation (tauri-driver sets this) only in the app's shared web
    // context, and an incognito webview gets an ephemeral one: under automation the
    // webview keeps its data in a fresh temporary folder instead, which nothing reuses.
    let automated = std::env::var("TAURI_WEBVIEW_AUTOMATION").as_deref() == Ok("true");
    let automation_data =
        std::env::temp_dir().join(format!("sspr-kiosk-webview-{}", std::process::id()));
    let result = run_app(tauri::Builder::default(), Kiosk::new(config, login_window))
        .setup(move |app| {
            tracing::debug!("setting up the window");
            {
                let handle = app.handle().clone();
                tauri::async_runtime::spawn(async move {
                    handle.state::<Kiosk>().prefetch().await;
                });
            }
            let mut builder =
                WebviewWindowBuilder::new(app, "main", WebviewUrl::App("index.html".into()));
            if automated {
                builder = builder.data_directory(automation_data.clone());
            }
            // Above the greeter there is no window manager to make "full screen" mean
            // anything: the window is made the monitor's size and place from the start (a
            // window resized after it is shown kept its old picture under Xephyr).
            let (mut size, mut place) = ((1280.0, 800.0), None);
            if login_window {
                if let Ok(Some(m)) = app.primary_monitor() {
                    let logical = m.size().to_logical::<f64>(m.scale_factor());
                    let at = m.position().to_logical::<f64>(m.scale_factor());
                    size = (logical.width, logical.height);
                    place = Some((at.x, at.y));
                }
            }
            if let Some((x, y)) = place {
                builder = builder.position(x, y);
            }
            let window = builder
                .title("SSPR Kiosk")
                .inner_size(size.0, size.1)
                .min_inner_size(800.0, 600.0)
                .fullscreen(kiosk_mode)
                .decorations(!kiosk_mode)
                .always_on_top(kiosk_mode)
                .resizable(!kiosk_mode)
                .incognito(!automated)
                .on_navigation(|url| {
                    let ok = is_app_url(url);
                    if !ok {
                        tracing::warn!(%url, "navigation refused");
                    }
                    ok
                })
                .on_page_load(|_, payload| {
                    tracing::debug!(event = ?payload.event(), "page");
                })
                .build()?;
            tracing::debug!("window built");
            let _ = window.set_focus();
            Ok(())
        })
        .run(tauri::generate_context!());
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("sspr-kiosk: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use tauri::ipc::{CallbackFn, InvokeBody};
    use tauri::test::{get_ipc_response, mock_builder, mock_context, noop_assets, INVOKE_KEY};
    use tauri::webview::InvokeRequest;

    use super::*;

    fn app() -> (
        tauri::App<tauri::test::MockRuntime>,
        tauri::WebviewWindow<tauri::test::MockRuntime>,
    ) {
        let config = KioskConfig {
            // Nothing listens here: the tests below must not need a server.
            server_url: "http://127.0.0.1:9".into(),
            keyring_service: format!("sspr-kiosk-test-{}", std::process::id()),
            ..KioskConfig::default()
        };
        let app = run_app(mock_builder(), Kiosk::new(config, false))
            .build(mock_context(noop_assets()))
            .expect("app");
        let window = WebviewWindowBuilder::new(&app, "main", Default::default())
            .build()
            .expect("window");
        (app, window)
    }

    fn invoke(
        window: &tauri::WebviewWindow<tauri::test::MockRuntime>,
        cmd: &str,
        body: serde_json::Value,
    ) -> Result<serde_json::Value, serde_json::Value> {
        get_ipc_response(
            window,
            InvokeRequest {
                cmd: cmd.into(),
                callback: CallbackFn(0),
                error: CallbackFn(1),
                url: "tauri://localhost".parse().unwrap(),
                body: InvokeBody::Json(body),
                headers: Default::default(),
                invoke_key: INVOKE_KEY.to_string(),
            },
        )
        .map(|b| b.deserialize::<serde_json::Value>().unwrap())
    }

    #[test]
    fn qr_matrix_draws_the_text() {
        let (_app, w) = app();
        let m = invoke(
            &w,
            "qr_matrix",
            serde_json::json!({"text": "https://help.example.org/?ref=K7Q4-M2XD"}),
        )
        .unwrap();
        let size = m["size"].as_u64().unwrap() as usize;
        let rows = m["rows"].as_array().unwrap();
        assert!(size >= 21);
        assert_eq!(rows.len(), size);
        assert!(rows.iter().all(|r| r.as_str().unwrap().len() == size));
        // Finder pattern in the top-left corner.
        assert!(rows[0].as_str().unwrap().starts_with("1111111"));
        let too_long = invoke(
            &w,
            "qr_matrix",
            serde_json::json!({"text": "x".repeat(5000)}),
        );
        assert_eq!(too_long.unwrap_err()["code"], "bad_request");
    }

    #[test]
    fn flow_commands_need_a_flow_and_an_enrollment() {
        let (_app, w) = app();
        let r = invoke(
            &w,
            "verify_code",
            serde_json::json!({"challengeId": "x", "code": "123456"}),
        );
        assert_eq!(r.unwrap_err()["code"], "step_not_allowed");
        let r = invoke(
            &w,
            "answer_questions",
            serde_json::json!({"challengeId": "x", "answers": ["a", "b", "c"]}),
        );
        assert_eq!(r.unwrap_err()["code"], "step_not_allowed");
        let r = invoke(&w, "code_delivery", serde_json::json!({"challengeId": "x"}));
        assert_eq!(r.unwrap_err()["code"], "step_not_allowed");
        let r = invoke(
            &w,
            "request_code",
            serde_json::json!({"methodId": "m", "call": true}),
        );
        assert_eq!(r.unwrap_err()["code"], "step_not_allowed");
        let r = invoke(&w, "check_password", serde_json::json!({"candidate": "x"}));
        assert_eq!(r.unwrap_err()["code"], "step_not_allowed");
        // No key in the keyring and no enrollment code: the kiosk says it is not set up.
        let r = invoke(
            &w,
            "start_flow",
            serde_json::json!({"login": "ada", "intent": "reset"}),
        );
        assert_eq!(r.unwrap_err()["code"], "not_enrolled");
        // Cancelling with no flow is fine.
        assert!(invoke(&w, "cancel_flow", serde_json::json!({})).is_ok());
        // A dedicated kiosk never ends: only the login screen's window can be left.
        assert_eq!(
            invoke(&w, "kiosk_mode", serde_json::json!({})).unwrap()["login_screen"],
            false
        );
        let r = invoke(&w, "leave", serde_json::json!({}));
        assert_eq!(r.unwrap_err()["code"], "step_not_allowed");
    }

    #[test]
    fn only_app_pages_may_load() {
        assert!(is_app_url(&"tauri://localhost/index.html".parse().unwrap()));
        assert!(!is_app_url(&"https://example.org/".parse().unwrap()));
        assert!(!is_app_url(&"file:///etc/passwd".parse().unwrap()));
    }
}
