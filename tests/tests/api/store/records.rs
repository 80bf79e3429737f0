//! What a flow and the audit keep, on both engines: audit rows and the console's and
//! insights' reads of them, registrations, directory writes, flows and challenges.

use sspr_server::store::{AuditQuery, AuditRow, Store};
use sspr_tests::postgres::Postgres;

use super::Engines;

#[tokio::test]
async fn audit_rows_read_and_purged() {
    let (_engines, stores) = Engines::new("audit").await;
    for (engine, store) in stores {
        let row = |n: i64, login: &str, reference: Option<&str>| AuditRow {
            id: 0,
            at: format!("t{n}"),
            event: "flow_started".into(),
            outcome: "success".into(),
            correlation_id: format!("c{n}"),
            kiosk_id: Some("k1".into()),
            reference: reference.map(str::to_string),
            login: Some(login.into()),
            user_id: Some(format!("u-{login}")),
            detail: "{}".into(),
        };
        store.insert_audit(row(1, "Ada", None), 100).await.unwrap();
        store
            .insert_audit(row(2, "bob", Some("AAAA-BBBB")), 200)
            .await
            .unwrap();
        store.insert_audit(row(3, "ada", None), 300).await.unwrap();
        store.flush().await;
        let corr = |q: AuditQuery| {
            let store = store.clone();
            async move {
                store
                    .audit(&q)
                    .await
                    .unwrap()
                    .into_iter()
                    .map(|r| r.correlation_id)
                    .collect::<Vec<_>>()
            }
        };
        assert_eq!(
            corr(AuditQuery::default()).await,
            ["c1", "c2", "c3"],
            "{engine}: oldest first"
        );
        assert_eq!(
            corr(AuditQuery {
                user: Some("ADA".into()),
                ..Default::default()
            })
            .await,
            ["c1", "c3"],
            "{engine}: a login in any case"
        );
        assert_eq!(
            corr(AuditQuery {
                user: Some("u-bob".into()),
                ..Default::default()
            })
            .await,
            ["c2"]
        );
        assert_eq!(
            corr(AuditQuery {
                reference: Some("aaaa-bbbb".into()),
                ..Default::default()
            })
            .await,
            ["c2"]
        );
        assert_eq!(
            corr(AuditQuery {
                since: Some(200),
                limit: 1,
                ..Default::default()
            })
            .await,
            ["c3"],
            "{engine}: the newest within the limit"
        );
        assert_eq!(store.purge_audit_before(250).await.unwrap(), 2);
        assert_eq!(corr(AuditQuery::default()).await, ["c3"]);
        assert!(store.ping().await);
    }
}

