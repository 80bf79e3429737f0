use super::{Store, StoreResult};

impl Store {
    pub async fn count_events(&self, key: &str, kind: &str, since: i64) -> StoreResult<i64> {
        sqlx::query_scalar(
            "SELECT COUNT(*) FROM throttle_events WHERE key = ? AND kind = ? AND at > ?",
        )
        .bind(key)
        .bind(kind)
        .bind(since)
        .fetch_one(&self.pool)
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
        .fetch_one(&self.pool)
        .await
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

    /// When the block on `key` ends, if one is in force at `now`.
    pub async fn blocked_until(&self, key: &str, now: i64) -> StoreResult<Option<i64>> {
        sqlx::query_scalar("SELECT MAX(until) FROM blocks WHERE key = ? AND until > ?")
            .bind(key)
            .bind(now)
            .fetch_one(&self.pool)
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
