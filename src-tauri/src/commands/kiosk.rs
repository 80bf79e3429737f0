//! Commands about the kiosk itself: its settings, wiping it, and QR codes.

use serde::Serialize;
use sspr_proto::{ErrorBody, ErrorCode, KioskSettings};
use tauri::{Runtime, State, WebviewWindow};

use crate::qr::{self, QrMatrix};
use crate::state::Kiosk;

/// What the UI needs to draw the first screen.
#[derive(Serialize)]
pub struct KioskStatus {
    pub settings: KioskSettings,
    pub default_locale: String,
    pub idle_timeout_secs: u32,
    /// How often the UI asks again while nobody uses the kiosk (0: never).
    pub status_refresh_secs: u32,
}

#[tauri::command]
pub async fn kiosk_status(kiosk: State<'_, Kiosk>) -> Result<KioskStatus, ErrorBody> {
    tracing::debug!("the page asks for the settings");
    let settings = kiosk.settings().await?;
    Ok(KioskStatus {
        idle_timeout_secs: kiosk
            .config
            .idle_timeout_secs
            .unwrap_or(settings.idle_timeout_secs),
        default_locale: kiosk.config.default_locale.clone(),
        status_refresh_secs: kiosk.config.status_refresh_secs,
        settings,
    })
}

/// What the UI must know before the server answers: whether it was opened from the login
/// screen (then Cancel, Done and the idle timeout end it, back to the greeter).
#[derive(Serialize)]
pub struct KioskMode {
    pub login_screen: bool,
    pub default_locale: String,
}

#[tauri::command]
pub fn kiosk_mode(kiosk: State<'_, Kiosk>) -> KioskMode {
    KioskMode {
        login_screen: kiosk.login_window,
        default_locale: kiosk.config.default_locale.clone(),
    }
}

/// Back to the login screen: forgets the person (the flow is cancelled) and ends the
/// window's process, so nothing of the person outlives it. Only in login-screen mode; a
/// dedicated kiosk never ends.
#[tauri::command]
pub async fn leave<R: Runtime>(
    app: tauri::AppHandle<R>,
    kiosk: State<'_, Kiosk>,
) -> Result<(), ErrorBody> {
    if !kiosk.login_window {
        return Err(ErrorBody::new(
            ErrorCode::StepNotAllowed,
            "Only the login screen's kiosk can be left.",
        ));
    }
    if let Some(flow) = kiosk.take_flow() {
        // The person is waiting to sign in: a server that doesn't answer soon lets the
        // flow expire by itself.
        let cancel = async {
            if let Ok(client) = kiosk.client().await {
                let _ = client.cancel(&flow).await;
            }
        };
        let _ = tokio::time::timeout(std::time::Duration::from_secs(3), cancel).await;
    }
    tracing::info!("back to the login screen");
    app.exit(0);
    Ok(())
}

/// Forgets the person: cancels the flow on the server and clears the webview's storage.
/// The UI reloads itself afterwards.
#[tauri::command]
pub async fn wipe<R: Runtime>(
    window: WebviewWindow<R>,
    kiosk: State<'_, Kiosk>,
) -> Result<(), ErrorBody> {
    if let Some(flow) = kiosk.take_flow() {
        if let Ok(client) = kiosk.client().await {
            let _ = client.cancel(&flow).await;
        }
    }
    window.clear_all_browsing_data().map_err(|e| {
        tracing::error!(error = %e, "clearing browsing data");
        ErrorBody::new(ErrorCode::Internal, "The kiosk could not wipe itself.")
    })
}

#[tauri::command]
pub fn qr_matrix(text: String) -> Result<QrMatrix, ErrorBody> {
    qr::matrix(&text).ok_or_else(|| {
        ErrorBody::new(
            ErrorCode::BadRequest,
            "That text is too long for a QR code.",
        )
    })
}