#[tokio::test]
async fn registrations_reviews_and_authenticator_steps() {
    use sspr_server::secret::ServerKey;
    use sspr_tests::sspr_proto::MethodKind;
    let (_engines, stores) = Engines::new("registrations").await;
    let key = ServerKey::from_bytes([7; 32]);
    for (engine, store) in stores {
        store
            .add_registration("u1", MethodKind::Email, "a@example.org", "Home", 10)
            .await
            .unwrap();
        store
            .add_registration("u1", MethodKind::Email, "a@example.org", "Again", 11)
            .await
            .unwrap();
        let sealed = sspr_server::store::seal_totp(&key, "u1", "JBSWY3DPEHPK3PXP");
        store
            .add_registration("u1", MethodKind::Totp, &sealed, "App", 12)
            .await
            .unwrap();
        assert!(
            store
                .add_registration("u2", MethodKind::Totp, "JBSWY3DPEHPK3PXP", "App", 12)
                .await
                .is_err(),
            "{engine}: a plain secret is refused"
        );
        store
            .add_registration("u2", MethodKind::Email, "b@example.org", "Work", 13)
            .await
            .unwrap();
        let mine = store.registrations("u1").await.unwrap();
        assert_eq!(
            mine.iter()
                .map(|r| (r.kind.as_str(), r.label.as_str()))
                .collect::<Vec<_>>(),
            [("email", "Home"), ("totp", "App")],
            "{engine}: once each, in the order added"
        );
        assert_eq!(
            mine[1]
                .totp_secret(&key)
                .as_ref()
                .map(secrecy::ExposeSecret::expose_secret),
            Some("JBSWY3DPEHPK3PXP")
        );
        assert_eq!(
            store.registrations_of_two("u1", "u2").await.unwrap().len(),
            3
        );
        assert_eq!(
            store.registrations_of_two("u2", "u2").await.unwrap().len(),
            2
        );
        assert_eq!(
            store
                .registrations_of_kind(MethodKind::Totp)
                .await
                .unwrap()
                .len(),
            1
        );
        assert_eq!(
            store.registered_kinds().await.unwrap(),
            vec![
                (
                    "u1".to_string(),
                    vec!["email".to_string(), "totp".to_string()]
                ),
                ("u2".to_string(), vec!["email".to_string()])
            ],
            "{engine}"
        );
        assert_eq!(store.plain_totp().await.unwrap(), 0);
        assert_eq!(store.seal_plain_totp(&key).await.unwrap(), 0);
        assert_eq!(store.unopenable_totp(&key).await.unwrap(), 0);
        assert_eq!(
            store
                .unopenable_totp(&ServerKey::from_bytes([8; 32]))
                .await
                .unwrap(),
            1
        );
        let email = store.registration(mine[0].id).await.unwrap().unwrap();
        assert_eq!(email.value, "a@example.org");
        store
            .update_registration(mine[0].id, "c@example.org")
            .await
            .unwrap();
        assert_eq!(
            store.registration(mine[0].id).await.unwrap().unwrap().value,
            "c@example.org"
        );
        assert_eq!(
            store
                .replace_registration("u1", MethodKind::Email, "d@example.org", "New", 20)
                .await
                .unwrap(),
            1
        );

        assert_eq!(store.reviewed("u1").await.unwrap(), Some(20), "{engine}");
        store.mark_reviewed("u1", 30).await.unwrap();
        store.mark_reviewed("u1", 25).await.unwrap();
        assert_eq!(
            store.reviewed("u1").await.unwrap(),
            Some(30),
            "{engine}: a review never moves back"
        );
        let totp_id = store.registrations("u1").await.unwrap()[0].id;
        assert!(!store.remove_registration("u2", totp_id, 40).await.unwrap());
        assert!(store.remove_registration("u1", totp_id, 40).await.unwrap());
        assert_eq!(store.reviewed("u1").await.unwrap(), Some(40));
        assert_eq!(store.remove_registrations("u1").await.unwrap(), 1);
        assert!(store.registrations("u1").await.unwrap().is_empty());
        assert_eq!(store.reviewed("nobody").await.unwrap(), None);

        assert!(store.use_totp_step("u1", 1_000, 50).await.unwrap());
        assert!(
            !store.use_totp_step("u1", 1_000, 51).await.unwrap(),
            "{engine}: a time step is used once"
        );
        assert!(store.use_totp_step("u2", 1_000, 51).await.unwrap());
    }
}

/// Which directories hold a flow's new password. The flow's row is put in with each
/// engine's own client, so this test doesn't lean on `insert_flow` (checked below).
#[tokio::test]
async fn written_directories() {
    let (engines, stores) = Engines::new("writes").await;
    let flow = "INSERT INTO flows (id, reference, kiosk_id, login, user_id, throttle_key, \
                intent, locale, state, required, methods, done, is_admin, created_at, \
                expires_at) VALUES ('f1', 'AAAA-BBBB', 'k1', 'ada', 'u1', 't', 'reset', 'en', \
                'verifying', 1, '[]', '[]', 0, 1, 2)";
    let sqlite = sqlx::SqlitePool::connect(&format!(
        "sqlite://{}",
        engines.dir.join("sspr.db").display()
    ))
    .await
    .unwrap();
    sqlx::query(flow).execute(&sqlite).await.unwrap();
    sqlite.close().await;
    Postgres::shared()
        .unwrap()
        .psql(&engines.database, flow)
        .unwrap();
    for (engine, store) in stores {
        store
            .record_in_doubt("f1", "OpenLDAP", "mac-1", Some(5), 100)
            .await
            .unwrap();
        store
            .record_written("f1", "Active Directory", "mac-2", 101)
            .await
            .unwrap();
        let written = |store: Store| async move {
            store
                .written_directories("f1")
                .await
                .unwrap()
                .into_iter()
                .map(|w| (w.directory, w.password_mac, w.in_doubt, w.changed_before))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            written(store.clone()).await,
            vec![
                ("Active Directory".into(), "mac-2".into(), false, None),
                ("OpenLDAP".into(), "mac-1".into(), true, Some(5))
            ],
            "{engine}"
        );
        store
            .record_written("f1", "OpenLDAP", "mac-3", 102)
            .await
            .unwrap();
        assert_eq!(
            written(store.clone()).await[1],
            ("OpenLDAP".into(), "mac-3".into(), false, None),
            "{engine}: a write that landed is no longer in doubt"
        );
        store.forget_written("f1").await.unwrap();
        assert!(written(store.clone()).await.is_empty());
    }
}

