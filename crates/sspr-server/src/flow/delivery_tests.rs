//! Texts and calls sent after the challenge answers (`delivery`), stepped on the test's
//! clock against gateways that keep their messages (`crate::testkit`).

use sspr_proto::{ChallengeRequest, Delivery, Intent, MethodKind};

use super::FlowError;
use crate::testkit::{error_of, mobile_of, Kit, T0};

async fn kit() -> Kit {
    Kit::with(|c| {
        c.policy.methods = vec![MethodKind::Email, MethodKind::Sms, MethodKind::Voice];
    })
    .await
}

/// Every gateway refuses: the kiosk learns it by following the challenge, nothing counts
/// against the person (no resend wait, no rate limit), and the admin has the event.
#[tokio::test]
async fn a_send_every_gateway_failed_counts_against_nobody() {
    let kit = kit().await;
    kit.person("ada", &[], &[MethodKind::Sms]).await;
    kit.sms.refuse(true);
    let flow = kit.start("ada", Intent::Reset, T0).await.expect("flow");
    for i in 0..7 {
        let ch = kit
            .challenge(&flow, MethodKind::Sms, T0 + i)
            .await
            .unwrap_or_else(|e| panic!("try {}: {e:?}", i + 1));
        assert_eq!(
            kit.delivered(&flow, &ch.challenge_id).await,
            Delivery::Failed
        );
    }
    kit.core.audit.flush().await;
    let undelivered = kit
        .core
        .store
        .audit_event_counts(&["code_undelivered"], 0)
        .await
        .expect("counts");
    assert_eq!(undelivered, vec![("code_undelivered".to_string(), 7)]);
    kit.sms.refuse(false);
    let ch = kit
        .challenge(&flow, MethodKind::Sms, T0 + 8)
        .await
        .expect("the gateway is back");
    assert_eq!(kit.delivered(&flow, &ch.challenge_id).await, Delivery::Sent);
    let soon = kit.challenge(&flow, MethodKind::Sms, T0 + 9).await;
    assert!(
        matches!(error_of(soon), FlowError::ResendWait { .. }),
        "a code that went waits out the resend time"
    );
}

/// A number takes at most `destination_messages` (10) an hour, whoever asks: two people
/// sharing an office line can't together make it ring more.
#[tokio::test]
async fn a_number_takes_ten_an_hour_whoever_asks() {
    let kit = kit().await;
    let shared = mobile_of("ada");
    for who in ["ada", "bob", "cy"] {
        kit.person(who, &[], &[]).await;
        kit.core
            .store
            .add_registration(&format!("id-{who}"), MethodKind::Sms, &shared, "Mobile", T0)
            .await
            .expect("number");
        kit.core
            .store
            .add_registration(
                &format!("id-{who}"),
                MethodKind::Email,
                &format!("{who}@home.example.net"),
                "Email",
                T0,
            )
            .await
            .expect("email");
    }
    kit.flows.refresh_stand_ins().await;
    let mut t = T0;
    for who in ["ada", "bob"] {
        for _ in 0..5 {
            t += 31;
            let f = kit.start(who, Intent::Reset, t).await.expect("flow");
            let ch = kit.challenge(&f, MethodKind::Sms, t).await.expect("sent");
            kit.delivered(&f, &ch.challenge_id).await;
        }
    }
    let f = kit.start("cy", Intent::Reset, t + 31).await.expect("flow");
    let eleventh = kit.challenge(&f, MethodKind::Sms, t + 31).await;
    assert!(matches!(error_of(eleventh), FlowError::RateLimited { .. }));
    let later = kit
        .start("cy", Intent::Reset, T0 + 3700)
        .await
        .expect("flow");
    kit.challenge(&later, MethodKind::Sms, T0 + 3700)
        .await
        .expect("an hour on");
}

