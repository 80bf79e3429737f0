//! A local stand-in for Microsoft Graph and the Entra ID token endpoint: it answers the
//! requests the server makes with the shapes Microsoft documents (client-credentials
//! token, `GET /v1.0/users?$filter=`, `transitiveMemberOf`, `transitiveMembers`,
//! `authentication/phoneMethods`, `PATCH /v1.0/users/{id}` with a `passwordProfile`, and
//! Graph's error bodies), and keeps
//! what was set so a test can check it. No live tenant is reachable here; this replays the
//! documented contract, nothing more.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use serde_json::{json, Value};

pub const TENANT: &str = "00000000-0000-4000-8000-00000000feed";
pub const CLIENT_ID: &str = "11111111-2222-4333-8444-555555555555";
pub const CLIENT_SECRET: &str = "graph-replay-client-secret";

/// A cloud account.
#[derive(Clone, Debug)]
pub struct GraphUser {
    pub id: String,
    pub upn: String,
    pub mail: Option<String>,
    pub given_name: String,
    pub surname: String,
    pub enabled: bool,
    pub groups: Vec<String>,
    /// An account the app may not reset (a privileged administrator): Graph answers 403.
    pub protected: bool,
    /// Authentication phones as (phoneType, phoneNumber): "mobile", "alternateMobile" or
    /// "office"; "+{country code} {number}x{extension}", the extension optional.
    pub phones: Vec<(String, String)>,
}

#[derive(Default)]
struct Tenant {
    users: Vec<GraphUser>,
    passwords: HashMap<String, String>,
    tokens: Vec<String>,
    requests: Vec<String>,
    down: bool,
    /// The app lacks the permission to read authentication phones: Graph answers 403.
    phones_denied: bool,
    /// The app's registered certificate: its public key (PEM) and base64url SHA-1 and
    /// SHA-256 thumbprints (`x5t`, `x5t#S256`), both as the `openssl` CLI reads them (not as the server does).
    certificate: Option<(Vec<u8>, String, String)>,
    /// Where the replay listens (the assertion's audience names its token endpoint).
    addr: Option<SocketAddr>,
}

#[derive(Clone)]
pub struct GraphReplay {
    pub addr: SocketAddr,
    tenant: Arc<Mutex<Tenant>>,
    task: Arc<tokio::task::JoinHandle<()>>,
}

impl Drop for GraphReplay {
    fn drop(&mut self) {
        if Arc::strong_count(&self.task) == 1 {
            self.task.abort();
        }
    }
}

