//! Throttles: Entra's numbers by default, per person and per kiosk, and never the
//! directory's own lockout.

use sspr_tests::sspr_proto::{ErrorCode, Intent, MethodKind};
use sspr_tests::{Options, TestServer, ADA_TOTP};

use super::*;

/// One flow with one wrong email code; the error it gets. For a real person pass their
/// address, so the code mail is delivered before the next step counts mails.
async fn fail_code_mailed(
    server: &TestServer,
    kiosk: &Client,
    login: &str,
    to: Option<&str>,
) -> ErrorCode {
    let seen = to.map(|t| server.code_mails_to(t).len());
    let flow = kiosk
        .start_flow(&start(login, Intent::Reset))
        .await
        .expect("flow");
    let ch = kiosk
        .challenge(&flow.flow_id, &method(&flow, MethodKind::Email))
        .await
        .expect("challenge");
    if let (Some(to), Some(seen)) = (to, seen) {
        server.code_mail(to, seen).await.expect("code mail");
    }
    code_of(
        kiosk
            .verify(&flow.flow_id, &ch.challenge_id, "0000000")
            .await,
    )
}

async fn fail_code(kiosk: &Client, login: &str) -> ErrorCode {
    let flow = kiosk
        .start_flow(&start(login, Intent::Reset))
        .await
        .expect("flow");
    let ch = kiosk
        .challenge(&flow.flow_id, &method(&flow, MethodKind::Email))
        .await
        .expect("challenge");
    code_of(
        kiosk
            .verify(&flow.flow_id, &ch.challenge_id, "0000000")
            .await,
    )
}

#[tokio::test]
async fn five_failures_block_the_person_for_a_day_and_not_the_directory_account() {
    let server = TestServer::start().await.expect("server");
    let kiosk = server.kiosk().await.expect("kiosk");
    let flow = kiosk
        .start_flow(&start("ada", Intent::Reset))
        .await
        .expect("flow");
    let ch = kiosk
        .challenge(&flow.flow_id, &method(&flow, MethodKind::Totp))
        .await
        .expect("challenge");
    // New challenges don't reset the count: spread the failures over two.
    for _ in 0..2 {
        let r = kiosk
            .verify(&flow.flow_id, &ch.challenge_id, "000000")
            .await;
        assert_eq!(code_of(r), ErrorCode::CodeInvalid);
    }
    let ch = kiosk
        .challenge(&flow.flow_id, &method(&flow, MethodKind::Totp))
        .await
        .expect("challenge");
    for _ in 0..2 {
        let r = kiosk
            .verify(&flow.flow_id, &ch.challenge_id, "000000")
            .await;
        assert_eq!(code_of(r), ErrorCode::CodeInvalid);
    }
    let fifth = kiosk
        .verify(&flow.flow_id, &ch.challenge_id, "000000")
        .await;
    let Err(ClientError::Api { status, body }) = fifth else {
        panic!("fifth failure should block: {fifth:?}")
    };
    assert_eq!((status, body.code), (429, ErrorCode::Blocked));
    let retry = body.retry_after_secs.expect("retry after");
    assert!((86_000..=86_400).contains(&retry), "{retry}");
    assert_eq!(body.reference.as_deref(), Some(flow.reference.as_str()));

    // Even the right code is refused now, and a new flow is refused at once.
    let right = kiosk
        .verify(
            &flow.flow_id,
            &ch.challenge_id,
            &sspr_tests::totp_now(ADA_TOTP),
        )
        .await;
    assert_eq!(code_of(right), ErrorCode::Blocked);
    let Err(ClientError::Api { body, .. }) = kiosk.start_flow(&start("ada", Intent::Reset)).await
    else {
        panic!("a blocked person may not start")
    };
    assert_eq!(body.code, ErrorCode::Blocked);
    assert!(body.reference.is_some(), "the helpdesk needs a reference");
    // By email address too: the block is the person's, not the login's.
    let by_email = kiosk
        .start_flow(&start("ada.lovelace@example.org", Intent::Reset))
        .await;
    assert_eq!(code_of(by_email), ErrorCode::Blocked);
    // Others are not affected; the directory account is not locked.
    kiosk
        .start_flow(&start("grace", Intent::Reset))
        .await
        .expect("grace may start");
    assert!(!is_locked(&server, "ada").await);

    let blocked = server.audit(&["--user", "ada"]).expect("audit");
    assert!(blocked.iter().any(|r| r["event"] == "blocked"));
}

#[tokio::test]
async fn unknown_logins_are_blocked_the_same_way() {
    let server = TestServer::start().await.expect("server");
    let kiosk = server.kiosk().await.expect("kiosk");
    for _ in 0..4 {
        assert_eq!(fail_code(&kiosk, "nobody").await, ErrorCode::CodeInvalid);
    }
    assert_eq!(fail_code(&kiosk, "nobody").await, ErrorCode::Blocked);
    assert_eq!(
        code_of(kiosk.start_flow(&start("NOBODY", Intent::Reset)).await),
        ErrorCode::Blocked
    );
}

