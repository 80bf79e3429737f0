//! The console's rules on a clock: sessions (15 minutes idle, 8 hours at most), the CSRF
//! token, the passkey asked again before a policy change, roles, and sign-ins that fail
//! alike whatever the reason.

use secrecy::SecretString;
use sspr_proto::{ConsoleRole, MethodKind, PolicyChange};

use super::session::{Active, Session};
use super::*;
use crate::testkit::{Kit, PASSWORD, T0};

fn console_groups(c: &mut crate::config::Config) {
    c.console.admin_groups = vec!["SSPR Admins".into()];
    c.console.helpdesk_groups = vec!["Helpdesk".into()];
    c.console.reader_groups = vec!["Auditors".into()];
}

/// A signed-in session for `username` (what the passkey step leaves), with its cookie.
pub(super) async fn signed_in(
    kit: &Kit,
    username: &str,
    roles: &[ConsoleRole],
    at: i64,
) -> (String, String) {
    let cookie = format!("cookie-of-{username}");
    let csrf = format!("csrf-of-{username}");
    let user = crate::directory::DirUser {
        id: format!("id-{username}"),
        dn: username.into(),
        username: username.into(),
        email: None,
        display_name: username.into(),
        given_name: username.into(),
        surname: "Test".into(),
        groups: Vec::new(),
        disabled: false,
        locked: false,
        password_changed_at: None,
        mobile: None,
        office_phone: None,
    };
    let session = Session::Active(Active {
        user,
        roles: roles.to_vec(),
        csrf: csrf.clone(),
        signed_in_at: at,
        last_used_at: at,
        passkey_at: at,
        reauth: None,
    });
    kit.console
        .sessions
        .insert(&cookie, &session)
        .await
        .expect("keeping a session");
    (cookie, csrf)
}

async fn call(kit: &Kit, cookie: &str, csrf: Option<&str>, now: i64) -> ConsoleResult<Caller> {
    kit.console
        .caller(cookie, csrf, "test", "192.0.2.7", now)
        .await
}

#[tokio::test]
async fn a_session_ends_after_fifteen_idle_minutes_and_after_eight_hours_however_busy() {
    let kit = Kit::with_passkeys(console_groups).await;
    let (cookie, _) = signed_in(&kit, "linus", &[ConsoleRole::Admin], T0).await;
    // Used every 14 minutes, it lives on...
    let mut now = T0;
    while now + 14 * 60 < T0 + MAX_SECS {
        now += 14 * 60;
        assert!(
            call(&kit, &cookie, None, now).await.is_ok(),
            "at {}",
            now - T0
        );
    }
    // ...until eight hours after signing in.
    assert!(matches!(
        call(&kit, &cookie, None, T0 + MAX_SECS).await,
        Err(ConsoleError::NoSession)
    ));
    let (cookie, _) = signed_in(&kit, "hedy", &[ConsoleRole::Helpdesk], T0).await;
    assert!(call(&kit, &cookie, None, T0 + IDLE_SECS - 1).await.is_ok());
    assert!(matches!(
        call(&kit, &cookie, None, T0 + 2 * IDLE_SECS).await,
        Err(ConsoleError::NoSession)
    ));
    assert!(matches!(
        call(&kit, "a cookie nobody was given", None, T0).await,
        Err(ConsoleError::NoSession)
    ));
}

#[tokio::test]
async fn a_state_changing_call_needs_its_own_sessions_csrf_token() {
    let kit = Kit::with_passkeys(console_groups).await;
    let (cookie, csrf) = signed_in(&kit, "linus", &[ConsoleRole::Admin], T0).await;
    let (_, other) = signed_in(&kit, "hedy", &[ConsoleRole::Helpdesk], T0).await;
    assert!(call(&kit, &cookie, Some(&csrf), T0).await.is_ok());
    for wrong in ["", "csrf-of-linu", other.as_str()] {
        assert!(
            matches!(
                call(&kit, &cookie, Some(wrong), T0).await,
                Err(ConsoleError::Csrf)
            ),
            "{wrong:?}"
        );
    }
    // Reading needs none.
    assert!(call(&kit, &cookie, None, T0).await.is_ok());
}

