//! `sspr-server kiosk …`: enrollment codes (one-time and staging), the list of kiosks,
//! and revocation. Every operation runs on either store engine.

use clap::Subcommand;
use sspr_proto::EnrollmentCodeState;
use sspr_server::clock::now;
use sspr_server::config::Config;
use sspr_server::store::Store;
use sspr_server::{audit, kiosks, secret};

#[derive(Subcommand)]
pub enum KioskCommand {
    /// Print a one-time enrollment code for a new kiosk (--name, --location), or with
    /// --uses a staging code that enrolls up to N PCs, each as a new kiosk under its own
    /// host name.
    EnrollCode {
        /// The kiosk's name (a one-time code).
        #[arg(long, required_unless_present = "uses", conflicts_with = "uses")]
        name: Option<String>,
        /// Where the kiosk stands; with --uses, where PCs that don't say stand.
        #[arg(long, required_unless_present = "uses")]
        location: Option<String>,
        /// A staging code for this many PCs (1 to 10000).
        #[arg(long, value_name = "N")]
        uses: Option<u32>,
        /// How long a staging code is valid: 7d, 12h, 30m (default 7d, at most 90d).
        #[arg(long, requires = "uses", value_name = "DURATION")]
        valid_for: Option<String>,
        /// Names PCs that send no host name: PREFIX-1, PREFIX-2… (default "pc").
        #[arg(long, requires = "uses", value_name = "PREFIX")]
        name_prefix: Option<String>,
    },
    /// List kiosks.
    List,
    /// List staging codes (made with --uses) and the PCs each may still enroll.
    Codes,
    /// Revoke a kiosk: its requests are refused from now on.
    Revoke { id: String },
    /// Revoke a staging code: it enrolls no more PCs (those it enrolled stay).
    RevokeCode { id: String },
}

