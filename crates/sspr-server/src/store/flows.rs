use serde::{Deserialize, Serialize};
use sspr_proto::MethodKind;

use super::{Store, StoreResult};

/// A method offered in a flow. `target` is where a code goes (an address) or which
/// registration holds the secret; it never leaves the server.
#[derive(Clone, Serialize, Deserialize)]
pub struct FlowMethod {
    pub id: String,
    pub kind: MethodKind,
    pub target: String,
    pub masked: String,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct FlowRow {
    pub id: String,
    pub reference: String,
    pub kiosk_id: String,
    pub login: String,
    /// The directory's id of the person; None for a decoy flow.
    pub user_id: Option<String>,
    pub throttle_key: String,
    pub intent: String,
    pub locale: String,
    pub state: String,
    pub required: i64,
    /// JSON list of `FlowMethod`.
    pub methods: String,
    /// JSON list of verified method ids.
    pub done: String,
    pub is_admin: bool,
    pub created_at: i64,
    pub expires_at: i64,
    pub finished_at: Option<i64>,
}

impl FlowRow {
    pub fn methods(&self) -> Vec<FlowMethod> {
        serde_json::from_str(&self.methods).unwrap_or_default()
    }

    pub fn done(&self) -> Vec<String> {
        serde_json::from_str(&self.done).unwrap_or_default()
    }
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ChallengeRow {
    pub id: String,
    pub flow_id: String,
    pub method_id: String,
    pub kind: String,
    pub code_hash: Option<String>,
    pub created_at: i64,
    pub expires_at: i64,
    pub used_at: Option<i64>,
    pub failures: i64,
}

const FLOW_COLUMNS: &str =
    "id, reference, kiosk_id, login, user_id, throttle_key, intent, locale, \
    state, required, methods, done, is_admin, created_at, expires_at, finished_at";
const CHALLENGE_COLUMNS: &str =
    "id, flow_id, method_id, kind, code_hash, created_at, expires_at, used_at, failures";

impl Store {
    pub async fn insert_flow(&self, f: &FlowRow) -> StoreResult<()> {
        sqlx::query(&format!(
            "INSERT INTO flows ({FLOW_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        ))
        .bind(&f.id)
        .bind(&f.reference)
        .bind(&f.kiosk_id)
        .bind(&f.login)
        .bind(&f.user_id)
        .bind(&f.throttle_key)
        .bind(&f.intent)
        .bind(&f.locale)
        .bind(&f.state)
        .bind(f.required)
        .bind(&f.methods)
        .bind(&f.done)
        .bind(f.is_admin)
        .bind(f.created_at)
        .bind(f.expires_at)
        .bind(f.finished_at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub async fn flow(&self, id: &str) -> StoreResult<Option<FlowRow>> {
        sqlx::query_as::<_, FlowRow>(&format!("SELECT {FLOW_COLUMNS} FROM flows WHERE id = ?"))
            .bind(id)
            .fetch_optional(&self.read)
            .await
    }

    /// Moves a flow from `from` state to `to`, with its verified list; false when another
    /// request moved it first (so a step can't be taken twice).
    pub async fn update_flow_state(
        &self,
        id: &str,
        from: &str,
        to: &str,
        done: &str,
        finished_at: Option<i64>,
    ) -> StoreResult<bool> {
        let r = sqlx::query(
            "UPDATE flows SET state = ?, done = ?, finished_at = ? WHERE id = ? AND state = ?",
        )
        .bind(to)
        .bind(done)
        .bind(finished_at)
        .bind(id)
        .bind(from)
        .execute(&self.pool)
        .await?;
        Ok(r.rows_affected() == 1)
    }

    pub async fn insert_challenge(&self, c: &ChallengeRow) -> StoreResult<()> {
        sqlx::query(&format!(
            "INSERT INTO challenges ({CHALLENGE_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
        ))
        .bind(&c.id)
        .bind(&c.flow_id)
        .bind(&c.method_id)
        .bind(&c.kind)
        .bind(&c.code_hash)
        .bind(c.created_at)
        .bind(c.expires_at)
        .bind(c.used_at)
        .bind(c.failures)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub async fn challenge(&self, flow_id: &str, id: &str) -> StoreResult<Option<ChallengeRow>> {
        sqlx::query_as::<_, ChallengeRow>(&format!(
            "SELECT {CHALLENGE_COLUMNS} FROM challenges WHERE id = ? AND flow_id = ?"
        ))
        .bind(id)
        .bind(flow_id)
        .fetch_optional(&self.read)
        .await
    }

    /// The newest challenge of a method in a flow.
    pub async fn last_challenge(
        &self,
        flow_id: &str,
        method_id: &str,
    ) -> StoreResult<Option<ChallengeRow>> {
        sqlx::query_as::<_, ChallengeRow>(&format!(
            "SELECT {CHALLENGE_COLUMNS} FROM challenges WHERE flow_id = ? AND method_id = ?
             ORDER BY created_at DESC, rowid DESC LIMIT 1"
        ))
        .bind(flow_id)
        .bind(method_id)
        .fetch_optional(&self.read)
        .await
    }

    /// Spends a challenge; false when it was spent already.
    pub async fn use_challenge(&self, id: &str, now: i64) -> StoreResult<bool> {
        let r = sqlx::query("UPDATE challenges SET used_at = ? WHERE id = ? AND used_at IS NULL")
            .bind(now)
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(r.rows_affected() == 1)
    }

    pub async fn fail_challenge(&self, id: &str) -> StoreResult<i64> {
        let failures: i64 = sqlx::query_scalar(
            "UPDATE challenges SET failures = failures + 1 WHERE id = ? RETURNING failures",
        )
        .bind(id)
        .fetch_one(&self.pool)
        .await?;
        Ok(failures)
    }

    /// Expired flows and their challenges go after a day; the audit keeps the story.
    pub async fn purge_flows_before(&self, before: i64) -> StoreResult<()> {
        sqlx::query("DELETE FROM flows WHERE expires_at < ?")
            .bind(before)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}
