//! Signature nonces: a nonce a kiosk signed with is accepted once. On SQLite (one
//! process) they are checked in memory and kept in the store across a restart; on
//! PostgreSQL the database refuses one any process saw (a unique index).

use std::collections::HashMap;
use std::sync::Mutex;

use sha2::{Digest, Sha256};

use super::batch::Job;
use super::{Engine, Store, StoreError, StoreResult};

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

impl Store {
    /// Records a signature nonce; false when it was seen before (a replay). Returns once
    /// the nonce is committed (batched with other requests' on SQLite), so a crash right
    /// after can't make the request replayable. Nonces older than `keep_secs` are
    /// forgotten. On PostgreSQL the database refuses a nonce any process saw (a unique
    /// index), and the kiosk's `last_seen_at` is written in the same statement.
    pub async fn remember_nonce(
        &self,
        kiosk_id: &str,
        nonce: &str,
        now: i64,
        keep_secs: i64,
    ) -> StoreResult<bool> {
        let s = match self.engine() {
            Engine::Sqlite(s) => s,
            Engine::Postgres(pg) => {
                // A row older than `keep_secs` (not purged yet) is taken over, as the
                // in-memory set forgets it on SQLite.
                let fresh: bool = sqlx::query_scalar(
                    "WITH fresh AS (
                         INSERT INTO nonces (kiosk_id, nonce, seen_at) VALUES ($1, $2, $3)
                         ON CONFLICT (kiosk_id, nonce) DO UPDATE SET seen_at = EXCLUDED.seen_at
                             WHERE nonces.seen_at < $3 - $4
                         RETURNING 1
                     ), seen AS (
                         UPDATE kiosks SET last_seen_at = $3
                         WHERE id = $1 AND EXISTS (SELECT 1 FROM fresh)
                             AND (last_seen_at IS NULL OR last_seen_at <= $3 - $5)
                     )
                     SELECT EXISTS (SELECT 1 FROM fresh)",
                )
                .bind(kiosk_id)
                .bind(nonce)
                .bind(now)
                .bind(keep_secs)
                .bind(super::batch::SEEN_EVERY)
                .fetch_one(pg)
                .await?;
                return Ok(fresh);
            }
        };
        s.nonces
            .loaded
            .get_or_try_init(|| self.load_nonces(now - keep_secs))
            .await?;
        let fresh = match s.nonces.seen.lock() {
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
        if s.batch.send(job).await.is_err() {
            return Err(stopped());
        }
        committed.await.map_err(|_| stopped())??;
        Ok(true)
    }

    /// The nonces the SQLite store holds (from before a restart) into memory.
    async fn load_nonces(&self, since: i64) -> StoreResult<()> {
        let s = self.sqlite()?;
        let rows: Vec<(String, String, i64)> = s.db.read(|c| {
            c.prepare("SELECT kiosk_id, nonce, seen_at FROM nonces WHERE seen_at >= ?")?
                .query_map([since], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
                .collect()
        })?;
        // Not loading them would let a request from before a restart be replayed.
        let mut seen = s
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
            let done = match self.engine() {
                Engine::Sqlite(s) => s.db.write(|c| {
                    c.prepare_cached(
                        "DELETE FROM nonces WHERE rowid IN
                         (SELECT rowid FROM nonces WHERE seen_at < ? LIMIT 2000)",
                    )?
                    .execute([before])
                    .map(|n| n as u64)
                })?,
                Engine::Postgres(pg) => sqlx::query(
                    "DELETE FROM nonces WHERE ctid IN
                     (SELECT ctid FROM nonces WHERE seen_at < $1 LIMIT 2000)",
                )
                .bind(before)
                .execute(pg)
                .await?
                .rows_affected(),
            };
            if done < 2000 {
                return Ok(());
            }
            // Let requests have the writer between slices.
            tokio::task::yield_now().await;
        }
    }
}
