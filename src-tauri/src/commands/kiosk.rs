//! Commands about the kiosk itself: its settings, wiping it, and QR codes.

use serde::Serialize;
use sspr_proto::{ErrorBody, ErrorCode, KioskSettings};
use tauri::{Runtime, State, WebviewWindow};

use crate::qr::{self, QrMatrix};
use crate::state::{ui_error, Kiosk};

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
    let settings = kiosk.client().await?.settings().await.map_err(ui_error)?;
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
