#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]
//! Writeback to real directories: a real OpenLDAP slapd with ppolicy and a real Samba AD
//! DC (each started once for this test binary, on loopback), and a local replay of
//! Microsoft Graph. The server binary talks to them exactly as in production.

mod ad;
mod entra;
mod ldap;
mod linked;

use sspr_tests::sspr_client::{Client, ClientError};
use sspr_tests::sspr_proto::{DoneView, ErrorBody, FlowView, Intent, MethodKind, StartFlowRequest};
use sspr_tests::{Options, TestServer};

/// A fresh name for this test's people, so tests sharing one directory don't meet.
pub fn unique(prefix: &str) -> String {
    format!("{prefix}{}", rand::random::<u32>() % 1_000_000)
}

pub async fn server_with(directory_toml: &str) -> TestServer {
    TestServer::start_with(Options {
        extra_config: directory_toml.to_string(),
        real_directory: true,
        ..Options::default()
    })
    .await
    .expect("server")
}

pub fn start(login: &str, intent: Intent) -> StartFlowRequest {
    StartFlowRequest {
        login: login.to_string(),
        intent,
        locale: None,
    }
}

#[track_caller]
pub fn error_of<T: std::fmt::Debug>(r: Result<T, ClientError>) -> ErrorBody {
    match r {
        Ok(v) => panic!("expected an error, got {v:?}"),
        Err(ClientError::Api { body, .. }) => body,
        Err(e) => panic!("not an API error: {e}"),
    }
}

/// Registers an alternate email for `login` and walks identify → email code → verified.
pub async fn verified_flow(
    server: &TestServer,
    kiosk: &Client,
    login: &str,
    intent: Intent,
) -> FlowView {
    let local = login.split('@').next().unwrap_or(login);
    let alt = format!("{local}@home.example.net");
    server
        .register(&format!(
            "[[person]]\nlogin = \"{login}\"\nemail = \"{alt}\"\n"
        ))
        .expect("register");
    let flow = kiosk.start_flow(&start(login, intent)).await.expect("flow");
    verify_email(server, kiosk, &flow, &alt).await
}

pub async fn verify_email(
    server: &TestServer,
    kiosk: &Client,
    flow: &FlowView,
    to: &str,
) -> FlowView {
    let method = flow
        .methods
        .iter()
        .find(|m| m.kind == MethodKind::Email)
        .map(|m| m.id.clone())
        .unwrap_or_else(|| panic!("no email method in {flow:?}"));
    let seen = server.code_mails_to(to).len();
    let ch = kiosk
        .challenge(&flow.flow_id, &method)
        .await
        .expect("email challenge");
    let code = server.code_mail(to, seen).await.expect("code mail");
    kiosk
        .verify(&flow.flow_id, &ch.challenge_id, &code)
        .await
        .expect("email code accepted")
}

/// A disabled person gets a flow shaped like an unknown login's, and the audit says why.
pub async fn assert_disabled_looks_unknown(server: &TestServer, kiosk: &Client, login: &str) {
    let disabled = kiosk
        .start_flow(&start(login, Intent::Reset))
        .await
        .expect("flow");
    let unknown = kiosk
        .start_flow(&start("nobody-here-at-all", Intent::Reset))
        .await
        .expect("flow");
    assert_eq!(disabled.methods.len(), unknown.methods.len());
    assert_eq!(disabled.required, unknown.required);
    assert_eq!(disabled.state, unknown.state);
    let started = events(server, "flow_started");
    assert!(
        started.iter().any(|e| e["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("disabled")),
        "{started:?}"
    );
}

pub fn all_ok(done: &DoneView) -> bool {
    !done.directories.is_empty() && done.directories.iter().all(|d| d.ok)
}

/// The audit events of one kind.
pub fn events(server: &TestServer, name: &str) -> Vec<serde_json::Value> {
    server
        .audit(&[])
        .expect("audit")
        .into_iter()
        .filter(|e| e["event"] == name)
        .collect()
}

pub async fn readyz(server: &TestServer) -> (u16, serde_json::Value) {
    let r = reqwest::get(format!("{}/readyz", server.base))
        .await
        .expect("readyz");
    let status = r.status().as_u16();
    (status, r.json().await.expect("readyz json"))
}

/// "My security info" signs in with the directory's own password, and a login the
/// directory doesn't hold (a bind as an entry that can't exist) answers as a wrong
/// password does, not "unavailable", and is counted and blocked the same way. One wrong
/// guess only for the real person: they are real binds, and both test directories lock an
/// account after 3.
pub async fn my_sign_in_answers_alike(
    server: &TestServer,
    login: &str,
    password: &str,
    nobody: &str,
) {
    use sspr_tests::phone::Phone;
    use sspr_tests::sspr_proto::ErrorCode;
    let mut phone = Phone::new(server).expect("phone");
    let wrong = phone
        .sign_in(login, "not my password")
        .await
        .expect("wrong");
    assert_eq!(wrong.error().code, ErrorCode::Unauthorized, "{wrong:?}");
    let right = phone.sign_in(login, password).await.expect("right");
    let session: sspr_tests::sspr_proto::MySession = right.into();
    assert!(
        session.signed_in,
        "nothing registered yet: the password is enough"
    );

    let mut stranger = Phone::new(server).expect("phone");
    for _ in 0..4 {
        let answer = stranger.sign_in(nobody, password).await.expect("decoy");
        assert_eq!(answer.error().code, ErrorCode::Unauthorized, "{answer:?}");
        assert_eq!(answer.error().message, wrong.error().message);
    }
    let fifth = stranger.sign_in(nobody, password).await.expect("fifth");
    assert_eq!(fifth.error().code, ErrorCode::Blocked, "{fifth:?}");
}
