//! What the kiosk holds: a connection to the server and the current flow's id. Nothing
//! else survives a person; `wipe` forgets the flow.

use std::sync::{Arc, Mutex};

use sspr_client::{Client, ClientError, DeviceKey};
use sspr_proto::{ErrorBody, ErrorCode, KioskSettings};

use crate::config::KioskConfig;
use crate::device::KeyStore;

pub struct Kiosk {
    pub config: KioskConfig,
    /// Opened by the login screen's button: leaving ends the process (back to the greeter).
    pub login_window: bool,
    client: tokio::sync::Mutex<Option<Arc<Client>>>,
    flow: Mutex<Option<String>>,
    /// Forwards an approval's events to the UI while one runs.
    listener: Mutex<Option<tauri::async_runtime::JoinHandle<()>>>,
    /// The settings fetched while the window was still being built (`prefetch`), for
    /// the first screen; held while that fetch runs.
    early: tokio::sync::Mutex<Option<(std::time::Instant, Result<KioskSettings, ErrorBody>)>>,
}

/// How long settings fetched at start-up stand in for asking again.
const EARLY_FOR: std::time::Duration = std::time::Duration::from_secs(20);

/// A client error as the UI gets it: `{code, message}` from the one closed set.
pub fn ui_error(e: ClientError) -> ErrorBody {
    match e {
        ClientError::Api { body, .. } => *body,
        ClientError::Transport(_) => ErrorBody::new(
            ErrorCode::Unreachable,
            "The password service can't be reached right now.",
        ),
        ClientError::NotEnrolled => {
            ErrorBody::new(ErrorCode::NotEnrolled, "This kiosk is not set up yet.")
        }
        ClientError::Decode(m) | ClientError::Signing(m) => {
            tracing::error!(error = %m, "talking to the server failed");
            ErrorBody::new(
                ErrorCode::Internal,
                "Something went wrong. Please try again.",
            )
        }
    }
}

impl Kiosk {
    pub fn new(config: KioskConfig, login_window: bool) -> Kiosk {
        Kiosk {
            config,
            login_window,
            client: tokio::sync::Mutex::new(None),
            flow: Mutex::new(None),
            listener: Mutex::new(None),
            early: tokio::sync::Mutex::new(None),
        }
    }

    /// Connects (the key, the signed client) and asks for the settings while WebKit
    /// builds the window and loads the page, instead of after: the first screen then
    /// waits for neither.
    pub async fn prefetch(&self) {
        let mut slot = self.early.lock().await;
        let settings = match self.client().await {
            Ok(client) => client.settings().await.map_err(ui_error),
            Err(e) => Err(e),
        };
        match &settings {
            Ok(_) => tracing::debug!("settings fetched at start-up"),
            Err(e) => tracing::warn!(code = e.code.as_str(), "connecting at start-up"),
        }
        *slot = Some((std::time::Instant::now(), settings));
    }

    /// The server's settings for this kiosk: those fetched at start-up once, if recent,
    /// else asked now.
    pub async fn settings(&self) -> Result<KioskSettings, ErrorBody> {
        if let Some((at, settings)) = self.early.lock().await.take() {
            if at.elapsed() < EARLY_FOR {
                return settings;
            }
        }
        self.client().await?.settings().await.map_err(ui_error)
    }

    /// The signed client, enrolling first when the key store has no key for this server
    /// and an enrollment code was given.
    pub async fn client(&self) -> Result<Arc<Client>, ErrorBody> {
        let mut guard = self.client.lock().await;
        if let Some(c) = guard.as_ref() {
            return Ok(c.clone());
        }
        let client = Arc::new(connect(&self.config).await?);
        *guard = Some(client.clone());
        Ok(client)
    }

    pub fn flow(&self) -> Result<String, ErrorBody> {
        self.flow
            .lock()
            .ok()
            .and_then(|f| f.clone())
            .ok_or_else(|| {
                ErrorBody::new(
                    ErrorCode::StepNotAllowed,
                    "Start again from the first screen.",
                )
            })
    }

    pub fn set_flow(&self, id: Option<String>) {
        if let Ok(mut f) = self.flow.lock() {
            *f = id;
        }
    }

    pub fn take_flow(&self) -> Option<String> {
        self.set_listener(None);
        self.flow.lock().ok().and_then(|mut f| f.take())
    }

    /// Replaces (and stops) the approval listener.
    pub fn set_listener(&self, task: Option<tauri::async_runtime::JoinHandle<()>>) {
        if let Ok(mut l) = self.listener.lock() {
            if let Some(old) = std::mem::replace(&mut *l, task) {
                old.abort();
            }
        }
    }
}

/// The signed client for `config`'s server: the stored key, or a new one enrolled with
/// the configured code (then stored) when there is none.
pub async fn connect(config: &KioskConfig) -> Result<Client, ErrorBody> {
    let store = KeyStore::for_config(config);
    let stored = tokio::task::spawn_blocking(move || store.load().map(|s| (s, store)))
        .await
        .map_err(|e| keyring_error(e.to_string()))?
        .map_err(keyring_error)?;
    let client = match stored {
        (Some((key, id)), _) => Client::new(&config.server_url, key, Some(id)).map_err(ui_error)?,
        (None, store) => {
            let Some(code) = config.enrollment_code.clone() else {
                return Err(ErrorBody::new(
                    ErrorCode::NotEnrolled,
                    "This kiosk is not set up yet. IT staff: start it once with --enroll-code.",
                ));
            };
            let mut client =
                Client::new(&config.server_url, DeviceKey::generate(), None).map_err(ui_error)?;
            let name = config.enroll_name();
            let enrolled = client
                .enroll(&code, name.as_deref(), config.location.as_deref())
                .await
                .map_err(ui_error)?;
            tracing::info!(kiosk = %enrolled.kiosk_id, name = %enrolled.name, "enrolled");
            let id = enrolled.kiosk_id.clone();
            let seed = *client_seed(&client);
            tokio::task::spawn_blocking(move || store.save(&DeviceKey::from_seed(seed), &id))
                .await
                .map_err(|e| keyring_error(e.to_string()))?
                .map_err(keyring_error)?;
            client
        }
    };
    Ok(client)
}

fn client_seed(client: &Client) -> &[u8; 32] {
    client.device_key().seed()
}

fn keyring_error(detail: String) -> ErrorBody {
    tracing::error!(error = %detail, "device key");
    ErrorBody::new(
        ErrorCode::NotEnrolled,
        "This kiosk can't read or keep its device key. IT staff: see the kiosk's log (the system keyring, or the key file on the login screen).",
    )
}
