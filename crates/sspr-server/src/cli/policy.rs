//! `sspr-server policy …`: the policy in force, shown, exported, or a file's keys saved
//! as its next version.

use std::path::PathBuf;

use clap::Subcommand;
use sspr_server::audit;
use sspr_server::clock::now;
use sspr_server::config::Config;

#[derive(Subcommand)]
pub enum PolicyCommand {
    /// The version in force: its number, who saved it and when, and the document.
    Show,
    /// Write the policy in force to FILE as TOML (the same sections as the configuration).
    Export { file: PathBuf },
    /// Lay FILE's keys (TOML: [policy], [organization], [helpdesk], [approval]) over the
    /// policy in force and save the result as a new version; refused, with reasons and
    /// nothing changed, if nobody could pass it or a value is out of range. Servers put it
    /// in force within seconds.
    Import {
        file: PathBuf,
        /// Who is saving it, for the audit (default: the user running the command).
        #[arg(long)]
        author: Option<String>,
    },
}

pub async fn policy_command(config: Config, command: &PolicyCommand) -> anyhow::Result<()> {
    use sspr_server::policy::document::PolicyDocument;
    let state = sspr_server::build(config).await?;
    let core = &state.core;
    let latest = core
        .store
        .latest_policy()
        .await?
        .ok_or_else(|| anyhow::anyhow!("no policy version is stored"))?;
    let current = serde_json::from_str::<PolicyDocument>(&latest.document)?.filled(core.base());
    match command {
        PolicyCommand::Show => {
            println!(
                "# version {} saved by {} at {}",
                latest.version,
                latest.author,
                audit::rfc3339(latest.created_at)
            );
            print!("{}", current.to_toml());
        }
        PolicyCommand::Export { file } => {
            std::fs::write(
                file,
                format!(
                    "# SSPR Kiosk policy, version {} (saved by {} at {})\n{}",
                    latest.version,
                    latest.author,
                    audit::rfc3339(latest.created_at),
                    current.to_toml()
                ),
            )
            .map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
            println!("wrote version {} to {}", latest.version, file.display());
        }
        PolicyCommand::Import { file, author } => {
            use sspr_server::core::PolicySave;
            let text = std::fs::read_to_string(file)
                .map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
            let author = author.clone().unwrap_or_else(|| {
                format!(
                    "{} (command line)",
                    std::env::var("USER").unwrap_or_else(|_| "someone".into())
                )
            });
            let ctx = audit::Context {
                correlation_id: "policy-import".into(),
                ..Default::default()
            };
            let saved = core
                .change_policy(
                    &ctx,
                    &author,
                    Some(latest.version),
                    |current| current.with_changes(&text),
                    now(),
                )
                .await?;
            core.audit.flush().await;
            match saved {
                PolicySave::Saved { version, changes } => {
                    println!("saved version {version}: {}", changes.join(", "))
                }
                PolicySave::Unchanged(v) => println!("nothing changes: version {v} stays"),
                PolicySave::Stale => anyhow::bail!(
                    "another version was saved meanwhile: nothing changed; import again"
                ),
                PolicySave::Refused(problems) => anyhow::bail!(
                    "the policy was not changed (version {} stays):\n  {}",
                    latest.version,
                    problems.join("\n  ")
                ),
            }
        }
    }
    Ok(())
}
