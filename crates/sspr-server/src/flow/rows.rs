//! The flow's rows (flows and their challenges) and the statements that keep them, typed
//! as the flow uses them: a stored row is parsed once, when it is read, and a row that
//! doesn't parse (an unknown state, intent or kind, methods that aren't JSON) is an error,
//! never a default. The store only lends its connections and its batching writer (on
//! SQLite) or its pool (on PostgreSQL, each step one transaction).

use rusqlite::types::{FromSql, FromSqlError, FromSqlResult, ToSql, ToSqlOutput, Type, ValueRef};
use rusqlite::{params, OptionalExtension, Row};
use serde::{Deserialize, Serialize};
use sspr_proto::{Delivery, Intent, MethodKind};

use sqlx::postgres::PgRow;
use sqlx::Row as _;

use super::FlowState;
use crate::store::{Engine, Store, StoreResult};

/// A method offered in a flow. `target` is where a code goes (an address) or which
/// registration holds the secret; it never leaves the server.
#[derive(Clone, Serialize, Deserialize)]
pub struct FlowMethod {
    pub id: String,
    pub kind: MethodKind,
    pub target: String,
    pub masked: String,
}

#[derive(Clone)]
pub struct FlowRow {
    pub id: String,
    pub reference: String,
    pub kiosk_id: String,
    pub login: String,
    /// The directory's id of the person; None for a decoy flow.
    pub user_id: Option<String>,
    pub throttle_key: String,
    pub intent: Intent,
    pub locale: String,
    pub state: FlowState,
    /// How many methods must be verified.
    pub required: u8,
    pub methods: Vec<FlowMethod>,
    /// The ids of the methods verified so far.
    pub done: Vec<String>,
    pub is_admin: bool,
    pub created_at: i64,
    pub expires_at: i64,
    pub finished_at: Option<i64>,
}

impl FlowRow {
    pub fn method(&self, id: &str) -> Option<&FlowMethod> {
        self.methods.iter().find(|m| m.id == id)
    }

    pub fn is_done(&self, method_id: &str) -> bool {
        self.done.iter().any(|d| d == method_id)
    }
}

/// Moves a flow from one state to the next (state, done, finished_at; id, from state):
/// nothing changes when another request moved it first.
const MOVE_FLOW: &str =
    "UPDATE flows SET state = ?, done = ?, finished_at = ? WHERE id = ? AND state = ?";
const MOVE_FLOW_PG: &str =
    "UPDATE flows SET state = $1, done = $2, finished_at = $3 WHERE id = $4 AND state = $5";

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
    pub kind: MethodKind,
    pub code_hash: Option<String>,
    pub created_at: i64,
    pub expires_at: i64,
    pub used_at: Option<i64>,
    pub failures: i64,
    /// Codes by text message or call: where sending stands.
    pub delivery: Option<Delivery>,
}

impl ToSql for FlowState {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::from(self.as_str()))
    }
}

impl FromSql for FlowState {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
        let s = value.as_str()?;
        FlowState::parse(s).ok_or_else(|| unknown("flow state", s))
    }
}

fn unknown(what: &str, value: &str) -> FromSqlError {
    FromSqlError::Other(format!("a stored {what} this server doesn't know: {value:?}").into())
}

/// A text column parsed with `parse`; a value it doesn't know is an error.
fn parsed<T>(
    r: &Row<'_>,
    i: usize,
    what: &str,
    parse: fn(&str) -> Option<T>,
) -> rusqlite::Result<T> {
    let s: String = r.get(i)?;
    parse(&s).ok_or_else(|| {
        rusqlite::Error::FromSqlConversionFailure(i, Type::Text, Box::new(unknown(what, &s)))
    })
}

/// A JSON text column.
fn json<T: serde::de::DeserializeOwned>(r: &Row<'_>, i: usize) -> rusqlite::Result<T> {
    let s: String = r.get(i)?;
    serde_json::from_str(&s)
        .map_err(|e| rusqlite::Error::FromSqlConversionFailure(i, Type::Text, Box::new(e)))
}

/// A value as its JSON column holds it, made on the request's thread (the writer's thread
/// is one for every request: it only binds).
fn to_json<T: Serialize>(value: &T) -> StoreResult<String> {
    serde_json::to_string(value)
        .map_err(|e| crate::store::StoreError::Other(format!("writing a JSON column: {e}")))
}

