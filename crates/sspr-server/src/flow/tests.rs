//! The flow's rules, each stepped on the test's clock against the in-memory store, the
//! built-in directory and a mailer that keeps its messages (`crate::testkit`). Each test
//! fails if its rule breaks.

use sspr_proto::{Delivery, FlowState as WireState, Intent, MethodKind, Outcome};

use super::{FlowError, Refusal};
use crate::methods::totp;
use crate::testkit::{error_of, Kit, NEW_PASSWORD, T0};

const EMAIL: &[MethodKind] = &[MethodKind::Email];
const BOTH: &[MethodKind] = &[MethodKind::Email, MethodKind::Totp];

#[tokio::test]
async fn a_code_lives_code_ttl_seconds_and_no_longer() {
    let kit = Kit::new().await;
    let ada = kit.person("ada", &[], EMAIL).await;
    let to = ada.alternate.as_deref().expect("address");
    let ttl = i64::from(kit.core.config().policy.code_ttl_secs);

    let flow = kit.start("ada", Intent::Reset, T0).await.expect("flow");
    let (ch, code) = kit.email_code(&flow, to, T0).await;
    let late = kit.verify(&flow, &ch, &code, T0 + ttl).await;
    assert!(matches!(error_of(late), FlowError::CodeExpired));

    let flow = kit.start("ada", Intent::Reset, T0).await.expect("flow");
    let (ch, code) = kit.email_code(&flow, to, T0).await;
    let just_in_time = kit
        .verify(&flow, &ch, &code, T0 + ttl - 1)
        .await
        .expect("verified a second before the code expires");
    assert_eq!(just_in_time.state, WireState::Verified);
}

#[tokio::test]
async fn a_flow_lives_flow_ttl_seconds_and_takes_no_step_after() {
    let kit = Kit::new().await;
    let ada = kit.person("ada", &[], EMAIL).await;
    let ttl = i64::from(kit.core.config().policy.flow_ttl_secs);
    let flow = kit.start("ada", Intent::Reset, T0).await.expect("flow");
    assert_eq!(flow.expires_in_secs as i64, ttl);
    let late = kit.challenge(&flow, MethodKind::Email, T0 + ttl).await;
    let e = late.expect_err("expired");
    assert!(matches!(e.error, FlowError::FlowExpired));
    assert_eq!(e.reference.as_deref(), Some(flow.reference.as_str()));
    assert!(kit
        .outbox
        .to(ada.alternate.as_deref().unwrap_or_default())
        .is_empty());
}

#[tokio::test]
async fn steps_come_in_their_order() {
    let kit = Kit::new().await;
    let ada = kit.person("ada", &[], EMAIL).await;
    let to = ada.alternate.as_deref().expect("address");
    let flow = kit.start("ada", Intent::Reset, T0).await.expect("flow");

    // No password before verifying.
    let early = kit.set_password(&flow, NEW_PASSWORD, T0).await;
    assert!(matches!(
        error_of(early),
        FlowError::Step(Refusal::NotVerified)
    ));

    let (ch, code) = kit.email_code(&flow, to, T0).await;
    kit.verify(&flow, &ch, &code, T0 + 1)
        .await
        .expect("verified");
    // Verified: no more challenges, and no unlock on a reset.
    let more = kit.challenge(&flow, MethodKind::Email, T0 + 2).await;
    assert!(matches!(
        error_of(more),
        FlowError::Step(Refusal::AlreadyVerified)
    ));
    let unlock = kit
        .flows
        .unlock(&Kit::caller(), &flow.flow_id, T0 + 2)
        .await;
    assert!(matches!(error_of(unlock), FlowError::UnlockNotOffered));

    let done = kit
        .set_password(&flow, NEW_PASSWORD, T0 + 3)
        .await
        .expect("set");
    assert_eq!(done.outcome, Outcome::PasswordReset);
    // Completed: nothing more, not even a cancel.
    let again = kit.set_password(&flow, NEW_PASSWORD, T0 + 4).await;
    assert!(matches!(
        error_of(again),
        FlowError::Step(Refusal::Completed)
    ));
    let cancel = kit
        .flows
        .cancel(&Kit::caller(), &flow.flow_id, T0 + 4)
        .await;
    assert!(matches!(
        error_of(cancel),
        FlowError::Step(Refusal::Completed)
    ));

    // A cancelled flow takes no step either.
    let flow = kit.start("ada", Intent::Reset, T0 + 5).await.expect("flow");
    kit.flows
        .cancel(&Kit::caller(), &flow.flow_id, T0 + 5)
        .await
        .expect("cancel");
    let after = kit.challenge(&flow, MethodKind::Email, T0 + 6).await;
    assert!(matches!(
        error_of(after),
        FlowError::Step(Refusal::Cancelled)
    ));
}

