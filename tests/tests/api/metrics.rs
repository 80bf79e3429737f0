//! `/metrics`: the Prometheus text format, behind a token of its own, read by the
//! Prometheus project's own parser; its counters equal the flows the test ran, and no
//! label holds what a person typed.

use std::collections::BTreeMap;

use sspr_tests::python::{parse_prometheus, Sample};
use sspr_tests::sspr_proto::{ErrorCode, Intent};
use sspr_tests::{Options, TestServer};

use super::*;

const TOKEN: &str = "metrics-token-for-the-api-test-0123";
const NEW_PASSWORD: &str = "correct horse battery staple mountain";

/// The value of the sample `name` whose labels include `labels` (0 when there is none).
fn value(samples: &[Sample], name: &str, labels: &[(&str, &str)]) -> f64 {
    samples
        .iter()
        .filter(|s| s.name == name)
        .filter(|s| {
            labels
                .iter()
                .all(|(k, v)| s.labels.get(*k).map(String::as_str) == Some(*v))
        })
        .map(|s| s.value)
        .sum()
}

async fn scrape(server: &TestServer, token: Option<&str>) -> (u16, String) {
    let mut request = reqwest::Client::new().get(format!("{}/metrics", server.base));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.expect("scrape");
    let status = response.status().as_u16();
    (status, response.text().await.expect("body"))
}

