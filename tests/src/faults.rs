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
