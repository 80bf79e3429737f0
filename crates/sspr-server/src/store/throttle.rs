use rusqlite::params;

use super::{Engine, Store, StoreResult};

impl Store {
    pub async fn count_events(&self, key: &str, kind: &str, since: i64) -> StoreResult<i64> {
        match self.engine() {
            Engine::Sqlite(s) => s.db.read(|c| {
                c.prepare_cached(
                    "SELECT COUNT(*) FROM throttle_events WHERE key = ? AND kind = ? AND at > ?",
                )?
                .query_row(params![key, kind, since], |r| r.get(0))
            }),
            Engine::Postgres(pg) => Ok(sqlx::query_scalar(
                "SELECT COUNT(*) FROM throttle_events WHERE key = $1 AND kind = $2 AND at > $3",
            )
            .bind(key)
            .bind(kind)
            .bind(since)
            .fetch_one(pg)
            .await?),
        }
    }

    /// The oldest event inside the window: when it leaves, one more is allowed.
    pub async fn oldest_event(
        &self,
        key: &str,
        kind: &str,
        since: i64,
    ) -> StoreResult<Option<i64>> {
        match self.engine() {
            Engine::Sqlite(s) => s.db.read(|c| {
                c.prepare_cached(
                    "SELECT MIN(at) FROM throttle_events WHERE key = ? AND kind = ? AND at > ?",
                )?
                .query_row(params![key, kind, since], |r| r.get(0))
            }),
            Engine::Postgres(pg) => Ok(sqlx::query_scalar(
                "SELECT MIN(at) FROM throttle_events WHERE key = $1 AND kind = $2 AND at > $3",
            )
            .bind(key)
            .bind(kind)
            .bind(since)
            .fetch_one(pg)
            .await?),
        }
    }

    /// For two keys at once, each with its own window start: (events in the window, the
    /// oldest of them) per key, in one statement.
    pub async fn windows(
        &self,
        kind: &str,
        (a, a_since): (&str, i64),
        (b, b_since): (&str, i64),
    ) -> StoreResult<[(i64, Option<i64>); 2]> {
        match self.engine() {
            Engine::Sqlite(s) => s.db.read(|c| {
                c.prepare_cached(
                    "SELECT COUNT(*) FILTER (WHERE key = ?1 AND at > ?2),
                            MIN(at) FILTER (WHERE key = ?1 AND at > ?2),
                            COUNT(*) FILTER (WHERE key = ?3 AND at > ?4),
                            MIN(at) FILTER (WHERE key = ?3 AND at > ?4)
                     FROM throttle_events
                     WHERE (key = ?1 AND kind = ?5 AND at > ?2) OR (key = ?3 AND kind = ?5 AND at > ?4)",
                )?
                .query_row(params![a, a_since, b, b_since, kind], |r| {
                    Ok([(r.get(0)?, r.get(1)?), (r.get(2)?, r.get(3)?)])
                })
            }),
            Engine::Postgres(pg) => {
                let (a_count, a_oldest, b_count, b_oldest): (i64, Option<i64>, i64, Option<i64>) =
                    sqlx::query_as(
                        "SELECT COUNT(*) FILTER (WHERE key = $1 AND at > $2),
                                MIN(at) FILTER (WHERE key = $1 AND at > $2),
                                COUNT(*) FILTER (WHERE key = $3 AND at > $4),
                                MIN(at) FILTER (WHERE key = $3 AND at > $4)
                         FROM throttle_events
                         WHERE (key = $1 AND kind = $5 AND at > $2) OR (key = $3 AND kind = $5 AND at > $4)",
                    )
                    .bind(a)
                    .bind(a_since)
                    .bind(b)
                    .bind(b_since)
                    .bind(kind)
                    .fetch_one(pg)
                    .await?;
                Ok([(a_count, a_oldest), (b_count, b_oldest)])
            }
        }
    }

