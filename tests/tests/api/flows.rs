//! What a locked-out person does: reset, unlock, and the order the server insists on.

use sspr_tests::sspr_proto::{
    ErrorCode, FlowState, Intent, MethodKind, Outcome, PasswordReasonCode,
};
use sspr_tests::{Options, TestServer, ADA_TOTP, ALAN_TOTP, GRACE_TOTP};

use super::*;

const NEW_PASSWORD: &str = "violet kettle under maple rain";

#[tokio::test]
async fn ada_resets_with_an_email_code_and_notices_go_out() {
    let server = TestServer::start().await.expect("server");
    let kiosk = server.kiosk().await.expect("kiosk");

    let settings = kiosk.settings().await.expect("settings");
    assert_eq!(settings.organization, "Test Org");
    assert_eq!(
        settings.helpdesk.url.as_deref(),
        Some("https://help.example.org/password")
    );
    assert_eq!(settings.kiosk_name, "Test kiosk");

    // Log in by email address, in another case: the same person.
    let flow = kiosk
        .start_flow(&start("Ada.Lovelace@example.org", Intent::Reset))
        .await
        .expect("flow");
    assert_eq!(flow.required, 1);
    assert_eq!(flow.state, FlowState::Verifying);
    assert_eq!(flow.password_rules.min_length, 15);
    let email = flow
        .methods
        .iter()
        .find(|m| m.kind == MethodKind::Email)
        .expect("email method");
    assert_eq!(email.masked, "a•••@h•••.net");
    assert!(flow.expires_in_secs > 800 && flow.expires_in_secs <= 900);

    let flow = verify_email(&server, &kiosk, &flow, "ada@home.example.net").await;
    assert_eq!(flow.state, FlowState::Verified);
    assert_eq!(flow.done, 1);

    let check = kiosk
        .password_check(&flow.flow_id, "lovelace")
        .await
        .expect("check");
    let codes: Vec<_> = check.reasons.iter().map(|r| r.code).collect();
    assert!(!check.acceptable);
    assert!(codes.contains(&PasswordReasonCode::TooShort), "{codes:?}");
    assert!(
        codes.contains(&PasswordReasonCode::ContainsName),
        "{codes:?}"
    );
    let check = kiosk
        .password_check(&flow.flow_id, "Password2024Summer!")
        .await
        .expect("check");
    assert!(
        check
            .reasons
            .iter()
            .any(|r| r.code == PasswordReasonCode::Banned),
        "{check:?}"
    );
    let check = kiosk
        .password_check(&flow.flow_id, NEW_PASSWORD)
        .await
        .expect("check");
    assert!(check.acceptable, "{check:?}");

    // A refused password changes nothing and leaves the flow open.
    let refused = kiosk.set_password(&flow.flow_id, "short").await;
    assert_eq!(code_of(refused), ErrorCode::PasswordRejected);

    let done = kiosk
        .set_password(&flow.flow_id, NEW_PASSWORD)
        .await
        .expect("reset");
    assert_eq!(done.outcome, Outcome::PasswordReset);
    assert_eq!(done.reference, flow.reference);
    assert!(done.directories.iter().all(|d| d.ok));
    assert!(directory_password_is(&server, "ada", NEW_PASSWORD).await);

    // The person hears of it at both addresses; no admin notice for a non-admin.
    let notice = server
        .mail_to("ada.lovelace@example.org", "password was changed")
        .await
        .expect("notice");
    assert!(notice.text.contains(&flow.reference));
    assert!(notice.text.contains("Test kiosk"));
    server
        .mail_to("ada@home.example.net", "password was changed")
        .await
        .expect("notice");
    assert!(server.mails_to("alan.turing@example.org").is_empty());

    // Done is done: a second reset is refused.
    let again = kiosk
        .set_password(&flow.flow_id, "another long passphrase here")
        .await;
    assert_eq!(code_of(again), ErrorCode::StepNotAllowed);

    let trail: Vec<String> = server
        .audit(&["--ref", &flow.reference])
        .expect("audit")
        .iter()
        .map(|r| r["event"].as_str().unwrap_or_default().to_string())
        .collect();
    for e in [
        "flow_started",
        "challenge_sent",
        "verify_succeeded",
        "password_rejected",
        "password_reset",
        "step_refused",
    ] {
        assert!(trail.iter().any(|t| t == e), "{e} missing from {trail:?}");
    }
    let rows = server
        .audit(&["--user", "ada.lovelace@example.org"])
        .expect("audit");
    assert!(rows
        .iter()
        .all(|r| r["kiosk_id"].as_str() == kiosk.kiosk_id()));
    assert!(rows
        .iter()
        .all(|r| r["at"].as_str().is_some_and(|t| t.ends_with('Z'))));
    assert!(rows
        .iter()
        .all(|r| !r["correlation_id"].as_str().unwrap_or_default().is_empty()));
}

