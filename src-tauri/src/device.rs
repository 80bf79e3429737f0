//! The kiosk's identity: an Ed25519 device key and the kiosk id the server gave it, kept
//! in the OS keyring (the Secret Service on Linux), never in a file and never in the
//! webview. One entry pair per server, so a kiosk moved to another server enrolls anew.

use keyring::Entry;
use sspr_client::DeviceKey;

pub struct KeyStore {
    service: String,
    server: String,
}

impl KeyStore {
    pub fn new(service: &str, server: &str) -> KeyStore {
        KeyStore {
            service: service.to_string(),
            server: server.to_string(),
        }
    }

    fn entry(&self, what: &str) -> Result<Entry, String> {
        Entry::new(&self.service, &format!("{}#{what}", self.server))
            .map_err(|e| format!("keyring: {e}"))
    }

    /// The stored key and kiosk id, if this kiosk was enrolled with this server.
    pub fn load(&self) -> Result<Option<(DeviceKey, String)>, String> {
        let seed = match self.entry("device-key")?.get_secret() {
            Ok(s) => s,
            Err(keyring::Error::NoEntry) => return Ok(None),
            Err(e) => return Err(format!("keyring: {e}")),
        };
        let id = match self.entry("kiosk-id")?.get_password() {
            Ok(id) => id,
            Err(keyring::Error::NoEntry) => return Ok(None),
            Err(e) => return Err(format!("keyring: {e}")),
        };
        let seed: [u8; 32] = seed
            .as_slice()
            .try_into()
            .map_err(|_| "keyring: the stored device key is damaged; enroll again".to_string())?;
        Ok(Some((DeviceKey::from_seed(seed), id)))
    }

    pub fn save(&self, key: &DeviceKey, kiosk_id: &str) -> Result<(), String> {
        self.entry("device-key")?
            .set_secret(key.seed())
            .map_err(|e| format!("keyring: {e}"))?;
        self.entry("kiosk-id")?
            .set_password(kiosk_id)
            .map_err(|e| format!("keyring: {e}"))
    }
}
