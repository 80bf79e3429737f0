//! Accessibility of the real kiosk window (WebKit, through tauri-driver): axe-core on every
//! screen of a walk, in English and German, and the whole flow by keyboard alone.

use sspr_tests::axe::Findings;
use sspr_tests::keys::{self, ENTER, ESCAPE, SHIFT, TAB};
use sspr_tests::kiosk::{Driver, KioskSetup, KioskWindow};
use sspr_tests::{TestServer, ADA_TOTP};

use super::{enter_code, identify, identify_checked, ONE_AT_A_TIME};

/// The password's reasons as the screen shows them, without their ✓/✗, one after another.
const REASONS: &str = "return [...document.querySelectorAll('#reasons li')]
    .map((li) => li.textContent.slice(2)).join(' ');";

/// A script's answer as a string (the DOM's own text, where WebDriver's text would turn
/// no-break spaces into spaces).
async fn js(k: &KioskWindow, script: &str) -> String {
    let v = k.client.execute(script, vec![]).await.expect("script");
    v.as_str().unwrap_or_default().to_string()
}

/// Runs axe on the screen as it stands, once no call is under way.
async fn axe(k: &KioskWindow, found: &mut Findings, what: &str) {
    k.settled(10).await.expect("settled");
    found.check(&k.client, what).await.expect("axe ran");
}

/// Every screen of a reset, then the helpdesk screen, in English (Start, the language
/// list) and German (picked at Start), and Start in the other five languages: axe-core
/// finds no serious or critical violation, and the page's `lang` follows the language.
#[tokio::test]
async fn every_kiosk_screen_passes_axe_in_english_and_german() {
    let _one = ONE_AT_A_TIME.lock().await;
    let server = TestServer::start().await.expect("server");
    let driver = Driver::start().await.expect("tauri-driver");
    let mut k = KioskWindow::open(&driver, &server, "a11y-axe", KioskSetup::default())
        .await
        .expect("kiosk");
    let mut found = Findings::default();
    k.screen("start", 30).await.expect("start");
    k.wait_text("Test Org", 10).await.expect("settings shown");
    sspr_tests::axe::canary(&k.client)
        .await
        .expect("axe sees in WebKit");
    axe(&k, &mut found, "start (en)").await;
    k.click("#lang-toggle").await.expect("language button");
    k.wait("#lang-menu:not([hidden])", 5)
        .await
        .expect("language list");
    axe(&k, &mut found, "start, language list open (en)").await;
    // The Start screen in the other languages, each picked from the list.
    for lang in ["fr", "es", "it", "nl", "pl"] {
        k.click(&format!("button[data-lang=\"{lang}\"]"))
            .await
            .expect("a language");
        k.wait(&format!("html[lang=\"{lang}\"]"), 5)
            .await
            .expect("the page's language");
        axe(&k, &mut found, &format!("start ({lang})")).await;
        k.click("#lang-toggle").await.expect("language button");
        k.wait("#lang-menu:not([hidden])", 5)
            .await
            .expect("language list");
    }
    k.click("button[data-lang=\"de\"]").await.expect("Deutsch");
    k.wait_text("Konto entsperren", 5).await.expect("German");
    let lang = k
        .client
        .execute("return document.documentElement.lang;", vec![])
        .await
        .expect("lang");
    assert_eq!(lang, "de", "the page's language follows the choice");
    axe(&k, &mut found, "start (de)").await;
    k.listen_live().await.expect("listen");

    identify_checked(&mut k, "reset", "ada", Some((&mut found, "de"))).await;
    let (code, _) = super::email_code(&mut k, &server, "ada@home.example.net").await;
    k.screen("code", 10).await.expect("code screen");
    axe(&k, &mut found, "code (de)").await;
    // Where the code went is said once, politely, as the screen shows.
    let hint = js(
        &k,
        "return document.getElementById('code-hint').textContent;",
    )
    .await;
    assert!(hint.contains("a•••@h•••.net"), "{hint}");
    let n = k
        .wait_said("live-status", &hint, 5)
        .await
        .expect("code sent said");
    assert_eq!(n, 1, "said more than once: {:?}", k.said().await);
    let wrong = if code == "000000" { "111111" } else { "000000" };
    enter_code(&mut k, wrong, "wrong-code").await;
    k.wait(".notice", 10).await.expect("wrong code shown");
    axe(&k, &mut found, "code, wrong code (de)").await;
    // A wrong code is said at once; the focus is in the field to type it again.
    let notice = js(&k, "return document.querySelector('.notice').textContent;").await;
    k.wait_said("live-alert", &notice, 5)
        .await
        .expect("wrong code said");
    assert_eq!(
        js(&k, "return document.activeElement.id;").await,
        "code",
        "the focus after a wrong code"
    );
    enter_code(&mut k, &code, "code").await;

    k.screen("password", 10).await.expect("password screen");
    axe(&k, &mut found, "password (de)").await;
    k.type_into("#new-password", "lovelace")
        .await
        .expect("type");
    k.wait("#reasons li", 10).await.expect("reasons");
    axe(&k, &mut found, "password, reasons (de)").await;
    // The reasons are said when they change, not at every key.
    let reasons = js(&k, REASONS).await;
    assert!(!reasons.is_empty());
    k.wait_said("live-status", &reasons, 5)
        .await
        .expect("reasons said");
    k.type_into("#new-password", "x").await.expect("type");
    tokio::time::sleep(std::time::Duration::from_millis(1200)).await;
    assert_eq!(js(&k, REASONS).await, reasons, "the same reasons");
    let n = k.wait_said("live-status", &reasons, 1).await.expect("said");
    assert_eq!(n, 1, "the same reasons said again: {:?}", k.said().await);
    k.wait("#new-password", 5)
        .await
        .expect("field")
        .clear()
        .await
        .expect("clear");
    k.choose_password(super::NEW_PASSWORD)
        .await
        .expect("password");
    axe(&k, &mut found, "password, accepted (de)").await;
    let ok = js(&k, REASONS).await;
    k.wait_said("live-status", &ok, 5)
        .await
        .expect("accepted said");
    k.shoot("password-ok").await.expect("shot");
    k.click("#password-submit").await.expect("submit");
    k.screen("done", 15).await.expect("done");
    axe(&k, &mut found, "done (de)").await;
    k.shoot("done").await.expect("shot");

    // The helpdesk screen: five wrong authenticator codes block the person.
    k.click("#done-finish").await.expect("finish");
    identify(&mut k, "reset", "ada").await;
    k.click("button[data-method=\"totp\"]").await.expect("totp");
    let right = sspr_tests::totp_now(ADA_TOTP);
    let wrong = if right == "000000" {
        "111111"
    } else {
        "000000"
    };
    for i in 0..5 {
        enter_code(&mut k, wrong, &format!("wrong-{i}")).await;
    }
    k.screen("help", 10).await.expect("help screen");
    k.wait("canvas.qr", 10).await.expect("qr drawn");
    axe(&k, &mut found, "help, blocked (de)").await;
    k.shoot("help").await.expect("shot");
    found
        .assert_none()
        .expect("no serious or critical violation");
    k.close().await.expect("close");
}

