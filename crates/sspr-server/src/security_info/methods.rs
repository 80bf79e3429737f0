//! "My security info", the methods themselves: add a passkey, an authenticator app or an
//! alternate email, and remove one; the helpdesk clears them all. Each change is audited,
//! told to the person, and read again by the decoys (`Core::registrations_changed`).

use secrecy::{ExposeSecret, SecretString};
use sspr_proto::{AuthenticatorSetup, MethodKind, MySession, PasskeyRequest};
use webauthn_rs::prelude::Passkey;

use super::session::Need;
use super::{audit_ctx, Dest, MyError, MyResult, SecurityInfo, CODE_TRIES};
use crate::audit::Event;
use crate::directory::DirUser;
use crate::fault::Internal;
use crate::flow::{mask, method_label};
use crate::lang::Lang;
use crate::methods::{code, passkey, totp};

impl SecurityInfo {
    /// A method was added: audited, told, and the page's new view.
    pub(super) async fn registered(
        &self,
        correlation: &str,
        user: &DirUser,
        kind: MethodKind,
        (lang, what): (Lang, String),
        now: i64,
    ) -> MyResult<MySession> {
        self.core.registrations_changed.notify_one();
        self.core
            .audit
            .record(
                &audit_ctx(correlation, user),
                Event::MethodRegistered { method: kind },
                now,
            )
            .await;
        self.tell_owner(user, lang, &what, now).await;
        self.view(user, true, now).await
    }

    /// WebAuthn's creation options for a passkey on this phone.
    pub async fn passkey_start(&self, cookie: &str, now: i64) -> MyResult<PasskeyRequest> {
        let core = &self.core;
        let (user, _) = self.session_user(cookie, Need::Full, now).await?;
        let webauthn = core.passkeys.as_ref().ok_or(MyError::PasskeysOff)?;
        let existing: Vec<Passkey> = passkey::of(&core.store.registrations(&user.id).await?)
            .into_iter()
            .map(|(_, p)| p)
            .collect();
        let handle = passkey::Passkeys::user_handle(&core.key, &user.id);
        let (request, reg) = webauthn
            .start_registration(handle, &user.username, &user.display_name, &existing)
            .map_err(|e| MyError::Internal(Internal::new("starting a passkey registration", e)))?;
        self.with_session(cookie, Need::Full, now, |s| {
            s.passkey = Some(reg);
            Ok(())
        })
        .await?;
        Ok(request)
    }

    pub async fn passkey_finish(
        &self,
        correlation: &str,
        cookie: &str,
        name: &str,
        credential: &serde_json::Value,
        now: i64,
    ) -> MyResult<MySession> {
        let core = &self.core;
        let (user, _) = self.session_user(cookie, Need::Full, now).await?;
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 64 || name.chars().any(char::is_control) {
            return Err(MyError::PasskeyName);
        }
        let reg = self
            .with_session(cookie, Need::Full, now, |s| {
                s.passkey.take().ok_or(MyError::StartPasskeyFirst)
            })
            .await?;
        let webauthn = core.passkeys.as_ref().ok_or(MyError::PasskeysOff)?;
        let passkey = webauthn
            .finish_registration(credential, &reg)
            .map_err(|e| {
                tracing::info!(reason = %e, "a passkey registration was refused");
                MyError::PasskeyRefused
            })?;
        // A credential belongs to one person only.
        let id = passkey.cred_id().clone();
        if core
            .store
            .registrations_of_kind(MethodKind::Approval)
            .await?
            .iter()
            .filter_map(|r| passkey::parse(&r.value))
            .any(|p| p.cred_id() == &id)
        {
            return Err(MyError::PasskeyTaken);
        }
        let value = serde_json::to_string(&passkey)
            .map_err(|e| MyError::Internal(Internal::new("saving a passkey", e)))?;
        core.store
            .add_registration(&user.id, MethodKind::Approval, &value, name, now)
            .await?;
        self.registered(
            correlation,
            &user,
            MethodKind::Approval,
            self.told(cookie, now, |t| t.info_passkey_added, name).await,
            now,
        )
        .await
    }

