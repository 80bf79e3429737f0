//! "My security info", the methods themselves: add a passkey, an authenticator app or an
//! alternate email, and remove one. Each change is audited and told to the person.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::Extension;
use sspr_proto::{
    AuthenticatorSetup, ConfirmCode, EmailStart, ErrorBody, ErrorCode, MethodKind, MySession,
    PasskeyFinish, PasskeyRequest,
};
use webauthn_rs::prelude::Passkey;

use super::{audit_ctx, CODE_TRIES};
use crate::audit::Event;
use crate::directory::DirUser;
use crate::error::{ApiError, ApiResult};
use crate::flow::{mask, method_label};
use crate::http::json::Json;
use crate::http::{now, AppState, CorrelationId};
use crate::methods::{code, passkey, totp};

async fn registered(
    state: &AppState,
    correlation: &str,
    user: &DirUser,
    kind: MethodKind,
    what: &str,
) -> ApiResult<axum::Json<MySession>> {
    let flows = &state.flows;
    flows
        .audit
        .record(
            &audit_ctx(correlation, user),
            Event::MethodRegistered { method: kind },
            now(),
        )
        .await;
    flows.tell_owner(user, what).await;
    Ok(axum::Json(flows.my_view(user, true).await?))
}

#[utoipa::path(post, path = "/v1/my/passkeys/start", tag = "security info",
    responses((status = 200, description = "WebAuthn creation options", body = PasskeyRequest),
        (status = 400, description = "Passkeys are off", body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn passkey_start(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> ApiResult<axum::Json<PasskeyRequest>> {
    let flows = &state.flows;
    let (user, _) = state.session_user(&headers, true)?;
    let webauthn = flows.passkeys.as_ref().ok_or_else(|| {
        ApiError::new(
            ErrorCode::MethodUnavailable,
            "Passkeys need the server to be reached by a host name; ask IT.",
        )
    })?;
    let existing: Vec<Passkey> = passkey::of(&flows.store.registrations(&user.id).await?)
        .into_iter()
        .map(|(_, p)| p)
        .collect();
    let handle = passkey::Passkeys::user_handle(&flows.key, &user.id);
    let (request, reg) = webauthn
        .start_registration(handle, &user.username, &user.display_name, &existing)
        .map_err(ApiError::internal)?;
    state.with_session(&headers, true, |s| {
        s.passkey = Some(reg);
        Ok(())
    })?;
    Ok(axum::Json(request))
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
    let flows = &state.flows;
    let (user, _) = state.session_user(&headers, true)?;
    let name = req.name.trim();
    if name.is_empty() || name.chars().count() > 64 || name.chars().any(char::is_control) {
        return Err(ApiError::bad_request(
            "Give the passkey a name of up to 64 characters, such as \"My phone\".",
        ));
    }
    let reg = state.with_session(&headers, true, |s| {
        s.passkey
            .take()
            .ok_or_else(|| ApiError::step("Start adding a passkey first."))
    })?;
    let webauthn = flows
        .passkeys
        .as_ref()
        .ok_or_else(|| ApiError::new(ErrorCode::MethodUnavailable, "Passkeys are off."))?;
    let passkey = webauthn
        .finish_registration(&req.credential, &reg)
        .map_err(|e| {
            tracing::info!(reason = %e, "a passkey registration was refused");
            ApiError::new(
                ErrorCode::CodeInvalid,
                "The passkey could not be added. Please try again.",
            )
        })?;
    // A credential belongs to one person only.
    let id = passkey.cred_id().clone();
    if flows
        .store
        .registrations_of_kind(MethodKind::Approval)
        .await?
        .iter()
        .filter_map(|r| passkey::parse(&r.value))
        .any(|p| p.cred_id() == &id)
    {
        return Err(ApiError::new(
            ErrorCode::BadRequest,
            "This passkey is registered already.",
        ));
    }
    let value = serde_json::to_string(&passkey).map_err(ApiError::internal)?;
    flows
        .store
        .add_registration(&user.id, MethodKind::Approval, &value, name, now())
        .await?;
    flows.stand_ins.changed.notify_one();
    registered(
        &state,
        &correlation.0,
        &user,
        MethodKind::Approval,
        &format!("A passkey named \"{name}\" was added to your account"),
    )
    .await
}

#[utoipa::path(post, path = "/v1/my/authenticator/start", tag = "security info",
    responses((status = 200, body = AuthenticatorSetup), (status = 401, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn authenticator_start(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> ApiResult<axum::Json<AuthenticatorSetup>> {
    let flows = &state.flows;
    let (user, _) = state.session_user(&headers, true)?;
    let secret = totp::new_secret();
    let org = &flows.config.organization.name;
    let label = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    let uri = format!(
        "otpauth://totp/{}:{}?secret={secret}&issuer={}&algorithm=SHA1&digits=6&period=30",
        label(org),
        label(&user.username),
        label(org)
    );
    let qr = qrcode::QrCode::with_error_correction_level(uri.as_bytes(), qrcode::EcLevel::M)
        .map_err(ApiError::internal)?;
    let qr_svg = qr
        .render::<qrcode::render::svg::Color<'_>>()
        .min_dimensions(220, 220)
        .quiet_zone(true)
        .build();
    let grouped = secret
        .as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join(" ");
    state.with_session(&headers, true, |s| {
        s.totp = Some(secret.clone());
        Ok(())
    })?;
    Ok(axum::Json(AuthenticatorSetup {
        secret: grouped,
        uri,
        qr_svg,
    }))
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
    let flows = &state.flows;
    let now = now();
    let (user, _) = state.session_user(&headers, true)?;
    let secret = state.with_session(&headers, true, |s| {
        s.totp
            .clone()
            .ok_or_else(|| ApiError::step("Start adding an authenticator app first."))
    })?;
    let Some(step) = totp::matching_step(&secret, &req.code, now as u64) else {
        return Err(ApiError::new(
            ErrorCode::CodeInvalid,
            "That code isn't right. Type the code the app shows now.",
        ));
    };
    // The confirming code can't be used again at a kiosk.
    flows
        .store
        .use_totp_step(&user.id, step as i64, now)
        .await?;
    state.with_session(&headers, true, |s| {
        s.totp = None;
        Ok(())
    })?;
    flows
        .store
        .add_registration(
            &user.id,
            MethodKind::Totp,
            &crate::store::seal_totp(&flows.key, &user.id, &secret),
            method_label(MethodKind::Totp),
            now,
        )
        .await?;
    flows.stand_ins.changed.notify_one();
    registered(
        &state,
        &correlation.0,
        &user,
        MethodKind::Totp,
        "An authenticator app was added to your account",
    )
    .await
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
    let flows = &state.flows;
    let now = now();
    let (user, _) = state.session_user(&headers, true)?;
    let address = req.email.trim().to_string();
    let valid = address.len() <= 254
        && !address.chars().any(|c| c.is_whitespace() || c.is_control())
        && address.rsplit_once('@').is_some_and(|(l, d)| {
            !l.is_empty() && d.contains('.') && !d.starts_with('.') && !d.ends_with('.')
        });
    if !valid {
        return Err(ApiError::bad_request(
            "Enter an email address such as name@example.org.",
        ));
    }
    let sent = flows
        .send_my_code(
            &user,
            Some(&address),
            ("my-email", &address),
            "Too many codes were requested. Please wait a few minutes.",
            now,
        )
        .await?;
    state.with_session(&headers, true, |s| {
        s.email = Some((address, sent));
        Ok(())
    })?;
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
    let flows = &state.flows;
    let now = now();
    let (user, _) = state.session_user(&headers, true)?;
    let key = flows.key.clone();
    let address = state.with_session(&headers, true, |s| {
        let Some((address, sent)) = s.email.as_mut() else {
            return Err(ApiError::step("Enter the address first."));
        };
        if sent.expires_at <= now {
            s.email = None;
            return Err(ApiError::new(
                ErrorCode::CodeExpired,
                "That code has expired. Enter the address again for a new one.",
            ));
        }
        if !code::matches(&key, "my-email", address, req.code.trim(), &sent.hash) {
            sent.tries += 1;
            if sent.tries >= CODE_TRIES {
                s.email = None;
            }
            return Err(ApiError::new(
                ErrorCode::CodeInvalid,
                "That code isn't right. Check the latest email and try again.",
            ));
        }
        let address = address.clone();
        s.email = None;
        Ok(address)
    })?;
    flows
        .store
        .add_registration(&user.id, MethodKind::Email, &address, &address, now)
        .await?;
    flows.stand_ins.changed.notify_one();
    registered(
        &state,
        &correlation.0,
        &user,
        MethodKind::Email,
        &format!(
            "The alternate email {} was added to your account",
            mask::email(&address)
        ),
    )
    .await
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
    let flows = &state.flows;
    let (user, _) = state.session_user(&headers, true)?;
    let id: i64 = id.parse().map_err(|_| ApiError::not_found("method"))?;
    let registration = flows
        .store
        .registration(id)
        .await?
        .filter(|r| r.user_id == user.id)
        .ok_or_else(|| ApiError::not_found("method"))?;
    let kind = registration.kind().unwrap_or(MethodKind::Email);
    // Told before it goes, so a removed alternate address hears of it too.
    let what = match kind {
        MethodKind::Approval => format!("The passkey \"{}\" was removed", registration.label),
        MethodKind::Totp => "An authenticator app was removed".to_string(),
        _ => format!(
            "The alternate email {} was removed",
            mask::email(&registration.value)
        ),
    };
    flows.tell_owner(&user, &what).await;
    if !flows.store.remove_registration(&user.id, id, now()).await? {
        return Err(ApiError::not_found("method"));
    }
    flows.stand_ins.changed.notify_one();
    flows
        .audit
        .record(
            &audit_ctx(&correlation.0, &user),
            Event::MethodRemoved { method: kind },
            now(),
        )
        .await;
    Ok(axum::Json(flows.my_view(&user, true).await?))
}

impl crate::flow::FlowService {
    /// The helpdesk clears every method a person registered (a lost phone, or a secret
    /// key that was lost so their authenticator app no longer checks): they sign in to
    /// "My security info" with their password alone and set up again. The person is told
    /// first (their alternate addresses too) and it is audited. Returns how many went.
    pub async fn clear_methods(&self, user: &DirUser, now: i64) -> ApiResult<usize> {
        let kinds: Vec<MethodKind> = self
            .store
            .registrations(&user.id)
            .await?
            .iter()
            .filter_map(|r| r.kind())
            .collect();
        if kinds.is_empty() {
            return Ok(0);
        }
        self.tell_owner(
            user,
            "The helpdesk removed all your methods: sign in to My security info and set them up again",
        )
        .await;
        let removed = self.store.remove_registrations(&user.id).await?;
        self.stand_ins.changed.notify_one();
        let ctx = audit_ctx("admin", user);
        for method in kinds {
            self.audit
                .record(&ctx, Event::MethodRemoved { method }, now)
                .await;
        }
        self.audit.flush().await;
        Ok(removed)
    }
}
