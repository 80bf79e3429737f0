//! Approval by QR code with a software passkey: registered on "My security info", then
//! approve, deny, expiry, a wrong number, a replayed answer, another flow's token, and the
//! new password typed on the phone. The kiosk side listens to the real event stream.
//! "My security info" itself is tested in `security_info.rs`.

use std::time::Duration;

use serde_json::json;
use sspr_tests::phone::{token_of, Phone};
use sspr_tests::sspr_client::{Client, EventStream};
use sspr_tests::sspr_proto::{
    ApprovalFailure, ApprovalGranted, ApprovalInfo, ChallengeView, DoneView, ErrorCode, FlowEvent,
    FlowState, FlowView, Intent, MethodKind,
};
use sspr_tests::{TestServer, ADA_PASSWORD, ADA_TOTP};

use super::{code_of, method, start};

pub(crate) const APPROVAL: &str = r#"
[policy]
methods = ["email", "totp", "approval"]
"#;

pub(super) async fn server(extra: &str) -> TestServer {
    TestServer::with_config(&format!("{APPROVAL}\n{extra}"))
        .await
        .expect("server")
}

/// Ada signs in on her phone (password, then her authenticator app) and adds a passkey.
pub(crate) async fn ada_with_passkey(server: &TestServer) -> Phone {
    let mut phone = Phone::new(server).expect("phone");
    let session = phone
        .enroll("ada", ADA_PASSWORD, ADA_TOTP, "Ada's phone")
        .await
        .expect("passkey");
    assert!(session
        .methods
        .iter()
        .any(|m| m.kind == MethodKind::Approval && m.label == "Ada's phone"));
    phone
}

pub(crate) async fn next_event(events: &mut EventStream) -> FlowEvent {
    tokio::time::timeout(Duration::from_secs(10), events.next())
        .await
        .expect("an event within 10 s")
        .expect("the stream is open")
        .expect("a valid event")
}

pub(crate) struct Approval {
    pub flow: FlowView,
    pub challenge: ChallengeView,
    pub token: String,
    pub events: EventStream,
}

async fn start_approval(kiosk: &Client, finish_on_phone: bool) -> Approval {
    let flow = kiosk
        .start_flow(&start("ada", Intent::Reset))
        .await
        .expect("flow");
    approve_in(kiosk, flow, finish_on_phone).await
}

pub(crate) async fn approve_in(kiosk: &Client, flow: FlowView, finish_on_phone: bool) -> Approval {
    let challenge = kiosk
        .challenge_with(
            &flow.flow_id,
            &method(&flow, MethodKind::Approval),
            finish_on_phone,
        )
        .await
        .expect("approval challenge");
    let url = challenge.approval_url.clone().expect("a QR payload");
    let events = kiosk.events(&flow.flow_id).await.expect("events");
    Approval {
        flow,
        challenge,
        token: token_of(&url),
        events,
    }
}

/// The phone opens the page; the kiosk is shown the number, which the phone types.
async fn scan(phone: &mut Phone, a: &mut Approval) -> (ApprovalInfo, String) {
    let info: ApprovalInfo = phone.open(&a.token).await.expect("open").into();
    let FlowEvent::Scanned {
        number,
        challenge_id,
    } = next_event(&mut a.events).await
    else {
        panic!("the kiosk is shown the number first")
    };
    assert_eq!(challenge_id, a.challenge.challenge_id);
    (info, number)
}

/// The phone's whole part: scan, type the kiosk's number, answer with the passkey.
pub(crate) async fn approve(
    phone: &mut Phone,
    a: &mut Approval,
) -> (ApprovalGranted, serde_json::Value) {
    let (_, number) = scan(phone, a).await;
    let options = phone.number(&a.token, &number).await.expect("number").body["options"].clone();
    let credential = phone.assert(&options).expect("assertion");
    let granted = phone
        .finish(&a.token, &credential)
        .await
        .expect("finish")
        .into();
    (granted, credential)
}

fn failed(event: FlowEvent) -> ApprovalFailure {
    match event {
        FlowEvent::Failed {
            reason, message, ..
        } => {
            assert!(!message.is_empty());
            reason
        }
        other => panic!("expected a failure, got {other:?}"),
    }
}

