//! The admin console's API over HTTP, against the real server: sign-in with the directory
//! password and a passkey registered on "My security info" (a software passkey that
//! checks origins as a browser does), roles from groups, the CSRF token, a policy change
//! that kiosks follow at once, kiosks made and revoked, the helpdesk's lookup of a
//! reference code, the audit and its export, and failed sign-ins that look alike.

use serde_json::{json, Value};
use sspr_tests::phone::{Answer, Phone};
use sspr_tests::sspr_client::{Client, DeviceKey};
use sspr_tests::sspr_proto::{
    AttemptView, AuditPage, ConsoleRole, ConsoleSession, EnrollmentCodeState, EnrollmentCodeStatus,
    EnrollmentCodeView, ErrorCode, Intent, KioskView, Overview, PolicyView,
};
use sspr_tests::{Options, TestServer};

use super::*;

pub(crate) const CONSOLE: &str = r#"
[policy]
methods = ["email", "totp", "approval"]

[console]
admin_groups = ["SSPR Admins"]
helpdesk_groups = ["Helpdesk"]
reader_groups = ["Auditors"]
"#;

/// People of the console: an admin, a helpdesk agent, a reader, and someone in no console
/// group; each has an authenticator app (to sign in to /my and add a passkey).
const STAFF: &str = r#"
[[user]]
username = "linus"
given_name = "Linus"
surname = "Admin"
email = "linus@example.org"
groups = ["Staff", "SSPR Admins"]
password = "Linus-console-password-1"
[user.methods]
totp = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXQ"

[[user]]
username = "hedy"
given_name = "Hedy"
surname = "Helpdesk"
email = "hedy@example.org"
groups = ["Staff", "Helpdesk"]
password = "Hedy-console-password-1"
[user.methods]
totp = "KRSXG5CTMVRXEZLUKRSXG5CTMVRXEZLV"

[[user]]
username = "ken"
given_name = "Ken"
surname = "Reader"
email = "ken@example.org"
groups = ["Staff", "Auditors"]
password = "Ken-console-password-1"
[user.methods]
totp = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"

[[user]]
username = "dennis"
given_name = "Dennis"
surname = "Staff"
email = "dennis@example.org"
groups = ["Staff"]
password = "Dennis-console-password-1"
[user.methods]
totp = "MFRGGZDFMZTWQ2LKNNWG23TPOBYXE43U"
"#;

pub(crate) fn secret_of(login: &str) -> &'static str {
    match login {
        "linus" => "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXQ",
        "hedy" => "KRSXG5CTMVRXEZLUKRSXG5CTMVRXEZLV",
        "ken" => "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ",
        _ => "MFRGGZDFMZTWQ2LKNNWG23TPOBYXE43U",
    }
}

pub(crate) fn password_of(login: &str) -> String {
    let mut c = login.chars();
    let cap: String = c
        .next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default();
    format!("{cap}-console-password-1")
}

async fn server() -> TestServer {
    let server = TestServer::start_with(Options {
        extra_config: CONSOLE.into(),
        ..Options::default()
    })
    .await
    .expect("server");
    import_staff(&server);
    server
}

/// The console's people (`STAFF`) into `server`'s built-in directory.
pub(crate) fn import_staff(server: &TestServer) {
    let file = server.dir.join("staff.toml");
    std::fs::write(&file, STAFF).expect("write");
    server
        .admin(&["directory", "import", file.to_str().unwrap_or_default()])
        .expect("import staff");
}

/// A browser of someone who registered a passkey on /my; its cookie is the console's once
/// signed in.
struct Admin {
    phone: Phone,
    csrf: String,
}

impl Admin {
    /// Registers a passkey on /my (password + authenticator code), then signs in to the
    /// console with the password and that passkey.
    async fn sign_in(server: &TestServer, login: &str) -> Admin {
        let mut phone = Phone::new(server).expect("phone");
        phone
            .enroll(login, &password_of(login), secret_of(login), "Laptop")
            .await
            .expect("passkey on /my");
        let session = console_sign_in(&mut phone, login, &password_of(login))
            .await
            .into::<ConsoleSession>();
        Admin {
            phone,
            csrf: session.csrf_token,
        }
    }

    async fn get(&mut self, path: &str) -> Answer {
        self.phone
            .send(reqwest::Method::GET, path, None)
            .await
            .expect("get")
    }

    async fn send(&mut self, method: reqwest::Method, path: &str, body: Value) -> Answer {
        let csrf = self.csrf.clone();
        self.phone
            .send_with(method, path, Some(body), &[("x-csrf-token", &csrf)])
            .await
            .expect("send")
    }

    async fn post(&mut self, path: &str, body: Value) -> Answer {
        self.send(reqwest::Method::POST, path, body).await
    }
}

/// The two steps: the password (always answered with a passkey request), then the
/// passkey's answer to it.
pub(crate) async fn console_sign_in(phone: &mut Phone, login: &str, password: &str) -> Answer {
    let step = phone
        .post(
            "/v1/admin/sign-in",
            json!({ "login": login, "password": password }),
        )
        .await
        .expect("sign-in");
    assert_eq!(step.status, 200, "{step:?}");
    let credential = phone
        .assert(&step.body["options"])
        .expect("the passkey answers its own request");
    phone
        .post(
            "/v1/admin/sign-in/passkey",
            json!({ "credential": credential }),
        )
        .await
        .expect("passkey step")
}

