//! A Samba AD domain controller on its own 127.0.0.x address (its LDAP ports are fixed),
//! provisioned into a temp folder, with a lockout policy and a service account that is
//! *delegated* password resets on `CN=Users` (not a Domain Admin).
//!
//! Samba 4.17 has no SDProp (the AdminSDHolder task Windows runs hourly), so on a bare
//! Samba a delegation on `CN=Users` reaches Domain Admins too. The fixture emulates SDProp
//! ([`SambaDc::run_sdprop`]) so admins are protected the way they are on Windows.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use base64::Engine as _;
use nix::sys::signal::Signal;
use rand::Rng as _;

use super::process::{self, Daemon};
use super::{
    bind_succeeds, escape_filter, escape_rdn, guid_text, ldif_line, modify, parse_ldif,
    port_in_use, random_string, search, self_signed_cert, sid_text, temp_folder, Conn, Entry,
    NewUser,
};

/// Domain `lockoutThreshold`: bad passwords before an account locks.
pub const SAMBA_LOCKOUT_THRESHOLD: u32 = 3;
/// Domain `minPwdAge` in days (0, so users may change again at once).
pub const SAMBA_MIN_PWD_AGE_DAYS: u32 = 0;
/// Domain password complexity (`pwdProperties` bit 1): characters from at least
/// [`SAMBA_CATEGORIES`] of upper case, lower case, digits and symbols, and not the account
/// name or parts of the display name.
pub const SAMBA_COMPLEXITY: bool = true;
/// Character kinds complexity asks for.
pub const SAMBA_CATEGORIES: u8 = 3;
/// Domain `minPwdLength`.
pub const SAMBA_MIN_LENGTH: u32 = 7;
/// Domain `pwdHistoryLength`.
pub const SAMBA_HISTORY: u32 = 24;

const REALM: &str = "SSPR.TEST";
const DOMAIN: &str = "SSPR";
const BASE_DN: &str = "DC=sspr,DC=test";
const SERVICE_SAM: &str = "sspr-svc";

/// Control-access right "Reset Password".
const RESET_PASSWORD: &str = "00299570-246d-11d0-a768-00aa006e0529";
/// The `lockoutTime` attribute.
const LOCKOUT_TIME: &str = "28630ebf-41d5-11d1-a9c1-0000f80367c1";
/// The `user` class.
const USER_CLASS: &str = "bf967aba-0de6-11d0-a285-00aa003049e2";

/// userAccountControl bits.
const UF_ACCOUNTDISABLE: u32 = 0x2;
const UF_NORMAL_ACCOUNT: u32 = 0x200;
const UF_DONT_EXPIRE_PASSWD: u32 = 0x1_0000;
/// msDS-User-Account-Control-Computed: locked out.
const UF_LOCKOUT: u32 = 0x10;
/// Security descriptor control: the DACL does not inherit.
const SE_DACL_PROTECTED: u16 = 0x1000;

/// Groups whose members Windows protects with AdminSDHolder (relative to the base DN).
const PROTECTED_GROUPS: &[&str] = &[
    "CN=Administrators,CN=Builtin",
    "CN=Account Operators,CN=Builtin",
    "CN=Server Operators,CN=Builtin",
    "CN=Print Operators,CN=Builtin",
    "CN=Backup Operators,CN=Builtin",
    "CN=Replicator,CN=Builtin",
    "CN=Domain Admins,CN=Users",
    "CN=Enterprise Admins,CN=Users",
    "CN=Schema Admins,CN=Users",
];

