//! The event channels of the kiosks a process serves (`Approvals`' other half): each event
//! pushed to a kiosk is a row of `flow_events`, announced to every process by NOTIFY (ids
//! only) and handed by each to the streams it serves; a stream resumes from a row's id.

use std::collections::HashMap;

use sspr_proto::FlowEvent;
use tokio::sync::watch;

use super::Approvals;
use crate::fault::Internal;
use crate::flow::error::{FlowError, FlowResult};
use crate::store::StoreResult;

/// The latest event of a flow a kiosk is shown: its row's id (0 before any) and the
/// event (None: nothing to show yet).
pub type Latest = (i64, Option<FlowEvent>);

pub(super) struct Channel {
    tx: watch::Sender<Latest>,
    /// Dropped after this (the flow's end), which ends the kiosk's event stream.
    until: i64,
}

/// An event as stored, read back (None for a row that clears, or one that doesn't read).
fn parse_event(json: Option<String>) -> Option<FlowEvent> {
    let json = json?;
    match serde_json::from_str(&json) {
        Ok(event) => Some(event),
        Err(e) => {
            // Its category and place only: serde's message may quote the value.
            tracing::warn!(kind = ?e.classify(), line = e.line(), column = e.column(), "a stored flow event doesn't read");
            None
        }
    }
}

/// How long the listening connection may be quiet before it is checked.
const LISTEN_QUIET: std::time::Duration = std::time::Duration::from_secs(10);

/// A NOTIFY's payload: "<flow id> <event id>".
fn announced(payload: &str) -> Option<(&str, i64)> {
    let (flow_id, id) = payload.split_once(' ')?;
    Some((flow_id, id.parse().ok()?))
}

impl Approvals {
    /// Forgets the channels of flows that are over (their streams end).
    pub(super) fn forget_channels(&self, now: i64) {
        self.channels().retain(|_, c| c.until > now);
    }

    fn channels(&self) -> std::sync::MutexGuard<'_, HashMap<String, Channel>> {
        // A panic while holding the lock leaves plain data behind; keep using it.
        self.channels.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Pushes an event to the flow's kiosk, wherever its stream is: stored, next in order
    /// (announced to the other processes), and handed to this process's streams at once.
    pub(in crate::flow) async fn push(
        &self,
        flow_id: &str,
        event: Option<FlowEvent>,
        now: i64,
    ) -> FlowResult<()> {
        let json = event
            .as_ref()
            .map(serde_json::to_string)
            .transpose()
            .map_err(|e| FlowError::Internal(Internal::new("keeping a flow event", e)))?;
        let id = self
            .store
            .add_flow_event(flow_id, json.as_deref(), now)
            .await?;
        self.deliver(flow_id, id, event);
        Ok(())
    }

    /// Hands event `id` to this process's streams of the flow, unless they have it or a
    /// later one already.
    fn deliver(&self, flow_id: &str, id: i64, event: Option<FlowEvent>) {
        if let Some(channel) = self.channels().get(flow_id) {
            channel.tx.send_if_modified(|latest| {
                let newer = id > latest.0;
                if newer {
                    *latest = (id, event);
                }
                newer
            });
        }
    }

    /// The flow's events: the latest first (from the store, whichever process pushed
    /// it), then each new one.
    pub async fn subscribe(
        &self,
        flow_id: &str,
        until: i64,
    ) -> StoreResult<watch::Receiver<Latest>> {
        let rx = self
            .channels()
            .entry(flow_id.to_string())
            .or_insert_with(|| Channel {
                tx: watch::channel((0, None)).0,
                until,
            })
            .tx
            .subscribe();
        self.catch_up(flow_id).await?;
        Ok(rx)
    }

    /// Reads the flow's latest event from the store and hands it on.
    async fn catch_up(&self, flow_id: &str) -> StoreResult<()> {
        if let Some((id, json)) = self.store.latest_flow_event(flow_id).await? {
            self.deliver(flow_id, id, parse_event(json));
        }
        Ok(())
    }

    /// Every flow this process has streams for catches up (announcements may have been
    /// missed while the listening connection was down).
    async fn catch_up_all(&self) {
        let flows: Vec<String> = self.channels().keys().cloned().collect();
        for flow_id in flows {
            if let Err(e) = self.catch_up(&flow_id).await {
                tracing::warn!(error = %e, "catching up a flow's events");
            }
        }
    }

    /// Hands the events other processes push to this process's streams, as PostgreSQL
    /// announces them, for the server's life (on SQLite there is no other process, and
    /// this returns at once). A broken connection is made again, and every flow listened
    /// to catches up.
    pub async fn listen(&self) {
        loop {
            let mut listener = match self.store.listen_flow_events().await {
                Ok(Some(listener)) => listener,
                Ok(None) => return,
                Err(e) => {
                    tracing::warn!(error = %e, "listening for flow events; trying again");
                    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                    continue;
                }
            };
            self.catch_up_all().await;
            loop {
                // A connection a firewall dropped quietly would wait for ever: when nothing
                // came for a while, it must still answer, and every flow listened to here
                // catches up (whatever an unnoticed break let by).
                let next = tokio::time::timeout(LISTEN_QUIET, listener.try_recv()).await;
                let Ok(next) = next else {
                    if let Err(e) = sqlx::query("SELECT 1").execute(&mut listener).await {
                        tracing::warn!(error = %e, "the connection listening for flow events doesn't answer");
                        break;
                    }
                    self.catch_up_all().await;
                    continue;
                };
                match next {
                    Ok(Some(notification)) => {
                        let Some((flow_id, id)) = announced(notification.payload()) else {
                            continue;
                        };
                        if !self.channels().contains_key(flow_id) {
                            continue;
                        }
                        match self.store.flow_event(flow_id, id).await {
                            Ok(Some((id, json))) => self.deliver(flow_id, id, parse_event(json)),
                            Ok(None) => {}
                            Err(e) => tracing::warn!(error = %e, "reading an announced flow event"),
                        }
                    }
                    // The connection broke: listen on a new one, then catch up.
                    Ok(None) => {
                        tracing::warn!("the connection listening for flow events broke");
                        break;
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "listening for flow events");
                        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                        break;
                    }
                }
            }
        }
    }

    /// How many kiosks are listening here (for tests of the hub).
    #[cfg(test)]
    pub(in crate::flow) fn listeners(&self, flow_id: &str) -> usize {
        self.channels()
            .get(flow_id)
            .map(|c| c.tx.receiver_count())
            .unwrap_or(0)
    }
}
