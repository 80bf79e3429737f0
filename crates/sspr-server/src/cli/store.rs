//! `sspr-server store copy`: a deployment's SQLite store moved into PostgreSQL.

use std::path::PathBuf;

use clap::Subcommand;
use sspr_server::store::{postgres, Store};

#[derive(Subcommand)]
pub enum StoreCommand {
    /// Copy every row of a SQLite store into a new, empty PostgreSQL database (migrated
    /// first), in one transaction, and check each table row by row. Stop the servers
    /// first; keep the same secret key (server.secret_file) for the servers on the copy.
    Copy {
        /// The SQLite store: sqlite:///var/lib/sspr/sspr.db
        #[arg(long, value_name = "URL")]
        from: String,
        /// The PostgreSQL database: postgres://USER@HOST/DB?sslmode=verify-full&…
        #[arg(long, value_name = "URL")]
        to: String,
        /// The PostgreSQL password's file (its first line; else PGPASSWORD or ~/.pgpass).
        #[arg(long, value_name = "FILE")]
        password_file: Option<PathBuf>,
    },
}

pub async fn store_command(command: &StoreCommand) -> anyhow::Result<()> {
    let StoreCommand::Copy {
        from,
        to,
        password_file,
    } = command;
    anyhow::ensure!(
        !postgres::is_postgres_url(from),
        "--from must name a SQLite store (sqlite:///…): `store copy` moves SQLite into PostgreSQL"
    );
    anyhow::ensure!(
        postgres::is_postgres_url(to),
        "--to must name a PostgreSQL database (postgres://…)"
    );
    // Opening a store that isn't there would create an empty one.
    let file = Store::file_of(from)?.ok_or_else(|| {
        anyhow::anyhow!("--from names a store in memory: there is nothing to copy")
    })?;
    anyhow::ensure!(file.exists(), "there is no store at {}", file.display());
    let source = Store::open(from).await?;
    // The same schema version on both sides (this binary's newest).
    source.migrate().await?;
    let target = Store::open_postgres(to, password_file.as_deref()).await?;
    let copied = source.copy_to(&target).await?;
    for t in &copied {
        println!("{:<28} {:>9} rows", t.table, t.rows);
    }
    println!(
        "copied {} rows of {} tables from {} into PostgreSQL, each table checked row by row. \
         Point store.url at it, keep the same secret key (server.secret_file), and start the servers.",
        copied.iter().map(|t| t.rows).sum::<u64>(),
        copied.len(),
        file.display()
    );
    Ok(())
}
