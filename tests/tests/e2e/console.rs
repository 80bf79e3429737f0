//! The admin console end to end, as an IT admin uses it: the real /admin page in headless
//! Chromium (a desk's window, then a phone's), signing in with the directory password and
//! a passkey registered on "My security info" through its own page (WebDriver's virtual
//! authenticator), every view shot at both sizes, and what the pages change checked where
//! it lands: a kiosk's new flow, a kiosk's settings, a kiosk enrolled with a code the page
//! made, a kiosk revoked from the page and then refused.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use fantoccini::Locator;
use sspr_tests::browser::Browser;
use sspr_tests::sspr_client::{Client, DeviceKey};
use sspr_tests::sspr_proto::{
    ErrorCode, FlowView, Intent, MethodKind, PasswordReasonCode, StartFlowRequest,
};
use sspr_tests::{Options, TestServer};

const CONSOLE: &str = r#"
[policy]
methods = ["email", "totp", "approval"]

[console]
admin_groups = ["SSPR Admins"]
helpdesk_groups = ["Helpdesk"]
reader_groups = ["Auditors"]
"#;

pub(crate) const LINUS_PASSWORD: &str = "Linus-console-password-1";
pub(crate) const LINUS_TOTP: &str = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXQ";
const HEDY_PASSWORD: &str = "Hedy-console-password-1";
const HEDY_TOTP: &str = "KRSXG5CTMVRXEZLUKRSXG5CTMVRXEZLV";
const KEN_PASSWORD: &str = "Ken-console-password-1";
const KEN_TOTP: &str = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";

/// An administrator of the console, a helpdesk agent and a reader, each with an
/// authenticator app (to sign in to /my and add a passkey there).
const STAFF: &str = r#"
[[user]]
username = "linus"
given_name = "Linus"
surname = "Torvalds"
email = "linus@example.org"
groups = ["Staff", "SSPR Admins"]
password = "Linus-console-password-1"
[user.methods]
totp = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXQ"

[[user]]
username = "hedy"
given_name = "Hedy"
surname = "Lamarr"
email = "hedy@example.org"
groups = ["Staff", "Helpdesk"]
password = "Hedy-console-password-1"
[user.methods]
totp = "KRSXG5CTMVRXEZLUKRSXG5CTMVRXEZLV"

[[user]]
username = "ken"
given_name = "Ken"
surname = "Thompson"
email = "ken@example.org"
groups = ["Staff", "Auditors"]
password = "Ken-console-password-1"
[user.methods]
totp = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
"#;

/// Every view, as the navigation names it.
pub(crate) const VIEWS: [&str; 12] = [
    "overview",
    "insights",
    "properties",
    "methods",
    "password-rules",
    "registration",
    "notifications",
    "customization",
    "directories",
    "kiosks",
    "audit",
    "helpdesk",
];

fn shots(test: &str) -> PathBuf {
    sspr_tests::profile_dir()
        .parent()
        .map(std::path::Path::to_path_buf)
        .unwrap_or_else(sspr_tests::target_dir)
        .join("e2e")
        .join(test)
}

async fn server() -> TestServer {
    server_with("").await
}

pub(crate) async fn server_with(more: &str) -> TestServer {
    let server = TestServer::start_with(Options {
        extra_config: format!("{CONSOLE}{more}"),
        ..Options::default()
    })
    .await
    .expect("server");
    let file = server.dir.join("staff.toml");
    std::fs::write(&file, STAFF).expect("write");
    server
        .admin(&["directory", "import", file.to_str().unwrap_or_default()])
        .expect("import staff");
    server
}

