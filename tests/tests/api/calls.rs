//! A mobile number called instead of texted (Twilio's Calls API, against the replay): the
//! flow says the number can be called, `call: true` reads the code out in a call to the
//! mobile number, and that code verifies the same method. Where calls aren't configured,
//! or for another method, asking for a call is refused.

use std::time::Duration;

use sspr_tests::sms_replay::{SmsReplay, Taken, TWILIO_TOKEN};
use sspr_tests::sspr_client::Client;
use sspr_tests::sspr_proto::{
    ChallengeRequest, ChallengeView, ErrorCode, FlowState, FlowView, Intent, MethodKind,
    StartFlowRequest,
};
use sspr_tests::TestServer;

use super::*;

const ADA_MOBILE: &str = "+4915112345678";

async fn server(replay: &SmsReplay, methods: &str) -> TestServer {
    let server = TestServer::with_config(&format!(
        "[policy]\nmethods = [{methods}]\nresend_after_secs = 3\n\n[sms]\ndefault_region = \"DE\"\nsender = \"TestOrg\"\n{}\n[voice]\ncaller_id = \"+4930555000\"\n{}",
        replay.provider_toml("twilio", TWILIO_TOKEN),
        replay.voice_provider_toml(),
    ))
    .await
    .expect("server");
    server
        .register("[[person]]\nlogin = \"ada\"\nmobile = \"0151 1234 5678\"\n")
        .expect("register a mobile number");
    server
}

/// The newest message or call the replay took after `seen` of them (the server may send
/// after it answers).
async fn taken_after(replay: &SmsReplay, seen: usize) -> Taken {
    for _ in 0..100 {
        if let Some(t) = replay.taken().get(seen) {
            return t.clone();
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("nothing was sent after {seen}: {:?}", replay.taken());
}

/// The code a call reads out: the digits of each `<Say>`, which says it twice.
fn spoken_code(twiml: &str) -> String {
    let spoken: Vec<String> = twiml
        .split("<Say")
        .skip(1)
        .map(|say| {
            let words = say.split("</Say>").next().unwrap_or_default();
            let words = words.split_once('>').map(|(_, w)| w).unwrap_or_default();
            words.chars().filter(char::is_ascii_digit).collect()
        })
        .collect();
    assert_eq!(spoken.len(), 2, "{twiml}");
    assert_eq!(spoken[0], spoken[1], "{twiml}");
    spoken[0].clone()
}

async fn call(
    kiosk: &Client,
    flow: &FlowView,
    method_id: &str,
) -> Result<ChallengeView, sspr_tests::sspr_client::ClientError> {
    kiosk
        .challenge_request(
            &flow.flow_id,
            &ChallengeRequest {
                method_id: method_id.to_string(),
                finish_on_phone: false,
                call: true,
            },
        )
        .await
}

#[tokio::test]
async fn a_mobile_number_called_instead_of_texted() {
    let replay = SmsReplay::start().await.expect("replay");
    let server = server(&replay, "\"email\", \"totp\", \"sms\", \"voice\"").await;
    let kiosk = server.kiosk().await.expect("kiosk");
    let flow = kiosk
        .start_flow(&StartFlowRequest {
            login: "ada".into(),
            intent: Intent::Reset,
            locale: Some("de".into()),
        })
        .await
        .expect("flow");
    let sms = flow
        .methods
        .iter()
        .find(|m| m.kind == MethodKind::Sms)
        .expect("a mobile number")
        .clone();
    assert!(sms.can_call, "{sms:?}");
    assert!(
        flow.methods
            .iter()
            .filter(|m| m.kind != MethodKind::Sms)
            .all(|m| !m.can_call),
        "only a mobile number can be called: {flow:?}"
    );

    // Texted first; then, once the cooldown has passed, a call instead.
    let seen = replay.taken().len();
    let texted = kiosk
        .challenge(&flow.flow_id, &sms.id)
        .await
        .expect("texted");
    let cooldown = std::time::Instant::now() + Duration::from_millis(3100);
    let early = call(&kiosk, &flow, &sms.id).await;
    assert_eq!(
        code_of(early),
        ErrorCode::Throttled,
        "a call waits for the cooldown too"
    );
    let text = taken_after(&replay, seen).await;
    assert_eq!((text.provider, text.to.as_str()), ("twilio", ADA_MOBILE));
    tokio::time::sleep_until(cooldown.into()).await;
    let seen = replay.taken().len();
    let called = call(&kiosk, &flow, &sms.id).await.expect("called");
    assert_ne!(called.challenge_id, texted.challenge_id);
    assert_eq!(
        (called.kind, called.method_id.as_str()),
        (MethodKind::Sms, sms.id.as_str())
    );
    assert_eq!(called.sent_to.as_deref(), Some("+49 ••• •••• 78"));
    let dialled = taken_after(&replay, seen).await;
    assert_eq!(
        (dialled.provider, dialled.to.as_str(), dialled.from.as_str()),
        ("twilio-call", ADA_MOBILE, "+4930555000")
    );
    assert!(
        dialled.text.contains("language=\"de-DE\""),
        "{}",
        dialled.text
    );
    let code = spoken_code(&dialled.text);
    assert_eq!(code.len(), 6);
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let no = kiosk
        .verify(&flow.flow_id, &called.challenge_id, wrong)
        .await;
    assert_eq!(code_of(no), ErrorCode::CodeInvalid);
    let flow = kiosk
        .verify(&flow.flow_id, &called.challenge_id, &code)
        .await
        .expect("the called code verifies");
    assert_eq!(flow.state, FlowState::Verified);
    assert!(flow.methods.iter().any(|m| m.id == sms.id && m.done));
    assert!(!server.log().contains(&code), "the code is in the log");
    let rows = server.audit(&["--user", "ada"]).expect("audit");
    assert!(!rows.iter().any(|r| r.to_string().contains(&code)));
}

#[tokio::test]
async fn a_call_is_refused_where_calls_are_off_and_for_other_methods() {
    let replay = SmsReplay::start().await.expect("replay");
    // Texts, no calls: the number can't be called.
    let server = server(&replay, "\"email\", \"totp\", \"sms\"").await;
    let kiosk = server.kiosk().await.expect("kiosk");
    let flow = kiosk
        .start_flow(&start("ada", Intent::Reset))
        .await
        .expect("flow");
    let sms = method(&flow, MethodKind::Sms);
    assert!(flow.methods.iter().all(|m| !m.can_call), "{flow:?}");
    let refused = call(&kiosk, &flow, &sms).await;
    assert_eq!(code_of(refused), ErrorCode::MethodUnavailable);
    let email = call(&kiosk, &flow, &method(&flow, MethodKind::Email)).await;
    assert_eq!(code_of(email), ErrorCode::MethodUnavailable);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(replay.taken().is_empty(), "{:?}", replay.taken());
}
