//! Codes by text message through a real gateway: Kannel with its fake SMSC standing in
//! for the operator (the code is read from what the SMSC received), failover from a
//! gateway that can't be reached, every gateway down told (the kiosk follows the send,
//! which goes after the challenge answers) and counted against
//! nobody, numbers checked and stored in E.164, and decoys that show a number too.

use sspr_tests::kannel::Kannel;
use std::time::Duration;

use sspr_tests::sspr_proto::{
    Delivery, ErrorCode, FlowState, Intent, MethodKind, StartFlowRequest,
};
use sspr_tests::TestServer;

use super::*;

const ADA_MOBILE: &str = "+4915112345678";

/// A gateway nobody answers at (a closed port on loopback).
fn dead_provider() -> String {
    let port = sspr_tests::free_port().expect("port");
    format!(
        "[[sms.provider]]\nname = \"down\"\nkind = \"kannel\"\nurl = \"http://127.0.0.1:{port}\"\nusername = \"x\"\npassword = \"y\"\n"
    )
}

const METRICS_TOKEN: &str = "metrics-token-for-the-sms-test-0123";

async fn server(providers: &str) -> TestServer {
    let server = TestServer::with_config(&format!(
        "[metrics]\ntoken = \"{METRICS_TOKEN}\"\n\n[policy]\nmethods = [\"email\", \"totp\", \"sms\"]\n\n[sms]\ndefault_region = \"DE\"\nsender = \"TestOrg\"\ntimeout_secs = 2\n{providers}"
    ))
    .await
    .expect("server");
    server
        .register("[[person]]\nlogin = \"ada\"\nmobile = \"0151 1234 5678\"\n")
        .expect("register a mobile number");
    server
}

/// The code in the newest message to `to` after `seen` earlier ones.
async fn texted_code(kannel: &Kannel, to: &str, seen: usize) -> String {
    let sms = kannel
        .message_to(to, seen + 1)
        .await
        .expect("a text message");
    sms.text
        .split(|c: char| !c.is_ascii_digit())
        .find(|w| w.len() == 6)
        .unwrap_or_else(|| panic!("no code in {:?}", sms.text))
        .to_string()
}

#[tokio::test]
async fn a_reset_with_a_code_texted_through_kannel_and_failover_from_a_dead_gateway() {
    let kannel = Kannel::shared().expect("kannel");
    // The first gateway can't be reached: the second (Kannel) sends.
    let server = server(&format!(
        "{}{}",
        dead_provider(),
        kannel.provider_toml("kannel")
    ))
    .await;
    let kiosk = server.kiosk().await.expect("kiosk");
    let flow = kiosk
        .start_flow(&start("ada", Intent::Reset))
        .await
        .expect("flow");
    let sms = flow
        .methods
        .iter()
        .find(|m| m.kind == MethodKind::Sms)
        .expect("sms offered");
    assert_eq!(sms.masked, "+49 ••• •••• 78");
    let seen = kannel.count_to(ADA_MOBILE);
    let ch = kiosk
        .challenge(&flow.flow_id, &sms.id)
        .await
        .expect("texted");
    assert_eq!(ch.sent_to.as_deref(), Some("+49 ••• •••• 78"));
    let code = texted_code(kannel, ADA_MOBILE, seen).await;
    let message = kannel.message_to(ADA_MOBILE, seen + 1).await.expect("sms");
    assert_eq!(message.from, "TestOrg");
    assert!(message.text.contains("Test Org"), "{message:?}");
    let wrong = kiosk
        .verify(&flow.flow_id, &ch.challenge_id, "000000")
        .await;
    assert_eq!(code_of(wrong), ErrorCode::CodeInvalid);
    let flow = kiosk
        .verify(&flow.flow_id, &ch.challenge_id, &code)
        .await
        .expect("the texted code verifies");
    assert_eq!(flow.state, FlowState::Verified);
    kiosk
        .set_password(&flow.flow_id, "violet kettle under maple rain")
        .await
        .expect("reset");
    assert!(directory_password_is(&server, "ada", "violet kettle under maple rain").await);
    // The code never reached a log.
    assert!(!server.log().contains(&code), "the code is in the log");
    let rows = server.audit(&["--user", "ada"]).expect("audit");
    assert!(rows
        .iter()
        .any(|r| r["event"] == "challenge_sent" && r["detail"].to_string().contains("sms")));
    assert!(!rows.iter().any(|r| r.to_string().contains(&code)));
}