#[tokio::test]
async fn a_code_is_used_once_and_only_the_newest_counts() {
    // Two methods, so a verified code leaves the flow verifying.
    let kit = Kit::with(|c| {
        c.policy.resend_after_secs = 30;
        c.policy.methods_required = 2;
    })
    .await;
    let ada = kit.person("ada", &[], BOTH).await;
    let to = ada.alternate.as_deref().expect("address");

    let flow = kit.start("ada", Intent::Reset, T0).await.expect("flow");
    let (first, first_code) = kit.email_code(&flow, to, T0).await;
    // A resend waits for the cooldown.
    let soon = kit.challenge(&flow, MethodKind::Email, T0 + 10).await;
    assert!(matches!(error_of(soon), FlowError::ResendWait { wait: 20 }));
    let (second, second_code) = kit.email_code(&flow, to, T0 + 30).await;
    let old = kit.verify(&flow, &first, &first_code, T0 + 31).await;
    assert!(matches!(error_of(old), FlowError::NewerCodeSent));
    kit.verify(&flow, &second, &second_code, T0 + 31)
        .await
        .expect("the newest code");
    let twice = kit.verify(&flow, &second, &second_code, T0 + 32).await;
    assert!(matches!(
        error_of(twice),
        FlowError::Step(Refusal::CodeUsed)
    ));

    // An authenticator code is used once, across flows.
    let secret = ada.totp.as_deref().expect("totp");
    let now = T0 + 100;
    let code = totp::current_code(secret, now as u64).expect("code");
    let a = kit.start("ada", Intent::Reset, now).await.expect("flow a");
    let b = kit.start("ada", Intent::Reset, now).await.expect("flow b");
    for (flow, ok) in [(&a, true), (&b, false)] {
        let ch = kit
            .challenge(flow, MethodKind::Totp, now)
            .await
            .expect("challenge");
        let r = kit.verify(flow, &ch.challenge_id, &code, now).await;
        if ok {
            r.expect("first use");
        } else {
            assert!(matches!(
                error_of(r),
                FlowError::CodeInvalid { reused: true }
            ));
        }
    }
}

#[tokio::test]
async fn five_wrong_codes_block_the_person_for_block_secs() {
    let kit = Kit::new().await;
    let ada = kit.person("ada", &[], EMAIL).await;
    kit.person("alan", &[], EMAIL).await;
    let to = ada.alternate.as_deref().expect("address");
    let block = kit.core.config().throttle.block_secs as i64;
    let flow = kit.start("ada", Intent::Reset, T0).await.expect("flow");
    let (ch, code) = kit.email_code(&flow, to, T0).await;
    let wrong = if code == "000000" { "111111" } else { "000000" };
    for i in 0..4 {
        let r = kit.verify(&flow, &ch, wrong, T0 + i).await;
        assert!(matches!(
            error_of(r),
            FlowError::CodeInvalid { reused: false }
        ));
    }
    let fifth = kit.verify(&flow, &ch, wrong, T0 + 4).await;
    assert!(matches!(error_of(fifth), FlowError::Blocked { .. }));
    // The right code doesn't help now, and a new flow is refused too.
    let right = kit.verify(&flow, &ch, &code, T0 + 5).await;
    assert!(matches!(error_of(right), FlowError::Blocked { .. }));
    let again = kit.start("ada", Intent::Reset, T0 + 6).await;
    match error_of(again) {
        FlowError::Blocked { retry_after } => assert!(retry_after > block - 10),
        other => panic!("{other:?}"),
    }
    // Someone else isn't.
    kit.start("alan", Intent::Reset, T0 + 6)
        .await
        .expect("alan");
    // After the block, Ada may start again.
    kit.start("ada", Intent::Reset, T0 + 4 + block)
        .await
        .expect("after the block");
}

