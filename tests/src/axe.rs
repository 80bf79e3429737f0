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

/// The contrast probe: text and controls' edges below the ratios asked, as the engine
/// computed the colours. A colour is read through its ancestors until one is opaque.
const CONTRAST: &str = r#"
const [textMin, edgeMin] = arguments;
const rgb = (c) => { const m = c.match(/[\d.]+/g) || []; return m.map(Number); };
const opaque = (c) => { const v = rgb(c); return v.length >= 3 && (v.length < 4 || v[3] >= 0.99); };
const lum = ([r, g, b]) => {
  const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
  return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
};
const ratio = (a, b) => { const [x, y] = [lum(a), lum(b)].sort((p, q) => q - p); return (x + 0.05) / (y + 0.05); };
const behind = (e) => {
  for (let n = e; n; n = n.parentElement) {
    const c = getComputedStyle(n).backgroundColor;
    if (opaque(c)) return rgb(c);
  }
  return [255, 255, 255];
};
const shown = (e) => e.getClientRects().length > 0 && getComputedStyle(e).visibility !== 'hidden';
const name = (e) => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + ' "' + (e.textContent || e.value || '').trim().slice(0, 30) + '"';
const out = [];
for (const e of document.querySelectorAll('#app *')) {
  if (!shown(e) || e.closest('[aria-hidden="true"]')) continue;
  const own = [...e.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim());
  if (own) {
    const r = ratio(rgb(getComputedStyle(e).color), behind(e));
    if (r < textMin) out.push('text ' + name(e) + ' ' + r.toFixed(2) + ':1');
  }
  if (e.matches('button, input, select, textarea')) {
    const s = getComputedStyle(e);
    const around = behind(e.parentElement);
    const edge = parseFloat(s.borderTopWidth) >= 1 && s.borderTopStyle !== 'none' ? ratio(rgb(s.borderTopColor), around) : 0;
    const fill = opaque(s.backgroundColor) ? ratio(rgb(s.backgroundColor), around) : 0;
    if (Math.max(edge, fill) < edgeMin) out.push('edge ' + name(e) + ' ' + Math.max(edge, fill).toFixed(2) + ':1');
  }
}
return out;
"#;

/// Every shown text in the kiosk's `#app` whose colour is below `text_min`:1 against what
/// is behind it, and every control whose edge (its border, else its own fill) is below
/// `edge_min`:1 against what surrounds it, as `text tag#id "words" 4.20:1`.
pub async fn contrast_below(
    client: &Client,
    text_min: f64,
    edge_min: f64,
) -> anyhow::Result<Vec<String>> {
    let found = client
        .execute(CONTRAST, vec![text_min.into(), edge_min.into()])
        .await
        .context("the contrast probe")?;
    Ok(serde_json::from_value(found)?)
}