/// A running Samba AD DC. [`SambaDc::shared`] gives one per test process.
pub struct SambaDc {
    /// Its own loopback address, 127.0.0.x.
    pub host: String,
    /// `ldap://127.0.0.x` (port 389; simple binds need StartTLS first).
    pub ldap_url: String,
    /// `ldaps://127.0.0.x` (port 636).
    pub ldaps_url: String,
    /// The PEM certificate to trust (self-signed, subjectAltName IP:<host> and the DC's
    /// DNS name; Samba's own generated one names only `DC1.<realm>`).
    pub ca_file: PathBuf,
    /// `SSPR.TEST`.
    pub realm: String,
    /// NetBIOS domain name, `SSPR`.
    pub domain: String,
    /// `DC=sspr,DC=test`.
    pub base_dn: String,
    /// `CN=Users,<base>`: where [`SambaDc::add_user`] puts people and the delegation
    /// applies.
    pub users_dn: String,
    /// The delegated service account (Reset Password and lockoutTime on `CN=Users`).
    pub service_dn: String,
    /// `sspr-svc@sspr.test`.
    pub service_upn: String,
    /// `sspr-svc`.
    pub service_sam: String,
    /// The service account's password (random per instance, meets complexity).
    pub service_password: String,
    /// The built-in Administrator (a protected Domain Admin).
    pub admin_dn: String,
    /// `Administrator@sspr.test`.
    pub admin_upn: String,
    /// Administrator's password (random per instance). For fixtures, not for the server.
    pub admin_password: String,
    /// The delegation added to `users_dn`'s security descriptor, as SDDL.
    pub delegation_sddl: String,
    /// The data folder (provisioned DC, certificate, log).
    pub dir: PathBuf,
    sam_ldb: PathBuf,
    /// AdminSDHolder's security descriptor with a protected DACL, as SDDL.
    admin_sd: String,
    daemon: Daemon,
    args: Vec<String>,
}

static SHARED: OnceLock<Result<SambaDc, String>> = OnceLock::new();

impl SambaDc {
    /// The server's settings for this DC (LDAPS, the CA, the delegated service account),
    /// to put under `[directory]` or `[[directory.linked]]`.
    pub fn directory_settings(&self, name: &str) -> String {
        format!(
            r#"kind = "active_directory"
name = "{name}"
url = "{url}"
ca_file = "{ca}"
bind_dn = "{bind_dn}"
bind_password = "{bind_pw}"
base_dn = "{base}"
"#,
            url = self.ldaps_url,
            ca = self.ca_file.display(),
            bind_dn = self.service_dn,
            bind_pw = self.service_password,
            base = self.base_dn,
        )
    }

