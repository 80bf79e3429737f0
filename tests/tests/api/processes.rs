//! Several server processes on one PostgreSQL database (issue 17): the real binary twice,
//! on one database of the kit's real PostgreSQL, with one secret key.

use std::time::{Duration, Instant};

use serde_json::json;
use sspr_tests::nginx::Nginx;
use sspr_tests::phone::Phone;
use sspr_tests::sspr_client::{Client, DeviceKey};
use sspr_tests::sspr_proto::{
    ConsoleSession, DoneView, ErrorCode, FlowEvent, Intent, MethodKind, MySession, Outcome,
};
use sspr_tests::{Options, TestServer, ADA_PASSWORD, ADA_TOTP};

use super::approval::{ada_with_passkey, approve, approve_in, next_event, APPROVAL};
use super::console::{import_staff, password_of, secret_of, CONSOLE};
use super::{code_of, directory_password_is, method, start, verify_email, verify_totp};

/// What a process logs when it takes the housekeeping lock.
const HOUSEKEEPER: &str = "this process does the housekeeping now";

async fn two_processes() -> (TestServer, TestServer) {
    two_processes_with("").await
}

/// Two processes with `extra` configuration; the phone's origin (`approval.public_url`,
/// which passkeys are bound to) is A's for both, as if both stood behind one balancer.
async fn two_processes_with(extra: &str) -> (TestServer, TestServer) {
    let a = TestServer::start_with(Options {
        on_postgres: true,
        extra_config: extra.to_string(),
        ..Options::default()
    })
    .await
    .expect("process A");
    let b = TestServer::start_with(Options {
        same_store_as: a.same_store(),
        extra_config: extra.to_string(),
        phone_base: Some(a.phone_base.clone()),
        ..Options::default()
    })
    .await
    .expect("process B");
    (a, b)
}

