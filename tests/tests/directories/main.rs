#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]
//! Writeback to real directories: a real OpenLDAP slapd with ppolicy and a real Samba AD
//! DC (each started once for this test binary, on loopback), and a local replay of
//! Microsoft Graph. The server binary talks to them exactly as in production. A Linux
//! PC's sign-in through a real sssd follows a reset from the kiosk to a login
//! (`workstation.rs`).

mod ad;
mod console;
mod entra;
mod ldap;
mod linked;
mod login_screen;
mod workstation;

use sspr_tests::sspr_client::{Client, ClientError};
use sspr_tests::sspr_proto::{DoneView, ErrorBody, FlowView, Intent, MethodKind, StartFlowRequest};
use sspr_tests::{Options, TestServer};

/// A fresh name for this test's people, so tests sharing one directory don't meet.
pub fn unique(prefix: &str) -> String {
    format!("{prefix}{}", rand::random::<u32>() % 1_000_000)
}

pub async fn server_with(directory_toml: &str) -> TestServer {
    TestServer::start_with(Options {
        extra_config: directory_toml.to_string(),
        real_directory: true,
        ..Options::default()
    })
    .await
    .expect("server")
}

pub fn start(login: &str, intent: Intent) -> StartFlowRequest {
    StartFlowRequest {
        login: login.to_string(),
        intent,
        locale: None,
    }
}

#[track_caller]
pub fn error_of<T: std::fmt::Debug>(r: Result<T, ClientError>) -> ErrorBody {
    match r {
        Ok(v) => panic!("expected an error, got {v:?}"),
        Err(ClientError::Api { body, .. }) => *body,
        Err(e) => panic!("not an API error: {e}"),
    }
}

/// Registers an alternate email for `login` and walks identify → email code → verified.
pub async fn verified_flow(
    server: &TestServer,
    kiosk: &Client,
    login: &str,
    intent: Intent,
) -> FlowView {
    let local = login.split('@').next().unwrap_or(login);
    let alt = format!("{local}@home.example.net");
    server
        .register(&format!(
            "[[person]]\nlogin = \"{login}\"\nemail = \"{alt}\"\n"
        ))
        .expect("register");
    let flow = kiosk.start_flow(&start(login, intent)).await.expect("flow");
    verify_email(server, kiosk, &flow, &alt).await
}

pub async fn verify_email(
    server: &TestServer,
    kiosk: &Client,
    flow: &FlowView,
    to: &str,
) -> FlowView {
    let method = flow
        .methods
        .iter()
        .find(|m| m.kind == MethodKind::Email)
        .map(|m| m.id.clone())
        .unwrap_or_else(|| panic!("no email method in {flow:?}"));
    let seen = server.code_mails_to(to).len();
    let ch = kiosk
        .challenge(&flow.flow_id, &method)
        .await
        .expect("email challenge");
    let code = server.code_mail(to, seen).await.expect("code mail");
    kiosk
        .verify(&flow.flow_id, &ch.challenge_id, &code)
        .await
        .expect("email code accepted")
}

