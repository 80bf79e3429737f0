//! The flow: identify → choose method → challenge → verify (until the policy's count is
//! met) → new password or unlock (`writeback`) → done. Every step is a call here; a
//! skipped or repeated step is refused. Time comes in as `now` (unix seconds) so tests
//! control it.

pub mod approval;
pub mod decoy;
pub mod mask;
pub mod pace;
pub mod rows;
mod writeback;

use std::sync::Arc;

use sspr_proto::{
    ChallengeView, ErrorCode, FlowState as WireState, FlowView, Intent, MethodKind, MethodView, PasswordCheck,
    StartFlowRequest, VerifyRequest,
};

use crate::audit::{self, Event};
use crate::core::Core;
use crate::directory::{DirError, DirUser};
use crate::error::{ApiError, ApiResult};
use crate::methods::{code, totp};
use crate::notify;
use crate::policy;
use crate::secret::{reference_code, time_ordered_id};
pub use rows::{ChallengeRow, FlowMethod, FlowRow, Spent};
use crate::throttle;

/// Longest login accepted (usernames and email addresses are far shorter).
pub const MAX_LOGIN_CHARS: usize = 256;

/// Where a flow stands, as stored. Every step a flow may take:
///
/// ```text
///  identify ──► Verifying ──verify (fewer than `required` done)──► Verifying
///               Verifying ──verify (the `required`-th method)────► Verified
///               Verified  ──password / unlock: the write starts──► Writing
///               Writing   ──the directories took it─────────────► Completed
///               Writing   ──the write failed (nothing or a part)─► Verified (try again)
///               Verifying ──cancel──► Cancelled
///               Verified  ──cancel──► Cancelled
/// ```
///
/// Completed and Cancelled are final; a flow past its `expires_at` takes no step. Each
/// step moves the stored state with a compare-and-set (`Store::update_flow_state`), so a
/// step sent twice at once is taken once. `Writing` is a verified flow whose write is
/// under way, so a second password or unlock request can't start another.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlowState {
    Verifying,
    Verified,
    Writing,
    Completed,
    Cancelled,
}

impl FlowState {
    pub fn as_str(self) -> &'static str {
        match self {
            FlowState::Verifying => "verifying",
            FlowState::Verified => "verified",
            FlowState::Writing => "writing",
            FlowState::Completed => "completed",
            FlowState::Cancelled => "cancelled",
        }
    }

    pub fn parse(s: &str) -> Option<FlowState> {
        Some(match s {
            "verifying" => FlowState::Verifying,
            "verified" => FlowState::Verified,
            "writing" => FlowState::Writing,
            "completed" => FlowState::Completed,
            "cancelled" => FlowState::Cancelled,
            _ => return None,
        })
    }

    /// As the kiosk is told: a write under way is still "verified" to it.
    pub fn wire(self) -> WireState {
        match self {
            FlowState::Verifying => WireState::Verifying,
            FlowState::Verified | FlowState::Writing => WireState::Verified,
            FlowState::Completed => WireState::Completed,
            FlowState::Cancelled => WireState::Cancelled,
        }
    }

    /// Completed or cancelled: no step follows.
    pub fn is_final(self) -> bool {
        matches!(self, FlowState::Completed | FlowState::Cancelled)
    }
}

/// The kiosk a request came from, and its correlation id.
#[derive(Debug, Clone)]
pub struct Caller {
    pub kiosk_id: String,
    pub kiosk_name: String,
    pub kiosk_location: String,
    pub correlation_id: String,
}

pub struct FlowService {
    pub core: Arc<Core>,
    pub approvals: approval::Approvals,
    /// The people decoys stand in for (refreshed in the background).
    pub stand_ins: decoy::StandIns,
    /// Floors under the steps a decoy takes differently from a real person.
    pub pacers: Pacers,
}

/// One floor for each part of a step whose work depends on who the login is (`pace`):
/// identify's search and reads, and asking for an email code.
#[derive(Default)]
pub struct Pacers {
    pub identify: pace::Pacer,
    pub code: pace::Pacer,
}

pub fn method_id(kind: MethodKind, index: usize) -> String {
    format!("{}-{}", kind.as_str(), index + 1)
}