#[tokio::test]
async fn a_policy_change_wants_the_passkey_within_five_minutes_and_an_admin() {
    let kit = Kit::with_passkeys(console_groups).await;
    kit.core
        .apply_latest_policy(T0)
        .await
        .expect("first version");
    let (cookie, csrf) = signed_in(&kit, "linus", &[ConsoleRole::Admin], T0).await;
    let change = |base| PolicyChange {
        base_version: base,
        changes: serde_json::json!({ "helpdesk": { "phone": "+49 30 999" } }),
    };
    let admin = call(&kit, &cookie, Some(&csrf), T0 + REAUTH_SECS)
        .await
        .expect("caller");
    let saved = kit
        .console
        .save_policy(&admin, change(1), T0 + REAUTH_SECS)
        .await
        .expect("saved within five minutes");
    assert_eq!(saved.version, 2);
    assert_eq!(saved.saved_by, "linus (console, 192.0.2.7)");
    assert_eq!(
        kit.core.config().helpdesk.phone.as_deref(),
        Some("+49 30 999"),
        "in force at once"
    );
    let later = call(&kit, &cookie, Some(&csrf), T0 + REAUTH_SECS + 1)
        .await
        .expect("caller");
    assert!(matches!(
        kit.console
            .save_policy(&later, change(2), later_now())
            .await,
        Err(ConsoleError::Reauth)
    ));
    // A stale base version changes nothing.
    assert!(matches!(
        kit.console.save_policy(&admin, change(1), T0).await,
        Err(ConsoleError::PolicyChanged)
    ));
    // A policy nobody could pass is refused with reasons.
    let bad = PolicyChange {
        base_version: 2,
        changes: serde_json::json!({ "policy": { "methods": [] } }),
    };
    match kit.console.save_policy(&admin, bad, T0).await {
        Err(ConsoleError::PolicyInvalid(p)) => {
            assert!(p.iter().any(|p| p.contains("at least one method")), "{p:?}")
        }
        other => panic!("{other:?}"),
    }
    // The helpdesk reads the policy and can't change it.
    let (hc, hcsrf) = signed_in(&kit, "hedy", &[ConsoleRole::Helpdesk], T0).await;
    let helpdesk = call(&kit, &hc, Some(&hcsrf), T0).await.expect("caller");
    assert!(
        kit.console
            .policy(&helpdesk)
            .await
            .expect("reads")
            .read_only
    );
    assert!(matches!(
        kit.console.save_policy(&helpdesk, change(2), T0).await,
        Err(ConsoleError::Forbidden(_))
    ));
    assert_eq!(kit.core.policy_version(), 2);
}

fn later_now() -> i64 {
    T0 + REAUTH_SECS + 1
}

#[tokio::test]
async fn policy_read_only_shows_the_policy_and_refuses_every_change() {
    let kit = Kit::with_passkeys(|c| {
        console_groups(c);
        c.console.policy_read_only = true;
    })
    .await;
    kit.core
        .apply_latest_policy(T0)
        .await
        .expect("first version");
    let (cookie, csrf) = signed_in(&kit, "linus", &[ConsoleRole::Admin], T0).await;
    let admin = call(&kit, &cookie, Some(&csrf), T0).await.expect("caller");
    assert!(kit.console.policy(&admin).await.expect("reads").read_only);
    let change = PolicyChange {
        base_version: 1,
        changes: serde_json::json!({ "policy": { "methods_required": 2 } }),
    };
    assert!(matches!(
        kit.console.save_policy(&admin, change, T0).await,
        Err(ConsoleError::PolicyReadOnly)
    ));
}