/// A text column of a PostgreSQL row parsed with `parse`; a value it doesn't know is an
/// error, as on SQLite.
fn pg_parsed<T>(r: &PgRow, i: usize, what: &str, parse: fn(&str) -> Option<T>) -> sqlx::Result<T> {
    let s: String = r.try_get(i)?;
    parse(&s).ok_or_else(|| sqlx::Error::Decode(Box::new(unknown(what, &s))))
}

/// A JSON text column of a PostgreSQL row.
fn pg_json<T: serde::de::DeserializeOwned>(r: &PgRow, i: usize) -> sqlx::Result<T> {
    let s: String = r.try_get(i)?;
    serde_json::from_str(&s).map_err(|e| sqlx::Error::Decode(Box::new(e)))
}

const FLOW_COLUMNS: &str =
    "id, reference, kiosk_id, login, user_id, throttle_key, intent, locale, \
    state, required, methods, done, is_admin, created_at, expires_at, finished_at";
const CHALLENGE_COLUMNS: &str =
    "id, flow_id, method_id, kind, code_hash, created_at, expires_at, used_at, failures, delivery";

impl FlowRow {
    fn from_row(r: &Row<'_>) -> rusqlite::Result<FlowRow> {
        let required: i64 = r.get(9)?;
        Ok(FlowRow {
            id: r.get(0)?,
            reference: r.get(1)?,
            kiosk_id: r.get(2)?,
            login: r.get(3)?,
            user_id: r.get(4)?,
            throttle_key: r.get(5)?,
            intent: parsed(r, 6, "intent", Intent::parse)?,
            locale: r.get(7)?,
            state: r.get(8)?,
            required: u8::try_from(required).map_err(|e| {
                rusqlite::Error::FromSqlConversionFailure(9, Type::Integer, Box::new(e))
            })?,
            methods: json(r, 10)?,
            done: json(r, 11)?,
            is_admin: r.get(12)?,
            created_at: r.get(13)?,
            expires_at: r.get(14)?,
            finished_at: r.get(15)?,
        })
    }

    fn from_pg(r: &PgRow) -> sqlx::Result<FlowRow> {
        let required: i64 = r.try_get(9)?;
        Ok(FlowRow {
            id: r.try_get(0)?,
            reference: r.try_get(1)?,
            kiosk_id: r.try_get(2)?,
            login: r.try_get(3)?,
            user_id: r.try_get(4)?,
            throttle_key: r.try_get(5)?,
            intent: pg_parsed(r, 6, "intent", Intent::parse)?,
            locale: r.try_get(7)?,
            state: pg_parsed(r, 8, "flow state", FlowState::parse)?,
            required: u8::try_from(required).map_err(|e| sqlx::Error::Decode(Box::new(e)))?,
            methods: pg_json(r, 10)?,
            done: pg_json(r, 11)?,
            is_admin: r.try_get::<i64, _>(12)? != 0,
            created_at: r.try_get(13)?,
            expires_at: r.try_get(14)?,
            finished_at: r.try_get(15)?,
        })
    }
}

impl ChallengeRow {
    fn from_row(r: &Row<'_>) -> rusqlite::Result<ChallengeRow> {
        Ok(ChallengeRow {
            id: r.get(0)?,
            flow_id: r.get(1)?,
            method_id: r.get(2)?,
            kind: parsed(r, 3, "method kind", MethodKind::parse)?,
            code_hash: r.get(4)?,
            created_at: r.get(5)?,
            expires_at: r.get(6)?,
            used_at: r.get(7)?,
            failures: r.get(8)?,
            delivery: match r.get::<_, Option<String>>(9)? {
                None => None,
                Some(_) => Some(parsed(r, 9, "delivery", Delivery::parse)?),
            },
        })
    }

    fn from_pg(r: &PgRow) -> sqlx::Result<ChallengeRow> {
        Ok(ChallengeRow {
            id: r.try_get(0)?,
            flow_id: r.try_get(1)?,
            method_id: r.try_get(2)?,
            kind: pg_parsed(r, 3, "method kind", MethodKind::parse)?,
            code_hash: r.try_get(4)?,
            created_at: r.try_get(5)?,
            expires_at: r.try_get(6)?,
            used_at: r.try_get(7)?,
            failures: r.try_get(8)?,
            delivery: match r.try_get::<Option<String>, _>(9)? {
                None => None,
                Some(_) => Some(pg_parsed(r, 9, "delivery", Delivery::parse)?),
            },
        })
    }
}

