use rusqlite::params;

use super::{Store, StoreResult};

impl Store {
    pub async fn count_events(&self, key: &str, kind: &str, since: i64) -> StoreResult<i64> {
        self.db.read(|c| {
            c.prepare_cached(
                "SELECT COUNT(*) FROM throttle_events WHERE key = ? AND kind = ? AND at > ?",
            )?
            .query_row(params![key, kind, since], |r| r.get(0))
        })
    }

    /// The oldest event inside the window: when it leaves, one more is allowed.
    pub async fn oldest_event(
        &self,
        key: &str,
        kind: &str,
        since: i64,
    ) -> StoreResult<Option<i64>> {
        self.db.read(|c| {
            c.prepare_cached(
                "SELECT MIN(at) FROM throttle_events WHERE key = ? AND kind = ? AND at > ?",
            )?
            .query_row(params![key, kind, since], |r| r.get(0))
        })
    }

    /// For two keys at once, each with its own window start: (events in the window, the
    /// oldest of them) per key, in one statement.
    pub async fn windows(
        &self,
        kind: &str,
        (a, a_since): (&str, i64),
        (b, b_since): (&str, i64),
    ) -> StoreResult<[(i64, Option<i64>); 2]> {
        self.db.read(|c| {
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
        })
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
        self.write_batched(move |c| {
            let mut insert =
                c.prepare_cached("INSERT INTO throttle_events (key, kind, at) VALUES (?, ?, ?)")?;
            for (key, kind, at) in &events {
                insert.execute(params![key, kind, at])?;
            }
            Ok(())
        })
        .await
    }

    pub async fn add_event(&self, key: &str, kind: &str, at: i64) -> StoreResult<()> {
        self.add_events(&[(key, kind, at)]).await
    }

    pub async fn clear_events(&self, key: &str, kinds: &[&str]) -> StoreResult<()> {
        let key = key.to_owned();
        let kinds: Vec<String> = kinds.iter().map(|k| (*k).to_owned()).collect();
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

    pub async fn block(&self, key: &str, kind: &str, until: i64) -> StoreResult<()> {
        let (key, kind) = (key.to_owned(), kind.to_owned());
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

    /// When the later block on either key ends, if one is in force at `now`.
    pub async fn blocked_until_either(
        &self,
        a: &str,
        b: &str,
        now: i64,
    ) -> StoreResult<Option<i64>> {
        self.db.read(|c| {
            c.prepare_cached("SELECT MAX(until) FROM blocks WHERE key IN (?, ?) AND until > ?")?
                .query_row(params![a, b, now], |r| r.get(0))
        })
    }

    pub async fn purge_events_before(&self, before: i64) -> StoreResult<()> {
        self.db.write(|c| {
            c.prepare_cached("DELETE FROM throttle_events WHERE at < ?")?
                .execute([before])?;
            c.prepare_cached("DELETE FROM blocks WHERE until < ?")?
                .execute([before])
        })?;
        Ok(())
    }
}
