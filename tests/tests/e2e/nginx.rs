//! The kiosk through a load balancer: nginx in front of two server processes on one
//! PostgreSQL database, round robin and no sticky sessions, as the README's deployment
//! section sets it up. Every signed request of the kiosk, the event stream that brings
//! the phone's approval to it, and every request of the phone go through nginx, to either
//! process.

use sspr_tests::browser::Browser;
use sspr_tests::kiosk::{Driver, KioskSetup, KioskWindow};
use sspr_tests::nginx::Nginx;
use sspr_tests::{Options, TestServer};

use super::approval::{approval_url, register_passkey, shots, APPROVAL};
use super::{identify, NEW_PASSWORD, ONE_AT_A_TIME};

#[tokio::test]
async fn a_reset_approved_on_the_phone_through_nginx_and_two_processes() {
    let _one = ONE_AT_A_TIME.lock().await;
    // Kiosks and phones know the server by the load balancer's URL: its public URL, and
    // the phone's origin (passkeys are bound to it).
    let port = sspr_tests::free_port().expect("port");
    let behind = |same_store_as| Options {
        extra_config: APPROVAL.to_string(),
        public_url: Some(format!("http://127.0.0.1:{port}")),
        phone_base: Some(format!("http://localhost:{port}")),
        on_postgres: true,
        same_store_as,
        ..Options::default()
    };
    let server = TestServer::start_with(behind(None))
        .await
        .expect("process A");
    let other = TestServer::start_with(behind(server.same_store()))
        .await
        .expect("process B");
    let lb = Nginx::start(port, &[server.addr.port(), other.addr.port()]).expect("nginx");
    let dir = shots("through-nginx-phone");
    let mut phone = Browser::phone(&dir).await.expect("chromium");
    register_passkey(&mut phone, &server).await;
    let driver = Driver::start().await.expect("tauri-driver");
    let mut k = KioskWindow::open(&driver, &server, "through-nginx", KioskSetup::default())
        .await
        .expect("kiosk");

    if let Err(e) = k.screen("start", 30).await {
        let _ = k.shoot("no-start").await;
        panic!(
            "no start screen through nginx: {e}\n{:#?}\n{}",
            lb.requests(),
            lb.log()
        );
    }
    identify(&mut k, "reset", "ada").await;
    k.click("button[data-method=\"approval\"]")
        .await
        .expect("approve on your phone");
    k.screen("approve-choice", 10).await.expect("where to type");
    k.click("button[data-choice=\"kiosk\"]")
        .await
        .expect("choice");
    if let Err(e) = k.wait("canvas[data-qr]", 10).await {
        let _ = k.shoot("no-qr").await;
        panic!(
            "no QR code through nginx: {e}\n{:#?}\n{}",
            lb.requests(),
            lb.log()
        );
    }
    let url = approval_url(&mut k).await;
    // (The phone reaches the server at its public URL, which its passkey is bound to.)
    phone.goto(&url).await.expect("scan");
    phone.state("ask", 15).await.expect("the question");
    // The number reaches the kiosk through nginx's event stream.
    k.wait(".approval-number", 10)
        .await
        .expect("the kiosk shows the number");
    let number = k.text(".approval-number").await.expect("number");
    phone
        .type_into("#number", number.trim())
        .await
        .expect("type");
    phone.click("#approve").await.expect("approve");
    phone.state("approved", 20).await.expect("approved");
    k.screen("password", 15)
        .await
        .expect("the kiosk moves on to the new password");
    k.choose_password(NEW_PASSWORD).await.expect("password");
    k.click("#password-submit").await.expect("submit");
    k.screen("done", 20).await.expect("done");
    k.shoot("done").await.expect("shot");
    assert!(server
        .password_is("ada", NEW_PASSWORD)
        .await
        .expect("directory"));
    k.close().await.expect("close");

    let seen = lb.requests();
    for path in [
        "/v1/flows",
        "/events",
        "/password",
        "/v1/approval/",
        "/v1/my/",
    ] {
        assert!(
            seen.iter().any(|l| l.contains(path)),
            "nginx passed no {path}: {seen:#?}\n{}",
            lb.log()
        );
    }
    assert!(
        seen.iter()
            .all(|l| !l.split(' ').nth(2).is_some_and(|s| s.starts_with('5'))),
        "no request failed at nginx: {seen:#?}"
    );
    for process in [&server, &other] {
        let upstream = process.addr.to_string();
        assert!(
            seen.iter().any(|l| l.ends_with(&upstream)),
            "nginx sent requests to {upstream} too: {seen:#?}"
        );
    }
}