impl Store {
    /// Batched: every identify starts a flow, and many share one commit.
    pub async fn insert_flow(&self, f: &FlowRow) -> StoreResult<()> {
        let f = f.clone();
        let (methods, done) = (to_json(&f.methods)?, to_json(&f.done)?);
        if let Engine::Postgres(pg) = self.engine() {
            sqlx::query(&format!(
                "INSERT INTO flows ({FLOW_COLUMNS})
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)"
            ))
            .bind(&f.id)
            .bind(&f.reference)
            .bind(&f.kiosk_id)
            .bind(&f.login)
            .bind(&f.user_id)
            .bind(&f.throttle_key)
            .bind(f.intent.as_str())
            .bind(&f.locale)
            .bind(f.state.as_str())
            .bind(i64::from(f.required))
            .bind(methods)
            .bind(done)
            .bind(i64::from(f.is_admin))
            .bind(f.created_at)
            .bind(f.expires_at)
            .bind(f.finished_at)
            .execute(pg)
            .await?;
            return Ok(());
        }
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
                f.intent.as_str(),
                f.locale,
                f.state,
                i64::from(f.required),
                methods,
                done,
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
        if let Engine::Postgres(pg) = self.engine() {
            return Ok(
                sqlx::query(&format!("SELECT {FLOW_COLUMNS} FROM flows WHERE id = $1"))
                    .bind(id)
                    .fetch_optional(pg)
                    .await?
                    .map(|r| FlowRow::from_pg(&r))
                    .transpose()?,
            );
        }
        self.db()?.read(|c| {
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
        from: FlowState,
        to: FlowState,
        done: &[String],
        finished_at: Option<i64>,
    ) -> StoreResult<bool> {
        let (id, done) = (id.to_owned(), to_json(&done)?);
        if let Engine::Postgres(pg) = self.engine() {
            let n = sqlx::query(MOVE_FLOW_PG)
                .bind(to.as_str())
                .bind(done)
                .bind(finished_at)
                .bind(id)
                .bind(from.as_str())
                .execute(pg)
                .await?
                .rows_affected();
            return Ok(n == 1);
        }
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
        from: FlowState,
        to: FlowState,
        done: &[String],
        finished_at: i64,
        reset: Option<crate::throttle::Succeeded<'_>>,
    ) -> StoreResult<bool> {
        use crate::throttle::Succeeded;
        let (id, done) = (id.to_owned(), to_json(&done)?);
        let reset = reset.map(|r| (r.user.to_owned(), r.at));
        if let Engine::Postgres(pg) = self.engine() {
            let mut tx = pg.begin().await?;
            let n = sqlx::query(MOVE_FLOW_PG)
                .bind(to.as_str())
                .bind(done)
                .bind(finished_at)
                .bind(id)
                .bind(from.as_str())
                .execute(&mut *tx)
                .await?
                .rows_affected();
            if n != 1 {
                return Ok(false);
            }
            if let Some((user, at)) = &reset {
                let clears: Vec<&str> = Succeeded::CLEARS.to_vec();
                sqlx::query("DELETE FROM throttle_events WHERE key = $1 AND kind = ANY($2)")
                    .bind(user)
                    .bind(clears)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query("INSERT INTO throttle_events (key, kind, at) VALUES ($1, $2, $3)")
                    .bind(user)
                    .bind(Succeeded::COUNTS)
                    .bind(at)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
            return Ok(true);
        }
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
        if let Engine::Postgres(pg) = self.engine() {
            sqlx::query(&format!(
                "INSERT INTO challenges ({CHALLENGE_COLUMNS})
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
            ))
            .bind(&ch.id)
            .bind(&ch.flow_id)
            .bind(&ch.method_id)
            .bind(ch.kind.as_str())
            .bind(&ch.code_hash)
            .bind(ch.created_at)
            .bind(ch.expires_at)
            .bind(ch.used_at)
            .bind(ch.failures)
            .bind(ch.delivery.map(Delivery::as_str))
            .execute(pg)
            .await?;
            return Ok(());
        }
        let ch = ch.clone();
        self.write_batched(move |c| {
            c.prepare_cached(&format!(
                "INSERT INTO challenges ({CHALLENGE_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
            ))?
            .execute(params![
                ch.id,
                ch.flow_id,
                ch.method_id,
                ch.kind.as_str(),
                ch.code_hash,
                ch.created_at,
                ch.expires_at,
                ch.used_at,
                ch.failures,
                ch.delivery.map(Delivery::as_str),
            ])
        })
        .await?;
        Ok(())
    }

    /// Where sending a challenge's code stands now (only from `sending`: a late answer
    /// never overwrites what was settled).
    pub async fn set_delivery(&self, challenge_id: &str, delivery: Delivery) -> StoreResult<()> {
        if let Engine::Postgres(pg) = self.engine() {
            sqlx::query(
                "UPDATE challenges SET delivery = $1 WHERE id = $2 AND delivery = 'sending'",
            )
            .bind(delivery.as_str())
            .bind(challenge_id)
            .execute(pg)
            .await?;
            return Ok(());
        }
        let id = challenge_id.to_string();
        self.write_batched(move |c| {
            c.prepare_cached(
                "UPDATE challenges SET delivery = ? WHERE id = ? AND delivery = 'sending'",
            )?
            .execute(params![delivery.as_str(), id])
        })
        .await?;
        Ok(())
    }

    pub async fn challenge(&self, flow_id: &str, id: &str) -> StoreResult<Option<ChallengeRow>> {
        if let Engine::Postgres(pg) = self.engine() {
            return Ok(sqlx::query(&format!(
                "SELECT {CHALLENGE_COLUMNS} FROM challenges WHERE id = $1 AND flow_id = $2"
            ))
            .bind(id)
            .bind(flow_id)
            .fetch_optional(pg)
            .await?
            .map(|r| ChallengeRow::from_pg(&r))
            .transpose()?);
        }
        self.db()?.read(|c| {
            c.prepare_cached(&format!(
                "SELECT {CHALLENGE_COLUMNS} FROM challenges WHERE id = ? AND flow_id = ?"
            ))?
            .query_row([id, flow_id], ChallengeRow::from_row)
            .optional()
        })
    }

    /// The newest challenge of a method in a flow. Two challenges of one method can share
    /// a second (a resend after a failed delivery): SQLite tells them apart by the rowid,
    /// PostgreSQL by the sequence number each takes (migration 17).
    pub async fn last_challenge(
        &self,
        flow_id: &str,
        method_id: &str,
    ) -> StoreResult<Option<ChallengeRow>> {
        if let Engine::Postgres(pg) = self.engine() {
            return Ok(sqlx::query(&format!(
                "SELECT {CHALLENGE_COLUMNS} FROM challenges WHERE flow_id = $1 AND method_id = $2
                 ORDER BY created_at DESC, seq DESC LIMIT 1"
            ))
            .bind(flow_id)
            .bind(method_id)
            .fetch_optional(pg)
            .await?
            .map(|r| ChallengeRow::from_pg(&r))
            .transpose()?);
        }
        self.db()?.read(|c| {
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
    pub async fn spend_challenge(
        &self,
        challenge_id: &str,
        flow_id: &str,
        (from, to): (FlowState, FlowState),
        done: &[String],
        now: i64,
    ) -> StoreResult<Spent> {
        let (challenge_id, flow_id, done) =
            (challenge_id.to_owned(), flow_id.to_owned(), to_json(&done)?);
        if let Engine::Postgres(pg) = self.engine() {
            let mut tx = pg.begin().await?;
            let spent =
                sqlx::query("UPDATE challenges SET used_at = $1 WHERE id = $2 AND used_at IS NULL")
                    .bind(now)
                    .bind(challenge_id)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
            if spent != 1 {
                return Ok(Spent::UsedBefore);
            }
            let moved = sqlx::query(MOVE_FLOW_PG)
                .bind(to.as_str())
                .bind(done)
                .bind(None::<i64>)
                .bind(flow_id)
                .bind(from.as_str())
                .execute(&mut *tx)
                .await?
                .rows_affected();
            tx.commit().await?;
            return Ok(if moved == 1 {
                Spent::Moved
            } else {
                Spent::FlowChanged
            });
        }
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
        if let Engine::Postgres(pg) = self.engine() {
            return Ok(sqlx::query_scalar(
                "UPDATE challenges SET failures = failures + 1 WHERE id = $1 RETURNING failures",
            )
            .bind(id)
            .fetch_one(pg)
            .await?);
        }
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
        if let Engine::Postgres(pg) = self.engine() {
            sqlx::query("DELETE FROM flows WHERE expires_at < $1")
                .bind(before)
                .execute(pg)
                .await?;
            return Ok(());
        }
        self.db()?.write(|c| {
            c.prepare_cached("DELETE FROM flows WHERE expires_at < ?")?
                .execute([before])
        })?;
        Ok(())
    }
}