#[tokio::test]
async fn every_gateway_down_is_told_at_once_and_counts_against_nobody() {
    let server = server(&dead_provider()).await;
    let kiosk = server.kiosk().await.expect("kiosk");
    for _ in 0..7 {
        let flow = kiosk
            .start_flow(&start("ada", Intent::Reset))
            .await
            .expect("flow");
        // The challenge answers at once; the kiosk follows it to the failure.
        let ch = kiosk
            .challenge(&flow.flow_id, &method(&flow, MethodKind::Sms))
            .await
            .expect("the challenge answers before the gateways do");
        assert_eq!(ch.delivery, Some(Delivery::Sending));
        let delivery = kiosk
            .delivery(&flow.flow_id, &ch.challenge_id, Duration::from_secs(20))
            .await
            .expect("status");
        assert_eq!(delivery, Some(Delivery::Failed));
    }
    // Seven failures, over the five-an-hour limit, and still not throttled: the failures
    // counted against nobody; email still works.
    let flow = kiosk
        .start_flow(&start("ada", Intent::Reset))
        .await
        .expect("flow");
    let flow = verify_email(&server, &kiosk, &flow, "ada@home.example.net").await;
    assert_eq!(flow.state, FlowState::Verified);
    let rows = server
        .audit_when(&[], |rows| {
            rows.iter()
                .filter(|r| r["event"] == "code_undelivered")
                .count()
                >= 7
        })
        .await
        .expect("audit");
    let failed = rows
        .iter()
        .find(|r| r["event"] == "code_undelivered")
        .expect("audited");
    assert!(failed["detail"].to_string().contains("down"), "{failed}");
    // /metrics counts them, by method and channel, read by Prometheus's own parser.
    let text = reqwest::Client::new()
        .get(format!("{}/metrics", server.base))
        .bearer_auth(METRICS_TOKEN)
        .send()
        .await
        .expect("scrape")
        .text()
        .await
        .expect("body");
    let samples = sspr_tests::python::parse_prometheus(&text).expect("parse");
    let failed: f64 = samples
        .iter()
        .filter(|s| s.name == "sspr_code_deliveries_total")
        .filter(|s| {
            [("method", "sms"), ("channel", "text"), ("result", "failed")]
                .iter()
                .all(|(k, v)| s.labels.get(*k).map(String::as_str) == Some(*v))
        })
        .map(|s| s.value)
        .sum();
    assert_eq!(failed, 7.0, "{text}");
}

#[tokio::test]
async fn numbers_are_checked_and_decoys_show_one_too() {
    let kannel = Kannel::shared().expect("kannel");
    let server = server(&kannel.provider_toml("kannel")).await;
    for bad in [
        "030 1234567",
        "0900 1234567",
        "+44 7400 123456",
        "not a number",
    ] {
        let refused = server.register(&format!(
            "[[person]]\nlogin = \"alan\"\nmobile = \"{bad}\"\n"
        ));
        assert!(refused.is_err(), "{bad} was taken");
    }
    let kiosk = server.kiosk().await.expect("kiosk");
    // Decoys stand in for real people in their shares: some logins nobody has show
    // Ada's shape, a number among them.
    let mut found = None;
    for i in 0..60 {
        let decoy = kiosk
            .start_flow(&start(&format!("nobody-{i}"), Intent::Reset))
            .await
            .expect("decoy");
        if let Some(m) = decoy.methods.iter().find(|m| m.kind == MethodKind::Sms) {
            found = Some((decoy.clone(), m.clone()));
            break;
        }
    }
    let (decoy, sms) = found.expect("some decoys offer a number");
    assert!(sms.masked.starts_with("+49 ••• •••• "), "{}", sms.masked);
    let before = kannel.messages().len();
    let ch = kiosk
        .challenge(&decoy.flow_id, &sms.id)
        .await
        .expect("a decoy's send answers as a real one");
    assert_eq!(ch.sent_to.as_deref(), Some(sms.masked.as_str()));
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert_eq!(kannel.messages().len(), before, "a decoy sends nothing");
}

