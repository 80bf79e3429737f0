//! Approval by QR code with a software passkey: registered on "My security info", then
//! approve, deny, expiry, a wrong number, a replayed answer, another flow's token, and the
//! new password typed on the phone. The kiosk side listens to the real event stream.

use std::time::Duration;

use serde_json::json;
use sspr_tests::phone::{token_of, Phone};
use sspr_tests::sspr_client::{Client, EventStream};
use sspr_tests::sspr_proto::{
    ApprovalFailure, ApprovalGranted, ApprovalInfo, ChallengeView, DoneView, ErrorCode, FlowEvent,
    FlowState, FlowView, Intent, MethodKind, MySession,
};
use sspr_tests::{TestServer, ADA_PASSWORD, ADA_TOTP};

use super::{code_of, method, start};

const APPROVAL: &str = r#"
[policy]
methods = ["email", "totp", "approval"]
"#;

async fn server(extra: &str) -> TestServer {
    TestServer::with_config(&format!("{APPROVAL}\n{extra}"))
        .await
        .expect("server")
}

/// Ada signs in on her phone (password, then her authenticator app) and adds a passkey.
async fn ada_with_passkey(server: &TestServer) -> Phone {
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

async fn next_event(events: &mut EventStream) -> FlowEvent {
    tokio::time::timeout(Duration::from_secs(10), events.next())
        .await
        .expect("an event within 10 s")
        .expect("the stream is open")
        .expect("a valid event")
}

struct Approval {
    flow: FlowView,
    challenge: ChallengeView,
    token: String,
    events: EventStream,
}

async fn start_approval(kiosk: &Client, finish_on_phone: bool) -> Approval {
    let flow = kiosk
        .start_flow(&start("ada", Intent::Reset))
        .await
        .expect("flow");
    approve_in(kiosk, flow, finish_on_phone).await
}

async fn approve_in(kiosk: &Client, flow: FlowView, finish_on_phone: bool) -> Approval {
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
async fn approve(phone: &mut Phone, a: &mut Approval) -> (ApprovalGranted, serde_json::Value) {
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
async fn my_security_info_asks_for_a_method_and_tells_of_every_change() {
    let server = server("").await;
    let mut phone = Phone::new(&server).expect("phone");
    let wrong = phone
        .sign_in("ada", "not her password")
        .await
        .expect("wrong");
    assert_eq!(wrong.error().code, ErrorCode::Unauthorized);
    let unknown = phone
        .sign_in("nobody", "whatever it is")
        .await
        .expect("unknown");
    assert_eq!(
        unknown.error(),
        wrong.error(),
        "unknown logins look the same"
    );
    // Grace is locked out: her right password signs her in no more than a wrong one
    // would (as slapd's and AD's binds refuse a locked account), and counts the same.
    let locked = phone
        .sign_in("grace", sspr_tests::GRACE_PASSWORD)
        .await
        .expect("locked");
    assert_eq!(locked.error(), wrong.error(), "a locked account signs in");
    assert!(phone.cookie().is_none() || !phone.session().await.expect("session").ok());
    let failures = server
        .audit(&["--user", "grace"])
        .expect("audit")
        .iter()
        .filter(|r| r["event"] == "security_info_sign_in_failed")
        .count();
    assert_eq!(failures, 1, "counted as a failed sign-in");
    let no_session = phone
        .send(reqwest::Method::GET, "/v1/my/session", None)
        .await
        .expect("session");
    assert_eq!(no_session.status, 401);

    let session: MySession = phone
        .sign_in("ada", ADA_PASSWORD)
        .await
        .expect("sign in")
        .into();
    assert!(!session.signed_in && session.methods.is_empty());
    // Nothing can be changed with the password alone.
    let early = phone
        .post("/v1/my/authenticator/start", json!({}))
        .await
        .expect("early");
    assert_eq!(early.error().code, ErrorCode::StepNotAllowed);
    let email = session
        .second_factor
        .iter()
        .find(|m| m.kind == MethodKind::Email)
        .expect("email offered")
        .id
        .clone();
    let seen = server.code_mails_to("ada@home.example.net").len();
    let challenge = phone
        .post("/v1/my/second-factor/start", json!({ "method_id": email }))
        .await
        .expect("start");
    assert_eq!(challenge.body["sent_to"], "a•••@h•••.net");
    let code = server
        .code_mail("ada@home.example.net", seen)
        .await
        .expect("code");
    let session: MySession = phone
        .post("/v1/my/second-factor/finish", json!({ "code": code }))
        .await
        .expect("finish")
        .into();
    assert!(session.signed_in);
    assert_eq!(session.methods.len(), 2);

    // An authenticator app: shown once, confirmed with one code.
    let setup = phone
        .post("/v1/my/authenticator/start", json!({}))
        .await
        .expect("setup");
    let secret = setup.body["secret"]
        .as_str()
        .unwrap_or_default()
        .replace(' ', "");
    assert!(setup.body["uri"]
        .as_str()
        .unwrap_or_default()
        .starts_with("otpauth://totp/"));
    assert!(setup.body["qr_svg"]
        .as_str()
        .unwrap_or_default()
        .contains("<svg"));
    let bad = phone
        .post("/v1/my/authenticator/finish", json!({ "code": "000000" }))
        .await
        .expect("bad");
    assert_eq!(bad.error().code, ErrorCode::CodeInvalid);
    let session: MySession = phone
        .post(
            "/v1/my/authenticator/finish",
            json!({ "code": sspr_tests::totp_now(&secret) }),
        )
        .await
        .expect("confirm")
        .into();
    assert_eq!(session.methods.len(), 3);
    // The store keeps the app's secret sealed, never as it was shown.
    let stored: Vec<String> = sqlx::query_scalar("SELECT value FROM registrations")
        .fetch_all(&super::db(&server).await)
        .await
        .expect("registrations");
    assert!(stored.iter().all(|v| !v.contains(&secret)), "{stored:?}");

    // An alternate email, confirmed with the code sent there.
    let bad_address = phone
        .post("/v1/my/email/start", json!({ "email": "not an address" }))
        .await
        .expect("bad address");
    assert_eq!(bad_address.error().code, ErrorCode::BadRequest);
    let started = phone
        .post(
            "/v1/my/email/start",
            json!({ "email": "ada@work.example.com" }),
        )
        .await
        .expect("email");
    assert_eq!(started.status, 204);
    let code = server
        .code_mail("ada@work.example.com", 0)
        .await
        .expect("code");
    let session: MySession = phone
        .post("/v1/my/email/finish", json!({ "code": code }))
        .await
        .expect("confirm email")
        .into();
    let added = session
        .methods
        .iter()
        .find(|m| m.detail == "ada@work.example.com")
        .expect("listed")
        .id
        .clone();

    // Removing it is told to that address too.
    let session: MySession = phone
        .send(
            reqwest::Method::DELETE,
            &format!("/v1/my/methods/{added}"),
            None,
        )
        .await
        .expect("remove")
        .into();
    assert_eq!(session.methods.len(), 3);
    server
        .mailbox
        .wait_for(
            |m| m.to.iter().any(|t| t == "ada@work.example.com") && m.text.contains("removed"),
            Duration::from_secs(10),
        )
        .await
        .expect("the removed address hears of it");
    let alans: i64 = sqlx::query_scalar(
        "SELECT r.id FROM registrations r JOIN dir_users u ON u.id = r.user_id WHERE u.username = 'alan' LIMIT 1",
    )
    .fetch_one(&super::db(&server).await)
    .await
    .expect("alan's registration");
    let not_hers = phone
        .send(
            reqwest::Method::DELETE,
            &format!("/v1/my/methods/{alans}"),
            None,
        )
        .await
        .expect("other");
    assert_eq!(not_hers.status, 404, "that method is Alan's");

    let events: Vec<String> = server
        .audit(&["--user", "ada"])
        .expect("audit")
        .iter()
        .map(|r| r["event"].as_str().unwrap_or_default().to_string())
        .collect();
    for e in [
        "security_info_sign_in_failed",
        "security_info_sign_in",
        "method_registered",
        "method_removed",
    ] {
        assert!(events.iter().any(|x| x == e), "{e} missing from {events:?}");
    }
    let log = server.log();
    for secret in [ADA_PASSWORD, secret.as_str(), code.as_str()] {
        assert!(!log.contains(secret), "a secret reached the log");
    }
    let signed_out = phone
        .post("/v1/my/sign-out", json!({}))
        .await
        .expect("sign out");
    assert_eq!(signed_out.status, 204);
    let gone = phone
        .send(reqwest::Method::GET, "/v1/my/session", None)
        .await
        .expect("session");
    assert_eq!(gone.status, 401);
}

#[tokio::test]
async fn wrong_passwords_on_my_security_info_block_that_page_not_the_kiosk() {
    let server = server("").await;
    let mut phone = Phone::new(&server).expect("phone");
    // A login nobody has ("nobody") and a disabled one (edsger) answer exactly as Ada's
    // does, wrong password after wrong password, up to the block: it can't tell who exists.
    let mut fifths = Vec::new();
    for login in ["ada", "nobody", "edsger"] {
        for _ in 0..4 {
            let wrong = phone
                .sign_in(login, "a wrong guess here")
                .await
                .expect("wrong");
            assert_eq!(wrong.error().code, ErrorCode::Unauthorized, "{login}");
        }
        // The fifth failure blocks.
        let fifth = phone
            .sign_in(login, "a wrong guess here")
            .await
            .expect("fifth");
        assert_eq!(fifth.error().code, ErrorCode::Blocked, "{login}");
        fifths.push((fifth.status, fifth.error().message.clone()));
    }
    assert!(fifths.windows(2).all(|w| w[0] == w[1]), "{fifths:?}");
    // Then even the right password waits.
    let blocked = phone.sign_in("ada", ADA_PASSWORD).await.expect("blocked");
    assert_eq!(blocked.error().code, ErrorCode::Blocked);
    // Ada can still reset at a kiosk.
    let kiosk = server.kiosk().await.expect("kiosk");
    let flow = kiosk
        .start_flow(&start("ada", Intent::Reset))
        .await
        .expect("not blocked at the kiosk");
    super::verify_email(&server, &kiosk, &flow, "ada@home.example.net").await;
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

#[tokio::test]
async fn my_security_info_asks_to_confirm_methods_that_were_not_looked_at_for_long() {
    let server = TestServer::with_config("[policy]\nreconfirm_days = 30\n")
        .await
        .expect("server");
    let ada_id: String = sqlx::query_scalar("SELECT id FROM dir_users WHERE username = 'ada'")
        .fetch_one(&super::db(&server).await)
        .await
        .expect("ada");
    let age = |table: &'static str, column: &'static str, days: i64| {
        let (server, ada_id) = (&server, ada_id.clone());
        async move {
            let sql = format!("UPDATE {table} SET {column} = {column} - ? WHERE user_id = ?");
            sqlx::query(&sql)
                .bind(days * 86_400)
                .bind(ada_id)
                .execute(&server.db_writable().await.expect("store"))
                .await
                .expect("age the rows");
        }
    };
    let mut phone = Phone::new(&server).expect("phone");
    // Half signed in (the password alone), nothing can be confirmed.
    let half: MySession = phone
        .sign_in("ada", ADA_PASSWORD)
        .await
        .expect("sign in")
        .into();
    assert!(!half.signed_in && !half.review_due && half.reviewed_at.is_none());
    let early = phone.post("/v1/my/review", json!({})).await.expect("early");
    assert_eq!(early.error().code, ErrorCode::StepNotAllowed);

    let fresh = phone
        .sign_in_with_totp("ada", ADA_PASSWORD, ADA_TOTP)
        .await
        .expect("signed in");
    assert!(fresh.signed_in && !fresh.review_due, "{fresh:?}");
    assert_eq!(fresh.review_days, 30);
    assert!(fresh.reviewed_at.is_some(), "adding the methods counts");

    // Her methods were added 31 days ago: the page asks.
    age("registrations", "created_at", 31).await;
    let due: MySession = phone.session().await.expect("session").into();
    assert!(due.review_due, "{due:?}");
    let confirmed: MySession = phone
        .post("/v1/my/review", json!({}))
        .await
        .expect("review")
        .into();
    assert!(!confirmed.review_due && confirmed.methods == due.methods);
    assert!(
        confirmed.reviewed_at > due.reviewed_at,
        "{confirmed:?} {due:?}"
    );
    let trail = server.audit(&["--user", "ada"]).expect("audit");
    assert!(trail.iter().any(|r| r["event"] == "security_info_reviewed"));

    // Another 31 days: asked again; removing a method is looking them over too.
    age("reviews", "reviewed_at", 31).await;
    let due: MySession = phone.session().await.expect("session").into();
    assert!(due.review_due);
    let email = due
        .methods
        .iter()
        .find(|m| m.kind == MethodKind::Email)
        .expect("an email method");
    let removed: MySession = phone
        .send(
            reqwest::Method::DELETE,
            &format!("/v1/my/methods/{}", email.id),
            None,
        )
        .await
        .expect("remove")
        .into();
    assert!(!removed.review_due && removed.methods.len() == due.methods.len() - 1);

    // Barbara has nothing to confirm.
    let mut barbara = Phone::new(&server).expect("phone");
    let none: MySession = barbara
        .sign_in("barbara", sspr_tests::BARBARA_PASSWORD)
        .await
        .expect("sign in")
        .into();
    assert!(none.signed_in && !none.review_due && none.reviewed_at.is_none());
    let nothing = barbara
        .post("/v1/my/review", json!({}))
        .await
        .expect("review");
    assert_eq!(nothing.error().code, ErrorCode::StepNotAllowed);
}

/// The helpdesk clears a person's methods (a lost phone): the person is told, it is
/// audited, the kiosk offers them nothing real any more, and "My security info" lets them
/// in with their password alone to set up again.
// Multi-threaded: the admin command blocks this thread while the test's mailbox takes
// its mail.
#[tokio::test(flavor = "multi_thread")]
async fn the_helpdesk_clears_a_persons_methods_and_they_set_up_again() {
    let server = TestServer::start().await.expect("server");
    let said = server
        .admin(&["directory", "clear-methods", "ada"])
        .expect("clear");
    assert!(said.contains("removed 2 method(s) of ada"), "{said}");
    server
        .mail_to("ada.lovelace@example.org", "security info changed")
        .await
        .expect("ada is told");
    let trail = server.audit(&["--user", "ada"]).expect("audit");
    assert_eq!(
        trail
            .iter()
            .filter(|r| r["event"] == "method_removed")
            .count(),
        2,
        "{trail:?}"
    );
    let mut phone = Phone::new(&server).expect("phone");
    let session: MySession = phone
        .sign_in("ada", ADA_PASSWORD)
        .await
        .expect("sign in")
        .into();
    assert!(
        session.signed_in && session.methods.is_empty(),
        "{session:?}"
    );
    // Nobody to clear: said so, nothing else happens.
    let none = server
        .admin(&["directory", "clear-methods", "nobody-here"])
        .expect_err("unknown login");
    assert!(none.to_string().contains("no one with login"), "{none}");
}
