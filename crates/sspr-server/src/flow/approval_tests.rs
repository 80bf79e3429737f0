//! QR approval's rules on the test's clock (`crate::testkit`): the number the kiosk
//! shows, the approval's life, one approval at a time. The passkey's check itself is
//! webauthn-rs's, tested with a software passkey in the API and Chromium tests.

use sspr_proto::{ApprovalFailure, FlowEvent, Intent, MethodKind};

use super::approval::{token_ok, Approvals, Latest};
use super::{ApprovalRefusal, FlowError};
use crate::testkit::{error_of, Kit, T0};

/// A kit where approval is offered, and Ada, who registered a passkey.
async fn kit() -> Kit {
    let kit = Kit::with_passkeys(|c| {
        c.policy.methods = vec![MethodKind::Email, MethodKind::Approval];
    })
    .await;
    kit.person("ada", &[], &[MethodKind::Email, MethodKind::Approval])
        .await;
    kit
}

/// Starts Ada's approval: the flow, its events and the phone's token.
async fn approval(
    kit: &Kit,
    now: i64,
) -> (
    sspr_proto::FlowView,
    tokio::sync::watch::Receiver<Latest>,
    String,
) {
    let flow = kit.start("ada", Intent::Reset, now).await.expect("flow");
    let events = kit
        .flows
        .subscribe(&Kit::caller(), &flow.flow_id, now)
        .await
        .expect("events");
    let ch = kit
        .challenge(&flow, MethodKind::Approval, now)
        .await
        .expect("approval");
    assert_eq!(ch.code_length, 2);
    let url = ch.approval_url.expect("a URL for the QR code");
    let token = url.rsplit('/').next().unwrap_or_default().to_string();
    (flow, events, token)
}

fn latest(events: &tokio::sync::watch::Receiver<Latest>) -> Option<FlowEvent> {
    events.borrow().1.clone()
}

#[tokio::test]
async fn the_phone_must_type_the_number_the_kiosk_shows() {
    let kit = kit().await;
    let (_, events, token) = approval(&kit, T0).await;
    // Not before the page is open.
    let early = kit.flows.approval_number(&token, "42", "phone", T0).await;
    assert!(matches!(
        error_of(early),
        FlowError::ApprovalStep(ApprovalRefusal::PastStep)
    ));
    kit.flows
        .approval_open(&token, "phone", T0 + 1)
        .await
        .expect("opened");
    let Some(FlowEvent::Scanned { number, .. }) = latest(&events) else {
        panic!("the kiosk wasn't shown a number: {:?}", latest(&events));
    };
    let n: u32 = number.parse().expect("a number");
    assert!((10..=99).contains(&n), "{number}");
    let wrong = if n == 99 { 10 } else { n + 1 };
    let typed = kit
        .flows
        .approval_number(&token, &wrong.to_string(), "phone", T0 + 2)
        .await;
    assert!(matches!(
        error_of(typed),
        FlowError::ApprovalFailed { blocked: false, .. }
    ));
    assert!(matches!(
        latest(&events),
        Some(FlowEvent::Failed {
            reason: ApprovalFailure::WrongNumber,
            ..
        })
    ));
    // The approval is over: the token opens nothing now.
    let again = kit.flows.approval_open(&token, "phone", T0 + 3).await;
    assert!(matches!(error_of(again), FlowError::ApprovalUnknown));
}

#[tokio::test]
async fn an_approval_lives_its_ttl_and_the_kiosk_is_told_when_it_ends() {
    let kit = kit().await;
    let ttl = i64::from(kit.core.config().approval.ttl_secs);
    let (_, events, token) = approval(&kit, T0).await;
    kit.flows.expire_approvals(T0 + ttl - 1).await;
    kit.flows
        .approval_open(&token, "phone", T0 + ttl - 1)
        .await
        .expect("still alive a second before");
    kit.flows.expire_approvals(T0 + ttl).await;
    assert!(matches!(
        latest(&events),
        Some(FlowEvent::Failed {
            reason: ApprovalFailure::Expired,
            ..
        })
    ));
    let late = kit.flows.approval_open(&token, "phone", T0 + ttl).await;
    assert!(matches!(error_of(late), FlowError::ApprovalUnknown));
}

