//! SSPR server: the backend every kiosk talks to. It owns every decision (policy, flows,
//! challenges, throttles, audit), writes to the directory and sends mail.

pub mod audit;
pub mod clock;
pub mod config;
pub mod console;
pub mod core;
pub mod demo;
pub mod directory;
pub mod error;
pub mod fault;
pub mod flow;
pub mod http;
pub mod kiosks;
pub mod lang;
#[cfg(test)]
mod layout_tests;
pub mod logo;
pub mod methods;
pub mod notify;
pub mod policy;
pub mod random;
pub mod secret;
pub mod security_info;
pub mod sms;
pub mod store;
pub mod telemetry;
#[cfg(test)]
mod testkit;
pub mod throttle;
#[cfg(test)]
mod translation_tests;
pub mod web;
pub mod web_session;

use std::sync::Arc;
use std::time::Duration;

use config::Config;
use flow::FlowService;
use store::Store;

/// Opens the store (migrating it), the directory and the mailer, and wires the services.
pub async fn build(config: Config) -> anyhow::Result<http::AppState> {
    let store = Store::open_any(&config.store.url, config.store.password_file.as_deref()).await?;
    store.migrate().await?;
    let key = secret::ServerKey::load_or_create(&config.server.secret_file)?;
    let sealed = store.seal_plain_totp(&key).await?;
    if sealed > 0 {
        tracing::info!(
            registrations = sealed,
            "authenticator secrets the store held in the plain are sealed now (copies of the store from before still hold them)"
        );
    }
    let unopenable = store.unopenable_totp(&key).await?;
    if unopenable > 0 {
        tracing::warn!(
            registrations = unopenable,
            secret_file = %config.server.secret_file.display(),
            "authenticator apps registered under another secret key can't be checked with this one: \
             was the key file replaced? Put the right one back, or have those people's methods \
             cleared (`sspr-server directory clear-methods LOGIN`) and set up again"
        );
    }
    let directories = Arc::new(directory::open_all(&config.directory, &store)?);
    // The rules shown before typing come from the directories: read them now (a directory
    // that is down at start is read again in the background).
    match tokio::time::timeout(Duration::from_secs(10), directories.refresh_rules()).await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => tracing::warn!(error = %e, "reading the directories' password rules"),
        Err(_) => tracing::warn!("reading the directories' password rules timed out"),
    }
    let mailer = notify::Mailer::new(&config.smtp)?;
    let passkeys = passkeys(&config)?;
    let config_sms = config.sms.clone();
    let config_voice = config.voice.clone();
    let core = Arc::new(core::Core::new(core::Parts {
        config,
        store,
        key,
        mailer,
        directories,
        passkeys,
        sms: sms::Sms::new(&config_sms)?,
        voice: sms::Sms::voice(&config_voice)?,
        random: random::Random::os(),
    })?);
    // The newest stored policy over the file's (the file's is the first version).
    let version = core.apply_latest_policy(clock::now()).await?;
    let file = policy::document::PolicyDocument::of(core.base());
    let stored = policy::document::PolicyDocument::of(&core.config());
    let differ = stored.changes_from(&file);
    if !differ.is_empty() {
        tracing::warn!(
            version,
            keys = %differ.join(", "),
            "the stored policy is in force, not the configuration file's values for these keys \
             (the file gives only the first version): change them with `sspr-server policy import FILE`"
        );
    }
    let flows = FlowService::new(core.clone());
    // Who decoys stand in for: read now (the directories list administrators), for at
    // most 10 s; the background refresh reads again.
    if tokio::time::timeout(Duration::from_secs(10), flows.refresh_stand_ins())
        .await
        .is_err()
    {
        tracing::warn!("reading who decoys stand in for timed out; read again in the background");
    }
    let metrics = telemetry::install().map(|handle| http::metrics::Metrics {
        handle,
        token: core.config().metrics.token().ok().flatten().map(Arc::new),
    });
    Ok(http::AppState {
        my: Arc::new(security_info::SecurityInfo::new(core.clone())),
        console: Arc::new(console::Console::new(core.clone())),
        flows: Arc::new(flows),
        kiosks: Arc::default(),
        metrics,
        core,
    })
}

