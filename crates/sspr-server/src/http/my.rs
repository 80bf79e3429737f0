//! "My security info"'s endpoints: each reads the session cookie, hands the request to
//! `security_info::SecurityInfo` with the time, and writes the answer (and the cookie).

use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use secrecy::SecretString;
use sspr_proto::{
    AuthenticatorSetup, ConfirmCode, EmailStart, ErrorBody, MobileStart, MyQuestions, MySession,
    PasskeyFinish, PasskeyRequest, QuestionsSave, SecondFactorChallenge, SecondFactorFinish,
    SecondFactorStart, SignInRequest,
};

use super::json::Json;
use super::{AppState, CorrelationId};
use crate::clock::now;
use crate::error::ApiResult;
use crate::security_info::SESSION_SECS;

const COOKIE: &str = "sspr_my";

/// The session cookie's value, among the request's cookies (empty when there is none:
/// no session has that key).
fn cookie(headers: &HeaderMap) -> String {
    super::cookie_named(headers, COOKIE)
}

type Jar = (HeaderMap, axum::Json<MySession>);

fn with_cookie(id: &str, secure: bool, view: MySession) -> Jar {
    let mut headers = HeaderMap::new();
    let cookie = format!(
        "{COOKIE}={id}; Path=/v1/my; HttpOnly; SameSite=Strict; Max-Age={SESSION_SECS}{}",
        if secure { "; Secure" } else { "" }
    );
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        headers.insert(header::SET_COOKIE, v);
    }
    (headers, axum::Json(view))
}

#[utoipa::path(post, path = "/v1/my/sign-in", tag = "security info",
    request_body = SignInRequest,
    responses((status = 200, description = "Signed in (maybe one method still to verify); sets the session cookie", body = MySession),
        (status = 400, description = "No login, or one too long or with control characters", body = ErrorBody),
        (status = 401, description = "Wrong login or password (the same answer for either)", body = ErrorBody),
        (status = 403, description = "This directory can't sign people in here", body = ErrorBody),
        (status = 429, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub async fn sign_in(
    State(state): State<AppState>,
    Extension(correlation): Extension<CorrelationId>,
    headers: HeaderMap,
    Json(req): Json<SignInRequest>,
) -> ApiResult<Jar> {
    let password = SecretString::from(req.password);
    // The browser's language: the codes and notices this session sends are in it.
    let lang = headers
        .get(axum::http::header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .and_then(crate::lang::Lang::from_accept_language);
    let signed = state
        .my
        .sign_in(&correlation.0, &req.login, password, lang, now())
        .await?;
    Ok(with_cookie(
        &signed.cookie,
        state.my.secure_cookie(),
        signed.view,
    ))
}

#[utoipa::path(get, path = "/v1/my/session", tag = "security info",
    responses((status = 200, body = MySession), (status = 401, body = ErrorBody)))]
pub async fn session(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> ApiResult<axum::Json<MySession>> {
    Ok(axum::Json(
        state.my.session(&cookie(&headers), now()).await?,
    ))
}

#[utoipa::path(post, path = "/v1/my/review", tag = "security info",
    responses((status = 200, description = "The methods are confirmed as current", body = MySession),
        (status = 401, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn review(
    State(state): State<AppState>,
    Extension(correlation): Extension<CorrelationId>,
    headers: HeaderMap,
) -> ApiResult<axum::Json<MySession>> {
    let view = state
        .my
        .review(&correlation.0, &cookie(&headers), now())
        .await?;
    Ok(axum::Json(view))
}

#[utoipa::path(post, path = "/v1/my/sign-out", tag = "security info",
    responses((status = 204, description = "Signed out"), (status = 503, body = ErrorBody)))]
pub async fn sign_out(State(state): State<AppState>, headers: HeaderMap) -> ApiResult<Response> {
    state.my.sign_out(&cookie(&headers), now()).await?;
    let mut r = StatusCode::NO_CONTENT.into_response();
    if let Ok(v) = HeaderValue::from_str(&format!(
        "{COOKIE}=; Path=/v1/my; HttpOnly; SameSite=Strict; Max-Age=0"
    )) {
        r.headers_mut().insert(header::SET_COOKIE, v);
    }
    Ok(r)
}

#[utoipa::path(post, path = "/v1/my/second-factor/start", tag = "security info",
    request_body = SecondFactorStart,
    responses((status = 200, body = SecondFactorChallenge), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 409, description = "Signed in already", body = ErrorBody),
        (status = 429, body = ErrorBody)))]