#[tokio::test]
async fn an_administrator_needs_two_methods_and_every_admin_is_told() {
    let server = TestServer::start().await.expect("server");
    let kiosk = server.kiosk().await.expect("kiosk");
    let flow = kiosk
        .start_flow(&start("alan", Intent::Reset))
        .await
        .expect("flow");
    assert_eq!(flow.required, 2);

    let flow = verify_email(&server, &kiosk, &flow, "alan@home.example.net").await;
    assert_eq!(flow.state, FlowState::Verifying, "one of two is not enough");
    let early = kiosk.set_password(&flow.flow_id, NEW_PASSWORD).await;
    assert_eq!(code_of(early), ErrorCode::StepNotAllowed);
    // The verified method can't be challenged again.
    let again = kiosk
        .challenge(&flow.flow_id, &method(&flow, MethodKind::Email))
        .await;
    assert_eq!(code_of(again), ErrorCode::StepNotAllowed);

    let flow = verify_totp(&kiosk, &flow, ALAN_TOTP).await;
    assert_eq!(flow.state, FlowState::Verified);
    assert_eq!(flow.done, 2);
    kiosk
        .set_password(&flow.flow_id, NEW_PASSWORD)
        .await
        .expect("reset");
    assert!(directory_password_is(&server, "alan", NEW_PASSWORD).await);

    for admin in ["alan.turing@example.org", "margaret.hamilton@example.org"] {
        let m = server
            .mail_to(admin, "administrator alan reset")
            .await
            .expect("admin notice");
        assert!(m.text.contains(&flow.reference));
    }
}

#[tokio::test]
async fn grace_unlocks_without_a_reset() {
    let server = TestServer::start().await.expect("server");
    let kiosk = server.kiosk().await.expect("kiosk");
    assert!(is_locked(&server, "grace").await);

    let flow = kiosk
        .start_flow(&start("grace", Intent::Unlock))
        .await
        .expect("flow");
    assert!(flow.unlock_allowed);
    let early = kiosk.unlock(&flow.flow_id).await;
    assert_eq!(code_of(early), ErrorCode::StepNotAllowed);
    assert!(is_locked(&server, "grace").await);

    let flow = verify_totp(&kiosk, &flow, GRACE_TOTP).await;
    let done = kiosk.unlock(&flow.flow_id).await.expect("unlock");
    assert_eq!(done.outcome, Outcome::Unlocked);
    assert!(!is_locked(&server, "grace").await);
    server
        .mail_to("grace.hopper@example.org", "account was unlocked")
        .await
        .expect("notice");

    // A reset flow can't be turned into an unlock.
    let flow = kiosk
        .start_flow(&start("grace", Intent::Reset))
        .await
        .expect("flow");
    let flow = verify_email(&server, &kiosk, &flow, "grace@home.example.net").await;
    assert!(!flow.unlock_allowed);
    assert_eq!(
        code_of(kiosk.unlock(&flow.flow_id).await),
        ErrorCode::NotAllowed
    );
}

#[tokio::test]
async fn a_reset_also_clears_a_lockout() {
    let server = TestServer::start().await.expect("server");
    let kiosk = server.kiosk().await.expect("kiosk");
    let flow = kiosk
        .start_flow(&start("grace", Intent::Reset))
        .await
        .expect("flow");
    let flow = verify_email(&server, &kiosk, &flow, "grace@home.example.net").await;
    kiosk
        .set_password(&flow.flow_id, NEW_PASSWORD)
        .await
        .expect("reset");
    assert!(!is_locked(&server, "grace").await);
}

