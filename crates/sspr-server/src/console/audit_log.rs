//! The audit log and the helpdesk: filtered pages of the trail, its export (streamed, in
//! constant memory), one attempt told as a story by its reference code, and clearing a
//! person's methods with a reason.

use std::collections::HashMap;

use sspr_proto::{AttemptView, AuditEntry, AuditPage};

use super::{Caller, Capability, Console, ConsoleError, ConsoleResult};
use crate::audit::{self, Event};
use crate::directory::DirUser;
use crate::store::{AuditFilter, AuditRow};

/// Rows a page shows at most.
pub const PAGE_MAX: i64 = 500;
/// Rows an export reads from the store at a time.
pub const EXPORT_SLICE: i64 = 1000;

pub const CSV_HEADER: &str =
    "id,at,event,outcome,correlation_id,kiosk_id,kiosk_name,reference,login,detail\n";

fn entry(r: AuditRow, kiosks: &HashMap<String, String>) -> AuditEntry {
    AuditEntry {
        kiosk_name: r.kiosk_id.as_ref().and_then(|k| kiosks.get(k).cloned()),
        id: r.id,
        at: r.at,
        event: r.event,
        outcome: r.outcome,
        correlation_id: r.correlation_id,
        kiosk_id: r.kiosk_id,
        reference: r.reference,
        login: r.login,
        detail: serde_json::from_str(&r.detail).unwrap_or(serde_json::Value::Null),
    }
}

/// One CSV field (RFC 4180), with a leading `=`, `+`, `-` or `@` made inert for
/// spreadsheets (a login is typed by anyone at a kiosk).
pub(super) fn csv_field(out: &mut String, s: &str) {
    let inert = s.starts_with(['=', '+', '-', '@', '\t', '\r']);
    out.push('"');
    if inert {
        out.push('\'');
    }
    out.push_str(&s.replace('"', "\"\""));
    out.push('"');
}

pub fn csv_row(e: &AuditEntry) -> String {
    let mut out = String::with_capacity(256);
    out.push_str(&e.id.to_string());
    for f in [
        e.at.as_str(),
        &e.event,
        &e.outcome,
        &e.correlation_id,
        e.kiosk_id.as_deref().unwrap_or(""),
        e.kiosk_name.as_deref().unwrap_or(""),
        e.reference.as_deref().unwrap_or(""),
        e.login.as_deref().unwrap_or(""),
        &e.detail.to_string(),
    ] {
        out.push(',');
        csv_field(&mut out, f);
    }
    out.push('\n');
    out
}

/// Checks a filter typed in the console: lengths, and known outcomes.
pub fn check_filter(f: &AuditFilter) -> ConsoleResult<()> {
    for (name, v) in [
        ("login", &f.login),
        ("kiosk", &f.kiosk),
        ("event", &f.event),
        ("reference", &f.reference),
    ] {
        if v.as_deref().is_some_and(|v| v.chars().count() > 256) {
            return Err(ConsoleError::BadInput(format!(
                "The {name} filter is over 256 characters."
            )));
        }
    }
    if let Some(o) = &f.outcome {
        if o != "success" && o != "failure" {
            return Err(ConsoleError::BadInput(
                "outcome is \"success\" or \"failure\".".into(),
            ));
        }
    }
    if let (Some(s), Some(u)) = (f.since, f.until) {
        if s >= u {
            return Err(ConsoleError::BadInput("since must be before until.".into()));
        }
    }
    Ok(())
}

impl Console {
    async fn kiosk_names(&self) -> ConsoleResult<HashMap<String, String>> {
        Ok(self
            .core
            .store
            .kiosks()
            .await?
            .into_iter()
            .map(|k| (k.id, k.name))
            .collect())
    }

    pub async fn audit_page(
        &self,
        caller: &Caller,
        filter: &AuditFilter,
        before: Option<i64>,
        limit: Option<i64>,
    ) -> ConsoleResult<AuditPage> {
        caller.require(Capability::ReadAudit)?;
        check_filter(filter)?;
        let limit = limit.unwrap_or(100).clamp(1, PAGE_MAX);
        let rows = self
            .core
            .store
            .audit_filtered(filter, before, limit + 1)
            .await?;
        let more = rows.len() as i64 > limit;
        let kiosks = self.kiosk_names().await?;
        let entries: Vec<AuditEntry> = rows
            .into_iter()
            .take(limit as usize)
            .map(|r| entry(r, &kiosks))
            .collect();
        Ok(AuditPage {
            next_before: if more {
                entries.last().map(|e| e.id)
            } else {
                None
            },
            entries,
            retention_days: self.core.base().store.audit_retention_days,
        })
    }

    /// An export's next slice, newest first: rows below `before`, as entries. Empty when
    /// the export is done.
    pub async fn export_slice(
        &self,
        filter: &AuditFilter,
        before: Option<i64>,
        kiosks: &HashMap<String, String>,
    ) -> ConsoleResult<Vec<AuditEntry>> {
        Ok(self
            .core
            .store
            .audit_filtered(filter, before, EXPORT_SLICE)
            .await?
            .into_iter()
            .map(|r| entry(r, kiosks))
            .collect())
    }

    /// Starts an export: checks the caller and the filter, audits it, and gives the
    /// kiosks' names the rows will carry.
    pub async fn export_start(
        &self,
        caller: &Caller,
        filter: &AuditFilter,
        format: &str,
        now: i64,
    ) -> ConsoleResult<HashMap<String, String>> {
        caller.require(Capability::ReadAudit)?;
        check_filter(filter)?;
        self.core
            .audit
            .record(
                &caller.audit_ctx(),
                Event::ConsoleAction {
                    action: "audit_exported",
                    from: caller.from.clone(),
                    target: None,
                    detail: format!("{format}; {}", describe(filter)),
                },
                now,
            )
            .await;
        self.kiosk_names().await
    }

