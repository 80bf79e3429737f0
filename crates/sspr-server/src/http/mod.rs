//! The HTTP surface: routes, the signature gate, correlation ids, health and the OpenAPI
//! document. Handlers map; services decide.

pub mod admin;
pub mod approval;
pub mod handlers;
pub mod idempotency;
pub mod ids;
pub mod json;
pub mod metrics;
pub mod my;
pub mod openapi;
pub mod rfc9421;
pub mod signature;

use std::sync::Arc;

use axum::extract::{DefaultBodyLimit, Request};
use axum::http::HeaderValue;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use sspr_proto::ErrorCode;

use crate::core::Core;
use crate::error::ApiError;
use crate::flow::FlowService;
use crate::secret::random_id;
use crate::security_info::SecurityInfo;
use crate::web;

/// What every handler may reach: the services, and what they share.
#[derive(Clone)]
pub struct AppState {
    pub core: Arc<Core>,
    pub flows: Arc<FlowService>,
    /// "My security info".
    pub my: Arc<SecurityInfo>,
    /// The admin console.
    pub console: Arc<crate::console::Console>,
    /// Enrolled kiosks, so the signature gate reads none from the store.
    pub kiosks: Arc<crate::kiosks::KioskCache>,
    /// `/metrics` (None: the process's recorder was installed elsewhere).
    pub metrics: Option<metrics::Metrics>,
}

/// The value of the cookie `name` among a request's cookies (empty when there is none:
/// no session has that key). "My security info" and the console each read theirs.
pub(crate) fn cookie_named(headers: &axum::http::HeaderMap, name: &str) -> String {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
        .unwrap_or_default()
}

/// Ties a request's log lines and audit rows together; sent back as `x-correlation-id`.
#[derive(Clone, Debug)]
pub struct CorrelationId(pub String);

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
            "/v1/flows/{flow_id}/challenges/{challenge_id}",
            get(handlers::challenge_status),
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
        // Inside the signature gate: it needs the kiosk, and a repeat is signed anew.
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            idempotency::idempotent,
        ))
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
        .route("/metrics", get(metrics::on_main))
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
        .route("/admin", get(web::admin_page))
        .route("/assets/admin.js", get(web::admin_js))
        .route("/assets/admin.css", get(web::admin_css))
        .route("/v1/admin/sign-in", post(admin::sign_in))
        .route("/v1/admin/sign-in/passkey", post(admin::sign_in_passkey))
        .route("/v1/admin/session", get(admin::session))
        .route("/v1/admin/sign-out", post(admin::sign_out))
        .route("/v1/admin/reauth/start", post(admin::reauth_start))
        .route("/v1/admin/reauth/finish", post(admin::reauth_finish))
        .route("/v1/admin/overview", get(admin::overview))
        .route(
            "/v1/admin/policy",
            get(admin::policy).put(admin::save_policy),
        )
        .route("/v1/admin/groups", get(admin::groups))
        .route("/v1/admin/kiosks", get(admin::kiosks))
        .route("/v1/admin/kiosks/{id}/revoke", post(admin::revoke_kiosk))
        .route(
            "/v1/admin/kiosks/enrollment-codes",
            post(admin::enrollment_code).get(admin::enrollment_codes),
        )
        .route("/v1/admin/audit", get(admin::audit))
        .route("/v1/admin/audit/export", get(admin::audit_export))
        .route("/v1/admin/attempts/{reference}", get(admin::attempt))
        .route(
            "/v1/admin/people/{login}/clear-methods",
            post(admin::clear_methods),
        )
        .route("/v1/admin/insights", get(admin::insights))
        .route("/v1/admin/coverage", get(admin::coverage))
        .route("/v1/admin/directories", get(admin::directories))
        .route(
            "/v1/admin/directories/{name}/test",
            post(admin::test_directory),
        )
        .route("/v1/my/sign-in", post(my::sign_in))
        .route("/v1/my/session", get(my::session))
        .route("/v1/my/sign-out", post(my::sign_out))
        .route("/v1/my/review", post(my::review))
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
        .route("/v1/my/mobile/start", post(my::mobile_start))
        .route("/v1/my/mobile/finish", post(my::mobile_finish))
        .route("/v1/my/office/start", post(my::office_start))
        .route("/v1/my/office/finish", post(my::office_finish))
        .route(
            "/v1/my/questions",
            get(my::questions).put(my::save_questions),
        )
        .route("/v1/my/methods/{id}", axum::routing::delete(my::remove))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(signature::MAX_BODY))
        .layer(middleware::from_fn(correlate))
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

