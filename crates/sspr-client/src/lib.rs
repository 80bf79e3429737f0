//! Client of the SSPR kiosk API. Every request after enrollment is signed with the kiosk's
//! Ed25519 device key (HTTP Message Signatures, RFC 9421): `@method`, `@target-uri`,
//! `content-digest` for bodies, with `created`, `nonce` and `keyid` = the kiosk id.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine;
use bytes::Bytes;
use ed25519_dalek::SigningKey;
use http_body_util::{BodyExt, Full};
use httpsig_hyper::prelude::message_component::HttpMessageComponentId;
use httpsig_hyper::prelude::{AlgorithmName, HttpSignatureParams};
use httpsig_hyper::{ContentDigestType, MessageSignatureReq, RequestContentDigest};
use rand::rngs::OsRng;
use rand::RngCore;
use serde::de::DeserializeOwned;
use serde::Serialize;
use sspr_proto::{
    ChallengeRequest, ChallengeStatus, ChallengeView, Delivery, DoneView, EnrollRequest,
    EnrollResponse, ErrorBody, ErrorCode, FlowView, KioskSettings, PasswordCheck,
    PasswordCheckRequest, SetPasswordRequest, StartFlowRequest, VerifyRequest,
};
use zeroize::Zeroizing;

mod events;
pub use events::EventStream;

/// The kiosk's private key. It never leaves the process except into the OS keyring.
/// Kept as the expanded ed25519-dalek key (zeroized on drop), so signing a request is
/// one signature, not a key derivation plus a signature.
pub struct DeviceKey {
    key: SigningKey,
}

impl DeviceKey {
    pub fn generate() -> DeviceKey {
        let mut seed = Zeroizing::new([0u8; 32]);
        OsRng.fill_bytes(seed.as_mut());
        DeviceKey::from_seed(*seed)
    }

    pub fn from_seed(seed: [u8; 32]) -> DeviceKey {
        let seed = Zeroizing::new(seed);
        DeviceKey {
            key: SigningKey::from_bytes(&seed),
        }
    }

    /// The 32-byte seed, for storing in the keyring.
    pub fn seed(&self) -> &[u8; 32] {
        self.key.as_bytes()
    }

    /// The public key as the server wants it: 32 bytes, base64url without padding.
    pub fn public_key(&self) -> String {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(self.key.verifying_key().to_bytes())
    }
}

impl httpsig_hyper::prelude::SigningKey for DeviceKey {
    fn sign(&self, data: &[u8]) -> httpsig_hyper::prelude::HttpSigResult<Vec<u8>> {
        use ed25519_dalek::Signer as _;
        Ok(self.key.sign(data).to_bytes().to_vec())
    }

    /// As httpsig names an Ed25519 key: base64 of the SHA-256 of its raw public key.
    fn key_id(&self) -> String {
        use sha2::Digest as _;
        base64::engine::general_purpose::STANDARD
            .encode(sha2::Sha256::digest(self.key.verifying_key().as_bytes()))
    }

    fn alg(&self) -> AlgorithmName {
        AlgorithmName::Ed25519
    }
}

/// Sent with every request: the server shows each kiosk's version to IT.
pub const USER_AGENT: &str = concat!("sspr-kiosk/", env!("CARGO_PKG_VERSION"));

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The server answered with an error.
    #[error("{status}: {body}")]
    Api { status: u16, body: Box<ErrorBody> },
    /// The server could not be reached, or the connection failed.
    #[error("the server can't be reached: {0}")]
    Transport(String),
    /// The answer was not what the API promises.
    #[error("unexpected answer from the server: {0}")]
    Decode(String),
    #[error("signing the request failed: {0}")]
    Signing(String),
    #[error("this kiosk is not enrolled")]
    NotEnrolled,
}

impl ClientError {
    /// The API's error code, if the server answered with one.
    pub fn code(&self) -> Option<ErrorCode> {
        match self {
            ClientError::Api { body, .. } => Some(body.code),
            _ => None,
        }
    }
}

/// How to sign one request; tests use the knobs to make bad signatures.
#[derive(Debug, Clone, Default)]
pub struct SignOptions {
    /// Seconds added to `created` (negative: in the past).
    pub created_offset: i64,
    /// A fixed nonce instead of a fresh random one.
    pub nonce: Option<String>,
    /// Leave `content-digest` out of the covered components.
    pub without_digest: bool,
    /// An Idempotency-Key (sent, and covered by the signature): the same key on a repeat
    /// gets the first request's answer.
    pub idempotency_key: Option<String>,
}

