//! Kiosk enrollment: IT makes a one-time code for a named kiosk, or a staging code that
//! enrolls up to N PCs within a time window, each as a new kiosk under its own host name;
//! a kiosk spends a code to register its public key. Codes are stored only as keyed
//! hashes.

use crate::secret::{enrollment_code, normalize_base32, random_id, ServerKey};
use crate::store::{EnrollAs, KioskRow, StagingCode, Store, StoreResult};

fn code_hash(key: &ServerKey, code: &str) -> String {
    key.mac_hex("enrollment-code", &[normalize_base32(code).as_bytes()])
}

/// Most PCs one staging code enrolls.
pub const MAX_USES: u32 = 10_000;
/// A staging code's lifetime when IT names none: a week.
pub const DEFAULT_VALID_SECS: i64 = 7 * 86_400;
/// The longest a staging code may live: 90 days.
pub const MAX_VALID_SECS: i64 = 90 * 86_400;
/// Longest name or location a kiosk may give itself.
pub const MAX_LABEL_CHARS: usize = 64;
/// The name prefix of PCs that send no host name, when IT gives none.
pub const DEFAULT_PREFIX: &str = "pc";

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

/// A staging code as IT asks for it: checked by `StagingRequest::check`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StagingRequest {
    pub uses: u32,
    pub valid_secs: i64,
    /// Names PCs that send no host name (`<prefix>-<n>`).
    pub name_prefix: String,
    /// Where PCs that say nothing of it stand (may be empty).
    pub location: String,
}

impl StagingRequest {
    /// Checks what IT typed: 1 to 10,000 uses, a lifetime of a minute to 90 days, a
    /// prefix (`pc` when empty) short enough that `<prefix>-10000` is a kiosk name, and a
    /// location of at most 80 printable characters. The message says what to change.
    pub fn check(
        uses: u32,
        valid_secs: i64,
        name_prefix: &str,
        location: &str,
    ) -> Result<StagingRequest, String> {
        if !(1..=MAX_USES).contains(&uses) {
            return Err(format!(
                "The number of PCs must be 1 to {MAX_USES}, not {uses}."
            ));
        }
        if !(60..=MAX_VALID_SECS).contains(&valid_secs) {
            return Err(
                "A staging code must be valid for at least a minute and at most 90 days.".into(),
            );
        }
        let name_prefix = name_prefix.trim();
        let name_prefix = if name_prefix.is_empty() {
            DEFAULT_PREFIX.to_string()
        } else {
            // Room for "-10000" within a kiosk name.
            Label::parse("name prefix", name_prefix, MAX_LABEL_CHARS - 6)?.0
        };
        let location = location.trim();
        let location = if location.is_empty() {
            String::new()
        } else {
            Label::parse("location", location, 80)?.0
        };
        Ok(StagingRequest {
            uses,
            valid_secs,
            name_prefix,
            location,
        })
    }
}

/// A new staging code: its id (which the audit names on each kiosk it enrolls), the code
/// to show IT (never stored), and when it expires.
#[derive(Debug, Clone)]
pub struct IssuedStagingCode {
    pub id: String,
    pub code: String,
    pub expires_at: i64,
}

/// Stores a staging code (as its keyed hash) for `req.uses` PCs.
pub async fn issue_staging_code(
    store: &Store,
    key: &ServerKey,
    req: &StagingRequest,
    now: i64,
) -> StoreResult<IssuedStagingCode> {
    let id = random_id()[..16].to_string();
    let code = enrollment_code();
    let expires_at = now + req.valid_secs;
    store
        .create_enrollment_code(
            &StagingCode {
                id: id.clone(),
                code_hash: code_hash(key, &code),
                name_prefix: req.name_prefix.clone(),
                location: req.location.clone(),
                uses: req.uses,
                expires_at,
            },
            now,
        )
        .await?;
    Ok(IssuedStagingCode {
        id,
        code,
        expires_at,
    })
}

/// What an enrollment QR code holds: the server kiosks reach and the code
/// (`sspr-enroll:<server>#<code>`; the kiosk's setup screen reads it).
pub fn qr_text(public_origin: &str, code: &str) -> String {
    format!("sspr-enroll:{public_origin}#{code}")
}

