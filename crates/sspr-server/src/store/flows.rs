use serde::{Deserialize, Serialize};
use sspr_proto::MethodKind;

use rusqlite::{params, OptionalExtension, Row};

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

#[derive(Debug, Clone)]
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

/// Moves a flow from one state to the next (state, done, finished_at; id, from state):
/// nothing changes when another request moved it first.
const MOVE_FLOW: &str =
    "UPDATE flows SET state = ?, done = ?, finished_at = ? WHERE id = ? AND state = ?";

/// What spending a challenge did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Spent {
    /// Spent, and the flow moved on.
    Moved,
    /// Spent before: nothing changed.
    UsedBefore,
    /// Spent now, but the flow was no longer verifying (another request moved it).
    FlowChanged,
}

#[derive(Debug, Clone)]
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

impl FlowRow {
    fn from_row(r: &Row<'_>) -> rusqlite::Result<FlowRow> {
        Ok(FlowRow {
            id: r.get(0)?,
            reference: r.get(1)?,
            kiosk_id: r.get(2)?,
            login: r.get(3)?,
            user_id: r.get(4)?,
            throttle_key: r.get(5)?,
            intent: r.get(6)?,
            locale: r.get(7)?,
            state: r.get(8)?,
            required: r.get(9)?,
            methods: r.get(10)?,
            done: r.get(11)?,
            is_admin: r.get(12)?,
            created_at: r.get(13)?,
            expires_at: r.get(14)?,
            finished_at: r.get(15)?,
        })
    }
}

impl ChallengeRow {
    fn from_row(r: &Row<'_>) -> rusqlite::Result<ChallengeRow> {
        Ok(ChallengeRow {
            id: r.get(0)?,
            flow_id: r.get(1)?,
            method_id: r.get(2)?,
            kind: r.get(3)?,
            code_hash: r.get(4)?,
            created_at: r.get(5)?,
            expires_at: r.get(6)?,
            used_at: r.get(7)?,
            failures: r.get(8)?,
        })
    }
}

impl Store {
    /// Batched: every identify starts a flow, and many share one commit.
    pub async fn insert_flow(&self, f: &FlowRow) -> StoreResult<()> {
        let f = f.clone();
        self.write_batched(move |c| {
            c.prepare_cached(&format!(
                "INSERT INTO flows ({FLOW_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
            ))?
            .execute(params![
                f.id,
                f.reference,
                f.kiosk_id,
                f.login,
                f.user_id,
                f.throttle_key,
                f.intent,
                f.locale,
                f.state,
                f.required,
                f.methods,
                f.done,
                f.is_admin,
                f.created_at,
                f.expires_at,
                f.finished_at,
            ])?;
            Ok(())
        })
        .await
    }

    pub async fn flow(&self, id: &str) -> StoreResult<Option<FlowRow>> {
        self.db.read(|c| {
            c.prepare_cached(&format!("SELECT {FLOW_COLUMNS} FROM flows WHERE id = ?"))?
                .query_row([id], FlowRow::from_row)
                .optional()
        })
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
        let (id, from, to, done) = (
            id.to_owned(),
            from.to_owned(),
            to.to_owned(),
            done.to_owned(),
        );
        let n = self
            .write_batched(move |c| {
                c.prepare_cached(MOVE_FLOW)?
                    .execute(params![to, done, finished_at, id, from])
            })
            .await?;
        Ok(n == 1)
    }

    /// `update_flow_state` to a finished state, with a successful reset's throttle events
    /// in the same transaction; false (and nothing written) when another request moved
    /// the flow first.
    pub async fn complete_flow(
        &self,
        id: &str,
        from: &str,
        to: &str,
        done: &str,
        finished_at: i64,
        reset: Option<crate::throttle::Succeeded<'_>>,
    ) -> StoreResult<bool> {
        use crate::throttle::Succeeded;
        let (id, from, to, done) = (
            id.to_owned(),
            from.to_owned(),
            to.to_owned(),
            done.to_owned(),
        );
        let reset = reset.map(|r| (r.user.to_owned(), r.at));
        self.write_batched(move |c| {
            let n =
                c.prepare_cached(MOVE_FLOW)?
                    .execute(params![to, done, finished_at, id, from])?;
            if n != 1 {
                return Ok(false);
            }
            if let Some((user, at)) = &reset {
                let mut clear =
                    c.prepare_cached("DELETE FROM throttle_events WHERE key = ? AND kind = ?")?;
                for kind in Succeeded::CLEARS {
                    clear.execute([user.as_str(), kind])?;
                }
                c.prepare_cached("INSERT INTO throttle_events (key, kind, at) VALUES (?, ?, ?)")?
                    .execute(params![user, Succeeded::COUNTS, at])?;
            }
            Ok(true)
        })
        .await
    }

