//! Typed audit events. Every step of a flow writes one row: UTC time, correlation id,
//! kiosk, reference, login, outcome and a detail that never holds a secret (the types
//! below have no field that could carry a password, code, token or answer).

use metrics::counter;
use serde::Serialize;
use sspr_proto::{MethodKind, PasswordReasonCode};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::store::{AuditRow, Store};

#[derive(Debug, Clone, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    FlowStarted {
        intent: &'static str,
        required: u8,
        decoy: bool,
        reason: Option<&'static str>,
    },
    FlowRefused {
        reason: &'static str,
        retry_after_secs: Option<i64>,
    },
    ChallengeSent {
        method: MethodKind,
    },
    /// A gateway took a code sent by text message or by call (after the challenge had
    /// answered). A decoy's stands in for one: nothing was sent.
    CodeDelivered {
        method: MethodKind,
        call: bool,
        decoy: bool,
    },
    /// Every gateway failed a code by text message or call: nothing was counted against
    /// the person, who is told to choose another method.
    CodeUndelivered {
        method: MethodKind,
        call: bool,
        reason: String,
        decoy: bool,
    },
    ChallengeRefused {
        method: MethodKind,
        reason: &'static str,
    },
    VerifySucceeded {
        method: MethodKind,
        done: u8,
        required: u8,
    },
    VerifyFailed {
        method: MethodKind,
        reason: &'static str,
    },
    Blocked {
        scope: &'static str,
        until: String,
    },
    PasswordRejected {
        reasons: Vec<PasswordReasonCode>,
    },
    PasswordReset {
        directory: String,
    },
    Unlocked {
        directory: String,
    },
    WritebackFailed {
        directory: String,
        reason: String,
    },
    /// The connection was lost after the change was sent: it may have been made.
    WritebackInDoubt {
        directory: String,
        reason: String,
    },
    /// A write in doubt was found made (the password's "last changed" time moved), so it
    /// wasn't sent again.
    WritebackConfirmed {
        directory: String,
    },
    /// Some linked directories took the change and some didn't.
    PartiallyWritten {
        intent: &'static str,
        written: Vec<String>,
        failed: Vec<String>,
    },
    DirectoryUnavailable {
        directory: String,
        reason: String,
    },
    FlowCancelled,
    StepRefused {
        step: &'static str,
        reason: &'static str,
    },
    NotificationSent {
        kind: &'static str,
        recipients: usize,
    },
    NotificationFailed {
        kind: &'static str,
        reason: String,
    },
    /// A one-time code for the kiosk named `name`, or (with `code_id`) a staging code for
    /// `uses` PCs, `name` then being the prefix of PCs that send no host name.
    KioskEnrollmentCodeIssued {
        name: String,
        location: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        code_id: Option<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        uses: Option<u32>,
        #[serde(skip_serializing_if = "Option::is_none")]
        expires_at: Option<String>,
    },
    /// A kiosk enrolled; `code_id` names the staging code it used (none: a one-time code).
    KioskEnrolled {
        name: String,
        location: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        code_id: Option<String>,
    },
    /// A staging code's remaining uses ended by IT.
    EnrollmentCodeRevoked {
        code_id: String,
    },
    KioskEnrollmentRefused,
    KioskRevoked,
    RequestRefused {
        reason: &'static str,
        path: String,
    },
    /// The phone opened an approval page (the kiosk is shown the number).
    ApprovalOpened,
    /// Someone signed in to "My security info" (step: password or second factor).
    SecurityInfoSignIn {
        step: &'static str,
    },
    SecurityInfoSignInFailed {
        step: &'static str,
        reason: &'static str,
    },
    MethodRegistered {
        method: MethodKind,
    },
    MethodRemoved {
        method: MethodKind,
    },
    /// The person confirmed on "My security info" that their methods are current.
    SecurityInfoReviewed,
    /// Rows past `store.audit_retention_days` were deleted (this row says so).
    AuditPurged {
        rows: usize,
        before: String,
    },
    /// A new policy version was saved: by whom, and which keys changed.
    PolicySaved {
        version: i64,
        author: String,
        changes: Vec<String>,
    },
    /// A policy version was refused: nothing changed.
    PolicyRefused {
        author: String,
        problems: Vec<String>,
    },
    /// Someone signed in to the admin console (password and passkey), with these roles.
    ConsoleSignIn {
        roles: Vec<&'static str>,
        from: String,
    },
    /// A console sign-in failed (the reason is for the audit only: the answer is the same).
    ConsoleSignInFailed {
        reason: &'static str,
        from: String,
    },
    ConsoleSignedOut {
        from: String,
    },
    /// The passkey was checked again (before a policy change).
    ConsoleReauthenticated {
        from: String,
    },
    /// Something done in the console: who is the row's login, from where, what.
    ConsoleAction {
        action: &'static str,
        from: String,
        target: Option<String>,
        detail: String,
    },
}