#[tokio::test]
async fn roles_come_from_groups_and_each_may_do_its_own() {
    let config = {
        let mut c = crate::config::Config::default();
        console_groups(&mut c);
        c.console
    };
    let groups = |g: &[&str]| g.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    assert_eq!(roles_of(&config, &groups(&["Staff"])), vec![]);
    assert_eq!(
        roles_of(&config, &groups(&["staff", "sspr admins", "AUDITORS"])),
        vec![ConsoleRole::Admin, ConsoleRole::Reader]
    );
    let kit = Kit::with_passkeys(console_groups).await;
    let (rc, _) = signed_in(&kit, "ken", &[ConsoleRole::Reader], T0).await;
    let reader = call(&kit, &rc, None, T0).await.expect("caller");
    assert!(kit.console.overview(&reader, T0).await.is_ok());
    for denied in [
        kit.console
            .audit_page(&reader, &Default::default(), None, None)
            .await
            .err(),
        kit.console.kiosks(&reader, T0).await.err(),
        kit.console.attempt(&reader, "K7Q4-M2XD", T0).await.err(),
    ] {
        assert!(
            matches!(denied, Some(ConsoleError::Forbidden(_))),
            "{denied:?}"
        );
    }
}

/// Every failed sign-in runs the same two steps: the password step answers a passkey
/// request of one shape, the passkey step one error, and each failure counts alike: the
/// fifth blocks, whoever the login is.
#[tokio::test]
async fn failed_sign_ins_are_answered_and_counted_alike_whatever_the_reason() {
    let kit = Kit::with_passkeys(console_groups).await;
    // In a console group, but no passkey; a passkey but no console group.
    kit.person("grace", &["SSPR Admins"], &[MethodKind::Email])
        .await;
    kit.person("margaret", &["SSPR Admins"], &[MethodKind::Email])
        .await;
    kit.person("ken", &["Staff"], &[MethodKind::Totp, MethodKind::Approval])
        .await;
    let cases = [
        ("nobody-here", PASSWORD),
        ("grace", "not her password"),
        ("margaret", PASSWORD),
        ("ken", PASSWORD),
    ];
    let bogus = serde_json::json!({ "id": "x", "rawId": "x", "type": "public-key",
        "response": { "authenticatorData": "", "clientDataJSON": "", "signature": "" } });
    for (login, password) in cases {
        let mut shapes = Vec::new();
        for attempt in 1..=5 {
            let now = T0 + attempt;
            let step = kit
                .console
                .sign_in(login, SecretString::from(password), now)
                .await
                .unwrap_or_else(|e| panic!("{login}: the password step answers alike: {e:?}"));
            let keys: Vec<String> = step.passkey.options["publicKey"]
                .as_object()
                .map(|o| o.keys().cloned().collect())
                .unwrap_or_default();
            shapes.push(keys);
            let failed = kit
                .console
                .sign_in_passkey("test", "192.0.2.7", &step.cookie, &bogus, now)
                .await
                .err();
            if attempt < 5 {
                assert!(
                    matches!(failed, Some(ConsoleError::SignInFailed)),
                    "{login} #{attempt}: {failed:?}"
                );
            } else {
                assert!(
                    matches!(failed, Some(ConsoleError::Blocked { .. })),
                    "{login}: the fifth failure blocks: {failed:?}"
                );
            }
        }
        assert!(
            shapes.windows(2).all(|w| w[0] == w[1]),
            "{login}: {shapes:?}"
        );
        assert!(
            shapes[0].contains(&"allowCredentials".to_string()),
            "{shapes:?}"
        );
        // Blocked now: the password step says so, for everyone alike.
        assert!(matches!(
            kit.console
                .sign_in(login, SecretString::from(password), T0 + 10)
                .await,
            Err(ConsoleError::Blocked { .. })
        ));
    }
    // The passkey step without the password step.
    assert!(matches!(
        kit.console
            .sign_in_passkey("test", "192.0.2.7", "no-such-cookie", &bogus, T0)
            .await,
        Err(ConsoleError::SignInFirst)
    ));
}

