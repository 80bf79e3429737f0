//! Staging many PCs with one code (`kiosk enroll-code --uses N`): each PC that spends it
//! becomes a new kiosk under its own host name and location, never more than N however
//! many race, none after it expires or is revoked; bad names make nothing; one-time codes
//! behave as before.

use sspr_tests::sspr_client::{Client, DeviceKey};
use sspr_tests::sspr_proto::{ErrorBody, ErrorCode};
use sspr_tests::{Options, TestServer};

use super::*;

/// A staging code from the admin command: (code, its id from `kiosk codes`).
fn staging_code(server: &TestServer, args: &[&str]) -> (String, String) {
    let mut all = vec!["kiosk", "enroll-code"];
    all.extend_from_slice(args);
    let code = server
        .admin(&all)
        .expect("enroll-code --uses")
        .trim()
        .to_string();
    // The newest code is listed first, under the header.
    let listed = server.admin(&["kiosk", "codes"]).expect("kiosk codes");
    let id = listed
        .lines()
        .nth(1)
        .and_then(|l| l.split_whitespace().next())
        .expect("a listed code")
        .to_string();
    (code, id)
}

/// A PC with a fresh key, not enrolled yet.
fn pc(server: &TestServer) -> Client {
    Client::new(&server.base, DeviceKey::generate(), None).expect("client")
}

/// The `kiosk codes` line of a code.
fn code_line(server: &TestServer, id: &str) -> String {
    server
        .admin(&["kiosk", "codes"])
        .expect("kiosk codes")
        .lines()
        .find(|l| l.starts_with(id))
        .unwrap_or_default()
        .to_string()
}

/// An audit row's detail (the command prints it as JSON text).
fn detail(row: &serde_json::Value) -> serde_json::Value {
    serde_json::from_str(row["detail"].as_str().unwrap_or("{}")).expect("detail JSON")
}

/// Every kiosk row: (name, location, staging code id), by name.
async fn kiosk_rows(server: &TestServer) -> Vec<(String, String, Option<String>)> {
    sqlx::query_as("SELECT name, location, enrollment_code_id FROM kiosks ORDER BY name")
        .fetch_all(&db(server).await)
        .await
        .expect("kiosks")
}

