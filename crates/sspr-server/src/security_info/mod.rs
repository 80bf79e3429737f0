//! "My security info": a person signs in with their directory password, plus one method
//! they registered once they have one, and manages what the kiosk can use: a passkey on
//! this phone, an authenticator app, an alternate email. Every change is audited and the
//! person is told by email. The helpdesk clears a person's methods from here too.
//!
//! A service beside `flow`: it shares the `Core` and takes the time as `now`; `http::my`
//! maps requests onto it, and `web` only serves the page.

mod error;
mod methods;
mod notices;
mod questions;
mod session;
#[cfg(test)]
mod tests;

use std::sync::Arc;

use secrecy::{ExposeSecret, SecretString};
use sspr_proto::{
    MethodKind, MethodView, MyMethod, MySession, SecondFactorChallenge, SecondFactorFinish,
};
use webauthn_rs::prelude::Passkey;

use crate::audit::{self, Event};
use crate::core::Core;
use crate::directory::{DirError, DirUser};
use crate::fault::Internal;
use crate::flow::{decoy, mask, method_label, validate_login};
use crate::lang::Lang;
use crate::methods::{code, passkey, totp};
use crate::notify;
use crate::secret::random_id;
use crate::store::Registration;
use crate::throttle;

pub use error::{MyError, MyResult};
use session::{Need, Second, SentCode, Session};
pub use session::{Sessions, SESSION_SECS};

const CODE_SECS: i64 = 5 * 60;

/// Where a code goes.
#[derive(Clone, Copy)]
pub(super) enum Dest<'a> {
    Mail(&'a str),
    Text(&'a str),
    Call(&'a str),
}
/// Wrong codes a setup or second factor tolerates before it must be started again.
const CODE_TRIES: u8 = 3;

pub struct SecurityInfo {
    core: Arc<Core>,
    sessions: Sessions,
}

/// A new session: the cookie's value for the browser, and what the page shows.
pub struct SignedIn {
    pub cookie: String,
    pub view: MySession,
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
        detail: match kind {
            MethodKind::Email | MethodKind::Sms | MethodKind::Voice => r.value.clone(),
            _ => String::new(),
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
                MethodKind::Sms | MethodKind::Voice => crate::methods::phone::mask(&r.value),
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
                    can_call: false,
                },
                r.id,
            ))
        })
        .collect()
}

/// This page's own counters (as person and as "kiosk"): failures here block signing in
/// here, not the person's resets at a kiosk, so nobody can lock someone out of
/// self-service by mistyping their password on this page.
fn throttle_keys(user: &DirUser) -> (String, String) {
    (format!("my:{}", user.id), format!("my-page:{}", user.id))
}

/// The counters of a login nobody (or nobody enabled) has, shaped as a person's.
fn decoy_throttle_keys(key: &crate::secret::ServerKey, login: &str) -> (String, String) {
    let id = decoy::login_key(key, login);
    (format!("my:{id}"), format!("my-page:{id}"))
}

impl SecurityInfo {
    pub fn new(core: Arc<Core>) -> SecurityInfo {
        SecurityInfo {
            sessions: Sessions::new(core.store.clone(), core.key.clone()),
            core,
        }
    }

    /// Whether the session cookie may go over plain HTTP (only when phones reach the
    /// server that way).
    pub fn secure_cookie(&self) -> bool {
        self.core.config().phone_origin().starts_with("https://")
    }

    async fn session_user(&self, cookie: &str, need: Need, now: i64) -> MyResult<(DirUser, bool)> {
        self.sessions
            .with(cookie, need, now, |s| Ok((s.user.clone(), s.signed_in)))
            .await
    }

    async fn with_session<T>(
        &self,
        cookie: &str,
        need: Need,
        now: i64,
        f: impl FnOnce(&mut Session) -> MyResult<T>,
    ) -> MyResult<T> {
        self.sessions.with(cookie, need, now, f).await
    }

    async fn view(&self, user: &DirUser, signed_in: bool, now: i64) -> MyResult<MySession> {
        let core = &self.core;
        let registrations = core.store.registrations(&user.id).await?;
        let review_days = core.config().policy.reconfirm_days;
        // Nothing registered, nothing to review (a row from before the last removal stays).
        let reviewed = if signed_in && !registrations.is_empty() {
            core.store.reviewed(&user.id).await?
        } else {
            None
        };
        Ok(MySession {
            reviewed_at: reviewed.map(audit::rfc3339),
            review_due: review_due(reviewed, review_days, now),
            review_days,
            display_name: user.display_name.clone(),
            username: user.username.clone(),
            organization: core.config().organization.name.clone(),
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
            can_add: if signed_in {
                let methods = &core.config().policy.methods;
                let mut kinds = Vec::new();
                if core.sms.is_some() && methods.contains(&MethodKind::Sms) {
                    kinds.push(MethodKind::Sms);
                }
                if core.voice.is_some() && methods.contains(&MethodKind::Voice) {
                    kinds.push(MethodKind::Voice);
                }
                if methods.contains(&MethodKind::Questions) {
                    kinds.push(MethodKind::Questions);
                }
                kinds
            } else {
                Vec::new()
            },
        })
    }

