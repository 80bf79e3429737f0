//! Kiosk enrollment: IT makes a one-time code for a named kiosk; the kiosk spends it once to
//! register its public key. Codes are stored only as keyed hashes.

use crate::secret::{enrollment_code, normalize_base32, random_id, ServerKey};
use crate::store::{KioskRow, Store, StoreResult};

fn code_hash(key: &ServerKey, code: &str) -> String {
    key.mac_hex("enrollment-code", &[normalize_base32(code).as_bytes()])
}

/// Makes a pending kiosk and returns (kiosk id, the one-time code to show IT).
pub async fn issue_code(
    store: &Store,
    key: &ServerKey,
    name: &str,
    location: &str,
    valid_hours: u32,
    now: i64,
) -> StoreResult<(String, String)> {
    let id = random_id()[..16].to_string();
    let code = enrollment_code();
    let expires = now + i64::from(valid_hours) * 3600;
    store
        .create_pending_kiosk(&id, name, location, &code_hash(key, &code), expires, now)
        .await?;
    Ok((id, code))
}

/// Spends a code: Some(kiosk) when it was valid.
pub async fn enroll(
    store: &Store,
    key: &ServerKey,
    code: &str,
    public_key: &[u8],
    now: i64,
) -> StoreResult<Option<KioskRow>> {
    if code.len() > 64 {
        return Ok(None);
    }
    store
        .enroll_kiosk(&code_hash(key, code), public_key, now)
        .await
}
