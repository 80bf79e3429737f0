//! Approval by QR code: the kiosk shows `<phone URL>/a/<token>`; the phone opens it, the
//! kiosk is pushed a two-digit number, the person types it on the phone and answers with
//! their passkey; the kiosk is pushed the result. The token is random (128 bits), bound to
//! one flow and kiosk, single use and short-lived; only its keyed hash is kept.
//!
//! Pending approvals and the kiosks' event channels live in memory: an approval lasts two
//! minutes and the kiosk that waits for it is connected to this process.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use sspr_proto::{
    ApprovalFailure, ApprovalGranted, ApprovalInfo, ChallengeView, DoneView, FlowEvent, Helpdesk,
    MethodKind, PasskeyRequest, PasswordCheck,
};
use tokio::sync::watch;
use webauthn_rs::prelude::{Passkey, PasskeyAuthentication};

use super::error::{ApprovalRefusal, FlowError, FlowResult, StepResult};
use super::rows::{ChallengeRow, FlowMethod, FlowRow};
use super::{mask, Caller, FlowService, FlowState};
use crate::audit::Event;
use crate::fault::Internal;
use crate::methods::passkey;

/// Where an approval stands.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Stage {
    /// The QR code is shown; the phone may open it.
    Shown,
    /// The number was right: the passkey was asked for.
    Asked,
    /// Approved; the new password is typed on the phone.
    PasswordOnPhone,
}

struct Pending {
    flow_id: String,
    challenge_id: String,
    method_id: String,
    number: String,
    opened: bool,
    stage: Stage,
    finish_on_phone: bool,
    expires_at: i64,
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

struct Channel {
    tx: watch::Sender<Option<FlowEvent>>,
    /// Dropped after this (the flow's end), which ends the kiosk's event stream.
    until: i64,
}

#[derive(Default)]
struct Hub {
    /// By the token's keyed hash.
    pending: HashMap<String, Pending>,
    /// By flow id.
    channels: HashMap<String, Channel>,
}

/// The approvals under way and the kiosks' event channels.
#[derive(Default, Clone)]
pub struct Approvals(Arc<Mutex<Hub>>);

impl Approvals {
    fn lock(&self) -> std::sync::MutexGuard<'_, Hub> {
        // A panic while holding the lock leaves plain data behind; keep using it.
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Pushes an event to the flow's kiosk (kept as the latest, for a kiosk that connects
    /// later).
    pub(super) fn push(&self, flow_id: &str, until: i64, event: Option<FlowEvent>) {
        self.with_channel(flow_id, until, |tx| {
            tx.send_replace(event);
        });
    }

    /// The flow's events: the latest first, then each new one.
    pub fn subscribe(&self, flow_id: &str, until: i64) -> watch::Receiver<Option<FlowEvent>> {
        self.with_channel(flow_id, until, watch::Sender::subscribe)
    }

    /// Runs `f` on the flow's channel, made (to live until `until`) if there is none.
    fn with_channel<T>(
        &self,
        flow_id: &str,
        until: i64,
        f: impl FnOnce(&watch::Sender<Option<FlowEvent>>) -> T,
    ) -> T {
        let mut hub = self.lock();
        let channel = hub
            .channels
            .entry(flow_id.to_string())
            .or_insert_with(|| Channel {
                tx: watch::channel(None).0,
                until,
            });
        f(&channel.tx)
    }

    /// How many kiosks are listening (for tests of the hub).
    #[cfg(test)]
    pub(super) fn listeners(&self, flow_id: &str) -> usize {
        self.lock()
            .channels
            .get(flow_id)
            .map(|c| c.tx.receiver_count())
            .unwrap_or(0)
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
            code_hash: Some(mac.clone()),
            created_at: now,
            expires_at,
            used_at: None,
            failures: 0,
            delivery: None,
        };
        let number = self.core.random.in_range(10..=99).to_string();
        {
            let mut hub = self.approvals.lock();
            // A new approval replaces the flow's earlier one: its token stops working.
            hub.pending.retain(|_, p| p.flow_id != flow.id);
            hub.pending.insert(
                mac,
                Pending {
                    flow_id: flow.id.clone(),
                    challenge_id: challenge.id.clone(),
                    method_id: method.id.clone(),
                    number,
                    opened: false,
                    stage: Stage::Shown,
                    finish_on_phone,
                    expires_at,
                    auth: None,
                    password_key: None,
                    passkeys: Vec::new(),
                    kiosk_name: caller.kiosk_name.clone(),
                    kiosk_location: caller.kiosk_location.clone(),
                },
            );
        }
        self.approvals.push(&flow.id, flow.expires_at + 60, None);
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
    ) -> StepResult<watch::Receiver<Option<FlowEvent>>> {
        let flow = self.live_flow(caller, flow_id, now).await?;
        Ok(self.approvals.subscribe(&flow.id, flow.expires_at + 60))
    }

