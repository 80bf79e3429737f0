//! Identify: a login typed at a kiosk becomes a flow. A person who may use self-service
//! and has enough methods gets their own; anyone else (unknown, disabled, out of scope,
//! not registered) a decoy of the same shape, made by the same path and ending at the same
//! floor (`pace`), so nothing in the answer tells who exists.

use sspr_proto::{FlowView, Intent, MethodKind, StartFlowRequest};

use super::error::{FlowError, FlowResult, LoginProblem, StepResult};
use super::numbers::DirectoryNumbers;
use super::rows::{FlowMethod, FlowRow};
use super::{
    decoy, mask, method_id, method_label, offerable, Caller, FlowService, FlowState,
    MAX_LOGIN_CHARS,
};
use crate::audit::Event;
use crate::config::NumberSource;
use crate::policy;
use crate::secret::{reference_code, time_ordered_id};
use crate::throttle;

/// Checks a login as typed: not empty, not huge, no control characters.
pub fn validate_login(login: &str) -> Result<&str, LoginProblem> {
    let login = login.trim();
    if login.is_empty() {
        return Err(LoginProblem::Empty);
    }
    if login.chars().count() > MAX_LOGIN_CHARS {
        return Err(LoginProblem::TooLong);
    }
    if login.chars().any(char::is_control) {
        return Err(LoginProblem::ControlCharacters);
    }
    Ok(login)
}

fn validate_locale(locale: Option<&str>, default: &str) -> FlowResult<String> {
    match locale {
        None => Ok(default.to_string()),
        Some(l)
            if (2..=16).contains(&l.len())
                && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') =>
        {
            Ok(l.to_string())
        }
        Some(_) => Err(FlowError::BadLocale),
    }
}

impl FlowService {
    /// Identify: starts a flow for a login. Unknown, disabled, out-of-scope and unregistered
    /// logins get a decoy flow of the same shape, made by the same path.
    pub async fn start(
        &self,
        caller: &Caller,
        req: &StartFlowRequest,
        now: i64,
    ) -> StepResult<FlowView> {
        let login = validate_login(&req.login).map_err(FlowError::Login)?;
        let locale = validate_locale(
            req.locale.as_deref(),
            &self.core.config().organization.default_locale,
        )?;
        if req.intent == Intent::Unlock && !self.core.config().policy.allow_unlock {
            return Err(FlowError::UnlockOff.into());
        }
        let reference = reference_code();
        self.identify(caller, req, login, locale, &reference, now)
            .await
            .map_err(|e| e.at(&reference))
    }

