//! Text messages: the configured gateways (`[[sms.provider]]`), tried in order until one
//! takes the message (failover). Kannel's `sendsms` HTTP interface is the self-hosted
//! gateway. Each try has its own timeout; a gateway that fails or hangs is followed by the
//! next; when all fail, the caller is told at once and the reasons go to the audit.

use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use secrecy::{ExposeSecret, SecretString};

use crate::config::{HttpBody, SmsConfig, SmsProvider, SmsProviderKind};

/// One gateway, ready to send.
struct Provider {
    name: String,
    kind: SmsProviderKind,
    url: String,
    username: String,
    password: SecretString,
    template: Option<Template>,
}

/// An HTTP gateway's request, with placeholders.
#[derive(Clone)]
struct Template {
    method: reqwest::Method,
    url: String,
    body: HttpBody,
    fields: Vec<(String, String)>,
    headers: Vec<(String, String)>,
    basic_auth: bool,
    success_status: Vec<u16>,
    success_pattern: Option<String>,
}

const PLACEHOLDERS: [&str; 10] = [
    "{to}",
    "{to_digits}",
    "{message}",
    "{sender}",
    "{request_id}",
    "{username}",
    "{password}",
    "{twiml}",
    "{speech}",
    "{digits}",
];

/// What a gateway carries: text messages, or calls that read the code out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channel {
    Text,
    Voice,
}

/// The request a provider's settings (and its preset) describe; refused at start when a
/// template can't render.
fn template(p: &SmsProvider, channel: Channel) -> anyhow::Result<Template> {
    let name = &p.name;
    let base = p.url.trim_end_matches('/');
    let owned = |pairs: &[(&str, &str)]| {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect::<Vec<_>>()
    };
    let mut t = match (p.preset.as_deref(), channel) {
        // Twilio's Calls API: the call reads TwiML given inline; an extension is dialled
        // once answered (SendDigits).
        (Some("twilio"), Channel::Voice) => Template {
            method: reqwest::Method::POST,
            url: format!("{base}/2010-04-01/Accounts/{{username}}/Calls.json"),
            body: HttpBody::Form,
            fields: owned(&[
                ("To", "{to}"),
                ("From", "{sender}"),
                ("Twiml", "{twiml}"),
                ("SendDigits", "{digits}"),
            ]),
            headers: Vec::new(),
            basic_auth: true,
            success_status: vec![201],
            success_pattern: Some("\"sid\"".into()),
        },
        (Some("vonage"), Channel::Voice) => {
            anyhow::bail!("voice.provider {name:?}: the vonage preset sends text messages only")
        }
        // Twilio's Messages API: form fields, HTTP basic auth (Account SID, Auth Token),
        // 201 Created with the message's "sid".
        (Some("twilio"), Channel::Text) => Template {
            method: reqwest::Method::POST,
            url: format!("{base}/2010-04-01/Accounts/{{username}}/Messages.json"),
            body: HttpBody::Form,
            fields: owned(&[("To", "{to}"), ("From", "{sender}"), ("Body", "{message}")]),
            headers: Vec::new(),
            basic_auth: true,
            success_status: vec![201],
            success_pattern: Some("\"sid\"".into()),
        },
        // Vonage's SMS API: form fields with the key and secret, 200 and status "0".
        (Some("vonage"), Channel::Text) => Template {
            method: reqwest::Method::POST,
            url: format!("{base}/sms/json"),
            body: HttpBody::Form,
            fields: owned(&[
                ("api_key", "{username}"),
                ("api_secret", "{password}"),
                ("to", "{to_digits}"),
                ("from", "{sender}"),
                ("text", "{message}"),
                ("client-ref", "{request_id}"),
            ]),
            headers: Vec::new(),
            basic_auth: false,
            success_status: vec![200],
            success_pattern: Some("\"status\":\"0\"".into()),
        },
        (Some(other), _) => {
            anyhow::bail!("sms.provider {name:?}: no preset {other:?} (twilio, vonage)")
        }
        (None, _) => Template {
            method: reqwest::Method::POST,
            url: base.to_string(),
            body: HttpBody::Form,
            fields: Vec::new(),
            headers: Vec::new(),
            basic_auth: false,
            success_status: Vec::new(),
            success_pattern: None,
        },
    };
    if let Some(m) = &p.method {
        t.method = match m.to_ascii_uppercase().as_str() {
            "GET" => reqwest::Method::GET,
            "POST" => reqwest::Method::POST,
            other => anyhow::bail!("sms.provider {name:?}: method {other:?} (GET or POST)"),
        };
    }
    if let Some(b) = p.body {
        t.body = b;
    }
    if !p.fields.is_empty() {
        t.fields = p
            .fields
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
    }
    t.headers
        .extend(p.headers.iter().map(|(k, v)| (k.clone(), v.clone())));
    if !p.success_status.is_empty() {
        t.success_status = p.success_status.clone();
    }
    if p.success_pattern.is_some() {
        t.success_pattern = p.success_pattern.clone();
    }
    anyhow::ensure!(
        p.preset.is_some() || !t.fields.is_empty(),
        "sms.provider {name:?}: an HTTP gateway needs `fields` (or a preset)"
    );
    // Every template renders: each placeholder is a known one.
    for text in std::iter::once(&t.url)
        .chain(t.fields.iter().map(|(_, v)| v))
        .chain(t.headers.iter().map(|(_, v)| v))
    {
        let mut rest = text.clone();
        for p in PLACEHOLDERS {
            rest = rest.replace(p, "");
        }
        anyhow::ensure!(
            !rest.contains('{') && !rest.contains('}'),
            "sms.provider {name:?}: {text:?} has a placeholder that doesn't render (use {})",
            PLACEHOLDERS.join(", ")
        );
    }
    Ok(t)
}

