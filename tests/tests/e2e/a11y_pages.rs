//! Accessibility of the server's pages in Chromium: axe-core on the phone's approval page
//! and "My security info" (English and German phones), and the admin console.

use sspr_tests::axe::Findings;
use sspr_tests::browser::{approval_asked, Browser};
use sspr_tests::keys;
use sspr_tests::{TestServer, ADA_PASSWORD, ADA_TOTP};

use super::approval::{shots, sign_in_checked, APPROVAL};

async fn wait(b: &Browser, css: &str) {
    b.client
        .wait()
        .at_most(std::time::Duration::from_secs(15))
        .for_element(fantoccini::Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("waiting for {css}: {e}"));
}

async fn axe(b: &Browser, found: &mut Findings, what: &str) {
    found.check(&b.client, what).await.expect("axe ran");
}

/// One phone, in one language: "My security info" from sign-in to its add forms, a
/// passkey added, then a kiosk's approval asked and approved on the phone's page.
async fn walk_phone_pages(language: &str, found: &mut Findings) {
    let server = TestServer::with_config(APPROVAL).await.expect("server");
    let mut phone = Browser::phone_in(language, &shots(&format!("a11y-phone-{language}")))
        .await
        .expect("chromium");
    let lang = language.split('-').next().unwrap_or(language);
    phone
        .goto(&format!("{}/my", server.phone_base))
        .await
        .expect("my page");
    phone.state("sign-in", 15).await.expect("sign-in form");
    sspr_tests::axe::canary(&phone.client)
        .await
        .expect("axe sees in Chromium");
    let page_lang = phone
        .client
        .execute("return document.documentElement.lang;", vec![])
        .await
        .expect("lang");
    assert_eq!(page_lang, lang, "the page's language is the phone's");
    sign_in_checked(&mut phone, &server, Some((&mut *found, lang))).await;
    axe(
        &phone,
        found,
        &format!("/my overview and add forms ({lang})"),
    )
    .await;
    phone.shoot_full("overview").await.expect("shot");

    phone.click_centered("#add-totp").await.expect("add totp");
    wait(&phone, "#totp-code").await;
    axe(
        &phone,
        found,
        &format!("/my add an authenticator app ({lang})"),
    )
    .await;
    phone
        .type_into("#email", "ada.new@home.example.net")
        .await
        .expect("email");
    phone.click_centered("#add-email").await.expect("add email");
    wait(&phone, "#email-code").await;
    axe(
        &phone,
        found,
        &format!("/my add an email, code sent ({lang})"),
    )
    .await;
    phone.shoot_full("adding").await.expect("shot");

    phone
        .type_into("#passkey-name", "Ada's phone")
        .await
        .expect("name");
    phone
        .click_centered("#add-passkey")
        .await
        .expect("add passkey");
    phone
        .wait_text("#methods", "Ada's phone", 15)
        .await
        .expect("the passkey is listed");
    axe(&phone, found, &format!("/my passkey added ({lang})")).await;

    // A kiosk asks for an approval; the phone opens the page its QR code carries.
    let asked = approval_asked(&phone, &server)
        .await
        .expect("approval asked");
    axe(&phone, found, &format!("approval, asked ({lang})")).await;
    let number = asked.number;
    let wrong = if number == "11" { "12" } else { "11" };
    phone.type_into("#number", wrong).await.expect("number");
    phone.click("#approve").await.expect("approve");
    // A wrong number ends the approval: the page says so, with the helpdesk.
    phone.state("failed", 15).await.expect("refused");
    axe(&phone, found, &format!("approval, refused ({lang})")).await;
    phone.shoot("approval-refused").await.expect("shot");
}

#[tokio::test]
async fn the_phone_pages_pass_axe_in_english_and_german() {
    let mut found = Findings::default();
    walk_phone_pages("en-US", &mut found).await;
    walk_phone_pages("de", &mut found).await;
    found
        .assert_none()
        .expect("no serious or critical violation");
}

