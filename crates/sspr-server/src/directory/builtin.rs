//! The built-in directory: users in the server's own store (SQLite or PostgreSQL, each
//! statement beside its twin as in `store`), passwords as argon2id. It backs the demo and
//! small deployments; it also lets a bench measure the server without a network
//! directory in the way.

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHasher, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use async_trait::async_trait;
use rusqlite::{params, OptionalExtension, Row};
use secrecy::{ExposeSecret, SecretString};
use sqlx::postgres::PgRow;
use sqlx::Row as _;

use super::{DirError, DirUser, Directory};
use crate::store::{Engine, Store, StoreError};

/// OWASP's argon2id minimum (19 MiB, 2 passes, 1 lane): the cost of every reset here.
pub fn argon2() -> Argon2<'static> {
    let params = Params::new(19 * 1024, 2, 1, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

pub fn hash_password(password: &str) -> Result<String, DirError> {
    let salt = SaltString::generate(&mut OsRng);
    argon2()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| DirError::Other(format!("hashing: {e}")))
}

/// A hash with the same parameters as every stored one, of a password nobody knows.
fn decoy_hash() -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| {
        let mut password = [0u8; 32];
        rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut password);
        // Hashing can't fail with these fixed parameters; if it ever did, a fixed hash of
        // the same parameters (of a random password, thrown away) stands in.
        hash_password(&hex::encode(password)).unwrap_or_else(|_| FALLBACK_DECOY.to_string())
    })
}

/// Stands in for the decoy if hashing ever failed (a unit test checks its parameters).
const FALLBACK_DECOY: &str = "$argon2id$v=19$m=19456,t=2,p=1$c3Nwci1kZWNveS1zYWx0$zp2Hw4bq5+Ivh9rKyvFn3kM0VvKL1bXfDyQ8r3wS1kE";

pub struct BuiltinDirectory {
    name: String,
    store: Store,
    /// One thread a core, below the request threads' priority.
    hasher: super::hashing::Hasher,
}

struct UserRow {
    id: String,
    username: String,
    email: Option<String>,
    display_name: String,
    given_name: String,
    surname: String,
    disabled: bool,
    locked: bool,
    groups: Option<String>,
    password_changed_at: Option<i64>,
}

impl UserRow {
    fn from_row(r: &Row<'_>) -> rusqlite::Result<UserRow> {
        Ok(UserRow {
            id: r.get(0)?,
            username: r.get(1)?,
            email: r.get(2)?,
            display_name: r.get(3)?,
            given_name: r.get(4)?,
            surname: r.get(5)?,
            disabled: r.get(6)?,
            locked: r.get(7)?,
            groups: r.get(8)?,
            password_changed_at: r.get(9)?,
        })
    }

    fn from_pg(r: &PgRow) -> sqlx::Result<UserRow> {
        Ok(UserRow {
            id: r.try_get(0)?,
            username: r.try_get(1)?,
            email: r.try_get(2)?,
            display_name: r.try_get(3)?,
            given_name: r.try_get(4)?,
            surname: r.try_get(5)?,
            disabled: r.try_get::<i64, _>(6)? != 0,
            locked: r.try_get::<i64, _>(7)? != 0,
            groups: r.try_get(8)?,
            password_changed_at: r.try_get(9)?,
        })
    }
}

impl From<UserRow> for DirUser {
    fn from(r: UserRow) -> Self {
        let mut groups: Vec<String> = r
            .groups
            .map(|g| g.split('\u{1f}').map(str::to_string).collect())
            .unwrap_or_default();
        groups.sort();
        DirUser {
            dn: r.id.clone(),
            id: r.id,
            username: r.username,
            email: r.email,
            display_name: r.display_name,
            given_name: r.given_name,
            surname: r.surname,
            groups,
            disabled: r.disabled,
            locked: r.locked,
            password_changed_at: r.password_changed_at,
            // Numbers given with `directory import` are registrations, not directory
            // attributes.
            mobile: None,
            office_phone: None,
        }
    }
}