#[tokio::test]
async fn administrators_verify_two_methods_before_a_new_password() {
    let kit = Kit::new().await;
    let grace = kit.person("grace", &["Domain Admins"], BOTH).await;
    kit.person("linus", &["Domain Admins"], &[]).await;
    let to = grace.alternate.as_deref().expect("address");
    let flow = kit.start("grace", Intent::Reset, T0).await.expect("flow");
    assert_eq!(flow.required, 2);
    let (ch, code) = kit.email_code(&flow, to, T0).await;
    let one = kit.verify(&flow, &ch, &code, T0 + 1).await.expect("one");
    assert_eq!((one.state, one.done), (WireState::Verifying, 1));
    let early = kit.set_password(&flow, NEW_PASSWORD, T0 + 2).await;
    assert!(matches!(
        error_of(early),
        FlowError::Step(Refusal::NotVerified)
    ));
    // The same method twice doesn't count twice.
    let same = kit.challenge(&flow, MethodKind::Email, T0 + 60).await;
    assert!(matches!(
        error_of(same),
        FlowError::Step(Refusal::MethodDone)
    ));
    let now = T0 + 90;
    let ch = kit
        .challenge(&flow, MethodKind::Totp, now)
        .await
        .expect("totp");
    let code =
        totp::current_code(grace.totp.as_deref().expect("secret"), now as u64).expect("code");
    let two = kit
        .verify(&flow, &ch.challenge_id, &code, now)
        .await
        .expect("two");
    assert_eq!(two.state, WireState::Verified);
    kit.set_password(&flow, NEW_PASSWORD, now + 1)
        .await
        .expect("set");
    // The person is told at both addresses, and every administrator is told too.
    for to in [
        "grace@example.org",
        "grace@home.example.net",
        "linus@example.org",
    ] {
        assert!(kit.outbox.wait_for(to, "").await.is_some(), "{to} is told");
    }
}

#[tokio::test]
async fn an_unknown_login_gets_a_decoy_shaped_like_a_real_person_that_never_verifies() {
    let kit = Kit::new().await;
    kit.person("ada", &[], BOTH).await;
    let real = kit.start("ada", Intent::Reset, T0).await.expect("real");
    let decoy = kit.start("nobody", Intent::Reset, T0).await.expect("decoy");
    let kinds = |f: &sspr_proto::FlowView| f.methods.iter().map(|m| m.kind).collect::<Vec<_>>();
    assert_eq!(kinds(&decoy), kinds(&real));
    assert_eq!(decoy.required, real.required);
    assert_eq!(decoy.expires_in_secs, real.expires_in_secs);

    let sent_before = kit.outbox.all().len();
    let ch = kit
        .challenge(&decoy, MethodKind::Email, T0)
        .await
        .expect("a decoy's challenge answers as a real one");
    assert_eq!(ch.code_length, 6);
    assert_eq!(kit.outbox.all().len(), sent_before, "a decoy mails nobody");
    // No code fits, and wrong codes block it as they would a person.
    for i in 0..4 {
        let r = kit.verify(&decoy, &ch.challenge_id, "123456", T0 + i).await;
        assert!(matches!(
            error_of(r),
            FlowError::CodeInvalid { reused: false }
        ));
    }
    let fifth = kit.verify(&decoy, &ch.challenge_id, "123456", T0 + 4).await;
    assert!(matches!(error_of(fifth), FlowError::Blocked { .. }));
    let again = kit.start("nobody", Intent::Reset, T0 + 5).await;
    assert!(matches!(error_of(again), FlowError::Blocked { .. }));
}

