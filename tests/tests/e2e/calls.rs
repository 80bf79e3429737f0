//! "Call me instead" at the real kiosk window: a code texted to a mobile number (Twilio's
//! Messages API, against the replay), then, after the cooldown, the same number called
//! and the code read out (Twilio's Calls API); the code from the call's TwiML verifies.
//! Before that, with every gateway down, the kiosk follows the send and says it failed.

use sspr_tests::kiosk::{Driver, KioskSetup, KioskWindow};
use sspr_tests::sms_replay::{SmsReplay, Taken, TWILIO_TOKEN};
use sspr_tests::TestServer;

use super::*;

const ADA_MOBILE: &str = "+4915112345678";

/// What the replay took after `seen` earlier messages and calls.
async fn taken_after(replay: &SmsReplay, seen: usize) -> Taken {
    for _ in 0..100 {
        if let Some(t) = replay.taken().get(seen) {
            return t.clone();
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("nothing was sent after {seen}: {:?}", replay.taken());
}

/// The six digits a call reads out (the first `<Say>`).
fn spoken_code(twiml: &str) -> String {
    let say = twiml.split("<Say").nth(1).unwrap_or_default();
    let words = say.split("</Say>").next().unwrap_or_default();
    let code: String = words
        .split_once('>')
        .map(|(_, w)| w)
        .unwrap_or_default()
        .chars()
        .filter(char::is_ascii_digit)
        .collect();
    assert_eq!(code.len(), 6, "{twiml}");
    code
}

#[tokio::test]
async fn call_me_instead_of_a_text_at_the_kiosk() {
    let _one = ONE_AT_A_TIME.lock().await;
    let replay = SmsReplay::start().await.expect("replay");
    let server = TestServer::with_config(&format!(
        "[policy]\nmethods = [\"email\", \"totp\", \"sms\", \"voice\"]\nresend_after_secs = 5\n\n[sms]\ndefault_region = \"DE\"\nsender = \"TestOrg\"\n{}\n[voice]\ncaller_id = \"+4930555000\"\n{}",
        replay.provider_toml("twilio", TWILIO_TOKEN),
        replay.voice_provider_toml(),
    ))
    .await
    .expect("server");
    server
        .register("[[person]]\nlogin = \"ada\"\nmobile = \"0151 1234 5678\"\n")
        .expect("register a mobile number");
    let driver = Driver::start().await.expect("tauri-driver");
    let mut k = KioskWindow::open(&driver, &server, "call-instead", KioskSetup::default())
        .await
        .expect("kiosk");
    identify(&mut k, "reset", "ada").await;
    k.wait_text("Text a code to +49 ••• •••• 78", 10)
        .await
        .expect("the number, masked");
    // Every gateway down: the kiosk hears it once the send failed, and says so.
    replay.fail(true);
    k.click("button[data-method=\"sms\"]").await.expect("sms");
    k.wait_text("couldn't send the code", 20)
        .await
        .expect("told the text couldn't be sent");
    k.screen("verify", 5).await.expect("back to the methods");
    k.shoot("not-sent").await.expect("shot");
    replay.fail(false);

    let seen = replay.taken().len();
    k.listen_live().await.expect("listen");
    k.click("button[data-method=\"sms\"]").await.expect("sms");
    k.screen("code", 10).await.expect("code screen");
    let text = taken_after(&replay, seen).await;
    assert_eq!((text.provider, text.to.as_str()), ("twilio", ADA_MOBILE));
    k.wait_text("We texted a 6-digit code to +49 ••• •••• 78", 10)
        .await
        .expect("texted");
    k.wait("#call-instead[disabled]", 5)
        .await
        .expect("after the cooldown");
    k.wait_text("Call me instead in", 5)
        .await
        .expect("counting down");
    k.shoot("texted").await.expect("shot");
    // Said when the text went out (the screen said "texting" until then).
    k.wait_said("live-status", "We texted a 6-digit code to", 5)
        .await
        .expect("texted said");
    let mut found = sspr_tests::axe::Findings::default();
    found
        .check(&k.client, "code, texted (en)")
        .await
        .expect("axe");

    k.wait("#call-instead:not([disabled])", 15)
        .await
        .expect("the cooldown ends");
    let seen = replay.taken().len();
    k.click("#call-instead").await.expect("call me instead");
    k.wait_text("We're calling +49 ••• •••• 78 now", 10)
        .await
        .expect("calling");
    let call = taken_after(&replay, seen).await;
    assert_eq!(
        (call.provider, call.to.as_str()),
        ("twilio-call", ADA_MOBILE)
    );
    k.wait_text("Call me again in", 5)
        .await
        .expect("again by call");
    assert!(
        k.wait("#call-instead", 1).await.is_err(),
        "still offered after calling"
    );
    k.shoot("calling").await.expect("shot");
    k.wait_said("live-status", "We're calling", 5)
        .await
        .expect("calling said");
    found
        .check(&k.client, "code, called (en)")
        .await
        .expect("axe");
    found
        .assert_none()
        .expect("no serious or critical violation");
    enter_code(&mut k, &spoken_code(&call.text), "called-code").await;
    k.screen("password", 10).await.expect("password screen");
    k.shoot("verified").await.expect("shot");
    k.close().await.expect("close");
}
