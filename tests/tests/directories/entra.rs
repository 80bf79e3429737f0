//! Microsoft Entra ID through Microsoft Graph, against a local replay of Graph's documented
//! requests and answers (no live tenant is reachable here).

use sspr_tests::graph::{GraphReplay, GraphUser, CLIENT_ID, CLIENT_SECRET, TENANT};
use sspr_tests::sspr_proto::{ErrorCode, Intent, Outcome, PasswordReasonCode};

use super::*;

const NEW_PASSWORD: &str = "Cobalt harbour sunrise 58";

pub fn config(graph: &GraphReplay, section: &str, name: &str, secret: &str) -> String {
    format!(
        r#"
[{section}]
kind = "entra"
name = "{name}"
tenant_id = "{TENANT}"
client_id = "{CLIENT_ID}"
client_secret = "{secret}"
authority_url = "{url}"
graph_url = "{url}"
timeout_secs = 3
"#,
        url = graph.url(),
    )
}

pub fn cloud_user(login: &str, groups: &[&str]) -> GraphUser {
    GraphUser {
        id: format!(
            "{:08x}-0000-4000-8000-{:012x}",
            rand::random::<u32>(),
            rand::random::<u32>()
        ),
        upn: format!("{login}@example.onmicrosoft.com"),
        mail: Some(format!("{login}@example.org")),
        given_name: "Cloud".into(),
        surname: "Person".into(),
        enabled: true,
        groups: groups.iter().map(|g| g.to_string()).collect(),
        protected: false,
        phones: Vec::new(),
    }
}

// Several threads: the Graph replay answers while the test waits on admin commands.
#[tokio::test(flavor = "multi_thread")]
async fn reset_through_graph_and_its_refusals() {
    let mut admin = cloud_user("cadmin", &["Global Administrators"]);
    admin.protected = true;
    let person = cloud_user("cperson", &["Staff"]);
    let graph = GraphReplay::start(vec![person.clone(), admin.clone()])
        .await
        .expect("graph replay");
    let server = server_with(&format!(
        "{}\n[policy]\nadmin_groups = [\"Global Administrators\"]\nmethods_required = 1\n",
        config(&graph, "directory", "Entra ID", CLIENT_SECRET)
    ))
    .await;
    let kiosk = server.kiosk().await.expect("kiosk");

    let flow = verified_flow(&server, &kiosk, &person.upn, Intent::Reset).await;
    assert_eq!(
        flow.password_rules.categories, 3,
        "Entra ID's rule, shown first"
    );
    let done = kiosk
        .set_password(&flow.flow_id, NEW_PASSWORD)
        .await
        .expect("reset");
    assert_eq!(done.outcome, Outcome::PasswordReset);
    assert!(all_ok(&done));
    assert_eq!(graph.password_of(&person.id).as_deref(), Some(NEW_PASSWORD));
    assert!(graph
        .requests()
        .iter()
        .any(|r| r == &format!("PATCH /v1.0/users/{}", person.id)));

    // Too plain for Entra ID: refused live, before any call to Graph.
    let flow = verified_flow(&server, &kiosk, &person.upn, Intent::Reset).await;
    let check = kiosk
        .password_check(&flow.flow_id, "cobalt harbour sunrise")
        .await
        .expect("check");
    assert!(check
        .reasons
        .iter()
        .any(|r| r.code == PasswordReasonCode::NeedsVariety));

    // Unlock: Entra ID has none; the person is told what to do instead.
    let flow2 = verified_flow(&server, &kiosk, &person.upn, Intent::Unlock).await;
    let e = error_of(kiosk.unlock(&flow2.flow_id).await);
    assert_eq!(e.code, ErrorCode::NotAllowed);
    assert!(e.message.contains("reset your password"), "{e:?}");

    // A privileged administrator: Graph says 403, self-service can't, the helpdesk can.
    server
        .register(&format!(
            "[[person]]\nlogin = \"{}\"\ntotp = \"{}\"\n",
            admin.upn,
            sspr_tests::ADA_TOTP
        ))
        .expect("register totp");
    let aflow = verified_flow(&server, &kiosk, &admin.upn, Intent::Reset).await;
    assert_eq!(aflow.required, 2, "administrators need two methods");
    let ch = kiosk
        .challenge(
            &aflow.flow_id,
            &aflow
                .methods
                .iter()
                .find(|m| m.kind == sspr_tests::sspr_proto::MethodKind::Totp)
                .expect("totp")
                .id,
        )
        .await
        .expect("challenge");
    let aflow = kiosk
        .verify(
            &aflow.flow_id,
            &ch.challenge_id,
            &sspr_tests::totp_now(sspr_tests::ADA_TOTP),
        )
        .await
        .expect("totp");
    let e = error_of(kiosk.set_password(&aflow.flow_id, NEW_PASSWORD).await);
    assert_eq!(e.code, ErrorCode::NotAllowed, "{e:?}");
    assert!(e.message.contains("helpdesk"));
    assert_eq!(graph.password_of(&admin.id), None);

    // Graph down: nothing changed, said plainly, and /readyz knows.
    graph.set_down(true);
    let e = error_of(kiosk.set_password(&flow.flow_id, NEW_PASSWORD).await);
    assert_eq!(e.code, ErrorCode::DirectoryUnavailable);
    let (status, body) = readyz(&server).await;
    assert_eq!(status, 503);
    assert_eq!(body["unavailable"][0], "Entra ID");
}