#[tokio::test]
async fn a_passkey_from_my_security_info_approves_a_kiosk_flow() {
    let server = server("").await;
    let mut phone = ada_with_passkey(&server).await;
    let kiosk = server.kiosk().await.expect("kiosk");
    let mut a = start_approval(&kiosk, false).await;
    assert_eq!(a.challenge.kind, MethodKind::Approval);
    assert!(a.challenge.expires_in_secs <= 120 && a.challenge.expires_in_secs > 100);
    let url = a.challenge.approval_url.clone().unwrap_or_default();
    assert!(
        url.starts_with(&format!("{}/a/", server.phone_base)),
        "{url}"
    );
    assert_eq!(a.token.len(), 22, "128 random bits, base64url");

    let (info, number) = scan(&mut phone, &mut a).await;
    assert_eq!(info.kiosk_name, "Test kiosk");
    assert_eq!(info.kiosk_location, "Test lab");
    assert_eq!(info.account, "a•••a");
    assert_eq!(info.intent, Intent::Reset);
    assert_eq!(number.len(), 2);
    // A reload of the page shows the same, and doesn't make a new number.
    let again: ApprovalInfo = phone.open(&a.token).await.expect("reopen").into();
    assert_eq!(again.account, info.account);

    let options = phone.number(&a.token, &number).await.expect("number");
    assert!(options.ok(), "{options:?}");
    let options = options.body["options"].clone();
    assert_eq!(options["publicKey"]["userVerification"], "required");
    let credential = phone.assert(&options).expect("assertion");
    let granted: ApprovalGranted = phone
        .finish(&a.token, &credential)
        .await
        .expect("finish")
        .into();
    assert!(!granted.finish_on_phone);

    let FlowEvent::Approved { flow, .. } = next_event(&mut a.events).await else {
        panic!("the kiosk is told at once")
    };
    assert_eq!(flow.state, FlowState::Verified);
    assert!(flow
        .methods
        .iter()
        .any(|m| m.kind == MethodKind::Approval && m.done));
    let done = kiosk
        .set_password(
            &a.flow.flow_id,
            "a brand new passphrase, scanned and approved",
        )
        .await
        .expect("password set");
    assert_eq!(done.reference, a.flow.reference);

    // The token is single use: the same answer again finds nothing.
    let replay = phone.finish(&a.token, &credential).await.expect("replay");
    assert_eq!(replay.error().code, ErrorCode::NotFound);

    let trail: Vec<String> = server
        .audit(&["--ref", &a.flow.reference])
        .expect("audit")
        .iter()
        .map(|r| {
            format!(
                "{} {}",
                r["event"].as_str().unwrap_or_default(),
                r["detail"]
            )
        })
        .collect();
    assert!(
        trail.iter().any(|t| t.starts_with("approval_opened")),
        "{trail:?}"
    );
    assert!(
        trail
            .iter()
            .any(|t| t.starts_with("verify_succeeded") && t.contains("approval")),
        "{trail:?}"
    );
    // Registering told Ada by email, and was audited.
    server
        .mail_to("ada.lovelace@example.org", "security info changed")
        .await
        .expect("notice of the new passkey");
    let registered = server.audit(&["--user", "ada"]).expect("audit");
    assert!(
        registered
            .iter()
            .any(|r| r["event"] == "method_registered"
                && r["detail"].to_string().contains("approval"))
    );
    // The token never reaches the log or the audit.
    assert!(!server.log().contains(&a.token), "the token is in the log");
    let all = server.audit(&[]).expect("audit");
    assert!(!serde_json::to_string(&all)
        .unwrap_or_default()
        .contains(&a.token));
}

