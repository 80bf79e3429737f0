//! A phone, for the API tests: a browser-like HTTP client (with the "My security info"
//! session cookie) and a software passkey (webauthn-authenticator-rs's SoftPasskey, which
//! checks origins and relying party ids as a browser does and signs with a real key).

use serde::de::DeserializeOwned;
use serde_json::Value;
use sspr_proto::{ErrorBody, MySession};
use webauthn_authenticator_rs::prelude::{
    CreationChallengeResponse, RequestChallengeResponse, Url, WebauthnAuthenticator,
};
use webauthn_authenticator_rs::softpasskey::SoftPasskey;

use crate::TestServer;

pub struct Phone {
    http: reqwest::Client,
    pub base: String,
    origin: Url,
    passkey: SoftPasskey,
    cookie: Option<String>,
}

/// An answer: the status and the JSON body (an `ErrorBody` on failure).
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub body: Value,
}

// The typed accessors fail the calling test on an unexpected answer, as `expect` would.
#[allow(clippy::panic)]
impl Answer {
    pub fn ok(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// The body as `T`; panics (failing the test) with the answer when it isn't one.
    #[track_caller]
    pub fn into<T: DeserializeOwned>(self) -> T {
        assert!(self.ok(), "expected success, got {self:?}");
        match serde_json::from_value(self.body.clone()) {
            Ok(v) => v,
            Err(e) => panic!("unexpected body {:?}: {e}", self.body),
        }
    }

    #[track_caller]
    pub fn error(&self) -> ErrorBody {
        assert!(!self.ok(), "expected an error, got {self:?}");
        match serde_json::from_value(self.body.clone()) {
            Ok(v) => v,
            Err(e) => panic!("not an error body {:?}: {e}", self.body),
        }
    }
}

/// The token of an approval URL (`…/a/<token>`).
pub fn token_of(url: &str) -> String {
    url.rsplit('/').next().unwrap_or_default().to_string()
}

impl Phone {
    pub fn new(server: &TestServer) -> anyhow::Result<Phone> {
        Ok(Phone {
            http: reqwest::Client::builder()
                .timeout(std::time::Duration::from_secs(30))
                .build()?,
            base: server.phone_base.clone(),
            origin: Url::parse(&server.phone_base)?,
            // `true`: it claims user verification, as a phone's screen lock gives.
            passkey: SoftPasskey::new(true),
            cookie: None,
        })
    }

    /// The session cookie ("name=value"), as the browser holds it.
    pub fn cookie(&self) -> Option<&str> {
        self.cookie.as_deref()
    }

    /// Presents `cookie` ("name=value") from now on: a copy kept from before a sign-out.
    pub fn set_cookie(&mut self, cookie: &str) {
        self.cookie = Some(cookie.to_string());
    }

