//! Decoys: what an unknown, disabled, out-of-scope or unregistered login is shown, derived
//! from an HMAC of the login so the same login always gets the same methods and nothing
//! tells it apart from a real account.

use sspr_proto::MethodKind;

use crate::secret::ServerKey;
use crate::store::FlowMethod;

const LETTERS: &[u8] = b"abcdefghijklmnoprstw";
const TLDS: &[&str] = &["com", "org", "net", "de", "com", "org"];

/// Case and surrounding space don't make another person.
pub fn normalize_login(login: &str) -> String {
    login.trim().to_lowercase()
}

/// The throttle key of a login that has no usable account.
pub fn login_key(key: &ServerKey, login: &str) -> String {
    format!(
        "login:{}",
        &key.mac_hex("login-key", &[normalize_login(login).as_bytes()])[..32]
    )
}

/// The methods a decoy shows: every enabled method, with a made-up masked address.
pub fn methods(key: &ServerKey, login: &str, enabled: &[MethodKind]) -> Vec<FlowMethod> {
    let mac = key.mac("decoy", &[normalize_login(login).as_bytes()]);
    let letter = |i: usize| LETTERS[mac[i] as usize % LETTERS.len()] as char;
    enabled
        .iter()
        .enumerate()
        .map(|(i, kind)| {
            let masked = match kind {
                MethodKind::Email => format!(
                    "{}•••@{}•••.{}",
                    login
                        .trim()
                        .chars()
                        .next()
                        .map(|c| c.to_ascii_lowercase())
                        .unwrap_or_else(|| letter(0)),
                    letter(1),
                    TLDS[mac[2] as usize % TLDS.len()]
                ),
                _ => super::method_label(*kind).to_string(),
            };
            FlowMethod {
                id: super::method_id(*kind, i),
                kind: *kind,
                target: String::new(),
                masked,
            }
        })
        .collect()
}

/// A secret a decoy's authenticator codes are checked against, so a decoy verify costs what
/// a real one does. Nobody holds it.
pub fn totp_secret(key: &ServerKey, login: &str) -> String {
    let mac = key.mac("decoy-totp", &[normalize_login(login).as_bytes()]);
    totp_rs::Secret::Raw(mac[..20].to_vec())
        .to_encoded()
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_login_gets_the_same_decoy() {
        let key = ServerKey::from_bytes([3; 32]);
        let kinds = [MethodKind::Email, MethodKind::Totp];
        let a: Vec<String> = methods(&key, "Nobody", &kinds)
            .into_iter()
            .map(|m| m.masked)
            .collect();
        let b: Vec<String> = methods(&key, " nobody ", &kinds)
            .into_iter()
            .map(|m| m.masked)
            .collect();
        assert_eq!(a, b);
        assert!(a[0].contains("•••@"));
        assert_eq!(login_key(&key, "Nobody"), login_key(&key, "nobody"));
    }
}
