//! The contract says every answer: schemathesis (tests/python) drives every operation of
//! the server's own /openapi.json with generated requests, signed as an enrolled kiosk
//! signs them, and fails on a server error or an answer the document doesn't list.

use std::process::Command;

use sspr_tests::phone::Phone;
use sspr_tests::python::{pyenv, script};
use sspr_tests::sspr_proto::{Intent, MethodKind};
use sspr_tests::{TestServer, ADA_PASSWORD, ADA_TOTP};

/// Examples per operation: enough to reach every status a bad request can get, few enough
/// for CI (each is a real request to the real server). `SSPR_ST_EXAMPLES` asks for more.
const EXAMPLES: &str = "25";

#[tokio::test]
async fn every_answer_is_in_the_document() {
    let server = TestServer::start().await.expect("server");
    let kiosk = server.kiosk().await.expect("kiosk");
    let seed: String = kiosk
        .device_key()
        .seed()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let flow = kiosk
        .start_flow(&super::start("ada", Intent::Reset))
        .await
        .expect("flow");
    let challenge = kiosk
        .challenge(&flow.flow_id, &super::method(&flow, MethodKind::Totp))
        .await
        .expect("challenge");
    let mut phone = Phone::new(&server).expect("phone");
    phone
        .sign_in_with_totp("ada", ADA_PASSWORD, ADA_TOTP)
        .await
        .expect("signed in to My security info");
    let cookie = phone.cookie().expect("session cookie").to_string();
    let work = server.dir.join("schemathesis");
    std::fs::create_dir_all(&work).expect("work folder");
    let st = pyenv().expect("python tools").join("bin/st");
    let examples = std::env::var("SSPR_ST_EXAMPLES").unwrap_or_else(|_| EXAMPLES.into());
    let out = tokio::task::spawn_blocking({
        let base = server.base.clone();
        let keyid = kiosk.kiosk_id().expect("enrolled").to_string();
        let work = work.clone();
        move || {
            Command::new(st)
                .current_dir(&work)
                .env("SCHEMATHESIS_HOOKS", script("st_hooks.py"))
                .env("HYPOTHESIS_STORAGE_DIRECTORY", work.join("hypothesis"))
                .env("SSPR_ST_SEED", seed)
                .env("SSPR_ST_KEYID", keyid)
                .env("SSPR_ST_FLOW", flow.flow_id)
                .env("SSPR_ST_CHALLENGE", challenge.challenge_id)
                .arg("--config-file")
                .arg(script("schemathesis.toml"))
                .args(["run", &format!("{base}/openapi.json")])
                .args(["--max-examples", &examples, "--no-color"])
                .args(["--header", &format!("Cookie: {cookie}")])
                .output()
        }
    })
    .await
    .expect("join")
    .expect("running schemathesis");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "schemathesis found answers the document doesn't list (or server errors):\n{stdout}\n{stderr}\nserver log:\n{}",
        server.log()
    );
    // It ran every operation but the event stream.
    assert!(stdout.contains("passed"), "{stdout}");
}