    /// The kiosk a phone request acts for, so its audit rows name the kiosk of the flow.
    fn phone_caller(flow: &FlowRow, p: &Pending, correlation_id: &str) -> Caller {
        Caller {
            kiosk_id: flow.kiosk_id.clone(),
            kiosk_name: p.kiosk_name.clone(),
            kiosk_location: p.kiosk_location.clone(),
            correlation_id: correlation_id.to_string(),
        }
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
        let mac = self.token_mac(token);
        let flow_id = {
            let hub = self.approvals.lock();
            hub.pending.get(&mac).ok_or_else(gone)?.flow_id.clone()
        };
        let flow = self.core.store.flow(&flow_id).await?.ok_or_else(gone)?;
        let (caller, expires_at, stage) = {
            let hub = self.approvals.lock();
            let p = hub.pending.get(&mac).ok_or_else(gone)?;
            (
                Self::phone_caller(&flow, p, correlation_id),
                p.expires_at,
                p.stage,
            )
        };
        let deadline = if stage == Stage::PasswordOnPhone {
            flow.expires_at
        } else {
            expires_at
        };
        if deadline <= now {
            self.end_approval(&caller, &flow, &mac, ApprovalFailure::Expired, now)
                .await?;
            return Err(FlowError::ApprovalExpired);
        }
        let state_ok = match stage {
            Stage::PasswordOnPhone => flow.state == FlowState::Verified,
            _ => flow.state == FlowState::Verifying,
        };
        if !state_ok {
            self.approvals.lock().pending.remove(&mac);
            return Err(FlowError::ApprovalStep(ApprovalRefusal::KioskEnded));
        }
        Ok((mac, flow, caller, stage))
    }