impl GraphReplay {
    /// Starts on a free loopback port, on the current tokio runtime.
    pub async fn start(users: Vec<GraphUser>) -> anyhow::Result<GraphReplay> {
        let tenant = Arc::new(Mutex::new(Tenant {
            users,
            ..Tenant::default()
        }));
        let app = Router::new()
            .route("/{tenant}/oauth2/v2.0/token", post(token))
            .route("/v1.0/users", get(list_users))
            .route("/v1.0/users/{id}", axum::routing::patch(patch_user))
            .route(
                "/v1.0/users/{id}/transitiveMemberOf/microsoft.graph.group",
                get(member_of),
            )
            .route(
                "/v1.0/users/{id}/authentication/phoneMethods",
                get(phone_methods),
            )
            .route("/v1.0/groups", get(list_groups))
            .route(
                "/v1.0/groups/{id}/transitiveMembers/microsoft.graph.user",
                get(group_members),
            )
            .with_state(tenant.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        lock(&tenant).addr = Some(addr);
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(GraphReplay {
            addr,
            tenant,
            task: Arc::new(task),
        })
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The password last set for a user id, if any.
    pub fn password_of(&self, id: &str) -> Option<String> {
        self.lock().passwords.get(id).cloned()
    }

    /// "METHOD path" of every request so far.
    pub fn requests(&self) -> Vec<String> {
        self.lock().requests.clone()
    }

    /// Registers `cert` (PEM) as the app's certificate: token requests may then sign in
    /// with a client assertion made with its key, as Entra ID takes them.
    pub fn register_certificate(&self, cert: &std::path::Path) -> anyhow::Result<()> {
        let public_key = openssl_cli(&["x509", "-noout", "-pubkey", "-in"], cert)?;
        let thumbprint = |digest: &str, len: usize| -> anyhow::Result<String> {
            let fingerprint = String::from_utf8(openssl_cli(
                &["x509", "-noout", "-fingerprint", digest, "-in"],
                cert,
            )?)?;
            // "sha256 Fingerprint=AB:CD:..." → the bytes → base64url.
            let hex: String = fingerprint
                .split('=')
                .nth(1)
                .unwrap_or_default()
                .trim()
                .replace(':', "");
            let bytes = (0..hex.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(&hex[i..i + 2], 16))
                .collect::<Result<Vec<u8>, _>>()?;
            anyhow::ensure!(bytes.len() == len, "unexpected fingerprint {fingerprint:?}");
            use base64::Engine as _;
            Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
        };
        self.lock().certificate = Some((
            public_key,
            thumbprint("-sha1", 20)?,
            thumbprint("-sha256", 32)?,
        ));
        Ok(())
    }

    /// Without the permission to read authentication phones (`UserAuthMethod-Phone.Read.All`),
    /// `phoneMethods` answers 403 as Graph does.
    pub fn deny_phone_methods(&self, denied: bool) {
        self.lock().phones_denied = denied;
    }

    /// While down, every Graph call answers 503.
    pub fn set_down(&self, down: bool) {
        self.lock().down = down;
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Tenant> {
        self.tenant.lock().unwrap_or_else(|e| e.into_inner())
    }
}

type Shared = State<Arc<Mutex<Tenant>>>;

fn lock(t: &Arc<Mutex<Tenant>>) -> std::sync::MutexGuard<'_, Tenant> {
    t.lock().unwrap_or_else(|e| e.into_inner())
}

fn graph_error(status: StatusCode, code: &str, message: &str) -> Response {
    (
        status,
        Json(json!({ "error": { "code": code, "message": message,
            "innerError": { "date": "2026-11-23T00:00:00", "request-id": "replay" } } })),
    )
        .into_response()
}

/// Checks the bearer token and records the request; Err is the answer to send.
fn authorize(
    t: &Arc<Mutex<Tenant>>,
    headers: &HeaderMap,
    what: String,
) -> Result<(), Box<Response>> {
    let mut t = lock(t);
    t.requests.push(what);
    if t.down {
        return Err(Box::new(graph_error(
            StatusCode::SERVICE_UNAVAILABLE,
            "serviceNotAvailable",
            "Service unavailable.",
        )));
    }
    let token = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default();
    if !t.tokens.iter().any(|k| k == token) {
        return Err(Box::new(graph_error(
            StatusCode::UNAUTHORIZED,
            "InvalidAuthenticationToken",
            "Access token validation failure. Invalid audience.",
        )));
    }
    Ok(())
}

async fn token(
    State(t): Shared,
    Path(tenant): Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let field = |k: &str| form.get(k).map(String::as_str).unwrap_or_default();
    let app = tenant == TENANT
        && field("grant_type") == "client_credentials"
        && field("client_id") == CLIENT_ID
        && field("scope") == "https://graph.microsoft.com/.default";
    lock(&t).requests.push("POST token".into());
    if form.contains_key("client_assertion") {
        if let Err(why) = check_assertion(&t, &tenant, &form) {
            return (
                StatusCode::UNAUTHORIZED,
                Json(json!({
                    "error": "invalid_client",
                    "error_description": format!("AADSTS700027: Client assertion failed signature validation. {why}"),
                    "error_codes": [700027],
                })),
            )
                .into_response();
        }
    }
    let ok =
        app && (field("client_secret") == CLIENT_SECRET || form.contains_key("client_assertion"));
    if !ok {
        return (
            StatusCode::UNAUTHORIZED,
            Json(json!({
                "error": "invalid_client",
                "error_description": "AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID.",
                "error_codes": [7000215],
            })),
        )
            .into_response();
    }
    let token = format!("replay-token-{}", rand::random::<u64>());
    lock(&t).tokens.push(token.clone());
    Json(json!({ "token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599, "access_token": token }))
        .into_response()
}

fn user_json(u: &GraphUser) -> Value {
    json!({
        "id": u.id,
        "userPrincipalName": u.upn,
        "mail": u.mail,
        "displayName": format!("{} {}", u.given_name, u.surname),
        "givenName": u.given_name,
        "surname": u.surname,
        "accountEnabled": u.enabled,
        "mobilePhone": null,
    })
}

/// The quoted values of `a eq 'x' or b eq 'y'`, with '' read as '.
fn quoted_values(filter: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut chars = filter.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\'' {
            continue;
        }
        let mut value = String::new();
        while let Some(c) = chars.next() {
            if c == '\'' {
                if chars.peek() == Some(&'\'') {
                    chars.next();
                    value.push('\'');
                } else {
                    break;
                }
            } else {
                value.push(c);
            }
        }
        out.push(value);
    }
    out
}

async fn list_users(
    State(t): Shared,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let filter = q.get("$filter").cloned().unwrap_or_default();
    if let Err(r) = authorize(&t, &headers, format!("GET /v1.0/users {filter}")) {
        return *r;
    }
    let t = lock(&t);
    let values = quoted_values(&filter);
    let users: Vec<Value> = t
        .users
        .iter()
        .filter(|u| {
            filter.is_empty()
                || values.iter().any(|v| {
                    v.eq_ignore_ascii_case(&u.upn)
                        || u.mail.as_deref().is_some_and(|m| m.eq_ignore_ascii_case(v))
                })
        })
        .map(user_json)
        .collect();
    Json(json!({
        "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#users",
        "value": users,
    }))
    .into_response()
}

fn group_id(name: &str) -> String {
    format!("group-{}", name.to_ascii_lowercase().replace(' ', "-"))
}

async fn member_of(State(t): Shared, headers: HeaderMap, Path(id): Path<String>) -> Response {
    if let Err(r) = authorize(
        &t,
        &headers,
        format!("GET /v1.0/users/{id}/transitiveMemberOf"),
    ) {
        return *r;
    }
    let t = lock(&t);
    let Some(u) = t.users.iter().find(|u| u.id == id) else {
        return graph_error(
            StatusCode::NOT_FOUND,
            "Request_ResourceNotFound",
            &format!("Resource '{id}' does not exist or one of its queried reference-property objects are not present."),
        );
    };
    let groups: Vec<Value> = u
        .groups
        .iter()
        .map(|g| json!({ "@odata.type": "#microsoft.graph.group", "id": group_id(g), "displayName": g }))
        .collect();
    Json(json!({ "value": groups })).into_response()
}

/// `GET /users/{id}/authentication/phoneMethods`: up to three phones, each with the id
/// Graph gives its type.
async fn phone_methods(State(t): Shared, headers: HeaderMap, Path(id): Path<String>) -> Response {
    if let Err(r) = authorize(
        &t,
        &headers,
        format!("GET /v1.0/users/{id}/authentication/phoneMethods"),
    ) {
        return *r;
    }
    let t = lock(&t);
    if t.phones_denied {
        return graph_error(
            StatusCode::FORBIDDEN,
            "Authorization_RequestDenied",
            "Insufficient privileges to complete the operation.",
        );
    }
    let Some(u) = t.users.iter().find(|u| u.id == id) else {
        return graph_error(
            StatusCode::NOT_FOUND,
            "Request_ResourceNotFound",
            &format!("Resource '{id}' does not exist or one of its queried reference-property objects are not present."),
        );
    };
    let phones: Vec<Value> = u
        .phones
        .iter()
        .map(|(kind, number)| {
            let (method_id, sms_sign_in) = match kind.as_str() {
                "mobile" => ("3179e48a-750b-4051-897c-87b9720928f7", "notEnabled"),
                "alternateMobile" => ("b6332ec1-7057-4abe-9331-3d72feddfe41", "notSupported"),
                _ => ("e37fc753-ff3b-4958-9484-eaa9425c82bc", "notSupported"),
            };
            json!({
                "id": method_id,
                "phoneNumber": number,
                "phoneType": kind,
                "smsSignInState": sms_sign_in,
            })
        })
        .collect();
    Json(json!({
        "@odata.context": format!("https://graph.microsoft.com/v1.0/$metadata#users('{id}')/authentication/phoneMethods"),
        "value": phones,
    }))
    .into_response()
}

async fn list_groups(
    State(t): Shared,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let filter = q.get("$filter").cloned().unwrap_or_default();
    if let Err(r) = authorize(&t, &headers, format!("GET /v1.0/groups {filter}")) {
        return *r;
    }
    let t = lock(&t);
    let wanted = quoted_values(&filter);
    let mut names: Vec<&String> = t.users.iter().flat_map(|u| &u.groups).collect();
    names.sort();
    names.dedup();
    let groups: Vec<Value> = names
        .into_iter()
        .filter(|n| wanted.iter().any(|w| w == *n))
        .map(|n| json!({ "id": group_id(n), "displayName": n }))
        .collect();
    Json(json!({ "value": groups })).into_response()
}

async fn group_members(State(t): Shared, headers: HeaderMap, Path(id): Path<String>) -> Response {
    if let Err(r) = authorize(
        &t,
        &headers,
        format!("GET /v1.0/groups/{id}/transitiveMembers"),
    ) {
        return *r;
    }
    let t = lock(&t);
    let users: Vec<Value> = t
        .users
        .iter()
        .filter(|u| u.groups.iter().any(|g| group_id(g) == id))
        .map(user_json)
        .collect();
    Json(json!({ "value": users })).into_response()
}

/// Entra ID's rule for cloud passwords: 8 to 256 characters, three of four kinds.
fn complex_enough(p: &str) -> bool {
    let kinds = [
        p.chars().any(|c| c.is_ascii_uppercase()),
        p.chars().any(|c| c.is_ascii_lowercase()),
        p.chars().any(|c| c.is_ascii_digit()),
        p.chars().any(|c| !c.is_ascii_alphanumeric()),
    ];
    let n = p.chars().count();
    (8..=256).contains(&n) && kinds.iter().filter(|k| **k).count() >= 3
}

async fn patch_user(
    State(t): Shared,
    headers: HeaderMap,
    Path(id): Path<String>,
    Json(body): Json<Value>,
) -> Response {
    if let Err(r) = authorize(&t, &headers, format!("PATCH /v1.0/users/{id}")) {
        return *r;
    }
    let mut t = lock(&t);
    let Some(u) = t.users.iter().find(|u| u.id == id).cloned() else {
        return graph_error(
            StatusCode::NOT_FOUND,
            "Request_ResourceNotFound",
            &format!("Resource '{id}' does not exist or one of its queried reference-property objects are not present."),
        );
    };
    let profile = &body["passwordProfile"];
    let Some(password) = profile["password"].as_str() else {
        return graph_error(
            StatusCode::BAD_REQUEST,
            "Request_BadRequest",
            "Invalid value specified for property 'passwordProfile' of resource 'User'.",
        );
    };
    if u.protected {
        return graph_error(
            StatusCode::FORBIDDEN,
            "Authorization_RequestDenied",
            "Insufficient privileges to complete the operation.",
        );
    }
    if !complex_enough(password) {
        return graph_error(
            StatusCode::BAD_REQUEST,
            "Request_BadRequest",
            "The specified password does not comply with password complexity requirements. Please provide a different password.",
        );
    }
    t.passwords.insert(id, password.to_string());
    StatusCode::NO_CONTENT.into_response()
}

/// A client assertion as Entra ID checks it: a JWT of the `jwt-bearer` type, PS256 or
/// RS256, whose thumbprints (`x5t`, `x5t#S256`) name the registered certificate, signed with its key, for this
/// token endpoint, from and about the app, not expired.
fn check_assertion(
    t: &Arc<Mutex<Tenant>>,
    tenant: &str,
    form: &HashMap<String, String>,
) -> Result<(), String> {
    use jsonwebtoken::{Algorithm, DecodingKey, Validation};
    let (registered, addr) = {
        let t = lock(t);
        (t.certificate.clone(), t.addr)
    };
    let (public_key, sha1, sha256) = registered.ok_or("no certificate is registered")?;
    if form.get("client_assertion_type").map(String::as_str)
        != Some("urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
    {
        return Err("wrong client_assertion_type".into());
    }
    let assertion = form
        .get("client_assertion")
        .map(String::as_str)
        .unwrap_or_default();
    let header = jsonwebtoken::decode_header(assertion).map_err(|e| e.to_string())?;
    // Entra ID takes either thumbprint; both must name the certificate when both are sent.
    let named = [(&header.x5t, &sha1), (&header.x5t_s256, &sha256)];
    if named.iter().all(|(sent, _)| sent.is_none())
        || named
            .iter()
            .any(|(sent, ours)| sent.as_ref().is_some_and(|s| s != *ours))
    {
        return Err("the certificate is not registered for this app".into());
    }
    let audience = format!(
        "http://{}/{tenant}/oauth2/v2.0/token",
        addr.map(|a| a.to_string()).unwrap_or_default()
    );
    let mut validation = Validation::new(Algorithm::PS256);
    validation.algorithms = vec![Algorithm::PS256, Algorithm::RS256];
    validation.set_audience(&[audience]);
    validation.set_issuer(&[CLIENT_ID]);
    validation.sub = Some(CLIENT_ID.to_string());
    validation.set_required_spec_claims(&["exp", "nbf", "aud", "iss", "sub"]);
    validation.validate_nbf = true;
    let key = DecodingKey::from_rsa_pem(&public_key).map_err(|e| e.to_string())?;
    jsonwebtoken::decode::<Value>(assertion, &key, &validation)
        .map(|_| ())
        .map_err(|e| e.to_string())
}

/// Runs `openssl ARGS FILE` and returns what it printed.
fn openssl_cli(args: &[&str], file: &std::path::Path) -> anyhow::Result<Vec<u8>> {
    let out = std::process::Command::new("openssl")
        .args(args)
        .arg(file)
        .output()?;
    anyhow::ensure!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(out.stdout)
}

/// A new RSA key and self-signed certificate for the app registration, in `dir`:
/// (certificate, key).
pub fn app_certificate(
    dir: &std::path::Path,
    name: &str,
) -> anyhow::Result<(std::path::PathBuf, std::path::PathBuf)> {
    let cert = dir.join(format!("{name}.crt"));
    let key = dir.join(format!("{name}.key"));
    let out = std::process::Command::new("openssl")
        .args([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
        ])
        .args(["-subj", &format!("/CN={name}")])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()?;
    anyhow::ensure!(
        out.status.success(),
        "openssl req: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Ok((cert, key))
}
