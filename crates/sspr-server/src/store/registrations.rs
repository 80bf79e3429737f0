use sspr_proto::MethodKind;

use rusqlite::{params, OptionalExtension, Row};

use secrecy::SecretString;

use sqlx::Row as _;

use super::{Engine, Store, StoreError, StoreResult};
use crate::secret::{is_sealed, ServerKey};

/// What authenticator secrets are sealed for (`ServerKey::seal`).
const TOTP_SEAL: &str = "totp";

/// An authenticator app's base32 secret, sealed for the store (`ServerKey::seal`): only
/// the server's key opens it, and only for this person.
pub fn seal_totp(key: &ServerKey, user_id: &str, secret: &str) -> String {
    key.seal(TOTP_SEAL, user_id, secret)
}

/// A method a person registered. For TOTP, `value` is the base32 secret, sealed
/// (`seal_totp`; `totp_secret` opens it).
#[derive(Clone)]
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

    /// A TOTP registration's secret, opened; None when it doesn't open (another key, or a
    /// row that isn't this person's).
    pub fn totp_secret(&self, key: &ServerKey) -> Option<SecretString> {
        key.open(TOTP_SEAL, &self.user_id, &self.value)
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

impl Registration {
    fn from_row(r: &Row<'_>) -> rusqlite::Result<Registration> {
        Ok(Registration {
            id: r.get(0)?,
            user_id: r.get(1)?,
            kind: r.get(2)?,
            value: r.get(3)?,
            label: r.get(4)?,
            created_at: r.get(5)?,
        })
    }

    fn from_pg(r: &sqlx::postgres::PgRow) -> sqlx::Result<Registration> {
        Ok(Registration {
            id: r.try_get(0)?,
            user_id: r.try_get(1)?,
            kind: r.try_get(2)?,
            value: r.try_get(3)?,
            label: r.try_get(4)?,
            created_at: r.try_get(5)?,
        })
    }
}

/// The registrations a PostgreSQL statement answers.
async fn pg_registrations<'q>(
    pg: &sqlx::PgPool,
    query: sqlx::query::Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments>,
) -> StoreResult<Vec<Registration>> {
    Ok(query
        .fetch_all(pg)
        .await?
        .iter()
        .map(Registration::from_pg)
        .collect::<sqlx::Result<_>>()?)
}

const COLUMNS: &str = "id, user_id, kind, value, label, created_at";

/// A plain authenticator secret would sit in every copy of the store: refused.
fn refuse_plain(kind: MethodKind, value: &str) -> StoreResult<()> {
    if kind == MethodKind::Totp && !is_sealed(value) {
        return Err(StoreError::Other(
            "an authenticator secret must be sealed before it is stored".into(),
        ));
    }
    Ok(())
}

/// Records a review, never moving an earlier one's time back.
const MARK_REVIEWED: &str = "INSERT INTO reviews (user_id, reviewed_at) VALUES (?, ?)
     ON CONFLICT (user_id) DO UPDATE SET reviewed_at = MAX(reviewed_at, excluded.reviewed_at)";
const MARK_REVIEWED_PG: &str = "INSERT INTO reviews (user_id, reviewed_at) VALUES ($1, $2)
     ON CONFLICT (user_id)
         DO UPDATE SET reviewed_at = GREATEST(reviews.reviewed_at, EXCLUDED.reviewed_at)";

impl Store {
    pub async fn registrations(&self, user_id: &str) -> StoreResult<Vec<Registration>> {
        if let Engine::Postgres(pg) = self.engine() {
            let sql = format!("SELECT {COLUMNS} FROM registrations WHERE user_id = $1 ORDER BY id");
            return pg_registrations(pg, sqlx::query(&sql).bind(user_id)).await;
        }
        self.sqlite()?.db.read(|c| {
            c.prepare_cached(&format!(
                "SELECT {COLUMNS} FROM registrations WHERE user_id = ? ORDER BY id"
            ))?
            .query_map([user_id], Registration::from_row)?
            .collect()
        })
    }

    /// Every registration of a kind (to keep a passkey to one person).
    pub async fn registrations_of_kind(&self, kind: MethodKind) -> StoreResult<Vec<Registration>> {
        if let Engine::Postgres(pg) = self.engine() {
            let sql = format!("SELECT {COLUMNS} FROM registrations WHERE kind = $1");
            return pg_registrations(pg, sqlx::query(&sql).bind(kind.as_str())).await;
        }
        self.sqlite()?.db.read(|c| {
            c.prepare_cached(&format!(
                "SELECT {COLUMNS} FROM registrations WHERE kind = ?"
            ))?
            .query_map([kind.as_str()], Registration::from_row)?
            .collect()
        })
    }