#[tokio::test]
async fn a_stored_flow_that_doesnt_parse_is_an_error_not_a_default() {
    let kit = Kit::new().await;
    kit.person("ada", &[], EMAIL).await;
    let flow = kit.start("ada", Intent::Reset, T0).await.expect("flow");
    kit.core.store.flush().await;
    for (column, value) in [
        ("methods", "not json"),
        ("state", "paused"),
        ("intent", "reboot"),
    ] {
        let id = flow.flow_id.clone();
        let good: String = kit
            .core
            .store
            .db()
            .unwrap()
            .read(|c| {
                c.query_row(
                    &format!("SELECT {column} FROM flows WHERE id = ?"),
                    [&id],
                    |r| r.get(0),
                )
            })
            .expect("read");
        let set = |v: String| {
            let id = id.clone();
            kit.core.store.db().unwrap().write(move |c| {
                c.execute(
                    &format!("UPDATE flows SET {column} = ? WHERE id = ?"),
                    [v, id],
                )
            })
        };
        set(value.to_string()).expect("spoil");
        let r = kit.challenge(&flow, MethodKind::Email, T0 + 1).await;
        assert!(
            matches!(error_of(r), FlowError::Internal(_)),
            "{column} = {value:?} was read as something"
        );
        set(good).expect("mend");
    }
}

#[tokio::test]
async fn a_password_the_rules_refuse_changes_nothing_and_the_flow_may_try_again() {
    let kit = Kit::new().await;
    let ada = kit.person("ada", &[], EMAIL).await;
    let to = ada.alternate.as_deref().expect("address");
    let flow = kit.start("ada", Intent::Reset, T0).await.expect("flow");
    let (ch, code) = kit.email_code(&flow, to, T0).await;
    kit.verify(&flow, &ch, &code, T0 + 1)
        .await
        .expect("verified");
    let short = kit.set_password(&flow, "short", T0 + 2).await;
    match error_of(short) {
        FlowError::PasswordRejected(reasons) => assert!(!reasons.is_empty()),
        other => panic!("{other:?}"),
    }
    kit.set_password(&flow, NEW_PASSWORD, T0 + 3)
        .await
        .expect("then a good one");
}

/// A code by text message: sent to the registered number, verified like an emailed one,
/// five an hour at most (the phone methods' limit), and a decoy's number is masked alike.
#[tokio::test]
async fn a_texted_code_verifies_and_five_an_hour_is_the_limit() {
    let kit = Kit::with(|c| c.policy.methods = vec![MethodKind::Email, MethodKind::Sms]).await;
    kit.person("ada", &[], &[MethodKind::Sms]).await;
    let mobile = crate::testkit::mobile_of("ada");
    let flow = kit.start("ada", Intent::Reset, T0).await.expect("flow");
    let sms = flow
        .methods
        .iter()
        .find(|m| m.kind == MethodKind::Sms)
        .expect("sms offered");
    assert_eq!(
        sms.masked,
        format!("+49 ••• •••• {}", &mobile[mobile.len() - 2..])
    );
    let ch = kit
        .challenge(&flow, MethodKind::Sms, T0)
        .await
        .expect("texted");
    assert_eq!(
        ch.delivery,
        Some(Delivery::Sending),
        "sent after the answer"
    );
    assert_eq!(kit.delivered(&flow, &ch.challenge_id).await, Delivery::Sent);
    let code = kit.sms.last_code(&mobile).expect("a code was texted");
    let wrong = kit.verify(&flow, &ch.challenge_id, "000000", T0 + 1).await;
    assert!(matches!(error_of(wrong), FlowError::CodeInvalid { .. }));
    let done = kit
        .verify(&flow, &ch.challenge_id, &code, T0 + 2)
        .await
        .expect("verified");
    assert_eq!(done.state, WireState::Verified);
    // Four more texts within the hour pass (each after the resend wait); the sixth is
    // refused until the hour is over.
    let resend = i64::from(kit.core.config().policy.resend_after_secs);
    for i in 1..=4 {
        let f = kit
            .start("ada", Intent::Reset, T0 + i * resend)
            .await
            .expect("flow");
        let ch = kit
            .challenge(&f, MethodKind::Sms, T0 + i * resend)
            .await
            .unwrap_or_else(|e| panic!("text {}: {e:?}", i + 1));
        kit.delivered(&f, &ch.challenge_id).await;
    }
    let f = kit
        .start("ada", Intent::Reset, T0 + 5 * resend)
        .await
        .expect("flow");
    let sixth = kit.challenge(&f, MethodKind::Sms, T0 + 5 * resend).await;
    assert!(matches!(error_of(sixth), FlowError::RateLimited { .. }));
    // A login nobody has shows a number in the same shape, and nothing is sent.
    let decoy = kit
        .start("nobody-here", Intent::Reset, T0 + 3600)
        .await
        .expect("decoy");
    let masked = &decoy
        .methods
        .iter()
        .find(|m| m.kind == MethodKind::Sms)
        .expect("decoy sms")
        .masked;
    assert!(masked.starts_with("+49 ••• •••• ") && masked.len() == sms.masked.len());
}

