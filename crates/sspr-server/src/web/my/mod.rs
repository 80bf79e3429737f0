//! "My security info": a person signs in with their directory password, plus one method
//! they registered once they have one, and manages what the kiosk can use: a passkey on
//! this phone, an authenticator app, an alternate email. Every change is audited and the
//! person is told by email.
//!
//! Sessions live in memory (15 minutes), keyed by the keyed hash of an HttpOnly cookie.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use secrecy::SecretString;
use sspr_proto::{
    ErrorBody, ErrorCode, MethodKind, MethodView, MyMethod, MySession, SecondFactorChallenge,
    SecondFactorFinish, SecondFactorStart, SignInRequest,
};
use webauthn_rs::prelude::{Passkey, PasskeyAuthentication, PasskeyRegistration};

use crate::audit::{self, Event};
use crate::directory::DirUser;
use crate::error::{ApiError, ApiResult};
use crate::flow::{mask, method_label, validate_login, FlowService};
use crate::http::json::Json;
use crate::http::{now, AppState, CorrelationId};
use crate::methods::{code, passkey, totp};
use crate::notify;
use crate::secret::random_id;
use crate::store::Registration;
use crate::throttle;

mod methods;
pub use methods::*;

const COOKIE: &str = "sspr_my";
const SESSION_SECS: i64 = 15 * 60;
const CODE_SECS: i64 = 5 * 60;
/// Wrong codes a setup or second factor tolerates before it must be started again.
const CODE_TRIES: u8 = 3;

/// A code sent by email, waiting for the person to type it.
struct SentCode {
    hash: String,
    expires_at: i64,
    tries: u8,
}

enum Second {
    Code {
        method_id: String,
        kind: MethodKind,
        sent: Option<SentCode>,
    },
    Passkey(PasskeyAuthentication),
}

struct Session {
    user: DirUser,
    signed_in: bool,
    expires_at: i64,
    second: Option<Second>,
    passkey: Option<PasskeyRegistration>,
    totp: Option<String>,
    email: Option<(String, SentCode)>,
}

#[derive(Default, Clone)]
pub struct Sessions(Arc<Mutex<HashMap<String, Session>>>);

impl Sessions {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Session>> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}

fn cookie_value(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .find(|(k, _)| *k == COOKIE)
        .map(|(_, v)| v.to_string())
}

fn no_session() -> ApiError {
    ApiError::new(
        ErrorCode::Unauthorized,
        "Please sign in (sessions end after 15 minutes).",
    )
}

fn wrong_sign_in() -> ApiError {
    ApiError::new(
        ErrorCode::Unauthorized,
        "That username or password isn't right.",
    )
}

fn second_factor_needed() -> ApiError {
    ApiError::new(
        ErrorCode::StepNotAllowed,
        "Verify one of your methods first.",
    )
}

fn audit_ctx(correlation: &str, user: &DirUser) -> audit::Context {
    audit::Context {
        correlation_id: correlation.to_string(),
        kiosk_id: None,
        reference: None,
        login: Some(user.username.clone()),
        user_id: Some(user.id.clone()),
    }
}

/// A method as its owner sees it.
fn my_method(r: &Registration) -> Option<MyMethod> {
    let kind = r.kind()?;
    Some(MyMethod {
        id: r.id.to_string(),
        kind,
        label: r.label.clone(),
        detail: if kind == MethodKind::Email {
            r.value.clone()
        } else {
            String::new()
        },
        added_at: audit::rfc3339(r.created_at),
    })
}

/// Whether a person who last looked over their methods at `reviewed` (never: they have
/// none, nothing to review) is asked to again, `days` days on (0: never asked).
fn review_due(reviewed: Option<i64>, days: u32, now: i64) -> bool {
    match reviewed {
        Some(at) if days > 0 => now - at >= i64::from(days) * 86_400,
        _ => false,
    }
}

/// The methods that may serve as the second step of a sign-in, with ids for the page.
fn second_methods(registrations: &[Registration]) -> Vec<(MethodView, i64)> {
    registrations
        .iter()
        .filter_map(|r| {
            let kind = r.kind()?;
            let masked = match kind {
                MethodKind::Email => mask::email(&r.value),
                MethodKind::Totp => method_label(kind).to_string(),
                MethodKind::Approval => format!("Passkey: {}", r.label),
                _ => return None,
            };
            Some((
                MethodView {
                    id: format!("m{}", r.id),
                    kind,
                    masked,
                    done: false,
                },
                r.id,
            ))
        })
        .collect()
}

