//! The console at a desk and on a phone: every view, and what its pages change.

use super::*;

#[tokio::test]
async fn an_admin_runs_the_console_in_a_browser_at_a_desk_and_on_a_phone() {
    let server = server().await;
    let kiosk = server.kiosk().await.expect("kiosk");
    let mut b = Browser::desktop(&shots("console")).await.expect("chromium");
    register_passkey(&mut b, &server, "linus", LINUS_PASSWORD, LINUS_TOTP).await;

    // A wrong password: the first step can't tell (it always asks for a passkey), the
    // browser has no passkey for the decoy's request, and starting over ends the attempt
    // with the server's one answer for every failed sign-in.
    b.goto(&format!("{}/admin", server.phone_base))
        .await
        .expect("console");
    b.state("sign-in", 15).await.expect("sign-in form");
    let header = b.text(".topbar").await.expect("header");
    assert!(header.contains("SSPR Kiosk admin"), "{header}");
    b.shoot("sign-in").await.expect("shot");
    b.type_into("#login", "linus").await.expect("login");
    b.type_into("#password", "not the password")
        .await
        .expect("password");
    b.click_centered("#sign-in").await.expect("continue");
    b.state("passkey", 10).await.expect("the passkey step");
    b.wait_text("[role=alert]", "The passkey wasn't used", 30)
        .await
        .expect("no passkey answers a wrong password");
    b.shoot("passkey-not-used").await.expect("shot");
    b.click_centered("#sign-in-restart")
        .await
        .expect("start over");
    b.state("sign-in", 10).await.expect("the form again");
    b.wait_text(
        "[role=alert]",
        "The login, password or passkey wasn't right, or this account can't use the console",
        30,
    )
    .await
    .expect("refused with the server's message");
    b.shoot("sign-in-refused").await.expect("shot");

    // The right password, then the passkey.
    console_sign_in(&mut b, "linus", LINUS_PASSWORD).await;
    let header = b.text(".topbar").await.expect("header");
    assert!(header.contains("Test Org"), "{header}");
    assert!(header.contains("Linus Torvalds"), "{header}");
    assert!(header.contains("Administrator"), "{header}");
    // The page is one document from here on: anything it draws against its CSP (an
    // inline style or script) is caught.
    b.client
        .execute(
            "window.cspViolations = []; document.addEventListener('securitypolicyviolation', \
             (e) => window.cspViolations.push(e.violatedDirective + ' ' + e.blockedURI));",
            vec![],
        )
        .await
        .expect("listen for CSP violations");

    // Some traffic for the overview, the audit and the helpdesk: a flow with a wrong code.
    let flow = kiosk.start_flow(&start("ada")).await.expect("flow");
    assert_eq!(flow.required, 1);
    let totp = flow
        .methods
        .iter()
        .find(|m| m.kind == sspr_tests::sspr_proto::MethodKind::Totp)
        .expect("totp")
        .id
        .clone();
    let challenge = kiosk
        .challenge(&flow.flow_id, &totp)
        .await
        .expect("challenge");
    let wrong = kiosk
        .verify(&flow.flow_id, &challenge.challenge_id, "000000")
        .await;
    assert!(wrong.is_err(), "a wrong code is refused");
    let reference = flow.reference.clone();

    // Every view at a desk's size.
    for view in VIEWS {
        open(&b, view, false).await;
        b.shoot(view).await.expect("shot");
        if matches!(
            view,
            "overview" | "insights" | "methods" | "customization" | "audit"
        ) {
            // The whole page too, below the window's height.
            b.shoot_full(view).await.expect("full shot");
        }
    }

    // Properties: choosing "a group" asks for the group's name, right under the choice.
    open(&b, "properties", false).await;
    assert!(
        !b.client
            .find(Locator::Css("#policy-group"))
            .await
            .expect("field")
            .is_displayed()
            .await
            .expect("shown?"),
        "no group field for everyone"
    );
    b.click_centered("input[data-path=\"policy.enabled\"][value=\"group\"]")
        .await
        .expect("a group");
    b.wait_text("#group-row", "Group", 5)
        .await
        .expect("the group's field");
    b.shoot("properties-group").await.expect("shot");
    b.click_centered("#policy-discard").await.expect("discard");

    // Authentication methods: one method required → two; the kiosk's next flow wants two.
    open(&b, "methods", false).await;
    assert!(
        b.text("#admin-note")
            .await
            .expect("note")
            .contains("Administrators (members of Domain Admins) always verify two methods"),
        "the administrators' fixed note"
    );
    b.click_centered("input[data-path=\"policy.methods_required\"][value=\"2\"]")
        .await
        .expect("two methods");
    b.wait_text("#save-status", "Unsaved changes", 5)
        .await
        .expect("the page knows");
    b.shoot("methods-edited").await.expect("shot");
    b.click_centered("#policy-save").await.expect("save");
    b.wait_text("#save-done", "Saved as version", 15)
        .await
        .expect("saved");
    b.shoot("methods-saved").await.expect("shot");
    eventually("a new flow for ada wants two methods", || async {
        kiosk
            .start_flow(&start("ada"))
            .await
            .map(|f| f.required == 2)
            .unwrap_or(false)
    })
    .await;

    // A policy nobody could pass is refused with the server's reasons.
    b.click_centered("input[data-method=\"approval\"]")
        .await
        .expect("approval off");
    b.click_centered("input[data-method=\"email\"]")
        .await
        .expect("email off");
    b.click_centered("#policy-save").await.expect("save");
    b.wait_text(
        "#save-errors",
        "policy.methods_required is 2 but only 1 method(s) are enabled",
        15,
    )
    .await
    .expect("the problems are listed");
    b.shoot("methods-refused").await.expect("shot");
    b.click_centered("#policy-discard").await.expect("discard");

    // Customization: the helpdesk phone changes on the kiosks.
    open(&b, "customization", false).await;
    b.type_into("#helpdesk-phone", "+49 30 555 0199")
        .await
        .expect("phone");
    b.wait_text("#kiosk-preview", "+49 30 555 0199", 5)
        .await
        .expect("the preview follows");
    b.click_centered("button.seg[data-locale=\"de\"]")
        .await
        .expect("Deutsch");
    b.wait_text("#kiosk-preview", "Wir konnten Sie nicht bestätigen", 5)
        .await
        .expect("the German preview");
    b.shoot("customization-de").await.expect("shot");
    // Every language the kiosk speaks, its plurals too: 24 hours is "24 godziny" in Polish.
    b.click_centered("button.seg[data-locale=\"pl\"]")
        .await
        .expect("Polski");
    b.wait_text("#kiosk-preview", "za około 24 godziny", 5)
        .await
        .expect("the Polish preview, with its plural");
    b.shoot("customization-pl").await.expect("shot");
    b.click_centered("#policy-save").await.expect("save");
    b.wait_text("#save-done", "Saved as version", 15)
        .await
        .expect("saved");
    eventually("the kiosk's settings carry the new phone", || async {
        kiosk
            .settings()
            .await
            .map(|s| s.helpdesk.phone.as_deref() == Some("+49 30 555 0199"))
            .unwrap_or(false)
    })
    .await;

    // Directories: a connection test from the page.
    open(&b, "directories", false).await;
    b.click_centered("button[data-test]")
        .await
        .expect("test connection");
    b.wait_text("#directory-result", "the connection works", 15)
        .await
        .expect("the directory answers");
    b.shoot("directory-tested").await.expect("shot");

    // Kiosks: an enrollment code from the page enrolls a kiosk.
    open(&b, "kiosks", false).await;
    b.type_into("#kiosk-name", "Lobby kiosk")
        .await
        .expect("name");
    b.type_into("#kiosk-location", "Building B")
        .await
        .expect("location");
    b.click_centered("#kiosk-create")
        .await
        .expect("make a code");
    b.wait_text("#enrollment", "Enrollment code for Lobby kiosk", 15)
        .await
        .expect("the code");
    let code = b.text("#enroll-code").await.expect("code text");
    assert!(
        exists(&b, "img#enroll-qr[src^=\"data:image/svg+xml;base64,\"]").await,
        "QR image"
    );
    b.shoot("kiosk-code").await.expect("shot");
    let mut lobby = Client::new(&server.base, DeviceKey::generate(), None).expect("client");
    let enrolled = lobby
        .enroll(code.trim(), None, None)
        .await
        .expect("enrolled with the page's code");
    assert_eq!(enrolled.name, "Lobby kiosk");
    lobby.settings().await.expect("the new kiosk works");

    // ... and revoking it from the page refuses it at once.
    open(&b, "overview", false).await;
    open(&b, "kiosks", false).await;
    let row = format!("tr[data-kiosk=\"{}\"]", enrolled.kiosk_id);
    b.wait_text(&row, "Enrolled", 10)
        .await
        .expect("listed as enrolled");
    b.click_centered(&format!("button[data-revoke=\"{}\"]", enrolled.kiosk_id))
        .await
        .expect("revoke");
    b.wait_text("dialog", "Revoke Lobby kiosk?", 5)
        .await
        .expect("asked first");
    b.shoot("kiosk-revoke-confirm").await.expect("shot");
    b.click_centered("dialog button[data-confirm=\"yes\"]")
        .await
        .expect("confirm");
    b.wait_text("#kiosk-result", "Lobby kiosk is revoked", 15)
        .await
        .expect("revoked");
    b.shoot("kiosk-revoked").await.expect("shot");
    let refused = lobby
        .settings()
        .await
        .expect_err("a revoked kiosk is refused");
    assert_eq!(refused.code(), Some(ErrorCode::KioskRevoked), "{refused:?}");

    // A staging code for three PCs: the lifetime field shows once more than one PC is
    // asked for; each PC enrolls under its host name; the page says what is left.
    let days_shown = |b: &Browser| {
        let b = b.client.clone();
        async move {
            b.find(Locator::Css("#kiosk-days"))
                .await
                .expect("days field")
                .is_displayed()
                .await
                .expect("shown?")
        }
    };
    assert!(!days_shown(&b).await, "no lifetime for one kiosk");
    b.type_into("#kiosk-uses", "3").await.expect("uses");
    assert!(days_shown(&b).await, "a lifetime for several PCs");
    b.type_into("#kiosk-days", "14").await.expect("days");
    b.type_into("#kiosk-name", "lab").await.expect("prefix");
    b.type_into("#kiosk-location", "Hall 4")
        .await
        .expect("location");
    b.shoot("kiosk-staging-form").await.expect("shot");
    b.click_centered("#kiosk-create")
        .await
        .expect("make a staging code");
    b.wait_text("#enrollment", "Staging code for 3 PCs", 15)
        .await
        .expect("the staging code");
    let staging = b.text("#enroll-code").await.expect("code text");
    b.shoot("kiosk-staging-code").await.expect("shot");
    let mut ws = Client::new(&server.base, DeviceKey::generate(), None).expect("client");
    let enrolled = ws
        .enroll(staging.trim(), Some("ws-e2e-1"), None)
        .await
        .expect("a PC enrolls with the page's staging code");
    assert_eq!(
        (enrolled.name.as_str(), enrolled.location.as_str()),
        ("ws-e2e-1", "Hall 4")
    );
    open(&b, "overview", false).await;
    open(&b, "kiosks", false).await;
    b.wait_text("tr[data-state=\"active\"] [data-remaining]", "2", 10)
        .await
        .expect("two uses left");
    b.wait_text(
        &format!("tr[data-kiosk=\"{}\"]", enrolled.kiosk_id),
        "ws-e2e-1",
        10,
    )
    .await
    .expect("the PC listed under its host name");
    b.shoot_full("kiosk-staging-listed").await.expect("shot");

    // Helpdesk: the attempt with the wrong code, by its reference.
    open(&b, "helpdesk", false).await;
    b.type_into("#reference", &reference)
        .await
        .expect("reference");
    b.click_centered("#lookup").await.expect("look up");
    b.wait_text("#attempt", &reference, 15)
        .await
        .expect("the attempt");
    let attempt = b.text("#attempt").await.expect("attempt");
    assert!(attempt.contains("ada"), "{attempt}");
    assert!(attempt.contains("Verification failed"), "{attempt}");
    b.shoot("helpdesk-attempt").await.expect("shot");
    b.type_into("#reference", "ZZZZ-ZZZZ")
        .await
        .expect("reference");
    b.click_centered("#lookup").await.expect("look up");
    b.wait_text(
        "#attempt-slot",
        "No attempt has the reference ZZZZ-ZZZZ",
        15,
    )
    .await
    .expect("not found, said plainly");

    // The audit log: the attempt folded into one story, expanded.
    open(&b, "audit", false).await;
    b.wait_text("#retention", "Rows are kept", 5)
        .await
        .expect("retention");
    b.click_centered(&format!("button[data-story=\"{reference}\"]"))
        .await
        .expect("the attempt's steps");
    b.wait_text(&format!("#story-{reference}"), "Verification failed", 5)
        .await
        .expect("the story");
    b.shoot("audit-story").await.expect("shot");
    let csv = b
        .client
        .find(Locator::Css("#export-csv"))
        .await
        .expect("export link")
        .attr("href")
        .await
        .expect("href")
        .unwrap_or_default();
    assert!(
        csv.starts_with("/v1/admin/audit/export?format=csv"),
        "{csv}"
    );

    // Filters the server refuses: its message, where the rows would be.
    b.goto(&format!(
        "{}/admin#audit?since=2030-01-02T00:00:00Z&until=2030-01-01T00:00:00Z",
        server.phone_base
    ))
    .await
    .expect("typed filters");
    b.state("error", 15).await.expect("refused");
    b.wait_text("#audit-results", "since must be before until", 5)
        .await
        .expect("the server's message");
    b.shoot("audit-refused").await.expect("shot");

    let violations = b
        .client
        .execute("return window.cspViolations;", vec![])
        .await
        .expect("CSP violations");
    assert_eq!(violations, serde_json::json!([]), "the page broke its CSP");

    // Every view at a phone's size: the navigation is a menu.
    b.resize(390, 844, "phone").await.expect("resize");
    open(&b, "overview", true).await;
    b.shoot("overview").await.expect("shot");
    b.click_centered("#menu-btn").await.expect("menu");
    b.shoot("menu").await.expect("shot");
    b.click_centered("#menu-btn").await.expect("close the menu");
    for view in VIEWS.iter().skip(1) {
        open(&b, view, true).await;
        b.shoot(view).await.expect("shot");
        if matches!(
            *view,
            "insights" | "methods" | "password-rules" | "customization" | "audit" | "kiosks"
        ) {
            b.shoot_full(view).await.expect("full shot");
        }
    }
    b.resize(1280, 800, "desktop").await.expect("resize");

    // Signed out in another tab: this one finds its session ended.
    let first = b.client.window().await.expect("window");
    let tab = b.client.new_window(true).await.expect("tab");
    b.client.switch_to_window(tab.handle).await.expect("switch");
    b.goto(&format!("{}/admin", server.phone_base))
        .await
        .expect("console");
    b.state("overview", 15).await.expect("the same session");
    b.click_centered("#sign-out").await.expect("sign out");
    b.state("sign-in", 10).await.expect("signed out");
    b.wait_text("[role=status]", "You signed out", 5)
        .await
        .expect("said so");
    b.client.close_window().await.expect("close the tab");
    b.client.switch_to_window(first).await.expect("back");
    b.click_centered("a.nav-link[data-view=\"directories\"]")
        .await
        .expect("on to another view");
    b.state("sign-in", 10).await.expect("back to sign-in");
    b.wait_text(".signin-card", "Your session ended", 5)
        .await
        .expect("the session ended, said so");
    b.shoot("session-ended").await.expect("shot");
}
