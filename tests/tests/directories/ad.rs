//! Active Directory, as a real Samba AD DC: `unicodePwd` over LDAPS as a delegated
//! service account, `lockoutTime`, nested groups, the domain's own rules.

use sspr_tests::dirs::{NewUser, SambaDc};
use sspr_tests::sspr_proto::{ErrorCode, Intent, Outcome, PasswordReasonCode};

use super::*;

const NEW_PASSWORD: &str = "Quartz meadow lantern 77";

/// One test changes the domain's password minimum for a moment; the others, which set
/// passwords, wait for it (and it for them).
static DOMAIN_POLICY: tokio::sync::RwLock<()> = tokio::sync::RwLock::const_new(());

pub fn config(dc: &SambaDc, extra: &str) -> String {
    format!(
        "\n[directory]\n{}timeout_secs = 5\n{extra}\n",
        dc.directory_settings("Active Directory")
    )
}

pub fn person(dc: &SambaDc, login: &str) -> String {
    // The DN is made of the names: the login keeps it unique.
    dc.add_user(&NewUser {
        login,
        given_name: login,
        surname: "Samba",
        email: Some(&format!("{login}@example.org")),
        password: "Initial-Pass-2026",
    })
    .expect("add user")
}

#[tokio::test]
async fn reset_lands_in_ad_unlocks_and_the_new_password_binds() {
    let _policy = DOMAIN_POLICY.read().await;
    let dc = SambaDc::shared().expect("samba");
    let login = unique("areset");
    let dn = person(dc, &login);
    // Locked out first: a reset alone would not unlock in AD; ours does both at once.
    dc.lock_out(&dn).expect("lock out");
    assert!(dc.is_locked(&dn).expect("lock state"));

    let server = server_with(&config(dc, "")).await;
    let kiosk = server.kiosk().await.expect("kiosk");
    let flow = verified_flow(&server, &kiosk, &login, Intent::Reset).await;
    // The domain's rules, read from the domain object, shown before typing.
    assert_eq!(flow.password_rules.categories, 3);
    assert_eq!(flow.password_rules.history, sspr_tests::dirs::SAMBA_HISTORY);
    assert_eq!(
        flow.password_rules.min_length,
        15.max(sspr_tests::dirs::SAMBA_MIN_LENGTH)
    );
    // The live check applies them: one kind of character only is refused before writing.
    let check = kiosk
        .password_check(&flow.flow_id, "quartz meadow lantern")
        .await
        .expect("check");
    assert!(
        check
            .reasons
            .iter()
            .any(|r| r.code == PasswordReasonCode::NeedsVariety),
        "{check:?}"
    );

    let done = kiosk
        .set_password(&flow.flow_id, NEW_PASSWORD)
        .await
        .expect("reset");
    assert_eq!(done.outcome, Outcome::PasswordReset);
    assert!(all_ok(&done), "{done:?}");
    assert!(
        !dc.is_locked(&dn).expect("lock state"),
        "lockoutTime cleared"
    );
    assert!(dc.bind_ok(&dn, NEW_PASSWORD), "new password binds");
    assert!(!dc.bind_ok(&dn, "Initial-Pass-2026"));
}

#[tokio::test]
async fn unlock_only_clears_the_lockout() {
    let _policy = DOMAIN_POLICY.read().await;
    let dc = SambaDc::shared().expect("samba");
    let login = unique("aunlock");
    let dn = person(dc, &login);
    dc.lock_out(&dn).expect("lock out");

    let server = server_with(&config(dc, "")).await;
    let kiosk = server.kiosk().await.expect("kiosk");
    let flow = verified_flow(&server, &kiosk, &login, Intent::Unlock).await;
    let done = kiosk.unlock(&flow.flow_id).await.expect("unlock");
    assert_eq!(done.outcome, Outcome::Unlocked);
    assert_eq!(done.directories[0].message, "The account is unlocked.");
    assert!(!dc.is_locked(&dn).expect("lock state"));
    assert!(
        dc.bind_ok(&dn, "Initial-Pass-2026"),
        "same password as before"
    );
}

#[tokio::test]
async fn nested_admins_need_two_methods_and_disabled_get_decoys() {
    let _policy = DOMAIN_POLICY.read().await;
    let dc = SambaDc::shared().expect("samba");
    let admin = unique("aadm");
    person(dc, &admin);
    let inner = unique("Tier0");
    let outer = unique("SSPRAdmins");
    dc.add_group(&inner, &[&admin]).expect("inner group");
    dc.add_group(&outer, &[&inner]).expect("outer group");
    let off = unique("aoff");
    person(dc, &off);

    let server = server_with(&format!(
        "{}\n[policy]\nadmin_groups = [\"{outer}\"]\n",
        config(dc, "")
    ))
    .await;
    server
        .register(&format!(
            "[[person]]\nlogin = \"{admin}\"\nemail = \"{admin}@home.example.net\"\ntotp = \"{totp}\"\n\
             [[person]]\nlogin = \"{off}\"\nemail = \"{off}@home.example.net\"\ntotp = \"{totp}\"\n",
            totp = sspr_tests::ADA_TOTP
        ))
        .expect("register");
    dc.disable(&off).expect("disable");
    let kiosk = server.kiosk().await.expect("kiosk");

    let flow = kiosk
        .start_flow(&start(&admin, Intent::Reset))
        .await
        .expect("flow");
    assert_eq!(flow.required, 2, "administrator through a nested group");

    assert_disabled_looks_unknown(&server, &kiosk, &off).await;
}