impl FlowService {
    async fn my_view(&self, s_user: &DirUser, signed_in: bool) -> ApiResult<MySession> {
        let registrations = self.store.registrations(&s_user.id).await?;
        let review_days = self.config.policy.reconfirm_days;
        // Nothing registered, nothing to review (a row from before the last removal stays).
        let reviewed = if signed_in && !registrations.is_empty() {
            self.store.reviewed(&s_user.id).await?
        } else {
            None
        };
        Ok(MySession {
            reviewed_at: reviewed.map(audit::rfc3339),
            review_due: review_due(reviewed, review_days, now()),
            review_days,
            display_name: s_user.display_name.clone(),
            username: s_user.username.clone(),
            organization: self.config.organization.name.clone(),
            signed_in,
            second_factor: if signed_in {
                Vec::new()
            } else {
                second_methods(&registrations)
                    .into_iter()
                    .map(|(v, _)| v)
                    .collect()
            },
            methods: if signed_in {
                registrations.iter().filter_map(my_method).collect()
            } else {
                Vec::new()
            },
        })
    }

    /// Tells the person (their directory address and alternate addresses) what changed.
    async fn tell_owner(&self, user: &DirUser, what: &str) {
        let mut to: Vec<String> = user.email.iter().cloned().collect();
        if let Ok(regs) = self.store.registrations(&user.id).await {
            for r in regs {
                if r.kind() == Some(MethodKind::Email) && !to.contains(&r.value) {
                    to.push(r.value);
                }
            }
        }
        let org = &self.config.organization.name;
        for address in to {
            let mail = notify::Mail {
                to: address,
                subject: format!("{org}: your security info changed"),
                body: format!(
                    "Hello {name},\n\n{what} (\"My security info\", {when} UTC).\n\n\
                     If this wasn't you, contact the helpdesk at once{helpdesk}.\n",
                    name = user.display_name,
                    when = audit::rfc3339(now()),
                    helpdesk = self
                        .config
                        .helpdesk
                        .phone
                        .as_deref()
                        .map(|p| format!(": {p}"))
                        .unwrap_or_default(),
                ),
            };
            if let Err(reason) = self.mailer.send(&mail).await {
                tracing::warn!(reason = %reason, "telling a person about a security info change failed");
            }
        }
    }

    /// A code for this page, rate limited as the kiosk's emails are: mailed to `to` (when
    /// there is an address) and kept as its keyed hash under `purpose` and `bound_to`.
    async fn send_my_code(
        &self,
        user: &DirUser,
        to: Option<&str>,
        (purpose, bound_to): (&str, &str),
        throttled: &str,
        now: i64,
    ) -> ApiResult<SentCode> {
        let (key, my_key) = throttle_keys(user);
        if let Some(wait) = self
            .throttle
            .rate_limited(&key, &my_key, throttle::EMAIL, now)
            .await?
        {
            return Err(ApiError::new(ErrorCode::Throttled, throttled).with_retry_after(wait));
        }
        let code = code::new_code(self.config.policy.code_length);
        let hash = code::hash(&self.key, purpose, bound_to, &code);
        if let Some(to) = to {
            self.mail_my_code(to, &code);
        }
        self.throttle
            .record(&key, &my_key, throttle::EMAIL, now)
            .await?;
        Ok(SentCode {
            hash,
            expires_at: now + CODE_SECS,
            tries: 0,
        })
    }

    fn mail_my_code(&self, to: &str, code: &str) {
        let mail = notify::code_mail(
            to,
            &notify::CodeMail {
                locale: &self.config.organization.default_locale,
                organization: &self.config.organization.name,
                code,
                minutes: (CODE_SECS / 60) as u32,
                kiosk: "My security info",
            },
        );
        let mailer = self.mailer.clone();
        tokio::spawn(async move {
            if let Err(reason) = mailer.send(&mail).await {
                tracing::warn!(reason = %reason, "sending a security info code failed");
            }
        });
    }
}

/// This page's own counters (as person and as "kiosk"): failures here block signing in
/// here, not the person's resets at a kiosk, so nobody can lock someone out of
/// self-service by mistyping their password on this page.
fn throttle_keys(user: &DirUser) -> (String, String) {
    (format!("my:{}", user.id), format!("my-page:{}", user.id))
}

