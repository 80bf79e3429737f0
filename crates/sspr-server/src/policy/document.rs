//! The policy as a document: what an admin may change while the server runs (who may use
//! self-service, with which methods, notices, the organisation's name and colour, the
//! helpdesk, approval on the phone). Each save is a version in the store; the newest is
//! laid over the configuration file, whose values are the first version. What is
//! infrastructure (listen, store, directories, SMTP, secrets) stays in the file.

use serde::{Deserialize, Serialize};
use sspr_proto::MethodKind;

use crate::config::{Config, HelpdeskConfig, OrganizationConfig, PolicyConfig};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyDocument {
    pub policy: PolicyConfig,
    pub organization: OrganizationConfig,
    pub helpdesk: HelpdeskConfig,
    pub approval: ApprovalPolicy,
    /// New passwords' length bounds and the organisation's banned terms (absent in
    /// versions saved before it was policy: the file's then).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<PasswordRules>,
}

/// The password rules that are policy (`password.banned_file` stays in the file).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PasswordRules {
    pub min_length: u32,
    pub max_length: u32,
    /// The organisation's own banned terms, beside the list shipped with the server.
    pub banned: Vec<String>,
}

/// The most banned terms a policy holds, and the longest one.
pub const BANNED_MAX: usize = 5000;
pub const BANNED_TERM_MAX: usize = 64;

/// Approval's settings that are policy (its URL is infrastructure).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApprovalPolicy {
    pub password_on_phone: sspr_proto::PasswordOnPhone,
    pub ttl_secs: u32,
}

impl PolicyDocument {
    /// The document a configuration holds.
    pub fn of(config: &Config) -> PolicyDocument {
        PolicyDocument {
            policy: config.policy.clone(),
            organization: config.organization.clone(),
            helpdesk: config.helpdesk.clone(),
            approval: ApprovalPolicy {
                password_on_phone: config.approval.password_on_phone,
                ttl_secs: config.approval.ttl_secs,
            },
            password: Some(PasswordRules {
                min_length: config.password.min_length,
                max_length: config.password.max_length,
                banned: config.password.banned.clone(),
            }),
        }
    }

    /// This document with what versions saved before a section was policy lack taken
    /// from `base` (the configuration file's).
    pub fn filled(mut self, base: &Config) -> PolicyDocument {
        if self.password.is_none() {
            self.password = PolicyDocument::of(base).password;
        }
        self
    }

    /// `base` with this document over it.
    pub fn over(&self, base: &Config) -> Config {
        let mut c = base.clone();
        c.policy = self.policy.clone();
        c.organization = self.organization.clone();
        c.helpdesk = self.helpdesk.clone();
        c.approval.password_on_phone = self.approval.password_on_phone;
        c.approval.ttl_secs = self.approval.ttl_secs;
        if let Some(p) = &self.password {
            c.password.min_length = p.min_length;
            c.password.max_length = p.max_length;
            c.password.banned = p.banned.clone();
        }
        c
    }

    /// This document with `changes` (TOML, any of its sections and keys) laid over it:
    /// what the changes don't name stays as it is.
    pub fn with_changes(&self, changes: &str) -> Result<PolicyDocument, Vec<String>> {
        let changes: toml::Value =
            toml::from_str(changes).map_err(|e| vec![format!("not TOML: {e}")])?;
        let changes = serde_json::to_value(changes).map_err(|e| vec![e.to_string()])?;
        self.with_json_changes(changes)
    }

    /// The same, with the changes as JSON (the console's): an object of sections, each an
    /// object of keys.
    pub fn with_json_changes(
        &self,
        changes: serde_json::Value,
    ) -> Result<PolicyDocument, Vec<String>> {
        if !changes.is_object() {
            return Err(vec![
                "the changes must be an object of sections (policy, organization, helpdesk, approval)"
                    .into(),
            ]);
        }
        let mut merged = serde_json::to_value(self).map_err(|e| vec![e.to_string()])?;
        merge(&mut merged, changes);
        serde_json::from_value(merged).map_err(|e| vec![format!("{e}")])
    }

