//! Active Directory (and Samba AD) over LDAPS or StartTLS, as a delegated service account.
//!
//! A reset replaces `unicodePwd` (the password in double quotes, UTF-16LE) and sets
//! `lockoutTime` to 0 in the same modify, so the directory applies both or neither (a
//! reset alone does not unlock). When the directory advertises the policy-hints control,
//! it is sent so history and the domain's rules apply to the reset as to a change.
//! `0000052D` constraint errors become reasons naming the domain's own values, which are
//! read from the domain object and shown before the person types.

use std::collections::HashSet;

use async_trait::async_trait;
use ldap3::controls::RawControl;
use ldap3::{Mod, Scope};
use secrecy::{ExposeSecret, SecretString};
use sspr_proto::{PasswordReason, PasswordReasonCode};
use tokio::sync::OnceCell;

use super::ldap::{self, describe, escape, Entry, People, Pool};
use super::{DirError, DirRules, DirUser, Directory};
use crate::config::DirectoryConfig;

/// LDAP_SERVER_POLICY_HINTS_OID, and the deprecated one before it.
const POLICY_HINTS: &[&str] = &["1.2.840.113556.1.4.2239", "1.2.840.113556.1.4.2066"];
/// LDAP_MATCHING_RULE_IN_CHAIN: membership through nested groups.
const IN_CHAIN: &str = "1.2.840.113556.1.4.1941";
const ACCOUNTDISABLE: i64 = 0x2;
const DOMAIN_PASSWORD_COMPLEX: i64 = 0x1;

const USER_ATTRS: &[&str] = &[
    "sAMAccountName",
    "userPrincipalName",
    "mail",
    "displayName",
    "givenName",
    "sn",
    "objectGUID",
    "userAccountControl",
    "lockoutTime",
    "accountExpires",
    "pwdLastSet",
    // Read in the same search, so numbers from the directory cost no round trip.
    "mobile",
    "telephoneNumber",
];

pub struct ActiveDirectory {
    name: String,
    pool: Pool,
    people: People,
    root: OnceCell<RootDse>,
}

#[derive(Debug, Clone)]
struct RootDse {
    /// The policy-hints control this directory accepts, if any.
    hints: Option<&'static str>,
    domain_dn: String,
}

impl ActiveDirectory {
    pub fn new(config: &DirectoryConfig) -> anyhow::Result<ActiveDirectory> {
        Ok(ActiveDirectory {
            name: config.name.clone(),
            pool: Pool::new(config)?,
            people: People::new(
                config,
                "(&(objectCategory=person)(objectClass=user))",
                &["sAMAccountName", "userPrincipalName", "mail"],
            ),
            root: OnceCell::new(),
        })
    }

    async fn root(&self) -> Result<RootDse, DirError> {
        self.root
            .get_or_try_init(|| async {
                let entries = self
                    .pool
                    .search(
                        "",
                        Scope::Base,
                        "(objectClass=*)",
                        &["supportedControl", "defaultNamingContext"],
                    )
                    .await?;
                let root = entries
                    .first()
                    .ok_or_else(|| DirError::Other("the directory has no root DSE".into()))?;
                let supported = root.all("supportedControl");
                Ok(RootDse {
                    hints: POLICY_HINTS
                        .iter()
                        .find(|oid| supported.iter().any(|s| s == *oid))
                        .copied(),
                    domain_dn: root
                        .first("defaultNamingContext")
                        .map(str::to_string)
                        .unwrap_or_else(|| self.people.base_dn.clone()),
                })
            })
            .await
            .cloned()
    }

    async fn groups_of(&self, dn: &str) -> Result<Vec<String>, DirError> {
        let filter = format!("(&(objectClass=group)(member:{IN_CHAIN}:={}))", escape(dn));
        let mut names: Vec<String> = self
            .pool
            .search(&self.people.group_base_dn, Scope::Subtree, &filter, &["cn"])
            .await?
            .iter()
            .filter_map(|g| g.first("cn").map(str::to_string))
            .collect();
        names.sort();
        names.dedup();
        Ok(names)
    }

