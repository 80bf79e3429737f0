//! Kiosks and staging codes made, followed and revoked from the console.

use super::*;

#[tokio::test]
async fn kiosks_are_made_and_revoked_from_the_console() {
    let server = server().await;
    let mut admin = Admin::sign_in(&server, "linus").await;
    let code = admin
        .post(
            "/v1/admin/kiosks/enrollment-codes",
            json!({ "name": "Lobby 3", "location": "Building C" }),
        )
        .await
        .into::<EnrollmentCodeView>();
    assert!(code.qr_svg.starts_with("<?xml") || code.qr_svg.contains("<svg"));
    assert!(
        code.qr_text.ends_with(&format!("#{}", code.code)),
        "{}",
        code.qr_text
    );
    let mut kiosk = Client::new(&server.base, DeviceKey::generate(), None).expect("client");
    let enrolled = kiosk
        .enroll(&code.code, None, None)
        .await
        .expect("the code enrolls a kiosk");
    assert_eq!(Some(&enrolled.kiosk_id), code.kiosk_id.as_ref());
    assert_eq!((code.code_id, code.uses), (None, None), "a one-time code");
    kiosk.settings().await.expect("the new kiosk is served");

    let listed = admin.get("/v1/admin/kiosks").await.into::<Vec<KioskView>>();
    let lobby = listed
        .iter()
        .find(|k| k.id == enrolled.kiosk_id)
        .expect("listed");
    assert_eq!(
        (lobby.name.as_str(), lobby.location.as_str()),
        ("Lobby 3", "Building C")
    );
    assert!(lobby.last_seen_at.is_some());
    assert_eq!(
        lobby.version.as_deref(),
        sspr_tests::sspr_client::USER_AGENT.strip_prefix("sspr-kiosk/"),
        "the version it says it runs"
    );

    let revoked = admin
        .post(
            &format!("/v1/admin/kiosks/{}/revoke", enrolled.kiosk_id),
            json!({}),
        )
        .await
        .into::<KioskView>();
    assert!(revoked.revoked_at.is_some());
    assert_eq!(code_of(kiosk.settings().await), ErrorCode::KioskRevoked);

    // Bad input is refused with a reason, and nothing is made.
    let bad = admin
        .post(
            "/v1/admin/kiosks/enrollment-codes",
            json!({ "name": "  ", "location": "x" }),
        )
        .await;
    assert_eq!((bad.status, bad.error().code), (400, ErrorCode::BadRequest));
    let missing = admin
        .post("/v1/admin/kiosks/no-such-kiosk/revoke", json!({}))
        .await;
    assert_eq!(missing.status, 404);
}

