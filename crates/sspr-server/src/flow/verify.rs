//! Verify: a code against a challenge of the flow. The newest challenge of a method
//! only, before it expires, once; a wrong code counts towards the person's block; the
//! `required`-th verified method moves the flow to Verified in the same commit that spends
//! the challenge.

use sspr_proto::{FlowView, MethodKind, VerifyRequest};

use secrecy::{ExposeSecret, SecretString};

use super::error::{FlowError, FlowResult, Refusal, StepResult};
use super::rows::{FlowRow, Spent};
use super::{decoy, Caller, FlowService, FlowState};
use crate::audit::{self, Event};
use crate::methods::{code, totp};
use crate::throttle;

/// A code as typed: present, and digits (a space or two allowed).
fn typed_code(req: &VerifyRequest) -> FlowResult<&str> {
    let Some(answer) = req.code.as_deref().map(str::trim).filter(|c| !c.is_empty()) else {
        return Err(FlowError::CodeMissing);
    };
    if answer.len() > 16 || !answer.chars().all(|c| c.is_ascii_digit() || c == ' ') {
        return Err(FlowError::CodeNotDigits);
    }
    Ok(answer)
}

impl FlowService {
    /// Verify: checks a code against a challenge of this flow.
    pub async fn verify(
        &self,
        caller: &Caller,
        flow_id: &str,
        challenge_id: &str,
        req: &VerifyRequest,
        now: i64,
    ) -> StepResult<FlowView> {
        let flow = self.live_flow(caller, flow_id, now).await?;
        self.verify_in(caller, &flow, challenge_id, req, now)
            .await
            .map_err(|e| e.at(&flow.reference))
    }

    async fn verify_in(
        &self,
        caller: &Caller,
        flow: &FlowRow,
        challenge_id: &str,
        req: &VerifyRequest,
        now: i64,
    ) -> FlowResult<FlowView> {
        if flow.state != FlowState::Verifying {
            return Err(self.refuse_step(caller, flow, "verify", now).await);
        }
        self.check_blocked(caller, flow, now).await?;
        let challenge = self
            .core
            .store
            .challenge(&flow.id, challenge_id)
            .await?
            .ok_or(FlowError::ChallengeNotFound)?;
        let kind = challenge.kind;
        if kind == MethodKind::Approval {
            return Err(FlowError::Step(Refusal::ApprovalOnPhone));
        }
        let ctx = self.ctx(caller, Some(flow));
        if challenge.used_at.is_some() || flow.is_done(&challenge.method_id) {
            self.core
                .audit
                .record(
                    &ctx,
                    Event::StepRefused {
                        step: "verify",
                        reason: Refusal::CodeUsed.as_str(),
                    },
                    now,
                )
                .await;
            return Err(FlowError::Step(Refusal::CodeUsed));
        }
        let newest = self
            .core
            .store
            .last_challenge(&flow.id, &challenge.method_id)
            .await?;
        if newest.as_ref().map(|c| c.id.as_str()) != Some(challenge.id.as_str()) {
            return Err(FlowError::NewerCodeSent);
        }
        if challenge.expires_at <= now {
            self.core
                .audit
                .record(
                    &ctx,
                    Event::VerifyFailed {
                        method: kind,
                        reason: "expired",
                    },
                    now,
                )
                .await;
            return Err(FlowError::CodeExpired);
        }
        let failure: Option<&'static str> = match kind {
            MethodKind::Questions => {
                self.check_answers(flow, &challenge, req.answers.as_deref())
                    .await?
            }
            MethodKind::Email | MethodKind::Sms | MethodKind::Voice => {
                let answer = typed_code(req)?;
                let stored = challenge.code_hash.as_deref().unwrap_or_default();
                let ok = code::matches(
                    &self.core.key,
                    &flow.id,
                    &challenge.method_id,
                    answer,
                    stored,
                );
                (!(ok && flow.user_id.is_some())).then_some("wrong_code")
            }
            MethodKind::Totp => self.check_totp(flow, typed_code(req)?, now).await?,
            MethodKind::Approval => Some("unsupported"),
        };

        if let Some(reason) = failure {
            if let Some(until) = self
                .fail_method(caller, flow, &challenge.id, kind, reason, now)
                .await?
            {
                return Err(FlowError::Blocked {
                    retry_after: until - now,
                });
            }
            if reason == "wrong_answers" {
                return Err(FlowError::AnswersWrong);
            }
            return Err(FlowError::CodeInvalid {
                reused: reason == "code_reused",
            });
        }
        let updated = self
            .mark_verified(
                caller,
                flow.clone(),
                &challenge.id,
                &challenge.method_id,
                kind,
                now,
            )
            .await?;
        Ok(self.view(&updated, now))
    }

    /// A failed verification: the challenge's failure, the throttles, the audit. Returns
    /// when the person is blocked until, if this failure blocked them.
    pub(super) async fn fail_method(
        &self,
        caller: &Caller,
        flow: &FlowRow,
        challenge_id: &str,
        kind: MethodKind,
        reason: &'static str,
        now: i64,
    ) -> FlowResult<Option<i64>> {
        let ctx = self.ctx(caller, Some(flow));
        self.core.store.fail_challenge(challenge_id).await?;
        let kiosk_key = throttle::kiosk_key(&caller.kiosk_id);
        let blocked_now = self
            .core
            .throttle
            .failed_verification(&flow.throttle_key, &kiosk_key, now)
            .await?;
        self.core
            .audit
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
            self.core
                .audit
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
    pub(super) async fn mark_verified(
        &self,
        caller: &Caller,
        flow: FlowRow,
        challenge_id: &str,
        method_id: &str,
        kind: MethodKind,
        now: i64,
    ) -> FlowResult<FlowRow> {
        let mut done = flow.done.clone();
        done.push(method_id.to_string());
        let next = if done.len() >= usize::from(flow.required) {
            FlowState::Verified
        } else {
            FlowState::Verifying
        };
        // One commit: the challenge spent and the flow moved on.
        match self
            .core
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
            Spent::UsedBefore => return Err(FlowError::Step(Refusal::CodeUsed)),
            Spent::FlowChanged => return Err(FlowError::Step(Refusal::FlowChanged)),
        }
        self.core
            .audit
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
    ) -> FlowResult<Option<&'static str>> {
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
                SecretString::from(decoy::totp_secret(&self.core.key, &flow.login)),
                None,
            ),
        };
        let step = totp::matching_step(secret.expose_secret(), answer, now.max(0) as u64);
        match (step, user_id) {
            (Some(step), Some(uid)) => {
                if self
                    .core
                    .store
                    .use_totp_step(&uid, step as i64, now)
                    .await?
                {
                    Ok(None)
                } else {
                    Ok(Some("code_reused"))
                }
            }
            _ => Ok(Some("wrong_code")),
        }
    }
}
