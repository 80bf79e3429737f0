//! Security questions over HTTP: registered on "My security info" (every rule refused in
//! its words, and a refused save leaves the earlier registration whole), then answered
//! through the signed kiosk API beside an emailed code; wrong answers count to the block,
//! administrators are never asked, a login nobody has is asked questions as a real one
//! is, and no answer reaches the log, the audit or the store as typed.

use std::time::Duration;

use serde_json::{json, Value};
use sspr_tests::phone::{Answer, Phone};
use sspr_tests::sspr_client::Client;
use sspr_tests::sspr_proto::{
    ChallengeView, ErrorCode, FlowState, FlowView, Intent, MethodKind, MyQuestions, MySession,
    StartFlowRequest,
};
use sspr_tests::{Options, TestServer, ADA_PASSWORD, ADA_TOTP};

use super::*;

const QUESTIONS: &str =
    "[policy]\nmethods = [\"email\", \"totp\", \"questions\"]\nmethods_required = 2\n";

/// Ada's answers, by question id, as she registers them.
const ADA_ANSWERS: [(&str, &str); 3] = [
    ("first-pet", "Whiskers the Cat"),
    ("childhood-street", "Baker Street"),
    ("first-teacher", "Mrs Hudson"),
];

async fn questions_server(log: Option<&str>) -> TestServer {
    TestServer::start_with(Options {
        extra_config: QUESTIONS.into(),
        log: log.map(str::to_string),
        ..Options::default()
    })
    .await
    .expect("server")
}

async fn put(phone: &mut Phone, body: Value) -> Answer {
    phone
        .send(reqwest::Method::PUT, "/v1/my/questions", Some(body))
        .await
        .expect("put")
}

async fn mine(phone: &mut Phone, locale: &str) -> MyQuestions {
    phone
        .send(
            reqwest::Method::GET,
            &format!("/v1/my/questions?locale={locale}"),
            None,
        )
        .await
        .expect("get")
        .into()
}

fn body(answers: &[(&str, &str)]) -> Value {
    json!({ "answers": answers.iter().map(|(id, a)| json!({ "id": id, "answer": a })).collect::<Vec<_>>() })
}

/// Ada signs in (password and authenticator code) and registers `ADA_ANSWERS`.
async fn register_ada(server: &TestServer) -> Phone {
    let mut phone = Phone::new(server).expect("phone");
    phone
        .sign_in_with_totp("ada", ADA_PASSWORD, ADA_TOTP)
        .await
        .expect("signed in");
    let saved: MySession = put(&mut phone, body(&ADA_ANSWERS)).await.into();
    assert!(saved
        .methods
        .iter()
        .any(|m| m.kind == MethodKind::Questions && m.label == "Security questions"));
    phone
}

/// The stored registration, as the store keeps it (questions and argon2 hashes).
async fn stored(server: &TestServer, login: &str) -> Option<String> {
    sqlx::query_scalar(
        "SELECT r.value FROM registrations r JOIN dir_users u ON u.id = r.user_id
         WHERE u.username = $1 AND r.kind = 'questions'",
    )
    .bind(login)
    .fetch_optional(&db(server).await)
    .await
    .expect("registration")
}

/// The answer to a question as asked (its English or German text).
fn answer_to(question: &str) -> &'static str {
    let by_id = |id: &str| {
        ADA_ANSWERS
            .iter()
            .find(|(i, _)| *i == id)
            .map(|(_, a)| *a)
            .unwrap_or_default()
    };
    if question.contains("pet") || question.contains("Haustier") {
        by_id("first-pet")
    } else if question.contains("street") || question.contains("Straße") {
        by_id("childhood-street")
    } else if question.contains("teacher") || question.contains("Lehrkraft") {
        by_id("first-teacher")
    } else {
        panic!("not one of Ada's questions: {question}")
    }
}

async fn questions_challenge(kiosk: &Client, flow: &FlowView) -> ChallengeView {
    kiosk
        .challenge(&flow.flow_id, &method(flow, MethodKind::Questions))
        .await
        .expect("questions challenge")
}

