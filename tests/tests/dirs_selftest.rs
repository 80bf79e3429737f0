//! Proves the directory fixtures (tests/src/dirs) behave like the directories SSPR will
//! write to, using only the OpenLDAP command-line tools: people bind, lock out and get
//! unlocked; the service account resets passwords within the rules and no further.

use std::time::Instant;

use base64::Engine as _;
use sspr_tests::dirs::{
    ldap_tool, Conn, LdapOutcome, NewUser, SambaDc, Slapd, SAMBA_LOCKOUT_THRESHOLD,
    SAMBA_MIN_LENGTH, SLAPD_MAX_FAILURE, SLAPD_MIN_LENGTH,
};

/// Runs an OpenLDAP tool as the fixture's service account; a tool that could not run
/// shows up as code -1 in the assertion that follows.
fn as_service(conn: &Conn<'_>, tool: &str, args: &[&str], input: Option<&str>) -> LdapOutcome {
    ldap_tool(tool, conn, args, input).unwrap_or_else(|e| LdapOutcome {
        code: -1,
        stdout: String::new(),
        stderr: format!("{e:#}"),
    })
}

#[test]
fn slapd_fixture() {
    let started = Instant::now();
    let d = Slapd::shared().unwrap();
    eprintln!("Slapd::shared() took {} ms", started.elapsed().as_millis());
    assert_eq!((SLAPD_MAX_FAILURE, SLAPD_MIN_LENGTH), (3, 8));

    let ada = d
        .add_user(&NewUser {
            login: "ada",
            given_name: "Ada",
            surname: "Lovelace",
            email: Some("ada@example.org"),
            password: "first-pass-1",
        })
        .unwrap();
    assert_eq!(ada, format!("uid=ada,{}", d.users_dn));
    assert!(d.bind_ok(&ada, "first-pass-1"));
    assert!(!d.bind_ok(&ada, "not-her-password"));
    let uuid = d.entry_uuid(&ada).unwrap();
    assert_eq!(uuid.len(), 36, "{uuid}");

    // The service account resets with the Password Modify exop over StartTLS.
    let svc = d.as_service();
    let reset = |new: &str| as_service(&svc, "ldappasswd", &["-s", new, &ada], None);
    let ok = reset("second-pass-2");
    assert_eq!(ok.code, 0, "{}", ok.stderr);
    assert!(d.bind_ok(&ada, "second-pass-2"));
    assert!(!d.bind_ok(&ada, "first-pass-1"));

    let short = reset("abc");
    eprintln!("slapd, too short: {} {}", short.code, short.diagnostic());
    assert_eq!(short.code, 19);
    assert_eq!(short.diagnostic(), "Password fails quality checking policy");
    let history = reset("first-pass-1");
    eprintln!(
        "slapd, in history: {} {}",
        history.code,
        history.diagnostic()
    );
    assert_eq!(history.code, 19);
    assert_eq!(
        history.diagnostic(),
        "Password is in history of old passwords"
    );
    let same = reset("second-pass-2");
    eprintln!("slapd, unchanged: {} {}", same.code, same.diagnostic());
    assert_eq!(same.code, 19);

    // Write, not manage: no pwdReset, and the hash stays unreadable to the service.
    let read = as_service(
        &svc,
        "ldapsearch",
        &[
            "-LLL",
            "-b",
            &ada,
            "-s",
            "base",
            "(objectClass=*)",
            "pwdReset",
            "userPassword",
            "entryUUID",
            "pwdChangedTime",
        ],
        None,
    );
    assert_eq!(read.code, 0, "{}", read.stderr);
    assert!(read.stdout.contains(&uuid), "{}", read.stdout);
    assert!(read.stdout.contains("pwdChangedTime"), "{}", read.stdout);
    assert!(!read.stdout.contains("pwdReset"), "{}", read.stdout);
    assert!(!read.stdout.contains("userPassword"), "{}", read.stdout);
    // ...and nothing else of people is writable.
    let mail = as_service(
        &svc,
        "ldapmodify",
        &[],
        Some(&format!(
            "dn: {ada}\nchangetype: modify\nreplace: mail\nmail: x@example.org\n-\n"
        )),
    );
    assert_eq!(mail.code, 50, "{}", mail.stderr);

    // Lockout, and the service account unlocks.
    d.lock_out(&ada).unwrap();
    assert!(d.is_locked(&ada).unwrap());
    assert!(!d.bind_ok(&ada, "second-pass-2"));
    let unlock = as_service(
        &svc,
        "ldapmodify",
        &[],
        Some(&format!(
            "dn: {ada}\nchangetype: modify\ndelete: pwdAccountLockedTime\n-\n"
        )),
    );
    assert_eq!(unlock.code, 0, "{}", unlock.stderr);
    assert!(!d.is_locked(&ada).unwrap());
    assert!(d.bind_ok(&ada, "second-pass-2"));

    // Disabled is not locked.
    let alan = d
        .add_user(&NewUser {
            login: "alan",
            given_name: "Alan",
            surname: "Turing",
            email: None,
            password: "alan-pass-1",
        })
        .unwrap();
    d.disable(&alan).unwrap();
    assert!(d.is_disabled(&alan).unwrap());
    assert!(!d.is_locked(&alan).unwrap());
    assert!(!d.bind_ok(&alan, "alan-pass-1"));

    // Groups nest; the service account reads them.
    let staff = d.add_group("staff", &[&ada]).unwrap();
    let all = d.add_group("everyone", &[&staff, &alan]).unwrap();
    d.add_members(&d.admin_group, &[&alan]).unwrap();
    let groups = as_service(
        &svc,
        "ldapsearch",
        &["-LLL", "-b", &d.groups_dn, "(member=*)", "member"],
        None,
    );
    assert_eq!(groups.code, 0, "{}", groups.stderr);
    assert!(groups.stdout.contains(&all) && groups.stdout.contains(&d.admin_group_dn));
    let policy = as_service(
        &svc,
        "ldapsearch",
        &["-LLL", "-b", &d.policy_dn, "-s", "base", "pwdMinLength"],
        None,
    );
    assert!(
        policy.stdout.contains("pwdMinLength: 8"),
        "{}",
        policy.stdout
    );
    eprintln!(
        "slapd self-test done in {} ms",
        started.elapsed().as_millis()
    );
}

