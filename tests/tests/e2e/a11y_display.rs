//! The kiosk's time and display for people who need them (WCAG 2.2): the idle warning 20 s
//! ahead, extended by any key and said again near its end; high contrast and larger text
//! switched on at Start, checked by axe-core, by the colours and sizes the engine computed,
//! and for content cut off, in the real kiosk window.

use std::time::{Duration, Instant};

use sspr_tests::axe::Findings;
use sspr_tests::kiosk::{Driver, KioskSetup, KioskWindow};
use sspr_tests::TestServer;

use super::ONE_AT_A_TIME;

/// A script's answer as JSON.
async fn js(k: &KioskWindow, script: &str) -> serde_json::Value {
    k.client.execute(script, vec![]).await.expect("script")
}

async fn focused_id(k: &KioskWindow) -> String {
    js(k, "return document.activeElement.id;")
        .await
        .as_str()
        .unwrap_or_default()
        .to_string()
}

/// How many times `region` said words containing `text` since `listen_live`.
async fn times_said(k: &KioskWindow, region: &str, text: &str) -> usize {
    let prefix = format!("{region}: ");
    k.said()
        .await
        .expect("said")
        .iter()
        .filter(|s| s.starts_with(&prefix) && s.contains(text))
        .count()
}

/// The idle warning comes 20 s before the wipe, leaves the focus where it was, and says
/// the seconds left again at 10 and 5 (politely, once each); a key pressed extends the
/// time (the kiosk is still on its screen past the first deadline); without one it wipes
/// back to Start, and the larger text switched on at Start goes with it.
#[tokio::test]
async fn the_idle_warning_gives_twenty_seconds_a_key_extends_them_and_says_the_end() {
    let _one = ONE_AT_A_TIME.lock().await;
    let server = TestServer::start().await.expect("server");
    let driver = Driver::start().await.expect("tauri-driver");
    let timeout = 24;
    let setup = KioskSetup {
        idle_timeout_secs: Some(timeout),
        ..KioskSetup::default()
    };
    let mut k = KioskWindow::open(&driver, &server, "a11y-idle", setup)
        .await
        .expect("kiosk");
    k.screen("start", 30).await.expect("start");
    k.click("#mode-large").await.expect("larger text");
    k.wait("html.large-text", 5).await.expect("larger text on");
    k.listen_live().await.expect("listen");
    k.click("button[data-intent=\"reset\"]")
        .await
        .expect("reset");
    let left_start = Instant::now();
    k.screen("identify", 10).await.expect("identify");
    assert_eq!(focused_id(&k).await, "login");

    // The warning, 20 s ahead of the wipe (the timeout is 24 s: 4 s after Start was left).
    k.wait(".idle", 10).await.expect("idle warning");
    let shown = left_start.elapsed();
    assert!(
        shown < Duration::from_secs(u64::from(timeout) - 18),
        "the warning came {shown:?} after Start was left, under 20 s before the wipe"
    );
    let seconds = js(
        &k,
        "return parseInt(document.querySelector('.idle-lead').textContent.match(/\\d+/)[0]);",
    )
    .await
    .as_i64()
    .unwrap_or_default();
    assert!(
        (17..=20).contains(&seconds),
        "the countdown starts at {seconds} s"
    );
    k.wait_said("live-alert", "Are you still there?", 3)
        .await
        .expect("warning said");
    k.shoot("warning").await.expect("shot");
    // Near the end, the seconds left again, politely; the focus stays in the field.
    k.wait_said("live-status", "10 seconds", 15)
        .await
        .expect("10 seconds said");
    assert_eq!(focused_id(&k).await, "login", "the warning took the focus");
    let first_deadline = left_start + Duration::from_secs(u64::from(timeout));
    // A key (typed into the field that has the focus) is the answer.
    sspr_tests::keys::press(&k.client, "a").await.expect("key");
    k.wait("body:not(:has(.idle))", 3)
        .await
        .expect("the warning goes with a key");
    assert_eq!(k.value("#login").await.expect("value"), "a");
    // Past the first deadline the kiosk is still on the person's screen.
    tokio::time::sleep(
        first_deadline.saturating_duration_since(Instant::now()) + Duration::from_secs(2),
    )
    .await;
    k.screen("identify", 1)
        .await
        .expect("still on the screen past the first deadline");
    assert_eq!(k.value("#login").await.expect("value"), "a", "kept");
    assert_eq!(
        times_said(&k, "live-status", "5 seconds").await,
        0,
        "{:?}",
        k.said().await
    );

    // The second warning, without a key: 10 and 5 said once each, then Start.
    k.wait(".idle", 20).await.expect("idle warning again");
    k.wait_said("live-status", "5 seconds", 20)
        .await
        .expect("5 seconds said");
    k.shoot("five-seconds").await.expect("shot");
    // Once each per warning: the first warning's 10, the second's 10 and 5.
    assert_eq!(
        times_said(&k, "live-status", "10 seconds").await,
        2,
        "{:?}",
        k.said().await
    );
    assert_eq!(
        times_said(&k, "live-status", "5 seconds").await,
        1,
        "{:?}",
        k.said().await
    );
    k.screen("start", 10).await.expect("wiped back to Start");
    k.shoot("wiped").await.expect("shot");
    let modes = js(&k, "return document.documentElement.className;").await;
    assert!(
        !modes.as_str().unwrap_or_default().contains("large-text"),
        "larger text outlived the wipe: {modes}"
    );
    assert_eq!(
        js(
            &k,
            "return document.getElementById('mode-large').getAttribute('aria-pressed');"
        )
        .await,
        "false"
    );
    k.close().await.expect("close");
}