    fn user_from(&self, e: &Entry, groups: Vec<String>) -> DirUser {
        let uac = e.int("userAccountControl").unwrap_or(0);
        let expires = e.int("accountExpires").unwrap_or(0);
        let expired = expires != 0 && expires != i64::MAX && expires < filetime_now();
        let given = e.first("givenName").unwrap_or_default().to_string();
        let surname = e.first("sn").unwrap_or_default().to_string();
        let username = e.first("sAMAccountName").unwrap_or_default().to_string();
        DirUser {
            id: e
                .binary("objectGUID")
                .and_then(guid_string)
                .unwrap_or_else(|| e.dn.clone()),
            dn: e.dn.clone(),
            display_name: e
                .first("displayName")
                .map(str::to_string)
                .unwrap_or_else(|| format!("{given} {surname}").trim().to_string()),
            username,
            email: e.first("mail").map(str::to_string),
            given_name: given,
            surname,
            groups,
            disabled: uac & ACCOUNTDISABLE != 0 || expired,
            locked: e.int("lockoutTime").unwrap_or(0) > 0,
            // FILETIME: 100 ns since 1601 (0: must change at next sign-in).
            password_changed_at: e
                .int("pwdLastSet")
                .filter(|t| *t > 0)
                .map(|t| t / 10_000_000 - 11_644_473_600),
            mobile: e.first("mobile").map(str::to_string),
            office_phone: e.first("telephoneNumber").map(str::to_string),
        }
    }

    async fn read_rules(&self) -> Result<DirRules, DirError> {
        let root = self.root().await?;
        let entries = self
            .pool
            .search(
                &root.domain_dn,
                Scope::Base,
                "(objectClass=*)",
                &["minPwdLength", "pwdHistoryLength", "pwdProperties"],
            )
            .await?;
        let d = entries
            .first()
            .ok_or_else(|| DirError::Other("the domain object was not found".into()))?;
        let complex = d.int("pwdProperties").unwrap_or(0) & DOMAIN_PASSWORD_COMPLEX != 0;
        Ok(DirRules {
            min_length: d.int("minPwdLength").unwrap_or(0).max(0) as u32,
            categories: if complex { 3 } else { 0 },
            history: d.int("pwdHistoryLength").unwrap_or(0).max(0) as u32,
            no_account_name: complex,
        })
    }

    /// Reasons for a `0000052D` refusal. Samba says which rule failed; Windows doesn't, so
    /// then every rule the domain has is named, with its values.
    async fn rejection(&self, text: &str) -> DirError {
        let rules = self.read_rules().await.unwrap_or_default();
        let text = text.to_ascii_lowercase();
        let too_short = PasswordReason {
            code: PasswordReasonCode::TooShort,
            message: format!(
                "{} needs at least {} characters.",
                self.name,
                rules.min_length.max(1)
            ),
        };
        let variety = PasswordReason {
            code: PasswordReasonCode::NeedsVariety,
            message: "Mix at least three of: upper-case letters, lower-case letters, digits, symbols; and don't use your account name or parts of your name.".into(),
        };
        let history = PasswordReason {
            code: PasswordReasonCode::UsedBefore,
            message: if rules.history > 0 {
                format!(
                    "You used this password before. Choose one that isn't among your last {}.",
                    rules.history
                )
            } else {
                "You used this password before. Choose a new one.".into()
            },
        };
        let reasons = if text.contains("too short") {
            vec![too_short]
        } else if text.contains("complexity") {
            vec![variety]
        } else if text.contains("history") || text.contains("already used") {
            vec![history]
        } else {
            let mut all = Vec::new();
            if rules.min_length > 0 {
                all.push(too_short);
            }
            if rules.categories > 0 {
                all.push(variety);
            }
            if rules.history > 0 {
                all.push(history);
            }
            if all.is_empty() {
                all.push(PasswordReason {
                    code: PasswordReasonCode::Directory,
                    message: format!(
                        "{} doesn't accept this password. Choose a different one.",
                        self.name
                    ),
                });
            }
            all
        };
        DirError::Rejected(reasons)
    }

