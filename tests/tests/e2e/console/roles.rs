//! Roles, a policy managed as code, and the passkey asked again before a change.

use super::*;

#[tokio::test]
async fn the_helpdesk_and_readers_see_only_what_their_role_allows() {
    let server = server().await;
    let mut b = Browser::desktop(&shots("console-helpdesk"))
        .await
        .expect("chromium");
    register_passkey(&mut b, &server, "hedy", HEDY_PASSWORD, HEDY_TOTP).await;
    b.goto(&format!("{}/admin", server.phone_base))
        .await
        .expect("console");
    console_sign_in(&mut b, "hedy", HEDY_PASSWORD).await;
    let header = b.text(".topbar").await.expect("header");
    assert!(header.contains("Helpdesk"), "{header}");
    b.shoot("overview").await.expect("shot");

    open(&b, "methods", false).await;
    assert!(
        !exists(&b, "#policy-save").await,
        "no Save for the helpdesk"
    );
    assert!(!exists(&b, "input[data-path]").await, "no editing controls");
    b.wait_text(
        "#policy-read-only",
        "Only console administrators can change the policy",
        5,
    )
    .await
    .expect("says why");
    b.shoot("methods-read-only").await.expect("shot");

    open(&b, "kiosks", false).await;
    assert!(
        !exists(&b, "#kiosk-form").await,
        "no new kiosks for the helpdesk"
    );
    assert!(!exists(&b, "button[data-revoke]").await, "no revoking");
    b.shoot("kiosks-read-only").await.expect("shot");

    open(&b, "directories", false).await;
    assert!(
        !exists(&b, "button[data-test]").await,
        "no connection tests"
    );
    open(&b, "helpdesk", false).await;
    b.type_into("#clear-login", "grace").await.expect("login");
    b.type_into("#clear-reason", "Lost phone, identity checked in person")
        .await
        .expect("reason");
    b.click_centered("#clear-methods").await.expect("clear");
    b.wait_text("dialog", "Clear all methods of grace?", 5)
        .await
        .expect("asked first");
    b.click_centered("dialog button[data-confirm=\"yes\"]")
        .await
        .expect("confirm");
    b.wait_text("#clear-result", "2 methods of grace removed", 15)
        .await
        .expect("cleared");
    b.shoot("methods-cleared").await.expect("shot");

    // A reader: the overview and the policy (read only), nothing else.
    b.click_centered("#sign-out").await.expect("sign out");
    b.state("sign-in", 10).await.expect("signed out");
    register_passkey(&mut b, &server, "ken", KEN_PASSWORD, KEN_TOTP).await;
    b.goto(&format!("{}/admin", server.phone_base))
        .await
        .expect("console");
    console_sign_in(&mut b, "ken", KEN_PASSWORD).await;
    let nav = b.text("#nav").await.expect("nav");
    for hidden in ["Kiosks", "Directories", "Audit log", "Helpdesk"] {
        assert!(!nav.contains(hidden), "a reader sees {hidden}: {nav}");
    }
    assert!(
        nav.contains("Overview") && nav.contains("Properties") && nav.contains("Usage & insights"),
        "{nav}"
    );
    b.shoot("reader-overview").await.expect("shot");
    // A reader's insights: no kiosk filter (readers can't list kiosks), coverage shown.
    open(&b, "insights", false).await;
    assert!(
        !exists(&b, "#f-kiosk").await,
        "no kiosk filter for a reader"
    );
    b.wait_text("#coverage", "Not ready yet", 15)
        .await
        .expect("coverage for a reader");
    b.shoot("reader-insights").await.expect("shot");
    open(&b, "customization", false).await;
    assert!(!exists(&b, "#policy-save").await, "no Save for a reader");
    b.wait_text("#kiosk-preview", "Locked out? Forgot your password?", 5)
        .await
        .expect("the preview, read only");
    b.shoot("reader-customization").await.expect("shot");
    // A view the role doesn't have, typed in the address: the overview instead.
    b.goto(&format!("{}/admin#kiosks", server.phone_base))
        .await
        .expect("typed");
    b.state("overview", 15).await.expect("the overview instead");
}

/// The policy managed as code: an admin sees it, without editing controls, and is told
/// where it is changed.
#[tokio::test]
async fn a_policy_managed_as_code_is_shown_and_not_edited() {
    let server = server_with("policy_read_only = true\n").await;
    let mut b = Browser::desktop(&shots("console-as-code"))
        .await
        .expect("chromium");
    register_passkey(&mut b, &server, "linus", LINUS_PASSWORD, LINUS_TOTP).await;
    b.goto(&format!("{}/admin", server.phone_base))
        .await
        .expect("console");
    console_sign_in(&mut b, "linus", LINUS_PASSWORD).await;
    for view in ["properties", "methods", "customization"] {
        open(&b, view, false).await;
        b.wait_text("#policy-read-only", "sspr-server policy import", 5)
            .await
            .expect("says it's managed as code");
        assert!(!exists(&b, "#policy-save").await, "no Save on {view}");
        assert!(
            !exists(&b, "input[data-path]").await,
            "no editing controls on {view}"
        );
        b.shoot(view).await.expect("shot");
    }
    // No kiosk was enrolled here: the empty state says how to stage one.
    open(&b, "kiosks", false).await;
    b.wait_text("body", "No kiosks yet", 5)
        .await
        .expect("empty state");
    b.shoot("kiosks-empty").await.expect("shot");
}

/// A policy change longer after the passkey was last used than the organisation allows
/// (5 minutes at most; `console.reauth_after_secs`, here 3 s so the test needn't wait
/// five minutes) asks for it again (the reauth dialog), then saves.
#[tokio::test]
async fn a_policy_change_after_the_passkey_aged_asks_for_it_again() {
    let server = server_with("reauth_after_secs = 3\n").await;
    let mut b = Browser::desktop(&shots("console-reauth"))
        .await
        .expect("chromium");
    register_passkey(&mut b, &server, "linus", LINUS_PASSWORD, LINUS_TOTP).await;
    b.goto(&format!("{}/admin", server.phone_base))
        .await
        .expect("console");
    console_sign_in(&mut b, "linus", LINUS_PASSWORD).await;
    open(&b, "registration", false).await;
    tokio::time::sleep(Duration::from_secs(4)).await;
    b.type_into("input[data-path=\"policy.reconfirm_days\"]", "90")
        .await
        .expect("days");
    b.click_centered("#policy-save").await.expect("save");
    b.wait_text("#reauth", "Confirm it's you", 10)
        .await
        .expect("the passkey again");
    b.shoot("reauth").await.expect("shot");
    b.click_centered("#reauth-go").await.expect("use passkey");
    b.wait_text("#save-done", "Saved as version", 15)
        .await
        .expect("saved after the passkey");
    b.shoot("reauth-saved").await.expect("shot");
}
