use super::{Store, StoreResult};

impl Store {
    pub async fn count_events(&self, key: &str, kind: &str, since: i64) -> StoreResult<i64> {
        sqlx::query_scalar(
            "SELECT COUNT(*) FROM throttle_events WHERE key = ? AND kind = ? AND at > ?",
        )
        .bind(key)
        .bind(kind)
        .bind(since)
        .fetch_one(&self.read)
        .await
    }

    /// The oldest event inside the window: when it leaves, one more is allowed.
    pub async fn oldest_event(
        &self,
        key: &str,
        kind: &str,
        since: i64,
    ) -> StoreResult<Option<i64>> {
        sqlx::query_scalar(
            "SELECT MIN(at) FROM throttle_events WHERE key = ? AND kind = ? AND at > ?",
        )
        .bind(key)
        .bind(kind)
        .bind(since)
        .fetch_one(&self.read)
        .await
    }

    /// For two keys at once, each with its own window start: (events in the window, the
    /// oldest of them) per key, in one statement.
    pub async fn windows(
        &self,
        kind: &str,
        (a, a_since): (&str, i64),
        (b, b_since): (&str, i64),
    ) -> StoreResult<[(i64, Option<i64>); 2]> {
        let (ac, ao, bc, bo): (i64, Option<i64>, i64, Option<i64>) = sqlx::query_as(
            "SELECT COUNT(*) FILTER (WHERE key = ?1 AND at > ?2),
                    MIN(at) FILTER (WHERE key = ?1 AND at > ?2),
                    COUNT(*) FILTER (WHERE key = ?3 AND at > ?4),
                    MIN(at) FILTER (WHERE key = ?3 AND at > ?4)
             FROM throttle_events
             WHERE (key = ?1 AND kind = ?5 AND at > ?2) OR (key = ?3 AND kind = ?5 AND at > ?4)",
        )
        .bind(a)
        .bind(a_since)
        .bind(b)
        .bind(b_since)
        .bind(kind)
        .fetch_one(&self.read)
        .await?;
        Ok([(ac, ao), (bc, bo)])
    }

    /// Several events in one statement.
    pub async fn add_events(&self, events: &[(&str, &str, i64)]) -> StoreResult<()> {
        if events.is_empty() {
            return Ok(());
        }
        let mut q =
            sqlx::QueryBuilder::<sqlx::Sqlite>::new("INSERT INTO throttle_events (key, kind, at) ");
        q.push_values(events, |mut b, (key, kind, at)| {
            b.push_bind(*key).push_bind(*kind).push_bind(*at);
        });
        q.build().execute(&self.pool).await?;
        Ok(())
    }

    pub async fn add_event(&self, key: &str, kind: &str, at: i64) -> StoreResult<()> {
        sqlx::query("INSERT INTO throttle_events (key, kind, at) VALUES (?, ?, ?)")
            .bind(key)
            .bind(kind)
            .bind(at)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub async fn clear_events(&self, key: &str, kinds: &[&str]) -> StoreResult<()> {
        for kind in kinds {
            sqlx::query("DELETE FROM throttle_events WHERE key = ? AND kind = ?")
                .bind(key)
                .bind(kind)
                .execute(&self.pool)
                .await?;
        }
        Ok(())
    }

    pub async fn block(&self, key: &str, kind: &str, until: i64) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO blocks (key, kind, until) VALUES (?, ?, ?)
             ON CONFLICT (key, kind) DO UPDATE SET until = MAX(until, excluded.until)",
        )
        .bind(key)
        .bind(kind)
        .bind(until)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// When the later block on either key ends, if one is in force at `now`.
    pub async fn blocked_until_either(
        &self,
        a: &str,
        b: &str,
        now: i64,
    ) -> StoreResult<Option<i64>> {
        sqlx::query_scalar("SELECT MAX(until) FROM blocks WHERE key IN (?, ?) AND until > ?")
            .bind(a)
            .bind(b)
            .bind(now)
            .fetch_one(&self.read)
            .await
    }

    pub async fn purge_events_before(&self, before: i64) -> StoreResult<()> {
        sqlx::query("DELETE FROM throttle_events WHERE at < ?")
            .bind(before)
            .execute(&self.pool)
            .await?;
        sqlx::query("DELETE FROM blocks WHERE until < ?")
            .bind(before)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}
