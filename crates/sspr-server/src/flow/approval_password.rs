//! The new password typed on the phone that approved (`password_on_phone`): asked only
//! by that phone (its key, which the QR code's token is not), set as the kiosk would set
//! it, and the kiosk told.

use sspr_proto::{DoneView, FlowEvent, PasswordCheck};

use super::{FlowService, Stage};
use crate::flow::error::{ApprovalRefusal, FlowError, FlowResult, StepResult};
use crate::flow::rows::FlowRow;
use crate::flow::Caller;

impl FlowService {
    /// The password step: approved for the phone, and asked by the phone that approved
    /// (its key), not by someone who saw the QR code.
    async fn phone_password_step(
        &self,
        token: &str,
        key: &str,
        correlation_id: &str,
        now: i64,
    ) -> FlowResult<(String, FlowRow, Caller)> {
        let (id, flow, caller, stage) = self.pending(token, correlation_id, now).await?;
        if stage != Stage::PasswordOnPhone {
            return Err(FlowError::ApprovalStep(ApprovalRefusal::ApproveFirst));
        }
        let expected = self
            .approvals
            .pending
            .with_id(&id, now, |p| p.password_key.clone())
            .await?
            .flatten()
            .unwrap_or_default();
        let given = self.token_mac(key);
        if !crate::secret::constant_time_eq(given.as_bytes(), expected.as_bytes()) {
            return Err(FlowError::NotTheApprovingPhone);
        }
        Ok((id, flow, caller))
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
        let (id, flow, caller) = self
            .phone_password_step(token, key, correlation_id, now)
            .await?;
        let done = self
            .set_password(&caller, &flow.id, new_password, now)
            .await?;
        self.approvals.pending.remove_id(&id, now).await?;
        self.approvals
            .push(
                &flow.id,
                Some(FlowEvent::Completed { done: done.clone() }),
                now,
            )
            .await?;
        Ok(done)
    }
}
