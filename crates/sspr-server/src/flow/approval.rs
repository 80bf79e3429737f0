//! Approval by QR code: the kiosk shows `<phone URL>/a/<token>`; the phone opens it, the
//! kiosk is pushed a two-digit number, the person types it on the phone and answers with
//! their passkey; the kiosk is pushed the result. The token is random (128 bits), bound to
//! one flow and kiosk, single use and short-lived; only its keyed hash is kept.
//!
//! Nothing of an approval lives in one process's memory, so the phone's requests and the
//! kiosk's event stream may reach different processes sharing a PostgreSQL database
//! (issue 17): an approval under way is a row of the store (`crate::web_session`: sealed
//! with the server key, keyed by the token's keyed hash, changed in one transaction so one
//! answer wins), and each event pushed to the kiosk is a row of `flow_events`, announced
//! to every process by NOTIFY (ids only) and handed by each to the streams it serves
//! (`Approvals::listen`). A process keeps only a channel per flow whose kiosk listens to
//! it. On SQLite one process does all of it, the same way.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};
use sspr_proto::{
    ApprovalFailure, ApprovalGranted, ApprovalInfo, ChallengeView, FlowEvent, Helpdesk, MethodKind,
    PasskeyRequest,
};
use tokio::sync::watch;
use webauthn_rs::prelude::{Passkey, PasskeyAuthentication};

use super::error::{ApprovalRefusal, FlowError, FlowResult, StepResult};
use super::rows::{ChallengeRow, FlowMethod, FlowRow};
use super::{mask, Caller, FlowService, FlowState};
use crate::audit::Event;
use crate::fault::Internal;
use crate::methods::passkey;
use crate::secret::ServerKey;
use crate::store::Store;
use crate::web_session::{Kept, WebSessions};

#[path = "approval_events.rs"]
mod events;
#[path = "approval_password.rs"]
mod password;
use events::Channel;
pub use events::Latest;

/// Where an approval stands.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize)]
enum Stage {
    /// The QR code is shown; the phone may open it.
    Shown,
    /// The number was right: the passkey was asked for.
    Asked,
    /// The passkey's answer is being checked (its request taken): nothing else may end
    /// the approval meanwhile, not a deny nor another process's expiry sweep.
    Answering,
    /// Approved; the new password is typed on the phone.
    PasswordOnPhone,
}

#[derive(Serialize, Deserialize)]
struct Pending {
    flow_id: String,
    challenge_id: String,
    method_id: String,
    number: String,
    opened: bool,
    stage: Stage,
    finish_on_phone: bool,
    expires_at: i64,
    /// Kept until the flow is over (the password may be typed on the phone until then).
    keep_until: i64,
    /// The passkey request's state, taken (once) by the answer.
    auth: Option<PasskeyAuthentication>,
    /// The keyed hash of the password step's key, once approved with `finish_on_phone`.
    password_key: Option<String>,
    /// The passkeys asked for (registration id, passkey), so the answer reads none again.
    passkeys: Vec<(i64, Passkey)>,
    /// The kiosk that shows the QR code, for the page and the audit.
    kiosk_name: String,
    kiosk_location: String,
}

impl Kept for Pending {
    const KIND: &'static str = "approval";
    fn ends_at(&self) -> i64 {
        self.keep_until
    }
    /// A flow has one approval at a time: a new one ends the earlier.
    fn owner(&self) -> Option<&str> {
        Some(&self.flow_id)
    }
    /// Ended (and the kiosk told) when nobody answered in time; approved for the phone's
    /// password, it lasts as long as the flow.
    fn due_at(&self) -> Option<i64> {
        matches!(self.stage, Stage::Shown | Stage::Asked).then_some(self.expires_at)
    }
}

/// The approvals under way (in the store), and the event channels of the kiosks this
/// process serves.
#[derive(Clone)]
pub struct Approvals {
    pending: WebSessions<Pending>,
    store: Store,
    /// By flow id.
    channels: Arc<Mutex<HashMap<String, Channel>>>,
}

