//! No password, code or authenticator code reaches a log or an audit row: a whole flow
//! runs with debug logging, then both are searched for every secret it used.

use sspr_tests::sspr_proto::{Intent, MethodKind};
use sspr_tests::{Options, TestServer, ALAN_TOTP};

use super::*;

#[tokio::test]
async fn logs_and_audit_rows_hold_no_secret() {
    let server = TestServer::start_with(Options {
        log: Some("debug".into()),
        ..Options::default()
    })
    .await
    .expect("server");
    let enrollment = server.enrollment_code("Secret test kiosk").expect("code");
    let mut kiosk = sspr_tests::sspr_client::Client::new(
        &server.base,
        sspr_tests::sspr_client::DeviceKey::generate(),
        None,
    )
    .expect("client");
    kiosk.enroll(&enrollment, None, None).await.expect("enroll");
    let mut secrets: Vec<String> = vec![enrollment.clone(), enrollment.replace('-', "")];

    let flow = kiosk
        .start_flow(&start("alan", Intent::Reset))
        .await
        .expect("flow");
    // A wrong code first: what was typed is a secret too.
    let ch = kiosk
        .challenge(&flow.flow_id, &method(&flow, MethodKind::Email))
        .await
        .expect("challenge");
    let code = server
        .code_mail("alan@home.example.net", 0)
        .await
        .expect("code");
    let wrong = if code == "975310" { "975311" } else { "975310" };
    let _ = kiosk.verify(&flow.flow_id, &ch.challenge_id, wrong).await;
    kiosk
        .verify(&flow.flow_id, &ch.challenge_id, &code)
        .await
        .expect("verify");
    secrets.push(code);
    secrets.push(wrong.to_string());

    let totp = sspr_tests::totp_now(ALAN_TOTP);
    let ch = kiosk
        .challenge(&flow.flow_id, &method(&flow, MethodKind::Totp))
        .await
        .expect("challenge");
    kiosk
        .verify(&flow.flow_id, &ch.challenge_id, &totp)
        .await
        .expect("verify");
    secrets.push(totp);
    secrets.push(ALAN_TOTP.to_string());

    let rejected = "Password2024Summer!";
    let _ = kiosk.password_check(&flow.flow_id, rejected).await;
    let _ = kiosk.set_password(&flow.flow_id, rejected).await;
    let password = "orbit lantern crimson walrus teacup";
    kiosk
        .password_check(&flow.flow_id, password)
        .await
        .expect("check");
    kiosk
        .set_password(&flow.flow_id, password)
        .await
        .expect("reset");
    secrets.push(rejected.to_string());
    secrets.push(password.to_string());
    // Let the notices go out and be logged.
    server
        .mail_to("margaret.hamilton@example.org", "administrator")
        .await
        .expect("notice");
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;

    let log = server.log();
    assert!(log.contains("audit"), "the log is empty? {log}");
    let audit = serde_json::to_string(&server.audit(&[]).expect("audit")).expect("json");
    assert!(audit.contains("password_reset"));
    // The raw store, audit table included, holds no secret either.
    let raw = server.raw_store().expect("the store");
    for secret in &secrets {
        assert!(!log.contains(secret.as_str()), "{secret:?} is in the log");
        assert!(
            !audit.contains(secret.as_str()),
            "{secret:?} is in the audit"
        );
        // Short numeric codes are searched in the log and audit only: random hex in the
        // raw store holds six-digit runs by chance.
        if secret != ALAN_TOTP && secret.len() > 8 {
            for bytes in &raw {
                let found = bytes.windows(secret.len()).any(|w| w == secret.as_bytes());
                assert!(!found, "{secret:?} is in the store");
            }
        }
    }
}