const SELECT_USER: &str = "SELECT u.id, u.username, u.email, u.display_name, u.given_name, u.surname,
        u.disabled, u.locked,
        (SELECT group_concat(group_name, char(31)) FROM dir_groups g WHERE g.user_id = u.id) AS groups,
        u.password_changed_at
    FROM dir_users u";

/// `SELECT_USER` on PostgreSQL (usernames and emails compared case-blind there by
/// `lower()`, which the unique indexes are on; SQLite's columns are `COLLATE NOCASE`).
const SELECT_USER_PG: &str =
    "SELECT u.id, u.username, u.email, u.display_name, u.given_name, u.surname,
        u.disabled, u.locked,
        (SELECT string_agg(group_name, chr(31)) FROM dir_groups g WHERE g.user_id = u.id) AS groups,
        u.password_changed_at
    FROM dir_users u";

fn unavailable(e: impl Into<StoreError>) -> DirError {
    DirError::Unavailable(e.into().to_string())
}

/// The users a PostgreSQL query found.
async fn pg_users(
    pg: &sqlx::PgPool,
    query: sqlx::query::Query<'_, sqlx::Postgres, sqlx::postgres::PgArguments>,
) -> Result<Vec<DirUser>, DirError> {
    query
        .fetch_all(pg)
        .await
        .map_err(unavailable)?
        .iter()
        .map(|r| UserRow::from_pg(r).map(DirUser::from))
        .collect::<sqlx::Result<_>>()
        .map_err(unavailable)
}

/// A new user for seeding.
pub struct NewUser<'a> {
    pub id: &'a str,
    pub username: &'a str,
    pub email: Option<&'a str>,
    pub given_name: &'a str,
    pub surname: &'a str,
    pub groups: &'a [&'a str],
    pub disabled: bool,
    pub locked: bool,
    pub password: &'a str,
}

