//! The admin console's endpoints (`/v1/admin/*`): each reads the session cookie (and, on
//! POST, PUT and DELETE, the `X-CSRF-Token` header), hands the request to
//! `console::Console` with the time and where it came from, and writes the answer.

use std::net::SocketAddr;

use axum::body::Body;
use axum::extract::connect_info::ConnectInfo;
use axum::extract::{FromRequestParts, Path, RawQuery, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use secrecy::SecretString;
use sspr_proto::{
    AttemptView, AuditPage, ClearMethodsRequest, ClearMethodsResult, ConsolePasskeyAnswer,
    ConsoleSession, ConsoleSignInRequest, CoverageView, DirectoryStatus, EnrollmentCodeRequest,
    EnrollmentCodeStatus, EnrollmentCodeView, ErrorBody, InsightsView, KioskView, Overview,
    PasskeyRequest, PolicyChange, PolicyView,
};

use super::json::Json;
use super::{AppState, CorrelationId};
use crate::clock::now;
use crate::console::{Bucket, Caller, Range, IDLE_SECS, MAX_SECS};
use crate::error::{ApiError, ApiResult};
use crate::store::AuditFilter;

const COOKIE: &str = "sspr_console";
const CSRF_HEADER: &str = "x-csrf-token";

/// Where a request came from, for the audit: the peer's address, or, when the peer is a
/// reverse proxy on this host, the last address it put in `X-Forwarded-For` (the one it
/// saw; what a client wrote before that can't be trusted).
pub struct Peer(pub String);

impl<S: Send + Sync> FromRequestParts<S> for Peer {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip());
        let forwarded = parts
            .headers
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.rsplit(',').next())
            .map(str::trim)
            .and_then(|v| v.parse::<std::net::IpAddr>().ok());
        let from = match (peer, forwarded) {
            (Some(p), Some(f)) if p.is_loopback() => f.to_string(),
            (Some(p), _) => p.to_string(),
            (None, _) => "unknown".to_string(),
        };
        Ok(Peer(from))
    }
}

/// The session cookie's value, among the request's cookies (empty when there is none).
fn cookie(headers: &HeaderMap) -> String {
    super::cookie_named(headers, COOKIE)
}

fn set_cookie(headers: &mut HeaderMap, value: &str, max_age: i64, secure: bool) {
    let cookie = format!(
        "{COOKIE}={value}; Path=/v1/admin; HttpOnly; SameSite=Strict; Max-Age={max_age}{}",
        if secure { "; Secure" } else { "" }
    );
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        headers.insert(header::SET_COOKIE, v);
    }
}

/// The caller of this request's session; a state-changing call must carry its CSRF token.
async fn caller(
    state: &AppState,
    headers: &HeaderMap,
    mutating: bool,
    correlation: &CorrelationId,
    from: &Peer,
) -> ApiResult<Caller> {
    let csrf = mutating.then(|| {
        headers
            .get(CSRF_HEADER)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    });
    Ok(state
        .console
        .caller(&cookie(headers), csrf, &correlation.0, &from.0, now())
        .await?)
}

#[utoipa::path(post, path = "/v1/admin/sign-in", tag = "console",
    request_body = ConsoleSignInRequest,
    responses((status = 200, description = "A passkey request, whatever the password was (the passkey step fails alike for every reason); sets a pending session cookie", body = PasskeyRequest),
        (status = 400, description = "No login or password, or one too long", body = ErrorBody),
        (status = 403, description = "Passkeys are off on this server", body = ErrorBody),
        (status = 429, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub async fn sign_in(
    State(state): State<AppState>,
    Json(req): Json<ConsoleSignInRequest>,
) -> ApiResult<(HeaderMap, axum::Json<PasskeyRequest>)> {
    let step = state
        .console
        .sign_in(&req.login, SecretString::from(req.password), now())
        .await?;
    let mut headers = HeaderMap::new();
    set_cookie(
        &mut headers,
        &step.cookie,
        5 * 60,
        state.console.secure_cookie(),
    );
    Ok((headers, axum::Json(step.passkey)))
}

#[utoipa::path(post, path = "/v1/admin/sign-in/passkey", tag = "console",
    request_body = ConsolePasskeyAnswer,
    responses((status = 200, description = "Signed in; a new session cookie", body = ConsoleSession),
        (status = 401, description = "The login, password or passkey wasn't right, or the account can't use the console (one answer)", body = ErrorBody),
        (status = 429, body = ErrorBody)))]
