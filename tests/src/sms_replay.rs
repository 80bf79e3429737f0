//! A local stand-in for two SMS providers' documented HTTP APIs: Twilio's Messages API
//! (`POST /2010-04-01/Accounts/{AccountSid}/Messages.json`, form fields, HTTP basic auth
//! with the Account SID and Auth Token, 201 with the message's `sid`) and Vonage's SMS API
//! (`POST /sms/json`, form fields with `api_key` and `api_secret`, 200 whose
//! `messages[0].status` is "0" when taken and another code, such as "4" for bad
//! credentials, when not). It keeps what it took so a test reads the code. No live
//! account is reachable here; this replays the documented contract, nothing more.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Form, Json, Router};
use base64::Engine as _;
use serde_json::json;

pub const TWILIO_SID: &str = "AC0123456789abcdef0123456789abcdef";
pub const TWILIO_TOKEN: &str = "twilio-replay-auth-token";
pub const VONAGE_KEY: &str = "vonage-key";
pub const VONAGE_SECRET: &str = "vonage-replay-secret";

/// A message a provider took: (provider, to, from, text).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Taken {
    pub provider: &'static str,
    pub to: String,
    pub from: String,
    pub text: String,
}

#[derive(Default)]
struct Log {
    taken: Vec<Taken>,
    /// Requests answered 500 from now on.
    failing: bool,
    /// Each call's SendDigits (the extension dialled), in order.
    digits: Vec<String>,
}

#[derive(Clone)]
pub struct SmsReplay {
    pub addr: SocketAddr,
    log: Arc<Mutex<Log>>,
    task: Arc<tokio::task::JoinHandle<()>>,
}

impl Drop for SmsReplay {
    fn drop(&mut self) {
        if Arc::strong_count(&self.task) == 1 {
            self.task.abort();
        }
    }
}

type Shared = State<Arc<Mutex<Log>>>;

async fn twilio(
    State(log): Shared,
    Path(sid): Path<String>,
    headers: HeaderMap,
    Form(form): Form<std::collections::HashMap<String, String>>,
) -> Response {
    if log.lock().map(|l| l.failing).unwrap_or(false) {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    }
    let expected = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{TWILIO_SID}:{TWILIO_TOKEN}"))
    );
    let auth = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if sid != TWILIO_SID || auth != expected {
        return (
            StatusCode::UNAUTHORIZED,
            Json(json!({"code": 20003, "message": "Authenticate", "more_info": "https://www.twilio.com/docs/errors/20003", "status": 401})),
        )
            .into_response();
    }
    let (Some(to), Some(from), Some(body)) = (form.get("To"), form.get("From"), form.get("Body"))
    else {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({"code": 21604, "message": "A 'To' phone number is required.", "status": 400})),
        )
            .into_response();
    };
    if let Ok(mut l) = log.lock() {
        l.taken.push(Taken {
            provider: "twilio",
            to: to.clone(),
            from: from.clone(),
            text: body.clone(),
        });
    }
    (
        StatusCode::CREATED,
        Json(json!({
            "account_sid": TWILIO_SID,
            "body": body,
            "from": from,
            "to": to,
            "sid": format!("SM{:032x}", rand::random::<u128>()),
            "status": "queued",
            "num_segments": "1",
            "direction": "outbound-api",
        })),
    )
        .into_response()
}