#[tokio::test]
async fn a_staging_code_enrolls_each_pc_as_a_kiosk_of_its_own() {
    let server = TestServer::start_with(Options {
        log: Some("debug".into()),
        ..Options::default()
    })
    .await
    .expect("server");
    let (code, code_id) = staging_code(
        &server,
        &[
            "--uses",
            "3",
            "--location",
            "Building B",
            "--name-prefix",
            "lab",
        ],
    );
    assert_eq!(code.len(), 19, "one code on stdout: {code}");
    assert!(
        code_line(&server, &code_id).contains("0/3"),
        "{}",
        code_line(&server, &code_id)
    );

    // Three PCs: one says its host name and location, one says nothing, one only its name.
    let mut first = pc(&server);
    let a = first
        .enroll(&code, Some("ws-101"), Some("Room 1"))
        .await
        .expect("first PC");
    let mut second = pc(&server);
    let b = second
        .enroll(&code.to_lowercase(), None, None)
        .await
        .expect("second PC, the code typed in lower case");
    let mut third = pc(&server);
    let c = third
        .enroll(&code, Some("ws-103"), None)
        .await
        .expect("third PC");
    assert_eq!(
        [&a, &b, &c].map(|e| (e.name.as_str(), e.location.as_str())),
        [
            ("ws-101", "Room 1"),
            ("lab-2", "Building B"),
            ("ws-103", "Building B")
        ]
    );
    let ids: std::collections::HashSet<_> = [&a.kiosk_id, &b.kiosk_id, &c.kiosk_id]
        .into_iter()
        .collect();
    assert_eq!(ids.len(), 3, "a new kiosk each");
    // Each is a working kiosk that knows its own name.
    for (client, name) in [(&first, "ws-101"), (&second, "lab-2"), (&third, "ws-103")] {
        let settings = client.settings().await.expect("a signed request");
        assert_eq!(settings.kiosk_name, name);
    }

    // The fourth is refused as an unknown code would be, and nothing is made.
    let mut fourth = pc(&server);
    assert_eq!(
        code_of(fourth.enroll(&code, Some("ws-104"), None).await),
        ErrorCode::EnrollmentInvalid
    );
    assert_eq!(
        kiosk_rows(&server).await,
        vec![
            ("lab-2".into(), "Building B".into(), Some(code_id.clone())),
            ("ws-101".into(), "Room 1".into(), Some(code_id.clone())),
            ("ws-103".into(), "Building B".into(), Some(code_id.clone())),
        ]
    );

    // `kiosk list` shows each PC by host name and location, with the code it used;
    // `kiosk codes` what the code has left.
    let listed = server.admin(&["kiosk", "list"]).expect("list");
    for (kiosk, name, location) in [
        (&a.kiosk_id, "ws-101", "Room 1"),
        (&b.kiosk_id, "lab-2", "Building B"),
        (&c.kiosk_id, "ws-103", "Building B"),
    ] {
        let row = listed
            .lines()
            .find(|l| l.starts_with(kiosk.as_str()))
            .unwrap_or_default();
        assert!(
            row.contains(name) && row.ends_with(location) && row.contains(&code_id),
            "{listed}"
        );
    }
    let line = code_line(&server, &code_id);
    assert!(
        line.contains("used up") && line.contains("3/3") && line.contains("lab"),
        "{line}"
    );

    // The audit names the staging code on every enrollment, and the issue.
    let audit = server.audit(&["--since", "1h"]).expect("audit");
    let enrolled: Vec<_> = audit
        .iter()
        .filter(|r| r["event"] == "kiosk_enrolled")
        .collect();
    assert_eq!(enrolled.len(), 3);
    for r in &enrolled {
        assert_eq!(detail(r)["code_id"], code_id.as_str(), "{r}");
    }
    let issued = audit
        .iter()
        .find(|r| r["event"] == "kiosk_enrollment_code_issued")
        .expect("issue audited");
    assert_eq!(detail(issued)["uses"], 3);
    assert_eq!(detail(issued)["code_id"], code_id.as_str());
    assert_eq!(
        audit
            .iter()
            .filter(|r| r["event"] == "kiosk_enrollment_refused")
            .count(),
        1
    );

    // The code is in no log, audit row or the store: only its keyed hash is kept.
    let raw = server.raw_store().expect("the store");
    let log = server.log();
    let trail = serde_json::to_string(&audit).expect("json");
    for secret in [code.clone(), code.replace('-', "")] {
        assert!(!log.contains(&secret), "the log holds the code");
        assert!(!trail.contains(&secret), "the audit holds the code");
        for bytes in &raw {
            assert!(
                !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
                "the store holds the code"
            );
        }
    }
}

#[tokio::test]
async fn expired_and_revoked_staging_codes_enroll_nothing() {
    let server = TestServer::start().await.expect("server");
    let (code, code_id) = staging_code(&server, &["--uses", "5", "--valid-for", "12h"]);
    let lifetime: i64 =
        sqlx::query_scalar("SELECT expires_at - created_at FROM enrollment_codes WHERE id = $1")
            .bind(&code_id)
            .fetch_one(&db(&server).await)
            .await
            .expect("row");
    assert_eq!(lifetime, 12 * 3600);
    let mut early = pc(&server);
    let e = early
        .enroll(&code, None, None)
        .await
        .expect("valid for now");
    assert_eq!(
        (e.name.as_str(), e.location.as_str()),
        ("pc-1", ""),
        "no prefix, no location: pc-<n>, nowhere"
    );

    // Time can't be fast-forwarded: the code's row is aged instead.
    sqlx::query("UPDATE enrollment_codes SET expires_at = expires_at - 13 * 3600 WHERE id = $1")
        .bind(&code_id)
        .execute(&server.db_writable().await.expect("db"))
        .await
        .expect("age the code");
    assert_eq!(
        code_of(pc(&server).enroll(&code, Some("ws-late"), None).await),
        ErrorCode::EnrollmentInvalid
    );
    let line = code_line(&server, &code_id);
    assert!(line.contains("expired") && line.contains("1/5"), "{line}");
    assert!(
        line.split_whitespace().nth(3) == Some("0"),
        "none left: {line}"
    );

    // Revoked: the PCs it enrolled stay, no more are made.
    let (other, other_id) = staging_code(&server, &["--uses", "5"]);
    let mut kept = pc(&server);
    kept.enroll(&other, Some("ws-kept"), None)
        .await
        .expect("before revocation");
    let revoked = server
        .admin(&["kiosk", "revoke-code", &other_id])
        .expect("revoke-code");
    assert!(revoked.contains(&other_id), "{revoked}");
    assert_eq!(
        code_of(pc(&server).enroll(&other, Some("ws-after"), None).await),
        ErrorCode::EnrollmentInvalid
    );
    kept.settings().await.expect("its kiosks still work");
    assert!(code_line(&server, &other_id).contains("revoked"));
    let again = server.admin(&["kiosk", "revoke-code", &other_id]);
    assert!(format!("{:#}", again.unwrap_err()).contains("revoked already"));
    let names: Vec<String> = kiosk_rows(&server)
        .await
        .into_iter()
        .map(|(n, _, _)| n)
        .collect();
    assert_eq!(names, vec!["pc-1", "ws-kept"]);
    let audit = server.audit(&["--since", "1h"]).expect("audit");
    assert!(audit
        .iter()
        .any(|r| r["event"] == "enrollment_code_revoked"
            && detail(r)["code_id"] == other_id.as_str()));
}