/// Passkeys need the host phones use; approval can't be offered without them.
fn passkeys(config: &Config) -> anyhow::Result<Option<methods::passkey::Passkeys>> {
    let origin = config.phone_origin();
    match methods::passkey::Passkeys::new(&origin, &config.organization.name) {
        Ok(p) => Ok(Some(p)),
        Err(e)
            if config
                .policy
                .methods
                .contains(&sspr_proto::MethodKind::Approval) =>
        {
            Err(e)
        }
        Err(e) => {
            tracing::info!(reason = %e, "passkeys are off");
            Ok(None)
        }
    }
}

/// Serves `router` until SIGINT or SIGTERM, with housekeeping in the background.
pub async fn serve(state: &http::AppState, router: axum::Router) -> anyhow::Result<()> {
    let listen = state.core.config().server.listen;
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|e| anyhow::anyhow!("listening on {listen}: {e}"))?;
    tracing::info!(%listen, public_url = %state.core.config().public_origin(), "serving");
    let housekeeping = tokio::spawn(housekeeping(state.clone()));
    let rules = tokio::spawn(
        state
            .core
            .directories
            .clone()
            .keep_rules_fresh(Duration::from_secs(600)),
    );
    let checkpoints = tokio::spawn(checkpoints(state.core.store.clone()));
    let approvals = tokio::spawn(expire_approvals(state.flows.clone()));
    // Events other processes push, for the kiosks' streams this one serves.
    let flows = state.flows.clone();
    let flow_events = tokio::spawn(async move { flows.approvals.listen().await });
    let stand_ins = tokio::spawn(refresh_stand_ins(state.flows.clone()));
    let relay = tokio::spawn(probe_failing_relay(state.core.clone()));
    let metrics = tokio::spawn(serve_metrics(state.clone()));
    let policy = tokio::spawn(follow_policy(state.core.clone()));
    // Usage & insights' past days, read once ahead of the first report.
    let console = state.console.clone();
    let warm = tokio::spawn(async move { console.warm(clock::now()).await });
    let result = axum::serve(
        listener,
        router.into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown_signal())
    .await;
    housekeeping.abort();
    warm.abort();
    rules.abort();
    checkpoints.abort();
    approvals.abort();
    flow_events.abort();
    stand_ins.abort();
    relay.abort();
    metrics.abort();
    policy.abort();
    // Audit rows are written in batches: the last ones are committed before exiting.
    state.core.store.flush().await;
    result.map_err(Into::into)
}

/// Puts a newly saved policy version in force within seconds (saved by `sspr-server
/// policy import`, or by another process), without a restart.
async fn follow_policy(core: Arc<core::Core>) {
    loop {
        tokio::time::sleep(Duration::from_secs(2)).await;
        let before = core.policy_version();
        match core.apply_latest_policy(clock::now()).await {
            // The decoys' shapes follow the methods the policy offers.
            Ok(now) if now != before => core.registrations_changed.notify_one(),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "reading the policy's versions failed"),
        }
    }
}

/// Keeps the metrics' histograms bounded between scrapes and, with `metrics.listen`,
/// serves `/metrics` on a listener of its own.
async fn serve_metrics(state: http::AppState) {
    let Some(metrics) = state.metrics.clone() else {
        return;
    };
    let upkeep = metrics.handle.clone();
    let upkeep = tokio::spawn(async move {
        loop {
            tokio::time::sleep(Duration::from_secs(5)).await;
            upkeep.run_upkeep();
        }
    });
    if let Some(listen) = state.core.config().metrics.listen {
        match tokio::net::TcpListener::bind(listen).await {
            Ok(listener) => {
                tracing::info!(%listen, "serving /metrics");
                let router = http::metrics::listener(metrics.handle.clone());
                if let Err(e) = axum::serve(listener, router).await {
                    tracing::error!(error = %e, "the metrics listener stopped");
                }
            }
            Err(e) => tracing::error!(%listen, error = %e, "listening for /metrics failed"),
        }
    }
    let _ = upkeep.await;
}

