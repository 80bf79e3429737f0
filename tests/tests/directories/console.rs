//! The admin console against real directories: a console admin through a nested group
//! signs in with the directory's password and a passkey, the group picker searches the
//! directory's groups, and coverage counts the group's members by what they registered.

use serde_json::json;
use sspr_tests::dirs::{SambaDc, Slapd};
use sspr_tests::phone::Phone;
use sspr_tests::sspr_proto::{ConsoleRole, ConsoleSession, CoverageView, DirectoryStatus};

use super::*;

/// Registers an authenticator for `login`, signs in to /my with the directory password
/// and its code, adds a passkey, then signs in to the console with both.
async fn console_session(
    server: &TestServer,
    login: &str,
    password: &str,
) -> (Phone, ConsoleSession) {
    server
        .register(&format!(
            "[[person]]\nlogin = \"{login}\"\nemail = \"{login}@home.example.net\"\ntotp = \"{}\"\n",
            sspr_tests::ADA_TOTP
        ))
        .expect("register");
    let mut phone = Phone::new(server).expect("phone");
    phone
        .enroll(login, password, sspr_tests::ADA_TOTP, "Laptop")
        .await
        .expect("a passkey on /my");
    let step = phone
        .post(
            "/v1/admin/sign-in",
            json!({ "login": login, "password": password }),
        )
        .await
        .expect("password step");
    assert_eq!(step.status, 200, "{step:?}");
    let credential = phone.assert(&step.body["options"]).expect("assertion");
    let session = phone
        .post(
            "/v1/admin/sign-in/passkey",
            json!({ "credential": credential }),
        )
        .await
        .expect("passkey step")
        .into::<ConsoleSession>();
    (phone, session)
}

async fn check(server: &TestServer, login: &str, password: &str, outer: &str, group_prefix: &str) {
    let (mut phone, session) = console_session(server, login, password).await;
    assert_eq!(
        session.roles,
        vec![ConsoleRole::Admin],
        "through a nested group"
    );
    let found = phone
        .send(
            reqwest::Method::GET,
            &format!("/v1/admin/groups?q={}", group_prefix),
            None,
        )
        .await
        .expect("groups")
        .into::<Vec<String>>();
    assert!(found.iter().any(|g| g == outer), "{found:?}");
    let coverage = phone
        .send(reqwest::Method::GET, "/v1/admin/coverage", None)
        .await
        .expect("coverage")
        .into::<CoverageView>();
    assert_eq!(
        (coverage.enabled_people, coverage.ready),
        (1, 1),
        "{coverage:?}"
    );
    // The directory's certificate, read on a connection of its own: trusted by the test
    // CA the configuration names; the test kit's certificates last three days, so the
    // overview says it expires soon.
    let dirs = phone
        .send(reqwest::Method::GET, "/v1/admin/directories", None)
        .await
        .expect("directories")
        .into::<Vec<DirectoryStatus>>();
    let cert = dirs[0].certificate.clone().expect("a certificate");
    assert!(cert.error.is_none(), "{cert:?}");
    assert!(cert.trusted, "{cert:?}");
    assert!(
        cert.days_left.is_some_and(|d| (1..=3).contains(&d)),
        "{cert:?}"
    );
    assert!(dirs[0].reachable && dirs[0].rules.is_some(), "{dirs:?}");
    let overview = phone
        .send(reqwest::Method::GET, "/v1/admin/overview", None)
        .await
        .expect("overview")
        .into::<sspr_tests::sspr_proto::Overview>();
    assert!(
        overview
            .attention
            .iter()
            .any(|a| a.severity == "error" && a.message.contains("TLS certificate expires in")),
        "{:?}",
        overview.attention
    );
}

#[tokio::test]
async fn a_console_admin_of_slapd_through_a_nested_group() {
    let slapd = Slapd::shared().expect("slapd");
    let login = unique("lcon");
    let dn = slapd
        .add_user(&sspr_tests::dirs::NewUser {
            login: &login,
            given_name: "Con",
            surname: "Sole",
            email: Some(&format!("{login}@example.org")),
            password: "first Passw0rd here",
        })
        .expect("add user");
    let inner = unique("ConsoleInner");
    let outer = unique("ConsoleAdmins");
    let inner_dn = slapd.add_group(&inner, &[&dn]).expect("inner");
    slapd.add_group(&outer, &[&inner_dn]).expect("outer");
    let server = server_with(&format!(
        "{}\n[policy]\nmethods = [\"email\", \"totp\", \"approval\"]\nenabled = \"group\"\ngroup = \"{outer}\"\n\
         [console]\nadmin_groups = [\"{outer}\"]\n",
        super::ldap::config(slapd, "")
    ))
    .await;
    check(&server, &login, "first Passw0rd here", &outer, "consoleadm").await;
}

#[tokio::test]
async fn a_console_admin_of_active_directory_through_a_nested_group() {
    let dc = SambaDc::shared().expect("samba");
    let login = unique("acon");
    super::ad::person(dc, &login);
    let inner = unique("ConInner");
    let outer = unique("ConAdmins");
    dc.add_group(&inner, &[&login]).expect("inner");
    dc.add_group(&outer, &[&inner]).expect("outer");
    let server = server_with(&format!(
        "{}\n[policy]\nmethods = [\"email\", \"totp\", \"approval\"]\nenabled = \"group\"\ngroup = \"{outer}\"\n\
         [console]\nadmin_groups = [\"{outer}\"]\n",
        super::ad::config(dc, "")
    ))
    .await;
    check(&server, &login, "Initial-Pass-2026", &outer, "conadm").await;
}
