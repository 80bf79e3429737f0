//! axe-core (Deque's accessibility rules engine, the npm package the UI's devDependencies
//! install into `ui/node_modules`) run inside the page a test drives: the kiosk's WebKit
//! window or Chromium, through WebDriver. The page is judged as the engine that draws it
//! computes it (colours, names, roles), not as a copy in another browser.

use std::path::PathBuf;
use std::sync::OnceLock;

use anyhow::Context as _;
use fantoccini::Client;
use serde::Deserialize;

/// One rule broken, with the elements that break it.
#[derive(Debug, Clone, Deserialize)]
pub struct Violation {
    /// axe's rule id (`color-contrast`, `label`, ...).
    pub id: String,
    /// `serious` or `critical` (lesser ones are not returned).
    pub impact: String,
    /// What the rule asks, in a line.
    pub help: String,
    pub nodes: Vec<Offender>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Offender {
    /// CSS selectors that find the element.
    pub target: Vec<serde_json::Value>,
    /// axe's own account of what is wrong with it and how to fix it.
    #[serde(default)]
    pub summary: String,
    #[serde(default)]
    pub html: String,
}

fn axe_path() -> PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../ui/node_modules/axe-core/axe.min.js")
}

/// axe.min.js, read once per test binary.
fn axe_source() -> anyhow::Result<&'static str> {
    static SOURCE: OnceLock<String> = OnceLock::new();
    if let Some(s) = SOURCE.get() {
        return Ok(s);
    }
    let path = axe_path();
    let text = std::fs::read_to_string(&path).with_context(|| {
        format!(
            "{} is missing: install the UI's packages (`npm ci` in ui/, which ./run does)",
            path.display()
        )
    })?;
    Ok(SOURCE.get_or_init(|| text))
}

/// Puts axe into the page unless it is there already (a single-page app keeps it until
/// it reloads). The source is part of the script WebDriver runs, so a page's CSP, which
/// refuses `eval`, has nothing to refuse.
async fn inject(client: &Client) -> anyhow::Result<()> {
    let there = client
        .execute("return typeof window.axe === 'object';", vec![])
        .await?;
    if there == serde_json::Value::Bool(true) {
        return Ok(());
    }
    let script = format!("{}\nreturn typeof window.axe;", axe_source()?);
    let kind = client
        .execute(&script, vec![])
        .await
        .context("injecting axe-core")?;
    anyhow::ensure!(
        kind == "object",
        "axe-core did not load in the page: {kind}"
    );
    Ok(())
}

const RUN: &str = r#"
const done = arguments[arguments.length - 1];
window.axe
  .run(document, { resultTypes: ["violations"] })
  .then((r) =>
    done({
      violations: r.violations
        .filter((v) => v.impact === "serious" || v.impact === "critical")
        .map((v) => ({
          id: v.id,
          impact: v.impact,
          help: v.help,
          nodes: v.nodes.map((n) => ({
            target: n.target,
            summary: n.failureSummary || "",
            html: (n.html || "").slice(0, 160),
          })),
        })),
    }),
  )
  .catch((e) => done({ error: String(e) }));
"#;

/// The page's serious and critical violations as axe finds them now.
pub async fn serious_violations(client: &Client) -> anyhow::Result<Vec<Violation>> {
    inject(client).await?;
    let answer = client
        .execute_async(RUN, vec![])
        .await
        .context("running axe-core")?;
    if let Some(e) = answer.get("error") {
        anyhow::bail!("axe-core failed in the page: {e}");
    }
    Ok(serde_json::from_value(answer["violations"].clone())?)
}

/// The violations as a person fixing them wants to read them: rule, impact, what it
/// asks, and for each element its selector and axe's summary.
pub fn report(violations: &[Violation]) -> String {
    let mut out = String::new();
    for v in violations {
        out.push_str(&format!("- {} ({}): {}\n", v.id, v.impact, v.help));
        for n in &v.nodes {
            let target = n
                .target
                .iter()
                .map(|t| {
                    t.as_str()
                        .map(str::to_string)
                        .unwrap_or_else(|| t.to_string())
                })
                .collect::<Vec<_>>()
                .join(" >> ");
            out.push_str(&format!("    {target}\n      {}\n", n.html));
            for line in n.summary.lines() {
                out.push_str(&format!("      {line}\n"));
            }
        }
    }
    out
}

/// Fails with a readable report when the page has a serious or critical violation;
/// `what` names the page (screen and language) in the message.
pub async fn check(client: &Client, what: &str) -> anyhow::Result<()> {
    let found = serious_violations(client).await?;
    anyhow::ensure!(
        found.is_empty(),
        "axe-core: {} serious/critical violation(s) on {what}:\n{}",
        found.len(),
        report(&found)
    );
    Ok(())
}

/// Violations gathered over a walk of several pages, so one run reports every page's
/// (fixing them one failure at a time would take a walk each).
#[derive(Default)]
pub struct Findings {
    pages: usize,
    failed: Vec<String>,
}

impl Findings {
    /// Runs axe on the page as it is now; `what` names it (screen and language).
    pub async fn check(&mut self, client: &Client, what: &str) -> anyhow::Result<()> {
        let found = serious_violations(client).await?;
        self.pages += 1;
        if !found.is_empty() {
            self.failed.push(format!(
                "{what}: {} serious/critical\n{}",
                found.len(),
                report(&found)
            ));
        }
        Ok(())
    }

    /// How many pages were checked.
    pub fn pages(&self) -> usize {
        self.pages
    }

    /// Fails with every page's report when any page had a serious or critical violation.
    pub fn assert_none(&self) -> anyhow::Result<()> {
        anyhow::ensure!(
            self.failed.is_empty(),
            "axe-core found serious/critical violations on {} of {} pages:\n{}",
            self.failed.len(),
            self.pages,
            self.failed.join("\n")
        );
        Ok(())
    }
}

/// Proves axe judges this page in this engine: a button with no name, added for the
/// moment, must be reported (`button-name`, critical). A check that passes because axe
/// saw nothing would otherwise look like a clean page.
pub async fn canary(client: &Client) -> anyhow::Result<()> {
    client
        .execute(
            "const b = document.createElement('button'); b.id = 'axe-canary'; \
             document.body.append(b);",
            vec![],
        )
        .await?;
    let found = serious_violations(client).await;
    client
        .execute("document.getElementById('axe-canary')?.remove();", vec![])
        .await?;
    let found = found?;
    anyhow::ensure!(
        found.iter().any(|v| v.id == "button-name"
            && v.nodes.iter().any(|n| n.html.contains("axe-canary"))),
        "axe-core missed a button with no name: {found:?}"
    );
    Ok(())
}