    /// A new authenticator app's secret, as a QR code and as text; kept in the session
    /// until the app's first code confirms it.
    pub async fn authenticator_start(
        &self,
        cookie: &str,
        now: i64,
    ) -> MyResult<AuthenticatorSetup> {
        let (user, _) = self.session_user(cookie, Need::Full, now).await?;
        let secret = SecretString::from(totp::new_secret());
        let org = &self.core.config().organization.name;
        let label =
            |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
        let uri = format!(
            "otpauth://totp/{}:{}?secret={}&issuer={}&algorithm=SHA1&digits=6&period=30",
            label(org),
            label(&user.username),
            secret.expose_secret(),
            label(org)
        );
        let qr = qrcode::QrCode::with_error_correction_level(uri.as_bytes(), qrcode::EcLevel::M)
            .map_err(|e| MyError::Internal(Internal::new("drawing the QR code", e)))?;
        let qr_svg = qr
            .render::<qrcode::render::svg::Color<'_>>()
            .min_dimensions(220, 220)
            .quiet_zone(true)
            .build();
        let grouped = secret
            .expose_secret()
            .as_bytes()
            .chunks(4)
            .map(|c| String::from_utf8_lossy(c).into_owned())
            .collect::<Vec<_>>()
            .join(" ");
        self.with_session(cookie, Need::Full, now, |s| {
            s.totp = Some(secret);
            Ok(())
        })
        .await?;
        Ok(AuthenticatorSetup {
            secret: grouped,
            uri,
            qr_svg,
        })
    }

    pub async fn authenticator_finish(
        &self,
        correlation: &str,
        cookie: &str,
        code: &str,
        now: i64,
    ) -> MyResult<MySession> {
        let core = &self.core;
        let (user, _) = self.session_user(cookie, Need::Full, now).await?;
        let secret = self
            .with_session(cookie, Need::Full, now, |s| {
                s.totp.clone().ok_or(MyError::StartAuthenticatorFirst)
            })
            .await?;
        let Some(step) = totp::matching_step(secret.expose_secret(), code, now.max(0) as u64)
        else {
            return Err(MyError::AuthenticatorCode);
        };
        // The confirming code can't be used again at a kiosk.
        core.store.use_totp_step(&user.id, step as i64, now).await?;
        self.with_session(cookie, Need::Full, now, |s| {
            s.totp = None;
            Ok(())
        })
        .await?;
        core.store
            .add_registration(
                &user.id,
                MethodKind::Totp,
                &crate::store::seal_totp(&core.key, &user.id, secret.expose_secret()),
                method_label(MethodKind::Totp),
                now,
            )
            .await?;
        self.registered(
            correlation,
            &user,
            MethodKind::Totp,
            self.told(cookie, now, |t| t.info_totp_added, "").await,
            now,
        )
        .await
    }

    /// Sends a code to a new alternate address, to prove it is the person's.
    pub async fn email_start(&self, cookie: &str, email: &str, now: i64) -> MyResult<()> {
        let (user, _) = self.session_user(cookie, Need::Full, now).await?;
        let address = email.trim().to_string();
        let valid = address.len() <= 254
            && !address.chars().any(|c| c.is_whitespace() || c.is_control())
            && address.rsplit_once('@').is_some_and(|(l, d)| {
                !l.is_empty() && d.contains('.') && !d.starts_with('.') && !d.ends_with('.')
            });
        if !valid {
            return Err(MyError::EmailAddress);
        }
        let sent = self
            .send_code(
                &user,
                self.lang(cookie, now).await,
                Some(Dest::Mail(&address)),
                ("my-email", &address),
                false,
                now,
            )
            .await?;
        self.with_session(cookie, Need::Full, now, |s| {
            s.email = Some((address, sent));
            Ok(())
        })
        .await
    }

