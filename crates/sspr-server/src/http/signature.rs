//! Every kiosk request is signed with the kiosk's Ed25519 key (HTTP Message Signatures,
//! RFC 9421; the base is rebuilt in `rfc9421`). Covered at least: `@method`,
//! `@target-uri`, `content-digest` when there is a body; parameters `created`, `nonce` and
//! `keyid` (the kiosk id), in any order, with `alg` (only "ed25519"), `expires` (enforced)
//! and `tag` allowed. Unsigned, badly signed, stale, expired, replayed and revoked-kiosk
//! requests are refused here, before any handler.

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sspr_proto::ErrorCode;

use super::{rfc9421, AppState, CorrelationId};
use crate::audit::{Context, Event};
use crate::clock::now;
use crate::error::ApiError;
use crate::flow::Caller;

/// Bodies above this are refused before anything else reads them.
pub const MAX_BODY: usize = 64 * 1024;

const REQUIRED: &[&str] = &["@method", "@target-uri"];
const DIGEST: &str = "content-digest";
/// The only algorithm a kiosk key has.
const ALG: &str = "ed25519";

pub async fn require_signature(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let correlation = request
        .extensions()
        .get::<CorrelationId>()
        .map(|c| c.0.clone())
        .unwrap_or_default();
    let path = request.uri().path().to_string();
    match verify(&state, request, &correlation).await {
        Ok(request) => next.run(request).await,
        Err((error, reason, kiosk)) => {
            if let Some(reason) = reason {
                let ctx = Context {
                    correlation_id: correlation,
                    kiosk_id: kiosk,
                    ..Context::default()
                };
                state
                    .core
                    .audit
                    .record(&ctx, Event::RequestRefused { reason, path }, now())
                    .await;
            }
            error.into_response()
        }
    }
}

