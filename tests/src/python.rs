//! The test kit's Python tools (`tests/python`, installed by `./run test` into
//! `target/pyenv`): an independent RFC 9421 signer and the schema-driven fuzzer.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use anyhow::Context as _;
use serde::Serialize;

/// The virtual environment `./run test` makes (`SSPR_PYENV` to use another).
pub fn pyenv() -> anyhow::Result<PathBuf> {
    let dir = std::env::var_os("SSPR_PYENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| super::target_dir().join("pyenv"));
    anyhow::ensure!(
        dir.join("bin/python").exists(),
        "{} is missing: the README's test command installs the test kit's Python tools \
         (python3 -m venv target/pyenv && target/pyenv/bin/pip install -r tests/python/requirements.txt)",
        dir.display()
    );
    Ok(dir)
}

/// A script of `tests/python`.
pub fn script(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("python")
        .join(name)
}

/// One request for the independent signer (`tests/python/kiosk_signer.py`).
#[derive(Debug, Clone, Serialize)]
pub struct SignSpec {
    /// The Ed25519 seed, hex.
    pub seed: String,
    pub keyid: String,
    pub method: String,
    pub url: String,
    pub body: Option<String>,
    /// Signature parameters, in the order wanted.
    pub order: Vec<String>,
    /// Covered components, in order.
    pub components: Vec<String>,
    /// Parameter values other than the signer's (e.g. `alg`, `expires`).
    pub values: serde_json::Map<String, serde_json::Value>,
    pub headers: serde_json::Map<String, serde_json::Value>,
}

/// Signs every spec with the pyauth `http-message-signatures` library; returns each
/// request's headers (Content-Digest, Signature-Input, Signature, Content-Type).
pub fn sign(specs: &[SignSpec]) -> anyhow::Result<Vec<Vec<(String, String)>>> {
    let python = pyenv()?.join("bin/python");
    let mut child = Command::new(python)
        .arg(script("kiosk_signer.py"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .context("starting the Python signer")?;
    child
        .stdin
        .take()
        .context("signer stdin")?
        .write_all(&serde_json::to_vec(specs)?)?;
    let out = child.wait_with_output()?;
    anyhow::ensure!(
        out.status.success(),
        "the Python signer failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let sets: Vec<serde_json::Map<String, serde_json::Value>> =
        serde_json::from_slice(&out.stdout)?;
    Ok(sets
        .into_iter()
        .map(|set| {
            set.into_iter()
                .map(|(k, v)| (k, v.as_str().unwrap_or_default().to_string()))
                .collect()
        })
        .collect())
}

/// One sample of a Prometheus exposition, as `tests/python/prom_parse.py` reads it.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct Sample {
    pub name: String,
    pub labels: std::collections::BTreeMap<String, String>,
    pub value: f64,
}

/// Parses `/metrics`' text with the Prometheus project's own parser (prometheus-client).
pub fn parse_prometheus(text: &str) -> anyhow::Result<Vec<Sample>> {
    let python = pyenv()?.join("bin/python");
    let mut child = Command::new(python)
        .arg(script("prom_parse.py"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .context("starting the Prometheus parser")?;
    child
        .stdin
        .take()
        .context("parser stdin")?
        .write_all(text.as_bytes())?;
    let out = child.wait_with_output()?;
    anyhow::ensure!(
        out.status.success(),
        "the Prometheus parser refused the text: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(serde_json::from_slice(&out.stdout)?)
}