#[tokio::test]
async fn the_domains_refusal_names_the_domains_rule() {
    // The domain's minimum rises after the server read its rules: the pre-check can't know,
    // Samba refuses, and the person is told the domain's new minimum.
    let _policy = DOMAIN_POLICY.write().await;
    let dc = SambaDc::shared().expect("samba");
    let login = unique("arule");
    person(dc, &login);
    let server = server_with(&config(dc, "")).await;
    let kiosk = server.kiosk().await.expect("kiosk");
    let flow = verified_flow(&server, &kiosk, &login, Intent::Reset).await;

    dc.set_min_length(30).expect("raise minimum");
    let refused = kiosk.set_password(&flow.flow_id, NEW_PASSWORD).await;
    // The refusal makes the server read the domain's rules again: the next look at the
    // flow shows the new minimum before anything is typed.
    let mut shown = 0;
    for _ in 0..50 {
        let view = kiosk
            .start_flow(&start(&login, Intent::Reset))
            .await
            .expect("flow");
        shown = view.password_rules.min_length;
        kiosk.cancel(&view.flow_id).await.expect("cancel");
        if shown == 30 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    dc.set_min_length(sspr_tests::dirs::SAMBA_MIN_LENGTH)
        .expect("restore minimum");
    assert_eq!(shown, 30, "rules read again after the refusal");
    let refused = error_of(refused);
    assert_eq!(refused.code, ErrorCode::PasswordRejected);
    let short = refused
        .reasons
        .iter()
        .find(|r| r.code == PasswordReasonCode::TooShort)
        .unwrap_or_else(|| panic!("{refused:?}"));
    assert!(short.message.contains("30 characters"), "{short:?}");
}

#[tokio::test]
async fn my_security_info_signs_in_with_the_domain_password_and_unknown_logins_answer_alike() {
    let dc = SambaDc::shared().expect("samba");
    let login = unique("amy");
    person(dc, &login);
    let server = server_with(&config(dc, "")).await;
    my_sign_in_answers_alike(&server, &login, "Initial-Pass-2026", &unique("anobody")).await;
}

/// A Samba DC killed between the person's search and the `unicodePwd` write, then (another
/// flow) after it carried the write out but before its answer: the person is told we
/// can't tell yet, the audit says in doubt, and after the DC is back the same password
/// finishes: written when it never arrived, found done (pwdLastSet moved) when it had.
#[tokio::test(flavor = "multi_thread")]
async fn a_dc_killed_in_the_middle_of_a_reset() {
    use sspr_tests::faults::{Cut, Tap};
    let dc = tokio::task::spawn_blocking(SambaDc::start)
        .await
        .expect("join")
        .expect("private Samba DC");
    let ip: std::net::IpAddr = dc.host.parse().expect("the DC's address");
    let tap = Tap::start_at(ip, (ip, 636).into()).await.expect("tap");
    let toml = config(&dc, "").replace(
        &format!("url = \"{}\"", dc.ldaps_url),
        &format!("url = \"ldaps://{}\"", tap.addr),
    );
    let server = server_with(&toml).await;
    let kiosk = std::sync::Arc::new(server.kiosk().await.expect("kiosk"));

    for (cut, login, new) in [
        (
            Cut::BeforeForwarding,
            unique("acut1"),
            "Meadow lantern copper 17",
        ),
        (
            Cut::AfterAnswer,
            unique("acut2"),
            "Harbour violet engine 23",
        ),
    ] {
        let dn = person(&dc, &login);
        killed_mid_reset(
            &server,
            &kiosk,
            &tap,
            KilledAt {
                cut,
                login: &login,
                new_password: new,
            },
            || dc.kill(),
            || dc.restart(),
            |password| dc.bind_ok(&dn, password),
        )
        .await;
    }
}

/// Numbers from Active Directory: `mobile` and `telephoneNumber` (national, with an
/// extension), read in the person's own search, text the code and dial the extension; not
/// offered when the policy takes numbers from registrations only.
#[tokio::test]
async fn numbers_from_ad_text_a_code_and_dial_the_extension() {
    let _policy = DOMAIN_POLICY.read().await;
    let dc = SambaDc::shared().expect("samba");
    let login = unique("anum");
    let dn = person(dc, &login);
    dc.set_attribute(&dn, "mobile", "0151 1234 5672")
        .expect("mobile");
    dc.set_attribute(&dn, "telephoneNumber", "030 1234567 x42")
        .expect("office");
    numbers_from_the_directory(
        &config(dc, ""),
        &DirectoryPerson {
            login: &login,
            mobile: "+4915112345672",
            office: ("+49301234567", "42"),
            new_password: NEW_PASSWORD,
        },
        |password| dc.bind_ok(&dn, password),
    )
    .await;
}