pub async fn sign_in_passkey(
    State(state): State<AppState>,
    Extension(correlation): Extension<CorrelationId>,
    from: Peer,
    headers: HeaderMap,
    Json(req): Json<ConsolePasskeyAnswer>,
) -> ApiResult<(HeaderMap, axum::Json<ConsoleSession>)> {
    let signed = state
        .console
        .sign_in_passkey(
            &correlation.0,
            &from.0,
            &cookie(&headers),
            &req.credential,
            now(),
        )
        .await?;
    let mut out = HeaderMap::new();
    set_cookie(
        &mut out,
        &signed.cookie,
        MAX_SECS.min(IDLE_SECS * 32),
        state.console.secure_cookie(),
    );
    Ok((out, axum::Json(signed.view)))
}

#[utoipa::path(get, path = "/v1/admin/session", tag = "console",
    responses((status = 200, body = ConsoleSession), (status = 401, body = ErrorBody)))]
pub async fn session(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> ApiResult<axum::Json<ConsoleSession>> {
    Ok(axum::Json(
        state.console.session(&cookie(&headers), now()).await?,
    ))
}

#[utoipa::path(post, path = "/v1/admin/sign-out", tag = "console",
    responses((status = 204, description = "Signed out"), (status = 401, body = ErrorBody),
        (status = 403, description = "No or a stale CSRF token", body = ErrorBody)))]
pub async fn sign_out(
    State(state): State<AppState>,
    Extension(correlation): Extension<CorrelationId>,
    from: Peer,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let who = caller(&state, &headers, true, &correlation, &from).await?;
    state
        .console
        .sign_out(&who, &cookie(&headers), now())
        .await?;
    let mut r = StatusCode::NO_CONTENT.into_response();
    set_cookie(r.headers_mut(), "", 0, state.console.secure_cookie());
    Ok(r)
}

#[utoipa::path(post, path = "/v1/admin/reauth/start", tag = "console",
    responses((status = 200, description = "A passkey request", body = PasskeyRequest),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn reauth_start(
    State(state): State<AppState>,
    Extension(correlation): Extension<CorrelationId>,
    from: Peer,
    headers: HeaderMap,
) -> ApiResult<axum::Json<PasskeyRequest>> {
    let who = caller(&state, &headers, true, &correlation, &from).await?;
    Ok(axum::Json(
        state
            .console
            .reauth_start(&who, &cookie(&headers), now())
            .await?,
    ))
}

#[utoipa::path(post, path = "/v1/admin/reauth/finish", tag = "console",
    request_body = ConsolePasskeyAnswer,
    responses((status = 200, description = "The passkey was checked again", body = ConsoleSession),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 409, description = "No check was asked for", body = ErrorBody),
        (status = 422, description = "The passkey didn't verify (the session stays)", body = ErrorBody)))]
pub async fn reauth_finish(
    State(state): State<AppState>,
    Extension(correlation): Extension<CorrelationId>,
    from: Peer,
    headers: HeaderMap,
    Json(req): Json<ConsolePasskeyAnswer>,
) -> ApiResult<axum::Json<ConsoleSession>> {
    let who = caller(&state, &headers, true, &correlation, &from).await?;
    Ok(axum::Json(
        state
            .console
            .reauth_finish(&who, &cookie(&headers), &req.credential, now())
            .await?,
    ))
}

