//! The server's secret key and the random values it makes. Randomness comes from the OS
//! CSPRNG; the key derives decoys and hashes codes (keyed, so a store dump reveals nothing).

use std::path::Path;

use hmac::{Hmac, Mac};
use rand::rngs::OsRng;
use rand::RngCore;
use secrecy::SecretString;
use sha2::Sha256;
use zeroize::Zeroizing;

type HmacSha256 = Hmac<Sha256>;

/// Crockford's base32: no I, L, O, U, so a code read aloud or off a screen is unambiguous.
const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

pub struct ServerKey(Zeroizing<[u8; 32]>);

impl ServerKey {
    /// Reads the key file, or makes one (mode 0600) when there is none.
    pub fn load_or_create(path: &Path) -> anyhow::Result<ServerKey> {
        if path.exists() {
            let bytes = Zeroizing::new(std::fs::read(path)?);
            anyhow::ensure!(
                bytes.len() == 32,
                "secret file {} must hold 32 bytes",
                path.display()
            );
            let mut key = Zeroizing::new([0u8; 32]);
            key.copy_from_slice(&bytes);
            return Ok(ServerKey(key));
        }
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        let mut key = Zeroizing::new([0u8; 32]);
        OsRng.fill_bytes(key.as_mut());
        write_private(path, key.as_ref())?;
        Ok(ServerKey(key))
    }

    pub fn from_bytes(bytes: [u8; 32]) -> ServerKey {
        ServerKey(Zeroizing::new(bytes))
    }

    /// HMAC-SHA256 of `parts` under a purpose label, so one key serves several uses.
    pub fn mac(&self, label: &str, parts: &[&[u8]]) -> [u8; 32] {
        let mut mac = <HmacSha256 as Mac>::new_from_slice(self.0.as_ref())
            .unwrap_or_else(|_| unreachable_key());
        mac.update(label.as_bytes());
        for part in parts {
            mac.update(&(part.len() as u64).to_be_bytes());
            mac.update(part);
        }
        mac.finalize().into_bytes().into()
    }

    pub fn mac_hex(&self, label: &str, parts: &[&[u8]]) -> String {
        hex::encode(self.mac(label, parts))
    }

    /// Seals a secret the store must be able to read back (an authenticator app's key):
    /// AES-256-GCM under a key derived for `purpose`, bound to its `owner` (a sealed value
    /// moved to another person's row doesn't open), as `v1:` and base64url of the nonce
    /// and the ciphertext. A copy of the store without this key holds no such secret.
    ///
    /// The nonce is synthetic, a keyed hash of purpose, owner and secret (as in SIV
    /// modes): the same secret of the same person seals to the same value, so the store's
    /// unique constraint still refuses it twice, and a nonce repeats only with the very
    /// same message, which reveals nothing but that equality.
    pub fn seal(&self, purpose: &str, owner: &str, plain: &str) -> String {
        use aes_gcm::aead::{Aead, Payload};
        use base64::Engine;
        let mut nonce = [0u8; 12];
        nonce.copy_from_slice(
            &self.mac(
                "store-seal-nonce",
                &[purpose.as_bytes(), owner.as_bytes(), plain.as_bytes()],
            )[..12],
        );
        let sealed = self
            .cipher(purpose)
            .encrypt(
                &aes_gcm::Nonce::from(nonce),
                Payload {
                    msg: plain.as_bytes(),
                    aad: owner.as_bytes(),
                },
            )
            // Encrypting a message this short can't fail.
            .unwrap_or_default();
        let mut out = nonce.to_vec();
        out.extend(sealed);
        format!(
            "{SEALED}{}",
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(out)
        )
    }