pub fn method_label(kind: MethodKind) -> &'static str {
    match kind {
        MethodKind::Email => "Email",
        MethodKind::Totp => "Authenticator app",
        MethodKind::Sms => "Text message",
        MethodKind::Voice => "Phone call",
        MethodKind::Questions => "Security questions",
        MethodKind::Approval => "Approve on your phone",
    }
}

/// Whether a kind of method can be offered at a kiosk here: approval needs passkeys (a
/// host name phones reach); SMS, voice and questions are not built yet.
pub fn offerable(kind: MethodKind, passkeys_on: bool) -> bool {
    match kind {
        MethodKind::Email | MethodKind::Totp => true,
        MethodKind::Approval => passkeys_on,
        MethodKind::Sms | MethodKind::Voice | MethodKind::Questions => false,
    }
}

/// Checks a login as typed: not empty, not huge, no control characters.
pub fn validate_login(login: &str) -> ApiResult<&str> {
    let login = login.trim();
    if login.is_empty() {
        return Err(ApiError::bad_request(
            "Enter your username or email address.",
        ));
    }
    if login.chars().count() > MAX_LOGIN_CHARS {
        return Err(ApiError::bad_request(format!(
            "A username or email address has at most {MAX_LOGIN_CHARS} characters."
        )));
    }
    if login.chars().any(char::is_control) {
        return Err(ApiError::bad_request(
            "A username or email address can't contain control characters.",
        ));
    }
    Ok(login)
}

fn validate_locale(locale: Option<&str>, default: &str) -> ApiResult<String> {
    match locale {
        None => Ok(default.to_string()),
        Some(l)
            if (2..=16).contains(&l.len())
                && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') =>
        {
            Ok(l.to_string())
        }
        Some(_) => Err(ApiError::bad_request(
            "The locale must be a language tag such as \"en\" or \"de\".",
        )),
    }
}

impl FlowService {
    pub fn new(core: Arc<Core>) -> FlowService {
        FlowService {
            core,
            approvals: approval::Approvals::default(),
            stand_ins: decoy::StandIns::default(),
            pacers: Pacers::default(),
        }
    }

    /// Reads again who decoys stand in for; a failure keeps the last ring.
    pub async fn refresh_stand_ins(&self) {
        match self
            .stand_ins
            .refresh(
                &self.core.key,
                &self.core.store,
                &self.core.directories,
                self.core.policy(),
                self.core.passkeys.is_some(),
            )
            .await
        {
            Ok(n) => tracing::debug!(people = n, "decoys stand in for real people's methods"),
            Err(e) => tracing::warn!(error = %e, "reading who decoys stand in for failed"),
        }
    }

    fn ctx(&self, caller: &Caller, flow: Option<&FlowRow>) -> audit::Context {
        audit::Context {
            correlation_id: caller.correlation_id.clone(),
            kiosk_id: Some(caller.kiosk_id.clone()),
            reference: flow.map(|f| f.reference.clone()),
            login: flow.map(|f| f.login.clone()),
            user_id: flow.and_then(|f| f.user_id.clone()),
        }
    }

    fn view(&self, f: &FlowRow, now: i64) -> FlowView {
        FlowView {
            flow_id: f.id.clone(),
            reference: f.reference.clone(),
            intent: f.intent,
            state: f.state.wire(),
            methods: f
                .methods
                .iter()
                .map(|m| MethodView {
                    done: f.is_done(&m.id),
                    id: m.id.clone(),
                    kind: m.kind,
                    masked: m.masked.clone(),
                })
                .collect(),
            required: f.required,
            done: f.done.len() as u8,
            expires_in_secs: (f.expires_at - now).max(0) as u32,
            password_rules: self.core.passwords.rules_with(self.core.directories.rules()),
            unlock_allowed: f.intent == Intent::Unlock && self.core.policy().allow_unlock,
        }
    }

    /// Identify: starts a flow for a login. Unknown, disabled, out-of-scope and unregistered
    /// logins get a decoy flow of the same shape, made by the same path.
    pub async fn start(
        &self,
        caller: &Caller,
        req: &StartFlowRequest,
        now: i64,
    ) -> ApiResult<FlowView> {
        let login = validate_login(&req.login)?;
        let locale = validate_locale(
            req.locale.as_deref(),
            &self.core.config().organization.default_locale,
        )?;
        if req.intent == Intent::Unlock && !self.core.policy().allow_unlock {
            return Err(ApiError::new(
                ErrorCode::NotAllowed,
                "Unlocking without a reset is turned off here. Choose \"Reset my password\".",
            ));
        }
        self.identify(caller, req, login, locale, now).await
    }