pub async fn second_start(
    State(state): State<AppState>,
    headers: HeaderMap,
    Json(req): Json<SecondFactorStart>,
) -> ApiResult<axum::Json<SecondFactorChallenge>> {
    let challenge = state
        .my
        .second_start(&cookie(&headers), &req.method_id, now())
        .await?;
    Ok(axum::Json(challenge))
}

#[utoipa::path(post, path = "/v1/my/second-factor/finish", tag = "security info",
    request_body = SecondFactorFinish,
    responses((status = 200, body = MySession), (status = 401, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 410, description = "The code expired", body = ErrorBody),
        (status = 422, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn second_finish(
    State(state): State<AppState>,
    Extension(correlation): Extension<CorrelationId>,
    headers: HeaderMap,
    Json(req): Json<SecondFactorFinish>,
) -> ApiResult<axum::Json<MySession>> {
    let view = state
        .my
        .second_finish(&correlation.0, &cookie(&headers), &req, now())
        .await?;
    Ok(axum::Json(view))
}

#[utoipa::path(post, path = "/v1/my/passkeys/start", tag = "security info",
    responses((status = 200, description = "WebAuthn creation options", body = PasskeyRequest),
        (status = 400, description = "Passkeys are off", body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn passkey_start(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> ApiResult<axum::Json<PasskeyRequest>> {
    Ok(axum::Json(
        state.my.passkey_start(&cookie(&headers), now()).await?,
    ))
}

#[utoipa::path(post, path = "/v1/my/passkeys/finish", tag = "security info",
    request_body = PasskeyFinish,
    responses((status = 200, body = MySession), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn passkey_finish(
    State(state): State<AppState>,
    Extension(correlation): Extension<CorrelationId>,
    headers: HeaderMap,
    Json(req): Json<PasskeyFinish>,
) -> ApiResult<axum::Json<MySession>> {
    let view = state
        .my
        .passkey_finish(
            &correlation.0,
            &cookie(&headers),
            &req.name,
            &req.credential,
            now(),
        )
        .await?;
    Ok(axum::Json(view))
}

#[utoipa::path(post, path = "/v1/my/authenticator/start", tag = "security info",
    responses((status = 200, body = AuthenticatorSetup), (status = 401, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn authenticator_start(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> ApiResult<axum::Json<AuthenticatorSetup>> {
    Ok(axum::Json(
        state
            .my
            .authenticator_start(&cookie(&headers), now())
            .await?,
    ))
}

#[utoipa::path(post, path = "/v1/my/authenticator/finish", tag = "security info",
    request_body = ConfirmCode,
    responses((status = 200, body = MySession), (status = 401, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn authenticator_finish(
    State(state): State<AppState>,
    Extension(correlation): Extension<CorrelationId>,
    headers: HeaderMap,
    Json(req): Json<ConfirmCode>,
) -> ApiResult<axum::Json<MySession>> {
    let view = state
        .my
        .authenticator_finish(&correlation.0, &cookie(&headers), &req.code, now())
        .await?;
    Ok(axum::Json(view))
}

#[utoipa::path(post, path = "/v1/my/email/start", tag = "security info",
    request_body = EmailStart,
    responses((status = 204, description = "A code was sent there"), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 409, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn email_start(
    State(state): State<AppState>,
    headers: HeaderMap,
    Json(req): Json<EmailStart>,
) -> ApiResult<StatusCode> {
    state
        .my
        .email_start(&cookie(&headers), &req.email, now())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/v1/my/email/finish", tag = "security info",
    request_body = ConfirmCode,
    responses((status = 200, body = MySession), (status = 401, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 410, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn email_finish(
    State(state): State<AppState>,
    Extension(correlation): Extension<CorrelationId>,
    headers: HeaderMap,
    Json(req): Json<ConfirmCode>,
) -> ApiResult<axum::Json<MySession>> {
    let view = state
        .my
        .email_finish(&correlation.0, &cookie(&headers), &req.code, now())
        .await?;
    Ok(axum::Json(view))
}

#[utoipa::path(post, path = "/v1/my/mobile/start", tag = "security info",
    request_body = MobileStart,
    responses((status = 204, description = "A code was texted there"), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 409, body = ErrorBody), (status = 429, body = ErrorBody),
        (status = 503, description = "No gateway took the message; nothing counted", body = ErrorBody)))]
pub async fn mobile_start(
    State(state): State<AppState>,
    headers: HeaderMap,
    Json(req): Json<MobileStart>,
) -> ApiResult<StatusCode> {
    state
        .my
        .mobile_start(&cookie(&headers), &req.number, now())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/v1/my/mobile/finish", tag = "security info",
    request_body = ConfirmCode,
    responses((status = 200, body = MySession), (status = 401, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 410, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn mobile_finish(
    State(state): State<AppState>,
    Extension(correlation): Extension<CorrelationId>,
    headers: HeaderMap,
    Json(req): Json<ConfirmCode>,
) -> ApiResult<axum::Json<MySession>> {
    let view = state
        .my
        .mobile_finish(&correlation.0, &cookie(&headers), &req.code, now())
        .await?;
    Ok(axum::Json(view))
}

/// `?locale=de`: the language the questions are shown in.
#[derive(serde::Deserialize, utoipa::IntoParams)]
pub struct LocaleQuery {
    #[serde(default)]
    locale: Option<String>,
}

#[utoipa::path(get, path = "/v1/my/questions", tag = "security info",
    params(LocaleQuery),
    responses((status = 200, body = MyQuestions), (status = 401, body = ErrorBody),
        (status = 409, description = "Security questions aren't offered (method_unavailable)", body = ErrorBody)))]
pub async fn questions(
    State(state): State<AppState>,
    headers: HeaderMap,
    axum::extract::Query(q): axum::extract::Query<LocaleQuery>,
) -> ApiResult<axum::Json<MyQuestions>> {
    let locale = q.locale.filter(|l| {
        (2..=16).contains(&l.len()) && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
    });
    let view = state
        .my
        .questions(&cookie(&headers), locale.as_deref(), now())
        .await?;
    Ok(axum::Json(view))
}

#[utoipa::path(put, path = "/v1/my/questions", tag = "security info",
    request_body = QuestionsSave,
    responses((status = 200, body = MySession), (status = 400, description = "A rule the questions or answers break, in its words", body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn save_questions(
    State(state): State<AppState>,
    Extension(correlation): Extension<CorrelationId>,
    headers: HeaderMap,
    Json(req): Json<QuestionsSave>,
) -> ApiResult<axum::Json<MySession>> {
    let view = state
        .my
        .save_questions(&correlation.0, &cookie(&headers), &req, now())
        .await?;
    Ok(axum::Json(view))
}

#[utoipa::path(post, path = "/v1/my/office/start", tag = "security info",
    request_body = MobileStart,
    responses((status = 204, description = "The number is being called; the code is read out"), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 409, body = ErrorBody), (status = 429, body = ErrorBody),
        (status = 503, description = "No gateway took the call; nothing counted", body = ErrorBody)))]
pub async fn office_start(
    State(state): State<AppState>,
    headers: HeaderMap,
    Json(req): Json<MobileStart>,
) -> ApiResult<StatusCode> {
    state
        .my
        .office_start(&cookie(&headers), &req.number, now())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/v1/my/office/finish", tag = "security info",
    request_body = ConfirmCode,
    responses((status = 200, body = MySession), (status = 401, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 410, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn office_finish(
    State(state): State<AppState>,
    Extension(correlation): Extension<CorrelationId>,
    headers: HeaderMap,
    Json(req): Json<ConfirmCode>,
) -> ApiResult<axum::Json<MySession>> {
    let view = state
        .my
        .office_finish(&correlation.0, &cookie(&headers), &req.code, now())
        .await?;
    Ok(axum::Json(view))
}

#[utoipa::path(delete, path = "/v1/my/methods/{id}", tag = "security info",
    params(("id" = String, Path)),
    responses((status = 200, body = MySession), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody)))]
pub async fn remove(
    State(state): State<AppState>,
    Extension(correlation): Extension<CorrelationId>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<MySession>> {
    let view = state
        .my
        .remove(&correlation.0, &cookie(&headers), &id, now())
        .await?;
    Ok(axum::Json(view))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_session_cookie_is_found_among_others() {
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            HeaderValue::from_static("a=1; sspr_my=abc123; b=2"),
        );
        assert_eq!(cookie(&h), "abc123");
        assert_eq!(cookie(&HeaderMap::new()), "");
    }
}
