//! Several directories, one verified session: OpenLDAP (on-premises) linked to Entra ID
//! (cloud) by email address.

use sspr_tests::dirs::{NewUser, Slapd};
use sspr_tests::graph::GraphReplay;
use sspr_tests::sspr_proto::{ErrorCode, Intent};

use super::*;

const NEW_PASSWORD: &str = "Saffron glacier 19 Tundra";

// Several threads: the Graph replay answers while the test waits on admin commands.
#[tokio::test(flavor = "multi_thread")]
async fn one_session_writes_every_linked_directory_and_a_retry_finishes_a_partial_write() {
    let slapd = Slapd::shared().expect("slapd");
    let login = unique("link");
    let email = format!("{login}@example.org");
    let dn = slapd
        .add_user(&NewUser {
            login: &login,
            given_name: "Link",
            surname: "Both",
            email: Some(&email),
            password: "first Passw0rd here",
        })
        .expect("ldap user");
    let mut cloud = super::entra::cloud_user(&login, &[]);
    cloud.mail = Some(email.clone());
    let graph = GraphReplay::start(vec![cloud.clone()])
        .await
        .expect("graph replay");
    let entra = super::entra::config(
        &graph,
        "directory.linked",
        "Entra ID",
        sspr_tests::graph::CLIENT_SECRET,
    )
    .replace("[directory.linked]", "[[directory.linked]]")
        + "link = \"email\"\n";
    let server = server_with(&format!("{}\n{entra}", super::ldap::config(slapd, ""))).await;
    let kiosk = server.kiosk().await.expect("kiosk");

    // Both directories hold the person: both get the password, each reported.
    let flow = verified_flow(&server, &kiosk, &login, Intent::Reset).await;
    assert_eq!(
        flow.password_rules.categories, 3,
        "Entra ID's rule joins OpenLDAP's"
    );
    let done = kiosk
        .set_password(&flow.flow_id, NEW_PASSWORD)
        .await
        .expect("reset");
    let names: Vec<&str> = done
        .directories
        .iter()
        .map(|d| d.directory.as_str())
        .collect();
    assert_eq!(names, ["OpenLDAP", "Entra ID"]);
    assert!(all_ok(&done), "{done:?}");
    assert!(slapd.bind_ok(&dn, NEW_PASSWORD));
    assert_eq!(graph.password_of(&cloud.id).as_deref(), Some(NEW_PASSWORD));

    // Entra ID goes down in the middle of the next session: OpenLDAP takes the password,
    // Entra ID doesn't, and the person sees exactly that.
    let second = "Saffron glacier 20 Tundra";
    let flow = verified_flow(&server, &kiosk, &login, Intent::Reset).await;
    graph.set_down(true);
    let partial = error_of(kiosk.set_password(&flow.flow_id, second).await);
    assert_eq!(partial.code, ErrorCode::PartiallyWritten, "{partial:?}");
    let by_name = |n: &str| {
        partial
            .directories
            .iter()
            .find(|d| d.directory == n)
            .unwrap_or_else(|| panic!("{n} missing in {partial:?}"))
            .clone()
    };
    assert!(by_name("OpenLDAP").ok);
    assert!(!by_name("Entra ID").ok);
    assert!(slapd.bind_ok(&dn, second));
    assert_eq!(graph.password_of(&cloud.id).as_deref(), Some(NEW_PASSWORD));
    let audit = events(&server, "partially_written");
    assert_eq!(audit.len(), 1, "{audit:?}");
    let detail = audit[0]["detail"].to_string();
    assert!(
        detail.contains("OpenLDAP") && detail.contains("Entra ID"),
        "{detail}"
    );

    // Back up: the retry with the same password finishes Entra ID only. (Writing OpenLDAP
    // again would fail: ppolicy refuses the current password as "in history".)
    graph.set_down(false);
    let done = kiosk
        .set_password(&flow.flow_id, second)
        .await
        .expect("retry finishes the rest");
    assert!(all_ok(&done), "{done:?}");
    assert_eq!(graph.password_of(&cloud.id).as_deref(), Some(second));
    assert!(slapd.bind_ok(&dn, second));
}
