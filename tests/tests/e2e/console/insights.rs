//! Usage and insights from known flows, the password rules and the logo.

use super::*;

/// Verifies a flow's email method with the code from the delivered mail.
async fn verify_email(server: &TestServer, kiosk: &Client, flow: &FlowView, to: &str) -> FlowView {
    let seen = server.code_mails_to(to).len();
    let ch = kiosk
        .challenge(&flow.flow_id, &method_of(flow, MethodKind::Email))
        .await
        .expect("email challenge");
    let code = server.code_mail(to, seen).await.expect("code mail");
    kiosk
        .verify(&flow.flow_id, &ch.challenge_id, &code)
        .await
        .expect("email code accepted")
}

fn method_of(flow: &FlowView, kind: MethodKind) -> String {
    flow.methods
        .iter()
        .find(|m| m.kind == kind)
        .map(|m| m.id.clone())
        .unwrap_or_else(|| panic!("no {kind:?} method in {flow:?}"))
}

fn begin(login: &str, intent: Intent) -> StartFlowRequest {
    StartFlowRequest {
        login: login.into(),
        intent,
        locale: None,
    }
}

/// A known set of flows (as the API test `insights_count_exactly_the_flows_that_ran`
/// runs): ada resets after a refused password, grace unlocks, alan (an administrator)
/// verifies two methods and resets, ada gives up after a wrong code, and two logins get a
/// decoy. The funnel is then 4 → 3 → 1 of 1 → 3 → 3, with 2 decoys apart.
async fn known_flows(server: &TestServer, kiosk: &Client) {
    const NEW: &str = "violet kettle under maple rain";
    let flow = kiosk
        .start_flow(&begin("ada", Intent::Reset))
        .await
        .expect("flow");
    let flow = verify_email(server, kiosk, &flow, "ada@home.example.net").await;
    assert!(kiosk.set_password(&flow.flow_id, "short").await.is_err());
    kiosk.set_password(&flow.flow_id, NEW).await.expect("reset");
    let flow = kiosk
        .start_flow(&begin("grace", Intent::Unlock))
        .await
        .expect("flow");
    let flow = verify_email(server, kiosk, &flow, "grace@home.example.net").await;
    kiosk.unlock(&flow.flow_id).await.expect("unlock");
    let flow = kiosk
        .start_flow(&begin("alan", Intent::Reset))
        .await
        .expect("flow");
    assert_eq!(flow.required, 2);
    let flow = verify_email(server, kiosk, &flow, "alan@home.example.net").await;
    let ch = kiosk
        .challenge(&flow.flow_id, &method_of(&flow, MethodKind::Totp))
        .await
        .expect("totp challenge");
    let flow = kiosk
        .verify(
            &flow.flow_id,
            &ch.challenge_id,
            &sspr_tests::totp_now("KRSXG5CTMVRXEZLUKRSXG5CTMVRXEZLU"),
        )
        .await
        .expect("totp");
    kiosk.set_password(&flow.flow_id, NEW).await.expect("reset");
    let flow = kiosk
        .start_flow(&begin("ada", Intent::Reset))
        .await
        .expect("flow");
    let ch = kiosk
        .challenge(&flow.flow_id, &method_of(&flow, MethodKind::Email))
        .await
        .expect("challenge");
    assert!(kiosk
        .verify(&flow.flow_id, &ch.challenge_id, "000000")
        .await
        .is_err());
    kiosk.cancel(&flow.flow_id).await.expect("cancel");
    kiosk
        .start_flow(&begin("nobody-by-that-name", Intent::Reset))
        .await
        .expect("decoy");
    kiosk
        .start_flow(&begin("margaret", Intent::Reset))
        .await
        .expect("decoy");
}

/// The funnel's flows as the page's table shows them, by stage.
async fn funnel_in_page(b: &Browser) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for row in b
        .client
        .find_all(Locator::Css("#funnel-table tbody tr"))
        .await
        .expect("funnel rows")
    {
        let stage = row
            .attr("data-stage")
            .await
            .expect("stage")
            .unwrap_or_default();
        let flows = row
            .find(Locator::Css("td[data-col=\"flows\"]"))
            .await
            .expect("flows cell")
            .text()
            .await
            .expect("text");
        out.push((stage, flows));
    }
    out
}

