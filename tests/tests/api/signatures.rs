//! RFC 9421 request signatures: unsigned, badly signed, tampered, stale, replayed and
//! revoked-kiosk requests are refused before any handler runs.

use http::Method;
use sspr_tests::sspr_client::{Client, DeviceKey, SignOptions};
use sspr_tests::sspr_proto::{ErrorBody, ErrorCode};
use sspr_tests::TestServer;

async fn status_and_code(kiosk: &Client, request: reqwest::Request) -> (u16, ErrorCode) {
    let response = kiosk.execute(request).await.expect("send");
    let status = response.status().as_u16();
    let body: ErrorBody = response.json().await.expect("error body");
    (status, body.code)
}

fn start_body(login: &str) -> Vec<u8> {
    format!(r#"{{"login":"{login}","intent":"reset"}}"#).into_bytes()
}

async fn flow_count(server: &TestServer) -> i64 {
    let pool = super::db(server).await;
    sqlx::query_scalar("SELECT COUNT(*) FROM flows")
        .fetch_one(&pool)
        .await
        .expect("count")
}

#[tokio::test]
async fn only_good_fresh_signatures_get_through() {
    let server = TestServer::start().await.expect("server");
    let kiosk = server.kiosk().await.expect("kiosk");
    let http = reqwest::Client::new();

    // Unsigned.
    let r = http
        .post(format!("{}/v1/flows", server.base))
        .header("content-type", "application/json")
        .body(start_body("ada"))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status().as_u16(), 401);
    let body: ErrorBody = r.json().await.expect("body");
    assert_eq!(body.code, ErrorCode::Unauthorized);

    // A good request works once; the same request again is a replay.
    let good = kiosk
        .signed(
            Method::POST,
            "/v1/flows",
            Some(start_body("ada")),
            &SignOptions::default(),
        )
        .await
        .expect("sign");
    let replay = good.try_clone().expect("clone");
    assert_eq!(
        kiosk.execute(good).await.expect("send").status().as_u16(),
        201
    );
    assert_eq!(
        status_and_code(&kiosk, replay).await,
        (401, ErrorCode::Unauthorized)
    );

    // Stale or from the future: more than 60 s off.
    for offset in [-120, 120] {
        let req = kiosk
            .signed(
                Method::POST,
                "/v1/flows",
                Some(start_body("ada")),
                &SignOptions {
                    created_offset: offset,
                    ..SignOptions::default()
                },
            )
            .await
            .expect("sign");
        assert_eq!(
            status_and_code(&kiosk, req).await,
            (401, ErrorCode::Unauthorized),
            "{offset}"
        );
    }
    // Within the allowed skew is fine.
    let req = kiosk
        .signed(
            Method::POST,
            "/v1/flows",
            Some(start_body("ada")),
            &SignOptions {
                created_offset: -30,
                ..SignOptions::default()
            },
        )
        .await
        .expect("sign");
    assert_eq!(
        kiosk.execute(req).await.expect("send").status().as_u16(),
        201
    );

    // The body not covered by content-digest.
    let req = kiosk
        .signed(
            Method::POST,
            "/v1/flows",
            Some(start_body("ada")),
            &SignOptions {
                without_digest: true,
                ..SignOptions::default()
            },
        )
        .await
        .expect("sign");
    assert_eq!(
        status_and_code(&kiosk, req).await,
        (401, ErrorCode::Unauthorized)
    );

    // A tampered body: the digest no longer matches.
    let mut req = kiosk
        .signed(
            Method::POST,
            "/v1/flows",
            Some(start_body("ada")),
            &SignOptions::default(),
        )
        .await
        .expect("sign");
    *req.body_mut() = Some(start_body("grace").into());
    assert_eq!(
        status_and_code(&kiosk, req).await,
        (401, ErrorCode::Unauthorized)
    );

    // Another path than the one signed.
    let mut req = kiosk
        .signed(
            Method::GET,
            "/v1/kiosk/settings",
            None,
            &SignOptions::default(),
        )
        .await
        .expect("sign");
    *req.url_mut() = format!("{}/v1/kiosk/settings?x=1", server.base)
        .parse()
        .expect("url");
    assert_eq!(
        status_and_code(&kiosk, req).await,
        (401, ErrorCode::Unauthorized)
    );

    // Signed by a key that is not the kiosk's (same kiosk id).
    let impostor = Client::new(
        &server.base,
        DeviceKey::generate(),
        kiosk.kiosk_id().map(str::to_string),
    )
    .expect("client");
    let req = impostor
        .signed(
            Method::POST,
            "/v1/flows",
            Some(start_body("ada")),
            &SignOptions::default(),
        )
        .await
        .expect("sign");
    assert_eq!(
        status_and_code(&impostor, req).await,
        (401, ErrorCode::Unauthorized)
    );

    // An unknown kiosk id.
    let stranger = Client::new(
        &server.base,
        DeviceKey::generate(),
        Some("0123456789abcdef".into()),
    )
    .expect("client");
    assert_eq!(
        super::code_of(stranger.settings().await),
        ErrorCode::Unauthorized
    );

    // Only the two good requests made flows.
    assert_eq!(flow_count(&server).await, 2);
    let refused = server.audit(&[]).expect("audit");
    let reasons: Vec<String> = refused
        .iter()
        .filter(|r| r["event"] == "request_refused")
        .map(|r| r["detail"].as_str().unwrap_or_default().to_string())
        .collect();
    for reason in [
        "unsigned",
        "replayed",
        "stale",
        "components_missing",
        "bad_digest",
        "bad_signature",
        "unknown_kiosk",
    ] {
        assert!(
            reasons.iter().any(|d| d.contains(reason)),
            "{reason} not audited: {reasons:?}"
        );
    }
}