    /// One attempt at a kiosk, by the reference code its "We couldn't verify you" screen
    /// showed.
    pub async fn attempt(
        &self,
        caller: &Caller,
        reference: &str,
        now: i64,
    ) -> ConsoleResult<AttemptView> {
        caller.require(Capability::Helpdesk)?;
        let reference = reference.trim().to_uppercase();
        if reference.is_empty()
            || reference.len() > 32
            || !reference
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-')
        {
            return Err(ConsoleError::BadInput(
                "A reference code has letters, digits and dashes, like 7KQ2-M9XD.".into(),
            ));
        }
        let rows = self.core.store.attempt_rows(&reference).await?;
        if rows.is_empty() {
            return Err(ConsoleError::NotFound("attempt with that reference code"));
        }
        let kiosks = self.kiosk_names().await?;
        let events: Vec<AuditEntry> = rows.into_iter().map(|r| entry(r, &kiosks)).collect();
        let first = &events[0];
        let last = &events[events.len() - 1];
        let detail =
            |e: &AuditEntry, k: &str| e.detail.get(k).and_then(|v| v.as_str()).map(String::from);
        let started = events.iter().find(|e| e.event == "flow_started");
        let decoy = started
            .and_then(|e| e.detail.get("decoy"))
            .and_then(|v| v.as_bool())
            .unwrap_or(false);
        let done = events.iter().any(|e| {
            matches!(
                e.event.as_str(),
                "password_reset" | "unlocked" | "writeback_confirmed"
            )
        });
        let failure = events.iter().rev().find(|e| e.outcome == "failure");
        let blocked = events.iter().rev().find(|e| e.event == "blocked");
        let blocked_until = blocked.and_then(|e| detail(e, "until")).filter(|until| {
            time::OffsetDateTime::parse(until, &time::format_description::well_known::Rfc3339)
                .map(|t| t.unix_timestamp() > now)
                .unwrap_or(false)
        });
        let outcome = if done {
            "done"
        } else if blocked.is_some() {
            "blocked"
        } else if events.iter().any(|e| e.event == "flow_cancelled") {
            "abandoned"
        } else if failure.is_some() {
            "failed"
        } else {
            "in_progress"
        };
        let (failed_at, reason) = match failure.filter(|_| !done) {
            Some(f) => (
                Some(step_name(&f.event).to_string()),
                detail(f, "reason").or_else(|| f.detail.get("reasons").map(|r| r.to_string())),
            ),
            None => (None, None),
        };
        Ok(AttemptView {
            reference,
            login: first.login.clone(),
            kiosk: first.kiosk_name.clone().or_else(|| first.kiosk_id.clone()),
            intent: started.and_then(|e| detail(e, "intent")),
            started_at: first.at.clone(),
            last_at: last.at.clone(),
            outcome: outcome.to_string(),
            failed_at,
            reason,
            blocked_until,
            decoy,
            events,
        })
    }

    /// Checks that the caller may clear someone's methods and that the reason is given;
    /// finds the person (None: nobody by that login).
    pub async fn clear_methods_for(
        &self,
        caller: &Caller,
        login: &str,
        reason: &str,
    ) -> ConsoleResult<DirUser> {
        caller.require(Capability::Helpdesk)?;
        let reason = reason.trim();
        if reason.chars().count() < 3 || reason.chars().count() > 500 {
            return Err(ConsoleError::BadInput(
                "Say why (3 to 500 characters): it goes in the audit.".into(),
            ));
        }
        let login = crate::flow::validate_login(login)?;
        match self.core.directories.find(login).await {
            Ok(Some((_, user))) => Ok(user),
            Ok(None) => Err(ConsoleError::NotFound("person with that login")),
            Err(_) => Err(ConsoleError::DirectoryDown),
        }
    }

    /// Audits a clearing of methods done for `caller`.
    pub async fn methods_cleared(
        &self,
        caller: &Caller,
        user: &DirUser,
        reason: &str,
        removed: usize,
        now: i64,
    ) {
        self.core
            .audit
            .record(
                &caller.audit_ctx(),
                Event::ConsoleAction {
                    action: "methods_cleared",
                    from: caller.from.clone(),
                    target: Some(user.username.clone()),
                    detail: format!("{removed} removed; reason: {}", reason.trim()),
                },
                now,
            )
            .await;
    }
}

/// The step an audit event belongs to, for the helpdesk.
fn step_name(event: &str) -> &'static str {
    match event {
        "flow_refused" => "starting",
        "challenge_refused" => "sending a code",
        "verify_failed" => "verifying a method",
        "blocked" => "verifying (blocked)",
        "password_rejected" => "the new password",
        "writeback_failed" | "writeback_in_doubt" | "partially_written" => {
            "writing to the directory"
        }
        "directory_unavailable" => "reaching the directory",
        "step_refused" => "a step out of order",
        "notification_failed" => "sending a notice",
        _ => "another step",
    }
}

/// A filter in words, for the audit's row about an export.
fn describe(f: &AuditFilter) -> String {
    let mut parts = Vec::new();
    for (k, v) in [
        ("login", &f.login),
        ("kiosk", &f.kiosk),
        ("event", &f.event),
        ("outcome", &f.outcome),
        ("reference", &f.reference),
    ] {
        if let Some(v) = v {
            parts.push(format!("{k}={v}"));
        }
    }
    if let Some(s) = f.since {
        parts.push(format!("since={}", audit::rfc3339(s)));
    }
    if let Some(u) = f.until {
        parts.push(format!("until={}", audit::rfc3339(u)));
    }
    if parts.is_empty() {
        "everything".into()
    } else {
        parts.join(", ")
    }
}