#[tokio::test]
async fn fifty_pcs_racing_for_ten_uses_make_ten_kiosks() {
    let server = TestServer::start().await.expect("server");
    let (code, code_id) = staging_code(&server, &["--uses", "10", "--location", "Hall"]);
    let mut racing = tokio::task::JoinSet::new();
    for n in 0..50 {
        let (base, code) = (server.base.clone(), code.clone());
        racing.spawn(async move {
            let mut pc = Client::new(&base, DeviceKey::generate(), None).expect("client");
            let name = format!("race-{n:02}");
            let enrolled = pc.enroll(&code, Some(&name), None).await;
            enrolled.map(|e| (name, e.name))
        });
    }
    let (mut won, mut refused) = (Vec::new(), 0);
    while let Some(done) = racing.join_next().await {
        match done.expect("task") {
            Ok((asked, got)) => {
                assert_eq!(asked, got);
                won.push(got);
            }
            Err(e) => {
                assert_eq!(e.code(), Some(ErrorCode::EnrollmentInvalid), "{e}");
                refused += 1;
            }
        }
    }
    assert_eq!((won.len(), refused), (10, 40));
    won.sort();
    let rows = kiosk_rows(&server).await;
    assert_eq!(
        rows.iter().map(|(n, _, _)| n.clone()).collect::<Vec<_>>(),
        won,
        "exactly the winners are kiosks"
    );
    assert!(rows
        .iter()
        .all(|(_, l, c)| l == "Hall" && c.as_deref() == Some(code_id.as_str())));
    assert!(code_line(&server, &code_id).contains("10/10"));
}

#[tokio::test]
async fn bad_names_and_locations_are_refused_and_spend_nothing() {
    let server = TestServer::start().await.expect("server");
    let (code, code_id) = staging_code(&server, &["--uses", "1"]);
    let http = reqwest::Client::new();
    let key = {
        use base64::Engine as _;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode([42u8; 32])
    };
    let long = "a".repeat(65);
    for (name, location, says) in [
        (serde_json::json!(""), serde_json::Value::Null, "name"),
        (serde_json::json!("   "), serde_json::Value::Null, "name"),
        (serde_json::json!(long), serde_json::Value::Null, "name"),
        (
            serde_json::json!("ws\u{7}01"),
            serde_json::Value::Null,
            "name",
        ),
        (serde_json::json!("ws\n01"), serde_json::Value::Null, "name"),
        (
            serde_json::json!("invoice\u{202E}gpj.exe"),
            serde_json::Value::Null,
            "name",
        ),
        (
            serde_json::json!("ws-01"),
            serde_json::json!("Room\u{0}1"),
            "location",
        ),
        (
            serde_json::json!("ws-01"),
            serde_json::json!(long),
            "location",
        ),
        (serde_json::json!(42), serde_json::Value::Null, ""),
    ] {
        let body = serde_json::json!({
            "code": code, "public_key": key, "name": name, "location": location,
        });
        let r = http
            .post(format!("{}/v1/kiosks/enroll", server.base))
            .json(&body)
            .send()
            .await
            .expect("send");
        assert_eq!(r.status().as_u16(), 400, "{body}");
        let b: ErrorBody = r.json().await.expect("an error body");
        assert_eq!(b.code, ErrorCode::BadRequest, "{body}");
        assert!(b.message.contains(says), "{body}: {}", b.message);
    }
    assert!(kiosk_rows(&server).await.is_empty(), "nothing was made");
    assert!(
        code_line(&server, &code_id).contains("0/1"),
        "nothing spent"
    );

    // The one use is still there for a good name.
    let mut good = pc(&server);
    let e = good
        .enroll(&code, Some("ws-01.example.org"), Some("Zürich, 3. OG"))
        .await
        .expect("a good name enrolls");
    assert_eq!(
        (e.name.as_str(), e.location.as_str()),
        ("ws-01.example.org", "Zürich, 3. OG")
    );
}

