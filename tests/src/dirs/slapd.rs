//! An OpenLDAP slapd with the ppolicy overlay on 127.0.0.1, configured like a small
//! customer directory: people, groups, a password policy and a service account that may
//! *write* (not manage) passwords, so ppolicy's quality and history checks apply to it.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use nix::sys::signal::Signal;

use super::process::{self, Daemon};
use super::{
    bind_succeeds, escape_rdn, ldif_line, modify, random_string, search, self_signed_cert,
    temp_folder, Conn, NewUser,
};

/// `pwdMaxFailure` of the default policy: bad binds before the account locks.
pub const SLAPD_MAX_FAILURE: u32 = 3;
/// `pwdLockout` of the default policy.
pub const SLAPD_LOCKOUT: bool = true;
/// `pwdMinLength` of the default policy.
pub const SLAPD_MIN_LENGTH: u32 = 8;
/// `pwdCheckQuality` of the default policy (2: reject what cannot be checked).
pub const SLAPD_CHECK_QUALITY: u32 = 2;
/// `pwdInHistory` of the default policy.
pub const SLAPD_IN_HISTORY: u32 = 3;
/// The `pwdAccountLockedTime` value ppolicy treats as "locked by an administrator"
/// (permanent; bad-bind lockouts carry the time of the lockout instead).
pub const SLAPD_DISABLED_MARK: &str = "000001010000Z";

const BASE_DN: &str = "dc=example,dc=test";

/// `uidNumber`s for [`Slapd::add_posix_user`], unique in this test process (and so in
/// each slapd it starts).
static NEXT_UID_NUMBER: AtomicU32 = AtomicU32::new(20_000);

/// A running slapd. [`Slapd::shared`] gives one per test process; [`Slapd::start`] a
/// private one (for stop/kill tests), stopped and removed when dropped.
pub struct Slapd {
    /// The address it listens on (127.0.0.1).
    pub host: String,
    /// `ldap://127.0.0.1:PORT`; StartTLS works on it (the fixture always sends it).
    pub ldap_url: String,
    /// `ldaps://127.0.0.1:PORT`.
    pub ldaps_url: String,
    /// The PEM certificate to trust (self-signed, subjectAltName IP:127.0.0.1).
    pub ca_file: PathBuf,
    /// `dc=example,dc=test`.
    pub base_dn: String,
    /// `ou=people,<base>`: people (`inetOrgPerson`, RDN `uid`; also `posixAccount` when
    /// added with [`Slapd::add_posix_user`]).
    pub users_dn: String,
    /// `ou=groups,<base>`: `groupOfNames` groups.
    pub groups_dn: String,
    /// The default ppolicy entry (`cn=default,ou=policies,<base>`).
    pub policy_dn: String,
    /// The service account: write (not manage) on people's `userPassword` and
    /// `pwdAccountLockedTime`, read on people, groups and the policy.
    pub service_dn: String,
    /// The service account's password (random per instance).
    pub service_password: String,
    /// cn of an (initially empty) administrators group under `groups_dn`.
    pub admin_group: String,
    /// DN of that group.
    pub admin_group_dn: String,
    /// The rootdn (manage everything; bypasses ppolicy). For fixtures, not for the server.
    pub root_dn: String,
    /// The rootdn's password (random per instance).
    pub root_password: String,
    /// The data folder (config, database, certificate, log).
    pub dir: PathBuf,
    daemon: Daemon,
    args: Vec<String>,
}

static SHARED: OnceLock<Result<Slapd, String>> = OnceLock::new();

impl Slapd {
    /// The server's settings for this slapd (StartTLS, the CA, the write-only service
    /// account, the ppolicy entry), to put under `[directory]` or `[[directory.linked]]`.
    pub fn directory_settings(&self, name: &str) -> String {
        format!(
            r#"kind = "ldap"
name = "{name}"
url = "{url}"
starttls = true
ca_file = "{ca}"
bind_dn = "{bind_dn}"
bind_password = "{bind_pw}"
base_dn = "{base}"
policy_dn = "{policy}"
"#,
            url = self.ldap_url,
            ca = self.ca_file.display(),
            bind_dn = self.service_dn,
            bind_pw = self.service_password,
            base = self.base_dn,
            policy = self.policy_dn,
        )
    }

