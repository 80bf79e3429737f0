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

/// Every permutation of `items`.
fn permutations(items: &[&str]) -> Vec<Vec<String>> {
    if items.len() <= 1 {
        return vec![items.iter().map(|s| s.to_string()).collect()];
    }
    let mut out = Vec::new();
    for i in 0..items.len() {
        let mut rest = items.to_vec();
        let first = rest.remove(i);
        for mut tail in permutations(&rest) {
            tail.insert(0, first.to_string());
            out.push(tail);
        }
    }
    out
}

/// Signatures made by another RFC 9421 implementation (pyauth's http-message-signatures,
/// in Python) are taken whatever the order of their parameters and components, with and
/// without `alg`, `expires` and `tag`, and with more components covered than needed; an
/// expired signature and one naming another algorithm are refused.
#[tokio::test]
async fn an_independent_signer_is_taken_in_every_order() {
    use sspr_tests::python::{sign, SignSpec};
    let server = TestServer::start().await.expect("server");
    let kiosk = server.kiosk().await.expect("kiosk");
    let seed = kiosk
        .device_key()
        .seed()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<String>();
    let keyid = kiosk.kiosk_id().expect("enrolled").to_string();
    let spec =
        |method: &str, path: &str, body: Option<&str>, order: &[String], components: &[&str]| {
            SignSpec {
                seed: seed.clone(),
                keyid: keyid.clone(),
                method: method.into(),
                url: format!("{}{path}", server.base),
                body: body.map(str::to_string),
                order: order.to_vec(),
                components: components.iter().map(|c| c.to_string()).collect(),
                values: Default::default(),
                headers: Default::default(),
            }
        };
    let start = r#"{"login":"ada","intent":"reset"}"#;
    let with_digest = ["@method", "@target-uri", "content-digest"];

    // (spec, status wanted, what it is)
    let mut cases: Vec<(SignSpec, u16, String)> = Vec::new();
    for order in permutations(&["created", "nonce", "alg", "keyid"]) {
        cases.push((
            spec("POST", "/v1/flows", Some(start), &order, &with_digest),
            201,
            format!("{order:?}"),
        ));
    }
    for order in permutations(&["created", "nonce", "keyid"]) {
        cases.push((
            spec(
                "GET",
                "/v1/kiosk/settings",
                None,
                &order,
                &["@method", "@target-uri"],
            ),
            200,
            format!("no alg {order:?}"),
        ));
    }
    for order in permutations(&["created", "expires", "nonce", "keyid", "tag"])
        .into_iter()
        .step_by(7)
    {
        cases.push((
            spec("POST", "/v1/flows", Some(start), &order, &with_digest),
            201,
            format!("expires, tag {order:?}"),
        ));
    }
    let all = ["created", "expires", "nonce", "alg", "keyid", "tag"].map(String::from);
    for components in [
        vec!["content-digest", "@target-uri", "@method"],
        vec![
            "@authority",
            "@method",
            "content-type",
            "@target-uri",
            "content-digest",
        ],
        vec![
            "content-type",
            "content-digest",
            "@method",
            "@authority",
            "@target-uri",
        ],
    ] {
        cases.push((
            spec("POST", "/v1/flows", Some(start), &all, &components),
            201,
            format!("components {components:?}"),
        ));
    }
    // Refused: expired, another algorithm, a required component left out.
    let mut expired = spec(
        "GET",
        "/v1/kiosk/settings",
        None,
        &all,
        &["@method", "@target-uri"],
    );
    expired
        .values
        .insert("expires".into(), (sspr_tests::unix_now() - 5).into());
    cases.push((expired, 401, "expired".into()));
    for alg in [
        "rsa-pss-sha512",
        "hmac-sha256",
        "ecdsa-p256-sha256",
        "ED25519",
    ] {
        let mut other = spec(
            "GET",
            "/v1/kiosk/settings",
            None,
            &all,
            &["@method", "@target-uri"],
        );
        other.values.insert("alg".into(), alg.into());
        cases.push((other, 401, format!("alg {alg}")));
    }
    cases.push((
        spec(
            "POST",
            "/v1/flows",
            Some(start),
            &all,
            &["@method", "@target-uri"],
        ),
        401,
        "body not covered".into(),
    ));

    let specs: Vec<SignSpec> = cases.iter().map(|(s, _, _)| s.clone()).collect();
    let signed = sign(&specs).expect("the Python signer");
    let http = reqwest::Client::new();
    for ((spec, want, what), headers) in cases.iter().zip(signed) {
        let mut request = http.request(spec.method.parse().expect("method"), &spec.url);
        for (name, value) in &headers {
            request = request.header(name, value);
        }
        if let Some(body) = &spec.body {
            request = request.body(body.clone());
        }
        let response = request.send().await.expect("send");
        let status = response.status().as_u16();
        let text = response.text().await.unwrap_or_default();
        assert_eq!(status, *want, "{what}: {headers:?} answered {text}");
    }
    let reasons: Vec<String> = server
        .audit(&[])
        .expect("audit")
        .iter()
        .filter(|r| r["event"] == "request_refused")
        .map(|r| r["detail"].as_str().unwrap_or_default().to_string())
        .collect();
    for reason in ["expired", "alg_mismatch", "components_missing"] {
        assert!(
            reasons.iter().any(|d| d.contains(reason)),
            "{reason} not audited: {reasons:?}"
        );
    }
}
