//! `sspr-server store copy`: moves a deployment from a SQLite store to PostgreSQL. Every
//! table's rows are copied in one PostgreSQL transaction (all or nothing), then checked:
//! each row of each table is hashed on both sides (the same columns, the same values)
//! and the tables' counts and sums of row hashes must agree. A store that already holds
//! rows is never written into.
//!
//! The tables and columns are read from the two schemas (both made by this binary's
//! migrations, which a test keeps alike), so a table added by a later migration is copied
//! without a change here. Values keep their types: SQLite's integers, text and blobs go
//! to PostgreSQL's BIGINT, TEXT and BYTEA; anything else is refused by name.

use futures::TryStreamExt as _;
use rusqlite::types::Value;
use sha2::{Digest, Sha256};
use sqlx::postgres::{PgArguments, PgRow};
use sqlx::{Arguments as _, Row as _};

use super::{Engine, Store};

/// What was copied of one table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CopiedTable {
    pub table: String,
    pub rows: u64,
}

/// Rows read from SQLite at a time (a large audit table is never held whole).
const CHUNK: i64 = 2000;

/// A PostgreSQL column the copy fills, and its type.
#[derive(Clone)]
struct Column {
    name: String,
    kind: Kind,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Int,
    Text,
    Bytes,
}

/// The count and the sum of the row hashes of a table (the same whatever the order).
#[derive(Default, PartialEq, Eq, Debug)]
struct Tally {
    rows: u64,
    sum: u128,
}

impl Tally {
    fn add(&mut self, row: &[Value]) {
        let mut h = Sha256::new();
        for v in row {
            match v {
                Value::Null => h.update([0]),
                Value::Integer(i) => {
                    h.update([1]);
                    h.update(i.to_be_bytes());
                }
                Value::Text(t) => {
                    h.update([2]);
                    h.update((t.len() as u64).to_be_bytes());
                    h.update(t.as_bytes());
                }
                Value::Blob(b) => {
                    h.update([3]);
                    h.update((b.len() as u64).to_be_bytes());
                    h.update(b);
                }
                // Refused before it is hashed (`bind`).
                Value::Real(r) => {
                    h.update([4]);
                    h.update(r.to_be_bytes());
                }
            }
        }
        let digest = h.finalize();
        let mut first = [0u8; 16];
        first.copy_from_slice(&digest[..16]);
        self.rows += 1;
        self.sum = self.sum.wrapping_add(u128::from_be_bytes(first));
    }
}

