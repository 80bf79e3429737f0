//! The OpenAPI 3.1 document, generated from the handlers and wire types (utoipa). A copy
//! is committed at `docs/openapi.json`; a test fails when it is stale.

use axum::response::IntoResponse;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::handlers;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "SSPR Kiosk API",
        version = "1",
        description = "Self-service password reset and account unlock for kiosks. Every request \
            under /v1 except /v1/kiosks/enroll is signed by the kiosk's Ed25519 key with HTTP \
            Message Signatures (RFC 9421): covered components at least @method, @target-uri \
            and content-digest (for bodies), in any order; parameters created (within 60 s), \
            nonce (single use) and keyid (the kiosk id), in any order, with alg (only \
            \"ed25519\"), expires (enforced) and tag allowed. Errors are {code, message} from \
            one closed set."
    ),
    paths(
        handlers::start_flow,
        handlers::create_challenge,
        handlers::challenge_status,
        handlers::verify,
        handlers::password_check,
        handlers::set_password,
        handlers::unlock,
        handlers::cancel,
        handlers::kiosk_settings,
        handlers::enroll,
        handlers::healthz,
        handlers::readyz,
        crate::http::metrics::on_main,
        super::approval::events,
        super::approval::open,
        super::approval::number,
        super::approval::finish,
        super::approval::deny,
        super::approval::password_check,
        super::approval::password,
        crate::http::my::sign_in,
        crate::http::my::session,
        crate::http::my::sign_out,
        crate::http::my::review,
        crate::http::my::second_start,
        crate::http::my::second_finish,
        crate::http::my::passkey_start,
        crate::http::my::passkey_finish,
        crate::http::my::authenticator_start,
        crate::http::my::authenticator_finish,
        crate::http::my::email_start,
        crate::http::my::email_finish,
        crate::http::my::mobile_start,
        crate::http::my::mobile_finish,
        crate::http::my::office_start,
        crate::http::my::office_finish,
        crate::http::my::questions,
        crate::http::my::save_questions,
        crate::http::my::remove,
        crate::http::admin::sign_in,
        crate::http::admin::sign_in_passkey,
        crate::http::admin::session,
        crate::http::admin::sign_out,
        crate::http::admin::reauth_start,
        crate::http::admin::reauth_finish,
        crate::http::admin::overview,
        crate::http::admin::policy,
        crate::http::admin::save_policy,
        crate::http::admin::groups,
        crate::http::admin::kiosks,
        crate::http::admin::revoke_kiosk,
        crate::http::admin::enrollment_code,
        crate::http::admin::enrollment_codes,
        crate::http::admin::audit,
        crate::http::admin::audit_export,
        crate::http::admin::attempt,
        crate::http::admin::clear_methods,
        crate::http::admin::insights,
        crate::http::admin::coverage,
        crate::http::admin::directories,
        crate::http::admin::test_directory,
    ),
    modifiers(&Signature, &EveryAnswer)
)]
pub struct ApiDoc;

struct Signature;

impl Modify for Signature {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        if let Some(components) = openapi.components.as_mut() {
            components.add_security_scheme(
                "kiosk_signature",
                SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                    "Signature",
                    "RFC 9421 HTTP Message Signature (with Signature-Input) by the kiosk's enrolled Ed25519 key",
                ))),
            );
        }
    }
}

/// Adds the answers every operation of a kind can give, whatever its handler does, so the
/// document lists every status a route can answer (each with the `{code, message}` body):
/// a body that isn't JSON or is too large (400, 413), a path id that isn't one (404), a
/// kiosk request unsigned, badly signed or from a revoked kiosk (401, 403, 413 before the
/// body is read), and the store failing under any of them (500).
struct EveryAnswer;

impl Modify for EveryAnswer {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::path::Operation;
        let add = |op: &mut Operation, status: &str, description: &str| {
            op.responses
                .responses
                .entry(status.to_string())
                .or_insert_with(|| error_response(description).into());
        };
        for item in openapi.paths.paths.values_mut() {
            let ops = [
                (true, item.get.as_mut()),
                (false, item.post.as_mut()),
                (false, item.put.as_mut()),
                (false, item.delete.as_mut()),
                (false, item.patch.as_mut()),
            ];
            for (is_get, op) in ops {
                let Some(op) = op else { continue };
                if op.request_body.is_some() {
                    add(
                        op,
                        "400",
                        "The body is not JSON, or not of the expected shape",
                    );
                    add(op, "413", "The body is over 64 KiB");
                }
                let has_path_params = op.parameters.as_ref().is_some_and(|ps| {
                    ps.iter()
                        .any(|p| matches!(p.parameter_in, utoipa::openapi::path::ParameterIn::Path))
                });
                if has_path_params {
                    add(op, "404", "No such item");
                }
                let signed = op.security.as_ref().is_some_and(|reqs| {
                    let json = serde_json::to_string(reqs).unwrap_or_default();
                    json.contains("kiosk_signature")
                });
                if signed && !is_get {
                    add(
                        op,
                        "400",
                        "A malformed Idempotency-Key, or one used for another request",
                    );
                    add(
                        op,
                        "409",
                        "The same request (its Idempotency-Key) is still being handled",
                    );
                    op.parameters
                        .get_or_insert_with(Vec::new)
                        .push(idempotency_key());
                }
                if signed {
                    add(
                        op,
                        "401",
                        "Unsigned, badly signed, stale, expired or replayed, or an unknown kiosk",
                    );
                    add(op, "403", "This kiosk was revoked");
                    add(op, "413", "The body is over 64 KiB");
                }
                add(
                    op,
                    "500",
                    "Something went wrong on the server; nothing was changed",
                );
            }
        }
    }
}

/// The Idempotency-Key a kiosk may send with a step (and must then sign).
fn idempotency_key() -> utoipa::openapi::path::Parameter {
    use utoipa::openapi::path::{ParameterBuilder, ParameterIn};
    use utoipa::openapi::{ObjectBuilder, Required, Type};
    ParameterBuilder::new()
        .name("Idempotency-Key")
        .parameter_in(ParameterIn::Header)
        .required(Required::False)
        .description(Some(
            "A structured-field string of 1 to 128 visible characters, covered by the \
             signature. A repeat of the request with the same key (a new signature) gets the \
             first request's answer (header `idempotent-replayed: ?1`): send one when a step \
             must not happen twice and the answer may be lost.",
        ))
        .schema(Some(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .max_length(Some(130))
                .build(),
        ))
        .build()
}

fn error_response(description: &str) -> utoipa::openapi::Response {
    use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};
    ResponseBuilder::new()
        .description(description)
        .content(
            "application/json",
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("ErrorBody")))
                .build(),
        )
        .build()
}

/// The document as committed: pretty JSON with a trailing newline.
pub fn document() -> String {
    let mut s = ApiDoc::openapi().to_pretty_json().unwrap_or_default();
    s.push('\n');
    s
}

pub async fn serve() -> impl IntoResponse {
    (
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        document(),
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn committed_openapi_document_is_current() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/openapi.json");
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        let current = super::document();
        assert!(current.contains("\"openapi\": \"3.1"), "not OpenAPI 3.1");
        assert!(
            committed == current,
            "docs/openapi.json is stale: run `cargo xtask gen` and commit the result"
        );
    }
}
