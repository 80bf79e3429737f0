//! A loopback SMTP listener that keeps every message it receives: the demo's mailbox (so a
//! newcomer can read the code the server sent) and the test kit's (so a test reads the code
//! out of the delivered message). It speaks just enough SMTP (RFC 5321) for a relay client
//! such as lettre: EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP, QUIT. It is not a mail server:
//! it delivers nowhere and refuses to bind anything but loopback.

use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::broadcast;
use tokio::task::JoinHandle;

/// Largest message kept; bigger ones are refused with 552.
const MAX_MESSAGE: usize = 1024 * 1024;

/// One delivered message.
#[derive(Clone, Debug)]
pub struct Received {
    pub from: String,
    pub to: Vec<String>,
    pub subject: String,
    /// The first text/plain part, decoded.
    pub text: String,
    pub raw: String,
    pub at: SystemTime,
}

impl Received {
    /// The first run of `digits` digits in the text (the code a person would read).
    pub fn code(&self, digits: usize) -> Option<String> {
        let bytes = self.text.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i].is_ascii_digit() {
                let start = i;
                while i < bytes.len() && bytes[i].is_ascii_digit() {
                    i += 1;
                }
                if i - start == digits {
                    return Some(self.text[start..i].to_string());
                }
            } else {
                i += 1;
            }
        }
        None
    }
}

struct Shared {
    messages: Mutex<Vec<Received>>,
    tx: broadcast::Sender<Received>,
    /// SMTP sessions accepted so far.
    sessions: std::sync::atomic::AtomicUsize,
}

struct AbortOnDrop(JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// A running mailbox; it stops when the last clone is dropped.
#[derive(Clone)]
pub struct Mailbox {
    addr: SocketAddr,
    shared: Arc<Shared>,
    _task: Arc<AbortOnDrop>,
}

impl Mailbox {
    /// Listens on `addr` (a loopback address; port 0 picks a free one).
    pub async fn start(addr: SocketAddr) -> io::Result<Mailbox> {
        if !addr.ip().is_loopback() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "the mailbox listens on loopback only",
            ));
        }
        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let (tx, _) = broadcast::channel(256);
        let shared = Arc::new(Shared {
            messages: Mutex::new(Vec::new()),
            tx,
            sessions: Default::default(),
        });
        let s = shared.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                s.sessions
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let s = s.clone();
                tokio::spawn(async move {
                    if let Err(e) = session(stream, &s).await {
                        tracing::debug!(error = %e, "mailbox session ended");
                    }
                });
            }
        });
        Ok(Mailbox {
            addr,
            shared,
            _task: Arc::new(AbortOnDrop(task)),
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// How many SMTP sessions (connections) were accepted so far.
    pub fn sessions(&self) -> usize {
        self.shared
            .sessions
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    pub fn messages(&self) -> Vec<Received> {
        self.shared
            .messages
            .lock()
            .map(|m| m.clone())
            .unwrap_or_default()
    }

    /// Messages as they arrive.
    pub fn subscribe(&self) -> broadcast::Receiver<Received> {
        self.shared.tx.subscribe()
    }

    /// The first message (already here or arriving within `timeout`) that `pred` accepts.
    pub async fn wait_for(
        &self,
        pred: impl Fn(&Received) -> bool,
        timeout: Duration,
    ) -> Option<Received> {
        let mut rx = self.subscribe();
        if let Some(m) = self.messages().into_iter().find(|m| pred(m)) {
            return Some(m);
        }
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            match tokio::time::timeout_at(deadline, rx.recv()).await {
                Ok(Ok(m)) if pred(&m) => return Some(m),
                Ok(Ok(_)) | Ok(Err(broadcast::error::RecvError::Lagged(_))) => {
                    if let Some(m) = self.messages().into_iter().find(|m| pred(m)) {
                        return Some(m);
                    }
                }
                Ok(Err(_)) | Err(_) => return None,
            }
        }
    }
}

async fn session(stream: TcpStream, shared: &Shared) -> io::Result<()> {
    let (read, mut write) = stream.into_split();
    let mut reader = BufReader::new(read);
    write.write_all(b"220 sspr-mailbox ESMTP ready\r\n").await?;
    let mut from = String::new();
    let mut to: Vec<String> = Vec::new();
    let mut line = String::new();
    loop {
        line.clear();
        if reader.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        let upper = line.trim_end().to_ascii_uppercase();
        let reply: &[u8] = if upper.starts_with("EHLO") {
            b"250-sspr-mailbox\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n250 SIZE 1048576\r\n"
        } else if upper.starts_with("HELO") || upper.starts_with("NOOP") {
            b"250 OK\r\n"
        } else if upper.starts_with("MAIL FROM:") {
            from = address(&line["MAIL FROM:".len()..]);
            to.clear();
            b"250 OK\r\n"
        } else if upper.starts_with("RCPT TO:") {
            to.push(address(&line["RCPT TO:".len()..]));
            b"250 OK\r\n"
        } else if upper == "DATA" {
            if to.is_empty() {
                write.write_all(b"503 RCPT first\r\n").await?;
                continue;
            }
            write
                .write_all(b"354 End data with <CR><LF>.<CR><LF>\r\n")
                .await?;
            match read_data(&mut reader).await? {
                Some(raw) => {
                    let message = parse(&from, std::mem::take(&mut to), raw);
                    if let Ok(mut m) = shared.messages.lock() {
                        m.push(message.clone());
                    }
                    let _ = shared.tx.send(message);
                    b"250 OK: queued\r\n"
                }
                None => b"552 Message too large\r\n",
            }
        } else if upper == "RSET" {
            from.clear();
            to.clear();
            b"250 OK\r\n"
        } else if upper == "QUIT" {
            write.write_all(b"221 Bye\r\n").await?;
            return Ok(());
        } else {
            b"502 Command not implemented\r\n"
        };
        write.write_all(reply).await?;
    }
}

/// Reads DATA up to the lone "." line, undoing dot-stuffing. None when too large.
async fn read_data<R: tokio::io::AsyncBufRead + Unpin>(
    reader: &mut R,
) -> io::Result<Option<String>> {
    let mut raw = String::new();
    let mut too_large = false;
    let mut line = String::new();
    loop {
        line.clear();
        if reader.read_line(&mut line).await? == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "connection closed in DATA",
            ));
        }
        let content = line.trim_end_matches(['\r', '\n']);
        if content == "." {
            return Ok((!too_large).then_some(raw));
        }
        let content = content.strip_prefix('.').unwrap_or(content);
        if raw.len() + content.len() > MAX_MESSAGE {
            too_large = true;
            continue;
        }
        raw.push_str(content);
        raw.push_str("\r\n");
    }
}

