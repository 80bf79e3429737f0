//! A shared Linux PC that signs people in against the directory through a real sssd with
//! cached credentials (`sspr_tests::sssd`): what its login takes after a reset at the kiosk,
//! with the directory there and with it gone.

use std::time::Duration;

use sspr_tests::dirs::{NewUser, Slapd};
use sspr_tests::sspr_proto::Intent;
use sspr_tests::sssd::Sssd;

use super::*;

const FIRST_PASSWORD: &str = "first Passw0rd here";
const NEW_PASSWORD: &str = "lantern orchard velvet 42";

/// A person who can sign in to the PC (a `posixAccount`); returns the DN.
fn pc_person(slapd: &Slapd, login: &str) -> String {
    slapd
        .add_posix_user(&NewUser {
            login,
            given_name: "Pat",
            surname: "Sea",
            email: Some(&format!("{login}@example.org")),
            password: FIRST_PASSWORD,
        })
        .expect("add user")
}

/// `login` resets their password at a kiosk to [`NEW_PASSWORD`], through the server's
/// real path: a flow, an emailed code, Password Modify as the service account.
async fn reset_at_the_kiosk(slapd: &Slapd, login: &str, dn: &str) {
    let server = server_with(&super::ldap::config(slapd, "")).await;
    let kiosk = server.kiosk().await.expect("kiosk");
    let flow = verified_flow(&server, &kiosk, login, Intent::Reset).await;
    let done = kiosk
        .set_password(&flow.flow_id, NEW_PASSWORD)
        .await
        .expect("reset");
    assert!(all_ok(&done), "{done:?}");
    assert!(slapd.bind_ok(dn, NEW_PASSWORD), "the directory has it");
}

#[tokio::test]
async fn after_a_reset_at_the_kiosk_the_pcs_login_takes_the_new_password() {
    let slapd = Slapd::shared().expect("slapd");
    let login = unique("pc");
    let dn = pc_person(slapd, &login);
    let pc = Sssd::shared().expect("sssd");

    let first = pc.sign_in(&login, FIRST_PASSWORD).expect("sign in");
    assert!(first.accepted && !first.cached, "{first:?}");
    reset_at_the_kiosk(slapd, &login, &dn).await;
    let new = pc.sign_in(&login, NEW_PASSWORD).expect("sign in");
    assert!(new.accepted && !new.cached, "the new password: {new:?}");
    let old = pc.sign_in(&login, FIRST_PASSWORD).expect("sign in");
    assert!(!old.accepted, "not the old one: {old:?}");

    // Not a refusal: someone the PC can't know (no posixAccount) is an error that says so.
    let no_posix = unique("pcnp");
    slapd
        .add_user(&NewUser {
            login: &no_posix,
            given_name: "No",
            surname: "Posix",
            email: None,
            password: FIRST_PASSWORD,
        })
        .expect("add user");
    let unknown = pc
        .pam_sign_in(&no_posix, FIRST_PASSWORD)
        .expect_err("sssd does not know them");
    assert!(
        format!("{unknown:#}").contains("does not know"),
        "{unknown:#}"
    );
}

#[tokio::test]
async fn offline_the_pc_takes_the_cached_old_password_until_the_directory_is_back() {
    // A slapd of its own, to stop: sssd notices on the next sign-in.
    let slapd = Slapd::start().expect("private slapd");
    let login = unique("pcoff");
    let dn = pc_person(&slapd, &login);
    let pc = Sssd::start(&slapd).expect("sssd");

    // Signed in at the PC once, online: sssd caches the password.
    let online = pc.sign_in(&login, FIRST_PASSWORD).expect("sign in");
    assert!(online.accepted && !online.cached, "{online:?}");
    reset_at_the_kiosk(&slapd, &login, &dn).await;

    // The PC loses the directory before it has seen the new password: it takes the old
    // one from its cache and refuses the new one.
    slapd.stop();
    let old = pc.sign_in(&login, FIRST_PASSWORD).expect("offline");
    assert!(
        old.accepted && old.cached,
        "the cached old password: {old:?}"
    );
    let new = pc.sign_in(&login, NEW_PASSWORD).expect("offline");
    assert!(
        !new.accepted,
        "offline, the new password is refused: {new:?}"
    );

    // The directory is back: the new password, checked by the directory; not the old one.
    slapd.restart().expect("restart slapd");
    pc.go_online().expect("tell sssd");
    let back = pc
        .sign_in_until(&login, NEW_PASSWORD, Duration::from_secs(20), |s| {
            s.accepted
        })
        .expect("sign in");
    assert!(back.accepted && !back.cached, "back online: {back:?}");
    let old = pc.sign_in(&login, FIRST_PASSWORD).expect("sign in");
    assert!(!old.accepted, "online, not the old one: {old:?}");

    // That sign-in replaced the cached password: offline again, the new one, not the old.
    slapd.stop();
    let new = pc.sign_in(&login, NEW_PASSWORD).expect("offline");
    assert!(
        new.accepted && new.cached,
        "the cached new password: {new:?}"
    );
    let old = pc.sign_in(&login, FIRST_PASSWORD).expect("offline");
    assert!(!old.accepted, "offline, not the old one: {old:?}");
}

#[test]
fn a_pc_whose_sssd_is_down_says_so_rather_than_refusing() {
    let slapd = Slapd::shared().expect("slapd");
    let login = unique("pcdown");
    pc_person(slapd, &login);
    let pc = Sssd::start(slapd).expect("sssd");
    assert!(pc.pam_sign_in(&login, FIRST_PASSWORD).expect("sign in"));

    pc.kill();
    let down = pc
        .pam_sign_in(&login, FIRST_PASSWORD)
        .expect_err("nobody to ask");
    assert!(
        format!("{down:#}").contains("sssd is not running"),
        "{down:#}"
    );
}
