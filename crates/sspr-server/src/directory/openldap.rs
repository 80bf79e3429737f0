//! OpenLDAP (with the ppolicy overlay) and compatible servers.
//!
//! Resets use the Password Modify extended operation (RFC 3062) as a service account with
//! `write` (not `manage`) access, so ppolicy's quality and history checks apply and the
//! password is not marked for change at next login. The ppolicy request control is sent
//! and its answer turned into reasons. Unlock deletes `pwdAccountLockedTime`.

use async_trait::async_trait;
use ldap3::controls::RawControl;
use ldap3::exop::PasswordModify;
use ldap3::{Mod, Scope};
use secrecy::{ExposeSecret, SecretString};
use sspr_proto::{PasswordReason, PasswordReasonCode};
use std::collections::HashSet;

use super::ldap::{self, describe, escape, Entry, People, Pool};
use super::{DirError, DirRules, DirUser, Directory};
use crate::config::DirectoryConfig;

/// The ppolicy control (draft-behera-ldap-password-policy).
const PPOLICY_OID: &str = "1.3.6.1.4.1.42.2.27.8.5.1";
/// ppolicy's mark for an account an administrator locked for good.
const LOCKED_FOR_GOOD: &str = "000001010000Z";

const USER_ATTRS: &[&str] = &[
    "uid",
    "mail",
    "cn",
    "displayName",
    "givenName",
    "sn",
    "entryUUID",
    "pwdAccountLockedTime",
    "pwdChangedTime",
    // Read in the same search, so numbers from the directory cost no round trip.
    "mobile",
    "telephoneNumber",
];

pub struct OpenLdap {
    name: String,
    pool: Pool,
    people: People,
    policy_dn: Option<String>,
}

impl OpenLdap {
    pub fn new(config: &DirectoryConfig) -> anyhow::Result<OpenLdap> {
        Ok(OpenLdap {
            name: config.name.clone(),
            pool: Pool::new(config)?,
            people: People::new(config, "(objectClass=inetOrgPerson)", &["uid", "mail"]),
            policy_dn: config.policy_dn.clone(),
        })
    }

    /// Names (cn) of every group the entry is in, nested groups included.
    async fn groups_of(&self, dn: &str) -> Result<Vec<String>, DirError> {
        let mut names = Vec::new();
        let mut seen: HashSet<String> = HashSet::new();
        let mut frontier = vec![dn.to_string()];
        // Nesting deeper than this is a loop or a mistake.
        for _ in 0..8 {
            if frontier.is_empty() {
                break;
            }
            let any: String = frontier
                .iter()
                .map(|d| format!("(member={})", escape(d)))
                .collect();
            let filter =
                format!("(&(|(objectClass=groupOfNames)(objectClass=groupOfUniqueNames))(|{any}))");
            let groups = self
                .pool
                .search(&self.people.group_base_dn, Scope::Subtree, &filter, &["cn"])
                .await?;
            frontier = Vec::new();
            for g in groups {
                if seen.insert(g.dn.to_ascii_lowercase()) {
                    if let Some(cn) = g.first("cn") {
                        names.push(cn.to_string());
                    }
                    frontier.push(g.dn);
                }
            }
        }
        names.sort();
        names.dedup();
        Ok(names)
    }

    fn user_from(&self, e: &Entry, groups: Vec<String>) -> DirUser {
        let lock = e.first("pwdAccountLockedTime");
        let username = e.first("uid").unwrap_or_default().to_string();
        let given = e.first("givenName").unwrap_or_default().to_string();
        let surname = e.first("sn").unwrap_or_default().to_string();
        let display = e
            .first("displayName")
            .or_else(|| e.first("cn"))
            .map(str::to_string)
            .unwrap_or_else(|| format!("{given} {surname}").trim().to_string());
        DirUser {
            id: e
                .first("entryUUID")
                .map(str::to_string)
                .unwrap_or_else(|| e.dn.clone()),
            dn: e.dn.clone(),
            username,
            email: e.first("mail").map(str::to_string),
            display_name: display,
            given_name: given,
            surname,
            groups,
            disabled: lock == Some(LOCKED_FOR_GOOD),
            locked: lock.is_some_and(|l| l != LOCKED_FOR_GOOD),
            password_changed_at: e
                .first("pwdChangedTime")
                .and_then(super::ldap::generalized_time),
            mobile: e.first("mobile").map(str::to_string),
            office_phone: e.first("telephoneNumber").map(str::to_string),
        }
    }

