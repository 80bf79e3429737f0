//! The overview and the directories page: is SSPR on and for whom, the directories'
//! health, kiosks, today's numbers, and what needs an admin.

use sspr_proto::{Attention, CertificateStatus, DayCounts, DirectoryStatus, Overview};

use super::kiosks::{is_stale, midnight, ONLINE_SECS};
use super::{Caller, Capability, Console, ConsoleError, ConsoleResult};
use crate::audit::{self, Event};
use crate::config::Enablement;
use crate::directory::{DirRules, Directory};

const WRITES: &[&str] = &["password_reset", "unlocked", "writeback_confirmed"];
const FAILURES: &[&str] = &[
    "writeback_failed",
    "writeback_in_doubt",
    "directory_unavailable",
];

fn rules_text(r: DirRules) -> String {
    let mut parts = Vec::new();
    if r.min_length > 0 {
        parts.push(format!("at least {} characters", r.min_length));
    }
    if r.categories > 0 {
        parts.push(format!("{} of 4 kinds of character", r.categories));
    }
    if r.history > 0 {
        parts.push(format!("not one of the last {}", r.history));
    }
    if r.no_account_name {
        parts.push("not the account's name".into());
    }
    if parts.is_empty() {
        "none of its own".into()
    } else {
        parts.join("; ")
    }
}

impl Console {
    async fn directory_status(&self, dir: &dyn Directory) -> ConsoleResult<DirectoryStatus> {
        let store = &self.core.store;
        let name = dir.name().to_string();
        let ping = dir.ping().await;
        let rules = match dir.rules().await {
            Ok(r) => Some(rules_text(r)),
            Err(_) => None,
        };
        let now = crate::clock::now();
        let certificate = dir.certificate().await.map(|c| match c {
            Ok(c) => CertificateStatus {
                subject: Some(c.subject),
                expires_at: Some(audit::rfc3339(c.not_after)),
                days_left: Some((c.not_after - now).div_euclid(86_400)),
                trusted: c.trusted,
                error: None,
            },
            Err(e) => CertificateStatus {
                subject: None,
                expires_at: None,
                days_left: None,
                trusted: false,
                error: Some(e),
            },
        });
        let last_write = store.last_directory_event(&name, WRITES).await?;
        let last_failure = store.last_directory_event(&name, FAILURES).await?;
        Ok(DirectoryStatus {
            certificate,
            reachable: ping.is_ok(),
            error: ping.err().map(|e| e.to_string()),
            rules,
            last_write_at: last_write.map(|(at, _)| audit::rfc3339(at)),
            last_failure_reason: last_failure.as_ref().and_then(|(_, d)| {
                serde_json::from_str::<serde_json::Value>(d)
                    .ok()
                    .and_then(|v| v.get("reason").and_then(|r| r.as_str()).map(String::from))
            }),
            last_failure_at: last_failure.map(|(at, _)| audit::rfc3339(at)),
            name,
        })
    }

    pub async fn directories(&self, caller: &Caller) -> ConsoleResult<Vec<DirectoryStatus>> {
        caller.require(Capability::ReadInsights)?;
        let dirs = &self.core.directories;
        let mut out = Vec::new();
        for i in 0..dirs.len() {
            if let Some(d) = dirs.get(i) {
                out.push(self.directory_status(d.as_ref()).await?);
            }
        }
        Ok(out)
    }

    /// "Test connection": the directory's state now, audited.
    pub async fn test_directory(
        &self,
        caller: &Caller,
        name: &str,
        now: i64,
    ) -> ConsoleResult<DirectoryStatus> {
        caller.require(Capability::Administer)?;
        let dirs = &self.core.directories;
        let dir = (0..dirs.len())
            .filter_map(|i| dirs.get(i))
            .find(|d| d.name() == name)
            .ok_or(ConsoleError::NotFound("directory"))?;
        let status = self.directory_status(dir.as_ref()).await?;
        self.core
            .audit
            .record(
                &caller.audit_ctx(),
                Event::ConsoleAction {
                    action: "directory_tested",
                    from: caller.from.clone(),
                    target: Some(name.to_string()),
                    detail: match &status.error {
                        None => "reachable".into(),
                        Some(e) => format!("unreachable: {e}"),
                    },
                },
                now,
            )
            .await;
        Ok(status)
    }