#[tokio::test]
async fn registering_questions_refuses_each_rule_and_never_half_registers() {
    let server = questions_server(None).await;
    let mut phone = Phone::new(&server).expect("phone");
    let session = phone
        .sign_in_with_totp("ada", ADA_PASSWORD, ADA_TOTP)
        .await
        .expect("signed in");
    assert!(session.can_add.contains(&MethodKind::Questions));
    let offered = mine(&mut phone, "en").await;
    assert_eq!((offered.register, offered.ask), (3, 3));
    assert!(!offered.own_allowed);
    assert_eq!(offered.list.len(), 10);
    assert!(offered.registered.is_empty());
    let german = mine(&mut phone, "de").await;
    assert_eq!(
        german
            .list
            .iter()
            .find(|q| q.id == "first-pet")
            .map(|q| q.text.as_str()),
        Some("Wie hieß Ihr erstes Haustier?")
    );

    register_rules_refused(&mut phone).await;
    assert_eq!(
        stored(&server, "ada").await,
        None,
        "nothing half-registered"
    );
    let first: MySession = put(&mut phone, body(&ADA_ANSWERS)).await.into();
    assert_eq!(
        first
            .methods
            .iter()
            .filter(|m| m.kind == MethodKind::Questions)
            .count(),
        1
    );
    let registered = mine(&mut phone, "en").await.registered;
    assert_eq!(
        registered,
        [
            "What was the name of your first pet?",
            "On which street did you live as a child?",
            "What was the surname of your first teacher?",
        ]
    );
    let before = stored(&server, "ada").await.expect("stored");
    // Hashed, each with its own salt: no answer as typed or as compared.
    for (_, answer) in ADA_ANSWERS {
        assert!(
            !before.contains(answer) && !before.to_lowercase().contains(&answer.to_lowercase())
        );
    }
    assert!(before.matches("$argon2id$").count() == 3, "{before}");

    // Every refused change leaves the registration as it was, byte for byte.
    register_rules_refused(&mut phone).await;
    assert_eq!(
        stored(&server, "ada").await.as_deref(),
        Some(before.as_str())
    );
    assert_eq!(mine(&mut phone, "en").await.registered, registered);

    // A change replaces the whole registration: still one.
    let changed: MySession = put(
        &mut phone,
        body(&[
            ("first-concert", "The Kinks"),
            ("first-job-town", "Leeds"),
            ("favourite-book", "Treasure Island"),
        ]),
    )
    .await
    .into();
    assert_eq!(
        changed
            .methods
            .iter()
            .filter(|m| m.kind == MethodKind::Questions)
            .count(),
        1
    );
    assert_ne!(
        stored(&server, "ada").await.as_deref(),
        Some(before.as_str())
    );
    assert_eq!(
        mine(&mut phone, "de").await.registered[1],
        "In welcher Stadt hatten Sie Ihre erste Arbeitsstelle?"
    );
}