// Several threads: the Graph replay answers while the test waits on admin commands.
#[tokio::test(flavor = "multi_thread")]
async fn a_wrong_client_secret_is_a_directory_outage_not_a_crash() {
    let person = cloud_user("csecret", &[]);
    let graph = GraphReplay::start(vec![person.clone()])
        .await
        .expect("graph replay");
    let server = server_with(&config(&graph, "directory", "Entra ID", "wrong-secret")).await;
    let (status, _) = readyz(&server).await;
    assert_eq!(status, 503);
    let kiosk = server.kiosk().await.expect("kiosk");
    let e = error_of(kiosk.start_flow(&start(&person.upn, Intent::Reset)).await);
    assert_eq!(e.code, ErrorCode::DirectoryUnavailable);
    assert!(
        !server.log().contains("wrong-secret"),
        "the secret never reaches the log"
    );
}

/// The app signs in with a certificate instead of a secret: a client assertion (a JWT
/// signed with the certificate's key) the replay checks as Entra ID does, against the
/// certificate's public key and thumbprint as the `openssl` CLI reads them.
#[tokio::test(flavor = "multi_thread")]
async fn an_app_with_a_certificate_resets_and_another_certificate_is_refused() {
    use sspr_tests::graph::app_certificate;
    let person = cloud_user("ccert", &["Staff"]);
    let graph = GraphReplay::start(vec![person.clone()])
        .await
        .expect("graph replay");
    let dir = std::env::temp_dir().join(format!("sspr-app-cert-{}", rand::random::<u64>()));
    std::fs::create_dir_all(&dir).expect("scratch folder");
    let (cert, key) = app_certificate(&dir, "sspr-app").expect("certificate");
    let (other_cert, other_key) = app_certificate(&dir, "someone-else").expect("certificate");
    graph.register_certificate(&cert).expect("register");
    let with_certificate = |cert: &std::path::Path, key: &std::path::Path| {
        config(&graph, "directory", "Entra ID", "unused").replace(
            "client_secret = \"unused\"\n",
            &format!(
                "client_certificate_file = \"{}\"\nclient_key_file = \"{}\"\n",
                cert.display(),
                key.display()
            ),
        )
    };

    let server = server_with(&format!(
        "{}\n[policy]\nmethods_required = 1\n",
        with_certificate(&cert, &key)
    ))
    .await;
    let kiosk = server.kiosk().await.expect("kiosk");
    let flow = verified_flow(&server, &kiosk, &person.upn, Intent::Reset).await;
    let done = kiosk
        .set_password(&flow.flow_id, NEW_PASSWORD)
        .await
        .expect("reset");
    assert_eq!(done.outcome, Outcome::PasswordReset);
    assert_eq!(graph.password_of(&person.id).as_deref(), Some(NEW_PASSWORD));
    assert_eq!(readyz(&server).await.0, 200);

    // A certificate the app registration doesn't hold: the token endpoint refuses it, so
    // the directory is unavailable (and says so), and no key reaches the log.
    let stranger = server_with(&with_certificate(&other_cert, &other_key)).await;
    let (status, body) = readyz(&stranger).await;
    assert_eq!(status, 503, "{body}");
    let kiosk = stranger.kiosk().await.expect("kiosk");
    let e = error_of(kiosk.start_flow(&start(&person.upn, Intent::Reset)).await);
    assert_eq!(e.code, ErrorCode::DirectoryUnavailable);
    let key_pem = std::fs::read_to_string(&other_key).expect("key");
    let key_body: String = key_pem.lines().nth(1).unwrap_or_default().to_string();
    assert!(key_body.len() > 20 && !stranger.log().contains(&key_body));

    // A key that isn't the certificate's: the server won't start, and says why.
    let refused = sspr_tests::TestServer::start_with(sspr_tests::Options {
        extra_config: with_certificate(&cert, &other_key),
        real_directory: true,
        ..Default::default()
    })
    .await;
    let err = refused.err().map(|e| format!("{e:#}")).unwrap_or_default();
    assert!(err.contains("is not the key of"), "{err}");
    std::fs::remove_dir_all(&dir).ok();
}

