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

mod desk;
mod insights;
mod roles;
