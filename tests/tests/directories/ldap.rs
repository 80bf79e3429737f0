//! OpenLDAP with ppolicy: Password Modify as a `write` service account over StartTLS.

use sspr_tests::dirs::{NewUser, Slapd};
use sspr_tests::sspr_proto::{ErrorCode, FlowState, Intent, Outcome, PasswordReasonCode};

use super::*;

const NEW_PASSWORD: &str = "lantern orchard velvet 42";

pub fn config(slapd: &Slapd, extra: &str) -> String {
    format!(
        "\n[directory]\n{}timeout_secs = 3\n{extra}\n",
        slapd.directory_settings("OpenLDAP")
    )
}

fn person(slapd: &Slapd, login: &str) -> String {
    slapd
        .add_user(&NewUser {
            login,
            given_name: "Lin",
            surname: "Dap",
            email: Some(&format!("{login}@example.org")),
            password: "first Passw0rd here",
        })
        .expect("add user")
}

#[tokio::test]
async fn reset_lands_in_slapd_and_the_new_password_binds() {
    let slapd = Slapd::shared().expect("slapd");
    let login = unique("lreset");
    let dn = person(slapd, &login);
    let server = server_with(&config(slapd, "")).await;
    let kiosk = server.kiosk().await.expect("kiosk");

    // The rules pre-check shows the policy entry's history before anyone types.
    let flow = verified_flow(&server, &kiosk, &login, Intent::Reset).await;
    assert_eq!(flow.state, FlowState::Verified);
    assert_eq!(
        flow.password_rules.history,
        sspr_tests::dirs::SLAPD_IN_HISTORY
    );
    assert_eq!(
        flow.password_rules.min_length,
        15.max(sspr_tests::dirs::SLAPD_MIN_LENGTH)
    );

    let done = kiosk
        .set_password(&flow.flow_id, NEW_PASSWORD)
        .await
        .expect("reset");
    assert_eq!(done.outcome, Outcome::PasswordReset);
    assert!(all_ok(&done), "{done:?}");
    assert_eq!(done.directories[0].directory, "OpenLDAP");
    assert!(slapd.bind_ok(&dn, NEW_PASSWORD), "new password binds");
    assert!(
        !slapd.bind_ok(&dn, "first Passw0rd here"),
        "old one doesn't"
    );
    assert_eq!(events(&server, "password_reset").len(), 1);
}

#[tokio::test]
async fn a_password_in_history_is_refused_with_its_reason() {
    let slapd = Slapd::shared().expect("slapd");
    let login = unique("lhist");
    let dn = person(slapd, &login);
    let server = server_with(&config(slapd, "")).await;
    let kiosk = server.kiosk().await.expect("kiosk");

    let flow = verified_flow(&server, &kiosk, &login, Intent::Reset).await;
    kiosk
        .set_password(&flow.flow_id, NEW_PASSWORD)
        .await
        .expect("first reset");

    // Again, the same password: ppolicy refuses it (history), and the person is told so.
    let flow = verified_flow(&server, &kiosk, &login, Intent::Reset).await;
    let refused = error_of(kiosk.set_password(&flow.flow_id, NEW_PASSWORD).await);
    assert_eq!(refused.code, ErrorCode::PasswordRejected);
    assert!(
        refused
            .reasons
            .iter()
            .any(|r| r.code == PasswordReasonCode::UsedBefore),
        "{refused:?}"
    );
    // Nothing changed, and the flow is still open for another password.
    assert!(slapd.bind_ok(&dn, NEW_PASSWORD));
    let done = kiosk
        .set_password(&flow.flow_id, "another lantern orchard 43")
        .await
        .expect("second password");
    assert!(all_ok(&done));
    assert!(slapd.bind_ok(&dn, "another lantern orchard 43"));
}

#[tokio::test]
async fn unlock_after_a_real_lockout_keeps_the_password() {
    let slapd = Slapd::shared().expect("slapd");
    let login = unique("llock");
    let dn = person(slapd, &login);
    slapd.lock_out(&dn).expect("lock out");
    assert!(slapd.is_locked(&dn).expect("read lock"));
    assert!(!slapd.bind_ok(&dn, "first Passw0rd here"), "locked");

    let server = server_with(&config(slapd, "")).await;
    let kiosk = server.kiosk().await.expect("kiosk");
    let flow = verified_flow(&server, &kiosk, &login, Intent::Unlock).await;
    assert!(flow.unlock_allowed);
    let done = kiosk.unlock(&flow.flow_id).await.expect("unlock");
    assert_eq!(done.outcome, Outcome::Unlocked);
    assert_eq!(done.directories[0].message, "The account is unlocked.");
    assert!(!slapd.is_locked(&dn).expect("read lock"));
    assert!(
        slapd.bind_ok(&dn, "first Passw0rd here"),
        "old password works again"
    );
}

