use super::{Store, StoreResult};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct KioskRow {
    pub id: String,
    pub name: String,
    pub location: String,
    pub public_key: Option<Vec<u8>>,
    pub created_at: i64,
    pub enrolled_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

const COLUMNS: &str = "id, name, location, public_key, created_at, enrolled_at, revoked_at";

impl Store {
    pub async fn create_pending_kiosk(
        &self,
        id: &str,
        name: &str,
        location: &str,
        code_hash: &str,
        code_expires_at: i64,
        now: i64,
    ) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO kiosks (id, name, location, code_hash, code_expires_at, created_at)
             VALUES (?, ?, ?, ?, ?, ?)",
        )
        .bind(id)
        .bind(name)
        .bind(location)
        .bind(code_hash)
        .bind(code_expires_at)
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Spends an enrollment code: stores the key once, only while the code is valid.
    pub async fn enroll_kiosk(
        &self,
        code_hash: &str,
        public_key: &[u8],
        now: i64,
    ) -> StoreResult<Option<KioskRow>> {
        let row = sqlx::query_as::<_, KioskRow>(&format!(
            "UPDATE kiosks SET public_key = ?, enrolled_at = ?, code_hash = NULL, code_expires_at = NULL
             WHERE code_hash = ? AND code_expires_at > ? AND revoked_at IS NULL
             RETURNING {COLUMNS}"
        ))
        .bind(public_key)
        .bind(now)
        .bind(code_hash)
        .bind(now)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row)
    }

    pub async fn kiosk(&self, id: &str) -> StoreResult<Option<KioskRow>> {
        sqlx::query_as::<_, KioskRow>(&format!("SELECT {COLUMNS} FROM kiosks WHERE id = ?"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await
    }

    pub async fn kiosks(&self) -> StoreResult<Vec<KioskRow>> {
        sqlx::query_as::<_, KioskRow>(&format!("SELECT {COLUMNS} FROM kiosks ORDER BY created_at"))
            .fetch_all(&self.pool)
            .await
    }

    pub async fn revoke_kiosk(&self, id: &str, now: i64) -> StoreResult<bool> {
        let done = sqlx::query(
            "UPDATE kiosks SET revoked_at = ?, code_hash = NULL WHERE id = ? AND revoked_at IS NULL",
        )
        .bind(now)
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Records a signature nonce; false when it was seen before (a replay).
    pub async fn remember_nonce(&self, kiosk_id: &str, nonce: &str, now: i64) -> StoreResult<bool> {
        let done = sqlx::query(
            "INSERT INTO nonces (kiosk_id, nonce, seen_at) VALUES (?, ?, ?)
             ON CONFLICT (kiosk_id, nonce) DO NOTHING",
        )
        .bind(kiosk_id)
        .bind(nonce)
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    pub async fn forget_nonces_before(&self, before: i64) -> StoreResult<()> {
        sqlx::query("DELETE FROM nonces WHERE seen_at < ?")
            .bind(before)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}
