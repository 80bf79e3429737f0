//! Resets through the release server: one enrolled kiosk, people registered with an
//! authenticator; flows verified first, then only the password step timed.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use sspr_tests::sspr_client::Client;
use sspr_tests::sspr_proto::{FlowState, Intent, MethodKind, StartFlowRequest};
use sspr_tests::{Options, TestServer};

use super::cpu;
use super::users::{fresh_password, Person, Target};
use super::Timed;

/// Flows verified at once while preparing a level (not timed).
const PREPARE_CONCURRENCY: usize = 8;

/// Every throttle out of the way: one kiosk resets hundreds of people a minute here,
/// which the defaults rightly refuse. Each person still resets once.
pub const NO_THROTTLES: &str = r#"
[throttle]
failed_verifications = { max = 1000000, window_secs = 3600 }
phone_challenges = { max = 1000000, window_secs = 3600 }
emails = { max = 1000000, window_secs = 3600 }
resets = { max = 1000000, window_secs = 3600 }
kiosk_failed_verifications = { max = 1000000, window_secs = 3600 }
kiosk_phone_challenges = { max = 1000000, window_secs = 3600 }
kiosk_emails = { max = 1000000, window_secs = 3600 }
"#;

const PASSWORD: &str = r#"
[password]
# The generated passwords have 25 characters.
min_length = 15
"#;

pub struct Server {
    server: TestServer,
    kiosk: Arc<Client>,
}

impl Server {
    /// The release server against `target`, with `people` registered (TOTP).
    pub async fn start(target: &Target, people: &[Person]) -> anyhow::Result<Server> {
        super::progress("starting the release server");
        let server = TestServer::start_with(Options {
            extra_config: format!("{}{NO_THROTTLES}{PASSWORD}", target.server_toml()),
            real_directory: true,
            ..Options::default()
        })
        .await?;
        super::progress(format!("registering {} authenticators", people.len()));
        let mut toml = String::new();
        for p in people {
            toml.push_str(&format!(
                "[[person]]\nlogin = \"{}\"\ntotp = \"{}\"\n\n",
                p.login, p.totp
            ));
        }
        server.register(&toml)?;
        let kiosk = Arc::new(server.kiosk().await?);
        Ok(Server { server, kiosk })
    }

    /// `people.len()` resets at `concurrency`; only the password step is timed.
    pub async fn run(
        &self,
        target: &Target,
        people: &[Person],
        concurrency: usize,
    ) -> anyhow::Result<Timed> {
        let flows = self.verified_flows(people).await?;
        let jobs: Arc<Vec<(String, String)>> = Arc::new(
            flows
                .into_iter()
                .map(|flow| (flow, fresh_password()))
                .collect(),
        );
        let next = Arc::new(AtomicUsize::new(0));
        let before =
            cpu::Snapshot::take(Some(self.server.config_path.as_path()), target.data_dir());
        let started = Instant::now();
        let mut workers = tokio::task::JoinSet::new();
        for _ in 0..concurrency {
            let (kiosk, jobs, next) = (self.kiosk.clone(), jobs.clone(), next.clone());
            workers.spawn(async move {
                let mut mine = Worker::default();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some((flow, password)) = jobs.get(i) else {
                        return mine;
                    };
                    let t = Instant::now();
                    match kiosk.set_password(flow, password).await {
                        Ok(done) if done.directories.iter().all(|d| d.ok) => {
                            mine.latencies.push(t.elapsed());
                        }
                        Ok(done) => mine.fail(format!("not written: {:?}", done.directories)),
                        Err(e) => mine.fail(e.to_string()),
                    }
                }
            });
        }
        let mut all = Worker::default();
        while let Some(w) = workers.join_next().await {
            all.absorb(w?);
        }
        let elapsed = started.elapsed();
        let cpu = before.usage_since();
        Ok(all.into_timed(elapsed, cpu))
    }

    /// `n` signed requests that do nothing (`GET /v1/kiosk/settings`), one at a time: what
    /// a reset through the server costs before it reaches the directory at all.
    pub async fn signed_requests(&self, target: &Target, n: usize) -> anyhow::Result<Timed> {
        let before =
            cpu::Snapshot::take(Some(self.server.config_path.as_path()), target.data_dir());
        let started = Instant::now();
        let mut mine = Worker::default();
        for _ in 0..n {
            let t = Instant::now();
            match self.kiosk.settings().await {
                Ok(_) => mine.latencies.push(t.elapsed()),
                Err(e) => mine.fail(e.to_string()),
            }
        }
        let elapsed = started.elapsed();
        Ok(mine.into_timed(elapsed, before.usage_since()))
    }

    /// Each person's flow, identified and verified with a fresh authenticator code.
    async fn verified_flows(&self, people: &[Person]) -> anyhow::Result<Vec<String>> {
        let work: Arc<Vec<(String, String)>> = Arc::new(
            people
                .iter()
                .map(|p| (p.login.clone(), p.totp.clone()))
                .collect(),
        );
        let next = Arc::new(AtomicUsize::new(0));
        let mut workers = tokio::task::JoinSet::new();
        for _ in 0..PREPARE_CONCURRENCY {
            let (kiosk, work, next) = (self.kiosk.clone(), work.clone(), next.clone());
            workers.spawn(async move {
                let mut out = Vec::new();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some((login, secret)) = work.get(i) else {
                        return anyhow::Ok(out);
                    };
                    out.push((i, verify(&kiosk, login, secret).await?));
                }
            });
        }
        let mut flows = Vec::with_capacity(people.len());
        while let Some(w) = workers.join_next().await {
            flows.extend(w??);
        }
        flows.sort_by_key(|(i, _)| *i);
        Ok(flows.into_iter().map(|(_, f)| f).collect())
    }
}

async fn verify(kiosk: &Client, login: &str, secret: &str) -> anyhow::Result<String> {
    let flow = kiosk
        .start_flow(&StartFlowRequest {
            login: login.to_string(),
            intent: Intent::Reset,
            locale: None,
        })
        .await
        .with_context(|| format!("starting a flow for {login}"))?;
    let method = flow
        .methods
        .iter()
        .find(|m| m.kind == MethodKind::Totp)
        .with_context(|| format!("{login} has no authenticator method"))?;
    let challenge = kiosk.challenge(&flow.flow_id, &method.id).await?;
    let verified = kiosk
        .verify(
            &flow.flow_id,
            &challenge.challenge_id,
            &sspr_tests::totp_now(secret),
        )
        .await
        .with_context(|| format!("verifying {login}"))?;
    anyhow::ensure!(
        verified.state == FlowState::Verified,
        "{login}: flow is {:?} after the code",
        verified.state
    );
    Ok(flow.flow_id)
}

/// One worker's results.
#[derive(Default)]
pub struct Worker {
    pub latencies: Vec<Duration>,
    pub errors: usize,
    pub first_error: Option<String>,
}

impl Worker {
    pub fn fail(&mut self, e: String) {
        self.errors += 1;
        self.first_error.get_or_insert(e);
    }

    pub fn absorb(&mut self, other: Worker) {
        self.latencies.extend(other.latencies);
        self.errors += other.errors;
        if self.first_error.is_none() {
            self.first_error = other.first_error;
        }
    }

    pub fn into_timed(mut self, elapsed: Duration, cpu: cpu::Usage) -> Timed {
        self.latencies.sort();
        Timed {
            ok: self.latencies.len(),
            errors: self.errors,
            first_error: self.first_error,
            elapsed,
            latencies: self.latencies,
            cpu,
        }
    }
}