#[tokio::test]
async fn disabled_accounts_get_the_decoy_shape() {
    let slapd = Slapd::shared().expect("slapd");
    let login = unique("ldis");
    let dn = person(slapd, &login);
    let server = server_with(&config(slapd, "")).await;
    server
        .register(&format!(
            "[[person]]\nlogin = \"{login}\"\nemail = \"{login}@home.example.net\"\n"
        ))
        .expect("register");
    slapd.disable(&dn).expect("disable");
    let kiosk = server.kiosk().await.expect("kiosk");

    assert_disabled_looks_unknown(&server, &kiosk, &login).await;
}

#[tokio::test]
async fn nested_admin_group_members_need_two_methods() {
    let slapd = Slapd::shared().expect("slapd");
    let login = unique("ladm");
    let dn = person(slapd, &login);
    let inner = unique("Tier0-");
    let outer = unique("Server Admins ");
    let inner_dn = slapd.add_group(&inner, &[&dn]).expect("inner group");
    slapd.add_group(&outer, &[&inner_dn]).expect("outer group");
    let server = server_with(&format!(
        "{}\n[policy]\nadmin_groups = [\"{outer}\"]\nmethods = [\"email\", \"totp\"]\n",
        config(slapd, "")
    ))
    .await;
    server
        .register(&format!(
            "[[person]]\nlogin = \"{login}\"\nemail = \"{login}@home.example.net\"\ntotp = \"{}\"\n",
            sspr_tests::ADA_TOTP
        ))
        .expect("register");
    let kiosk = server.kiosk().await.expect("kiosk");
    let flow = kiosk
        .start_flow(&start(&login, Intent::Reset))
        .await
        .expect("flow");
    assert_eq!(flow.required, 2, "an administrator through a nested group");
}

#[tokio::test]
async fn a_directory_that_dies_mid_session_changes_nothing_and_says_so() {
    let slapd = Slapd::start().expect("private slapd");
    let login = unique("lkill");
    let dn = person(&slapd, &login);
    let server = server_with(&config(&slapd, "")).await;
    let kiosk = server.kiosk().await.expect("kiosk");
    let flow = verified_flow(&server, &kiosk, &login, Intent::Reset).await;
    let (status, _) = readyz(&server).await;
    assert_eq!(status, 200);

    slapd.kill();
    let failed = error_of(kiosk.set_password(&flow.flow_id, NEW_PASSWORD).await);
    assert_eq!(failed.code, ErrorCode::DirectoryUnavailable);
    assert!(failed.message.contains("nothing was changed"), "{failed:?}");
    let (status, body) = readyz(&server).await;
    assert_eq!(status, 503);
    assert_eq!(body["unavailable"][0], "OpenLDAP");
    let outages = events(&server, "directory_unavailable");
    assert_eq!(outages.len(), 1, "{outages:?}");
    assert!(events(&server, "password_reset").is_empty());
    // Back up: the same flow finishes, and the password is the new one.
    slapd.restart().expect("restart slapd");
    let done = kiosk
        .set_password(&flow.flow_id, NEW_PASSWORD)
        .await
        .expect("reset after the outage");
    assert!(all_ok(&done));
    assert!(slapd.bind_ok(&dn, NEW_PASSWORD));
}

#[tokio::test]
async fn wrong_service_password_untrusted_certificates_and_plain_ldap_are_refused_clearly() {
    // A slapd of its own: ppolicy locks the service account after three bad binds, which
    // would lock every other test out of the shared one.
    let own = Slapd::start().expect("private slapd");
    let slapd = &own;
    let server = server_with(&config(slapd, "").replace(
        &format!("bind_password = \"{}\"", slapd.service_password),
        "bind_password = \"not-the-password\"",
    ))
    .await;
    let (status, body) = readyz(&server).await;
    assert_eq!(status, 503, "{body}");
    assert!(server
        .log()
        .contains("service account's password was refused"));
    let kiosk = server.kiosk().await.expect("kiosk");
    let e = error_of(kiosk.start_flow(&start("anyone", Intent::Reset)).await);
    assert_eq!(e.code, ErrorCode::DirectoryUnavailable);

    // A certificate the configured CA didn't sign: TLS fails, nothing is sent in clear.
    let untrusted = server_with(&config(slapd, "").replace(
        &format!("ca_file = \"{}\"", slapd.ca_file.display()),
        "ca_file = \"/etc/ssl/certs/ca-certificates.crt\"",
    ))
    .await;
    let (status, _) = readyz(&untrusted).await;
    assert_eq!(status, 503);
    let kiosk = untrusted.kiosk().await.expect("kiosk");
    let e = error_of(kiosk.start_flow(&start("anyone", Intent::Reset)).await);
    assert_eq!(e.code, ErrorCode::DirectoryUnavailable);
    let audit = events(&untrusted, "directory_unavailable");
    assert_eq!(audit.len(), 1, "{audit:?}");

    // Plain LDAP without TLS to a directory elsewhere: the server won't start.
    let config = config(slapd, "")
        .replace("starttls = true", "starttls = false")
        .replace(&slapd.ldap_url, "ldap://192.0.2.10:389");
    let refused = sspr_tests::TestServer::start_with(sspr_tests::Options {
        extra_config: config,
        real_directory: true,
        ..Default::default()
    })
    .await;
    let err = refused.err().map(|e| e.to_string()).unwrap_or_default();
    assert!(err.contains("plain LDAP"), "{err}");
}