#[tokio::test]
async fn counters_clear_after_a_successful_reset() {
    let server = TestServer::start().await.expect("server");
    let kiosk = server.kiosk().await.expect("kiosk");
    let to = Some("ada@home.example.net");
    for _ in 0..4 {
        assert_eq!(
            fail_code_mailed(&server, &kiosk, "ada", to).await,
            ErrorCode::CodeInvalid
        );
    }
    let flow = kiosk
        .start_flow(&start("ada", Intent::Reset))
        .await
        .expect("flow");
    let flow = verify_email(&server, &kiosk, &flow, "ada@home.example.net").await;
    kiosk
        .set_password(&flow.flow_id, "violet kettle under maple rain")
        .await
        .expect("reset");
    // Four more failures do not block: the earlier four were cleared.
    let to = Some("ada@home.example.net");
    for _ in 0..4 {
        assert_eq!(
            fail_code_mailed(&server, &kiosk, "ada", to).await,
            ErrorCode::CodeInvalid
        );
    }
    kiosk
        .start_flow(&start("ada", Intent::Reset))
        .await
        .expect("not blocked");
}

#[tokio::test]
async fn email_and_authenticator_challenges_are_rate_limited() {
    let server = TestServer::with_config("[policy]\nresend_after_secs = 0\n")
        .await
        .expect("server");
    let kiosk = server.kiosk().await.expect("kiosk");
    let flow = kiosk
        .start_flow(&start("ada", Intent::Reset))
        .await
        .expect("flow");
    for _ in 0..10 {
        kiosk
            .challenge(&flow.flow_id, &method(&flow, MethodKind::Email))
            .await
            .expect("within 10 emails");
    }
    let Err(ClientError::Api { status, body }) = kiosk
        .challenge(&flow.flow_id, &method(&flow, MethodKind::Email))
        .await
    else {
        panic!("the 11th email in 10 minutes must be refused")
    };
    assert_eq!((status, body.code), (429, ErrorCode::Throttled));
    assert!(body.retry_after_secs.is_some_and(|s| s <= 600));

    for _ in 0..5 {
        kiosk
            .challenge(&flow.flow_id, &method(&flow, MethodKind::Totp))
            .await
            .expect("within 5 an hour");
    }
    let sixth = kiosk
        .challenge(&flow.flow_id, &method(&flow, MethodKind::Totp))
        .await;
    assert_eq!(code_of(sixth), ErrorCode::Throttled);
}

#[tokio::test]
async fn resend_waits_for_the_cooldown() {
    let server = TestServer::start().await.expect("server");
    let kiosk = server.kiosk().await.expect("kiosk");
    let flow = kiosk
        .start_flow(&start("ada", Intent::Reset))
        .await
        .expect("flow");
    let ch = kiosk
        .challenge(&flow.flow_id, &method(&flow, MethodKind::Email))
        .await
        .expect("first");
    assert_eq!(ch.resend_after_secs, 30);
    let Err(ClientError::Api { body, .. }) = kiosk
        .challenge(&flow.flow_id, &method(&flow, MethodKind::Email))
        .await
    else {
        panic!("resend inside the cooldown")
    };
    assert_eq!(body.code, ErrorCode::Throttled);
    assert!(body.retry_after_secs.is_some_and(|s| (1..=30).contains(&s)));
}

#[tokio::test]
async fn too_many_resets_of_one_account_block_it() {
    let server = TestServer::with_config("[throttle]\nresets = { max = 2, window_secs = 3600 }\n")
        .await
        .expect("server");
    let kiosk = server.kiosk().await.expect("kiosk");
    let passwords = [
        "violet kettle under maple rain",
        "amber lantern over quiet dunes",
        "cobalt meadow beneath paper kites",
    ];
    for (i, pw) in passwords.iter().enumerate() {
        let flow = kiosk
            .start_flow(&start("ada", Intent::Reset))
            .await
            .expect("flow");
        let flow = verify_email(&server, &kiosk, &flow, "ada@home.example.net").await;
        let r = kiosk.set_password(&flow.flow_id, pw).await;
        if i < 2 {
            r.expect("within the limit");
        } else {
            assert_eq!(code_of(r), ErrorCode::Blocked);
            assert!(directory_password_is(&server, "ada", passwords[1]).await);
        }
    }
    assert_eq!(
        code_of(kiosk.start_flow(&start("ada", Intent::Reset)).await),
        ErrorCode::Blocked
    );
}

#[tokio::test]
async fn a_kiosk_with_too_many_failures_is_blocked_for_everyone() {
    let server = TestServer::start_with(Options {
        extra_config: "[throttle]\nkiosk_failed_verifications = { max = 3, window_secs = 3600 }\n"
            .into(),
        ..Options::default()
    })
    .await
    .expect("server");
    let kiosk = server.kiosk().await.expect("kiosk");
    let other = server.kiosk_named("Other").await.expect("other");
    assert_eq!(fail_code(&kiosk, "nobody1").await, ErrorCode::CodeInvalid);
    assert_eq!(fail_code(&kiosk, "nobody2").await, ErrorCode::CodeInvalid);
    assert_eq!(fail_code(&kiosk, "nobody3").await, ErrorCode::Blocked);
    assert_eq!(
        code_of(kiosk.start_flow(&start("ada", Intent::Reset)).await),
        ErrorCode::Blocked
    );
    other
        .start_flow(&start("ada", Intent::Reset))
        .await
        .expect("other kiosks work");
}
