//! Security questions end to end: chosen and answered on "My security info" in a real
//! Chromium (each rule said beside its question before anything is sent), then asked at
//! the real kiosk window beside an emailed code, in English and in German: answers typed
//! on the on-screen keyboard show as dots until "Show answers", a wrong one is said
//! without saying which, and whatever was typed is gone once the screen changes.

use fantoccini::Locator;
use sspr_tests::browser::Browser;
use sspr_tests::kiosk::{Driver, KioskSetup, KioskWindow};
use sspr_tests::TestServer;

use super::approval::{shots, sign_in};
use super::*;

const QUESTIONS: &str =
    "[policy]\nmethods = [\"email\", \"totp\", \"questions\"]\nmethods_required = 2\n";

/// Ada's questions (by id) and answers.
const ADA: [(&str, &str); 3] = [
    ("first-pet", "whiskers"),
    ("childhood-street", "Baker Street"),
    ("first-teacher", "Mrs Hudson"),
];

/// Ada's answer to a question as the kiosk shows it, in English or German.
fn answer_to(question: &str) -> &'static str {
    let id = if question.contains("pet") || question.contains("Haustier") {
        "first-pet"
    } else if question.contains("street") || question.contains("Straße") {
        "childhood-street"
    } else if question.contains("teacher") || question.contains("Lehrkraft") {
        "first-teacher"
    } else {
        panic!("not one of Ada's questions: {question:?}")
    };
    ADA.iter()
        .find(|(i, _)| *i == id)
        .map(|(_, a)| *a)
        .unwrap_or_default()
}

async fn choose(phone: &Browser, n: usize, id: &str) {
    phone
        .client
        .find(Locator::Css(&format!("#question-{n}")))
        .await
        .expect("select")
        .select_by_value(id)
        .await
        .expect("choose");
}

/// The questions the kiosk shows, in order.
async fn asked(k: &KioskWindow) -> Vec<String> {
    let mut out = Vec::new();
    for el in k
        .client
        .find_all(Locator::Css(".question-text"))
        .await
        .expect("questions")
    {
        out.push(
            el.text()
                .await
                .expect("text")
                .trim_start_matches(char::is_numeric)
                .trim()
                .to_string(),
        );
    }
    out
}

/// Every field's value on the kiosk's page (what a wipe must have emptied).
async fn typed(k: &KioskWindow) -> Vec<String> {
    let values = k
        .client
        .execute(
            "return [...document.querySelectorAll('input')].map((i) => i.value);",
            vec![],
        )
        .await
        .expect("values");
    serde_json::from_value(values).expect("strings")
}

/// On the questions screen, answers every question (the first on the on-screen keys),
/// with `wrong` in place of the last answer when given.
async fn answer(k: &mut KioskWindow, wrong: Option<&str>) -> Vec<String> {
    k.screen("questions", 10).await.expect("questions screen");
    let questions = asked(k).await;
    assert_eq!(questions.len(), 3, "{questions:?}");
    for (i, q) in questions.iter().enumerate() {
        let css = format!("#answer-{}", i + 1);
        let mut text = answer_to(q).to_string();
        if i == questions.len() - 1 {
            if let Some(w) = wrong {
                text = w.to_string();
            }
        }
        if i == 0 && !text.contains(' ') {
            // Typed as at a kiosk without a keyboard.
            k.click(&css).await.expect("focus");
            k.tap_keys(&text).await.expect("keys");
        } else {
            k.type_into(&css, &text).await.expect("type");
        }
        assert_eq!(k.value(&css).await.expect("value"), text);
    }
    questions
}

/// Signs Ada in on "My security info" with her password and an emailed code (her
/// authenticator's code was used already in this half-minute).
async fn sign_in_by_email(phone: &mut Browser, server: &TestServer) {
    phone
        .goto(&format!("{}/my", server.phone_base))
        .await
        .expect("my page");
    phone.state("sign-in", 15).await.expect("sign-in form");
    phone.type_into("#login", "ada").await.expect("login");
    phone
        .type_into("#password", sspr_tests::ADA_PASSWORD)
        .await
        .expect("password");
    phone.click("#sign-in").await.expect("sign in");
    phone
        .state("second-factor", 10)
        .await
        .expect("one more step");
    let seen = server.code_mails_to("ada@home.example.net").len();
    phone
        .click("button[data-method-id][data-kind=\"email\"]")
        .await
        .expect("email");
    let code = server
        .code_mail("ada@home.example.net", seen)
        .await
        .expect("code");
    phone.type_into("#code", &code).await.expect("code");
    phone.click("#verify").await.expect("verify");
    phone.state("signed-in", 10).await.expect("signed in");
}