    /// Identify once the request is valid.
    async fn identify(
        &self,
        caller: &Caller,
        req: &StartFlowRequest,
        login: &str,
        locale: String,
        now: i64,
    ) -> ApiResult<FlowView> {
        let reference = reference_code();
        let kiosk_key = throttle::kiosk_key(&caller.kiosk_id);

        let stand_in = self.stand_ins.pick(&self.core.key, login);
        let stand_in_id = stand_in.as_ref().map(|s| s.user_id.as_str()).unwrap_or("-");
        // The work that depends on who the login is: the directory's search (a person and
        // their nested groups take longer to find than nobody) and one read for the
        // person's methods and their decoy stand-in's (the stand-in's twice for a login
        // without a person). It ends at a floor (`pace`), so its length tells nothing.
        let (found, rows) = self
            .pacers
            .identify
            .pace(
                async {
                    let found = self.core.directories.find(login).await;
                    let own_id = match &found {
                        Ok(Some((_, u))) => u.id.clone(),
                        _ => stand_in_id.to_string(),
                    };
                    let rows = self.core.store.registrations_of_two(&own_id, stand_in_id).await;
                    (found, rows)
                },
                |(found, _)| matches!(found, Ok(Some(_))),
            )
            .await;
        let user = match found {
            Ok(found) => found.map(|(_, user)| user),
            Err(e) => return Err(self.directory_down(caller, &reference, e, now).await),
        };
        let rows = rows?;
        let decision = user
            .as_ref()
            .map(|u| policy::decide(self.core.policy(), u));

        let real = match (&user, &decision) {
            (Some(u), Some(d)) if d.allowed => {
                let own: Vec<_> = rows.iter().filter(|r| r.user_id == u.id).cloned().collect();
                let methods = self.real_methods(d, &own);
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
        ctx.reference = Some(reference.clone());
        ctx.login = Some(login.to_string());
        ctx.user_id = user_id.clone();

        if let Some(until) = self.core
            .throttle
            .blocked_until(&throttle_key, &kiosk_key, now)
            .await?
        {
            self.core.audit
                .record(
                    &ctx,
                    Event::FlowRefused {
                        reason: "blocked",
                        retry_after_secs: Some(until - now),
                    },
                    now,
                )
                .await;
            return Err(blocked(until - now).with_reference(&reference));
        }

        let flow = FlowRow {
            id: time_ordered_id(),
            reference,
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
            expires_at: now + i64::from(self.core.policy().flow_ttl_secs),
            finished_at: None,
        };
        self.core.store.insert_flow(&flow).await?;
        self.core.audit
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
            let decision = policy::decide_for(self.core.policy(), s.is_admin);
            let theirs: Vec<_> = rows
                .iter()
                .filter(|r| r.user_id == s.user_id)
                .cloned()
                .collect();
            let mut methods = self.real_methods(&decision, &theirs);
            if methods.len() >= usize::from(decision.required) {
                for m in &mut methods {
                    m.target = String::new();
                    if m.kind == MethodKind::Email {
                        m.masked = self.stand_ins.masked_email(&self.core.key, login, &m.masked);
                    }
                }
                return (methods, decision.required);
            }
        }
        (
            decoy::methods(
                &self.core.key,
                login,
                &policy::enabled_methods(self.core.policy()),
            ),
            self.core.policy().methods_required,
        )
    }

    fn real_methods(
        &self,
        decision: &policy::Decision,
        registrations: &[crate::store::Registration],
    ) -> Vec<FlowMethod> {
        let mut out = Vec::new();
        for kind in &decision.methods {
            for r in registrations.iter().filter(|r| r.kind() == Some(*kind)) {
                if !offerable(*kind, self.core.passkeys.is_some()) {
                    continue;
                }
                let (target, masked) = match kind {
                    MethodKind::Email => (r.value.clone(), mask::email(&r.value)),
                    MethodKind::Totp => (r.id.to_string(), method_label(*kind).to_string()),
                    _ => (String::new(), method_label(*kind).to_string()),
                };
                out.push(FlowMethod {
                    id: method_id(*kind, out.len()),
                    kind: *kind,
                    target,
                    masked,
                });
                // One entry a kind: the person chooses a method, not an address.
                break;
            }
        }
        out
    }

    /// Loads a flow of this kiosk that is still alive.
    async fn live_flow(&self, caller: &Caller, flow_id: &str, now: i64) -> ApiResult<FlowRow> {
        let flow = self.core
            .store
            .flow(flow_id)
            .await?
            .filter(|f| f.kiosk_id == caller.kiosk_id)
            .ok_or_else(|| ApiError::not_found("flow"))?;
        if flow.expires_at <= now && !flow.state.is_final() {
            return Err(ApiError::new(
                ErrorCode::FlowExpired,
                "This attempt timed out. Please start again.",
            )
            .with_reference(&flow.reference));
        }
        Ok(flow)
    }

    async fn refuse_step(
        &self,
        caller: &Caller,
        flow: &FlowRow,
        step: &'static str,
        now: i64,
    ) -> ApiError {
        let reason: &'static str = match flow.state {
            FlowState::Verifying => "not_verified",
            FlowState::Verified | FlowState::Writing => "already_verified",
            FlowState::Completed => "completed",
            FlowState::Cancelled => "cancelled",
        };
        self.core.audit
            .record(
                &self.ctx(caller, Some(flow)),
                Event::StepRefused { step, reason },
                now,
            )
            .await;
        let message = match reason {
            "not_verified" => "Verify your identity first.",
            "already_verified" => "You are verified already; set your new password.",
            "completed" => "This attempt is finished already.",
            _ => "This attempt was cancelled. Please start again.",
        };
        ApiError::step(message).with_reference(&flow.reference)
    }

