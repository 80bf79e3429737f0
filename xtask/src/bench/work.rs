//! What a kiosk sends, timed step by step: identify alone, and a complete reset with two
//! methods (emailed code, then authenticator).

use std::future::Future;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use sspr_client::Client;
use sspr_proto::{FlowState, FlowView, Intent, MethodKind, Outcome, StartFlowRequest};

use super::mail::Codes;
use super::target::Person;

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
/// The one step that hashes (the directory stores the new password as argon2id).
pub const HASHING_STEP: &str = "password";
/// The step that is not a request: the code mail reaching the mailbox after the
/// challenge was answered.
pub const MAIL_STEP: &str = "mail";

/// Long enough for any code mail on loopback; a flow that waits longer failed.
const MAIL_TIMEOUT: Duration = Duration::from_secs(10);
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
/// an authenticator step too).
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
    let (email, totp) = (
        method(&flow, MethodKind::Email)?,
        method(&flow, MethodKind::Totp)?,
    );

    let (challenge, email_challenge) = timed(kiosk.challenge(&flow.flow_id, &email)).await?;
    let (code, mail) = timed(codes.wait(&person.address, MAIL_TIMEOUT)).await?;
    let (after_email, verify_email) =
        timed(kiosk.verify(&flow.flow_id, &challenge.challenge_id, &code)).await?;
    anyhow::ensure!(after_email.done == 1, "the emailed code was not counted");

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
        email_challenge,
        mail,
        verify_email,
        totp_challenge,
        verify_totp,
        password,
    ])
}