#[tokio::test]
async fn deny_a_wrong_number_and_an_answer_for_another_flow_each_fail_the_method() {
    let server = server("").await;
    let mut phone = ada_with_passkey(&server).await;
    let kiosk = server.kiosk().await.expect("kiosk");

    // Deny.
    let mut a = start_approval(&kiosk, false).await;
    let _ = scan(&mut phone, &mut a).await;
    let denied = phone
        .post("/v1/approval/deny", json!({ "token": a.token }))
        .await
        .expect("deny");
    assert_eq!(denied.status, 204);
    assert_eq!(
        failed(next_event(&mut a.events).await),
        ApprovalFailure::Denied
    );
    let reused = phone.open(&a.token).await.expect("reuse");
    assert_eq!(reused.error().code, ErrorCode::NotFound);

    // A wrong number ends it at once.
    let mut b = approve_in(&kiosk, a.flow.clone(), false).await;
    let (_, number) = scan(&mut phone, &mut b).await;
    let wrong = if number == "10" { "11" } else { "10" };
    let refused = phone.number(&b.token, wrong).await.expect("number");
    assert_eq!(refused.error().code, ErrorCode::CodeInvalid);
    assert_eq!(
        failed(next_event(&mut b.events).await),
        ApprovalFailure::WrongNumber
    );
    let late = phone.number(&b.token, &number).await.expect("late");
    assert_eq!(late.error().code, ErrorCode::NotFound);

    // An answer made for one flow's approval doesn't approve another flow.
    let other_kiosk = server.kiosk_named("Lobby").await.expect("kiosk");
    let mut c = approve_in(&kiosk, b.flow.clone(), false).await;
    let mut d = start_approval(&other_kiosk, false).await;
    let (_, nc) = scan(&mut phone, &mut c).await;
    let (_, nd) = scan(&mut phone, &mut d).await;
    let oc = phone.number(&c.token, &nc).await.expect("c").body["options"].clone();
    let _od = phone.number(&d.token, &nd).await.expect("d");
    let for_c = phone.assert(&oc).expect("assertion for c");
    let crossed = phone.finish(&d.token, &for_c).await.expect("crossed");
    assert_eq!(crossed.error().code, ErrorCode::CodeInvalid);
    assert_eq!(
        failed(next_event(&mut d.events).await),
        ApprovalFailure::PasskeyFailed
    );
    // ... while it still approves its own.
    let granted: ApprovalGranted = phone.finish(&c.token, &for_c).await.expect("c").into();
    assert!(!granted.finish_on_phone);
    assert!(matches!(
        next_event(&mut c.events).await,
        FlowEvent::Approved { .. }
    ));

    let rows = server.audit(&["--user", "ada"]).expect("audit");
    let reasons: Vec<String> = rows
        .iter()
        .filter(|r| r["event"] == "verify_failed")
        .map(|r| r["detail"].as_str().unwrap_or_default().to_string())
        .collect();
    for r in ["denied", "wrong_number", "passkey_failed"] {
        let want = format!("\"reason\":\"{r}\"");
        assert!(
            reasons.iter().any(|x| x.contains(&want)),
            "{r} missing from {reasons:?}"
        );
    }
    // The kiosk can't answer an approval with a code.
    let ch = c.challenge.challenge_id.clone();
    let by_code = kiosk.verify(&c.flow.flow_id, &ch, "123456").await;
    assert_eq!(code_of(by_code), ErrorCode::StepNotAllowed);
}

#[tokio::test]
async fn an_approval_nobody_answers_expires_and_the_kiosk_is_told() {
    let server = server("[approval]\nttl_secs = 2\n").await;
    let mut phone = ada_with_passkey(&server).await;
    let kiosk = server.kiosk().await.expect("kiosk");
    let mut a = start_approval(&kiosk, false).await;
    assert_eq!(a.challenge.expires_in_secs, 2);
    assert_eq!(
        failed(next_event(&mut a.events).await),
        ApprovalFailure::Expired
    );
    let late = phone.open(&a.token).await.expect("late");
    assert_eq!(late.error().code, ErrorCode::NotFound);
    let expired = |rows: &[serde_json::Value]| {
        rows.iter().any(|r| {
            r["event"] == "verify_failed"
                && r["detail"]
                    .as_str()
                    .unwrap_or_default()
                    .contains("\"reason\":\"expired\"")
        })
    };
    let rows = server
        .audit_when(&["--ref", &a.flow.reference], expired)
        .await
        .expect("audit");
    assert!(expired(&rows), "no expiry in {rows:?}");
}