/// The counters of a login nobody (or nobody enabled) has, shaped as a person's.
fn decoy_throttle_keys(key: &crate::secret::ServerKey, login: &str) -> (String, String) {
    let id = crate::flow::decoy::login_key(key, login);
    (format!("my:{id}"), format!("my-page:{id}"))
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

impl AppState {
    fn session_key(&self, cookie: &str) -> String {
        self.flows.key.mac_hex("my-session", &[cookie.as_bytes()])
    }

    /// Runs `f` on the caller's session (signed in fully when `full`).
    fn with_session<T>(
        &self,
        headers: &HeaderMap,
        full: bool,
        f: impl FnOnce(&mut Session) -> ApiResult<T>,
    ) -> ApiResult<T> {
        let cookie = cookie_value(headers).ok_or_else(no_session)?;
        let key = self.session_key(&cookie);
        let now = now();
        let mut sessions = self.my.lock();
        sessions.retain(|_, s| s.expires_at > now);
        let session = sessions.get_mut(&key).ok_or_else(no_session)?;
        if full && !session.signed_in {
            return Err(second_factor_needed());
        }
        f(session)
    }

    fn session_user(&self, headers: &HeaderMap, full: bool) -> ApiResult<(DirUser, bool)> {
        self.with_session(headers, full, |s| Ok((s.user.clone(), s.signed_in)))
    }
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
    Json(req): Json<SignInRequest>,
) -> ApiResult<Jar> {
    let flows = &state.flows;
    let now = now();
    let login = validate_login(&req.login)?;
    if req.password.is_empty() || req.password.chars().count() > 1024 {
        return Err(wrong_sign_in());
    }
    let password = SecretString::from(req.password);
    let found = flows
        .directories
        .find_home(login)
        .await
        .map_err(|_| directory_down())?;
    // Unknown and disabled logins take the same path as a wrong password: counted and
    // blocked alike (on a key derived from the login), checked against a decoy at the
    // same cost, answered alike. Nothing here tells who exists.
    let home = found.as_ref().map(|(home, _)| *home).unwrap_or(0);
    let user = found.map(|(_, u)| u).filter(|u| !u.disabled);
    let (key, my_key) = match &user {
        Some(user) => throttle_keys(user),
        None => decoy_throttle_keys(&flows.key, login),
    };
    if let Some(until) = flows.throttle.blocked_until(&key, &my_key, now).await? {
        return Err(blocked(until - now));
    }
    let directory = flows.directories.get(home).ok_or_else(directory_down)?;
    let checked = match &user {
        Some(user) => directory.check_password(user, &password).await,
        None => directory
            .check_decoy_password(&password)
            .await
            .map(|()| false),
    };
    let ok = match checked {
        Ok(ok) => ok,
        Err(crate::directory::DirError::Unsupported(why)) => {
            return Err(ApiError::new(
                ErrorCode::NotAllowed,
                format!("Signing in here isn't possible for this account: {why}."),
            ))
        }
        Err(e) => {
            tracing::warn!(error = %e, "security info sign-in: directory unavailable");
            return Err(directory_down());
        }
    };
    let Some(user) = user else {
        let ctx = audit::Context {
            correlation_id: correlation.0.clone(),
            login: Some(login.to_string()),
            ..audit::Context::default()
        };
        return Err(sign_in_failed_keys(
            flows,
            &ctx,
            (&key, &my_key),
            "password",
            "wrong_password",
            now,
        )
        .await?
        .unwrap_or_else(wrong_sign_in));
    };
    let ctx = audit_ctx(&correlation.0, &user);
    if !ok {
        return Err(
            sign_in_failed(flows, &ctx, &user, "password", "wrong_password", now)
                .await?
                .unwrap_or_else(wrong_sign_in),
        );
    }
    let view = flows.my_view(&user, false).await?;
    let signed_in = view.second_factor.is_empty();
    let view = if signed_in {
        flows.my_view(&user, true).await?
    } else {
        view
    };
    flows
        .audit
        .record(&ctx, Event::SecurityInfoSignIn { step: "password" }, now)
        .await;
    let cookie = random_id();
    state.my.lock().insert(
        state.session_key(&cookie),
        Session {
            user,
            signed_in,
            expires_at: now + SESSION_SECS,
            second: None,
            passkey: None,
            totp: None,
            email: None,
        },
    );
    Ok(with_cookie(
        &cookie,
        flows.config.phone_origin().starts_with("https://"),
        view,
    ))
}

/// A failed sign-in step: counted (this page's own counters) and audited. Some(error)
/// when it blocked the person from signing in here.
async fn sign_in_failed(
    flows: &FlowService,
    ctx: &audit::Context,
    user: &DirUser,
    step: &'static str,
    reason: &'static str,
    now: i64,
) -> ApiResult<Option<ApiError>> {
    let (key, my_key) = throttle_keys(user);
    sign_in_failed_keys(flows, ctx, (&key, &my_key), step, reason, now).await
}

/// `sign_in_failed` on these throttle keys (a decoy's, for a login nobody has).
async fn sign_in_failed_keys(
    flows: &FlowService,
    ctx: &audit::Context,
    (key, my_key): (&str, &str),
    step: &'static str,
    reason: &'static str,
    now: i64,
) -> ApiResult<Option<ApiError>> {
    let blocked_now = flows.throttle.failed_verification(key, my_key, now).await?;
    flows
        .audit
        .record(ctx, Event::SecurityInfoSignInFailed { step, reason }, now)
        .await;
    Ok(blocked_now.map(|(_, until)| blocked(until - now)))
}

fn directory_down() -> ApiError {
    ApiError::new(
        ErrorCode::DirectoryUnavailable,
        "We can't reach the directory right now. Please try again later.",
    )
}

fn blocked(secs: i64) -> ApiError {
    ApiError::new(
        ErrorCode::Blocked,
        "Too many failed attempts. Try again later, or contact the helpdesk.",
    )
    .with_retry_after(secs)
}

#[utoipa::path(get, path = "/v1/my/session", tag = "security info",
    responses((status = 200, body = MySession), (status = 401, body = ErrorBody)))]