#[tokio::test]
async fn codes_are_single_use_and_bound_to_their_flow() {
    // A code's expiry is a unit test on a clock (flow::tests), not a sleep here.
    let server = TestServer::start_with(Options {
        extra_config: "[policy]\nresend_after_secs = 0\nmethods_required = 2\n".into(),
        ..Options::default()
    })
    .await
    .expect("server");
    let kiosk = server.kiosk().await.expect("kiosk");
    let to = "ada@home.example.net";

    // A code from flow A does not fit flow B.
    let a = kiosk
        .start_flow(&start("ada", Intent::Reset))
        .await
        .expect("flow a");
    let b = kiosk
        .start_flow(&start("ada", Intent::Reset))
        .await
        .expect("flow b");
    let seen = server.code_mails_to(to).len();
    kiosk
        .challenge(&a.flow_id, &method(&a, MethodKind::Email))
        .await
        .expect("challenge a");
    let code_a = server.code_mail(to, seen).await.expect("code a");
    let seen = server.code_mails_to(to).len();
    let ch_b = kiosk
        .challenge(&b.flow_id, &method(&b, MethodKind::Email))
        .await
        .expect("challenge b");
    let code_b = server.code_mail(to, seen).await.expect("code b");
    assert_eq!(ch_b.code_length, 6);
    assert_eq!(ch_b.sent_to.as_deref(), Some("a•••@h•••.net"));
    if code_a != code_b {
        let wrong = kiosk.verify(&b.flow_id, &ch_b.challenge_id, &code_a).await;
        assert_eq!(code_of(wrong), ErrorCode::CodeInvalid);
    }
    // A challenge of flow B is not found through flow A.
    let cross = kiosk.verify(&a.flow_id, &ch_b.challenge_id, &code_b).await;
    assert_eq!(code_of(cross), ErrorCode::NotFound);

    // Single use: the flow moves on, and the same code again is refused.
    let b2 = kiosk
        .verify(&b.flow_id, &ch_b.challenge_id, &code_b)
        .await
        .expect("verify");
    assert_eq!(b2.done, 1);
    let again = kiosk.verify(&b.flow_id, &ch_b.challenge_id, &code_b).await;
    assert_eq!(code_of(again), ErrorCode::StepNotAllowed);

    // A newer code replaces the older one.
    let c = kiosk
        .start_flow(&start("ada", Intent::Reset))
        .await
        .expect("flow c");
    let seen = server.code_mails_to(to).len();
    let first = kiosk
        .challenge(&c.flow_id, &method(&c, MethodKind::Email))
        .await
        .expect("first");
    let first_code = server.code_mail(to, seen).await.expect("code");
    let seen = server.code_mails_to(to).len();
    kiosk
        .challenge(&c.flow_id, &method(&c, MethodKind::Email))
        .await
        .expect("second");
    server.code_mail(to, seen).await.expect("code");
    let old = kiosk
        .verify(&c.flow_id, &first.challenge_id, &first_code)
        .await;
    assert_eq!(code_of(old), ErrorCode::CodeExpired);
}

#[tokio::test]
async fn authenticator_codes_take_one_step_either_side_and_never_twice() {
    let server = TestServer::with_config("[policy]\nmethods_required = 1\n")
        .await
        .expect("server");
    let kiosk = server.kiosk().await.expect("kiosk");

    let flow = kiosk
        .start_flow(&start("ada", Intent::Reset))
        .await
        .expect("flow");
    let ch = kiosk
        .challenge(&flow.flow_id, &method(&flow, MethodKind::Totp))
        .await
        .expect("challenge");
    // Far enough from the step's end that the server is in the same step
    // when it checks (a loaded CI machine once crossed it in between).
    let now = sspr_tests::unix_now_in_step(10).await;
    assert_eq!(ch.kind, MethodKind::Totp);
    assert!(ch.sent_to.is_none());
    // Three steps back is too old.
    let stale = sspr_tests::totp_at(ADA_TOTP, now - 90);
    let current = sspr_tests::totp_at(ADA_TOTP, now);
    if stale != current
        && stale != sspr_tests::totp_at(ADA_TOTP, now - 30)
        && stale != sspr_tests::totp_at(ADA_TOTP, now + 30)
    {
        let r = kiosk.verify(&flow.flow_id, &ch.challenge_id, &stale).await;
        assert_eq!(code_of(r), ErrorCode::CodeInvalid);
    }
    // The previous step's code is still good.
    let previous = sspr_tests::totp_at(ADA_TOTP, now - 30);
    let done = kiosk
        .verify(&flow.flow_id, &ch.challenge_id, &previous)
        .await
        .expect("previous step");
    assert_eq!(done.state, FlowState::Verified);

    // The same code in a new flow is refused: it was used.
    let flow2 = kiosk
        .start_flow(&start("ada", Intent::Reset))
        .await
        .expect("flow");
    let ch2 = kiosk
        .challenge(&flow2.flow_id, &method(&flow2, MethodKind::Totp))
        .await
        .expect("challenge");
    let reused = kiosk
        .verify(&flow2.flow_id, &ch2.challenge_id, &previous)
        .await;
    assert_eq!(code_of(reused), ErrorCode::CodeInvalid);
}