/// Each rule broken once: 400 `bad_request` with the rule in words.
async fn register_rules_refused(phone: &mut Phone) {
    let long = "x".repeat(10_000);
    let cases: Vec<(Value, &str)> = vec![
        (body(&ADA_ANSWERS[..2]), "Answer all 3 questions"),
        (
            json!({ "answers": (0..1000).map(|i| json!({ "id": "first-pet", "answer": format!("a{i}") })).collect::<Vec<_>>() }),
            "Answer all 3 questions",
        ),
        (
            body(&[
                ("first-pet", "Whiskers"),
                ("first-pet", "Rex the dog"),
                ("first-teacher", "Hudson"),
            ]),
            "each question may be chosen once",
        ),
        (
            body(&[
                ("first-pet", "What was the name of your first pet? Rex"),
                ("childhood-street", "Baker Street"),
                ("first-teacher", "Hudson"),
            ]),
            "can't contain its question",
        ),
        (
            body(&[
                ("first-pet", "pet"),
                ("childhood-street", "Baker Street"),
                ("first-teacher", "Hudson"),
            ]),
            "can't contain its question",
        ),
        (
            body(&[
                ("first-pet", "Whiskers"),
                ("childhood-street", &long),
                ("first-teacher", "Hudson"),
            ]),
            "at most 200 characters",
        ),
        (
            body(&[
                ("first-pet", "Whis\u{7}kers"),
                ("childhood-street", "Baker Street"),
                ("first-teacher", "Hudson"),
            ]),
            "control characters",
        ),
        (
            body(&[
                ("first-pet", "ab"),
                ("childhood-street", "Baker Street"),
                ("first-teacher", "Hudson"),
            ]),
            "at least 3 characters",
        ),
        (
            body(&[
                ("first-pet", "Hudson"),
                ("childhood-street", "Baker Street"),
                ("first-teacher", "  HUDSON "),
            ]),
            "must differ",
        ),
        (
            body(&[
                ("first-pet", "Whiskers"),
                ("no-such-question", "Baker Street"),
                ("first-teacher", "Hudson"),
            ]),
            "not one of the organisation's questions",
        ),
        (
            json!({ "answers": [
                { "own": "What is my favourite colour of all?", "answer": "Teal" },
                { "id": "childhood-street", "answer": "Baker Street" },
                { "id": "first-teacher", "answer": "Hudson" },
            ] }),
            "doesn't allow questions of your own",
        ),
    ];
    for (sent, words) in cases {
        let refused = put(phone, sent).await;
        assert_eq!(refused.status, 400, "{words}: {refused:?}");
        let e = refused.error();
        assert_eq!(e.code, ErrorCode::BadRequest, "{words}");
        assert!(
            e.message.to_lowercase().contains(&words.to_lowercase()),
            "{words:?} not in {:?}",
            e.message
        );
    }
}

#[tokio::test]
async fn a_reset_with_security_questions_and_an_emailed_code() {
    let server = questions_server(Some("debug")).await;
    let mut phone = register_ada(&server).await;
    let kiosk = server.kiosk().await.expect("kiosk");

    let flow = kiosk
        .start_flow(&start("ada", Intent::Reset))
        .await
        .expect("flow");
    assert_eq!(flow.required, 2);
    let offered = flow
        .methods
        .iter()
        .find(|m| m.kind == MethodKind::Questions)
        .expect("questions offered");
    assert_eq!(offered.masked, "Security questions");
    let ch = questions_challenge(&kiosk, &flow).await;
    assert_eq!(ch.questions.len(), 3, "policy.questions.ask");
    assert_eq!(ch.code_length, 0);
    assert!(ch.sent_to.is_none());
    let mut asked = ch.questions.clone();
    asked.sort();
    let mut registered = mine(&mut phone, "en").await.registered;
    registered.sort();
    assert_eq!(asked, registered);

    // Answers that can't be checked are refused in words and count against nobody.
    let two: Vec<String> = ch.questions[..2]
        .iter()
        .map(|q| answer_to(q).into())
        .collect();
    let short = kiosk.answer(&flow.flow_id, &ch.challenge_id, &two).await;
    assert_eq!(code_of(short), ErrorCode::BadRequest);
    let too_long = vec!["y".repeat(201), "a".into(), "b".into()];
    let refused = kiosk
        .answer(&flow.flow_id, &ch.challenge_id, &too_long)
        .await
        .expect_err("too long");
    assert_eq!(refused.code(), Some(ErrorCode::BadRequest));
    assert!(refused.to_string().contains("at most 200"), "{refused}");
    let by_code = kiosk
        .verify(&flow.flow_id, &ch.challenge_id, "123456")
        .await;
    assert_eq!(
        code_of(by_code),
        ErrorCode::BadRequest,
        "a code answers no questions"
    );

    // One answer wrong: not accepted, and not told which.
    let mut wrong: Vec<String> = ch.questions.iter().map(|q| answer_to(q).into()).collect();
    wrong[2] = "Moriarty".into();
    let no = kiosk
        .answer(&flow.flow_id, &ch.challenge_id, &wrong)
        .await
        .expect_err("one wrong");
    assert_eq!(no.code(), Some(ErrorCode::CodeInvalid));
    assert!(no.to_string().contains("aren't all right"), "{no}");
    // Asked again: the same questions, no easier ones.
    let again = questions_challenge(&kiosk, &flow).await;
    assert_eq!(again.questions, ch.questions);
    // As typed another day: other case, other spaces.
    let right: Vec<String> = again
        .questions
        .iter()
        .map(|q| format!("  {}  ", answer_to(q).to_uppercase().replace(' ', "   ")))
        .collect();
    let flow = kiosk
        .answer(&flow.flow_id, &again.challenge_id, &right)
        .await
        .expect("the answers verify");
    assert_eq!((flow.done, flow.state), (1, FlowState::Verifying));
    let questions_done = flow
        .methods
        .iter()
        .find(|m| m.kind == MethodKind::Questions)
        .expect("listed");
    assert!(questions_done.done);
    let flow = verify_email(&server, &kiosk, &flow, "ada@home.example.net").await;
    assert_eq!(flow.state, FlowState::Verified);
    let password = "saffron meadow under quiet rain";
    kiosk
        .set_password(&flow.flow_id, password)
        .await
        .expect("reset");
    assert!(directory_password_is(&server, "ada", password).await);

    // In German, the questions are asked in German.
    let german = kiosk
        .start_flow(&StartFlowRequest {
            login: "ada".into(),
            intent: Intent::Reset,
            locale: Some("de".into()),
        })
        .await
        .expect("flow");
    let ch = questions_challenge(&kiosk, &german).await;
    assert!(
        ch.questions
            .iter()
            .any(|q| q == "Wie hieß Ihr erstes Haustier?"),
        "{:?}",
        ch.questions
    );
    kiosk.cancel(&german.flow_id).await.expect("cancel");

    // No answer, as typed or as compared, reached the log, the audit or the store.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let log = server.log().to_lowercase();
    assert!(log.contains("challenge"), "the log is empty? {log}");
    let audit = serde_json::to_string(&server.audit(&[]).expect("audit"))
        .expect("json")
        .to_lowercase();
    assert!(audit.contains("verify_succeeded"), "{audit}");
    let raw = server.raw_store().expect("the store");
    for (_, answer) in ADA_ANSWERS {
        for secret in [answer.to_lowercase(), answer.to_string()] {
            assert!(
                !log.contains(&secret.to_lowercase()),
                "{secret:?} is in the log"
            );
            assert!(
                !audit.contains(&secret.to_lowercase()),
                "{secret:?} is in the audit"
            );
            for bytes in &raw {
                assert!(
                    !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
                    "{secret:?} is in the store"
                );
            }
        }
    }
    assert!(!log.contains("moriarty"), "a wrong answer is in the log");
    assert!(
        !audit.contains("moriarty"),
        "a wrong answer is in the audit"
    );
}

