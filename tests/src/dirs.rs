//! Real directories for black-box tests: an OpenLDAP `slapd` with the ppolicy overlay
//! ([`Slapd`]) and a Samba AD domain controller ([`SambaDc`]), each on loopback only, with
//! its own TLS certificate and data folder, set up the way SSPR expects a customer's
//! directory to be (a delegated service account, lockout and quality rules).
//!
//! Fixtures are driven with the OpenLDAP command-line tools (`ldapsearch`, `ldapmodify`,
//! ...), so they check the server's LDAP code against an independent client. Nothing they
//! start outlives the test process (see `process`). Needs the packages that `./run test`
//! installs (slapd, ldap-utils, openssl, samba and its AD DC packages, ldb-tools).

use std::net::{IpAddr, SocketAddr, TcpStream};
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use anyhow::Context as _;
use base64::Engine as _;
use rand::Rng as _;

pub(crate) mod process;
mod samba;
mod slapd;

pub use samba::{
    SambaDc, SAMBA_CATEGORIES, SAMBA_COMPLEXITY, SAMBA_HISTORY, SAMBA_LOCKOUT_THRESHOLD,
    SAMBA_MIN_LENGTH, SAMBA_MIN_PWD_AGE_DAYS,
};
pub use slapd::{
    Slapd, SLAPD_CHECK_QUALITY, SLAPD_DISABLED_MARK, SLAPD_IN_HISTORY, SLAPD_LOCKOUT,
    SLAPD_MAX_FAILURE, SLAPD_MIN_LENGTH,
};

/// A person to create in a directory.
#[derive(Clone, Copy)]
pub struct NewUser<'a> {
    /// `uid` (slapd) or `sAMAccountName` (Samba; the UPN is `login@<realm in lower case>`).
    pub login: &'a str,
    /// `givenName`.
    pub given_name: &'a str,
    /// `sn`.
    pub surname: &'a str,
    /// `mail`, if any.
    pub email: Option<&'a str>,
    /// Set as is, by an administrator: directory quality rules are not applied.
    pub password: &'a str,
}

/// What an OpenLDAP command-line tool answered: `code` is the LDAP result code (0 success,
/// 19 constraint violation, 49 invalid credentials, 50 insufficient access; 255 when the
/// server could not be reached).
#[derive(Debug, Clone)]
pub struct LdapOutcome {
    pub code: i32,
    /// What the tool printed (LDIF for searches).
    pub stdout: String,
    /// Includes the server's diagnostic message ("additional info: ...").
    pub stderr: String,
}

impl LdapOutcome {
    /// The server's diagnostic message ("additional info"), from whichever stream the
    /// tool printed it on; empty if none.
    pub fn diagnostic(&self) -> String {
        self.stderr
            .lines()
            .chain(self.stdout.lines())
            .find_map(|l| {
                let l = l.trim();
                l.strip_prefix("additional info:")
                    .or_else(|| l.strip_prefix("Additional info:"))
            })
            .unwrap_or_default()
            .trim()
            .to_string()
    }

    /// Success, or an error naming `what` with the tool's diagnostics.
    fn ok(self, what: &str) -> anyhow::Result<LdapOutcome> {
        anyhow::ensure!(
            self.code == 0,
            "{what} failed with LDAP result {}: {}",
            self.code,
            self.stderr.trim()
        );
        Ok(self)
    }
}

/// How to reach a directory with the OpenLDAP tools (see [`ldap_tool`]).
pub struct Conn<'a> {
    /// `ldap://` or `ldaps://` URL.
    pub url: &'a str,
    /// The only certificate trusted (`LDAPTLS_CACERT`, `LDAPTLS_REQCERT=demand`).
    pub ca_file: &'a Path,
    /// Send StartTLS (`-ZZ`) first; for `ldap://` URLs.
    pub starttls: bool,
    /// Simple bind DN (or UPN) and password; anonymous when `None`.
    pub bind: Option<(&'a str, &'a str)>,
}