/// A disabled person gets a flow shaped like an unknown login's, and the audit says why.
pub async fn assert_disabled_looks_unknown(server: &TestServer, kiosk: &Client, login: &str) {
    let disabled = kiosk
        .start_flow(&start(login, Intent::Reset))
        .await
        .expect("flow");
    let unknown = kiosk
        .start_flow(&start("nobody-here-at-all", Intent::Reset))
        .await
        .expect("flow");
    assert_eq!(disabled.methods.len(), unknown.methods.len());
    assert_eq!(disabled.required, unknown.required);
    assert_eq!(disabled.state, unknown.state);
    let started = events(server, "flow_started");
    assert!(
        started.iter().any(|e| e["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("disabled")),
        "{started:?}"
    );
}

pub fn all_ok(done: &DoneView) -> bool {
    !done.directories.is_empty() && done.directories.iter().all(|d| d.ok)
}

/// The audit events of one kind.
pub fn events(server: &TestServer, name: &str) -> Vec<serde_json::Value> {
    server
        .audit(&[])
        .expect("audit")
        .into_iter()
        .filter(|e| e["event"] == name)
        .collect()
}

pub async fn readyz(server: &TestServer) -> (u16, serde_json::Value) {
    let r = reqwest::get(format!("{}/readyz", server.base))
        .await
        .expect("readyz");
    let status = r.status().as_u16();
    (status, r.json().await.expect("readyz json"))
}

/// "My security info" signs in with the directory's own password, and a login the
/// directory doesn't hold (a bind as an entry that can't exist) answers as a wrong
/// password does, not "unavailable", and is counted and blocked the same way. One wrong
/// guess only for the real person: they are real binds, and both test directories lock an
/// account after 3.
pub async fn my_sign_in_answers_alike(
    server: &TestServer,
    login: &str,
    password: &str,
    nobody: &str,
) {
    use sspr_tests::phone::Phone;
    use sspr_tests::sspr_proto::ErrorCode;
    let mut phone = Phone::new(server).expect("phone");
    let wrong = phone
        .sign_in(login, "not my password")
        .await
        .expect("wrong");
    assert_eq!(wrong.error().code, ErrorCode::Unauthorized, "{wrong:?}");
    let right = phone.sign_in(login, password).await.expect("right");
    let session: sspr_tests::sspr_proto::MySession = right.into();
    assert!(
        session.signed_in,
        "nothing registered yet: the password is enough"
    );

    let mut stranger = Phone::new(server).expect("phone");
    for _ in 0..4 {
        let answer = stranger.sign_in(nobody, password).await.expect("decoy");
        assert_eq!(answer.error().code, ErrorCode::Unauthorized, "{answer:?}");
        assert_eq!(answer.error().message, wrong.error().message);
    }
    let fifth = stranger.sign_in(nobody, password).await.expect("fifth");
    assert_eq!(fifth.error().code, ErrorCode::Blocked, "{fifth:?}");
}

/// Where a directory dies in `killed_mid_reset`, for whom, and the password tried.
pub struct KilledAt<'a> {
    pub cut: sspr_tests::faults::Cut,
    pub login: &'a str,
    pub new_password: &'static str,
}

/// A person's reset, with the directory killed where `at.cut` says (between the person's
/// search and the write, or after the write but before its answer, through `tap`): the
/// person is told we can't tell yet, the audit says in doubt; once the directory is back
/// (`restart`), the same password finishes: written when the write never arrived, found
/// done (`writeback_confirmed`, not written twice) when it had. `binds` says whether a
/// password is the person's in the directory now. Returns the (finished) flow.
pub async fn killed_mid_reset(
    server: &TestServer,
    kiosk: &std::sync::Arc<Client>,
    tap: &sspr_tests::faults::Tap,
    at: KilledAt<'_>,
    kill: impl Fn(),
    restart: impl Fn() -> anyhow::Result<()>,
    binds: impl Fn(&str) -> bool,
) -> FlowView {
    use sspr_tests::faults::Cut;
    let (cut, new) = (at.cut, at.new_password);
    let flow = verified_flow(server, kiosk, at.login, Intent::Reset).await;
    // pwdChangedTime and pwdLastSet count seconds: the reset comes in a later one than
    // the person's creation.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    // The person's search goes through; the write is cut.
    let (reached, go) = tap.arm(1, cut);
    let reset = {
        let kiosk = kiosk.clone();
        let flow_id = flow.flow_id.clone();
        tokio::spawn(async move { kiosk.set_password(&flow_id, new).await })
    };
    reached.await.expect("the tap held the write");
    tokio::task::block_in_place(&kill);
    go.send(()).expect("go");
    let told = error_of(reset.await.expect("join"));
    assert_eq!(
        told.code,
        sspr_tests::sspr_proto::ErrorCode::DirectoryUnavailable,
        "{cut:?}: {told:?}"
    );
    assert!(told.message.contains("can't tell yet"), "{told:?}");
    let doubts = events(server, "writeback_in_doubt");
    assert!(
        doubts.iter().any(|e| e["reference"] == flow.reference),
        "{cut:?}: {doubts:?}"
    );

    tokio::task::block_in_place(&restart).expect("restart the directory");
    assert_eq!(
        binds(new),
        cut == Cut::AfterAnswer,
        "{cut:?}: did the write land?"
    );
    let done = kiosk
        .set_password(&flow.flow_id, new)
        .await
        .unwrap_or_else(|e| panic!("{cut:?}: the retry finishes: {e}"));
    assert!(all_ok(&done), "{done:?}");
    assert!(binds(new), "{cut:?}");
    let confirmed = events(server, "writeback_confirmed")
        .iter()
        .filter(|e| e["reference"] == flow.reference)
        .count();
    assert_eq!(confirmed, usize::from(cut == Cut::AfterAnswer), "{cut:?}");
    flow
}

/// The flows started so far, once there are `n` (the server commits audit rows a moment
/// after the event).
pub async fn flows_started(server: &TestServer, n: usize) -> Vec<serde_json::Value> {
    let rows = server
        .audit_when(&[], |rows| {
            rows.iter().filter(|r| r["event"] == "flow_started").count() >= n
        })
        .await
        .expect("audit");
    rows.into_iter()
        .filter(|e| e["event"] == "flow_started")
        .collect()
}

/// `[policy]`, `[sms]` and `[voice]` for numbers from `sources` (TOML, such as
/// `["registered", "directory"]`): texts and calls through Twilio's APIs as `replay`
/// answers them.
pub fn phone_policy(replay: &sspr_tests::sms_replay::SmsReplay, sources: &str) -> String {
    format!(
        "\n[policy]\nmethods = [\"email\", \"sms\", \"voice\"]\nnumbers_from = {sources}\n\n\
         [sms]\ndefault_region = \"DE\"\nsender = \"TestOrg\"\n{}\n\
         [voice]\ncaller_id = \"+4930555000\"\n{}",
        replay.provider_toml("twilio", sspr_tests::sms_replay::TWILIO_TOKEN),
        replay.voice_provider_toml()
    )
}

/// A person the directory holds numbers for, as `directory_toml` reaches it.
pub struct DirectoryPerson<'a> {
    pub login: &'a str,
    /// The mobile number in E.164, as the code is texted to it.
    pub mobile: &'a str,
    /// The office number in E.164 and its extension.
    pub office: (&'a str, &'a str),
    pub new_password: &'a str,
}

