//! The directory under test (a private slapd or Samba DC from the test kit), its people,
//! and how the server and the raw loops reach it.

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use anyhow::Context as _;
use sspr_tests::dirs::{NewUser, SambaDc, Slapd};

use super::Kind;

/// Threads adding people (each runs `ldapmodify`).
const ADDERS: usize = 4;
/// Set by the administrator when a person is added; meets Samba's complexity rules.
const INITIAL_PASSWORD: &str = "Initial-Pass-2026";

pub enum Dir {
    Slapd(Slapd),
    Samba(SambaDc),
}

pub struct Target {
    pub dir: Dir,
}

/// One person, used for one reset.
pub struct Person {
    pub login: String,
    pub dn: String,
    /// Base32 authenticator secret, registered with the server.
    pub totp: String,
}

/// How to reach the directory as the service account.
pub struct Conn<'a> {
    pub url: &'a str,
    pub starttls: bool,
    pub ca_file: &'a Path,
    pub bind_dn: &'a str,
    pub bind_password: &'a str,
}

impl Target {
    /// A private instance, stopped when dropped. slapd gets the equality indexes any
    /// production directory has (the test fixture has none) unless `unindexed`.
    pub fn start(kind: Kind, unindexed: bool) -> anyhow::Result<Target> {
        let dir = match kind {
            Kind::Slapd => {
                let slapd = Slapd::start()?;
                if !unindexed {
                    add_indexes(&slapd)?;
                }
                Dir::Slapd(slapd)
            }
            Kind::Samba => Dir::Samba(SambaDc::start()?),
        };
        Ok(Target { dir })
    }

    /// The `[directory]` section, from the test kit's fixture.
    pub fn server_toml(&self) -> String {
        let settings = match &self.dir {
            Dir::Slapd(s) => s.directory_settings("OpenLDAP"),
            Dir::Samba(d) => d.directory_settings("Active Directory"),
        };
        format!("\n[directory]\n{settings}timeout_secs = 10\n")
    }

    /// The service account over the transport the server uses: StartTLS to slapd,
    /// LDAPS to Samba.
    pub fn conn(&self) -> Conn<'_> {
        match &self.dir {
            Dir::Slapd(s) => Conn {
                url: &s.ldap_url,
                starttls: true,
                ca_file: &s.ca_file,
                bind_dn: &s.service_dn,
                bind_password: &s.service_password,
            },
            Dir::Samba(d) => Conn {
                url: &d.ldaps_url,
                starttls: false,
                ca_file: &d.ca_file,
                bind_dn: &d.service_dn,
                bind_password: &d.service_password,
            },
        }
    }

    pub fn base_dn(&self) -> &str {
        match &self.dir {
            Dir::Slapd(s) => &s.base_dn,
            Dir::Samba(d) => &d.base_dn,
        }
    }

    /// The data folder: every process of the directory names it on its command line.
    pub fn data_dir(&self) -> &Path {
        match &self.dir {
            Dir::Slapd(s) => &s.dir,
            Dir::Samba(d) => &d.dir,
        }
    }

    /// One person as an organisation has them: in a team's group, which sits in a
    /// department's (nested), for `bench timing`.
    pub fn add_timed_person(&self, login: &str) -> anyhow::Result<String> {
        let dn = self.add(login)?;
        match &self.dir {
            Dir::Slapd(s) => {
                let team = s.add_group("Timing Team", &[&dn])?;
                s.add_group("Timing Department", &[&team])?;
            }
            Dir::Samba(d) => {
                let team = d.add_group("Timing Team", &[&dn])?;
                d.add_group("Timing Department", &[&team])?;
            }
        }
        Ok(dn)
    }

    fn add(&self, login: &str) -> anyhow::Result<String> {
        let email = format!("{login}@example.org");
        match &self.dir {
            Dir::Slapd(s) => s.add_user(&NewUser {
                login,
                given_name: "Bench",
                surname: "Person",
                email: Some(&email),
                password: INITIAL_PASSWORD,
            }),
            // Samba's DN is made of the names: the login keeps it unique.
            Dir::Samba(d) => d.add_user(&NewUser {
                login,
                given_name: login,
                surname: "Person",
                email: Some(&email),
                password: INITIAL_PASSWORD,
            }),
        }
    }
}

/// Indexes what the server searches by (login attributes, group members) in the
/// private slapd's configuration, builds them for the entries already there, and starts
/// it again. Without them every lookup scans the whole database.
fn add_indexes(slapd: &Slapd) -> anyhow::Result<()> {
    let conf = slapd.dir.join("slapd.conf");
    let text = std::fs::read_to_string(&conf).context("reading slapd.conf")?;
    let text = text.replacen(
        "maxsize 104857600\n",
        "maxsize 104857600\nindex objectClass eq\nindex uid,mail,member,uniqueMember eq\n",
        1,
    );
    anyhow::ensure!(text.contains("index uid"), "slapd.conf has no maxsize line");
    slapd.stop();
    std::fs::write(&conf, text).context("writing slapd.conf")?;
    let out = std::process::Command::new("slapindex")
        .arg("-f")
        .arg(&conf)
        .output()
        .context("running slapindex")?;
    anyhow::ensure!(
        out.status.success(),
        "slapindex failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    slapd.restart()
}

/// Adds `n` people (bench00001, ...) on a few threads, in order.
pub fn add_people(target: &Target, n: usize) -> anyhow::Result<Vec<Person>> {
    let next = AtomicUsize::new(0);
    let made: Mutex<Vec<(usize, Person)>> = Mutex::new(Vec::with_capacity(n));
    std::thread::scope(|scope| {
        let workers: Vec<_> = (0..ADDERS)
            .map(|_| {
                scope.spawn(|| -> anyhow::Result<()> {
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        if i >= n {
                            return Ok(());
                        }
                        let login = format!("bench{:05}", i + 1);
                        let dn = target.add(&login)?;
                        let person = Person {
                            login,
                            dn,
                            totp: sspr_server::methods::totp::new_secret(),
                        };
                        made.lock()
                            .map_err(|_| anyhow::anyhow!("poisoned"))?
                            .push((i, person));
                    }
                })
            })
            .collect();
        for w in workers {
            w.join()
                .map_err(|_| anyhow::anyhow!("a thread adding people panicked"))??;
        }
        anyhow::Ok(())
    })?;
    let mut made = made.into_inner().map_err(|_| anyhow::anyhow!("poisoned"))?;
    made.sort_by_key(|(i, _)| *i);
    anyhow::ensure!(made.len() == n, "added {} people of {n}", made.len());
    Ok(made.into_iter().map(|(_, p)| p).collect())
}

/// A new password nobody used: 25 characters of upper and lower case, digits and a
/// symbol (Samba's complexity, ppolicy's history and the server's own rules all pass).
pub fn fresh_password() -> String {
    let s = sspr_server::methods::totp::new_secret();
    let upper = s.get(..12).unwrap_or("QWERTYUIOPAS");
    let lower = s.get(12..24).unwrap_or("zxcvbnmasdfg").to_ascii_lowercase();
    format!("{upper}-{lower}7")
}

/// The TLS connector that trusts only the directory's certificate.
pub fn tls_connector(ca_file: &Path) -> anyhow::Result<native_tls::TlsConnector> {
    let pem = std::fs::read(ca_file).with_context(|| format!("reading {}", ca_file.display()))?;
    let cert = native_tls::Certificate::from_pem(&pem)?;
    Ok(native_tls::TlsConnector::builder()
        .add_root_certificate(cert)
        .build()?)
}
