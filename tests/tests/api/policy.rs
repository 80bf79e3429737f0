//! The policy as versioned documents in the store: `sspr-server policy import` saves a new
//! version, a running server puts it in force within seconds (kiosks' settings and new
//! flows follow), a policy nobody could pass is refused with its reasons and changes
//! nothing, and each save or refusal is audited with who and what.

use std::time::Duration;

use sspr_tests::sspr_proto::Intent;
use sspr_tests::TestServer;

use super::*;

#[tokio::test]
async fn an_imported_policy_is_in_force_within_seconds_and_a_bad_one_changes_nothing() {
    let server = TestServer::start().await.expect("server");
    let kiosk = server.kiosk().await.expect("kiosk");
    let shown = server.admin(&["policy", "show"]).expect("show");
    assert!(
        shown.starts_with("# version 1 saved by configuration file"),
        "{shown}"
    );
    assert!(
        shown.contains("[policy]") && shown.contains("methods_required = 1"),
        "{shown}"
    );
    let before = kiosk
        .start_flow(&start("ada", Intent::Reset))
        .await
        .expect("flow");
    assert_eq!(before.required, 1);

    let dir = tempfile_dir();
    let file = dir.join("policy.toml");
    std::fs::write(
        &file,
        "[policy]\nmethods_required = 2\n\n[helpdesk]\nphone = \"+49 30 555 0199\"\n",
    )
    .expect("write");
    let said = server
        .admin(&[
            "policy",
            "import",
            file.to_str().unwrap_or_default(),
            "--author",
            "Grace (IT)",
        ])
        .expect("import");
    assert!(
        said.contains("saved version 2: helpdesk.phone, policy.methods_required"),
        "{said}"
    );

    // In force within seconds, without a restart: the kiosk's settings and a new flow.
    let mut phone = None;
    for _ in 0..100 {
        let settings = kiosk.settings().await.expect("settings");
        phone = settings.helpdesk.phone;
        if phone.as_deref() == Some("+49 30 555 0199") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(phone.as_deref(), Some("+49 30 555 0199"));
    let after = kiosk
        .start_flow(&start("ada", Intent::Reset))
        .await
        .expect("flow");
    assert_eq!(after.required, 2);

    // A policy nobody could pass is refused, with its reasons; nothing changes.
    std::fs::write(&file, "[policy]\nmethods = []\n").expect("write");
    let refused = server
        .admin(&["policy", "import", file.to_str().unwrap_or_default()])
        .expect_err("refused");
    let refused = refused.to_string();
    assert!(refused.contains("version 2 stays"), "{refused}");
    assert!(refused.contains("at least one method"), "{refused}");
    std::fs::write(&file, "[policy]\nno_such_key = true\n").expect("write");
    let unknown = server
        .admin(&["policy", "import", file.to_str().unwrap_or_default()])
        .expect_err("refused")
        .to_string();
    assert!(unknown.contains("no_such_key"), "{unknown}");
    let shown = server.admin(&["policy", "show"]).expect("show");
    assert!(
        shown.starts_with("# version 2 saved by Grace (IT)"),
        "{shown}"
    );

    // Exported, it reads back as the same policy: importing it changes nothing.
    let exported = dir.join("export.toml");
    server
        .admin(&["policy", "export", exported.to_str().unwrap_or_default()])
        .expect("export");
    let again = server
        .admin(&["policy", "import", exported.to_str().unwrap_or_default()])
        .expect("import");
    assert!(
        again.contains("nothing changes: version 2 stays"),
        "{again}"
    );

    let rows = server.audit(&[]).expect("audit");
    let saved: Vec<_> = rows
        .iter()
        .filter(|r| r["event"] == "policy_saved")
        .collect();
    assert_eq!(saved.len(), 1, "{rows:?}");
    let detail = saved[0]["detail"].as_str().unwrap_or_default();
    assert!(
        detail.contains("Grace (IT)") && detail.contains("helpdesk.phone"),
        "{detail}"
    );
    assert_eq!(
        rows.iter()
            .filter(|r| r["event"] == "policy_refused")
            .count(),
        2
    );
    let _ = std::fs::remove_dir_all(dir);
}

fn tempfile_dir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "sspr-policy-{}-{}",
        std::process::id(),
        sspr_tests::free_port().unwrap_or(0)
    ));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}