impl Approvals {
    pub fn new(store: Store, key: Arc<ServerKey>) -> Approvals {
        Approvals {
            pending: WebSessions::new(store.clone(), key),
            store,
            channels: Arc::default(),
        }
    }
}

/// A token as typed into a URL: 22 base64url characters (128 bits).
pub(super) fn token_ok(token: &str) -> bool {
    token.len() == 22
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

fn gone() -> FlowError {
    FlowError::ApprovalUnknown
}

/// The phone's answer when its step ended the approval (or blocked the person).
fn ended(shown: ApprovalFailure, message: &'static str) -> FlowError {
    if shown == ApprovalFailure::Blocked {
        FlowError::ApprovalFailed {
            blocked: true,
            message: failure_message(shown),
        }
    } else {
        FlowError::ApprovalFailed {
            blocked: false,
            message,
        }
    }
}

fn failure_message(reason: ApprovalFailure) -> &'static str {
    match reason {
        ApprovalFailure::Denied => "The approval was denied on the phone. Nothing was changed.",
        ApprovalFailure::WrongNumber => {
            "The number typed on the phone wasn't the one shown here. Nothing was approved."
        }
        ApprovalFailure::Expired => "The approval code expired. Choose a method again.",
        ApprovalFailure::PasskeyFailed => {
            "The phone's passkey could not be verified. Nothing was approved."
        }
        ApprovalFailure::Blocked => {
            "Too many failed attempts. Verification is blocked for now: contact the helpdesk."
        }
    }
}

impl FlowService {
    fn token_mac(&self, token: &str) -> String {
        self.core.key.mac_hex("approval-token", &[token.as_bytes()])
    }

    /// Makes the approval challenge for a chosen approval method (throttles passed).
    pub(super) async fn approval_challenge(
        &self,
        caller: &Caller,
        flow: &FlowRow,
        method: &FlowMethod,
        finish_on_phone: bool,
        now: i64,
    ) -> FlowResult<(ChallengeRow, ChallengeView)> {
        use base64::Engine;
        use sspr_proto::{Intent, PasswordOnPhone};
        let token =
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(self.core.random.bytes::<16>());
        let mac = self.token_mac(&token);
        let ttl = i64::from(self.core.config().approval.ttl_secs);
        let expires_at = (now + ttl).min(flow.expires_at);
        // The password goes on the phone only when this approval finishes verification.
        let finishes = flow.done.len() + 1 >= usize::from(flow.required);
        let finish_on_phone = finishes
            && flow.intent == Intent::Reset
            && match self.core.config().approval.password_on_phone {
                PasswordOnPhone::Off => false,
                PasswordOnPhone::Offer => finish_on_phone,
                PasswordOnPhone::Always => true,
            };
        let challenge = ChallengeRow {
            id: crate::secret::random_id(),
            flow_id: flow.id.clone(),
            method_id: method.id.clone(),
            kind: MethodKind::Approval,
            code_hash: Some(mac),
            created_at: now,
            expires_at,
            used_at: None,
            failures: 0,
            delivery: None,
        };
        let number = self.core.random.in_range(10..=99).to_string();
        let pending = Pending {
            flow_id: flow.id.clone(),
            challenge_id: challenge.id.clone(),
            method_id: method.id.clone(),
            number,
            opened: false,
            stage: Stage::Shown,
            finish_on_phone,
            expires_at,
            keep_until: flow.expires_at + 60,
            auth: None,
            password_key: None,
            passkeys: Vec::new(),
            kiosk_name: caller.kiosk_name.clone(),
            kiosk_location: caller.kiosk_location.clone(),
        };
        // A new approval replaces the flow's earlier one: its token stops working.
        self.approvals
            .pending
            .insert_alone(&token, &pending)
            .await?;
        self.approvals.push(&flow.id, None, now).await?;
        let view = ChallengeView {
            challenge_id: challenge.id.clone(),
            method_id: method.id.clone(),
            kind: MethodKind::Approval,
            sent_to: None,
            code_length: 2,
            expires_in_secs: (expires_at - now).max(0) as u32,
            resend_after_secs: 0,
            approval_url: Some(format!("{}/a/{token}", self.core.config().phone_origin())),
            finish_on_phone,
            questions: Vec::new(),
            delivery: None,
        };
        Ok((challenge, view))
    }

