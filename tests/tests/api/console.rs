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

const CONSOLE: &str = r#"
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

fn secret_of(login: &str) -> &'static str {
    match login {
        "linus" => "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXQ",
        "hedy" => "KRSXG5CTMVRXEZLUKRSXG5CTMVRXEZLV",
        "ken" => "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ",
        _ => "MFRGGZDFMZTWQ2LKNNWG23TPOBYXE43U",
    }
}

fn password_of(login: &str) -> String {
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
    let file = server.dir.join("staff.toml");
    std::fs::write(&file, STAFF).expect("write");
    server
        .admin(&["directory", "import", file.to_str().unwrap_or_default()])
        .expect("import staff");
    server
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
async fn console_sign_in(phone: &mut Phone, login: &str, password: &str) -> Answer {
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

#[tokio::test]
async fn kiosks_are_made_and_revoked_from_the_console() {
    let server = server().await;
    let mut admin = Admin::sign_in(&server, "linus").await;
    let code = admin
        .post(
            "/v1/admin/kiosks/enrollment-codes",
            json!({ "name": "Lobby 3", "location": "Building C" }),
        )
        .await
        .into::<EnrollmentCodeView>();
    assert!(code.qr_svg.starts_with("<?xml") || code.qr_svg.contains("<svg"));
    assert!(
        code.qr_text.ends_with(&format!("#{}", code.code)),
        "{}",
        code.qr_text
    );
    let mut kiosk = Client::new(&server.base, DeviceKey::generate(), None).expect("client");
    let enrolled = kiosk
        .enroll(&code.code, None, None)
        .await
        .expect("the code enrolls a kiosk");
    assert_eq!(Some(&enrolled.kiosk_id), code.kiosk_id.as_ref());
    assert_eq!((code.code_id, code.uses), (None, None), "a one-time code");
    kiosk.settings().await.expect("the new kiosk is served");

    let listed = admin.get("/v1/admin/kiosks").await.into::<Vec<KioskView>>();
    let lobby = listed
        .iter()
        .find(|k| k.id == enrolled.kiosk_id)
        .expect("listed");
    assert_eq!(
        (lobby.name.as_str(), lobby.location.as_str()),
        ("Lobby 3", "Building C")
    );
    assert!(lobby.last_seen_at.is_some());
    assert_eq!(
        lobby.version.as_deref(),
        sspr_tests::sspr_client::USER_AGENT.strip_prefix("sspr-kiosk/"),
        "the version it says it runs"
    );

    let revoked = admin
        .post(
            &format!("/v1/admin/kiosks/{}/revoke", enrolled.kiosk_id),
            json!({}),
        )
        .await
        .into::<KioskView>();
    assert!(revoked.revoked_at.is_some());
    assert_eq!(code_of(kiosk.settings().await), ErrorCode::KioskRevoked);

    // Bad input is refused with a reason, and nothing is made.
    let bad = admin
        .post(
            "/v1/admin/kiosks/enrollment-codes",
            json!({ "name": "  ", "location": "x" }),
        )
        .await;
    assert_eq!((bad.status, bad.error().code), (400, ErrorCode::BadRequest));
    let missing = admin
        .post("/v1/admin/kiosks/no-such-kiosk/revoke", json!({}))
        .await;
    assert_eq!(missing.status, 404);
}

/// The console's staging code: several PCs, each a kiosk of its own under its host name;
/// the list says how many it may still enroll; bad numbers are refused and make nothing.
#[tokio::test]
async fn staging_codes_are_made_and_followed_from_the_console() {
    let server = server().await;
    let mut admin = Admin::sign_in(&server, "linus").await;
    let code = admin
        .post(
            "/v1/admin/kiosks/enrollment-codes",
            json!({ "name": "lab", "location": "Building C", "uses": 2, "valid_days": 3 }),
        )
        .await
        .into::<EnrollmentCodeView>();
    assert_eq!(code.kiosk_id, None, "no kiosk is made before a PC enrolls");
    assert_eq!(code.uses, Some(2));
    let code_id = code.code_id.clone().expect("a staging code's id");
    assert!(code.qr_text.ends_with(&format!("#{}", code.code)));
    let lifetime: i64 =
        sqlx::query_scalar("SELECT expires_at - created_at FROM enrollment_codes WHERE id = $1")
            .bind(&code_id)
            .fetch_one(&db(&server).await)
            .await
            .expect("the code's row");
    assert_eq!(lifetime, 3 * 86_400, "valid for the days asked");

    let codes = admin
        .get("/v1/admin/kiosks/enrollment-codes")
        .await
        .into::<Vec<EnrollmentCodeStatus>>();
    let listed = codes.iter().find(|c| c.id == code_id).expect("listed");
    assert_eq!(
        (listed.uses, listed.used, listed.remaining, listed.state),
        (2, 0, 2, EnrollmentCodeState::Active)
    );
    assert_eq!(
        (listed.name_prefix.as_str(), listed.location.as_str()),
        ("lab", "Building C")
    );
    assert!(
        !serde_json::to_string(&codes).unwrap().contains(&code.code),
        "the list never holds the code"
    );

    let mut first = Client::new(&server.base, DeviceKey::generate(), None).expect("client");
    let a = first
        .enroll(&code.code, Some("ws-201"), Some("Room 201"))
        .await
        .expect("first PC");
    let mut second = Client::new(&server.base, DeviceKey::generate(), None).expect("client");
    let b = second
        .enroll(&code.code, None, None)
        .await
        .expect("second PC");
    assert_eq!(
        (a.name.as_str(), a.location.as_str()),
        ("ws-201", "Room 201")
    );
    assert_eq!(
        (b.name.as_str(), b.location.as_str()),
        ("lab-2", "Building C")
    );
    let mut third = Client::new(&server.base, DeviceKey::generate(), None).expect("client");
    assert_eq!(
        code_of(third.enroll(&code.code, Some("ws-203"), None).await),
        ErrorCode::EnrollmentInvalid
    );

    let codes = admin
        .get("/v1/admin/kiosks/enrollment-codes")
        .await
        .into::<Vec<EnrollmentCodeStatus>>();
    let listed = codes.iter().find(|c| c.id == code_id).expect("listed");
    assert_eq!(
        (listed.used, listed.remaining, listed.state),
        (2, 0, EnrollmentCodeState::UsedUp)
    );
    let kiosks = admin.get("/v1/admin/kiosks").await.into::<Vec<KioskView>>();
    let mut staged: Vec<_> = kiosks
        .iter()
        .filter(|k| k.enrollment_code_id.as_deref() == Some(code_id.as_str()))
        .map(|k| (k.name.as_str(), k.location.as_str()))
        .collect();
    staged.sort();
    assert_eq!(
        staged,
        vec![("lab-2", "Building C"), ("ws-201", "Room 201")]
    );

    // Bad numbers, names and lifetimes: a clear 400 each, and nothing made.
    for (body, says) in [
        (
            json!({ "name": "", "location": "", "uses": 0 }),
            "1 to 10000",
        ),
        (
            json!({ "name": "", "location": "", "uses": 10_001 }),
            "1 to 10000",
        ),
        (
            json!({ "name": "", "location": "", "uses": 5, "valid_days": 0 }),
            "1 to 90 days",
        ),
        (
            json!({ "name": "", "location": "", "uses": 5, "valid_days": 91 }),
            "1 to 90 days",
        ),
        (
            json!({ "name": "Lobby", "location": "", "valid_days": 3 }),
            "valid_days",
        ),
        (
            json!({ "name": "lab\u{7}", "location": "", "uses": 5 }),
            "name prefix",
        ),
        (
            json!({ "name": "", "location": "x\u{202E}y", "uses": 5 }),
            "location",
        ),
    ] {
        let bad = admin
            .post("/v1/admin/kiosks/enrollment-codes", body.clone())
            .await;
        assert_eq!(
            (bad.status, bad.error().code),
            (400, ErrorCode::BadRequest),
            "{body}"
        );
        assert!(
            bad.error().message.contains(says),
            "{body}: {}",
            bad.error().message
        );
    }
    let wrong_type = admin
        .post(
            "/v1/admin/kiosks/enrollment-codes",
            json!({ "name": "", "location": "", "uses": "many" }),
        )
        .await;
    assert_eq!(wrong_type.status, 400);
    let after = admin
        .get("/v1/admin/kiosks/enrollment-codes")
        .await
        .into::<Vec<EnrollmentCodeStatus>>();
    assert_eq!(after.len(), 1, "nothing was made");
    let issued = server
        .audit(&["--since", "1h"])
        .expect("audit")
        .into_iter()
        .filter(|r| r["event"] == "kiosk_enrollment_code_issued")
        .collect::<Vec<_>>();
    assert_eq!(issued.len(), 1);
    let detail: Value =
        serde_json::from_str(issued[0]["detail"].as_str().unwrap_or_default()).expect("detail");
    assert_eq!(detail["code_id"], code_id.as_str());
    assert_eq!(detail["uses"], 2);
    assert_eq!(issued[0]["login"], "linus");
}

#[tokio::test]
async fn the_helpdesk_finds_an_attempt_by_its_reference_and_exports_the_audit() {
    let server = server().await;
    let kiosk = server.kiosk().await.expect("kiosk");
    // A failed attempt at the kiosk: a wrong authenticator code.
    let flow = kiosk
        .start_flow(&start("ada", Intent::Reset))
        .await
        .expect("flow");
    let ch = kiosk
        .challenge(&flow.flow_id, &method(&flow, MethodKind::Totp))
        .await
        .expect("challenge");
    let wrong = kiosk
        .verify(&flow.flow_id, &ch.challenge_id, "000000")
        .await;
    assert_eq!(code_of(wrong), ErrorCode::CodeInvalid);

    let mut hedy = Admin::sign_in(&server, "hedy").await;
    let session = hedy.get("/v1/admin/session").await.into::<ConsoleSession>();
    assert_eq!(session.roles, vec![ConsoleRole::Helpdesk]);
    let attempt = {
        let mut found = None;
        for _ in 0..50 {
            let a = hedy
                .get(&format!(
                    "/v1/admin/attempts/{}",
                    flow.reference.to_lowercase()
                ))
                .await;
            if a.ok() {
                let a = a.into::<AttemptView>();
                if a.outcome == "failed" {
                    found = Some(a);
                    break;
                }
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        found.expect("the attempt, by its reference")
    };
    assert_eq!(attempt.login.as_deref(), Some("ada"));
    assert_eq!(attempt.failed_at.as_deref(), Some("verifying a method"));
    assert!(!attempt.decoy);
    assert!(attempt.events.iter().any(|e| e.event == "verify_failed"));
    let unknown = hedy.get("/v1/admin/attempts/AAAA-AAAA").await;
    assert_eq!(
        (unknown.status, unknown.error().code),
        (404, ErrorCode::NotFound)
    );

    let page = hedy
        .get("/v1/admin/audit?login=ada&outcome=failure")
        .await
        .into::<AuditPage>();
    assert!(!page.entries.is_empty());
    assert!(page
        .entries
        .iter()
        .all(|e| e.login.as_deref() == Some("ada") && e.outcome == "failure"));
    let bad = hedy.get("/v1/admin/audit?since=yesterday").await;
    assert_eq!((bad.status, bad.error().code), (400, ErrorCode::BadRequest));

    // The export streams CSV with a header and the same rows.
    let csv = reqwest::Client::new()
        .get(format!(
            "{}/v1/admin/audit/export?format=csv&login=ada",
            hedy.phone.base
        ))
        .header("cookie", hedy.phone.cookie().unwrap_or_default())
        .send()
        .await
        .expect("export");
    assert_eq!(csv.status(), 200);
    assert!(csv
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/csv")));
    let text = csv.text().await.expect("body");
    let mut lines = text.lines();
    assert_eq!(
        lines.next(),
        Some("id,at,event,outcome,correlation_id,kiosk_id,kiosk_name,reference,login,detail")
    );
    let rows: Vec<&str> = lines.collect();
    assert!(rows
        .iter()
        .any(|l| l.contains("\"verify_failed\"") && l.contains(&flow.reference)));
    assert!(rows.iter().all(|l| l.contains("\"ada\"")), "{rows:?}");

    // The helpdesk can't change the policy or kiosks.
    let policy = hedy.get("/v1/admin/policy").await.into::<PolicyView>();
    assert!(policy.read_only);
    let denied = hedy
        .send(
            reqwest::Method::PUT,
            "/v1/admin/policy",
            json!({ "base_version": policy.version, "changes": { "policy": { "methods_required": 2 } } }),
        )
        .await;
    assert_eq!(
        (denied.status, denied.error().code),
        (403, ErrorCode::NotAllowed)
    );
    let denied = hedy
        .post(
            "/v1/admin/kiosks/enrollment-codes",
            json!({ "name": "X", "location": "" }),
        )
        .await;
    assert_eq!(denied.status, 403);

    // Clearing a person's methods needs a reason; the person is told.
    let no_reason = hedy
        .post(
            "/v1/admin/people/ada/clear-methods",
            json!({ "reason": "" }),
        )
        .await;
    assert_eq!(no_reason.status, 400);
    let cleared = hedy
        .post(
            "/v1/admin/people/ada/clear-methods",
            json!({ "reason": "lost her phone (ticket 4711)" }),
        )
        .await;
    assert!(cleared.ok(), "{cleared:?}");
    assert_eq!(cleared.body["removed"], 2);
    server
        .mail_to("ada.lovelace@example.org", "security info changed")
        .await
        .expect("ada is told");
    let rows = server
        .audit_when(&["--user", "hedy"], |rows| {
            rows.iter().any(|r| r["event"] == "methods_cleared")
        })
        .await
        .expect("audit");
    let row = rows
        .iter()
        .find(|r| r["event"] == "methods_cleared")
        .expect("audited");
    assert!(row["detail"].to_string().contains("ticket 4711"), "{row}");
}

/// A wrong password, a login nobody has, someone in no console group, and a reader's
/// missing role for the audit: refused, and the refusals of sign-in look alike.
#[tokio::test]
async fn failed_sign_ins_look_alike_and_roles_csrf_and_sessions_are_enforced() {
    let server = server().await;
    let mut dennis = Phone::new(&server).expect("phone");
    dennis
        .enroll(
            "dennis",
            &password_of("dennis"),
            secret_of("dennis"),
            "Laptop",
        )
        .await
        .expect("passkey on /my");
    // Right password and passkey, but in no console group.
    let step = dennis
        .post(
            "/v1/admin/sign-in",
            json!({ "login": "dennis", "password": password_of("dennis") }),
        )
        .await
        .expect("step");
    assert_eq!(step.status, 200);
    // His passkey isn't asked for (the request is a decoy's): answer with an assertion
    // made for another request, as only a replay could.
    let mut lp = Phone::new(&server).expect("phone");
    lp.enroll("linus", &password_of("linus"), secret_of("linus"), "Laptop")
        .await
        .expect("passkey on /my");
    let first = lp
        .post(
            "/v1/admin/sign-in",
            json!({ "login": "linus", "password": password_of("linus") }),
        )
        .await
        .expect("step");
    let reused = lp.assert(&first.body["options"]).expect("assertion");
    let session = console_sign_in(&mut lp, "linus", &password_of("linus"))
        .await
        .into::<ConsoleSession>();
    let mut linus = Admin {
        phone: lp,
        csrf: session.csrf_token,
    };
    let mut answers = Vec::new();
    for (login, password) in [
        ("dennis", password_of("dennis")),
        ("linus", "not-the-password".to_string()),
        ("nobody-at-all", "whatever-it-is-1".to_string()),
    ] {
        let mut p = Phone::new(&server).expect("phone");
        let step = p
            .post(
                "/v1/admin/sign-in",
                json!({ "login": login, "password": password }),
            )
            .await
            .expect("step");
        assert_eq!(step.status, 200, "{login}: {step:?}");
        let keys: Vec<String> = step.body["options"]["publicKey"]
            .as_object()
            .map(|o| o.keys().cloned().collect())
            .unwrap_or_default();
        let done = p
            .post("/v1/admin/sign-in/passkey", json!({ "credential": reused }))
            .await
            .expect("passkey step");
        answers.push((keys, done.status, done.body.clone()));
    }
    assert!(
        answers.windows(2).all(|w| w[0] == w[1]),
        "every failure answers alike: {answers:#?}"
    );
    assert_eq!(answers[0].1, 401);

    // A reader sees the overview only.
    let mut ken = Admin::sign_in(&server, "ken").await;
    assert!(ken.get("/v1/admin/overview").await.ok());
    let denied = ken.get("/v1/admin/audit").await;
    assert_eq!(
        (denied.status, denied.error().code),
        (403, ErrorCode::NotAllowed)
    );

    // A state-changing call without the token, or with another session's, is refused.
    let csrf = linus.csrf.clone();
    let policy = linus.get("/v1/admin/policy").await.into::<PolicyView>();
    let change = json!({ "base_version": policy.version, "changes": { "helpdesk": { "email": "help@example.org" } } });
    let none = linus
        .phone
        .send_with(
            reqwest::Method::PUT,
            "/v1/admin/policy",
            Some(change.clone()),
            &[],
        )
        .await
        .expect("put");
    assert_eq!(
        (none.status, none.error().code),
        (403, ErrorCode::CsrfInvalid)
    );
    let stale = linus
        .phone
        .send_with(
            reqwest::Method::PUT,
            "/v1/admin/policy",
            Some(change.clone()),
            &[("x-csrf-token", &ken.csrf)],
        )
        .await
        .expect("put");
    assert_eq!(
        (stale.status, stale.error().code),
        (403, ErrorCode::CsrfInvalid)
    );
    linus.csrf = csrf;
    assert!(linus
        .send(reqwest::Method::PUT, "/v1/admin/policy", change)
        .await
        .ok());

    // Signed out, the session is gone; a cookie nobody was given has none.
    let out = linus.post("/v1/admin/sign-out", json!({})).await;
    assert_eq!(out.status, 204);
    let gone = linus.get("/v1/admin/session").await;
    assert_eq!(
        (gone.status, gone.error().code),
        (401, ErrorCode::Unauthorized)
    );
}

/// A known set of flows at a kiosk (a reset with a refused password first, an unlock, an
/// administrator's two-method reset, a wrong code then cancel, a login nobody has), then
/// the insights' numbers, its funnel and the audit's CSV export say exactly that.
#[tokio::test]
async fn insights_count_exactly_the_flows_that_ran() {
    use sspr_tests::sspr_proto::{CoverageView, InsightsView};
    const NEW: &str = "violet kettle under maple rain";
    let server = server().await;
    let kiosk = server.kiosk_named("Lobby 1").await.expect("kiosk");
    let mut refs = Vec::new();

    // 1. ada resets: email, a refused password, then a good one.
    let flow = kiosk
        .start_flow(&start("ada", Intent::Reset))
        .await
        .expect("flow");
    refs.push(flow.reference.clone());
    let flow = verify_email(&server, &kiosk, &flow, "ada@home.example.net").await;
    assert_eq!(
        code_of(kiosk.set_password(&flow.flow_id, "short").await),
        ErrorCode::PasswordRejected
    );
    kiosk.set_password(&flow.flow_id, NEW).await.expect("reset");
    // 2. grace unlocks with her email.
    let flow = kiosk
        .start_flow(&start("grace", Intent::Unlock))
        .await
        .expect("flow");
    refs.push(flow.reference.clone());
    let flow = verify_email(&server, &kiosk, &flow, "grace@home.example.net").await;
    kiosk.unlock(&flow.flow_id).await.expect("unlock");
    // 3. alan, an administrator: email and authenticator, then a new password.
    let flow = kiosk
        .start_flow(&start("alan", Intent::Reset))
        .await
        .expect("flow");
    refs.push(flow.reference.clone());
    assert_eq!(flow.required, 2);
    let flow = verify_email(&server, &kiosk, &flow, "alan@home.example.net").await;
    let flow = verify_totp(&kiosk, &flow, "KRSXG5CTMVRXEZLUKRSXG5CTMVRXEZLU").await;
    kiosk.set_password(&flow.flow_id, NEW).await.expect("reset");
    // 4. ada again: a wrong email code, then she walks away (cancel).
    let flow = kiosk
        .start_flow(&start("ada", Intent::Reset))
        .await
        .expect("flow");
    refs.push(flow.reference.clone());
    let ch = kiosk
        .challenge(&flow.flow_id, &method(&flow, MethodKind::Email))
        .await
        .expect("challenge");
    assert_eq!(
        code_of(
            kiosk
                .verify(&flow.flow_id, &ch.challenge_id, "000000")
                .await
        ),
        ErrorCode::CodeInvalid
    );
    kiosk.cancel(&flow.flow_id).await.expect("cancel");
    // 5. A login nobody has, and margaret, an administrator with one method (she needs
    // two): decoys.
    kiosk
        .start_flow(&start("nobody-by-that-name", Intent::Reset))
        .await
        .expect("decoy");
    kiosk
        .start_flow(&start("margaret", Intent::Reset))
        .await
        .expect("decoy");

    let mut admin = Admin::sign_in(&server, "linus").await;
    let mut view = None;
    for _ in 0..50 {
        let v = admin
            .get("/v1/admin/insights?bucket=day")
            .await
            .into::<InsightsView>();
        if v.funnel
            .iter()
            .any(|s| s.stage == "written" && s.flows == 3)
            && v.decoys == 2
        {
            view = Some(v);
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let view = match view {
        Some(v) => v,
        None => panic!(
            "the insights settle on what ran: {:#?}",
            admin.get("/v1/admin/insights?bucket=day").await
        ),
    };
    let funnel: Vec<(&str, u32)> = view
        .funnel
        .iter()
        .map(|s| (s.stage.as_str(), s.flows))
        .collect();
    assert_eq!(
        funnel,
        vec![
            ("started", 4),
            ("first_method", 3),
            ("second_method", 1),
            ("verified", 3),
            ("written", 3)
        ]
    );
    assert_eq!(view.needing_two, 1);
    assert_eq!(view.decoys, 2);
    assert!(view.median_secs_to_done.is_some());
    let today = view.series.last().expect("today's bucket");
    assert_eq!(
        (today.started, today.resets, today.unlocks, today.failed),
        (4, 2, 1, 1)
    );
    assert_eq!(view.series.iter().map(|b| b.started).sum::<u32>(), 4);
    let email = view
        .methods
        .iter()
        .find(|m| m.method == MethodKind::Email)
        .expect("email");
    assert_eq!((email.sent, email.verified, email.failed), (4, 3, 1));
    let totp = view
        .methods
        .iter()
        .find(|m| m.method == MethodKind::Totp)
        .expect("totp");
    assert_eq!((totp.sent, totp.verified, totp.failed), (1, 1, 0));
    let failures: Vec<(&str, u32)> = view
        .failures
        .iter()
        .map(|c| (c.key.as_str(), c.count))
        .collect();
    assert_eq!(
        failures,
        vec![("password_rejected", 1), ("verify_failed: wrong_code", 1)]
    );
    assert_eq!(view.failures_by_kiosk.len(), 1);
    assert_eq!(
        (
            view.failures_by_kiosk[0].key.as_str(),
            view.failures_by_kiosk[0].count
        ),
        ("Lobby 1", 2)
    );
    // One group's members only: alan, of the administrators (margaret's was a decoy).
    let admins = admin
        .get("/v1/admin/insights?group=Domain%20Admins")
        .await
        .into::<InsightsView>();
    let funnel: Vec<u32> = admins.funnel.iter().map(|s| s.flows).collect();
    assert_eq!(funnel, vec![1, 1, 1, 1, 1]);
    // Another kiosk's filter: nothing.
    let other = admin
        .get("/v1/admin/insights?kiosk=no-such-kiosk")
        .await
        .into::<InsightsView>();
    assert_eq!(other.funnel[0].flows, 0);
    let bad = admin.get("/v1/admin/insights?bucket=year").await;
    assert_eq!((bad.status, bad.error().code), (400, ErrorCode::BadRequest));

    // Coverage: everyone in the built-in directory, by what they registered.
    let coverage = admin.get("/v1/admin/coverage").await.into::<CoverageView>();
    assert!(coverage.enabled_people >= 8, "{coverage:?}");
    assert_eq!(
        coverage.ready + coverage.not_ready.len() as u32,
        coverage.enabled_people
    );
    assert!(coverage.not_ready.iter().any(|p| p.username == "barbara"));
    assert!(coverage
        .not_ready
        .iter()
        .any(|p| p.username == "margaret" && p.administrator && p.required == 2));
    assert!(!coverage.not_ready.iter().any(|p| p.username == "ada"));

    // The audit's export holds every row of those flows.
    let csv = reqwest::Client::new()
        .get(format!(
            "{}/v1/admin/audit/export?format=csv",
            admin.phone.base
        ))
        .header("cookie", admin.phone.cookie().unwrap_or_default())
        .send()
        .await
        .expect("export")
        .text()
        .await
        .expect("body");
    for (reference, event) in [
        (&refs[0], "password_rejected"),
        (&refs[0], "password_reset"),
        (&refs[1], "unlocked"),
        (&refs[2], "verify_succeeded"),
        (&refs[3], "verify_failed"),
        (&refs[3], "flow_cancelled"),
    ] {
        assert!(
            csv.lines()
                .any(|l| l.contains(reference.as_str()) && l.contains(&format!("\"{event}\""))),
            "{reference} {event} in\n{csv}"
        );
    }
}