async fn correlate(mut request: Request, next: Next) -> Response {
    let id = random_id();
    request.extensions_mut().insert(CorrelationId(id.clone()));
    let method = request.method().clone();
    let path = web::loggable_path(request.uri().path());
    // The route's template (`/v1/flows/{flow_id}`), never the path a caller sent.
    let route = request
        .extensions()
        .get::<axum::extract::MatchedPath>()
        .map(|m| m.as_str().to_string())
        .unwrap_or_else(|| "unmatched".into());
    let span = tracing::info_span!("request", correlation_id = %id, %method, %path);
    let started = std::time::Instant::now();
    // Each request runs to its end on a task of its own: a kiosk that goes away mid-request
    // (a timeout, the network) must not cancel a reset between the directory's write and
    // the commit that records it, or a verified code between being spent and its audit.
    let handled = tokio::spawn(tracing::Instrument::instrument(
        next.run(request),
        span.clone(),
    ));
    let mut response = match handled.await {
        Ok(response) => response,
        Err(e) => {
            tracing::error!(parent: &span, error = %e, "a request's handler failed");
            ApiError::new(
                ErrorCode::Internal,
                "Something went wrong on the server. Please try again, or ask the helpdesk.",
            )
            .into_response()
        }
    };
    // An internal fault's cause rides in the response (never in its body): logged here,
    // once, with its source chain.
    if let Some(cause) = response.extensions().get::<crate::error::Internal>() {
        tracing::error!(parent: &span, error = %cause.chain(), "internal error");
    }
    crate::telemetry::http(method.as_str(), &route, response.status().as_u16(), started);
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

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;
    use tower::ServiceExt as _;

    /// True, where the compiler can't see it (a handler that only panics won't type).
    fn a_bug() -> bool {
        std::hint::black_box(true)
    }

    /// A request whose caller goes away still runs to its end (and a handler that panics
    /// is answered with a 500, not a dropped connection).
    #[tokio::test]
    async fn requests_run_to_the_end_when_the_caller_goes_away() {
        let (reached, at_await) = tokio::sync::oneshot::channel::<()>();
        let (release, go_on) = tokio::sync::oneshot::channel::<()>();
        let finished = Arc::new(AtomicBool::new(false));
        let reached = Arc::new(std::sync::Mutex::new(Some((reached, go_on))));
        let done = finished.clone();
        let app = Router::new()
            .route(
                "/slow",
                axum::routing::post(move || async move {
                    let (reached, go_on) = reached.lock().unwrap().take().unwrap();
                    let _ = reached.send(());
                    let _ = go_on.await;
                    done.store(true, Ordering::SeqCst);
                }),
            )
            .route(
                "/panics",
                axum::routing::get(|| async {
                    if a_bug() {
                        panic!("a bug");
                    }
                    "never"
                }),
            )
            .layer(middleware::from_fn(correlate));
        let request = Request::post("/slow")
            .body(axum::body::Body::empty())
            .unwrap();
        let call = tokio::spawn(app.clone().oneshot(request));
        at_await.await.unwrap();
        // The caller gives up while the handler waits.
        call.abort();
        assert!(call.await.unwrap_err().is_cancelled());
        release.send(()).unwrap();
        for _ in 0..100 {
            if finished.load(Ordering::SeqCst) {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
        assert!(
            finished.load(Ordering::SeqCst),
            "the handler ran to its end"
        );

        let request = Request::get("/panics")
            .body(axum::body::Body::empty())
            .unwrap();
        let response = app.oneshot(request).await.unwrap();
        assert_eq!(
            response.status(),
            axum::http::StatusCode::INTERNAL_SERVER_ERROR
        );
    }
}