/// Flows and their challenges: a step moves a flow once however many try; spending a
/// challenge and moving the flow are one transaction; a reset's throttle events change
/// with the flow's completion.
#[tokio::test]
async fn flows_and_challenges() {
    use sspr_server::flow::{ChallengeRow, FlowMethod, FlowRow, FlowState, Spent};
    use sspr_server::throttle::Succeeded;
    use sspr_tests::sspr_proto::{Delivery, Intent, MethodKind};
    let (_engines, stores) = Engines::new("flows").await;
    let flow = FlowRow {
        id: "f1".into(),
        reference: "AAAA-BBBB".into(),
        kiosk_id: "k1".into(),
        login: "ada".into(),
        user_id: Some("u1".into()),
        throttle_key: "t".into(),
        intent: Intent::Reset,
        locale: "en".into(),
        state: FlowState::Verifying,
        required: 1,
        methods: vec![FlowMethod {
            id: "m1".into(),
            kind: MethodKind::Email,
            target: "a@example.org".into(),
            masked: "a•@example.org".into(),
        }],
        done: vec![],
        is_admin: true,
        created_at: 100,
        expires_at: 1_000,
        finished_at: None,
    };
    let challenge = ChallengeRow {
        id: "c1".into(),
        flow_id: "f1".into(),
        method_id: "m1".into(),
        kind: MethodKind::Email,
        code_hash: Some("hash".into()),
        created_at: 110,
        expires_at: 500,
        used_at: None,
        failures: 0,
        delivery: Some(Delivery::Sending),
    };
    for (engine, store) in stores {
        store.insert_flow(&flow).await.unwrap();
        let read = store.flow("f1").await.unwrap().unwrap();
        assert_eq!(
            (read.intent, read.state, read.is_admin, read.methods.len()),
            (Intent::Reset, FlowState::Verifying, true, 1),
            "{engine}"
        );
        assert_eq!(read.method("m1").unwrap().target, "a@example.org");
        assert!(store.flow("f2").await.unwrap().is_none());

        store.insert_challenge(&challenge).await.unwrap();
        store.set_delivery("c1", Delivery::Sent).await.unwrap();
        store.set_delivery("c1", Delivery::Failed).await.unwrap();
        let ch = store.challenge("f1", "c1").await.unwrap().unwrap();
        assert_eq!(
            ch.delivery,
            Some(Delivery::Sent),
            "{engine}: a late answer never overwrites what was settled"
        );
        assert!(store.challenge("f2", "c1").await.unwrap().is_none());
        assert_eq!(store.fail_challenge("c1").await.unwrap(), 1);
        assert_eq!(store.fail_challenge("c1").await.unwrap(), 2);

        let done = vec!["m1".to_string()];
        let step = (FlowState::Verifying, FlowState::Verified);
        assert_eq!(
            store
                .spend_challenge("c1", "f1", step, &done, 120)
                .await
                .unwrap(),
            Spent::Moved,
            "{engine}"
        );
        assert_eq!(
            store
                .spend_challenge("c1", "f1", step, &done, 121)
                .await
                .unwrap(),
            Spent::UsedBefore
        );
        let read = store.flow("f1").await.unwrap().unwrap();
        assert_eq!(
            (read.state, read.done.clone()),
            (FlowState::Verified, done.clone())
        );

        assert!(store
            .update_flow_state("f1", FlowState::Verified, FlowState::Writing, &done, None)
            .await
            .unwrap());
        assert!(
            !store
                .update_flow_state("f1", FlowState::Verified, FlowState::Writing, &done, None)
                .await
                .unwrap(),
            "{engine}: a step is taken once"
        );
        store
            .add_events(&[("u1", sspr_server::throttle::FAILED_VERIFICATION, 90)])
            .await
            .unwrap();
        let reset = || Succeeded {
            user: "u1",
            at: 130,
        };
        assert!(store
            .complete_flow(
                "f1",
                FlowState::Writing,
                FlowState::Completed,
                &done,
                130,
                Some(reset())
            )
            .await
            .unwrap());
        assert!(!store
            .complete_flow(
                "f1",
                FlowState::Writing,
                FlowState::Completed,
                &done,
                131,
                Some(reset())
            )
            .await
            .unwrap());
        assert_eq!(
            (
                store
                    .count_events("u1", sspr_server::throttle::FAILED_VERIFICATION, 0)
                    .await
                    .unwrap(),
                store
                    .count_events("u1", Succeeded::COUNTS, 0)
                    .await
                    .unwrap()
            ),
            (0, 1),
            "{engine}: failures cleared, the reset counted, once"
        );
        let read = store.flow("f1").await.unwrap().unwrap();
        assert_eq!(
            (read.state, read.finished_at),
            (FlowState::Completed, Some(130))
        );

        store.purge_flows_before(1_001).await.unwrap();
        assert!(store.flow("f1").await.unwrap().is_none());
        assert!(
            store.challenge("f1", "c1").await.unwrap().is_none(),
            "{engine}: its challenges go with it"
        );
    }
}