/// A mobile number may be called instead of texted (where calls are on): the same
/// method, the code read out, verified the same way. An office number is never "called
/// instead", and where calls are off nobody is.
#[tokio::test]
async fn a_mobile_number_is_called_instead_of_texted() {
    let kit = kit().await;
    kit.person("ada", &[], &[MethodKind::Sms]).await;
    let mobile = mobile_of("ada");
    let flow = kit.start("ada", Intent::Reset, T0).await.expect("flow");
    let sms = flow
        .methods
        .iter()
        .find(|m| m.kind == MethodKind::Sms)
        .expect("sms");
    assert!(sms.can_call);
    let ch = kit
        .flows
        .challenge(
            &Kit::caller(),
            &flow.flow_id,
            &ChallengeRequest {
                method_id: sms.id.clone(),
                finish_on_phone: false,
                call: true,
            },
            T0,
        )
        .await
        .expect("called");
    assert_eq!(kit.delivered(&flow, &ch.challenge_id).await, Delivery::Sent);
    assert!(kit.sms.last_code(&mobile).is_none(), "not texted");
    let script = kit.calls.last_text(&mobile).expect("called");
    assert!(script.contains("<Say"), "read out: {script}");
    let code = kit.calls.last_code(&mobile);
    assert!(
        code.is_none(),
        "the code is read digit by digit, not as one number"
    );
    let digits: String = script
        .split("<Say")
        .nth(1)
        .and_then(|said| said.split("</Say>").next())
        .unwrap_or_default()
        .chars()
        .filter(char::is_ascii_digit)
        .collect();
    let done = kit
        .verify(&flow, &ch.challenge_id, &digits, T0 + 1)
        .await
        .expect("verified");
    assert_eq!(done.done, 1);

    let email = flow.methods.iter().find(|m| m.kind == MethodKind::Email);
    if let Some(email) = email {
        let not = kit
            .flows
            .challenge(
                &Kit::caller(),
                &flow.flow_id,
                &ChallengeRequest {
                    method_id: email.id.clone(),
                    finish_on_phone: false,
                    call: true,
                },
                T0 + 2,
            )
            .await;
        assert!(matches!(error_of(not), FlowError::MethodUnavailable));
    }
    let off = Kit::with(|c| c.policy.methods = vec![MethodKind::Email, MethodKind::Sms]).await;
    off.person("ada", &[], &[MethodKind::Sms]).await;
    let f = off.start("ada", Intent::Reset, T0).await.expect("flow");
    assert!(f.methods.iter().all(|m| !m.can_call));
}

/// A login nobody has: its text "goes" as long as real ones lately took and ends as they
/// lately ended (failed while every gateway is failing), and nothing is sent.
#[tokio::test]
async fn a_decoys_text_ends_as_real_ones_end() {
    let kit = kit().await;
    kit.person("ada", &[], &[MethodKind::Sms]).await;
    let decoy = kit.start("nobody", Intent::Reset, T0).await.expect("decoy");
    let ch = kit
        .challenge(&decoy, MethodKind::Sms, T0)
        .await
        .expect("decoy text");
    assert_eq!(ch.delivery, Some(Delivery::Sending));
    assert_eq!(
        kit.delivered(&decoy, &ch.challenge_id).await,
        Delivery::Sent
    );
    assert_eq!(kit.sms.count(), 0, "nothing was sent");

    kit.sms.refuse(true);
    let flow = kit.start("ada", Intent::Reset, T0 + 1).await.expect("flow");
    let real = kit
        .challenge(&flow, MethodKind::Sms, T0 + 1)
        .await
        .expect("tried");
    assert_eq!(
        kit.delivered(&flow, &real.challenge_id).await,
        Delivery::Failed
    );
    let decoy = kit
        .start("nobody", Intent::Reset, T0 + 2)
        .await
        .expect("decoy");
    let ch = kit
        .challenge(&decoy, MethodKind::Sms, T0 + 2)
        .await
        .expect("decoy text");
    assert_eq!(
        kit.delivered(&decoy, &ch.challenge_id).await,
        Delivery::Failed
    );
}
