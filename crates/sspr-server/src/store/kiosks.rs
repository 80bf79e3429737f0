use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use sha2::{Digest, Sha256};

use super::batch::Job;
use rusqlite::{params, OptionalExtension, Row};

use super::{Store, StoreError, StoreResult};

/// The file beside the store that a revocation replaces (see `Store::kiosks_changed`).
pub(super) fn signal_path(db: &Path) -> PathBuf {
    let mut name = db.as_os_str().to_owned();
    name.push("-kiosks");
    PathBuf::from(name)
}

/// Signature nonces seen lately, in memory: a replay is refused without a trip to the
/// store. Every nonce is also committed to the store before its request is let through,
/// and the store's are loaded at start, so a replay is refused across a restart too.
#[derive(Default)]
pub(super) struct Nonces {
    loaded: tokio::sync::OnceCell<()>,
    seen: Mutex<NonceMap>,
}

#[derive(Default)]
struct NonceMap {
    /// A digest of (kiosk, nonce) → when it was seen.
    seen: HashMap<[u8; 16], i64>,
    pruned_at: i64,
}

fn nonce_key(kiosk_id: &str, nonce: &str) -> [u8; 16] {
    let digest = Sha256::new()
        .chain_update(kiosk_id.as_bytes())
        .chain_update([0u8])
        .chain_update(nonce.as_bytes())
        .finalize();
    let mut key = [0u8; 16];
    key.copy_from_slice(&digest[..16]);
    key
}

impl NonceMap {
    /// False when the nonce was seen already.
    fn insert(&mut self, key: [u8; 16], now: i64, keep_secs: i64) -> bool {
        // Forget what can't pass the staleness check any more, now and then.
        if now - self.pruned_at >= 10 {
            self.seen.retain(|_, at| *at >= now - keep_secs);
            self.pruned_at = now;
        }
        match self.seen.entry(key) {
            std::collections::hash_map::Entry::Occupied(_) => false,
            std::collections::hash_map::Entry::Vacant(v) => {
                v.insert(now);
                true
            }
        }
    }
}

#[derive(Debug, Clone)]
pub struct KioskRow {
    pub id: String,
    pub name: String,
    pub location: String,
    pub public_key: Option<Vec<u8>>,
    pub created_at: i64,
    pub enrolled_at: Option<i64>,
    pub revoked_at: Option<i64>,
    /// Its last signed request, to the minute (`batch::SEEN_EVERY`).
    pub last_seen_at: Option<i64>,
    /// The version it last said it runs.
    pub version: Option<String>,
    /// The staging code it enrolled with (None for a one-time code).
    pub enrollment_code_id: Option<String>,
}

/// What an enrolling kiosk says of itself, already checked (`kiosks::Label`), and the id
/// it gets if its code is a staging code.
#[derive(Debug, Clone, Default)]
pub struct EnrollAs {
    pub new_id: String,
    pub name: Option<String>,
    pub location: Option<String>,
}

/// A staging code to store: `uses` enrollments until `expires_at`, each a new kiosk.
#[derive(Debug, Clone)]
pub struct StagingCode {
    pub id: String,
    pub code_hash: String,
    pub name_prefix: String,
    pub location: String,
    pub uses: u32,
    pub expires_at: i64,
}

/// A staging code as stored (its hash is never read back).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnrollmentCodeRow {
    pub id: String,
    pub name_prefix: String,
    pub location: String,
    pub uses: u32,
    pub used: u32,
    pub expires_at: i64,
    pub created_at: i64,
    pub revoked_at: Option<i64>,
}

impl EnrollmentCodeRow {
    /// Enrollments it still allows at `now`: none once it expired or was revoked.
    pub fn remaining(&self, now: i64) -> u32 {
        if self.revoked_at.is_some() || self.expires_at <= now {
            0
        } else {
            self.uses.saturating_sub(self.used)
        }
    }

    pub fn state(&self, now: i64) -> sspr_proto::EnrollmentCodeState {
        use sspr_proto::EnrollmentCodeState as S;
        if self.revoked_at.is_some() {
            S::Revoked
        } else if self.expires_at <= now {
            S::Expired
        } else if self.used >= self.uses {
            S::UsedUp
        } else {
            S::Active
        }
    }

