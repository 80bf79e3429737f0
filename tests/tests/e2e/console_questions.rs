//! Security questions from the admin console's methods page, in a real Chromium: turned
//! on with one method required is refused with the server's reason; with two, the numbers,
//! own questions and a new question of the list are saved, checked first on the page, and
//! "My security info" then offers the list as saved.

use sspr_tests::browser::Browser;
use sspr_tests::phone::Phone;
use sspr_tests::sspr_proto::MyQuestions;
use sspr_tests::ADA_PASSWORD;

use super::approval::shots;
use super::console::{
    console_sign_in, open, register_passkey, server_with, LINUS_PASSWORD, LINUS_TOTP,
};

#[tokio::test]
async fn an_admin_turns_security_questions_on_and_edits_the_list() {
    let server = server_with("").await;
    let mut b = Browser::desktop(&shots("console-questions"))
        .await
        .expect("chromium");
    register_passkey(&mut b, &server, "linus", LINUS_PASSWORD, LINUS_TOTP).await;
    b.goto(&format!("{}/admin", server.phone_base))
        .await
        .expect("console");
    console_sign_in(&mut b, "linus", LINUS_PASSWORD).await;
    open(&b, "methods", false).await;
    let listed = b
        .client
        .execute(
            "return [...document.querySelectorAll('#questions-list [data-q=\"en\"]')].map((i) => i.value);",
            vec![],
        )
        .await
        .expect("the list");
    let listed: Vec<String> = serde_json::from_value(listed).expect("strings");
    assert_eq!(listed.len(), 10, "{listed:?}");
    assert_eq!(listed[0], "What was the name of your first pet?");

    // On, with one method required: the server says why not.
    b.click_centered("input[data-method=\"questions\"]")
        .await
        .expect("questions on");
    b.click_centered("#policy-save").await.expect("save");
    b.wait_text("#save-errors", "never enough on their own", 15)
        .await
        .expect("refused with the reason");
    b.shoot("questions-refused").await.expect("shot");

    // Two required, four answered and two asked, own questions, and a question added.
    b.click_centered("input[data-path=\"policy.methods_required\"][value=\"2\"]")
        .await
        .expect("two methods");
    b.click_centered("input[name=\"questions-register\"][value=\"4\"]")
        .await
        .expect("four answered");
    b.click_centered("input[name=\"questions-ask\"][value=\"2\"]")
        .await
        .expect("two asked");
    b.click_centered("input[name=\"questions-own\"]")
        .await
        .expect("own questions");
    b.click_centered("#questions-add").await.expect("add a row");
    let last = "#questions-list [data-q-row]:last-child";
    b.type_into(&format!("{last} [data-q=\"id\"]"), "First Holiday")
        .await
        .expect("id");
    b.type_into(
        &format!("{last} [data-q=\"en\"]"),
        "Where did you spend your first holiday abroad?",
    )
    .await
    .expect("english");
    b.type_into(
        &format!("{last} [data-q=\"de\"]"),
        "Wo haben Sie Ihren ersten Urlaub im Ausland verbracht?",
    )
    .await
    .expect("german");
    // An id the server wouldn't take is said on the page before anything is sent.
    b.click_centered("#policy-save").await.expect("save");
    b.wait_text(
        "#save-errors",
        "Security question 11: the id is 1 to 40 of a-z, 0-9 and -.",
        10,
    )
    .await
    .expect("checked on the page");
    b.shoot("questions-bad-id").await.expect("shot");
    b.type_into(&format!("{last} [data-q=\"id\"]"), "first-holiday")
        .await
        .expect("id");
    b.shoot_full("questions-edited").await.expect("shot");
    b.click_centered("#policy-save").await.expect("save");
    b.wait_text("#save-done", "Saved as version", 15)
        .await
        .expect("saved");
    b.wait_text("#save-status", "", 1)
        .await
        .expect("nothing left unsaved");
    assert!(
        !b.text("#save-status")
            .await
            .expect("status")
            .contains("Unsaved"),
        "the saved page differs from what it saved"
    );
    b.shoot_full("questions-saved").await.expect("shot");
    let shown = server.admin(&["policy", "show"]).expect("show");
    for line in [
        "register = 4",
        "ask = 2",
        "own_allowed = true",
        "id = \"first-holiday\"",
    ] {
        assert!(shown.contains(line), "{line} not in {shown}");
    }

    // "My security info" offers what was saved.
    let mut phone = Phone::new(&server).expect("phone");
    phone
        .sign_in_with_totp("ada", ADA_PASSWORD, sspr_tests::ADA_TOTP)
        .await
        .expect("signed in");
    // In force everywhere within seconds.
    let mut offered: Option<MyQuestions> = None;
    for _ in 0..50 {
        let a = phone
            .send(reqwest::Method::GET, "/v1/my/questions?locale=de", None)
            .await
            .expect("get");
        if a.ok() {
            let q: MyQuestions = a.into();
            if q.register == 4 {
                offered = Some(q);
                break;
            }
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    let offered = offered.expect("the saved policy in force");
    assert_eq!(
        (offered.register, offered.ask, offered.own_allowed),
        (4, 2, true)
    );
    assert!(offered.list.iter().any(|q| q.id == "first-holiday"
        && q.text == "Wo haben Sie Ihren ersten Urlaub im Ausland verbracht?"));
}