#[tokio::test]
async fn wrong_answers_count_to_the_block_and_unreadable_ones_do_not() {
    let server = questions_server(None).await;
    register_ada(&server).await;
    let kiosk = server.kiosk().await.expect("kiosk");
    let flow = kiosk
        .start_flow(&start("ada", Intent::Reset))
        .await
        .expect("flow");
    let ch = questions_challenge(&kiosk, &flow).await;
    for _ in 0..6 {
        let missing = kiosk
            .answer(&flow.flow_id, &ch.challenge_id, &["only one".to_string()])
            .await;
        assert_eq!(code_of(missing), ErrorCode::BadRequest);
    }
    let wrong: Vec<String> = vec!["Rex".into(), "Elm Road".into(), "Smith".into()];
    for i in 0..4 {
        let no = kiosk.answer(&flow.flow_id, &ch.challenge_id, &wrong).await;
        assert_eq!(code_of(no), ErrorCode::CodeInvalid, "attempt {}", i + 1);
    }
    let fifth = kiosk.answer(&flow.flow_id, &ch.challenge_id, &wrong).await;
    assert_eq!(code_of(fifth), ErrorCode::Blocked);
    // Blocked: even the right answers and a new flow don't get through.
    let right: Vec<String> = ch.questions.iter().map(|q| answer_to(q).into()).collect();
    let late = kiosk.answer(&flow.flow_id, &ch.challenge_id, &right).await;
    assert!(late.is_err(), "verified after the block");
    let rows = server.audit(&["--user", "ada"]).expect("audit");
    assert!(rows.iter().any(|r| r["event"] == "blocked"), "{rows:?}");
}

