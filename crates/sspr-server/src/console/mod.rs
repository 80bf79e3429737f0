//! The admin console: IT admins, the helpdesk and readers sign in with their directory
//! password and a passkey they registered on "My security info" (user verification
//! required; no other second factor), get roles from directory groups
//! (`console.*_groups`), and read and change what the pages show through `/v1/admin/*`.
//!
//! A service beside `flow` and `security_info` on the same `Core`, taking the time as
//! `now`. A failed sign-in (wrong password, a login nobody has, someone in no console
//! group or without a passkey, a wrong passkey) is answered, counted and timed alike: the
//! password step always answers with a passkey request (a decoy's when nobody could pass),
//! and only the passkey step fails, with one answer.

mod audit_log;
mod error;
mod insights;
mod kiosks;
mod overview;
mod policy;
mod session;
#[cfg(test)]
mod tests;

use std::sync::Arc;

use secrecy::{ExposeSecret, SecretString};
use sspr_proto::{ConsoleRole, ConsoleSession, PasskeyRequest};

use crate::audit::{self, Event};
use crate::config::ConsoleConfig;
use crate::core::Core;
use crate::directory::DirUser;
use crate::fault::Internal;
use crate::flow::pace::Pacer;
use crate::flow::{decoy, validate_login};
use crate::methods::passkey;
use crate::secret::{constant_time_eq, random_id};

pub use audit_log::{csv_row, CSV_HEADER, EXPORT_SLICE};
pub use error::{ConsoleError, ConsoleResult};
pub use insights::{coverage_csv, Bucket, Range};
use session::{Active, Candidate, Pending, Session};
pub use session::{Sessions, IDLE_SECS, MAX_SECS, REAUTH_SECS};

pub struct Console {
    core: Arc<Core>,
    sessions: Sessions,
    /// A floor under the sign-in's directory search and methods' read, whose length
    /// differs between a person and nobody (`flow::pace`).
    pacer: Pacer,
    /// Usage & insights' tallies of closed days (`insights`), by day.
    days: std::sync::Mutex<insights::Days>,
}

/// Who is calling, from a live session: what every operation but sign-in takes.
#[derive(Debug, Clone)]
pub struct Caller {
    pub user: DirUser,
    pub roles: Vec<ConsoleRole>,
    pub passkey_at: i64,
    /// Where the request came from (the audit's "from where").
    pub from: String,
    pub correlation: String,
}

/// What a role may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Capability {
    /// Overview and insights: every role.
    ReadInsights,
    /// The policy as it stands: every role.
    ReadPolicy,
    /// The audit, kiosks and directories: admins and the helpdesk.
    ReadAudit,
    /// Look up a reference code, clear a person's methods: admins and the helpdesk.
    Helpdesk,
    /// Change the policy, kiosks, test directories: admins.
    Administer,
}

impl Capability {
    fn what(self) -> &'static str {
        match self {
            Capability::ReadInsights | Capability::ReadPolicy => "read this",
            Capability::ReadAudit => "read the audit log, kiosks and directories",
            Capability::Helpdesk => "use the helpdesk tools",
            Capability::Administer => "change the policy, kiosks or directories",
        }
    }
}

impl Caller {
    pub fn may(&self, c: Capability) -> bool {
        let has = |r| self.roles.contains(&r);
        match c {
            Capability::ReadInsights | Capability::ReadPolicy => !self.roles.is_empty(),
            Capability::ReadAudit | Capability::Helpdesk => {
                has(ConsoleRole::Admin) || has(ConsoleRole::Helpdesk)
            }
            Capability::Administer => has(ConsoleRole::Admin),
        }
    }

    pub fn require(&self, c: Capability) -> ConsoleResult<()> {
        if self.may(c) {
            Ok(())
        } else {
            Err(ConsoleError::Forbidden(c.what()))
        }
    }

    /// The audit's context for what this caller does.
    pub fn audit_ctx(&self) -> audit::Context {
        audit::Context {
            correlation_id: self.correlation.clone(),
            kiosk_id: None,
            reference: None,
            login: Some(self.user.username.clone()),
            user_id: Some(self.user.id.clone()),
        }
    }

    /// "ada (console, 192.0.2.7)": a policy version's author.
    pub fn author(&self) -> String {
        format!("{} (console, {})", self.user.username, self.from)
    }
}

