//! Email out over SMTP (lettre): codes, and notices after a reset or unlock, in the
//! person's language (the flow's locale; `lang` has the words).

use std::sync::Arc;
use std::time::{Duration, Instant};

use lettre::message::header::ContentType;
use lettre::message::Mailbox;
use lettre::transport::smtp::authentication::{Credentials, DEFAULT_MECHANISMS};
use lettre::transport::smtp::client::{AsyncSmtpConnection, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::config::{SmtpConfig, SmtpTls};
use crate::lang::Lang;

#[derive(Clone)]
pub struct Mailer {
    transport: Transport,
    from: Mailbox,
    health: Arc<Health>,
}

/// When a send last failed and last worked (unix seconds; 0: never), so a decoy can
/// answer as a real person would while the relay is down.
#[derive(Default)]
struct Health {
    failed_at: std::sync::atomic::AtomicI64,
    worked_at: std::sync::atomic::AtomicI64,
}

#[derive(Clone)]
enum Transport {
    /// Plain or STARTTLS: our own socket, with TCP_NODELAY (see `Relay`).
    Relay(Arc<Relay>),
    /// Implicit TLS: lettre's transport opens the socket, so Nagle stays on there.
    Lettre(AsyncSmtpTransport<Tokio1Executor>),
    /// Unit tests: messages are kept in memory (the API tests use a real SMTP listener).
    #[cfg(test)]
    Memory(Outbox),
}

/// The messages a unit test's mailer "sent", in order.
#[cfg(test)]
#[derive(Clone, Default)]
pub struct Outbox(Arc<std::sync::Mutex<Vec<Mail>>>);

#[cfg(test)]
impl Outbox {
    pub fn all(&self) -> Vec<Mail> {
        self.0.lock().map(|m| m.clone()).unwrap_or_default()
    }

    /// Waits (up to 5 s) until a message to `to` about `subject` is kept: notices are
    /// sent on a task of their own.
    pub async fn wait_for(&self, to: &str, subject: &str) -> Option<Mail> {
        for _ in 0..500 {
            if let Some(m) = self
                .to(to)
                .into_iter()
                .find(|m| m.subject.contains(subject))
            {
                return Some(m);
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        None
    }

    /// Messages to `to`, in order.
    pub fn to(&self, to: &str) -> Vec<Mail> {
        self.all().into_iter().filter(|m| m.to == to).collect()
    }

    /// The one-time codes mailed to `to`, in order (a message's first run of 6 to 8
    /// digits; notices have none).
    pub fn codes(&self, to: &str) -> Vec<String> {
        self.to(to)
            .iter()
            .filter_map(|m| {
                m.body
                    .split(|c: char| !c.is_ascii_digit())
                    .find(|w| (6..=8).contains(&w.len()))
                    .map(str::to_string)
            })
            .collect()
    }

    /// The latest one-time code mailed to `to`.
    pub fn last_code(&self, to: &str) -> Option<String> {
        self.codes(to).pop()
    }
}

#[cfg(test)]
impl Mailer {
    /// A mailer whose messages stay in `outbox`.
    pub fn in_memory(outbox: Outbox) -> Mailer {
        Mailer {
            transport: Transport::Memory(outbox),
            from: "sspr@example.org".parse().expect("an address"),
            health: Arc::default(),
        }
    }
}

/// lettre (0.11.23) writes a message's body and its final "\r\n.\r\n" as two writes
/// and never sets TCP_NODELAY, so the last five bytes wait for the relay's delayed ACK
/// (40 ms on Linux) on every message. We open the socket ourselves, with TCP_NODELAY,
/// and let lettre speak SMTP over it. A connection that sent a message is kept for the
/// next one (as lettre's own pool does): a new one costs a TCP handshake, the greeting,
/// EHLO and, with STARTTLS, a TLS handshake and the login.
struct Relay {
    host: String,
    port: u16,
    timeout: Duration,
    starttls: bool,
    credentials: Option<Credentials>,
    hello: ClientId,
    /// Connections that sent their last message fine, with when they did.
    idle: std::sync::Mutex<Vec<(AsyncSmtpConnection, Instant)>>,
}

/// Connections kept open at most, and for how long unused (relays close idle sessions
/// after minutes; RFC 5321 asks them to wait at least 5).
const IDLE_KEPT: usize = 4;
const IDLE_FOR: Duration = Duration::from_secs(30);
/// How long a kept connection may take to answer NOOP before a new one is opened.
const NOOP_WAIT: Duration = Duration::from_secs(2);

/// Why a message wasn't sent, and whether the relay is at fault (unreachable, timed out,
/// refusing everyone) rather than this one message (an address it refuses).
struct MailError {
    reason: String,
    relay: bool,
}

impl MailError {
    fn message(reason: String) -> MailError {
        MailError {
            reason,
            relay: false,
        }
    }

    fn relay(reason: String) -> MailError {
        MailError {
            reason,
            relay: true,
        }
    }

    /// An SMTP error: a 550–553 refusal is about the recipient; anything else about the
    /// relay.
    fn smtp(e: lettre::transport::smtp::Error) -> MailError {
        let recipient = e.is_permanent()
            && e.status()
                .map(u16::from)
                .is_some_and(|c| (550..=553).contains(&c));
        MailError {
            reason: format!("smtp: {e}"),
            relay: !recipient,
        }
    }
}

impl Relay {
    async fn send(
        &self,
        envelope: &lettre::address::Envelope,
        email: &[u8],
    ) -> Result<(), MailError> {
        let mut conn = match self.reusable().await {
            Some(conn) => conn,
            None => self.open().await.map_err(MailError::relay)?,
        };
        match conn.send(envelope, email).await {
            Ok(_) => {
                self.keep(conn);
                Ok(())
            }
            Err(e) => {
                // Whatever state the session is in now, it isn't used again.
                conn.abort().await;
                Err(MailError::smtp(e))
            }
        }
    }

    /// Whether a session opens (greeting, EHLO, TLS and login as configured).
    async fn probe(&self) -> bool {
        match tokio::time::timeout(self.timeout, self.open()).await {
            Ok(Ok(mut conn)) => {
                let _ = conn.quit().await;
                true
            }
            _ => false,
        }
    }

    async fn open(&self) -> Result<AsyncSmtpConnection, String> {
        let tcp = tokio::net::TcpStream::connect((self.host.as_str(), self.port))
            .await
            .map_err(|e| format!("smtp: connecting to {}:{}: {e}", self.host, self.port))?;
        tcp.set_nodelay(true)
            .map_err(|e| format!("smtp: setting TCP_NODELAY: {e}"))?;
        let smtp = |e: lettre::transport::smtp::Error| format!("smtp: {e}");
        let mut conn = AsyncSmtpConnection::connect_with_transport(Box::new(tcp), &self.hello)
            .await
            .map_err(smtp)?;
        if self.starttls {
            let tls = TlsParameters::new(self.host.clone()).map_err(smtp)?;
            conn.starttls(tls, &self.hello).await.map_err(smtp)?;
        }
        if let Some(credentials) = &self.credentials {
            conn.auth(DEFAULT_MECHANISMS, credentials)
                .await
                .map_err(smtp)?;
        }
        Ok(conn)
    }

    /// A kept connection the relay still answers (NOOP, within a moment), if there is
    /// one. One that doesn't is dropped, not told QUIT: it may be dead, and waiting on it
    /// again would eat the message's time.
    async fn reusable(&self) -> Option<AsyncSmtpConnection> {
        loop {
            let (mut conn, since) = self.idle.lock().ok()?.pop()?;
            if since.elapsed() < IDLE_FOR {
                let alive = tokio::time::timeout(NOOP_WAIT, conn.test_connected()).await;
                if alive == Ok(true) {
                    return Some(conn);
                }
            }
        }
    }

    fn keep(&self, conn: AsyncSmtpConnection) {
        if let Ok(mut idle) = self.idle.lock() {
            idle.retain(|(_, since)| since.elapsed() < IDLE_FOR);
            if idle.len() < IDLE_KEPT {
                idle.push((conn, Instant::now()));
            }
        }
        // Else dropped: the socket closes without QUIT, which relays take in their stride.
    }
}

/// One email, ready to send.
#[derive(Clone)]
pub struct Mail {
    pub to: String,
    pub subject: String,
    pub body: String,
}

impl Mailer {
    pub fn new(c: &SmtpConfig) -> anyhow::Result<Mailer> {
        let credentials = match (&c.username, &c.password) {
            (Some(u), Some(p)) => Some(Credentials::new(
                u.clone(),
                secrecy::ExposeSecret::expose_secret(p).to_string(),
            )),
            _ => None,
        };
        let timeout = Duration::from_secs(c.timeout_secs);
        let transport = match c.tls {
            SmtpTls::None | SmtpTls::Starttls => {
                if c.tls == SmtpTls::Starttls {
                    // Fails here, at start, on a host name TLS can't use.
                    TlsParameters::new(c.host.clone())?;
                }
                Transport::Relay(Arc::new(Relay {
                    host: c.host.clone(),
                    port: c.port,
                    timeout,
                    starttls: c.tls == SmtpTls::Starttls,
                    credentials,
                    hello: ClientId::default(),
                    idle: std::sync::Mutex::default(),
                }))
            }
            SmtpTls::Tls => {
                let mut builder = AsyncSmtpTransport::<Tokio1Executor>::relay(&c.host)?
                    .port(c.port)
                    .timeout(Some(timeout));
                if let Some(credentials) = credentials {
                    builder = builder.credentials(credentials);
                }
                Transport::Lettre(builder.build())
            }
        };
        let from = c
            .from
            .parse()
            .map_err(|e| anyhow::anyhow!("smtp.from {:?}: {e}", c.from))?;
        Ok(Mailer {
            transport,
            from,
            health: Arc::default(),
        })
    }

    /// Whether the relay itself failed (unreachable, timed out, refusing everyone) and
    /// hasn't worked since: decoys then answer as real people are answered. Cleared by the
    /// next message that goes out, or by `probe` (the server probes a failing relay).
    pub fn failing(&self, _now: i64) -> bool {
        use std::sync::atomic::Ordering;
        let failed = self.health.failed_at.load(Ordering::Relaxed);
        failed > 0 && self.health.worked_at.load(Ordering::Relaxed) < failed
    }

    /// Opens a session with the relay (no message) and notes whether it worked.
    pub async fn probe(&self) -> bool {
        let ok = match &self.transport {
            Transport::Relay(relay) => relay.probe().await,
            Transport::Lettre(transport) => transport.test_connection().await.unwrap_or(false),
            #[cfg(test)]
            Transport::Memory(_) => true,
        };
        self.note(ok);
        ok
    }

    fn note(&self, worked: bool) {
        use std::sync::atomic::Ordering;
        // At least one past the other, so the latest of two in one second counts.
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let (mine, other) = if worked {
            (&self.health.worked_at, &self.health.failed_at)
        } else {
            (&self.health.failed_at, &self.health.worked_at)
        };
        mine.store(
            now.max(other.load(Ordering::Relaxed) + 1),
            Ordering::Relaxed,
        );
    }

    /// Sends one message. Errors name the relay's complaint, never the body.
    pub async fn send(&self, mail: &Mail) -> Result<(), String> {
        let started = Instant::now();
        let sent = self.send_once(mail).await;
        crate::telemetry::mail(started, sent.is_ok());
        match sent {
            Ok(()) => {
                self.note(true);
                Ok(())
            }
            Err(e) => {
                if e.relay {
                    self.note(false);
                }
                Err(e.reason)
            }
        }
    }

    async fn send_once(&self, mail: &Mail) -> Result<(), MailError> {
        let to: Mailbox = mail
            .to
            .parse()
            .map_err(|e| MailError::message(format!("bad address: {e}")))?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(mail.subject.clone())
            .header(ContentType::TEXT_PLAIN)
            .body(mail.body.clone())
            .map_err(|e| MailError::message(format!("building the message: {e}")))?;
        match &self.transport {
            Transport::Relay(relay) => {
                let email = message.formatted();
                let send = relay.send(message.envelope(), &email);
                // The whole exchange is bounded, not just the connect.
                tokio::time::timeout(relay.timeout, send)
                    .await
                    .map_err(|_| {
                        MailError::relay(format!(
                            "smtp: no answer within {} s",
                            relay.timeout.as_secs()
                        ))
                    })?
            }
            Transport::Lettre(transport) => transport
                .send(message)
                .await
                .map(|_| ())
                .map_err(MailError::smtp),
            #[cfg(test)]
            Transport::Memory(outbox) => {
                drop(message);
                if let Ok(mut kept) = outbox.0.lock() {
                    kept.push(mail.clone());
                }
                Ok(())
            }
        }
    }
}

pub struct CodeMail<'a> {
    pub locale: &'a str,
    pub organization: &'a str,
    pub code: &'a str,
    pub minutes: u32,
    /// Where the code was asked for: a kiosk's name, or "My security info".
    pub kiosk: &'a str,
}

pub fn code_mail(to: &str, m: &CodeMail<'_>) -> Mail {
    let lang = Lang::of(m.locale);
    let t = lang.texts();
    Mail {
        to: to.to_string(),
        subject: lang.format(t.code_mail_subject, &[("organization", &m.organization)]),
        body: lang.format(
            t.code_mail_body,
            &[
                ("code", &m.code),
                ("minutes", &m.minutes),
                ("kiosk", &m.kiosk),
            ],
        ),
    }
}

pub struct NoticeMail<'a> {
    pub locale: &'a str,
    pub organization: &'a str,
    pub display_name: &'a str,
    pub username: &'a str,
    pub unlocked_only: bool,
    pub kiosk: &'a str,
    /// When it happened (Unix seconds), written in the mail's language.
    pub at: i64,
    pub reference: &'a str,
    /// The helpdesk's address or number; none: "your IT helpdesk" in the mail's language.
    pub helpdesk: Option<&'a str>,
}

/// Tells the person what happened to their account.
pub fn user_notice(to: &str, m: &NoticeMail<'_>) -> Mail {
    let lang = Lang::of(m.locale);
    let t = lang.texts();
    let what = if m.unlocked_only {
        t.notice_unlock
    } else {
        t.notice_reset
    };
    let when = lang.date_time(m.at);
    Mail {
        to: to.to_string(),
        subject: lang.format(
            t.notice_subject,
            &[("organization", &m.organization), ("what", &what)],
        ),
        body: lang.format(
            t.notice_body,
            &[
                ("name", &m.display_name),
                ("what", &what),
                ("user", &m.username),
                ("kiosk", &m.kiosk),
                ("when", &when),
                ("reference", &m.reference),
                ("helpdesk", &m.helpdesk.unwrap_or(t.your_helpdesk)),
            ],
        ),
    }
}

/// Tells an administrator that another administrator reset their password (in the
/// organisation's language: `m.locale` is its default, not the person's).
pub fn admin_notice(to: &str, m: &NoticeMail<'_>) -> Mail {
    let lang = Lang::of(m.locale);
    let t = lang.texts();
    let when = lang.date_time(m.at);
    Mail {
        to: to.to_string(),
        subject: lang.format(
            t.admin_notice_subject,
            &[("organization", &m.organization), ("user", &m.username)],
        ),
        body: lang.format(
            t.admin_notice_body,
            &[
                ("name", &m.display_name),
                ("user", &m.username),
                ("kiosk", &m.kiosk),
                ("when", &when),
                ("reference", &m.reference),
            ],
        ),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn mail(to: &str, n: usize) -> Mail {
        Mail {
            to: to.into(),
            subject: format!("notice {n}"),
            body: format!("message number {n}"),
        }
    }

    #[tokio::test]
    async fn messages_share_a_kept_connection_and_each_arrives() {
        let mailbox = sspr_mailbox::Mailbox::start("127.0.0.1:0".parse().unwrap())
            .await
            .unwrap();
        let mailer = Mailer::new(&SmtpConfig {
            host: "127.0.0.1".into(),
            port: mailbox.addr().port(),
            tls: crate::config::SmtpTls::None,
            ..SmtpConfig::default()
        })
        .unwrap();
        for n in 0..3 {
            mailer.send(&mail("ada@example.org", n)).await.unwrap();
        }
        assert_eq!(mailbox.sessions(), 1, "one connection for three messages");
        // Two at once: the second can't wait for the first, it opens its own.
        let (three, four) = (mail("ada@example.org", 3), mail("alan@example.org", 4));
        let (a, b) = tokio::join!(mailer.send(&three), mailer.send(&four));
        a.unwrap();
        b.unwrap();
        assert_eq!(mailbox.sessions(), 2);
        // A message the relay refuses (too large) fails alone; the next one goes out (on
        // the other kept connection: the failed session isn't kept).
        let mut huge = mail("ada@example.org", 5);
        huge.body = "x".repeat(2 << 20);
        let refused = mailer.send(&huge).await.unwrap_err();
        assert!(refused.contains("552"), "{refused}");
        mailer.send(&mail("ada@example.org", 6)).await.unwrap();
        assert_eq!(mailbox.sessions(), 2);
        let subjects: Vec<String> = mailbox.messages().into_iter().map(|m| m.subject).collect();
        for n in [0, 1, 2, 3, 4, 6] {
            assert!(subjects.contains(&format!("notice {n}")), "{subjects:?}");
        }
        assert_eq!(subjects.len(), 6);
    }
}