pub async fn session(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> ApiResult<axum::Json<MySession>> {
    let (user, signed_in) = state.session_user(&headers, false)?;
    Ok(axum::Json(state.flows.my_view(&user, signed_in).await?))
}

#[utoipa::path(post, path = "/v1/my/review", tag = "security info",
    responses((status = 200, description = "The methods are confirmed as current", body = MySession),
        (status = 401, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn review(
    State(state): State<AppState>,
    Extension(correlation): Extension<CorrelationId>,
    headers: HeaderMap,
) -> ApiResult<axum::Json<MySession>> {
    let flows = &state.flows;
    let (user, _) = state.session_user(&headers, true)?;
    if flows.store.registrations(&user.id).await?.is_empty() {
        return Err(ApiError::step(
            "There is nothing to confirm yet: add a method first.",
        ));
    }
    let now = now();
    flows.store.mark_reviewed(&user.id, now).await?;
    flows
        .audit
        .record(
            &audit_ctx(&correlation.0, &user),
            Event::SecurityInfoReviewed,
            now,
        )
        .await;
    Ok(axum::Json(flows.my_view(&user, true).await?))
}

#[utoipa::path(post, path = "/v1/my/sign-out", tag = "security info",
    responses((status = 204, description = "Signed out")))]
pub async fn sign_out(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if let Some(cookie) = cookie_value(&headers) {
        let key = state.session_key(&cookie);
        state.my.lock().remove(&key);
    }
    let mut r = StatusCode::NO_CONTENT.into_response();
    if let Ok(v) = HeaderValue::from_str(&format!(
        "{COOKIE}=; Path=/v1/my; HttpOnly; SameSite=Strict; Max-Age=0"
    )) {
        r.headers_mut().insert(header::SET_COOKIE, v);
    }
    r
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
    let flows = &state.flows;
    let now = now();
    let (user, signed_in) = state.session_user(&headers, false)?;
    if signed_in {
        return Err(ApiError::step("You are signed in already."));
    }
    let registrations = flows.store.registrations(&user.id).await?;
    let (view, reg_id) = second_methods(&registrations)
        .into_iter()
        .find(|(v, _)| v.id == req.method_id)
        .ok_or_else(|| ApiError::new(ErrorCode::MethodUnavailable, "That method isn't yours."))?;
    let registration = registrations.iter().find(|r| r.id == reg_id);
    let (second, challenge) = match view.kind {
        MethodKind::Email => {
            let sent = flows
                .send_my_code(
                    &user,
                    registration.map(|r| r.value.as_str()),
                    ("my", &view.id),
                    "Too many codes were requested. Please wait, or use another method.",
                    now,
                )
                .await?;
            (
                Second::Code {
                    method_id: view.id.clone(),
                    kind: MethodKind::Email,
                    sent: Some(sent),
                },
                SecondFactorChallenge {
                    kind: MethodKind::Email,
                    sent_to: Some(view.masked.clone()),
                    passkey: None,
                },
            )
        }
        MethodKind::Totp => (
            Second::Code {
                method_id: view.id.clone(),
                kind: MethodKind::Totp,
                sent: None,
            },
            SecondFactorChallenge {
                kind: MethodKind::Totp,
                sent_to: None,
                passkey: None,
            },
        ),
        _ => {
            let webauthn = flows.passkeys.as_ref().ok_or_else(|| {
                ApiError::new(
                    ErrorCode::MethodUnavailable,
                    "Passkeys are not set up here.",
                )
            })?;
            let list: Vec<Passkey> = passkey::of(&registrations)
                .into_iter()
                .map(|(_, p)| p)
                .collect();
            let (request, auth) = webauthn
                .start_authentication(&list)
                .map_err(ApiError::internal)?;
            (
                Second::Passkey(auth),
                SecondFactorChallenge {
                    kind: MethodKind::Approval,
                    sent_to: None,
                    passkey: Some(request),
                },
            )
        }
    };
    state.with_session(&headers, false, |s| {
        s.second = Some(second);
        Ok(())
    })?;
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
    let flows = &state.flows;
    let now = now();
    let (user, signed_in) = state.session_user(&headers, false)?;
    if signed_in {
        return Err(ApiError::step("You are signed in already."));
    }
    let second = state.with_session(&headers, false, |s| {
        s.second
            .take()
            .ok_or_else(|| ApiError::step("Choose a method first."))
    })?;
    let ctx = audit_ctx(&correlation.0, &user);
    let ok = match second {
        Second::Code {
            method_id,
            kind,
            sent,
        } => {
            let answer = req.code.as_deref().map(str::trim).unwrap_or_default();
            match (kind, sent) {
                (MethodKind::Email, Some(sent)) => {
                    if sent.expires_at <= now {
                        return Err(ApiError::new(
                            ErrorCode::CodeExpired,
                            "That code has expired. Ask for a new one.",
                        ));
                    }
                    let ok = code::matches(&flows.key, "my", &method_id, answer, &sent.hash);
                    if !ok && sent.tries + 1 < CODE_TRIES {
                        // Keep the code for another try.
                        let again = Second::Code {
                            method_id,
                            kind,
                            sent: Some(SentCode {
                                tries: sent.tries + 1,
                                ..sent
                            }),
                        };
                        state.with_session(&headers, false, |s| {
                            s.second = Some(again);
                            Ok(())
                        })?;
                    }
                    ok
                }
                _ => {
                    let secret = flows
                        .store
                        .registrations(&user.id)
                        .await?
                        .into_iter()
                        .find(|r| format!("m{}", r.id) == method_id)
                        .and_then(|r| r.totp_secret(&flows.key));
                    let step = secret.and_then(|s| totp::matching_step(&s, answer, now as u64));
                    let fresh = match step {
                        Some(step) => {
                            flows
                                .store
                                .use_totp_step(&user.id, step as i64, now)
                                .await?
                        }
                        None => false,
                    };
                    if !fresh {
                        state.with_session(&headers, false, |s| {
                            s.second = Some(Second::Code {
                                method_id,
                                kind,
                                sent: None,
                            });
                            Ok(())
                        })?;
                    }
                    fresh
                }
            }
        }
        Second::Passkey(auth) => {
            let mut passkeys = passkey::of(&flows.store.registrations(&user.id).await?);
            let credential = req.credential.clone().unwrap_or_default();
            match flows
                .passkeys
                .as_ref()
                .map(|w| w.finish_authentication(&credential, &auth, &mut passkeys))
            {
                Some(Ok(changed)) => {
                    for (id, p) in changed {
                        let value = serde_json::to_string(&p).map_err(ApiError::internal)?;
                        flows.store.update_registration(id, &value).await?;
                    }
                    true
                }
                _ => false,
            }
        }
    };
    if !ok {
        return Err(
            sign_in_failed(flows, &ctx, &user, "second_factor", "wrong_code", now)
                .await?
                .unwrap_or_else(|| {
                    ApiError::new(
                        ErrorCode::CodeInvalid,
                        "That didn't verify. Check it and try again, or choose another method.",
                    )
                }),
        );
    }
    state.with_session(&headers, false, |s| {
        s.signed_in = true;
        s.expires_at = now + SESSION_SECS;
        Ok(())
    })?;
    flows
        .audit
        .record(
            &ctx,
            Event::SecurityInfoSignIn {
                step: "second_factor",
            },
            now,
        )
        .await;
    Ok(axum::Json(flows.my_view(&user, true).await?))
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
        assert_eq!(cookie_value(&h).as_deref(), Some("abc123"));
        let empty = HeaderMap::new();
        assert_eq!(cookie_value(&empty), None);
    }

    #[test]
    fn a_review_is_due_the_configured_days_after_the_last_one() {
        let day = 86_400;
        let now = 1_000 * day;
        assert!(!review_due(Some(now - 30 * day + 1), 30, now));
        assert!(review_due(Some(now - 30 * day), 30, now));
        // Never asked when the policy says 0, nor of someone with nothing registered.
        assert!(!review_due(Some(0), 0, now));
        assert!(!review_due(None, 30, now));
    }
}