/// Clicks a CSV button and returns what the page built (the Blob handed to the download).
async fn csv_of(b: &Browser, button: &str) -> String {
    b.client
        .execute(
            "window.__csv = []; if (!window.__csvHooked) { const made = URL.createObjectURL; \
             URL.createObjectURL = function (blob) { window.__csv.push(blob); return made.call(URL, blob); }; \
             window.__csvHooked = true; }",
            vec![],
        )
        .await
        .expect("hook the download");
    b.click_centered(button).await.expect("export");
    let text = b
        .client
        .execute_async(
            "const done = arguments[arguments.length - 1]; const blob = window.__csv[window.__csv.length - 1]; \
             if (blob) blob.text().then(done); else done(null);",
            vec![],
        )
        .await
        .expect("the CSV");
    text.as_str().unwrap_or_default().to_string()
}

fn write_file(server: &TestServer, name: &str, bytes: &[u8]) -> String {
    let path = server.dir.join(name);
    std::fs::write(&path, bytes).expect("write");
    path.to_str().unwrap_or_default().to_string()
}

async fn upload(b: &Browser, input: &str, path: &str) {
    b.client
        .find(Locator::Css(input))
        .await
        .expect("file input")
        .send_keys(path)
        .await
        .expect("choose the file");
}

#[tokio::test]
async fn insights_password_rules_and_the_logo_work_in_a_browser() {
    let server = server().await;
    let kiosk = server.kiosk_named("Lobby 1").await.expect("kiosk");
    known_flows(&server, &kiosk).await;
    let mut b = Browser::desktop(&shots("console-insights"))
        .await
        .expect("chromium");
    register_passkey(&mut b, &server, "linus", LINUS_PASSWORD, LINUS_TOTP).await;
    b.goto(&format!("{}/admin", server.phone_base))
        .await
        .expect("console");
    console_sign_in(&mut b, "linus", LINUS_PASSWORD).await;
    b.client
        .execute(
            "window.cspViolations = []; document.addEventListener('securitypolicyviolation', \
             (e) => window.cspViolations.push(e.violatedDirective + ' ' + e.blockedURI));",
            vec![],
        )
        .await
        .expect("listen for CSP violations");

    // Usage & insights: the funnel's numbers in the page, the decoys apart.
    open(&b, "insights", false).await;
    let want: Vec<(String, String)> = [
        ("started", "4"),
        ("first_method", "3"),
        ("second_method", "1"),
        ("verified", "3"),
        ("written", "3"),
    ]
    .iter()
    .map(|(s, n)| (s.to_string(), n.to_string()))
    .collect();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let got = funnel_in_page(&b).await;
        if got == want {
            break;
        }
        assert!(Instant::now() < deadline, "the funnel in the page: {got:?}");
        // The audit is written as the flows end: count again.
        b.click_centered("#insights-apply").await.expect("again");
        b.state("insights", 10).await.expect("counted");
    }
    let second = b
        .text("#funnel-table tr[data-stage=\"second_method\"]")
        .await
        .expect("second method");
    assert!(
        second.contains("100%") && second.contains("Share of the 1 flow that needed two"),
        "{second}"
    );
    let started = b
        .text("#funnel-table tr[data-stage=\"first_method\"]")
        .await
        .expect("first method");
    assert!(
        started.contains("75%") && started.contains("\u{2212}1"),
        "{started}"
    );
    assert_eq!(b.text("#in-resets .tile-value").await.expect("resets"), "2");
    assert_eq!(
        b.text("#in-unlocks .tile-value").await.expect("unlocks"),
        "1"
    );
    b.wait_text("#insights-decoys", "Not counted above: 2 attempts", 5)
        .await
        .expect("decoys apart");
    let methods = b.text("#methods-table").await.expect("methods");
    assert!(methods.contains("Email code"), "{methods}");
    let email = b
        .text("#methods-table tr[data-method=\"email\"]")
        .await
        .expect("email row");
    assert!(email.starts_with("Email code 4 — 3 1"), "{email}");
    assert!(
        exists(&b, "canvas#chart-over-time").await && exists(&b, "canvas#chart-funnel").await,
        "the charts are drawn"
    );
    // The failure reasons, exported as CSV built in the page.
    let reasons = b.text("#failures-overall").await.expect("reasons");
    assert!(reasons.contains("Password rejected"), "{reasons}");
    let csv = csv_of(&b, "#failures-overall-csv").await;
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.first().copied(), Some("reason,code,count"), "{csv}");
    assert!(
        lines.contains(&"\"Password rejected\",\"password_rejected\",1"),
        "{csv}"
    );
    assert!(
        lines.contains(&"\"Verification failed: wrong code\",\"verify_failed: wrong_code\",1"),
        "{csv}"
    );
    let csv = csv_of(&b, "#failures-kiosk-csv").await;
    assert!(csv.contains("\"Lobby 1\",2"), "{csv}");
    let csv = csv_of(&b, "#funnel-csv").await;
    assert!(csv.contains("\"started\",4,100,\"started\","), "{csv}");

    // Registration coverage: who can't use it yet, with the server's CSV.
    b.wait_text("#not-ready", "barbara", 15)
        .await
        .expect("barbara has nothing registered");
    let margaret = b
        .text("#not-ready tr[data-username=\"margaret\"]")
        .await
        .expect("margaret");
    assert!(
        margaret.contains("Administrator") && margaret.contains("2 methods"),
        "{margaret}"
    );
    let link = b
        .client
        .find(Locator::Css("#not-ready-csv"))
        .await
        .expect("CSV link")
        .attr("href")
        .await
        .expect("href");
    assert_eq!(link.as_deref(), Some("/v1/admin/coverage?format=csv"));
    b.client
        .execute("window.scrollTo(0, 0);", vec![])
        .await
        .expect("scroll");
    b.shoot("insights").await.expect("shot");
    b.shoot_full("insights").await.expect("full shot");

    // The group filter: typed, picked from the directory's groups with the keyboard, kept
    // in the address; only alan's flow is a member's.
    b.type_into("#f-group", "domain ad").await.expect("group");
    b.wait_text("#insights-filters [role=listbox]", "Domain Admins", 10)
        .await
        .expect("the directory's groups");
    b.shoot("insights-group-search").await.expect("shot");
    let field = b
        .client
        .find(Locator::Css("#f-group"))
        .await
        .expect("field");
    field.send_keys("\u{E015}").await.expect("arrow down");
    field.send_keys("\u{E007}").await.expect("enter");
    assert_eq!(
        field.prop("value").await.expect("value").as_deref(),
        Some("Domain Admins")
    );
    b.click_centered("#insights-apply").await.expect("show");
    b.wait_text("#insights-range", "members of Domain Admins", 10)
        .await
        .expect("filtered");
    let got = funnel_in_page(&b).await;
    assert!(
        got.iter().all(|(_, n)| n == "1"),
        "only alan's flow: {got:?}"
    );
    let hash = b
        .client
        .execute("return location.hash;", vec![])
        .await
        .expect("hash");
    assert!(
        hash.as_str()
            .unwrap_or_default()
            .contains("group=Domain%20Admins"),
        "{hash}"
    );
    // A custom range typed in the address: shown with its days, and counted; one that
    // ends before it starts is refused in the page.
    b.client
        .execute(
            "const d = (n) => new Date(Date.now() - n * 864e5).toISOString().slice(0, 10); \
             location.hash = `#insights?range=custom&from=${d(9)}&to=${d(0)}`;",
            vec![],
        )
        .await
        .expect("a custom range");
    let deadline = Instant::now() + Duration::from_secs(10);
    while funnel_in_page(&b).await != want {
        assert!(
            Instant::now() < deadline,
            "the custom range counts every flow"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(
        b.client
            .find(Locator::Css("#f-from"))
            .await
            .expect("from")
            .is_displayed()
            .await
            .expect("shown?"),
        "the custom range's days are shown"
    );
    b.client
        .execute(
            "const d = (n) => new Date(Date.now() - n * 864e5).toISOString().slice(0, 10); \
             document.getElementById('f-from').value = d(0); document.getElementById('f-to').value = d(9);",
            vec![],
        )
        .await
        .expect("reversed");
    b.click_centered("#insights-apply").await.expect("show");
    b.wait_text(
        "#insights-filter-error",
        "The first day must not be after the last",
        5,
    )
    .await
    .expect("refused in the page");

    // Password rules: a banned term saved here refuses a kiosk's new password holding it.
    let flow = kiosk
        .start_flow(&begin("grace", Intent::Reset))
        .await
        .expect("flow");
    let flow = verify_email(&server, &kiosk, &flow, "grace@home.example.net").await;
    const CANDIDATE: &str = "Quokkaplanet2025!";
    let before = kiosk
        .password_check(&flow.flow_id, CANDIDATE)
        .await
        .expect("check");
    assert!(before.acceptable, "acceptable before the ban: {before:?}");
    open(&b, "password-rules", false).await;
    b.wait_text("#directory-rules", "Built-in directory", 5)
        .await
        .expect("the directory's own rules");
    // A list from a file: too-long lines are refused whole; a good list is added, short
    // terms and comments left out.
    let long = write_file(
        &server,
        "too-long.txt",
        format!("northwind\n{}\n", "x".repeat(65)).as_bytes(),
    );
    upload(&b, "#banned-file", &long).await;
    b.wait_text("#banned-msg", "too-long.txt wasn't added", 5)
        .await
        .expect("refused, saying why");
    let list = write_file(
        &server,
        "banned.txt",
        b"# our names\nnorthwind\nfabrikam\nab\n",
    );
    upload(&b, "#banned-file", &list).await;
    b.wait_text("#banned-msg", "2 terms added from banned.txt", 5)
        .await
        .expect("added");
    b.wait_text("#banned-msg", "1 term shorter than 4 characters", 5)
        .await
        .expect("the short one left out");
    b.type_into("#banned-term", "quokkaplanet")
        .await
        .expect("term");
    b.click_centered("#banned-add").await.expect("add");
    b.wait_text("#banned-list", "quokkaplanet", 5)
        .await
        .expect("listed");
    // Bounds are checked before sending.
    b.type_into("input[data-path=\"password.min_length\"]", "7")
        .await
        .expect("min");
    b.click_centered("#policy-save").await.expect("save");
    b.wait_text(
        "#save-errors",
        "Shortest password: enter a whole number from 8 to 1024",
        5,
    )
    .await
    .expect("refused in the page");
    b.type_into("input[data-path=\"password.min_length\"]", "15")
        .await
        .expect("min");
    b.shoot("password-rules-edited").await.expect("shot");
    b.click_centered("#policy-save").await.expect("save");
    b.wait_text("#save-done", "Saved as version", 15)
        .await
        .expect("saved");
    b.shoot("password-rules-saved").await.expect("shot");
    b.shoot_full("password-rules-saved")
        .await
        .expect("full shot");
    eventually(
        "the kiosk refuses a password holding the banned term",
        || async {
            kiosk
                .password_check(&flow.flow_id, CANDIDATE)
                .await
                .map(|c| {
                    !c.acceptable
                        && c.reasons
                            .iter()
                            .any(|r| r.code == PasswordReasonCode::Banned)
                })
                .unwrap_or(false)
        },
    )
    .await;

    // Authentication methods: what this server can't offer yet is shown, not offered
    // (as `available_methods` says; none is on in this policy).
    open(&b, "methods", false).await;
    let policy = b
        .client
        .execute_async(
            "const done = arguments[arguments.length - 1]; \
             fetch('/v1/admin/policy').then((r) => r.json()).then(done, () => done(null));",
            vec![],
        )
        .await
        .expect("the policy");
    let available: Vec<String> = policy["available_methods"]
        .as_array()
        .expect("available_methods")
        .iter()
        .filter_map(|m| m.as_str().map(str::to_string))
        .collect();
    for known in policy["known_methods"].as_array().expect("known_methods") {
        let m = known.as_str().unwrap_or_default();
        let enabled = b
            .client
            .find(Locator::Css(&format!("input[data-method=\"{m}\"]")))
            .await
            .expect("a box for each method")
            .is_enabled()
            .await
            .expect("enabled?");
        let offered = available.iter().any(|a| a == m);
        let on = policy["document"]["policy"]["methods"]
            .as_array()
            .is_some_and(|a| a.iter().any(|x| x == m));
        assert_eq!(enabled, offered || on, "{m}: offered {offered}");
        if !offered {
            let row = b
                .text(&format!(
                    "[data-unavailable]:has(input[data-method=\"{m}\"])"
                ))
                .await
                .expect("its row");
            assert!(row.contains("Not available yet"), "{m}: {row}");
        }
    }

    // Customization: a logo. Too large or not an image: refused in the page.
    open(&b, "customization", false).await;
    let big = write_file(&server, "big.png", &vec![0u8; 41 * 1024]);
    upload(&b, "#logo-file", &big).await;
    b.wait_text("#logo-msg", "big.png is too large", 5)
        .await
        .expect("too large, said so");
    const PNG_1X1: &str = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==";
    let png = {
        use base64::Engine as _;
        base64::engine::general_purpose::STANDARD
            .decode(PNG_1X1)
            .expect("png")
    };
    let png_path = write_file(&server, "dot.png", &png);
    upload(&b, "#logo-file", &png_path).await;
    b.wait_text("#logo-about", "PNG", 5).await.expect("a PNG");
    assert!(
        exists(
            &b,
            "#kiosk-preview img.kp-logo[src^=\"data:image/png;base64,\"]"
        )
        .await,
        "the preview shows the PNG"
    );
    // A plain SVG, saved: the kiosks get it, the preview shows it where the kiosk does.
    const LOGO: &str = r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 120 40"><rect width="120" height="40" rx="8" fill="#0b5cad"/><circle cx="20" cy="20" r="10" fill="#ffffff"/><rect x="38" y="14" width="70" height="12" rx="6" fill="#9cc3ee"/></svg>"##;
    let svg_path = write_file(&server, "logo.svg", LOGO.as_bytes());
    upload(&b, "#logo-file", &svg_path).await;
    b.wait_text("#logo-about", "SVG", 5).await.expect("an SVG");
    let data_url = {
        use base64::Engine as _;
        format!(
            "data:image/svg+xml;base64,{}",
            base64::engine::general_purpose::STANDARD.encode(LOGO)
        )
    };
    let shown = b
        .client
        .find(Locator::Css("#kiosk-preview img.kp-logo"))
        .await
        .expect("the preview's logo")
        .attr("src")
        .await
        .expect("src");
    assert_eq!(shown.as_deref(), Some(data_url.as_str()));
    b.shoot("customization-logo").await.expect("shot");
    b.click_centered("#policy-save").await.expect("save");
    b.wait_text("#save-done", "Saved as version", 15)
        .await
        .expect("saved");
    eventually("the kiosk's settings carry the logo", || async {
        kiosk
            .settings()
            .await
            .map(|s| s.logo.as_deref() == Some(data_url.as_str()))
            .unwrap_or(false)
    })
    .await;
    b.shoot_full("customization-logo-saved")
        .await
        .expect("full shot");
    // A scripted SVG: the server refuses it and the page says why.
    let scripted = write_file(
        &server,
        "scripted.svg",
        br#"<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script><rect width="4" height="4"/></svg>"#,
    );
    upload(&b, "#logo-file", &scripted).await;
    b.wait_text("#logo-about", "SVG", 5).await.expect("read");
    b.click_centered("#policy-save").await.expect("save");
    b.wait_text("#save-errors", "<script> isn't allowed in an SVG logo", 15)
        .await
        .expect("the server's problem, shown");
    b.shoot("customization-logo-refused").await.expect("shot");
    // Removed: the kiosks go back to the initial.
    b.click_centered("#logo-remove").await.expect("remove");
    b.click_centered("#policy-save").await.expect("save");
    b.wait_text("#save-done", "Saved as version", 15)
        .await
        .expect("saved");
    eventually("the kiosk's settings have no logo", || async {
        kiosk
            .settings()
            .await
            .map(|s| s.logo.is_none())
            .unwrap_or(false)
    })
    .await;
    assert!(
        exists(&b, "#kiosk-preview .kp-mark").await,
        "the preview shows the initial again"
    );

    // Properties: the group's name picked from the directory.
    open(&b, "properties", false).await;
    b.click_centered("input[data-path=\"policy.enabled\"][value=\"group\"]")
        .await
        .expect("a group");
    b.type_into("#policy-group", "sspr").await.expect("type");
    b.wait_text("#group-row [role=listbox]", "SSPR Admins", 10)
        .await
        .expect("suggested");
    b.shoot("properties-group-search").await.expect("shot");
    b.click_centered("#group-row [role=option][data-group=\"SSPR Admins\"]")
        .await
        .expect("pick");
    let value = b
        .client
        .find(Locator::Css("#policy-group"))
        .await
        .expect("field")
        .prop("value")
        .await
        .expect("value");
    assert_eq!(value.as_deref(), Some("SSPR Admins"));
    b.click_centered("#policy-discard").await.expect("discard");

    // Directories: the certificate (none over plain connections) and the rules.
    open(&b, "directories", false).await;
    let dir = b.text("#directories").await.expect("directories");
    assert!(
        dir.contains("Certificate") && dir.contains("Password rules"),
        "{dir}"
    );

    let violations = b
        .client
        .execute("return window.cspViolations;", vec![])
        .await
        .expect("CSP violations");
    assert_eq!(violations, serde_json::json!([]), "the page broke its CSP");

    // The new pages at a phone's size.
    b.resize(390, 844, "phone").await.expect("resize");
    for view in ["insights", "password-rules", "customization", "directories"] {
        open(&b, view, true).await;
        b.shoot(view).await.expect("shot");
        b.shoot_full(view).await.expect("full shot");
    }
    open(&b, "insights", true).await;
    b.click_centered("#insights-filters-box > summary")
        .await
        .expect("open the filters");
    b.shoot("insights-filters").await.expect("shot");
}
