//! The flow: identify → choose method → challenge → verify (until the policy's count is
//! met) → new password or unlock (`writeback`) → done. Every step is a call here; a
//! skipped or repeated step is refused. Time comes in as `now` (unix seconds) so tests
//! control it.

pub mod approval;
#[cfg(test)]
mod approval_tests;
mod challenge;
pub mod decoy;
mod delivery;
#[cfg(test)]
mod delivery_tests;
mod error;
mod identify;
pub mod mask;
mod notice;
pub mod numbers;
pub mod pace;
mod questions;
#[cfg(test)]
mod questions_tests;
pub mod rows;
#[cfg(test)]
mod tests;
mod verify;
mod writeback;

pub use error::{
    ApprovalRefusal, FlowError, FlowResult, LoginProblem, Refusal, StepError, StepResult,
};
pub use identify::validate_login;

use std::sync::Arc;

use sspr_proto::{FlowState as WireState, FlowView, Intent, MethodKind, MethodView};

use crate::audit::{self, Event};
use crate::core::Core;
use crate::directory::DirError;
use crate::throttle;
pub use rows::{ChallengeRow, FlowMethod, FlowRow, Spent};

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

/// What this server can offer beside email and authenticator codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Offer {
    /// Passkeys (a host name phones reach).
    pub passkeys: bool,
    /// Text messages (an SMS gateway).
    pub sms: bool,
    /// Calls that read a code (a voice gateway).
    pub voice: bool,
}

impl Offer {
    pub fn of(core: &Core) -> Offer {
        Offer {
            passkeys: core.passkeys.is_some(),
            sms: core.sms.is_some(),
            voice: core.voice.is_some(),
        }
    }
}

/// Whether a kind of method can be offered at a kiosk here: approval needs passkeys, text
/// messages and calls their gateways.
pub fn offerable(kind: MethodKind, offer: Offer) -> bool {
    match kind {
        MethodKind::Email | MethodKind::Totp | MethodKind::Questions => true,
        MethodKind::Approval => offer.passkeys,
        MethodKind::Sms => offer.sms,
        MethodKind::Voice => offer.voice,
    }
}

/// A mobile number may be called instead of texted: there is a voice gateway and the
/// policy allows calls. The same for everyone (decoys too), so it tells nothing.
pub fn mobile_calls(core: &Core) -> bool {
    core.voice.is_some() && core.config().policy.methods.contains(&MethodKind::Voice)
}

impl FlowService {
    pub fn new(core: Arc<Core>) -> FlowService {
        FlowService {
            approvals: approval::Approvals::new(core.store.clone(), core.key.clone()),
            core,
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
                &self.core.config().policy,
                Offer::of(&self.core),
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
        let calls = mobile_calls(&self.core);
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
                    can_call: calls && m.kind == MethodKind::Sms,
                })
                .collect(),
            required: f.required,
            done: f.done.len() as u8,
            expires_in_secs: (f.expires_at - now).max(0) as u32,
            password_rules: self
                .core
                .passwords()
                .rules_with(self.core.directories.rules()),
            unlock_allowed: f.intent == Intent::Unlock && self.core.config().policy.allow_unlock,
        }
    }

    /// Loads a flow of this kiosk that is still alive.
    async fn live_flow(&self, caller: &Caller, flow_id: &str, now: i64) -> StepResult<FlowRow> {
        let flow = self.own_flow(caller, flow_id).await?;
        if flow.expires_at <= now && !flow.state.is_final() {
            return Err(FlowError::FlowExpired.at(&flow.reference));
        }
        Ok(flow)
    }

    /// A flow this kiosk started, alive or not.
    async fn own_flow(&self, caller: &Caller, flow_id: &str) -> FlowResult<FlowRow> {
        self.core
            .store
            .flow(flow_id)
            .await?
            .filter(|f| f.kiosk_id == caller.kiosk_id)
            .ok_or(FlowError::FlowNotFound)
    }

    /// A step the flow's state doesn't allow: audited, and why.
    async fn refuse_step(
        &self,
        caller: &Caller,
        flow: &FlowRow,
        step: &'static str,
        now: i64,
    ) -> FlowError {
        let refusal = match flow.state {
            FlowState::Verifying => Refusal::NotVerified,
            FlowState::Verified | FlowState::Writing => Refusal::AlreadyVerified,
            FlowState::Completed => Refusal::Completed,
            FlowState::Cancelled => Refusal::Cancelled,
        };
        self.core
            .audit
            .record(
                &self.ctx(caller, Some(flow)),
                Event::StepRefused {
                    step,
                    reason: refusal.as_str(),
                },
                now,
            )
            .await;
        FlowError::Step(refusal)
    }

    async fn check_blocked(&self, caller: &Caller, flow: &FlowRow, now: i64) -> FlowResult<()> {
        let kiosk_key = throttle::kiosk_key(&caller.kiosk_id);
        if let Some(until) = self
            .core
            .throttle
            .blocked_until(&flow.throttle_key, &kiosk_key, now)
            .await?
        {
            return Err(FlowError::Blocked {
                retry_after: until - now,
            });
        }
        Ok(())
    }

    /// The directory couldn't be reached: logged and audited.
    async fn directory_down(
        &self,
        caller: &Caller,
        reference: &str,
        e: DirError,
        now: i64,
    ) -> FlowError {
        let directory = self.core.directories.names();
        tracing::warn!(directory = %directory, error = %e, "directory unavailable");
        let mut ctx = self.ctx(caller, None);
        ctx.reference = Some(reference.to_string());
        self.core
            .audit
            .record(
                &ctx,
                Event::DirectoryUnavailable {
                    directory,
                    reason: e.to_string(),
                },
                now,
            )
            .await;
        FlowError::DirectoryDown
    }

    /// Cancel: the person left, or the kiosk wiped itself.
    pub async fn cancel(&self, caller: &Caller, flow_id: &str, now: i64) -> StepResult<()> {
        let flow = self.own_flow(caller, flow_id).await?;
        for from in [FlowState::Verifying, FlowState::Verified] {
            if self
                .core
                .store
                .update_flow_state(&flow.id, from, FlowState::Cancelled, &flow.done, Some(now))
                .await?
            {
                self.core
                    .audit
                    .record(&self.ctx(caller, Some(&flow)), Event::FlowCancelled, now)
                    .await;
                return Ok(());
            }
        }
        Err(self
            .refuse_step(caller, &flow, "cancel", now)
            .await
            .at(&flow.reference))
    }
}