    /// Two people's registrations in one read: identify reads the person's own and their
    /// decoy stand-in's (or the stand-in's twice, for a login without a person), so a real
    /// and a made-up login cost the same reads.
    pub async fn registrations_of_two(
        &self,
        first: &str,
        second: &str,
    ) -> StoreResult<Vec<Registration>> {
        if let Engine::Postgres(pg) = self.engine() {
            let sql = format!(
                "SELECT {COLUMNS} FROM registrations WHERE user_id = $1
                 UNION ALL
                 SELECT {COLUMNS} FROM registrations WHERE user_id = $2"
            );
            return pg_registrations(pg, sqlx::query(&sql).bind(first).bind(second)).await;
        }
        self.sqlite()?.db.read(|c| {
            c.prepare_cached(&format!(
                "SELECT {COLUMNS} FROM registrations WHERE user_id = ?1
                 UNION ALL
                 SELECT {COLUMNS} FROM registrations WHERE user_id = ?2"
            ))?
            .query_map([first, second], Registration::from_row)?
            .collect()
        })
    }

    /// For people who started a real flow lately (flows are kept a day): the login they
    /// typed and an email address they registered, one pair a person.
    pub async fn logins_and_emails(&self) -> StoreResult<Vec<(String, String)>> {
        const SQL: &str = "SELECT MAX(f.login), MAX(r.value) FROM flows f
             JOIN registrations r ON r.user_id = f.user_id AND r.kind = 'email'
             WHERE f.user_id IS NOT NULL GROUP BY f.user_id LIMIT 10000";
        if let Engine::Postgres(pg) = self.engine() {
            return Ok(sqlx::query_as(SQL).fetch_all(pg).await?);
        }
        self.sqlite()?.db.read(|c| {
            c.prepare_cached(SQL)?
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect()
        })
    }

    /// Every person with a method, and the kinds they registered (each once).
    pub async fn registered_kinds(&self) -> StoreResult<Vec<(String, Vec<String>)>> {
        const SQL: &str = "SELECT DISTINCT user_id, kind FROM registrations ORDER BY user_id, kind";
        let rows: Vec<(String, String)> = match self.engine() {
            Engine::Sqlite(s) => s.db.read(|c| {
                c.prepare_cached(SQL)?
                    .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
                    .collect()
            })?,
            // Sorted as SQLite sorts (by bytes), whatever the database's collation.
            Engine::Postgres(pg) => {
                sqlx::query_as(
                    "SELECT user_id, kind FROM registrations GROUP BY user_id, kind
                     ORDER BY user_id COLLATE \"C\", kind COLLATE \"C\"",
                )
                .fetch_all(pg)
                .await?
            }
        };
        let mut out: Vec<(String, Vec<String>)> = Vec::new();
        for (user, kind) in rows {
            match out.last_mut() {
                Some((u, kinds)) if *u == user => kinds.push(kind),
                _ => out.push((user, vec![kind])),
            }
        }
        Ok(out)
    }

    pub async fn registration(&self, id: i64) -> StoreResult<Option<Registration>> {
        if let Engine::Postgres(pg) = self.engine() {
            let sql = format!("SELECT {COLUMNS} FROM registrations WHERE id = $1");
            return Ok(pg_registrations(pg, sqlx::query(&sql).bind(id))
                .await?
                .pop());
        }
        self.sqlite()?.db.read(|c| {
            c.prepare_cached(&format!("SELECT {COLUMNS} FROM registrations WHERE id = ?"))?
                .query_row([id], Registration::from_row)
                .optional()
        })
    }

    pub async fn add_registration(
        &self,
        user_id: &str,
        kind: MethodKind,
        value: &str,
        label: &str,
        now: i64,
    ) -> StoreResult<()> {
        refuse_plain(kind, value)?;
        if let Engine::Postgres(pg) = self.engine() {
            sqlx::query(
                "INSERT INTO registrations (user_id, kind, value, label, created_at)
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT (user_id, kind, value) DO NOTHING",
            )
            .bind(user_id)
            .bind(kind.as_str())
            .bind(value)
            .bind(label)
            .bind(now)
            .execute(pg)
            .await?;
            return Ok(());
        }
        let (user_id, value, label) = (user_id.to_owned(), value.to_owned(), label.to_owned());
        self.write_batched(move |c| {
            c.prepare_cached(
                "INSERT INTO registrations (user_id, kind, value, label, created_at) VALUES (?, ?, ?, ?, ?)
                 ON CONFLICT (user_id, kind, value) DO NOTHING",
            )?
            .execute(params![user_id, kind.as_str(), value, label, now])
        })
        .await?;
        Ok(())
    }