    /// Signs in with the directory password. Unknown and disabled logins take the same
    /// path as a wrong password: counted and blocked alike (on a key derived from the
    /// login), checked against a decoy at the same cost, answered alike. Nothing here
    /// tells who exists.
    pub async fn sign_in(
        &self,
        correlation: &str,
        login: &str,
        password: SecretString,
        lang: Option<Lang>,
        now: i64,
    ) -> MyResult<SignedIn> {
        let core = &self.core;
        let login = validate_login(login).map_err(MyError::Login)?;
        let typed = password.expose_secret();
        if typed.is_empty() || typed.chars().count() > 1024 {
            return Err(MyError::WrongSignIn);
        }
        let found = core
            .directories
            .find_home(login)
            .await
            .map_err(|_| MyError::DirectoryDown)?;
        let home = found.as_ref().map(|(home, _)| *home).unwrap_or(0);
        let user = found.map(|(_, u)| u).filter(|u| !u.disabled);
        let (key, my_key) = match &user {
            Some(user) => throttle_keys(user),
            None => decoy_throttle_keys(&core.key, login),
        };
        if let Some(until) = core.throttle.blocked_until(&key, &my_key, now).await? {
            return Err(MyError::Blocked {
                retry_after: until - now,
            });
        }
        let directory = core.directories.get(home).ok_or(MyError::DirectoryDown)?;
        let started = std::time::Instant::now();
        let checked = match &user {
            Some(user) => directory.check_password(user, &password).await,
            None => directory
                .check_decoy_password(&password)
                .await
                .map(|()| false),
        };
        crate::telemetry::directory(directory.name(), "check_password", started, checked.is_ok());
        let ok = match checked {
            Ok(ok) => ok,
            Err(DirError::Unsupported(why)) => return Err(MyError::SignInUnsupported(why)),
            Err(e) => {
                tracing::warn!(error = %e, "security info sign-in: directory unavailable");
                return Err(MyError::DirectoryDown);
            }
        };
        let Some(user) = user else {
            let ctx = audit::Context {
                correlation_id: correlation.to_string(),
                login: Some(login.to_string()),
                ..audit::Context::default()
            };
            return Err(self
                .sign_in_failed(&ctx, (&key, &my_key), "password", "wrong_password", now)
                .await?
                .unwrap_or(MyError::WrongSignIn));
        };
        let ctx = audit_ctx(correlation, &user);
        if !ok {
            let (key, my_key) = throttle_keys(&user);
            return Err(self
                .sign_in_failed(&ctx, (&key, &my_key), "password", "wrong_password", now)
                .await?
                .unwrap_or(MyError::WrongSignIn));
        }
        let view = self.view(&user, false, now).await?;
        let signed_in = view.second_factor.is_empty();
        let view = if signed_in {
            self.view(&user, true, now).await?
        } else {
            view
        };
        core.audit
            .record(&ctx, Event::SecurityInfoSignIn { step: "password" }, now)
            .await;
        let cookie = random_id();
        let session = Session {
            user,
            lang: lang.unwrap_or_else(|| self.default_lang()),
            signed_in,
            expires_at: now + SESSION_SECS,
            second: None,
            passkey: None,
            totp: None,
            email: None,
            mobile: None,
            office: None,
        };
        self.sessions.insert(&cookie, &session).await?;
        Ok(SignedIn { cookie, view })
    }

    /// A failed sign-in step: counted (this page's own counters, or a decoy's for a login
    /// nobody has) and audited. Some(error) when it blocked the person from signing in
    /// here.
    async fn sign_in_failed(
        &self,
        ctx: &audit::Context,
        (key, my_key): (&str, &str),
        step: &'static str,
        reason: &'static str,
        now: i64,
    ) -> MyResult<Option<MyError>> {
        let core = &self.core;
        let blocked_now = core.throttle.failed_verification(key, my_key, now).await?;
        core.audit
            .record(ctx, Event::SecurityInfoSignInFailed { step, reason }, now)
            .await;
        Ok(blocked_now.map(|(_, until)| MyError::Blocked {
            retry_after: until - now,
        }))
    }

    /// What the page shows for this session.
    pub async fn session(&self, cookie: &str, now: i64) -> MyResult<MySession> {
        let (user, signed_in) = self.session_user(cookie, Need::Any, now).await?;
        self.view(&user, signed_in, now).await
    }

    pub async fn sign_out(&self, cookie: &str, now: i64) -> MyResult<()> {
        self.sessions.remove(cookie, now).await
    }