    pub async fn send(
        &mut self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> anyhow::Result<Answer> {
        self.send_with(method, path, body, &[]).await
    }

    /// `send` with more headers (the console's `X-CSRF-Token`).
    pub async fn send_with(
        &mut self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
        headers: &[(&str, &str)],
    ) -> anyhow::Result<Answer> {
        let mut request = self.http.request(method, format!("{}{}", self.base, path));
        for (k, v) in headers {
            request = request.header(*k, *v);
        }
        if let Some(cookie) = &self.cookie {
            request = request.header("cookie", cookie);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await?;
        if let Some(set) = response
            .headers()
            .get("set-cookie")
            .and_then(|v| v.to_str().ok())
        {
            let pair = set.split(';').next().unwrap_or_default().to_string();
            self.cookie = (!pair.ends_with('=')).then_some(pair);
        }
        let status = response.status().as_u16();
        let text = response.text().await?;
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        Ok(Answer { status, body })
    }

    pub async fn post(&mut self, path: &str, body: Value) -> anyhow::Result<Answer> {
        self.send(reqwest::Method::POST, path, Some(body)).await
    }

    /// The "My security info" session as the page reads it.
    pub async fn session(&mut self) -> anyhow::Result<Answer> {
        self.send(reqwest::Method::GET, "/v1/my/session", None)
            .await
    }

    /// Signs in to "My security info" with the directory password.
    pub async fn sign_in(&mut self, login: &str, password: &str) -> anyhow::Result<Answer> {
        self.post(
            "/v1/my/sign-in",
            serde_json::json!({ "login": login, "password": password }),
        )
        .await
    }

    /// Signs in to "My security info" with the password and the authenticator app's code
    /// (the second step once a method is registered), and registers this phone's passkey.
    pub async fn enroll(
        &mut self,
        login: &str,
        password: &str,
        totp_secret: &str,
        name: &str,
    ) -> anyhow::Result<MySession> {
        self.sign_in_with_totp(login, password, totp_secret).await?;
        self.register_passkey(name).await
    }

    /// Signs in to "My security info" with the password, then, when asked for a second
    /// step, the authenticator app's code.
    pub async fn sign_in_with_totp(
        &mut self,
        login: &str,
        password: &str,
        totp_secret: &str,
    ) -> anyhow::Result<MySession> {
        let mut session: MySession =
            serde_json::from_value(self.sign_in(login, password).await?.body)?;
        if !session.signed_in {
            let totp = session
                .second_factor
                .iter()
                .find(|m| m.kind == sspr_proto::MethodKind::Totp)
                .ok_or_else(|| anyhow::anyhow!("{login} has no authenticator app"))?
                .id
                .clone();
            self.post(
                "/v1/my/second-factor/start",
                serde_json::json!({ "method_id": totp }),
            )
            .await?;
            let done = self
                .post(
                    "/v1/my/second-factor/finish",
                    serde_json::json!({ "code": crate::totp_now(totp_secret) }),
                )
                .await?;
            anyhow::ensure!(done.ok(), "second step: {done:?}");
            session = serde_json::from_value(done.body)?;
        }
        Ok(session)
    }

    /// Registers this phone's passkey on the signed-in account.
    pub async fn register_passkey(&mut self, name: &str) -> anyhow::Result<MySession> {
        let options = self
            .post("/v1/my/passkeys/start", serde_json::json!({}))
            .await?;
        anyhow::ensure!(options.ok(), "passkey start: {options:?}");
        let credential = self.create(&options.body["options"])?;
        let done = self
            .post(
                "/v1/my/passkeys/finish",
                serde_json::json!({ "name": name, "credential": credential }),
            )
            .await?;
        anyhow::ensure!(done.ok(), "passkey finish: {done:?}");
        Ok(serde_json::from_value(done.body)?)
    }

    /// The passkey's answer to creation options, as JSON for the server.
    pub fn create(&mut self, options: &Value) -> anyhow::Result<Value> {
        let ccr: CreationChallengeResponse = serde_json::from_value(options.clone())?;
        let reg = self
            .passkey
            .do_registration(self.origin.clone(), ccr)
            .map_err(|e| anyhow::anyhow!("passkey registration: {e:?}"))?;
        Ok(serde_json::to_value(reg)?)
    }

    /// The passkey's assertion for request options, as JSON for the server.
    pub fn assert(&mut self, options: &Value) -> anyhow::Result<Value> {
        let rcr: RequestChallengeResponse = serde_json::from_value(options.clone())?;
        let cred = self
            .passkey
            .do_authentication(self.origin.clone(), rcr)
            .map_err(|e| anyhow::anyhow!("passkey assertion: {e:?}"))?;
        Ok(serde_json::to_value(cred)?)
    }

    /// Opens an approval URL: the page's first call.
    pub async fn open(&mut self, token: &str) -> anyhow::Result<Answer> {
        self.post("/v1/approval/open", serde_json::json!({ "token": token }))
            .await
    }

    /// Types the number; on success, the passkey request's options.
    pub async fn number(&mut self, token: &str, number: &str) -> anyhow::Result<Answer> {
        self.post(
            "/v1/approval/number",
            serde_json::json!({ "token": token, "number": number }),
        )
        .await
    }

    pub async fn finish(&mut self, token: &str, credential: &Value) -> anyhow::Result<Answer> {
        self.post(
            "/v1/approval/finish",
            serde_json::json!({ "token": token, "credential": credential }),
        )
        .await
    }
}