    /// The slapd shared by this test process, started on first use and stopped when the
    /// process exits. Tests sharing it should create their own people.
    pub fn shared() -> anyhow::Result<&'static Slapd> {
        SHARED
            .get_or_init(|| Slapd::start().map_err(|e| format!("{e:#}")))
            .as_ref()
            .map_err(|e| anyhow::anyhow!("starting the shared slapd: {e}"))
    }

    /// A private slapd on fresh ports, ready (a rootdn bind over StartTLS works) and
    /// populated with the base entries, policy, service account and admin group.
    pub fn start() -> anyhow::Result<Slapd> {
        let started = Instant::now();
        let dir = temp_folder("slapd")?;
        let host = "127.0.0.1".to_string();
        let (cert, key) = self_signed_cert(&dir, &host, &["localhost"])?;
        let ldap_port = crate::free_port()?;
        let ldaps_port = crate::free_port()?;
        let ldap_url = format!("ldap://{host}:{ldap_port}");
        let ldaps_url = format!("ldaps://{host}:{ldaps_port}");
        let root_dn = format!("cn=admin,{BASE_DN}");
        let root_password = random_string(24);
        let service_dn = format!("cn=sspr,ou=services,{BASE_DN}");
        let service_password = random_string(24);
        let policy_dn = format!("cn=default,ou=policies,{BASE_DN}");

        let db = dir.join("db");
        std::fs::create_dir_all(&db).context("creating the slapd database folder")?;
        let conf = dir.join("slapd.conf");
        std::fs::write(
            &conf,
            config(
                &dir,
                &cert,
                &key,
                &root_dn,
                &root_password,
                &service_dn,
                &policy_dn,
            ),
        )
        .context("writing slapd.conf")?;

        let args = vec![
            "-h".to_string(),
            format!("{ldap_url}/ {ldaps_url}/"),
            "-f".to_string(),
            path_str(&conf)?.to_string(),
            "-d".to_string(),
            "0".to_string(),
        ];
        let arg_refs: Vec<&str> = args.iter().map(String::as_str).collect();
        let daemon = Daemon::start("slapd", "slapd", &arg_refs, &dir.join("slapd.log"), false)?;
        let slapd = Slapd {
            host,
            ldap_url,
            ldaps_url,
            ca_file: cert,
            base_dn: BASE_DN.to_string(),
            users_dn: format!("ou=people,{BASE_DN}"),
            groups_dn: format!("ou=groups,{BASE_DN}"),
            policy_dn,
            service_dn,
            service_password,
            admin_group: "admins".to_string(),
            admin_group_dn: format!("cn=admins,ou=groups,{BASE_DN}"),
            root_dn,
            root_password,
            dir,
            daemon,
            args,
        };
        slapd.wait_ready()?;
        slapd.populate()?;
        eprintln!(
            "slapd on {} ready in {} ms",
            slapd.ldap_url,
            started.elapsed().as_millis()
        );
        Ok(slapd)
    }

    /// Polls a rootdn bind over StartTLS until it works (or slapd exits, or 20 s pass).
    fn wait_ready(&self) -> anyhow::Result<()> {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(status) = self.daemon.exited() {
                anyhow::bail!(
                    "slapd exited ({status}); log:\n{}",
                    self.daemon.log_tail(30)
                );
            }
            let probe = super::ldap_tool(
                "ldapsearch",
                &self.root(),
                &["-LLL", "-b", "", "-s", "base", "(objectClass=*)", "1.1"],
                None,
            )?;
            if probe.code == 0 {
                return Ok(());
            }
            anyhow::ensure!(
                Instant::now() < deadline,
                "slapd did not answer a bind in 20 s ({}); log:\n{}",
                probe.stderr.trim(),
                self.daemon.log_tail(30)
            );
            std::thread::sleep(Duration::from_millis(25));
        }
    }

    fn populate(&self) -> anyhow::Result<()> {
        let b = &self.base_dn;
        let mut ldif = format!(
            "dn: {b}\nchangetype: add\nobjectClass: dcObject\nobjectClass: organization\n\
             o: Example\ndc: example\n\n"
        );
        for ou in ["people", "groups", "services", "policies"] {
            ldif.push_str(&format!(
                "dn: ou={ou},{b}\nchangetype: add\nobjectClass: organizationalUnit\nou: {ou}\n\n"
            ));
        }
        ldif.push_str(&format!(
            "dn: {policy}\nchangetype: add\nobjectClass: pwdPolicy\nobjectClass: device\n\
             cn: default\npwdAttribute: userPassword\npwdMaxFailure: {SLAPD_MAX_FAILURE}\n\
             pwdLockout: {lockout}\npwdMinLength: {SLAPD_MIN_LENGTH}\n\
             pwdCheckQuality: {SLAPD_CHECK_QUALITY}\npwdInHistory: {SLAPD_IN_HISTORY}\n\n",
            policy = self.policy_dn,
            lockout = if SLAPD_LOCKOUT { "TRUE" } else { "FALSE" },
        ));
        ldif.push_str(&format!(
            "dn: {svc}\nchangetype: add\nobjectClass: applicationProcess\n\
             objectClass: simpleSecurityObject\ncn: sspr\n{pw}\n",
            svc = self.service_dn,
            pw = ldif_line("userPassword", &self.service_password),
        ));
        // groupOfNames needs a member: an empty group holds the empty DN.
        ldif.push_str(&format!(
            "dn: {}\nchangetype: add\nobjectClass: groupOfNames\ncn: {}\nmember:\n\n",
            self.admin_group_dn, self.admin_group
        ));
        modify(&self.root(), &ldif, "adding the base entries")
    }

    /// The service account over StartTLS, for [`super::ldap_tool`].
    pub fn as_service(&self) -> Conn<'_> {
        Conn {
            url: &self.ldap_url,
            ca_file: &self.ca_file,
            starttls: true,
            bind: Some((&self.service_dn, &self.service_password)),
        }
    }

    /// The rootdn over StartTLS.
    fn root(&self) -> Conn<'_> {
        Conn {
            url: &self.ldap_url,
            ca_file: &self.ca_file,
            starttls: true,
            bind: Some((&self.root_dn, &self.root_password)),
        }
    }

    /// Adds a person under `users_dn` (as the rootdn: no quality checks); returns the DN.
    pub fn add_user(&self, u: &NewUser<'_>) -> anyhow::Result<String> {
        self.add_person(u, None)
    }

    /// Adds a person who can sign in to a Linux PC: [`Slapd::add_user`] plus
    /// `posixAccount` (a fresh `uidNumber`, `gidNumber` the same, `homeDirectory`
    /// `/home/<login>`), without which sssd does not know them. Returns the DN.
    pub fn add_posix_user(&self, u: &NewUser<'_>) -> anyhow::Result<String> {
        let uid_number = NEXT_UID_NUMBER.fetch_add(1, Ordering::Relaxed);
        self.add_person(u, Some(uid_number))
    }

    fn add_person(&self, u: &NewUser<'_>, uid_number: Option<u32>) -> anyhow::Result<String> {
        let dn = format!("uid={},{}", escape_rdn(u.login), self.users_dn);
        let mut ldif = format!("dn: {dn}\nchangetype: add\nobjectClass: inetOrgPerson\n");
        if let Some(n) = uid_number {
            ldif.push_str(&format!(
                "objectClass: posixAccount\nuidNumber: {n}\ngidNumber: {n}\nloginShell: /bin/sh\n"
            ));
            ldif.push_str(&ldif_line("homeDirectory", &format!("/home/{}", u.login)));
        }
        ldif.push_str(&ldif_line("uid", u.login));
        ldif.push_str(&ldif_line("cn", &format!("{} {}", u.given_name, u.surname)));
        ldif.push_str(&ldif_line("givenName", u.given_name));
        ldif.push_str(&ldif_line("sn", u.surname));
        if let Some(mail) = u.email {
            ldif.push_str(&ldif_line("mail", mail));
        }
        // Cleartext on purpose: ppolicy_hash_cleartext stores it hashed.
        ldif.push_str(&ldif_line("userPassword", u.password));
        modify(&self.root(), &ldif, &format!("adding {dn}"))?;
        Ok(dn)
    }

    /// Adds a `groupOfNames` under `groups_dn` with `members` (DNs; groups nest by having
    /// a group's DN as a member); returns its DN.
    pub fn add_group(&self, cn: &str, members: &[&str]) -> anyhow::Result<String> {
        let dn = format!("cn={},{}", escape_rdn(cn), self.groups_dn);
        let mut ldif = format!("dn: {dn}\nchangetype: add\nobjectClass: groupOfNames\n");
        ldif.push_str(&ldif_line("cn", cn));
        if members.is_empty() {
            ldif.push_str("member:\n");
        }
        for m in members {
            ldif.push_str(&ldif_line("member", m));
        }
        modify(&self.root(), &ldif, &format!("adding {dn}"))?;
        Ok(dn)
    }

    /// Adds `members` (DNs) to the group with cn `group` under `groups_dn` (for example
    /// [`Slapd::admin_group`]).
    pub fn add_members(&self, group: &str, members: &[&str]) -> anyhow::Result<()> {
        let dn = format!("cn={},{}", escape_rdn(group), self.groups_dn);
        let mut ldif = format!("dn: {dn}\nchangetype: modify\nadd: member\n");
        for m in members {
            ldif.push_str(&ldif_line("member", m));
        }
        ldif.push_str("-\n");
        modify(&self.root(), &ldif, &format!("adding members to {dn}"))
    }

    /// Replaces `attr` of `dn` with `value` (as the rootdn): `mobile`, `telephoneNumber`.
    pub fn set_attribute(&self, dn: &str, attr: &str, value: &str) -> anyhow::Result<()> {
        let mut ldif = format!("dn: {dn}\nchangetype: modify\nreplace: {attr}\n");
        ldif.push_str(&ldif_line(attr, value));
        ldif.push_str("-\n");
        modify(&self.root(), &ldif, &format!("setting {attr} of {dn}"))
    }

    /// Whether a simple bind as `dn` with `password` succeeds over LDAPS.
    pub fn bind_ok(&self, dn: &str, password: &str) -> bool {
        bind_succeeds(&self.ldaps_url, &self.ca_file, dn, password)
    }

    /// Binds with a wrong password until ppolicy locks `dn` (sets `pwdAccountLockedTime`);
    /// fails if it did not.
    pub fn lock_out(&self, dn: &str) -> anyhow::Result<()> {
        let wrong = format!("wrong-{}", random_string(12));
        for _ in 0..SLAPD_MAX_FAILURE {
            anyhow::ensure!(!self.bind_ok(dn, &wrong), "a wrong password bound as {dn}");
        }
        anyhow::ensure!(self.is_locked(dn)?, "{dn} is not locked after bad binds");
        Ok(())
    }

    /// Whether ppolicy has locked `dn` after bad binds (`pwdAccountLockedTime` is set and
    /// is not [`SLAPD_DISABLED_MARK`]).
    pub fn is_locked(&self, dn: &str) -> anyhow::Result<bool> {
        Ok(self
            .locked_time(dn)?
            .is_some_and(|t| t != SLAPD_DISABLED_MARK))
    }

    /// Whether `dn` is locked by an administrator ([`Slapd::disable`]).
    pub fn is_disabled(&self, dn: &str) -> anyhow::Result<bool> {
        Ok(self.locked_time(dn)?.as_deref() == Some(SLAPD_DISABLED_MARK))
    }

    fn locked_time(&self, dn: &str) -> anyhow::Result<Option<String>> {
        Ok(self
            .read(dn, "pwdAccountLockedTime")?
            .first("pwdAccountLockedTime"))
    }

    /// Locks `dn` for good, the way an administrator does with ppolicy
    /// (`pwdAccountLockedTime: 000001010000Z`).
    pub fn disable(&self, dn: &str) -> anyhow::Result<()> {
        let ldif = format!(
            "dn: {dn}\nchangetype: modify\nreplace: pwdAccountLockedTime\n\
             pwdAccountLockedTime: {SLAPD_DISABLED_MARK}\n-\n"
        );
        modify(&self.root(), &ldif, &format!("disabling {dn}"))
    }

    /// The `entryUUID` of `dn`.
    pub fn entry_uuid(&self, dn: &str) -> anyhow::Result<String> {
        self.read(dn, "entryUUID")?
            .first("entryUUID")
            .with_context(|| format!("{dn} has no entryUUID"))
    }

    /// Reads one attribute of `dn` as the rootdn.
    fn read(&self, dn: &str, attr: &str) -> anyhow::Result<super::Entry> {
        search(&self.root(), dn, "base", "(objectClass=*)", &[attr])?
            .into_iter()
            .next()
            .with_context(|| format!("{dn} not found"))
    }

    /// Stops slapd (SIGTERM, then SIGKILL after 5 s) and waits until it is gone. For
    /// private instances.
    pub fn stop(&self) {
        self.daemon
            .stop_with(Signal::SIGTERM, Duration::from_secs(5));
    }

    /// Kills slapd at once (SIGKILL), as a crash would, and waits until it is gone. For
    /// private instances.
    pub fn kill(&self) {
        self.daemon
            .stop_with(Signal::SIGKILL, Duration::from_secs(5));
    }

    /// Starts a stopped or killed slapd again on the same ports with the same data.
    pub fn restart(&self) -> anyhow::Result<()> {
        let args: Vec<&str> = self.args.iter().map(String::as_str).collect();
        self.daemon.restart("slapd", &args, false)?;
        self.wait_ready()
    }
}

