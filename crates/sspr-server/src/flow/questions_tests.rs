//! Security questions at the kiosk, stepped on the test's clock (`crate::testkit`).

use sspr_proto::{FlowState as WireState, Intent, MethodKind};

use super::FlowError;
use crate::testkit::{error_of, Kit, T0};

const EMAIL_AND_QUESTIONS: &[MethodKind] = &[MethodKind::Email, MethodKind::Questions];

async fn kit() -> Kit {
    Kit::with(|c| {
        c.policy.methods = vec![MethodKind::Email, MethodKind::Totp, MethodKind::Questions];
        c.policy.methods_required = 2;
    })
    .await
}

/// Questions and an emailed code reset a password; the answers are compared as typed
/// again (case, width, spaces), and asking again asks the same questions.
#[tokio::test]
async fn questions_and_an_email_code_verify() {
    let kit = kit().await;
    let ada = kit.person("ada", &[], EMAIL_AND_QUESTIONS).await;
    let flow = kit.start("ada", Intent::Reset, T0).await.expect("flow");
    assert_eq!(flow.required, 2);
    let ch = kit
        .challenge(&flow, MethodKind::Questions, T0)
        .await
        .expect("questions");
    assert_eq!(ch.questions.len(), 3, "policy.questions.ask");
    assert_eq!(ch.code_length, 0);
    assert!(ch.sent_to.is_none());
    let again = kit
        .challenge(&flow, MethodKind::Questions, T0 + 1)
        .await
        .expect("again");
    assert_eq!(again.questions, ch.questions, "the same questions");
    let answers: Vec<String> = again
        .questions
        .iter()
        .map(|q| format!("  {}  ", kit.right_answer(q).to_uppercase()))
        .collect();
    let answers: Vec<&str> = answers.iter().map(String::as_str).collect();
    let one = kit
        .answer(&flow, &again.challenge_id, &answers, T0 + 2)
        .await
        .expect("right answers");
    assert_eq!(one.done, 1);
    assert_eq!(one.state, WireState::Verifying);
    let to = ada.alternate.as_deref().expect("address");
    let (ch, code) = kit.email_code(&one, to, T0 + 3).await;
    let done = kit
        .verify(&one, &ch, &code, T0 + 4)
        .await
        .expect("verified");
    assert_eq!(done.state, WireState::Verified);
}

/// One wrong answer among right ones fails the whole (never which), counts toward the
/// block like a wrong code, and the fifth failure blocks; answers that can't be checked
/// as typed are refused before any hashing and count against nobody.
#[tokio::test]
async fn a_wrong_answer_fails_all_and_counts_toward_the_block() {
    let kit = kit().await;
    kit.person("ada", &[], EMAIL_AND_QUESTIONS).await;
    let flow = kit.start("ada", Intent::Reset, T0).await.expect("flow");
    let ch = kit
        .challenge(&flow, MethodKind::Questions, T0)
        .await
        .expect("questions");
    let right: Vec<&str> = ch.questions.iter().map(|q| kit.right_answer(q)).collect();

    let two = kit
        .answer(&flow, &ch.challenge_id, &right[..2], T0 + 1)
        .await;
    assert!(matches!(
        error_of(two),
        FlowError::AnswersMissing { count: 3 }
    ));
    let mut long = right.clone();
    let huge = "x".repeat(10_000);
    long[1] = &huge;
    let long = kit.answer(&flow, &ch.challenge_id, &long, T0 + 1).await;
    assert!(matches!(error_of(long), FlowError::AnswerRefused(_)));
    let mut control = right.clone();
    control[0] = "Mit\u{0}zi";
    let control = kit.answer(&flow, &ch.challenge_id, &control, T0 + 1).await;
    assert!(matches!(error_of(control), FlowError::AnswerRefused(_)));

    for (n, which) in [0usize, 2, 1, 0].into_iter().enumerate() {
        let mut wrong = right.clone();
        wrong[which] = "not it";
        let r = kit
            .answer(&flow, &ch.challenge_id, &wrong, T0 + 2 + n as i64)
            .await;
        assert!(
            matches!(error_of(r), FlowError::AnswersWrong),
            "failure {}",
            n + 1
        );
    }
    let mut wrong = right.clone();
    wrong[2] = "nope";
    let fifth = kit.answer(&flow, &ch.challenge_id, &wrong, T0 + 10).await;
    assert!(matches!(error_of(fifth), FlowError::Blocked { .. }));
    let after = kit.answer(&flow, &ch.challenge_id, &right, T0 + 11).await;
    assert!(
        matches!(error_of(after), FlowError::Blocked { .. }),
        "right answers don't pass a block"
    );
}

/// An administrator is never offered questions, though registered.
#[tokio::test]
async fn administrators_are_never_offered_questions() {
    let kit = kit().await;
    kit.person(
        "root",
        &["Domain Admins"],
        &[MethodKind::Email, MethodKind::Totp, MethodKind::Questions],
    )
    .await;
    let admin = kit.start("root", Intent::Reset, T0).await.expect("flow");
    assert!(admin
        .methods
        .iter()
        .all(|m| m.kind != MethodKind::Questions));
    assert_eq!(admin.required, 2);
}

/// A login nobody has, standing in for someone with questions, is asked questions of the
/// organisation's list, drawn from the login, and no answer passes.
#[tokio::test]
async fn a_decoy_is_asked_questions_and_never_passes() {
    let kit = kit().await;
    kit.person("ada", &[], EMAIL_AND_QUESTIONS).await;
    let decoy = kit.start("nobody", Intent::Reset, T0).await.expect("decoy");
    let ch = kit
        .challenge(&decoy, MethodKind::Questions, T0)
        .await
        .expect("decoy questions");
    assert_eq!(ch.questions.len(), 3);
    let listed: Vec<String> = kit
        .core
        .config()
        .policy
        .questions
        .list
        .iter()
        .map(|q| q.text_in("en").to_string())
        .collect();
    assert!(ch.questions.iter().all(|q| listed.contains(q)));
    let decoy2 = kit
        .start("nobody", Intent::Reset, T0 + 1)
        .await
        .expect("decoy");
    let ch2 = kit
        .challenge(&decoy2, MethodKind::Questions, T0 + 1)
        .await
        .expect("decoy questions");
    let mut a = ch.questions.clone();
    let mut b = ch2.questions.clone();
    a.sort();
    b.sort();
    let overlap = a.iter().filter(|q| b.contains(q)).count();
    assert!(overlap >= 1, "drawn from the same registered set");
    let answers = ["Mitzi", "Lindenallee", "Schröder"];
    let r = kit.answer(&decoy, &ch.challenge_id, &answers, T0 + 2).await;
    assert!(matches!(error_of(r), FlowError::AnswersWrong));
}