/// `person` registered nothing; the directory holds their mobile and office numbers. With
/// numbers from the directory, identify offers both, masked; a call dials the office
/// number and its extension; a reset with the texted code completes (`binds` says whether
/// a password is theirs in the directory now), and no number or code reaches the log.
/// With numbers from registrations only, the directory's are not offered: the person has
/// nothing registered, so they get a decoy, whose text goes nowhere.
pub async fn numbers_from_the_directory(
    directory_toml: &str,
    person: &DirectoryPerson<'_>,
    binds: impl Fn(&str) -> bool,
) {
    use sspr_tests::sms_replay::SmsReplay;
    let replay = SmsReplay::start().await.expect("sms replay");
    let six_digits = |text: &str| -> String {
        text.split(|c: char| !c.is_ascii_digit())
            .find(|w| w.len() == 6)
            .unwrap_or_else(|| panic!("no code in {text:?}"))
            .to_string()
    };
    let server = server_with(&format!(
        "{directory_toml}{}",
        phone_policy(&replay, "[\"registered\", \"directory\"]")
    ))
    .await;
    let kiosk = server.kiosk().await.expect("kiosk");
    let flow = kiosk
        .start_flow(&start(person.login, Intent::Reset))
        .await
        .expect("flow");
    let shown: Vec<(MethodKind, String)> = flow
        .methods
        .iter()
        .map(|m| (m.kind, m.masked.clone()))
        .collect();
    let last_two = |n: &str| n[n.len() - 2..].to_string();
    assert_eq!(
        shown,
        vec![
            (
                MethodKind::Sms,
                format!("+49 ••• •••• {}", last_two(person.mobile))
            ),
            (
                MethodKind::Voice,
                format!("+49 ••• •••• {}", last_two(person.office.0))
            ),
        ],
        "the directory's numbers, masked"
    );
    let started = flows_started(&server, 1).await;
    assert_eq!(started.len(), 1);
    assert!(
        !started[0]["detail"].to_string().contains("not_registered"),
        "a real flow: {started:?}"
    );
    let method = |kind| {
        flow.methods
            .iter()
            .find(|m| m.kind == kind)
            .map(|m| m.id.clone())
            .expect("offered")
    };

    // A call dials the office number and waits to dial its extension.
    // Texts and calls go out after the challenge answers: follow each to its end.
    let delivered = |ch: sspr_tests::sspr_proto::ChallengeView| {
        let kiosk = &kiosk;
        let flow_id = flow.flow_id.clone();
        async move {
            kiosk
                .delivery(
                    &flow_id,
                    &ch.challenge_id,
                    std::time::Duration::from_secs(20),
                )
                .await
                .expect("status")
        }
    };
    let call = kiosk
        .challenge(&flow.flow_id, &method(MethodKind::Voice))
        .await
        .expect("called");
    assert_eq!(
        delivered(call).await,
        Some(sspr_tests::sspr_proto::Delivery::Sent)
    );
    let call = replay.taken().last().cloned().expect("a call");
    assert_eq!(
        (call.provider, call.to.as_str()),
        ("twilio-call", person.office.0)
    );
    assert_eq!(
        replay.digits().last().cloned(),
        Some(format!("wwww{}", person.office.1))
    );

    // The texted code verifies and the reset lands in the directory.
    let ch = kiosk
        .challenge(&flow.flow_id, &method(MethodKind::Sms))
        .await
        .expect("texted");
    assert_eq!(
        delivered(ch.clone()).await,
        Some(sspr_tests::sspr_proto::Delivery::Sent)
    );
    let text = replay.taken().last().cloned().expect("a text");
    assert_eq!((text.provider, text.to.as_str()), ("twilio", person.mobile));
    let code = six_digits(&text.text);
    let flow = kiosk
        .verify(&flow.flow_id, &ch.challenge_id, &code)
        .await
        .expect("the texted code verifies");
    let done = kiosk
        .set_password(&flow.flow_id, person.new_password)
        .await
        .expect("reset");
    assert!(all_ok(&done), "{done:?}");
    assert!(binds(person.new_password), "the new password is in force");
    let log = server.log();
    for secret in [&code, &person.mobile[3..], &person.office.0[3..]] {
        assert!(!log.contains(secret), "{secret} is in the log");
    }
    drop(server);

    // Numbers from registrations only: nothing of the person's to offer.
    let server = server_with(&format!(
        "{directory_toml}{}",
        phone_policy(&replay, "[\"registered\"]")
    ))
    .await;
    let kiosk = server.kiosk().await.expect("kiosk");
    let decoy = kiosk
        .start_flow(&start(person.login, Intent::Reset))
        .await
        .expect("flow");
    let started = flows_started(&server, 1).await;
    assert!(
        started[0]["detail"].to_string().contains("not_registered"),
        "{started:?}"
    );
    let sms = decoy
        .methods
        .iter()
        .find(|m| m.kind == MethodKind::Sms)
        .expect("a decoy shows a number");
    let before = replay.taken().len();
    let ch = kiosk
        .challenge(&decoy.flow_id, &sms.id)
        .await
        .expect("a decoy's send answers as a real one");
    // Its send ends as real ones do, and nothing went out.
    assert_eq!(
        kiosk
            .delivery(
                &decoy.flow_id,
                &ch.challenge_id,
                std::time::Duration::from_secs(20)
            )
            .await
            .expect("status"),
        Some(sspr_tests::sspr_proto::Delivery::Sent)
    );
    assert_eq!(replay.taken().len(), before, "nothing was texted");
}
