//! What OpenLDAP and Active Directory share: TLS rules, a small pool of bound service
//! connections, timeouts, and turning ldap3's errors into `DirError`s.
//!
//! Each pooled connection is an ldap3 handle that multiplexes operations, so a few bound
//! connections serve many requests at once; a broken one is dropped and made again on
//! next use. Every operation has a timeout.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use ldap3::{Ldap, LdapConnAsync, LdapConnSettings, LdapError, LdapResult, Scope, SearchEntry};
use tokio::sync::Mutex;

use super::DirError;
use secrecy::{ExposeSecret, SecretString};

use crate::config::DirectoryConfig;

/// LDAP result codes we act on.
pub const RC_CONSTRAINT_VIOLATION: u32 = 19;
pub const RC_INVALID_CREDENTIALS: u32 = 49;
pub const RC_INSUFFICIENT_ACCESS: u32 = 50;
pub const RC_UNWILLING: u32 = 53;
pub const RC_NO_SUCH_OBJECT: u32 = 32;

pub struct Pool {
    directory: String,
    url: String,
    settings: LdapConnSettings,
    bind_dn: String,
    bind_password: SecretString,
    pub timeout: Duration,
    slots: Vec<Mutex<Option<Ldap>>>,
    next: AtomicUsize,
    /// Reads the server's certificate for the console.
    pub probe: super::tls_probe::Probe,
}

/// A search result: text attributes by lower-case name, binary ones likewise.
pub struct Entry {
    pub dn: String,
    pub attrs: HashMap<String, Vec<String>>,
    pub bin: HashMap<String, Vec<Vec<u8>>>,
}

impl Entry {
    fn from(e: SearchEntry) -> Entry {
        Entry {
            dn: e.dn,
            attrs: e
                .attrs
                .into_iter()
                .map(|(k, v)| (k.to_ascii_lowercase(), v))
                .collect(),
            bin: e
                .bin_attrs
                .into_iter()
                .map(|(k, v)| (k.to_ascii_lowercase(), v))
                .collect(),
        }
    }

    pub fn first(&self, attr: &str) -> Option<&str> {
        self.attrs
            .get(&attr.to_ascii_lowercase())
            .and_then(|v| v.first())
            .map(String::as_str)
    }

    pub fn all(&self, attr: &str) -> &[String] {
        self.attrs
            .get(&attr.to_ascii_lowercase())
            .map(Vec::as_slice)
            .unwrap_or_default()
    }

    pub fn int(&self, attr: &str) -> Option<i64> {
        self.first(attr).and_then(|v| v.trim().parse().ok())
    }

    pub fn binary(&self, attr: &str) -> Option<&[u8]> {
        self.bin
            .get(&attr.to_ascii_lowercase())
            .and_then(|v| v.first())
            .map(Vec::as_slice)
    }
}

/// Where and how people are searched: the base, the filter every person matches and the
/// attributes a login is matched against (each directory kind brings its defaults).
pub struct People {
    pub base_dn: String,
    pub group_base_dn: String,
    pub user_filter: String,
    login_attributes: Vec<String>,
}

impl People {
    pub fn new(config: &DirectoryConfig, user_filter: &str, login_attributes: &[&str]) -> People {
        let base_dn = config.base_dn.clone().unwrap_or_default();
        People {
            group_base_dn: config
                .group_base_dn
                .clone()
                .unwrap_or_else(|| base_dn.clone()),
            base_dn,
            user_filter: config
                .user_filter
                .clone()
                .unwrap_or_else(|| user_filter.to_string()),
            login_attributes: if config.login_attributes.is_empty() {
                login_attributes.iter().map(|a| a.to_string()).collect()
            } else {
                config.login_attributes.clone()
            },
        }
    }

    fn login_filter(&self, login: &str) -> String {
        let value = escape(login);
        let any: String = self
            .login_attributes
            .iter()
            .map(|a| format!("({a}={value})"))
            .collect();
        format!("(&{}(|{any}))", self.user_filter)
    }
}