/// Runs `tool` (ldapsearch, ldapmodify, ldappasswd, ...) against `conn` with `args`
/// after the connection options, feeding `input` on stdin. Certificates are checked
/// against `conn.ca_file` only. Passwords go on the tool's command line but never into
/// messages. An LDAP error is an `Ok` outcome with a non-zero code.
pub fn ldap_tool(
    tool: &str,
    conn: &Conn<'_>,
    args: &[&str],
    input: Option<&str>,
) -> anyhow::Result<LdapOutcome> {
    let mut cmd = Command::new(tool);
    cmd.env("LDAPTLS_CACERT", conn.ca_file)
        .env("LDAPTLS_REQCERT", "demand")
        .env("LDAPNETWORK_TIMEOUT", "5")
        .env("LDAPTIMEOUT", "20")
        .args(["-x", "-H", conn.url]);
    if conn.starttls {
        cmd.arg("-ZZ");
    }
    if let Some((dn, password)) = conn.bind {
        cmd.args(["-D", dn, "-w", password]);
    }
    cmd.args(args)
        .stdin(if input.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().with_context(|| format!("running {tool}"))?;
    if let (Some(text), Some(mut stdin)) = (input, child.stdin.take()) {
        use std::io::Write as _;
        stdin
            .write_all(text.as_bytes())
            .with_context(|| format!("writing to {tool}"))?;
    }
    let out = child
        .wait_with_output()
        .with_context(|| format!("running {tool}"))?;
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let mut code = out.status.code().unwrap_or(-1);
    if code == 1 {
        // ldappasswd exits 1 and prints "Result: Constraint violation (19)" instead.
        code = result_code(&stdout)
            .or(result_code(&stderr))
            .unwrap_or(code);
    }
    Ok(LdapOutcome {
        code,
        stdout,
        stderr,
    })
}

/// N from a "Result: <text> (N)" line.
fn result_code(text: &str) -> Option<i32> {
    let line = text.lines().find(|l| l.starts_with("Result: "))?;
    let inner = line.rsplit_once('(')?.1.strip_suffix(')')?;
    inner.parse().ok()
}

/// Searches with `ldapsearch -LLL` and parses the entries.
pub(crate) fn search(
    conn: &Conn<'_>,
    base: &str,
    scope: &str,
    filter: &str,
    attrs: &[&str],
) -> anyhow::Result<Vec<Entry>> {
    let mut args = vec![
        "-LLL",
        "-o",
        "ldif-wrap=no",
        "-b",
        base,
        "-s",
        scope,
        filter,
    ];
    args.extend_from_slice(attrs);
    let out = ldap_tool("ldapsearch", conn, &args, None)?.ok("ldapsearch")?;
    Ok(parse_ldif(&out.stdout))
}

/// Runs `ldapmodify` (which also adds, with `changetype: add`) with `ldif`.
pub(crate) fn modify(conn: &Conn<'_>, ldif: &str, what: &str) -> anyhow::Result<()> {
    ldap_tool("ldapmodify", conn, &[], Some(ldif))?.ok(what)?;
    Ok(())
}

/// Whether a simple bind as `dn` with `password` succeeds (reads the root DSE).
pub(crate) fn bind_succeeds(url: &str, ca_file: &Path, dn: &str, password: &str) -> bool {
    let conn = Conn {
        url,
        ca_file,
        starttls: false,
        bind: Some((dn, password)),
    };
    ldap_tool(
        "ldapsearch",
        &conn,
        &["-LLL", "-b", "", "-s", "base", "(objectClass=*)", "1.1"],
        None,
    )
    .is_ok_and(|o| o.code == 0)
}

/// One entry of LDIF output; values base64-encoded in LDIF (`attr:: `) are decoded.
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    pub dn: String,
    pub attrs: Vec<(String, Vec<u8>)>,
}

impl Entry {
    /// The first value of `name` (case-insensitive) as text.
    pub fn first(&self, name: &str) -> Option<String> {
        self.bytes(name)
            .map(|v| String::from_utf8_lossy(v).into_owned())
    }

