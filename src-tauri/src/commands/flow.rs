//! Commands of the reset and unlock flow. The flow id stays here; the UI never holds it.

use sspr_proto::{
    ChallengeView, DoneView, ErrorBody, FlowView, Intent, PasswordCheck, StartFlowRequest,
};
use tauri::State;

use crate::state::{ui_error, Kiosk};

#[tauri::command]
pub async fn start_flow(
    kiosk: State<'_, Kiosk>,
    login: String,
    intent: Intent,
    locale: Option<String>,
) -> Result<FlowView, ErrorBody> {
    let client = kiosk.client().await?;
    if let Some(old) = kiosk.take_flow() {
        // Best effort: the server expires it anyway.
        let _ = client.cancel(&old).await;
    }
    let flow = client
        .start_flow(&StartFlowRequest {
            login,
            intent,
            locale,
        })
        .await
        .map_err(ui_error)?;
    kiosk.set_flow(Some(flow.flow_id.clone()));
    Ok(flow)
}

#[tauri::command]
pub async fn request_code(
    kiosk: State<'_, Kiosk>,
    method_id: String,
) -> Result<ChallengeView, ErrorBody> {
    let flow = kiosk.flow()?;
    kiosk
        .client()
        .await?
        .challenge(&flow, &method_id)
        .await
        .map_err(ui_error)
}

#[tauri::command]
pub async fn verify_code(
    kiosk: State<'_, Kiosk>,
    challenge_id: String,
    code: String,
) -> Result<FlowView, ErrorBody> {
    let flow = kiosk.flow()?;
    kiosk
        .client()
        .await?
        .verify(&flow, &challenge_id, &code)
        .await
        .map_err(ui_error)
}

#[tauri::command]
pub async fn check_password(
    kiosk: State<'_, Kiosk>,
    candidate: String,
) -> Result<PasswordCheck, ErrorBody> {
    let flow = kiosk.flow()?;
    kiosk
        .client()
        .await?
        .password_check(&flow, &candidate)
        .await
        .map_err(ui_error)
}

#[tauri::command]
pub async fn set_password(
    kiosk: State<'_, Kiosk>,
    new_password: String,
) -> Result<DoneView, ErrorBody> {
    let flow = kiosk.flow()?;
    let done = kiosk
        .client()
        .await?
        .set_password(&flow, &new_password)
        .await
        .map_err(ui_error)?;
    kiosk.set_flow(None);
    Ok(done)
}

#[tauri::command]
pub async fn unlock_account(kiosk: State<'_, Kiosk>) -> Result<DoneView, ErrorBody> {
    let flow = kiosk.flow()?;
    let done = kiosk
        .client()
        .await?
        .unlock(&flow)
        .await
        .map_err(ui_error)?;
    kiosk.set_flow(None);
    Ok(done)
}

#[tauri::command]
pub async fn cancel_flow(kiosk: State<'_, Kiosk>) -> Result<(), ErrorBody> {
    if let Some(flow) = kiosk.take_flow() {
        let client = kiosk.client().await?;
        client.cancel(&flow).await.map_err(ui_error)?;
    }
    Ok(())
}