#[utoipa::path(get, path = "/v1/admin/overview", tag = "console",
    responses((status = 200, body = Overview), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn overview(
    State(state): State<AppState>,
    Extension(correlation): Extension<CorrelationId>,
    from: Peer,
    headers: HeaderMap,
) -> ApiResult<axum::Json<Overview>> {
    let who = caller(&state, &headers, false, &correlation, &from).await?;
    Ok(axum::Json(state.console.overview(&who, now()).await?))
}

#[utoipa::path(get, path = "/v1/admin/policy", tag = "console",
    responses((status = 200, body = PolicyView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn policy(
    State(state): State<AppState>,
    Extension(correlation): Extension<CorrelationId>,
    from: Peer,
    headers: HeaderMap,
) -> ApiResult<axum::Json<PolicyView>> {
    let who = caller(&state, &headers, false, &correlation, &from).await?;
    Ok(axum::Json(state.console.policy(&who).await?))
}

#[utoipa::path(put, path = "/v1/admin/policy", tag = "console",
    request_body = PolicyChange,
    responses((status = 200, description = "Saved as a new version (or nothing changed)", body = PolicyView),
        (status = 401, description = "No session, or the passkey must be checked again (reauth_required)", body = ErrorBody),
        (status = 403, description = "No or a stale CSRF token; not an admin; the policy is read-only here", body = ErrorBody),
        (status = 409, description = "Another version was saved meanwhile", body = ErrorBody),
        (status = 422, description = "Nobody could pass it, or a value is out of range: `problems` says why", body = ErrorBody)))]
pub async fn save_policy(
    State(state): State<AppState>,
    Extension(correlation): Extension<CorrelationId>,
    from: Peer,
    headers: HeaderMap,
    Json(req): Json<PolicyChange>,
) -> ApiResult<axum::Json<PolicyView>> {
    let who = caller(&state, &headers, true, &correlation, &from).await?;
    Ok(axum::Json(
        state.console.save_policy(&who, req, now()).await?,
    ))
}

#[utoipa::path(get, path = "/v1/admin/groups", tag = "console",
    params(("q" = String, Query, description = "Part of a group's name")),
    responses((status = 200, description = "Up to 20 groups whose name contains q", body = [String]),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 503, body = ErrorBody)))]