/// Signs in to "My security info" (password, then the authenticator app's code) and adds
/// this browser's passkey, through the page.
pub(crate) async fn register_passkey(
    b: &mut Browser,
    server: &TestServer,
    login: &str,
    password: &str,
    totp: &str,
) {
    b.goto(&format!("{}/my", server.phone_base))
        .await
        .expect("my page");
    b.state("sign-in", 15).await.expect("sign-in form");
    b.type_into("#login", login).await.expect("login");
    b.type_into("#password", password).await.expect("password");
    b.click("#sign-in").await.expect("sign in");
    b.state("second-factor", 10).await.expect("one more step");
    b.click("button[data-method-id][data-kind=\"totp\"]")
        .await
        .expect("the authenticator app");
    b.type_into("#code", &sspr_tests::totp_now(totp))
        .await
        .expect("code");
    b.click("#verify").await.expect("verify");
    b.state("signed-in", 10).await.expect("signed in to /my");
    b.type_into("#passkey-name", "Work laptop")
        .await
        .expect("name");
    b.click("#add-passkey").await.expect("add passkey");
    b.wait_text("#methods", "Work laptop", 15)
        .await
        .expect("the passkey is listed");
    b.click("#sign-out").await.expect("sign out of /my");
    b.state("sign-in", 10).await.expect("signed out of /my");
}

/// The console's sign-in: the password, then the browser's passkey prompt (the virtual
/// authenticator answers it), landing on the Overview.
pub(crate) async fn console_sign_in(b: &mut Browser, login: &str, password: &str) {
    b.state("sign-in", 15).await.expect("the console's sign-in");
    b.type_into("#login", login).await.expect("login");
    b.type_into("#password", password).await.expect("password");
    b.click_centered("#sign-in").await.expect("continue");
    b.state("overview", 20)
        .await
        .expect("signed in: the overview");
}

/// Opens a view from the navigation (through the menu on a phone) and waits until it has
/// drawn its content.
pub(crate) async fn open(b: &Browser, view: &str, phone: bool) {
    if phone {
        b.click_centered("#menu-btn").await.expect("menu");
    }
    b.click_centered(&format!("a.nav-link[data-view=\"{view}\"]"))
        .await
        .unwrap_or_else(|e| panic!("nav to {view}: {e}"));
    b.state(view, 15)
        .await
        .unwrap_or_else(|e| panic!("view {view}: {e}"));
}

async fn exists(b: &Browser, css: &str) -> bool {
    b.client
        .find_all(Locator::Css(css))
        .await
        .map(|v| !v.is_empty())
        .unwrap_or(false)
}

fn start(login: &str) -> StartFlowRequest {
    StartFlowRequest {
        login: login.into(),
        intent: Intent::Reset,
        locale: None,
    }
}

