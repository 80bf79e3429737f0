//! Faults around a reset: the mail relay down or hanging when a code is sent.

use std::time::{Duration, Instant};

use sspr_tests::faults::{FaultyPort, Mode};
use sspr_tests::sspr_client::ClientError;
use sspr_tests::sspr_proto::{ErrorCode, Intent, MethodKind};
use sspr_tests::{Options, TestServer};

use super::{code_of, method, start};

async fn challenge_rows(server: &TestServer, flow_id: &str) -> i64 {
    let pool = super::db(server).await;
    sqlx::query_scalar("SELECT COUNT(*) FROM challenges WHERE flow_id = ?")
        .bind(flow_id)
        .fetch_one(&pool)
        .await
        .expect("count")
}

/// The relay refuses, then hangs, then works again: the person is told at once that the
/// code couldn't be sent (not a code that never comes), nothing counts against them (not
/// even past the 10-emails limit), a decoy answers the same while the relay is failing,
/// the admin finds it in the audit, and once the relay is back codes go out again.
#[tokio::test]
async fn a_relay_down_or_hanging_is_told_and_counts_against_nobody() {
    // The port is made before the server, which is told to send mail through it.
    let mailbox = sspr_tests::sspr_mailbox::Mailbox::start("127.0.0.1:0".parse().unwrap())
        .await
        .expect("mailbox");
    let relay = FaultyPort::start(mailbox.addr()).await.expect("port");
    let server = TestServer::start_with(Options {
        smtp_port: Some(relay.addr.port()),
        env: vec![("SSPR_SMTP__TIMEOUT_SECS".into(), "2".into())],
        ..Options::default()
    })
    .await
    .expect("server");
    let kiosk = server.kiosk().await.expect("kiosk");

    relay.set(Mode::Refuse);
    let flow = kiosk
        .start_flow(&start("ada", Intent::Reset))
        .await
        .expect("flow");
    let email = method(&flow, MethodKind::Email);
    // More tries than the 10-emails-in-10-minutes limit: none of them counts.
    for _ in 0..12 {
        match kiosk.challenge(&flow.flow_id, &email).await {
            Err(ClientError::Api { status, body }) => {
                assert_eq!(status, 503);
                assert_eq!(body.code, ErrorCode::DeliveryFailed, "{body:?}");
                assert!(body.message.contains("couldn't send"), "{}", body.message);
                assert_eq!(body.reference.as_deref(), Some(flow.reference.as_str()));
            }
            other => panic!("expected delivery_failed, got {other:?}"),
        }
    }
    assert_eq!(challenge_rows(&server, &flow.flow_id).await, 0);
    // The authenticator still works meanwhile.
    let totp = kiosk
        .challenge(&flow.flow_id, &method(&flow, MethodKind::Totp))
        .await;
    assert!(totp.is_ok(), "{totp:?}");

    // While the relay fails for real people, a decoy answers as they are answered.
    let decoy = kiosk
        .start_flow(&start("nobody-at-all", Intent::Reset))
        .await
        .expect("decoy");
    assert_eq!(
        code_of(
            kiosk
                .challenge(&decoy.flow_id, &method(&decoy, MethodKind::Email))
                .await
        ),
        ErrorCode::DeliveryFailed
    );

    // A relay that accepts and never answers: told within the relay timeout.
    relay.set(Mode::Hang);
    let asked = Instant::now();
    assert_eq!(
        code_of(kiosk.challenge(&flow.flow_id, &email).await),
        ErrorCode::DeliveryFailed
    );
    assert!(
        asked.elapsed() < Duration::from_secs(10),
        "{:?}",
        asked.elapsed()
    );

    // The admin is told: each failure is in the audit, with the relay's complaint.
    let rows = server.audit(&["--user", "ada"]).expect("audit");
    let failed = rows
        .iter()
        .filter(|r| r["event"] == "notification_failed")
        .count();
    assert!(failed >= 13, "{failed} notification_failed rows");

    // The relay is back: the code goes out, and the first try counts as the first.
    relay.set(Mode::Forward);
    let ch = kiosk
        .challenge(&flow.flow_id, &email)
        .await
        .expect("sent once the relay is back");
    let mail = mailbox
        .wait_for(
            |m| m.to.iter().any(|t| t == "ada@home.example.net"),
            Duration::from_secs(10),
        )
        .await
        .expect("code mail");
    let code = mail.code(6).expect("code");
    let done = kiosk
        .verify(&flow.flow_id, &ch.challenge_id, &code)
        .await
        .expect("verified");
    assert_eq!(done.done, 1);
    assert_eq!(challenge_rows(&server, &flow.flow_id).await, 2);
}
