//! Hands each code to the flow waiting for it. One task reads the codes as they arrive
//! (here the mailbox's mail; `texts.rs` follows what Kannel's fake SMSC received) and
//! files them by recipient (every person has an address and a number of their own), so a
//! waiting flow costs a map lookup rather than a scan of every message kept so far.

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
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
    /// What carries the codes, for messages ("code mail", "text message").
    what: &'static str,
    /// Codes asked for, and those of them already filed when asked.
    asked: AtomicUsize,
    early: AtomicUsize,
    task: tokio::task::JoinHandle<()>,
}

/// How many codes were asked for, and how many of them had come before they were.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    pub asked: usize,
    pub early: usize,
}

impl Tally {
    /// What was asked for since `before`.
    pub fn since(self, before: Tally) -> Tally {
        Tally {
            asked: self.asked - before.asked,
            early: self.early - before.early,
        }
    }
}

/// Where a feed files the codes it reads.
#[derive(Clone)]
pub struct Filing(Slots);

impl Filing {
    /// `code` is `to`'s: handed to their flow if it waits, else kept until it asks.
    pub fn file(&self, to: String, code: String) {
        deliver(&self.0, to, code);
    }
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
    /// The codes mailed to the mailbox.
    pub fn start(mailbox: &Mailbox) -> Codes {
        let mut arriving = mailbox.subscribe();
        let mailbox = mailbox.clone();
        Codes::fed_by("code mail", move |filed| async move {
            loop {
                match arriving.recv().await {
                    Ok(m) => {
                        if let Some((to, code)) = code_of(&m) {
                            filed.file(to, code);
                        }
                    }
                    // Fell behind the channel: file everything kept (rare, and each
                    // person gets one code, so filing one twice does no harm).
                    Err(RecvError::Lagged(_)) => {
                        for m in mailbox.messages() {
                            if let Some((to, code)) = code_of(&m) {
                                filed.file(to, code);
                            }
                        }
                    }
                    Err(RecvError::Closed) => return,
                }
            }
        })
    }

    /// The codes `feed` files, carried by `what`; the feed runs as a task until dropped.
    pub fn fed_by<F, Fut>(what: &'static str, feed: F) -> Codes
    where
        F: FnOnce(Filing) -> Fut,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let slots: Slots = Arc::default();
        let task = tokio::spawn(feed(Filing(slots.clone())));
        Codes {
            slots,
            what,
            asked: AtomicUsize::new(0),
            early: AtomicUsize::new(0),
            task,
        }
    }

    /// Codes asked for so far, and how many of them had come before they were asked for
    /// (a flow asks as soon as its challenge call returns).
    pub fn tally(&self) -> Tally {
        Tally {
            asked: self.asked.load(Ordering::Relaxed),
            early: self.early.load(Ordering::Relaxed),
        }
    }

    /// The code sent to `to`, waiting up to `timeout` for it.
    pub async fn wait(&self, to: &str, timeout: Duration) -> anyhow::Result<String> {
        let waiting = {
            let mut slots = self
                .slots
                .lock()
                .map_err(|_| anyhow::anyhow!("the {} table is poisoned", self.what))?;
            self.asked.fetch_add(1, Ordering::Relaxed);
            if let Some(Slot::Arrived(code)) = slots.remove(to) {
                self.early.fetch_add(1, Ordering::Relaxed);
                return Ok(code);
            }
            let (tx, rx) = oneshot::channel();
            slots.insert(to.to_string(), Slot::Waiting(tx));
            rx
        };
        tokio::time::timeout(timeout, waiting)
            .await
            .with_context(|| format!("no {} to {to} within {timeout:?}", self.what))?
            .with_context(|| format!("the {} reader stopped", self.what))
    }
}