#[tokio::test]
async fn password_rules_saved_in_the_console_apply_to_the_next_password() {
    let kit = Kit::with_passkeys(console_groups).await;
    kit.core
        .apply_latest_policy(T0)
        .await
        .expect("first version");
    let (cookie, csrf) = signed_in(&kit, "linus", &[ConsoleRole::Admin], T0).await;
    let admin = call(&kit, &cookie, Some(&csrf), T0).await.expect("caller");
    let candidate = "Contoso-Fabrikam-2026";
    assert!(kit.core.passwords().check(candidate, None).is_empty());
    let view = kit
        .console
        .save_policy(
            &admin,
            PolicyChange {
                base_version: 1,
                changes: serde_json::json!({ "password": {
                    "min_length": 20, "banned": ["Contoso", "Fabrikam"] } }),
            },
            T0,
        )
        .await
        .expect("saved");
    assert_eq!(view.document["password"]["min_length"], 20);
    let reasons = kit.core.passwords().check(candidate, None);
    assert!(
        reasons
            .iter()
            .any(|r| r.code == sspr_proto::PasswordReasonCode::Banned),
        "{reasons:?}"
    );
    let short = kit.core.passwords().check("sixteen chars ok", None);
    assert!(
        short
            .iter()
            .any(|r| r.code == sspr_proto::PasswordReasonCode::TooShort),
        "{short:?}"
    );
    // Bounds out of range, or a list too long, change nothing.
    for bad in [
        serde_json::json!({ "password": { "min_length": 4 } }),
        serde_json::json!({ "password": { "banned": ["abc"] } }),
        serde_json::json!({ "password": { "banned": vec!["x".repeat(65)] } }),
        serde_json::json!({ "password": { "banned": vec!["term"; 5001] } }),
    ] {
        let refused = kit
            .console
            .save_policy(
                &admin,
                PolicyChange {
                    base_version: 2,
                    changes: bad.clone(),
                },
                T0,
            )
            .await;
        assert!(
            matches!(refused, Err(ConsoleError::PolicyInvalid(_))),
            "{bad}: {refused:?}"
        );
    }
    assert_eq!(kit.core.policy_version(), 2);
}

/// The helpdesk finds an attempt by its reference once its flow row is gone (a day on):
/// from the flows started, then the rows of its life.
#[tokio::test]
async fn an_attempt_is_found_by_its_reference_after_its_flow_row_went() {
    let kit = Kit::with_passkeys(console_groups).await;
    let ctx = |reference: &str| crate::audit::Context {
        correlation_id: "c".into(),
        kiosk_id: Some("kiosk-1".into()),
        reference: Some(reference.into()),
        login: Some("ada".into()),
        user_id: Some("id-ada".into()),
    };
    let audit = &kit.core.audit;
    use crate::audit::Event;
    for (reference, at) in [("AAAA-BBBB", T0), ("CCCC-DDDD", T0 + 60)] {
        audit
            .record(
                &ctx(reference),
                Event::FlowStarted {
                    intent: "reset",
                    required: 1,
                    decoy: false,
                    reason: None,
                },
                at,
            )
            .await;
        audit
            .record(
                &ctx(reference),
                Event::VerifyFailed {
                    method: MethodKind::Email,
                    reason: "wrong_code",
                },
                at + 30,
            )
            .await;
    }
    audit
        .record(
            &ctx("AAAA-BBBB"),
            Event::Blocked {
                scope: "user",
                until: crate::audit::rfc3339(T0 + 86_400),
            },
            T0 + 31,
        )
        .await;
    audit.flush().await;
    let (cookie, _) = signed_in(&kit, "hedy", &[ConsoleRole::Helpdesk], T0).await;
    let helpdesk = call(&kit, &cookie, None, T0).await.expect("caller");
    let a = kit
        .console
        .attempt(&helpdesk, "aaaa-bbbb", T0 + 120)
        .await
        .expect("found");
    assert_eq!(
        a.events
            .iter()
            .map(|e| e.event.as_str())
            .collect::<Vec<_>>(),
        vec!["flow_started", "verify_failed", "blocked"]
    );
    assert_eq!(a.outcome, "blocked");
    assert_eq!(a.failed_at.as_deref(), Some("verifying (blocked)"));
    assert!(a.blocked_until.is_some(), "the block is in force");
    assert!(matches!(
        kit.console.attempt(&helpdesk, "ZZZZ-ZZZZ", T0).await,
        Err(ConsoleError::NotFound(_))
    ));
    assert!(matches!(
        kit.console.attempt(&helpdesk, "<script>", T0).await,
        Err(ConsoleError::BadInput(_))
    ));
}
