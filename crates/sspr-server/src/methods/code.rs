//! One-time codes sent by email (and later SMS and voice): digits drawn from the service's
//! `Random`, stored only as a keyed hash bound to the flow and the method, so a code from
//! another flow never fits.

use crate::secret::{constant_time_eq, ServerKey};

pub fn hash(key: &ServerKey, flow_id: &str, method_id: &str, code: &str) -> String {
    key.mac_hex(
        "otp-code",
        &[flow_id.as_bytes(), method_id.as_bytes(), code.as_bytes()],
    )
}

pub fn matches(key: &ServerKey, flow_id: &str, method_id: &str, code: &str, stored: &str) -> bool {
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    let computed = hash(key, flow_id, method_id, &code);
    constant_time_eq(computed.as_bytes(), stored.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_code_fits_only_its_flow_and_method() {
        let key = ServerKey::from_bytes([1; 32]);
        let code = crate::random::Random::os().digits(6);
        let h = hash(&key, "flow1", "m1", &code);
        assert!(!h.contains(&code));
        assert!(matches(&key, "flow1", "m1", &code, &h));
        assert!(matches(&key, "flow1", "m1", &format!(" {} ", code), &h));
        assert!(!matches(&key, "flow2", "m1", &code, &h));
        assert!(!matches(&key, "flow1", "m2", &code, &h));
    }
}