    /// The kiosk's event stream for its flow.
    pub async fn subscribe(
        &self,
        caller: &Caller,
        flow_id: &str,
        now: i64,
    ) -> StepResult<watch::Receiver<Latest>> {
        let flow = self.live_flow(caller, flow_id, now).await?;
        Ok(self
            .approvals
            .subscribe(&flow.id, flow.expires_at + 60)
            .await
            .map_err(FlowError::from)?)
    }

    /// What a step needs of an approval (its flow and kiosk, its time and stage), read in
    /// one go; None when there is no such approval.
    async fn approval_seen(&self, id: &str, now: i64) -> FlowResult<Option<Seen>> {
        Ok(self
            .approvals
            .pending
            .with_id(id, now, |p| Seen {
                flow_id: p.flow_id.clone(),
                kiosk_name: p.kiosk_name.clone(),
                kiosk_location: p.kiosk_location.clone(),
                expires_at: p.expires_at,
                stage: p.stage,
            })
            .await?)
    }

    /// Looks a token up: its hash, what it stands for, and the flow (still verifying,
    /// unless the password is being typed on the phone). An expired one is ended here.
    async fn pending(
        &self,
        token: &str,
        correlation_id: &str,
        now: i64,
    ) -> FlowResult<(String, FlowRow, Caller, Stage)> {
        if !token_ok(token) {
            return Err(gone());
        }
        let id = self.approvals.pending.id(token);
        let seen = self.approval_seen(&id, now).await?.ok_or_else(gone)?;
        let flow = self
            .core
            .store
            .flow(&seen.flow_id)
            .await?
            .ok_or_else(gone)?;
        let caller = seen.caller(&flow, correlation_id);
        let (expires_at, stage) = (seen.expires_at, seen.stage);
        let deadline = match stage {
            Stage::PasswordOnPhone | Stage::Answering => flow.expires_at,
            Stage::Shown | Stage::Asked => expires_at,
        };
        if deadline <= now {
            self.end_approval(&caller, &flow, &id, ApprovalFailure::Expired, now)
                .await?;
            return Err(FlowError::ApprovalExpired);
        }
        let state_ok = match stage {
            Stage::PasswordOnPhone => flow.state == FlowState::Verified,
            Stage::Answering => matches!(flow.state, FlowState::Verifying | FlowState::Verified),
            Stage::Shown | Stage::Asked => flow.state == FlowState::Verifying,
        };
        if !state_ok {
            self.approvals.pending.remove_id(&id, now).await?;
            return Err(FlowError::ApprovalStep(ApprovalRefusal::KioskEnded));
        }
        Ok((id, flow, caller, stage))
    }

