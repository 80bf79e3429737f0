//! End-to-end: the real kiosk binary under Xvfb, driven through tauri-driver and
//! WebKitWebDriver, against the real server from the test kit. Screenshots of every step
//! are kept under `target/e2e/<test>/`.

#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

mod a11y;
mod a11y_display;
mod a11y_pages;
mod approval;
mod calls;
mod console;
mod console_questions;
mod nginx;
mod questions;
mod sms;

use std::time::Duration;

use sspr_tests::kiosk::{decode_qr, Driver, KioskSetup, KioskWindow};
use sspr_tests::{TestServer, ADA_TOTP};

/// One kiosk window at a time: WebKitWebDriver sessions are not meant to overlap here.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

const NEW_PASSWORD: &str = "violet kettle under maple rain";

async fn identify(k: &mut KioskWindow, choice: &str, login: &str) {
    identify_checked(k, choice, login, None).await;
}

/// `identify`; with `axe` (the findings and a label such as the language), axe-core checks
/// the identify screen and the methods screen it leads to.
async fn identify_checked(
    k: &mut KioskWindow,
    choice: &str,
    login: &str,
    mut axe: Option<(&mut sspr_tests::axe::Findings, &str)>,
) {
    k.screen("start", 30).await.expect("start screen");
    k.shoot("start").await.expect("shot");
    k.click(&format!("button[data-intent=\"{choice}\"]"))
        .await
        .expect("choice");
    k.screen("identify", 10).await.expect("identify screen");
    if let Some((found, label)) = axe.as_mut() {
        k.settled(10).await.expect("settled");
        found
            .check(&k.client, &format!("identify ({label})"))
            .await
            .expect("axe ran");
    }
    // Typed on the on-screen keyboard, as at a kiosk without one.
    k.tap_keys(login).await.expect("keys");
    assert_eq!(k.value("#login").await.expect("value"), login);
    k.shoot("identify").await.expect("shot");
    k.click("#identify-continue").await.expect("continue");
    k.screen("verify", 10).await.expect("verify screen");
    if let Some((found, label)) = axe.as_mut() {
        k.settled(10).await.expect("settled");
        found
            .check(&k.client, &format!("verify: methods ({label})"))
            .await
            .expect("axe ran");
    }
}

async fn enter_code(k: &mut KioskWindow, code: &str, name: &str) {
    k.screen("code", 10).await.expect("code screen");
    k.type_into("#code", code).await.expect("type code");
    k.shoot(name).await.expect("shot");
    k.click("#verify-submit").await.expect("verify");
    // A wrong code's message from the try before still stands until this one's answer.
    k.settled(10).await.expect("answered");
}

/// Asks for an email code on the methods screen; answers the code and the whole mail.
async fn email_code(
    k: &mut KioskWindow,
    server: &TestServer,
    to: &str,
) -> (String, sspr_tests::sspr_mailbox::Received) {
    let seen = server.code_mails_to(to).len();
    k.click("button[data-method=\"email\"]")
        .await
        .expect("email method");
    let code = server.code_mail(to, seen).await.expect("code");
    let mail = server.code_mails_to(to).pop().expect("mail");
    (code, mail)
}