    /// The first value of `name` as bytes.
    pub fn bytes(&self, name: &str) -> Option<&[u8]> {
        self.attrs
            .iter()
            .find(|(a, _)| a.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_slice())
    }
}

/// Parses LDIF as printed by ldapsearch/ldbsearch: comments and referrals are skipped,
/// folded lines are joined.
pub(crate) fn parse_ldif(text: &str) -> Vec<Entry> {
    let mut lines: Vec<String> = Vec::new();
    for line in text.lines() {
        match (line.strip_prefix(' '), lines.last_mut()) {
            (Some(rest), Some(last)) => last.push_str(rest),
            _ => lines.push(line.to_string()),
        }
    }
    let mut entries = Vec::new();
    let mut current: Option<Entry> = None;
    for line in lines {
        if line.is_empty() {
            entries.extend(current.take());
            continue;
        }
        if line.starts_with('#') {
            continue;
        }
        let Some((name, rest)) = line.split_once(':') else {
            continue;
        };
        let value = if let Some(b64) = rest.strip_prefix(':') {
            base64::engine::general_purpose::STANDARD
                .decode(b64.trim())
                .unwrap_or_default()
        } else {
            rest.trim_start().as_bytes().to_vec()
        };
        if name.eq_ignore_ascii_case("dn") {
            entries.extend(current.take());
            current = Some(Entry {
                dn: String::from_utf8_lossy(&value).into_owned(),
                attrs: Vec::new(),
            });
        } else if let Some(entry) = current.as_mut() {
            entry.attrs.push((name.to_string(), value));
        }
    }
    entries.extend(current);
    entries
}

/// One `attr: value` LDIF line, base64-encoded when LDIF requires it.
pub(crate) fn ldif_line(attr: &str, value: &str) -> String {
    let safe = !value.is_empty()
        && value.bytes().all(|b| (0x20..0x7f).contains(&b))
        && !value.starts_with([' ', ':', '<'])
        && !value.ends_with(' ');
    if safe || value.is_empty() {
        format!("{attr}: {value}\n")
    } else {
        let b64 = base64::engine::general_purpose::STANDARD.encode(value);
        format!("{attr}:: {b64}\n")
    }
}

/// Escapes a value for an RDN (RFC 4514).
pub(crate) fn escape_rdn(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let last = value.chars().count().saturating_sub(1);
    for (i, c) in value.chars().enumerate() {
        let edge = (i == 0 && (c == ' ' || c == '#')) || (i == last && c == ' ');
        if edge || matches!(c, ',' | '+' | '"' | '\\' | '<' | '>' | ';' | '=') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Escapes a value for a search filter (RFC 4515).
pub(crate) fn escape_filter(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '*' => out.push_str("\\2a"),
            '(' => out.push_str("\\28"),
            ')' => out.push_str("\\29"),
            '\\' => out.push_str("\\5c"),
            '\0' => out.push_str("\\00"),
            _ => out.push(c),
        }
    }
    out
}

/// A random alphanumeric string.
pub(crate) fn random_string(len: usize) -> String {
    rand::thread_rng()
        .sample_iter(&rand::distributions::Alphanumeric)
        .take(len)
        .map(char::from)
        .collect()
}

/// A fresh data folder under the system temp folder, removed when the process ends.
pub(crate) fn temp_folder(kind: &str) -> anyhow::Result<PathBuf> {
    let dir = std::env::temp_dir().join(format!(
        "sspr-{kind}-{}-{}",
        std::process::id(),
        random_string(8)
    ));
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    process::remove_at_exit(&dir)?;
    Ok(dir)
}