    async fn write(&self, dn: &str, mods: Vec<Mod<Vec<u8>>>, doing: &str) -> Result<(), DirError> {
        let root = self.root().await?;
        let (i, mut ldap) = self.pool.writer().await?;
        if let Some(oid) = root.hints {
            // PolicyHintsRequestValue ::= SEQUENCE { Flags INTEGER } with Flags = 1.
            ldap.with_controls(RawControl {
                ctype: oid.to_string(),
                crit: false,
                val: Some(vec![0x30, 0x03, 0x02, 0x01, 0x01]),
            });
        }
        let result = match ldap.modify(dn, mods).await {
            Ok(r) => r,
            Err(e) => {
                self.pool.discard(i).await;
                return Err(self.pool.lost(doing, e));
            }
        };
        match result.rc {
            0 => Ok(()),
            ldap::RC_CONSTRAINT_VIOLATION | ldap::RC_UNWILLING
                if result.text.contains("0000052D") =>
            {
                Err(self.rejection(&result.text).await)
            }
            ldap::RC_INSUFFICIENT_ACCESS => Err(DirError::Denied(describe(&result))),
            _ => Err(DirError::Other(format!("{doing}: {}", describe(&result)))),
        }
    }
}

/// Now as a Windows FILETIME (100 ns since 1601).
fn filetime_now() -> i64 {
    let unix = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default();
    (unix + 11_644_473_600) * 10_000_000
}

/// objectGUID bytes as the usual text form (the first three groups little-endian).
fn guid_string(b: &[u8]) -> Option<String> {
    let b: &[u8; 16] = b.try_into().ok()?;
    Some(format!(
        "{:02x}{:02x}{:02x}{:02x}-{:02x}{:02x}-{:02x}{:02x}-{:02x}{:02x}-{:02x}{:02x}{:02x}{:02x}{:02x}{:02x}",
        b[3], b[2], b[1], b[0], b[5], b[4], b[7], b[6], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]
    ))
}

/// `unicodePwd`'s value: the password in double quotes, UTF-16LE.
fn unicode_pwd(password: &str) -> Vec<u8> {
    format!("\"{password}\"")
        .encode_utf16()
        .flat_map(u16::to_le_bytes)
        .collect()
}

#[async_trait]
impl Directory for ActiveDirectory {
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
            self.groups_of(&format!("CN={},{}", escape(login), self.people.base_dn))
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
        let filter = format!("(&(objectClass=group)(cn=*{}*))", escape(text));
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
        let value = escape(group);
        let groups = self
            .pool
            .search(
                &self.people.group_base_dn,
                Scope::Subtree,
                &format!("(&(objectClass=group)(|(cn={value})(sAMAccountName={value})))"),
                &["1.1"],
            )
            .await?;
        let mut people = Vec::new();
        let mut seen = HashSet::new();
        for g in groups {
            let filter = format!(
                "(&{}(memberOf:{IN_CHAIN}:={}))",
                self.people.user_filter,
                escape(&g.dn)
            );
            for e in self
                .pool
                .search(&self.people.base_dn, Scope::Subtree, &filter, USER_ATTRS)
                .await?
            {
                if seen.insert(e.dn.clone()) {
                    people.push(self.user_from(&e, Vec::new()));
                }
            }
        }
        Ok(people)
    }

    async fn set_password(&self, user: &DirUser, password: &SecretString) -> Result<(), DirError> {
        let mods = vec![
            Mod::Replace(
                b"unicodePwd".to_vec(),
                HashSet::from([unicode_pwd(password.expose_secret())]),
            ),
            Mod::Replace(b"lockoutTime".to_vec(), HashSet::from([b"0".to_vec()])),
        ];
        self.write(&user.dn, mods, "resetting the password").await
    }

    async fn unlock(&self, user: &DirUser) -> Result<(), DirError> {
        let mods = vec![Mod::Replace(
            b"lockoutTime".to_vec(),
            HashSet::from([b"0".to_vec()]),
        )];
        self.write(&user.dn, mods, "unlocking").await
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
            .check_decoy_bind("CN", &self.people.base_dn, password.expose_secret())
            .await
    }

    async fn ping(&self) -> Result<(), DirError> {
        self.root().await?;
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
    fn unicode_pwd_is_quoted_utf16le() {
        assert_eq!(unicode_pwd("ab"), vec![b'"', 0, b'a', 0, b'b', 0, b'"', 0]);
    }

    #[test]
    fn guids_read_like_windows_writes_them() {
        let bytes = [
            0x33, 0x22, 0x11, 0x00, 0x55, 0x44, 0x77, 0x66, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd,
            0xee, 0xff,
        ];
        assert_eq!(
            guid_string(&bytes).as_deref(),
            Some("00112233-4455-6677-8899-aabbccddeeff")
        );
        assert_eq!(guid_string(&[1, 2]), None);
    }
}
