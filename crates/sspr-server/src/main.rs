//! `sspr-server`: serve, demo, migrate, kiosk enrollment and the audit trail.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Parser, Subcommand};
use sspr_server::clock::now;
use sspr_server::config::{Config, SmtpTls};
use sspr_server::store::{AuditQuery, Store};
use sspr_server::{demo, http, kiosks};

mod cli {
    pub mod kiosk;
    pub mod policy;
    pub mod store;
}
use cli::kiosk::{kiosk_command, KioskCommand};
use cli::policy::{policy_command, PolicyCommand};
use cli::store::{store_command, StoreCommand};

#[derive(Parser)]
#[command(
    name = "sspr-server",
    version,
    about = "Self-service password reset server for kiosks"
)]
struct Cli {
    /// Configuration file (TOML); SSPR_* environment variables override it.
    #[arg(long, global = true, env = "SSPR_CONFIG")]
    config: Option<PathBuf>,
    /// Data folder: holds the SQLite store and the secret key (overrides the config's paths).
    #[arg(long, global = true)]
    data: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the kiosk API.
    Serve,
    /// Serve a seeded demo: built-in directory, demo people and a loopback mailbox.
    Demo {
        #[arg(long, default_value = "127.0.0.1:8443")]
        listen: SocketAddr,
    },
    /// Create or upgrade the store's tables, then exit.
    Migrate,
    /// Enroll, list and revoke kiosks.
    Kiosk {
        #[command(subcommand)]
        command: KioskCommand,
    },
    /// The directories: import people (built-in), register their methods, show one.
    Directory {
        #[command(subcommand)]
        command: DirectoryCommand,
    },
    /// Copy the store to a new file while the server runs: a consistent snapshot, checked.
    /// Restore by putting it back as the store (`sspr.db`) with the server stopped. The
    /// secret key (`server.secret_file`) is not in it: keep a copy of that too.
    Backup {
        /// The file to write; it must not exist.
        to: PathBuf,
    },
    /// The policy: show the version in force, export it as TOML, or import changes from a
    /// TOML file as a new version (config as code).
    Policy {
        #[command(subcommand)]
        command: PolicyCommand,
    },
    /// Move the store: `store copy --from sqlite:///… --to postgres://…`.
    Store {
        #[command(subcommand)]
        command: StoreCommand,
    },
    /// Print the audit trail, oldest first.
    Audit {
        /// A login or directory user id.
        #[arg(long)]
        user: Option<String>,
        /// RFC 3339 time, or a span back from now such as 30m, 24h, 7d.
        #[arg(long)]
        since: Option<String>,
        /// A reference code shown at the kiosk.
        #[arg(long = "ref")]
        reference: Option<String>,
        /// One JSON object a line.
        #[arg(long)]
        json: bool,
        #[arg(long, default_value_t = 1000)]
        limit: i64,
    },
}

