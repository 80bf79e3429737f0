//! A flow's server-sent events as the kiosk reads them: each event as it arrives, and the
//! id of the last one, to resume from after a stream broke (`Client::events_after`).

use sspr_proto::FlowEvent;

use crate::ClientError;

/// Server-sent events of a flow, read as they arrive.
pub struct EventStream {
    response: reqwest::Response,
    buffer: Vec<u8>,
    last_event_id: Option<String>,
}

impl EventStream {
    /// Reads `response`'s events; `last_event_id` is what the request resumed after.
    pub(crate) fn new(response: reqwest::Response, last_event_id: Option<&str>) -> EventStream {
        EventStream {
            response,
            buffer: Vec::new(),
            last_event_id: last_event_id.map(str::to_string),
        }
    }

    /// The id of the last event read (to resume from: `Client::events_after`).
    pub fn last_event_id(&self) -> Option<&str> {
        self.last_event_id.as_deref()
    }

    /// The next event; None when the server ended the stream.
    pub async fn next(&mut self) -> Option<Result<FlowEvent, ClientError>> {
        loop {
            while let Some(block) = take_block(&mut self.buffer) {
                if let Some(id) = sse_field(&block, "id") {
                    self.last_event_id = Some(id);
                }
                if let Some(data) = sse_data(&block) {
                    return Some(
                        serde_json::from_str(&data).map_err(|e| ClientError::Decode(e.to_string())),
                    );
                }
            }
            match self.response.chunk().await {
                Ok(Some(chunk)) => self.buffer.extend_from_slice(&chunk),
                Ok(None) => return None,
                Err(e) => return Some(Err(ClientError::Transport(e.to_string()))),
            }
        }
    }
}

/// One event's lines, up to the blank line that ends it (bytes, so a character split
/// across chunks stays whole).
fn take_block(buffer: &mut Vec<u8>) -> Option<String> {
    let end = buffer.windows(2).position(|w| w == b"\n\n")?;
    let block: Vec<u8> = buffer.drain(..end + 2).collect();
    Some(String::from_utf8_lossy(&block[..end]).replace('\r', ""))
}

/// The `data:` of an event (several lines joined); None for a comment or keep-alive.
fn sse_data(block: &str) -> Option<String> {
    let lines: Vec<&str> = block
        .lines()
        .filter_map(|l| l.strip_prefix("data:"))
        .map(|l| l.strip_prefix(' ').unwrap_or(l))
        .collect();
    (!lines.is_empty()).then(|| lines.join("\n"))
}

/// A one-line field of an event (`id:`), the last if it is given twice.
fn sse_field(block: &str, name: &str) -> Option<String> {
    block
        .lines()
        .rev()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(':'))
        .map(|v| v.strip_prefix(' ').unwrap_or(v).to_string())
}

#[cfg(test)]
#[allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn server_sent_events_are_split_and_keep_alives_skipped() {
        let mut buf =
            b": keep-alive\n\nevent: scanned\ndata: {\"a\":\ndata: 1}\n\nevent: x\nda".to_vec();
        let first = take_block(&mut buf).unwrap_or_default();
        assert_eq!(sse_data(&first), None);
        let second = take_block(&mut buf).unwrap_or_default();
        assert_eq!(sse_data(&second).as_deref(), Some("{\"a\":\n1}"));
        assert_eq!(take_block(&mut buf), None);
        assert_eq!(buf, b"event: x\nda");
    }

    #[test]
    fn an_events_id_is_read_for_resuming() {
        let block = "id: 41\nevent: scanned\nid:42\ndata: {}";
        assert_eq!(sse_field(block, "id").as_deref(), Some("42"));
        assert_eq!(sse_field(block, "event").as_deref(), Some("scanned"));
        assert_eq!(sse_field("data: {}", "id"), None);
        // A field whose name only starts alike is another field.
        assert_eq!(sse_field("identity: 7", "id"), None);
    }
}
