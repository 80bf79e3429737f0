//! Challenge: the person chose a method. An email code is sent (before the challenge
//! counts, so a relay that fails is told at once and counts against nobody); a code by
//! text message or call starts on its way (`delivery`: the challenge answers first); an
//! authenticator code or the security questions' answers are asked for; or an approval
//! starts (`approval`). Resends wait for the cooldown; every kind is rate limited per
//! person and per kiosk, and texts and calls per number too.

use secrecy::{ExposeSecret, SecretString};
use sspr_proto::{ChallengeRequest, ChallengeView, Delivery, MethodKind};

use super::error::{FlowError, FlowResult, Refusal, StepResult};
use super::rows::{ChallengeRow, FlowMethod, FlowRow};
use super::{Caller, FlowService, FlowState};
use crate::audit::Event;
use crate::methods::{code, totp};
use crate::notify;
use crate::secret::time_ordered_id;
use crate::throttle;

/// Methods whose code the server sends (by email, by text message).
fn sends_code(kind: MethodKind) -> bool {
    matches!(
        kind,
        MethodKind::Email | MethodKind::Sms | MethodKind::Voice
    )
}

/// A code's text message, in the flow's language: short (one SMS), the code first.
fn sms_text(locale: &str, organization: &str, code: &str, minutes: u32) -> String {
    let lang = crate::lang::Lang::of(locale);
    lang.format(
        lang.texts().sms_code,
        &[
            ("code", &code),
            ("organization", &organization),
            ("minutes", &minutes),
        ],
    )
}

impl FlowService {
    /// A code's text message, or the script a call reads out.
    fn phone_script(&self, flow: &FlowRow, call: bool, code: &str) -> SecretString {
        let config = self.core.config();
        SecretString::from(if call {
            crate::sms::code_call(&flow.locale, &config.organization.name, code)
        } else {
            sms_text(
                &flow.locale,
                &config.organization.name,
                code,
                config.policy.code_ttl_secs.div_ceil(60),
            )
        })
    }

    /// Choose a method: sends a code, asks for an authenticator code or the security
    /// questions' answers, or starts an approval.
    pub async fn challenge(
        &self,
        caller: &Caller,
        flow_id: &str,
        choice: &ChallengeRequest,
        now: i64,
    ) -> StepResult<ChallengeView> {
        let flow = self.live_flow(caller, flow_id, now).await?;
        self.challenge_in(caller, &flow, choice, now)
            .await
            .map_err(|e| e.at(&flow.reference))
    }

    async fn challenge_in(
        &self,
        caller: &Caller,
        flow: &FlowRow,
        choice: &ChallengeRequest,
        now: i64,
    ) -> FlowResult<ChallengeView> {
        if flow.state != FlowState::Verifying {
            return Err(self.refuse_step(caller, flow, "challenge", now).await);
        }
        let method = flow
            .method(&choice.method_id)
            .cloned()
            .ok_or(FlowError::MethodUnavailable)?;
        // Only a mobile number is called instead of texted, and only where calls are on.
        if choice.call && !(method.kind == MethodKind::Sms && super::mobile_calls(&self.core)) {
            return Err(FlowError::MethodUnavailable);
        }
        if flow.is_done(&method.id) {
            self.core
                .audit
                .record(
                    &self.ctx(caller, Some(flow)),
                    Event::StepRefused {
                        step: "challenge",
                        reason: Refusal::MethodDone.as_str(),
                    },
                    now,
                )
                .await;
            return Err(FlowError::Step(Refusal::MethodDone));
        }
        self.check_blocked(caller, flow, now).await?;
        // From here a real person's email code goes to the relay and a decoy's nowhere:
        // the whole rest (throttles, the send, the challenge's commit) ends at a floor
        // (`pace`), so neither its length nor the relay's shows who exists.
        if method.kind == MethodKind::Email {
            // A real person's send sets the floor (not a decoy's nothing, nor a refusal).
            let real = flow.user_id.is_some();
            self.pacers
                .code
                .pace(
                    self.issue_challenge(caller, flow, &method, choice, now),
                    |out| real && matches!(out, Ok(_) | Err(FlowError::DeliveryFailed)),
                )
                .await
        } else {
            self.issue_challenge(caller, flow, &method, choice, now)
                .await
        }
    }