    async fn check_blocked(&self, caller: &Caller, flow: &FlowRow, now: i64) -> ApiResult<()> {
        let kiosk_key = throttle::kiosk_key(&caller.kiosk_id);
        if let Some(until) = self.core
            .throttle
            .blocked_until(&flow.throttle_key, &kiosk_key, now)
            .await?
        {
            return Err(blocked(until - now).with_reference(&flow.reference));
        }
        Ok(())
    }

    /// Choose a method: sends a code, or asks for an authenticator code.
    pub async fn challenge(
        &self,
        caller: &Caller,
        flow_id: &str,
        method_id: &str,
        finish_on_phone: bool,
        now: i64,
    ) -> ApiResult<ChallengeView> {
        let flow = self.live_flow(caller, flow_id, now).await?;
        if flow.state != FlowState::Verifying {
            return Err(self.refuse_step(caller, &flow, "challenge", now).await);
        }
        let method = flow
            .method(method_id)
            .cloned()
            .ok_or_else(|| {
                ApiError::new(
                    ErrorCode::MethodUnavailable,
                    "That method isn't offered here.",
                )
                .with_reference(&flow.reference)
            })?;
        if flow.is_done(&method.id) {
            self.core.audit
                .record(
                    &self.ctx(caller, Some(&flow)),
                    Event::StepRefused {
                        step: "challenge",
                        reason: "method_done",
                    },
                    now,
                )
                .await;
            return Err(
                ApiError::step("You verified this method already; choose another one.")
                    .with_reference(&flow.reference),
            );
        }
        self.check_blocked(caller, &flow, now).await?;
        // From here a real person's email code goes to the relay and a decoy's nowhere:
        // the whole rest (throttles, the send, the challenge's commit) ends at a floor
        // (`pace`), so neither its length nor the relay's shows who exists.
        if method.kind == MethodKind::Email {
            // A real person's send sets the floor (not a decoy's nothing, nor a refusal).
            let real = flow.user_id.is_some();
            self.pacers
                .code
                .pace(
                    self.issue_challenge(caller, &flow, &method, finish_on_phone, now),
                    |out| {
                        real && match out {
                            Ok(_) => true,
                            Err(e) => e.code() == ErrorCode::DeliveryFailed,
                        }
                    },
                )
                .await
        } else {
            self.issue_challenge(caller, &flow, &method, finish_on_phone, now)
                .await
        }
    }

