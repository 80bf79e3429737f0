//! Text messages: the configured gateways (`[[sms.provider]]`), tried in order until one
//! takes the message (failover). Kannel's `sendsms` HTTP interface is the self-hosted
//! gateway. Each try has its own timeout; a gateway that fails or hangs is followed by the
//! next; when all fail, the caller is told at once and the reasons go to the audit.

use std::sync::Arc;
use std::time::{Duration, Instant};

use secrecy::{ExposeSecret, SecretString};

use crate::config::{SmsConfig, SmsProviderKind};

/// One gateway, ready to send.
struct Provider {
    name: String,
    kind: SmsProviderKind,
    url: String,
    username: String,
    password: SecretString,
}

#[derive(Clone)]
pub struct Sms {
    providers: Arc<Vec<Provider>>,
    http: reqwest::Client,
    sender: String,
    #[cfg(test)]
    outbox: Option<SmsOutbox>,
}

/// The messages a test's gateway kept (unit tests).
#[cfg(test)]
#[derive(Clone, Default)]
pub struct SmsOutbox(Arc<std::sync::Mutex<Vec<(String, String)>>>);

#[cfg(test)]
impl SmsOutbox {
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
        if config.provider.is_empty() {
            return Ok(None);
        }
        let mut providers = Vec::new();
        for p in &config.provider {
            providers.push(Provider {
                name: p.name.clone(),
                kind: p.kind,
                url: p.url.trim_end_matches('/').to_string(),
                username: p.username.clone().unwrap_or_default(),
                password: p.password()?.unwrap_or_else(|| SecretString::from("")),
            });
        }
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(u64::from(config.timeout_secs)))
            .connect_timeout(Duration::from_secs(u64::from(config.timeout_secs)))
            .build()?;
        Ok(Some(Sms {
            providers: Arc::new(providers),
            http,
            sender: config.sender.clone(),
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
            outbox: Some(outbox),
        }
    }

    /// Sends `text` to `to` (E.164) through the first gateway that takes it. The error
    /// names each gateway's failure (never the text: it holds a code).
    pub async fn send(&self, to: &str, text: &str) -> Result<String, String> {
        #[cfg(test)]
        if let Some(outbox) = &self.outbox {
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
        }
    }
}