#[tokio::test]
async fn reset_with_an_email_code_and_an_authenticator_code() {
    let _one = ONE_AT_A_TIME.lock().await;
    let server = TestServer::with_config("[policy]\nmethods_required = 2\n")
        .await
        .expect("server");
    let driver = Driver::start().await.expect("tauri-driver");
    let mut k = KioskWindow::open(&driver, &server, "reset", KioskSetup::default())
        .await
        .expect("kiosk");

    k.wait_text("Test Org", 30)
        .await
        .expect("organisation shown");
    identify(&mut k, "reset", "ada").await;
    k.wait_text("Step 1 of 2", 5).await.expect("step 1 of 2");
    k.shoot("methods").await.expect("shot");

    let seen = server.code_mails_to("ada@home.example.net").len();
    k.click("button[data-method=\"email\"]")
        .await
        .expect("email method");
    let code = server
        .code_mail("ada@home.example.net", seen)
        .await
        .expect("code mail");
    k.wait_text("a•••@h•••.net", 10)
        .await
        .expect("masked address shown");
    // A wrong code first: the person is told in words and stays on the screen.
    let wrong = if code == "000000" { "111111" } else { "000000" };
    enter_code(&mut k, wrong, "wrong-code").await;
    k.wait_text("That code isn't right", 10)
        .await
        .expect("wrong code message");
    k.shoot("wrong-code-message").await.expect("shot");
    enter_code(&mut k, &code, "email-code").await;

    k.screen("verify", 10).await.expect("second method");
    k.wait_text("Step 2 of 2", 5).await.expect("step 2 of 2");
    k.click("button[data-method=\"totp\"]")
        .await
        .expect("totp method");
    enter_code(&mut k, &sspr_tests::totp_now(ADA_TOTP), "totp-code").await;

    k.screen("password", 10).await.expect("password screen");
    k.wait_text("15 to 256 characters", 5)
        .await
        .expect("rules before typing");
    k.type_into("#new-password", "lovelace")
        .await
        .expect("type");
    k.wait_text("Use at least 15 characters.", 10)
        .await
        .expect("live reason");
    k.wait_text("Don't use your name", 10)
        .await
        .expect("live reason");
    k.shoot("password-reasons").await.expect("shot");
    k.wait("#new-password", 5)
        .await
        .expect("field")
        .clear()
        .await
        .expect("clear");
    k.choose_password(NEW_PASSWORD).await.expect("password");
    k.wait_text("This password can be used.", 10)
        .await
        .expect("accepted");
    k.shoot("password-ok").await.expect("shot");
    k.click("#password-submit").await.expect("submit");

    k.screen("done", 15).await.expect("done screen");
    k.wait_text("Your password was changed.", 5)
        .await
        .expect("done text");
    k.wait_text("Sign in with your new password.", 5)
        .await
        .expect("next step");
    k.shoot("done").await.expect("shot");
    assert!(server
        .password_is("ada", NEW_PASSWORD)
        .await
        .expect("directory"));
    // Back to Start by itself.
    k.screen("start", 20).await.expect("back to start");
    k.close().await.expect("close");
}

#[tokio::test]
async fn unlock_in_german() {
    let _one = ONE_AT_A_TIME.lock().await;
    let server = TestServer::start().await.expect("server");
    let driver = Driver::start().await.expect("tauri-driver");
    let setup = KioskSetup {
        locale: "de",
        ..KioskSetup::default()
    };
    let mut k = KioskWindow::open(&driver, &server, "unlock", setup)
        .await
        .expect("kiosk");
    assert!(server.is_locked("grace").await.expect("locked before"));

    k.wait_text("Konto entsperren", 30)
        .await
        .expect("German start screen");
    identify(&mut k, "unlock", "grace").await;
    // The email is in German too.
    let (code, mail) = email_code(&mut k, &server, "grace@home.example.net").await;
    assert!(mail.text.contains("Bestätigungscode"), "{}", mail.text);
    enter_code(&mut k, &code, "code").await;

    k.screen("unlock", 10).await.expect("unlock screen");
    k.shoot("unlock").await.expect("shot");
    k.click("#unlock-submit").await.expect("unlock");
    k.screen("done", 15).await.expect("done");
    k.wait_text("Ihr Konto ist entsperrt.", 5)
        .await
        .expect("done text");
    k.shoot("done").await.expect("shot");
    assert!(!server.is_locked("grace").await.expect("unlocked"));
    k.close().await.expect("close");
}

/// No text that doesn't fit, and (axe-core) no serious or critical violation.
async fn fits(k: &KioskWindow, found: &mut sspr_tests::axe::Findings, what: &str) {
    assert_eq!(
        k.overflowing().await.expect("probe"),
        Vec::<String>::new(),
        "{what}"
    );
    found.check(&k.client, what).await.expect("axe");
}