/// Makes a self-signed certificate (its own CA) for `ip` with the `openssl` CLI; returns
/// (certificate, key) paths in `dir`.
pub(crate) fn self_signed_cert(
    dir: &Path,
    ip: &str,
    dns: &[&str],
) -> anyhow::Result<(PathBuf, PathBuf)> {
    let cert = dir.join("cert.pem");
    let key = dir.join("key.pem");
    let mut san = format!("subjectAltName=IP:{ip}");
    for name in dns {
        san.push_str(&format!(",DNS:{name}"));
    }
    let out = Command::new("openssl")
        .args(["req", "-x509", "-newkey", "ec", "-pkeyopt"])
        .args(["ec_paramgen_curve:prime256v1", "-nodes", "-days", "3"])
        .args(["-subj", &format!("/CN={ip}"), "-addext", &san])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .context("running openssl")?;
    anyhow::ensure!(
        out.status.success(),
        "openssl req failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Samba refuses a key file others can read.
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600))
        .context("restricting the key file")?;
    Ok((cert, key))
}

/// Whether something accepts TCP connections on `ip:port`.
pub(crate) fn port_in_use(ip: &str, port: u16) -> bool {
    let Ok(ip) = ip.parse::<IpAddr>() else {
        return true;
    };
    TcpStream::connect_timeout(&SocketAddr::new(ip, port), Duration::from_millis(200)).is_ok()
}

/// The binary GUID AD returns in `objectGUID`, in its usual text form (the first three
/// groups are little-endian).
pub(crate) fn guid_text(b: &[u8]) -> anyhow::Result<String> {
    anyhow::ensure!(b.len() == 16, "objectGUID has {} bytes, not 16", b.len());
    Ok(format!(
        "{:02x}{:02x}{:02x}{:02x}-{:02x}{:02x}-{:02x}{:02x}-{:02x}{:02x}-{:02x}{:02x}{:02x}{:02x}{:02x}{:02x}",
        b[3], b[2], b[1], b[0], b[5], b[4], b[7], b[6], b[8], b[9], b[10], b[11], b[12], b[13],
        b[14], b[15]
    ))
}

/// A binary `objectSid` as text (`S-1-5-21-...`).
pub(crate) fn sid_text(b: &[u8]) -> anyhow::Result<String> {
    anyhow::ensure!(b.len() >= 8, "objectSid is too short");
    let count = usize::from(b[1]);
    anyhow::ensure!(b.len() == 8 + 4 * count, "objectSid has a bad length");
    let authority = b[2..8]
        .iter()
        .fold(0u64, |acc, byte| (acc << 8) | u64::from(*byte));
    let mut text = format!("S-{}-{authority}", b[0]);
    for chunk in b[8..].chunks_exact(4) {
        let sub = u32::from_le_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]);
        text.push_str(&format!("-{sub}"));
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_folded_and_base64_ldif() {
        let text = "# comment\ndn: cn=a,dc=x\ncn: a\ndescription: long\n  line\nmail:: YUBiLmM=\n\n# refldaps://x\ndn: cn=b,dc=x\n";
        let entries = parse_ldif(text);
        assert_eq!(entries.len(), 2);
        assert_eq!(
            entries[0].first("description").as_deref(),
            Some("long line")
        );
        assert_eq!(entries[0].first("MAIL").as_deref(), Some("a@b.c"));
        assert_eq!(entries[1].dn, "cn=b,dc=x");
    }

    #[test]
    fn formats_guids_and_sids() {
        let guid = base64::engine::general_purpose::STANDARD
            .decode("PKgSL3qcikqBatcrdO6s4Q==")
            .unwrap();
        assert_eq!(
            guid_text(&guid).unwrap(),
            "2f12a83c-9c7a-4a8a-816a-d72b74eeace1"
        );
        let sid = [1u8, 2, 0, 0, 0, 0, 0, 5, 32, 0, 0, 0, 32, 2, 0, 0];
        assert_eq!(sid_text(&sid).unwrap(), "S-1-5-32-544");
    }

    #[test]
    fn escapes() {
        assert_eq!(escape_rdn("Smith, John"), "Smith\\, John");
        assert_eq!(escape_filter("a*(b)"), "a\\2a\\28b\\29");
        assert_eq!(ldif_line("cn", "José"), "cn:: Sm9zw6k=\n");
        assert_eq!(ldif_line("cn", "Jose"), "cn: Jose\n");
    }
}