    /// A challenge for a method of a live flow: throttles, the code or approval, its commit.
    async fn issue_challenge(
        &self,
        caller: &Caller,
        flow: &FlowRow,
        method: &FlowMethod,
        choice: &ChallengeRequest,
        now: i64,
    ) -> FlowResult<ChallengeView> {
        let config = self.core.config();
        let policy = &config.policy;
        let sends_code = sends_code(method.kind);
        if sends_code {
            if let Some(last) = self.core.store.last_challenge(&flow.id, &method.id).await? {
                let wait = last.created_at + i64::from(policy.resend_after_secs) - now;
                let failed = last.delivery == Some(Delivery::Failed);
                if wait > 0 && last.used_at.is_none() && !failed {
                    return Err(FlowError::ResendWait { wait });
                }
            }
        }
        let kind = if method.kind == MethodKind::Email {
            throttle::EMAIL
        } else {
            throttle::PHONE
        };
        let kiosk_key = throttle::kiosk_key(&caller.kiosk_id);
        let by_phone = matches!(method.kind, MethodKind::Sms | MethodKind::Voice);
        // A text or call counts on its number too (a decoy's on its login).
        let destination = throttle::destination_key(
            &self.core.key,
            if flow.user_id.is_some() {
                &method.target
            } else {
                &flow.login
            },
        );
        let mut limited = self
            .core
            .throttle
            .rate_limited(&flow.throttle_key, &kiosk_key, kind, now)
            .await?;
        if by_phone && limited.is_none() {
            limited = self
                .core
                .throttle
                .destination_limited(&destination, now)
                .await?;
        }
        if let Some(wait) = limited {
            self.core
                .audit
                .record(
                    &self.ctx(caller, Some(flow)),
                    Event::ChallengeRefused {
                        method: method.kind,
                        reason: "rate_limited",
                    },
                    now,
                )
                .await;
            return Err(FlowError::RateLimited { wait });
        }

        let mut to_phone = None;
        let (row, view) = if method.kind == MethodKind::Approval {
            self.approval_challenge(caller, flow, method, choice.finish_on_phone, now)
                .await?
        } else if method.kind == MethodKind::Questions {
            self.questions_challenge(flow, method, now).await?
        } else {
            let (row, view, code) = self.code_challenge(flow, method, now);
            if let Some(code) = code {
                if by_phone {
                    to_phone = Some(self.phone_script(
                        flow,
                        choice.call || method.kind == MethodKind::Voice,
                        code.expose_secret(),
                    ));
                } else {
                    self.deliver_code(caller, flow, method, code.expose_secret(), now)
                        .await?;
                }
            }
            (row, view)
        };
        self.core.store.insert_challenge(&row).await?;
        match to_phone {
            // Counted when a gateway takes it (`delivery`), never when all fail.
            Some(text) => super::delivery::start(
                self.core.clone(),
                super::delivery::Send {
                    ctx: self.ctx(caller, Some(flow)),
                    challenge_id: row.id.clone(),
                    method: method.kind,
                    call: choice.call,
                    to: method.target.clone(),
                    text,
                    real: flow.user_id.is_some(),
                    keys: [flow.throttle_key.clone(), kiosk_key.clone(), destination],
                    at: now,
                },
            ),
            None => {
                self.core
                    .throttle
                    .record(&flow.throttle_key, &kiosk_key, kind, now)
                    .await?
            }
        }
        self.core
            .audit
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
    ) -> (ChallengeRow, ChallengeView, Option<SecretString>) {
        let config = self.core.config();
        let policy = &config.policy;
        let sends_code = sends_code(method.kind);
        let challenge_id = time_ordered_id();
        let mut to_send = None;
        let (code_hash, expires_at, code_length) = if sends_code {
            let code = self.core.random.digits(policy.code_length);
            let hash = code::hash(&self.core.key, &flow.id, &method.id, &code);
            to_send = Some(SecretString::from(code));
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
            delivery: (sends_code && method.kind != MethodKind::Email).then_some(Delivery::Sending),
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
            questions: Vec::new(),
            delivery: sends_code.then_some(if method.kind == MethodKind::Email {
                Delivery::Sent
            } else {
                Delivery::Sending
            }),
        };
        (row, view, to_send)
    }

    /// Sends an emailed code before the challenge counts, so a relay that is down or
    /// refuses is told to the person at once ("couldn't send: choose another method") and
    /// counts against nobody; the audit tells the admin. A decoy sends nothing, and
    /// answers the same while the relay is failing for real people; the caller's floor
    /// (`pace`) keeps a real send and a decoy's nothing the same length.
    async fn deliver_code(
        &self,
        caller: &Caller,
        flow: &FlowRow,
        method: &FlowMethod,
        code: &str,
        now: i64,
    ) -> FlowResult<()> {
        let failure = if flow.user_id.is_some() {
            let mail = notify::code_mail(
                &method.target,
                &notify::CodeMail {
                    locale: &flow.locale,
                    organization: &self.core.config().organization.name,
                    code,
                    minutes: self.core.config().policy.code_ttl_secs.div_ceil(60),
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
        self.core
            .audit
            .record(
                &self.ctx(caller, Some(flow)),
                Event::NotificationFailed {
                    kind: "code",
                    reason,
                },
                now,
            )
            .await;
        Err(FlowError::DeliveryFailed)
    }
}