#[tokio::test]
async fn flows_belong_to_their_kiosk_and_end_when_cancelled() {
    // A flow's expiry is a unit test on a clock (flow::tests), not a sleep here.
    let server = TestServer::start().await.expect("server");
    let kiosk = server.kiosk().await.expect("kiosk");
    let other = server
        .kiosk_named("Other kiosk")
        .await
        .expect("other kiosk");
    let flow = kiosk
        .start_flow(&start("ada", Intent::Reset))
        .await
        .expect("flow");

    let foreign = other
        .challenge(&flow.flow_id, &method(&flow, MethodKind::Email))
        .await;
    assert_eq!(code_of(foreign), ErrorCode::NotFound);

    // Cancel is one step too: once cancelled, nothing more.
    let flow = kiosk
        .start_flow(&start("ada", Intent::Reset))
        .await
        .expect("flow");
    kiosk.cancel(&flow.flow_id).await.expect("cancel");
    let after = kiosk
        .challenge(&flow.flow_id, &method(&flow, MethodKind::Email))
        .await;
    assert_eq!(code_of(after), ErrorCode::StepNotAllowed);
    assert_eq!(
        code_of(kiosk.cancel(&flow.flow_id).await),
        ErrorCode::StepNotAllowed
    );
}

#[tokio::test]
async fn health_readiness_and_the_openapi_document() {
    let server = TestServer::start().await.expect("server");
    let http = reqwest::Client::new();
    let ready: serde_json::Value = http
        .get(format!("{}/readyz", server.base))
        .send()
        .await
        .expect("readyz")
        .json()
        .await
        .expect("json");
    assert_eq!(ready["ok"], true);
    assert_eq!(ready["directory"], true);
    let served = http
        .get(format!("{}/openapi.json", server.base))
        .send()
        .await
        .expect("openapi")
        .text()
        .await
        .expect("text");
    let committed = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/openapi.json"),
    )
    .expect("docs/openapi.json");
    assert_eq!(served, committed);
    let doc: serde_json::Value = serde_json::from_str(&served).expect("json");
    assert!(doc["openapi"]
        .as_str()
        .unwrap_or_default()
        .starts_with("3.1"));
    assert!(doc["paths"]["/v1/flows/{flow_id}/challenges/{challenge_id}/verify"].is_object());
}

#[tokio::test]
async fn kiosks_enroll_once_and_revoked_kiosks_are_refused() {
    let server = TestServer::start().await.expect("server");
    let code = server.enrollment_code("Lobby").expect("code");
    let mut first = sspr_tests::sspr_client::Client::new(
        &server.base,
        sspr_tests::sspr_client::DeviceKey::generate(),
        None,
    )
    .expect("client");
    let enrolled = first
        .enroll(&code.to_lowercase(), None, None)
        .await
        .expect("enroll, case-insensitive");
    assert_eq!(enrolled.name, "Lobby");
    let mut second = sspr_tests::sspr_client::Client::new(
        &server.base,
        sspr_tests::sspr_client::DeviceKey::generate(),
        None,
    )
    .expect("client");
    assert_eq!(
        code_of(second.enroll(&code, None, None).await),
        ErrorCode::EnrollmentInvalid
    );
    assert_eq!(
        code_of(second.enroll("NOPE-NOPE-NOPE-NOPE", None, None).await),
        ErrorCode::EnrollmentInvalid
    );

    let pending = server.enrollment_code("Basement").expect("another code");
    assert!(!pending.is_empty());
    let row = |listed: &str, name: &str| {
        listed
            .lines()
            .find(|l| l.contains(name))
            .map(str::to_string)
            .unwrap_or_default()
    };
    let listed = server.admin(&["kiosk", "list"]).expect("list");
    let lobby = row(&listed, "Lobby");
    assert!(
        lobby.contains(&enrolled.kiosk_id) && lobby.contains("enrolled"),
        "{listed}"
    );
    first.settings().await.expect("works before revocation");
    // Its signed request shows it alive; the kiosk not set up yet was never seen.
    let listed = server.admin(&["kiosk", "list"]).expect("list");
    let seen = |name: &str| {
        let line = row(&listed, name);
        let fields: Vec<&str> = line.split_whitespace().collect();
        (
            fields.get(1).map(|s| s.to_string()),
            fields.get(2).map(|s| s.to_string()),
        )
    };
    let (state, at) = seen("Lobby");
    assert_eq!(state.as_deref(), Some("enrolled"), "{listed}");
    let at = at.unwrap_or_default();
    assert!(at.contains('T') && at.ends_with('Z'), "{listed}");
    assert_eq!(
        seen("Basement"),
        (Some("pending".into()), Some("never".into())),
        "{listed}"
    );
    server
        .admin(&["kiosk", "revoke", &enrolled.kiosk_id])
        .expect("revoke");
    assert_eq!(code_of(first.settings().await), ErrorCode::KioskRevoked);
    assert_eq!(
        code_of(first.start_flow(&start("ada", Intent::Reset)).await),
        ErrorCode::KioskRevoked
    );
}

