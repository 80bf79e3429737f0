//! Per-directory progress of a flow's writeback (linked directories).

use rusqlite::params;

/// A directory a flow wrote its new password to, or may have (`in_doubt`).
#[derive(Debug, Clone)]
pub struct WrittenTo {
    pub directory: String,
    pub password_mac: String,
    pub in_doubt: bool,
    pub changed_before: Option<i64>,
}

use super::{Engine, Store, StoreResult};

impl Store {
    /// Directories that hold this flow's new password already, with the password's mac.
    pub async fn written_directories(&self, flow_id: &str) -> StoreResult<Vec<WrittenTo>> {
        // Committed before any request reads them (writes return once committed).
        if let Engine::Postgres(pg) = self.engine() {
            let rows: Vec<(String, String, i64, Option<i64>)> = sqlx::query_as(
                "SELECT directory, password_mac, in_doubt, changed_before FROM flow_writes
                 WHERE flow_id = $1 ORDER BY directory COLLATE \"C\"",
            )
            .bind(flow_id)
            .fetch_all(pg)
            .await?;
            return Ok(rows
                .into_iter()
                .map(
                    |(directory, password_mac, in_doubt, changed_before)| WrittenTo {
                        directory,
                        password_mac,
                        in_doubt: in_doubt != 0,
                        changed_before,
                    },
                )
                .collect());
        }
        self.sqlite()?.db.read(|c| {
            c.prepare_cached(
                "SELECT directory, password_mac, in_doubt, changed_before FROM flow_writes
                 WHERE flow_id = ? ORDER BY directory",
            )?
            .query_map([flow_id], |r| {
                Ok(WrittenTo {
                    directory: r.get(0)?,
                    password_mac: r.get(1)?,
                    in_doubt: r.get(2)?,
                    changed_before: r.get(3)?,
                })
            })?
            .collect()
        })
    }

    /// A write to `directory` whose answer was lost; `changed_before` is when the
    /// directory said the password last changed, before the write.
    pub async fn record_in_doubt(
        &self,
        flow_id: &str,
        directory: &str,
        password_mac: &str,
        changed_before: Option<i64>,
        now: i64,
    ) -> StoreResult<()> {
        if let Engine::Postgres(pg) = self.engine() {
            sqlx::query(
                "INSERT INTO flow_writes
                     (flow_id, directory, password_mac, written_at, in_doubt, changed_before)
                 VALUES ($1, $2, $3, $4, 1, $5)
                 ON CONFLICT (flow_id, directory) DO UPDATE SET password_mac = EXCLUDED.password_mac,
                     written_at = EXCLUDED.written_at, in_doubt = 1,
                     changed_before = EXCLUDED.changed_before",
            )
            .bind(flow_id)
            .bind(directory)
            .bind(password_mac)
            .bind(now)
            .bind(changed_before)
            .execute(pg)
            .await?;
            return Ok(());
        }
        let (flow_id, directory) = (flow_id.to_owned(), directory.to_owned());
        let password_mac = password_mac.to_owned();
        self.write_batched(move |c| {
            c.prepare_cached(
                "INSERT OR REPLACE INTO flow_writes
                 (flow_id, directory, password_mac, written_at, in_doubt, changed_before)
                 VALUES (?, ?, ?, ?, 1, ?)",
            )?
            .execute(params![
                flow_id,
                directory,
                password_mac,
                now,
                changed_before
            ])
        })
        .await?;
        Ok(())
    }

    pub async fn record_written(
        &self,
        flow_id: &str,
        directory: &str,
        password_mac: &str,
        now: i64,
    ) -> StoreResult<()> {
        // INSERT OR REPLACE on SQLite: the row anew, its defaults (not in doubt) included.
        if let Engine::Postgres(pg) = self.engine() {
            sqlx::query(
                "INSERT INTO flow_writes (flow_id, directory, password_mac, written_at)
                 VALUES ($1, $2, $3, $4)
                 ON CONFLICT (flow_id, directory) DO UPDATE SET password_mac = EXCLUDED.password_mac,
                     written_at = EXCLUDED.written_at, in_doubt = 0, changed_before = NULL",
            )
            .bind(flow_id)
            .bind(directory)
            .bind(password_mac)
            .bind(now)
            .execute(pg)
            .await?;
            return Ok(());
        }
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
        if let Engine::Postgres(pg) = self.engine() {
            sqlx::query("DELETE FROM flow_writes WHERE flow_id = $1")
                .bind(flow_id)
                .execute(pg)
                .await?;
            return Ok(());
        }
        let flow_id = flow_id.to_owned();
        self.write_batched(move |c| {
            c.prepare_cached("DELETE FROM flow_writes WHERE flow_id = ?")?
                .execute([flow_id])
        })
        .await?;
        Ok(())
    }
}
