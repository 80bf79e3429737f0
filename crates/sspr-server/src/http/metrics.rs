//! `GET /metrics`: the Prometheus text format, on the main listener for a bearer token of
//! its own (`metrics.token`), or on a listener of its own (`metrics.listen`).

use std::sync::Arc;

use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use metrics_exporter_prometheus::PrometheusHandle;
use secrecy::{ExposeSecret, SecretString};
use sspr_proto::{ErrorBody, ErrorCode};

use super::AppState;
use crate::error::ApiError;

/// What `/metrics` serves, and the token the main listener asks for.
#[derive(Clone)]
pub struct Metrics {
    pub handle: PrometheusHandle,
    pub token: Option<Arc<SecretString>>,
}

/// The Prometheus text format's media type.
const TEXT_FORMAT: &str = "text/plain; version=0.0.4; charset=utf-8";

fn render(handle: &PrometheusHandle) -> Response {
    let mut r = handle.render().into_response();
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(TEXT_FORMAT));
    r
}

/// The bearer token of the request, if it has one.
fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(str::trim)
}

#[utoipa::path(get, path = "/metrics", tag = "health",
    responses(
        (status = 200, description = "Counters and latency histograms in the Prometheus text format", content_type = "text/plain", body = String),
        (status = 401, description = "No bearer token, or not the metrics token", body = ErrorBody),
        (status = 404, description = "Metrics aren't served on this listener (no metrics.token)", body = ErrorBody)))]
pub async fn on_main(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let Some(Metrics {
        handle,
        token: Some(token),
    }) = &state.metrics
    else {
        return ApiError::new(ErrorCode::NotFound, "No such endpoint.").into_response();
    };
    let given = bearer(&headers).unwrap_or_default();
    if !crate::secret::constant_time_eq(given.as_bytes(), token.expose_secret().as_bytes()) {
        let mut r = ApiError::new(
            ErrorCode::Unauthorized,
            "Send the metrics token as \"Authorization: Bearer <token>\".",
        )
        .into_response();
        r.headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        return r;
    }
    render(handle)
}

/// The router of a listener of its own: `/metrics` and nothing else, no token.
pub fn listener(handle: PrometheusHandle) -> Router {
    Router::new()
        .route(
            "/metrics",
            get(move || {
                let handle = handle.clone();
                async move { render(&handle) }
            }),
        )
        .fallback(|| async { (StatusCode::NOT_FOUND, "only /metrics here\n") })
}