/// A staging code's lifetime as IT writes it: `7d`, `12h`, `30m`.
pub fn parse_valid_for(s: &str) -> Result<i64, String> {
    let bad = || {
        format!("--valid-for {s:?}: use a number of days, hours or minutes such as 7d, 12h, 30m (at most 90d)")
    };
    let s = s.trim();
    let (number, unit) = s.split_at(s.len().saturating_sub(1));
    let n: i64 = number.parse().map_err(|_| bad())?;
    let unit_secs = match unit {
        "d" => 86_400,
        "h" => 3_600,
        "m" => 60,
        _ => return Err(bad()),
    };
    let secs = n.checked_mul(unit_secs).ok_or_else(bad)?;
    if !(60..=MAX_VALID_SECS).contains(&secs) {
        return Err(format!(
            "--valid-for {s}: a staging code must be valid for at least a minute and at most 90 days"
        ));
    }
    Ok(secs)
}

/// A name or location as a kiosk or IT gives it: trimmed, 1 to `max` characters, nothing
/// that isn't printable (control characters, and the invisible ones that would make a
/// name read as another in the console or the audit: bidirectional overrides, zero-width
/// characters).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Label(pub String);

impl Label {
    pub fn parse(what: &str, s: &str, max: usize) -> Result<Label, String> {
        let s = s.trim();
        if s.is_empty() || s.chars().count() > max || !s.chars().all(printable) {
            return Err(format!(
                "The kiosk's {what} must be 1 to {max} printable characters (no control or invisible characters)."
            ));
        }
        Ok(Label(s.to_string()))
    }
}

fn printable(c: char) -> bool {
    !c.is_control()
        && !matches!(c,
            '\u{00AD}'
            | '\u{061C}'
            | '\u{180E}'
            | '\u{200B}'..='\u{200F}'
            | '\u{2028}'..='\u{202E}'
            | '\u{2060}'..='\u{206F}'
            | '\u{FEFF}'
            | '\u{FFF9}'..='\u{FFFB}')
}

/// What an enrolling kiosk says of itself (`EnrollRequest`'s name and location), checked:
/// a clear message for the first that is bad, before any code is looked at.
pub fn enroll_as(name: Option<&str>, location: Option<&str>) -> Result<EnrollAs, String> {
    let name = name
        .map(|n| Label::parse("name", n, MAX_LABEL_CHARS))
        .transpose()?;
    let location = location
        .map(|l| Label::parse("location", l, MAX_LABEL_CHARS))
        .transpose()?;
    Ok(EnrollAs {
        new_id: random_id()[..16].to_string(),
        name: name.map(|l| l.0),
        location: location.map(|l| l.0),
    })
}