    const COLUMNS: &'static str =
        "id, name_prefix, location, uses, used, expires_at, created_at, revoked_at";

    fn from_row(r: &Row<'_>) -> rusqlite::Result<EnrollmentCodeRow> {
        Ok(EnrollmentCodeRow {
            id: r.get(0)?,
            name_prefix: r.get(1)?,
            location: r.get(2)?,
            uses: r.get(3)?,
            used: r.get(4)?,
            expires_at: r.get(5)?,
            created_at: r.get(6)?,
            revoked_at: r.get(7)?,
        })
    }
}

/// See `Store::kiosks_changed`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct KiosksVersion(u64, FileVersion);

/// What tells one version of the signal file from the next.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct FileVersion(u64, i64, i64, u64);

#[cfg(unix)]
fn file_version(m: &std::fs::Metadata) -> FileVersion {
    use std::os::unix::fs::MetadataExt;
    FileVersion(m.ino(), m.mtime(), m.mtime_nsec(), m.size())
}

#[cfg(not(unix))]
fn file_version(m: &std::fs::Metadata) -> FileVersion {
    let modified = m
        .modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .unwrap_or_default();
    FileVersion(
        0,
        modified.as_secs() as i64,
        i64::from(modified.subsec_nanos()),
        m.len(),
    )
}

const COLUMNS: &str = "id, name, location, public_key, created_at, enrolled_at, revoked_at, \
     last_seen_at, version, enrollment_code_id";

impl KioskRow {
    fn from_row(r: &Row<'_>) -> rusqlite::Result<KioskRow> {
        Ok(KioskRow {
            id: r.get(0)?,
            name: r.get(1)?,
            location: r.get(2)?,
            public_key: r.get(3)?,
            created_at: r.get(4)?,
            enrolled_at: r.get(5)?,
            revoked_at: r.get(6)?,
            last_seen_at: r.get(7)?,
            version: r.get(8)?,
            enrollment_code_id: r.get(9)?,
        })
    }
}

impl Store {
    pub async fn create_pending_kiosk(
        &self,
        id: &str,
        name: &str,
        location: &str,
        code_hash: &str,
        code_expires_at: i64,
        now: i64,
    ) -> StoreResult<()> {
        self.db.write(|c| {
            c.prepare_cached(
                "INSERT INTO kiosks (id, name, location, code_hash, code_expires_at, created_at)
                 VALUES (?, ?, ?, ?, ?, ?)",
            )?
            .execute(params![id, name, location, code_hash, code_expires_at, now])
        })?;
        Ok(())
    }