#[tokio::test]
async fn an_admin_signs_in_with_a_passkey_and_a_policy_change_reaches_kiosks_at_once() {
    let server = server().await;
    let kiosk = server.kiosk().await.expect("kiosk");
    let mut admin = Admin::sign_in(&server, "linus").await;
    let session = admin
        .get("/v1/admin/session")
        .await
        .into::<ConsoleSession>();
    assert_eq!(session.roles, vec![ConsoleRole::Admin]);
    assert_eq!(session.organization, "Test Org");

    let overview = admin.get("/v1/admin/overview").await.into::<Overview>();
    assert_eq!(overview.enabled, "all");
    assert_eq!(overview.kiosks_enrolled, 1);
    assert!(
        overview.directories.iter().all(|d| d.reachable),
        "{overview:?}"
    );

    let before = kiosk
        .start_flow(&start("ada", Intent::Reset))
        .await
        .expect("flow");
    assert_eq!(before.required, 1);
    let policy = admin.get("/v1/admin/policy").await.into::<PolicyView>();
    assert!(!policy.read_only);
    assert_eq!(policy.document["policy"]["methods_required"], 1);

    // Methods required 1 → 2, and a new helpdesk phone: in force for the next flow.
    let saved = admin
        .send(
            reqwest::Method::PUT,
            "/v1/admin/policy",
            json!({ "base_version": policy.version, "changes": {
                "policy": { "methods_required": 2 },
                "helpdesk": { "phone": "+49 30 555 0142" } } }),
        )
        .await
        .into::<PolicyView>();
    assert_eq!(saved.version, policy.version + 1);
    assert!(
        saved.saved_by.starts_with("linus (console, 127.0.0.1)"),
        "{}",
        saved.saved_by
    );
    let after = kiosk
        .start_flow(&start("ada", Intent::Reset))
        .await
        .expect("flow");
    assert_eq!(after.required, 2, "a new flow needs two methods at once");
    let settings = kiosk.settings().await.expect("settings");
    assert_eq!(settings.helpdesk.phone.as_deref(), Some("+49 30 555 0142"));

    // The group picker searches the directory.
    let groups = admin
        .get("/v1/admin/groups?q=adm")
        .await
        .into::<Vec<String>>();
    assert_eq!(groups, vec!["Domain Admins", "SSPR Admins"]);

    // A logo: an SVG with a script is refused with the reason; a plain one reaches kiosks.
    let b64 = |s: &str| {
        use base64::Engine as _;
        base64::engine::general_purpose::STANDARD.encode(s)
    };
    let scripted = format!(
        "data:image/svg+xml;base64,{}",
        b64("<svg xmlns=\"http://www.w3.org/2000/svg\"><script>alert(1)</script></svg>")
    );
    let refused = admin
        .send(
            reqwest::Method::PUT,
            "/v1/admin/policy",
            json!({ "base_version": saved.version, "changes": { "organization": { "logo": scripted } } }),
        )
        .await;
    assert_eq!(refused.status, 422, "{refused:?}");
    assert!(refused
        .error()
        .problems
        .iter()
        .any(|p| p.contains("<script>")));
    let plain = format!(
        "data:image/svg+xml;base64,{}",
        b64("<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 4 4\"><rect width=\"4\" height=\"4\" fill=\"#0b5cad\"/></svg>")
    );
    let saved = admin
        .send(
            reqwest::Method::PUT,
            "/v1/admin/policy",
            json!({ "base_version": saved.version, "changes": { "organization": { "logo": plain } } }),
        )
        .await
        .into::<PolicyView>();
    assert_eq!(
        kiosk.settings().await.expect("settings").logo.as_deref(),
        Some(plain.as_str())
    );
    let too_big = admin
        .send(
            reqwest::Method::PUT,
            "/v1/admin/policy",
            json!({ "base_version": saved.version, "changes": { "organization": { "logo": "x".repeat(70_000) } } }),
        )
        .await;
    assert_eq!(
        (too_big.status, too_big.error().code),
        (413, ErrorCode::PayloadTooLarge)
    );

    // A version nobody could pass is refused with its reasons; nothing changes.
    let refused = admin
        .send(
            reqwest::Method::PUT,
            "/v1/admin/policy",
            json!({ "base_version": saved.version, "changes": { "policy": { "methods": [] } } }),
        )
        .await;
    assert_eq!(refused.status, 422);
    let body = refused.error();
    assert_eq!(body.code, ErrorCode::PolicyInvalid);
    assert!(
        body.problems
            .iter()
            .any(|p| p.contains("at least one method")),
        "{body:?}"
    );
    // An older base version: someone else saved meanwhile.
    let stale = admin
        .send(
            reqwest::Method::PUT,
            "/v1/admin/policy",
            json!({ "base_version": policy.version, "changes": { "policy": { "methods_required": 1 } } }),
        )
        .await;
    assert_eq!(
        (stale.status, stale.error().code),
        (409, ErrorCode::PolicyChanged)
    );
    let current = admin.get("/v1/admin/policy").await.into::<PolicyView>();
    assert_eq!(current.version, saved.version);

    // Each is in the audit, naming who and from where.
    let saved_row = server
        .audit_when(&[], |rows| {
            rows.iter().any(|r| r["event"] == "policy_saved")
        })
        .await
        .expect("audit");
    let row = saved_row
        .iter()
        .find(|r| r["event"] == "console_sign_in")
        .expect("sign-in audited");
    assert_eq!(row["login"], "linus");
    assert!(row["detail"].to_string().contains("127.0.0.1"), "{row}");
    let row = saved_row
        .iter()
        .find(|r| r["event"] == "policy_saved")
        .expect("save audited");
    assert_eq!(row["login"], "linus");
    assert!(
        row["detail"]
            .to_string()
            .contains("policy.methods_required"),
        "{row}"
    );
    assert!(saved_row.iter().any(|r| r["event"] == "policy_refused"));
}

mod desk;
mod kiosks;
