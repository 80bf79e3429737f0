//! Kiosk API v1 handlers: each maps a request to a service call and the result to JSON.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Extension;
use base64::Engine;
use secrecy::SecretString;
use sspr_proto::{
    ChallengeRequest, ChallengeStatus, ChallengeView, DoneView, EnrollRequest, EnrollResponse,
    ErrorBody, ErrorCode, FlowView, Health, Helpdesk, KioskSettings, PasswordCheck,
    PasswordCheckRequest, SetPasswordRequest, StartFlowRequest, VerifyRequest,
};

use super::ids::{ChallengeId, FlowId};
use super::json::Json;
use super::{AppState, CorrelationId};
use crate::audit::{Context, Event};
use crate::clock::now;
use crate::error::{ApiError, ApiResult};
use crate::flow::Caller;
use crate::kiosks;

#[utoipa::path(post, path = "/v1/flows", tag = "flows",
    request_body = StartFlowRequest,
    responses(
        (status = 201, description = "Flow started (a decoy for unknown logins looks the same)", body = FlowView),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 429, description = "Blocked after too many failures", body = ErrorBody),
        (status = 503, body = ErrorBody)),
    security(("kiosk_signature" = [])))]
pub async fn start_flow(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Json(req): Json<StartFlowRequest>,
) -> ApiResult<(StatusCode, axum::Json<FlowView>)> {
    let view = state.flows.start(&caller, &req, now()).await?;
    Ok((StatusCode::CREATED, axum::Json(view)))
}

#[utoipa::path(post, path = "/v1/flows/{flow_id}/challenges", tag = "flows",
    params(("flow_id" = String, Path)),
    request_body = ChallengeRequest,
    responses(
        (status = 201, description = "Code sent, or authenticator code asked for", body = ChallengeView),
        (status = 400, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 410, body = ErrorBody), (status = 429, body = ErrorBody),
        (status = 503, description = "The code couldn't be sent (delivery_failed); nothing was counted", body = ErrorBody)),
    security(("kiosk_signature" = [])))]
pub async fn create_challenge(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    flow_id: FlowId,
    Json(req): Json<ChallengeRequest>,
) -> ApiResult<(StatusCode, axum::Json<ChallengeView>)> {
    let view = state
        .flows
        .challenge(&caller, flow_id.as_str(), &req, now())
        .await?;
    Ok((StatusCode::CREATED, axum::Json(view)))
}

#[utoipa::path(post, path = "/v1/flows/{flow_id}/challenges/{challenge_id}/verify", tag = "flows",
    params(("flow_id" = String, Path), ("challenge_id" = String, Path)),
    request_body = VerifyRequest,
    responses(
        (status = 200, description = "Verified; the flow as it stands", body = FlowView),
        (status = 400, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 410, description = "Code or flow expired", body = ErrorBody),
        (status = 422, description = "Wrong code", body = ErrorBody),
        (status = 429, description = "Blocked", body = ErrorBody)),
    security(("kiosk_signature" = [])))]
pub async fn verify(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    flow_id: FlowId,
    challenge_id: ChallengeId,
    Json(req): Json<VerifyRequest>,
) -> ApiResult<axum::Json<FlowView>> {
    let view = state
        .flows
        .verify(
            &caller,
            flow_id.as_str(),
            challenge_id.as_str(),
            &req,
            now(),
        )
        .await?;
    Ok(axum::Json(view))
}

#[utoipa::path(get, path = "/v1/flows/{flow_id}/challenges/{challenge_id}", tag = "flows",
    params(("flow_id" = String, Path), ("challenge_id" = String, Path)),
    responses(
        (status = 200, description = "Where sending the challenge's code stands (texts and calls go out after the challenge answers)", body = ChallengeStatus),
        (status = 404, body = ErrorBody)),
    security(("kiosk_signature" = [])))]
pub async fn challenge_status(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    flow_id: FlowId,
    challenge_id: ChallengeId,
) -> ApiResult<axum::Json<ChallengeStatus>> {
    let status = state
        .flows
        .challenge_status(&caller, flow_id.as_str(), challenge_id.as_str())
        .await?;
    Ok(axum::Json(status))
}

#[utoipa::path(post, path = "/v1/flows/{flow_id}/password-check", tag = "flows",
    params(("flow_id" = String, Path)),
    request_body = PasswordCheckRequest,
    responses(
        (status = 200, description = "Reasons the candidate is refused, if any", body = PasswordCheck),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 410, body = ErrorBody),
        (status = 503, description = "Directory unreachable", body = ErrorBody)),
    security(("kiosk_signature" = [])))]
pub async fn password_check(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    flow_id: FlowId,
    Json(req): Json<PasswordCheckRequest>,
) -> ApiResult<axum::Json<PasswordCheck>> {
    let check = state
        .flows
        .password_check(&caller, flow_id.as_str(), &req.candidate, now())
        .await?;
    Ok(axum::Json(check))
}

#[utoipa::path(post, path = "/v1/flows/{flow_id}/password", tag = "flows",
    params(("flow_id" = String, Path)),
    request_body = SetPasswordRequest,
    responses(
        (status = 200, description = "The directory accepted the new password", body = DoneView),
        (status = 403, description = "Self-service may not change this account", body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 410, body = ErrorBody),
        (status = 429, description = "Too many resets of this account", body = ErrorBody),
        (status = 422, description = "Refused, with reasons", body = ErrorBody),
        (status = 503, description = "Directory unreachable; nothing changed", body = ErrorBody)),
    security(("kiosk_signature" = [])))]