    /// Spends an enrollment code, in one transaction, only while it is valid: a one-time
    /// code stores the key in its pending kiosk (which keeps the name and location IT
    /// gave it, taking the kiosk's own only where IT left one empty); a staging code
    /// spends one use, by a conditional UPDATE that can't take more than its uses however
    /// many PCs race, and makes a new kiosk named as the PC says (else `<prefix>-<n>`,
    /// its use's number) and located as it says (else where the code says).
    pub async fn enroll_kiosk(
        &self,
        code_hash: &str,
        public_key: &[u8],
        enroll_as: &EnrollAs,
        now: i64,
    ) -> StoreResult<Option<KioskRow>> {
        let row = self.db.transaction(|c| {
            let one_time = c
                .prepare_cached(&format!(
                    "UPDATE kiosks SET public_key = ?1, enrolled_at = ?2, code_hash = NULL,
                         code_expires_at = NULL,
                         name = CASE WHEN name = '' AND ?4 IS NOT NULL THEN ?4 ELSE name END,
                         location = CASE WHEN location = '' AND ?5 IS NOT NULL THEN ?5 ELSE location END
                     WHERE code_hash = ?3 AND code_expires_at > ?2 AND revoked_at IS NULL
                     RETURNING {COLUMNS}"
                ))?
                .query_row(
                    params![
                        public_key,
                        now,
                        code_hash,
                        enroll_as.name,
                        enroll_as.location
                    ],
                    KioskRow::from_row,
                )
                .optional()?;
            if one_time.is_some() {
                return Ok(one_time);
            }
            let spent: Option<(String, String, String, i64)> = c
                .prepare_cached(
                    "UPDATE enrollment_codes SET used = used + 1
                     WHERE code_hash = ?1 AND used < uses AND expires_at > ?2
                         AND revoked_at IS NULL
                     RETURNING id, name_prefix, location, used",
                )?
                .query_row(params![code_hash, now], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
                })
                .optional()?;
            let Some((code_id, prefix, code_location, n)) = spent else {
                return Ok(None);
            };
            let name = match &enroll_as.name {
                Some(name) => name.clone(),
                None => format!("{prefix}-{n}"),
            };
            let location = enroll_as.location.clone().unwrap_or(code_location);
            c.prepare_cached(&format!(
                "INSERT INTO kiosks (id, name, location, public_key, created_at, enrolled_at,
                     enrollment_code_id)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?5, ?6)
                 RETURNING {COLUMNS}"
            ))?
            .query_row(
                params![enroll_as.new_id, name, location, public_key, now, code_id],
                KioskRow::from_row,
            )
            .map(Some)
        })?;
        if row.is_some() {
            self.signal_kiosks_changed();
        }
        Ok(row)
    }

    /// Stores a staging code (as its hash).
    pub async fn create_enrollment_code(&self, code: &StagingCode, now: i64) -> StoreResult<()> {
        self.db.write(|c| {
            c.prepare_cached(
                "INSERT INTO enrollment_codes
                     (id, code_hash, name_prefix, location, uses, expires_at, created_at)
                 VALUES (?, ?, ?, ?, ?, ?, ?)",
            )?
            .execute(params![
                code.id,
                code.code_hash,
                code.name_prefix,
                code.location,
                code.uses,
                code.expires_at,
                now
            ])
        })?;
        Ok(())
    }

    /// Staging codes, newest first.
    pub async fn enrollment_codes(&self, limit: i64) -> StoreResult<Vec<EnrollmentCodeRow>> {
        self.db.read(|c| {
            c.prepare_cached(&format!(
                "SELECT {} FROM enrollment_codes ORDER BY created_at DESC, rowid DESC LIMIT ?",
                EnrollmentCodeRow::COLUMNS
            ))?
            .query_map([limit], EnrollmentCodeRow::from_row)?
            .collect()
        })
    }

    /// Ends a staging code's remaining uses; the kiosks it enrolled stay. False when
    /// there is no such code or it was revoked already.
    pub async fn revoke_enrollment_code(&self, id: &str, now: i64) -> StoreResult<bool> {
        let done = self.db.write(|c| {
            c.prepare_cached(
                "UPDATE enrollment_codes SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
            )?
            .execute(params![now, id])
        })?;
        Ok(done == 1)
    }

    pub async fn kiosk(&self, id: &str) -> StoreResult<Option<KioskRow>> {
        self.db.read(|c| {
            c.prepare_cached(&format!("SELECT {COLUMNS} FROM kiosks WHERE id = ?"))?
                .query_row([id], KioskRow::from_row)
                .optional()
        })
    }

    /// Something that changes whenever a kiosk was revoked, by this process or another
    /// (the `kiosk revoke` command): a cache of kiosks compares it on every request. None
    /// when the store has no file beside it to look at.
    pub fn kiosks_changed(&self) -> Option<KiosksVersion> {
        use std::sync::atomic::Ordering;
        let generation = self.kiosk_generation.load(Ordering::Acquire);
        let Some(path) = self.kiosk_signal.as_ref() else {
            // No file, so no other process can revoke: this process's count is enough.
            return Some(KiosksVersion(generation, FileVersion::default()));
        };
        match std::fs::metadata(path) {
            Ok(m) => Some(KiosksVersion(generation, file_version(&m))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                Some(KiosksVersion(generation, FileVersion::default()))
            }
            Err(_) => None,
        }
    }

    /// Replaces the signal file (a new inode each time, so no clock granularity hides it).
    fn signal_kiosks_changed(&self) {
        self.kiosk_generation
            .fetch_add(1, std::sync::atomic::Ordering::AcqRel);
        let Some(path) = &self.kiosk_signal else {
            return;
        };
        let mut tmp = path.as_os_str().to_owned();
        tmp.push(format!(".{}", std::process::id()));
        let tmp = PathBuf::from(tmp);
        let stamp = format!("{:?}\n", std::time::SystemTime::now());
        let result = std::fs::write(&tmp, stamp).and_then(|()| std::fs::rename(&tmp, path));
        if let Err(e) = result {
            tracing::warn!(error = %e, path = %path.display(), "signalling a kiosk change failed");
        }
    }

    pub async fn kiosks(&self) -> StoreResult<Vec<KioskRow>> {
        self.db.read(|c| {
            c.prepare_cached(&format!("SELECT {COLUMNS} FROM kiosks ORDER BY created_at"))?
                .query_map([], KioskRow::from_row)?
                .collect()
        })
    }

    /// Records the version a kiosk says it runs.
    pub async fn set_kiosk_version(&self, id: &str, version: &str) -> StoreResult<()> {
        let (id, version) = (id.to_string(), version.to_string());
        self.write_batched(move |c| {
            c.prepare_cached("UPDATE kiosks SET version = ? WHERE id = ?")?
                .execute(params![version, id])
        })
        .await?;
        Ok(())
    }

    pub async fn revoke_kiosk(&self, id: &str, now: i64) -> StoreResult<bool> {
        let done = self.db.write(|c| {
            c.prepare_cached(
                "UPDATE kiosks SET revoked_at = ?, code_hash = NULL WHERE id = ? AND revoked_at IS NULL",
            )?
            .execute(params![now, id])
        });
        // Signalled even when nothing changed here: harmless, and never missed.
        self.signal_kiosks_changed();
        Ok(done? == 1)
    }

    /// Records a signature nonce; false when it was seen before (a replay). Returns once
    /// the nonce is committed (batched with other requests'), so a crash right after
    /// can't make the request replayable. Nonces older than `keep_secs` are forgotten.
    pub async fn remember_nonce(
        &self,
        kiosk_id: &str,
        nonce: &str,
        now: i64,
        keep_secs: i64,
    ) -> StoreResult<bool> {
        self.nonces
            .loaded
            .get_or_try_init(|| self.load_nonces(now - keep_secs))
            .await?;
        let fresh = match self.nonces.seen.lock() {
            Ok(mut seen) => seen.insert(nonce_key(kiosk_id, nonce), now, keep_secs),
            Err(_) => return Err(StoreError::Other("nonce set poisoned".into())),
        };
        if !fresh {
            return Ok(false);
        }
        let (done, committed) = tokio::sync::oneshot::channel();
        let job = Job::Nonce {
            kiosk_id: kiosk_id.to_string(),
            nonce: nonce.to_string(),
            seen_at: now,
            done,
        };
        let stopped = || StoreError::Other("the nonce writer stopped".into());
        if self.batch.send(job).await.is_err() {
            return Err(stopped());
        }
        committed.await.map_err(|_| stopped())??;
        Ok(true)
    }

    /// The nonces the store holds (from before a restart) into memory.
    async fn load_nonces(&self, since: i64) -> StoreResult<()> {
        let rows: Vec<(String, String, i64)> = self.db.read(|c| {
            c.prepare("SELECT kiosk_id, nonce, seen_at FROM nonces WHERE seen_at >= ?")?
                .query_map([since], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
                .collect()
        })?;
        // Not loading them would let a request from before a restart be replayed.
        let mut seen = self
            .nonces
            .seen
            .lock()
            .map_err(|_| StoreError::Other("nonce set poisoned".into()))?;
        for (kiosk, nonce, at) in rows {
            seen.seen.insert(nonce_key(&kiosk, &nonce), at);
        }
        Ok(())
    }

    /// In slices, so the writer is never held for long (the table grows with every request).
    pub async fn forget_nonces_before(&self, before: i64) -> StoreResult<()> {
        loop {
            let done = self.db.write(|c| {
                c.prepare_cached(
                    "DELETE FROM nonces WHERE rowid IN
                     (SELECT rowid FROM nonces WHERE seen_at < ? LIMIT 2000)",
                )?
                .execute([before])
            })?;
            if done < 2000 {
                return Ok(());
            }
            // Let requests have the writer between slices.
            tokio::task::yield_now().await;
        }
    }
}