/// The console's staging code: several PCs, each a kiosk of its own under its host name;
/// the list says how many it may still enroll; bad numbers are refused and make nothing.
#[tokio::test]
async fn staging_codes_are_made_and_followed_from_the_console() {
    let server = server().await;
    let mut admin = Admin::sign_in(&server, "linus").await;
    let code = admin
        .post(
            "/v1/admin/kiosks/enrollment-codes",
            json!({ "name": "lab", "location": "Building C", "uses": 2, "valid_days": 3 }),
        )
        .await
        .into::<EnrollmentCodeView>();
    assert_eq!(code.kiosk_id, None, "no kiosk is made before a PC enrolls");
    assert_eq!(code.uses, Some(2));
    let code_id = code.code_id.clone().expect("a staging code's id");
    assert!(code.qr_text.ends_with(&format!("#{}", code.code)));
    let lifetime: i64 =
        sqlx::query_scalar("SELECT expires_at - created_at FROM enrollment_codes WHERE id = $1")
            .bind(&code_id)
            .fetch_one(&db(&server).await)
            .await
            .expect("the code's row");
    assert_eq!(lifetime, 3 * 86_400, "valid for the days asked");

    let codes = admin
        .get("/v1/admin/kiosks/enrollment-codes")
        .await
        .into::<Vec<EnrollmentCodeStatus>>();
    let listed = codes.iter().find(|c| c.id == code_id).expect("listed");
    assert_eq!(
        (listed.uses, listed.used, listed.remaining, listed.state),
        (2, 0, 2, EnrollmentCodeState::Active)
    );
    assert_eq!(
        (listed.name_prefix.as_str(), listed.location.as_str()),
        ("lab", "Building C")
    );
    assert!(
        !serde_json::to_string(&codes).unwrap().contains(&code.code),
        "the list never holds the code"
    );

    let mut first = Client::new(&server.base, DeviceKey::generate(), None).expect("client");
    let a = first
        .enroll(&code.code, Some("ws-201"), Some("Room 201"))
        .await
        .expect("first PC");
    let mut second = Client::new(&server.base, DeviceKey::generate(), None).expect("client");
    let b = second
        .enroll(&code.code, None, None)
        .await
        .expect("second PC");
    assert_eq!(
        (a.name.as_str(), a.location.as_str()),
        ("ws-201", "Room 201")
    );
    assert_eq!(
        (b.name.as_str(), b.location.as_str()),
        ("lab-2", "Building C")
    );
    let mut third = Client::new(&server.base, DeviceKey::generate(), None).expect("client");
    assert_eq!(
        code_of(third.enroll(&code.code, Some("ws-203"), None).await),
        ErrorCode::EnrollmentInvalid
    );

    let codes = admin
        .get("/v1/admin/kiosks/enrollment-codes")
        .await
        .into::<Vec<EnrollmentCodeStatus>>();
    let listed = codes.iter().find(|c| c.id == code_id).expect("listed");
    assert_eq!(
        (listed.used, listed.remaining, listed.state),
        (2, 0, EnrollmentCodeState::UsedUp)
    );
    let kiosks = admin.get("/v1/admin/kiosks").await.into::<Vec<KioskView>>();
    let mut staged: Vec<_> = kiosks
        .iter()
        .filter(|k| k.enrollment_code_id.as_deref() == Some(code_id.as_str()))
        .map(|k| (k.name.as_str(), k.location.as_str()))
        .collect();
    staged.sort();
    assert_eq!(
        staged,
        vec![("lab-2", "Building C"), ("ws-201", "Room 201")]
    );

    // Bad numbers, names and lifetimes: a clear 400 each, and nothing made.
    for (body, says) in [
        (
            json!({ "name": "", "location": "", "uses": 0 }),
            "1 to 10000",
        ),
        (
            json!({ "name": "", "location": "", "uses": 10_001 }),
            "1 to 10000",
        ),
        (
            json!({ "name": "", "location": "", "uses": 5, "valid_days": 0 }),
            "1 to 90 days",
        ),
        (
            json!({ "name": "", "location": "", "uses": 5, "valid_days": 91 }),
            "1 to 90 days",
        ),
        (
            json!({ "name": "Lobby", "location": "", "valid_days": 3 }),
            "valid_days",
        ),
        (
            json!({ "name": "lab\u{7}", "location": "", "uses": 5 }),
            "name prefix",
        ),
        (
            json!({ "name": "", "location": "x\u{202E}y", "uses": 5 }),
            "location",
        ),
    ] {
        let bad = admin
            .post("/v1/admin/kiosks/enrollment-codes", body.clone())
            .await;
        assert_eq!(
            (bad.status, bad.error().code),
            (400, ErrorCode::BadRequest),
            "{body}"
        );
        assert!(
            bad.error().message.contains(says),
            "{body}: {}",
            bad.error().message
        );
    }
    let wrong_type = admin
        .post(
            "/v1/admin/kiosks/enrollment-codes",
            json!({ "name": "", "location": "", "uses": "many" }),
        )
        .await;
    assert_eq!(wrong_type.status, 400);
    let after = admin
        .get("/v1/admin/kiosks/enrollment-codes")
        .await
        .into::<Vec<EnrollmentCodeStatus>>();
    assert_eq!(after.len(), 1, "nothing was made");
    let issued = server
        .audit(&["--since", "1h"])
        .expect("audit")
        .into_iter()
        .filter(|r| r["event"] == "kiosk_enrollment_code_issued")
        .collect::<Vec<_>>();
    assert_eq!(issued.len(), 1);
    let detail: Value =
        serde_json::from_str(issued[0]["detail"].as_str().unwrap_or_default()).expect("detail");
    assert_eq!(detail["code_id"], code_id.as_str());
    assert_eq!(detail["uses"], 2);
    assert_eq!(issued[0]["login"], "linus");
}
