#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]
//! Black-box tests of the real server binary over HTTP, with a real SMTP listener and real
//! TOTP. One binary; each module is one concern.

mod approval;
mod bad_input;
mod calls;
mod console;
mod contract;
mod decoys;
mod faults;
mod flows;
mod metrics;
mod policy;
mod postgres;
mod processes;
mod questions;
mod secrets;
mod security_info;
mod signatures;
mod sms;
mod staging;
mod store;
mod throttles;

use sspr_tests::sspr_client::{Client, ClientError};
use sspr_tests::sspr_proto::{ErrorCode, FlowView, Intent, MethodKind, StartFlowRequest};
use sspr_tests::TestServer;

pub fn start(login: &str, intent: Intent) -> StartFlowRequest {
    StartFlowRequest {
        login: login.to_string(),
        intent,
        locale: None,
    }
}

/// The error code of a failed call; fails the test when the call succeeded.
#[track_caller]
pub fn code_of<T: std::fmt::Debug>(r: Result<T, ClientError>) -> ErrorCode {
    match r {
        Ok(v) => panic!("expected an error, got {v:?}"),
        Err(e) => e.code().unwrap_or_else(|| panic!("not an API error: {e}")),
    }
}

pub fn method(flow: &FlowView, kind: MethodKind) -> String {
    flow.methods
        .iter()
        .find(|m| m.kind == kind)
        .map(|m| m.id.clone())
        .unwrap_or_else(|| panic!("no {kind:?} method in {flow:?}"))
}

/// Verifies the email method of a flow with the code from the delivered message.
pub async fn verify_email(
    server: &TestServer,
    kiosk: &Client,
    flow: &FlowView,
    to: &str,
) -> FlowView {
    let seen = server.code_mails_to(to).len();
    let ch = kiosk
        .challenge(&flow.flow_id, &method(flow, MethodKind::Email))
        .await
        .expect("email challenge");
    let code = server.code_mail(to, seen).await.expect("code mail");
    kiosk
        .verify(&flow.flow_id, &ch.challenge_id, &code)
        .await
        .expect("email code accepted")
}

/// Verifies the authenticator method with a fresh code (waiting for the next step if the
/// current one was used already by this test).
pub async fn verify_totp(kiosk: &Client, flow: &FlowView, secret: &str) -> FlowView {
    let ch = kiosk
        .challenge(&flow.flow_id, &method(flow, MethodKind::Totp))
        .await
        .expect("totp challenge");
    let code = sspr_tests::totp_now(secret);
    kiosk
        .verify(&flow.flow_id, &ch.challenge_id, &code)
        .await
        .expect("totp code accepted")
}

pub async fn db(server: &TestServer) -> sqlx::AnyPool {
    server.db().await.expect("open store")
}

pub async fn directory_password_is(server: &TestServer, username: &str, password: &str) -> bool {
    server
        .password_is(username, password)
        .await
        .expect("read directory")
}

pub async fn is_locked(server: &TestServer, username: &str) -> bool {
    server.is_locked(username).await.expect("read directory")
}

/// Counts of every table, to show that bad input changed nothing.
pub async fn table_counts(server: &TestServer) -> Vec<(String, i64)> {
    let pool = db(server).await;
    let mut out = Vec::new();
    for t in [
        "flows",
        "challenges",
        "throttle_events",
        "blocks",
        "registrations",
        "dir_users",
        "totp_used",
    ] {
        let n: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {t}"))
            .fetch_one(&pool)
            .await
            .expect("count");
        out.push((t.to_string(), n));
    }
    out
}
