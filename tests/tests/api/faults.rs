//! Faults around a reset: the mail relay down or hanging when a code is sent.

use std::time::{Duration, Instant};

use sspr_tests::faults::{FaultyPort, Mode};
use sspr_tests::sspr_client::ClientError;
use sspr_tests::sspr_proto::{ErrorCode, Intent, MethodKind};
use sspr_tests::{Options, TestServer};

use super::{code_of, method, start};

async fn challenge_rows(server: &TestServer, flow_id: &str) -> i64 {
    let pool = super::db(server).await;
    sqlx::query_scalar("SELECT COUNT(*) FROM challenges WHERE flow_id = $1")
        .bind(flow_id)
        .fetch_one(&pool)
        .await
        .expect("count")
}

/// The relay refuses, then hangs, then works again: the person is told at once that the
/// code couldn't be sent (not a code that never comes), nothing counts against them (not
/// even past the 10-emails limit), a decoy answers the same while the relay is failing,
/// the admin finds it in the audit, and once the relay is back codes go out again.
#[tokio::test]
async fn a_relay_down_or_hanging_is_told_and_counts_against_nobody() {
    // The port is made before the server, which is told to send mail through it.
    let mailbox = sspr_tests::sspr_mailbox::Mailbox::start("127.0.0.1:0".parse().unwrap())
        .await
        .expect("mailbox");
    let relay = FaultyPort::start(mailbox.addr()).await.expect("port");
    let server = TestServer::start_with(Options {
        smtp_port: Some(relay.addr.port()),
        env: vec![("SSPR_SMTP__TIMEOUT_SECS".into(), "2".into())],
        ..Options::default()
    })
    .await
    .expect("server");
    let kiosk = server.kiosk().await.expect("kiosk");

    relay.set(Mode::Refuse);
    let flow = kiosk
        .start_flow(&start("ada", Intent::Reset))
        .await
        .expect("flow");
    let email = method(&flow, MethodKind::Email);
    // More tries than the 10-emails-in-10-minutes limit: none of them counts.
    for _ in 0..12 {
        match kiosk.challenge(&flow.flow_id, &email).await {
            Err(ClientError::Api { status, body }) => {
                assert_eq!(status, 503);
                assert_eq!(body.code, ErrorCode::DeliveryFailed, "{body:?}");
                assert!(body.message.contains("couldn't send"), "{}", body.message);
                assert_eq!(body.reference.as_deref(), Some(flow.reference.as_str()));
            }
            other => panic!("expected delivery_failed, got {other:?}"),
        }
    }
    assert_eq!(challenge_rows(&server, &flow.flow_id).await, 0);
    // The authenticator still works meanwhile.
    let totp = kiosk
        .challenge(&flow.flow_id, &method(&flow, MethodKind::Totp))
        .await;
    assert!(totp.is_ok(), "{totp:?}");

    // While the relay fails for real people, a decoy answers as they are answered.
    let decoy = kiosk
        .start_flow(&start("nobody-at-all", Intent::Reset))
        .await
        .expect("decoy");
    assert_eq!(
        code_of(
            kiosk
                .challenge(&decoy.flow_id, &method(&decoy, MethodKind::Email))
                .await
        ),
        ErrorCode::DeliveryFailed
    );

    // A relay that accepts and never answers: told within the relay timeout.
    relay.set(Mode::Hang);
    let asked = Instant::now();
    assert_eq!(
        code_of(kiosk.challenge(&flow.flow_id, &email).await),
        ErrorCode::DeliveryFailed
    );
    assert!(
        asked.elapsed() < Duration::from_secs(10),
        "{:?}",
        asked.elapsed()
    );

    // The admin is told: each failure is in the audit, with the relay's complaint.
    let rows = server.audit(&["--user", "ada"]).expect("audit");
    let failed = rows
        .iter()
        .filter(|r| r["event"] == "notification_failed")
        .count();
    assert!(failed >= 13, "{failed} notification_failed rows");

    // The relay is back: the code goes out, and the first try counts as the first.
    relay.set(Mode::Forward);
    let ch = kiosk
        .challenge(&flow.flow_id, &email)
        .await
        .expect("sent once the relay is back");
    let mail = mailbox
        .wait_for(
            |m| m.to.iter().any(|t| t == "ada@home.example.net"),
            Duration::from_secs(10),
        )
        .await
        .expect("code mail");
    let code = mail.code(6).expect("code");
    let done = kiosk
        .verify(&flow.flow_id, &ch.challenge_id, &code)
        .await
        .expect("verified");
    assert_eq!(done.done, 1);
    assert_eq!(challenge_rows(&server, &flow.flow_id).await, 2);
}