/// Waits until `server`'s log says `text`; false after `within`.
async fn logs(server: &TestServer, text: &str, within: Duration) -> bool {
    let deadline = Instant::now() + within;
    while Instant::now() < deadline {
        if server.log().contains(text) {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    server.log().contains(text)
}

/// The same kiosk (its key and id) talking to another process.
fn same_kiosk_at(kiosk: &Client, server: &TestServer) -> Client {
    Client::new(
        &server.base,
        DeviceKey::from_seed(*kiosk.device_key().seed()),
        kiosk.kiosk_id().map(str::to_string),
    )
    .expect("client")
}

/// Housekeeping runs in one process at a time, chosen by the database (an advisory lock);
/// when that process dies, another takes it over by itself.
#[tokio::test]
async fn housekeeping_runs_in_one_process_and_moves_when_it_dies() {
    let (mut a, b) = two_processes().await;
    assert!(
        logs(&a, HOUSEKEEPER, Duration::from_secs(10)).await,
        "the first process took the lock: {}",
        a.log()
    );
    // B tries every 5 s: past two tries it still hasn't got it.
    tokio::time::sleep(Duration::from_secs(11)).await;
    assert!(!b.log().contains(HOUSEKEEPER), "{}", b.log());
    a.kill();
    assert!(
        logs(&b, HOUSEKEEPER, Duration::from_secs(15)).await,
        "B took the lock over: {}",
        b.log()
    );
}

/// A kiosk's flow begun at process A finishes at process B once A has died: the flow,
/// its challenge and the directory are all in the database, none in A's memory.
#[tokio::test]
async fn a_flow_begun_at_a_process_that_dies_finishes_at_another() {
    let (mut a, b) = two_processes().await;
    let at_a = a.kiosk().await.expect("kiosk");
    let flow = at_a
        .start_flow(&start("ada", Intent::Reset))
        .await
        .expect("flow at A");
    a.kill();
    let at_b = same_kiosk_at(&at_a, &b);
    // B's mailbox: B sends the code.
    let flow = verify_email(&b, &at_b, &flow, "ada@home.example.net").await;
    let done = at_b
        .set_password(&flow.flow_id, "violet kettle under maple rain")
        .await
        .expect("reset at B");
    assert_eq!(done.outcome, Outcome::PasswordReset);
    assert!(directory_password_is(&b, "ada", "violet kettle under maple rain").await);
}

/// The database stopped in the middle of a flow: the server says it isn't ready, answers
/// each step with `{code, message}` (never a hang or a dropped connection), and, once the
/// database is back, recovers by itself and the flow finishes where it was.
#[tokio::test]
async fn the_database_stopped_and_started_during_a_flow() {
    use sspr_tests::postgres::Postgres;
    let pg = Postgres::start().expect("a PostgreSQL of its own");
    let database = pg.create_database().expect("database");
    let server = TestServer::start_with(Options {
        store_section: Some(pg.store_settings(&database)),
        ..Options::default()
    })
    .await
    .expect("server");
    let kiosk = server.kiosk().await.expect("kiosk");
    let flow = kiosk
        .start_flow(&start("ada", Intent::Reset))
        .await
        .expect("flow");
    let ready = |server: &TestServer| {
        let url = format!("{}/readyz", server.base);
        async move { reqwest::get(url).await.map(|r| r.status().as_u16()).ok() }
    };
    assert_eq!(ready(&server).await, Some(200));

    pg.stop();
    assert_eq!(
        ready(&server).await,
        Some(503),
        "not ready without its database"
    );
    let started = Instant::now();
    let refused = kiosk.settings().await.expect_err("no store, no answer");
    assert_eq!(
        refused.code(),
        Some(ErrorCode::Unavailable),
        "\"try again in a moment\", not a broken connection nor a fault: {refused}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "answered in {:?}",
        started.elapsed()
    );

    pg.restart().expect("PostgreSQL back");
    let deadline = Instant::now() + Duration::from_secs(20);
    while ready(&server).await != Some(200) {
        assert!(
            Instant::now() < deadline,
            "not ready again: {}",
            server.log()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let flow = verify_email(&server, &kiosk, &flow, "ada@home.example.net").await;
    let done = kiosk
        .set_password(&flow.flow_id, "amber ferry beyond the hills")
        .await
        .expect("reset after the database came back");
    assert_eq!(done.outcome, Outcome::PasswordReset);
}

/// "My security info" and the console keep their sessions in the database, sealed: each
/// step of one session may reach either process (no sticky sessions), a code sent by one
/// is taken by the other, and signing out at one ends the session at both.
#[tokio::test]
async fn web_sessions_go_on_at_either_process() {
    let (a, b) = two_processes_with(CONSOLE).await;
    import_staff(&a);

    // Ada: the password at A, the emailed code sent by B and typed at A.
    let mut phone = Phone::new(&a).expect("phone");
    let session: MySession = phone
        .sign_in("ada", ADA_PASSWORD)
        .await
        .expect("sign in at A")
        .into();
    assert!(!session.signed_in);
    let email = session
        .second_factor
        .iter()
        .find(|m| m.kind == MethodKind::Email)
        .expect("email offered")
        .id
        .clone();
    phone.base = b.base.clone();
    let seen = b.code_mails_to("ada@home.example.net").len();
    let sent = phone
        .post("/v1/my/second-factor/start", json!({ "method_id": email }))
        .await
        .expect("start at B");
    assert!(sent.ok(), "{sent:?}");
    let code = b
        .code_mail("ada@home.example.net", seen)
        .await
        .expect("B sent the code");
    phone.base = a.base.clone();
    let session: MySession = phone
        .post("/v1/my/second-factor/finish", json!({ "code": code }))
        .await
        .expect("finish at A")
        .into();
    assert!(session.signed_in);

    // An authenticator app shown by B and confirmed at A; while it waits, its secret is
    // nowhere in the store in the clear, nor the cookie.
    phone.base = b.base.clone();
    let setup = phone
        .post("/v1/my/authenticator/start", json!({}))
        .await
        .expect("setup at B");
    let secret = setup.body["secret"]
        .as_str()
        .unwrap_or_default()
        .replace(' ', "");
    assert_eq!(secret.len(), 32, "{setup:?}");
    let cookie = phone.cookie().unwrap_or_default().to_string();
    let cookie_value = cookie.split_once('=').map(|(_, v)| v).unwrap_or_default();
    for store in a.raw_store().expect("raw store") {
        let text = String::from_utf8_lossy(&store);
        assert!(
            !text.contains(&secret),
            "an authenticator secret in the clear"
        );
        assert!(
            !text.contains(cookie_value),
            "a cookie's value in the store"
        );
    }
    let db = a.db().await.expect("db");
    let sealed: Vec<String> = sqlx::query_scalar("SELECT data FROM web_sessions")
        .fetch_all(&db)
        .await
        .expect("sessions");
    assert!(!sealed.is_empty() && sealed.iter().all(|d| d.starts_with("v1:")));
    phone.base = a.base.clone();
    let session: MySession = phone
        .post(
            "/v1/my/authenticator/finish",
            json!({ "code": sspr_tests::totp_now(&secret) }),
        )
        .await
        .expect("confirm at A")
        .into();
    assert!(session.methods.iter().any(|m| m.kind == MethodKind::Totp));
    // Signed out at A, signed out at B.
    let out = phone
        .post("/v1/my/sign-out", json!({}))
        .await
        .expect("sign out");
    assert_eq!(out.status, 204);
    phone.base = b.base.clone();
    phone.set_cookie(&cookie);
    assert_eq!(phone.session().await.expect("session").status, 401);

    // Linus: a passkey on /my started at A and finished at B; then the console's password
    // step at A, its passkey step at B, and the session used at both.
    let mut admin = Phone::new(&a).expect("admin's browser");
    admin
        .sign_in_with_totp("linus", &password_of("linus"), secret_of("linus"))
        .await
        .expect("linus on /my at A");
    let options = admin
        .post("/v1/my/passkeys/start", json!({}))
        .await
        .expect("passkey start at A");
    let credential = admin.create(&options.body["options"]).expect("passkey");
    admin.base = b.base.clone();
    let added = admin
        .post(
            "/v1/my/passkeys/finish",
            json!({ "name": "Laptop", "credential": credential }),
        )
        .await
        .expect("passkey finish at B");
    assert!(added.ok(), "{added:?}");
    admin.base = a.base.clone();
    let step = admin
        .post(
            "/v1/admin/sign-in",
            json!({ "login": "linus", "password": password_of("linus") }),
        )
        .await
        .expect("password step at A");
    assert_eq!(step.status, 200, "{step:?}");
    let credential = admin.assert(&step.body["options"]).expect("assertion");
    admin.base = b.base.clone();
    let session: ConsoleSession = admin
        .post(
            "/v1/admin/sign-in/passkey",
            json!({ "credential": credential }),
        )
        .await
        .expect("passkey step at B")
        .into();
    admin.base = a.base.clone();
    let at_a = admin
        .send(reqwest::Method::GET, "/v1/admin/session", None)
        .await
        .expect("session at A");
    assert_eq!(at_a.status, 200, "{at_a:?}");
    let console_cookie = admin.cookie().unwrap_or_default().to_string();
    admin.base = b.base.clone();
    let out = admin
        .send_with(
            reqwest::Method::POST,
            "/v1/admin/sign-out",
            Some(json!({})),
            &[("x-csrf-token", &session.csrf_token)],
        )
        .await
        .expect("sign out at B");
    assert_eq!(out.status, 204, "{out:?}");
    admin.base = a.base.clone();
    admin.set_cookie(&console_cookie);
    let after = admin
        .send(reqwest::Method::GET, "/v1/admin/session", None)
        .await
        .expect("session at A after");
    assert_eq!(
        after.status, 401,
        "signed out at B, signed out at A: {after:?}"
    );
}

/// Waits for a code mail to `to` from whichever of `servers` sent it (behind a balancer
/// either may have), `seen` being how many each had before.
async fn code_mail_from_either(servers: [&TestServer; 2], to: &str, seen: [usize; 2]) -> String {
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        for (server, seen) in servers.iter().zip(seen) {
            if server.code_mails_to(to).len() > seen {
                return server.code_mail(to, seen).await.expect("code mail");
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("no code mail to {to}")
}

/// nginx in front of two processes, round robin and no sticky sessions, as the README's
/// deployment section sets it up: a signature nonce used at one process is refused at the
/// other; a "My security info" session and a kiosk's reset go on whichever process each
/// request reaches; and wrong codes spread over both block the person as five at one do.
#[tokio::test]
async fn two_processes_behind_nginx_without_sticky_sessions() {
    let port = sspr_tests::free_port().expect("port");
    let public = format!("http://127.0.0.1:{port}");
    let a = TestServer::start_with(Options {
        on_postgres: true,
        public_url: Some(public.clone()),
        ..Options::default()
    })
    .await
    .expect("process A");
    let b = TestServer::start_with(Options {
        same_store_as: a.same_store(),
        public_url: Some(public.clone()),
        phone_base: Some(a.phone_base.clone()),
        ..Options::default()
    })
    .await
    .expect("process B");
    let lb = Nginx::start(port, &[a.addr.port(), b.addr.port()]).expect("nginx");
    let kiosk = a.kiosk().await.expect("a kiosk enrolled through nginx");

    // A request signed once, sent to A, then replayed to B: refused there.
    let signed = kiosk
        .signed(
            reqwest::Method::POST,
            "/v1/flows",
            Some(br#"{"login":"grace","intent":"unlock"}"#.to_vec()),
            &Default::default(),
        )
        .await
        .expect("sign");
    let mut replay = signed.try_clone().expect("clone");
    let mut first = signed;
    let direct = |server: &TestServer, path: &str| {
        reqwest::Url::parse(&format!("http://{}{path}", server.addr)).expect("url")
    };
    *first.url_mut() = direct(&a, "/v1/flows");
    *replay.url_mut() = direct(&b, "/v1/flows");
    let at_a = kiosk.execute(first).await.expect("send to A");
    assert_eq!(at_a.status().as_u16(), 201);
    let at_b = kiosk.execute(replay).await.expect("replay to B");
    assert_eq!(at_b.status().as_u16(), 401, "a nonce A saw is refused by B");

    // "My security info" through nginx: each request to either process.
    let mut phone = Phone::new(&a).expect("phone");
    phone.base = lb.base.clone();
    let session: MySession = phone
        .sign_in("ada", ADA_PASSWORD)
        .await
        .expect("sign in")
        .into();
    let email = session
        .second_factor
        .iter()
        .find(|m| m.kind == MethodKind::Email)
        .expect("email offered")
        .id
        .clone();
    let to = "ada@home.example.net";
    let seen = [a.code_mails_to(to).len(), b.code_mails_to(to).len()];
    let sent = phone
        .post("/v1/my/second-factor/start", json!({ "method_id": email }))
        .await
        .expect("start");
    assert!(sent.ok(), "{sent:?}");
    let code = code_mail_from_either([&a, &b], to, seen).await;
    let session: MySession = phone
        .post("/v1/my/second-factor/finish", json!({ "code": code }))
        .await
        .expect("finish")
        .into();
    assert!(session.signed_in);
    for _ in 0..4 {
        let again = phone.session().await.expect("session");
        assert_eq!(again.status, 200, "{again:?}");
    }

    // A kiosk's reset through nginx.
    let flow = kiosk
        .start_flow(&start("ada", Intent::Reset))
        .await
        .expect("flow");
    let flow = verify_totp(&kiosk, &flow, ADA_TOTP).await;
    let done = kiosk
        .set_password(&flow.flow_id, "copper lantern over quiet fields")
        .await
        .expect("reset");
    assert_eq!(done.outcome, Outcome::PasswordReset);
    assert!(directory_password_is(&a, "ada", "copper lantern over quiet fields").await);

    // Five wrong codes, spread over both processes by nginx, block.
    let flow = kiosk
        .start_flow(&start("ada", Intent::Reset))
        .await
        .expect("flow");
    let ch = kiosk
        .challenge(&flow.flow_id, &method(&flow, MethodKind::Totp))
        .await
        .expect("challenge");
    for _ in 0..4 {
        let r = kiosk
            .verify(&flow.flow_id, &ch.challenge_id, "000000")
            .await;
        assert_eq!(code_of(r), ErrorCode::CodeInvalid);
    }
    let fifth = kiosk
        .verify(&flow.flow_id, &ch.challenge_id, "000000")
        .await;
    assert_eq!(code_of(fifth), ErrorCode::Blocked);
    let verifies: Vec<String> = lb
        .requests()
        .into_iter()
        .filter(|l| l.starts_with("POST /v1/flows/") && l.contains("/verify"))
        .collect();
    for server in [&a, &b] {
        let upstream = server.addr.to_string();
        assert!(
            verifies.iter().any(|l| l.ends_with(&upstream)),
            "nginx sent wrong codes to {upstream} too: {verifies:#?}"
        );
    }
}

/// The QR approval across processes (issue 17): the kiosk's event stream at A, every
/// request of the phone at B, and the number and the result reach the kiosk as they
/// happen; a kiosk whose stream breaks and listens again, at B, resumes after the last
/// event it had (`Last-Event-ID`), so nothing is missed or shown twice.
#[tokio::test]
async fn a_phone_at_one_process_approves_a_kiosk_listening_at_the_other() {
    let (a, b) = two_processes_with(APPROVAL).await;
    let mut phone = ada_with_passkey(&a).await;
    phone.base = b.base.clone();
    let kiosk = a.kiosk().await.expect("kiosk");
    let flow = kiosk
        .start_flow(&start("ada", Intent::Reset))
        .await
        .expect("flow");
    let mut approval = approve_in(&kiosk, flow, true).await;
    // Scanned, then FinishOnPhone, pushed by B to the stream at A.
    let (granted, _) = approve(&mut phone, &mut approval).await;
    assert!(granted.finish_on_phone);
    assert!(matches!(
        next_event(&mut approval.events).await,
        FlowEvent::FinishOnPhone { .. }
    ));
    let had = approval.events.last_event_id().map(str::to_string);
    assert!(had.is_some(), "events carry ids");
    drop(approval.events);

    // The stream broke; the kiosk listens again, and the balancer sends it to B.
    let at_b = same_kiosk_at(&kiosk, &b);
    let flow_id = approval.flow.flow_id.clone();
    let mut resumed = at_b
        .events_after(&flow_id, had.as_deref())
        .await
        .expect("events at B");
    // Without the id, a stream (at A, here) starts with the latest event.
    let mut fresh = kiosk.events(&flow_id).await.expect("events at A");
    assert!(matches!(
        next_event(&mut fresh).await,
        FlowEvent::FinishOnPhone { .. }
    ));
    // The password typed on the phone, at A now.
    phone.base = a.base.clone();
    let key = granted.password_key.expect("the phone's key");
    let done: DoneView = phone
        .post(
            "/v1/approval/password",
            json!({ "token": approval.token, "key": key, "new_password": "amber orchard beneath slow tides" }),
        )
        .await
        .expect("password")
        .into();
    // The first event at B is the one after FinishOnPhone, not FinishOnPhone again.
    let FlowEvent::Completed { done: shown } = next_event(&mut resumed).await else {
        panic!("the kiosk's resumed stream shows Done next")
    };
    assert_eq!(shown, done);
    assert!(directory_password_is(&a, "ada", "amber orchard beneath slow tides").await);
}