    /// What `seal` sealed for `purpose` and `owner`; None for anything else (another
    /// owner, another key, a changed byte, a value never sealed).
    pub fn open(&self, purpose: &str, owner: &str, sealed: &str) -> Option<SecretString> {
        use aes_gcm::aead::{Aead, Payload};
        use base64::Engine;
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(sealed.strip_prefix(SEALED)?)
            .ok()?;
        if bytes.len() < 12 {
            return None;
        }
        let (nonce, ciphertext) = bytes.split_at(12);
        let nonce = aes_gcm::Nonce::try_from(nonce).ok()?;
        let plain = self
            .cipher(purpose)
            .decrypt(
                &nonce,
                Payload {
                    msg: ciphertext,
                    aad: owner.as_bytes(),
                },
            )
            .ok()?;
        let plain = Zeroizing::new(plain);
        std::str::from_utf8(&plain).ok().map(SecretString::from)
    }

    fn cipher(&self, purpose: &str) -> aes_gcm::Aes256Gcm {
        use aes_gcm::KeyInit;
        let key = Zeroizing::new(self.mac("store-seal", &[purpose.as_bytes()]));
        aes_gcm::Aes256Gcm::new(&aes_gcm::Key::<aes_gcm::Aes256Gcm>::from(*key))
    }
}

/// How a sealed value starts (`ServerKey::seal`).
const SEALED: &str = "v1:";

/// Whether `value` is one `ServerKey::seal` made (whether or not this key opens it).
pub fn is_sealed(value: &str) -> bool {
    value.starts_with(SEALED)
}

// HMAC takes keys of any length, so `new_from_slice` can't fail.
fn unreachable_key() -> HmacSha256 {
    match <HmacSha256 as Mac>::new_from_slice(&[0u8; 32]) {
        Ok(m) => m,
        Err(_) => unreachable!("HMAC accepts any key length"),
    }
}

fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    create_private(path)?.write_all(bytes)
}

/// A new file only its owner may read or write (0600); fails if `path` exists. For the
/// key, the store and its backups.
pub fn create_private(path: &Path) -> std::io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)
}

/// A random 128-bit id, hex.
pub fn random_id() -> String {
    let mut b = [0u8; 16];
    OsRng.fill_bytes(&mut b);
    hex::encode(b)
}

/// A 128-bit id that sorts by creation time, hex: 48 bits of Unix milliseconds, then 80
/// random bits. For rows inserted on every request (flows, challenges): a random key lands
/// on a random page of its index, and under load each such page is one more 4 KiB written
/// to the WAL per request; ids that grow with time all land on the index's last page.
pub fn time_ordered_id() -> String {
    let millis = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or_default();
    let mut b = [0u8; 16];
    b[..6].copy_from_slice(&millis.to_be_bytes()[2..]);
    OsRng.fill_bytes(&mut b[6..]);
    hex::encode(b)
}

/// `n` random characters of Crockford base32.
pub fn random_base32(n: usize) -> String {
    // One read of the OS generator for all of them (a read each was a system call per
    // character); 32 divides 256, so the low five bits of a byte are uniform.
    let mut bytes = vec![0u8; n];
    OsRng.fill_bytes(&mut bytes);
    bytes
        .iter()
        .map(|b| ALPHABET[usize::from(b & 31)] as char)
        .collect()
}

/// A reference code for the helpdesk, e.g. "K7Q4-M2XD" (40 bits).
pub fn reference_code() -> String {
    let s = random_base32(8);
    format!("{}-{}", &s[..4], &s[4..])
}

/// A one-time enrollment code, e.g. "ABCD-EFGH-JKMN-PQRS" (80 bits).
pub fn enrollment_code() -> String {
    let s = random_base32(16);
    format!("{}-{}-{}-{}", &s[..4], &s[4..8], &s[8..12], &s[12..])
}

/// Normalises a code typed by a person: upper case, separators and spaces dropped, and the
/// letters people confuse with digits read as those digits.
pub fn normalize_base32(input: &str) -> String {
    input
        .chars()
        .filter(|c| !matches!(c, '-' | ' ' | '\t'))
        .map(|c| match c.to_ascii_uppercase() {
            'O' => '0',
            'I' | 'L' => '1',
            c => c,
        })
        .collect()
}

