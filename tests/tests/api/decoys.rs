//! Decoys: unknown, disabled and unregistered logins look like real ones, in the shares
//! real people have.

use sspr_tests::sspr_proto::{ErrorCode, FlowView, Intent, MethodKind};
use sspr_tests::TestServer;

use super::*;

#[tokio::test]
async fn unknown_disabled_and_unregistered_logins_look_like_real_ones() {
    let server = TestServer::start().await.expect("server");
    let kiosk = server.kiosk().await.expect("kiosk");
    let real = kiosk
        .start_flow(&start("ada", Intent::Reset))
        .await
        .expect("real");
    let shape = |f: &FlowView| {
        (
            f.methods.iter().map(|m| m.kind).collect::<Vec<_>>(),
            f.methods.iter().map(|m| m.id.clone()).collect::<Vec<_>>(),
            f.required,
            f.state,
            f.flow_id.len(),
            f.reference.len(),
        )
    };
    let admin = kiosk
        .start_flow(&start("alan", Intent::Reset))
        .await
        .expect("real administrator");
    let real_json: serde_json::Value = serde_json::to_value(&real).expect("json");
    for login in ["nobody", "nobody@example.org", "edsger", "barbara"] {
        let decoy = kiosk
            .start_flow(&start(login, Intent::Reset))
            .await
            .expect("decoy");
        // A decoy shows what a real person shows: here, staff or an administrator.
        assert!(
            shape(&decoy) == shape(&real) || shape(&decoy) == shape(&admin),
            "{login}: {decoy:?}"
        );
        let decoy_json: serde_json::Value = serde_json::to_value(&decoy).expect("json");
        let keys =
            |v: &serde_json::Value| v.as_object().map(|o| o.keys().cloned().collect::<Vec<_>>());
        assert_eq!(keys(&decoy_json), keys(&real_json), "{login}");
        let masked = &decoy
            .methods
            .iter()
            .find(|m| m.kind == MethodKind::Email)
            .expect("email")
            .masked;
        assert!(
            masked.contains("•••@") && masked.contains("•••."),
            "{masked}"
        );
        // The same login gets the same decoy every time.
        let again = kiosk
            .start_flow(&start(login, Intent::Reset))
            .await
            .expect("again");
        assert_eq!(again.methods, decoy.methods);

        // Asking for a code answers the same, but nothing is sent and no code fits.
        let before = server.mailbox.messages().len();
        let ch = kiosk
            .challenge(&decoy.flow_id, &method(&decoy, MethodKind::Email))
            .await
            .expect("decoy challenge");
        assert!(ch.sent_to.is_some());
        assert_eq!(ch.code_length, 6);
        let wrong = kiosk
            .verify(&decoy.flow_id, &ch.challenge_id, "123456")
            .await;
        assert_eq!(code_of(wrong), ErrorCode::CodeInvalid);
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        assert_eq!(server.mailbox.messages().len(), before, "a decoy sent mail");
    }
    // The audit tells the helpdesk which it was.
    let rows = server.audit(&["--user", "edsger"]).expect("audit");
    assert!(rows.iter().any(|r| r["detail"]
        .as_str()
        .unwrap_or_default()
        .contains("\"disabled\"")));
}

/// Decoys show what real people show, in the same shares: with approval enabled and no
/// passkey registered, no decoy offers approval; once Ada adds one, decoys offer it about
/// as often as people have it. Masked addresses end as real people's do, and a decoy's
/// answer is a real person's, byte for byte, but for its ids.
#[tokio::test]
async fn decoys_show_what_real_people_show_in_the_same_shares() {
    use sspr_tests::phone::Phone;
    let server =
        TestServer::with_config("[policy]\nmethods = [\"email\", \"totp\", \"approval\"]\n")
            .await
            .expect("server");
    let kiosk = server.kiosk().await.expect("kiosk");
    let kinds = |f: &FlowView| {
        (
            f.methods.iter().map(|m| m.kind).collect::<Vec<_>>(),
            f.required,
        )
    };
    let strip = |f: &FlowView| {
        let mut v = serde_json::to_value(f).expect("json");
        v["flow_id"] = "".into();
        v["reference"] = "".into();
        v["expires_in_secs"] = 0.into();
        // Whose address it is (edsger, disabled, stands in too: the store can't tell).
        for m in v["methods"].as_array_mut().expect("methods") {
            if m["kind"] == "email" {
                let masked = m["masked"].as_str().unwrap_or_default();
                m["masked"] = format!("?{}", masked.chars().skip(1).collect::<String>()).into();
            }
        }
        v.to_string()
    };
    let real = kiosk
        .start_flow(&start("ada", Intent::Reset))
        .await
        .expect("ada");
    let admin = kiosk
        .start_flow(&start("alan", Intent::Reset))
        .await
        .expect("alan");
    let grace = kiosk
        .start_flow(&start("grace", Intent::Reset))
        .await
        .expect("grace");
    assert!(!grace.methods.iter().any(|m| m.kind == MethodKind::Approval));
    let real_answers = [strip(&real), strip(&admin), strip(&grace)];

    let logins: Vec<String> = (0..120).map(|i| format!("someone{i}")).collect();
    let mut admins = 0;
    for login in &logins {
        let decoy = kiosk
            .start_flow(&start(login, Intent::Reset))
            .await
            .expect("decoy");
        assert!(
            kinds(&decoy) == kinds(&real) || kinds(&decoy) == kinds(&admin),
            "{login}: {decoy:?}"
        );
        assert!(
            real_answers.contains(&strip(&decoy)),
            "{login}'s decoy is no real person's answer: {}",
            strip(&decoy)
        );
        for m in decoy.methods.iter().filter(|m| m.kind == MethodKind::Email) {
            assert!(m.masked.ends_with("@h•••.net"), "{}", m.masked);
        }
        admins += usize::from(decoy.required == 2);
    }
    // Stand-ins: ada, grace and edsger (staff; the store can't tell edsger is disabled),
    // alan (administrator): a quarter of decoys look like an administrator. Binomial(120,
    // 1/4) under a random key: outside 8..=55 about once in a million runs.
    assert!(
        (8..=55).contains(&admins),
        "{admins} of 120 decoys were administrators"
    );

    // Ada adds a passkey: her real flow offers approval, and some decoys now do too.
    let mut phone = Phone::new(&server).expect("phone");
    phone
        .enroll(
            "ada",
            sspr_tests::ADA_PASSWORD,
            sspr_tests::ADA_TOTP,
            "Ada's phone",
        )
        .await
        .expect("passkey");
    let real = kiosk
        .start_flow(&start("ada", Intent::Reset))
        .await
        .expect("ada");
    assert!(real.methods.iter().any(|m| m.kind == MethodKind::Approval));
    let count = || async {
        let mut n = 0;
        for login in &logins {
            let decoy = kiosk
                .start_flow(&start(login, Intent::Reset))
                .await
                .expect("decoy");
            n += usize::from(decoy.methods.iter().any(|m| m.kind == MethodKind::Approval));
        }
        n
    };
    // The ring is read again in the background once a method changes: wait for it, then
    // count over a whole pass that started after it.
    for _ in 0..50 {
        if count().await > 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let with_approval = count().await;
    // Ada is one of the three staff stand-ins: about a quarter of all decoys.
    assert!(
        (10..=50).contains(&with_approval),
        "{with_approval} of 120 decoys offer approval"
    );
}