    async fn read_rules(&self) -> Result<DirRules, DirError> {
        let Some(dn) = &self.policy_dn else {
            return Ok(DirRules::default());
        };
        let entries = self
            .pool
            .search(
                dn,
                Scope::Base,
                "(objectClass=*)",
                &["pwdMinLength", "pwdInHistory", "pwdCheckQuality"],
            )
            .await?;
        let Some(p) = entries.first() else {
            return Err(DirError::Other(format!(
                "the password policy entry {dn} was not found"
            )));
        };
        let quality = p.int("pwdCheckQuality").unwrap_or(0);
        Ok(DirRules {
            min_length: if quality > 0 {
                p.int("pwdMinLength").unwrap_or(0).max(0) as u32
            } else {
                0
            },
            categories: 0,
            history: p.int("pwdInHistory").unwrap_or(0).max(0) as u32,
            no_account_name: false,
        })
    }

    /// ppolicy's error, if the answer carries one.
    fn ppolicy_error(result: &ldap3::LdapResult) -> Option<u8> {
        result
            .ctrls
            .iter()
            .find(|c| c.1.ctype == PPOLICY_OID)
            .and_then(|c| c.1.val.as_deref())
            .and_then(ppolicy_error_of)
    }

    async fn rejection(&self, code: u8) -> DirError {
        let rules = self.read_rules().await.unwrap_or_default();
        let reason = match code {
            6 => PasswordReason {
                code: PasswordReasonCode::TooShort,
                message: if rules.min_length > 0 {
                    format!("{} needs at least {} characters.", self.name, rules.min_length)
                } else {
                    format!("{} needs a longer password.", self.name)
                },
            },
            8 => PasswordReason {
                code: PasswordReasonCode::UsedBefore,
                message: if rules.history > 0 {
                    format!(
                        "You used this password before. Choose one that isn't among your last {}.",
                        rules.history
                    )
                } else {
                    "You used this password before. Choose a new one.".into()
                },
            },
            7 => PasswordReason {
                code: PasswordReasonCode::Directory,
                message: "Your password was changed too recently to change it again now. Try later, or contact the helpdesk.".into(),
            },
            _ => PasswordReason {
                code: PasswordReasonCode::Directory,
                message: format!("{} doesn't accept this password. Choose a different one.", self.name),
            },
        };
        DirError::Rejected(vec![reason])
    }
}

/// The `error` field of a ppolicy response control value:
/// `SEQUENCE { warning [0] CHOICE OPTIONAL, error [1] ENUMERATED OPTIONAL }`.
fn ppolicy_error_of(value: &[u8]) -> Option<u8> {
    let (&tag, rest) = value.split_first()?;
    if tag != 0x30 {
        return None;
    }
    let (&len, mut body) = rest.split_first()?;
    if len as usize > body.len() || len & 0x80 != 0 {
        return None;
    }
    body = &body[..len as usize];
    while let [t, l, tail @ ..] = body {
        let l = *l as usize;
        if l > tail.len() {
            return None;
        }
        if *t == 0x81 && l == 1 {
            return tail.first().copied();
        }
        body = &tail[l..];
    }
    None
}

#[async_trait]
impl Directory for OpenLdap {
    fn name(&self) -> &str {
        &self.name
    }

    async fn find(&self, login: &str) -> Result<Option<DirUser>, DirError> {
        let Some(entry) = self
            .pool
            .one_person(&self.people, login, USER_ATTRS)
            .await?
        else {
            // The same group search as for a real person, so an unknown login costs the
            // same (on a DN that can't exist).
            self.groups_of(&format!("uid={},{}", escape(login), self.people.base_dn))
                .await?;
            return Ok(None);
        };
        let groups = self.groups_of(&entry.dn).await?;
        Ok(Some(self.user_from(&entry, groups)))
    }

    async fn lookup(&self, login: &str) -> Result<Option<DirUser>, DirError> {
        Ok(self
            .pool
            .one_person(&self.people, login, USER_ATTRS)
            .await?
            .map(|entry| self.user_from(&entry, Vec::new())))
    }

    async fn certificate(&self) -> Option<Result<super::tls_probe::CertInfo, String>> {
        self.pool.probe.certificate().await
    }

    async fn groups_matching(&self, text: &str, limit: usize) -> Result<Vec<String>, DirError> {
        let filter = format!(
            "(&(|(objectClass=groupOfNames)(objectClass=groupOfUniqueNames))(cn=*{}*))",
            escape(text)
        );
        let mut names: Vec<String> = self
            .pool
            .search(&self.people.group_base_dn, Scope::Subtree, &filter, &["cn"])
            .await?
            .iter()
            .filter_map(|g| g.first("cn").map(str::to_string))
            .collect();
        names.sort_by_key(|n| n.to_lowercase());
        names.truncate(limit);
        Ok(names)
    }

    async fn everyone(&self) -> Result<Vec<DirUser>, DirError> {
        Ok(self
            .pool
            .search(
                &self.people.base_dn,
                Scope::Subtree,
                &self.people.user_filter,
                USER_ATTRS,
            )
            .await?
            .iter()
            .map(|e| self.user_from(e, Vec::new()))
            .collect())
    }

