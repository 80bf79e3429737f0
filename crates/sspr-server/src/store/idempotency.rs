//! Kiosk requests with an Idempotency-Key: the first is handled, a repeat gets its answer.

use rusqlite::{params, OptionalExtension};

use super::{Engine, Store, StoreResult};

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
        if let Engine::Postgres(pg) = self.engine() {
            return claim_on_postgres(pg, kiosk_id, key, request_hash, now).await;
        }
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
        if let Engine::Postgres(pg) = self.engine() {
            sqlx::query(
                "UPDATE idempotency SET status = $1, body = $2 WHERE kiosk_id = $3 AND key = $4",
            )
            .bind(i64::from(status))
            .bind(body)
            .bind(kiosk_id)
            .bind(key)
            .execute(pg)
            .await?;
            return Ok(());
        }
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
        if let Engine::Postgres(pg) = self.engine() {
            sqlx::query("DELETE FROM idempotency WHERE kiosk_id = $1 AND key = $2")
                .bind(kiosk_id)
                .bind(key)
                .execute(pg)
                .await?;
            return Ok(());
        }
        let (kiosk_id, key) = (kiosk_id.to_owned(), key.to_owned());
        self.write_batched(move |c| {
            c.prepare_cached("DELETE FROM idempotency WHERE kiosk_id = ? AND key = ?")?
                .execute(params![kiosk_id, key])
        })
        .await?;
        Ok(())
    }

    pub async fn purge_idempotent_before(&self, before: i64) -> StoreResult<()> {
        match self.engine() {
            Engine::Sqlite(s) => {
                s.db.write(|c| {
                    c.prepare_cached("DELETE FROM idempotency WHERE created_at < ?")?
                        .execute([before])
                })?;
            }
            Engine::Postgres(pg) => {
                sqlx::query("DELETE FROM idempotency WHERE created_at < $1")
                    .bind(before)
                    .execute(pg)
                    .await?;
            }
        }
        Ok(())
    }
}

/// `Store::claim_idempotent` on PostgreSQL, in one transaction. Processes racing for one
/// key: the insert lets one through; taking over an abandoned claim is conditional on the
/// claim read, so only one of two racing takes it.
async fn claim_on_postgres(
    pg: &sqlx::PgPool,
    kiosk_id: &str,
    key: &str,
    hash: &str,
    now: i64,
) -> StoreResult<Claim> {
    let mut tx = pg.begin().await?;
    let inserted = sqlx::query(
        "INSERT INTO idempotency (kiosk_id, key, request_hash, created_at)
         VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
    )
    .bind(kiosk_id)
    .bind(key)
    .bind(hash)
    .bind(now)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if inserted == 1 {
        tx.commit().await?;
        return Ok(Claim::First);
    }
    let row: Option<Kept> = sqlx::query_as(
        "SELECT request_hash, status, body, created_at FROM idempotency
         WHERE kiosk_id = $1 AND key = $2",
    )
    .bind(kiosk_id)
    .bind(key)
    .fetch_optional(&mut *tx)
    .await?;
    let claim = match row {
        None => Claim::InProgress,
        Some((h, _, _, _)) if h != hash => Claim::Mismatch,
        Some((_, Some(status), body, _)) => Claim::Answered {
            status: u16::try_from(status).unwrap_or(500),
            body: body.unwrap_or_default(),
        },
        Some((_, None, _, created_at)) if created_at < now - ABANDONED_SECS => {
            let taken = sqlx::query(
                "UPDATE idempotency SET created_at = $1
                 WHERE kiosk_id = $2 AND key = $3 AND created_at = $4 AND status IS NULL",
            )
            .bind(now)
            .bind(kiosk_id)
            .bind(key)
            .bind(created_at)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if taken == 1 {
                Claim::First
            } else {
                Claim::InProgress
            }
        }
        Some(_) => Claim::InProgress,
    };
    tx.commit().await?;
    Ok(claim)
}