    pub async fn email_finish(
        &self,
        correlation: &str,
        cookie: &str,
        code: &str,
        now: i64,
    ) -> MyResult<MySession> {
        let core = &self.core;
        let (user, _) = self.session_user(cookie, Need::Full, now).await?;
        let address = self
            .with_session(cookie, Need::Full, now, |s| {
                let Some((address, sent)) = s.email.as_mut() else {
                    return Err(MyError::EnterAddressFirst);
                };
                if sent.expires_at <= now {
                    s.email = None;
                    return Err(MyError::EmailCodeExpired);
                }
                if !code::matches(&core.key, "my-email", address, code.trim(), &sent.hash) {
                    sent.tries += 1;
                    if sent.tries >= CODE_TRIES {
                        s.email = None;
                    }
                    return Err(MyError::EmailCode);
                }
                let address = address.clone();
                s.email = None;
                Ok(address)
            })
            .await?;
        core.store
            .add_registration(&user.id, MethodKind::Email, &address, &address, now)
            .await?;
        self.registered(
            correlation,
            &user,
            MethodKind::Email,
            self.told(cookie, now, |t| t.info_email_added, &mask::email(&address))
                .await,
            now,
        )
        .await
    }

    /// Texts a code to a mobile number, to prove it is the person's.
    pub async fn mobile_start(&self, cookie: &str, number: &str, now: i64) -> MyResult<()> {
        let (user, _) = self.session_user(cookie, Need::Full, now).await?;
        let config = self.core.config();
        if self.core.sms.is_none() || !config.policy.methods.contains(&MethodKind::Sms) {
            return Err(MyError::SmsOff);
        }
        let e164 = crate::methods::phone::mobile(
            number,
            &config.sms.default_region,
            &config.sms.allowed(),
        )
        .map_err(|why| MyError::PhoneNumber(why.to_string()))?;
        let sent = self
            .send_code(
                &user,
                self.lang(cookie, now).await,
                Some(Dest::Text(&e164)),
                ("my-mobile", &e164),
                false,
                now,
            )
            .await?;
        self.with_session(cookie, Need::Full, now, |s| {
            s.mobile = Some((e164, sent));
            Ok(())
        })
        .await
    }

    /// The texted code confirms the number: it becomes the person's (one number each; a
    /// new one replaces the old).
    pub async fn mobile_finish(
        &self,
        correlation: &str,
        cookie: &str,
        code: &str,
        now: i64,
    ) -> MyResult<MySession> {
        self.confirm_number(correlation, cookie, code, MethodKind::Sms, now)
            .await
    }

    /// Calls an office number (its extension dialled) and reads a code out, to prove it is
    /// the person's.
    pub async fn office_start(&self, cookie: &str, number: &str, now: i64) -> MyResult<()> {
        let (user, _) = self.session_user(cookie, Need::Full, now).await?;
        let config = self.core.config();
        if self.core.voice.is_none() || !config.policy.methods.contains(&MethodKind::Voice) {
            return Err(MyError::SmsOff);
        }
        let number = crate::methods::phone::office(
            number,
            &config.sms.default_region,
            &config.sms.allowed(),
        )
        .map_err(|why| MyError::PhoneNumber(why.to_string()))?;
        let sent = self
            .send_code(
                &user,
                self.lang(cookie, now).await,
                Some(Dest::Call(&number)),
                ("my-office", &number),
                false,
                now,
            )
            .await?;
        self.with_session(cookie, Need::Full, now, |s| {
            s.office = Some((number, sent));
            Ok(())
        })
        .await
    }

    /// The code read out confirms the office number: it becomes the person's (one each).
    pub async fn office_finish(
        &self,
        correlation: &str,
        cookie: &str,
        code: &str,
        now: i64,
    ) -> MyResult<MySession> {
        self.confirm_number(correlation, cookie, code, MethodKind::Voice, now)
            .await
    }