/// Polish, picked with the language button at Start on a kiosk that starts in English: the
/// screens, the emailed code (with Polish plural: "5 minut") and the done screen, each
/// screen checked for text that doesn't fit (Polish runs long) and by axe-core.
#[tokio::test]
async fn unlock_in_polish_chosen_at_start() {
    let _one = ONE_AT_A_TIME.lock().await;
    let server = TestServer::start().await.expect("server");
    let driver = Driver::start().await.expect("tauri-driver");
    let mut k = KioskWindow::open(&driver, &server, "unlock-polish", KioskSetup::default())
        .await
        .expect("kiosk");
    let mut found = sspr_tests::axe::Findings::default();
    k.screen("start", 30).await.expect("start screen");
    k.wait_text("Unlock my account", 10)
        .await
        .expect("English first");
    k.click("#lang-toggle").await.expect("language button");
    k.wait("#lang-menu:not([hidden]) button[data-lang=\"pl\"]", 5)
        .await
        .expect("language list");
    k.shoot("languages").await.expect("shot");
    k.click("button[data-lang=\"pl\"]").await.expect("Polski");
    k.wait_text("Odblokuj konto", 5)
        .await
        .expect("Polish start screen");
    fits(&k, &mut found, "start (pl)").await;
    identify(&mut k, "unlock", "grace").await;
    fits(&k, &mut found, "verify: methods (pl)").await;
    k.shoot("verify").await.expect("shot");
    let (code, mail) = email_code(&mut k, &server, "grace@home.example.net").await;
    assert!(
        mail.text.contains("Twój kod weryfikacyjny"),
        "{}",
        mail.text
    );
    assert!(mail.text.contains("przez 5 minut."), "{}", mail.text);
    k.wait_text("Kod jest ważny przez 5 minut.", 10)
        .await
        .expect("Polish plural on the code screen");
    fits(&k, &mut found, "code (pl)").await;
    enter_code(&mut k, &code, "code").await;
    k.screen("unlock", 10).await.expect("unlock screen");
    fits(&k, &mut found, "unlock (pl)").await;
    k.shoot("unlock").await.expect("shot");
    k.click("#unlock-submit").await.expect("unlock");
    k.screen("done", 15).await.expect("done");
    k.wait_text("Konto jest odblokowane.", 5)
        .await
        .expect("done text");
    fits(&k, &mut found, "done (pl)").await;
    k.shoot("done").await.expect("shot");
    assert!(!server.is_locked("grace").await.expect("unlocked"));
    found
        .assert_none()
        .expect("no serious or critical violation");
    k.close().await.expect("close");
}

#[tokio::test]
async fn five_wrong_codes_end_on_the_helpdesk_screen_with_a_qr_code() {
    let _one = ONE_AT_A_TIME.lock().await;
    let server = TestServer::start().await.expect("server");
    let driver = Driver::start().await.expect("tauri-driver");
    let mut k = KioskWindow::open(&driver, &server, "blocked", KioskSetup::default())
        .await
        .expect("kiosk");
    identify(&mut k, "reset", "ada").await;
    k.click("button[data-method=\"totp\"]").await.expect("totp");
    for i in 0..5 {
        enter_code(&mut k, "000000", &format!("wrong-{i}")).await;
        if i < 4 {
            k.wait_text("That code isn't right", 10)
                .await
                .expect("wrong code message");
        }
    }
    k.screen("help", 10).await.expect("help screen");
    k.wait_text("We couldn't verify you", 5)
        .await
        .expect("heading");
    k.wait_text("Too many attempts", 5)
        .await
        .expect("blocked text");
    k.wait_text("https://help.example.org/password", 5)
        .await
        .expect("helpdesk url as text");
    k.wait_text("+49 30 1234 5678", 5).await.expect("phone");
    let reference = k.text("#reference").await.expect("reference");
    assert_eq!(reference.len(), 9, "{reference}");
    k.wait("canvas.qr", 10).await.expect("qr drawn");
    tokio::time::sleep(Duration::from_millis(300)).await;
    let shot = k.shoot("blocked").await.expect("shot");

    let codes = decode_qr(&shot).expect("decode");
    let expected = format!("https://help.example.org/password?ref={reference}");
    assert!(
        codes.contains(&expected),
        "QR codes {codes:?} lack {expected}"
    );
    // The reference finds this attempt in the audit.
    let rows = server.audit(&["--ref", &reference]).expect("audit");
    assert!(rows.iter().any(|r| r["event"] == "blocked"), "{rows:?}");
    k.close().await.expect("close");
}