pub async fn set_password(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    flow_id: FlowId,
    Json(req): Json<SetPasswordRequest>,
) -> ApiResult<axum::Json<DoneView>> {
    let password = SecretString::from(req.new_password);
    let done = state
        .flows
        .set_password(&caller, flow_id.as_str(), &password, now())
        .await?;
    Ok(axum::Json(done))
}

#[utoipa::path(post, path = "/v1/flows/{flow_id}/unlock", tag = "flows",
    params(("flow_id" = String, Path)),
    responses(
        (status = 200, description = "The directory unlocked the account", body = DoneView),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 410, body = ErrorBody),
        (status = 503, body = ErrorBody)),
    security(("kiosk_signature" = [])))]
pub async fn unlock(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    flow_id: FlowId,
) -> ApiResult<axum::Json<DoneView>> {
    let done = state.flows.unlock(&caller, flow_id.as_str(), now()).await?;
    Ok(axum::Json(done))
}

#[utoipa::path(delete, path = "/v1/flows/{flow_id}", tag = "flows",
    params(("flow_id" = String, Path)),
    responses((status = 204, description = "Cancelled"), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)),
    security(("kiosk_signature" = [])))]
pub async fn cancel(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    flow_id: FlowId,
) -> ApiResult<StatusCode> {
    state.flows.cancel(&caller, flow_id.as_str(), now()).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/v1/kiosk/settings", tag = "kiosk",
    responses((status = 200, body = KioskSettings), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)),
    security(("kiosk_signature" = [])))]
pub async fn kiosk_settings(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
) -> axum::Json<KioskSettings> {
    let c = &state.core.config();
    axum::Json(KioskSettings {
        organization: c.organization.name.clone(),
        accent_color: c.organization.accent_color.clone(),
        helpdesk: Helpdesk {
            url: c.helpdesk.url.clone(),
            phone: c.helpdesk.phone.clone(),
            email: c.helpdesk.email.clone(),
        },
        idle_timeout_secs: c.kiosk.idle_timeout_secs,
        kiosk_id: caller.kiosk_id,
        kiosk_name: caller.kiosk_name,
        kiosk_location: caller.kiosk_location,
        default_locale: c.organization.default_locale.clone(),
        locales: crate::lang::Lang::ALL
            .iter()
            .map(|l| l.code().to_string())
            .collect(),
        unlock_enabled: c.policy.allow_unlock,
        password_on_phone: c.approval.password_on_phone,
        logo: c.organization.logo.clone(),
    })
}

#[utoipa::path(post, path = "/v1/kiosks/enroll", tag = "kiosk",
    request_body = EnrollRequest,
    responses(
        (status = 201, description = "Enrolled; sign every later request with key id `kiosk_id`", body = EnrollResponse),
        (status = 400, description = "A bad public key, name or location; nothing was spent or made", body = ErrorBody),
        (status = 403, description = "Unknown, used up, expired or revoked code", body = ErrorBody)))]
pub async fn enroll(
    State(state): State<AppState>,
    Extension(correlation): Extension<CorrelationId>,
    Json(req): Json<EnrollRequest>,
) -> ApiResult<(StatusCode, axum::Json<EnrollResponse>)> {
    let key = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(req.public_key.trim().trim_end_matches('='))
        .ok()
        .filter(|k| k.len() == 32)
        .ok_or_else(|| {
            ApiError::bad_request(
                "public_key must be a 32-byte Ed25519 key, base64url without padding.",
            )
        })?;
    // What the kiosk says of itself is checked before the code is looked at: bad input
    // spends nothing and makes nothing.
    let enroll_as = kiosks::enroll_as(req.name.as_deref(), req.location.as_deref())
        .map_err(ApiError::bad_request)?;
    let now = now();
    let svc = &state.core;
    let kiosk = kiosks::enroll(&svc.store, &svc.key, &req.code, &key, &enroll_as, now).await?;
    let mut ctx = Context {
        correlation_id: correlation.0,
        ..Context::default()
    };
    let Some(kiosk) = kiosk else {
        svc.audit
            .record(&ctx, Event::KioskEnrollmentRefused, now)
            .await;
        return Err(ApiError::new(
            ErrorCode::EnrollmentInvalid,
            "That enrollment code is unknown, used or expired. Ask IT for a new one.",
        ));
    };
    ctx.kiosk_id = Some(kiosk.id.clone());
    svc.audit
        .record(
            &ctx,
            Event::KioskEnrolled {
                name: kiosk.name.clone(),
                location: kiosk.location.clone(),
                code_id: kiosk.enrollment_code_id.clone(),
            },
            now,
        )
        .await;
    Ok((
        StatusCode::CREATED,
        axum::Json(EnrollResponse {
            kiosk_id: kiosk.id,
            name: kiosk.name,
            location: kiosk.location,
        }),
    ))
}

#[utoipa::path(get, path = "/healthz", tag = "health",
    responses((status = 200, description = "The process is up", body = Health)))]
pub async fn healthz() -> axum::Json<Health> {
    axum::Json(Health {
        ok: true,
        store: true,
        directory: true,
        unavailable: Vec::new(),
    })
}

#[utoipa::path(get, path = "/readyz", tag = "health",
    responses((status = 200, description = "Store and directory reachable", body = Health),
        (status = 503, description = "Store or directory unreachable", body = Health)))]
pub async fn readyz(State(state): State<AppState>) -> (StatusCode, axum::Json<Health>) {
    let store = state.core.store.ping().await;
    let down = state.core.directories.ping().await;
    for (name, e) in &down {
        tracing::warn!(directory = %name, error = %e, "readiness: directory unavailable");
    }
    let directory = down.is_empty();
    let ok = store && directory;
    let status = if ok {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (
        status,
        axum::Json(Health {
            ok,
            store,
            directory,
            unavailable: down.into_iter().map(|(name, _)| name).collect(),
        }),
    )
}