/// The LDIF that resets `dn`'s password and unlocks it, as SSPR does on AD.
fn ad_reset(dn: &str, password: &str) -> String {
    let quoted: Vec<u8> = format!("\"{password}\"")
        .encode_utf16()
        .flat_map(u16::to_le_bytes)
        .collect();
    let b64 = base64::engine::general_purpose::STANDARD.encode(quoted);
    format!(
        "dn: {dn}\nchangetype: modify\nreplace: unicodePwd\nunicodePwd:: {b64}\n-\n\
         replace: lockoutTime\nlockoutTime: 0\n-\n"
    )
}

#[test]
fn samba_fixture() {
    let started = Instant::now();
    let d = SambaDc::shared().unwrap();
    eprintln!(
        "SambaDc::shared() took {} ms",
        started.elapsed().as_millis()
    );
    eprintln!("delegation on {}: {}", d.users_dn, d.delegation_sddl);
    assert_eq!((SAMBA_LOCKOUT_THRESHOLD, SAMBA_MIN_LENGTH), (3, 7));
    assert!(d.host.starts_with("127.0.0.") && d.host != "127.0.0.1");

    let bob = d
        .add_user(&NewUser {
            login: "bob",
            given_name: "Bob",
            surname: "Builder",
            email: Some("bob@example.org"),
            password: "First-Pass-1",
        })
        .unwrap();
    assert_eq!(bob, format!("CN=Bob Builder,{}", d.users_dn));
    let upn = format!("bob@{}", d.realm.to_lowercase());
    assert!(d.bind_ok(&upn, "First-Pass-1"));
    assert!(d.bind_ok(&bob, "First-Pass-1"));
    assert!(!d.bind_ok(&upn, "Wrong-Pass-1"));
    let guid = d.object_guid(&bob).unwrap();
    assert_eq!(guid.len(), 36, "{guid}");

    // The delegated service account resets (and unlocks) over LDAPS.
    let svc = d.as_service();
    let reset = |dn: &str, pw: &str| as_service(&svc, "ldapmodify", &[], Some(&ad_reset(dn, pw)));
    let ok = reset(&bob, "Second-Pass-2");
    assert_eq!(ok.code, 0, "{}", ok.stderr);
    assert!(d.bind_ok(&upn, "Second-Pass-2"));
    assert!(!d.bind_ok(&upn, "First-Pass-1"));
    let short = reset(&bob, "Ab1!");
    eprintln!("samba, too short: {} {}", short.code, short.diagnostic());
    assert_eq!(short.code, 19);
    assert!(short.diagnostic().contains("the password is too short"));
    let simple = reset(&bob, "alllowercase");
    eprintln!(
        "samba, not complex: {} {}",
        simple.code,
        simple.diagnostic()
    );
    assert_eq!(simple.code, 19);
    let history = reset(&bob, "First-Pass-1");
    eprintln!(
        "samba, in history (admin reset): {} {}",
        history.code,
        history.diagnostic()
    );

    // Lockout; the reset above (lockoutTime: 0) is also how the service unlocks.
    d.lock_out(&upn).unwrap();
    assert!(d.is_locked(&bob).unwrap());
    let unlocked = reset(&bob, "Third-Pass-3");
    assert_eq!(unlocked.code, 0, "{}", unlocked.stderr);
    assert!(!d.is_locked(&bob).unwrap());
    assert!(d.bind_ok(&upn, "Third-Pass-3"));

    // Not for admins: the built-in Administrator and a new Domain Admin (SDProp emulated).
    let carol = d
        .add_user(&NewUser {
            login: "carol",
            given_name: "Carol",
            surname: "Shaw",
            email: None,
            password: "Carol-Pass-1",
        })
        .unwrap();
    d.add_members("Domain Admins", &["carol"]).unwrap();
    for admin in [&carol, &d.admin_dn] {
        let denied = reset(admin, "Admin-Reset-1");
        eprintln!(
            "samba, reset of {admin}: {} {}",
            denied.code,
            denied.diagnostic()
        );
        assert_eq!(denied.code, 50, "{}", denied.stderr);
    }
    assert!(
        d.bind_ok(&carol, "Carol-Pass-1"),
        "a denied reset changed nothing"
    );

    // Nested groups, seen through LDAP_MATCHING_RULE_IN_CHAIN.
    let staff = d.add_group("Staff", &["bob"]).unwrap();
    let outer = d.add_group("Everyone", &["Staff"]).unwrap();
    let chain = as_service(
        &svc,
        "ldapsearch",
        &[
            "-LLL",
            "-b",
            &d.base_dn,
            &format!("(member:1.2.840.113556.1.4.1941:={bob})"),
            "1.1",
        ],
        None,
    );
    eprintln!("in-chain search: code {}", chain.code);
    assert!(
        chain.stdout.contains(&staff) && chain.stdout.contains(&outer),
        "{}",
        chain.stdout
    );

    d.disable("bob").unwrap();
    assert!(d.is_disabled(&bob).unwrap());
    assert!(!d.bind_ok(&upn, "Third-Pass-3"));
    eprintln!(
        "samba self-test done in {} ms",
        started.elapsed().as_millis()
    );
}