impl Event {
    fn name_and_outcome(&self) -> (&'static str, &'static str) {
        match self {
            Event::FlowStarted { .. } => ("flow_started", "success"),
            Event::FlowRefused { .. } => ("flow_refused", "failure"),
            Event::ChallengeSent { .. } => ("challenge_sent", "success"),
            Event::CodeDelivered { .. } => ("code_delivered", "success"),
            Event::CodeUndelivered { .. } => ("code_undelivered", "failure"),
            Event::ChallengeRefused { .. } => ("challenge_refused", "failure"),
            Event::VerifySucceeded { .. } => ("verify_succeeded", "success"),
            Event::VerifyFailed { .. } => ("verify_failed", "failure"),
            Event::Blocked { .. } => ("blocked", "failure"),
            Event::PasswordRejected { .. } => ("password_rejected", "failure"),
            Event::PasswordReset { .. } => ("password_reset", "success"),
            Event::Unlocked { .. } => ("unlocked", "success"),
            Event::WritebackFailed { .. } => ("writeback_failed", "failure"),
            Event::WritebackInDoubt { .. } => ("writeback_in_doubt", "failure"),
            Event::WritebackConfirmed { .. } => ("writeback_confirmed", "success"),
            Event::PartiallyWritten { .. } => ("partially_written", "failure"),
            Event::DirectoryUnavailable { .. } => ("directory_unavailable", "failure"),
            Event::FlowCancelled => ("flow_cancelled", "success"),
            Event::StepRefused { .. } => ("step_refused", "failure"),
            Event::NotificationSent { .. } => ("notification_sent", "success"),
            Event::NotificationFailed { .. } => ("notification_failed", "failure"),
            Event::KioskEnrollmentCodeIssued { .. } => ("kiosk_enrollment_code_issued", "success"),
            Event::KioskEnrolled { .. } => ("kiosk_enrolled", "success"),
            Event::KioskEnrollmentRefused => ("kiosk_enrollment_refused", "failure"),
            Event::KioskRevoked => ("kiosk_revoked", "success"),
            Event::EnrollmentCodeRevoked { .. } => ("enrollment_code_revoked", "success"),
            Event::RequestRefused { .. } => ("request_refused", "failure"),
            Event::ApprovalOpened => ("approval_opened", "success"),
            Event::SecurityInfoSignIn { .. } => ("security_info_sign_in", "success"),
            Event::SecurityInfoSignInFailed { .. } => ("security_info_sign_in_failed", "failure"),
            Event::MethodRegistered { .. } => ("method_registered", "success"),
            Event::MethodRemoved { .. } => ("method_removed", "success"),
            Event::SecurityInfoReviewed => ("security_info_reviewed", "success"),
            Event::AuditPurged { .. } => ("audit_purged", "success"),
            Event::PolicySaved { .. } => ("policy_saved", "success"),
            Event::PolicyRefused { .. } => ("policy_refused", "failure"),
            Event::ConsoleSignIn { .. } => ("console_sign_in", "success"),
            Event::ConsoleSignInFailed { .. } => ("console_sign_in_failed", "failure"),
            Event::ConsoleSignedOut { .. } => ("console_signed_out", "success"),
            Event::ConsoleReauthenticated { .. } => ("console_reauthenticated", "success"),
            Event::ConsoleAction { action, .. } => (*action, "success"),
        }
    }
}

/// Who and where an event belongs to.
#[derive(Debug, Clone, Default)]
pub struct Context {
    pub correlation_id: String,
    pub kiosk_id: Option<String>,
    pub reference: Option<String>,
    pub login: Option<String>,
    pub user_id: Option<String>,
}

#[derive(Clone)]
pub struct Audit {
    store: Store,
}

impl Audit {
    pub fn new(store: Store) -> Self {
        Audit { store }
    }

    /// Writes the event; a failed write is logged, never dropped silently. The row is
    /// committed by the store's batching writer: `flush` waits for it.
    pub async fn record(&self, ctx: &Context, event: Event, now: i64) {
        count(&event);
        let (name, outcome) = event.name_and_outcome();
        let detail = serde_json::to_string(&event).unwrap_or_else(|_| "{}".into());
        let row = AuditRow {
            id: 0,
            at: rfc3339(now),
            event: name.to_string(),
            outcome: outcome.to_string(),
            correlation_id: ctx.correlation_id.clone(),
            kiosk_id: ctx.kiosk_id.clone(),
            reference: ctx.reference.clone(),
            login: ctx.login.clone(),
            user_id: ctx.user_id.clone(),
            detail,
        };
        tracing::info!(
            target: "sspr::audit",
            event = name,
            outcome,
            correlation_id = %row.correlation_id,
            kiosk = row.kiosk_id.as_deref().unwrap_or("-"),
            reference = row.reference.as_deref().unwrap_or("-"),
            "audit"
        );
        if let Err(e) = self.store.insert_audit(row, now).await {
            tracing::error!(error = %e, event = name, "writing the audit row failed");
        }
    }
}