/// A request's JSON body, if it has one.
fn json_bytes<B: Serialize>(body: Option<&B>) -> Result<Option<Vec<u8>>, ClientError> {
    body.map(serde_json::to_vec)
        .transpose()
        .map_err(|e| ClientError::Decode(e.to_string()))
}

/// A fresh Idempotency-Key: 128 random bits.
pub fn idempotency_key() -> String {
    let mut b = [0u8; 16];
    OsRng.fill_bytes(&mut b);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
}

pub struct Client {
    http: reqwest::Client,
    base: String,
    key: DeviceKey,
    kiosk_id: Option<String>,
}

impl Client {
    /// `base` is the server's public URL, e.g. "https://sspr.example.org".
    pub fn new(
        base: &str,
        key: DeviceKey,
        kiosk_id: Option<String>,
    ) -> Result<Client, ClientError> {
        let http = reqwest::Client::builder()
            .user_agent(USER_AGENT)
            .timeout(Duration::from_secs(30))
            .connect_timeout(Duration::from_secs(5))
            .build()
            .map_err(|e| ClientError::Transport(e.to_string()))?;
        Ok(Client {
            http,
            base: base.trim_end_matches('/').to_string(),
            key,
            kiosk_id,
        })
    }

    /// The same client, giving up on an answer after `timeout` (30 s by default).
    pub fn with_timeout(mut self, timeout: Duration) -> Result<Client, ClientError> {
        self.http = reqwest::Client::builder()
            .user_agent(USER_AGENT)
            .timeout(timeout)
            .connect_timeout(Duration::from_secs(5))
            .build()
            .map_err(|e| ClientError::Transport(e.to_string()))?;
        Ok(self)
    }

    pub fn base(&self) -> &str {
        &self.base
    }

    /// The device key, for storing in the OS keyring after enrollment.
    pub fn device_key(&self) -> &DeviceKey {
        &self.key
    }

    pub fn kiosk_id(&self) -> Option<&str> {
        self.kiosk_id.as_deref()
    }

    /// Registers this device's key with an enrollment code; later requests are signed.
    /// `name` (the PC's host name) and `location` (from the kiosk's configuration) name
    /// the new kiosk when the code is a staging code for many PCs; a one-time code keeps
    /// what IT gave it. None sends nothing (the server then names it `<prefix>-<n>`).
    pub async fn enroll(
        &mut self,
        code: &str,
        name: Option<&str>,
        location: Option<&str>,
    ) -> Result<EnrollResponse, ClientError> {
        let body = EnrollRequest {
            code: code.to_string(),
            public_key: self.key.public_key(),
            name: name.map(str::to_string),
            location: location.map(str::to_string),
        };
        let response = self
            .http
            .post(format!("{}/v1/kiosks/enroll", self.base))
            .json(&body)
            .send()
            .await
            .map_err(|e| ClientError::Transport(e.to_string()))?;
        let enrolled: EnrollResponse = decode(response).await?;
        self.kiosk_id = Some(enrolled.kiosk_id.clone());
        Ok(enrolled)
    }

    pub async fn settings(&self) -> Result<KioskSettings, ClientError> {
        self.call(http::Method::GET, "/v1/kiosk/settings", None::<&()>)
            .await
    }

    pub async fn start_flow(&self, req: &StartFlowRequest) -> Result<FlowView, ClientError> {
        self.call(http::Method::POST, "/v1/flows", Some(req)).await
    }

    pub async fn challenge(
        &self,
        flow_id: &str,
        method_id: &str,
    ) -> Result<ChallengeView, ClientError> {
        self.challenge_with(flow_id, method_id, false).await
    }

    /// A challenge; for an approval, `finish_on_phone` asks for the password on the phone.
    pub async fn challenge_with(
        &self,
        flow_id: &str,
        method_id: &str,
        finish_on_phone: bool,
    ) -> Result<ChallengeView, ClientError> {
        self.challenge_request(
            flow_id,
            &ChallengeRequest {
                method_id: method_id.to_string(),
                finish_on_phone,
                call: false,
            },
        )
        .await
    }

