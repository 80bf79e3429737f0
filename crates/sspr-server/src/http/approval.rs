//! Approval by QR code over HTTP: the kiosk's event stream (signed) and the phone page's
//! calls (not signed: the token in the body is the key).

use std::convert::Infallible;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::Extension;
use futures::Stream;
use secrecy::SecretString;
use sspr_proto::{
    ApprovalFinishRequest, ApprovalGranted, ApprovalInfo, ApprovalNumberRequest,
    ApprovalPasswordCheckRequest, ApprovalPasswordRequest, ApprovalTokenRequest, DoneView,
    ErrorBody, FlowEvent, PasskeyRequest, PasswordCheck,
};

use super::ids::FlowId;
use super::json::Json;
use super::{AppState, CorrelationId};
use crate::clock::now;
use crate::error::ApiResult;
use crate::flow::Caller;

fn event_name(e: &FlowEvent) -> &'static str {
    match e {
        FlowEvent::Scanned { .. } => "scanned",
        FlowEvent::Approved { .. } => "approved",
        FlowEvent::FinishOnPhone { .. } => "finish_on_phone",
        FlowEvent::Completed { .. } => "completed",
        FlowEvent::Failed { .. } => "failed",
    }
}

#[utoipa::path(get, path = "/v1/flows/{flow_id}/events", tag = "flows",
    params(("flow_id" = String, Path)),
    responses(
        (status = 200, description = "Server-sent events: the latest first (unless `Last-Event-ID` names it or a later one), then each new one; `event:` is the type, `id:` its place in the flow's order, which any server process resumes from", body = FlowEvent, content_type = "text/event-stream"),
        (status = 404, body = ErrorBody), (status = 410, body = ErrorBody)),
    security(("kiosk_signature" = [])))]
pub async fn events(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    flow_id: FlowId,
    headers: HeaderMap,
) -> ApiResult<(
    [(&'static str, &'static str); 1],
    Sse<impl Stream<Item = Result<SseEvent, Infallible>>>,
)> {
    let rx = state
        .flows
        .subscribe(&caller, flow_id.as_str(), now())
        .await?;
    // A kiosk that reconnects (perhaps to another process) says what it had; anything
    // else there is nothing of (not a number: from the start).
    let had: i64 = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    let stream = futures::stream::unfold((rx, true, had), |(mut rx, first, had)| async move {
        let mut first = first;
        loop {
            if !first && rx.changed().await.is_err() {
                return None;
            }
            first = false;
            let (id, latest) = rx.borrow_and_update().clone();
            if id <= had {
                continue;
            }
            if let Some(event) = latest {
                let sse = SseEvent::default()
                    .id(id.to_string())
                    .event(event_name(&event))
                    .json_data(&event)
                    .unwrap_or_default();
                return Some((Ok(sse), (rx, false, id)));
            }
        }
    });
    // nginx buffers what it passes on unless told: this stream must arrive as it comes.
    Ok((
        [("x-accel-buffering", "no")],
        Sse::new(stream).keep_alive(KeepAlive::default()),
    ))
}

#[utoipa::path(post, path = "/v1/approval/open", tag = "approval",
    request_body = ApprovalTokenRequest,
    responses((status = 200, body = ApprovalInfo), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 410, body = ErrorBody)))]
pub async fn open(
    State(state): State<AppState>,
    Extension(correlation): Extension<CorrelationId>,
    Json(req): Json<ApprovalTokenRequest>,
) -> ApiResult<axum::Json<ApprovalInfo>> {
    let info = state
        .flows
        .approval_open(&req.token, &correlation.0, now())
        .await?;
    Ok(axum::Json(info))
}

#[utoipa::path(post, path = "/v1/approval/number", tag = "approval",
    request_body = ApprovalNumberRequest,
    responses((status = 200, description = "The WebAuthn request for the passkey", body = PasskeyRequest),
        (status = 400, description = "Passkeys are off", body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 410, body = ErrorBody),
        (status = 422, description = "Not the kiosk's number: the approval is over", body = ErrorBody),
        (status = 429, body = ErrorBody)))]
pub async fn number(
    State(state): State<AppState>,
    Extension(correlation): Extension<CorrelationId>,
    Json(req): Json<ApprovalNumberRequest>,
) -> ApiResult<axum::Json<PasskeyRequest>> {
    let request = state
        .flows
        .approval_number(&req.token, &req.number, &correlation.0, now())
        .await?;
    Ok(axum::Json(request))
}

#[utoipa::path(post, path = "/v1/approval/finish", tag = "approval",
    request_body = ApprovalFinishRequest,
    responses((status = 200, body = ApprovalGranted),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 410, body = ErrorBody),
        (status = 422, description = "The passkey's answer did not verify: the approval is over", body = ErrorBody),
        (status = 429, body = ErrorBody)))]
pub async fn finish(
    State(state): State<AppState>,
    Extension(correlation): Extension<CorrelationId>,
    Json(req): Json<ApprovalFinishRequest>,
) -> ApiResult<axum::Json<ApprovalGranted>> {
    let granted = state
        .flows
        .approval_finish(&req.token, &req.credential, &correlation.0, now())
        .await?;
    Ok(axum::Json(granted))
}

#[utoipa::path(post, path = "/v1/approval/deny", tag = "approval",
    request_body = ApprovalTokenRequest,
    responses((status = 204, description = "Denied; the kiosk is told"), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 410, body = ErrorBody)))]
pub async fn deny(
    State(state): State<AppState>,
    Extension(correlation): Extension<CorrelationId>,
    Json(req): Json<ApprovalTokenRequest>,
) -> ApiResult<StatusCode> {
    state
        .flows
        .approval_deny(&req.token, &correlation.0, now())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/v1/approval/password-check", tag = "approval",
    request_body = ApprovalPasswordCheckRequest,
    responses((status = 200, body = PasswordCheck), (status = 401, description = "Not the approving phone's key", body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 410, body = ErrorBody),
        (status = 503, description = "Directory unreachable", body = ErrorBody)))]
pub async fn password_check(
    State(state): State<AppState>,
    Extension(correlation): Extension<CorrelationId>,
    Json(req): Json<ApprovalPasswordCheckRequest>,
) -> ApiResult<axum::Json<PasswordCheck>> {
    let check = state
        .flows
        .approval_password_check(&req.token, &req.key, &req.candidate, &correlation.0, now())
        .await?;
    Ok(axum::Json(check))
}

#[utoipa::path(post, path = "/v1/approval/password", tag = "approval",
    request_body = ApprovalPasswordRequest,
    responses((status = 200, description = "Set; the kiosk shows Done", body = DoneView),
        (status = 401, description = "Not the approving phone's key", body = ErrorBody),
        (status = 403, description = "Self-service may not change this account", body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 410, body = ErrorBody),
        (status = 422, description = "Refused, with reasons", body = ErrorBody),
        (status = 429, description = "Too many resets of this account", body = ErrorBody),
        (status = 503, body = ErrorBody)))]
pub async fn password(
    State(state): State<AppState>,
    Extension(correlation): Extension<CorrelationId>,
    Json(req): Json<ApprovalPasswordRequest>,
) -> ApiResult<axum::Json<DoneView>> {
    let password = SecretString::from(req.new_password);
    let done = state
        .flows
        .approval_password(&req.token, &req.key, &password, &correlation.0, now())
        .await?;
    Ok(axum::Json(done))
}