pub async fn kiosk_command(
    config: &Config,
    store: &Store,
    command: &KioskCommand,
) -> anyhow::Result<()> {
    let key = secret::ServerKey::load_or_create(&config.server.secret_file)?;
    let audit = audit::Audit::new(store.clone());
    let ctx = audit::Context {
        correlation_id: secret::random_id(),
        ..Default::default()
    };
    match command {
        KioskCommand::EnrollCode {
            name: Some(name),
            location,
            uses: None,
            valid_for,
            name_prefix,
        } => {
            // clap lets these through with --name (it conflicts with --uses, which they need).
            anyhow::ensure!(
                valid_for.is_none() && name_prefix.is_none(),
                "--valid-for and --name-prefix are for a staging code of several PCs: add --uses N                  instead of --name (a one-time code lasts kiosk.enrollment_code_hours)"
            );
            let location = location.as_deref().unwrap_or_default();
            anyhow::ensure!(!name.trim().is_empty(), "--name must not be empty");
            let hours = config.kiosk.enrollment_code_hours;
            let (id, code) =
                kiosks::issue_code(store, &key, name.trim(), location.trim(), hours, now()).await?;
            audit
                .record(
                    &audit::Context {
                        kiosk_id: Some(id.clone()),
                        ..ctx
                    },
                    audit::Event::KioskEnrollmentCodeIssued {
                        name: name.clone(),
                        location: location.to_string(),
                        code_id: None,
                        uses: None,
                        expires_at: None,
                    },
                    now(),
                )
                .await;
            eprintln!(
                "Kiosk {id} ({name}, {location}): enrollment code, valid {hours} h, single use:"
            );
            println!("{code}");
        }
        KioskCommand::EnrollCode {
            location,
            uses: Some(uses),
            valid_for,
            name_prefix,
            ..
        } => {
            let valid_secs = match valid_for {
                Some(v) => kiosks::parse_valid_for(v).map_err(anyhow::Error::msg)?,
                None => kiosks::DEFAULT_VALID_SECS,
            };
            let req = kiosks::StagingRequest::check(
                *uses,
                valid_secs,
                name_prefix.as_deref().unwrap_or_default(),
                location.as_deref().unwrap_or_default(),
            )
            .map_err(|e| anyhow::anyhow!("{e}"))?;
            let now = now();
            let issued = kiosks::issue_staging_code(store, &key, &req, now).await?;
            let expires = audit::rfc3339(issued.expires_at);
            audit
                .record(
                    &ctx,
                    audit::Event::KioskEnrollmentCodeIssued {
                        name: req.name_prefix.clone(),
                        location: req.location.clone(),
                        code_id: Some(issued.id.clone()),
                        uses: Some(req.uses),
                        expires_at: Some(expires.clone()),
                    },
                    now,
                )
                .await;
            eprintln!(
                "Staging code {} for {} PC{}, valid until {expires} (UTC):",
                issued.id,
                req.uses,
                if req.uses == 1 { "" } else { "s" },
            );
            println!("{}", issued.code);
            eprintln!(
                "Each PC that uses it becomes a new kiosk named by its host name (else {}-<n>), \
                 located where its config says (else {}).",
                req.name_prefix,
                if req.location.is_empty() {
                    "nowhere in particular".to_string()
                } else {
                    format!("{:?}", req.location)
                },
            );
            eprintln!(
                "QR text: {}",
                kiosks::qr_text(&config.public_origin(), &issued.code)
            );
            eprintln!(
                "`sspr-server kiosk codes` shows the PCs it may still enroll; `kiosk revoke-code {}` ends it.",
                issued.id
            );
        }
        KioskCommand::EnrollCode { .. } => {
            // clap lets only the two shapes above through.
            anyhow::bail!("use --name and --location for one kiosk, or --uses N for several PCs");
        }
        KioskCommand::List => {
            let rows = store.kiosks().await?;
            let width = rows
                .iter()
                .map(|k| k.name.chars().count())
                .max()
                .unwrap_or(0)
                .max(24);
            println!(
                "{:<18} {:<10} {:<22} {:<18} {:<width$} LOCATION",
                "ID", "STATE", "LAST SEEN (UTC)", "STAGING CODE", "NAME"
            );
            for k in rows {
                let state = if k.revoked_at.is_some() {
                    "revoked"
                } else if k.enrolled_at.is_some() {
                    "enrolled"
                } else {
                    "pending"
                };
                let seen = k
                    .last_seen_at
                    .map(audit::rfc3339)
                    .unwrap_or_else(|| "never".into());
                println!(
                    "{:<18} {:<10} {:<22} {:<18} {:<width$} {}",
                    k.id,
                    state,
                    seen,
                    k.enrollment_code_id.as_deref().unwrap_or("-"),
                    k.name,
                    k.location
                );
            }
        }
        KioskCommand::Codes => {
            let now = now();
            println!(
                "{:<18} {:<8} {:>11} {:>6} {:<22} {:<24} LOCATION",
                "ID", "STATE", "USED", "LEFT", "EXPIRES (UTC)", "NAME PREFIX"
            );
            for c in store.enrollment_codes(i64::MAX).await? {
                let state = match c.state(now) {
                    EnrollmentCodeState::Active => "active",
                    EnrollmentCodeState::UsedUp => "used up",
                    EnrollmentCodeState::Expired => "expired",
                    EnrollmentCodeState::Revoked => "revoked",
                };
                println!(
                    "{:<18} {:<8} {:>11} {:>6} {:<22} {:<24} {}",
                    c.id,
                    state,
                    format!("{}/{}", c.used, c.uses),
                    c.remaining(now),
                    audit::rfc3339(c.expires_at),
                    c.name_prefix,
                    c.location
                );
            }
        }
        KioskCommand::RevokeCode { id } => {
            anyhow::ensure!(
                store.revoke_enrollment_code(id, now()).await?,
                "no staging code with id {id}, or it was revoked already"
            );
            audit
                .record(
                    &ctx,
                    audit::Event::EnrollmentCodeRevoked {
                        code_id: id.clone(),
                    },
                    now(),
                )
                .await;
            println!("staging code {id} revoked: it enrolls no more PCs");
        }
        KioskCommand::Revoke { id } => {
            anyhow::ensure!(
                store.revoke_kiosk(id, now()).await?,
                "no active kiosk with id {id}"
            );
            audit
                .record(
                    &audit::Context {
                        kiosk_id: Some(id.clone()),
                        ..ctx
                    },
                    audit::Event::KioskRevoked,
                    now(),
                )
                .await;
            println!("kiosk {id} revoked");
        }
    }
    // The audit's writer batches: wait for the rows above before the process ends.
    audit.flush().await;
    Ok(())
}