pub async fn groups(
    State(state): State<AppState>,
    Extension(correlation): Extension<CorrelationId>,
    from: Peer,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> ApiResult<axum::Json<Vec<String>>> {
    let who = caller(&state, &headers, false, &correlation, &from).await?;
    let q = url::form_urlencoded::parse(raw.unwrap_or_default().as_bytes())
        .find(|(k, _)| k == "q")
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default();
    Ok(axum::Json(state.console.groups(&who, &q).await?))
}

#[utoipa::path(get, path = "/v1/admin/kiosks", tag = "console",
    responses((status = 200, body = [KioskView]), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn kiosks(
    State(state): State<AppState>,
    Extension(correlation): Extension<CorrelationId>,
    from: Peer,
    headers: HeaderMap,
) -> ApiResult<axum::Json<Vec<KioskView>>> {
    let who = caller(&state, &headers, false, &correlation, &from).await?;
    Ok(axum::Json(state.console.kiosks(&who, now()).await?))
}

#[utoipa::path(post, path = "/v1/admin/kiosks/{id}/revoke", tag = "console",
    params(("id" = String, Path)),
    responses((status = 200, description = "Revoked (its next request is refused)", body = KioskView),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn revoke_kiosk(
    State(state): State<AppState>,
    Extension(correlation): Extension<CorrelationId>,
    from: Peer,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<KioskView>> {
    let who = caller(&state, &headers, true, &correlation, &from).await?;
    Ok(axum::Json(
        state.console.revoke_kiosk(&who, &id, now()).await?,
    ))
}

#[utoipa::path(post, path = "/v1/admin/kiosks/enrollment-codes", tag = "console",
    request_body = EnrollmentCodeRequest,
    responses((status = 200, description = "A one-time code for a new kiosk, or (with uses) a staging code for several PCs", body = EnrollmentCodeView),
        (status = 400, description = "A bad name, location, number of PCs or lifetime; nothing was made", body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn enrollment_code(
    State(state): State<AppState>,
    Extension(correlation): Extension<CorrelationId>,
    from: Peer,
    headers: HeaderMap,
    Json(req): Json<EnrollmentCodeRequest>,
) -> ApiResult<axum::Json<EnrollmentCodeView>> {
    let who = caller(&state, &headers, true, &correlation, &from).await?;
    Ok(axum::Json(
        state.console.enrollment_code(&who, &req, now()).await?,
    ))
}

#[utoipa::path(get, path = "/v1/admin/kiosks/enrollment-codes", tag = "console",
    responses((status = 200, description = "Staging codes, newest first, with the PCs each may still enroll", body = [EnrollmentCodeStatus]),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn enrollment_codes(
    State(state): State<AppState>,
    Extension(correlation): Extension<CorrelationId>,
    from: Peer,
    headers: HeaderMap,
) -> ApiResult<axum::Json<Vec<EnrollmentCodeStatus>>> {
    let who = caller(&state, &headers, false, &correlation, &from).await?;
    Ok(axum::Json(
        state.console.enrollment_codes(&who, now()).await?,
    ))
}

/// The audit's filters from a query string: login, kiosk, event, outcome, reference, since
/// and until (RFC 3339), before (an id), limit, format.
struct AuditQuery {
    filter: AuditFilter,
    before: Option<i64>,
    limit: Option<i64>,
    format: String,
}

fn audit_query(raw: Option<&str>) -> ApiResult<AuditQuery> {
    let mut q = AuditQuery {
        filter: AuditFilter::default(),
        before: None,
        limit: None,
        format: "csv".into(),
    };
    let time = |name: &str, v: &str| -> ApiResult<i64> {
        time::OffsetDateTime::parse(v, &time::format_description::well_known::Rfc3339)
            .map(|t| t.unix_timestamp())
            .map_err(|_| {
                ApiError::bad_request(format!(
                    "{name}: use RFC 3339, such as 2026-12-07T08:00:00Z."
                ))
            })
    };
    let number = |name: &str, v: &str| -> ApiResult<i64> {
        v.parse()
            .map_err(|_| ApiError::bad_request(format!("{name}: expected a whole number.")))
    };
    for (k, v) in url::form_urlencoded::parse(raw.unwrap_or_default().as_bytes()) {
        let v = v.trim().to_string();
        if v.is_empty() {
            continue;
        }
        match k.as_ref() {
            "login" => q.filter.login = Some(v),
            "kiosk" => q.filter.kiosk = Some(v),
            "event" => q.filter.event = Some(v),
            "outcome" => q.filter.outcome = Some(v),
            "reference" => q.filter.reference = Some(v.to_uppercase()),
            "since" => q.filter.since = Some(time("since", &v)?),
            "until" => q.filter.until = Some(time("until", &v)?),
            "before" => q.before = Some(number("before", &v)?),
            "limit" => q.limit = Some(number("limit", &v)?),
            "format" if v == "csv" || v == "json" => q.format = v,
            "format" => return Err(ApiError::bad_request("format is csv or json.")),
            other => {
                return Err(ApiError::bad_request(format!(
                    "Unknown filter {:?}: use login, kiosk, event, outcome, reference, since, until, before, limit.",
                    other.chars().take(40).collect::<String>()
                )))
            }
        }
    }
    Ok(q)
}

#[utoipa::path(get, path = "/v1/admin/audit", tag = "console",
    params(("login" = Option<String>, Query), ("kiosk" = Option<String>, Query), ("event" = Option<String>, Query),
        ("outcome" = Option<String>, Query, description = "success or failure"), ("reference" = Option<String>, Query),
        ("since" = Option<String>, Query, description = "RFC 3339"), ("until" = Option<String>, Query, description = "RFC 3339"),
        ("before" = Option<i64>, Query, description = "Rows with ids below this (the previous page's next_before)"),
        ("limit" = Option<i64>, Query, description = "1 to 500 (100)")),
    responses((status = 200, body = AuditPage), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn audit(
    State(state): State<AppState>,
    Extension(correlation): Extension<CorrelationId>,
    from: Peer,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> ApiResult<axum::Json<AuditPage>> {
    let who = caller(&state, &headers, false, &correlation, &from).await?;
    let q = audit_query(raw.as_deref())?;
    Ok(axum::Json(
        state
            .console
            .audit_page(&who, &q.filter, q.before, q.limit)
            .await?,
    ))
}

#[utoipa::path(get, path = "/v1/admin/audit/export", tag = "console",
    params(("format" = Option<String>, Query, description = "csv (the default) or json (one object a line)"),
        ("login" = Option<String>, Query), ("kiosk" = Option<String>, Query), ("event" = Option<String>, Query),
        ("outcome" = Option<String>, Query), ("reference" = Option<String>, Query),
        ("since" = Option<String>, Query), ("until" = Option<String>, Query)),
    responses((status = 200, description = "Every matching row, newest first, streamed", content_type = "text/csv"),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn audit_export(
    State(state): State<AppState>,
    Extension(correlation): Extension<CorrelationId>,
    from: Peer,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> ApiResult<Response> {
    let who = caller(&state, &headers, false, &correlation, &from).await?;
    let q = audit_query(raw.as_deref())?;
    let kiosks = state
        .console
        .export_start(&who, &q.filter, &q.format, now())
        .await?;
    let csv = q.format == "csv";
    let console = state.console.clone();
    let filter = q.filter;
    // One slice of rows at a time: constant memory, however many rows match.
    let stream = futures::stream::unfold((Some(None::<i64>), true), move |(before, first)| {
        let console = console.clone();
        let filter = filter.clone();
        let kiosks = kiosks.clone();
        async move {
            let before = before?;
            let rows = match console.export_slice(&filter, before, &kiosks).await {
                Ok(rows) => rows,
                Err(_) => {
                    return Some((
                        Err(std::io::Error::other("the audit export stopped")),
                        (None, false),
                    ))
                }
            };
            let mut out = String::new();
            if first && csv {
                out.push_str(crate::console::CSV_HEADER);
            }
            for e in &rows {
                if csv {
                    out.push_str(&crate::console::csv_row(e));
                } else {
                    out.push_str(&serde_json::to_string(e).unwrap_or_default());
                    out.push('\n');
                }
            }
            // A short slice was the last: asking again would only scan the older rows
            // for matches that aren't there.
            let next = if (rows.len() as i64) < crate::console::EXPORT_SLICE {
                None
            } else {
                rows.last().map(|e| Some(e.id))
            };
            if out.is_empty() {
                return None;
            }
            Some((
                Ok::<_, std::io::Error>(bytes::Bytes::from(out)),
                (next, false),
            ))
        }
    });
    let mut r = Response::new(Body::from_stream(stream));
    let (ctype, ext) = if csv {
        ("text/csv; charset=utf-8", "csv")
    } else {
        ("application/x-ndjson", "jsonl")
    };
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(ctype));
    if let Ok(v) = HeaderValue::from_str(&format!(
        "attachment; filename=\"sspr-audit-{}.{ext}\"",
        crate::audit::rfc3339(now()).replace(':', "")
    )) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(r)
}

#[utoipa::path(get, path = "/v1/admin/attempts/{reference}", tag = "console",
    params(("reference" = String, Path, description = "The code the kiosk showed, e.g. K7Q4-M2XD")),
    responses((status = 200, body = AttemptView), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn attempt(
    State(state): State<AppState>,
    Extension(correlation): Extension<CorrelationId>,
    from: Peer,
    headers: HeaderMap,
    Path(reference): Path<String>,
) -> ApiResult<axum::Json<AttemptView>> {
    let who = caller(&state, &headers, false, &correlation, &from).await?;
    Ok(axum::Json(
        state.console.attempt(&who, &reference, now()).await?,
    ))
}

#[utoipa::path(post, path = "/v1/admin/people/{login}/clear-methods", tag = "console",
    params(("login" = String, Path)),
    request_body = ClearMethodsRequest,
    responses((status = 200, description = "Every method removed; the person is told", body = ClearMethodsResult),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub async fn clear_methods(
    State(state): State<AppState>,
    Extension(correlation): Extension<CorrelationId>,
    from: Peer,
    headers: HeaderMap,
    Path(login): Path<String>,
    Json(req): Json<ClearMethodsRequest>,
) -> ApiResult<axum::Json<ClearMethodsResult>> {
    let who = caller(&state, &headers, true, &correlation, &from).await?;
    let user = state
        .console
        .clear_methods_for(&who, &login, &req.reason)
        .await?;
    let removed = state.my.clear_methods(&user, now()).await?;
    state
        .console
        .methods_cleared(&who, &user, &req.reason, removed, now())
        .await;
    Ok(axum::Json(ClearMethodsResult {
        removed: removed as u32,
    }))
}

#[utoipa::path(get, path = "/v1/admin/insights", tag = "console",
    params(("from" = Option<String>, Query, description = "RFC 3339 (30 days ago)"),
        ("to" = Option<String>, Query, description = "RFC 3339 (now)"),
        ("bucket" = Option<String>, Query, description = "day (the default), week or month"),
        ("kiosk" = Option<String>, Query, description = "A kiosk's id"),
        ("directory" = Option<String>, Query, description = "A directory's name"),
        ("group" = Option<String>, Query, description = "Only the flows of this group's members")),
    responses((status = 200, body = InsightsView), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn insights(
    State(state): State<AppState>,
    Extension(correlation): Extension<CorrelationId>,
    from: Peer,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> ApiResult<axum::Json<InsightsView>> {
    let who = caller(&state, &headers, false, &correlation, &from).await?;
    let t = now();
    let mut range = Range {
        from: t - 30 * 86_400,
        to: t,
        bucket: Bucket::Day,
        kiosk: None,
        directory: None,
        group: None,
    };
    for (k, v) in url::form_urlencoded::parse(raw.unwrap_or_default().as_bytes()) {
        let v = v.trim().to_string();
        if v.is_empty() {
            continue;
        }
        match k.as_ref() {
            "from" => range.from = rfc3339_param("from", &v)?,
            "to" => range.to = rfc3339_param("to", &v)?,
            "bucket" => {
                range.bucket = Bucket::parse(&v)
                    .ok_or_else(|| ApiError::bad_request("bucket is day, week or month."))?
            }
            "kiosk" => range.kiosk = Some(v),
            "directory" => range.directory = Some(v),
            "group" => range.group = Some(v),
            other => {
                return Err(ApiError::bad_request(format!(
                    "Unknown parameter {:?}: use from, to, bucket, kiosk, directory, group.",
                    other.chars().take(40).collect::<String>()
                )))
            }
        }
    }
    Ok(axum::Json(state.console.insights(&who, &range, t).await?))
}

#[utoipa::path(get, path = "/v1/admin/coverage", tag = "console",
    params(("format" = Option<String>, Query, description = "json (the default), or csv: the people who can't pass")),
    responses((status = 200, body = CoverageView), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub async fn coverage(
    State(state): State<AppState>,
    Extension(correlation): Extension<CorrelationId>,
    from: Peer,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> ApiResult<Response> {
    let who = caller(&state, &headers, false, &correlation, &from).await?;
    let mut csv = false;
    for (k, v) in url::form_urlencoded::parse(raw.unwrap_or_default().as_bytes()) {
        match (k.as_ref(), v.as_ref()) {
            ("format", "csv") => csv = true,
            ("format", "json") => csv = false,
            _ => return Err(ApiError::bad_request("Only format=json or format=csv.")),
        }
    }
    let view = state.console.coverage(&who).await?;
    if !csv {
        return Ok(axum::Json(view).into_response());
    }
    let mut r = crate::console::coverage_csv(&view).into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    h.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_static("attachment; filename=\"sspr-not-ready.csv\""),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(r)
}

fn rfc3339_param(name: &str, v: &str) -> ApiResult<i64> {
    time::OffsetDateTime::parse(v, &time::format_description::well_known::Rfc3339)
        .map(|t| t.unix_timestamp())
        .map_err(|_| {
            ApiError::bad_request(format!(
                "{name}: use RFC 3339, such as 2026-12-07T08:00:00Z."
            ))
        })
}

#[utoipa::path(get, path = "/v1/admin/directories", tag = "console",
    responses((status = 200, body = [DirectoryStatus]), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn directories(
    State(state): State<AppState>,
    Extension(correlation): Extension<CorrelationId>,
    from: Peer,
    headers: HeaderMap,
) -> ApiResult<axum::Json<Vec<DirectoryStatus>>> {
    let who = caller(&state, &headers, false, &correlation, &from).await?;
    Ok(axum::Json(state.console.directories(&who).await?))
}

#[utoipa::path(post, path = "/v1/admin/directories/{name}/test", tag = "console",
    params(("name" = String, Path)),
    responses((status = 200, description = "The directory's state now", body = DirectoryStatus),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn test_directory(
    State(state): State<AppState>,
    Extension(correlation): Extension<CorrelationId>,
    from: Peer,
    headers: HeaderMap,
    Path(name): Path<String>,
) -> ApiResult<axum::Json<DirectoryStatus>> {
    let who = caller(&state, &headers, true, &correlation, &from).await?;
    Ok(axum::Json(
        state.console.test_directory(&who, &name, now()).await?,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_audit_query_is_read_and_bad_values_are_refused() {
        let q = audit_query(Some(
            "login=ada&since=2026-12-01T00:00:00Z&outcome=failure&before=42&reference=k7q4-m2xd",
        ))
        .expect("parses");
        assert_eq!(q.filter.login.as_deref(), Some("ada"));
        assert_eq!(q.filter.since, Some(1_796_083_200));
        assert_eq!(q.filter.reference.as_deref(), Some("K7Q4-M2XD"));
        assert_eq!(q.before, Some(42));
        assert!(audit_query(Some("since=yesterday")).is_err());
        assert!(audit_query(Some("nope=1")).is_err());
        assert!(audit_query(Some("format=xml")).is_err());
        assert!(audit_query(None).is_ok());
    }
}