type Refusal = (ApiError, Option<&'static str>, Option<String>);

fn unauthorized(message: &str, reason: &'static str, kiosk: Option<&str>) -> Refusal {
    (
        ApiError::new(ErrorCode::Unauthorized, message),
        Some(reason),
        kiosk.map(str::to_string),
    )
}

/// Bodies over the limit are still read (and dropped) up to this much, so the client has
/// sent everything and reads the 413 rather than a reset connection.
const DRAIN_MAX: usize = 4 * 1024 * 1024;

/// The body, or None when it is over `MAX_BODY` (or broken).
async fn read_body(mut body: axum::body::Body) -> Option<Bytes> {
    use http_body_util::BodyExt as _;
    let mut buf = bytes::BytesMut::new();
    let mut seen = 0usize;
    while let Some(frame) = body.frame().await {
        let Ok(frame) = frame else { return None };
        if let Ok(data) = frame.into_data() {
            seen += data.len();
            if seen <= MAX_BODY {
                buf.extend_from_slice(&data);
            } else if seen > DRAIN_MAX {
                return None;
            }
        }
    }
    (seen <= MAX_BODY).then(|| buf.freeze())
}

async fn verify(state: &AppState, request: Request, correlation: &str) -> Result<Request, Refusal> {
    let (parts, body) = request.into_parts();
    if !parts.headers.contains_key("signature") || !parts.headers.contains_key("signature-input") {
        return Err(unauthorized(
            "This request is not signed by an enrolled kiosk.",
            "unsigned",
            None,
        ));
    }
    let bytes = match read_body(body).await {
        Some(bytes) => bytes,
        None => {
            return Err((
                ApiError::new(
                    ErrorCode::PayloadTooLarge,
                    "The request body is too large (64 KiB at most).",
                ),
                None,
                None,
            ))
        }
    };

    // The signature covers the URI the kiosk used, which is the server's public URL.
    let path_and_query = parts
        .uri
        .path_and_query()
        .map(|p| p.as_str())
        .unwrap_or("/");
    let target = format!("{}{}", state.core.config().public_origin(), path_and_query);
    let signed = rfc9421::read(&rfc9421::Message {
        method: parts.method.as_str(),
        target_uri: &target,
        headers: &parts.headers,
    })
    .map_err(|u| unauthorized(u.message, u.reason, None))?;
    let params = &signed.params;
    let kiosk_id = params
        .keyid
        .clone()
        .filter(|k| k.len() <= 64)
        .ok_or_else(|| unauthorized("The request signature names no kiosk.", "no_keyid", None))?;
    let kid = Some(kiosk_id.as_str());
    let mut needed: Vec<&str> = REQUIRED.to_vec();
    if !bytes.is_empty() {
        needed.push(DIGEST);
    }
    // A key that stands for the request is signed with it.
    if parts.headers.contains_key(super::idempotency::HEADER) {
        needed.push(super::idempotency::HEADER);
    }
    if needed
        .iter()
        .any(|n| !params.covered.iter().any(|c| c == n))
    {
        return Err(unauthorized(
            "The request signature must cover @method, @target-uri, content-digest (with a body) and idempotency-key (when sent).",
            "components_missing",
            kid,
        ));
    }
    // The key decides the algorithm; a signature that names another is refused (RFC 9421
    // §3.2, step 5), never checked as if it were ours.
    if params.alg.as_deref().is_some_and(|a| a != ALG) {
        return Err(unauthorized(
            "The request signature names an algorithm other than the kiosk's key (ed25519).",
            "alg_mismatch",
            kid,
        ));
    }
    let now = now();
    let skew = state.core.config().kiosk.signature_max_skew_secs as i64;
    match params.created {
        Some(c) if (now - c).abs() <= skew => {}
        _ => {
            return Err(unauthorized(
                "The request signature is too old or from the future; check the kiosk's clock.",
                "stale",
                kid,
            ))
        }
    }
    if params.expires.is_some_and(|e| e < now) {
        return Err(unauthorized(
            "The request signature has expired; check the kiosk's clock.",
            "expired",
            kid,
        ));
    }
    let nonce = params
        .nonce
        .clone()
        .filter(|n| !n.is_empty() && n.len() <= 128)
        .ok_or_else(|| unauthorized("The request signature has no nonce.", "no_nonce", kid))?;

    let cached = state
        .kiosks
        .get(&state.core.store, &kiosk_id, now)
        .await
        .map_err(|e| (ApiError::from(e), None, None))?;
    let Some(cached) = cached else {
        return Err(unauthorized(
            "This kiosk is not enrolled.",
            "unknown_kiosk",
            None,
        ));
    };
    let kiosk = &*cached.row;
    if kiosk.revoked_at.is_some() {
        return Err((
            ApiError::new(ErrorCode::KioskRevoked, "This kiosk is out of service."),
            Some("kiosk_revoked"),
            Some(kiosk.id.clone()),
        ));
    }
    if kiosk.public_key.is_none() {
        return Err(unauthorized(
            "This kiosk is not enrolled.",
            "not_enrolled",
            kid,
        ));
    };
    let key = cached.key.as_ref().ok_or_else(|| {
        unauthorized(
            "This kiosk's key is unusable; enroll it again.",
            "bad_key",
            kid,
        )
    })?;
    if !key.verify(signed.base.as_bytes(), &signed.signature) {
        return Err(unauthorized(
            "The request signature is not valid.",
            "bad_signature",
            kid,
        ));
    }
    let covers_digest = params.covered.iter().any(|c| c == DIGEST);
    if (covers_digest || !bytes.is_empty()) && !rfc9421::digest_matches(&parts.headers, &bytes) {
        return Err(unauthorized(
            "The body does not match its content-digest.",
            "bad_digest",
            kid,
        ));
    }
    // Last, so only a valid signature spends its nonce.
    let fresh = state
        .core
        .store
        .remember_nonce(&kiosk.id, &nonce, now, 2 * skew + 60)
        .await
        .map_err(|e| (ApiError::from(e), None, None))?;
    if !fresh {
        return Err(unauthorized(
            "This request was sent before (replayed).",
            "replayed",
            kid,
        ));
    }

    if let Some(version) = parts
        .headers
        .get(axum::http::header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .and_then(crate::kiosks::version_of)
    {
        state
            .kiosks
            .saw_version(&state.core.store, kiosk, version)
            .await;
    }
    let mut request = Request::from_parts(parts, Body::from(bytes));
    request.extensions_mut().insert(Caller {
        kiosk_id: kiosk.id.clone(),
        kiosk_name: kiosk.name.clone(),
        kiosk_location: kiosk.location.clone(),
        correlation_id: correlation.to_string(),
    });
    Ok(request)
}
