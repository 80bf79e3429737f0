//! The policy's versions (`policy::document`): each save is a row; the newest is in force.

use rusqlite::{params, OptionalExtension};

use super::{Engine, Store, StoreResult};

/// One saved version of the policy.
#[derive(Debug, Clone)]
pub struct PolicyVersion {
    pub version: i64,
    /// The document, JSON.
    pub document: String,
    pub author: String,
    pub created_at: i64,
}

impl Store {
    /// The newest version's number (a cheap read the server polls).
    pub async fn policy_version(&self) -> StoreResult<Option<i64>> {
        match self.engine() {
            Engine::Sqlite(s) => s.db.read(|c| {
                c.query_row("SELECT MAX(version) FROM policy_versions", [], |r| r.get(0))
            }),
            Engine::Postgres(pg) => Ok(sqlx::query_scalar(
                "SELECT MAX(version) FROM policy_versions",
            )
            .fetch_one(pg)
            .await?),
        }
    }

    pub async fn latest_policy(&self) -> StoreResult<Option<PolicyVersion>> {
        const LATEST: &str = "SELECT version, document, author, created_at FROM policy_versions
             ORDER BY version DESC LIMIT 1";
        match self.engine() {
            Engine::Sqlite(s) => s.db.read(|c| {
                c.prepare_cached(LATEST)?
                    .query_row([], |r| {
                        Ok(PolicyVersion {
                            version: r.get(0)?,
                            document: r.get(1)?,
                            author: r.get(2)?,
                            created_at: r.get(3)?,
                        })
                    })
                    .optional()
            }),
            Engine::Postgres(pg) => {
                let row: Option<(i64, String, String, i64)> =
                    sqlx::query_as(LATEST).fetch_optional(pg).await?;
                Ok(
                    row.map(|(version, document, author, created_at)| PolicyVersion {
                        version,
                        document,
                        author,
                        created_at,
                    }),
                )
            }
        }
    }

    /// Saves a new version after `after` (the version it was made from; None: the first),
    /// and returns its number; None when another save came first (nothing written), in
    /// this process or another.
    pub async fn save_policy(
        &self,
        after: Option<i64>,
        document: &str,
        author: &str,
        now: i64,
    ) -> StoreResult<Option<i64>> {
        let pg = match self.engine() {
            Engine::Sqlite(_) => {
                let (document, author) = (document.to_owned(), author.to_owned());
                return self
                    .write_batched(move |c| {
                        let newest: Option<i64> =
                            c.query_row("SELECT MAX(version) FROM policy_versions", [], |r| {
                                r.get(0)
                            })?;
                        if newest != after {
                            return Ok(None);
                        }
                        let version = newest.unwrap_or(0) + 1;
                        c.prepare_cached(
                            "INSERT INTO policy_versions (version, document, author, created_at)
                             VALUES (?, ?, ?, ?)",
                        )?
                        .execute(params![version, document, author, now])?;
                        Ok(Some(version))
                    })
                    .await;
            }
            Engine::Postgres(pg) => pg,
        };
        // One statement: two processes saving after the same version race for one key,
        // and the loser inserts nothing (stale), as on SQLite's single writer.
        let version = after.unwrap_or(0) + 1;
        let saved = sqlx::query(
            "INSERT INTO policy_versions (version, document, author, created_at)
             SELECT $1, $2, $3, $4
             WHERE (SELECT MAX(version) FROM policy_versions) IS NOT DISTINCT FROM $5
             ON CONFLICT (version) DO NOTHING",
        )
        .bind(version)
        .bind(document)
        .bind(author)
        .bind(now)
        .bind(after)
        .execute(pg)
        .await?
        .rows_affected();
        Ok((saved == 1).then_some(version))
    }
}
