//! The store's operations on both engines (issue 17): the server crate's `Store` driven as
//! a library against a SQLite file and against the kit's real PostgreSQL, the same
//! checks for each. Operations no command reaches on PostgreSQL yet (nonces, throttles,
//! idempotency, policy versions, registrations, directory writes, flows and challenges)
//! are checked here; what a command reaches is checked through the binary too
//! (`postgres.rs`).

use sspr_server::store::{AuditQuery, AuditRow, Claim, EnrollAs, StagingCode, Store};
use sspr_tests::postgres::Postgres;

/// A store on each engine, migrated: (its name, the store); and for PostgreSQL, a way to
/// open another handle on the same database, as another server process would.
struct Engines {
    dir: std::path::PathBuf,
    pg_url: String,
    database: String,
}

impl Engines {
    async fn new(name: &str) -> (Engines, Vec<(&'static str, Store)>) {
        let dir = std::env::temp_dir().join(format!(
            "sspr-store-{name}-{}-{}",
            std::process::id(),
            sspr_tests::free_port().unwrap()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let sqlite = Store::open(&format!("sqlite://{}/sspr.db", dir.display()))
            .await
            .unwrap();
        sqlite.migrate().await.unwrap();
        let pg = Postgres::shared().unwrap();
        let database = pg.create_database().unwrap();
        let pg_url = format!(
            "{}?sslmode=verify-full&sslrootcert={}",
            pg.url(&database),
            pg.ca_file.display()
        );
        let engines = Engines {
            dir,
            pg_url,
            database,
        };
        let postgres = engines.another().await;
        postgres.migrate().await.unwrap();
        (engines, vec![("sqlite", sqlite), ("postgres", postgres)])
    }

    /// Another handle (another pool) on the PostgreSQL database.
    async fn another(&self) -> Store {
        let pg = Postgres::shared().unwrap();
        Store::open_postgres(&self.pg_url, Some(&pg.password_file))
            .await
            .unwrap()
    }
}

impl Drop for Engines {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[tokio::test]
async fn kiosks_and_enrollment_codes() {
    let (_engines, stores) = Engines::new("kiosks").await;
    for (engine, store) in stores {
        store
            .create_pending_kiosk("k1", "Front desk", "", "hash-1", 2_000, 1_000)
            .await
            .unwrap();
        let as_pc = EnrollAs {
            new_id: "unused".into(),
            name: Some("PC-7".into()),
            location: Some("Hall".into()),
        };
        assert!(
            store
                .enroll_kiosk("hash-x", b"key", &as_pc, 1_001)
                .await
                .unwrap()
                .is_none(),
            "{engine}: an unknown code enrolls nothing"
        );
        let k1 = store
            .enroll_kiosk("hash-1", b"key-1", &as_pc, 1_001)
            .await
            .unwrap()
            .unwrap_or_else(|| panic!("{engine}: the one-time code enrolls"));
        assert_eq!(
            (k1.id.as_str(), k1.name.as_str(), k1.location.as_str()),
            ("k1", "Front desk", "Hall"),
            "{engine}: the name given stays, the empty location is the PC's"
        );
        assert_eq!(k1.public_key.as_deref(), Some(&b"key-1"[..]));
        assert_eq!(k1.enrolled_at, Some(1_001));
        assert!(
            store
                .enroll_kiosk("hash-1", b"key-2", &as_pc, 1_002)
                .await
                .unwrap()
                .is_none(),
            "{engine}: a one-time code is spent"
        );

        let code = StagingCode {
            id: "c1".into(),
            code_hash: "staging-hash".into(),
            name_prefix: "lab".into(),
            location: "Lab".into(),
            uses: 2,
            expires_at: 5_000,
        };
        store.create_enrollment_code(&code, 1_100).await.unwrap();
        let mut made = Vec::new();
        for n in 0..3 {
            let as_new = EnrollAs {
                new_id: format!("s{n}"),
                ..Default::default()
            };
            made.push(
                store
                    .enroll_kiosk("staging-hash", b"k", &as_new, 1_200 + n)
                    .await
                    .unwrap(),
            );
        }
        let names: Vec<_> = made
            .iter()
            .map(|k| k.as_ref().map(|k| (k.name.clone(), k.location.clone())))
            .collect();
        assert_eq!(
            names,
            vec![
                Some(("lab-1".into(), "Lab".into())),
                Some(("lab-2".into(), "Lab".into())),
                None
            ],
            "{engine}: two uses, then none"
        );
        let codes = store.enrollment_codes(10).await.unwrap();
        assert_eq!(codes.len(), 1);
        assert_eq!((codes[0].uses, codes[0].used), (2, 2), "{engine}");
        assert_eq!(codes[0].remaining(1_300), 0);
        assert!(store.revoke_enrollment_code("c1", 1_300).await.unwrap());
        assert!(!store.revoke_enrollment_code("c1", 1_301).await.unwrap());
        assert_eq!(
            store.enrollment_codes(10).await.unwrap()[0].revoked_at,
            Some(1_300)
        );

        let listed: Vec<_> = store
            .kiosks()
            .await
            .unwrap()
            .into_iter()
            .map(|k| (k.id, k.enrollment_code_id))
            .collect();
        assert_eq!(
            listed,
            vec![
                ("k1".into(), None),
                ("s0".into(), Some("c1".into())),
                ("s1".into(), Some("c1".into()))
            ],
            "{engine}"
        );
        store.set_kiosk_version("s0", "1.2.3").await.unwrap();
        let s0 = store.kiosk("s0").await.unwrap().unwrap();
        assert_eq!(s0.version.as_deref(), Some("1.2.3"), "{engine}");
        assert!(store.kiosk("nowhere").await.unwrap().is_none());
        assert!(store.revoke_kiosk("s0", 1_400).await.unwrap());
        assert!(!store.revoke_kiosk("s0", 1_401).await.unwrap());
        assert_eq!(
            store.kiosk("s0").await.unwrap().unwrap().revoked_at,
            Some(1_400)
        );
    }
}

/// A nonce is accepted once per kiosk; on PostgreSQL also across processes (two pools on
/// one database), however many race for it.
#[tokio::test]
async fn a_nonce_is_accepted_once() {
    let (engines, stores) = Engines::new("nonces").await;
    const KEEP: i64 = 300;
    for (engine, store) in &stores {
        store
            .create_pending_kiosk("k1", "Desk", "", "h", 2_000, 1_000)
            .await
            .unwrap();
        assert!(store.remember_nonce("k1", "n1", 1_000, KEEP).await.unwrap());
        assert!(
            !store.remember_nonce("k1", "n1", 1_001, KEEP).await.unwrap(),
            "{engine}: a replay is refused"
        );
        assert!(
            store.remember_nonce("k2", "n1", 1_001, KEEP).await.unwrap(),
            "{engine}: the same nonce from another kiosk is its own"
        );
        assert_eq!(
            store.kiosk("k1").await.unwrap().unwrap().last_seen_at,
            Some(1_000),
            "{engine}: the kiosk was seen"
        );
        store.flush().await;
    }
    let postgres = &stores[1].1;
    let other = engines.another().await;
    assert!(
        !other.remember_nonce("k1", "n1", 1_002, KEEP).await.unwrap(),
        "a nonce seen by one process is refused by another"
    );
    // Ten racing for one new nonce over two pools: exactly one wins.
    let mut racing = Vec::new();
    for i in 0..10 {
        let store = if i % 2 == 0 {
            postgres.clone()
        } else {
            other.clone()
        };
        racing.push(tokio::spawn(async move {
            store.remember_nonce("k1", "n2", 1_010, KEEP).await.unwrap()
        }));
    }
    let mut won = 0;
    for r in racing {
        won += usize::from(r.await.unwrap());
    }
    assert_eq!(won, 1);
    // Past the window, a nonce may come again (the signature's age check refuses it
    // before this is asked); forgetting removes the rows.
    assert!(postgres
        .remember_nonce("k1", "n1", 1_000 + KEEP + 1, KEEP)
        .await
        .unwrap());
    postgres.forget_nonces_before(1_005).await.unwrap();
    let pg = Postgres::shared().unwrap();
    assert_eq!(
        pg.psql(
            &engines.database,
            "SELECT string_agg(kiosk_id || '/' || nonce, ' ' ORDER BY nonce) FROM nonces"
        )
        .unwrap(),
        "k1/n1 k1/n2",
        "the nonce seen at 1001 was forgotten"
    );
}

#[tokio::test]
async fn throttle_windows_and_blocks() {
    let (_engines, stores) = Engines::new("throttles").await;
    for (engine, store) in stores {
        store
            .add_events(&[("a", "code", 100), ("a", "code", 110), ("b", "code", 120)])
            .await
            .unwrap();
        store.add_event("a", "other", 130).await.unwrap();
        assert_eq!(store.count_events("a", "code", 0).await.unwrap(), 2);
        assert_eq!(store.count_events("a", "code", 100).await.unwrap(), 1);
        assert_eq!(store.oldest_event("a", "code", 0).await.unwrap(), Some(100));
        assert_eq!(store.oldest_event("c", "code", 0).await.unwrap(), None);
        assert_eq!(
            store.windows("code", ("a", 105), ("b", 0)).await.unwrap(),
            [(1, Some(110)), (1, Some(120))],
            "{engine}"
        );
        assert_eq!(
            store.windows("code", ("x", 0), ("y", 0)).await.unwrap(),
            [(0, None), (0, None)]
        );
        store.block("a", "code", 500).await.unwrap();
        store.block("a", "code", 400).await.unwrap();
        assert_eq!(
            store.blocked_until_either("a", "b", 300).await.unwrap(),
            Some(500),
            "{engine}: a shorter block does not shorten the longer"
        );
        store.block("b", "code", 600).await.unwrap();
        assert_eq!(
            store.blocked_until_either("a", "b", 300).await.unwrap(),
            Some(600)
        );
        assert_eq!(
            store.blocked_until_either("a", "b", 600).await.unwrap(),
            None
        );
        store.clear_events("a", &["code", "other"]).await.unwrap();
        assert_eq!(store.count_events("a", "code", 0).await.unwrap(), 0);
        assert_eq!(store.count_events("a", "other", 0).await.unwrap(), 0);
        assert_eq!(store.count_events("b", "code", 0).await.unwrap(), 1);
        store.purge_events_before(550).await.unwrap();
        assert_eq!(store.count_events("b", "code", 0).await.unwrap(), 0);
        assert_eq!(
            store.blocked_until_either("a", "b", 0).await.unwrap(),
            Some(600),
            "{engine}: only the block that ended went"
        );
    }
}

#[tokio::test]
async fn idempotency_claims() {
    let (_engines, stores) = Engines::new("idempotency").await;
    for (engine, store) in stores {
        assert_eq!(
            store.claim_idempotent("k", "key", "h1", 100).await.unwrap(),
            Claim::First
        );
        assert_eq!(
            store.claim_idempotent("k", "key", "h1", 101).await.unwrap(),
            Claim::InProgress,
            "{engine}"
        );
        assert_eq!(
            store.claim_idempotent("k", "key", "h2", 101).await.unwrap(),
            Claim::Mismatch
        );
        store
            .finish_idempotent("k", "key", 201, b"{}".to_vec())
            .await
            .unwrap();
        assert_eq!(
            store.claim_idempotent("k", "key", "h1", 102).await.unwrap(),
            Claim::Answered {
                status: 201,
                body: b"{}".to_vec()
            },
            "{engine}"
        );
        store.release_idempotent("k", "key").await.unwrap();
        assert_eq!(
            store.claim_idempotent("k", "key", "h1", 103).await.unwrap(),
            Claim::First
        );
        // A claim whose process died is taken over after 15 minutes.
        assert_eq!(
            store
                .claim_idempotent("k", "key", "h1", 103 + 901)
                .await
                .unwrap(),
            Claim::First,
            "{engine}"
        );
        store.purge_idempotent_before(2_000).await.unwrap();
        assert_eq!(
            store
                .claim_idempotent("k", "key", "h2", 2_001)
                .await
                .unwrap(),
            Claim::First
        );
    }
}

#[tokio::test]
async fn policy_versions() {
    let (engines, stores) = Engines::new("policy").await;
    for (engine, store) in &stores {
        assert_eq!(store.policy_version().await.unwrap(), None);
        assert!(store.latest_policy().await.unwrap().is_none());
        assert_eq!(
            store
                .save_policy(None, "{\"a\":1}", "ada", 10)
                .await
                .unwrap(),
            Some(1)
        );
        assert_eq!(
            store.save_policy(None, "{}", "bob", 11).await.unwrap(),
            None,
            "{engine}: saved from a stale version"
        );
        assert_eq!(
            store
                .save_policy(Some(1), "{\"a\":2}", "bob", 12)
                .await
                .unwrap(),
            Some(2)
        );
        let latest = store.latest_policy().await.unwrap().unwrap();
        assert_eq!(
            (
                latest.version,
                latest.document.as_str(),
                latest.author.as_str()
            ),
            (2, "{\"a\":2}", "bob"),
            "{engine}"
        );
        assert_eq!(store.policy_version().await.unwrap(), Some(2));
    }
    // Two processes saving after the same version: one wins.
    let (a, b) = (&stores[1].1, engines.another().await);
    let (x, y) = tokio::join!(
        a.save_policy(Some(2), "{\"a\":3}", "x", 13),
        b.save_policy(Some(2), "{\"a\":4}", "y", 13)
    );
    let mut saved = [x.unwrap(), y.unwrap()];
    saved.sort();
    assert_eq!(saved, [None, Some(3)]);
}

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
/// engine's own client: flows themselves are not ported yet.
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