    /// Ends an approval that failed: the method fails (audited; counted, except for an
    /// expiry) and the kiosk is told. Returns the failure the kiosk was shown.
    async fn end_approval(
        &self,
        caller: &Caller,
        flow: &FlowRow,
        id: &str,
        reason: ApprovalFailure,
        now: i64,
    ) -> FlowResult<ApprovalFailure> {
        // Taken once: of two processes ending it at once, one tells the kiosk.
        let Some(p) = self.approvals.pending.remove_id(id, now).await? else {
            return Ok(reason);
        };
        let why = match reason {
            ApprovalFailure::Denied => "denied",
            ApprovalFailure::WrongNumber => "wrong_number",
            ApprovalFailure::Expired => "expired",
            ApprovalFailure::PasskeyFailed => "passkey_failed",
            ApprovalFailure::Blocked => "blocked",
        };
        let mut shown = reason;
        if reason == ApprovalFailure::Expired {
            self.core.store.fail_challenge(&p.challenge_id).await?;
            self.core
                .audit
                .record(
                    &self.ctx(caller, Some(flow)),
                    Event::VerifyFailed {
                        method: MethodKind::Approval,
                        reason: why,
                    },
                    now,
                )
                .await;
        } else if self
            .fail_method(
                caller,
                flow,
                &p.challenge_id,
                MethodKind::Approval,
                why,
                now,
            )
            .await?
            .is_some()
        {
            shown = ApprovalFailure::Blocked;
        }
        self.approvals
            .push(
                &flow.id,
                Some(FlowEvent::Failed {
                    challenge_id: p.challenge_id,
                    reason: shown,
                    message: failure_message(shown).to_string(),
                }),
                now,
            )
            .await?;
        Ok(shown)
    }

    /// The phone opened the page: what it shows, and the kiosk is shown the number.
    pub async fn approval_open(
        &self,
        token: &str,
        correlation_id: &str,
        now: i64,
    ) -> StepResult<ApprovalInfo> {
        let (id, flow, caller, _) = self.pending(token, correlation_id, now).await?;
        let (opened, event, expires_at) = self
            .approvals
            .pending
            .with_id(&id, now, |p| {
                let event = FlowEvent::Scanned {
                    challenge_id: p.challenge_id.clone(),
                    number: p.number.clone(),
                };
                (p.opened, event, p.expires_at)
            })
            .await?
            .ok_or_else(gone)?;
        if !opened {
            // The kiosk is shown the number before the approval counts as opened: if
            // the push fails (the store away), the phone's next try pushes it again.
            self.approvals.push(&flow.id, Some(event), now).await?;
            let first = self
                .approvals
                .pending
                .with_id(&id, now, |p| !std::mem::replace(&mut p.opened, true))
                .await?
                .ok_or_else(gone)?;
            if first {
                self.core
                    .audit
                    .record(&self.ctx(&caller, Some(&flow)), Event::ApprovalOpened, now)
                    .await;
            }
        }
        let c = self.core.config();
        Ok(ApprovalInfo {
            organization: c.organization.name.clone(),
            accent_color: c.organization.accent_color.clone(),
            kiosk_name: caller.kiosk_name.clone(),
            kiosk_location: caller.kiosk_location.clone(),
            account: mask::login(&flow.login),
            intent: flow.intent,
            expires_in_secs: (expires_at - now).max(0) as u32,
            helpdesk: Helpdesk {
                url: c.helpdesk.url.clone(),
                phone: c.helpdesk.phone.clone(),
                email: c.helpdesk.email.clone(),
            },
        })
    }

    /// The person's passkeys (registration id, passkey).
    async fn passkeys_of(&self, user_id: &str) -> FlowResult<Vec<(i64, Passkey)>> {
        Ok(passkey::of(&self.core.store.registrations(user_id).await?))
    }

