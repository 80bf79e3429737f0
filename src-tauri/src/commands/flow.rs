//! Commands of the reset and unlock flow. The flow id stays here; the UI never holds it.

use sspr_proto::{
    ChallengeRequest, ChallengeView, Delivery, DoneView, ErrorBody, FlowView, Intent,
    PasswordCheck, StartFlowRequest,
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

/// Sends a code, asks for one, or asks the security questions. `call`: a mobile number
/// is called and the code read out instead of texted (`MethodView::can_call`).
#[tauri::command]
pub async fn request_code(
    kiosk: State<'_, Kiosk>,
    method_id: String,
    call: Option<bool>,
) -> Result<ChallengeView, ErrorBody> {
    let flow = kiosk.flow()?;
    let choice = ChallengeRequest {
        method_id,
        finish_on_phone: false,
        call: call.unwrap_or(false),
    };
    kiosk
        .client()
        .await?
        .challenge_request(&flow, &choice)
        .await
        .map_err(ui_error)
}

/// How long one `code_delivery` waits for a text or a call to go out before it answers
/// "still sending" (the UI asks again while the code screen shows).
const DELIVERY_WAIT: std::time::Duration = std::time::Duration::from_secs(15);

/// Where sending a texted or called code stands: answers once a gateway took it or every
/// gateway failed, or `sending` after a while.
#[tauri::command]
pub async fn code_delivery(
    kiosk: State<'_, Kiosk>,
    challenge_id: String,
) -> Result<Option<Delivery>, ErrorBody> {
    let flow = kiosk.flow()?;
    kiosk
        .client()
        .await?
        .delivery(&flow, &challenge_id, DELIVERY_WAIT)
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

/// Answers a security questions challenge, in the order its questions were asked.
#[tauri::command]
pub async fn answer_questions(
    kiosk: State<'_, Kiosk>,
    challenge_id: String,
    answers: Vec<String>,
) -> Result<FlowView, ErrorBody> {
    let flow = kiosk.flow()?;
    kiosk
        .client()
        .await?
        .answer(&flow, &challenge_id, &answers)
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