#[tokio::test]
async fn metrics_count_the_flows_run_and_name_nobody() {
    let server = TestServer::start_with(Options {
        extra_config: format!("[metrics]\ntoken = \"{TOKEN}\"\n"),
        ..Options::default()
    })
    .await
    .expect("server");

    // Without the token, or with another, nothing.
    for token in [None, Some("not-the-metrics-token-at-all")] {
        let (status, body) = scrape(&server, token).await;
        assert_eq!(status, 401, "{body}");
        let error: serde_json::Value = serde_json::from_str(&body).expect("an error body");
        assert_eq!(error["code"], serde_json::json!(ErrorCode::Unauthorized));
    }

    let kiosk = server.kiosk().await.expect("kiosk");
    let to = "ada@home.example.net";
    // Two resets that succeed.
    for _ in 0..2 {
        let flow = kiosk
            .start_flow(&start("ada", Intent::Reset))
            .await
            .expect("flow");
        verify_email(&server, &kiosk, &flow, to).await;
        kiosk
            .set_password(&flow.flow_id, NEW_PASSWORD)
            .await
            .expect("reset");
    }
    // One wrong code.
    let flow = kiosk
        .start_flow(&start("ada", Intent::Reset))
        .await
        .expect("flow");
    let seen = server.code_mails_to(to).len();
    let ch = kiosk
        .challenge(&flow.flow_id, &method(&flow, MethodKind::Email))
        .await
        .expect("challenge");
    let code = server.code_mail(to, seen).await.expect("code");
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let refused = kiosk.verify(&flow.flow_id, &ch.challenge_id, wrong).await;
    assert_eq!(code_of(refused), ErrorCode::CodeInvalid);
    // One login nobody has.
    kiosk
        .start_flow(&start("nobody.here", Intent::Reset))
        .await
        .expect("decoy");

    // The notices after each reset go out on a task of their own: scrape until they're
    // counted (the mail histogram holds the three codes and every notice).
    let mut scraped = None;
    for _ in 0..50 {
        let (status, text) = scrape(&server, Some(TOKEN)).await;
        assert_eq!(status, 200);
        let samples = parse_prometheus(&text).expect("the Prometheus parser reads it");
        let notices = value(
            &samples,
            "sspr_notifications_total",
            &[("kind", "user_notice"), ("result", "sent")],
        );
        let mails = value(
            &samples,
            "sspr_mail_delivery_duration_seconds_count",
            &[("result", "ok")],
        );
        if notices >= 2.0 && mails == 3.0 + notices {
            scraped = Some((text, samples));
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let (text, samples) = scraped.expect("the code mails and notices counted");
    let counters: BTreeMap<&str, f64> = [
        (
            "reset, real",
            value(
                &samples,
                "sspr_flows_started_total",
                &[("intent", "reset"), ("decoy", "false")],
            ),
        ),
        (
            "reset, decoy",
            value(
                &samples,
                "sspr_flows_started_total",
                &[("intent", "reset"), ("decoy", "true")],
            ),
        ),
        (
            "email sent",
            value(
                &samples,
                "sspr_challenges_sent_total",
                &[("method", "email")],
            ),
        ),
        (
            "email verified",
            value(
                &samples,
                "sspr_verifications_total",
                &[("method", "email"), ("result", "verified")],
            ),
        ),
        (
            "email wrong",
            value(
                &samples,
                "sspr_verifications_total",
                &[
                    ("method", "email"),
                    ("result", "failed"),
                    ("reason", "wrong_code"),
                ],
            ),
        ),
        (
            "flows verified",
            value(
                &samples,
                "sspr_flows_verified_total",
                &[("method", "email")],
            ),
        ),
        (
            "resets written",
            value(
                &samples,
                "sspr_flows_completed_total",
                &[("intent", "reset")],
            ),
        ),
        (
            "flow requests",
            value(
                &samples,
                "sspr_http_request_duration_seconds_count",
                &[
                    ("route", "/v1/flows"),
                    ("method", "POST"),
                    ("status", "201"),
                ],
            ),
        ),
        (
            "password writes",
            value(
                &samples,
                "sspr_directory_operation_duration_seconds_count",
                &[("operation", "set_password"), ("result", "ok")],
            ),
        ),
    ]
    .into_iter()
    .collect();
    let expected: BTreeMap<&str, f64> = [
        ("reset, real", 3.0),
        ("reset, decoy", 1.0),
        ("email sent", 3.0),
        ("email verified", 2.0),
        ("email wrong", 1.0),
        ("flows verified", 2.0),
        ("resets written", 2.0),
        ("flow requests", 4.0),
        ("password writes", 2.0),
    ]
    .into_iter()
    .collect();
    assert_eq!(counters, expected, "\n{text}");

    // The route is the template, never the path sent; no label holds a login or address.
    assert!(
        text.contains("route=\"/v1/flows/{flow_id}/password\""),
        "{text}"
    );
    assert!(!text.contains(&flow.flow_id), "a flow id in a label");
    for typed in ["\"ada", "nobody", "home.example.net", "lovelace"] {
        assert!(!text.contains(typed), "{typed} in the metrics:\n{text}");
    }
}

#[tokio::test]
async fn metrics_without_a_token_or_listener_are_not_served() {
    let server = TestServer::start().await.expect("server");
    let (status, body) = scrape(&server, Some(TOKEN)).await;
    assert_eq!(status, 404, "{body}");
}

/// `metrics.listen`: a listener of its own serves `/metrics` (and only that) without a
/// token; the main listener serves none.
#[tokio::test]
async fn metrics_on_a_listener_of_their_own() {
    let port = sspr_tests::free_port().expect("port");
    let server = TestServer::with_config(&format!("[metrics]\nlisten = \"127.0.0.1:{port}\"\n"))
        .await
        .expect("server");
    let (status, _) = scrape(&server, None).await;
    assert_eq!(status, 404);
    let http = reqwest::Client::new();
    let mut text = String::new();
    for _ in 0..50 {
        match http
            .get(format!("http://127.0.0.1:{port}/metrics"))
            .send()
            .await
        {
            Ok(r) if r.status().is_success() => {
                text = r.text().await.expect("text");
                break;
            }
            _ => tokio::time::sleep(std::time::Duration::from_millis(100)).await,
        }
    }
    let samples = parse_prometheus(&text).expect("parsed");
    assert!(
        value(
            &samples,
            "sspr_http_request_duration_seconds_count",
            &[("route", "/metrics"), ("status", "404")]
        ) >= 1.0,
        "{text}"
    );
    let other = http
        .get(format!("http://127.0.0.1:{port}/v1/kiosk/settings"))
        .send()
        .await
        .expect("answer");
    assert_eq!(other.status().as_u16(), 404);
}