impl Drop for Slapd {
    fn drop(&mut self) {
        self.kill();
        if !process::keep_data() {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

fn path_str(p: &Path) -> anyhow::Result<&str> {
    p.to_str()
        .with_context(|| format!("{} is not UTF-8", p.display()))
}

/// slapd.conf: mdb + ppolicy, TLS, and the access rules (first match wins).
fn config(
    dir: &Path,
    cert: &Path,
    key: &Path,
    root_dn: &str,
    root_password: &str,
    service_dn: &str,
    policy_dn: &str,
) -> String {
    let d = dir.display();
    let (cert, key) = (cert.display(), key.display());
    format!(
        r#"include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/nis.schema
include /etc/ldap/schema/inetorgperson.schema
modulepath /usr/lib/ldap
moduleload back_mdb
moduleload ppolicy
pidfile {d}/slapd.pid
argsfile {d}/slapd.args
TLSCertificateFile {cert}
TLSCertificateKeyFile {key}
TLSCACertificateFile {cert}

database mdb
suffix "{BASE_DN}"
rootdn "{root_dn}"
rootpw {root_password}
directory {d}/db
maxsize 104857600

overlay ppolicy
ppolicy_default "{policy_dn}"
ppolicy_use_lockout
ppolicy_hash_cleartext

# The service account may set (=w: not read, not manage) people's passwords.
access to dn.subtree="ou=people,{BASE_DN}" attrs=userPassword
  by dn.exact="{service_dn}" =w
  by self write
  by anonymous auth
  by * none
access to dn.subtree="ou=people,{BASE_DN}" attrs=pwdAccountLockedTime
  by dn.exact="{service_dn}" write
  by self read
  by * none
access to attrs=userPassword
  by self write
  by anonymous auth
  by * none
access to dn.base="" by * read
access to dn.base="cn=Subschema" by * read
access to *
  by dn.exact="{service_dn}" read
  by self read
  by * none
"#
    )
}
