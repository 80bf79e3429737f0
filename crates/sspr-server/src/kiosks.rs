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
    pub key: Option<httpsig_hyper::prelude::PublicKey>,
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
        let key = row.public_key.as_deref().and_then(|bytes| {
            use httpsig_hyper::prelude::{AlgorithmName, PublicKey};
            PublicKey::from_bytes(&AlgorithmName::Ed25519, bytes).ok()
        });
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
