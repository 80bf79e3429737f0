//! Several server processes on one PostgreSQL database (issue 17): the real binary twice,
//! on one database of the kit's real PostgreSQL, with one secret key.

use std::time::{Duration, Instant};

use sspr_tests::sspr_client::{Client, DeviceKey};
use sspr_tests::sspr_proto::{Intent, Outcome};
use sspr_tests::{Options, TestServer};

use super::{directory_password_is, start, verify_email};

/// What a process logs when it takes the housekeeping lock.
const HOUSEKEEPER: &str = "this process does the housekeeping now";

async fn two_processes() -> (TestServer, TestServer) {
    let a = TestServer::start_with(Options {
        on_postgres: true,
        ..Options::default()
    })
    .await
    .expect("process A");
    let b = TestServer::start_with(Options {
        same_store_as: a.same_store(),
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
    assert!(
        refused.code().is_some(),
        "an answer with a code, not a broken connection: {refused}"
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
