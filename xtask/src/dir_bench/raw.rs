//! The raw baseline: ldap3 straight at the directory, bound as the same service account
//! over the same transport, on as many connections as the server pools, doing the write
//! the server does (Password Modify with the ppolicy control to slapd; `unicodePwd` and
//! `lockoutTime` in one modify, with the policy-hints control when offered, to Samba).
//! With `lookup`, each reset first does the server's search too: the person's entry by
//! login.

use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use ldap3::controls::RawControl;
use ldap3::exop::PasswordModify;
use ldap3::{ldap_escape, Ldap, LdapConnAsync, LdapConnSettings, Mod, Scope};

use super::cpu;
use super::through::Worker;
use super::users::{fresh_password, tls_connector, Dir, Person, Target};
use super::Timed;

const TIMEOUT: Duration = Duration::from_secs(10);
const PPOLICY_OID: &str = "1.3.6.1.4.1.42.2.27.8.5.1";
/// LDAP_SERVER_POLICY_HINTS_OID, and the deprecated one before it.
const POLICY_HINTS: &[&str] = &["1.2.840.113556.1.4.2239", "1.2.840.113556.1.4.2066"];

/// The attributes the server reads when it looks a person up.
const SLAPD_ATTRS: &[&str] = &[
    "uid",
    "mail",
    "cn",
    "displayName",
    "givenName",
    "sn",
    "entryUUID",
    "pwdAccountLockedTime",
];
const AD_ATTRS: &[&str] = &[
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
    "mobile",
];

pub struct Raw {
    conns: Vec<Ldap>,
    /// The policy-hints control Samba accepts, if any.
    hints: Option<&'static str>,
}

/// What one reset does, and where.
#[derive(Clone)]
struct Op {
    samba: bool,
    hints: Option<&'static str>,
    base_dn: String,
    lookup: bool,
}

impl Raw {
    pub async fn connect(target: &Target, n: usize) -> anyhow::Result<Raw> {
        let c = target.conn();
        let settings = LdapConnSettings::new()
            .set_conn_timeout(TIMEOUT)
            .set_starttls(c.starttls)
            .set_connector(tls_connector(c.ca_file)?);
        let mut conns = Vec::with_capacity(n);
        for _ in 0..n {
            let (conn, mut ldap) = LdapConnAsync::with_settings(settings.clone(), c.url)
                .await
                .context("connecting to the directory")?;
            ldap3::drive!(conn);
            ldap.with_timeout(TIMEOUT)
                .simple_bind(c.bind_dn, c.bind_password)
                .await?
                .success()
                .context("binding as the service account")?;
            conns.push(ldap);
        }
        let hints = match &target.dir {
            Dir::Slapd(_) => None,
            Dir::Samba(_) => {
                let mut ldap = conns.first().context("no connection")?.clone();
                let (entries, _) = ldap
                    .with_timeout(TIMEOUT)
                    .search("", Scope::Base, "(objectClass=*)", vec!["supportedControl"])
                    .await?
                    .success()?;
                let supported: Vec<String> = entries
                    .into_iter()
                    .flat_map(|e| {
                        ldap3::SearchEntry::construct(e)
                            .attrs
                            .remove("supportedControl")
                            .unwrap_or_default()
                    })
                    .collect();
                POLICY_HINTS
                    .iter()
                    .find(|oid| supported.iter().any(|s| s == *oid))
                    .copied()
            }
        };
        Ok(Raw { conns, hints })
    }

    pub async fn close(self) {
        for mut ldap in self.conns {
            let _ = ldap.unbind().await;
        }
    }