impl Audit {
    /// Waits until every event recorded so far is in the store.
    pub async fn flush(&self) {
        self.store.flush().await;
    }
}

pub fn rfc3339(unix: i64) -> String {
    OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_else(|| unix.to_string())
}

/// How a code went: by text message, or read out by a call.
fn channel(call: bool) -> &'static str {
    if call {
        "call"
    } else {
        "text"
    }
}

/// Counts what an event says happened, in the metrics `telemetry` describes. No label
/// carries a login or an address: kinds, fixed reasons, configured directory names.
fn count(e: &Event) {
    match e {
        Event::FlowStarted { intent, decoy, .. } => {
            let decoy = if *decoy { "true" } else { "false" };
            counter!("sspr_flows_started_total", "intent" => *intent, "decoy" => decoy)
                .increment(1);
        }
        Event::FlowRefused { reason, .. } => {
            counter!("sspr_flows_refused_total", "reason" => *reason).increment(1);
        }
        Event::CodeDelivered {
            method,
            call,
            decoy: false,
        } => {
            counter!("sspr_code_deliveries_total", "method" => method.as_str(), "channel" => channel(*call), "result" => "delivered")
                .increment(1);
        }
        Event::CodeUndelivered {
            method,
            call,
            decoy: false,
            ..
        } => {
            counter!("sspr_code_deliveries_total", "method" => method.as_str(), "channel" => channel(*call), "result" => "failed")
                .increment(1);
        }
        Event::ChallengeSent { method } => {
            counter!("sspr_challenges_sent_total", "method" => method.as_str()).increment(1);
        }
        Event::ChallengeRefused { method, reason } => {
            counter!("sspr_challenges_refused_total", "method" => method.as_str(), "reason" => *reason)
                .increment(1);
        }
        Event::VerifySucceeded {
            method,
            done,
            required,
        } => {
            counter!("sspr_verifications_total", "method" => method.as_str(), "result" => "verified", "reason" => "")
                .increment(1);
            if done >= required {
                counter!("sspr_flows_verified_total", "method" => method.as_str()).increment(1);
            }
        }
        Event::VerifyFailed { method, reason } => {
            counter!("sspr_verifications_total", "method" => method.as_str(), "result" => "failed", "reason" => *reason)
                .increment(1);
        }
        Event::Blocked { scope, .. } => {
            counter!("sspr_throttle_blocks_total", "scope" => *scope).increment(1);
        }
        Event::PasswordReset { directory } => {
            counter!("sspr_flows_completed_total", "intent" => "reset", "directory" => directory.clone())
                .increment(1);
        }
        Event::Unlocked { directory } => {
            counter!("sspr_flows_completed_total", "intent" => "unlock", "directory" => directory.clone())
                .increment(1);
        }
        Event::WritebackFailed { directory, .. } => writeback(directory, "failed"),
        Event::WritebackInDoubt { directory, .. } => writeback(directory, "in_doubt"),
        Event::WritebackConfirmed { directory } => writeback(directory, "confirmed"),
        Event::PartiallyWritten { failed, .. } => {
            for directory in failed {
                writeback(directory, "partial");
            }
        }
        Event::RequestRefused { reason, .. } => {
            counter!("sspr_kiosk_requests_refused_total", "reason" => *reason).increment(1);
        }
        Event::NotificationSent { kind, recipients } => {
            counter!("sspr_notifications_total", "kind" => *kind, "result" => "sent")
                .increment(*recipients as u64);
        }
        Event::NotificationFailed { kind, .. } => {
            counter!("sspr_notifications_total", "kind" => *kind, "result" => "failed")
                .increment(1);
        }
        Event::SecurityInfoSignIn { step } => {
            counter!("sspr_security_info_sign_ins_total", "step" => *step, "result" => "ok")
                .increment(1);
        }
        Event::SecurityInfoSignInFailed { step, .. } => {
            counter!("sspr_security_info_sign_ins_total", "step" => *step, "result" => "failed")
                .increment(1);
        }
        Event::MethodRegistered { method } => {
            counter!("sspr_methods_total", "method" => method.as_str(), "change" => "registered")
                .increment(1);
        }
        Event::MethodRemoved { method } => {
            counter!("sspr_methods_total", "method" => method.as_str(), "change" => "removed")
                .increment(1);
        }
        _ => {}
    }
}

fn writeback(directory: &str, result: &'static str) {
    counter!("sspr_writebacks_total", "directory" => directory.to_string(), "result" => result)
        .increment(1);
}