fn address(arg: &str) -> String {
    let arg = arg.trim();
    let inner = arg
        .strip_prefix('<')
        .and_then(|a| a.split_once('>'))
        .map(|(a, _)| a)
        .unwrap_or_else(|| arg.split_whitespace().next().unwrap_or(""));
    inner.to_string()
}

fn parse(from: &str, to: Vec<String>, raw: String) -> Received {
    let parsed = mail_parser::MessageParser::default().parse(raw.as_bytes());
    let subject = parsed
        .as_ref()
        .and_then(|m| m.subject())
        .unwrap_or_default()
        .to_string();
    let text = parsed
        .as_ref()
        .and_then(|m| m.body_text(0))
        .map(|t| t.into_owned())
        .unwrap_or_default();
    Received {
        from: from.to_string(),
        to,
        subject,
        text,
        raw,
        at: SystemTime::now(),
    }
}

#[cfg(test)]
#[allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

    #[tokio::test]
    async fn lettre_delivers_and_the_code_is_read_back() {
        let mailbox = Mailbox::start("127.0.0.1:0".parse().unwrap_or_else(|_| unreachable!()))
            .await
            .ok();
        let Some(mailbox) = mailbox else {
            panic!("mailbox did not start");
        };
        let transport = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous("127.0.0.1")
            .port(mailbox.addr().port())
            .build();
        let message = Message::builder()
            .from(
                "SSPR <sspr@example.org>"
                    .parse()
                    .unwrap_or_else(|_| unreachable!()),
            )
            .to("ada@example.org".parse().unwrap_or_else(|_| unreachable!()))
            .subject("Grüße: your code")
            .body(String::from("Your code is: 493021\n.leading dot line\n"))
            .ok();
        let sent = transport
            .send(message.unwrap_or_else(|| unreachable!()))
            .await;
        assert!(sent.is_ok(), "{sent:?}");
        let got = mailbox
            .wait_for(
                |m| m.to.iter().any(|t| t == "ada@example.org"),
                Duration::from_secs(5),
            )
            .await;
        let got = got.unwrap_or_else(|| panic!("no message"));
        assert_eq!(got.subject, "Grüße: your code");
        assert_eq!(got.code(6).as_deref(), Some("493021"));
        assert!(got.text.contains("\n.leading dot line"), "{}", got.text);
    }

    #[tokio::test]
    async fn refuses_non_loopback() {
        let r = Mailbox::start("0.0.0.0:0".parse().unwrap_or_else(|_| unreachable!())).await;
        assert!(r.is_err());
    }
}
