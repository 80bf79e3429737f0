//! "My security info"'s rules on the test's clock (`crate::testkit`).

use secrecy::SecretString;
use sspr_proto::{Intent, MethodKind, SecondFactorFinish};

use super::{MyError, SignedIn, SESSION_SECS};
use crate::testkit::{Kit, PASSWORD, T0};

const DAY: i64 = 86_400;

async fn sign_in(kit: &Kit, login: &str, password: &str, now: i64) -> Result<SignedIn, MyError> {
    kit.my
        .sign_in("test", login, SecretString::from(password), None, now)
        .await
}

/// The `n`-th code mailed to `to` (codes are mailed on a task of their own).
async fn nth_code(kit: &Kit, to: &str, n: usize) -> String {
    for _ in 0..500 {
        if let Some(code) = kit.outbox.codes(to).get(n - 1) {
            return code.clone();
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    panic!("no code {n} to {to}");
}

fn finish(code: &str) -> SecondFactorFinish {
    SecondFactorFinish {
        code: Some(code.to_string()),
        credential: None,
    }
}

/// Signs in with the password and the emailed code (the `n`-th message to `to`).
async fn sign_in_fully(kit: &Kit, login: &str, to: &str, n: usize, now: i64) -> SignedIn {
    let s = sign_in(kit, login, PASSWORD, now).await.expect("password");
    assert!(!s.view.signed_in);
    let method = s.view.second_factor[0].id.clone();
    kit.my
        .second_start(&s.cookie, &method, now)
        .await
        .expect("sent");
    let code = nth_code(kit, to, n).await;
    let view = kit
        .my
        .second_finish("test", &s.cookie, &finish(&code), now)
        .await
        .expect("verified");
    SignedIn {
        cookie: s.cookie,
        view,
    }
}

#[tokio::test]
async fn a_session_lasts_fifteen_minutes() {
    let kit = Kit::new().await;
    kit.person("ada", &[], &[]).await;
    // Nothing registered: the password alone signs in.
    let s = sign_in(&kit, "ada", PASSWORD, T0).await.expect("signed in");
    assert!(s.view.signed_in);
    kit.my
        .session(&s.cookie, T0 + SESSION_SECS - 1)
        .await
        .expect("alive");
    let over = kit.my.session(&s.cookie, T0 + SESSION_SECS).await;
    assert!(matches!(over, Err(MyError::NoSession)));
    let forged = kit.my.session("not-a-cookie", T0).await;
    assert!(matches!(forged, Err(MyError::NoSession)));
}

#[tokio::test]
async fn a_person_with_methods_verifies_one_before_changing_any() {
    let kit = Kit::new().await;
    let ada = kit.person("ada", &[], &[MethodKind::Email]).await;
    let to = ada.alternate.as_deref().expect("address");
    let s = sign_in(&kit, "ada", PASSWORD, T0).await.expect("password");
    assert!(!s.view.signed_in);
    let early = kit.my.review("test", &s.cookie, T0).await;
    assert!(matches!(early, Err(MyError::SecondFactorNeeded)));
    let method = s.view.second_factor[0].id.clone();

    // A code lives five minutes.
    kit.my
        .second_start(&s.cookie, &method, T0)
        .await
        .expect("sent");
    let code = nth_code(&kit, to, 1).await;
    let late = kit
        .my
        .second_finish("test", &s.cookie, &finish(&code), T0 + 5 * 60)
        .await;
    assert!(matches!(late, Err(MyError::CodeExpired)));

    // A fresh one, in time.
    let now = T0 + 6 * 60;
    kit.my
        .second_start(&s.cookie, &method, now)
        .await
        .expect("sent");
    let code = nth_code(&kit, to, 2).await;
    let view = kit
        .my
        .second_finish("test", &s.cookie, &finish(&code), now + 60)
        .await
        .expect("verified");
    assert!(view.signed_in);
    kit.my
        .review("test", &s.cookie, now + 61)
        .await
        .expect("now it may");
}

#[tokio::test]
async fn wrong_passwords_block_signing_in_here_for_unknown_logins_alike_but_not_the_kiosk() {
    let kit = Kit::new().await;
    kit.person("ada", &[], &[MethodKind::Email]).await;
    for login in ["ada", "nobody"] {
        for i in 0..4 {
            let r = sign_in(&kit, login, "not the password", T0 + i).await;
            assert!(
                matches!(r, Err(MyError::WrongSignIn)),
                "{login}: {:?}",
                r.err()
            );
        }
        let fifth = sign_in(&kit, login, "not the password", T0 + 4).await;
        assert!(matches!(fifth, Err(MyError::Blocked { .. })), "{login}");
        // The right password doesn't help while blocked.
        let right = sign_in(&kit, login, PASSWORD, T0 + 5).await;
        assert!(matches!(right, Err(MyError::Blocked { .. })), "{login}");
    }
    // This page's counters are its own: the kiosk still serves Ada.
    kit.start("ada", Intent::Reset, T0 + 6)
        .await
        .expect("kiosk");
}

#[tokio::test]
async fn methods_are_reviewed_every_reconfirm_days() {
    let kit = Kit::with(|c| c.policy.reconfirm_days = 30).await;
    kit.person("ada", &[], &[]).await;
    let s = sign_in(&kit, "ada", PASSWORD, T0).await.expect("signed in");
    // Nothing registered, nothing to review.
    assert!(!s.view.review_due);
    let nothing = kit.my.review("test", &s.cookie, T0).await;
    assert!(matches!(nothing, Err(MyError::NothingToConfirm)));

    // Ada adds an address (which counts as looking her methods over).
    kit.my
        .email_start(&s.cookie, "ada@home.example.net", T0)
        .await
        .expect("sent");
    let to = "ada@home.example.net";
    let code = nth_code(&kit, to, 1).await;
    let added = kit
        .my
        .email_finish("test", &s.cookie, &code, T0 + 1)
        .await
        .expect("added");
    assert_eq!(added.methods.len(), 1);
    kit.my
        .review("test", &s.cookie, T0 + 2)
        .await
        .expect("reviewed");

    // A day short of the period: not asked; on the day: asked, until she confirms.
    let before = sign_in_fully(&kit, "ada", to, 2, T0 + 2 + 30 * DAY - 1).await;
    assert!(!before.view.review_due);
    let due_at = T0 + 2 + 30 * DAY;
    let due = sign_in_fully(&kit, "ada", to, 3, due_at).await;
    assert!(due.view.review_due);
    let confirmed = kit
        .my
        .review("test", &due.cookie, due_at + 1)
        .await
        .expect("confirmed");
    assert!(!confirmed.review_due);
}

#[test]
fn a_review_is_due_the_configured_days_after_the_last_one() {
    use super::review_due;
    let now = 1_000 * DAY;
    assert!(!review_due(Some(now - 30 * DAY + 1), 30, now));
    assert!(review_due(Some(now - 30 * DAY), 30, now));
    // Never asked when the policy says 0, nor of someone with nothing registered.
    assert!(!review_due(Some(0), 0, now));
    assert!(!review_due(None, 30, now));
}

/// A mobile number added on the page: checked, confirmed by a texted code (three tries),
/// kept in E.164 (a new one replaces the old), then a way to sign in here too.
#[tokio::test]
async fn a_mobile_number_is_confirmed_by_a_texted_code_and_then_signs_in() {
    let kit = Kit::with(|c| c.policy.methods = vec![MethodKind::Email, MethodKind::Sms]).await;
    kit.person("ada", &[], &[]).await;
    let s = sign_in(&kit, "ada", PASSWORD, T0).await.expect("signed in");
    for bad in ["030 1234567", "0900 1234567", "+44 7400 123456", "hello"] {
        let refused = kit.my.mobile_start(&s.cookie, bad, T0).await;
        assert!(matches!(refused, Err(MyError::PhoneNumber(_))), "{bad}");
    }
    let early = kit.my.mobile_finish("test", &s.cookie, "123456", T0).await;
    assert!(matches!(early, Err(MyError::EnterNumberFirst)));
    kit.my
        .mobile_start(&s.cookie, "0151 2345 6789", T0)
        .await
        .expect("texted");
    let code = kit.sms.last_code("+4915123456789").expect("a code texted");
    let wrong = kit.my.mobile_finish("test", &s.cookie, "000000", T0).await;
    assert!(matches!(wrong, Err(MyError::MobileCode)));
    let view = kit
        .my
        .mobile_finish("test", &s.cookie, &code, T0 + 1)
        .await
        .expect("confirmed");
    let sms = view
        .methods
        .iter()
        .find(|m| m.kind == MethodKind::Sms)
        .expect("listed");
    assert_eq!(sms.detail, "+4915123456789");
    let told = kit
        .outbox
        .wait_for("ada@example.org", "security info")
        .await
        .expect("ada is told");
    assert!(told.body.contains("+49 ••• •••• 89"), "{}", told.body);

    // Next time, the texted code is the second step.
    let again = sign_in(&kit, "ada", PASSWORD, T0 + 100)
        .await
        .expect("password");
    let method = again
        .view
        .second_factor
        .iter()
        .find(|m| m.kind == MethodKind::Sms)
        .expect("sms as second step")
        .clone();
    assert_eq!(method.masked, "+49 ••• •••• 89");
    let challenge = kit
        .my
        .second_start(&again.cookie, &method.id, T0 + 100)
        .await
        .expect("texted");
    assert_eq!(challenge.sent_to.as_deref(), Some("+49 ••• •••• 89"));
    let code = kit.sms.last_code("+4915123456789").expect("second code");
    let view = kit
        .my
        .second_finish("test", &again.cookie, &finish(&code), T0 + 101)
        .await
        .expect("signed in by text message");
    assert!(view.signed_in);
}

/// An office number added on the page is confirmed by a call that reads the code out (its
/// extension dialled), then signs in here by call too.
#[tokio::test]
async fn an_office_number_is_confirmed_by_a_call() {
    let kit = Kit::with(|c| c.policy.methods = vec![MethodKind::Email, MethodKind::Voice]).await;
    kit.person("ada", &[], &[]).await;
    let s = sign_in(&kit, "ada", PASSWORD, T0).await.expect("signed in");
    assert!(s.view.can_add.contains(&MethodKind::Voice));
    let refused = kit.my.office_start(&s.cookie, "0900 1234567", T0).await;
    assert!(matches!(refused, Err(MyError::PhoneNumber(_))));
    kit.my
        .office_start(&s.cookie, "030 1234567 ext. 89", T0)
        .await
        .expect("called");
    let twiml = kit
        .calls
        .last_text("+49301234567;ext=89")
        .expect("a call to the number and extension");
    let said = twiml.split("<Say").nth(1).unwrap_or_default();
    let said = said.split_once('>').map(|(_, w)| w).unwrap_or_default();
    let code: String = said
        .split("</Say>")
        .next()
        .unwrap_or_default()
        .chars()
        .filter(char::is_ascii_digit)
        .collect();
    assert_eq!(code.len(), 6, "{twiml}");
    let view = kit
        .my
        .office_finish("test", &s.cookie, &code, T0 + 1)
        .await
        .expect("confirmed");
    assert!(view
        .methods
        .iter()
        .any(|m| m.kind == MethodKind::Voice && m.detail == "+49301234567;ext=89"));
}

/// A page signed in from a Polish browser gets its code text and its change notice in
/// Polish, while the organisation's default stays English.
#[tokio::test]
async fn the_browsers_language_at_sign_in_is_the_language_of_texts_and_notices() {
    let kit = Kit::with(|c| c.policy.methods = vec![MethodKind::Email, MethodKind::Sms]).await;
    kit.person("ada", &[], &[]).await;
    let s = kit
        .my
        .sign_in(
            "test",
            "ada",
            SecretString::from(PASSWORD),
            Some(crate::lang::Lang::Pl),
            T0,
        )
        .await
        .expect("signed in");
    kit.my
        .mobile_start(&s.cookie, "0151 2345 6789", T0)
        .await
        .expect("texted");
    let text = kit.sms.last_text("+4915123456789").expect("a text");
    assert!(text.contains("to Twoj kod"), "{text}");
    let code = kit.sms.last_code("+4915123456789").expect("a code texted");
    kit.my
        .mobile_finish("test", &s.cookie, &code, T0 + 1)
        .await
        .expect("confirmed");
    let told = kit
        .outbox
        .wait_for("ada@example.org", "informacje zabezpieczające")
        .await
        .expect("ada is told, in Polish");
    assert!(
        told.body
            .contains("Do Twojego konta dodano numer komórkowy +49 ••• •••• 89"),
        "{}",
        told.body
    );
    assert!(told.body.contains(" UTC)"), "{}", told.body);
}