/// Twilio's and Vonage's documented APIs through the HTTP gateway's presets (against a
/// local replay of them): a Vonage key that is refused (Vonage answers 200 with status
/// "4") is followed by Twilio, which takes the message; the code never reaches the log.
#[tokio::test]
async fn http_presets_for_twilio_and_vonage_with_failover() {
    use sspr_tests::sms_replay::{SmsReplay, TWILIO_TOKEN, VONAGE_SECRET};
    let replay = SmsReplay::start().await.expect("replay");
    let server = server(&format!(
        "{}{}",
        replay.provider_toml("vonage", "not-the-secret"),
        replay.provider_toml("twilio", TWILIO_TOKEN)
    ))
    .await;
    let kiosk = server.kiosk().await.expect("kiosk");
    let flow = kiosk
        .start_flow(&start("ada", Intent::Reset))
        .await
        .expect("flow");
    let ch = kiosk
        .challenge(&flow.flow_id, &method(&flow, MethodKind::Sms))
        .await
        .expect("texted through the second gateway");
    assert_eq!(
        kiosk
            .delivery(&flow.flow_id, &ch.challenge_id, Duration::from_secs(20))
            .await
            .expect("status"),
        Some(Delivery::Sent)
    );
    let taken = replay.taken();
    assert_eq!(taken.len(), 1, "{taken:?}");
    assert_eq!(
        (
            taken[0].provider,
            taken[0].to.as_str(),
            taken[0].from.as_str()
        ),
        ("twilio", ADA_MOBILE, "TestOrg")
    );
    let code: String = taken[0]
        .text
        .split(|c: char| !c.is_ascii_digit())
        .find(|w| w.len() == 6)
        .expect("a code")
        .to_string();
    kiosk
        .verify(&flow.flow_id, &ch.challenge_id, &code)
        .await
        .expect("verified");
    assert!(!server.log().contains(&code));
    assert!(
        server.log().contains("vonage"),
        "the refused gateway is logged by name"
    );

    // Vonage with the right secret takes it first; with every gateway answering 500 the
    // kiosk following the send is told.
    drop(server);
    let second = self::server(&replay.provider_toml("vonage", VONAGE_SECRET)).await;
    let kiosk = second.kiosk().await.expect("kiosk");
    let flow = kiosk
        .start_flow(&start("ada", Intent::Reset))
        .await
        .expect("flow");
    let ch = kiosk
        .challenge(&flow.flow_id, &method(&flow, MethodKind::Sms))
        .await
        .expect("vonage");
    assert_eq!(
        kiosk
            .delivery(&flow.flow_id, &ch.challenge_id, Duration::from_secs(20))
            .await
            .expect("status"),
        Some(Delivery::Sent)
    );
    assert_eq!(
        replay.taken().last().map(|t| (t.provider, t.to.clone())),
        Some(("vonage", "4915112345678".to_string()))
    );
    replay.fail(true);
    let flow = kiosk
        .start_flow(&start("ada", Intent::Reset))
        .await
        .expect("flow");
    let ch = kiosk
        .challenge(&flow.flow_id, &method(&flow, MethodKind::Sms))
        .await
        .expect("the challenge answers first");
    assert_eq!(
        kiosk
            .delivery(&flow.flow_id, &ch.challenge_id, Duration::from_secs(20))
            .await
            .expect("status"),
        Some(Delivery::Failed)
    );
}

/// A template with a placeholder that doesn't render, or a preset nobody knows, is a
/// configuration refused at start.
#[tokio::test]
async fn a_template_that_does_not_render_is_refused_at_start() {
    for provider in [
        "[[sms.provider]]\nname = \"x\"\nkind = \"http\"\nurl = \"http://127.0.0.1:9\"\nfields = { to = \"{phone}\" }\n",
        "[[sms.provider]]\nname = \"x\"\nkind = \"http\"\npreset = \"smoke-signals\"\nurl = \"http://127.0.0.1:9\"\n",
    ] {
        let started = TestServer::with_config(&format!(
            "[policy]\nmethods = [\"email\", \"totp\", \"sms\"]\n\n{provider}"
        ))
        .await;
        let Err(e) = started else {
            panic!("a server started with {provider}");
        };
        assert!(
            e.to_string().contains("sms.provider"),
            "{e}"
        );
    }
}