impl Pool {
    pub fn new(config: &DirectoryConfig) -> anyhow::Result<Pool> {
        let name = &config.name;
        let url = config
            .url
            .clone()
            .ok_or_else(|| anyhow::anyhow!("directory {name:?}: url is required"))?;
        let plain = url.starts_with("ldap://") && !config.starttls;
        if plain {
            let loopback = host_of(&url)
                .parse::<IpAddr>()
                .map(|ip| ip.is_loopback())
                .unwrap_or(false);
            anyhow::ensure!(
                config.allow_plain_loopback && loopback,
                "directory {name:?}: plain LDAP sends passwords in the clear; use ldaps:// or \
                 starttls = true (plain LDAP is allowed only to a loopback address with \
                 allow_plain_loopback = true)"
            );
        }
        let timeout = Duration::from_secs(config.timeout_secs);
        let mut settings = LdapConnSettings::new()
            .set_conn_timeout(timeout)
            .set_starttls(config.starttls && url.starts_with("ldap://"));
        if let Some(ca) = &config.ca_file {
            let pem = std::fs::read(ca).map_err(|e| {
                anyhow::anyhow!("directory {name:?}: ca_file {}: {e}", ca.display())
            })?;
            let cert = native_tls::Certificate::from_pem(&pem).map_err(|e| {
                anyhow::anyhow!("directory {name:?}: ca_file {}: {e}", ca.display())
            })?;
            let connector = native_tls::TlsConnector::builder()
                .add_root_certificate(cert)
                .build()
                .map_err(|e| anyhow::anyhow!("directory {name:?}: TLS set-up: {e}"))?;
            settings = settings.set_connector(connector);
        }
        let bind_password = config.bind_password()?.ok_or_else(|| {
            anyhow::anyhow!(
                "directory {name:?}: the service account's password is missing (set \
                 SSPR_DIRECTORY__BIND_PASSWORD or bind_password_file)"
            )
        })?;
        let probe = super::tls_probe::Probe {
            url: url.clone(),
            starttls: config.starttls && url.starts_with("ldap://"),
            ca_file: config.ca_file.clone(),
            timeout,
        };
        Ok(Pool {
            probe,
            directory: name.clone(),
            url,
            settings,
            bind_dn: config.bind_dn.clone().unwrap_or_default(),
            bind_password,
            timeout,
            slots: (0..config.pool_size).map(|_| Mutex::new(None)).collect(),
            next: AtomicUsize::new(0),
        })
    }

    /// A bound connection from the pool, made (and bound) if needed.
    pub async fn get(&self) -> Result<(usize, Ldap), DirError> {
        let i = self.next.fetch_add(1, Ordering::Relaxed) % self.slots.len().max(1);
        let Some(slot) = self.slots.get(i) else {
            return Err(DirError::Other("empty connection pool".into()));
        };
        let mut slot = slot.lock().await;
        if let Some(ldap) = slot.as_mut() {
            if !ldap.is_closed() {
                return Ok((i, ldap.clone()));
            }
        }
        let ldap = self.connect().await?;
        *slot = Some(ldap.clone());
        Ok((i, ldap))
    }

    /// Drops a connection that failed, so the next use makes a fresh one.
    pub async fn discard(&self, i: usize) {
        if let Some(slot) = self.slots.get(i) {
            if let Some(mut ldap) = slot.lock().await.take() {
                let _ = ldap.unbind().await;
            }
        }
    }

    /// A fresh connection (TLS as configured, timeouts set), not yet bound.
    async fn open(&self) -> Result<Ldap, DirError> {
        let (conn, mut ldap) = LdapConnAsync::with_settings(self.settings.clone(), &self.url)
            .await
            .map_err(|e| self.unreachable("connecting", e))?;
        ldap3::drive!(conn);
        ldap.with_timeout(self.timeout);
        Ok(ldap)
    }