#[tokio::test]
async fn questions_registered_on_the_phone_and_answered_at_the_kiosk() {
    let _one = ONE_AT_A_TIME.lock().await;
    let server = TestServer::with_config(QUESTIONS).await.expect("server");

    // "My security info": set up, with the rules said in the page's words first.
    let mut phone = Browser::phone(&shots("questions-phone"))
        .await
        .expect("chromium");
    sign_in(&mut phone, &server).await;
    phone
        .wait_text("#app", "Security questions", 10)
        .await
        .expect("offered");
    phone
        .click_centered("#add-questions")
        .await
        .expect("set up");
    phone
        .wait_text("#app", "Choose 3 questions", 10)
        .await
        .expect("form");
    phone.shoot_full("questions-form").await.expect("shot");
    for (i, (id, answer)) in ADA.iter().enumerate() {
        choose(&phone, i + 1, id).await;
        phone
            .type_into(&format!("#answer-{}", i + 1), answer)
            .await
            .expect("answer");
    }
    // A question chosen once can't be chosen again elsewhere.
    let disabled = phone
        .client
        .execute(
            "return document.querySelector('#question-2 option[value=\"first-pet\"]').disabled;",
            vec![],
        )
        .await
        .expect("option");
    assert_eq!(disabled, serde_json::json!(true));
    // An answer that is a word of its question is refused beside it, before sending.
    phone.type_into("#answer-1", "Pet").await.expect("answer");
    phone.click_centered("#save-questions").await.expect("save");
    phone
        .wait_text("[data-block=\"1\"]", "can't contain its question", 10)
        .await
        .expect("said beside the question");
    phone.shoot("questions-rule").await.expect("shot");
    assert_eq!(
        server
            .audit(&["--user", "ada"])
            .expect("audit")
            .iter()
            .filter(|r| r["event"] == "method_registered")
            .count(),
        0,
        "nothing was sent"
    );
    phone
        .type_into("#answer-1", ADA[0].1)
        .await
        .expect("answer");
    phone.click_centered("#save-questions").await.expect("save");
    phone
        .wait_text("#notice", "security questions were saved", 15)
        .await
        .expect("saved");
    phone
        .wait_text(
            "#registered-questions",
            "What was the name of your first pet?",
            10,
        )
        .await
        .expect("the questions are listed");
    let page = phone.text("#app").await.expect("page");
    for (_, answer) in ADA {
        assert!(
            !page.to_lowercase().contains(&answer.to_lowercase()),
            "an answer is shown: {page}"
        );
    }
    phone.shoot_full("questions-saved").await.expect("shot");
    drop(phone);

    // In German: the registered questions in German, "Ändern" prefilled with them.
    let mut phone = Browser::phone_in("de", &shots("questions-phone-de"))
        .await
        .expect("chromium");
    sign_in_by_email(&mut phone, &server).await;
    phone
        .wait_text("#registered-questions", "Wie hieß Ihr erstes Haustier?", 10)
        .await
        .expect("German questions");
    phone.shoot_full("questions-de").await.expect("shot");
    phone
        .click_centered("#change-questions")
        .await
        .expect("change");
    phone
        .wait_text("#app", "Beim Speichern ersetzen", 10)
        .await
        .expect("change form");
    let chosen = phone
        .client
        .execute(
            "return [1, 2, 3].map((n) => document.querySelector('#question-' + n).value);",
            vec![],
        )
        .await
        .expect("chosen");
    assert_eq!(
        chosen,
        serde_json::json!(["first-pet", "childhood-street", "first-teacher"])
    );
    phone.click_centered("#save-questions").await.expect("save");
    phone
        .wait_text("[data-block=\"1\"]", "mindestens 3 Zeichen", 10)
        .await
        .expect("German rule");
    phone.shoot_full("questions-change-de").await.expect("shot");
    phone
        .click_centered("#cancel-questions")
        .await
        .expect("cancel");
    phone
        .wait_text("#security-questions", "Ändern", 10)
        .await
        .expect("back to the questions");
    drop(phone);

    // The kiosk, in English: questions and the emailed code, then a new password.
    let driver = Driver::start().await.expect("tauri-driver");
    let mut k = KioskWindow::open(&driver, &server, "questions", KioskSetup::default())
        .await
        .expect("kiosk");
    identify(&mut k, "reset", "ada").await;
    k.wait_text("Answer your security questions", 10)
        .await
        .expect("offered");
    k.wait_text("Step 1 of 2", 5).await.expect("two steps");
    k.shoot("methods").await.expect("shot");
    k.click("button[data-method=\"questions\"]")
        .await
        .expect("questions");
    k.screen("questions", 10).await.expect("questions screen");
    k.shoot("questions").await.expect("shot");
    let mut found = sspr_tests::axe::Findings::default();
    found.check(&k.client, "questions (en)").await.expect("axe");

    // Typed, then left: nothing typed stays anywhere on the page.
    answer(&mut k, None).await;
    k.click("#questions-other").await.expect("another method");
    k.screen("verify", 10).await.expect("methods");
    assert!(typed(&k).await.iter().all(String::is_empty));
    k.click("button[data-method=\"questions\"]")
        .await
        .expect("questions");
    k.screen("questions", 10).await.expect("questions screen");
    assert_eq!(typed(&k).await, ["", "", ""], "answers were kept");

    // Dots until asked to show; one wrong answer is said without saying which.
    answer(&mut k, Some("Moriarty")).await;
    assert_eq!(
        k.wait("#answer-2", 5)
            .await
            .expect("field")
            .attr("type")
            .await
            .expect("type")
            .as_deref(),
        Some("password")
    );
    k.shoot("answers-masked").await.expect("shot");
    k.click("#toggle-answers").await.expect("show");
    k.wait_text("Hide answers", 5).await.expect("shown");
    k.shoot("answers-shown").await.expect("shot");
    k.click("#questions-submit").await.expect("verify");
    k.wait_text("Those answers aren't all right", 10)
        .await
        .expect("said");
    assert_eq!(typed(&k).await, ["", "", ""], "wrong answers were kept");
    k.shoot("answers-wrong").await.expect("shot");
    found
        .check(&k.client, "questions, wrong answers (en)")
        .await
        .expect("axe");
    // Empty answers are said on the screen and never sent.
    k.click("#questions-submit").await.expect("verify empty");
    k.wait_text("Answer all 3 questions.", 5)
        .await
        .expect("said");
    k.shoot("answers-empty").await.expect("shot");

    answer(&mut k, None).await;
    k.click("#questions-submit").await.expect("verify");
    k.screen("verify", 10).await.expect("second method");
    k.wait_text("Step 2 of 2", 5).await.expect("step 2");
    k.shoot("questions-done").await.expect("shot");
    let seen = server.code_mails_to("ada@home.example.net").len();
    k.click("button[data-method=\"email\"]")
        .await
        .expect("email");
    let code = server
        .code_mail("ada@home.example.net", seen)
        .await
        .expect("code");
    enter_code(&mut k, &code, "email-code").await;
    k.screen("password", 10).await.expect("password screen");
    k.choose_password(NEW_PASSWORD).await.expect("password");
    k.click("#password-submit").await.expect("submit");
    k.screen("done", 15).await.expect("done");
    k.shoot("done").await.expect("shot");
    assert!(server
        .password_is("ada", NEW_PASSWORD)
        .await
        .expect("directory"));
    k.close().await.expect("close");

    // In German: the questions in German.
    let mut k = KioskWindow::open(
        &driver,
        &server,
        "questions-de",
        KioskSetup {
            locale: "de",
            ..KioskSetup::default()
        },
    )
    .await
    .expect("kiosk");
    identify(&mut k, "reset", "ada").await;
    k.wait_text("Sicherheitsfragen beantworten", 10)
        .await
        .expect("offered");
    k.shoot("methods").await.expect("shot");
    k.click("button[data-method=\"questions\"]")
        .await
        .expect("questions");
    let questions = answer(&mut k, None).await;
    assert!(
        questions
            .iter()
            .any(|q| q == "Wie hieß Ihr erstes Haustier?"),
        "{questions:?}"
    );
    k.shoot("fragen").await.expect("shot");
    k.click("#toggle-answers").await.expect("show");
    k.wait_text("Antworten verbergen", 5).await.expect("shown");
    k.shoot("antworten").await.expect("shot");
    found
        .check(&k.client, "questions, answers shown (de)")
        .await
        .expect("axe");
    found
        .assert_none()
        .expect("no serious or critical violation");
    k.click("#questions-submit").await.expect("verify");
    k.screen("verify", 10).await.expect("second method");
    k.wait_text("Schritt 2 von 2", 5).await.expect("step 2");
    k.shoot("bestaetigt").await.expect("shot");
    k.close().await.expect("close");

    // No answer reached the server's log or the audit.
    let log = server.log().to_lowercase();
    let audit = serde_json::to_string(&server.audit(&[]).expect("audit"))
        .expect("json")
        .to_lowercase();
    for secret in ["whiskers", "baker street", "hudson", "moriarty"] {
        assert!(!log.contains(secret), "{secret} is in the log");
        assert!(!audit.contains(secret), "{secret} is in the audit");
    }
}