/// Numbers from Entra ID: the mobile and office authentication phones (Graph's
/// `phoneMethods`, the office one with an extension) text the code and dial the extension,
/// asked of Graph only while the policy takes numbers from the directory, and then for a
/// login nobody has as for a person. An app without the permission to read them is told
/// so once in the log, and self-service goes on without the numbers.
#[tokio::test(flavor = "multi_thread")]
async fn numbers_from_entra_authentication_phones() {
    let mut person = cloud_user("cnum", &["Staff"]);
    person.phones = vec![
        ("mobile".into(), "+49 15112345673".into()),
        ("alternateMobile".into(), "+49 15112345679".into()),
        ("office".into(), "+49 301234567x17".into()),
    ];
    let graph = GraphReplay::start(vec![person.clone()])
        .await
        .expect("graph replay");
    let directory = config(&graph, "directory", "Entra ID", CLIENT_SECRET);
    numbers_from_the_directory(
        &directory,
        &DirectoryPerson {
            login: &person.upn,
            mobile: "+4915112345673",
            office: ("+49301234567", "17"),
            new_password: NEW_PASSWORD,
        },
        |password| graph.password_of(&person.id).as_deref() == Some(password),
    )
    .await;
    let phones = |graph: &GraphReplay| {
        graph
            .requests()
            .into_iter()
            .filter(|r| r.ends_with("/authentication/phoneMethods"))
            .collect::<Vec<_>>()
    };
    // Asked once: by the identify with numbers from the directory, not the other.
    assert_eq!(
        phones(&graph),
        vec![format!(
            "GET /v1.0/users/{}/authentication/phoneMethods",
            person.id
        )]
    );

    // A login nobody has costs the same request.
    let replay = sspr_tests::sms_replay::SmsReplay::start()
        .await
        .expect("sms replay");
    let server = server_with(&format!(
        "{directory}{}",
        phone_policy(&replay, "[\"directory\"]")
    ))
    .await;
    let kiosk = server.kiosk().await.expect("kiosk");
    kiosk
        .start_flow(&start("nobody@example.onmicrosoft.com", Intent::Reset))
        .await
        .expect("decoy");
    assert_eq!(
        phones(&graph).last().map(String::as_str),
        Some("GET /v1.0/users/00000000-0000-0000-0000-000000000000/authentication/phoneMethods")
    );

    // Graph refuses to list phones (the app lacks the permission): not an outage; the
    // person has nothing else, so a decoy.
    graph.deny_phone_methods(true);
    for _ in 0..2 {
        kiosk
            .start_flow(&start(&person.upn, Intent::Reset))
            .await
            .expect("not a directory outage");
    }
    let started = flows_started(&server, 3).await;
    assert!(
        started
            .iter()
            .filter(|e| e["detail"].to_string().contains("not_registered"))
            .count()
            >= 2,
        "{started:?}"
    );
    assert_eq!(
        server
            .log()
            .matches("UserAuthMethod-Phone.Read.All")
            .count(),
        1,
        "told once"
    );
}
