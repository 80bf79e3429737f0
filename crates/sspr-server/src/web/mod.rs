//! The pages the server serves to people's phones and browsers: the approval page
//! (`/a/<token>`), "My security info" (`/my`) and the admin console (`/admin`). Plain HTML, one script and one style
//! sheet each, built from `crates/sspr-server/web/src` by `cargo xtask gen` and embedded.

use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};

const PHONE_HTML: &str = include_str!("../../web/phone.html");
const MY_HTML: &str = include_str!("../../web/my.html");
const STYLE: &str = include_str!("../../web/style.css");
const PHONE_JS: &str = include_str!("../../web/dist/phone.js");
const MY_JS: &str = include_str!("../../web/dist/my.js");
const ADMIN_HTML: &str = include_str!("../../web/admin.html");
const ADMIN_CSS: &str = include_str!("../../web/admin.css");
const ADMIN_JS: &str = include_str!("../../web/dist/admin.js");

/// Nothing but our own script, style and requests; no framing, no referrer (the approval
/// page's URL holds its token).
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
    connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

fn respond(body: &'static str, content_type: &'static str, cache: &'static str) -> Response {
    let mut r = body.into_response();
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    r
}

/// `GET /a/{token}`: the page reads its token from its own URL.
pub async fn phone_page() -> Response {
    respond(PHONE_HTML, "text/html; charset=utf-8", "no-store")
}

/// `GET /my`
pub async fn my_page() -> Response {
    respond(MY_HTML, "text/html; charset=utf-8", "no-store")
}

/// `GET /admin`: the admin console (one page; its views are the URL's fragment).
pub async fn admin_page() -> Response {
    respond(ADMIN_HTML, "text/html; charset=utf-8", "no-store")
}

pub async fn admin_js() -> Response {
    respond(
        ADMIN_JS,
        "text/javascript; charset=utf-8",
        "public, max-age=300",
    )
}

pub async fn admin_css() -> Response {
    respond(ADMIN_CSS, "text/css; charset=utf-8", "public, max-age=300")
}

pub async fn style() -> Response {
    respond(STYLE, "text/css; charset=utf-8", "public, max-age=300")
}

pub async fn phone_js() -> Response {
    respond(
        PHONE_JS,
        "text/javascript; charset=utf-8",
        "public, max-age=300",
    )
}

pub async fn my_js() -> Response {
    respond(
        MY_JS,
        "text/javascript; charset=utf-8",
        "public, max-age=300",
    )
}

/// A request path as logged: an approval token in a page path is not.
pub fn loggable_path(path: &str) -> String {
    match path.strip_prefix("/a/") {
        Some(_) => "/a/…".to_string(),
        None => path.to_string(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn approval_tokens_stay_out_of_logged_paths() {
        assert_eq!(super::loggable_path("/a/AAAAAAAAAAAAAAAAAAAAAA"), "/a/…");
        assert_eq!(super::loggable_path("/v1/flows"), "/v1/flows");
    }
}