    /// A reset for each of `people` at `concurrency`, worker `w` on connection `w % n`.
    pub async fn run(
        &self,
        target: &Target,
        people: &[Person],
        concurrency: usize,
        lookup: bool,
    ) -> anyhow::Result<Timed> {
        let jobs: Arc<Vec<(String, String, String)>> = Arc::new(
            people
                .iter()
                .map(|p| (p.login.clone(), p.dn.clone(), fresh_password()))
                .collect(),
        );
        let op = Op {
            samba: matches!(target.dir, Dir::Samba(_)),
            hints: self.hints,
            base_dn: target.base_dn().to_string(),
            lookup,
        };
        let next = Arc::new(AtomicUsize::new(0));
        let before = cpu::Snapshot::take(None, target.data_dir());
        let started = Instant::now();
        let mut workers = tokio::task::JoinSet::new();
        for w in 0..concurrency {
            let ldap = self
                .conns
                .get(w % self.conns.len().max(1))
                .context("no connection")?
                .clone();
            let (jobs, next, op) = (jobs.clone(), next.clone(), op.clone());
            workers.spawn(async move {
                let mut mine = Worker::default();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some((login, dn, password)) = jobs.get(i) else {
                        return mine;
                    };
                    let t = Instant::now();
                    match op.reset(ldap.clone(), login, dn, password).await {
                        Ok(()) => mine.latencies.push(t.elapsed()),
                        Err(e) => mine.fail(format!("{e:#}")),
                    }
                }
            });
        }
        let mut all = Worker::default();
        while let Some(w) = workers.join_next().await {
            all.absorb(w?);
        }
        let elapsed = started.elapsed();
        let cpu = before.usage_since();
        Ok(all.into_timed(elapsed, cpu))
    }
}

impl Op {
    async fn reset(
        &self,
        mut ldap: Ldap,
        login: &str,
        dn: &str,
        password: &str,
    ) -> anyhow::Result<()> {
        ldap.with_timeout(TIMEOUT);
        if self.lookup {
            self.find(&mut ldap, login, dn).await?;
        }
        let result = if self.samba {
            let value: Vec<u8> = format!("\"{password}\"")
                .encode_utf16()
                .flat_map(u16::to_le_bytes)
                .collect();
            let mods = vec![
                Mod::Replace(b"unicodePwd".to_vec(), HashSet::from([value])),
                Mod::Replace(b"lockoutTime".to_vec(), HashSet::from([b"0".to_vec()])),
            ];
            if let Some(oid) = self.hints {
                // PolicyHintsRequestValue ::= SEQUENCE { Flags INTEGER } with Flags = 1.
                ldap.with_controls(RawControl {
                    ctype: oid.to_string(),
                    crit: false,
                    val: Some(vec![0x30, 0x03, 0x02, 0x01, 0x01]),
                });
            }
            ldap.with_timeout(TIMEOUT).modify(dn, mods).await?
        } else {
            ldap.with_controls(RawControl {
                ctype: PPOLICY_OID.to_string(),
                crit: false,
                val: None,
            })
            .with_timeout(TIMEOUT)
            .extended(PasswordModify {
                user_id: Some(dn),
                old_pass: None,
                new_pass: Some(password),
            })
            .await?
            .1
        };
        anyhow::ensure!(
            result.rc == 0,
            "writing the password: result {} {}",
            result.rc,
            result.text
        );
        Ok(())
    }

    /// The server's lookup before writing: the entry by login (one match). (Groups are
    /// read when the flow starts, not when it writes.)
    async fn find(&self, ldap: &mut Ldap, login: &str, _dn: &str) -> anyhow::Result<()> {
        let value = ldap_escape(login);
        let (filter, attrs) = if self.samba {
            (
                format!(
                    "(&(&(objectCategory=person)(objectClass=user))\
                     (|(sAMAccountName={value})(userPrincipalName={value})(mail={value})))"
                ),
                AD_ATTRS,
            )
        } else {
            (
                format!("(&(objectClass=inetOrgPerson)(|(uid={value})(mail={value})))"),
                SLAPD_ATTRS,
            )
        };
        let (entries, _) = ldap
            .with_timeout(TIMEOUT)
            .search(&self.base_dn, Scope::Subtree, &filter, attrs.to_vec())
            .await?
            .success()?;
        let found = entries.iter().filter(|e| !e.is_ref()).count();
        anyhow::ensure!(found == 1, "{login}: {found} entries");
        Ok(())
    }
}