/// A signed request with an Idempotency-Key, as a kiosk sends it (again).
async fn send_keyed(
    kiosk: &sspr_tests::sspr_client::Client,
    path: &str,
    body: serde_json::Value,
    key: &str,
) -> (u16, serde_json::Value) {
    let request = kiosk
        .signed(
            http::Method::POST,
            path,
            Some(body.to_string().into_bytes()),
            &sspr_tests::sspr_client::SignOptions {
                idempotency_key: Some(key.to_string()),
                ..Default::default()
            },
        )
        .await
        .expect("sign");
    let response = kiosk.execute(request).await.expect("send");
    let status = response.status().as_u16();
    (status, response.json().await.expect("json"))
}

/// The same step sent twice (a new signature, the same Idempotency-Key), one after the
/// other or both at once: one code email, one write to the directory, the first answer
/// twice; a key used for another request is refused.
#[tokio::test]
async fn a_step_sent_twice_happens_once() {
    let server = TestServer::start().await.expect("server");
    let kiosk = server.kiosk().await.expect("kiosk");
    let flow = kiosk
        .start_flow(&start("ada", Intent::Reset))
        .await
        .expect("flow");
    let path = format!("/v1/flows/{}/challenges", flow.flow_id);
    let body = serde_json::json!({ "method_id": method(&flow, MethodKind::Email) });
    let key = sspr_tests::sspr_client::idempotency_key();
    let first = send_keyed(&kiosk, &path, body.clone(), &key).await;
    let again = send_keyed(&kiosk, &path, body.clone(), &key).await;
    assert_eq!(first.0, 201, "{first:?}");
    assert_eq!(again, first, "the repeat gets the first answer");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(server.code_mails_to("ada@home.example.net").len(), 1);
    // The key stands for that request only.
    let other = send_keyed(
        &kiosk,
        &path,
        serde_json::json!({ "method_id": method(&flow, MethodKind::Totp) }),
        &key,
    )
    .await;
    assert_eq!(other.0, 400, "{other:?}");

    // Verified, then the new password sent twice at once.
    let code = server
        .code_mail("ada@home.example.net", 0)
        .await
        .expect("code");
    let challenge_id = first.1["challenge_id"].as_str().expect("id").to_string();
    kiosk
        .verify(&flow.flow_id, &challenge_id, &code)
        .await
        .expect("verified");
    let path = format!("/v1/flows/{}/password", flow.flow_id);
    let body = serde_json::json!({ "new_password": "A brand new passphrase, twice" });
    let key = sspr_tests::sspr_client::idempotency_key();
    let (a, b) = tokio::join!(
        send_keyed(&kiosk, &path, body.clone(), &key),
        send_keyed(&kiosk, &path, body.clone(), &key)
    );
    assert_eq!(a.0, 200, "{a:?}");
    assert_eq!(a, b, "both get the one answer");
    let resets = server
        .audit(&["--user", "ada"])
        .expect("audit")
        .iter()
        .filter(|r| r["event"] == "password_reset")
        .count();
    assert_eq!(resets, 1, "written once");
    assert!(server
        .password_is("ada", "A brand new passphrase, twice")
        .await
        .expect("password"));
}

/// A kiosk whose request reached the server but whose answer was lost sends it once more
/// by itself, and gets the answer: one code email, not two.
#[tokio::test]
async fn a_kiosk_that_got_no_answer_asks_again_and_one_code_is_sent() {
    let front = FaultyPort::unbound().await.expect("port");
    let server = TestServer::start_with(Options {
        public_url: Some(format!("http://{}", front.addr)),
        ..Options::default()
    })
    .await
    .expect("server");
    front.set_upstream(server.addr);
    let kiosk = server.kiosk().await.expect("kiosk");
    let flow = kiosk
        .start_flow(&start("ada", Intent::Reset))
        .await
        .expect("flow");
    // A client of its own (no kept connection) that waits 2 s for an answer.
    let seed = *kiosk.device_key().seed();
    let impatient = sspr_tests::sspr_client::Client::new(
        &server.base,
        sspr_tests::sspr_client::DeviceKey::from_seed(seed),
        kiosk.kiosk_id().map(str::to_string),
    )
    .expect("client")
    .with_timeout(Duration::from_secs(2))
    .expect("timeout");
    front.set(Mode::SwallowNext);
    let ch = impatient
        .challenge(&flow.flow_id, &method(&flow, MethodKind::Email))
        .await
        .expect("answered on the second try");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(server.code_mails_to("ada@home.example.net").len(), 1);
    let code = server
        .code_mail("ada@home.example.net", 0)
        .await
        .expect("code");
    impatient
        .verify(&flow.flow_id, &ch.challenge_id, &code)
        .await
        .expect("the one code works");
}

/// A small tmpfs for the store, unmounted when dropped. Mounting needs root (CI runs as
/// root; elsewhere `sudo -n` is tried).
struct SmallDisk {
    dir: std::path::PathBuf,
}