/// The console's reads of the audit: filters, pages, counts by event and kiosk, and a
/// directory's newest event (read from the JSON detail).
#[tokio::test]
async fn console_audit_reads() {
    use sspr_server::store::AuditFilter;
    let (_engines, stores) = Engines::new("console").await;
    for (engine, store) in stores {
        let row = |n: i64, event: &str, kiosk: &str, detail: &str| AuditRow {
            id: 0,
            at: format!("t{n}"),
            event: event.into(),
            outcome: if event == "password_write_failed" {
                "failure".into()
            } else {
                "success".into()
            },
            correlation_id: format!("c{n}"),
            kiosk_id: Some(kiosk.into()),
            reference: Some(format!("REF-{n}")),
            login: Some("Ada".into()),
            user_id: Some("u1".into()),
            detail: detail.into(),
        };
        let rows = [
            row(1, "flow_started", "k1", "{}"),
            row(2, "flow_started", "k2", "{}"),
            row(3, "password_written", "k1", r#"{"directory":"OpenLDAP"}"#),
            row(4, "flow_started", "k1", "{}"),
            row(
                5,
                "password_write_failed",
                "k2",
                r#"{"directory":"OpenLDAP"}"#,
            ),
            row(6, "password_written", "k2", r#"{"directory":"Samba"}"#),
        ];
        for (i, r) in rows.into_iter().enumerate() {
            store.insert_audit(r, 100 * (i as i64 + 1)).await.unwrap();
        }
        store.flush().await;
        let corr = |rows: Vec<AuditRow>| {
            rows.into_iter()
                .map(|r| r.correlation_id)
                .collect::<Vec<_>>()
        };
        let started = AuditFilter {
            event: Some("flow_started".into()),
            login: Some("ada".into()),
            ..Default::default()
        };
        let first = store.audit_filtered(&started, None, 2).await.unwrap();
        assert_eq!(corr(first.clone()), ["c4", "c2"], "{engine}: newest first");
        let next = store
            .audit_filtered(&started, Some(first[1].id), 2)
            .await
            .unwrap();
        assert_eq!(corr(next), ["c1"], "{engine}: the next page");
        let narrow = AuditFilter {
            kiosk: Some("k2".into()),
            outcome: Some("failure".into()),
            reference: Some("ref-5".into()),
            since: Some(500),
            until: Some(501),
            ..Default::default()
        };
        assert_eq!(
            corr(store.audit_filtered(&narrow, None, 10).await.unwrap()),
            ["c5"]
        );
        assert_eq!(
            store
                .audit_event_counts(&["flow_started", "password_written"], 200)
                .await
                .unwrap(),
            vec![
                ("flow_started".to_string(), 2),
                ("password_written".to_string(), 2)
            ],
            "{engine}"
        );
        let mut by_kiosk = store.flows_by_kiosk(0).await.unwrap();
        by_kiosk.sort();
        assert_eq!(by_kiosk, vec![("k1".to_string(), 2), ("k2".to_string(), 1)]);
        let events: &'static [&'static str] = &["password_written", "password_write_failed"];
        assert_eq!(
            store
                .last_directory_event("OpenLDAP", events)
                .await
                .unwrap()
                .map(|(at, _)| at),
            Some(500),
            "{engine}: the newest of either event naming it"
        );
        assert_eq!(
            store.last_directory_event("Samba", events).await.unwrap(),
            Some((600, r#"{"directory":"Samba"}"#.to_string()))
        );
        assert!(store
            .last_directory_event("Entra", events)
            .await
            .unwrap()
            .is_none());
    }
}

/// An attempt's rows by its reference code, and the fields usage & insights read from
/// the audit's JSON detail.
#[tokio::test]
async fn attempt_rows_and_insights() {
    let (_engines, stores) = Engines::new("insights").await;
    for (engine, store) in stores {
        let row = |n: i64, event: &str, kiosk: &str, reference: &str, detail: &str| AuditRow {
            id: 0,
            at: format!("t{n}"),
            event: event.into(),
            outcome: "success".into(),
            correlation_id: format!("c{n}"),
            kiosk_id: Some(kiosk.into()),
            reference: Some(reference.into()),
            login: None,
            user_id: None,
            detail: detail.into(),
        };
        let decoy = r#"{"intent":"reset","decoy":true,"required":2,"done":1,"method":"email"}"#;
        let rows = [
            (row(1, "flow_started", "k1", "AAAA-1111", decoy), 1_000),
            (
                row(
                    2,
                    "flow_started",
                    "k2",
                    "BBBB-2222",
                    r#"{"intent":"unlock"}"#,
                ),
                1_010,
            ),
            (
                row(3, "code_sent", "k1", "AAAA-1111", r#"{"method":"email"}"#),
                1_020,
            ),
            (
                row(
                    4,
                    "flow_failed",
                    "k1",
                    "AAAA-1111",
                    r#"{"reason":"expired","directory":"D"}"#,
                ),
                1_030,
            ),
            // Hours later: another attempt's rows never join this one's.
            (row(5, "code_sent", "k1", "AAAA-1111", "{}"), 9_000),
        ];
        for (r, at) in rows {
            store.insert_audit(r, at).await.unwrap();
        }
        store.flush().await;
        let attempt: Vec<String> = store
            .attempt_rows("AAAA-1111")
            .await
            .unwrap()
            .into_iter()
            .map(|r| r.correlation_id)
            .collect();
        assert_eq!(attempt, ["c1", "c3", "c4"], "{engine}");
        assert!(store.attempt_rows("CCCC-3333").await.unwrap().is_empty());

        let mut events = store
            .flow_events(&["flow_started", "flow_failed"], 1_000, 2_000, None)
            .await
            .unwrap();
        events.sort_by_key(|e| e.at);
        let seen: Vec<_> = events
            .iter()
            .map(|e| {
                (
                    e.event.as_str(),
                    e.intent.as_deref(),
                    e.decoy,
                    e.required,
                    e.done,
                    e.reason.as_deref(),
                    e.directory.as_deref(),
                )
            })
            .collect();
        assert_eq!(
            seen,
            [
                (
                    "flow_started",
                    Some("reset"),
                    true,
                    Some(2),
                    Some(1),
                    None,
                    None
                ),
                (
                    "flow_started",
                    Some("unlock"),
                    false,
                    None,
                    None,
                    None,
                    None
                ),
                (
                    "flow_failed",
                    None,
                    false,
                    None,
                    None,
                    Some("expired"),
                    Some("D")
                ),
            ],
            "{engine}"
        );
        let on_k2 = store
            .flow_events(&["flow_started"], 0, 2_000, Some("k2".into()))
            .await
            .unwrap();
        assert_eq!(on_k2.len(), 1);
        assert_eq!(on_k2[0].reference.as_deref(), Some("BBBB-2222"));
    }
}