    /// The number typed on the phone: right → the passkey request; wrong → the end.
    pub async fn approval_number(
        &self,
        token: &str,
        number: &str,
        correlation_id: &str,
        now: i64,
    ) -> StepResult<PasskeyRequest> {
        let (id, flow, caller, stage) = self.pending(token, correlation_id, now).await?;
        let (opened, expected) = self
            .approvals
            .pending
            .with_id(&id, now, |p| (p.opened, p.number.clone()))
            .await?
            .ok_or_else(gone)?;
        if stage != Stage::Shown || !opened {
            return Err(FlowError::ApprovalStep(ApprovalRefusal::PastStep).into());
        }
        let typed = number.trim();
        if !crate::secret::constant_time_eq(typed.as_bytes(), expected.as_bytes()) {
            let shown = self
                .end_approval(&caller, &flow, &id, ApprovalFailure::WrongNumber, now)
                .await?;
            return Err(ended(
                shown,
                "That isn't the number the kiosk shows. Nothing was approved: start again at the kiosk.",
            )
            .into());
        }
        let passkeys = match &flow.user_id {
            Some(uid) => self.passkeys_of(uid).await?,
            None => Vec::new(),
        };
        let Some(webauthn) = self.core.passkeys.as_ref() else {
            return Err(FlowError::ApprovalOff.into());
        };
        let asked = passkeys.clone();
        let (request, auth) = if passkeys.is_empty() {
            // A decoy (or someone whose passkeys were removed meanwhile): the same shape.
            (webauthn.decoy_request(&self.core.key, &flow.login), None)
        } else {
            let list: Vec<Passkey> = passkeys.into_iter().map(|(_, p)| p).collect();
            let (request, auth) = webauthn
                .start_authentication(&list)
                .map_err(|e| FlowError::Internal(Internal::new("starting a passkey check", e)))?;
            (request, Some(auth))
        };
        self.approvals
            .pending
            .with_id(&id, now, |p| {
                p.stage = Stage::Asked;
                p.auth = auth;
                p.passkeys = asked;
            })
            .await?
            .ok_or_else(gone)?;
        Ok(request)
    }

    /// The passkey's answer: verified → the method is done and the kiosk moves on.
    pub async fn approval_finish(
        &self,
        token: &str,
        credential: &serde_json::Value,
        correlation_id: &str,
        now: i64,
    ) -> StepResult<ApprovalGranted> {
        let (id, flow, caller, stage) = self.pending(token, correlation_id, now).await?;
        if stage == Stage::Answering {
            return Err(FlowError::ApprovalStep(ApprovalRefusal::BeingAnswered).into());
        }
        if stage != Stage::Asked {
            return Err(FlowError::ApprovalStep(ApprovalRefusal::NumberFirst).into());
        }
        // Taken once (in one transaction, whichever process answers): a second answer to
        // the same request finds nothing to check against, and while this one is checked
        // nothing else ends the approval (`Stage::Answering`).
        let (auth, mut passkeys, challenge_id, method_id, finish_on_phone) = self
            .approvals
            .pending
            .with_id(&id, now, |p| {
                let asked = p.stage == Stage::Asked;
                if asked {
                    p.stage = Stage::Answering;
                }
                (
                    if asked { p.auth.take() } else { None },
                    std::mem::take(&mut p.passkeys),
                    p.challenge_id.clone(),
                    p.method_id.clone(),
                    p.finish_on_phone,
                )
            })
            .await?
            .ok_or_else(gone)?;
        if auth.is_none() && flow.user_id.is_some() {
            // Another answer to this request is being checked right now.
            return Err(FlowError::ApprovalStep(ApprovalRefusal::BeingAnswered).into());
        }
        let verified = match (auth, self.core.passkeys.as_ref()) {
            (Some(auth), Some(webauthn)) => webauthn
                .finish_authentication(credential, &auth, &mut passkeys)
                .map_err(|e| e.to_string()),
            _ => Err("no passkey request to answer".to_string()),
        };
        let changed = match verified {
            Ok(changed) => changed,
            Err(why) => {
                tracing::info!(reason = %why, "an approval's passkey answer was refused");
                let shown = self
                    .end_approval(&caller, &flow, &id, ApprovalFailure::PasskeyFailed, now)
                    .await?;
                return Err(ended(
                    shown,
                    "Your passkey could not be verified. Nothing was approved: start again at the kiosk.",
                )
            .into());
            }
        };
        let updated = match self
            .mark_verified(
                &caller,
                flow,
                &challenge_id,
                &method_id,
                MethodKind::Approval,
                now,
            )
            .await
        {
            Ok(updated) => updated,
            Err(e) => {
                // Not verified after all (the store away, the flow over): the approval
                // waits for its expiry again, which tells the kiosk.
                let _ = self
                    .approvals
                    .pending
                    .with_id(&id, now, |p| p.stage = Stage::Asked)
                    .await;
                return Err(e.into());
            }
        };
        let view = self.view(&updated, now);
        let on_phone = finish_on_phone && updated.state == FlowState::Verified;
        let password_key = on_phone.then(|| {
            use base64::Engine;
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(self.core.random.bytes::<16>())
        });
        let event = if let Some(key) = &password_key {
            let key_mac = self.token_mac(key);
            self.approvals
                .pending
                .with_id(&id, now, |p| {
                    p.stage = Stage::PasswordOnPhone;
                    p.password_key = Some(key_mac);
                })
                .await?;
            FlowEvent::FinishOnPhone {
                challenge_id,
                flow: view.clone(),
            }
        } else {
            self.approvals.pending.remove_id(&id, now).await?;
            FlowEvent::Approved {
                challenge_id,
                flow: view.clone(),
            }
        };
        self.approvals.push(&updated.id, Some(event), now).await?;
        // After the kiosk is told: the passkeys' signature counters.
        for (id, passkey) in changed {
            let value = serde_json::to_string(&passkey)
                .map_err(|e| FlowError::Internal(Internal::new("saving a passkey", e)))?;
            self.core.store.update_registration(id, &value).await?;
        }
        Ok(ApprovalGranted {
            finish_on_phone: on_phone,
            password_rules: on_phone.then_some(view.password_rules),
            password_key,
        })
    }