    /// A challenge for a method of a live flow: throttles, the code or approval, its commit.
    async fn issue_challenge(
        &self,
        caller: &Caller,
        flow: &FlowRow,
        method: &FlowMethod,
        finish_on_phone: bool,
        now: i64,
    ) -> ApiResult<ChallengeView> {
        let policy = self.core.policy();
        let sends_code = method.kind == MethodKind::Email;
        if sends_code {
            if let Some(last) = self.core.store.last_challenge(&flow.id, &method.id).await? {
                let wait = last.created_at + i64::from(policy.resend_after_secs) - now;
                if wait > 0 && last.used_at.is_none() {
                    return Err(ApiError::new(
                        ErrorCode::Throttled,
                        format!("A code was just sent. You can ask for another in {wait} seconds."),
                    )
                    .with_retry_after(wait)
                    .with_reference(&flow.reference));
                }
            }
        }
        let kind = if sends_code {
            throttle::EMAIL
        } else {
            throttle::PHONE
        };
        let kiosk_key = throttle::kiosk_key(&caller.kiosk_id);
        if let Some(wait) = self.core
            .throttle
            .rate_limited(&flow.throttle_key, &kiosk_key, kind, now)
            .await?
        {
            self.core.audit
                .record(
                    &self.ctx(caller, Some(flow)),
                    Event::ChallengeRefused {
                        method: method.kind,
                        reason: "rate_limited",
                    },
                    now,
                )
                .await;
            return Err(ApiError::new(
                ErrorCode::Throttled,
                "Too many codes were requested. Please wait before asking again, or use another method.",
            )
            .with_retry_after(wait)
            .with_reference(&flow.reference));
        }

        let (row, view) = if method.kind == MethodKind::Approval {
            self.approval_challenge(caller, flow, method, finish_on_phone, now)
                .await?
        } else {
            let (row, view, code) = self.code_challenge(flow, method, now);
            if let Some(code) = code {
                self.deliver_code(caller, flow, method, &code, now).await?;
            }
            (row, view)
        };
        self.core.store.insert_challenge(&row).await?;
        self.core.throttle
            .record(&flow.throttle_key, &kiosk_key, kind, now)
            .await?;
        self.core.audit
            .record(
                &self.ctx(caller, Some(flow)),
                Event::ChallengeSent {
                    method: method.kind,
                },
                now,
            )
            .await;
        Ok(view)
    }

    /// A code challenge: an emailed code (sent now, kept as a keyed hash), or an
    /// authenticator code asked for.
    fn code_challenge(
        &self,
        flow: &FlowRow,
        method: &FlowMethod,
        now: i64,
    ) -> (
        ChallengeRow,
        ChallengeView,
        Option<zeroize::Zeroizing<String>>,
    ) {
        let policy = self.core.policy();
        let sends_code = method.kind == MethodKind::Email;
        let challenge_id = time_ordered_id();
        let mut to_send = None;
        let (code_hash, expires_at, code_length) = if sends_code {
            let code = self.core.random.digits(policy.code_length);
            let hash = code::hash(&self.core.key, &flow.id, &method.id, &code);
            to_send = Some(zeroize::Zeroizing::new(code));
            (
                Some(hash),
                now + i64::from(policy.code_ttl_secs),
                policy.code_length,
            )
        } else {
            // An authenticator code is asked for, not sent; it is good for the flow's life.
            (None, flow.expires_at, totp::DIGITS as u8)
        };
        let row = ChallengeRow {
            id: challenge_id.clone(),
            flow_id: flow.id.clone(),
            method_id: method.id.clone(),
            kind: method.kind,
            code_hash,
            created_at: now,
            expires_at,
            used_at: None,
            failures: 0,
        };
        let view = ChallengeView {
            challenge_id,
            method_id: method.id.clone(),
            kind: method.kind,
            sent_to: sends_code.then(|| method.masked.clone()),
            code_length,
            expires_in_secs: (expires_at - now).max(0) as u32,
            resend_after_secs: if sends_code {
                policy.resend_after_secs
            } else {
                0
            },
            approval_url: None,
            finish_on_phone: false,
        };
        (row, view, to_send)
    }

