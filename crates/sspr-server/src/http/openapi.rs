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
        handlers::verify,
        handlers::password_check,
        handlers::set_password,
        handlers::unlock,
        handlers::cancel,
        handlers::kiosk_settings,
        handlers::enroll,
        handlers::healthz,
        handlers::readyz,
        super::approval::events,
        super::approval::open,
        super::approval::number,
        super::approval::finish,
        super::approval::deny,
        super::approval::password_check,
        super::approval::password,
        crate::web::my::sign_in,
        crate::web::my::session,
        crate::web::my::sign_out,
        crate::web::my::review,
        crate::web::my::second_start,
        crate::web::my::second_finish,
        crate::web::my::passkey_start,
        crate::web::my::passkey_finish,
        crate::web::my::authenticator_start,
        crate::web::my::authenticator_finish,
        crate::web::my::email_start,
        crate::web::my::email_finish,
        crate::web::my::remove,
    ),
    modifiers(&Signature)
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