#[tokio::test]
async fn my_security_info_signs_in_with_the_slapd_password_and_unknown_logins_answer_alike() {
    let slapd = Slapd::shared().expect("slapd");
    let login = unique("lmy");
    person(slapd, &login);
    let server = server_with(&config(slapd, "")).await;
    my_sign_in_answers_alike(&server, &login, "first Passw0rd here", &unique("lnobody")).await;
}

/// The `[directory]` section with the server reaching `slapd` through `tap`.
fn config_through(slapd: &Slapd, tap: &sspr_tests::faults::Tap) -> String {
    config(slapd, "").replace(
        &format!("url = \"{}\"", slapd.ldap_url),
        &format!("url = \"ldap://{}\"", tap.addr),
    )
}

fn socket_of(url: &str) -> std::net::SocketAddr {
    url.trim_start_matches("ldap://")
        .trim_start_matches("ldaps://")
        .parse()
        .expect("host:port")
}

/// slapd is killed between the person's search and the password write, then (another
/// flow) while it carries the write out, before it answers. Each time the person is told
/// the directory was lost and that we can't tell yet, the audit says the write is in
/// doubt; after slapd is back, the same password again finishes: written once when the
/// write never arrived, found done (not written twice, which history would refuse) when
/// it had. No flow is left stuck.
#[tokio::test(flavor = "multi_thread")]
async fn slapd_killed_in_the_middle_of_a_reset() {
    use sspr_tests::faults::{Cut, Tap};
    let slapd = Slapd::start().expect("private slapd");
    let tap = Tap::start(socket_of(&slapd.ldap_url)).await.expect("tap");
    let server = server_with(&config_through(&slapd, &tap)).await;
    let kiosk = std::sync::Arc::new(server.kiosk().await.expect("kiosk"));

    for (cut, login, new) in [
        (
            Cut::BeforeForwarding,
            unique("lcut1"),
            "meadow lantern copper 17",
        ),
        (
            Cut::AfterAnswer,
            unique("lcut2"),
            "harbour violet engine 23",
        ),
    ] {
        let dn = person(&slapd, &login);
        let flow = killed_mid_reset(
            &server,
            &kiosk,
            &tap,
            KilledAt {
                cut,
                login: &login,
                new_password: new,
            },
            || slapd.kill(),
            || slapd.restart(),
            |password| slapd.bind_ok(&dn, password),
        )
        .await;
        // The flow is over: nothing more can be written from it.
        let again = error_of(kiosk.set_password(&flow.flow_id, new).await);
        assert_eq!(again.code, ErrorCode::StepNotAllowed, "{again:?}");
    }
}

/// Numbers from slapd: `mobile` and `telephoneNumber` (with an extension), read in the
/// person's own search, text the code and dial the extension; not offered when the policy
/// takes numbers from registrations only.
#[tokio::test]
async fn numbers_from_slapd_text_a_code_and_dial_the_extension() {
    let slapd = Slapd::shared().expect("slapd");
    let login = unique("lnum");
    let dn = person(slapd, &login);
    slapd
        .set_attribute(&dn, "mobile", "+49 151 1234 5671")
        .expect("mobile");
    slapd
        .set_attribute(&dn, "telephoneNumber", "+49 30 1234567 ext. 89")
        .expect("office");
    numbers_from_the_directory(
        &config(slapd, ""),
        &DirectoryPerson {
            login: &login,
            mobile: "+4915112345671",
            office: ("+49301234567", "89"),
            new_password: NEW_PASSWORD,
        },
        |password| slapd.bind_ok(&dn, password),
    )
    .await;
}
