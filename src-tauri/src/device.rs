//! The kiosk's identity: an Ed25519 device key and the kiosk id the server gave it, never
//! in the webview. One identity per server, so a kiosk moved to another server enrolls
//! anew. Two places to keep it:
//!
//! - the OS keyring (the Secret Service on Linux): a dedicated kiosk's session unlocks
//!   one at start (`packaging/sspr-kiosk-session`);
//! - a file readable only by the kiosk's own system user (mode 0600 in a 0700 folder):
//!   the login screen, where nobody has signed in and no keyring runs. The file is refused
//!   if anyone else could read it or if it isn't the user's own.

use std::io::Write as _;
use std::os::unix::fs::{
    DirBuilderExt as _, MetadataExt as _, OpenOptionsExt as _, PermissionsExt as _,
};
use std::path::{Path, PathBuf};

use keyring::Entry;
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};
use sspr_client::DeviceKey;

use crate::config::{KeyStoreKind, KioskConfig};

pub enum KeyStore {
    Keyring { service: String, server: String },
    File { path: PathBuf, server: String },
}

/// What the key file holds.
#[derive(Serialize, Deserialize)]
struct KeyFile {
    server: String,
    kiosk_id: String,
    /// The Ed25519 seed, hex.
    device_key: String,
}

impl KeyStore {
    pub fn new(service: &str, server: &str) -> KeyStore {
        KeyStore::Keyring {
            service: service.to_string(),
            server: server.to_string(),
        }
    }

    /// The store the configuration names.
    pub fn for_config(config: &KioskConfig) -> KeyStore {
        match config.key_store_kind() {
            KeyStoreKind::Keyring => KeyStore::new(&config.keyring_service, &config.server_url),
            KeyStoreKind::File => KeyStore::in_folder(&config.state_dir, &config.server_url),
        }
    }

    /// A key file for `server` in `dir`: `device-<hash of the server URL>.json`.
    pub fn in_folder(dir: &Path, server: &str) -> KeyStore {
        let digest = Sha256::digest(server.as_bytes());
        let name = format!("device-{}.json", hex::encode(&digest[..8]));
        KeyStore::File {
            path: dir.join(name),
            server: server.to_string(),
        }
    }

    /// Where the key is, for messages to IT staff.
    pub fn describe(&self) -> String {
        match self {
            KeyStore::Keyring { service, .. } => format!("the system keyring ({service})"),
            KeyStore::File { path, .. } => path.display().to_string(),
        }
    }

    /// The stored key and kiosk id, if this kiosk was enrolled with this server.
    pub fn load(&self) -> Result<Option<(DeviceKey, String)>, String> {
        match self {
            KeyStore::Keyring { service, server } => keyring_load(service, server),
            KeyStore::File { path, server } => file_load(path, server),
        }
    }

    pub fn save(&self, key: &DeviceKey, kiosk_id: &str) -> Result<(), String> {
        match self {
            KeyStore::Keyring { service, server } => keyring_save(service, server, key, kiosk_id),
            KeyStore::File { path, server } => file_save(path, server, key, kiosk_id),
        }
    }
}

fn entry(service: &str, server: &str, what: &str) -> Result<Entry, String> {
    Entry::new(service, &format!("{server}#{what}")).map_err(|e| format!("keyring: {e}"))
}