    async fn members(&self, group: &str) -> Result<Vec<DirUser>, DirError> {
        let filter = format!(
            "(&(|(objectClass=groupOfNames)(objectClass=groupOfUniqueNames))(cn={}))",
            escape(group)
        );
        let mut queue: Vec<String> = self
            .pool
            .search(
                &self.people.group_base_dn,
                Scope::Subtree,
                &filter,
                &["member"],
            )
            .await?
            .iter()
            .flat_map(|g| g.all("member").to_vec())
            .collect();
        let mut seen = HashSet::new();
        let mut people = Vec::new();
        while let Some(dn) = queue.pop() {
            if !seen.insert(dn.to_ascii_lowercase()) || seen.len() > 10_000 {
                continue;
            }
            let mut attrs = USER_ATTRS.to_vec();
            attrs.extend(["objectClass", "member"]);
            for e in self
                .pool
                .search(&dn, Scope::Base, "(objectClass=*)", &attrs)
                .await?
            {
                let is_group = e
                    .all("objectClass")
                    .iter()
                    .any(|c| c.eq_ignore_ascii_case("groupOfNames"));
                if is_group {
                    queue.extend(e.all("member").iter().cloned());
                } else {
                    people.push(self.user_from(&e, Vec::new()));
                }
            }
        }
        Ok(people)
    }

    async fn set_password(&self, user: &DirUser, password: &SecretString) -> Result<(), DirError> {
        let (i, mut ldap) = self.pool.writer().await?;
        let answer = ldap
            .with_controls(RawControl {
                ctype: PPOLICY_OID.to_string(),
                crit: false,
                val: None,
            })
            .extended(PasswordModify {
                user_id: Some(&user.dn),
                old_pass: None,
                new_pass: Some(password.expose_secret()),
            })
            .await;
        let result = match answer {
            Ok(r) => r.1,
            Err(e) => {
                self.pool.discard(i).await;
                return Err(self.pool.lost("changing the password", e));
            }
        };
        if result.rc == 0 {
            return Ok(());
        }
        if let Some(code) = Self::ppolicy_error(&result) {
            return Err(self.rejection(code).await);
        }
        Err(match result.rc {
            ldap::RC_CONSTRAINT_VIOLATION => self.rejection(255).await,
            ldap::RC_INSUFFICIENT_ACCESS | ldap::RC_UNWILLING => {
                DirError::Denied(describe(&result))
            }
            _ => DirError::Other(format!("password modify: {}", describe(&result))),
        })
    }

    async fn unlock(&self, user: &DirUser) -> Result<(), DirError> {
        let (i, mut ldap) = self.pool.writer().await?;
        let answer = ldap
            .modify(
                &user.dn,
                vec![Mod::Delete("pwdAccountLockedTime", HashSet::new())],
            )
            .await;
        let result = match answer {
            Ok(r) => r,
            Err(e) => {
                self.pool.discard(i).await;
                return Err(self.pool.unreachable("unlocking", e));
            }
        };
        match result.rc {
            // 16: no such attribute, so it wasn't locked.
            0 | 16 => Ok(()),
            ldap::RC_INSUFFICIENT_ACCESS | ldap::RC_UNWILLING => {
                Err(DirError::Denied(describe(&result)))
            }
            _ => Err(DirError::Other(format!("unlock: {}", describe(&result)))),
        }
    }

    async fn check_password(
        &self,
        user: &DirUser,
        password: &SecretString,
    ) -> Result<bool, DirError> {
        self.pool
            .check_bind(&user.dn, password.expose_secret())
            .await
    }

    async fn check_decoy_password(&self, password: &SecretString) -> Result<(), DirError> {
        self.pool
            .check_decoy_bind("uid", &self.people.base_dn, password.expose_secret())
            .await
    }

    async fn ping(&self) -> Result<(), DirError> {
        self.pool
            .search(
                &self.people.base_dn,
                Scope::Base,
                "(objectClass=*)",
                &["1.1"],
            )
            .await
            .map(|_| ())
    }

    async fn rules(&self) -> Result<DirRules, DirError> {
        self.read_rules().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ppolicy_errors_are_read_from_the_control() {
        // As slapd 2.5 sends "too short" (seen on this machine).
        assert_eq!(ppolicy_error_of(&[48, 3, 129, 1, 6]), Some(6));
        // A warning first, then the error.
        assert_eq!(
            ppolicy_error_of(&[48, 8, 160, 3, 128, 1, 5, 129, 1, 8]),
            Some(8)
        );
        assert_eq!(ppolicy_error_of(&[48, 0]), None);
        assert_eq!(ppolicy_error_of(&[48, 9, 129]), None);
        assert_eq!(ppolicy_error_of(&[]), None);
    }
}
