//! The policy's versions (`policy::document`): each save is a row; the newest is in force.

use rusqlite::{params, OptionalExtension};

use super::{Store, StoreResult};

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
        self.db()
            .read(|c| c.query_row("SELECT MAX(version) FROM policy_versions", [], |r| r.get(0)))
    }

    pub async fn latest_policy(&self) -> StoreResult<Option<PolicyVersion>> {
        self.db().read(|c| {
            c.prepare_cached(
                "SELECT version, document, author, created_at FROM policy_versions
                 ORDER BY version DESC LIMIT 1",
            )?
            .query_row([], |r| {
                Ok(PolicyVersion {
                    version: r.get(0)?,
                    document: r.get(1)?,
                    author: r.get(2)?,
                    created_at: r.get(3)?,
                })
            })
            .optional()
        })
    }

    /// Saves a new version after `after` (the version it was made from; None: the first),
    /// and returns its number; None when another save came first (nothing written).
    pub async fn save_policy(
        &self,
        after: Option<i64>,
        document: &str,
        author: &str,
        now: i64,
    ) -> StoreResult<Option<i64>> {
        let (document, author) = (document.to_owned(), author.to_owned());
        self.write_batched(move |c| {
            let newest: Option<i64> =
                c.query_row("SELECT MAX(version) FROM policy_versions", [], |r| r.get(0))?;
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
        .await
    }
}