impl BuiltinDirectory {
    /// The directory's rows live in `store`'s database.
    pub fn new(name: impl Into<String>, store: Store) -> Self {
        let cores = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1);
        BuiltinDirectory {
            name: name.into(),
            store,
            hasher: super::hashing::Hasher::start(cores),
        }
    }

    pub async fn add_user(&self, u: &NewUser<'_>) -> anyhow::Result<()> {
        let hash = hash_password(u.password)?;
        if let Engine::Postgres(pg) = self.store.engine() {
            let mut tx = pg.begin().await?;
            sqlx::query(
                "INSERT INTO dir_users (id, username, email, display_name, given_name, surname, disabled, locked, password_hash)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            )
            .bind(u.id)
            .bind(u.username)
            .bind(u.email)
            .bind(format!("{} {}", u.given_name, u.surname))
            .bind(u.given_name)
            .bind(u.surname)
            .bind(i64::from(u.disabled))
            .bind(i64::from(u.locked))
            .bind(&hash)
            .execute(&mut *tx)
            .await?;
            for g in u.groups {
                sqlx::query("INSERT INTO dir_groups (user_id, group_name) VALUES ($1, $2)")
                    .bind(u.id)
                    .bind(g)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
            return Ok(());
        }
        self.store.db()?.transaction(|c| {
            c.prepare_cached(
                "INSERT INTO dir_users (id, username, email, display_name, given_name, surname, disabled, locked, password_hash)
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            )?
            .execute(params![
                u.id,
                u.username,
                u.email,
                format!("{} {}", u.given_name, u.surname),
                u.given_name,
                u.surname,
                u.disabled,
                u.locked,
                hash,
            ])?;
            let mut group =
                c.prepare_cached("INSERT INTO dir_groups (user_id, group_name) VALUES (?, ?)")?;
            for g in u.groups {
                group.execute([u.id, g])?;
            }
            Ok(())
        })?;
        Ok(())
    }

    /// Checks a password against the stored hash (what a sign-in to the directory does).
    pub async fn verify_password(&self, username: &str, password: &str) -> anyhow::Result<bool> {
        use argon2::password_hash::{PasswordHash, PasswordVerifier};
        let hash: Option<Option<String>> = match self.store.engine() {
            Engine::Postgres(pg) => {
                sqlx::query_scalar(
                    "SELECT password_hash FROM dir_users WHERE lower(username) = lower($1)",
                )
                .bind(username)
                .fetch_optional(pg)
                .await?
            }
            Engine::Sqlite(_) => self.store.db()?.read(|c| {
                c.prepare_cached("SELECT password_hash FROM dir_users WHERE username = ?")?
                    .query_row([username], |r| r.get(0))
                    .optional()
            })?,
        };
        // Nobody (or nobody with a password): the same hash work against a decoy, so the
        // answer takes as long as for a real person.
        let stored = hash.flatten();
        let real = stored.is_some();
        let password = password.to_string();
        let verified = self
            .hasher
            .run(move || {
                // The decoy is made (once) here too, never on a request's thread.
                let hash = stored.as_deref().unwrap_or_else(|| decoy_hash());
                let parsed = PasswordHash::new(hash).map_err(|e| anyhow::anyhow!("{e}"))?;
                anyhow::Ok(
                    argon2()
                        .verify_password(password.as_bytes(), &parsed)
                        .is_ok(),
                )
            })
            .await??;
        Ok(real && verified)
    }
}

#[async_trait]
impl Directory for BuiltinDirectory {
    fn name(&self) -> &str {
        &self.name
    }

    async fn find(&self, login: &str) -> Result<Option<DirUser>, DirError> {
        if let Engine::Postgres(pg) = self.store.engine() {
            let sql = format!(
                "{SELECT_USER_PG} WHERE lower(u.username) = lower($1) OR lower(u.email) = lower($1) LIMIT 1"
            );
            return Ok(pg_users(pg, sqlx::query(&sql).bind(login))
                .await?
                .into_iter()
                .next());
        }
        let row = self
            .store
            .db()
            .map_err(unavailable)?
            .read(|c| {
                c.prepare_cached(&format!(
                    "{SELECT_USER} WHERE u.username = ?1 OR u.email = ?1 LIMIT 1"
                ))?
                .query_row([login], UserRow::from_row)
                .optional()
            })
            .map_err(unavailable)?;
        Ok(row.map(DirUser::from))
    }

    async fn groups_matching(&self, text: &str, limit: usize) -> Result<Vec<String>, DirError> {
        let pattern = format!(
            "%{}%",
            text.replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_")
        );
        if let Engine::Postgres(pg) = self.store.engine() {
            // SQLite's LIKE is case-blind for ASCII: ILIKE here; DISTINCT first, so the
            // case-blind order may name a column the distinct rows don't have.
            return sqlx::query_scalar(
                "SELECT group_name FROM (
                     SELECT DISTINCT group_name FROM dir_groups
                     WHERE group_name ILIKE $1 ESCAPE '\\') g
                 ORDER BY lower(group_name), group_name LIMIT $2",
            )
            .bind(&pattern)
            .bind(limit as i64)
            .fetch_all(pg)
            .await
            .map_err(unavailable);
        }
        self.store
            .db()
            .map_err(unavailable)?
            .read(|c| {
                c.prepare_cached(
                    "SELECT DISTINCT group_name FROM dir_groups
                     WHERE group_name LIKE ?1 ESCAPE '\\' ORDER BY group_name COLLATE NOCASE LIMIT ?2",
                )?
                .query_map(rusqlite::params![pattern, limit as i64], |r| r.get(0))?
                .collect()
            })
            .map_err(unavailable)
    }

    async fn everyone(&self) -> Result<Vec<DirUser>, DirError> {
        if let Engine::Postgres(pg) = self.store.engine() {
            let sql = format!("{SELECT_USER_PG} ORDER BY lower(u.username)");
            return pg_users(pg, sqlx::query(&sql)).await;
        }
        let rows: Vec<UserRow> = self
            .store
            .db()
            .map_err(unavailable)?
            .read(|c| {
                c.prepare_cached(&format!("{SELECT_USER} ORDER BY u.username"))?
                    .query_map([], UserRow::from_row)?
                    .collect()
            })
            .map_err(unavailable)?;
        Ok(rows.into_iter().map(DirUser::from).collect())
    }

    async fn members(&self, group: &str) -> Result<Vec<DirUser>, DirError> {
        if let Engine::Postgres(pg) = self.store.engine() {
            let sql = format!(
                "{SELECT_USER_PG} WHERE u.id IN (SELECT user_id FROM dir_groups WHERE group_name = $1)
                 ORDER BY lower(u.username)"
            );
            return pg_users(pg, sqlx::query(&sql).bind(group)).await;
        }
        let rows: Vec<UserRow> = self
            .store
            .db()
            .map_err(unavailable)?
            .read(|c| {
                c.prepare_cached(&format!(
                    "{SELECT_USER} WHERE u.id IN (SELECT user_id FROM dir_groups WHERE group_name = ?) ORDER BY u.username"
                ))?
                .query_map([group], UserRow::from_row)?
                .collect()
            })
            .map_err(unavailable)?;
        Ok(rows.into_iter().map(DirUser::from).collect())
    }

    async fn set_password(&self, user: &DirUser, password: &SecretString) -> Result<(), DirError> {
        let password = password.clone();
        let hash = self
            .hasher
            .run(move || hash_password(password.expose_secret()))
            .await
            .map_err(|e| DirError::Other(e.to_string()))??;
        let id = user.id.clone();
        if let Engine::Postgres(pg) = self.store.engine() {
            let update = sqlx::query(
                "UPDATE dir_users SET password_hash = $1,
                     password_changed_at = EXTRACT(EPOCH FROM now())::BIGINT, locked = 0
                 WHERE id = $2 AND disabled = 0",
            );
            return pg_change_one(pg, update.bind(&hash).bind(&id)).await;
        }
        let n = self
            .store
            .write_batched(move |c| {
                c.prepare_cached(
                    "UPDATE dir_users SET password_hash = ?, password_changed_at = strftime('%s','now'), locked = 0
                     WHERE id = ? AND disabled = 0",
                )?
                .execute([&hash, &id])
            })
            .await
            .map_err(unavailable)?;
        changed_one(n as u64)
    }

    async fn unlock(&self, user: &DirUser) -> Result<(), DirError> {
        let id = user.id.clone();
        if let Engine::Postgres(pg) = self.store.engine() {
            let update =
                sqlx::query("UPDATE dir_users SET locked = 0 WHERE id = $1 AND disabled = 0");
            return pg_change_one(pg, update.bind(&id)).await;
        }
        let n = self
            .store
            .write_batched(move |c| {
                c.prepare_cached("UPDATE dir_users SET locked = 0 WHERE id = ? AND disabled = 0")?
                    .execute([&id])
            })
            .await
            .map_err(unavailable)?;
        changed_one(n as u64)
    }

    async fn check_password(
        &self,
        user: &DirUser,
        password: &SecretString,
    ) -> Result<bool, DirError> {
        // A locked account can't sign in, as slapd's and Active Directory's binds refuse
        // one: the same hash work, the same answer as a wrong password.
        let locked = self
            .find(&user.username)
            .await?
            .is_none_or(|u| u.locked || u.disabled);
        let verified = self
            .verify_password(&user.username, password.expose_secret())
            .await
            .map_err(|e| DirError::Unavailable(e.to_string()))?;
        Ok(verified && !locked)
    }

    async fn check_decoy_password(&self, password: &SecretString) -> Result<(), DirError> {
        // Usernames are validated logins: none is empty.
        self.verify_password("", password.expose_secret())
            .await
            .map(|_| ())
            .map_err(|e| DirError::Unavailable(e.to_string()))
    }

    async fn ping(&self) -> Result<(), DirError> {
        if let Engine::Postgres(pg) = self.store.engine() {
            return sqlx::query("SELECT 1 FROM dir_users LIMIT 1")
                .fetch_optional(pg)
                .await
                .map(drop)
                .map_err(unavailable);
        }
        self.store
            .db()
            .map_err(unavailable)?
            .read(|c| {
                c.prepare_cached("SELECT 1 FROM dir_users LIMIT 1")?
                    .query([])?
                    .next()
                    .map(|_| ())
            })
            .map_err(unavailable)
    }
}

