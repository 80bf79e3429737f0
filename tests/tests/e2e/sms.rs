//! A mobile number added on the phone's "My security info" page (real Chromium), its code
//! texted through Kannel; then the real kiosk window texts a code to that number and the
//! person types it, in English and in German.

use sspr_tests::browser::Browser;
use sspr_tests::kannel::Kannel;

use super::approval::{shots, sign_in};
use super::*;

/// The code in the newest message to `to` after `seen` earlier ones.
async fn texted(kannel: &Kannel, to: &str, seen: usize) -> String {
    let sms = kannel
        .message_to(to, seen + 1)
        .await
        .expect("a text message");
    sms.text
        .split(|c: char| !c.is_ascii_digit())
        .find(|w| w.len() == 6)
        .unwrap_or_else(|| panic!("no code in {:?}", sms.text))
        .to_string()
}

#[tokio::test]
async fn a_mobile_number_added_on_the_phone_and_a_texted_code_at_the_kiosk() {
    let _one = ONE_AT_A_TIME.lock().await;
    let kannel = Kannel::shared().expect("kannel");
    let server = TestServer::with_config(&format!(
        "[policy]\nmethods = [\"email\", \"totp\", \"sms\"]\n\n[sms]\ndefault_region = \"DE\"\n{}",
        kannel.provider_toml("kannel")
    ))
    .await
    .expect("server");
    const NUMBER: &str = "+4915198765432";

    let mut phone = Browser::phone(&shots("sms-phone")).await.expect("chromium");
    sign_in(&mut phone, &server).await;
    phone
        .type_into("#mobile", "030 1234567")
        .await
        .expect("number");
    phone.click("#add-mobile").await.expect("send");
    phone
        .wait_text("#app", "Landlines", 10)
        .await
        .expect("a landline is refused with the reason");
    phone.shoot("mobile-landline").await.expect("shot");
    phone
        .client
        .find(fantoccini::Locator::Css("#mobile"))
        .await
        .expect("field")
        .clear()
        .await
        .expect("clear");
    phone
        .type_into("#mobile", "0151 9876 5432")
        .await
        .expect("number");
    let seen = kannel.count_to(NUMBER);
    phone.click("#add-mobile").await.expect("send");
    let code = texted(kannel, NUMBER, seen).await;
    phone.shoot("mobile-code").await.expect("shot");
    phone.type_into("#mobile-code", &code).await.expect("code");
    phone.click("#mobile-confirm").await.expect("confirm");
    phone
        .wait_text("#notice", "mobile number was added", 10)
        .await
        .expect("added");
    phone.shoot("mobile-added").await.expect("shot");

    let driver = Driver::start().await.expect("tauri-driver");
    let mut k = KioskWindow::open(&driver, &server, "sms", KioskSetup::default())
        .await
        .expect("kiosk");
    identify(&mut k, "reset", "ada").await;
    k.wait_text("Text a code to +49 ••• •••• 32", 10)
        .await
        .expect("the number, masked");
    k.shoot("methods").await.expect("shot");
    let seen = kannel.count_to(NUMBER);
    k.click("button[data-method=\"sms\"]")
        .await
        .expect("sms method");
    let code = texted(kannel, NUMBER, seen).await;
    k.wait_text("We texted a 6-digit code to +49 ••• •••• 32", 10)
        .await
        .expect("told where");
    enter_code(&mut k, &code, "sms-code").await;
    k.screen("password", 10).await.expect("password screen");
    k.shoot("verified").await.expect("shot");
}