/// Compares two strings in time that depends only on their lengths.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_sealed_secret_opens_only_with_its_key_purpose_and_owner() {
        let key = super::ServerKey::from_bytes([1; 32]);
        let sealed = key.seal("totp", "user-1", "JBSWY3DPEHPK3PXP");
        assert!(super::is_sealed(&sealed));
        assert!(!sealed.contains("JBSWY3DPEHPK3PXP"));
        assert_eq!(
            key.open("totp", "user-1", &sealed)
                .as_ref()
                .map(secrecy::ExposeSecret::expose_secret),
            Some("JBSWY3DPEHPK3PXP")
        );
        // The same secret of the same person seals alike (the store's unique key holds);
        // another person's doesn't.
        assert_eq!(key.seal("totp", "user-1", "JBSWY3DPEHPK3PXP"), sealed);
        assert_ne!(key.seal("totp", "user-2", "JBSWY3DPEHPK3PXP"), sealed);
        assert!(key.open("totp", "user-2", &sealed).is_none());
        assert!(key.open("other", "user-1", &sealed).is_none());
        let other_key = super::ServerKey::from_bytes([2; 32]);
        assert!(other_key.open("totp", "user-1", &sealed).is_none());
        // One changed character, a value never sealed, or nothing at all: nothing opens.
        let mut tampered = sealed.clone().into_bytes();
        let last = tampered.len() - 2;
        tampered[last] = if tampered[last] == b'A' { b'B' } else { b'A' };
        let tampered = String::from_utf8(tampered).unwrap_or_default();
        assert!(key.open("totp", "user-1", &tampered).is_none());
        assert!(key.open("totp", "user-1", "JBSWY3DPEHPK3PXP").is_none());
        assert!(key.open("totp", "user-1", "v1:").is_none());
    }

    use super::*;

    #[test]
    fn codes_have_their_shape() {
        let c = crate::random::Random::os().digits(6);
        assert_eq!(c.len(), 6);
        assert!(c.chars().all(|c| c.is_ascii_digit()));
        let r = reference_code();
        assert_eq!(r.len(), 9);
        assert_eq!(&r[4..5], "-");
        // Every letter of the alphabet comes up (the low five bits of each random byte).
        let many = random_base32(4096);
        assert!(ALPHABET.iter().all(|c| many.contains(*c as char)));
        assert!(many.bytes().all(|c| ALPHABET.contains(&c)));
        assert_ne!(random_id(), random_id());
        let first = time_ordered_id();
        std::thread::sleep(std::time::Duration::from_millis(2));
        let (second, third) = (time_ordered_id(), time_ordered_id());
        assert!(first < second, "{first} then {second}");
        assert_ne!(second, third);
        assert_eq!(second.len(), 32);
        assert!(second.bytes().all(|c| c.is_ascii_hexdigit()));
    }

    #[test]
    fn typed_codes_are_normalised() {
        assert_eq!(normalize_base32("abcd-efgh o1il"), "ABCDEFGH0111");
    }

    #[test]
    fn mac_depends_on_label_and_parts() {
        let k = ServerKey::from_bytes([7; 32]);
        assert_ne!(k.mac("a", &[b"x"]), k.mac("b", &[b"x"]));
        assert_ne!(k.mac("a", &[b"xy"]), k.mac("a", &[b"x", b"y"]));
        assert_eq!(k.mac("a", &[b"x"]), k.mac("a", &[b"x"]));
    }

    #[test]
    fn key_file_is_made_once_and_read_back() {
        let dir = std::env::temp_dir().join(format!("sspr-key-{}", random_id()));
        let path = dir.join("secret.key");
        let a = ServerKey::load_or_create(&path)
            .map(|k| k.mac("t", &[]))
            .ok();
        let b = ServerKey::load_or_create(&path)
            .map(|k| k.mac("t", &[]))
            .ok();
        assert!(a.is_some());
        assert_eq!(a, b);
        let _ = std::fs::remove_dir_all(dir);
    }
}