impl SmallDisk {
    fn mount(megabytes: u32) -> SmallDisk {
        let dir = std::env::temp_dir().join(format!("sspr-small-disk-{}", rand::random::<u64>()));
        std::fs::create_dir_all(&dir).expect("folder");
        let args = [
            "-t".to_string(),
            "tmpfs".into(),
            "-o".into(),
            format!("size={megabytes}m,mode=0700"),
            "tmpfs".into(),
            dir.display().to_string(),
        ];
        let as_root = std::process::Command::new("mount").args(&args).status();
        let mounted = match as_root {
            Ok(s) if s.success() => true,
            _ => std::process::Command::new("sudo")
                .arg("-n")
                .arg("mount")
                .args(&args)
                .status()
                .is_ok_and(|s| s.success()),
        };
        assert!(
            mounted,
            "mounting a small tmpfs for the store needs root (or sudo without a password)"
        );
        SmallDisk { dir }
    }

    /// Writes a file until the disk is full.
    fn fill(&self) -> std::path::PathBuf {
        use std::io::Write as _;
        let path = self.dir.join("filler");
        let mut f = std::fs::File::create(&path).expect("filler");
        let block = vec![0u8; 64 * 1024];
        while f.write_all(&block).is_ok() {}
        let small = vec![0u8; 512];
        while f.write_all(&small).is_ok() {}
        let _ = f.sync_all();
        path
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        for umount in [vec!["umount", "-l"], vec!["sudo", "-n", "umount", "-l"]] {
            let ok = std::process::Command::new(umount[0])
                .args(&umount[1..])
                .arg(&self.dir)
                .status()
                .is_ok_and(|s| s.success());
            if ok {
                break;
            }
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The store's disk fills up in the middle of a reset: each request is answered with a
/// clear error and nothing is changed, the store stays whole, and once space is back the
/// same flow finishes.
#[tokio::test]
async fn a_full_disk_under_the_store_is_told_and_nothing_breaks() {
    let disk = SmallDisk::mount(8);
    let server = TestServer::start_with(Options {
        store_dir: Some(disk.dir.clone()),
        ..Options::default()
    })
    .await
    .expect("server");
    let kiosk = server.kiosk().await.expect("kiosk");
    let flow = kiosk
        .start_flow(&start("ada", Intent::Reset))
        .await
        .expect("flow");
    let flow = super::verify_totp(&kiosk, &flow, sspr_tests::ADA_TOTP).await;
    assert_eq!(flow.state, sspr_tests::sspr_proto::FlowState::Verified);

    // The WAL is emptied (its file truncated, so no old frames are there to reuse), a
    // reader holds it, so every commit must grow it; then the disk fills up.
    let writer = server.db_writable().await.expect("writer");
    for _ in 0..50 {
        let (busy, _, _): (i64, i64, i64) = sqlx::query_as("PRAGMA wal_checkpoint(TRUNCATE)")
            .fetch_one(&writer)
            .await
            .expect("checkpoint");
        if busy == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let reader = server.db().await.expect("reader");
    let mut snapshot = reader.begin().await.expect("read transaction");
    let _: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM flows")
        .fetch_one(&mut *snapshot)
        .await
        .expect("read");
    let filler = disk.fill();
    // The first write that needs room finds none: the nonce's commit, before the handler.
    let told = match kiosk
        .set_password(&flow.flow_id, "A passphrase for a full disk")
        .await
    {
        Err(ClientError::Api { status, body }) => Some((status, body)),
        other => panic!("a write on a full disk: {other:?}"),
    };
    let (status, body) = told.expect("an answer");
    assert_eq!(status, 500);
    assert_eq!(body.code, ErrorCode::Internal);
    assert!(body.message.contains("disk is full"), "{}", body.message);
    assert!(
        body.message.contains("Nothing was changed"),
        "{}",
        body.message
    );
    assert!(
        server
            .password_is("ada", sspr_tests::ADA_PASSWORD)
            .await
            .expect("read"),
        "the password is unchanged"
    );
    assert!(server.log().contains("the store's disk is full"));

    // Space is back: the same flow finishes, and the store is whole.
    std::fs::remove_file(filler).expect("free");
    snapshot.rollback().await.expect("end read");
    let mut done = None;
    for _ in 0..50 {
        match kiosk
            .set_password(&flow.flow_id, "A passphrase for a full disk")
            .await
        {
            Ok(d) => {
                done = Some(d);
                break;
            }
            Err(e) => {
                assert_eq!(e.code(), Some(ErrorCode::Internal), "{e}");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
    let done = done.expect("finished once space was back");
    assert!(done.directories.iter().all(|d| d.ok), "{done:?}");
    assert!(server
        .password_is("ada", "A passphrase for a full disk")
        .await
        .expect("read"));
    let check: String = sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_one(&reader)
        .await
        .expect("integrity check");
    assert_eq!(check, "ok");
}
