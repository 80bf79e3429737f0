//! The pages the server serves to people's phones and browsers: the approval page
//! (`/a/<token>`), "My security info" (`/my`) and the admin console (`/admin`). Plain HTML, one script and one style
//! sheet each, built from `crates/sspr-server/web/src` by `cargo xtask gen` and embedded.

use std::io::Write as _;
use std::sync::OnceLock;

use axum::body::Body;
use axum::http::{header, HeaderMap, HeaderValue};
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

pub async fn admin_js(headers: HeaderMap) -> Response {
    static GZ: OnceLock<Vec<u8>> = OnceLock::new();
    script(&headers, ADMIN_JS, &GZ)
}

pub async fn admin_css() -> Response {
    respond(ADMIN_CSS, "text/css; charset=utf-8", "public, max-age=300")
}

pub async fn style() -> Response {
    respond(STYLE, "text/css; charset=utf-8", "public, max-age=300")
}

pub async fn phone_js(headers: HeaderMap) -> Response {
    static GZ: OnceLock<Vec<u8>> = OnceLock::new();
    script(&headers, PHONE_JS, &GZ)
}

pub async fn my_js(headers: HeaderMap) -> Response {
    static GZ: OnceLock<Vec<u8>> = OnceLock::new();
    script(&headers, MY_JS, &GZ)
}

/// A page's script, gzipped (once, then kept) for a browser that takes gzip: the pages
/// carry every language's texts, 100 kB of them, which compress to a fifth.
fn script(headers: &HeaderMap, text: &'static str, gz: &'static OnceLock<Vec<u8>>) -> Response {
    let mut r = respond(
        text,
        "text/javascript; charset=utf-8",
        "public, max-age=300",
    );
    r.headers_mut()
        .insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    if !takes_gzip(headers) {
        return r;
    }
    let packed = gz.get_or_init(|| {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        match e.write_all(text.as_bytes()) {
            Ok(()) => e.finish().unwrap_or_default(),
            Err(_) => Vec::new(),
        }
    });
    if !packed.is_empty() {
        *r.body_mut() = Body::from(packed.as_slice());
        r.headers_mut()
            .insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    }
    r
}

/// `Accept-Encoding` names gzip (or `*`) without `q=0`.
fn takes_gzip(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|part| {
            let mut bits = part.split(';');
            let coding = bits.next().unwrap_or("").trim();
            let refused = bits.any(|b| {
                b.trim()
                    .strip_prefix("q=")
                    .and_then(|q| q.trim().parse::<f32>().ok())
                    == Some(0.0)
            });
            (coding.eq_ignore_ascii_case("gzip") || coding == "*") && !refused
        })
}

/// A request path as logged: an approval token in a page path is not.
pub fn loggable_path(path: &str) -> String {
    match path.strip_prefix("/a/") {
        Some(_) => "/a/…".to_string(),
        None => path.to_string(),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::io::Read as _;

    use super::*;

    async fn body(r: Response) -> Vec<u8> {
        axum::body::to_bytes(r.into_body(), usize::MAX)
            .await
            .unwrap()
            .to_vec()
    }

    #[tokio::test]
    async fn scripts_go_gzipped_to_a_browser_that_takes_it_and_plain_otherwise() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::ACCEPT_ENCODING,
            HeaderValue::from_static("gzip, deflate, br"),
        );
        let r = phone_js(headers).await;
        assert_eq!(r.headers()[header::CONTENT_ENCODING], "gzip");
        assert_eq!(r.headers()[header::VARY], "accept-encoding");
        let packed = body(r).await;
        assert!(packed.len() * 3 < PHONE_JS.len(), "{} bytes", packed.len());
        let mut unpacked = String::new();
        flate2::read::GzDecoder::new(packed.as_slice())
            .read_to_string(&mut unpacked)
            .unwrap();
        assert_eq!(unpacked, PHONE_JS);

        let r = my_js(HeaderMap::new()).await;
        assert!(r.headers().get(header::CONTENT_ENCODING).is_none());
        assert_eq!(body(r).await, MY_JS.as_bytes());
        let mut refused = HeaderMap::new();
        refused.insert(
            header::ACCEPT_ENCODING,
            HeaderValue::from_static("br, gzip;q=0"),
        );
        assert!(admin_js(refused)
            .await
            .headers()
            .get(header::CONTENT_ENCODING)
            .is_none());
    }

    #[test]
    fn approval_tokens_stay_out_of_logged_paths() {
        assert_eq!(super::loggable_path("/a/AAAAAAAAAAAAAAAAAAAAAA"), "/a/…");
        assert_eq!(super::loggable_path("/v1/flows"), "/v1/flows");
    }
}
