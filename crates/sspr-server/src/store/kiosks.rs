use std::path::{Path, PathBuf};

use rusqlite::{params, OptionalExtension, Row};
use sqlx::postgres::PgRow;
use sqlx::Row as _;

use super::{Engine, Store, StoreError, StoreResult};

/// The file beside the store that a revocation replaces (see `Store::kiosks_changed`).
pub(super) fn signal_path(db: &Path) -> PathBuf {
    let mut name = db.as_os_str().to_owned();
    name.push("-kiosks");
    PathBuf::from(name)
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

    fn from_pg(r: &PgRow) -> sqlx::Result<EnrollmentCodeRow> {
        Ok(EnrollmentCodeRow {
            id: r.try_get(0)?,
            name_prefix: r.try_get(1)?,
            location: r.try_get(2)?,
            uses: count(r.try_get(3)?)?,
            used: count(r.try_get(4)?)?,
            expires_at: r.try_get(5)?,
            created_at: r.try_get(6)?,
            revoked_at: r.try_get(7)?,
        })
    }
}

/// A count PostgreSQL keeps as BIGINT (a CHECK holds it to 0–10,000), as the u32 it is.
fn count(v: i64) -> sqlx::Result<u32> {
    u32::try_from(v).map_err(|e| sqlx::Error::Decode(Box::new(e)))
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

    fn from_pg(r: &PgRow) -> sqlx::Result<KioskRow> {
        Ok(KioskRow {
            id: r.try_get(0)?,
            name: r.try_get(1)?,
            location: r.try_get(2)?,
            public_key: r.try_get(3)?,
            created_at: r.try_get(4)?,
            enrolled_at: r.try_get(5)?,
            revoked_at: r.try_get(6)?,
            last_seen_at: r.try_get(7)?,
            version: r.try_get(8)?,
            enrollment_code_id: r.try_get(9)?,
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
        match self.engine() {
            Engine::Sqlite(s) => {
                s.db.write(|c| {
                    c.prepare_cached(
                        "INSERT INTO kiosks (id, name, location, code_hash, code_expires_at, created_at)
                         VALUES (?, ?, ?, ?, ?, ?)",
                    )?
                    .execute(params![id, name, location, code_hash, code_expires_at, now])
                })?;
            }
            Engine::Postgres(pg) => {
                sqlx::query(
                    "INSERT INTO kiosks (id, name, location, code_hash, code_expires_at, created_at)
                     VALUES ($1, $2, $3, $4, $5, $6)",
                )
                .bind(id)
                .bind(name)
                .bind(location)
                .bind(code_hash)
                .bind(code_expires_at)
                .bind(now)
                .execute(pg)
                .await?;
            }
        }
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
        let row = match self.engine() {
            Engine::Sqlite(s) => s.db.transaction(|c| {
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
                let (name, location) = staged_as(enroll_as, &prefix, code_location, n);
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
            })?,
            Engine::Postgres(pg) => {
                let mut tx = pg.begin().await?;
                // Each placeholder keeps one type, so the name and location are cast
                // where they are compared with NULL.
                let one_time = sqlx::query(&format!(
                    "UPDATE kiosks SET public_key = $1, enrolled_at = $2, code_hash = NULL,
                         code_expires_at = NULL,
                         name = CASE WHEN name = '' AND $4::TEXT IS NOT NULL THEN $4 ELSE name END,
                         location = CASE WHEN location = '' AND $5::TEXT IS NOT NULL THEN $5 ELSE location END
                     WHERE code_hash = $3 AND code_expires_at > $2 AND revoked_at IS NULL
                     RETURNING {COLUMNS}"
                ))
                .bind(public_key)
                .bind(now)
                .bind(code_hash)
                .bind(&enroll_as.name)
                .bind(&enroll_as.location)
                .fetch_optional(&mut *tx)
                .await?
                .map(|r| KioskRow::from_pg(&r))
                .transpose()?;
                if one_time.is_some() {
                    tx.commit().await?;
                    return self.enrolled(one_time);
                }
                let spent: Option<(String, String, String, i64)> = sqlx::query_as(
                    "UPDATE enrollment_codes SET used = used + 1
                     WHERE code_hash = $1 AND used < uses AND expires_at > $2
                         AND revoked_at IS NULL
                     RETURNING id, name_prefix, location, used",
                )
                .bind(code_hash)
                .bind(now)
                .fetch_optional(&mut *tx)
                .await?;
                let Some((code_id, prefix, code_location, n)) = spent else {
                    return Ok(None);
                };
                let (name, location) = staged_as(enroll_as, &prefix, code_location, n);
                let row = sqlx::query(&format!(
                    "INSERT INTO kiosks (id, name, location, public_key, created_at, enrolled_at,
                         enrollment_code_id)
                     VALUES ($1, $2, $3, $4, $5, $5, $6)
                     RETURNING {COLUMNS}"
                ))
                .bind(&enroll_as.new_id)
                .bind(name)
                .bind(location)
                .bind(public_key)
                .bind(now)
                .bind(code_id)
                .fetch_one(&mut *tx)
                .await?;
                let row = KioskRow::from_pg(&row)?;
                tx.commit().await?;
                Some(row)
            }
        };
        self.enrolled(row)
    }

    /// Tells the kiosk caches of a new kiosk.
    fn enrolled(&self, row: Option<KioskRow>) -> StoreResult<Option<KioskRow>> {
        if row.is_some() {
            self.signal_kiosks_changed();
        }
        Ok(row)
    }

    /// Stores a staging code (as its hash).
    pub async fn create_enrollment_code(&self, code: &StagingCode, now: i64) -> StoreResult<()> {
        match self.engine() {
            Engine::Sqlite(s) => {
                s.db.write(|c| {
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
            }
            Engine::Postgres(pg) => {
                sqlx::query(
                    "INSERT INTO enrollment_codes
                         (id, code_hash, name_prefix, location, uses, expires_at, created_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7)",
                )
                .bind(&code.id)
                .bind(&code.code_hash)
                .bind(&code.name_prefix)
                .bind(&code.location)
                .bind(i64::from(code.uses))
                .bind(code.expires_at)
                .bind(now)
                .execute(pg)
                .await?;
            }
        }
        Ok(())
    }

    /// Staging codes, newest first.
    pub async fn enrollment_codes(&self, limit: i64) -> StoreResult<Vec<EnrollmentCodeRow>> {
        match self.engine() {
            Engine::Sqlite(s) => s.db.read(|c| {
                c.prepare_cached(&format!(
                    "SELECT {} FROM enrollment_codes ORDER BY created_at DESC, rowid DESC LIMIT ?",
                    EnrollmentCodeRow::COLUMNS
                ))?
                .query_map([limit], EnrollmentCodeRow::from_row)?
                .collect()
            }),
            // No rowid: codes made in the same second come newest id last, as
            // they happen to (ids are random), which only `kiosk codes` shows.
            Engine::Postgres(pg) => Ok(sqlx::query(&format!(
                "SELECT {} FROM enrollment_codes ORDER BY created_at DESC, id LIMIT $1",
                EnrollmentCodeRow::COLUMNS
            ))
            .bind(limit)
            .fetch_all(pg)
            .await?
            .iter()
            .map(EnrollmentCodeRow::from_pg)
            .collect::<sqlx::Result<_>>()?),
        }
    }

    /// Ends a staging code's remaining uses; the kiosks it enrolled stay. False when
    /// there is no such code or it was revoked already.
    pub async fn revoke_enrollment_code(&self, id: &str, now: i64) -> StoreResult<bool> {
        let done = match self.engine() {
            Engine::Sqlite(s) => s.db.write(|c| {
                c.prepare_cached(
                    "UPDATE enrollment_codes SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
                )?
                .execute(params![now, id])
                .map(|n| n as u64)
            })?,
            Engine::Postgres(pg) => sqlx::query(
                "UPDATE enrollment_codes SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL",
            )
            .bind(now)
            .bind(id)
            .execute(pg)
            .await?
            .rows_affected(),
        };
        Ok(done == 1)
    }

    pub async fn kiosk(&self, id: &str) -> StoreResult<Option<KioskRow>> {
        match self.engine() {
            Engine::Sqlite(s) => s.db.read(|c| {
                c.prepare_cached(&format!("SELECT {COLUMNS} FROM kiosks WHERE id = ?"))?
                    .query_row([id], KioskRow::from_row)
                    .optional()
            }),
            Engine::Postgres(pg) => Ok(sqlx::query(&format!(
                "SELECT {COLUMNS} FROM kiosks WHERE id = $1"
            ))
            .bind(id)
            .fetch_optional(pg)
            .await?
            .map(|r| KioskRow::from_pg(&r))
            .transpose()?),
        }
    }

    /// Something that changes whenever a kiosk was revoked, by this process or another
    /// (the `kiosk revoke` command): a cache of kiosks compares it on every request. None
    /// when nothing tells this process of another's revocations: a SQLite store with a
    /// file it cannot look at, and PostgreSQL, where any process may revoke (until the
    /// processes tell each other, a cache reads the kiosk on every request there).
    pub fn kiosks_changed(&self) -> Option<KiosksVersion> {
        use std::sync::atomic::Ordering;
        let Engine::Sqlite(s) = self.engine() else {
            return None;
        };
        let generation = self.kiosk_generation.load(Ordering::Acquire);
        let Some(path) = s.kiosk_signal.as_ref() else {
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
        let Engine::Sqlite(s) = self.engine() else {
            return;
        };
        let Some(path) = &s.kiosk_signal else {
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
        match self.engine() {
            Engine::Sqlite(s) => s.db.read(|c| {
                c.prepare_cached(&format!("SELECT {COLUMNS} FROM kiosks ORDER BY created_at"))?
                    .query_map([], KioskRow::from_row)?
                    .collect()
            }),
            // The id breaks ties, as the rowid does on SQLite's scan.
            Engine::Postgres(pg) => Ok(sqlx::query(&format!(
                "SELECT {COLUMNS} FROM kiosks ORDER BY created_at, id"
            ))
            .fetch_all(pg)
            .await?
            .iter()
            .map(KioskRow::from_pg)
            .collect::<sqlx::Result<_>>()?),
        }
    }

    /// Records the version a kiosk says it runs.
    pub async fn set_kiosk_version(&self, id: &str, version: &str) -> StoreResult<()> {
        match self.engine() {
            Engine::Sqlite(_) => {
                let (id, version) = (id.to_string(), version.to_string());
                self.write_batched(move |c| {
                    c.prepare_cached("UPDATE kiosks SET version = ? WHERE id = ?")?
                        .execute(params![version, id])
                })
                .await?;
            }
            Engine::Postgres(pg) => {
                sqlx::query("UPDATE kiosks SET version = $1 WHERE id = $2")
                    .bind(version)
                    .bind(id)
                    .execute(pg)
                    .await?;
            }
        }
        Ok(())
    }

    pub async fn revoke_kiosk(&self, id: &str, now: i64) -> StoreResult<bool> {
        let done = match self.engine() {
            Engine::Sqlite(s) => s.db.write(|c| {
                c.prepare_cached(
                    "UPDATE kiosks SET revoked_at = ?, code_hash = NULL WHERE id = ? AND revoked_at IS NULL",
                )?
                .execute(params![now, id])
                .map(|n| n as u64)
            }),
            Engine::Postgres(pg) => sqlx::query(
                "UPDATE kiosks SET revoked_at = $1, code_hash = NULL WHERE id = $2 AND revoked_at IS NULL",
            )
            .bind(now)
            .bind(id)
            .execute(pg)
            .await
            .map(|r| r.rows_affected())
            .map_err(StoreError::from),
        };
        // Signalled even when nothing changed here: harmless, and never missed.
        self.signal_kiosks_changed();
        Ok(done? == 1)
    }
}

/// The name and location of a kiosk a staging code enrolls: as the PC says, else
/// `<prefix>-<n>` (its use's number) and where the code says.
fn staged_as(
    enroll_as: &EnrollAs,
    prefix: &str,
    code_location: String,
    n: i64,
) -> (String, String) {
    let name = match &enroll_as.name {
        Some(name) => name.clone(),
        None => format!("{prefix}-{n}"),
    };
    (name, enroll_as.location.clone().unwrap_or(code_location))
}
