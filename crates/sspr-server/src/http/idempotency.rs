//! Idempotency-Key (draft-ietf-httpapi-idempotency-key-header) on signed kiosk calls: a
//! kiosk that got no answer (a network timeout) sends the request again with a new
//! signature and the same key, and gets the first request's answer: no second code email,
//! no second write to the directory. A repeat that arrives while the first is still being
//! handled waits for its answer. Answers the server failed to give (5xx) are not kept, so a
//! repeat then runs again.

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http_body_util::BodyExt as _;
use sspr_proto::ErrorCode;

use super::AppState;
use crate::clock::now;
use crate::error::ApiError;
use crate::flow::Caller;
use crate::store::Claim;

pub const HEADER: &str = "idempotency-key";
/// How long a repeat waits for the first request's answer (a directory's timeout is at
/// most two minutes; a kiosk gives up after 30 s).
const WAIT_SECS: u64 = 60;
/// Longest answer kept (every kiosk answer is a small JSON document).
const MAX_KEPT: usize = 64 * 1024;
/// What kept answers are sealed for (`ServerKey::seal`), bound to kiosk and key.
const SEALED_FOR: &str = "idempotency-answer";

/// The key as sent: an sf-string (`"…"`), or a bare token; 1 to 128 visible characters.
fn parse_key(value: &HeaderValue) -> Option<String> {
    let s = value.to_str().ok()?;
    let key = match sfv::Parser::new(s).parse::<sfv::Item>() {
        Ok(item) => match item.bare_item {
            sfv::BareItem::String(v) => v.as_str().to_string(),
            sfv::BareItem::Token(t) => t.as_str().to_string(),
            _ => return None,
        },
        Err(_) => return None,
    };
    ((1..=128).contains(&key.len()) && key.bytes().all(|b| b.is_ascii_graphic())).then_some(key)
}

fn replayed(status: u16, body: Vec<u8>) -> Response {
    // The first answer's Retry-After comes back with it (it is in the body too).
    let retry_after = serde_json::from_slice::<sspr_proto::ErrorBody>(&body)
        .ok()
        .and_then(|e| e.retry_after_secs);
    let empty = body.is_empty();
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
    if !empty {
        response.headers_mut().insert(
            axum::http::header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
    }
    if let Some(secs) = retry_after.and_then(|s| HeaderValue::from_str(&s.to_string()).ok()) {
        response
            .headers_mut()
            .insert(axum::http::header::RETRY_AFTER, secs);
    }
    response
        .headers_mut()
        .insert("idempotent-replayed", HeaderValue::from_static("?1"));
    response
}

pub async fn idempotent(State(state): State<AppState>, request: Request, next: Next) -> Response {
    if !matches!(*request.method(), Method::POST | Method::DELETE) {
        return next.run(request).await;
    }
    let Some(value) = request.headers().get(HEADER) else {
        return next.run(request).await;
    };
    let Some(key) = parse_key(value) else {
        return ApiError::bad_request(
            "The Idempotency-Key must be a string of 1 to 128 visible characters.",
        )
        .into_response();
    };
    let Some(kiosk) = request
        .extensions()
        .get::<Caller>()
        .map(|c| c.kiosk_id.clone())
    else {
        return next.run(request).await;
    };
    // The key stands for this request: the same path and body. Both are kept only keyed
    // (a body may hold a new password) and sealed (an answer may hold an approval's
    // token), so a copy of the store tells nothing without the server's key.
    let (parts, body) = request.into_parts();
    let bytes = match body.collect().await {
        Ok(b) => b.to_bytes(),
        Err(_) => {
            return ApiError::bad_request("The request body could not be read.").into_response()
        }
    };
    let server_key = &state.core.key;
    let request_hash = server_key.mac_hex(
        "idempotency-request",
        &[
            kiosk.as_bytes(),
            parts.method.as_str().as_bytes(),
            parts.uri.path().as_bytes(),
            &bytes,
        ],
    );
    let owner = format!("{kiosk}/{key}");
    let store = &state.core.store;

    let started = std::time::Instant::now();
    loop {
        match store.claim_idempotent(&kiosk, &key, &request_hash, now()).await {
            Err(e) => return ApiError::from(e).into_response(),
            Ok(Claim::Answered { status, body }) => {
                let opened = String::from_utf8(body)
                    .ok()
                    .and_then(|sealed| server_key.open(SEALED_FOR, &owner, &sealed));
                return match opened {
                    Some(body) => replayed(
                        status,
                        secrecy::ExposeSecret::expose_secret(&body).as_bytes().to_vec(),
                    ),
                    None => {
                        ApiError::internal(crate::error::Internal::new(
                            "replaying a kept answer",
                            "it doesn't open with this server's key",
                        ))
                        .into_response()
                    }
                };
            }
            Ok(Claim::Mismatch) => {
                return ApiError::bad_request(
                    "This Idempotency-Key was used for another request; use a new key for a new request.",
                )
                .into_response()
            }
            Ok(Claim::InProgress) if started.elapsed().as_secs() < WAIT_SECS => {
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
            Ok(Claim::InProgress) => {
                return ApiError::new(
                    ErrorCode::StepNotAllowed,
                    "The same request is still being handled. Please wait a moment.",
                )
                .into_response()
            }
            Ok(Claim::First) => break,
        }
    }

    let response = next
        .run(Request::from_parts(parts, Body::from(bytes)))
        .await;
    let status = response.status();
    let (parts, body) = response.into_parts();
    let body: Bytes = match body.collect().await {
        Ok(b) => b.to_bytes(),
        Err(_) => Bytes::new(),
    };
    let text = std::str::from_utf8(&body).ok();
    let kept = match text {
        Some(text) if !status.is_server_error() && body.len() <= MAX_KEPT => {
            let sealed = server_key.seal(SEALED_FOR, &owner, text);
            store
                .finish_idempotent(&kiosk, &key, status.as_u16(), sealed.into_bytes())
                .await
        }
        _ => store.release_idempotent(&kiosk, &key).await,
    };
    if let Err(e) = kept {
        tracing::warn!(error = %e, "keeping a request's answer for its Idempotency-Key failed");
    }
    Response::from_parts(parts, Body::from(body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_strings_or_tokens_of_visible_characters() {
        let k =
            |s: &str| parse_key(&HeaderValue::from_str(s).unwrap_or(HeaderValue::from_static("")));
        assert_eq!(k("\"8e03978e-40d5\"").as_deref(), Some("8e03978e-40d5"));
        assert_eq!(k("abc123").as_deref(), Some("abc123"));
        assert_eq!(k("\"\""), None);
        assert_eq!(k("42"), None);
        assert_eq!(k(&format!("\"{}\"", "x".repeat(129))), None);
        assert_eq!(k("\"a b\""), None);
    }
}
