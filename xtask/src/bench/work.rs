//! What a kiosk sends, timed step by step: identify alone, and a complete reset with two
//! methods (a code by email or by text message, then an authenticator).

use std::future::Future;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use sspr_client::Client;
use sspr_proto::{FlowState, FlowView, Intent, MethodKind, Outcome, StartFlowRequest};

use super::mail::Codes;
use super::target::{Channel, Person};

/// The steps of a reset, in order, as the report names them.
pub const STEPS: [&str; 7] = [
    "identify",
    "email",
    "mail",
    "verify-email",
    "totp",
    "verify-totp",
    "password",
];
/// The steps of a reset with a texted code.
pub const SMS_STEPS: [&str; 7] = [
    "identify",
    "sms",
    "text",
    "verify-sms",
    "totp",
    "verify-totp",
    "password",
];
/// The one step that hashes (the directory stores the new password as argon2id).
pub const HASHING_STEP: &str = "password";
/// The step that is not a request: the code mail reaching the mailbox after the
/// challenge was answered.
pub const MAIL_STEP: &str = "mail";
/// Where the challenge call is among the steps (the code's challenge: email, sms).
pub const CHALLENGE_STEP: usize = 1;

impl Channel {
    /// The method that sends this channel's code.
    fn method(self) -> MethodKind {
        match self {
            Channel::Email => MethodKind::Email,
            Channel::Sms => MethodKind::Sms,
        }
    }
}

/// Long enough for any code mail or text on loopback; a flow that waits longer failed.
const CODE_TIMEOUT: Duration = Duration::from_secs(10);
const NEW_PASSWORD: &str = "violet kettle under maple rain";

async fn timed<T, E>(call: impl Future<Output = Result<T, E>>) -> Result<(T, Duration), E> {
    let started = Instant::now();
    let value = call.await?;
    Ok((value, started.elapsed()))
}

fn start(login: String) -> StartFlowRequest {
    StartFlowRequest {
        login,
        intent: Intent::Reset,
        locale: None,
    }
}

fn method(flow: &FlowView, kind: MethodKind) -> anyhow::Result<String> {
    flow.methods
        .iter()
        .find(|m| m.kind == kind)
        .map(|m| m.id.clone())
        .with_context(|| format!("the flow offers no {kind:?} method"))
}

/// The kiosk's settings: the cheapest signed request.
pub async fn settings(kiosk: &Client) -> anyhow::Result<Duration> {
    let (_, took) = timed(kiosk.settings()).await?;
    Ok(took)
}

/// POST /v1/flows.
pub async fn identify(kiosk: &Client, login: String) -> anyhow::Result<Duration> {
    let (_, took) = timed(kiosk.start_flow(&start(login))).await?;
    Ok(took)
}

/// A whole reset for `person`, who must not have been used before (a code is good once,
/// an authenticator step too). `codes` holds what reaches them by their channel (the
/// mailbox's codes, or the fake SMSC's).
pub async fn reset(
    kiosk: &Client,
    codes: &Codes,
    person: &Person,
) -> anyhow::Result<Vec<Duration>> {
    let (flow, identify) = timed(kiosk.start_flow(&start(person.username.clone()))).await?;
    anyhow::ensure!(
        flow.required == 2,
        "the flow asks for {} methods, not 2",
        flow.required
    );
    let (sent, totp) = (
        method(&flow, person.channel.method())?,
        method(&flow, MethodKind::Totp)?,
    );

    let (challenge, sent_challenge) = timed(kiosk.challenge(&flow.flow_id, &sent)).await?;
    let (code, arrived) = timed(codes.wait(&person.address, CODE_TIMEOUT)).await?;
    let (after_code, verify_code) =
        timed(kiosk.verify(&flow.flow_id, &challenge.challenge_id, &code)).await?;
    anyhow::ensure!(
        after_code.done == 1,
        "the {:?} code was not counted",
        person.channel
    );

    let (challenge, totp_challenge) = timed(kiosk.challenge(&flow.flow_id, &totp)).await?;
    let code = sspr_tests::totp_now(&person.totp);
    let (verified, verify_totp) =
        timed(kiosk.verify(&flow.flow_id, &challenge.challenge_id, &code)).await?;
    anyhow::ensure!(
        verified.state == FlowState::Verified,
        "not verified after two methods"
    );

    let (done, password) = timed(kiosk.set_password(&flow.flow_id, NEW_PASSWORD)).await?;
    anyhow::ensure!(
        done.outcome == Outcome::PasswordReset,
        "no reset: {:?}",
        done.outcome
    );
    Ok(vec![
        identify,
        sent_challenge,
        arrived,
        verify_code,
        totp_challenge,
        verify_totp,
        password,
    ])
}