    /// The person confirms their methods are still theirs.
    pub async fn review(&self, correlation: &str, cookie: &str, now: i64) -> MyResult<MySession> {
        let core = &self.core;
        let (user, _) = self.session_user(cookie, Need::Full, now).await?;
        if core.store.registrations(&user.id).await?.is_empty() {
            return Err(MyError::NothingToConfirm);
        }
        core.store.mark_reviewed(&user.id, now).await?;
        core.audit
            .record(
                &audit_ctx(correlation, &user),
                Event::SecurityInfoReviewed,
                now,
            )
            .await;
        self.view(&user, true, now).await
    }

    /// The second step of a sign-in: a code sent, an authenticator code asked for, or a
    /// passkey challenge.
    pub async fn second_start(
        &self,
        cookie: &str,
        method_id: &str,
        now: i64,
    ) -> MyResult<SecondFactorChallenge> {
        let core = &self.core;
        let (user, signed_in) = self.session_user(cookie, Need::Any, now).await?;
        if signed_in {
            return Err(MyError::SignedInAlready);
        }
        let lang = self.lang(cookie, now).await;
        let registrations = core.store.registrations(&user.id).await?;
        let (view, reg_id) = second_methods(&registrations)
            .into_iter()
            .find(|(v, _)| v.id == method_id)
            .ok_or(MyError::NotYourMethod)?;
        let registration = registrations.iter().find(|r| r.id == reg_id);
        let (second, challenge) = match view.kind {
            MethodKind::Email => {
                let sent = self
                    .send_code(
                        &user,
                        lang,
                        registration.map(|r| Dest::Mail(r.value.as_str())),
                        ("my", &view.id),
                        true,
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
            MethodKind::Sms | MethodKind::Voice => {
                let kind = view.kind;
                let sent = self
                    .send_code(
                        &user,
                        lang,
                        registration.map(|r| {
                            if kind == MethodKind::Voice {
                                Dest::Call(r.value.as_str())
                            } else {
                                Dest::Text(r.value.as_str())
                            }
                        }),
                        ("my", &view.id),
                        true,
                        now,
                    )
                    .await?;
                (
                    Second::Code {
                        method_id: view.id.clone(),
                        kind,
                        sent: Some(sent),
                    },
                    SecondFactorChallenge {
                        kind,
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
                let webauthn = core.passkeys.as_ref().ok_or(MyError::PasskeysOff)?;
                let list: Vec<Passkey> = passkey::of(&registrations)
                    .into_iter()
                    .map(|(_, p)| p)
                    .collect();
                let (request, auth) = webauthn
                    .start_authentication(&list)
                    .map_err(|e| MyError::Internal(Internal::new("starting a passkey check", e)))?;
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
        self.with_session(cookie, Need::Any, now, |s| {
            s.second = Some(second);
            Ok(())
        })
        .await?;
        Ok(challenge)
    }

    /// The second step's answer: a code, or the passkey's assertion.
    pub async fn second_finish(
        &self,
        correlation: &str,
        cookie: &str,
        req: &SecondFactorFinish,
        now: i64,
    ) -> MyResult<MySession> {
        let core = &self.core;
        let (user, signed_in) = self.session_user(cookie, Need::Any, now).await?;
        if signed_in {
            return Err(MyError::SignedInAlready);
        }
        let second = self
            .with_session(cookie, Need::Any, now, |s| {
                s.second.take().ok_or(MyError::ChooseMethodFirst)
            })
            .await?;
        let ctx = audit_ctx(correlation, &user);
        let ok = match second {
            Second::Code {
                method_id,
                kind,
                sent,
            } => {
                let answer = req.code.as_deref().map(str::trim).unwrap_or_default();
                match (kind, sent) {
                    (MethodKind::Email | MethodKind::Sms | MethodKind::Voice, Some(sent)) => {
                        if sent.expires_at <= now {
                            return Err(MyError::CodeExpired);
                        }
                        let ok = code::matches(&core.key, "my", &method_id, answer, &sent.hash);
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
                            self.with_session(cookie, Need::Any, now, |s| {
                                s.second = Some(again);
                                Ok(())
                            })
                            .await?;
                        }
                        ok
                    }
                    _ => {
                        let secret = core
                            .store
                            .registrations(&user.id)
                            .await?
                            .into_iter()
                            .find(|r| format!("m{}", r.id) == method_id)
                            .and_then(|r| r.totp_secret(&core.key));
                        let step = secret.and_then(|s| {
                            totp::matching_step(s.expose_secret(), answer, now.max(0) as u64)
                        });
                        let fresh = match step {
                            Some(step) => {
                                core.store.use_totp_step(&user.id, step as i64, now).await?
                            }
                            None => false,
                        };
                        if !fresh {
                            self.with_session(cookie, Need::Any, now, |s| {
                                s.second = Some(Second::Code {
                                    method_id,
                                    kind,
                                    sent: None,
                                });
                                Ok(())
                            })
                            .await?;
                        }
                        fresh
                    }
                }
            }
            Second::Passkey(auth) => {
                let mut passkeys = passkey::of(&core.store.registrations(&user.id).await?);
                let credential = req.credential.clone().unwrap_or_default();
                match core
                    .passkeys
                    .as_ref()
                    .map(|w| w.finish_authentication(&credential, &auth, &mut passkeys))
                {
                    Some(Ok(changed)) => {
                        for (id, p) in changed {
                            let value = serde_json::to_string(&p).map_err(|e| {
                                MyError::Internal(Internal::new("saving a passkey", e))
                            })?;
                            core.store.update_registration(id, &value).await?;
                        }
                        true
                    }
                    _ => false,
                }
            }
        };
        if !ok {
            let (key, my_key) = throttle_keys(&user);
            return Err(self
                .sign_in_failed(&ctx, (&key, &my_key), "second_factor", "wrong_code", now)
                .await?
                .unwrap_or(MyError::SecondFactorFailed));
        }
        self.with_session(cookie, Need::Any, now, |s| {
            s.signed_in = true;
            s.expires_at = now + SESSION_SECS;
            Ok(())
        })
        .await?;
        core.audit
            .record(
                &ctx,
                Event::SecurityInfoSignIn {
                    step: "second_factor",
                },
                now,
            )
            .await;
        self.view(&user, true, now).await
    }

    /// A code for this page, rate limited as the kiosk's emails are: mailed to `to` (when
    /// there is an address) and kept as its keyed hash under `purpose` and `bound_to`.
    async fn send_code(
        &self,
        user: &DirUser,
        lang: Lang,
        to: Option<Dest<'_>>,
        (purpose, bound_to): (&str, &str),
        signing_in: bool,
        now: i64,
    ) -> MyResult<SentCode> {
        let core = &self.core;
        let (key, my_key) = throttle_keys(user);
        let kind = match to {
            Some(Dest::Text(_) | Dest::Call(_)) => throttle::PHONE,
            _ => throttle::EMAIL,
        };
        if let Some(wait) = core.throttle.rate_limited(&key, &my_key, kind, now).await? {
            return Err(MyError::TooManyCodes { wait, signing_in });
        }
        let code = zeroize::Zeroizing::new(core.random.digits(core.config().policy.code_length));
        let hash = code::hash(&core.key, purpose, bound_to, &code);
        match to {
            Some(Dest::Mail(to)) => self.mail_code(lang, to, &code),
            Some(Dest::Text(to)) => self.text_code(lang, to, &code).await?,
            Some(Dest::Call(to)) => self.call_code(lang, to, &code).await?,
            None => {}
        }
        core.throttle.record(&key, &my_key, kind, now).await?;
        Ok(SentCode {
            hash,
            expires_at: now + CODE_SECS,
            tries: 0,
        })
    }

    /// Texts a code (awaited: a gateway that fails is told at once, and nothing counts).
    async fn text_code(&self, lang: Lang, to: &str, code: &str) -> MyResult<()> {
        let sms = self.core.sms.as_ref().ok_or(MyError::SmsOff)?;
        let config = self.core.config();
        let text = lang.format(
            lang.texts().sms_my_code,
            &[
                ("code", &code),
                ("organization", &config.organization.name),
                ("minutes", &(CODE_SECS / 60)),
            ],
        );
        sms.send(to, &text).await.map(|_| ()).map_err(|why| {
            tracing::warn!(reason = %why, "texting a security info code failed");
            MyError::TextFailed
        })
    }

    /// Calls a number and reads a code out (awaited, as a text is).
    async fn call_code(&self, lang: Lang, to: &str, code: &str) -> MyResult<()> {
        let voice = self.core.voice.as_ref().ok_or(MyError::SmsOff)?;
        let config = self.core.config();
        let twiml = crate::sms::code_call(lang.code(), &config.organization.name, code);
        voice.send(to, &twiml).await.map(|_| ()).map_err(|why| {
            tracing::warn!(reason = %why, "calling with a security info code failed");
            MyError::TextFailed
        })
    }

    fn mail_code(&self, lang: Lang, to: &str, code: &str) {
        let config = self.core.config();
        let mail = notify::code_mail(
            to,
            &notify::CodeMail {
                locale: lang.code(),
                organization: &config.organization.name,
                code,
                minutes: (CODE_SECS / 60) as u32,
                kiosk: lang.texts().my_security_info,
            },
        );
        let mailer = self.core.mailer.clone();
        tokio::spawn(async move {
            if let Err(reason) = mailer.send(&mail).await {
                tracing::warn!(reason = %reason, "sending a security info code failed");
            }
        });
    }
}