/// Spends a code: Some(kiosk) when it was valid (see `Store::enroll_kiosk`).
pub async fn enroll(
    store: &Store,
    key: &ServerKey,
    code: &str,
    public_key: &[u8],
    enroll_as: &EnrollAs,
    now: i64,
) -> StoreResult<Option<KioskRow>> {
    if code.len() > 64 {
        return Ok(None);
    }
    store
        .enroll_kiosk(&code_hash(key, code), public_key, enroll_as, now)
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

    async fn store() -> Store {
        let store = Store::open("sqlite::memory:").await.unwrap();
        store.migrate().await.unwrap();
        store
    }

    fn key() -> ServerKey {
        ServerKey::from_bytes([9; 32])
    }

    const NOW: i64 = 1_800_000_000;

    fn staging(uses: u32, prefix: &str, location: &str) -> StagingRequest {
        StagingRequest::check(uses, DEFAULT_VALID_SECS, prefix, location).unwrap()
    }

    async fn enroll_with(
        store: &Store,
        code: &str,
        name: Option<&str>,
        location: Option<&str>,
        now: i64,
    ) -> Option<KioskRow> {
        let public = [7u8; 32];
        let as_ = enroll_as(name, location).unwrap();
        enroll(store, &key(), code, &public, &as_, now)
            .await
            .unwrap()
    }

    /// A staging code makes a new kiosk for each PC, named and located as the PC says or
    /// else by the code; the use after the last, and a code past its time or revoked,
    /// enroll nothing.
    #[tokio::test]
    async fn a_staging_code_enrolls_as_many_new_kiosks_as_its_uses() {
        let store = store().await;
        let issued = issue_staging_code(&store, &key(), &staging(3, "lab", "Building B"), NOW)
            .await
            .unwrap();
        assert_eq!(issued.expires_at, NOW + 7 * 86_400);

        let a = enroll_with(&store, &issued.code, Some("ws-101"), Some("Room 1"), NOW)
            .await
            .unwrap();
        // Typed as people type it: lower case, without dashes.
        let typed = issued.code.to_lowercase().replace('-', "");
        let b = enroll_with(&store, &typed, None, None, NOW + 1)
            .await
            .unwrap();
        let c = enroll_with(&store, &issued.code, Some("ws-103"), None, NOW + 2)
            .await
            .unwrap();
        assert_eq!(
            [&a, &b, &c].map(|k| (k.name.as_str(), k.location.as_str())),
            [
                ("ws-101", "Room 1"),
                ("lab-2", "Building B"),
                ("ws-103", "Building B")
            ]
        );
        for k in [&a, &b, &c] {
            assert_eq!(k.enrollment_code_id.as_deref(), Some(issued.id.as_str()));
            assert!(k.enrolled_at.is_some() && k.public_key.is_some());
        }
        let ids: std::collections::HashSet<_> = [&a.id, &b.id, &c.id].into_iter().collect();
        assert_eq!(ids.len(), 3, "each PC is a kiosk of its own");

        assert!(
            enroll_with(&store, &issued.code, Some("ws-104"), None, NOW + 3)
                .await
                .is_none()
        );
        assert_eq!(store.kiosks().await.unwrap().len(), 3);
        let row = &store.enrollment_codes(10).await.unwrap()[0];
        assert_eq!((row.uses, row.used, row.remaining(NOW)), (3, 3, 0));
        assert_eq!(row.state(NOW), sspr_proto::EnrollmentCodeState::UsedUp);

        // Past its time: refused, nothing spent.
        let late = issue_staging_code(&store, &key(), &staging(5, "", ""), NOW)
            .await
            .unwrap();
        assert!(enroll_with(&store, &late.code, None, None, late.expires_at)
            .await
            .is_none());
        let just_in_time = enroll_with(&store, &late.code, None, None, late.expires_at - 1)
            .await
            .unwrap();
        assert_eq!(
            (just_in_time.name.as_str(), just_in_time.location.as_str()),
            ("pc-1", "")
        );
        let late_row = store
            .enrollment_codes(10)
            .await
            .unwrap()
            .into_iter()
            .find(|c| c.id == late.id)
            .unwrap();
        assert_eq!(late_row.used, 1);
        assert_eq!(late_row.remaining(late.expires_at - 1), 4);
        assert_eq!(late_row.remaining(late.expires_at), 0);
        assert_eq!(
            late_row.state(late.expires_at),
            sspr_proto::EnrollmentCodeState::Expired
        );

        // Revoked: refused, and the kiosks it made stay.
        assert!(store.revoke_enrollment_code(&late.id, NOW).await.unwrap());
        assert!(!store.revoke_enrollment_code(&late.id, NOW).await.unwrap());
        assert!(enroll_with(&store, &late.code, None, None, NOW)
            .await
            .is_none());
        assert_eq!(store.kiosks().await.unwrap().len(), 4);
    }

    /// Fifty PCs racing for a ten-use code: exactly ten kiosks, numbered 1 to 10.
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn racing_pcs_spend_exactly_the_uses() {
        let store = store().await;
        let issued = issue_staging_code(&store, &key(), &staging(10, "", ""), NOW)
            .await
            .unwrap();
        let mut tasks = tokio::task::JoinSet::new();
        for _ in 0..50 {
            let (store, code) = (store.clone(), issued.code.clone());
            tasks.spawn(async move { enroll_with(&store, &code, None, None, NOW).await });
        }
        let mut names = Vec::new();
        while let Some(done) = tasks.join_next().await {
            if let Some(k) = done.unwrap() {
                names.push(k.name);
            }
        }
        names.sort_by_key(|n| n[3..].parse::<u32>().unwrap());
        let want: Vec<String> = (1..=10).map(|n| format!("pc-{n}")).collect();
        assert_eq!(names, want);
        assert_eq!(store.kiosks().await.unwrap().len(), 10);
        assert_eq!(store.enrollment_codes(1).await.unwrap()[0].used, 10);
    }

    /// A one-time code enrolls its pending kiosk once, keeping the name and location IT
    /// gave it; the kiosk's own location fills only one IT left empty.
    #[tokio::test]
    async fn a_one_time_code_keeps_what_it_gave() {
        let store = store().await;
        let (id, code) = issue_code(&store, &key(), "Lobby 2", "Building B", 24, NOW)
            .await
            .unwrap();
        let k = enroll_with(&store, &code, Some("ws-9"), Some("Room 9"), NOW)
            .await
            .unwrap();
        assert_eq!(
            (k.id.as_str(), k.name.as_str(), k.location.as_str()),
            (id.as_str(), "Lobby 2", "Building B")
        );
        assert_eq!(k.enrollment_code_id, None);
        assert!(enroll_with(&store, &code, None, None, NOW).await.is_none());

        let (_, nowhere) = issue_code(&store, &key(), "Kiosk 3", "", 24, NOW)
            .await
            .unwrap();
        let k = enroll_with(&store, &nowhere, Some("ws-10"), Some("Room 10"), NOW)
            .await
            .unwrap();
        assert_eq!(
            (k.name.as_str(), k.location.as_str()),
            ("Kiosk 3", "Room 10")
        );
        // Expired: refused.
        let (_, old) = issue_code(&store, &key(), "Old", "", 1, NOW).await.unwrap();
        assert!(enroll_with(&store, &old, None, None, NOW + 3600)
            .await
            .is_none());
        assert_eq!(store.kiosks().await.unwrap().len(), 3);
    }

    #[test]
    fn names_and_locations_are_printable_and_short() {
        let ok = enroll_as(Some("  ws-042.example.org "), Some("Building B, room 2")).unwrap();
        assert_eq!(ok.name.as_deref(), Some("ws-042.example.org"));
        assert_eq!(ok.location.as_deref(), Some("Building B, room 2"));
        assert_eq!(ok.new_id.len(), 16);
        assert!(enroll_as(Some(&"a".repeat(64)), None).is_ok());
        assert!(enroll_as(None, Some("Zürich, 3. OG")).is_ok());
        for bad in [
            "",
            "   ",
            "ws\u{7}bell",
            "ws\nnext",
            "tab\there",
            "evil\u{202E}gpj.exe",
            "zero\u{200B}width",
            &"a".repeat(65),
        ] {
            let name = enroll_as(Some(bad), None).unwrap_err();
            assert!(name.contains("name must be 1 to 64"), "{bad:?}: {name}");
            let location = enroll_as(Some("ok"), Some(bad)).unwrap_err();
            assert!(location.contains("location"), "{bad:?}: {location}");
        }
    }

    #[test]
    fn staging_requests_are_checked() {
        let r = StagingRequest::check(10, 3600, "  ", " Lab ").unwrap();
        assert_eq!((r.name_prefix.as_str(), r.location.as_str()), ("pc", "Lab"));
        assert!(StagingRequest::check(MAX_USES, MAX_VALID_SECS, "x", "").is_ok());
        for (uses, secs, prefix, want) in [
            (0, 3600, "", "1 to 10000"),
            (MAX_USES + 1, 3600, "", "1 to 10000"),
            (5, MAX_VALID_SECS + 1, "", "90 days"),
            (5, 59, "", "at least a minute"),
            (5, 3600, "bad\u{1}", "name prefix"),
            (5, 3600, &"p".repeat(59), "name prefix must be 1 to 58"),
        ] {
            let e = StagingRequest::check(uses, secs, prefix, "").unwrap_err();
            assert!(e.contains(want), "{uses} {secs} {prefix:?}: {e}");
        }
    }

    #[test]
    fn valid_for_reads_days_hours_and_minutes() {
        assert_eq!(parse_valid_for("7d"), Ok(7 * 86_400));
        assert_eq!(parse_valid_for("12h"), Ok(12 * 3600));
        assert_eq!(parse_valid_for("30m"), Ok(1800));
        assert_eq!(parse_valid_for("90d"), Ok(MAX_VALID_SECS));
        for bad in [
            "91d",
            "0d",
            "7",
            "d",
            "",
            "7w",
            "-1d",
            "2161h",
            "99999999999999999d",
        ] {
            assert!(parse_valid_for(bad).is_err(), "{bad:?}");
        }
    }

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