#[test]
fn private_slapd_dies_restarts_and_cleans_up() {
    let d = Slapd::start().unwrap();
    let dn = d
        .add_user(&NewUser {
            login: "grace",
            given_name: "Grace",
            surname: "Hopper",
            email: None,
            password: "grace-pass-1",
        })
        .unwrap();
    assert!(d.bind_ok(&dn, "grace-pass-1"));
    d.kill();
    assert!(
        !d.bind_ok(&dn, "grace-pass-1"),
        "a killed slapd still answers"
    );
    d.restart().unwrap();
    assert!(d.bind_ok(&dn, "grace-pass-1"), "data survives a restart");
    d.stop();
    let dir = d.dir.clone();
    drop(d);
    assert!(!dir.exists(), "{} left behind", dir.display());
}

/// Kannel and its fake SMSC: a message sent through sendsms arrives, with sender, number
/// and text as sent.
#[tokio::test]
async fn kannel_fixture() {
    let started = Instant::now();
    let k = sspr_tests::kannel::Kannel::shared().unwrap();
    eprintln!("Kannel::shared() took {} ms", started.elapsed().as_millis());
    let url = format!(
        "{}/cgi-bin/sendsms?username={}&password={}&from=SSPR&to=%2B4915112345678&text=Your+code+is+123456",
        k.sendsms_url, k.username, k.password
    );
    let answer = reqwest::get(&url).await.unwrap().text().await.unwrap();
    assert!(answer.starts_with("0: Accepted"), "{answer}");
    let sms = k.message_to("+4915112345678", 1).await.unwrap();
    assert_eq!(sms.from, "SSPR");
    assert_eq!(sms.text, "Your code is 123456");
    let wrong = format!(
        "{}/cgi-bin/sendsms?username={}&password=wrong&from=SSPR&to=%2B491&text=x",
        k.sendsms_url, k.username
    );
    let refused = reqwest::get(&wrong).await.unwrap();
    assert!(!refused.status().is_success());
}