fn keyring_load(service: &str, server: &str) -> Result<Option<(DeviceKey, String)>, String> {
    let seed = match entry(service, server, "device-key")?.get_secret() {
        Ok(s) => s,
        Err(keyring::Error::NoEntry) => return Ok(None),
        Err(e) => return Err(format!("keyring: {e}")),
    };
    let id = match entry(service, server, "kiosk-id")?.get_password() {
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

fn keyring_save(
    service: &str,
    server: &str,
    key: &DeviceKey,
    kiosk_id: &str,
) -> Result<(), String> {
    entry(service, server, "device-key")?
        .set_secret(key.seed())
        .map_err(|e| format!("keyring: {e}"))?;
    entry(service, server, "kiosk-id")?
        .set_password(kiosk_id)
        .map_err(|e| format!("keyring: {e}"))
}

/// The key file may be read only by its owner, who must be this process's user.
fn check_private(path: &Path, meta: &std::fs::Metadata) -> Result<(), String> {
    let me = current_uid();
    if meta.uid() != me {
        return Err(format!(
            "{} belongs to user {}, not to this kiosk's user ({me}); enroll again",
            path.display(),
            meta.uid()
        ));
    }
    if meta.permissions().mode() & 0o077 != 0 {
        return Err(format!(
            "{} can be read by others (mode {:o}): the key may be known; enroll again",
            path.display(),
            meta.permissions().mode() & 0o777
        ));
    }
    Ok(())
}

fn current_uid() -> u32 {
    // The owner of a file this process just made is its effective uid; /proc says it
    // without a libc call.
    std::fs::metadata("/proc/self")
        .map(|m| m.uid())
        .unwrap_or(u32::MAX)
}

fn file_load(path: &Path, server: &str) -> Result<Option<(DeviceKey, String)>, String> {
    let meta = match std::fs::symlink_metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("{}: {e}", path.display())),
    };
    if !meta.is_file() {
        return Err(format!("{} is not a plain file", path.display()));
    }
    check_private(path, &meta)?;
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let damaged = || {
        format!(
            "{}: the stored device key is damaged; enroll again",
            path.display()
        )
    };
    let file: KeyFile = serde_json::from_str(&text).map_err(|_| damaged())?;
    if file.server != server {
        return Ok(None);
    }
    let seed: [u8; 32] = hex::decode(&file.device_key)
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or_else(damaged)?;
    Ok(Some((DeviceKey::from_seed(seed), file.kiosk_id)))
}

/// Writes the key to a new 0600 file beside the old one and renames it into place, so a
/// crash leaves the old key or the new one, never half of one.
fn file_save(path: &Path, server: &str, key: &DeviceKey, kiosk_id: &str) -> Result<(), String> {
    let dir = path
        .parent()
        .ok_or_else(|| format!("{}: no folder", path.display()))?;
    if !dir.exists() {
        std::fs::DirBuilder::new()
            .mode(0o700)
            .recursive(true)
            .create(dir)
            .map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    let text = serde_json::to_string(&KeyFile {
        server: server.to_string(),
        kiosk_id: kiosk_id.to_string(),
        device_key: hex::encode(key.seed()),
    })
    .map_err(|e| e.to_string())?;
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    let written = (|| {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&tmp)?;
        f.write_all(text.as_bytes())?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)?;
        std::fs::File::open(dir)?.sync_all()
    })();
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(format!("{}: {e}", path.display()));
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn folder(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("sspr-kiosk-keys-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }

    #[test]
    fn a_key_file_is_private_and_per_server() {
        let dir = folder("private");
        let store = KeyStore::in_folder(&dir, "https://sspr.example.org");
        assert!(store.load().unwrap().is_none());
        let key = DeviceKey::generate();
        store.save(&key, "K1").unwrap();
        let KeyStore::File { path, .. } = &store else {
            panic!("a file store")
        };
        let meta = std::fs::metadata(path).unwrap();
        assert_eq!(meta.permissions().mode() & 0o777, 0o600);
        assert_eq!(
            std::fs::metadata(&dir).unwrap().permissions().mode() & 0o777,
            0o700
        );
        let (loaded, id) = store.load().unwrap().unwrap();
        assert_eq!(loaded.seed(), key.seed());
        assert_eq!(id, "K1");
        // Another server: no key there yet (a kiosk moved to another server enrolls anew).
        assert!(KeyStore::in_folder(&dir, "https://other.example.org")
            .load()
            .unwrap()
            .is_none());
        // Saved again (re-enrolled): replaced whole.
        let key2 = DeviceKey::generate();
        store.save(&key2, "K2").unwrap();
        assert_eq!(store.load().unwrap().unwrap().1, "K2");
        // Readable by the group: refused, the key may be known.
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o640)).unwrap();
        let err = store.load().err().unwrap();
        assert!(err.contains("can be read by others"), "{err}");
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).unwrap();
        // Damaged: said so, not taken for "not enrolled".
        std::fs::write(path, "{\"server\":").unwrap();
        assert!(store.load().err().unwrap().contains("damaged"));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