/// Twilio's Calls API: the call's TwiML arrives inline (`Twiml`), an extension as
/// `SendDigits`.
async fn twilio_call(
    State(log): Shared,
    Path(sid): Path<String>,
    headers: HeaderMap,
    Form(form): Form<std::collections::HashMap<String, String>>,
) -> Response {
    if log.lock().map(|l| l.failing).unwrap_or(false) {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    }
    let expected = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{TWILIO_SID}:{TWILIO_TOKEN}"))
    );
    let auth = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if sid != TWILIO_SID || auth != expected {
        return (
            StatusCode::UNAUTHORIZED,
            Json(json!({"code": 20003, "message": "Authenticate", "status": 401})),
        )
            .into_response();
    }
    let (Some(to), Some(from), Some(twiml)) = (form.get("To"), form.get("From"), form.get("Twiml"))
    else {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({"code": 21205, "message": "Url or Twiml parameter is required.", "status": 400})),
        )
            .into_response();
    };
    if let Ok(mut l) = log.lock() {
        l.taken.push(Taken {
            provider: "twilio-call",
            to: to.clone(),
            from: from.clone(),
            text: twiml.clone(),
        });
        l.digits
            .push(form.get("SendDigits").cloned().unwrap_or_default());
    }
    (
        StatusCode::CREATED,
        Json(json!({
            "account_sid": TWILIO_SID,
            "sid": format!("CA{:032x}", rand::random::<u128>()),
            "to": to,
            "from": from,
            "status": "queued",
            "direction": "outbound-api",
        })),
    )
        .into_response()
}

async fn vonage(
    State(log): Shared,
    Form(form): Form<std::collections::HashMap<String, String>>,
) -> Response {
    if log.lock().map(|l| l.failing).unwrap_or(false) {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    }
    let get = |k: &str| form.get(k).cloned().unwrap_or_default();
    if get("api_key") != VONAGE_KEY || get("api_secret") != VONAGE_SECRET {
        return Json(json!({"message-count": "1", "messages": [
            {"status": "4", "error-text": "Bad Credentials"}]}))
        .into_response();
    }
    if let Ok(mut l) = log.lock() {
        l.taken.push(Taken {
            provider: "vonage",
            to: get("to"),
            from: get("from"),
            text: get("text"),
        });
    }
    Json(json!({"message-count": "1", "messages": [{
        "to": get("to"),
        "message-id": format!("{:032x}", rand::random::<u128>()),
        "status": "0",
        "remaining-balance": "3.14159265",
        "message-price": "0.03330000",
        "network": "26201",
        "client-ref": get("client-ref"),
    }]}))
    .into_response()
}

impl SmsReplay {
    pub async fn start() -> anyhow::Result<SmsReplay> {
        let log: Arc<Mutex<Log>> = Arc::default();
        let app = Router::new()
            .route("/2010-04-01/Accounts/{sid}/Messages.json", post(twilio))
            .route("/2010-04-01/Accounts/{sid}/Calls.json", post(twilio_call))
            .route("/sms/json", post(vonage))
            .with_state(log.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(SmsReplay {
            addr,
            log,
            task: Arc::new(task),
        })
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn taken(&self) -> Vec<Taken> {
        self.log.lock().map(|l| l.taken.clone()).unwrap_or_default()
    }

    /// Each call's SendDigits, in order.
    pub fn digits(&self) -> Vec<String> {
        self.log
            .lock()
            .map(|l| l.digits.clone())
            .unwrap_or_default()
    }

    /// `[[voice.provider]]` with Twilio's preset against this replay.
    pub fn voice_provider_toml(&self) -> String {
        format!(
            "[[voice.provider]]\nname = \"twilio\"\nkind = \"http\"\npreset = \"twilio\"\nurl = \"{}\"\nusername = \"{TWILIO_SID}\"\npassword = \"{TWILIO_TOKEN}\"\n",
            self.url()
        )
    }

    /// Every request answered 500 from now on (or not).
    pub fn fail(&self, failing: bool) {
        if let Ok(mut l) = self.log.lock() {
            l.failing = failing;
        }
    }

    /// `[[sms.provider]]` with a preset against this replay; `secret` as given.
    pub fn provider_toml(&self, preset: &str, secret: &str) -> String {
        let user = if preset == "twilio" {
            TWILIO_SID
        } else {
            VONAGE_KEY
        };
        format!(
            "[[sms.provider]]\nname = \"{preset}\"\nkind = \"http\"\npreset = \"{preset}\"\nurl = \"{}\"\nusername = \"{user}\"\npassword = \"{secret}\"\n",
            self.url()
        )
    }
}