/// Waits until `check` holds (a policy version is in force within 2 s everywhere).
async fn eventually<F, Fut>(what: &str, check: F)
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + Duration::from_secs(10);
    while !check().await {
        assert!(Instant::now() < deadline, "never: {what}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

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

// ---- usage & insights, password rules, the logo -------------------------------------------

/// Verifies a flow's email method with the code from the delivered mail.
async fn verify_email(server: &TestServer, kiosk: &Client, flow: &FlowView, to: &str) -> FlowView {
    let seen = server.code_mails_to(to).len();
    let ch = kiosk
        .challenge(&flow.flow_id, &method_of(flow, MethodKind::Email))
        .await
        .expect("email challenge");
    let code = server.code_mail(to, seen).await.expect("code mail");
    kiosk
        .verify(&flow.flow_id, &ch.challenge_id, &code)
        .await
        .expect("email code accepted")
}

fn method_of(flow: &FlowView, kind: MethodKind) -> String {
    flow.methods
        .iter()
        .find(|m| m.kind == kind)
        .map(|m| m.id.clone())
        .unwrap_or_else(|| panic!("no {kind:?} method in {flow:?}"))
}

fn begin(login: &str, intent: Intent) -> StartFlowRequest {
    StartFlowRequest {
        login: login.into(),
        intent,
        locale: None,
    }
}

/// A known set of flows (as the API test `insights_count_exactly_the_flows_that_ran`
/// runs): ada resets after a refused password, grace unlocks, alan (an administrator)
/// verifies two methods and resets, ada gives up after a wrong code, and two logins get a
/// decoy. The funnel is then 4 → 3 → 1 of 1 → 3 → 3, with 2 decoys apart.
async fn known_flows(server: &TestServer, kiosk: &Client) {
    const NEW: &str = "violet kettle under maple rain";
    let flow = kiosk
        .start_flow(&begin("ada", Intent::Reset))
        .await
        .expect("flow");
    let flow = verify_email(server, kiosk, &flow, "ada@home.example.net").await;
    assert!(kiosk.set_password(&flow.flow_id, "short").await.is_err());
    kiosk.set_password(&flow.flow_id, NEW).await.expect("reset");
    let flow = kiosk
        .start_flow(&begin("grace", Intent::Unlock))
        .await
        .expect("flow");
    let flow = verify_email(server, kiosk, &flow, "grace@home.example.net").await;
    kiosk.unlock(&flow.flow_id).await.expect("unlock");
    let flow = kiosk
        .start_flow(&begin("alan", Intent::Reset))
        .await
        .expect("flow");
    assert_eq!(flow.required, 2);
    let flow = verify_email(server, kiosk, &flow, "alan@home.example.net").await;
    let ch = kiosk
        .challenge(&flow.flow_id, &method_of(&flow, MethodKind::Totp))
        .await
        .expect("totp challenge");
    let flow = kiosk
        .verify(
            &flow.flow_id,
            &ch.challenge_id,
            &sspr_tests::totp_now("KRSXG5CTMVRXEZLUKRSXG5CTMVRXEZLU"),
        )
        .await
        .expect("totp");
    kiosk.set_password(&flow.flow_id, NEW).await.expect("reset");
    let flow = kiosk
        .start_flow(&begin("ada", Intent::Reset))
        .await
        .expect("flow");
    let ch = kiosk
        .challenge(&flow.flow_id, &method_of(&flow, MethodKind::Email))
        .await
        .expect("challenge");
    assert!(kiosk
        .verify(&flow.flow_id, &ch.challenge_id, "000000")
        .await
        .is_err());
    kiosk.cancel(&flow.flow_id).await.expect("cancel");
    kiosk
        .start_flow(&begin("nobody-by-that-name", Intent::Reset))
        .await
        .expect("decoy");
    kiosk
        .start_flow(&begin("margaret", Intent::Reset))
        .await
        .expect("decoy");
}

/// The funnel's flows as the page's table shows them, by stage.
async fn funnel_in_page(b: &Browser) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for row in b
        .client
        .find_all(Locator::Css("#funnel-table tbody tr"))
        .await
        .expect("funnel rows")
    {
        let stage = row
            .attr("data-stage")
            .await
            .expect("stage")
            .unwrap_or_default();
        let flows = row
            .find(Locator::Css("td[data-col=\"flows\"]"))
            .await
            .expect("flows cell")
            .text()
            .await
            .expect("text");
        out.push((stage, flows));
    }
    out
}

/// Clicks a CSV button and returns what the page built (the Blob handed to the download).
async fn csv_of(b: &Browser, button: &str) -> String {
    b.client
        .execute(
            "window.__csv = []; if (!window.__csvHooked) { const made = URL.createObjectURL; \
             URL.createObjectURL = function (blob) { window.__csv.push(blob); return made.call(URL, blob); }; \
             window.__csvHooked = true; }",
            vec![],
        )
        .await
        .expect("hook the download");
    b.click_centered(button).await.expect("export");
    let text = b
        .client
        .execute_async(
            "const done = arguments[arguments.length - 1]; const blob = window.__csv[window.__csv.length - 1]; \
             if (blob) blob.text().then(done); else done(null);",
            vec![],
        )
        .await
        .expect("the CSV");
    text.as_str().unwrap_or_default().to_string()
}

fn write_file(server: &TestServer, name: &str, bytes: &[u8]) -> String {
    let path = server.dir.join(name);
    std::fs::write(&path, bytes).expect("write");
    path.to_str().unwrap_or_default().to_string()
}

async fn upload(b: &Browser, input: &str, path: &str) {
    b.client
        .find(Locator::Css(input))
        .await
        .expect("file input")
        .send_keys(path)
        .await
        .expect("choose the file");
}

#[tokio::test]
async fn insights_password_rules_and_the_logo_work_in_a_browser() {
    let server = server().await;
    let kiosk = server.kiosk_named("Lobby 1").await.expect("kiosk");
    known_flows(&server, &kiosk).await;
    let mut b = Browser::desktop(&shots("console-insights"))
        .await
        .expect("chromium");
    register_passkey(&mut b, &server, "linus", LINUS_PASSWORD, LINUS_TOTP).await;
    b.goto(&format!("{}/admin", server.phone_base))
        .await
        .expect("console");
    console_sign_in(&mut b, "linus", LINUS_PASSWORD).await;
    b.client
        .execute(
            "window.cspViolations = []; document.addEventListener('securitypolicyviolation', \
             (e) => window.cspViolations.push(e.violatedDirective + ' ' + e.blockedURI));",
            vec![],
        )
        .await
        .expect("listen for CSP violations");

    // Usage & insights: the funnel's numbers in the page, the decoys apart.
    open(&b, "insights", false).await;
    let want: Vec<(String, String)> = [
        ("started", "4"),
        ("first_method", "3"),
        ("second_method", "1"),
        ("verified", "3"),
        ("written", "3"),
    ]
    .iter()
    .map(|(s, n)| (s.to_string(), n.to_string()))
    .collect();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let got = funnel_in_page(&b).await;
        if got == want {
            break;
        }
        assert!(Instant::now() < deadline, "the funnel in the page: {got:?}");
        // The audit is written as the flows end: count again.
        b.click_centered("#insights-apply").await.expect("again");
        b.state("insights", 10).await.expect("counted");
    }
    let second = b
        .text("#funnel-table tr[data-stage=\"second_method\"]")
        .await
        .expect("second method");
    assert!(
        second.contains("100%") && second.contains("Share of the 1 flow that needed two"),
        "{second}"
    );
    let started = b
        .text("#funnel-table tr[data-stage=\"first_method\"]")
        .await
        .expect("first method");
    assert!(
        started.contains("75%") && started.contains("\u{2212}1"),
        "{started}"
    );
    assert_eq!(b.text("#in-resets .tile-value").await.expect("resets"), "2");
    assert_eq!(
        b.text("#in-unlocks .tile-value").await.expect("unlocks"),
        "1"
    );
    b.wait_text("#insights-decoys", "Not counted above: 2 attempts", 5)
        .await
        .expect("decoys apart");
    let methods = b.text("#methods-table").await.expect("methods");
    assert!(methods.contains("Email code"), "{methods}");
    let email = b
        .text("#methods-table tr[data-method=\"email\"]")
        .await
        .expect("email row");
    assert!(email.starts_with("Email code 4 — 3 1"), "{email}");
    assert!(
        exists(&b, "canvas#chart-over-time").await && exists(&b, "canvas#chart-funnel").await,
        "the charts are drawn"
    );
    // The failure reasons, exported as CSV built in the page.
    let reasons = b.text("#failures-overall").await.expect("reasons");
    assert!(reasons.contains("Password rejected"), "{reasons}");
    let csv = csv_of(&b, "#failures-overall-csv").await;
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.first().copied(), Some("reason,code,count"), "{csv}");
    assert!(
        lines.contains(&"\"Password rejected\",\"password_rejected\",1"),
        "{csv}"
    );
    assert!(
        lines.contains(&"\"Verification failed: wrong code\",\"verify_failed: wrong_code\",1"),
        "{csv}"
    );
    let csv = csv_of(&b, "#failures-kiosk-csv").await;
    assert!(csv.contains("\"Lobby 1\",2"), "{csv}");
    let csv = csv_of(&b, "#funnel-csv").await;
    assert!(csv.contains("\"started\",4,100,\"started\","), "{csv}");

    // Registration coverage: who can't use it yet, with the server's CSV.
    b.wait_text("#not-ready", "barbara", 15)
        .await
        .expect("barbara has nothing registered");
    let margaret = b
        .text("#not-ready tr[data-username=\"margaret\"]")
        .await
        .expect("margaret");
    assert!(
        margaret.contains("Administrator") && margaret.contains("2 methods"),
        "{margaret}"
    );
    let link = b
        .client
        .find(Locator::Css("#not-ready-csv"))
        .await
        .expect("CSV link")
        .attr("href")
        .await
        .expect("href");
    assert_eq!(link.as_deref(), Some("/v1/admin/coverage?format=csv"));
    b.client
        .execute("window.scrollTo(0, 0);", vec![])
        .await
        .expect("scroll");
    b.shoot("insights").await.expect("shot");
    b.shoot_full("insights").await.expect("full shot");

    // The group filter: typed, picked from the directory's groups with the keyboard, kept
    // in the address; only alan's flow is a member's.
    b.type_into("#f-group", "domain ad").await.expect("group");
    b.wait_text("#insights-filters [role=listbox]", "Domain Admins", 10)
        .await
        .expect("the directory's groups");
    b.shoot("insights-group-search").await.expect("shot");
    let field = b
        .client
        .find(Locator::Css("#f-group"))
        .await
        .expect("field");
    field.send_keys("\u{E015}").await.expect("arrow down");
    field.send_keys("\u{E007}").await.expect("enter");
    assert_eq!(
        field.prop("value").await.expect("value").as_deref(),
        Some("Domain Admins")
    );
    b.click_centered("#insights-apply").await.expect("show");
    b.wait_text("#insights-range", "members of Domain Admins", 10)
        .await
        .expect("filtered");
    let got = funnel_in_page(&b).await;
    assert!(
        got.iter().all(|(_, n)| n == "1"),
        "only alan's flow: {got:?}"
    );
    let hash = b
        .client
        .execute("return location.hash;", vec![])
        .await
        .expect("hash");
    assert!(
        hash.as_str()
            .unwrap_or_default()
            .contains("group=Domain%20Admins"),
        "{hash}"
    );
    // A custom range typed in the address: shown with its days, and counted; one that
    // ends before it starts is refused in the page.
    b.client
        .execute(
            "const d = (n) => new Date(Date.now() - n * 864e5).toISOString().slice(0, 10); \
             location.hash = `#insights?range=custom&from=${d(9)}&to=${d(0)}`;",
            vec![],
        )
        .await
        .expect("a custom range");
    let deadline = Instant::now() + Duration::from_secs(10);
    while funnel_in_page(&b).await != want {
        assert!(
            Instant::now() < deadline,
            "the custom range counts every flow"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(
        b.client
            .find(Locator::Css("#f-from"))
            .await
            .expect("from")
            .is_displayed()
            .await
            .expect("shown?"),
        "the custom range's days are shown"
    );
    b.client
        .execute(
            "const d = (n) => new Date(Date.now() - n * 864e5).toISOString().slice(0, 10); \
             document.getElementById('f-from').value = d(0); document.getElementById('f-to').value = d(9);",
            vec![],
        )
        .await
        .expect("reversed");
    b.click_centered("#insights-apply").await.expect("show");
    b.wait_text(
        "#insights-filter-error",
        "The first day must not be after the last",
        5,
    )
    .await
    .expect("refused in the page");

    // Password rules: a banned term saved here refuses a kiosk's new password holding it.
    let flow = kiosk
        .start_flow(&begin("grace", Intent::Reset))
        .await
        .expect("flow");
    let flow = verify_email(&server, &kiosk, &flow, "grace@home.example.net").await;
    const CANDIDATE: &str = "Quokkaplanet2025!";
    let before = kiosk
        .password_check(&flow.flow_id, CANDIDATE)
        .await
        .expect("check");
    assert!(before.acceptable, "acceptable before the ban: {before:?}");
    open(&b, "password-rules", false).await;
    b.wait_text("#directory-rules", "Built-in directory", 5)
        .await
        .expect("the directory's own rules");
    // A list from a file: too-long lines are refused whole; a good list is added, short
    // terms and comments left out.
    let long = write_file(
        &server,
        "too-long.txt",
        format!("northwind\n{}\n", "x".repeat(65)).as_bytes(),
    );
    upload(&b, "#banned-file", &long).await;
    b.wait_text("#banned-msg", "too-long.txt wasn't added", 5)
        .await
        .expect("refused, saying why");
    let list = write_file(
        &server,
        "banned.txt",
        b"# our names\nnorthwind\nfabrikam\nab\n",
    );
    upload(&b, "#banned-file", &list).await;
    b.wait_text("#banned-msg", "2 terms added from banned.txt", 5)
        .await
        .expect("added");
    b.wait_text("#banned-msg", "1 term shorter than 4 characters", 5)
        .await
        .expect("the short one left out");
    b.type_into("#banned-term", "quokkaplanet")
        .await
        .expect("term");
    b.click_centered("#banned-add").await.expect("add");
    b.wait_text("#banned-list", "quokkaplanet", 5)
        .await
        .expect("listed");
    // Bounds are checked before sending.
    b.type_into("input[data-path=\"password.min_length\"]", "7")
        .await
        .expect("min");
    b.click_centered("#policy-save").await.expect("save");
    b.wait_text(
        "#save-errors",
        "Shortest password: enter a whole number from 8 to 1024",
        5,
    )
    .await
    .expect("refused in the page");
    b.type_into("input[data-path=\"password.min_length\"]", "15")
        .await
        .expect("min");
    b.shoot("password-rules-edited").await.expect("shot");
    b.click_centered("#policy-save").await.expect("save");
    b.wait_text("#save-done", "Saved as version", 15)
        .await
        .expect("saved");
    b.shoot("password-rules-saved").await.expect("shot");
    b.shoot_full("password-rules-saved")
        .await
        .expect("full shot");
    eventually(
        "the kiosk refuses a password holding the banned term",
        || async {
            kiosk
                .password_check(&flow.flow_id, CANDIDATE)
                .await
                .map(|c| {
                    !c.acceptable
                        && c.reasons
                            .iter()
                            .any(|r| r.code == PasswordReasonCode::Banned)
                })
                .unwrap_or(false)
        },
    )
    .await;

    // Authentication methods: what this server can't offer yet is shown, not offered
    // (as `available_methods` says; none is on in this policy).
    open(&b, "methods", false).await;
    let policy = b
        .client
        .execute_async(
            "const done = arguments[arguments.length - 1]; \
             fetch('/v1/admin/policy').then((r) => r.json()).then(done, () => done(null));",
            vec![],
        )
        .await
        .expect("the policy");
    let available: Vec<String> = policy["available_methods"]
        .as_array()
        .expect("available_methods")
        .iter()
        .filter_map(|m| m.as_str().map(str::to_string))
        .collect();
    for known in policy["known_methods"].as_array().expect("known_methods") {
        let m = known.as_str().unwrap_or_default();
        let enabled = b
            .client
            .find(Locator::Css(&format!("input[data-method=\"{m}\"]")))
            .await
            .expect("a box for each method")
            .is_enabled()
            .await
            .expect("enabled?");
        let offered = available.iter().any(|a| a == m);
        let on = policy["document"]["policy"]["methods"]
            .as_array()
            .is_some_and(|a| a.iter().any(|x| x == m));
        assert_eq!(enabled, offered || on, "{m}: offered {offered}");
        if !offered {
            let row = b
                .text(&format!(
                    "[data-unavailable]:has(input[data-method=\"{m}\"])"
                ))
                .await
                .expect("its row");
            assert!(row.contains("Not available yet"), "{m}: {row}");
        }
    }

    // Customization: a logo. Too large or not an image: refused in the page.
    open(&b, "customization", false).await;
    let big = write_file(&server, "big.png", &vec![0u8; 41 * 1024]);
    upload(&b, "#logo-file", &big).await;
    b.wait_text("#logo-msg", "big.png is too large", 5)
        .await
        .expect("too large, said so");
    const PNG_1X1: &str = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==";
    let png = {
        use base64::Engine as _;
        base64::engine::general_purpose::STANDARD
            .decode(PNG_1X1)
            .expect("png")
    };
    let png_path = write_file(&server, "dot.png", &png);
    upload(&b, "#logo-file", &png_path).await;
    b.wait_text("#logo-about", "PNG", 5).await.expect("a PNG");
    assert!(
        exists(
            &b,
            "#kiosk-preview img.kp-logo[src^=\"data:image/png;base64,\"]"
        )
        .await,
        "the preview shows the PNG"
    );
    // A plain SVG, saved: the kiosks get it, the preview shows it where the kiosk does.
    const LOGO: &str = r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 120 40"><rect width="120" height="40" rx="8" fill="#0b5cad"/><circle cx="20" cy="20" r="10" fill="#ffffff"/><rect x="38" y="14" width="70" height="12" rx="6" fill="#9cc3ee"/></svg>"##;
    let svg_path = write_file(&server, "logo.svg", LOGO.as_bytes());
    upload(&b, "#logo-file", &svg_path).await;
    b.wait_text("#logo-about", "SVG", 5).await.expect("an SVG");
    let data_url = {
        use base64::Engine as _;
        format!(
            "data:image/svg+xml;base64,{}",
            base64::engine::general_purpose::STANDARD.encode(LOGO)
        )
    };
    let shown = b
        .client
        .find(Locator::Css("#kiosk-preview img.kp-logo"))
        .await
        .expect("the preview's logo")
        .attr("src")
        .await
        .expect("src");
    assert_eq!(shown.as_deref(), Some(data_url.as_str()));
    b.shoot("customization-logo").await.expect("shot");
    b.click_centered("#policy-save").await.expect("save");
    b.wait_text("#save-done", "Saved as version", 15)
        .await
        .expect("saved");
    eventually("the kiosk's settings carry the logo", || async {
        kiosk
            .settings()
            .await
            .map(|s| s.logo.as_deref() == Some(data_url.as_str()))
            .unwrap_or(false)
    })
    .await;
    b.shoot_full("customization-logo-saved")
        .await
        .expect("full shot");
    // A scripted SVG: the server refuses it and the page says why.
    let scripted = write_file(
        &server,
        "scripted.svg",
        br#"<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script><rect width="4" height="4"/></svg>"#,
    );
    upload(&b, "#logo-file", &scripted).await;
    b.wait_text("#logo-about", "SVG", 5).await.expect("read");
    b.click_centered("#policy-save").await.expect("save");
    b.wait_text("#save-errors", "<script> isn't allowed in an SVG logo", 15)
        .await
        .expect("the server's problem, shown");
    b.shoot("customization-logo-refused").await.expect("shot");
    // Removed: the kiosks go back to the initial.
    b.click_centered("#logo-remove").await.expect("remove");
    b.click_centered("#policy-save").await.expect("save");
    b.wait_text("#save-done", "Saved as version", 15)
        .await
        .expect("saved");
    eventually("the kiosk's settings have no logo", || async {
        kiosk
            .settings()
            .await
            .map(|s| s.logo.is_none())
            .unwrap_or(false)
    })
    .await;
    assert!(
        exists(&b, "#kiosk-preview .kp-mark").await,
        "the preview shows the initial again"
    );

    // Properties: the group's name picked from the directory.
    open(&b, "properties", false).await;
    b.click_centered("input[data-path=\"policy.enabled\"][value=\"group\"]")
        .await
        .expect("a group");
    b.type_into("#policy-group", "sspr").await.expect("type");
    b.wait_text("#group-row [role=listbox]", "SSPR Admins", 10)
        .await
        .expect("suggested");
    b.shoot("properties-group-search").await.expect("shot");
    b.click_centered("#group-row [role=option][data-group=\"SSPR Admins\"]")
        .await
        .expect("pick");
    let value = b
        .client
        .find(Locator::Css("#policy-group"))
        .await
        .expect("field")
        .prop("value")
        .await
        .expect("value");
    assert_eq!(value.as_deref(), Some("SSPR Admins"));
    b.click_centered("#policy-discard").await.expect("discard");

    // Directories: the certificate (none over plain connections) and the rules.
    open(&b, "directories", false).await;
    let dir = b.text("#directories").await.expect("directories");
    assert!(
        dir.contains("Certificate") && dir.contains("Password rules"),
        "{dir}"
    );

    let violations = b
        .client
        .execute("return window.cspViolations;", vec![])
        .await
        .expect("CSP violations");
    assert_eq!(violations, serde_json::json!([]), "the page broke its CSP");

    // The new pages at a phone's size.
    b.resize(390, 844, "phone").await.expect("resize");
    for view in ["insights", "password-rules", "customization", "directories"] {
        open(&b, view, true).await;
        b.shoot(view).await.expect("shot");
        b.shoot_full(view).await.expect("full shot");
    }
    open(&b, "insights", true).await;
    b.click_centered("#insights-filters-box > summary")
        .await
        .expect("open the filters");
    b.shoot("insights-filters").await.expect("shot");
}