impl Store {
    /// How many people the built-in directory holds.
    pub async fn builtin_users(&self) -> anyhow::Result<i64> {
        Ok(match self.engine() {
            Engine::Postgres(pg) => {
                sqlx::query_scalar("SELECT COUNT(*) FROM dir_users")
                    .fetch_one(pg)
                    .await?
            }
            Engine::Sqlite(_) => self
                .db()?
                .read(|c| c.query_row("SELECT COUNT(*) FROM dir_users", [], |r| r.get(0)))?,
        })
    }
}

/// Runs a PostgreSQL write that must change exactly one account.
async fn pg_change_one(
    pg: &sqlx::PgPool,
    update: sqlx::query::Query<'_, sqlx::Postgres, sqlx::postgres::PgArguments>,
) -> Result<(), DirError> {
    changed_one(
        update
            .execute(pg)
            .await
            .map_err(unavailable)?
            .rows_affected(),
    )
}

/// A write that had to change exactly one account.
fn changed_one(rows: u64) -> Result<(), DirError> {
    if rows != 1 {
        return Err(DirError::Other("the account is gone or disabled".into()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use argon2::password_hash::PasswordHash;

    #[tokio::test]
    async fn a_missing_login_is_checked_against_a_decoy_of_the_same_cost() {
        let store = Store::open("sqlite::memory:").await.unwrap();
        store.migrate().await.unwrap();
        let dir = BuiltinDirectory::new("built-in", store);
        dir.add_user(&NewUser {
            id: "u1",
            username: "ada",
            email: None,
            given_name: "Ada",
            surname: "Lovelace",
            groups: &[],
            disabled: false,
            locked: false,
            password: "correct horse battery",
        })
        .await
        .unwrap();
        // Every answer, whoever asks, is one argon2id verification on the hashing threads.
        let hashed = dir.hasher.finished();
        assert!(dir
            .verify_password("ada", "correct horse battery")
            .await
            .unwrap());
        assert_eq!(dir.hasher.finished(), hashed + 1);
        assert!(!dir.verify_password("ada", "wrong").await.unwrap());
        assert_eq!(dir.hasher.finished(), hashed + 2);
        assert!(!dir
            .verify_password("nobody", "correct horse battery")
            .await
            .unwrap());
        assert_eq!(
            dir.hasher.finished(),
            hashed + 3,
            "an unknown login hashes too"
        );
        let secret = SecretString::from("correct horse battery".to_string());
        dir.check_decoy_password(&secret).await.unwrap();
        assert_eq!(dir.hasher.finished(), hashed + 4, "so does the decoy check");

        // The decoy is hashed as every stored password is, so verifying it costs the same.
        let stored: String = dir
            .store
            .db()
            .unwrap()
            .read(|c| c.query_row("SELECT password_hash FROM dir_users", [], |r| r.get(0)))
            .unwrap();
        let params_of = |h: &str| {
            let parsed = PasswordHash::new(h).unwrap();
            (parsed.algorithm.to_string(), parsed.params.to_string())
        };
        assert_eq!(params_of(decoy_hash()), params_of(&stored));
        assert_eq!(params_of(FALLBACK_DECOY), params_of(&stored));
    }
}
