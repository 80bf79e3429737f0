//! Bad input gets a clear `{code, message}` with the right status, and changes nothing.

use http::Method;
use sspr_tests::sspr_client::{Client, SignOptions};
use sspr_tests::sspr_proto::{ErrorBody, ErrorCode, Intent, PasswordReasonCode};
use sspr_tests::TestServer;

use super::*;

async fn send(
    kiosk: &Client,
    method: Method,
    path: &str,
    body: Option<Vec<u8>>,
) -> (u16, ErrorBody) {
    let req = kiosk
        .signed(method, path, body, &SignOptions::default())
        .await
        .expect("sign");
    let response = kiosk.execute(req).await.expect("send");
    let status = response.status().as_u16();
    let body: ErrorBody = response.json().await.expect("an error body");
    assert!(!body.message.is_empty());
    (status, body)
}

#[tokio::test]
async fn malformed_oversized_and_mistyped_requests_change_nothing() {
    let server = TestServer::start().await.expect("server");
    let kiosk = server.kiosk().await.expect("kiosk");
    let flow = kiosk
        .start_flow(&start("ada", Intent::Reset))
        .await
        .expect("flow");
    let before = table_counts(&server).await;

    let cases: Vec<(&str, Vec<u8>, u16, ErrorCode)> = vec![
        (
            "malformed JSON",
            b"{\"login\": \"ada\", ".to_vec(),
            400,
            ErrorCode::BadRequest,
        ),
        (
            "wrong type",
            br#"{"login": 42, "intent": "reset"}"#.to_vec(),
            400,
            ErrorCode::BadRequest,
        ),
        (
            "unknown intent",
            br#"{"login": "ada", "intent": "delete"}"#.to_vec(),
            400,
            ErrorCode::BadRequest,
        ),
        (
            "missing field",
            br#"{"intent": "reset"}"#.to_vec(),
            400,
            ErrorCode::BadRequest,
        ),
        (
            "control characters",
            br#"{"login": "ada\u0000\u0007", "intent": "reset"}"#.to_vec(),
            400,
            ErrorCode::BadRequest,
        ),
        (
            "empty login",
            br#"{"login": "   ", "intent": "reset"}"#.to_vec(),
            400,
            ErrorCode::BadRequest,
        ),
        (
            "long login",
            format!(r#"{{"login": "{}", "intent": "reset"}}"#, "a".repeat(5000)).into_bytes(),
            400,
            ErrorCode::BadRequest,
        ),
        (
            "1 MB login",
            format!(
                r#"{{"login": "{}", "intent": "reset"}}"#,
                "a".repeat(1 << 20)
            )
            .into_bytes(),
            413,
            ErrorCode::PayloadTooLarge,
        ),
        (
            "bad locale",
            br#"{"login": "ada", "intent": "reset", "locale": "<script>"}"#.to_vec(),
            400,
            ErrorCode::BadRequest,
        ),
    ];
    for (what, body, status, code) in cases {
        let (s, b) = send(&kiosk, Method::POST, "/v1/flows", Some(body)).await;
        assert_eq!((s, b.code), (status, code), "{what}: {}", b.message);
    }
    let (s, b) = send(
        &kiosk,
        Method::POST,
        "/v1/flows",
        Some(br#"{"login": 42, "intent": "reset"}"#.to_vec()),
    )
    .await;
    assert_eq!(s, 400);
    assert!(
        b.message.contains("login") && !b.message.contains("42"),
        "{}",
        b.message
    );

    // Unknown flow and challenge ids, and ids that are not ids at all.
    let (s, b) = send(
        &kiosk,
        Method::POST,
        "/v1/flows/0123456789abcdef0123456789abcdef/challenges",
        Some(br#"{"method_id":"email-1"}"#.to_vec()),
    )
    .await;
    assert_eq!((s, b.code), (404, ErrorCode::NotFound));
    let (s, b) = send(
        &kiosk,
        Method::POST,
        "/v1/flows/..%2F..%2Fetc/challenges",
        Some(br#"{"method_id":"email-1"}"#.to_vec()),
    )
    .await;
    assert_eq!((s, b.code), (404, ErrorCode::NotFound));
    let path = format!(
        "/v1/flows/{}/challenges/0123456789abcdef0123456789abcdef/verify",
        flow.flow_id
    );
    let (s, b) = send(
        &kiosk,
        Method::POST,
        &path,
        Some(br#"{"code":"123456"}"#.to_vec()),
    )
    .await;
    assert_eq!((s, b.code), (404, ErrorCode::NotFound));
    let path = format!("/v1/flows/{}/challenges", flow.flow_id);
    let (s, b) = send(
        &kiosk,
        Method::POST,
        &path,
        Some(br#"{"method_id":"sms-9"}"#.to_vec()),
    )
    .await;
    assert_eq!((s, b.code), (400, ErrorCode::MethodUnavailable));
    let (s, b) = send(&kiosk, Method::GET, "/v1/nothing-here", None).await;
    assert_eq!((s, b.code), (404, ErrorCode::NotFound));
    let (s, _) = send(&kiosk, Method::GET, "/v1/flows", None).await;
    assert_eq!(s, 405);

    assert_eq!(
        table_counts(&server).await,
        before,
        "bad input changed the store"
    );
}

#[tokio::test]
async fn a_ten_thousand_character_password_is_refused_with_a_reason() {
    let server = TestServer::start().await.expect("server");
    let kiosk = server.kiosk().await.expect("kiosk");
    let flow = kiosk
        .start_flow(&start("ada", Intent::Reset))
        .await
        .expect("flow");
    let flow = verify_email(&server, &kiosk, &flow, "ada@home.example.net").await;
    let long = "x".repeat(10_000);
    let Err(sspr_tests::sspr_client::ClientError::Api { status, body }) =
        kiosk.set_password(&flow.flow_id, &long).await
    else {
        panic!("a 10,000 character password must be refused")
    };
    assert_eq!((status, body.code), (422, ErrorCode::PasswordRejected));
    assert_eq!(
        body.reasons.iter().map(|r| r.code).collect::<Vec<_>>(),
        vec![PasswordReasonCode::TooLong]
    );
    let check = kiosk
        .password_check(&flow.flow_id, &long)
        .await
        .expect("check");
    assert!(!check.acceptable);
    // Nothing was written; the flow is still open for a good one.
    assert!(!directory_password_is(&server, "ada", &long).await);
    kiosk
        .set_password(&flow.flow_id, "violet kettle under maple rain")
        .await
        .expect("a good password still works");
}

#[tokio::test]
async fn enrollment_rejects_bad_keys_and_codes_clearly() {
    let server = TestServer::start().await.expect("server");
    let http = reqwest::Client::new();
    let code = server.enrollment_code("Lobby").expect("code");
    for (body, status, code_expected) in [
        (
            format!(r#"{{"code":"{code}","public_key":"not-a-key"}}"#),
            400,
            ErrorCode::BadRequest,
        ),
        (r#"{"code":"x"}"#.to_string(), 400, ErrorCode::BadRequest),
        ("[]".to_string(), 400, ErrorCode::BadRequest),
    ] {
        let r = http
            .post(format!("{}/v1/kiosks/enroll", server.base))
            .header("content-type", "application/json")
            .body(body.clone())
            .send()
            .await
            .expect("send");
        assert_eq!(r.status().as_u16(), status, "{body}");
        let b: ErrorBody = r.json().await.expect("error body");
        assert_eq!(b.code, code_expected, "{body}");
    }
    // The code was not spent by the bad attempts.
    let mut kiosk = Client::new(
        &server.base,
        sspr_tests::sspr_client::DeviceKey::generate(),
        None,
    )
    .expect("client");
    kiosk.enroll(&code, None, None).await.expect("still valid");
}