/// A screenshot once the page has painted what it did last (WebKit's screenshot can trail
/// the page by a frame: the focus ring would show where it was a key before).
async fn shoot(k: &mut KioskWindow, name: &str) {
    tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    k.shoot(name).await.expect("shot");
}

async fn press(k: &KioskWindow, keys: &str) {
    keys::press(&k.client, keys).await.expect("keys");
}

async fn tab_to(k: &KioskWindow, want: &str) {
    keys::tab_to(&k.client, want).await.expect("Tab");
}

async fn focused_on(k: &KioskWindow, want: &str) {
    keys::focused_on(&k.client, want).await.expect("focus");
}

/// The whole reset at the kiosk with a keyboard alone (no click, no on-screen key): each
/// key goes to the focused element; the focus moves in reading order and every control
/// that takes it shows the focus ring. The organisation's colour here is a light yellow
/// that white text can't be read on: axe checks each screen in it.
#[tokio::test]
async fn the_kiosk_flow_by_keyboard_alone() {
    let _one = ONE_AT_A_TIME.lock().await;
    let server = TestServer::start().await.expect("server");
    let policy = server.dir.join("accent.toml");
    std::fs::write(&policy, "[organization]\naccent_color = \"#f5c400\"\n").expect("write");
    server
        .admin(&["policy", "import", policy.to_str().unwrap_or_default()])
        .expect("import");
    let mut found = Findings::default();
    let driver = Driver::start().await.expect("tauri-driver");
    let setup = KioskSetup {
        // Takes the new colour up at once if it came into force after the kiosk started.
        status_refresh_secs: Some(1),
        ..KioskSetup::default()
    };
    let mut k = KioskWindow::open(&driver, &server, "a11y-keyboard", setup)
        .await
        .expect("kiosk");
    k.screen("start", 30).await.expect("start");
    k.wait_text("Test Org", 10).await.expect("settings shown");
    k.wait("html[style*=\"#f5c400\"]", 10)
        .await
        .expect("the organisation's colour");
    // Each screen puts the focus on its heading (or its field), so a screen reader starts
    // there and the first Tab goes to the first control of the screen.
    // Back from the heading: the language button in the header; Enter opens the list on
    // the current language, Escape closes it and gives the focus back to the button.
    press(&k, &format!("{SHIFT}{TAB}")).await;
    focused_on(&k, "#lang-toggle").await;
    press(&k, ENTER).await;
    k.wait("#lang-menu:not([hidden])", 5)
        .await
        .expect("list open");
    focused_on(&k, "#lang-menu button[data-lang=\"en\"]").await;
    shoot(&mut k, "languages-focus").await;
    press(&k, ESCAPE).await;
    k.wait("#lang-menu[hidden]", 5).await.expect("list closed");
    focused_on(&k, "#lang-toggle").await;
    axe(&k, &mut found, "start, light accent (en)").await;
    tab_to(&k, "button[data-intent=\"reset\"]").await;
    shoot(&mut k, "start-focus").await;
    tab_to(&k, "button[data-intent=\"unlock\"]").await;
    // Shift+Tab goes back (WebDriver lets the modifier go at the end of the keys).
    press(&k, &format!("{SHIFT}{TAB}")).await;
    focused_on(&k, "button[data-intent=\"reset\"]").await;
    press(&k, ENTER).await;

    k.screen("identify", 10).await.expect("identify");
    focused_on(&k, "#login").await;
    axe(&k, &mut found, "identify, light accent (en)").await;
    press(&k, "ada").await;
    tab_to(&k, "button.btn-quiet").await; // Back
    tab_to(&k, "#identify-continue").await;
    shoot(&mut k, "identify-focus").await;
    press(&k, ENTER).await;

    k.screen("verify", 10).await.expect("verify");
    axe(&k, &mut found, "verify, light accent (en)").await;
    tab_to(&k, "button[data-method=\"email\"]").await;
    tab_to(&k, "button[data-method=\"totp\"]").await;
    shoot(&mut k, "verify-focus").await;
    press(&k, ENTER).await;

    k.screen("code", 10).await.expect("code");
    focused_on(&k, "#code").await;
    axe(&k, &mut found, "code, light accent (en)").await;
    press(&k, &sspr_tests::totp_now(ADA_TOTP)).await;
    tab_to(&k, "#verify-submit").await;
    shoot(&mut k, "code-focus").await;
    press(&k, ENTER).await;

    k.screen("password", 10).await.expect("password");
    focused_on(&k, "#new-password").await;
    press(&k, super::NEW_PASSWORD).await;
    tab_to(&k, "#confirm-password").await;
    press(&k, super::NEW_PASSWORD).await;
    k.wait("#password-submit:not([disabled])", 10)
        .await
        .expect("accepted");
    tab_to(&k, "#password-submit").await;
    axe(&k, &mut found, "password, light accent (en)").await;
    shoot(&mut k, "password-focus").await;
    press(&k, ENTER).await;

    k.screen("done", 15).await.expect("done");
    tab_to(&k, "#done-finish").await;
    axe(&k, &mut found, "done, light accent (en)").await;
    shoot(&mut k, "done-focus").await;
    assert!(server
        .password_is("ada", super::NEW_PASSWORD)
        .await
        .expect("directory"));
    press(&k, ENTER).await;
    k.screen("start", 10).await.expect("back to start");
    found
        .assert_none()
        .expect("no serious or critical violation");
    k.close().await.expect("close");
}