#[tokio::test]
async fn the_idle_timeout_wipes_what_was_typed() {
    let _one = ONE_AT_A_TIME.lock().await;
    let server = TestServer::start().await.expect("server");
    let driver = Driver::start().await.expect("tauri-driver");
    let setup = KioskSetup {
        idle_timeout_secs: Some(18),
        ..KioskSetup::default()
    };
    let mut k = KioskWindow::open(&driver, &server, "idle", setup)
        .await
        .expect("kiosk");
    k.screen("start", 30).await.expect("start");
    k.click("button[data-intent=\"reset\"]")
        .await
        .expect("reset");
    k.type_into("#login", "ada.lovelace").await.expect("type");
    k.listen_live().await.expect("listen");
    k.shoot("typed").await.expect("shot");
    // A visible countdown first...
    k.wait(".idle", 25).await.expect("idle warning");
    k.wait_text("Are you still there?", 2)
        .await
        .expect("idle text");
    // ...said once to a screen reader, the focus left in the field.
    k.wait_said("live-alert", "Are you still there?", 2)
        .await
        .expect("warning said");
    tokio::time::sleep(Duration::from_secs(1)).await;
    let n = k
        .wait_said("live-alert", "Are you still there?", 1)
        .await
        .expect("said");
    assert_eq!(n, 1, "{:?}", k.said().await);
    let focused = k
        .client
        .execute("return document.activeElement.id;", vec![])
        .await
        .expect("focus");
    assert_eq!(focused, "login", "the warning took the focus");
    sspr_tests::axe::check(&k.client, "the idle warning")
        .await
        .expect("no serious or critical violation");
    k.shoot("countdown").await.expect("shot");
    // ...then Start, with nothing left.
    k.screen("start", 25).await.expect("back to start");
    k.shoot("wiped").await.expect("shot");
    k.click("button[data-intent=\"reset\"]")
        .await
        .expect("reset again");
    assert_eq!(k.value("#login").await.expect("login"), "");
    let storage: serde_json::Value = k
        .client
        .execute(
            "return [localStorage.length, sessionStorage.length]",
            vec![],
        )
        .await
        .expect("storage");
    assert_eq!(storage, serde_json::json!([0, 0]));
    k.close().await.expect("close");
}

/// Revoked while it waits on the start screen, the kiosk says it is out of service by
/// itself (it asks for its settings every `status_refresh_secs`), before anyone tries it;
/// and `kiosk list` shows when it was last seen.
#[tokio::test]
async fn a_revoked_kiosk_is_out_of_service() {
    let _one = ONE_AT_A_TIME.lock().await;
    let server = TestServer::start().await.expect("server");
    let driver = Driver::start().await.expect("tauri-driver");
    let mut k = KioskWindow::open(
        &driver,
        &server,
        "revoked",
        KioskSetup {
            name: "Lobby",
            status_refresh_secs: Some(2),
            ..KioskSetup::default()
        },
    )
    .await
    .expect("kiosk");
    k.screen("start", 30).await.expect("start");
    let listed = server.admin(&["kiosk", "list"]).expect("list");
    let id = listed
        .lines()
        .find(|l| l.contains("Lobby") && l.contains("enrolled"))
        .and_then(|l| l.split_whitespace().next())
        .expect("enrolled kiosk listed")
        .to_string();
    let seen = listed
        .lines()
        .find(|l| l.contains("Lobby"))
        .and_then(|l| l.split_whitespace().nth(2))
        .unwrap_or_default()
        .to_string();
    assert!(seen.ends_with('Z'), "last seen: {listed}");
    server.admin(&["kiosk", "revoke", &id]).expect("revoke");

    // Nobody touches it.
    k.screen("help", 10).await.expect("help screen");
    k.wait_text("This kiosk is out of service.", 5)
        .await
        .expect("out of service");
    k.wait("canvas.qr", 10).await.expect("helpdesk qr");
    tokio::time::sleep(Duration::from_millis(300)).await;
    let shot = k.shoot("out-of-service").await.expect("shot");
    let codes = decode_qr(&shot).expect("decode");
    assert!(
        codes
            .iter()
            .any(|c| c.starts_with("https://help.example.org/password")),
        "{codes:?}"
    );
    k.close().await.expect("close");
}

