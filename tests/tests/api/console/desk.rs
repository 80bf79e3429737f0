//! The helpdesk's lookup and audit export, failed sign-ins, roles, CSRF and sessions,
//! and usage & insights counted from the flows that ran.

use super::*;

#[tokio::test]
async fn the_helpdesk_finds_an_attempt_by_its_reference_and_exports_the_audit() {
    let server = server().await;
    let kiosk = server.kiosk().await.expect("kiosk");
    // A failed attempt at the kiosk: a wrong authenticator code.
    let flow = kiosk
        .start_flow(&start("ada", Intent::Reset))
        .await
        .expect("flow");
    let ch = kiosk
        .challenge(&flow.flow_id, &method(&flow, MethodKind::Totp))
        .await
        .expect("challenge");
    let wrong = kiosk
        .verify(&flow.flow_id, &ch.challenge_id, "000000")
        .await;
    assert_eq!(code_of(wrong), ErrorCode::CodeInvalid);

    let mut hedy = Admin::sign_in(&server, "hedy").await;
    let session = hedy.get("/v1/admin/session").await.into::<ConsoleSession>();
    assert_eq!(session.roles, vec![ConsoleRole::Helpdesk]);
    let attempt = {
        let mut found = None;
        for _ in 0..50 {
            let a = hedy
                .get(&format!(
                    "/v1/admin/attempts/{}",
                    flow.reference.to_lowercase()
                ))
                .await;
            if a.ok() {
                let a = a.into::<AttemptView>();
                if a.outcome == "failed" {
                    found = Some(a);
                    break;
                }
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        found.expect("the attempt, by its reference")
    };
    assert_eq!(attempt.login.as_deref(), Some("ada"));
    assert_eq!(attempt.failed_at.as_deref(), Some("verifying a method"));
    assert!(!attempt.decoy);
    assert!(attempt.events.iter().any(|e| e.event == "verify_failed"));
    let unknown = hedy.get("/v1/admin/attempts/AAAA-AAAA").await;
    assert_eq!(
        (unknown.status, unknown.error().code),
        (404, ErrorCode::NotFound)
    );

    let page = hedy
        .get("/v1/admin/audit?login=ada&outcome=failure")
        .await
        .into::<AuditPage>();
    assert!(!page.entries.is_empty());
    assert!(page
        .entries
        .iter()
        .all(|e| e.login.as_deref() == Some("ada") && e.outcome == "failure"));
    let bad = hedy.get("/v1/admin/audit?since=yesterday").await;
    assert_eq!((bad.status, bad.error().code), (400, ErrorCode::BadRequest));

    // The export streams CSV with a header and the same rows.
    let csv = reqwest::Client::new()
        .get(format!(
            "{}/v1/admin/audit/export?format=csv&login=ada",
            hedy.phone.base
        ))
        .header("cookie", hedy.phone.cookie().unwrap_or_default())
        .send()
        .await
        .expect("export");
    assert_eq!(csv.status(), 200);
    assert!(csv
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/csv")));
    let text = csv.text().await.expect("body");
    let mut lines = text.lines();
    assert_eq!(
        lines.next(),
        Some("id,at,event,outcome,correlation_id,kiosk_id,kiosk_name,reference,login,detail")
    );
    let rows: Vec<&str> = lines.collect();
    assert!(rows
        .iter()
        .any(|l| l.contains("\"verify_failed\"") && l.contains(&flow.reference)));
    assert!(rows.iter().all(|l| l.contains("\"ada\"")), "{rows:?}");

    // The helpdesk can't change the policy or kiosks.
    let policy = hedy.get("/v1/admin/policy").await.into::<PolicyView>();
    assert!(policy.read_only);
    let denied = hedy
        .send(
            reqwest::Method::PUT,
            "/v1/admin/policy",
            json!({ "base_version": policy.version, "changes": { "policy": { "methods_required": 2 } } }),
        )
        .await;
    assert_eq!(
        (denied.status, denied.error().code),
        (403, ErrorCode::NotAllowed)
    );
    let denied = hedy
        .post(
            "/v1/admin/kiosks/enrollment-codes",
            json!({ "name": "X", "location": "" }),
        )
        .await;
    assert_eq!(denied.status, 403);

    // Clearing a person's methods needs a reason; the person is told.
    let no_reason = hedy
        .post(
            "/v1/admin/people/ada/clear-methods",
            json!({ "reason": "" }),
        )
        .await;
    assert_eq!(no_reason.status, 400);
    let cleared = hedy
        .post(
            "/v1/admin/people/ada/clear-methods",
            json!({ "reason": "lost her phone (ticket 4711)" }),
        )
        .await;
    assert!(cleared.ok(), "{cleared:?}");
    assert_eq!(cleared.body["removed"], 2);
    server
        .mail_to("ada.lovelace@example.org", "security info changed")
        .await
        .expect("ada is told");
    let rows = server
        .audit_when(&["--user", "hedy"], |rows| {
            rows.iter().any(|r| r["event"] == "methods_cleared")
        })
        .await
        .expect("audit");
    let row = rows
        .iter()
        .find(|r| r["event"] == "methods_cleared")
        .expect("audited");
    assert!(row["detail"].to_string().contains("ticket 4711"), "{row}");
}

/// A wrong password, a login nobody has, someone in no console group, and a reader's
/// missing role for the audit: refused, and the refusals of sign-in look alike.
#[tokio::test]
async fn failed_sign_ins_look_alike_and_roles_csrf_and_sessions_are_enforced() {
    let server = server().await;
    let mut dennis = Phone::new(&server).expect("phone");
    dennis
        .enroll(
            "dennis",
            &password_of("dennis"),
            secret_of("dennis"),
            "Laptop",
        )
        .await
        .expect("passkey on /my");
    // Right password and passkey, but in no console group.
    let step = dennis
        .post(
            "/v1/admin/sign-in",
            json!({ "login": "dennis", "password": password_of("dennis") }),
        )
        .await
        .expect("step");
    assert_eq!(step.status, 200);
    // His passkey isn't asked for (the request is a decoy's): answer with an assertion
    // made for another request, as only a replay could.
    let mut lp = Phone::new(&server).expect("phone");
    lp.enroll("linus", &password_of("linus"), secret_of("linus"), "Laptop")
        .await
        .expect("passkey on /my");
    let first = lp
        .post(
            "/v1/admin/sign-in",
            json!({ "login": "linus", "password": password_of("linus") }),
        )
        .await
        .expect("step");
    let reused = lp.assert(&first.body["options"]).expect("assertion");
    let session = console_sign_in(&mut lp, "linus", &password_of("linus"))
        .await
        .into::<ConsoleSession>();
    let mut linus = Admin {
        phone: lp,
        csrf: session.csrf_token,
    };
    let mut answers = Vec::new();
    for (login, password) in [
        ("dennis", password_of("dennis")),
        ("linus", "not-the-password".to_string()),
        ("nobody-at-all", "whatever-it-is-1".to_string()),
    ] {
        let mut p = Phone::new(&server).expect("phone");
        let step = p
            .post(
                "/v1/admin/sign-in",
                json!({ "login": login, "password": password }),
            )
            .await
            .expect("step");
        assert_eq!(step.status, 200, "{login}: {step:?}");
        let keys: Vec<String> = step.body["options"]["publicKey"]
            .as_object()
            .map(|o| o.keys().cloned().collect())
            .unwrap_or_default();
        let done = p
            .post("/v1/admin/sign-in/passkey", json!({ "credential": reused }))
            .await
            .expect("passkey step");
        answers.push((keys, done.status, done.body.clone()));
    }
    assert!(
        answers.windows(2).all(|w| w[0] == w[1]),
        "every failure answers alike: {answers:#?}"
    );
    assert_eq!(answers[0].1, 401);

    // A reader sees the overview only.
    let mut ken = Admin::sign_in(&server, "ken").await;
    assert!(ken.get("/v1/admin/overview").await.ok());
    let denied = ken.get("/v1/admin/audit").await;
    assert_eq!(
        (denied.status, denied.error().code),
        (403, ErrorCode::NotAllowed)
    );

    // A state-changing call without the token, or with another session's, is refused.
    let csrf = linus.csrf.clone();
    let policy = linus.get("/v1/admin/policy").await.into::<PolicyView>();
    let change = json!({ "base_version": policy.version, "changes": { "helpdesk": { "email": "help@example.org" } } });
    let none = linus
        .phone
        .send_with(
            reqwest::Method::PUT,
            "/v1/admin/policy",
            Some(change.clone()),
            &[],
        )
        .await
        .expect("put");
    assert_eq!(
        (none.status, none.error().code),
        (403, ErrorCode::CsrfInvalid)
    );
    let stale = linus
        .phone
        .send_with(
            reqwest::Method::PUT,
            "/v1/admin/policy",
            Some(change.clone()),
            &[("x-csrf-token", &ken.csrf)],
        )
        .await
        .expect("put");
    assert_eq!(
        (stale.status, stale.error().code),
        (403, ErrorCode::CsrfInvalid)
    );
    linus.csrf = csrf;
    assert!(linus
        .send(reqwest::Method::PUT, "/v1/admin/policy", change)
        .await
        .ok());

    // Signed out, the session is gone; a cookie nobody was given has none.
    let out = linus.post("/v1/admin/sign-out", json!({})).await;
    assert_eq!(out.status, 204);
    let gone = linus.get("/v1/admin/session").await;
    assert_eq!(
        (gone.status, gone.error().code),
        (401, ErrorCode::Unauthorized)
    );
}

/// A known set of flows at a kiosk (a reset with a refused password first, an unlock, an
/// administrator's two-method reset, a wrong code then cancel, a login nobody has), then
/// the insights' numbers, its funnel and the audit's CSV export say exactly that.
#[tokio::test]
async fn insights_count_exactly_the_flows_that_ran() {
    use sspr_tests::sspr_proto::{CoverageView, InsightsView};
    const NEW: &str = "violet kettle under maple rain";
    let server = server().await;
    let kiosk = server.kiosk_named("Lobby 1").await.expect("kiosk");
    let mut refs = Vec::new();

    // 1. ada resets: email, a refused password, then a good one.
    let flow = kiosk
        .start_flow(&start("ada", Intent::Reset))
        .await
        .expect("flow");
    refs.push(flow.reference.clone());
    let flow = verify_email(&server, &kiosk, &flow, "ada@home.example.net").await;
    assert_eq!(
        code_of(kiosk.set_password(&flow.flow_id, "short").await),
        ErrorCode::PasswordRejected
    );
    kiosk.set_password(&flow.flow_id, NEW).await.expect("reset");
    // 2. grace unlocks with her email.
    let flow = kiosk
        .start_flow(&start("grace", Intent::Unlock))
        .await
        .expect("flow");
    refs.push(flow.reference.clone());
    let flow = verify_email(&server, &kiosk, &flow, "grace@home.example.net").await;
    kiosk.unlock(&flow.flow_id).await.expect("unlock");
    // 3. alan, an administrator: email and authenticator, then a new password.
    let flow = kiosk
        .start_flow(&start("alan", Intent::Reset))
        .await
        .expect("flow");
    refs.push(flow.reference.clone());
    assert_eq!(flow.required, 2);
    let flow = verify_email(&server, &kiosk, &flow, "alan@home.example.net").await;
    let flow = verify_totp(&kiosk, &flow, "KRSXG5CTMVRXEZLUKRSXG5CTMVRXEZLU").await;
    kiosk.set_password(&flow.flow_id, NEW).await.expect("reset");
    // 4. ada again: a wrong email code, then she walks away (cancel).
    let flow = kiosk
        .start_flow(&start("ada", Intent::Reset))
        .await
        .expect("flow");
    refs.push(flow.reference.clone());
    let ch = kiosk
        .challenge(&flow.flow_id, &method(&flow, MethodKind::Email))
        .await
        .expect("challenge");
    assert_eq!(
        code_of(
            kiosk
                .verify(&flow.flow_id, &ch.challenge_id, "000000")
                .await
        ),
        ErrorCode::CodeInvalid
    );
    kiosk.cancel(&flow.flow_id).await.expect("cancel");
    // 5. A login nobody has, and margaret, an administrator with one method (she needs
    // two): decoys.
    kiosk
        .start_flow(&start("nobody-by-that-name", Intent::Reset))
        .await
        .expect("decoy");
    kiosk
        .start_flow(&start("margaret", Intent::Reset))
        .await
        .expect("decoy");

    let mut admin = Admin::sign_in(&server, "linus").await;
    let mut view = None;
    for _ in 0..50 {
        let v = admin
            .get("/v1/admin/insights?bucket=day")
            .await
            .into::<InsightsView>();
        if v.funnel
            .iter()
            .any(|s| s.stage == "written" && s.flows == 3)
            && v.decoys == 2
        {
            view = Some(v);
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let view = match view {
        Some(v) => v,
        None => panic!(
            "the insights settle on what ran: {:#?}",
            admin.get("/v1/admin/insights?bucket=day").await
        ),
    };
    let funnel: Vec<(&str, u32)> = view
        .funnel
        .iter()
        .map(|s| (s.stage.as_str(), s.flows))
        .collect();
    assert_eq!(
        funnel,
        vec![
            ("started", 4),
            ("first_method", 3),
            ("second_method", 1),
            ("verified", 3),
            ("written", 3)
        ]
    );
    assert_eq!(view.needing_two, 1);
    assert_eq!(view.decoys, 2);
    assert!(view.median_secs_to_done.is_some());
    let today = view.series.last().expect("today's bucket");
    assert_eq!(
        (today.started, today.resets, today.unlocks, today.failed),
        (4, 2, 1, 1)
    );
    assert_eq!(view.series.iter().map(|b| b.started).sum::<u32>(), 4);
    let email = view
        .methods
        .iter()
        .find(|m| m.method == MethodKind::Email)
        .expect("email");
    assert_eq!((email.sent, email.verified, email.failed), (4, 3, 1));
    let totp = view
        .methods
        .iter()
        .find(|m| m.method == MethodKind::Totp)
        .expect("totp");
    assert_eq!((totp.sent, totp.verified, totp.failed), (1, 1, 0));
    let failures: Vec<(&str, u32)> = view
        .failures
        .iter()
        .map(|c| (c.key.as_str(), c.count))
        .collect();
    assert_eq!(
        failures,
        vec![("password_rejected", 1), ("verify_failed: wrong_code", 1)]
    );
    assert_eq!(view.failures_by_kiosk.len(), 1);
    assert_eq!(
        (
            view.failures_by_kiosk[0].key.as_str(),
            view.failures_by_kiosk[0].count
        ),
        ("Lobby 1", 2)
    );
    // One group's members only: alan, of the administrators (margaret's was a decoy).
    let admins = admin
        .get("/v1/admin/insights?group=Domain%20Admins")
        .await
        .into::<InsightsView>();
    let funnel: Vec<u32> = admins.funnel.iter().map(|s| s.flows).collect();
    assert_eq!(funnel, vec![1, 1, 1, 1, 1]);
    // Another kiosk's filter: nothing.
    let other = admin
        .get("/v1/admin/insights?kiosk=no-such-kiosk")
        .await
        .into::<InsightsView>();
    assert_eq!(other.funnel[0].flows, 0);
    let bad = admin.get("/v1/admin/insights?bucket=year").await;
    assert_eq!((bad.status, bad.error().code), (400, ErrorCode::BadRequest));

    // Coverage: everyone in the built-in directory, by what they registered.
    let coverage = admin.get("/v1/admin/coverage").await.into::<CoverageView>();
    assert!(coverage.enabled_people >= 8, "{coverage:?}");
    assert_eq!(
        coverage.ready + coverage.not_ready.len() as u32,
        coverage.enabled_people
    );
    assert!(coverage.not_ready.iter().any(|p| p.username == "barbara"));
    assert!(coverage
        .not_ready
        .iter()
        .any(|p| p.username == "margaret" && p.administrator && p.required == 2));
    assert!(!coverage.not_ready.iter().any(|p| p.username == "ada"));

    // The audit's export holds every row of those flows.
    let csv = reqwest::Client::new()
        .get(format!(
            "{}/v1/admin/audit/export?format=csv",
            admin.phone.base
        ))
        .header("cookie", admin.phone.cookie().unwrap_or_default())
        .send()
        .await
        .expect("export")
        .text()
        .await
        .expect("body");
    for (reference, event) in [
        (&refs[0], "password_rejected"),
        (&refs[0], "password_reset"),
        (&refs[1], "unlocked"),
        (&refs[2], "verify_succeeded"),
        (&refs[3], "verify_failed"),
        (&refs[3], "flow_cancelled"),
    ] {
        assert!(
            csv.lines()
                .any(|l| l.contains(reference.as_str()) && l.contains(&format!("\"{event}\""))),
            "{reference} {event} in\n{csv}"
        );
    }
}
