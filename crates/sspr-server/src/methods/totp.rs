//! Authenticator codes (RFC 6238): 30-second steps, 6 digits, SHA-1, one step either side.
//! The step that matched is returned so the caller can refuse it a second time.

use totp_rs::{Algorithm, Secret, TOTP};

use crate::secret::constant_time_eq;

pub const STEP_SECS: u64 = 30;
pub const DIGITS: usize = 6;

fn totp(secret_base32: &str) -> Option<TOTP> {
    let bytes = Secret::Encoded(secret_base32.to_string()).to_bytes().ok()?;
    TOTP::new(Algorithm::SHA1, DIGITS, 1, STEP_SECS, bytes).ok()
}

/// The time step whose code equals `code`, trying now and one step either side.
pub fn matching_step(secret_base32: &str, code: &str, now: u64) -> Option<u64> {
    let totp = totp(secret_base32)?;
    let code = code.trim();
    if code.len() != DIGITS || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let step = now / STEP_SECS;
    let mut found = None;
    // Check all three without stopping early, so timing doesn't tell which matched.
    for s in [step.saturating_sub(1), step, step + 1] {
        let expected = totp.generate(s * STEP_SECS);
        if constant_time_eq(expected.as_bytes(), code.as_bytes()) && found.is_none() {
            found = Some(s);
        }
    }
    found
}

/// The current code (for the demo's page and the tests' authenticator).
pub fn current_code(secret_base32: &str, now: u64) -> Option<String> {
    Some(totp(secret_base32)?.generate(now))
}

/// A new random secret, base32 (160 bits, as authenticator apps expect).
pub fn new_secret() -> String {
    use rand::RngCore;
    let mut bytes = [0u8; 20];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    Secret::Raw(bytes.to_vec()).to_encoded().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    // RFC 6238's SHA-1 test secret, "12345678901234567890".
    const SECRET: &str = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";

    #[test]
    fn rfc_6238_vectors() {
        // At T=59 the 8-digit code is 94287082; 6 digits are its last six.
        assert_eq!(matching_step(SECRET, "287082", 59), Some(1));
        assert_eq!(current_code(SECRET, 1111111109).as_deref(), Some("081804"));
    }

    #[test]
    fn one_step_either_side_and_no_further() {
        let now = 1_700_000_000;
        let prev = current_code(SECRET, now - 30).unwrap_or_default();
        let next = current_code(SECRET, now + 30).unwrap_or_default();
        let far = current_code(SECRET, now - 90).unwrap_or_default();
        assert_eq!(matching_step(SECRET, &prev, now), Some(now / 30 - 1));
        assert_eq!(matching_step(SECRET, &next, now), Some(now / 30 + 1));
        assert_eq!(matching_step(SECRET, &far, now), None);
        assert_eq!(matching_step(SECRET, "12345", now), None);
        assert_eq!(matching_step(SECRET, "abcdef", now), None);
    }

    #[test]
    fn new_secrets_work() {
        let s = new_secret();
        let c = current_code(&s, 1000).unwrap_or_default();
        assert_eq!(matching_step(&s, &c, 1000), Some(1000 / 30));
    }
}
