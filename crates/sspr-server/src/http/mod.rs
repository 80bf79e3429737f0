//! The HTTP surface: routes, the signature gate, correlation ids, health and the OpenAPI
//! document. Handlers map; services decide.

pub mod approval;
pub mod handlers;
pub mod json;
pub mod openapi;
pub mod signature;

use std::sync::Arc;

use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::HeaderValue;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use sspr_proto::ErrorCode;

use crate::error::ApiError;
use crate::flow::FlowService;
use crate::secret::random_id;
use crate::web::{self, my};

#[derive(Clone)]
pub struct AppState {
    pub flows: Arc<FlowService>,
    /// Enrolled kiosks, so the signature gate reads none from the store.
    pub kiosks: Arc<crate::kiosks::KioskCache>,
    /// "My security info" sessions.
    pub my: crate::web::my::Sessions,
}

/// Ties a request's log lines and audit rows together; sent back as `x-correlation-id`.
#[derive(Clone, Debug)]
pub struct CorrelationId(pub String);

pub fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

pub fn router(state: AppState) -> Router {
    let signed = Router::new()
        .route("/v1/flows", post(handlers::start_flow))
        .route(
            "/v1/flows/{flow_id}",
            axum::routing::delete(handlers::cancel),
        )
        .route(
            "/v1/flows/{flow_id}/challenges",
            post(handlers::create_challenge),
        )
        .route(
            "/v1/flows/{flow_id}/challenges/{challenge_id}/verify",
            post(handlers::verify),
        )
        .route(
            "/v1/flows/{flow_id}/password-check",
            post(handlers::password_check),
        )
        .route("/v1/flows/{flow_id}/password", post(handlers::set_password))
        .route("/v1/flows/{flow_id}/unlock", post(handlers::unlock))
        .route("/v1/flows/{flow_id}/events", get(approval::events))
        .route("/v1/kiosk/settings", get(handlers::kiosk_settings))
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            signature::require_signature,
        ));
    Router::new()
        .merge(signed)
        .route("/v1/kiosks/enroll", post(handlers::enroll))
        .route("/healthz", get(handlers::healthz))
        .route("/readyz", get(handlers::readyz))
        .route("/openapi.json", get(openapi::serve))
        .route("/a/{token}", get(web::phone_page))
        .route("/my", get(web::my_page))
        .route("/assets/style.css", get(web::style))
        .route("/assets/phone.js", get(web::phone_js))
        .route("/assets/my.js", get(web::my_js))
        .route("/v1/approval/open", post(approval::open))
        .route("/v1/approval/number", post(approval::number))
        .route("/v1/approval/finish", post(approval::finish))
        .route("/v1/approval/deny", post(approval::deny))
        .route(
            "/v1/approval/password-check",
            post(approval::password_check),
        )
        .route("/v1/approval/password", post(approval::password))
        .route("/v1/my/sign-in", post(my::sign_in))
        .route("/v1/my/session", get(my::session))
        .route("/v1/my/sign-out", post(my::sign_out))
        .route("/v1/my/second-factor/start", post(my::second_start))
        .route("/v1/my/second-factor/finish", post(my::second_finish))
        .route("/v1/my/passkeys/start", post(my::passkey_start))
        .route("/v1/my/passkeys/finish", post(my::passkey_finish))
        .route("/v1/my/authenticator/start", post(my::authenticator_start))
        .route(
            "/v1/my/authenticator/finish",
            post(my::authenticator_finish),
        )
        .route("/v1/my/email/start", post(my::email_start))
        .route("/v1/my/email/finish", post(my::email_finish))
        .route("/v1/my/methods/{id}", axum::routing::delete(my::remove))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(signature::MAX_BODY))
        .layer(middleware::from_fn_with_state(state.clone(), correlate))
        .with_state(state)
}

async fn not_found() -> ApiError {
    ApiError::new(ErrorCode::NotFound, "No such endpoint.")
}

async fn method_not_allowed() -> Response {
    let mut r =
        ApiError::bad_request("That method is not allowed on this endpoint.").into_response();
    *r.status_mut() = axum::http::StatusCode::METHOD_NOT_ALLOWED;
    r
}

async fn correlate(State(_state): State<AppState>, mut request: Request, next: Next) -> Response {
    let id = random_id();
    request.extensions_mut().insert(CorrelationId(id.clone()));
    let method = request.method().clone();
    let path = web::loggable_path(request.uri().path());
    let span = tracing::info_span!("request", correlation_id = %id, %method, %path);
    let started = std::time::Instant::now();
    let mut response = tracing::Instrument::instrument(next.run(request), span.clone()).await;
    tracing::debug!(
        parent: &span,
        status = response.status().as_u16(),
        elapsed_us = started.elapsed().as_micros() as u64,
        "response"
    );
    if let Ok(v) = HeaderValue::from_str(&id) {
        response.headers_mut().insert("x-correlation-id", v);
    }
    response
}
