//! Per-directory progress of a flow's writeback (linked directories).

use super::{Store, StoreResult};

impl Store {
    /// Directories that hold this flow's new password already, with the password's mac.
    pub async fn written_directories(&self, flow_id: &str) -> StoreResult<Vec<(String, String)>> {
        sqlx::query_as(
            "SELECT directory, password_mac FROM flow_writes WHERE flow_id = ? ORDER BY directory",
        )
        .bind(flow_id)
        .fetch_all(self.pool())
        .await
    }

    pub async fn record_written(
        &self,
        flow_id: &str,
        directory: &str,
        password_mac: &str,
        now: i64,
    ) -> StoreResult<()> {
        sqlx::query(
            "INSERT OR REPLACE INTO flow_writes (flow_id, directory, password_mac, written_at) VALUES (?, ?, ?, ?)",
        )
        .bind(flow_id)
        .bind(directory)
        .bind(password_mac)
        .bind(now)
        .execute(self.pool())
        .await
        .map(|_| ())
    }

    pub async fn forget_written(&self, flow_id: &str) -> StoreResult<()> {
        sqlx::query("DELETE FROM flow_writes WHERE flow_id = ?")
            .bind(flow_id)
            .execute(self.pool())
            .await
            .map(|_| ())
    }
}