/// Copies the WAL into the database file four times a second, off the request path (the
/// store turns SQLite's automatic checkpoints, which run inside a commit, off).
async fn checkpoints(store: store::Store) {
    loop {
        // Often, so each copies little: one copy of a second's writes took ~25 ms of CPU
        // under load, long enough to hold up requests.
        tokio::time::sleep(Duration::from_millis(250)).await;
        if let Err(e) = store.checkpoint().await {
            tracing::warn!(error = %e, "checkpointing the store failed");
        }
    }
}

/// Ends approvals nobody finished in time, so the kiosk is told at once.
async fn expire_approvals(flows: Arc<FlowService>) {
    loop {
        tokio::time::sleep(Duration::from_secs(1)).await;
        flows.expire_approvals(clock::now()).await;
    }
}

/// Keeps the people decoys stand in for current (who registered, who is an
/// administrator).
async fn refresh_stand_ins(flows: Arc<FlowService>) {
    loop {
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(300)) => {}
            _ = flows.core.registrations_changed.notified() => {}
        }
        flows.refresh_stand_ins().await;
    }
}

/// While the mail relay is failing, tries a session with it now and then, so decoys stop
/// answering "couldn't send" as soon as real people would be sent their codes again.
async fn probe_failing_relay(core: Arc<core::Core>) {
    loop {
        tokio::time::sleep(Duration::from_secs(15)).await;
        if core.mailer.failing(clock::now()) && core.mailer.probe().await {
            tracing::info!("the mail relay answers again");
        }
    }
}

/// Forgets what is no longer needed: spent nonces, old flows, old throttle counters, ended
/// web sessions and audit rows past their retention; every 5 minutes, in one process of
/// those sharing a PostgreSQL database (`store::Housekeeper`), which the others take over from within
/// seconds if it dies.
async fn housekeeping(state: http::AppState) {
    let store = &state.core.store;
    let skew = state.core.config().kiosk.signature_max_skew_secs as i64;
    let retention_days = i64::from(state.core.config().store.audit_retention_days);
    let mut housekeeper = store::Housekeeper::default();
    let mut last_run: Option<std::time::Instant> = None;
    loop {
        let mine = housekeeper.is_mine(store).await;
        if !mine {
            // Whoever takes it over next starts with a round of its own.
            last_run = None;
        }
        let due = last_run.is_none_or(|at| at.elapsed() >= Duration::from_secs(300));
        if !(mine && due) {
            tokio::time::sleep(Duration::from_secs(5)).await;
            continue;
        }
        last_run = Some(std::time::Instant::now());
        let now = clock::now();
        let result = async {
            store.forget_nonces_before(now - 2 * skew - 60).await?;
            store.purge_flows_before(now - 24 * 3600).await?;
            store.purge_idempotent_before(now - 24 * 3600).await?;
            store.purge_events_before(now - 8 * 24 * 3600).await?;
            store.purge_sessions_before(now).await?;
            store.purge_flow_events_before(now - 24 * 3600).await?;
            if retention_days > 0 {
                let before = now - retention_days * 86_400;
                let rows = store.purge_audit_before(before).await?;
                if rows > 0 {
                    let ctx = audit::Context {
                        correlation_id: "housekeeping".into(),
                        ..Default::default()
                    };
                    let before = audit::rfc3339(before);
                    tracing::info!(rows, before = %before, "audit rows past their retention deleted");
                    state
                        .core
                        .audit
                        .record(&ctx, audit::Event::AuditPurged { rows, before }, now)
                        .await;
                }
            }
            Ok::<(), store::StoreError>(())
        }
        .await;
        if let Err(e) = result {
            tracing::warn!(error = %e, "housekeeping failed");
        }
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutting down");
}
