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

/// Enrolled kiosks in memory, so a signed request costs no store read. A revocation
/// reaches it at once (the store signals it, from this process or the `kiosk revoke`
/// command: see `Store::kiosks_changed`); whatever else changed a row is seen within
/// `MAX_AGE_SECS`.
#[derive(Default)]
pub struct KioskCache {
    state: std::sync::Mutex<CacheState>,
    /// The version each kiosk last said it runs, as this process wrote it.
    versions: std::sync::Mutex<std::collections::HashMap<String, String>>,
}

#[derive(Default)]
struct CacheState {
    version: Option<crate::store::KiosksVersion>,
    kiosks: std::collections::HashMap<String, CachedKiosk>,
}

/// A kiosk row and its key, parsed once.
#[derive(Clone)]
pub struct CachedKiosk {
    pub row: std::sync::Arc<KioskRow>,
    pub key: Option<KioskKey>,
    loaded_at: i64,
}

/// The longest a cached kiosk is used without reading it again.
pub const MAX_AGE_SECS: i64 = 5;

impl KioskCache {
    pub async fn get(&self, store: &Store, id: &str, now: i64) -> StoreResult<Option<CachedKiosk>> {
        let version = store.kiosks_changed();
        if let Ok(mut state) = self.state.lock() {
            if version.is_none() || state.version != version {
                state.kiosks.clear();
                state.version = version;
            }
            if let Some(k) = state.kiosks.get(id) {
                if (now - k.loaded_at).abs() < MAX_AGE_SECS {
                    return Ok(Some(k.clone()));
                }
            }
        }
        let Some(row) = store.kiosk(id).await? else {
            return Ok(None);
        };
        let key = row.public_key.as_deref().and_then(KioskKey::from_bytes);
        let kiosk = CachedKiosk {
            row: std::sync::Arc::new(row),
            key,
            loaded_at: now,
        };
        // Kept only if nothing changed while it was read (else the next request reads).
        if let Ok(mut state) = self.state.lock() {
            if version.is_some() && state.version == version {
                state.kiosks.insert(id.to_string(), kiosk.clone());
            }
        }
        Ok(Some(kiosk))
    }
}

/// The version in a kiosk's User-Agent (`sspr-kiosk/0.1.0`), if it is one.
pub fn version_of(user_agent: &str) -> Option<&str> {
    let v = user_agent.strip_prefix("sspr-kiosk/")?;
    (!v.is_empty()
        && v.len() <= 32
        && v.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '+')))
    .then_some(v)
}

impl KioskCache {
    /// Records the version a kiosk said it runs, when it differs from what this process
    /// wrote last (and from the row's): a write when a kiosk is updated, not a request.
    pub async fn saw_version(&self, store: &Store, kiosk: &KioskRow, version: &str) {
        if kiosk.version.as_deref() == Some(version) {
            return;
        }
        if let Ok(mut seen) = self.versions.lock() {
            if seen.get(&kiosk.id).map(String::as_str) == Some(version) {
                return;
            }
            seen.insert(kiosk.id.clone(), version.to_string());
        }
        if let Err(e) = store.set_kiosk_version(&kiosk.id, version).await {
            tracing::warn!(error = %e, "recording a kiosk's version");
        }
    }
}

/// A kiosk's Ed25519 public key, to check its request signatures with. Checked by
/// ed25519-dalek (strict: no small-order keys or non-canonical signatures), which on x86-64
/// uses the CPU's vector units and takes about half the time of httpsig's own
/// ed25519-compact; every kiosk request pays for one check.
#[derive(Clone)]
pub struct KioskKey(ed25519_dalek::VerifyingKey);

impl KioskKey {
    pub fn from_bytes(bytes: &[u8]) -> Option<KioskKey> {
        let bytes: &[u8; 32] = bytes.try_into().ok()?;
        ed25519_dalek::VerifyingKey::from_bytes(bytes)
            .ok()
            .filter(|k| !k.is_weak())
            .map(KioskKey)
    }

    /// Whether `signature` is this key's over `data` (strict: no malleable signatures).
    pub fn verify(&self, data: &[u8], signature: &[u8]) -> bool {
        ed25519_dalek::Signature::from_slice(signature)
            .is_ok_and(|s| self.0.verify_strict(data, &s).is_ok())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use ed25519_dalek::Signer as _;

    #[test]
    fn a_kiosk_key_checks_its_signatures_and_nothing_else() {
        let signing = ed25519_dalek::SigningKey::from_bytes(&[7u8; 32]);
        let public = signing.verifying_key().to_bytes();
        let ours = KioskKey::from_bytes(&public).unwrap();

        let data = b"\"@method\": POST\n\"@signature-params\": (\"@method\")";
        let signature = signing.sign(data).to_bytes();
        assert!(ours.verify(data, &signature));
        assert!(!ours.verify(b"another request", &signature));
        let mut flipped = signature;
        flipped[10] ^= 1;
        assert!(!ours.verify(data, &flipped));
        assert!(!ours.verify(data, &signature[..63]));

        // Not a key: wrong length, or a small-order point.
        assert!(KioskKey::from_bytes(&public[..31]).is_none());
        let mut small_order = [0u8; 32];
        small_order[0] = 1;
        assert!(KioskKey::from_bytes(&small_order).is_none());
    }
}