/// A kiosk that starts before the server can be reached (a PC powering on before the
/// network) says so, then tries again by itself: once the server answers, it enrolls and
/// shows the start screen without anyone touching it.
#[tokio::test(flavor = "multi_thread")]
async fn a_kiosk_started_before_the_server_is_reachable_comes_up_by_itself() {
    let _one = ONE_AT_A_TIME.lock().await;
    // Kiosks reach the server through a port nothing listens on yet.
    let front = sspr_tests::free_port().expect("port");
    let server = TestServer::start_with(sspr_tests::Options {
        public_url: Some(format!("http://127.0.0.1:{front}")),
        ..sspr_tests::Options::default()
    })
    .await
    .expect("server");
    let driver = Driver::start().await.expect("tauri-driver");
    let mut k = KioskWindow::open(&driver, &server, "late-server", KioskSetup::default())
        .await
        .expect("kiosk");
    k.screen("help", 30).await.expect("help screen");
    k.wait_text("The password service can't be reached right now.", 10)
        .await
        .expect("unreachable");
    k.shoot("unreachable").await.expect("shot");

    // The network comes up: the front port now leads to the server.
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", front))
        .await
        .expect("front port");
    let to = server.addr;
    tokio::spawn(async move {
        while let Ok((mut inbound, _)) = listener.accept().await {
            tokio::spawn(async move {
                if let Ok(mut outbound) = tokio::net::TcpStream::connect(to).await {
                    let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                }
            });
        }
    });
    k.screen("start", 30)
        .await
        .expect("the start screen, untouched");
    k.shoot("start").await.expect("shot");
    let listed = server.admin(&["kiosk", "list"]).expect("list");
    assert!(
        listed
            .lines()
            .any(|l| l.contains("E2E kiosk") && l.contains("enrolled")),
        "{listed}"
    );
    k.close().await.expect("close");
}