#[tokio::test]
async fn administrators_are_never_offered_questions() {
    let server = questions_server(None).await;
    register_ada(&server).await;
    let kiosk = server.kiosk().await.expect("kiosk");
    let before = kiosk
        .start_flow(&start("ada", Intent::Reset))
        .await
        .expect("flow");
    method(&before, MethodKind::Questions);

    // Ada's group becomes an administrators' group: her questions are kept, never offered.
    let file = server.dir.join("admins.toml");
    std::fs::write(
        &file,
        "[policy]\nadmin_groups = [\"Domain Admins\", \"Staff\"]\n",
    )
    .expect("write");
    server
        .admin(&["policy", "import", file.to_str().unwrap_or_default()])
        .expect("import");
    let mut offered = true;
    for _ in 0..100 {
        let flow = kiosk
            .start_flow(&start("ada", Intent::Reset))
            .await
            .expect("flow");
        offered = flow.methods.iter().any(|m| m.kind == MethodKind::Questions);
        if !offered {
            assert_eq!(flow.required, 2);
            assert!(flow.methods.iter().any(|m| m.kind == MethodKind::Email));
            assert!(flow.methods.iter().any(|m| m.kind == MethodKind::Totp));
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(!offered, "an administrator was offered security questions");
    assert!(stored(&server, "ada").await.is_some(), "kept");
    // Alan, an administrator from the start, is never offered them either.
    let alan = kiosk
        .start_flow(&start("alan", Intent::Reset))
        .await
        .expect("flow");
    assert!(!alan.methods.iter().any(|m| m.kind == MethodKind::Questions));
}

#[tokio::test]
async fn a_login_nobody_has_is_asked_questions_like_a_real_one() {
    let server = questions_server(None).await;
    let mut phone = register_ada(&server).await;
    let kiosk = server.kiosk().await.expect("kiosk");
    let real = kiosk
        .start_flow(&start("ada", Intent::Reset))
        .await
        .expect("flow");
    let real_ch = questions_challenge(&kiosk, &real).await;
    let list: Vec<String> = mine(&mut phone, "en")
        .await
        .list
        .into_iter()
        .map(|q| q.text)
        .collect();

    // Decoys stand in for real people: some logins nobody has show Ada's shape.
    let mut found = None;
    for i in 0..80 {
        let login = format!("nobody-{i}");
        let decoy = kiosk
            .start_flow(&start(&login, Intent::Reset))
            .await
            .expect("decoy");
        if decoy
            .methods
            .iter()
            .any(|m| m.kind == MethodKind::Questions)
        {
            found = Some((login, decoy));
            break;
        }
    }
    let (login, decoy) = found.expect("some decoys are offered questions");
    assert_eq!(decoy.required, real.required);
    let masked = |f: &FlowView| {
        f.methods
            .iter()
            .find(|m| m.kind == MethodKind::Questions)
            .map(|m| m.masked.clone())
    };
    assert_eq!(masked(&decoy), masked(&real));
    let ch = questions_challenge(&kiosk, &decoy).await;
    assert_eq!(ch.questions.len(), real_ch.questions.len());
    assert_eq!((ch.code_length, ch.sent_to.clone()), (0, None));
    assert!(
        ch.questions.iter().all(|q| list.contains(q)),
        "{:?}",
        ch.questions
    );
    // The same questions for that login every time.
    let again = kiosk
        .start_flow(&start(&login, Intent::Reset))
        .await
        .expect("decoy again");
    let mut a = questions_challenge(&kiosk, &again).await.questions;
    let mut b = ch.questions.clone();
    a.sort();
    b.sort();
    assert_eq!(a, b);
    // Any answers fail as a real person's wrong ones do, in the same words.
    let answers: Vec<String> = vec!["Whiskers".into(), "Baker Street".into(), "Hudson".into()];
    let decoy_no = kiosk
        .answer(&decoy.flow_id, &ch.challenge_id, &answers)
        .await
        .expect_err("a decoy never passes");
    let real_no = kiosk
        .answer(
            &real.flow_id,
            &real_ch.challenge_id,
            &["Rex".into(), "Elm Road".into(), "Smith".into()],
        )
        .await
        .expect_err("wrong");
    assert_eq!(decoy_no.code(), real_no.code());
    assert_eq!(decoy_no.to_string(), real_no.to_string());
}
