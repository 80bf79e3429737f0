//! Per-directory progress of a flow's writeback (linked directories).

use rusqlite::params;

use super::{Store, StoreResult};

impl Store {
    /// Directories that hold this flow's new password already, with the password's mac.
    pub async fn written_directories(&self, flow_id: &str) -> StoreResult<Vec<(String, String)>> {
        // Committed before any request reads them (writes return once committed).
        self.db.read(|c| {
            c.prepare_cached(
                "SELECT directory, password_mac FROM flow_writes WHERE flow_id = ? ORDER BY directory",
            )?
            .query_map([flow_id], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect()
        })
    }

    pub async fn record_written(
        &self,
        flow_id: &str,
        directory: &str,
        password_mac: &str,
        now: i64,
    ) -> StoreResult<()> {
        let (flow_id, directory) = (flow_id.to_owned(), directory.to_owned());
        let password_mac = password_mac.to_owned();
        self.write_batched(move |c| {
            c.prepare_cached(
                "INSERT OR REPLACE INTO flow_writes (flow_id, directory, password_mac, written_at) VALUES (?, ?, ?, ?)",
            )?
            .execute(params![flow_id, directory, password_mac, now])
        })
        .await?;
        Ok(())
    }

    pub async fn forget_written(&self, flow_id: &str) -> StoreResult<()> {
        let flow_id = flow_id.to_owned();
        self.write_batched(move |c| {
            c.prepare_cached("DELETE FROM flow_writes WHERE flow_id = ?")?
                .execute([flow_id])
        })
        .await?;
        Ok(())
    }
}