#[derive(Subcommand)]
enum DirectoryCommand {
    /// Add the people in a TOML file (see docs/directory-import.example.toml).
    Import { file: PathBuf },
    /// Show what the directory holds for a login (username or email).
    Show { login: String },
    /// Register methods (alternate email, authenticator secret) for people of the
    /// configured directories, from a TOML file of `[[person]]` entries.
    Register { file: PathBuf },
    /// Remove every method a person registered (a lost phone, a lost secret key): they
    /// sign in to "My security info" with their password alone and set up again. They
    /// are told by email; it is audited.
    ClearMethods { login: String },
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: starting the runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn load_config(cli: &Cli) -> anyhow::Result<Config> {
    let mut config = Config::load(cli.config.as_deref())?;
    if let Some(dir) = &cli.data {
        std::fs::create_dir_all(dir)
            .map_err(|e| anyhow::anyhow!("creating the data folder {}: {e}", dir.display()))?;
        config.store.url = format!("sqlite://{}", dir.join("sspr.db").display());
        config.server.secret_file = dir.join("secret.key");
    }
    Ok(config)
}

fn init_logging(config: &Config) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_env("SSPR_LOG")
        .unwrap_or_else(|_| EnvFilter::new("info,tower_http=warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if config.server.log_format == "json" {
        builder.json().init();
    } else {
        builder.init();
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    match &cli.command {
        Command::Serve => {
            let config = load_config(&cli)?;
            init_logging(&config);
            let state = sspr_server::build(config).await?;
            let router = http::router(state.clone());
            sspr_server::serve(&state, router).await
        }
        Command::Demo { listen } => run_demo(&cli, *listen).await,
        Command::Policy { command } => policy_command(load_config(&cli)?, command).await,
        Command::Store { command } => store_command(command).await,
        Command::Migrate => {
            let config = load_config(&cli)?;
            if sspr_server::store::postgres::is_postgres_url(&config.store.url) {
                let at = sspr_server::store::postgres::migrate(
                    &config.store.url,
                    config.store.password_file.as_deref(),
                )
                .await?;
                println!("store is up to date: PostgreSQL at {at}");
                return Ok(());
            }
            let store = Store::open(&config.store.url).await?;
            store.migrate().await?;
            println!("store is up to date: {}", config.store.url);
            Ok(())
        }
        Command::Backup { to } => {
            let config = load_config(&cli)?;
            anyhow::ensure!(
                !sspr_server::store::postgres::is_postgres_url(&config.store.url),
                "`backup` copies a SQLite store; back up PostgreSQL with its own tools \
                 (pg_dump), with the secret key kept apart as for SQLite"
            );
            // Opening a store that isn't there would create an empty one.
            let file = Store::file_of(&config.store.url)?.ok_or_else(|| {
                anyhow::anyhow!("the store is in memory: there is nothing to back up")
            })?;
            anyhow::ensure!(
                file.exists(),
                "there is no store at {} to back up",
                file.display()
            );
            let store = Store::open(&config.store.url).await?;
            let copy = store.backup_to(to).await?;
            println!(
                "backed up the store to {} ({:.1} MB; kiosks: {}, registered methods: {}, audit rows: {}; integrity checked)",
                to.display(),
                copy.bytes as f64 / 1e6,
                copy.kiosks,
                copy.registrations,
                copy.audit_rows,
            );
            println!(
                "keep a copy of the secret key too ({}), apart from this copy: authenticator apps' secrets are sealed with it, and codes, decoys and sessions keyed",
                config.server.secret_file.display()
            );
            Ok(())
        }
        Command::Kiosk { command } => {
            let config = load_config(&cli)?;
            // Every operation of these commands runs on PostgreSQL too.
            let store =
                Store::open_any(&config.store.url, config.store.password_file.as_deref()).await?;
            store.migrate().await?;
            kiosk_command(&config, &store, command).await
        }
        Command::Directory { command } => {
            let config = load_config(&cli)?;
            // What goes wrong on the way (a directory, a notice mail) is worth a line.
            init_logging(&config);
            let state = sspr_server::build(config).await?;
            let svc = &state.core;
            match command {
                DirectoryCommand::Import { file } => {
                    let text = std::fs::read_to_string(file)
                        .map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
                    let name = &svc.config().directory.name;
                    anyhow::ensure!(
                        svc.config().directory.kind == sspr_server::config::DirectoryKind::Builtin,
                        "`directory import` loads people into the built-in directory; this server \
                         uses {name}. To give people of a real directory their methods, use \
                         `directory register`."
                    );
                    let n = sspr_server::directory::import::import(
                        &svc.store,
                        &svc.key,
                        name,
                        &text,
                        now(),
                    )
                    .await?;
                    println!("imported {n} people into {name}");
                }
                DirectoryCommand::Register { file } => {
                    let text = std::fs::read_to_string(file)
                        .map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
                    let n = sspr_server::directory::import::register(
                        &svc.store,
                        &svc.key,
                        &svc.directories,
                        &svc.config().sms,
                        &text,
                        now(),
                    )
                    .await?;
                    println!("registered methods for {n} people");
                }
                DirectoryCommand::ClearMethods { login } => {
                    let Some((_, user)) = svc.directories.find(login).await? else {
                        anyhow::bail!("no one with login {login:?} in {}", svc.directories.names());
                    };
                    let n = state.my.clear_methods(&user, now()).await.map_err(|e| {
                        let e = sspr_server::error::ApiError::from(e);
                        match e.cause() {
                            Some(cause) => anyhow::anyhow!("{}", cause.chain()),
                            None => anyhow::anyhow!("{}", e.message()),
                        }
                    })?;
                    println!(
                        "removed {n} method(s) of {} ({}); they were told by email",
                        user.username, user.display_name
                    );
                }
                DirectoryCommand::Show { login } => {
                    let user = svc.directories.find(login).await?;
                    let Some((home, u)) = user else {
                        anyhow::bail!("no one with login {login:?} in {}", svc.directories.names());
                    };
                    let home = svc.directories.get(home).map(|d| d.name().to_string());
                    println!("found in: {}", home.unwrap_or_default());
                    let methods: Vec<String> = svc
                        .store
                        .registrations(&u.id)
                        .await?
                        .iter()
                        .map(|r| r.kind.clone())
                        .collect();
                    println!("id:       {}", u.id);
                    println!("username: {}", u.username);
                    println!("name:     {}", u.display_name);
                    println!("email:    {}", u.email.as_deref().unwrap_or("-"));
                    println!("groups:   {}", u.groups.join(", "));
                    println!(
                        "state:    {}{}",
                        if u.disabled { "disabled" } else { "enabled" },
                        if u.locked { ", locked" } else { "" }
                    );
                    println!(
                        "methods:  {}",
                        if methods.is_empty() {
                            "none registered".to_string()
                        } else {
                            methods.join(", ")
                        }
                    );
                }
            }
            Ok(())
        }
        Command::Audit {
            user,
            since,
            reference,
            json,
            limit,
        } => {
            let config = load_config(&cli)?;
            // Reading the audit runs on PostgreSQL too.
            let store =
                Store::open_any(&config.store.url, config.store.password_file.as_deref()).await?;
            store.migrate().await?;
            let since = since.as_deref().map(parse_since).transpose()?;
            let rows = store
                .audit(&AuditQuery {
                    user: user.clone(),
                    since,
                    reference: reference.clone(),
                    limit: *limit,
                })
                .await?;
            for r in &rows {
                if *json {
                    println!("{}", serde_json::to_string(r)?);
                } else {
                    println!(
                        "{}  {:<28} {:<7}  ref={}  kiosk={}  login={}  corr={}  {}",
                        r.at,
                        r.event,
                        r.outcome,
                        r.reference.as_deref().unwrap_or("-"),
                        r.kiosk_id.as_deref().unwrap_or("-"),
                        r.login.as_deref().unwrap_or("-"),
                        &r.correlation_id.get(..8).unwrap_or("-"),
                        r.detail
                    );
                }
            }
            if rows.is_empty() && !*json {
                eprintln!("no audit events match");
            }
            Ok(())
        }
    }
}

fn parse_since(s: &str) -> anyhow::Result<i64> {
    let s = s.trim();
    if let Ok(t) = time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339) {
        return Ok(t.unix_timestamp());
    }
    let (number, unit) = s.split_at(s.len().saturating_sub(1));
    let n: i64 = number.parse().map_err(|_| {
        anyhow::anyhow!("--since: use RFC 3339 (2026-11-23T08:00:00Z) or a span like 30m, 24h, 7d")
    })?;
    let secs = match unit {
        "s" => n,
        "m" => n * 60,
        "h" => n * 3600,
        "d" => n * 86400,
        _ => anyhow::bail!(
            "--since: use RFC 3339 (2026-11-23T08:00:00Z) or a span like 30m, 24h, 7d"
        ),
    };
    Ok(now() - secs)
}

async fn run_demo(cli: &Cli, listen: SocketAddr) -> anyhow::Result<()> {
    let data = cli
        .data
        .clone()
        .unwrap_or_else(|| PathBuf::from("data/demo"));
    let cli_with_data = Cli {
        config: cli.config.clone(),
        data: Some(data.clone()),
        command: Command::Migrate,
    };
    let mut config = load_config(&cli_with_data)?;
    config.server.listen = listen;
    config.validate()?;
    init_logging(&config);
    let mailbox = sspr_mailbox::Mailbox::start("127.0.0.1:0".parse()?).await?;
    config.smtp.host = "127.0.0.1".into();
    config.smtp.port = mailbox.addr().port();
    config.smtp.tls = SmtpTls::None;
    config.smtp.username = None;
    config.smtp.password = None;
    if config.helpdesk.url.is_none() && config.helpdesk.phone.is_none() {
        config.helpdesk.url = Some("https://help.example.org/password".into());
        config.helpdesk.phone = Some("+49 30 1234 5678".into());
        config.helpdesk.email = Some("helpdesk@example.org".into());
    }
    if config.organization.name == Config::default().organization.name {
        config.organization.name = "Example Organisation (demo)".into();
    }
    config.policy.admin_groups = vec![demo::ADMIN_GROUP.into()];
    // The demo's administrators run the console (after a reset at the kiosk and a passkey
    // on /my, as anyone would).
    if config.console.admin_groups.is_empty() {
        config.console.admin_groups = vec![demo::ADMIN_GROUP.into()];
    }
    // Passkeys need a host name: the demo's phone pages are on localhost.
    if config.approval.public_url.is_none() && listen.ip().is_loopback() {
        config.approval.public_url = Some(format!("http://localhost:{}", listen.port()));
    }
    if !config
        .policy
        .methods
        .contains(&sspr_proto::MethodKind::Approval)
    {
        config.policy.methods.push(sspr_proto::MethodKind::Approval);
    }
    let state = sspr_server::build(config).await?;
    let svc = &state.core;
    let seeded = if svc.config().directory.kind == sspr_server::config::DirectoryKind::Builtin {
        demo::seed(&svc.store, &svc.key, &svc.config().directory.name).await?
    } else {
        demo::seed_registrations(&svc.store, &svc.key, &svc.directories).await?
    };

    // A ready enrollment code for the demo kiosk, kept in the data folder.
    let code_file = data.join("kiosk-enrollment-code");
    let enrolled = svc
        .store
        .kiosks()
        .await?
        .iter()
        .any(|k| k.enrolled_at.is_some() && k.revoked_at.is_none());
    if !enrolled && !code_file.exists() {
        let (_, code) = kiosks::issue_code(
            &svc.store,
            &svc.key,
            "Demo kiosk",
            "Front desk",
            24 * 365,
            now(),
        )
        .await?;
        std::fs::write(&code_file, format!("{code}\n"))?;
    }
    demo::print_mail(&mailbox);
    let origin = svc.config().public_origin();
    println!(
        "SSPR demo server on {origin}{}",
        if seeded { " (demo people seeded)" } else { "" }
    );
    println!("  demo page (people, authenticator codes, mailbox): {origin}/demo");
    println!(
        "  try: ada (email + authenticator), alan (administrator: two methods), grace (locked)"
    );
    println!(
        "  my security info (add a passkey, then 'Approve on your phone' at the kiosk): {}/my",
        svc.config().phone_origin()
    );
    println!("  data: {} (delete it to start over)", data.display());
    if code_file.exists() {
        println!("  kiosk enrollment code: {}", code_file.display());
    }
    let router = http::router(state.clone()).merge(demo::router(state.clone(), mailbox.clone()));
    sspr_server::serve(&state, router).await
}