    pub async fn insert_challenge(&self, ch: &ChallengeRow) -> StoreResult<()> {
        let ch = ch.clone();
        self.write_batched(move |c| {
            c.prepare_cached(&format!(
                "INSERT INTO challenges ({CHALLENGE_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
            ))?
            .execute(params![
                ch.id,
                ch.flow_id,
                ch.method_id,
                ch.kind,
                ch.code_hash,
                ch.created_at,
                ch.expires_at,
                ch.used_at,
                ch.failures,
            ])
        })
        .await?;
        Ok(())
    }

    pub async fn challenge(&self, flow_id: &str, id: &str) -> StoreResult<Option<ChallengeRow>> {
        self.db.read(|c| {
            c.prepare_cached(&format!(
                "SELECT {CHALLENGE_COLUMNS} FROM challenges WHERE id = ? AND flow_id = ?"
            ))?
            .query_row([id, flow_id], ChallengeRow::from_row)
            .optional()
        })
    }

    /// The newest challenge of a method in a flow.
    pub async fn last_challenge(
        &self,
        flow_id: &str,
        method_id: &str,
    ) -> StoreResult<Option<ChallengeRow>> {
        self.db.read(|c| {
            c.prepare_cached(&format!(
                "SELECT {CHALLENGE_COLUMNS} FROM challenges WHERE flow_id = ? AND method_id = ?
                 ORDER BY created_at DESC, rowid DESC LIMIT 1"
            ))?
            .query_row([flow_id, method_id], ChallengeRow::from_row)
            .optional()
        })
    }

    /// Spends a challenge and moves its flow from `from` to `to` in one commit. The
    /// challenge stays spent when the flow had moved meanwhile.
    #[allow(clippy::too_many_arguments)]
    pub async fn spend_challenge(
        &self,
        challenge_id: &str,
        flow_id: &str,
        from: &str,
        to: &str,
        done: &str,
        now: i64,
    ) -> StoreResult<Spent> {
        let (challenge_id, flow_id) = (challenge_id.to_owned(), flow_id.to_owned());
        let (from, to, done) = (from.to_owned(), to.to_owned(), done.to_owned());
        self.write_batched(move |c| {
            let spent = c
                .prepare_cached(
                    "UPDATE challenges SET used_at = ? WHERE id = ? AND used_at IS NULL",
                )?
                .execute(params![now, challenge_id])?;
            if spent != 1 {
                return Ok(Spent::UsedBefore);
            }
            let moved = c.prepare_cached(MOVE_FLOW)?.execute(params![
                to,
                done,
                None::<i64>,
                flow_id,
                from
            ])?;
            Ok(if moved == 1 {
                Spent::Moved
            } else {
                Spent::FlowChanged
            })
        })
        .await
    }

    pub async fn fail_challenge(&self, id: &str) -> StoreResult<i64> {
        let id = id.to_owned();
        self.write_batched(move |c| {
            c.prepare_cached(
                "UPDATE challenges SET failures = failures + 1 WHERE id = ? RETURNING failures",
            )?
            .query_row([id], |r| r.get(0))
        })
        .await
    }

    /// Expired flows and their challenges go after a day; the audit keeps the story.
    pub async fn purge_flows_before(&self, before: i64) -> StoreResult<()> {
        self.db.write(|c| {
            c.prepare_cached("DELETE FROM flows WHERE expires_at < ?")?
                .execute([before])
        })?;
        Ok(())
    }
}
