//! "My security info" over HTTP: a person signs in with the password and one method,
//! adds and removes methods and is told of each change, confirms methods that weren't
//! looked at for long, is blocked on this page (not at the kiosk) after wrong passwords,
//! and sets up again after the helpdesk clears their methods.

use std::time::Duration;

use serde_json::json;
use sspr_tests::phone::Phone;
use sspr_tests::sspr_proto::{ErrorCode, Intent, MethodKind, MySession};
use sspr_tests::{TestServer, ADA_PASSWORD, ADA_TOTP};

use super::approval::server;
use super::start;

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
            let sql = format!("UPDATE {table} SET {column} = {column} - $1 WHERE user_id = $2");
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