/// The words of a TwiML `<Say>` (for templates that want speech, not TwiML).
fn speech_of(twiml: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    for c in twiml.chars() {
        match c {
            '<' => in_tag = true,
            '>' => {
                in_tag = false;
                out.push(' ');
            }
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The TwiML of a call that reads `code` out digit by digit, twice, in `locale`.
pub fn code_call(locale: &str, organization: &str, code: &str) -> String {
    let escape = |s: &str| {
        s.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('"', "&quot;")
    };
    let digits = code
        .chars()
        .filter(char::is_ascii_digit)
        .map(String::from)
        .collect::<Vec<_>>()
        .join(", ");
    let lang = crate::lang::Lang::of(locale);
    let t = lang.texts();
    let language = t.voice_language;
    let intro = lang.format(t.voice_intro, &[("organization", &escape(organization))]);
    let again = escape(t.voice_again);
    format!(
        "<Response><Pause length=\"1\"/><Say language=\"{language}\">{intro} {digits}.</Say><Pause length=\"1\"/><Say language=\"{language}\">{again} {digits}.</Say></Response>"
    )
}

fn render(text: &str, values: &[(&str, &str)]) -> String {
    let mut out = text.to_string();
    for (k, v) in values {
        out = out.replace(k, v);
    }
    out
}

#[derive(Clone)]
pub struct Sms {
    providers: Arc<Vec<Provider>>,
    http: reqwest::Client,
    sender: String,
    channel: Channel,
    health: Arc<Health>,
    #[cfg(test)]
    outbox: Option<SmsOutbox>,
}

/// How sending has gone lately, for decoys to answer as real people are answered: how
/// long a send takes (a moving average) and whether every gateway is failing.
#[derive(Default)]
struct Health {
    /// Milliseconds a send has taken, smoothed (0: none yet).
    typical_ms: AtomicU64,
    /// Unix seconds of the last send that every gateway failed, and of the last that went.
    failed_at: AtomicI64,
    worked_at: AtomicI64,
}

/// The messages a test's gateway kept (unit tests).
#[cfg(test)]
#[derive(Clone, Default)]
pub struct SmsOutbox(
    Arc<std::sync::Mutex<Vec<(String, String)>>>,
    Arc<std::sync::atomic::AtomicBool>,
);

#[cfg(test)]
impl SmsOutbox {
    /// From now on the gateway refuses everything (or takes it again).
    pub fn refuse(&self, refuse: bool) {
        self.1.store(refuse, Ordering::Relaxed);
    }

    pub fn count(&self) -> usize {
        self.0.lock().map(|m| m.len()).unwrap_or_default()
    }

    /// The newest message (or call's TwiML) to `to`.
    pub fn last_text(&self, to: &str) -> Option<String> {
        let all = self.0.lock().map(|m| m.clone()).unwrap_or_default();
        all.iter()
            .rev()
            .find(|(t, _)| t == to)
            .map(|(_, text)| text.clone())
    }

    pub fn last_code(&self, to: &str) -> Option<String> {
        let all = self.0.lock().map(|m| m.clone()).unwrap_or_default();
        all.iter()
            .rev()
            .find(|(t, _)| t == to)
            .and_then(|(_, text)| {
                text.split(|c: char| !c.is_ascii_digit())
                    .find(|w| w.len() >= 6)
                    .map(str::to_string)
            })
    }
}

impl Sms {
    /// The gateways of `[sms]`; None when there is none.
    pub fn new(config: &SmsConfig) -> anyhow::Result<Option<Sms>> {
        Sms::build(
            &config.provider,
            config.timeout_secs,
            &config.sender,
            Channel::Text,
        )
    }

    /// The gateways of `[voice]`; None when there is none.
    pub fn voice(config: &crate::config::VoiceConfig) -> anyhow::Result<Option<Sms>> {
        Sms::build(
            &config.provider,
            config.timeout_secs,
            &config.caller_id,
            Channel::Voice,
        )
    }

    fn build(
        provider: &[SmsProvider],
        timeout_secs: u32,
        sender: &str,
        channel: Channel,
    ) -> anyhow::Result<Option<Sms>> {
        if provider.is_empty() {
            return Ok(None);
        }
        let mut providers = Vec::new();
        for p in provider {
            providers.push(Provider {
                name: p.name.clone(),
                kind: p.kind,
                url: p.url.trim_end_matches('/').to_string(),
                username: p.username.clone().unwrap_or_default(),
                password: p.password()?.unwrap_or_else(|| SecretString::from("")),
                template: match p.kind {
                    SmsProviderKind::Http => Some(template(p, channel)?),
                    SmsProviderKind::Kannel => None,
                },
            });
        }
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(u64::from(timeout_secs)))
            .connect_timeout(Duration::from_secs(u64::from(timeout_secs)))
            .build()?;
        Ok(Some(Sms {
            providers: Arc::new(providers),
            http,
            sender: sender.to_string(),
            channel,
            health: Arc::default(),
            #[cfg(test)]
            outbox: None,
        }))
    }

    /// A gateway that keeps its messages (unit tests).
    #[cfg(test)]
    pub fn in_memory(outbox: SmsOutbox) -> Sms {
        Sms {
            providers: Arc::new(Vec::new()),
            http: reqwest::Client::new(),
            sender: "SSPR".into(),
            channel: Channel::Text,
            health: Arc::default(),
            outbox: Some(outbox),
        }
    }

    /// Sends `text` to `to` (E.164) through the first gateway that takes it. The error
    /// names each gateway's failure (never the text: it holds a code).
    pub async fn send(&self, to: &str, text: &str) -> Result<String, String> {
        let started = Instant::now();
        let sent = self.send_through(to, text).await;
        let took = started.elapsed().as_millis().min(u128::from(u32::MAX)) as u64;
        let h = &self.health;
        let before = h.typical_ms.load(Ordering::Relaxed);
        // A new figure weighs a quarter; the first is taken whole.
        let typical = if before == 0 {
            took.max(1)
        } else {
            (before * 3 + took) / 4
        };
        h.typical_ms.store(typical.max(1), Ordering::Relaxed);
        let now = crate::clock::now();
        if sent.is_ok() {
            h.worked_at.store(now, Ordering::Relaxed);
        } else {
            h.failed_at.store(now, Ordering::Relaxed);
        }
        sent
    }

    /// How long a send has lately taken (a decoy waits as long; 1 s before any).
    pub fn typical(&self) -> Duration {
        match self.health.typical_ms.load(Ordering::Relaxed) {
            0 => Duration::from_secs(1),
            ms => Duration::from_millis(ms),
        }
    }

    /// Every gateway failed the last send and none has worked since.
    pub fn failing(&self) -> bool {
        let h = &self.health;
        let failed = h.failed_at.load(Ordering::Relaxed);
        failed > 0 && h.worked_at.load(Ordering::Relaxed) < failed
    }

    async fn send_through(&self, to: &str, text: &str) -> Result<String, String> {
        #[cfg(test)]
        if let Some(outbox) = &self.outbox {
            if outbox.1.load(Ordering::Relaxed) {
                return Err("memory: refused".into());
            }
            if let Ok(mut m) = outbox.0.lock() {
                m.push((to.to_string(), text.to_string()));
            }
            return Ok("memory".into());
        }
        let mut failures = Vec::new();
        for p in self.providers.iter() {
            let started = Instant::now();
            let sent = self.send_with(p, to, text).await;
            crate::telemetry::sms(&p.name, started, sent.is_ok());
            match sent {
                Ok(()) => return Ok(p.name.clone()),
                Err(why) => {
                    tracing::warn!(provider = %p.name, reason = %why, "an SMS gateway failed; trying the next");
                    failures.push(format!("{}: {why}", p.name));
                }
            }
        }
        Err(failures.join("; "))
    }

    async fn send_with(&self, p: &Provider, to: &str, text: &str) -> Result<(), String> {
        if let Some(t) = &p.template {
            return self.send_http(p, t, to, text).await;
        }
        match p.kind {
            SmsProviderKind::Kannel => {
                let response = self
                    .http
                    .get(format!("{}/cgi-bin/sendsms", p.url))
                    .query(&[
                        ("username", p.username.as_str()),
                        ("password", p.password.expose_secret()),
                        ("from", self.sender.as_str()),
                        ("to", to),
                        ("text", text),
                        ("charset", "UTF-8"),
                    ])
                    .send()
                    .await
                    .map_err(|e| {
                        if e.is_timeout() {
                            "no answer in time".to_string()
                        } else {
                            "can't be reached".to_string()
                        }
                    })?;
                let status = response.status();
                let body: String = response
                    .text()
                    .await
                    .unwrap_or_default()
                    .chars()
                    .take(200)
                    .filter(|c| !c.is_control())
                    .collect();
                // Kannel answers "0: Accepted for delivery" (202) or "3: Queued for later
                // delivery"; anything else is a refusal.
                if status.is_success() && (body.starts_with("0:") || body.starts_with("3:")) {
                    Ok(())
                } else {
                    Err(format!("refused (HTTP {}: {body})", status.as_u16()))
                }
            }
            SmsProviderKind::Http => Err("no template".into()),
        }
    }

    async fn send_http(
        &self,
        p: &Provider,
        t: &Template,
        to: &str,
        text: &str,
    ) -> Result<(), String> {
        let request_id = crate::secret::random_id();
        // A number with an extension ("+49301234567;ext=89"): the call goes to the number
        // and dials the extension once answered ("w" waits half a second).
        let (number, extension) = match to.split_once(";ext=") {
            Some((n, e)) => (n, e),
            None => (to, ""),
        };
        let digits = if extension.is_empty() {
            String::new()
        } else {
            format!("wwww{extension}")
        };
        let twiml = if self.channel == Channel::Voice {
            text.to_string()
        } else {
            String::new()
        };
        let speech = speech_of(text);
        let values = [
            ("{to_digits}", number.trim_start_matches('+')),
            ("{to}", number),
            ("{message}", text),
            ("{sender}", self.sender.as_str()),
            ("{request_id}", request_id.as_str()),
            ("{username}", p.username.as_str()),
            ("{password}", p.password.expose_secret()),
            ("{twiml}", twiml.as_str()),
            ("{speech}", speech.as_str()),
            ("{digits}", digits.as_str()),
        ];
        let url = render(&t.url, &values);
        // A field that renders empty (no extension to dial) isn't sent.
        let fields: Vec<(String, String)> = t
            .fields
            .iter()
            .map(|(k, v)| (k.clone(), render(v, &values)))
            .filter(|(_, v)| !v.is_empty())
            .collect();
        let mut request = self.http.request(t.method.clone(), &url);
        for (k, v) in &t.headers {
            request = request.header(k.as_str(), render(v, &values));
        }
        if t.basic_auth {
            request = request.basic_auth(&p.username, Some(p.password.expose_secret()));
        }
        request = match t.body {
            HttpBody::Form => request.form(&fields),
            HttpBody::Query => request.query(&fields),
            HttpBody::Json => request.json(
                &fields
                    .iter()
                    .map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone())))
                    .collect::<serde_json::Map<_, _>>(),
            ),
        };
        let response = request.send().await.map_err(|e| {
            if e.is_timeout() {
                "no answer in time".to_string()
            } else {
                "can't be reached".to_string()
            }
        })?;
        let status = response.status().as_u16();
        let body = response.text().await.unwrap_or_default();
        let status_ok = if t.success_status.is_empty() {
            (200..300).contains(&status)
        } else {
            t.success_status.contains(&status)
        };
        let compact: String = body.chars().filter(|c| !c.is_whitespace()).collect();
        let pattern_ok = t.success_pattern.as_ref().is_none_or(|p| {
            compact.contains(&p.chars().filter(|c| !c.is_whitespace()).collect::<String>())
        });
        // The answer's body isn't repeated: a gateway may echo the message, and with it
        // the code.
        match (status_ok, pattern_ok) {
            (true, true) => Ok(()),
            (true, false) => Err(format!(
                "refused (HTTP {status}, not the answer of a message taken)"
            )),
            _ => Err(format!("refused (HTTP {status})")),
        }
    }
}
