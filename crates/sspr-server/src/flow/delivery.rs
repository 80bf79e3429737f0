//! Codes by text message and by call go out after the challenge has answered: a gateway
//! may take seconds (each has `timeout_secs`, and the next is tried after a failure), and
//! no kiosk request waits for that. The challenge's row says where sending stands
//! (`sending`, then `sent` or `failed`), and the kiosk follows it
//! (`GET /v1/flows/{id}/challenges/{cid}`). A send every gateway failed counts against
//! nobody (only a send a gateway took counts toward the limits) and is audited and
//! counted for the admin. A decoy's send sends nothing: it waits as long as sends lately
//! took and ends as they lately ended, so following it tells nothing.

use std::sync::Arc;

use secrecy::{ExposeSecret, SecretString};
use sspr_proto::{ChallengeStatus, Delivery, MethodKind};

use super::error::{FlowError, StepResult};
use super::{Caller, FlowService};
use crate::audit::{self, Event};
use crate::core::Core;

/// A code to send, and what to note when it went (or didn't).
pub(super) struct Send {
    pub ctx: audit::Context,
    pub challenge_id: String,
    pub method: MethodKind,
    /// A mobile number called instead of texted.
    pub call: bool,
    /// The number (empty for a decoy).
    pub to: String,
    /// The text message, or the call's script.
    pub text: SecretString,
    /// A real person's (else a decoy's: nothing is sent).
    pub real: bool,
    /// The person's, the kiosk's and the number's throttle keys.
    pub keys: [String; 3],
    /// When the challenge was made (the step's clock: what is noted after is that plus
    /// the time sending took).
    pub at: i64,
}

/// Starts sending; returns at once.
pub(super) fn start(core: Arc<Core>, send: Send) {
    tokio::spawn(async move { deliver(&core, send).await });
}

async fn deliver(core: &Core, s: Send) {
    let started = std::time::Instant::now();
    let gateway = if s.call || s.method == MethodKind::Voice {
        core.voice.as_ref()
    } else {
        core.sms.as_ref()
    };
    let result = match gateway {
        None => Err("no gateway is configured".to_string()),
        Some(g) if s.real => g.send(&s.to, s.text.expose_secret()).await.map(|_| ()),
        Some(g) => {
            tokio::time::sleep(g.typical()).await;
            if g.failing() {
                Err(
                    "every gateway is failing (a decoy answers as a real person is answered)"
                        .into(),
                )
            } else {
                Ok(())
            }
        }
    };
    let now = s.at + started.elapsed().as_secs() as i64;
    let (delivery, event) = match result {
        Ok(()) => {
            let [user, kiosk, destination] = &s.keys;
            if let Err(e) = core
                .throttle
                .record_delivery(user, kiosk, destination, now)
                .await
            {
                tracing::error!(error = %e, "counting a sent code failed");
            }
            (
                Delivery::Sent,
                Event::CodeDelivered {
                    method: s.method,
                    call: s.call,
                    decoy: !s.real,
                },
            )
        }
        Err(reason) => {
            if s.real {
                tracing::warn!(reason = %reason, "every gateway failed a code by text or call");
            }
            (
                Delivery::Failed,
                Event::CodeUndelivered {
                    method: s.method,
                    call: s.call,
                    reason,
                    decoy: !s.real,
                },
            )
        }
    };
    if let Err(e) = core.store.set_delivery(&s.challenge_id, delivery).await {
        tracing::error!(error = %e, "noting where a code's sending stands failed");
    }
    core.audit.record(&s.ctx, event, now).await;
}

impl FlowService {
    /// Where a challenge's code stands: sending, sent or failed (an emailed code was sent
    /// before its challenge answered); none for challenges that send nothing.
    pub async fn challenge_status(
        &self,
        caller: &Caller,
        flow_id: &str,
        challenge_id: &str,
    ) -> StepResult<ChallengeStatus> {
        let flow = self.own_flow(caller, flow_id).await?;
        let challenge = self
            .core
            .store
            .challenge(&flow.id, challenge_id)
            .await
            .map_err(|e| FlowError::from(e).at(&flow.reference))?
            .ok_or_else(|| FlowError::ChallengeNotFound.at(&flow.reference))?;
        Ok(ChallengeStatus {
            challenge_id: challenge.id,
            delivery: challenge
                .delivery
                .or((challenge.kind == MethodKind::Email).then_some(Delivery::Sent)),
        })
    }
}