    /// A code texted to a mobile number (`Sms`) or read out by a call to an office number
    /// (`Voice`) confirms it: it becomes the person's (one of each; a new one replaces
    /// the old), and they are told.
    async fn confirm_number(
        &self,
        correlation: &str,
        cookie: &str,
        code: &str,
        kind: MethodKind,
        now: i64,
    ) -> MyResult<MySession> {
        let core = &self.core;
        let (purpose, label) = if kind == MethodKind::Voice {
            ("my-office", "Office phone")
        } else {
            ("my-mobile", "Mobile phone")
        };
        let (user, _) = self.session_user(cookie, Need::Full, now).await?;
        let number = self
            .with_session(cookie, Need::Full, now, |s| {
                let pending = if kind == MethodKind::Voice {
                    &mut s.office
                } else {
                    &mut s.mobile
                };
                let Some((number, sent)) = pending.as_mut() else {
                    return Err(MyError::EnterNumberFirst);
                };
                if sent.expires_at <= now {
                    *pending = None;
                    return Err(MyError::MobileCodeExpired);
                }
                if !code::matches(&core.key, purpose, number, code.trim(), &sent.hash) {
                    sent.tries += 1;
                    if sent.tries >= CODE_TRIES {
                        *pending = None;
                    }
                    return Err(MyError::MobileCode);
                }
                let number = number.clone();
                *pending = None;
                Ok(number)
            })
            .await?;
        core.store
            .replace_registration(&user.id, kind, &number, label, now)
            .await?;
        self.registered(
            correlation,
            &user,
            kind,
            self.told(
                cookie,
                now,
                |t| {
                    if kind == MethodKind::Voice {
                        t.info_office_added
                    } else {
                        t.info_mobile_added
                    }
                },
                &crate::methods::phone::mask(&number),
            )
            .await,
            now,
        )
        .await
    }

    /// Removes one of the person's methods (`id` as the page shows it).
    pub async fn remove(
        &self,
        correlation: &str,
        cookie: &str,
        id: &str,
        now: i64,
    ) -> MyResult<MySession> {
        let core = &self.core;
        let (user, _) = self.session_user(cookie, Need::Full, now).await?;
        let id: i64 = id.parse().map_err(|_| MyError::MethodNotFound)?;
        let registration = core
            .store
            .registration(id)
            .await?
            .filter(|r| r.user_id == user.id)
            .ok_or(MyError::MethodNotFound)?;
        let kind = registration.kind().unwrap_or(MethodKind::Email);
        // Told before it goes, so a removed alternate address hears of it too.
        let phone = || crate::methods::phone::mask(&registration.value);
        let (lang, what) = match kind {
            MethodKind::Approval => {
                self.told(cookie, now, |t| t.info_passkey_removed, &registration.label)
                    .await
            }
            MethodKind::Totp => self.told(cookie, now, |t| t.info_totp_removed, "").await,
            MethodKind::Sms => {
                self.told(cookie, now, |t| t.info_mobile_removed, &phone())
                    .await
            }
            MethodKind::Voice => {
                self.told(cookie, now, |t| t.info_office_removed, &phone())
                    .await
            }
            MethodKind::Questions => {
                self.told(cookie, now, |t| t.info_questions_removed, "")
                    .await
            }
            _ => {
                self.told(
                    cookie,
                    now,
                    |t| t.info_email_removed,
                    &mask::email(&registration.value),
                )
                .await
            }
        };
        self.tell_owner(&user, lang, &what, now).await;
        if !core.store.remove_registration(&user.id, id, now).await? {
            return Err(MyError::MethodNotFound);
        }
        core.registrations_changed.notify_one();
        core.audit
            .record(
                &audit_ctx(correlation, &user),
                Event::MethodRemoved { method: kind },
                now,
            )
            .await;
        self.view(&user, true, now).await
    }

    /// The helpdesk clears every method a person registered (a lost phone, or a secret
    /// key that was lost so their authenticator app no longer checks): they sign in to
    /// "My security info" with their password alone and set up again. The person is told
    /// first (their alternate addresses too) and it is audited. Returns how many went.
    pub async fn clear_methods(&self, user: &DirUser, now: i64) -> MyResult<usize> {
        let core = &self.core;
        let kinds: Vec<MethodKind> = core
            .store
            .registrations(&user.id)
            .await?
            .iter()
            .filter_map(|r| r.kind())
            .collect();
        if kinds.is_empty() {
            return Ok(0);
        }
        // The helpdesk's doing, with no page of the person's open: the organisation's language.
        let lang = self.default_lang();
        self.tell_owner(user, lang, lang.texts().info_cleared, now)
            .await;
        let removed = core.store.remove_registrations(&user.id).await?;
        core.registrations_changed.notify_one();
        let ctx = audit_ctx("admin", user);
        for method in kinds {
            core.audit
                .record(&ctx, Event::MethodRemoved { method }, now)
                .await;
        }
        core.audit.flush().await;
        Ok(removed)
    }
}
