//! Approval by QR code end to end: the real "My security info" page and approval page in
//! headless Chromium with WebDriver's virtual authenticator as the phone's passkey, and the
//! real kiosk window showing the QR code (decoded from its screenshot) and the number.

use std::path::PathBuf;
use std::time::Duration;

use sspr_tests::axe::Findings;
use sspr_tests::browser::{approval_asked, Browser};
use sspr_tests::kiosk::{decode_qr, Driver, KioskSetup, KioskWindow};
use sspr_tests::sspr_client::EventStream;
use sspr_tests::sspr_proto::{FlowEvent, FlowState};
use sspr_tests::{TestServer, ADA_PASSWORD, ADA_TOTP};

use super::{identify, ONE_AT_A_TIME};

pub(crate) const APPROVAL: &str = "[policy]\nmethods = [\"email\", \"totp\", \"approval\"]\n";

pub(crate) fn shots(test: &str) -> PathBuf {
    sspr_tests::profile_dir()
        .parent()
        .map(std::path::Path::to_path_buf)
        .unwrap_or_else(sspr_tests::target_dir)
        .join("e2e")
        .join(test)
}

/// Ada signs in to "My security info" on her phone (password, then her authenticator
/// app's code) and adds the phone's passkey.
pub(crate) async fn register_passkey(phone: &mut Browser, server: &TestServer) {
    sign_in(phone, server).await;
    phone
        .type_into("#passkey-name", "Ada's phone")
        .await
        .expect("name");
    phone.click("#add-passkey").await.expect("add passkey");
    phone
        .wait_text("#methods", "Ada's phone", 15)
        .await
        .expect("the passkey is listed");
    phone.shoot("passkey-added").await.expect("shot");
}