fn quoted(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

impl Store {
    /// Copies every row of this SQLite store into `to`, an empty PostgreSQL store of the
    /// same schema version, and checks the copy. Stop the servers of this store first:
    /// what they write meanwhile may not be copied.
    pub async fn copy_to(&self, to: &Store) -> anyhow::Result<Vec<CopiedTable>> {
        let Engine::Sqlite(source) = self.engine() else {
            anyhow::bail!("`store copy` copies from a SQLite store (--from sqlite://…)");
        };
        let Engine::Postgres(pg) = to.engine() else {
            anyhow::bail!("`store copy` copies into PostgreSQL (--to postgres://…)");
        };
        let db = source.db.clone();
        let tables = parents_first(&db)?;

        let mut tx = pg.begin().await?;
        for table in &tables {
            let any: Option<i32> =
                sqlx::query_scalar(&format!("SELECT 1 FROM {} LIMIT 1", quoted(table)))
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(|e| anyhow::anyhow!("the target has no table {table}: {e}"))?;
            anyhow::ensure!(
                any.is_none(),
                "the target store is not empty (table {table} holds rows): `store copy` only \
                 writes into a new, empty database; nothing was written"
            );
        }

        let mut copied = Vec::new();
        for table in &tables {
            let columns = columns(pg, &db, table).await?;
            let names: Vec<String> = columns.iter().map(|c| quoted(&c.name)).collect();
            let insert = format!(
                "INSERT INTO {} ({}) VALUES ({})",
                quoted(table),
                names.join(", "),
                (1..=names.len())
                    .map(|i| format!("${i}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            let mut read = Tally::default();
            let has_rowid = db
                .read(|c| {
                    c.prepare(&format!("SELECT rowid FROM {} LIMIT 0", quoted(table)))
                        .map(drop)
                })
                .is_ok();
            let mut after = i64::MIN;
            loop {
                let select = if has_rowid {
                    format!(
                        "SELECT rowid, {} FROM {} WHERE rowid > ?1 ORDER BY rowid LIMIT {CHUNK}",
                        names.join(", "),
                        quoted(table)
                    )
                } else {
                    // Tables without a rowid are small (one row a person, or a day's keys).
                    format!(
                        "SELECT 0, {} FROM {} WHERE ?1 IS NOT NULL",
                        names.join(", "),
                        quoted(table)
                    )
                };
                let n = names.len();
                let rows: Vec<(i64, Vec<Value>)> = db.read(|c| {
                    c.prepare(&select)?
                        .query_map([after], |r| {
                            let values = (1..=n)
                                .map(|i| r.get::<_, Value>(i))
                                .collect::<rusqlite::Result<_>>()?;
                            Ok((r.get(0)?, values))
                        })?
                        .collect()
                })?;
                let Some(last) = rows.last().map(|(rowid, _)| *rowid) else {
                    break;
                };
                for (_, values) in &rows {
                    let mut args = PgArguments::default();
                    for (column, value) in columns.iter().zip(values) {
                        bind(&mut args, table, column, value)?;
                    }
                    sqlx::query_with(&insert, args).execute(&mut *tx).await?;
                    read.add(values);
                }
                if !has_rowid || rows.len() < CHUNK as usize {
                    break;
                }
                after = last;
            }
            // Identity columns given their values: their sequences go on after the largest.
            for column in identity_columns(&mut tx, table).await? {
                sqlx::query(&format!(
                    "SELECT setval(pg_get_serial_sequence($1, $2), GREATEST(MAX({c}), 1), MAX({c}) IS NOT NULL) FROM {t}",
                    c = quoted(&column),
                    t = quoted(table)
                ))
                .bind(table)
                .bind(&column)
                .execute(&mut *tx)
                .await?;
            }
            let written = tally_pg(&mut tx, table, &columns).await?;
            anyhow::ensure!(
                written == read,
                "checking the copy of {table}: {} rows read, {} written, and they differ; \
                 nothing was written",
                read.rows,
                written.rows
            );
            copied.push(CopiedTable {
                table: table.clone(),
                rows: read.rows,
            });
        }
        tx.commit().await?;
        Ok(copied)
    }
}

/// The store's tables, each after the tables its foreign keys name (a migration that
/// rebuilt a table made it anew, after those that name it).
fn parents_first(db: &super::Db) -> anyhow::Result<Vec<String>> {
    let tables: Vec<(String, Vec<String>)> = db.read(|c| {
        let names: Vec<String> = c
            .prepare(
                "SELECT name FROM sqlite_master WHERE type = 'table'
                   AND name NOT LIKE 'sqlite_%' AND name <> '_sqlx_migrations' ORDER BY rowid",
            )?
            .query_map([], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        names
            .into_iter()
            .map(|name| {
                let parents = c
                    .prepare("SELECT DISTINCT \"table\" FROM pragma_foreign_key_list(?1)")?
                    .query_map([&name], |r| r.get(0))?
                    .collect::<rusqlite::Result<Vec<String>>>()?;
                Ok((name, parents))
            })
            .collect()
    })?;
    let mut ordered: Vec<String> = Vec::new();
    while ordered.len() < tables.len() {
        let next = tables.iter().find(|(name, parents)| {
            !ordered.contains(name)
                && parents.iter().all(|p| {
                    p == name || ordered.contains(p) || !tables.iter().any(|(t, _)| t == p)
                })
        });
        let Some((name, _)) = next else {
            anyhow::bail!("the store's tables name each other in a circle; nothing was copied");
        };
        ordered.push(name.clone());
    }
    Ok(ordered)
}

/// The columns of `table` both stores have, with PostgreSQL's types. A SQLite column
/// PostgreSQL lacks is an error (the schemas differ); a PostgreSQL column SQLite lacks is
/// one PostgreSQL fills itself (the challenges' order).
async fn columns(pg: &sqlx::PgPool, db: &super::Db, table: &str) -> anyhow::Result<Vec<Column>> {
    let sqlite: Vec<String> = db.read(|c| {
        c.prepare(&format!(
            "SELECT name FROM pragma_table_info('{}')",
            table.replace('\'', "''")
        ))?
        .query_map([], |r| r.get(0))?
        .collect()
    })?;
    let pg_columns: Vec<(String, String)> = sqlx::query_as(
        "SELECT column_name::TEXT, data_type::TEXT FROM information_schema.columns
         WHERE table_schema = current_schema() AND table_name = $1",
    )
    .bind(table)
    .fetch_all(pg)
    .await?;
    sqlite
        .into_iter()
        .map(|name| {
            let (_, data_type) = pg_columns
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(&name))
                .ok_or_else(|| {
                    anyhow::anyhow!(
                        "the target's table {table} has no column {name}: the schemas differ"
                    )
                })?;
            let kind = match data_type.as_str() {
                "bigint" => Kind::Int,
                "text" => Kind::Text,
                "bytea" => Kind::Bytes,
                other => anyhow::bail!("{table}.{name}: PostgreSQL type {other} is not copied"),
            };
            Ok(Column { name, kind })
        })
        .collect()
}

/// Binds one SQLite value as its PostgreSQL column's type.
fn bind(args: &mut PgArguments, table: &str, column: &Column, value: &Value) -> anyhow::Result<()> {
    let wrong = |what: &str| {
        anyhow::anyhow!(
            "{table}.{}: a {what} where PostgreSQL keeps another type",
            column.name
        )
    };
    let bound = match (column.kind, value) {
        (Kind::Int, Value::Null) => args.add(None::<i64>),
        (Kind::Text, Value::Null) => args.add(None::<String>),
        (Kind::Bytes, Value::Null) => args.add(None::<Vec<u8>>),
        (Kind::Int, Value::Integer(i)) => args.add(*i),
        (Kind::Text, Value::Text(t)) => args.add(t.clone()),
        (Kind::Bytes, Value::Blob(b)) => args.add(b.clone()),
        (_, Value::Integer(_)) => return Err(wrong("number")),
        (_, Value::Text(_)) => return Err(wrong("text")),
        (_, Value::Blob(_)) => return Err(wrong("blob")),
        (_, Value::Real(_)) => return Err(wrong("real number")),
    };
    bound.map_err(|e| anyhow::anyhow!("{table}.{}: {e}", column.name))
}

/// The identity columns PostgreSQL lets a copy give values to.
async fn identity_columns(tx: &mut sqlx::PgConnection, table: &str) -> anyhow::Result<Vec<String>> {
    Ok(sqlx::query_scalar(
        "SELECT column_name::TEXT FROM information_schema.columns
         WHERE table_schema = current_schema() AND table_name = $1
           AND is_identity = 'YES' AND identity_generation = 'BY DEFAULT'",
    )
    .bind(table)
    .fetch_all(&mut *tx)
    .await?)
}

/// The tally of what PostgreSQL holds of `table` now, over the copied columns.
async fn tally_pg(
    tx: &mut sqlx::PgConnection,
    table: &str,
    columns: &[Column],
) -> anyhow::Result<Tally> {
    let names: Vec<String> = columns.iter().map(|c| quoted(&c.name)).collect();
    let sql = format!("SELECT {} FROM {}", names.join(", "), quoted(table));
    let mut rows = sqlx::query(&sql).fetch(&mut *tx);
    let mut tally = Tally::default();
    while let Some(row) = rows.try_next().await? {
        tally.add(&values_of(&row, columns)?);
    }
    Ok(tally)
}

/// A PostgreSQL row as the SQLite values it was copied from.
fn values_of(row: &PgRow, columns: &[Column]) -> sqlx::Result<Vec<Value>> {
    columns
        .iter()
        .enumerate()
        .map(|(i, c)| {
            Ok(match c.kind {
                Kind::Int => row
                    .try_get::<Option<i64>, _>(i)?
                    .map_or(Value::Null, Value::Integer),
                Kind::Text => row
                    .try_get::<Option<String>, _>(i)?
                    .map_or(Value::Null, Value::Text),
                Kind::Bytes => row
                    .try_get::<Option<Vec<u8>>, _>(i)?
                    .map_or(Value::Null, Value::Blob),
            })
        })
        .collect()
}
