//! What guards a request, on both engines: kiosks and enrollment codes, signature
//! nonces, throttles, idempotency claims and policy versions.

use sspr_server::store::{Claim, EnrollAs, StagingCode};
use sspr_tests::postgres::Postgres;

use super::Engines;

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
