//! A loopback port in front of a real service that the test can turn off (connections
//! refused), make hang (accepted, never answered) or turn back on (forwarded): a relay
//! or directory that goes down, or stalls, while the server runs.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use tokio::io::copy_bidirectional;
use tokio::net::{TcpListener, TcpStream};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Every byte goes through, both ways.
    Forward,
    /// Connections are closed as soon as they are accepted (as a stopped service's port
    /// answers, near enough: the client sees the connection end before any greeting).
    Refuse,
    /// Connections are accepted and never answered.
    Hang,
    /// The next connection's requests go through but its answers are dropped (a network
    /// that lost the reply); connections after it are forwarded.
    SwallowNext,
}

pub struct FaultyPort {
    pub addr: SocketAddr,
    mode: Arc<Mutex<Mode>>,
    upstream: Arc<Mutex<Option<SocketAddr>>>,
    task: tokio::task::JoinHandle<()>,
}

impl FaultyPort {
    pub async fn start(upstream: SocketAddr) -> anyhow::Result<FaultyPort> {
        let port = Self::unbound().await?;
        port.set_upstream(upstream);
        Ok(port)
    }

    /// A port whose service isn't known yet (`set_upstream`): until then it refuses.
    pub async fn unbound() -> anyhow::Result<FaultyPort> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let mode = Arc::new(Mutex::new(Mode::Forward));
        let upstream: Arc<Mutex<Option<SocketAddr>>> = Arc::default();
        let (current, target) = (mode.clone(), upstream.clone());
        let task = tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((mut inbound, _)) = listener.accept().await {
                let mode = current
                    .lock()
                    .map(|mut m| {
                        let now = *m;
                        if now == Mode::SwallowNext {
                            *m = Mode::Forward;
                        }
                        now
                    })
                    .unwrap_or(Mode::Refuse);
                let Some(upstream) = target.lock().ok().and_then(|u| *u) else {
                    drop(inbound);
                    continue;
                };
                match mode {
                    Mode::Refuse => drop(inbound),
                    Mode::Hang => held.push(inbound),
                    Mode::Forward => {
                        tokio::spawn(async move {
                            if let Ok(mut outbound) = TcpStream::connect(upstream).await {
                                let _ = copy_bidirectional(&mut inbound, &mut outbound).await;
                            }
                        });
                    }
                    Mode::SwallowNext => {
                        tokio::spawn(async move {
                            let Ok(outbound) = TcpStream::connect(upstream).await else {
                                return;
                            };
                            let (mut from_client, _to_client) = inbound.into_split();
                            let (mut from_service, mut to_service) = outbound.into_split();
                            let forward = tokio::io::copy(&mut from_client, &mut to_service);
                            let mut sink = tokio::io::sink();
                            let swallow = tokio::io::copy(&mut from_service, &mut sink);
                            let _ = tokio::join!(forward, swallow);
                        });
                    }
                }
            }
        });
        Ok(FaultyPort {
            addr,
            mode,
            upstream,
            task,
        })
    }

    pub fn set_upstream(&self, upstream: SocketAddr) {
        if let Ok(mut u) = self.upstream.lock() {
            *u = Some(upstream);
        }
    }

    pub fn set(&self, mode: Mode) {
        if let Ok(mut m) = self.mode.lock() {
            *m = mode;
        }
    }
}

