//! Approval on the phone: the kiosk asks for the QR code, then forwards what the server
//! pushes about it (scanned, approved, failed, ...) to the UI as "flow-event"s.

use sspr_proto::{ChallengeView, ErrorBody, FlowEvent};
use tauri::{AppHandle, Emitter, Manager, Runtime, State};

use crate::state::{ui_error, Kiosk};

/// The UI's event name for a pushed `FlowEvent`.
pub const FLOW_EVENT: &str = "flow-event";

#[tauri::command]
pub async fn start_approval<R: Runtime>(
    app: AppHandle<R>,
    kiosk: State<'_, Kiosk>,
    method_id: String,
    finish_on_phone: bool,
) -> Result<ChallengeView, ErrorBody> {
    let flow = kiosk.flow()?;
    let client = kiosk.client().await?;
    let view = client
        .challenge_with(&flow, &method_id, finish_on_phone)
        .await
        .map_err(ui_error)?;
    let mut events = client.events(&flow).await.map_err(ui_error)?;
    let task = tauri::async_runtime::spawn(async move {
        let mut reconnects = 0;
        loop {
            match events.next().await {
                Some(Ok(event)) => {
                    let done = matches!(event, FlowEvent::Completed { .. });
                    if done {
                        // The password was set from the phone: this kiosk's flow is over.
                        app.state::<Kiosk>().set_flow(None);
                    }
                    if let Err(e) = app.emit(FLOW_EVENT, &event) {
                        tracing::warn!(error = %e, "forwarding an approval event");
                    }
                    if done {
                        return;
                    }
                }
                // The server ended the stream (the flow is over) or the connection broke:
                // listen again a few times (any server process may answer), from after
                // the last event this kiosk had, so none is missed or shown twice.
                other => {
                    if let Some(Err(e)) = other {
                        tracing::warn!(error = %e, "approval events");
                    }
                    reconnects += 1;
                    if reconnects > 3 {
                        return;
                    }
                    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                    let had = events.last_event_id().map(str::to_string);
                    match client.events_after(&flow, had.as_deref()).await {
                        Ok(again) => events = again,
                        Err(e) => tracing::warn!(error = %e, "listening for approval events"),
                    }
                }
            }
        }
    });
    kiosk.set_listener(Some(task));
    Ok(view)
}

/// Stops forwarding (another method was chosen, or the person left).
#[tauri::command]
pub fn stop_approval(kiosk: State<'_, Kiosk>) {
    kiosk.set_listener(None);
}