    async fn connect(&self) -> Result<Ldap, DirError> {
        let mut ldap = self.open().await?;
        let result = ldap
            .simple_bind(&self.bind_dn, self.bind_password.expose_secret())
            .await
            .map_err(|e| self.unreachable("binding as the service account", e))?;
        if result.rc != 0 {
            let why = if result.rc == RC_INVALID_CREDENTIALS {
                "the service account's password was refused".to_string()
            } else {
                format!("binding as the service account: {}", describe(&result))
            };
            return Err(DirError::Unavailable(why));
        }
        Ok(ldap)
    }

    /// Binds as the person on a connection of its own (never a pooled one): whether the
    /// password is theirs.
    pub async fn check_bind(&self, dn: &str, password: &str) -> Result<bool, DirError> {
        if password.is_empty() {
            // An empty password would be an unauthenticated bind, which "succeeds".
            return Ok(false);
        }
        let mut ldap = self.open().await?;
        let result = ldap
            .simple_bind(dn, password)
            .await
            .map_err(|e| self.unreachable("binding as the person", e))?;
        let _ = ldap.unbind().await;
        match result.rc {
            0 => Ok(true),
            RC_INVALID_CREDENTIALS => Ok(false),
            _ => Err(DirError::Other(format!(
                "binding as the person: {}",
                describe(&result)
            ))),
        }
    }

    /// `check_bind` for a login nobody has: a bind as an entry that can't exist under
    /// `base_dn` (`rdn` its naming attribute), refused as a wrong password is.
    pub async fn check_decoy_bind(
        &self,
        rdn: &str,
        base_dn: &str,
        password: &str,
    ) -> Result<(), DirError> {
        self.check_bind(&format!("{rdn}=sspr-no-such-person,{base_dn}"), password)
            .await
            .map(|_| ())
    }

    /// A write's failure: if the request may have reached the directory (the answer
    /// didn't come back), it is in doubt, not "unreachable".
    pub fn lost(&self, doing: &str, e: LdapError) -> DirError {
        match e {
            LdapError::ResultRecv { .. } | LdapError::Timeout { .. } => {
                DirError::InDoubt(format!("{}: {doing}: {e}", self.directory))
            }
            e => self.unreachable(doing, e),
        }
    }

    pub fn unreachable(&self, doing: &str, e: LdapError) -> DirError {
        DirError::Unavailable(format!("{}: {doing}: {e}", self.directory))
    }

    /// Runs a search, retrying once on a fresh connection if the pooled one had died.
    pub async fn search(
        &self,
        base: &str,
        scope: Scope,
        filter: &str,
        attrs: &[&str],
    ) -> Result<Vec<Entry>, DirError> {
        let mut last = None;
        for _ in 0..2 {
            let (i, mut ldap) = self.get().await?;
            ldap.with_timeout(self.timeout);
            match ldap.search(base, scope, filter, attrs.to_vec()).await {
                Ok(result) => {
                    let (entries, res) = (result.0, result.1);
                    if res.rc == RC_NO_SUCH_OBJECT {
                        return Ok(Vec::new());
                    }
                    if res.rc != 0 {
                        return Err(DirError::Other(format!("search: {}", describe(&res))));
                    }
                    return Ok(entries
                        .into_iter()
                        .map(|e| Entry::from(SearchEntry::construct(e)))
                        .collect());
                }
                Err(e) => {
                    self.discard(i).await;
                    last = Some(e);
                }
            }
        }
        Err(match last {
            Some(e) => self.unreachable("searching", e),
            None => DirError::Unavailable("searching failed".into()),
        })
    }

    /// The one entry a login names. Two entries for one login is ambiguous: treated as
    /// nobody, like an unknown login.
    pub async fn one_person(
        &self,
        people: &People,
        login: &str,
        attrs: &[&str],
    ) -> Result<Option<Entry>, DirError> {
        let mut entries = self
            .search(
                &people.base_dn,
                Scope::Subtree,
                &people.login_filter(login),
                attrs,
            )
            .await?;
        if entries.len() > 1 {
            tracing::warn!(directory = %self.directory, "a login matched more than one entry");
        }
        Ok(if entries.len() == 1 {
            entries.pop()
        } else {
            None
        })
    }

