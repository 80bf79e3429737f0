//! What the organisation allows: who may use self-service, with which methods and how
//! many, and what a new password must be.

pub mod document;
pub mod password;

use sspr_proto::MethodKind;

use crate::config::{Enablement, PolicyConfig};
use crate::directory::DirUser;

/// What policy says about one person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    /// Self-service is allowed for this person.
    pub allowed: bool,
    pub is_admin: bool,
    /// Methods that must be verified.
    pub required: u8,
    /// Method kinds this person may use.
    pub methods: Vec<MethodKind>,
}

pub fn decide(policy: &PolicyConfig, user: &DirUser) -> Decision {
    let is_admin = user.groups.iter().any(|g| {
        policy
            .admin_groups
            .iter()
            .any(|a| a.eq_ignore_ascii_case(g))
    });
    let in_scope = match policy.enabled {
        Enablement::None => false,
        Enablement::All => true,
        Enablement::Group => user
            .groups
            .iter()
            .any(|g| g.eq_ignore_ascii_case(&policy.group)),
    };
    let allowed = in_scope && !user.disabled && (!is_admin || policy.admins_allowed);
    Decision {
        allowed,
        ..decide_for(policy, is_admin)
    }
}

/// What policy asks of an allowed person, administrator or not.
pub fn decide_for(policy: &PolicyConfig, is_admin: bool) -> Decision {
    let methods = enabled_methods(policy)
        .into_iter()
        // Administrators never use security questions.
        .filter(|m| !(is_admin && *m == MethodKind::Questions))
        .collect();
    let required = if is_admin { 2 } else { policy.methods_required };
    Decision {
        allowed: !is_admin || policy.admins_allowed,
        is_admin,
        required,
        methods,
    }
}

pub fn enabled_methods(policy: &PolicyConfig) -> Vec<MethodKind> {
    policy.methods.clone()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(groups: &[&str]) -> DirUser {
        DirUser {
            id: "u1".into(),
            dn: "u1".into(),
            username: "ada".into(),
            email: None,
            display_name: "Ada Lovelace".into(),
            given_name: "Ada".into(),
            surname: "Lovelace".into(),
            groups: groups.iter().map(|g| g.to_string()).collect(),
            disabled: false,
            locked: false,
            password_changed_at: None,
            mobile: None,
            office_phone: None,
        }
    }

    #[test]
    fn administrators_always_need_two_and_never_questions() {
        let mut p = PolicyConfig {
            methods_required: 1,
            methods: vec![MethodKind::Email, MethodKind::Totp],
            ..PolicyConfig::default()
        };
        let d = decide(&p, &user(&["domain admins"]));
        assert!(d.is_admin && d.allowed);
        assert_eq!(d.required, 2);
        let d = decide(&p, &user(&["Staff"]));
        assert_eq!(d.required, 1);
        p.admins_allowed = false;
        assert!(!decide(&p, &user(&["Domain Admins"])).allowed);
    }

    #[test]
    fn group_scope_and_disabled_accounts() {
        let mut p = PolicyConfig {
            enabled: Enablement::Group,
            group: "SSPR Pilot".into(),
            ..PolicyConfig::default()
        };
        assert!(!decide(&p, &user(&["Staff"])).allowed);
        assert!(decide(&p, &user(&["SSPR Pilot"])).allowed);
        let mut u = user(&["SSPR Pilot"]);
        u.disabled = true;
        assert!(!decide(&p, &u).allowed);
        p.enabled = Enablement::None;
        assert!(!decide(&p, &user(&["SSPR Pilot"])).allowed);
    }
}
