//! The directory's TLS certificate, as the console shows it: a connection of its own
//! (LDAPS, or plain LDAP then the StartTLS extended operation), the handshake, and the
//! peer's certificate read with OpenSSL: its subject, when it expires, and whether it
//! is trusted by the CA the configuration names (or the system's).

use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::path::PathBuf;
use std::time::Duration;

use openssl::ssl::{SslConnector, SslMethod, SslVerifyMode};

/// What the console shows of a directory's certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertInfo {
    pub subject: String,
    /// Unix seconds.
    pub not_after: i64,
    /// Trusted by the configured CA (or the system's) for this host name.
    pub trusted: bool,
}

/// Where and how to look.
#[derive(Debug, Clone)]
pub struct Probe {
    pub url: String,
    pub starttls: bool,
    pub ca_file: Option<PathBuf>,
    pub timeout: Duration,
}

/// The StartTLS extended request (RFC 4511 §4.14.1), message id 1.
const STARTTLS: &[u8] = b"\x30\x1d\x02\x01\x01\x77\x18\x80\x161.3.6.1.4.1.1466.20037";

impl Probe {
    /// None for plain LDAP without StartTLS (nothing to show).
    pub async fn certificate(&self) -> Option<Result<CertInfo, String>> {
        let tls = self.url.starts_with("ldaps://") || self.starttls;
        if !tls {
            return None;
        }
        let probe = self.clone();
        Some(
            tokio::task::spawn_blocking(move || probe.blocking())
                .await
                .unwrap_or_else(|e| Err(e.to_string())),
        )
    }

    fn blocking(&self) -> Result<CertInfo, String> {
        let ldaps = self.url.starts_with("ldaps://");
        let rest = self
            .url
            .trim_start_matches("ldaps://")
            .trim_start_matches("ldap://");
        let authority = rest.split('/').next().unwrap_or(rest);
        let (host, port) = match authority.rsplit_once(':') {
            Some((h, p)) if !h.ends_with(']') || authority.starts_with('[') => (
                h.trim_matches(['[', ']']).to_string(),
                p.parse().map_err(|_| "a bad port")?,
            ),
            _ => (authority.to_string(), if ldaps { 636 } else { 389 }),
        };
        let addr = (host.as_str(), port)
            .to_socket_addrs()
            .map_err(|e| format!("{host}: {e}"))?
            .next()
            .ok_or_else(|| format!("{host}: no address"))?;
        let mut tcp =
            TcpStream::connect_timeout(&addr, self.timeout).map_err(|e| format!("{addr}: {e}"))?;
        tcp.set_read_timeout(Some(self.timeout))
            .map_err(|e| e.to_string())?;
        tcp.set_write_timeout(Some(self.timeout))
            .map_err(|e| e.to_string())?;
        if !ldaps {
            tcp.write_all(STARTTLS).map_err(|e| e.to_string())?;
            let mut answer = [0u8; 512];
            let n = tcp.read(&mut answer).map_err(|e| e.to_string())?;
            // An ExtendedResponse ([APPLICATION 24]) whose resultCode is success.
            let ok = answer[..n]
                .windows(3)
                .position(|w| w == [0x0a, 0x01, 0x00])
                .is_some()
                && answer[..n].contains(&0x78);
            if !ok {
                return Err("the directory refused StartTLS".into());
            }
        }
        let mut builder =
            SslConnector::builder(SslMethod::tls_client()).map_err(|e| e.to_string())?;
        if let Some(ca) = &self.ca_file {
            builder
                .set_ca_file(ca)
                .map_err(|e| format!("ca_file {}: {e}", ca.display()))?;
        }
        // Read the certificate whatever it is; whether it is trusted is asked below.
        builder.set_verify(SslVerifyMode::NONE);
        let connector = builder.build();
        let mut config = connector.configure().map_err(|e| e.to_string())?;
        config.set_verify_hostname(false);
        let ssl = config
            .connect(&host, tcp)
            .map_err(|e| format!("TLS handshake: {e}"))?;
        let cert = ssl
            .ssl()
            .peer_certificate()
            .ok_or("the directory sent no certificate")?;
        let epoch = openssl::asn1::Asn1Time::from_unix(0).map_err(|e| e.to_string())?;
        let diff = epoch.diff(cert.not_after()).map_err(|e| e.to_string())?;
        let not_after = i64::from(diff.days) * 86_400 + i64::from(diff.secs);
        let subject = cert
            .subject_name()
            .entries()
            .map(|e| {
                format!(
                    "{}={}",
                    e.object().nid().short_name().unwrap_or("?"),
                    e.data().to_string().unwrap_or_default()
                )
            })
            .collect::<Vec<_>>()
            .join(", ");
        let trusted = self.trusted(&cert, &host);
        Ok(CertInfo {
            subject,
            not_after,
            trusted,
        })
    }

    /// Whether `cert` chains to the configured CA (or the system's) and names `host`.
    fn trusted(&self, cert: &openssl::x509::X509, host: &str) -> bool {
        use openssl::x509::store::X509StoreBuilder;
        use openssl::x509::{X509StoreContext, X509VerifyResult};
        let Ok(mut store) = X509StoreBuilder::new() else {
            return false;
        };
        let loaded = match &self.ca_file {
            Some(ca) => std::fs::read(ca)
                .ok()
                .and_then(|pem| openssl::x509::X509::stack_from_pem(&pem).ok())
                .map(|certs| certs.into_iter().all(|c| store.add_cert(c).is_ok()))
                .unwrap_or(false),
            None => store.set_default_paths().is_ok(),
        };
        if !loaded {
            return false;
        }
        let host_ok = cert
            .subject_alt_names()
            .map(|names| {
                names.iter().any(|n| {
                    n.dnsname().is_some_and(|d| d.eq_ignore_ascii_case(host))
                        || n.ipaddress().is_some_and(|ip| {
                            host.parse::<std::net::IpAddr>().is_ok_and(|h| match h {
                                std::net::IpAddr::V4(v4) => ip == v4.octets(),
                                std::net::IpAddr::V6(v6) => ip == v6.octets(),
                            })
                        })
                })
            })
            .unwrap_or(false);
        let store = store.build();
        let Ok(chain) = openssl::stack::Stack::new() else {
            return false;
        };
        let Ok(mut ctx) = X509StoreContext::new() else {
            return false;
        };
        let verified = ctx
            .init(&store, cert, &chain, |c| {
                c.verify_cert()?;
                Ok(c.error())
            })
            .map(|r| r == X509VerifyResult::OK)
            .unwrap_or(false);
        verified && host_ok
    }
}