/// A code read out by a call to an office number (Twilio's Calls API, against the
/// replay): the number and its extension dialled, the code spoken digit by digit, twice,
/// in the flow's language.
#[tokio::test]
async fn a_code_read_out_by_a_call_to_an_office_phone_and_its_extension() {
    use sspr_tests::sms_replay::SmsReplay;
    let replay = SmsReplay::start().await.expect("replay");
    let server = TestServer::with_config(&format!(
        "[policy]\nmethods = [\"email\", \"totp\", \"voice\"]\n\n[sms]\ndefault_region = \"DE\"\n\n[voice]\ncaller_id = \"+4930555000\"\n{}",
        replay.voice_provider_toml()
    ))
    .await
    .expect("server");
    server
        .register("[[person]]\nlogin = \"ada\"\noffice_phone = \"030 1234567 ext. 89\"\n")
        .expect("register an office phone");
    assert!(server
        .register("[[person]]\nlogin = \"ada\"\noffice_phone = \"0900 1234567\"\n")
        .is_err());
    let kiosk = server.kiosk().await.expect("kiosk");
    let flow = kiosk
        .start_flow(&StartFlowRequest {
            login: "ada".into(),
            intent: Intent::Reset,
            locale: Some("de".into()),
        })
        .await
        .expect("flow");
    let voice = flow
        .methods
        .iter()
        .find(|m| m.kind == MethodKind::Voice)
        .expect("a call offered");
    assert_eq!(voice.masked, "+49 ••• •••• 67");
    let ch = kiosk
        .challenge(&flow.flow_id, &voice.id)
        .await
        .expect("called");
    // The call goes out after the challenge answers: follow it to its end first.
    let delivered = kiosk
        .delivery(&flow.flow_id, &ch.challenge_id, Duration::from_secs(20))
        .await
        .expect("delivery");
    assert_eq!(delivered, Some(Delivery::Sent), "the call was placed");
    let call = replay.taken().last().cloned().expect("a call");
    assert_eq!(
        (call.provider, call.to.as_str(), call.from.as_str()),
        ("twilio-call", "+49301234567", "+4930555000")
    );
    assert_eq!(replay.digits().last().map(String::as_str), Some("wwww89"));
    assert!(call.text.contains("language=\"de-DE\""), "{}", call.text);
    // "1, 2, 3, 4, 5, 6" twice.
    let spoken: Vec<String> = call
        .text
        .split("<Say")
        .skip(1)
        .map(|say| {
            let words = say.split("</Say>").next().unwrap_or_default();
            let words = words.split_once('>').map(|(_, w)| w).unwrap_or_default();
            words.chars().filter(char::is_ascii_digit).collect()
        })
        .collect();
    assert_eq!(spoken.len(), 2);
    assert_eq!(spoken[0], spoken[1]);
    let code = spoken[0].clone();
    assert_eq!(code.len(), 6);
    kiosk
        .verify(&flow.flow_id, &ch.challenge_id, &code)
        .await
        .expect("the spoken code verifies");
    assert!(!server.log().contains(&code));
}

/// A number as a person might paste it on "My security info": 1 MB of digits is refused
/// before it is read (payload_too_large), 40 digits, letters or a foreign number each with
/// a clear reason; nothing is registered and nothing is texted.
#[tokio::test]
async fn numbers_typed_on_my_security_info_that_cant_be_used() {
    use serde_json::json;
    use sspr_tests::phone::Phone;
    let kannel = Kannel::shared().expect("kannel");
    let server = server(&kannel.provider_toml("kannel")).await;
    let mut phone = Phone::new(&server).expect("phone");
    phone
        .sign_in_with_totp("ada", sspr_tests::ADA_PASSWORD, sspr_tests::ADA_TOTP)
        .await
        .expect("signed in");
    let before = kannel.messages().len();
    let huge = phone
        .send(
            reqwest::Method::POST,
            "/v1/my/mobile/start",
            Some(json!({ "number": "1".repeat(1 << 20) })),
        )
        .await
        .expect("answer");
    assert_eq!(huge.status, 413, "{}", huge.body);
    assert_eq!(huge.body["code"], json!(ErrorCode::PayloadTooLarge));
    for bad in [
        "1".repeat(40),
        "call me maybe".to_string(),
        "+1 202 555 0147".to_string(),
        "0900 1234567".to_string(),
        "0151\u{0}12345678".to_string(),
    ] {
        let refused = phone
            .send(
                reqwest::Method::POST,
                "/v1/my/mobile/start",
                Some(json!({ "number": bad })),
            )
            .await
            .expect("answer");
        assert_eq!(refused.status, 400, "{bad:?}: {}", refused.body);
        assert_eq!(
            refused.body["code"],
            json!(ErrorCode::BadRequest),
            "{bad:?}"
        );
        let message = refused.body["message"].as_str().unwrap_or_default();
        assert!(
            !message.is_empty() && message.len() < 300,
            "{bad:?}: {message}"
        );
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(kannel.messages().len(), before, "nothing was texted");
}