impl Drop for FaultyPort {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Where a `Tap` cuts the request it was armed for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cut {
    /// The request never reaches the service (it dies between the last answer and this).
    BeforeForwarding,
    /// The service gets the request and answers, but the answer never comes back (it dies
    /// while the request is being carried out).
    AfterAnswer,
}

struct Armed {
    /// Requests to let through first.
    skip: usize,
    cut: Cut,
    reached: tokio::sync::oneshot::Sender<()>,
    go: tokio::sync::oneshot::Receiver<()>,
}

/// A loopback port in front of a service that counts the requests (what the client
/// writes at once: one LDAP operation, TLS or not) and, once armed, cuts one of them: the
/// test learns the moment (`reached`), kills the real service, and lets the tap close the
/// client's connection (`go`), as a service killed at that moment would.
pub struct Tap {
    pub addr: SocketAddr,
    armed: Arc<Mutex<Option<Armed>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Tap {
    pub async fn start(upstream: SocketAddr) -> anyhow::Result<Tap> {
        Self::start_at("127.0.0.1".parse()?, upstream).await
    }

    /// A tap on `ip` (a service's certificate names its address, so the tap shares it).
    pub async fn start_at(ip: std::net::IpAddr, upstream: SocketAddr) -> anyhow::Result<Tap> {
        let listener = TcpListener::bind((ip, 0)).await?;
        let addr = listener.local_addr()?;
        let armed: Arc<Mutex<Option<Armed>>> = Arc::default();
        let shared = armed.clone();
        let task = tokio::spawn(async move {
            while let Ok((inbound, _)) = listener.accept().await {
                let armed = shared.clone();
                tokio::spawn(async move {
                    if let Ok(outbound) = TcpStream::connect(upstream).await {
                        carry(inbound, outbound, armed).await;
                    }
                });
            }
        });
        Ok(Tap { addr, armed, task })
    }

    /// Lets `skip` requests through, then cuts the next one. The first receiver fires when
    /// the tap holds it; the tap closes the client's connection once the sender fires.
    pub fn arm(
        &self,
        skip: usize,
        cut: Cut,
    ) -> (
        tokio::sync::oneshot::Receiver<()>,
        tokio::sync::oneshot::Sender<()>,
    ) {
        let (reached, reached_rx) = tokio::sync::oneshot::channel();
        let (go_tx, go) = tokio::sync::oneshot::channel();
        if let Ok(mut a) = self.armed.lock() {
            *a = Some(Armed {
                skip,
                cut,
                reached,
                go,
            });
        }
        (reached_rx, go_tx)
    }
}

impl Drop for Tap {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// One connection through a tap, both ways, a read at a time.
async fn carry(inbound: TcpStream, outbound: TcpStream, armed: Arc<Mutex<Option<Armed>>>) {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let (mut client_rx, mut client_tx) = inbound.into_split();
    let (mut service_rx, mut service_tx) = outbound.into_split();
    let mut from_client = vec![0u8; 64 * 1024];
    let mut from_service = vec![0u8; 64 * 1024];
    // Set once this connection carried the cut request to the service.
    let mut cut_answer: Option<Armed> = None;
    loop {
        tokio::select! {
            read = client_rx.read(&mut from_client) => {
                let n = match read { Ok(0) | Err(_) => return, Ok(n) => n };
                let take = armed.lock().ok().and_then(|mut a| {
                    match a.as_mut() {
                        Some(x) if x.skip > 0 => { x.skip -= 1; None }
                        Some(_) => a.take(),
                        None => None,
                    }
                });
                match take {
                    Some(a) if a.cut == Cut::BeforeForwarding => {
                        let _ = a.reached.send(());
                        let _ = a.go.await;
                        return;
                    }
                    Some(a) => {
                        if service_tx.write_all(&from_client[..n]).await.is_err() { return; }
                        cut_answer = Some(a);
                    }
                    None => {
                        if service_tx.write_all(&from_client[..n]).await.is_err() { return; }
                    }
                }
            }
            read = service_rx.read(&mut from_service) => {
                let n = match read { Ok(0) | Err(_) => return, Ok(n) => n };
                if let Some(a) = cut_answer.take() {
                    // The service answered (it did the work); the answer is lost.
                    let _ = a.reached.send(());
                    let _ = a.go.await;
                    return;
                }
                if client_tx.write_all(&from_service[..n]).await.is_err() { return; }
            }
        }
    }
}