    /// Identify once the request is valid.
    async fn identify(
        &self,
        caller: &Caller,
        req: &StartFlowRequest,
        login: &str,
        locale: String,
        reference: &str,
        now: i64,
    ) -> FlowResult<FlowView> {
        let kiosk_key = throttle::kiosk_key(&caller.kiosk_id);

        let stand_in = self.stand_ins.pick(&self.core.key, login);
        let stand_in_id = stand_in.as_ref().map(|s| s.user_id.as_str()).unwrap_or("-");
        let numbers_from_directory = self
            .core
            .config()
            .policy
            .numbers_from
            .contains(&NumberSource::Directory);
        // The work that depends on who the login is: the directory's search (a person and
        // their nested groups take longer to find than nobody) and one read for the
        // person's methods and their decoy stand-in's (the stand-in's twice for a login
        // without a person). It ends at a floor (`pace`), so its length tells nothing.
        // Numbers from the directory come in the same search (LDAP, AD), or in a request
        // made for any login alike (Entra ID), and are checked under the floor too.
        let (found, rows, numbers) = self
            .pacers
            .identify
            .pace(
                async {
                    let found = if numbers_from_directory {
                        self.core.directories.find_with_phones(login).await
                    } else {
                        self.core.directories.find(login).await
                    };
                    let own_id = match &found {
                        Ok(Some((_, u))) => u.id.clone(),
                        _ => stand_in_id.to_string(),
                    };
                    let rows = self
                        .core
                        .store
                        .registrations_of_two(&own_id, stand_in_id)
                        .await;
                    let numbers = match &found {
                        Ok(Some((_, u))) if numbers_from_directory => {
                            DirectoryNumbers::of(u, &self.core.config().sms)
                        }
                        _ => DirectoryNumbers::default(),
                    };
                    (found, rows, numbers)
                },
                |(found, _, _)| matches!(found, Ok(Some(_))),
            )
            .await;
        let user = match found {
            Ok(found) => found.map(|(_, user)| user),
            Err(e) => return Err(self.directory_down(caller, reference, e, now).await),
        };
        let rows = rows?;
        let decision = user
            .as_ref()
            .map(|u| policy::decide(&self.core.config().policy, u));

        if let (Some(u), true) = (&user, numbers_from_directory) {
            // What decoys that stand in for this person show.
            self.stand_ins.learn_directory_numbers(&u.id, &numbers);
        }
        let real = match (&user, &decision) {
            (Some(u), Some(d)) if d.allowed => {
                let own: Vec<_> = rows.iter().filter(|r| r.user_id == u.id).cloned().collect();
                let methods = self.real_methods(d, &own, &numbers);
                (methods.len() >= d.required as usize).then_some((u, d, methods))
            }
            _ => None,
        };
        let decoy_reason = match (&user, &decision, &real) {
            (_, _, Some(_)) => None,
            (None, _, _) => Some("unknown"),
            (Some(u), _, _) if u.disabled => Some("disabled"),
            (Some(_), Some(d), _) if !d.allowed => Some("not_in_scope"),
            _ => Some("not_registered"),
        };
        let (user_id, throttle_key, methods, required, is_admin) = match real {
            Some((u, d, methods)) => (
                Some(u.id.clone()),
                throttle::user_key(&u.id),
                methods,
                d.required,
                d.is_admin,
            ),
            None => {
                let (methods, required) = self.decoy_methods(login, stand_in.as_ref(), &rows);
                (
                    None,
                    decoy::login_key(&self.core.key, login),
                    methods,
                    required,
                    false,
                )
            }
        };

        let mut ctx = self.ctx(caller, None);
        ctx.reference = Some(reference.to_string());
        ctx.login = Some(login.to_string());
        ctx.user_id = user_id.clone();

        if let Some(until) = self
            .core
            .throttle
            .blocked_until(&throttle_key, &kiosk_key, now)
            .await?
        {
            self.core
                .audit
                .record(
                    &ctx,
                    Event::FlowRefused {
                        reason: "blocked",
                        retry_after_secs: Some(until - now),
                    },
                    now,
                )
                .await;
            return Err(FlowError::Blocked {
                retry_after: until - now,
            });
        }

        let flow = FlowRow {
            id: time_ordered_id(),
            reference: reference.to_string(),
            kiosk_id: caller.kiosk_id.clone(),
            login: login.to_string(),
            user_id,
            throttle_key,
            intent: req.intent,
            locale,
            state: FlowState::Verifying,
            required,
            methods,
            done: Vec::new(),
            is_admin,
            created_at: now,
            expires_at: now + i64::from(self.core.config().policy.flow_ttl_secs),
            finished_at: None,
        };
        self.core.store.insert_flow(&flow).await?;
        self.core
            .audit
            .record(
                &ctx,
                Event::FlowStarted {
                    intent: req.intent.as_str(),
                    required,
                    decoy: decoy_reason.is_some(),
                    reason: decoy_reason,
                },
                now,
            )
            .await;
        Ok(self.view(&flow, now))
    }