/// A person as a directory that holds numbers finds them.
fn with_numbers(mobile: Option<&str>, office: Option<&str>) -> crate::directory::DirUser {
    crate::directory::DirUser {
        id: "id-dir".into(),
        dn: "id-dir".into(),
        username: "dir".into(),
        email: None,
        display_name: "Dir Person".into(),
        given_name: "Dir".into(),
        surname: "Person".into(),
        groups: Vec::new(),
        disabled: false,
        locked: false,
        password_changed_at: None,
        mobile: mobile.map(str::to_string),
        office_phone: office.map(str::to_string),
    }
}

/// What identify offers Ada (who registered `registered`; the directory holding a mobile
/// and an office number for her) with numbers from `sources`: (kind, where the code goes).
async fn offered_from(
    sources: &[crate::config::NumberSource],
    registered: &[MethodKind],
) -> Vec<(MethodKind, String)> {
    let sources = sources.to_vec();
    let kit = Kit::with(move |c| {
        c.policy.methods = vec![MethodKind::Email, MethodKind::Sms, MethodKind::Voice];
        c.policy.numbers_from = sources;
    })
    .await;
    let store = &kit.core.store;
    if registered.contains(&MethodKind::Voice) {
        // The kit registers no office numbers: this one as `directory register` would.
        store
            .add_registration(
                "id-ada",
                MethodKind::Voice,
                "+49301111111;ext=7",
                "Office",
                T0,
            )
            .await
            .expect("voice");
    }
    let others: Vec<MethodKind> = registered
        .iter()
        .copied()
        .filter(|k| *k != MethodKind::Voice)
        .collect();
    kit.person("ada", &[], &others).await;
    let rows = store.registrations("id-ada").await.expect("rows");
    let numbers = super::numbers::DirectoryNumbers::of(
        &with_numbers(Some("0160 9876 5432"), Some("030 1234567 ext. 89")),
        &kit.core.config().sms,
    );
    let decision = crate::policy::decide_for(&kit.core.config().policy, false);
    kit.flows
        .real_methods(&decision, &rows, &numbers)
        .into_iter()
        .map(|m| (m.kind, m.target))
        .collect()
}