    /// Deny on the phone.
    pub async fn approval_deny(
        &self,
        token: &str,
        correlation_id: &str,
        now: i64,
    ) -> StepResult<()> {
        let (id, flow, caller, stage) = self.pending(token, correlation_id, now).await?;
        if stage == Stage::PasswordOnPhone {
            return Err(FlowError::ApprovalStep(ApprovalRefusal::ApprovedAlready).into());
        }
        if stage == Stage::Answering {
            return Err(FlowError::ApprovalStep(ApprovalRefusal::BeingAnswered).into());
        }
        self.end_approval(&caller, &flow, &id, ApprovalFailure::Denied, now)
            .await?;
        Ok(())
    }

    /// Ends approvals nobody answered in time (the kiosk is told) and forgets the event
    /// channels of flows that are over. Runs every second in every process: of several
    /// ending one approval at once, one takes it (`end_approval`).
    pub async fn expire_approvals(&self, now: i64) {
        self.approvals.forget_channels(now);
        let due = match self.approvals.pending.due(now).await {
            Ok(due) => due,
            Err(e) => {
                tracing::warn!(error = %e, "looking for expired approvals");
                return;
            }
        };
        for id in due {
            let result = async {
                let Some(seen) = self.approval_seen(&id, now).await? else {
                    return Ok(());
                };
                let Some(flow) = self.core.store.flow(&seen.flow_id).await? else {
                    self.approvals.pending.remove_id(&id, now).await?;
                    return Ok(());
                };
                let caller = seen.caller(&flow, "expiry");
                self.end_approval(&caller, &flow, &id, ApprovalFailure::Expired, now)
                    .await
                    .map(|_| ())
            }
            .await;
            if let Err(e) = result {
                tracing::warn!(error = ?e, "ending an expired approval");
            }
        }
    }
}

/// What a step reads of an approval first.
struct Seen {
    flow_id: String,
    kiosk_name: String,
    kiosk_location: String,
    expires_at: i64,
    stage: Stage,
}

impl Seen {
    /// The kiosk a phone request acts for, so its audit rows name the kiosk of the flow.
    fn caller(&self, flow: &FlowRow, correlation_id: &str) -> Caller {
        Caller {
            kiosk_id: flow.kiosk_id.clone(),
            kiosk_name: self.kiosk_name.clone(),
            kiosk_location: self.kiosk_location.clone(),
            correlation_id: correlation_id.to_string(),
        }
    }
}