#[tokio::test]
async fn a_new_approval_replaces_the_flows_earlier_one() {
    let kit = kit().await;
    let (flow, _, first) = approval(&kit, T0).await;
    let ch = kit
        .challenge(&flow, MethodKind::Approval, T0 + 5)
        .await
        .expect("again");
    let second = ch.approval_url.expect("url");
    assert!(!second.ends_with(&first));
    let old = kit.flows.approval_open(&first, "phone", T0 + 6).await;
    assert!(matches!(error_of(old), FlowError::ApprovalUnknown));
    // A token that isn't one is refused alike.
    let forged = kit
        .flows
        .approval_open("AAAAAAAAAAAAAAAAAAAAAA", "phone", T0 + 6)
        .await;
    assert!(matches!(error_of(forged), FlowError::ApprovalUnknown));
}

#[tokio::test]
async fn wrong_numbers_count_towards_the_block() {
    let kit = kit().await;
    let mut blocked = false;
    for i in 0..5 {
        let now = T0 + i * 10;
        let (_, events, token) = approval(&kit, now).await;
        kit.flows
            .approval_open(&token, "phone", now)
            .await
            .expect("open");
        let Some(FlowEvent::Scanned { number, .. }) = latest(&events) else {
            panic!("no number");
        };
        let wrong = if number == "10" { "11" } else { "10" };
        let r = kit.flows.approval_number(&token, wrong, "phone", now).await;
        blocked = matches!(error_of(r), FlowError::ApprovalFailed { blocked: true, .. });
    }
    assert!(blocked, "the fifth wrong number blocks");
    let after = kit.start("ada", Intent::Reset, T0 + 60).await;
    assert!(matches!(error_of(after), FlowError::Blocked { .. }));
}

#[test]
fn tokens_are_22_base64url_characters() {
    assert!(token_ok("AAAAAAAAAAAAAAAAAAAAAA"));
    assert!(token_ok("abc-_0123456789xyzABCD"));
    assert!(!token_ok("abc"));
    assert!(!token_ok("AAAAAAAAAAAAAAAAAAAA/A"));
    assert!(!token_ok(&"A".repeat(23)));
}

/// Events are rows in order: a kiosk that connects late is shown the latest (whichever
/// process's hub pushed it), then each new one, each with a later id.
#[tokio::test]
async fn a_kiosk_that_connects_late_gets_the_latest_event_then_each_new_one() {
    let kit = kit().await;
    let hub = Approvals::new(kit.core.store.clone(), kit.core.key.clone());
    hub.push(
        "f1",
        Some(FlowEvent::Scanned {
            challenge_id: "c".into(),
            number: "42".into(),
        }),
        T0,
    )
    .await
    .expect("push");
    let mut rx = hub.subscribe("f1", T0 + 100).await.expect("subscribe");
    assert_eq!(hub.listeners("f1"), 1);
    let (first, event) = rx.borrow_and_update().clone();
    assert!(first > 0);
    assert!(matches!(
        event,
        Some(FlowEvent::Scanned { number, .. }) if number == "42"
    ));
    hub.push("f1", None, T0).await.expect("push");
    assert!(rx.changed().await.is_ok());
    assert!(rx.borrow().0 > first, "a later event has a later id");
    // Another hub on the same store (another process's) shows its kiosk the same.
    let other = Approvals::new(kit.core.store.clone(), kit.core.key.clone());
    let theirs = other.subscribe("f1", T0 + 100).await.expect("subscribe");
    assert_eq!(theirs.borrow().0, rx.borrow().0);
}