/// Numbers for text messages and calls come from the sources the policy names: a
/// registered number wins over the directory's, the directory's stands in where none was
/// registered, and a source the policy doesn't name gives nothing (one method a kind).
#[tokio::test]
async fn numbers_come_from_the_policys_sources_and_a_registered_one_wins() {
    use crate::config::NumberSource::{Directory, Registered};
    let ada_mobile = crate::testkit::mobile_of("ada");
    let email = (MethodKind::Email, "ada@home.example.net".to_string());
    let dir_mobile = (MethodKind::Sms, "+4916098765432".to_string());
    let dir_office = (MethodKind::Voice, "+49301234567;ext=89".to_string());
    let own_mobile = (MethodKind::Sms, ada_mobile.clone());
    let own_office = (MethodKind::Voice, "+49301111111;ext=7".to_string());
    let all = &[MethodKind::Email, MethodKind::Sms, MethodKind::Voice];

    // Registered only (the default): the directory's numbers aren't offered.
    assert_eq!(
        offered_from(&[Registered], &[MethodKind::Email]).await,
        vec![email.clone()]
    );
    assert_eq!(
        offered_from(&[Registered], all).await,
        vec![email.clone(), own_mobile.clone(), own_office.clone()]
    );
    // Both: the directory's where nothing was registered, a registered number first.
    assert_eq!(
        offered_from(&[Registered, Directory], &[MethodKind::Email]).await,
        vec![email.clone(), dir_mobile.clone(), dir_office.clone()]
    );
    assert_eq!(
        offered_from(
            &[Directory, Registered],
            &[MethodKind::Email, MethodKind::Sms]
        )
        .await,
        vec![email.clone(), own_mobile, dir_office.clone()]
    );
    assert_eq!(
        offered_from(&[Registered, Directory], all).await,
        vec![email.clone(), (MethodKind::Sms, ada_mobile), own_office]
    );
    // The directory only: registered numbers are passed over (other methods are not).
    assert_eq!(
        offered_from(&[Directory], all).await,
        vec![email, dir_mobile, dir_office]
    );
}

/// A person whose only number comes from the directory is mirrored by decoys once their
/// identify was seen: decoys stand in for them (their shape counts the directory's
/// number) and show a number, nowhere to send to, as their flow does.
#[tokio::test]
async fn decoys_stand_in_for_people_whose_number_comes_from_the_directory() {
    use crate::config::NumberSource::{Directory, Registered};
    let kit = Kit::with(|c| {
        c.policy.methods = vec![MethodKind::Email, MethodKind::Sms];
        c.policy.numbers_from = vec![Registered, Directory];
    })
    .await;
    // Nobody registered anything: decoys are made up from every enabled method.
    kit.flows.refresh_stand_ins().await;
    let made_up = kit
        .start("nobody-1", Intent::Reset, T0)
        .await
        .expect("decoy");
    let kinds = |f: &sspr_proto::FlowView| f.methods.iter().map(|m| m.kind).collect::<Vec<_>>();
    assert_eq!(kinds(&made_up), vec![MethodKind::Email, MethodKind::Sms]);

    // Dora's identify found only a mobile number in the directory.
    let numbers = super::numbers::DirectoryNumbers::of(
        &with_numbers(Some("0160 9876 5432"), None),
        &kit.core.config().sms,
    );
    kit.flows
        .stand_ins
        .learn_directory_numbers("id-dora", &numbers);
    kit.flows.refresh_stand_ins().await;
    assert_eq!(kit.flows.stand_ins.len(), 1);
    for i in 0..20 {
        let decoy = kit
            .start(&format!("nobody-{i}"), Intent::Reset, T0)
            .await
            .expect("decoy");
        assert_eq!(kinds(&decoy), vec![MethodKind::Sms], "Dora's shape");
        assert!(decoy.methods[0].masked.starts_with("+49 ••• •••• "));
        let row = kit.core.store.flow(&decoy.flow_id).await.expect("read");
        assert!(row.expect("stored").methods[0].target.is_empty());
    }

    // Her number went from the directory: she no longer stands in.
    kit.flows
        .stand_ins
        .learn_directory_numbers("id-dora", &Default::default());
    kit.flows.refresh_stand_ins().await;
    assert!(kit.flows.stand_ins.is_empty());
}