/// The console's sign-in and every view at a desk's size (it speaks English only).
#[tokio::test]
async fn the_console_passes_axe() {
    use super::console::{
        console_sign_in, open, register_passkey, server_with, LINUS_PASSWORD, LINUS_TOTP,
    };
    let server = server_with("").await;
    let mut b = Browser::desktop(&shots("a11y-console"))
        .await
        .expect("chromium");
    register_passkey(&mut b, &server, "linus", LINUS_PASSWORD, LINUS_TOTP).await;
    b.goto(&format!("{}/admin", server.phone_base))
        .await
        .expect("console");
    b.state("sign-in", 15).await.expect("sign-in form");
    sspr_tests::axe::canary(&b.client)
        .await
        .expect("axe sees in Chromium");
    let mut found = Findings::default();
    axe(&b, &mut found, "console sign-in").await;
    console_sign_in(&mut b, "linus", LINUS_PASSWORD).await;
    axe(&b, &mut found, "console overview").await;
    for view in super::console::VIEWS.iter().skip(1) {
        open(&b, view, false).await;
        axe(&b, &mut found, &format!("console {view}")).await;
    }
    found
        .assert_none()
        .expect("no serious or critical violation");
}

/// Keys sent to the phone page's focused element, as a keyboard (or a switch) would.
async fn press(b: &Browser, keys: &str) {
    keys::press(&b.client, keys).await.expect("keys");
}

/// "My security info" signed in to with a keyboard alone (password, then the authenticator
/// app's code), then a kiosk's approval approved on the approval page with a keyboard
/// alone: the focus goes in reading order and every control shows its ring.
#[tokio::test]
async fn my_security_info_and_the_approval_page_by_keyboard_alone() {
    let server = TestServer::with_config(APPROVAL).await.expect("server");
    let mut phone = Browser::phone(&shots("a11y-phone-keyboard"))
        .await
        .expect("chromium");
    // The passkey first, as before (not the walk).
    super::approval::register_passkey(&mut phone, &server).await;
    phone.click("#sign-out").await.expect("sign out");
    phone.state("sign-in", 10).await.expect("signed out");

    phone
        .goto(&format!("{}/my", server.phone_base))
        .await
        .expect("my page");
    phone.state("sign-in", 15).await.expect("sign-in form");
    keys::focused_on(&phone.client, "#login")
        .await
        .expect("focus");
    press(&phone, "ada").await;
    keys::tab_to(&phone.client, "#password").await.expect("Tab");
    press(&phone, ADA_PASSWORD).await;
    keys::tab_to(&phone.client, "#sign-in").await.expect("Tab");
    phone.shoot("sign-in-focus").await.expect("shot");
    press(&phone, keys::ENTER).await;
    phone
        .state("second-factor", 10)
        .await
        .expect("one more step");
    // Tab through the methods to the authenticator app.
    let mut reached = false;
    for _ in 0..4 {
        press(&phone, keys::TAB).await;
        keys::focused_on(&phone.client, "button[data-method-id]")
            .await
            .expect("a method");
        if keys::focused_on(&phone.client, "button[data-kind=\"totp\"]")
            .await
            .is_ok()
        {
            reached = true;
            break;
        }
    }
    assert!(reached, "Tab never reached the authenticator app");
    phone.shoot("second-factor-focus").await.expect("shot");
    press(&phone, keys::ENTER).await;
    wait(&phone, "#code").await;
    keys::focused_on(&phone.client, "#code")
        .await
        .expect("the code field takes the focus");
    // The next step's code (the server takes one step either side): this step's went
    // to the sign-in above, and a code is taken once.
    let now = sspr_tests::unix_now_in_step(5).await;
    press(&phone, &sspr_tests::totp_at(ADA_TOTP, now + 30)).await;
    keys::tab_to(&phone.client, "#verify").await.expect("Tab");
    press(&phone, keys::ENTER).await;
    phone.state("signed-in", 10).await.expect("signed in");

    // A kiosk asks for an approval; the phone opens the page its QR code carries.
    let number = approval_asked(&phone, &server)
        .await
        .expect("approval asked")
        .number;
    keys::focused_on(&phone.client, "#number")
        .await
        .expect("the number field takes the focus");
    press(&phone, &number).await;
    // Deny first, as prominent as Approve; then Approve.
    keys::tab_to(&phone.client, "#deny").await.expect("Tab");
    keys::tab_to(&phone.client, "#approve").await.expect("Tab");
    phone.shoot("approve-focus").await.expect("shot");
    press(&phone, keys::ENTER).await;
    phone.state("approved", 20).await.expect("approved");
}