    /// Puts `value` in place of every registration of `kind` the person has (one commit):
    /// what the helpdesk registers for someone is their email or their authenticator, not
    /// one more of them. Returns how many it replaced.
    pub async fn replace_registration(
        &self,
        user_id: &str,
        kind: MethodKind,
        value: &str,
        label: &str,
        now: i64,
    ) -> StoreResult<usize> {
        refuse_plain(kind, value)?;
        if let Engine::Postgres(pg) = self.engine() {
            let mut tx = pg.begin().await?;
            let removed = sqlx::query("DELETE FROM registrations WHERE user_id = $1 AND kind = $2")
                .bind(user_id)
                .bind(kind.as_str())
                .execute(&mut *tx)
                .await?
                .rows_affected();
            sqlx::query(
                "INSERT INTO registrations (user_id, kind, value, label, created_at)
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(user_id)
            .bind(kind.as_str())
            .bind(value)
            .bind(label)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            return Ok(removed as usize);
        }
        let (user_id, value, label) = (user_id.to_owned(), value.to_owned(), label.to_owned());
        self.write_batched(move |c| {
            let removed = c
                .prepare_cached("DELETE FROM registrations WHERE user_id = ? AND kind = ?")?
                .execute(params![user_id, kind.as_str()])?;
            c.prepare_cached(
                "INSERT INTO registrations (user_id, kind, value, label, created_at) VALUES (?, ?, ?, ?, ?)",
            )?
            .execute(params![user_id, kind.as_str(), value, label, now])?;
            Ok(removed)
        })
        .await
    }

    /// Replaces a registration's value (a passkey whose signature counter moved).
    pub async fn update_registration(&self, id: i64, value: &str) -> StoreResult<()> {
        if let Engine::Postgres(pg) = self.engine() {
            sqlx::query("UPDATE registrations SET value = $1 WHERE id = $2")
                .bind(value)
                .bind(id)
                .execute(pg)
                .await?;
            return Ok(());
        }
        let value = value.to_owned();
        self.write_batched(move |c| {
            c.prepare_cached("UPDATE registrations SET value = ? WHERE id = ?")?
                .execute(params![value, id])
        })
        .await?;
        Ok(())
    }

    /// Removes one of a person's registrations, which counts as looking their methods
    /// over (`reviewed`); false when they have no such one.
    pub async fn remove_registration(&self, user_id: &str, id: i64, now: i64) -> StoreResult<bool> {
        if let Engine::Postgres(pg) = self.engine() {
            let mut tx = pg.begin().await?;
            let n = sqlx::query("DELETE FROM registrations WHERE id = $1 AND user_id = $2")
                .bind(id)
                .bind(user_id)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            if n == 1 {
                sqlx::query(MARK_REVIEWED_PG)
                    .bind(user_id)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
            return Ok(n == 1);
        }
        let user_id = user_id.to_owned();
        self.write_batched(move |c| {
            let n = c
                .prepare_cached("DELETE FROM registrations WHERE id = ? AND user_id = ?")?
                .execute(params![id, user_id])?;
            if n == 1 {
                c.prepare_cached(MARK_REVIEWED)?
                    .execute(params![user_id, now])?;
            }
            Ok(n == 1)
        })
        .await
    }

    /// Seals the authenticator secrets a store from before sealing holds in the plain;
    /// returns how many. Runs at start, before any request. The plain values must not
    /// linger in the file's free space, the index or the WAL either: the update runs with
    /// `secure_delete`, then the store is rebuilt (`VACUUM`) and the WAL emptied.
    pub async fn seal_plain_totp(&self, key: &ServerKey) -> StoreResult<usize> {
        let plain: Vec<(i64, String)> = self
            .registrations_of_kind(MethodKind::Totp)
            .await?
            .into_iter()
            .filter(|r| !is_sealed(&r.value))
            .map(|r| (r.id, seal_totp(key, &r.user_id, &r.value)))
            .collect();
        let n = plain.len();
        if let (Engine::Postgres(pg), true) = (self.engine(), n > 0) {
            // Every server that writes PostgreSQL seals (`refuse_plain`), so a plain value
            // there came from elsewhere; sealed in one transaction.
            let mut tx = pg.begin().await?;
            for (id, sealed) in &plain {
                sqlx::query("UPDATE registrations SET value = $1 WHERE id = $2")
                    .bind(sealed)
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
            return Ok(n);
        }
        if n > 0 {
            self.sqlite()?.db.write(|c| {
                c.execute_batch("PRAGMA secure_delete = ON")?;
                let sealed = (|| {
                    let tx = c.unchecked_transaction()?;
                    {
                        let mut update =
                            tx.prepare("UPDATE registrations SET value = ? WHERE id = ?")?;
                        for (id, sealed) in &plain {
                            update.execute(params![sealed, id])?;
                        }
                    }
                    tx.commit()?;
                    c.execute_batch("VACUUM")?;
                    c.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
                })();
                c.execute_batch("PRAGMA secure_delete = OFF")?;
                sealed
            })?;
        }
        Ok(n)
    }

    /// How many TOTP registrations hold a value that doesn't open with `key` (a secret key
    /// replaced or lost): those people's authenticator apps can't verify anything.
    pub async fn unopenable_totp(&self, key: &ServerKey) -> StoreResult<usize> {
        Ok(self
            .registrations_of_kind(MethodKind::Totp)
            .await?
            .iter()
            .filter(|r| is_sealed(&r.value) && r.totp_secret(key).is_none())
            .count())
    }

    /// How many TOTP registrations are not sealed yet (a store no server of this version
    /// has opened).
    pub async fn plain_totp(&self) -> StoreResult<usize> {
        Ok(self
            .registrations_of_kind(MethodKind::Totp)
            .await?
            .iter()
            .filter(|r| !is_sealed(&r.value))
            .count())
    }

    /// Removes every method a person registered (the helpdesk, after a lost phone or a
    /// lost secret key); returns how many.
    pub async fn remove_registrations(&self, user_id: &str) -> StoreResult<usize> {
        if let Engine::Postgres(pg) = self.engine() {
            let n = sqlx::query("DELETE FROM registrations WHERE user_id = $1")
                .bind(user_id)
                .execute(pg)
                .await?
                .rows_affected();
            return Ok(n as usize);
        }
        let user_id = user_id.to_owned();
        self.write_batched(move |c| {
            c.prepare_cached("DELETE FROM registrations WHERE user_id = ?")?
                .execute([user_id])
        })
        .await
    }

    /// When the person last looked over their methods and kept them: confirmed them,
    /// added one or removed one. None when they never had any.
    pub async fn reviewed(&self, user_id: &str) -> StoreResult<Option<i64>> {
        if let Engine::Postgres(pg) = self.engine() {
            return Ok(sqlx::query_scalar(
                "SELECT MAX(t) FROM (
                     SELECT reviewed_at AS t FROM reviews WHERE user_id = $1
                     UNION ALL SELECT created_at FROM registrations WHERE user_id = $1) AS times",
            )
            .bind(user_id)
            .fetch_one(pg)
            .await?);
        }
        let user_id = user_id.to_owned();
        self.sqlite()?.db.read(move |c| {
            c.prepare_cached(
                "SELECT MAX(t) FROM (
                     SELECT reviewed_at AS t FROM reviews WHERE user_id = ?1
                     UNION ALL SELECT created_at FROM registrations WHERE user_id = ?1)",
            )?
            .query_row([&user_id], |r| r.get(0))
        })
    }

    /// The person says their methods are current.
    pub async fn mark_reviewed(&self, user_id: &str, now: i64) -> StoreResult<()> {
        if let Engine::Postgres(pg) = self.engine() {
            sqlx::query(MARK_REVIEWED_PG)
                .bind(user_id)
                .bind(now)
                .execute(pg)
                .await?;
            return Ok(());
        }
        let user_id = user_id.to_owned();
        self.write_batched(move |c| {
            c.prepare_cached(MARK_REVIEWED)?
                .execute(params![user_id, now])
        })
        .await?;
        Ok(())
    }

    /// Marks an authenticator time step used; false when it was used before.
    pub async fn use_totp_step(&self, user_id: &str, step: i64, now: i64) -> StoreResult<bool> {
        if let Engine::Postgres(pg) = self.engine() {
            let n = sqlx::query(
                "INSERT INTO totp_used (user_id, step, used_at) VALUES ($1, $2, $3)
                 ON CONFLICT (user_id, step) DO NOTHING",
            )
            .bind(user_id)
            .bind(step)
            .bind(now)
            .execute(pg)
            .await?
            .rows_affected();
            return Ok(n == 1);
        }
        let user_id = user_id.to_owned();
        let n = self
            .write_batched(move |c| {
                c.prepare_cached(
                    "INSERT INTO totp_used (user_id, step, used_at) VALUES (?, ?, ?)
                     ON CONFLICT (user_id, step) DO NOTHING",
                )?
                .execute(params![user_id, step, now])
            })
            .await?;
        Ok(n == 1)
    }
}
