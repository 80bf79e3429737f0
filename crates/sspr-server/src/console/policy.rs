//! The policy pages: the version in force, and saving the next one.

use sspr_proto::{MethodKind, PolicyChange, PolicyView};

use super::{Caller, Capability, Console, ConsoleError, ConsoleResult, REAUTH_SECS};
use crate::audit;
use crate::core::PolicySave;
use crate::policy::document::PolicyDocument;

/// Every method the server knows, in the order the methods page lists them.
const KNOWN_METHODS: [MethodKind; 6] = [
    MethodKind::Email,
    MethodKind::Totp,
    MethodKind::Approval,
    MethodKind::Sms,
    MethodKind::Voice,
    MethodKind::Questions,
];

impl Console {
    pub async fn policy(&self, caller: &Caller) -> ConsoleResult<PolicyView> {
        caller.require(Capability::ReadPolicy)?;
        let core = &self.core;
        let latest = core
            .store
            .latest_policy()
            .await?
            .ok_or(ConsoleError::NotFound("policy version"))?;
        let document = serde_json::from_str::<PolicyDocument>(&latest.document)
            .map(|d| d.filled(core.base()))
            .and_then(|d| serde_json::to_value(&d))
            .map_err(|e| {
                ConsoleError::Internal(crate::fault::Internal::new("reading the stored policy", e))
            })?;
        let config = core.config();
        let mut notified_admins = Vec::new();
        if config.policy.notify_admins_on_admin_reset {
            for group in &config.policy.admin_groups {
                if let Ok(members) = core.directories.members(group).await {
                    for m in members {
                        let who = match &m.email {
                            Some(e) => format!("{} <{e}>", m.display_name),
                            None => format!("{} (no address)", m.display_name),
                        };
                        if !notified_admins.contains(&who) {
                            notified_admins.push(who);
                        }
                    }
                }
            }
        }
        Ok(PolicyView {
            version: latest.version,
            saved_by: latest.author,
            saved_at: audit::rfc3339(latest.created_at),
            read_only: config.console.policy_read_only || !caller.may(Capability::Administer),
            document,
            notified_admins,
            known_methods: KNOWN_METHODS.to_vec(),
            available_methods: crate::config::AVAILABLE_METHODS
                .into_iter()
                .filter(|k| crate::flow::offerable(*k, crate::flow::Offer::of(core)))
                .collect(),
        })
    }

    /// Saves the next version: admins only, not when the policy is managed as code, with
    /// the passkey checked within the last five minutes.
    pub async fn save_policy(
        &self,
        caller: &Caller,
        change: PolicyChange,
        now: i64,
    ) -> ConsoleResult<PolicyView> {
        caller.require(Capability::Administer)?;
        let core = &self.core;
        if core.config().console.policy_read_only {
            return Err(ConsoleError::PolicyReadOnly);
        }
        let within = i64::from(core.config().console.reauth_after_secs).min(REAUTH_SECS);
        if now - caller.passkey_at > within {
            return Err(ConsoleError::Reauth);
        }
        let saved = core
            .change_policy(
                &caller.audit_ctx(),
                &caller.author(),
                Some(change.base_version),
                |current| current.with_json_changes(change.changes),
                now,
            )
            .await?;
        match saved {
            PolicySave::Saved { .. } => self.policy(caller).await,
            PolicySave::Unchanged(_) => self.policy(caller).await,
            PolicySave::Stale => Err(ConsoleError::PolicyChanged),
            PolicySave::Refused(problems) => Err(ConsoleError::PolicyInvalid(problems)),
        }
    }
}

impl Console {
    /// Groups whose name contains `text`, for the group self-service is on for.
    pub async fn groups(&self, caller: &Caller, text: &str) -> ConsoleResult<Vec<String>> {
        caller.require(Capability::ReadPolicy)?;
        let text = text.trim();
        if text.is_empty() || text.chars().count() > 64 || text.chars().any(char::is_control) {
            return Err(ConsoleError::BadInput(
                "Type 1 to 64 characters of the group's name.".into(),
            ));
        }
        match self.core.directories.groups_matching(text, 20).await {
            Ok(groups) => Ok(groups),
            Err(crate::directory::DirError::Unsupported(why)) => Err(ConsoleError::BadInput(
                format!("{why}; type the group's name as the directory has it."),
            )),
            Err(e) => {
                tracing::warn!(error = %e, "searching the directory's groups");
                Err(ConsoleError::DirectoryDown)
            }
        }
    }
}