    /// A connection for one write: not retried, because a write whose answer was lost may
    /// have happened.
    pub async fn writer(&self) -> Result<(usize, Ldap), DirError> {
        let (i, mut ldap) = self.get().await?;
        ldap.with_timeout(self.timeout);
        Ok((i, ldap))
    }
}

/// The host part of an LDAP URL.
fn host_of(url: &str) -> &str {
    let rest = url.split("://").nth(1).unwrap_or_default();
    let authority = rest.split('/').next().unwrap_or_default();
    if let Some(v6) = authority.strip_prefix('[') {
        v6.split(']').next().unwrap_or_default()
    } else {
        authority
            .rsplit_once(':')
            .map(|(h, _)| h)
            .unwrap_or(authority)
    }
}

/// "rc 19 (constraint violation): text" without bound values.
pub fn describe(r: &LdapResult) -> String {
    let text = r.text.trim();
    if text.is_empty() {
        format!("result {}", r.rc)
    } else {
        format!("result {}: {text}", r.rc)
    }
}

/// An LDAP filter value, escaped.
/// An LDAP GeneralizedTime in UTC ("20261206213005Z", maybe with a fraction) as unix
/// seconds.
pub fn generalized_time(value: &str) -> Option<i64> {
    let digits = value.get(..14)?;
    if !digits.bytes().all(|b| b.is_ascii_digit()) || !value.ends_with('Z') {
        return None;
    }
    let n = |r: std::ops::Range<usize>| digits[r].parse::<u32>().ok();
    let date = time::Date::from_calendar_date(
        n(0..4)? as i32,
        time::Month::try_from(n(4..6)? as u8).ok()?,
        n(6..8)? as u8,
    )
    .ok()?;
    let at = date
        .with_hms(n(8..10)? as u8, n(10..12)? as u8, n(12..14)? as u8)
        .ok()?;
    Some(at.assume_utc().unix_timestamp())
}

pub fn escape(value: &str) -> String {
    ldap3::ldap_escape(value).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generalized_times_are_read() {
        assert_eq!(generalized_time("19700101000000Z"), Some(0));
        assert_eq!(generalized_time("20261206213005Z"), Some(1_796_592_605));
        assert_eq!(generalized_time("20261206213005.123Z"), Some(1_796_592_605));
        assert_eq!(generalized_time("2026120621300Z"), None);
        assert_eq!(generalized_time("20261306213005Z"), None);
    }

    #[test]
    fn hosts_are_found_in_urls() {
        assert_eq!(host_of("ldaps://127.0.0.2:636"), "127.0.0.2");
        assert_eq!(host_of("ldap://dc1.example.org"), "dc1.example.org");
        assert_eq!(host_of("ldap://[::1]:389/"), "::1");
    }

    #[test]
    fn plain_ldap_is_refused_unless_loopback_and_allowed() {
        let mut c = DirectoryConfig {
            kind: crate::config::DirectoryKind::Ldap,
            url: Some("ldap://10.0.0.5:389".into()),
            bind_dn: Some("cn=sspr".into()),
            bind_password: Some(SecretString::from("x")),
            base_dn: Some("dc=example".into()),
            ..DirectoryConfig::default()
        };
        assert!(Pool::new(&c).is_err());
        c.allow_plain_loopback = true;
        assert!(Pool::new(&c).is_err(), "not loopback");
        c.url = Some("ldap://127.0.0.1:389".into());
        assert!(Pool::new(&c).is_ok());
        c.allow_plain_loopback = false;
        assert!(Pool::new(&c).is_err());
        c.starttls = true;
        assert!(Pool::new(&c).is_ok(), "StartTLS is fine");
    }
}