/// The page's font size of `css` in px, and its colour and background as computed.
async fn looks(k: &KioskWindow, css: &str) -> (f64, String, String) {
    let v = k
        .client
        .execute(
            "const s = getComputedStyle(document.querySelector(arguments[0]));
             return [parseFloat(s.fontSize), s.color, s.backgroundColor];",
            vec![css.into()],
        )
        .await
        .expect("style");
    (
        v[0].as_f64().unwrap_or_default(),
        v[1].as_str().unwrap_or_default().to_string(),
        v[2].as_str().unwrap_or_default().to_string(),
    )
}

/// Checks the screen as it stands: axe, nothing cut off, and in high contrast text at 7:1
/// and every control's edge at 3:1.
async fn check_screen(k: &mut KioskWindow, found: &mut Findings, what: &str, contrast: bool) {
    k.settled(10).await.expect("settled");
    found.check(&k.client, what).await.expect("axe ran");
    assert_eq!(
        k.overflowing().await.expect("probe"),
        Vec::<String>::new(),
        "text that doesn't fit: {what}"
    );
    assert_eq!(
        k.cut_off().await.expect("probe"),
        Vec::<String>::new(),
        "cut off: {what}"
    );
    if contrast {
        assert_eq!(
            sspr_tests::axe::contrast_below(&k.client, 7.0, 3.0)
                .await
                .expect("probe"),
            Vec::<String>::new(),
            "below 7:1 text or 3:1 edges: {what}"
        );
    }
    tokio::time::sleep(Duration::from_millis(250)).await;
    k.shoot(&what.replace([' ', ',', ':'], "-"))
        .await
        .expect("shot");
}