/// The roles the configured groups give someone in `groups` (their groups as the
/// directory resolves them: nested ones included).
pub fn roles_of(config: &ConsoleConfig, groups: &[String]) -> Vec<ConsoleRole> {
    let within = |wanted: &[String]| {
        groups
            .iter()
            .any(|g| wanted.iter().any(|w| w.eq_ignore_ascii_case(g)))
    };
    let mut roles = Vec::new();
    if within(&config.admin_groups) {
        roles.push(ConsoleRole::Admin);
    }
    if within(&config.helpdesk_groups) {
        roles.push(ConsoleRole::Helpdesk);
    }
    if within(&config.reader_groups) {
        roles.push(ConsoleRole::Reader);
    }
    roles
}

/// A new session: the cookie's value for the browser, and what the page shows.
pub struct SignedIn {
    pub cookie: String,
    pub view: ConsoleSession,
}

/// The first step's answer: a pending session's cookie and the passkey request.
pub struct PasswordStep {
    pub cookie: String,
    pub passkey: PasskeyRequest,
}

/// The counters of a console sign-in: its own, apart from the kiosk's and /my's.
fn throttle_keys(id: &str) -> (String, String) {
    (format!("console:{id}"), format!("console-page:{id}"))
}

impl Console {
    pub fn new(core: Arc<Core>) -> Console {
        Console {
            sessions: Sessions::new(core.store.clone(), core.key.clone()),
            core,
            pacer: Pacer::default(),
            days: std::sync::Mutex::default(),
        }
    }

    pub fn core(&self) -> &Arc<Core> {
        &self.core
    }

    /// Whether the session cookie may go over plain HTTP (only when the server is
    /// reached that way).
    pub fn secure_cookie(&self) -> bool {
        self.core.config().phone_origin().starts_with("https://")
    }

    fn view(&self, a: &Active) -> ConsoleSession {
        let config = self.core.config();
        ConsoleSession {
            username: a.user.username.clone(),
            display_name: a.user.display_name.clone(),
            organization: config.organization.name.clone(),
            roles: a.roles.clone(),
            csrf_token: a.csrf.clone(),
            idle_expires_at: audit::rfc3339(a.idle_expires_at()),
            ends_at: audit::rfc3339(a.ends_at()),
            passkey_checked_at: audit::rfc3339(a.passkey_at),
            policy_read_only: config.console.policy_read_only,
        }
    }