    /// Sends a code before the challenge counts, so a relay that is down or refuses is
    /// told to the person at once ("couldn't send: choose another method") and counts
    /// against nobody; the audit tells the admin. A decoy sends nothing, and answers the
    /// same while the relay is failing for real people; the caller's floor (`pace`) keeps
    /// a real send and a decoy's nothing the same length.
    async fn deliver_code(
        &self,
        caller: &Caller,
        flow: &FlowRow,
        method: &FlowMethod,
        code: &str,
        now: i64,
    ) -> ApiResult<()> {
        let failure = if flow.user_id.is_some() {
            let mail = notify::code_mail(
                &method.target,
                &notify::CodeMail {
                    locale: &flow.locale,
                    organization: &self.core.config().organization.name,
                    code,
                    minutes: self.core.policy().code_ttl_secs.div_ceil(60),
                    kiosk: &caller.kiosk_name,
                },
            );
            self.core.mailer.send(&mail).await.err()
        } else if self.core.mailer.failing(now) {
            Some("smtp: the relay is failing (a decoy answers as a real person would)".into())
        } else {
            None
        };
        let Some(reason) = failure else {
            return Ok(());
        };
        tracing::warn!(reason = %reason, "sending a code failed");
        self.core.audit
            .record(
                &self.ctx(caller, Some(flow)),
                Event::NotificationFailed {
                    kind: "code",
                    reason,
                },
                now,
            )
            .await;
        Err(ApiError::new(
            ErrorCode::DeliveryFailed,
            "We couldn't send the code right now. Nothing was counted against you: choose another method, or try again in a moment.",
        )
        .with_reference(&flow.reference))
    }

    /// Verify: checks a code against a challenge of this flow.
    pub async fn verify(
        &self,
        caller: &Caller,
        flow_id: &str,
        challenge_id: &str,
        req: &VerifyRequest,
        now: i64,
    ) -> ApiResult<FlowView> {
        let flow = self.live_flow(caller, flow_id, now).await?;
        if flow.state != FlowState::Verifying {
            return Err(self.refuse_step(caller, &flow, "verify", now).await);
        }
        self.check_blocked(caller, &flow, now).await?;
        let challenge = self.core
            .store
            .challenge(&flow.id, challenge_id)
            .await?
            .ok_or_else(|| ApiError::not_found("challenge").with_reference(&flow.reference))?;
        let kind = challenge.kind;
        if kind == MethodKind::Approval {
            return Err(
                ApiError::step("An approval is answered on the phone, not with a code.")
                    .with_reference(&flow.reference),
            );
        }
        let ctx = self.ctx(caller, Some(&flow));
        if challenge.used_at.is_some() || flow.is_done(&challenge.method_id) {
            self.core.audit
                .record(
                    &ctx,
                    Event::StepRefused {
                        step: "verify",
                        reason: "challenge_used",
                    },
                    now,
                )
                .await;
            return Err(
                ApiError::step("That code was used already.").with_reference(&flow.reference)
            );
        }
        let newest = self.core
            .store
            .last_challenge(&flow.id, &challenge.method_id)
            .await?;
        if newest.as_ref().map(|c| c.id.as_str()) != Some(challenge.id.as_str()) {
            return Err(ApiError::new(
                ErrorCode::CodeExpired,
                "A newer code was sent. Use the code from the latest message.",
            )
            .with_reference(&flow.reference));
        }
        if challenge.expires_at <= now {
            self.core.audit
                .record(
                    &ctx,
                    Event::VerifyFailed {
                        method: kind,
                        reason: "expired",
                    },
                    now,
                )
                .await;
            return Err(ApiError::new(
                ErrorCode::CodeExpired,
                "That code has expired. Ask for a new one.",
            )
            .with_reference(&flow.reference));
        }
        let Some(answer) = req.code.as_deref().map(str::trim).filter(|c| !c.is_empty()) else {
            return Err(ApiError::bad_request("Enter the code.").with_reference(&flow.reference));
        };
        if answer.len() > 16 || !answer.chars().all(|c| c.is_ascii_digit() || c == ' ') {
            return Err(ApiError::bad_request("A code is made of digits only.")
                .with_reference(&flow.reference));
        }

        let failure: Option<&'static str> = match kind {
            MethodKind::Email => {
                let stored = challenge.code_hash.as_deref().unwrap_or_default();
                let ok = code::matches(&self.core.key, &flow.id, &challenge.method_id, answer, stored);
                (!(ok && flow.user_id.is_some())).then_some("wrong_code")
            }
            MethodKind::Totp => self.check_totp(&flow, answer, now).await?,
            _ => Some("unsupported"),
        };