/// An administrator backs the store up while the server runs; the copy, with the secret
/// key beside it, is a store the server reads; nothing is ever written over.
#[tokio::test]
async fn the_store_is_backed_up_while_the_server_runs_and_the_copy_is_a_working_store() {
    let server = TestServer::start().await.expect("server");
    let kiosk = server.kiosk().await.expect("kiosk");
    let flow = kiosk
        .start_flow(&start("ada", Intent::Reset))
        .await
        .expect("flow");
    let restored = server.dir.join("restored");
    std::fs::create_dir_all(&restored).expect("folder");
    let copy = restored.join("sspr.db");
    let copy_arg = copy.to_str().expect("utf-8 path");
    if server.database.is_some() {
        // PostgreSQL is backed up with its own tools, and the command says so.
        let refused = server.admin(&["backup", copy_arg]).expect_err("refused");
        assert!(format!("{refused:#}").contains("pg_dump"), "{refused:#}");
        assert!(!copy.exists());
        return;
    }
    let said = server.admin(&["backup", copy_arg]).expect("backup");
    assert!(
        said.contains("integrity checked") && said.contains("kiosks: 1"),
        "{said}"
    );
    assert!(said.contains("secret key"), "{said}");
    // Authenticator secrets are sealed with the secret key: neither the store nor its
    // copy holds one in the plain.
    let mut wal = server.db_path().into_os_string();
    wal.push("-wal");
    for file in [
        server.db_path(),
        std::path::PathBuf::from(wal),
        copy.clone(),
    ] {
        let bytes = std::fs::read(&file).unwrap_or_default();
        for secret in [ADA_TOTP, ALAN_TOTP, GRACE_TOTP] {
            assert!(
                !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
                "{} holds a secret in the plain",
                file.display()
            );
        }
    }

    let before = std::fs::read(&copy).expect("the copy");
    let again = server
        .admin(&["backup", copy_arg])
        .expect_err("a second backup to the same file");
    assert!(again.to_string().contains("exists already"), "{again}");
    assert_eq!(std::fs::read(&copy).expect("the copy"), before);

    std::fs::copy(server.dir.join("secret.key"), restored.join("secret.key")).expect("key");
    let trail = server
        .admin(&[
            "--data",
            restored.to_str().expect("utf-8 path"),
            "audit",
            "--json",
            "--ref",
            &flow.reference,
        ])
        .expect("the copy's audit");
    assert!(trail.contains("flow_started"), "{trail}");
}

/// `directory register` for someone who has an email and an authenticator replaces them:
/// never a second of each, listed beside the first; the old authenticator stops working.
#[tokio::test]
async fn registering_a_method_again_replaces_it() {
    let server = TestServer::start().await.expect("server");
    let kiosk = server.kiosk().await.expect("kiosk");
    const NEW_TOTP: &str = "ONSWG4TFORWGK3TUMVZHEZLTNFXGO3DP";
    for _ in 0..2 {
        server
            .register(&format!(
                "[[person]]\nlogin = \"ada\"\nemail = \"ada@new.example.com\"\ntotp = \"{NEW_TOTP}\"\n"
            ))
            .expect("register");
        let shown = server.admin(&["directory", "show", "ada"]).expect("show");
        let methods = shown
            .lines()
            .find(|l| l.starts_with("methods:"))
            .expect("methods line");
        assert_eq!(methods, "methods:  email, totp", "{shown}");
    }
    let flow = kiosk
        .start_flow(&start("ada", Intent::Reset))
        .await
        .expect("flow");
    let email = flow
        .methods
        .iter()
        .find(|m| m.kind == MethodKind::Email)
        .expect("email");
    assert_eq!(email.masked, "a•••@n•••.com");
    let ch = kiosk
        .challenge(&flow.flow_id, &method(&flow, MethodKind::Totp))
        .await
        .expect("challenge");
    let old = kiosk
        .verify(
            &flow.flow_id,
            &ch.challenge_id,
            &sspr_tests::totp_now(ADA_TOTP),
        )
        .await;
    assert_eq!(
        code_of(old),
        ErrorCode::CodeInvalid,
        "the old authenticator"
    );
    let new = kiosk
        .verify(
            &flow.flow_id,
            &ch.challenge_id,
            &sspr_tests::totp_now(NEW_TOTP),
        )
        .await
        .expect("the new authenticator");
    assert_eq!(new.done, 1);
}