/// The approval URL in the kiosk's QR code, read off its screenshot as a camera would.
/// WebKit's screenshot can trail the page by a frame: it looks again until the code
/// drawn on the canvas is in the picture.
pub(crate) async fn approval_url(k: &mut KioskWindow) -> String {
    for _ in 0..20 {
        let shot = k.shoot("qr").await.expect("shot");
        let urls = decode_qr(&shot).expect("decode");
        if let Some(url) = urls.into_iter().find(|u| u.contains("/a/")) {
            return url;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    panic!("no approval URL in the kiosk's QR code")
}

/// Ada signs in to "My security info" on her phone: password, then her authenticator
/// app's code.
pub(crate) async fn sign_in(phone: &mut Browser, server: &TestServer) {
    sign_in_checked(phone, server, None).await;
}

/// `sign_in`; with `axe` (the findings and a label such as the language), axe-core checks
/// each step's page, and a wrong password is tried first so its refusal is checked too.
pub(crate) async fn sign_in_checked(
    phone: &mut Browser,
    server: &TestServer,
    mut axe: Option<(&mut Findings, &str)>,
) {
    async fn check(phone: &Browser, axe: &mut Option<(&mut Findings, &str)>, what: &str) {
        if let Some((found, label)) = axe {
            found
                .check(&phone.client, &format!("{what} ({label})"))
                .await
                .expect("axe ran");
        }
    }
    phone
        .goto(&format!("{}/my", server.phone_base))
        .await
        .expect("my page");
    phone.state("sign-in", 15).await.expect("sign-in form");
    phone.shoot("sign-in").await.expect("shot");
    check(phone, &mut axe, "/my sign-in").await;
    phone.type_into("#login", "ada").await.expect("login");
    if axe.is_some() {
        phone
            .type_into("#password", "not her password")
            .await
            .expect("password");
        phone.click("#sign-in").await.expect("sign in");
        phone
            .wait("[role=alert]:not(:empty)", 15)
            .await
            .expect("refused");
        phone
            .wait("#sign-in:not([disabled])", 15)
            .await
            .expect("answered");
        check(phone, &mut axe, "/my sign-in, refused").await;
    }
    phone
        .type_into("#password", ADA_PASSWORD)
        .await
        .expect("password");
    phone.click("#sign-in").await.expect("sign in");
    phone
        .state("second-factor", 10)
        .await
        .expect("one more step");
    phone.shoot("second-factor").await.expect("shot");
    check(phone, &mut axe, "/my second step").await;
    phone
        .click("button[data-method-id][data-kind=\"totp\"]")
        .await
        .expect("the authenticator app as the second step");
    phone.wait("#code", 15).await.expect("code field");
    check(phone, &mut axe, "/my second step, code").await;
    phone
        .type_into("#code", &sspr_tests::totp_now(ADA_TOTP))
        .await
        .expect("code");
    phone.click("#verify").await.expect("verify");
    phone.state("signed-in", 10).await.expect("signed in");
}

/// Methods nobody looked at for longer than the policy's days: the page asks whether they
/// are still right, and one tap says they are.
#[tokio::test]
async fn the_phone_page_asks_to_confirm_methods_not_looked_at_for_long() {
    let server = TestServer::with_config("[policy]\nreconfirm_days = 30\n")
        .await
        .expect("server");
    let store = server.db_writable().await.expect("store");
    sqlx::query(
        "UPDATE registrations SET created_at = created_at - 31 * 86400
         WHERE user_id = (SELECT id FROM dir_users WHERE username = 'ada')",
    )
    .execute(&store)
    .await
    .expect("age Ada's methods");
    let mut phone = Browser::phone(&shots("phone-review"))
        .await
        .expect("chromium");
    sign_in(&mut phone, &server).await;
    phone
        .wait_text("#review", "more than 30 days", 10)
        .await
        .expect("the page asks");
    phone.shoot("review-due").await.expect("shot");
    phone.click("#review-confirm").await.expect("confirm");
    phone
        .wait_text("#notice", "ask again in 30 days", 10)
        .await
        .expect("thanked");
    phone.shoot("reviewed").await.expect("shot");
    let shown = phone.text("#app").await.expect("page text");
    assert!(!shown.contains("still right"), "asked again: {shown}");
    let trail = server.audit(&["--user", "ada"]).expect("audit");
    assert!(trail.iter().any(|r| r["event"] == "security_info_reviewed"));
}

async fn next_event(events: &mut EventStream) -> FlowEvent {
    tokio::time::timeout(Duration::from_secs(15), events.next())
        .await
        .expect("an event in time")
        .expect("the stream is open")
        .expect("a valid event")
}

#[tokio::test]
async fn the_phone_pages_register_a_passkey_and_approve_a_flow_started_over_the_api() {
    let server = TestServer::with_config(APPROVAL).await.expect("server");
    let mut phone = Browser::phone(&shots("phone-pages"))
        .await
        .expect("chromium");
    register_passkey(&mut phone, &server).await;

    let mut asked = approval_asked(&phone, &server)
        .await
        .expect("approval asked");
    phone
        .wait_text("body", "Test kiosk", 5)
        .await
        .expect("names the kiosk");
    phone
        .wait_text("body", "a•••a", 5)
        .await
        .expect("names the account");
    phone.shoot("ask").await.expect("shot");
    phone
        .type_into("#number", &asked.number)
        .await
        .expect("number");
    phone.click("#approve").await.expect("approve");
    phone.state("approved", 20).await.expect("approved");
    phone.shoot("approved").await.expect("shot");
    let FlowEvent::Approved { flow, .. } = next_event(&mut asked.events).await else {
        panic!("the kiosk moves on")
    };
    assert_eq!(flow.state, FlowState::Verified);
}

#[tokio::test]
async fn the_kiosk_shows_a_qr_code_the_phone_approves_and_the_kiosk_moves_on() {
    let _one = ONE_AT_A_TIME.lock().await;
    let server = TestServer::with_config(APPROVAL).await.expect("server");
    let dir = shots("approval-phone");
    let mut phone = Browser::phone(&dir).await.expect("chromium");
    register_passkey(&mut phone, &server).await;
    let driver = Driver::start().await.expect("tauri-driver");
    let mut k = KioskWindow::open(&driver, &server, "approval", KioskSetup::default())
        .await
        .expect("kiosk");
    // axe on the phone's screens of the kiosk, beside the walk in a11y.rs.
    let mut found = sspr_tests::axe::Findings::default();

    for on_phone in [false, true] {
        identify(&mut k, "reset", "ada").await;
        k.click("button[data-method=\"approval\"]")
            .await
            .expect("approve on your phone");
        k.screen("approve-choice", 10).await.expect("where to type");
        found
            .check(&k.client, "approve: where to type")
            .await
            .expect("axe");
        k.shoot("choice").await.expect("shot");
        k.click(if on_phone {
            "button[data-choice=\"phone\"]"
        } else {
            "button[data-choice=\"kiosk\"]"
        })
        .await
        .expect("choice");
        k.screen("approve", 10).await.expect("approve screen");
        k.listen_live().await.expect("listen");
        k.wait("canvas[data-qr]", 10).await.expect("qr");
        let url = approval_url(&mut k).await;
        assert!(url.starts_with(&server.phone_base), "{url}");

        phone.goto(&url).await.expect("scan");
        phone.state("ask", 15).await.expect("the question");
        k.wait(".approval-number", 10)
            .await
            .expect("the kiosk shows the number");
        let number = k.text(".approval-number").await.expect("number");
        assert_eq!(number.trim().len(), 2, "{number:?}");
        // Said to a screen reader as it arrives.
        k.wait_said(
            "live-status",
            &format!("Type this number on your phone: {}", number.trim()),
            5,
        )
        .await
        .expect("number said");
        k.shoot("number").await.expect("shot");
        found
            .check(&k.client, "approve: the number")
            .await
            .expect("axe");
        phone
            .type_into("#number", number.trim())
            .await
            .expect("type");
        phone.click("#approve").await.expect("approve");

        if on_phone {
            k.screen("phone-password", 15)
                .await
                .expect("finish on your phone");
            k.shoot("finish-on-phone").await.expect("shot");
            found
                .check(&k.client, "finish on your phone")
                .await
                .expect("axe");
            phone.state("password", 15).await.expect("password form");
            let new_password = "typed on the phone where nobody sees";
            phone
                .type_into("#new-password", new_password)
                .await
                .expect("new");
            phone
                .type_into("#confirm-password", new_password)
                .await
                .expect("confirm");
            phone.shoot("password").await.expect("shot");
            found
                .check(&phone.client, "phone: the new password")
                .await
                .expect("axe");
            // Enabled once the live check has accepted it.
            phone.click("#set-password:enabled").await.expect("set");
            phone.state("done", 60).await.expect("done on the phone");
            phone.shoot("done").await.expect("shot");
            found
                .check(&phone.client, "phone: done")
                .await
                .expect("axe");
            k.screen("done", 30).await.expect("the kiosk shows Done");
            k.shoot("done").await.expect("shot");
            assert!(server
                .password_is("ada", new_password)
                .await
                .expect("directory"));
        } else {
            phone.state("approved", 20).await.expect("approved");
            k.screen("password", 15)
                .await
                .expect("the kiosk moves on to the new password");
            k.shoot("password").await.expect("shot");
            k.click("button.btn-quiet").await.expect("cancel");
        }
    }
    found
        .assert_none()
        .expect("no serious or critical violation");
    k.close().await.expect("close");
}

/// A phone set to German gets the page's errors in German too, not the server's English:
/// a wrong password, then (the fifth) the block with how long it lasts.
#[tokio::test]
async fn a_german_phone_reads_sign_in_errors_in_german() {
    let server = TestServer::with_config(APPROVAL).await.expect("server");
    let mut phone = Browser::phone_in("de", &shots("phone-german"))
        .await
        .expect("chromium");
    phone
        .goto(&format!("{}/my", server.phone_base))
        .await
        .expect("my page");
    phone.state("sign-in", 15).await.expect("sign-in form");
    phone.type_into("#login", "ada").await.expect("login");
    for attempt in 1..=5 {
        phone
            .type_into("#password", &format!("not her password {attempt}"))
            .await
            .expect("password");
        phone.click("#sign-in").await.expect("sign in");
        let expected = if attempt < 5 {
            "Der Benutzername oder das Passwort ist nicht richtig."
        } else {
            "Zu viele fehlgeschlagene Versuche. Versuchen Sie es in etwa 24 Stunden erneut"
        };
        phone
            .wait_text("[role=alert]", expected, 10)
            .await
            .unwrap_or_else(|e| panic!("attempt {attempt}: {e}"));
    }
    phone.shoot("blocked").await.expect("shot");
    let shown = phone.text("body").await.expect("page text");
    assert!(
        !shown.contains("Too many") && !shown.contains("isn't right"),
        "English on a German page: {shown}"
    );
}

/// While the kiosk waits for the phone, the QR code's end coming is said to a screen
/// reader, politely and once (the countdown on screen is not a live region: it changes
/// every second). Here the code lasts 40 s: 30 s left is said, 60 s (more than it ever
/// had) is not.
#[tokio::test]
async fn the_approval_codes_end_is_said_while_the_kiosk_waits_for_the_phone() {
    let _one = ONE_AT_A_TIME.lock().await;
    let server = TestServer::with_config(&format!("{APPROVAL}[approval]\nttl_secs = 40\n"))
        .await
        .expect("server");
    let mut phone = Browser::phone(&shots("approval-time-phone"))
        .await
        .expect("chromium");
    register_passkey(&mut phone, &server).await;
    let driver = Driver::start().await.expect("tauri-driver");
    let mut k = KioskWindow::open(&driver, &server, "approval-time", KioskSetup::default())
        .await
        .expect("kiosk");
    identify(&mut k, "reset", "ada").await;
    k.click("button[data-method=\"approval\"]")
        .await
        .expect("approve on your phone");
    k.screen("approve-choice", 10).await.expect("where to type");
    k.click("button[data-choice=\"kiosk\"]")
        .await
        .expect("choice");
    k.screen("approve", 10).await.expect("approve screen");
    k.listen_live().await.expect("listen");
    k.wait_said("live-status", "The code is valid for 30 more seconds.", 20)
        .await
        .expect("30 s left said");
    k.shoot("thirty-seconds").await.expect("shot");
    tokio::time::sleep(Duration::from_secs(2)).await;
    let said = k.said().await.expect("said");
    let left: Vec<_> = said.iter().filter(|s| s.contains("more second")).collect();
    assert_eq!(
        left,
        ["live-status: The code is valid for 30 more seconds."],
        "{said:?}"
    );
    k.close().await.expect("close");
}