    /// What a decoy shows: its stand-in's methods as the stand-in would see them (kinds,
    /// masked addresses, how many are required), with nothing to send to; made up from
    /// every enabled method while nobody has enough methods to stand in.
    fn decoy_methods(
        &self,
        login: &str,
        stand_in: Option<&decoy::StandIn>,
        rows: &[crate::store::Registration],
    ) -> (Vec<FlowMethod>, u8) {
        if let Some(s) = stand_in {
            let decision = policy::decide_for(&self.core.config().policy, s.is_admin);
            let theirs: Vec<_> = rows
                .iter()
                .filter(|r| r.user_id == s.user_id)
                .cloned()
                .collect();
            let numbers = self.stand_ins.directory_numbers_of(&s.user_id);
            let mut methods = self.real_methods(&decision, &theirs, &numbers);
            if methods.len() >= usize::from(decision.required) {
                for m in &mut methods {
                    m.target = String::new();
                    if m.kind == MethodKind::Email {
                        m.masked = self
                            .stand_ins
                            .masked_email(&self.core.key, login, &m.masked);
                    }
                    if matches!(m.kind, MethodKind::Sms | MethodKind::Voice) {
                        // The stand-in's country, the login's own two digits.
                        let prefix = m.masked.split(' ').next().unwrap_or("+").to_string();
                        m.masked = decoy::masked_phone(&self.core.key, login, &prefix);
                    }
                }
                return (methods, decision.required);
            }
        }
        (
            decoy::methods(
                &self.core.key,
                login,
                &policy::enabled_methods(&self.core.config().policy)
                    .into_iter()
                    .filter(|k| offerable(*k, super::Offer::of(&self.core)))
                    .collect::<Vec<_>>(),
                &crate::methods::phone::calling_code(&self.core.config().sms.default_region),
            ),
            self.core.config().policy.methods_required,
        )
    }

    /// The methods a person may use: one a kind the policy allows and this server offers,
    /// from what they registered and, for text messages and calls, from the numbers the
    /// policy's sources give (`policy.numbers_from`): a registered number, else the
    /// directory's (`numbers`, already checked).
    pub(super) fn real_methods(
        &self,
        decision: &policy::Decision,
        registrations: &[crate::store::Registration],
        numbers: &DirectoryNumbers,
    ) -> Vec<FlowMethod> {
        let sources = &self.core.config().policy.numbers_from;
        let registered_numbers = sources.contains(&NumberSource::Registered);
        let directory_numbers = sources.contains(&NumberSource::Directory);
        let mut out = Vec::new();
        let config = self.core.config();
        for kind in &decision.methods {
            if !offerable(*kind, super::Offer::of(&self.core)) {
                continue;
            }
            let phone = matches!(kind, MethodKind::Sms | MethodKind::Voice);
            // One entry a kind: the person chooses a method, not an address.
            let registration = registrations
                .iter()
                .find(|r| r.kind() == Some(*kind) && (registered_numbers || !phone));
            // Questions the policy no longer lists can't be asked: register again.
            if *kind == MethodKind::Questions
                && !registration
                    .and_then(|r| crate::methods::questions::Stored::parse(&r.value))
                    .is_some_and(|s| {
                        s.questions
                            .iter()
                            .all(|q| q.text(&config.policy.questions, "en").is_some())
                    })
            {
                continue;
            }
            let (target, masked) = match (registration, kind) {
                (Some(r), MethodKind::Email) => (r.value.clone(), mask::email(&r.value)),
                (Some(r), MethodKind::Totp | MethodKind::Questions) => {
                    (r.id.to_string(), method_label(*kind).to_string())
                }
                (Some(r), MethodKind::Sms | MethodKind::Voice) => {
                    (r.value.clone(), crate::methods::phone::mask(&r.value))
                }
                (Some(_), _) => (String::new(), method_label(*kind).to_string()),
                (None, MethodKind::Sms | MethodKind::Voice) if directory_numbers => {
                    let number = if *kind == MethodKind::Sms {
                        &numbers.mobile
                    } else {
                        &numbers.office
                    };
                    match number {
                        Some(n) => (n.target.clone(), n.masked.clone()),
                        None => continue,
                    }
                }
                (None, _) => continue,
            };
            out.push(FlowMethod {
                id: method_id(*kind, out.len()),
                kind: *kind,
                target,
                masked,
            });
        }
        out
    }
}