#[tokio::test]
async fn the_new_password_typed_on_the_phone_is_set_and_the_kiosk_shows_done() {
    let server = server("").await;
    let mut phone = ada_with_passkey(&server).await;
    let kiosk = server.kiosk().await.expect("kiosk");
    let settings = kiosk.settings().await.expect("settings");
    assert_eq!(
        settings.password_on_phone,
        sspr_tests::sspr_proto::PasswordOnPhone::Offer
    );
    let mut a = start_approval(&kiosk, true).await;
    assert!(a.challenge.finish_on_phone);
    let (granted, _) = approve(&mut phone, &mut a).await;
    assert!(granted.finish_on_phone);
    assert_eq!(granted.password_rules.map(|r| r.min_length), Some(15));
    let key = granted.password_key.expect("the approving phone's key");
    assert!(matches!(
        next_event(&mut a.events).await,
        FlowEvent::FinishOnPhone { .. }
    ));
    // Someone who photographed the QR code holds the token, not the key: they can't set
    // (or even try) a password.
    let mut bystander = Phone::new(&server).expect("bystander");
    for (path, field) in [
        ("/v1/approval/password", "new_password"),
        ("/v1/approval/password-check", "candidate"),
    ] {
        for wrong in ["", "AAAAAAAAAAAAAAAAAAAAAA"] {
            let taken = bystander
                .post(
                    path,
                    json!({ "token": a.token, "key": wrong, field: "a bystander's own password" }),
                )
                .await
                .expect("bystander");
            assert_eq!(taken.error().code, ErrorCode::Unauthorized);
        }
    }
    // The phone's live check and its refusals work as the kiosk's do.
    let check = phone
        .post(
            "/v1/approval/password-check",
            json!({ "token": a.token, "key": key, "candidate": "short" }),
        )
        .await
        .expect("check");
    assert_eq!(check.body["acceptable"], false);
    let refused = phone
        .post(
            "/v1/approval/password",
            json!({ "token": a.token, "key": key, "new_password": "lovelace lovelace lovelace" }),
        )
        .await
        .expect("refused");
    assert_eq!(refused.error().code, ErrorCode::PasswordRejected);
    let new_password = "typed on my own phone, nobody saw it";
    let done: DoneView = phone
        .post(
            "/v1/approval/password",
            json!({ "token": a.token, "key": key, "new_password": new_password }),
        )
        .await
        .expect("set")
        .into();
    let FlowEvent::Completed { done: shown } = next_event(&mut a.events).await else {
        panic!("the kiosk shows Done")
    };
    assert_eq!(shown, done);
    assert!(server
        .password_is("ada", new_password)
        .await
        .expect("directory"));
    let again = phone
        .post(
            "/v1/approval/password",
            json!({ "token": a.token, "key": key, "new_password": "and once more, another one" }),
        )
        .await
        .expect("again");
    assert_eq!(again.error().code, ErrorCode::NotFound);
}