/// Picks `lang` from the language list at Start.
async fn pick_language(k: &KioskWindow, lang: &str) {
    k.screen("start", 30).await.expect("start");
    k.click("#lang-toggle").await.expect("language button");
    k.wait("#lang-menu:not([hidden])", 5)
        .await
        .expect("language list");
    k.click(&format!("button[data-lang=\"{lang}\"]"))
        .await
        .expect("a language");
    k.wait(&format!("html[lang=\"{lang}\"]"), 5)
        .await
        .expect("the page's language");
}

/// Every kiosk screen a person reaches without an outside service, in the five languages
/// the English and German walk leaves (Start in them is checked there), on one kiosk
/// window: a reset (identify, methods, the email code, a wrong code, the password, its
/// reasons, accepted, done), an unlock up to its screen, and the helpdesk screen of a
/// blocked person. axe-core finds no serious or critical violation on any.
#[tokio::test]
async fn every_kiosk_screen_passes_axe_in_five_more_languages() {
    const LANGS: [&str; 5] = ["fr", "es", "it", "nl", "pl"];
    let _one = ONE_AT_A_TIME.lock().await;
    // One reset a language: more than the five an hour an account may have by default.
    let server = TestServer::with_config("[throttle]\nresets = { max = 20, window_secs = 3600 }\n")
        .await
        .expect("server");
    let driver = Driver::start().await.expect("tauri-driver");
    let mut k = KioskWindow::open(&driver, &server, "a11y-languages", KioskSetup::default())
        .await
        .expect("kiosk");
    let mut found = Findings::default();
    k.screen("start", 30).await.expect("start");
    k.wait_text("Test Org", 10).await.expect("settings shown");
    let began = std::time::Instant::now();
    for lang in LANGS {
        pick_language(&k, lang).await;
        identify_checked(&mut k, "reset", "ada", Some((&mut found, lang))).await;
        let (code, _) = super::email_code(&mut k, &server, "ada@home.example.net").await;
        k.screen("code", 10).await.expect("code screen");
        axe(&k, &mut found, &format!("code ({lang})")).await;
        let wrong = if code == "000000" { "111111" } else { "000000" };
        enter_code(&mut k, wrong, &format!("wrong-code-{lang}")).await;
        k.wait(".notice", 10).await.expect("wrong code shown");
        axe(&k, &mut found, &format!("code, wrong code ({lang})")).await;
        enter_code(&mut k, &code, &format!("code-{lang}")).await;
        k.screen("password", 10).await.expect("password screen");
        axe(&k, &mut found, &format!("password ({lang})")).await;
        k.type_into("#new-password", "lovelace")
            .await
            .expect("type");
        k.wait("#reasons li", 10).await.expect("reasons");
        axe(&k, &mut found, &format!("password, reasons ({lang})")).await;
        k.wait("#new-password", 5)
            .await
            .expect("field")
            .clear()
            .await
            .expect("clear");
        k.choose_password(&format!("{} {lang}", super::NEW_PASSWORD))
            .await
            .expect("password");
        axe(&k, &mut found, &format!("password, accepted ({lang})")).await;
        k.click("#password-submit").await.expect("submit");
        k.screen("done", 15).await.expect("done");
        axe(&k, &mut found, &format!("done ({lang})")).await;
        k.shoot(&format!("done-{lang}")).await.expect("shot");
        k.click("#done-finish").await.expect("finish");

        // Grace is locked: her unlock screen, then Cancel (she stays locked for the next).
        pick_language(&k, lang).await;
        identify(&mut k, "unlock", "grace").await;
        let (code, _) = super::email_code(&mut k, &server, "grace@home.example.net").await;
        enter_code(&mut k, &code, &format!("unlock-code-{lang}")).await;
        k.screen("unlock", 10).await.expect("unlock screen");
        axe(&k, &mut found, &format!("unlock ({lang})")).await;
        k.shoot(&format!("unlock-{lang}")).await.expect("shot");
        k.click("#cancel").await.expect("cancel");
    }
    let walks = began.elapsed();

    // The helpdesk screen: five wrong authenticator codes block Ada; asked again in each
    // language, the kiosk sends her there at once.
    identify(&mut k, "reset", "ada").await;
    k.click("button[data-method=\"totp\"]").await.expect("totp");
    let right = sspr_tests::totp_now(ADA_TOTP);
    let wrong = if right == "000000" {
        "111111"
    } else {
        "000000"
    };
    for i in 0..5 {
        enter_code(&mut k, wrong, &format!("wrong-{i}")).await;
    }
    k.screen("help", 10).await.expect("help screen");
    k.click("#help button.btn-primary")
        .await
        .expect("start over");
    for lang in LANGS {
        pick_language(&k, lang).await;
        k.click("button[data-intent=\"reset\"]")
            .await
            .expect("reset");
        k.screen("identify", 10).await.expect("identify");
        k.tap_keys("ada").await.expect("keys");
        k.click("#identify-continue").await.expect("continue");
        k.screen("help", 10).await.expect("help screen");
        k.wait("canvas.qr", 10).await.expect("qr drawn");
        axe(&k, &mut found, &format!("help, blocked ({lang})")).await;
        k.shoot(&format!("help-{lang}")).await.expect("shot");
        k.click("#help button.btn-primary")
            .await
            .expect("start over");
    }
    println!(
        "{} screens checked; the five walks took {walks:?}, all {:?}",
        found.pages(),
        began.elapsed()
    );
    found
        .assert_none()
        .expect("no serious or critical violation");
    k.close().await.expect("close");
}