/// OpenLDAP linked to Entra ID: the password screen shows both directories' rules, a
/// partial write says which directory holds the new password, and "Try again" finishes it.
#[tokio::test(flavor = "multi_thread")]
async fn linked_directories_partial_write_is_shown_and_finished() {
    use sspr_tests::dirs::{NewUser, Slapd};
    use sspr_tests::graph::{GraphReplay, GraphUser, CLIENT_ID, CLIENT_SECRET, TENANT};

    let _one = ONE_AT_A_TIME.lock().await;
    let slapd = Slapd::start().expect("slapd");
    let login = "linda";
    let email = "linda.linked@example.org";
    let dn = slapd
        .add_user(&NewUser {
            login,
            given_name: "Linda",
            surname: "Linked",
            email: Some(email),
            password: "first Passw0rd here",
        })
        .expect("ldap user");
    let cloud = GraphUser {
        id: "5f0c1d2e-0000-4000-8000-00000000abcd".into(),
        upn: "linda@example.onmicrosoft.com".into(),
        mail: Some(email.into()),
        given_name: "Linda".into(),
        surname: "Linked".into(),
        enabled: true,
        groups: Vec::new(),
        protected: false,
        phones: Vec::new(),
    };
    let graph = GraphReplay::start(vec![cloud.clone()])
        .await
        .expect("graph");
    let server = TestServer::start_with(sspr_tests::Options {
        extra_config: format!(
            r#"
[directory]
{ldap}
[[directory.linked]]
kind = "entra"
name = "Entra ID"
tenant_id = "{TENANT}"
client_id = "{CLIENT_ID}"
client_secret = "{CLIENT_SECRET}"
authority_url = "{graph}"
graph_url = "{graph}"
link = "email"
"#,
            ldap = slapd.directory_settings("OpenLDAP"),
            graph = graph.url(),
        ),
        real_directory: true,
        ..Default::default()
    })
    .await
    .expect("server");
    server
        .register(&format!(
            "[[person]]\nlogin = \"{login}\"\nemail = \"linda@home.example.net\"\n"
        ))
        .expect("register");
    let driver = Driver::start().await.expect("tauri-driver");
    let mut k = KioskWindow::open(&driver, &server, "linked", KioskSetup::default())
        .await
        .expect("kiosk");

    identify(&mut k, "reset", login).await;
    let seen = server.code_mails_to("linda@home.example.net").len();
    k.click("button[data-method=\"email\"]")
        .await
        .expect("email method");
    let code = server
        .code_mail("linda@home.example.net", seen)
        .await
        .expect("code mail");
    enter_code(&mut k, &code, "email-code").await;

    k.screen("password", 10).await.expect("password screen");
    // OpenLDAP's history and Entra ID's character kinds, before anything is typed.
    k.wait_text(
        &format!(
            "isn't one of your last {} passwords",
            sspr_tests::dirs::SLAPD_IN_HISTORY
        ),
        5,
    )
    .await
    .expect("history rule");
    k.wait_text("mixes 3 of", 5).await.expect("variety rule");
    k.shoot("password-rules").await.expect("shot");
    let password = "Saffron glacier 19 Tundra";
    k.choose_password(password).await.expect("password");

    graph.set_down(true);
    k.click("#password-submit").await.expect("submit");
    k.wait_text("set in some places but not all", 15)
        .await
        .expect("partial message");
    k.wait_text("OpenLDAP: the new password is set", 5)
        .await
        .expect("per directory");
    k.wait_text("Entra ID: not set yet", 5)
        .await
        .expect("per directory");
    k.shoot("partial").await.expect("shot");
    assert!(slapd.bind_ok(&dn, password));
    assert_eq!(graph.password_of(&cloud.id), None);

    graph.set_down(false);
    k.wait_text("Try again with this password", 5)
        .await
        .expect("retry button");
    k.click("#password-submit").await.expect("retry");
    k.screen("done", 15).await.expect("done screen");
    k.wait_text("Changed in: OpenLDAP, Entra ID", 5)
        .await
        .expect("both directories named");
    k.shoot("done").await.expect("shot");
    assert_eq!(graph.password_of(&cloud.id).as_deref(), Some(password));
    k.close().await.expect("close");
}

/// The mail relay refuses: choosing the emailed code tells the person at once, on the
/// same screen, that the code couldn't be sent, and the authenticator still works.
#[tokio::test]
async fn a_relay_that_is_down_is_told_on_the_kiosk() {
    use sspr_tests::faults::{FaultyPort, Mode};
    let _one = ONE_AT_A_TIME.lock().await;
    let mailbox = sspr_tests::sspr_mailbox::Mailbox::start("127.0.0.1:0".parse().unwrap())
        .await
        .expect("mailbox");
    let relay = FaultyPort::start(mailbox.addr()).await.expect("port");
    relay.set(Mode::Refuse);
    let server = TestServer::start_with(sspr_tests::Options {
        smtp_port: Some(relay.addr.port()),
        ..sspr_tests::Options::default()
    })
    .await
    .expect("server");
    let driver = Driver::start().await.expect("tauri-driver");
    let mut k = KioskWindow::open(&driver, &server, "relay-down", KioskSetup::default())
        .await
        .expect("kiosk");
    identify(&mut k, "reset", "ada").await;
    k.click("button[data-method=\"email\"]")
        .await
        .expect("email method");
    k.wait_text("couldn't send the code", 10)
        .await
        .expect("told the code couldn't be sent");
    k.screen("verify", 5)
        .await
        .expect("still choosing a method");
    k.shoot("relay-down").await.expect("shot");
    k.click("button[data-method=\"totp\"]")
        .await
        .expect("totp method");
    enter_code(&mut k, &sspr_tests::totp_now(ADA_TOTP), "totp-code").await;
    k.screen("password", 10).await.expect("password screen");
}