    pub async fn overview(&self, caller: &Caller, now: i64) -> ConsoleResult<Overview> {
        caller.require(Capability::ReadInsights)?;
        let core = &self.core;
        let config = core.config();
        let directories = self.directories(caller).await?;
        let kiosks = core.store.kiosks().await?;
        let enrolled: Vec<_> = kiosks
            .iter()
            .filter(|k| k.revoked_at.is_none() && k.enrolled_at.is_some())
            .collect();
        let online = enrolled
            .iter()
            .filter(|k| k.last_seen_at.is_some_and(|s| s >= now - ONLINE_SECS))
            .count();
        let stale: Vec<_> = enrolled.iter().filter(|k| is_stale(k, now)).collect();
        let mut today = DayCounts::default();
        let mut relay_failures = 0;
        let mut gateway_failures = 0;
        const TODAY: &[&str] = &[
            "flow_started",
            "password_reset",
            "unlocked",
            "blocked",
            "verify_failed",
            "challenge_refused",
            "password_rejected",
            "writeback_failed",
            "partially_written",
            "flow_refused",
            "notification_failed",
            "code_undelivered",
        ];
        for (event, n) in core.store.audit_event_counts(TODAY, midnight(now)).await? {
            let n = n as u32;
            match event.as_str() {
                "flow_started" => today.started += n,
                "password_reset" => today.resets += n,
                "unlocked" => today.unlocks += n,
                "blocked" => today.blocked += n,
                "verify_failed" | "challenge_refused" | "password_rejected"
                | "writeback_failed" | "partially_written" | "flow_refused" => today.failures += n,
                "notification_failed" => relay_failures += n,
                "code_undelivered" => gateway_failures += n,
                _ => {}
            }
        }
        let mut attention = Vec::new();
        for d in &directories {
            if !d.reachable {
                attention.push(Attention {
                    severity: "error".into(),
                    message: format!(
                        "{} can't be reached: {}",
                        d.name,
                        d.error.as_deref().unwrap_or("no answer")
                    ),
                });
            }
        }
        for d in &directories {
            match &d.certificate {
                Some(c) if c.days_left.is_some_and(|n| n < 30) => attention.push(Attention {
                    severity: if c.days_left.is_some_and(|n| n < 7) { "error" } else { "warning" }.into(),
                    message: format!(
                        "{}'s TLS certificate expires in {} day(s) ({}).",
                        d.name,
                        c.days_left.unwrap_or(0).max(0),
                        c.expires_at.as_deref().unwrap_or("?")
                    ),
                }),
                Some(c) if c.error.is_none() && !c.trusted => attention.push(Attention {
                    severity: "warning".into(),
                    message: format!(
                        "{}'s TLS certificate isn't trusted by the configured CA for its host name.",
                        d.name
                    ),
                }),
                _ => {}
            }
        }
        for k in &stale {
            attention.push(Attention {
                severity: "warning".into(),
                message: format!(
                    "Kiosk \"{}\" ({}) hasn't been seen for over a day (last {}).",
                    k.name,
                    if k.location.is_empty() {
                        "no location"
                    } else {
                        &k.location
                    },
                    k.last_seen_at
                        .or(k.enrolled_at)
                        .map(audit::rfc3339)
                        .unwrap_or_else(|| "never".into())
                ),
            });
        }
        if relay_failures > 0 {
            attention.push(Attention {
                severity: "error".into(),
                message: format!(
                    "The mail relay failed {relay_failures} time(s) today: codes and notices may not arrive (see the audit log, event notification_failed)."
                ),
            });
        }
        if gateway_failures > 0 {
            attention.push(Attention {
                severity: "error".into(),
                message: format!(
                    "Every SMS or voice gateway failed {gateway_failures} time(s) today: people were asked to choose another method (see the audit log, event code_undelivered)."
                ),
            });
        }
        if config.policy.enabled == Enablement::None {
            attention.push(Attention {
                severity: "warning".into(),
                message: "Self-service is off for everyone (Properties).".into(),
            });
        }
        Ok(Overview {
            policy_version: core.policy_version(),
            enabled: match config.policy.enabled {
                Enablement::None => "none",
                Enablement::Group => "group",
                Enablement::All => "all",
            }
            .into(),
            group: config.policy.group.clone(),
            methods: config.policy.methods.clone(),
            methods_required: config.policy.methods_required,
            directories,
            kiosks_enrolled: enrolled.len() as u32,
            kiosks_online: online as u32,
            kiosks_stale: stale.len() as u32,
            today,
            attention,
        })
    }
}