    /// The password step. Always a passkey request (a decoy's for a wrong password, a
    /// login nobody has, someone in no console group or with no passkey), so this answer
    /// tells nothing; the passkey step fails alike for all of them.
    pub async fn sign_in(
        &self,
        login: &str,
        password: SecretString,
        now: i64,
    ) -> ConsoleResult<PasswordStep> {
        let core = &self.core;
        let webauthn = core.passkeys.as_ref().ok_or(ConsoleError::PasskeysOff)?;
        let login = validate_login(login)?;
        if password.expose_secret().is_empty() {
            return Err(ConsoleError::BadInput("Type your password.".into()));
        }
        if password.expose_secret().chars().count() > 1024 {
            return Err(ConsoleError::BadInput(
                "A password has at most 1,024 characters.".into(),
            ));
        }
        // The work whose length depends on who the login is: the search (a person and
        // their nested groups take longer to find than nobody) and one read of methods
        // (a person's, or nobody's). It ends at a floor.
        let nobody = "-";
        let (found, registrations) = self
            .pacer
            .pace(
                async {
                    let found = core.directories.find(login).await;
                    let id = match &found {
                        Ok(Some((_, u))) => u.id.clone(),
                        _ => nobody.to_string(),
                    };
                    let registrations = core.store.registrations(&id).await;
                    (found, registrations)
                },
                |(found, _)| matches!(found, Ok(Some(_))),
            )
            .await;
        let found = found.map_err(|e| {
            tracing::warn!(error = %e, "console sign-in: directory unavailable");
            ConsoleError::DirectoryDown
        })?;
        let registrations = registrations?;
        let home = found.as_ref().map(|(home, _)| *home).unwrap_or(0);
        let user = found.map(|(_, u)| u).filter(|u| !u.disabled);
        let throttle = match &user {
            Some(user) => throttle_keys(&user.id),
            None => throttle_keys(&decoy::login_key(&core.key, login)),
        };
        if let Some(until) = core
            .throttle
            .blocked_until(&throttle.0, &throttle.1, now)
            .await?
        {
            return Err(ConsoleError::Blocked {
                retry_after: until - now,
            });
        }
        let directory = core
            .directories
            .get(home)
            .ok_or(ConsoleError::DirectoryDown)?;
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
            // A directory that can't sign people in here: nobody passes (alike).
            Err(crate::directory::DirError::Unsupported(_)) => false,
            Err(e) => {
                tracing::warn!(error = %e, "console sign-in: directory unavailable");
                return Err(ConsoleError::DirectoryDown);
            }
        };
        let candidate = match user {
            Some(user) if ok => {
                let roles = roles_of(&core.config().console, &user.groups);
                let passkeys: Vec<_> = passkey::of(&registrations)
                    .into_iter()
                    .map(|(_, p)| p)
                    .collect();
                if roles.is_empty() || passkeys.is_empty() {
                    None
                } else {
                    let (request, auth) =
                        webauthn.start_authentication(&passkeys).map_err(|e| {
                            ConsoleError::Internal(Internal::new("starting a passkey check", e))
                        })?;
                    Some((request, Candidate { user, roles, auth }))
                }
            }
            _ => None,
        };
        let (passkey, candidate) = match candidate {
            Some((request, c)) => (request, Some(c)),
            None => (webauthn.decoy_request(&core.key, login), None),
        };
        let cookie = random_id();
        let pending = Session::Pending(Pending {
            login: login.to_string(),
            throttle,
            candidate,
            expires_at: now + session::PENDING_SECS,
        });
        self.sessions.insert(&cookie, &pending).await?;
        Ok(PasswordStep { cookie, passkey })
    }

    /// The passkey step: signs in, under a new cookie, or fails with one answer for
    /// every reason (counted against the login, whoever it is).
    pub async fn sign_in_passkey(
        &self,
        correlation: &str,
        from: &str,
        cookie: &str,
        credential: &serde_json::Value,
        now: i64,
    ) -> ConsoleResult<SignedIn> {
        let core = &self.core;
        let pending = match self.sessions.remove(cookie, now).await? {
            Some(Session::Pending(p)) if p.expires_at > now => p,
            _ => return Err(ConsoleError::SignInFirst),
        };
        let (key, page_key) = (&pending.throttle.0, &pending.throttle.1);
        if let Some(until) = core.throttle.blocked_until(key, page_key, now).await? {
            return Err(ConsoleError::Blocked {
                retry_after: until - now,
            });
        }
        let ctx = audit::Context {
            correlation_id: correlation.to_string(),
            login: Some(pending.login.clone()),
            user_id: pending.candidate.as_ref().map(|c| c.user.id.clone()),
            ..audit::Context::default()
        };
        let checked = match pending.candidate {
            Some(c) => match self.check_passkey(&c.user, credential, &c.auth).await? {
                true => Ok(c),
                false => Err("passkey_failed"),
            },
            None => Err("password_role_or_passkey"),
        };
        let candidate = match checked {
            Ok(c) => c,
            Err(reason) => {
                let blocked = core
                    .throttle
                    .failed_verification(key, page_key, now)
                    .await?;
                core.audit
                    .record(
                        &ctx,
                        Event::ConsoleSignInFailed {
                            reason,
                            from: from.to_string(),
                        },
                        now,
                    )
                    .await;
                return Err(match blocked {
                    Some((_, until)) => ConsoleError::Blocked {
                        retry_after: until - now,
                    },
                    None => ConsoleError::SignInFailed,
                });
            }
        };
        let active = Active {
            user: candidate.user,
            roles: candidate.roles,
            csrf: random_id(),
            signed_in_at: now,
            last_used_at: now,
            passkey_at: now,
            reauth: None,
        };
        core.audit
            .record(
                &ctx,
                Event::ConsoleSignIn {
                    roles: active.roles.iter().map(|r| role_name(*r)).collect(),
                    from: from.to_string(),
                },
                now,
            )
            .await;
        let view = self.view(&active);
        let cookie = random_id();
        self.sessions
            .insert(&cookie, &Session::Active(active))
            .await?;
        Ok(SignedIn { cookie, view })
    }

    /// Verifies a passkey's answer for `user`, keeping its counter up to date.
    async fn check_passkey(
        &self,
        user: &DirUser,
        credential: &serde_json::Value,
        auth: &webauthn_rs::prelude::PasskeyAuthentication,
    ) -> ConsoleResult<bool> {
        let core = &self.core;
        let Some(webauthn) = core.passkeys.as_ref() else {
            return Ok(false);
        };
        let mut passkeys = passkey::of(&core.store.registrations(&user.id).await?);
        match webauthn.finish_authentication(credential, auth, &mut passkeys) {
            Ok(changed) => {
                for (id, p) in changed {
                    let value = serde_json::to_string(&p).map_err(|e| {
                        ConsoleError::Internal(Internal::new("saving a passkey", e))
                    })?;
                    core.store.update_registration(id, &value).await?;
                }
                Ok(true)
            }
            Err(_) => Ok(false),
        }
    }

    /// The caller of a live session; with `csrf` (state-changing calls) the session's
    /// token must match. Each call keeps the session from going idle.
    pub async fn caller(
        &self,
        cookie: &str,
        csrf: Option<&str>,
        correlation: &str,
        from: &str,
        now: i64,
    ) -> ConsoleResult<Caller> {
        self.sessions
            .with(cookie, now, |s| match s {
                Session::Active(a) if a.ends_at() > now => {
                    if let Some(token) = csrf {
                        if !constant_time_eq(token.as_bytes(), a.csrf.as_bytes()) {
                            return Err(ConsoleError::Csrf);
                        }
                    }
                    a.last_used_at = now;
                    Ok(Caller {
                        user: a.user.clone(),
                        roles: a.roles.clone(),
                        passkey_at: a.passkey_at,
                        from: from.to_string(),
                        correlation: correlation.to_string(),
                    })
                }
                _ => Err(ConsoleError::NoSession),
            })
            .await?
            .unwrap_or(Err(ConsoleError::NoSession))
    }

    /// The session as the page shows it.
    pub async fn session(&self, cookie: &str, now: i64) -> ConsoleResult<ConsoleSession> {
        self.sessions
            .with(cookie, now, |s| match s {
                Session::Active(a) if a.ends_at() > now => {
                    a.last_used_at = now;
                    Ok(self.view(a))
                }
                _ => Err(ConsoleError::NoSession),
            })
            .await?
            .unwrap_or(Err(ConsoleError::NoSession))
    }

    pub async fn sign_out(&self, caller: &Caller, cookie: &str, now: i64) -> ConsoleResult<()> {
        self.sessions.remove(cookie, now).await?;
        self.core
            .audit
            .record(
                &caller.audit_ctx(),
                Event::ConsoleSignedOut {
                    from: caller.from.clone(),
                },
                now,
            )
            .await;
        Ok(())
    }

    /// Asks for the passkey again (before a policy change, when the last check is older
    /// than five minutes).
    pub async fn reauth_start(
        &self,
        caller: &Caller,
        cookie: &str,
        now: i64,
    ) -> ConsoleResult<PasskeyRequest> {
        let core = &self.core;
        let webauthn = core.passkeys.as_ref().ok_or(ConsoleError::PasskeysOff)?;
        let passkeys: Vec<_> = passkey::of(&core.store.registrations(&caller.user.id).await?)
            .into_iter()
            .map(|(_, p)| p)
            .collect();
        let (request, auth) = webauthn
            .start_authentication(&passkeys)
            .map_err(|e| ConsoleError::Internal(Internal::new("starting a passkey check", e)))?;
        self.sessions
            .with(cookie, now, |s| {
                if let Session::Active(a) = s {
                    a.reauth = Some(auth);
                }
            })
            .await?
            .ok_or(ConsoleError::NoSession)?;
        Ok(request)
    }

    pub async fn reauth_finish(
        &self,
        caller: &Caller,
        cookie: &str,
        credential: &serde_json::Value,
        now: i64,
    ) -> ConsoleResult<ConsoleSession> {
        let core = &self.core;
        let auth = self
            .sessions
            .with(cookie, now, |s| match s {
                Session::Active(a) => a.reauth.take(),
                _ => None,
            })
            .await?
            .flatten()
            .ok_or(ConsoleError::StartReauthFirst)?;
        let ok = self.check_passkey(&caller.user, credential, &auth).await?;
        let ctx = caller.audit_ctx();
        if !ok {
            core.audit
                .record(
                    &ctx,
                    Event::ConsoleSignInFailed {
                        reason: "reauth_passkey_failed",
                        from: caller.from.clone(),
                    },
                    now,
                )
                .await;
            return Err(ConsoleError::ReauthFailed);
        }
        core.audit
            .record(
                &ctx,
                Event::ConsoleReauthenticated {
                    from: caller.from.clone(),
                },
                now,
            )
            .await;
        self.sessions
            .with(cookie, now, |s| match s {
                Session::Active(a) => {
                    a.passkey_at = now;
                    Ok(self.view(a))
                }
                Session::Pending(_) => Err(ConsoleError::NoSession),
            })
            .await?
            .unwrap_or(Err(ConsoleError::NoSession))
    }
}

pub fn role_name(r: ConsoleRole) -> &'static str {
    match r {
        ConsoleRole::Admin => "admin",
        ConsoleRole::Helpdesk => "helpdesk",
        ConsoleRole::Reader => "reader",
    }
}
