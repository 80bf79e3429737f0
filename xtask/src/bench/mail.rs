//! Hands each emailed code to the flow waiting for it. One task reads the mailbox as mail
//! arrives and files codes by recipient (every person has an address of their own), so a
//! waiting flow costs a map lookup rather than a scan of every message kept so far.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context as _;
use sspr_mailbox::{Mailbox, Received};
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::oneshot;

enum Slot {
    /// The code came before anyone asked (the server sends it while it answers).
    Arrived(String),
    Waiting(oneshot::Sender<String>),
}

type Slots = Arc<Mutex<HashMap<String, Slot>>>;

pub struct Codes {
    slots: Slots,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Codes {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The code in a code mail (not in a notice), with its recipient.
fn code_of(m: &Received) -> Option<(String, String)> {
    if !m.subject.contains("verification code") {
        return None;
    }
    Some((m.to.first()?.clone(), m.code(6)?))
}

fn deliver(slots: &Slots, to: String, code: String) {
    let Ok(mut slots) = slots.lock() else {
        return;
    };
    match slots.remove(&to) {
        // The waiter may have given up; then nobody needs the code.
        Some(Slot::Waiting(waiter)) => {
            let _ = waiter.send(code);
        }
        _ => {
            slots.insert(to, Slot::Arrived(code));
        }
    }
}

impl Codes {
    pub fn start(mailbox: &Mailbox) -> Codes {
        let slots: Slots = Arc::default();
        let mut arriving = mailbox.subscribe();
        let (mailbox, filed) = (mailbox.clone(), slots.clone());
        let task = tokio::spawn(async move {
            loop {
                match arriving.recv().await {
                    Ok(m) => {
                        if let Some((to, code)) = code_of(&m) {
                            deliver(&filed, to, code);
                        }
                    }
                    // Fell behind the channel: file everything kept (rare, and each
                    // person gets one code, so filing one twice does no harm).
                    Err(RecvError::Lagged(_)) => {
                        for m in mailbox.messages() {
                            if let Some((to, code)) = code_of(&m) {
                                deliver(&filed, to, code);
                            }
                        }
                    }
                    Err(RecvError::Closed) => return,
                }
            }
        });
        Codes { slots, task }
    }

    /// The code mailed to `to`, waiting up to `timeout` for it.
    pub async fn wait(&self, to: &str, timeout: Duration) -> anyhow::Result<String> {
        let waiting = {
            let mut slots = self
                .slots
                .lock()
                .map_err(|_| anyhow::anyhow!("the code mail table is poisoned"))?;
            if let Some(Slot::Arrived(code)) = slots.remove(to) {
                return Ok(code);
            }
            let (tx, rx) = oneshot::channel();
            slots.insert(to.to_string(), Slot::Waiting(tx));
            rx
        };
        tokio::time::timeout(timeout, waiting)
            .await
            .with_context(|| format!("no code mail to {to} within {timeout:?}"))?
            .context("the mailbox reader stopped")
    }
}