    /// Ends an approval that failed: the method fails (audited; counted, except for an
    /// expiry) and the kiosk is told. Returns the failure the kiosk was shown.
    async fn end_approval(
        &self,
        caller: &Caller,
        flow: &FlowRow,
        mac: &str,
        reason: ApprovalFailure,
        now: i64,
    ) -> FlowResult<ApprovalFailure> {
        let Some(p) = self.approvals.lock().pending.remove(mac) else {
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
        self.approvals.push(
            &flow.id,
            flow.expires_at + 60,
            Some(FlowEvent::Failed {
                challenge_id: p.challenge_id,
                reason: shown,
                message: failure_message(shown).to_string(),
            }),
        );
        Ok(shown)
    }

    /// The phone opened the page: what it shows, and the kiosk is shown the number.
    pub async fn approval_open(
        &self,
        token: &str,
        correlation_id: &str,
        now: i64,
    ) -> StepResult<ApprovalInfo> {
        let (mac, flow, caller, _) = self.pending(token, correlation_id, now).await?;
        let (first, event, expires_at) = {
            let mut hub = self.approvals.lock();
            let p = hub.pending.get_mut(&mac).ok_or_else(gone)?;
            let first = !p.opened;
            p.opened = true;
            let event = FlowEvent::Scanned {
                challenge_id: p.challenge_id.clone(),
                number: p.number.clone(),
            };
            (first, event, p.expires_at)
        };
        if first {
            self.approvals
                .push(&flow.id, flow.expires_at + 60, Some(event));
            self.core
                .audit
                .record(&self.ctx(&caller, Some(&flow)), Event::ApprovalOpened, now)
                .await;
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
        let (mac, flow, caller, stage) = self.pending(token, correlation_id, now).await?;
        let (opened, expected) = {
            let hub = self.approvals.lock();
            let p = hub.pending.get(&mac).ok_or_else(gone)?;
            (p.opened, p.number.clone())
        };
        if stage != Stage::Shown || !opened {
            return Err(FlowError::ApprovalStep(ApprovalRefusal::PastStep).into());
        }
        let typed = number.trim();
        if !crate::secret::constant_time_eq(typed.as_bytes(), expected.as_bytes()) {
            let shown = self
                .end_approval(&caller, &flow, &mac, ApprovalFailure::WrongNumber, now)
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
        let mut hub = self.approvals.lock();
        let p = hub.pending.get_mut(&mac).ok_or_else(gone)?;
        p.stage = Stage::Asked;
        p.auth = auth;
        p.passkeys = asked;
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
        let (mac, flow, caller, stage) = self.pending(token, correlation_id, now).await?;
        if stage != Stage::Asked {
            return Err(FlowError::ApprovalStep(ApprovalRefusal::NumberFirst).into());
        }
        // Taken once: a second answer to the same request finds nothing to check against.
        let (auth, mut passkeys, challenge_id, method_id, finish_on_phone) = {
            let mut hub = self.approvals.lock();
            let p = hub.pending.get_mut(&mac).ok_or_else(gone)?;
            (
                p.auth.take(),
                std::mem::take(&mut p.passkeys),
                p.challenge_id.clone(),
                p.method_id.clone(),
                p.finish_on_phone,
            )
        };
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
                    .end_approval(&caller, &flow, &mac, ApprovalFailure::PasskeyFailed, now)
                    .await?;
                return Err(ended(
                    shown,
                    "Your passkey could not be verified. Nothing was approved: start again at the kiosk.",
                )
            .into());
            }
        };
        let updated = self
            .mark_verified(
                &caller,
                flow,
                &challenge_id,
                &method_id,
                MethodKind::Approval,
                now,
            )
            .await?;
        let view = self.view(&updated, now);
        let on_phone = finish_on_phone && updated.state == FlowState::Verified;
        let password_key = on_phone.then(|| {
            use base64::Engine;
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(self.core.random.bytes::<16>())
        });
        let event = if let Some(key) = &password_key {
            if let Some(p) = self.approvals.lock().pending.get_mut(&mac) {
                p.stage = Stage::PasswordOnPhone;
                p.password_key = Some(self.token_mac(key));
            }
            FlowEvent::FinishOnPhone {
                challenge_id,
                flow: view.clone(),
            }
        } else {
            self.approvals.lock().pending.remove(&mac);
            FlowEvent::Approved {
                challenge_id,
                flow: view.clone(),
            }
        };
        self.approvals
            .push(&updated.id, updated.expires_at + 60, Some(event));
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
        let (mac, flow, caller, stage) = self.pending(token, correlation_id, now).await?;
        if stage == Stage::PasswordOnPhone {
            return Err(FlowError::ApprovalStep(ApprovalRefusal::ApprovedAlready).into());
        }
        self.end_approval(&caller, &flow, &mac, ApprovalFailure::Denied, now)
            .await?;
        Ok(())
    }

    /// The password step: approved for the phone, and asked by the phone that approved
    /// (its key), not by someone who saw the QR code.
    async fn phone_password_step(
        &self,
        token: &str,
        key: &str,
        correlation_id: &str,
        now: i64,
    ) -> FlowResult<(String, FlowRow, Caller)> {
        let (mac, flow, caller, stage) = self.pending(token, correlation_id, now).await?;
        if stage != Stage::PasswordOnPhone {
            return Err(FlowError::ApprovalStep(ApprovalRefusal::ApproveFirst));
        }
        let expected = self
            .approvals
            .lock()
            .pending
            .get(&mac)
            .and_then(|p| p.password_key.clone())
            .unwrap_or_default();
        let given = self.token_mac(key);
        if !crate::secret::constant_time_eq(given.as_bytes(), expected.as_bytes()) {
            return Err(FlowError::NotTheApprovingPhone);
        }
        Ok((mac, flow, caller))
    }

    pub async fn approval_password_check(
        &self,
        token: &str,
        key: &str,
        candidate: &str,
        correlation_id: &str,
        now: i64,
    ) -> StepResult<PasswordCheck> {
        let (_, flow, caller) = self
            .phone_password_step(token, key, correlation_id, now)
            .await?;
        self.password_check(&caller, &flow.id, candidate, now).await
    }

    /// The new password typed on the phone: set it as the kiosk would, and tell the kiosk.
    pub async fn approval_password(
        &self,
        token: &str,
        key: &str,
        new_password: &secrecy::SecretString,
        correlation_id: &str,
        now: i64,
    ) -> StepResult<DoneView> {
        let (mac, flow, caller) = self
            .phone_password_step(token, key, correlation_id, now)
            .await?;
        let done = self
            .set_password(&caller, &flow.id, new_password, now)
            .await?;
        self.approvals.lock().pending.remove(&mac);
        self.approvals.push(
            &flow.id,
            flow.expires_at + 60,
            Some(FlowEvent::Completed { done: done.clone() }),
        );
        Ok(done)
    }

    /// Ends approvals nobody finished in time (the kiosk is told) and forgets the event
    /// channels of flows that are over. Runs every second.
    pub async fn expire_approvals(&self, now: i64) {
        let expired: Vec<(String, String)> = {
            let mut hub = self.approvals.lock();
            hub.channels.retain(|_, c| c.until > now);
            hub.pending
                .iter()
                .filter(|(_, p)| p.stage != Stage::PasswordOnPhone && p.expires_at <= now)
                .map(|(mac, p)| (mac.clone(), p.flow_id.clone()))
                .collect()
        };
        for (mac, flow_id) in expired {
            let result = async {
                let Some(flow) = self.core.store.flow(&flow_id).await? else {
                    self.approvals.lock().pending.remove(&mac);
                    return Ok(());
                };
                let caller = {
                    let hub = self.approvals.lock();
                    match hub.pending.get(&mac) {
                        Some(p) => Self::phone_caller(&flow, p, "expiry"),
                        None => return Ok(()),
                    }
                };
                self.end_approval(&caller, &flow, &mac, ApprovalFailure::Expired, now)
                    .await
                    .map(|_| ())
            }
            .await;
            if let Err(e) = result {
                tracing::warn!(error = ?e, "ending an expired approval");
            }
        }
        // Approvals whose flow ended (cancelled, or its time ran out) go too.
        let mut hub = self.approvals.lock();
        let live: std::collections::HashSet<String> = hub.channels.keys().cloned().collect();
        hub.pending.retain(|_, p| live.contains(&p.flow_id));
    }
}
