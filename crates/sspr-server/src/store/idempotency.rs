//! Kiosk requests with an Idempotency-Key: the first is handled, a repeat gets its answer.

use rusqlite::{params, OptionalExtension};

use super::{Store, StoreResult};

/// What a request with a key finds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// The first with this key: handle it, then `finish_idempotent` (or release).
    First,
    /// Handled before: this was the answer.
    Answered { status: u16, body: Vec<u8> },
    /// The first with this key is still being handled.
    InProgress,
    /// The key was used for another request (another path or body).
    Mismatch,
}

/// A kept row: the request's hash, its answer's status and body (None while it runs),
/// and when it was first claimed.
type Kept = (String, Option<i64>, Option<Vec<u8>>, i64);

/// A claim left unfinished this long (its process died) may be taken over: longer than
/// any step can run (a directory's timeout is two minutes at most, per operation).
const ABANDONED_SECS: i64 = 900;

impl Store {
    pub async fn claim_idempotent(
        &self,
        kiosk_id: &str,
        key: &str,
        request_hash: &str,
        now: i64,
    ) -> StoreResult<Claim> {
        let (kiosk_id, key, hash) = (kiosk_id.to_owned(), key.to_owned(), request_hash.to_owned());
        self.write_batched(move |c| {
            let inserted = c
                .prepare_cached(
                    "INSERT INTO idempotency (kiosk_id, key, request_hash, created_at)
                     VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
                )?
                .execute(params![kiosk_id, key, hash, now])?;
            if inserted == 1 {
                return Ok(Claim::First);
            }
            let row: Option<Kept> = c
                .prepare_cached(
                    "SELECT request_hash, status, body, created_at FROM idempotency
                     WHERE kiosk_id = ? AND key = ?",
                )?
                .query_row(params![kiosk_id, key], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
                })
                .optional()?;
            Ok(match row {
                None => Claim::InProgress,
                Some((h, _, _, _)) if h != hash => Claim::Mismatch,
                Some((_, Some(status), body, _)) => Claim::Answered {
                    status: u16::try_from(status).unwrap_or(500),
                    body: body.unwrap_or_default(),
                },
                Some((_, None, _, created_at)) if created_at < now - ABANDONED_SECS => {
                    c.prepare_cached(
                        "UPDATE idempotency SET created_at = ? WHERE kiosk_id = ? AND key = ?",
                    )?
                    .execute(params![now, kiosk_id, key])?;
                    Claim::First
                }
                Some(_) => Claim::InProgress,
            })
        })
        .await
    }

    /// Keeps the answer for repeats.
    pub async fn finish_idempotent(
        &self,
        kiosk_id: &str,
        key: &str,
        status: u16,
        body: Vec<u8>,
    ) -> StoreResult<()> {
        let (kiosk_id, key) = (kiosk_id.to_owned(), key.to_owned());
        self.write_batched(move |c| {
            c.prepare_cached(
                "UPDATE idempotency SET status = ?, body = ? WHERE kiosk_id = ? AND key = ?",
            )?
            .execute(params![i64::from(status), body, kiosk_id, key])
        })
        .await?;
        Ok(())
    }

    /// Forgets a claim whose request failed on the server's side: a repeat runs again.
    pub async fn release_idempotent(&self, kiosk_id: &str, key: &str) -> StoreResult<()> {
        let (kiosk_id, key) = (kiosk_id.to_owned(), key.to_owned());
        self.write_batched(move |c| {
            c.prepare_cached("DELETE FROM idempotency WHERE kiosk_id = ? AND key = ?")?
                .execute(params![kiosk_id, key])
        })
        .await?;
        Ok(())
    }

    pub async fn purge_idempotent_before(&self, before: i64) -> StoreResult<()> {
        self.db.write(|c| {
            c.prepare_cached("DELETE FROM idempotency WHERE created_at < ?")?
                .execute([before])
        })?;
        Ok(())
    }
}