    /// The DC shared by this test process: provisioned and started on first use, stopped
    /// and removed when the process exits.
    pub fn shared() -> anyhow::Result<&'static SambaDc> {
        SHARED
            .get_or_init(|| SambaDc::start().map_err(|e| format!("{e:#}")))
            .as_ref()
            .map_err(|e| anyhow::anyhow!("starting the shared Samba DC: {e}"))
    }

    /// Provisions and starts a private DC (several seconds: prefer [`SambaDc::shared`]);
    /// stopped and removed when dropped.
    pub fn start() -> anyhow::Result<SambaDc> {
        let started = Instant::now();
        let dir = temp_folder("samba")?;
        let host = free_loopback_address()?;
        let dns_name = format!("dc1.{}", REALM.to_lowercase());
        let (cert, key) = self_signed_cert(&dir, &host, &[&dns_name])?;
        let admin_password = complex_password();
        let dc = dir.join("dc");
        provision(&dir, &dc, &host, &admin_password)?;
        let conf = dc.join("etc/smb.conf");
        configure(&conf, &dc, &cert, &key)?;
        let provisioned = started.elapsed();

        let args = vec![
            "-i".to_string(),
            "-M".to_string(),
            "single".to_string(),
            "-s".to_string(),
            path_str(&conf)?.to_string(),
        ];
        let arg_refs: Vec<&str> = args.iter().map(String::as_str).collect();
        let daemon = Daemon::start("samba", "samba", &arg_refs, &dir.join("samba.log"), true)?;
        let upn_suffix = REALM.to_lowercase();
        let mut dc = SambaDc {
            ldap_url: format!("ldap://{host}"),
            ldaps_url: format!("ldaps://{host}"),
            host,
            ca_file: cert,
            realm: REALM.to_string(),
            domain: DOMAIN.to_string(),
            base_dn: BASE_DN.to_string(),
            users_dn: format!("CN=Users,{BASE_DN}"),
            service_dn: format!("CN={SERVICE_SAM},CN=Users,{BASE_DN}"),
            service_upn: format!("{SERVICE_SAM}@{upn_suffix}"),
            service_sam: SERVICE_SAM.to_string(),
            service_password: complex_password(),
            admin_dn: format!("CN=Administrator,CN=Users,{BASE_DN}"),
            admin_upn: format!("Administrator@{upn_suffix}"),
            admin_password,
            delegation_sddl: String::new(),
            sam_ldb: dc.join("private/sam.ldb"),
            dir,
            admin_sd: String::new(),
            daemon,
            args,
        };
        dc.wait_ready()?;
        let ready = started.elapsed();
        dc.set_up()?;
        eprintln!(
            "samba DC on {} provisioned in {} ms, answering at {} ms, set up at {} ms",
            dc.host,
            provisioned.as_millis(),
            ready.as_millis(),
            started.elapsed().as_millis()
        );
        Ok(dc)
    }

    /// Polls an Administrator bind over LDAPS until it works (or samba exits, or 60 s).
    fn wait_ready(&self) -> anyhow::Result<()> {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(status) = self.daemon.exited() {
                anyhow::bail!(
                    "samba exited ({status}); log:\n{}",
                    self.daemon.log_tail(40)
                );
            }
            if bind_succeeds(
                &self.ldaps_url,
                &self.ca_file,
                &self.admin_upn,
                &self.admin_password,
            ) {
                return Ok(());
            }
            anyhow::ensure!(
                Instant::now() < deadline,
                "samba did not answer an LDAPS bind in 60 s; log:\n{}",
                self.daemon.log_tail(40)
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Password policy, the service account, its delegation, and SDProp for the built-in
    /// admins.
    fn set_up(&mut self) -> anyhow::Result<()> {
        let ldif = format!(
            "dn: {BASE_DN}\nchangetype: modify\n\
             replace: lockoutThreshold\nlockoutThreshold: {SAMBA_LOCKOUT_THRESHOLD}\n-\n\
             replace: minPwdAge\nminPwdAge: {min_age}\n-\n\
             replace: minPwdLength\nminPwdLength: {SAMBA_MIN_LENGTH}\n-\n\
             replace: pwdHistoryLength\npwdHistoryLength: {SAMBA_HISTORY}\n-\n\
             replace: pwdProperties\npwdProperties: {complexity}\n-\n",
            // 100 ns intervals, negative.
            min_age = -i64::from(SAMBA_MIN_PWD_AGE_DAYS) * 864_000_000_000,
            complexity = u8::from(SAMBA_COMPLEXITY),
        );
        modify(&self.admin(), &ldif, "setting the domain password policy")?;

        let mut ldif = format!(
            "dn: {}\nchangetype: add\nobjectClass: user\nsAMAccountName: {SERVICE_SAM}\n\
             userPrincipalName: {}\ndescription: SSPR service account (delegated)\n\
             userAccountControl: {}\n",
            self.service_dn,
            self.service_upn,
            UF_NORMAL_ACCOUNT | UF_DONT_EXPIRE_PASSWD
        );
        ldif.push_str(&unicode_pwd_line(&self.service_password));
        modify(&self.admin(), &ldif, "adding the service account")?;
        let sid = self
            .read(&self.service_dn, &["objectSid"])?
            .bytes("objectSid")
            .map(sid_text)
            .context("the service account has no objectSid")??;

        // One ldbsearch for both descriptors: each ldb tool run costs ~0.6 s.
        let holder = format!("CN=AdminSDHolder,CN=System,{BASE_DN}");
        let sds = self.ldb_search(
            BASE_DN,
            &format!(
                "(|(distinguishedName={holder})(distinguishedName={}))",
                self.users_dn
            ),
            &["nTSecurityDescriptor"],
        )?;
        let sd_of = |dn: &str| {
            sds.iter()
                .find(|e| e.dn.eq_ignore_ascii_case(dn))
                .and_then(|e| e.first("nTSecurityDescriptor"))
                .with_context(|| format!("no security descriptor for {dn}"))
        };
        self.admin_sd = protect_dacl(&sd_of(&holder)?)?;
        self.delegation_sddl = format!(
            "(OA;CIIO;CR;{RESET_PASSWORD};{USER_CLASS};{sid})\
             (OA;CIIO;RPWP;{LOCKOUT_TIME};{USER_CLASS};{sid})"
        );
        let users_sd = add_aces(&sd_of(&self.users_dn)?, &self.delegation_sddl)?;
        // The delegation first (it spreads to every user below), then SDProp takes it off
        // the admins again.
        let mut ldif = sd_ldif(&self.users_dn, &users_sd, false);
        for dn in self.unprotected_admins()? {
            ldif.push_str(&sd_ldif(&dn, &self.admin_sd, true));
        }
        self.ldb_modify(&ldif, "delegating to the service account")
    }

    /// The service account over LDAPS, for [`super::ldap_tool`].
    pub fn as_service(&self) -> Conn<'_> {
        Conn {
            url: &self.ldaps_url,
            ca_file: &self.ca_file,
            starttls: false,
            bind: Some((&self.service_upn, &self.service_password)),
        }
    }

    /// Administrator over LDAPS.
    fn admin(&self) -> Conn<'_> {
        Conn {
            url: &self.ldaps_url,
            ca_file: &self.ca_file,
            starttls: false,
            bind: Some((&self.admin_upn, &self.admin_password)),
        }
    }

    /// Reads `attrs` of `dn` as Administrator.
    fn read(&self, dn: &str, attrs: &[&str]) -> anyhow::Result<Entry> {
        search(&self.admin(), dn, "base", "(objectClass=*)", attrs)?
            .into_iter()
            .next()
            .with_context(|| format!("{dn} not found"))
    }

    /// The DN of a user or group given by DN (has `=`), UPN (has `@`) or sAMAccountName.
    pub fn resolve(&self, name: &str) -> anyhow::Result<String> {
        if name.contains('=') {
            return Ok(name.to_string());
        }
        let attr = if name.contains('@') {
            "userPrincipalName"
        } else {
            "sAMAccountName"
        };
        let filter = format!("({attr}={})", escape_filter(name));
        search(&self.admin(), BASE_DN, "sub", &filter, &["1.1"])?
            .into_iter()
            .next()
            .map(|e| e.dn)
            .with_context(|| format!("no user or group {name:?}"))
    }

    /// Creates an enabled user in `users_dn` (RDN: the display name "Given Surname", as
    /// `samba-tool user create` does) with UPN `login@<realm>`; returns the DN. The
    /// password is set by Administrator, so it must meet the domain's complexity rules.
    pub fn add_user(&self, u: &NewUser<'_>) -> anyhow::Result<String> {
        let display = format!("{} {}", u.given_name, u.surname);
        let dn = format!("CN={},{}", escape_rdn(&display), self.users_dn);
        let mut ldif = format!("dn: {dn}\nchangetype: add\nobjectClass: user\n");
        ldif.push_str(&ldif_line("sAMAccountName", u.login));
        ldif.push_str(&ldif_line(
            "userPrincipalName",
            &format!("{}@{}", u.login, self.realm.to_lowercase()),
        ));
        ldif.push_str(&ldif_line("givenName", u.given_name));
        ldif.push_str(&ldif_line("sn", u.surname));
        ldif.push_str(&ldif_line("displayName", &display));
        if let Some(mail) = u.email {
            ldif.push_str(&ldif_line("mail", mail));
        }
        ldif.push_str(&format!("userAccountControl: {UF_NORMAL_ACCOUNT}\n"));
        ldif.push_str(&unicode_pwd_line(u.password));
        modify(&self.admin(), &ldif, &format!("adding {dn}"))?;
        Ok(dn)
    }

    /// Creates a global security group in `users_dn` with `members` (DNs, UPNs or
    /// sAMAccountNames of users and groups: groups nest); returns its DN.
    pub fn add_group(&self, name: &str, members: &[&str]) -> anyhow::Result<String> {
        let dn = format!("CN={},{}", escape_rdn(name), self.users_dn);
        let mut ldif = format!("dn: {dn}\nchangetype: add\nobjectClass: group\n");
        ldif.push_str(&ldif_line("sAMAccountName", name));
        for m in members {
            ldif.push_str(&ldif_line("member", &self.resolve(m)?));
        }
        modify(&self.admin(), &ldif, &format!("adding {dn}"))?;
        Ok(dn)
    }

    /// Adds `members` (DNs, UPNs or sAMAccountNames) to an existing group (for example
    /// "Domain Admins"), then runs [`SambaDc::run_sdprop`] so new admins are protected.
    pub fn add_members(&self, group: &str, members: &[&str]) -> anyhow::Result<()> {
        let dn = self.resolve(group)?;
        let mut ldif = format!("dn: {dn}\nchangetype: modify\nadd: member\n");
        for m in members {
            ldif.push_str(&ldif_line("member", &self.resolve(m)?));
        }
        ldif.push_str("-\n");
        modify(&self.admin(), &ldif, &format!("adding members to {dn}"))?;
        self.run_sdprop()
    }

    /// Emulates Windows' SDProp, which Samba lacks: every user in a protected group (such
    /// as Domain Admins, nested membership included) gets AdminSDHolder's security
    /// descriptor with inheritance off, and `adminCount: 1`, so delegations on its
    /// container no longer apply to it.
    pub fn run_sdprop(&self) -> anyhow::Result<()> {
        let mut ldif = String::new();
        for dn in self.unprotected_admins()? {
            ldif.push_str(&sd_ldif(&dn, &self.admin_sd, true));
        }
        if ldif.is_empty() {
            return Ok(());
        }
        self.ldb_modify(&ldif, "protecting admins (SDProp)")
    }

    /// Users in protected groups whose DACL still inherits.
    fn unprotected_admins(&self) -> anyhow::Result<Vec<String>> {
        let mut filter = String::from("(&(objectClass=user)(|");
        for g in PROTECTED_GROUPS {
            filter.push_str(&format!(
                "(memberOf:1.2.840.113556.1.4.1941:={g},{BASE_DN})"
            ));
        }
        filter.push_str("))");
        let users = search(
            &self.admin(),
            BASE_DN,
            "sub",
            &filter,
            &["nTSecurityDescriptor"],
        )?;
        Ok(users
            .into_iter()
            .filter(|u| {
                let control = u
                    .bytes("nTSecurityDescriptor")
                    .and_then(|sd| sd.get(2..4))
                    .map(|c| u16::from_le_bytes([c[0], c[1]]))
                    .unwrap_or(0);
                control & SE_DACL_PROTECTED == 0
            })
            .map(|u| u.dn)
            .collect())
    }

    /// Replaces `attr` of a user (DN, UPN or sAMAccountName) with `value`, as
    /// Administrator: `mobile`, `telephoneNumber`.
    pub fn set_attribute(&self, user: &str, attr: &str, value: &str) -> anyhow::Result<()> {
        let dn = self.resolve(user)?;
        let mut ldif = format!("dn: {dn}\nchangetype: modify\nreplace: {attr}\n");
        ldif.push_str(&ldif_line(attr, value));
        ldif.push_str("-\n");
        modify(&self.admin(), &ldif, &format!("setting {attr} of {dn}"))
    }

    /// Whether a simple bind as `dn_or_upn` with `password` succeeds over LDAPS.
    pub fn bind_ok(&self, dn_or_upn: &str, password: &str) -> bool {
        bind_succeeds(&self.ldaps_url, &self.ca_file, dn_or_upn, password)
    }

    /// Binds with a wrong password until the account locks (`lockoutTime` > 0); fails if
    /// it did not.
    pub fn lock_out(&self, dn_or_upn: &str) -> anyhow::Result<()> {
        let wrong = format!("wrong-{}", random_string(12));
        for _ in 0..SAMBA_LOCKOUT_THRESHOLD {
            anyhow::ensure!(
                !self.bind_ok(dn_or_upn, &wrong),
                "a wrong password bound as {dn_or_upn}"
            );
        }
        let dn = self.resolve(dn_or_upn)?;
        let lockout_time: i64 = self
            .read(&dn, &["lockoutTime"])?
            .first("lockoutTime")
            .and_then(|t| t.parse().ok())
            .unwrap_or(0);
        anyhow::ensure!(lockout_time > 0, "{dn} has no lockoutTime after bad binds");
        anyhow::ensure!(self.is_locked(&dn)?, "{dn} is not locked after bad binds");
        Ok(())
    }

    /// Whether the account is locked out now (`msDS-User-Account-Control-Computed`).
    pub fn is_locked(&self, dn: &str) -> anyhow::Result<bool> {
        let dn = self.resolve(dn)?;
        Ok(self.computed_uac(&dn)? & UF_LOCKOUT != 0)
    }

    /// Whether the account is disabled (`userAccountControl` bit 2).
    pub fn is_disabled(&self, dn: &str) -> anyhow::Result<bool> {
        let dn = self.resolve(dn)?;
        Ok(self.uac(&dn)? & UF_ACCOUNTDISABLE != 0)
    }

    /// Disables an account (what `samba-tool user disable` does, over LDAP).
    pub fn disable(&self, sam: &str) -> anyhow::Result<()> {
        let dn = self.resolve(sam)?;
        let uac = self.uac(&dn)? | UF_ACCOUNTDISABLE;
        let ldif = format!(
            "dn: {dn}\nchangetype: modify\nreplace: userAccountControl\n\
             userAccountControl: {uac}\n-\n"
        );
        modify(&self.admin(), &ldif, &format!("disabling {dn}"))
    }

    fn uac(&self, dn: &str) -> anyhow::Result<u32> {
        self.read(dn, &["userAccountControl"])?
            .first("userAccountControl")
            .and_then(|v| v.parse().ok())
            .with_context(|| format!("{dn} has no userAccountControl"))
    }

    fn computed_uac(&self, dn: &str) -> anyhow::Result<u32> {
        let attr = "msDS-User-Account-Control-Computed";
        self.read(dn, &[attr])?
            .first(attr)
            .and_then(|v| v.parse().ok())
            .with_context(|| format!("{dn} has no {attr}"))
    }

    /// The `objectGUID` of a user or group, in its usual text form.
    pub fn object_guid(&self, dn: &str) -> anyhow::Result<String> {
        let dn = self.resolve(dn)?;
        self.read(&dn, &["objectGUID"])?
            .bytes("objectGUID")
            .map(guid_text)
            .with_context(|| format!("{dn} has no objectGUID"))?
    }

    /// Sets the domain's `minPwdLength` (restore [`SAMBA_MIN_LENGTH`] afterwards: the DC
    /// is shared by the process's tests).
    pub fn set_min_length(&self, length: u32) -> anyhow::Result<()> {
        let ldif = format!(
            "dn: {BASE_DN}\nchangetype: modify\nreplace: minPwdLength\nminPwdLength: {length}\n-\n"
        );
        modify(&self.admin(), &ldif, "setting minPwdLength")
    }

    /// Stops samba (SIGTERM to its process group, SIGKILL after 10 s); waits until all
    /// its processes are gone.
    pub fn stop(&self) {
        self.daemon
            .stop_with(Signal::SIGTERM, Duration::from_secs(10));
    }

    /// Kills samba's whole process group at once, as a crash would.
    pub fn kill(&self) {
        self.daemon
            .stop_with(Signal::SIGKILL, Duration::from_secs(5));
    }

    /// Starts a stopped or killed DC again (same address, same data).
    pub fn restart(&self) -> anyhow::Result<()> {
        let args: Vec<&str> = self.args.iter().map(String::as_str).collect();
        self.daemon.restart("samba", &args, true)?;
        self.wait_ready()
    }

    /// Searches the local sam.ldb as the system (sees security descriptors as SDDL).
    fn ldb_search(&self, base: &str, filter: &str, attrs: &[&str]) -> anyhow::Result<Vec<Entry>> {
        let out = std::process::Command::new("ldbsearch")
            .arg("-H")
            .arg(&self.sam_ldb)
            .args(["-b", base, "-s", "sub", filter])
            .args(attrs)
            .output()
            .context("running ldbsearch")?;
        anyhow::ensure!(
            out.status.success(),
            "ldbsearch failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        Ok(parse_ldif(&String::from_utf8_lossy(&out.stdout)))
    }

    /// Applies `ldif` to the local sam.ldb as the system (SDDL accepted for descriptors).
    fn ldb_modify(&self, ldif: &str, what: &str) -> anyhow::Result<()> {
        use std::io::Write as _;
        let mut child = std::process::Command::new("ldbmodify")
            .arg("-H")
            .arg(&self.sam_ldb)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .context("running ldbmodify")?;
        if let Some(mut stdin) = child.stdin.take() {
            stdin
                .write_all(ldif.as_bytes())
                .context("writing to ldbmodify")?;
        }
        let out = child.wait_with_output().context("running ldbmodify")?;
        anyhow::ensure!(
            out.status.success(),
            "{what}: ldbmodify failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        Ok(())
    }
}

impl Drop for SambaDc {
    fn drop(&mut self) {
        self.kill();
        if !process::keep_data() {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

/// A random 127.0.0.x (x in 2..=250) where nothing answers on 389 or 636. Random, so
/// concurrent test processes rarely try the same one.
fn free_loopback_address() -> anyhow::Result<String> {
    let start: u8 = rand::thread_rng().gen_range(2..=250);
    for i in 0..249u16 {
        let x = 2 + (u16::from(start) - 2 + i) % 249;
        let ip = format!("127.0.0.{x}");
        if !port_in_use(&ip, 636) && !port_in_use(&ip, 389) {
            return Ok(ip);
        }
    }
    anyhow::bail!("no 127.0.0.x address with ports 389 and 636 free")
}

/// `samba-tool domain provision` into `dc`, from an empty smb.conf so nothing of
/// /etc/samba leaks in, bound to `host` only.
fn provision(dir: &Path, dc: &Path, host: &str, admin_password: &str) -> anyhow::Result<()> {
    let empty = dir.join("empty.conf");
    std::fs::write(&empty, "").context("writing empty.conf")?;
    let out = std::process::Command::new("samba-tool")
        .args(["domain", "provision", "-s"])
        .arg(&empty)
        .arg(format!("--realm={REALM}"))
        .arg(format!("--domain={DOMAIN}"))
        .args(["--server-role=dc", "--dns-backend=NONE", "--use-rfc2307"])
        .arg(format!("--adminpass={admin_password}"))
        .arg(format!("--targetdir={}", dc.display()))
        .arg(format!("--host-ip={host}"))
        .arg("--host-name=dc1")
        .arg(format!("--option=interfaces={host}/8"))
        .arg("--option=bind interfaces only=yes")
        .arg("--option=disable netbios=yes")
        .output()
        .context("running samba-tool domain provision")?;
    let log = String::from_utf8_lossy(&out.stdout) + String::from_utf8_lossy(&out.stderr);
    std::fs::write(
        dir.join("provision.log"),
        log.replace(admin_password, "***"),
    )
    .context("writing provision.log")?;
    anyhow::ensure!(
        out.status.success(),
        "samba-tool domain provision failed: {}",
        log.lines()
            .rev()
            .take(15)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect::<Vec<_>>()
            .join("\n")
            .replace(admin_password, "***")
    );
    Ok(())
}

/// Edits the generated smb.conf: only the LDAP server and KDC, every socket and pid file
/// inside the folder, our certificate, and old passwords refused at once after a reset
/// (Samba accepts them for 60 minutes by default). `interfaces` and `bind interfaces
/// only` stay.
fn configure(conf: &Path, dc: &Path, cert: &Path, key: &Path) -> anyhow::Result<()> {
    let text = std::fs::read_to_string(conf).context("reading the provisioned smb.conf")?;
    let run = dc.join("run");
    std::fs::create_dir_all(&run).context("creating the run folder")?;
    let r = run.display();
    let extra = format!(
        "\tserver services = ldap, kdc\n\
         \tprefork children = 1\n\
         \told password allowed period = 0\n\
         \tpid directory = {r}\n\
         \tncalrpc dir = {r}/ncalrpc\n\
         \twinbindd socket directory = {r}/winbindd\n\
         \tntp signd socket directory = {r}/ntp_signd\n\
         \ttls enabled = yes\n\
         \ttls certfile = {cert}\n\
         \ttls keyfile = {key}\n\
         \ttls cafile = {cert}\n",
        cert = cert.display(),
        key = key.display(),
    );
    anyhow::ensure!(
        text.contains("bind interfaces only = Yes") && text.contains("interfaces = 127."),
        "the provisioned smb.conf does not bind to loopback only"
    );
    let mut out = String::new();
    for line in text.lines() {
        if line.trim_start().starts_with("server services") {
            continue;
        }
        out.push_str(line);
        out.push('\n');
        if line.trim() == "[global]" {
            out.push_str(&extra);
        }
    }
    std::fs::write(conf, out).context("writing smb.conf")
}

/// A random password that meets AD complexity rules.
fn complex_password() -> String {
    format!("{}-Aa1", random_string(20))
}

/// The LDIF line that sets `unicodePwd` to `password` (UTF-16LE, in double quotes).
fn unicode_pwd_line(password: &str) -> String {
    let quoted: Vec<u8> = format!("\"{password}\"")
        .encode_utf16()
        .flat_map(u16::to_le_bytes)
        .collect();
    format!(
        "unicodePwd:: {}\n",
        base64::engine::general_purpose::STANDARD.encode(quoted)
    )
}

/// An ldbmodify change setting `dn`'s security descriptor (and `adminCount` for SDProp).
fn sd_ldif(dn: &str, sddl: &str, admin: bool) -> String {
    let mut ldif = format!(
        "dn: {dn}\nchangetype: modify\nreplace: nTSecurityDescriptor\n\
         nTSecurityDescriptor: {sddl}\n-\n"
    );
    if admin {
        ldif.push_str("replace: adminCount\nadminCount: 1\n-\n");
    }
    ldif.push('\n');
    ldif
}

/// Inserts `aces` at the start of the DACL of `sddl` (explicit ACEs come first).
fn add_aces(sddl: &str, aces: &str) -> anyhow::Result<String> {
    let at = dacl_start(sddl)?;
    Ok(format!("{}{aces}{}", &sddl[..at], &sddl[at..]))
}

/// `sddl` with its DACL marked protected (`D:P...`): no inherited ACEs.
fn protect_dacl(sddl: &str) -> anyhow::Result<String> {
    let at = dacl_start(sddl)?;
    let flags_start = sddl[..at].rfind("D:").context("SDDL has no DACL")? + 2;
    if sddl[flags_start..at].contains('P') {
        return Ok(sddl.to_string());
    }
    Ok(format!("{}P{}", &sddl[..flags_start], &sddl[flags_start..]))
}

/// The index of the DACL's first ACE in `sddl`.
fn dacl_start(sddl: &str) -> anyhow::Result<usize> {
    let at = sddl.find('(').context("SDDL has no ACEs")?;
    anyhow::ensure!(
        sddl[..at].contains("D:"),
        "SDDL does not start with a DACL: {sddl}"
    );
    Ok(at)
}

fn path_str(p: &Path) -> anyhow::Result<&str> {
    p.to_str()
        .with_context(|| format!("{} is not UTF-8", p.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edits_sddl() {
        let sd = "O:DAG:DAD:AI(A;;RP;;;AU)(A;CIID;LC;;;RU)S:AI(OU;;WP;;;WD)";
        assert_eq!(
            add_aces(sd, "(A;;CR;;;S-1-5-1)").unwrap(),
            "O:DAG:DAD:AI(A;;CR;;;S-1-5-1)(A;;RP;;;AU)(A;CIID;LC;;;RU)S:AI(OU;;WP;;;WD)"
        );
        assert_eq!(
            protect_dacl(sd).unwrap(),
            "O:DAG:DAD:PAI(A;;RP;;;AU)(A;CIID;LC;;;RU)S:AI(OU;;WP;;;WD)"
        );
    }
}