    /// Why this document can't be used over `base` (nothing when it can): a policy that
    /// leaves nobody a way through, and every rule the configuration file has.
    pub fn problems(&self, base: &Config) -> Vec<String> {
        let mut out = Vec::new();
        let p = &self.policy;
        let enabled: Vec<MethodKind> = p.methods.clone();
        let mut seen = enabled.clone();
        seen.sort_by_key(|m| m.as_str());
        seen.dedup();
        if seen.len() != enabled.len() {
            out.push("policy.methods names a method twice".into());
        }
        if enabled.is_empty() {
            out.push("policy.methods: at least one method must be enabled".into());
        }
        let counting = enabled
            .iter()
            .filter(|m| **m != MethodKind::Questions)
            .count();
        if enabled.iter().all(|m| *m == MethodKind::Questions) && !enabled.is_empty() {
            out.push("policy.methods: security questions can't be the only way".into());
        }
        if usize::from(p.methods_required) > enabled.len() {
            out.push(format!(
                "policy.methods_required is {} but only {} method(s) are enabled",
                p.methods_required,
                enabled.len()
            ));
        }
        if p.admins_allowed && counting < 2 {
            out.push(
                "administrators always verify two methods (never questions): enable two, or set policy.admins_allowed = false"
                    .into(),
            );
        }
        if let Some(pw) = &self.password {
            if pw.banned.len() > BANNED_MAX {
                out.push(format!(
                    "password.banned has {} terms; at most {BANNED_MAX}",
                    pw.banned.len()
                ));
            }
            if let Some(t) = pw.banned.iter().find(|t| t.trim().chars().count() < 4) {
                out.push(format!(
                    "password.banned: {:?} is shorter than 4 characters (too common to refuse in a password)",
                    t.trim()
                ));
            }
            if let Some(t) = pw
                .banned
                .iter()
                .find(|t| t.chars().count() > BANNED_TERM_MAX || t.chars().any(char::is_control))
            {
                out.push(format!(
                    "password.banned: each term is at most {BANNED_TERM_MAX} characters without control characters ({:?}…)",
                    t.chars().take(20).collect::<String>()
                ));
            }
        }
        if let Err(e) = self.over(base).validate() {
            out.push(e.to_string());
        }
        out
    }

    /// The keys whose values differ from `before`'s, as "section.key".
    pub fn changes_from(&self, before: &PolicyDocument) -> Vec<String> {
        let (a, b) = (
            serde_json::to_value(before).unwrap_or_default(),
            serde_json::to_value(self).unwrap_or_default(),
        );
        let mut out = Vec::new();
        diff("", &a, &b, &mut out);
        out
    }

    pub fn to_toml(&self) -> String {
        toml::to_string(self).unwrap_or_default()
    }
}

fn merge(into: &mut serde_json::Value, from: serde_json::Value) {
    match (into, from) {
        (serde_json::Value::Object(a), serde_json::Value::Object(b)) => {
            for (k, v) in b {
                merge(a.entry(k).or_insert(serde_json::Value::Null), v);
            }
        }
        (slot, v) => *slot = v,
    }
}

fn diff(path: &str, a: &serde_json::Value, b: &serde_json::Value, out: &mut Vec<String>) {
    match (a, b) {
        (serde_json::Value::Object(x), serde_json::Value::Object(y)) => {
            let mut keys: Vec<&String> = x.keys().chain(y.keys()).collect();
            keys.sort();
            keys.dedup();
            for k in keys {
                let p = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                let null = serde_json::Value::Null;
                diff(
                    &p,
                    x.get(k).unwrap_or(&null),
                    y.get(k).unwrap_or(&null),
                    out,
                );
            }
        }
        (x, y) if x != y => out.push(path.to_string()),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_lay_over_the_document_and_say_what_changed() {
        let base = Config::default();
        let doc = PolicyDocument::of(&base);
        let new = doc
            .with_changes("[policy]\nmethods_required = 2\n[helpdesk]\nphone = \"+49 30 1234\"\n")
            .expect("merged");
        assert_eq!(new.policy.methods_required, 2);
        assert_eq!(
            new.policy.methods, doc.policy.methods,
            "untouched keys stay"
        );
        assert!(new.problems(&base).is_empty(), "{:?}", new.problems(&base));
        assert_eq!(
            new.changes_from(&doc),
            vec!["helpdesk.phone", "policy.methods_required"]
        );
        assert_eq!(
            new.over(&base).helpdesk.phone.as_deref(),
            Some("+49 30 1234")
        );
        // The TOML it exports reads back as itself.
        assert_eq!(doc.with_changes(&new.to_toml()).expect("round trip"), new);
    }

    #[test]
    fn a_policy_nobody_could_pass_is_refused_with_reasons() {
        let base = Config::default();
        let doc = PolicyDocument::of(&base);
        let none = doc
            .with_changes("[policy]\nmethods = []\n")
            .expect("merged");
        let why = none.problems(&base);
        assert!(
            why.iter().any(|w| w.contains("at least one method")),
            "{why:?}"
        );
        let short = doc
            .with_changes("[policy]\nmethods = [\"email\"]\nmethods_required = 2\n")
            .expect("merged");
        let why = short.problems(&base);
        assert!(why.iter().any(|w| w.contains("only 1 method")), "{why:?}");
        assert!(why.iter().any(|w| w.contains("administrators")), "{why:?}");
        let range = doc
            .with_changes("[policy]\ncode_length = 3\n")
            .expect("merged");
        assert!(!range.problems(&base).is_empty());
        assert!(doc.with_changes("[policy]\nno_such_key = 1\n").is_err());
        assert!(doc.with_changes("[policy\n").is_err());
    }
}