    /// Several events in one transaction.
    pub async fn add_events(&self, events: &[(&str, &str, i64)]) -> StoreResult<()> {
        if events.is_empty() {
            return Ok(());
        }
        let events: Vec<(String, String, i64)> = events
            .iter()
            .map(|(key, kind, at)| ((*key).to_owned(), (*kind).to_owned(), *at))
            .collect();
        match self.engine() {
            Engine::Sqlite(_) => {
                self.write_batched(move |c| {
                    let mut insert = c.prepare_cached(
                        "INSERT INTO throttle_events (key, kind, at) VALUES (?, ?, ?)",
                    )?;
                    for (key, kind, at) in &events {
                        insert.execute(params![key, kind, at])?;
                    }
                    Ok(())
                })
                .await
            }
            Engine::Postgres(pg) => {
                // One statement, so one transaction, whatever their number.
                let (keys, rest): (Vec<String>, Vec<(String, i64)>) = events
                    .into_iter()
                    .map(|(key, kind, at)| (key, (kind, at)))
                    .unzip();
                let (kinds, ats): (Vec<String>, Vec<i64>) = rest.into_iter().unzip();
                sqlx::query(
                    "INSERT INTO throttle_events (key, kind, at)
                     SELECT * FROM UNNEST($1::TEXT[], $2::TEXT[], $3::BIGINT[])",
                )
                .bind(keys)
                .bind(kinds)
                .bind(ats)
                .execute(pg)
                .await?;
                Ok(())
            }
        }
    }

    pub async fn add_event(&self, key: &str, kind: &str, at: i64) -> StoreResult<()> {
        self.add_events(&[(key, kind, at)]).await
    }

    pub async fn clear_events(&self, key: &str, kinds: &[&str]) -> StoreResult<()> {
        let key = key.to_owned();
        let kinds: Vec<String> = kinds.iter().map(|k| (*k).to_owned()).collect();
        match self.engine() {
            Engine::Sqlite(_) => {
                self.write_batched(move |c| {
                    let mut delete =
                        c.prepare_cached("DELETE FROM throttle_events WHERE key = ? AND kind = ?")?;
                    for kind in &kinds {
                        delete.execute([&key, kind])?;
                    }
                    Ok(())
                })
                .await
            }
            Engine::Postgres(pg) => {
                sqlx::query("DELETE FROM throttle_events WHERE key = $1 AND kind = ANY($2)")
                    .bind(key)
                    .bind(kinds)
                    .execute(pg)
                    .await?;
                Ok(())
            }
        }
    }

    pub async fn block(&self, key: &str, kind: &str, until: i64) -> StoreResult<()> {
        let (key, kind) = (key.to_owned(), kind.to_owned());
        match self.engine() {
            Engine::Sqlite(_) => {
                self.write_batched(move |c| {
                    c.prepare_cached(
                        "INSERT INTO blocks (key, kind, until) VALUES (?, ?, ?)
                         ON CONFLICT (key, kind) DO UPDATE SET until = MAX(until, excluded.until)",
                    )?
                    .execute(params![key, kind, until])
                    .map(|_| ())
                })
                .await
            }
            Engine::Postgres(pg) => {
                sqlx::query(
                    "INSERT INTO blocks (key, kind, until) VALUES ($1, $2, $3)
                     ON CONFLICT (key, kind)
                         DO UPDATE SET until = GREATEST(blocks.until, EXCLUDED.until)",
                )
                .bind(key)
                .bind(kind)
                .bind(until)
                .execute(pg)
                .await?;
                Ok(())
            }
        }
    }

    /// When the later block on either key ends, if one is in force at `now`.
    pub async fn blocked_until_either(
        &self,
        a: &str,
        b: &str,
        now: i64,
    ) -> StoreResult<Option<i64>> {
        match self.engine() {
            Engine::Sqlite(s) => s.db.read(|c| {
                c.prepare_cached("SELECT MAX(until) FROM blocks WHERE key IN (?, ?) AND until > ?")?
                    .query_row(params![a, b, now], |r| r.get(0))
            }),
            Engine::Postgres(pg) => Ok(sqlx::query_scalar(
                "SELECT MAX(until) FROM blocks WHERE key IN ($1, $2) AND until > $3",
            )
            .bind(a)
            .bind(b)
            .bind(now)
            .fetch_one(pg)
            .await?),
        }
    }

    pub async fn purge_events_before(&self, before: i64) -> StoreResult<()> {
        match self.engine() {
            Engine::Sqlite(s) => {
                s.db.write(|c| {
                    c.prepare_cached("DELETE FROM throttle_events WHERE at < ?")?
                        .execute([before])?;
                    c.prepare_cached("DELETE FROM blocks WHERE until < ?")?
                        .execute([before])
                })?;
            }
            Engine::Postgres(pg) => {
                let mut tx = pg.begin().await?;
                sqlx::query("DELETE FROM throttle_events WHERE at < $1")
                    .bind(before)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query("DELETE FROM blocks WHERE until < $1")
                    .bind(before)
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
            }
        }
        Ok(())
    }
}