#[tokio::test]
async fn approvals_count_against_the_hourly_limit_and_decoys_look_the_same() {
    let server = server("").await;
    let mut phone = ada_with_passkey(&server).await;
    let kiosk = server.kiosk().await.expect("kiosk");
    let flow = kiosk
        .start_flow(&start("ada", Intent::Reset))
        .await
        .expect("flow");
    let id = method(&flow, MethodKind::Approval);
    for _ in 0..5 {
        kiosk
            .challenge_with(&flow.flow_id, &id, false)
            .await
            .expect("within the limit");
    }
    let sixth = kiosk.challenge_with(&flow.flow_id, &id, false).await;
    assert_eq!(code_of(sixth), ErrorCode::Throttled);

    // Someone unknown whose decoy stands in for a person with a passkey (Ada: about a
    // quarter of decoys, once the server has read her passkey) gets an approval that
    // opens and asks for a passkey the same way.
    let mut decoy = None;
    'found: for _ in 0..50 {
        for i in 0..40 {
            let flow = kiosk
                .start_flow(&start(&format!("nobody-{i}"), Intent::Reset))
                .await
                .expect("decoy flow");
            if flow.methods.iter().any(|m| m.kind == MethodKind::Approval) {
                decoy = Some(flow);
                break 'found;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let decoy = decoy.expect("a decoy offering approval");
    let mut d = approve_in(&kiosk, decoy, false).await;
    let (info, number) = scan(&mut phone, &mut d).await;
    assert!(info.account.starts_with("n•••"), "{}", info.account);
    let options = phone.number(&d.token, &number).await.expect("number");
    assert!(options.ok(), "{options:?}");
    assert_eq!(
        options.body["options"]["publicKey"]["allowCredentials"]
            .as_array()
            .map(Vec::len),
        Some(1)
    );
    // Ada's passkey is not the one asked for: the phone has nothing to answer with.
    assert!(phone.assert(&options.body["options"]).is_err());
}

#[tokio::test]
async fn with_debug_logging_no_token_password_or_session_reaches_a_log() {
    let server = TestServer::start_with(sspr_tests::Options {
        extra_config: APPROVAL.to_string(),
        log: Some("debug".into()),
        ..sspr_tests::Options::default()
    })
    .await
    .expect("server");
    let mut phone = ada_with_passkey(&server).await;
    let cookie = phone.cookie().unwrap_or_default().to_string();
    let session_id = cookie.split('=').nth(1).unwrap_or_default().to_string();
    assert!(session_id.len() >= 16, "{cookie}");
    let kiosk = server.kiosk().await.expect("kiosk");
    let mut a = start_approval(&kiosk, true).await;
    let (granted, credential) = approve(&mut phone, &mut a).await;
    let key = granted.password_key.unwrap_or_default();
    let new_password = "only the phone ever saw this one";
    let done = phone
        .post(
            "/v1/approval/password",
            json!({ "token": a.token, "key": key, "new_password": new_password }),
        )
        .await
        .expect("set");
    assert!(done.ok(), "{done:?}");
    let signature = credential["response"]["signature"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let log = server.log();
    assert!(log.contains("DEBUG"), "debug logging is on");
    let audit = serde_json::to_string(&server.audit(&[]).expect("audit")).unwrap_or_default();
    for secret in [
        a.token.as_str(),
        key.as_str(),
        ADA_PASSWORD,
        new_password,
        session_id.as_str(),
        signature.as_str(),
    ] {
        assert!(!secret.is_empty());
        assert!(!log.contains(secret), "{secret:?} reached the log");
        assert!(!audit.contains(secret), "{secret:?} reached the audit");
    }
}

/// Behind nginx (round robin, the README's configuration): the kiosk's signed requests
/// and its event stream pass through it, and the number and the result arrive as they
/// happen, not when the stream ends.
#[tokio::test]
async fn approval_events_reach_a_kiosk_through_nginx() {
    let port = sspr_tests::free_port().expect("port");
    let server = TestServer::start_with(sspr_tests::Options {
        extra_config: APPROVAL.to_string(),
        public_url: Some(format!("http://127.0.0.1:{port}")),
        ..sspr_tests::Options::default()
    })
    .await
    .expect("server");
    let lb = sspr_tests::nginx::Nginx::start(port, &[server.addr.port()]).expect("nginx");
    let mut phone = ada_with_passkey(&server).await;
    let kiosk = server.kiosk().await.expect("kiosk");
    let mut a = tokio::time::timeout(Duration::from_secs(10), start_approval(&kiosk, false))
        .await
        .unwrap_or_else(|_| {
            panic!(
                "the event stream opened through nginx: {:#?}\n{}\n{}",
                lb.requests(),
                lb.log(),
                server.log()
            )
        });
    let (granted, _) = approve(&mut phone, &mut a).await;
    assert!(!granted.finish_on_phone);
    assert!(matches!(
        next_event(&mut a.events).await,
        FlowEvent::Approved { .. }
    ));
    let seen = lb.requests();
    assert!(
        seen.iter().any(|l| l.starts_with("POST /v1/flows ")),
        "the kiosk went through nginx: {seen:?}"
    );
}