        if let Some(reason) = failure {
            if let Some(until) = self
                .fail_method(caller, &flow, &challenge.id, kind, reason, now)
                .await?
            {
                return Err(blocked(until - now).with_reference(&flow.reference));
            }
            let message = if reason == "code_reused" {
                "That authenticator code was used already. Wait for the next one."
            } else {
                "That code isn't right. Check it and try again."
            };
            return Err(
                ApiError::new(ErrorCode::CodeInvalid, message).with_reference(&flow.reference)
            );
        }
        let updated = self
            .mark_verified(caller, flow, &challenge.id, &challenge.method_id, kind, now)
            .await?;
        Ok(self.view(&updated, now))
    }

    /// A failed verification: the challenge's failure, the throttles, the audit. Returns
    /// when the person is blocked until, if this failure blocked them.
    async fn fail_method(
        &self,
        caller: &Caller,
        flow: &FlowRow,
        challenge_id: &str,
        kind: MethodKind,
        reason: &'static str,
        now: i64,
    ) -> ApiResult<Option<i64>> {
        let ctx = self.ctx(caller, Some(flow));
        self.core.store.fail_challenge(challenge_id).await?;
        let kiosk_key = throttle::kiosk_key(&caller.kiosk_id);
        let blocked_now = self.core
            .throttle
            .failed_verification(&flow.throttle_key, &kiosk_key, now)
            .await?;
        self.core.audit
            .record(
                &ctx,
                Event::VerifyFailed {
                    method: kind,
                    reason,
                },
                now,
            )
            .await;
        if let Some((scope, until)) = blocked_now {
            self.core.audit
                .record(
                    &ctx,
                    Event::Blocked {
                        scope,
                        until: audit::rfc3339(until),
                    },
                    now,
                )
                .await;
            return Ok(Some(until));
        }
        Ok(None)
    }

    /// A verified method: the challenge is used, the method done, and the flow verified
    /// once enough are. Returns the flow as it now stands.
    async fn mark_verified(
        &self,
        caller: &Caller,
        flow: FlowRow,
        challenge_id: &str,
        method_id: &str,
        kind: MethodKind,
        now: i64,
    ) -> ApiResult<FlowRow> {
        let mut done = flow.done.clone();
        done.push(method_id.to_string());
        let next = if done.len() >= usize::from(flow.required) {
            FlowState::Verified
        } else {
            FlowState::Verifying
        };
        // One commit: the challenge spent and the flow moved on.
        match self.core
            .store
            .spend_challenge(
                challenge_id,
                &flow.id,
                (FlowState::Verifying, next),
                &done,
                now,
            )
            .await?
        {
            Spent::Moved => {}
            Spent::UsedBefore => {
                return Err(
                    ApiError::step("That code was used already.").with_reference(&flow.reference)
                )
            }
            Spent::FlowChanged => {
                return Err(
                    ApiError::step("This attempt changed meanwhile; start again.")
                        .with_reference(&flow.reference),
                )
            }
        }
        self.core.audit
            .record(
                &self.ctx(caller, Some(&flow)),
                Event::VerifySucceeded {
                    method: kind,
                    done: done.len() as u8,
                    required: flow.required,
                },
                now,
            )
            .await;
        let mut updated = flow;
        updated.state = next;
        updated.done = done;
        Ok(updated)
    }

    /// None when the authenticator code is right and fresh; else why not.
    async fn check_totp(
        &self,
        flow: &FlowRow,
        answer: &str,
        now: i64,
    ) -> ApiResult<Option<&'static str>> {
        let method = flow.methods.iter().find(|m| m.kind == MethodKind::Totp);
        let registration = match (&flow.user_id, &method) {
            (Some(_), Some(m)) => match m.target.parse::<i64>() {
                Ok(id) => self.core.store.registration(id).await?,
                Err(_) => None,
            },
            _ => None,
        };
        let opened = match (&registration, &flow.user_id) {
            (Some(r), Some(uid)) if &r.user_id == uid => r.totp_secret(&self.core.key),
            _ => None,
        };
        // A decoy's secret, or a registration the key doesn't open, checks as a decoy's
        // (the same work) and never matches a person.
        let (secret, user_id) = match opened {
            Some(secret) => (secret, flow.user_id.clone()),
            None => (
                zeroize::Zeroizing::new(decoy::totp_secret(&self.core.key, &flow.login)),
                None,
            ),
        };
        let step = totp::matching_step(&secret, answer, now.max(0) as u64);
        match (step, user_id) {
            (Some(step), Some(uid)) => {
                if self.core.store.use_totp_step(&uid, step as i64, now).await? {
                    Ok(None)
                } else {
                    Ok(Some("code_reused"))
                }
            }
            _ => Ok(Some("wrong_code")),
        }
    }

    /// The flow's person as the directories know them now, with their home directory.
    async fn current_user(&self, flow: &FlowRow) -> Result<Option<(usize, DirUser)>, DirError> {
        let found = self.core.directories.find_home(&flow.login).await?;
        Ok(found.filter(|(_, u)| Some(&u.id) == flow.user_id.as_ref()))
    }

    /// Live feedback on a candidate password, once verified.
    pub async fn password_check(
        &self,
        caller: &Caller,
        flow_id: &str,
        candidate: &str,
        now: i64,
    ) -> ApiResult<PasswordCheck> {
        let flow = self.live_flow(caller, flow_id, now).await?;
        if flow.state != FlowState::Verified {
            return Err(self.refuse_step(caller, &flow, "password_check", now).await);
        }
        let user = match self.current_user(&flow).await {
            Ok(u) => u,
            Err(e) => return Err(self.directory_down(caller, &flow.reference, e, now).await),
        };
        let reasons = self.core.passwords.check_with(
            candidate,
            user.as_ref().map(|(_, u)| u),
            self.core.directories.rules(),
        );
        Ok(PasswordCheck {
            acceptable: reasons.is_empty(),
            reasons,
        })
    }

    async fn directory_down(
        &self,
        caller: &Caller,
        reference: &str,
        e: DirError,
        now: i64,
    ) -> ApiError {
        let directory = self.core.directories.names();
        tracing::warn!(directory = %directory, error = %e, "directory unavailable");
        let mut ctx = self.ctx(caller, None);
        ctx.reference = Some(reference.to_string());
        self.core.audit
            .record(
                &ctx,
                Event::DirectoryUnavailable {
                    directory,
                    reason: e.to_string(),
                },
                now,
            )
            .await;
        ApiError::new(
            ErrorCode::DirectoryUnavailable,
            "We can't reach the directory right now; nothing was changed. Please try again or contact the helpdesk.",
        )
        .with_reference(reference)
    }

    /// Cancel: the person left, or the kiosk wiped itself.
    pub async fn cancel(&self, caller: &Caller, flow_id: &str, now: i64) -> ApiResult<()> {
        let flow = self.core
            .store
            .flow(flow_id)
            .await?
            .filter(|f| f.kiosk_id == caller.kiosk_id)
            .ok_or_else(|| ApiError::not_found("flow"))?;
        for from in [FlowState::Verifying, FlowState::Verified] {
            if self.core
                .store
                .update_flow_state(&flow.id, from, FlowState::Cancelled, &flow.done, Some(now))
                .await?
            {
                self.core.audit
                    .record(&self.ctx(caller, Some(&flow)), Event::FlowCancelled, now)
                    .await;
                return Ok(());
            }
        }
        Err(self.refuse_step(caller, &flow, "cancel", now).await)
    }
}

fn blocked(retry_after: i64) -> ApiError {
    let hours = (retry_after + 3599) / 3600;
    let when = if hours <= 1 {
        "within the hour".to_string()
    } else {
        format!("in about {hours} hours")
    };
    ApiError::new(
        ErrorCode::Blocked,
        format!("Too many attempts. Self-service is blocked for now; try again {when}, or contact the helpdesk."),
    )
    .with_retry_after(retry_after)
}