/// High contrast and larger text, each switched on at Start (a toggle button that says
/// it is pressed), then both: Start, identify and the methods screen in them pass axe,
/// fit the 1280×800 window (scrolling inside the screen), and look as they should (black
/// on white without the organisation's colour; text half as large again). Back at Start
/// for the next person, both are off.
#[tokio::test]
async fn high_contrast_and_larger_text_switched_on_at_start() {
    let _one = ONE_AT_A_TIME.lock().await;
    let server = TestServer::start().await.expect("server");
    let driver = Driver::start().await.expect("tauri-driver");
    let mut k = KioskWindow::open(&driver, &server, "a11y-display", KioskSetup::default())
        .await
        .expect("kiosk");
    let mut found = Findings::default();
    k.screen("start", 30).await.expect("start");
    k.wait_text("Test Org", 10).await.expect("settings shown");
    let (h1_usual, _, _) = looks(&k, "h1").await;
    let (_, _, reset_usual) = looks(&k, "button[data-intent=\"reset\"]").await;
    assert_ne!(
        reset_usual, "rgb(0, 0, 0)",
        "the usual look uses the accent"
    );
    // The toggles: real buttons, big enough to hit (44 px and more), off at first.
    let sizes = js(
        &k,
        "return ['#mode-contrast', '#mode-large'].map((s) => {
           const e = document.querySelector(s); const r = e.getBoundingClientRect();
           return [e.tagName, e.getAttribute('aria-pressed'), Math.min(r.width, r.height) >= 44];
         });",
    )
    .await;
    assert_eq!(
        sizes,
        serde_json::json!([["BUTTON", "false", true], ["BUTTON", "false", true]])
    );

    for (toggle, class, label) in [
        ("#mode-contrast", "hc", "high contrast"),
        ("#mode-large", "large-text", "larger text"),
        ("", "", "both"),
    ] {
        let both = toggle.is_empty();
        if both {
            k.click("#mode-contrast").await.expect("contrast");
            k.click("#mode-large").await.expect("large");
            k.wait("html.hc.large-text", 5).await.expect("both on");
        } else {
            k.click(toggle).await.expect("toggle");
            k.wait(&format!("html.{class}"), 5).await.expect("mode on");
            k.wait(&format!("{toggle}[aria-pressed=\"true\"]"), 5)
                .await
                .expect("the toggle says it is pressed");
        }
        let contrast = class == "hc" || both;
        let large = class == "large-text" || both;
        let (h1, ink, _) = looks(&k, "h1").await;
        let (_, on_reset, reset_bg) = looks(&k, "button[data-intent=\"reset\"]").await;
        if large {
            assert!(
                h1 >= h1_usual * 1.4,
                "the heading is {h1} px in larger text, {h1_usual} px usually"
            );
        } else {
            assert!((h1 - h1_usual).abs() < 0.5, "{h1} beside {h1_usual}");
        }
        if contrast {
            assert_eq!(ink, "rgb(0, 0, 0)", "text is black");
            assert_eq!(reset_bg, "rgb(0, 0, 0)", "the accent is not used");
            assert_eq!(on_reset, "rgb(255, 255, 255)");
        } else {
            assert_eq!(reset_bg, reset_usual);
        }
        check_screen(&mut k, &mut found, &format!("start, {label}"), contrast).await;
        k.click("button[data-intent=\"reset\"]")
            .await
            .expect("reset");
        k.screen("identify", 10).await.expect("identify");
        assert!(
            js(&k, "return document.documentElement.className;")
                .await
                .as_str()
                .unwrap_or_default()
                .contains(if both { "hc large-text" } else { class }),
            "the mode is kept past Start"
        );
        check_screen(&mut k, &mut found, &format!("identify, {label}"), contrast).await;
        if both {
            k.tap_keys("ada").await.expect("keys");
            k.click("#identify-continue").await.expect("continue");
            k.screen("verify", 10).await.expect("methods");
            check_screen(&mut k, &mut found, &format!("methods, {label}"), contrast).await;
            k.click("#cancel").await.expect("cancel");
        } else {
            k.click("button.btn-quiet").await.expect("back");
        }
        // Back at Start for the next person: the usual look again.
        k.screen("start", 10).await.expect("start");
        k.wait("html:not(.hc):not(.large-text)", 5)
            .await
            .expect("modes off for the next person");
        k.wait("#mode-contrast[aria-pressed=\"false\"]", 5)
            .await
            .expect("toggle off");
    }
    found
        .assert_none()
        .expect("no serious or critical violation");
    k.close().await.expect("close");
}
