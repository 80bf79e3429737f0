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
}

pub struct FaultyPort {
    pub addr: SocketAddr,
    mode: Arc<Mutex<Mode>>,
    task: tokio::task::JoinHandle<()>,
}

impl FaultyPort {
    pub async fn start(upstream: SocketAddr) -> anyhow::Result<FaultyPort> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let mode = Arc::new(Mutex::new(Mode::Forward));
        let current = mode.clone();
        let task = tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((mut inbound, _)) = listener.accept().await {
                let mode = current.lock().map(|m| *m).unwrap_or(Mode::Refuse);
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
                }
            }
        });
        Ok(FaultyPort { addr, mode, task })
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