#[tokio::test]
async fn bad_staging_requests_are_clear_errors_and_make_nothing() {
    let server = TestServer::start().await.expect("server");
    for (args, says) in [
        (vec!["--uses", "0"], "must be 1 to 10000, not 0"),
        (vec!["--uses", "10001"], "must be 1 to 10000, not 10001"),
        (vec!["--uses", "-3"], "unexpected argument '-3'"),
        (
            vec!["--uses", "many"],
            "invalid value 'many' for '--uses <N>'",
        ),
        (vec!["--uses", "5", "--valid-for", "91d"], "at most 90 days"),
        (
            vec!["--uses", "5", "--valid-for", "0d"],
            "at least a minute",
        ),
        (
            vec!["--uses", "5", "--valid-for", "7w"],
            "such as 7d, 12h, 30m",
        ),
        (
            vec!["--uses", "5", "--valid-for", "7"],
            "such as 7d, 12h, 30m",
        ),
        (
            vec!["--uses", "5", "--name-prefix", "a\u{1b}[31m"],
            "name prefix must be 1 to 58 printable",
        ),
        (
            vec!["--uses", "5", "--name", "Lobby"],
            "'--uses <N>' cannot be used with '--name <NAME>'",
        ),
        (
            vec!["--valid-for", "7d", "--name", "L", "--location", "x"],
            "add --uses N",
        ),
        (
            vec!["--name-prefix", "lab", "--name", "L", "--location", "x"],
            "add --uses N",
        ),
        (
            vec!["--valid-for", "7d"],
            "required arguments were not provided",
        ),
    ] {
        let mut all = vec!["kiosk", "enroll-code"];
        all.extend_from_slice(&args);
        let e = server.admin(&all).expect_err(&format!("{args:?} refused"));
        // What the command said, without the echo of its arguments.
        let e = format!("{e:#}");
        let said = e.split_once("failed: ").map(|(_, s)| s).unwrap_or(&e);
        assert!(said.contains(says), "{args:?}: {said}");
    }
    let listed = server.admin(&["kiosk", "codes"]).expect("codes");
    assert_eq!(listed.lines().count(), 1, "only the header: {listed}");
    assert!(kiosk_rows(&server).await.is_empty());
}

/// A one-time code is as it was: its kiosk keeps the name and location IT gave it,
/// whatever the PC says, and it works once.
#[tokio::test]
async fn one_time_codes_keep_their_names() {
    let server = TestServer::start().await.expect("server");
    let code = server.enrollment_code("Lobby 2").expect("code");
    let mut kiosk = pc(&server);
    let e = kiosk
        .enroll(&code, Some("ws-77"), Some("Room 77"))
        .await
        .expect("enroll");
    assert_eq!(
        (e.name.as_str(), e.location.as_str()),
        ("Lobby 2", "Test lab")
    );
    assert_eq!(
        code_of(pc(&server).enroll(&code, Some("ws-78"), None).await),
        ErrorCode::EnrollmentInvalid
    );
    assert_eq!(
        kiosk_rows(&server).await,
        vec![("Lobby 2".into(), "Test lab".into(), None)]
    );
    let audit = server.audit(&["--since", "1h"]).expect("audit");
    let enrolled = audit
        .iter()
        .find(|r| r["event"] == "kiosk_enrolled")
        .expect("audited");
    assert!(enrolled["detail"].get("code_id").is_none(), "{enrolled}");
}
