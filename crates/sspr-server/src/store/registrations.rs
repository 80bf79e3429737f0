use sspr_proto::MethodKind;

use super::{Store, StoreResult};

/// A method a person registered. For TOTP, `value` is the base32 secret.
#[derive(Clone, sqlx::FromRow)]
pub struct Registration {
    pub id: i64,
    pub user_id: String,
    pub kind: String,
    pub value: String,
    pub label: String,
    pub created_at: i64,
}

impl Registration {
    pub fn kind(&self) -> Option<MethodKind> {
        MethodKind::parse(&self.kind)
    }
}

impl std::fmt::Debug for Registration {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registration")
            .field("id", &self.id)
            .field("user_id", &self.user_id)
            .field("kind", &self.kind)
            .field("label", &self.label)
            .finish_non_exhaustive()
    }
}

impl Store {
    pub async fn registrations(&self, user_id: &str) -> StoreResult<Vec<Registration>> {
        sqlx::query_as::<_, Registration>(
            "SELECT id, user_id, kind, value, label, created_at FROM registrations WHERE user_id = ? ORDER BY id",
        )
        .bind(user_id)
        .fetch_all(&self.read)
        .await
    }

    /// Every registration of a kind (to keep a passkey to one person).
    pub async fn registrations_of_kind(&self, kind: MethodKind) -> StoreResult<Vec<Registration>> {
        sqlx::query_as::<_, Registration>(
            "SELECT id, user_id, kind, value, label, created_at FROM registrations WHERE kind = ?",
        )
        .bind(kind.as_str())
        .fetch_all(&self.read)
        .await
    }

    pub async fn registration(&self, id: i64) -> StoreResult<Option<Registration>> {
        sqlx::query_as::<_, Registration>(
            "SELECT id, user_id, kind, value, label, created_at FROM registrations WHERE id = ?",
        )
        .bind(id)
        .fetch_optional(&self.read)
        .await
    }

    pub async fn add_registration(
        &self,
        user_id: &str,
        kind: MethodKind,
        value: &str,
        label: &str,
        now: i64,
    ) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO registrations (user_id, kind, value, label, created_at) VALUES (?, ?, ?, ?, ?)
             ON CONFLICT (user_id, kind, value) DO NOTHING",
        )
        .bind(user_id)
        .bind(kind.as_str())
        .bind(value)
        .bind(label)
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Replaces a registration's value (a passkey whose signature counter moved).
    pub async fn update_registration(&self, id: i64, value: &str) -> StoreResult<()> {
        sqlx::query("UPDATE registrations SET value = ? WHERE id = ?")
            .bind(value)
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Removes one of a person's registrations; false when they have no such one.
    pub async fn remove_registration(&self, user_id: &str, id: i64) -> StoreResult<bool> {
        let done = sqlx::query("DELETE FROM registrations WHERE id = ? AND user_id = ?")
            .bind(id)
            .bind(user_id)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Marks an authenticator time step used; false when it was used before.
    pub async fn use_totp_step(&self, user_id: &str, step: i64, now: i64) -> StoreResult<bool> {
        let done = sqlx::query(
            "INSERT INTO totp_used (user_id, step, used_at) VALUES (?, ?, ?)
             ON CONFLICT (user_id, step) DO NOTHING",
        )
        .bind(user_id)
        .bind(step)
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }
}
