//! The two floors the server is held against, measured on the same box in the same run:
//! what a bare axum handler answers per second, and how many argon2id hashes the cores
//! make per second with the built-in directory's parameters (one a reset), and what one
//! hash alone takes.

use std::future::Future;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use sspr_server::directory::builtin;

use super::cpu::{Snapshot, Usage};
use super::load::{self, Samples};
use super::Measured;

pub struct HashRate {
    pub threads: usize,
    pub cpu: Option<Usage>,
    pub hashes: usize,
    pub elapsed: Duration,
    /// The parameters hashed with, as text (m, t, p).
    pub params: String,
    /// Single hashes one after another on one thread, the other cores idle (before the
    /// run on every thread): what one hash costs when nothing else hashes.
    pub single: Samples,
}

impl HashRate {
    pub fn per_sec(&self) -> f64 {
        self.hashes as f64 / self.elapsed.as_secs_f64().max(f64::EPSILON)
    }
}

/// One hash as the server makes it (the built-in directory's parameters), timed.
pub fn one_hash() -> anyhow::Result<Duration> {
    let started = Instant::now();
    builtin::hash_password("violet kettle under maple rain")?;
    Ok(started.elapsed())
}

/// Hashes one at a time for a third of `window` (at most `SINGLE_MAX`), then on
/// `threads` threads for `window`, as the server does on a reset.
pub fn argon2(threads: usize, window: Duration) -> anyhow::Result<HashRate> {
    // A bound on the count too; no box gets near it within a minute.
    const MAX_PER_THREAD: usize = 100_000;
    const SINGLE_MAX: usize = 200;
    let single_until = Instant::now() + window / 3;
    let mut single = Vec::new();
    while single.len() < SINGLE_MAX && (single.len() < 3 || Instant::now() < single_until) {
        single.push(one_hash()?);
    }
    let before = Snapshot::take(None);
    let start = Instant::now();
    let deadline = start + window;
    let counts = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(move || -> anyhow::Result<usize> {
                    let mut n = 0;
                    while n < MAX_PER_THREAD && Instant::now() < deadline {
                        one_hash()?;
                        n += 1;
                    }
                    Ok(n)
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|w| {
                w.join()
                    .map_err(|_| anyhow::anyhow!("a hashing thread panicked"))?
            })
            .collect::<anyhow::Result<Vec<usize>>>()
    })?;
    let argon2 = builtin::argon2();
    let p = argon2.params();
    Ok(HashRate {
        threads,
        cpu: before.and_then(|b| b.usage_since()),
        hashes: counts.iter().sum(),
        elapsed: start.elapsed(),
        params: format!(
            "m={} MiB, t={}, p={}",
            p.m_cost() / 1024,
            p.t_cost(),
            p.p_cost()
        ),
        single: Samples::of(single),
    })
}

/// An axum 0.8 server with one trivial handler, on its own runtime and threads (as the
/// real server has its own process), stopped when dropped.
struct BareServer {
    addr: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl BareServer {
    fn start(workers: usize) -> anyhow::Result<BareServer> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(workers)
            .enable_all()
            .build()?;
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let (bound, addr) = std::sync::mpsc::channel();
        let thread = std::thread::spawn(move || {
            runtime.block_on(async move {
                let listener = match tokio::net::TcpListener::bind("127.0.0.1:0").await {
                    Ok(l) => l,
                    Err(e) => {
                        let _ = bound.send(Err(e));
                        return;
                    }
                };
                let _ = bound.send(listener.local_addr());
                let app = axum::Router::new().route("/v1/bare", axum::routing::post(bare));
                let _ = axum::serve(listener, app)
                    .with_graceful_shutdown(async {
                        let _ = stopped.await;
                    })
                    .await;
            });
        });
        let addr = addr
            .recv_timeout(Duration::from_secs(10))
            .context("the bare server did not start")?
            .context("binding the bare server")?;
        Ok(BareServer {
            addr,
            stop: Some(stop),
            thread: Some(thread),
        })
    }
}

impl Drop for BareServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

async fn bare() -> axum::Json<serde_json::Value> {
    axum::Json(serde_json::json!({ "ok": true }))
}

/// One POST of `body` to `url`, timed; the answer is read to the end.
fn post(
    http: &reqwest::Client,
    url: &str,
    body: &[u8],
) -> impl Future<Output = anyhow::Result<Vec<Duration>>> + Send + 'static {
    let request = http
        .post(url)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .body(body.to_vec());
    async move {
        let started = Instant::now();
        let response = request.send().await?.error_for_status()?;
        response.bytes().await?;
        Ok(vec![started.elapsed()])
    }
}

/// Requests per second of the bare handler, driven like the identify runs: the same HTTP
/// client, a JSON body of the same shape, the same concurrency; only unsigned.
pub async fn bare_handler(
    server_threads: usize,
    concurrency: usize,
    window: Duration,
    max_ops: usize,
) -> anyhow::Result<Measured> {
    let server = BareServer::start(server_threads)?;
    let url = format!("http://{}/v1/bare", server.addr);
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()?;
    let body =
        serde_json::to_vec(&serde_json::json!({ "login": "bench0000001", "intent": "reset" }))?;
    // Opens the connections first, as the identify runs get a warm-up too.
    let (h, u, b) = (http.clone(), url.clone(), body.clone());
    load::closed_loop(
        concurrency,
        Duration::from_millis(500),
        max_ops,
        move |_| post(&h, &u, &b),
    )
    .await;
    let before = Snapshot::take(None);
    let run = load::closed_loop(concurrency, window, max_ops, move |_| {
        post(&http, &url, &body)
    })
    .await;
    let cpu = before.and_then(|b| b.usage_since());
    drop(server);
    Ok(Measured { run, cpu })
}