    /// A challenge as the kiosk asks for it (a mobile number called instead of texted:
    /// `call`).
    pub async fn challenge_request(
        &self,
        flow_id: &str,
        body: &ChallengeRequest,
    ) -> Result<ChallengeView, ClientError> {
        self.call_idempotent(
            http::Method::POST,
            &format!("/v1/flows/{flow_id}/challenges"),
            Some(body),
        )
        .await
    }

    pub async fn verify(
        &self,
        flow_id: &str,
        challenge_id: &str,
        code: &str,
    ) -> Result<FlowView, ClientError> {
        let body = VerifyRequest {
            code: Some(code.to_string()),
            answers: None,
        };
        self.call_idempotent(
            http::Method::POST,
            &format!("/v1/flows/{flow_id}/challenges/{challenge_id}/verify"),
            Some(&body),
        )
        .await
    }

    /// Where sending a challenge's code stands (texts and calls go after the challenge
    /// answers).
    pub async fn challenge_status(
        &self,
        flow_id: &str,
        challenge_id: &str,
    ) -> Result<ChallengeStatus, ClientError> {
        self.call(
            http::Method::GET,
            &format!("/v1/flows/{flow_id}/challenges/{challenge_id}"),
            None::<&()>,
        )
        .await
    }

    /// Follows a challenge until its code was sent or every gateway failed (`timeout`
    /// at most; still `Sending` after it).
    pub async fn delivery(
        &self,
        flow_id: &str,
        challenge_id: &str,
        timeout: std::time::Duration,
    ) -> Result<Option<Delivery>, ClientError> {
        let until = std::time::Instant::now() + timeout;
        loop {
            let status = self.challenge_status(flow_id, challenge_id).await?;
            if status.delivery != Some(Delivery::Sending) || std::time::Instant::now() >= until {
                return Ok(status.delivery);
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
    }

    /// Answers a security questions challenge, in the order its questions were asked.
    pub async fn answer(
        &self,
        flow_id: &str,
        challenge_id: &str,
        answers: &[String],
    ) -> Result<FlowView, ClientError> {
        let body = VerifyRequest {
            code: None,
            answers: Some(answers.to_vec()),
        };
        self.call_idempotent(
            http::Method::POST,
            &format!("/v1/flows/{flow_id}/challenges/{challenge_id}/verify"),
            Some(&body),
        )
        .await
    }

    pub async fn password_check(
        &self,
        flow_id: &str,
        candidate: &str,
    ) -> Result<PasswordCheck, ClientError> {
        let body = PasswordCheckRequest {
            candidate: candidate.to_string(),
        };
        self.call(
            http::Method::POST,
            &format!("/v1/flows/{flow_id}/password-check"),
            Some(&body),
        )
        .await
    }

    pub async fn set_password(
        &self,
        flow_id: &str,
        new_password: &str,
    ) -> Result<DoneView, ClientError> {
        let body = SetPasswordRequest {
            new_password: new_password.to_string(),
        };
        self.call_idempotent(
            http::Method::POST,
            &format!("/v1/flows/{flow_id}/password"),
            Some(&body),
        )
        .await
    }

    pub async fn unlock(&self, flow_id: &str) -> Result<DoneView, ClientError> {
        self.call_idempotent(
            http::Method::POST,
            &format!("/v1/flows/{flow_id}/unlock"),
            None::<&()>,
        )
        .await
    }

    pub async fn cancel(&self, flow_id: &str) -> Result<(), ClientError> {
        let request = self
            .signed(
                http::Method::DELETE,
                &format!("/v1/flows/{flow_id}"),
                None,
                &SignOptions::default(),
            )
            .await?;
        let response = self.execute(request).await?;
        if response.status().is_success() {
            Ok(())
        } else {
            Err(api_error(response).await)
        }
    }

    /// The flow's server-sent events (what the phone does during an approval): the latest
    /// event first, then each new one, until the flow is over.
    pub async fn events(&self, flow_id: &str) -> Result<EventStream, ClientError> {
        self.events_after(flow_id, None).await
    }

    /// `events` again after a stream broke, resuming after the last event it had
    /// (`EventStream::last_event_id`, sent as `Last-Event-ID`): whichever server process
    /// answers, the latest event after that one comes next, and none it had comes again.
    pub async fn events_after(
        &self,
        flow_id: &str,
        last_event_id: Option<&str>,
    ) -> Result<EventStream, ClientError> {
        let mut request = self
            .signed(
                http::Method::GET,
                &format!("/v1/flows/{flow_id}/events"),
                None,
                &SignOptions::default(),
            )
            .await?;
        // A stream outlives the client's per-request timeout; the flow's life bounds it.
        *request.timeout_mut() = Some(Duration::from_secs(20 * 60));
        request.headers_mut().insert(
            http::header::ACCEPT,
            http::HeaderValue::from_static("text/event-stream"),
        );
        if let Some(id) = last_event_id.and_then(|id| http::HeaderValue::from_str(id).ok()) {
            request.headers_mut().insert("last-event-id", id);
        }
        let response = self.execute(request).await?;
        if !response.status().is_success() {
            return Err(api_error(response).await);
        }
        Ok(EventStream::new(response, last_event_id))
    }

    /// A step that must not happen twice (a code sent, a method verified, a password
    /// written): sent with an Idempotency-Key, and sent once more with a new signature and
    /// the same key if no answer came (a timeout, a dropped connection); the server
    /// answers a repeat with the first request's answer.
    async fn call_idempotent<B: Serialize, T: DeserializeOwned>(
        &self,
        method: http::Method,
        path: &str,
        body: Option<&B>,
    ) -> Result<T, ClientError> {
        let bytes = json_bytes(body)?;
        let options = SignOptions {
            idempotency_key: Some(idempotency_key()),
            ..SignOptions::default()
        };
        let mut tries = 0;
        loop {
            let request = self
                .signed(method.clone(), path, bytes.clone(), &options)
                .await?;
            match self.http.execute(request).await {
                Ok(response) => return decode(response).await,
                Err(e) if tries == 0 && (e.is_timeout() || e.is_connect() || e.is_request()) => {
                    tries += 1;
                    tokio::time::sleep(Duration::from_millis(300)).await;
                }
                Err(e) => return Err(ClientError::Transport(e.to_string())),
            }
        }
    }

    async fn call<B: Serialize, T: DeserializeOwned>(
        &self,
        method: http::Method,
        path: &str,
        body: Option<&B>,
    ) -> Result<T, ClientError> {
        let bytes = json_bytes(body)?;
        let request = self
            .signed(method, path, bytes, &SignOptions::default())
            .await?;
        decode(self.execute(request).await?).await
    }

    /// Sends a prepared request.
    pub async fn execute(
        &self,
        request: reqwest::Request,
    ) -> Result<reqwest::Response, ClientError> {
        self.http
            .execute(request)
            .await
            .map_err(|e| ClientError::Transport(e.to_string()))
    }

    /// A signed request, ready to send (and, for a replay test, to clone and send again).
    pub async fn signed(
        &self,
        method: http::Method,
        path: &str,
        body: Option<Vec<u8>>,
        options: &SignOptions,
    ) -> Result<reqwest::Request, ClientError> {
        let kiosk_id = self.kiosk_id.as_deref().ok_or(ClientError::NotEnrolled)?;
        let url = format!("{}{}", self.base, path);
        let has_body = body.as_ref().is_some_and(|b| !b.is_empty());
        let mut builder = http::Request::builder().method(method.clone()).uri(&url);
        if has_body {
            builder = builder.header(http::header::CONTENT_TYPE, "application/json");
        }
        let request = builder
            .body(Full::new(Bytes::from(body.unwrap_or_default())))
            .map_err(|e| ClientError::Signing(e.to_string()))?;
        let signing = |e: &dyn std::fmt::Display| ClientError::Signing(e.to_string());

        let mut components = vec!["@method", "@target-uri"];
        let request = match &options.idempotency_key {
            Some(key) => {
                components.push("idempotency-key");
                let (mut parts, body) = request.into_parts();
                parts.headers.insert(
                    "idempotency-key",
                    http::HeaderValue::from_str(&format!("\"{key}\"")).map_err(|e| signing(&e))?,
                );
                http::Request::from_parts(parts, body)
            }
            None => request,
        };
        let request = if has_body {
            if !options.without_digest {
                components.push("content-digest");
            }
            let with_digest = request
                .set_content_digest(&ContentDigestType::Sha256)
                .await
                .map_err(|e| signing(&e))?;
            let (parts, body) = with_digest.into_parts();
            let bytes = body.collect().await.map_err(|e| signing(&e))?.to_bytes();
            http::Request::from_parts(parts, Full::new(bytes))
        } else {
            request
        };
        let components = components
            .into_iter()
            .map(HttpMessageComponentId::try_from)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| signing(&e))?;
        let mut params = HttpSignatureParams::try_new(&components).map_err(|e| signing(&e))?;
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or_default();
        params.set_created((now + options.created_offset).max(0) as u64);
        let nonce = options.nonce.clone().unwrap_or_else(|| {
            let mut b = [0u8; 16];
            OsRng.fill_bytes(&mut b);
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
        });
        params.set_nonce(&nonce);
        params.set_alg(&AlgorithmName::Ed25519);
        params.set_keyid(kiosk_id);
        let mut request = request;
        request
            .set_message_signature(&params, &self.key, Some("sig1"))
            .await
            .map_err(|e| signing(&e))?;

        let (parts, body) = request.into_parts();
        let bytes = body.collect().await.map_err(|e| signing(&e))?.to_bytes();
        let mut out = self.http.request(method, &url).body(bytes);
        for (name, value) in &parts.headers {
            out = out.header(name, value);
        }
        out.build().map_err(|e| ClientError::Signing(e.to_string()))
    }
}

async fn api_error(response: reqwest::Response) -> ClientError {
    let status = response.status().as_u16();
    match response.json::<ErrorBody>().await {
        Ok(body) => ClientError::Api {
            status,
            body: Box::new(body),
        },
        Err(e) => ClientError::Decode(format!("HTTP {status} without an error body: {e}")),
    }
}

async fn decode<T: DeserializeOwned>(response: reqwest::Response) -> Result<T, ClientError> {
    if !response.status().is_success() {
        return Err(api_error(response).await);
    }
    response
        .json::<T>()
        .await
        .map_err(|e| ClientError::Decode(e.to_string()))
}

#[cfg(test)]
#[allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn public_key_is_32_bytes_base64url() {
        let key = DeviceKey::from_seed([9; 32]);
        let pk = key.public_key();
        let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(&pk)
            .unwrap_or_default();
        assert_eq!(raw.len(), 32);
        assert_eq!(DeviceKey::from_seed([9; 32]).public_key(), pk);
        assert_ne!(DeviceKey::generate().public_key(), pk);
    }

    #[test]
    fn device_key_signs_as_httpsig_own_ed25519_key() {
        use httpsig_hyper::prelude::{SecretKey, SigningKey as _, VerifyingKey as _};
        let ours = DeviceKey::from_seed([7; 32]);
        let theirs = SecretKey::from_bytes(&AlgorithmName::Ed25519, &[7; 32]).unwrap();
        let data = b"\"@method\": POST\n\"@signature-params\": ();created=1";
        let signature = ours.sign(data).unwrap();
        // httpsig's own key for the same seed accepts our signature, and only for these bytes.
        assert!(theirs.public_key().verify(data, &signature).is_ok());
        assert!(theirs.public_key().verify(b"other", &signature).is_err());
        assert_eq!(
            httpsig_hyper::prelude::SigningKey::key_id(&ours),
            httpsig_hyper::prelude::SigningKey::key_id(&theirs)
        );
        assert_eq!(ours.seed(), &[7; 32]);
    }

    #[tokio::test]
    async fn signed_requests_carry_signature_and_digest() {
        let client = Client::new(
            "http://127.0.0.1:9",
            DeviceKey::from_seed([1; 32]),
            Some("k1".into()),
        );
        let Ok(client) = client else { unreachable!() };
        let req = client
            .signed(
                http::Method::POST,
                "/v1/flows",
                Some(b"{}".to_vec()),
                &SignOptions::default(),
            )
            .await;
        let Ok(req) = req else {
            panic!("{:?}", req.err())
        };
        let h = req.headers();
        let input = h
            .get("signature-input")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        assert!(
            input.contains("\"@method\" \"@target-uri\" \"content-digest\""),
            "{input}"
        );
        assert!(
            input.contains("keyid=\"k1\"") && input.contains("nonce="),
            "{input}"
        );
        assert!(h.get("content-digest").is_some());
        assert!(h.get("signature").is_some());
    }
}
