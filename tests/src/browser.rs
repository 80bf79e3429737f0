//! A phone's browser: headless Chromium through chromedriver (Debian's `chromium` and
//! `chromium-driver`), phone-sized, with WebDriver's virtual authenticator standing in for
//! the phone's passkey (internal transport, user verification by "screen lock"). The same
//! browser at a desk's size (`Browser::desktop`) for the admin console, resizable.

use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use fantoccini::wd::WebDriverCompatibleCommand;
use fantoccini::{Client, ClientBuilder, Locator};

use crate::free_port;

pub struct Browser {
    pub client: Client,
    chromedriver: Child,
    profile: PathBuf,
    shots: PathBuf,
    shot: usize,
    /// Screenshots' name prefix: "phone", "desktop", or what `resize` says.
    label: String,
}

/// `POST /session/{id}/webauthn/authenticator` (WebDriver's Web Authentication extension).
#[derive(Debug)]
struct AddVirtualAuthenticator;

impl WebDriverCompatibleCommand for AddVirtualAuthenticator {
    fn endpoint(
        &self,
        base_url: &url::Url,
        session_id: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base_url.join(&format!(
            "session/{}/webauthn/authenticator",
            session_id.unwrap_or_default()
        ))
    }

    fn method_and_body(&self, _: &url::Url) -> (http::Method, Option<String>) {
        let body = serde_json::json!({
            "protocol": "ctap2",
            "transport": "internal",
            "hasResidentKey": true,
            "hasUserVerification": true,
            "isUserVerified": true,
            "automaticPresenceSimulation": true,
        });
        (http::Method::POST, Some(body.to_string()))
    }
}

/// `POST /session/{id}/goog/cdp/execute`: one DevTools command, through chromedriver.
#[derive(Debug)]
struct Cdp {
    cmd: &'static str,
    params: serde_json::Value,
}

impl WebDriverCompatibleCommand for Cdp {
    fn endpoint(
        &self,
        base_url: &url::Url,
        session_id: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base_url.join(&format!(
            "session/{}/goog/cdp/execute",
            session_id.unwrap_or_default()
        ))
    }

    fn method_and_body(&self, _: &url::Url) -> (http::Method, Option<String>) {
        let body = serde_json::json!({ "cmd": self.cmd, "params": self.params });
        (http::Method::POST, Some(body.to_string()))
    }
}

impl Browser {
    /// Starts chromedriver and a phone-sized headless Chromium with a fresh profile and a
    /// virtual passkey authenticator. Screenshots go to `shots`.
    pub async fn phone(shots: &Path) -> anyhow::Result<Browser> {
        Browser::phone_in("en-US", shots).await
    }

    /// The same phone set to another language (`de`, ...): its browser asks for pages in
    /// that language first.
    pub async fn phone_in(language: &str, shots: &Path) -> anyhow::Result<Browser> {
        Browser::start(language, shots, (390, 844), "phone").await
    }

    /// A desk's browser (1280×800, English), for the admin console; its screenshots are
    /// `desktop-NN-name.png`.
    pub async fn desktop(shots: &Path) -> anyhow::Result<Browser> {
        let mut b = Browser::start("en-US", shots, (1280, 800), "desktop").await?;
        b.resize(1280, 800, "desktop").await?;
        Ok(b)
    }

    async fn start(
        language: &str,
        shots: &Path,
        (width, height): (u32, u32),
        label: &str,
    ) -> anyhow::Result<Browser> {
        let port = free_port()?;
        let chromedriver = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            // Its own process group, so Chromium goes with it when the test ends.
            .process_group(0)
            .spawn()
            .context("starting chromedriver (Debian: apt-get install chromium-driver)")?;
        let profile = std::env::temp_dir().join(format!("sspr-chromium-{}", rand::random::<u64>()));
        std::fs::create_dir_all(&profile)?;
        std::fs::create_dir_all(shots)?;
        let url = format!("http://127.0.0.1:{port}");
        let mut caps = serde_json::Map::new();
        caps.insert(
            "goog:chromeOptions".into(),
            serde_json::json!({
                "binary": "/usr/bin/chromium",
                "args": [
                    "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                    "--disable-background-networking", "--disable-component-update",
                    "--disable-sync", format!("--window-size={width},{height}"),
                    format!("--user-data-dir={}", profile.display()),
                    format!("--lang={language}"),
                ],
                "prefs": { "intl.accept_languages": language },
            }),
        );
        let deadline = Instant::now() + Duration::from_secs(20);
        let client = loop {
            match ClientBuilder::native()
                .capabilities(caps.clone())
                .connect(&url)
                .await
            {
                Ok(c) => break c,
                Err(e) if Instant::now() >= deadline => {
                    return Err(anyhow::anyhow!("no Chromium session: {e}"))
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
            }
        };
        client
            .issue_cmd(AddVirtualAuthenticator)
            .await
            .context("adding a virtual authenticator")?;
        Ok(Browser {
            client,
            chromedriver,
            profile,
            shots: shots.to_path_buf(),
            shot: 0,
            label: label.to_string(),
        })
    }

    /// Resizes the page's viewport to `width`×`height` (the window is made larger by what
    /// the browser's own frame takes); later screenshots are named `label-NN-name.png`.
    pub async fn resize(&mut self, width: u32, height: u32, label: &str) -> anyhow::Result<()> {
        self.client.set_window_size(width, height).await?;
        let inner = self
            .client
            .execute("return [window.innerWidth, window.innerHeight];", vec![])
            .await?;
        let (iw, ih) = (
            inner[0].as_u64().unwrap_or(u64::from(width)),
            inner[1].as_u64().unwrap_or(u64::from(height)),
        );
        let extra =
            |want: u32, got: u64| u32::try_from(u64::from(want).saturating_sub(got)).unwrap_or(0);
        if iw < u64::from(width) || ih < u64::from(height) {
            self.client
                .set_window_size(width + extra(width, iw), height + extra(height, ih))
                .await?;
        }
        self.label = label.to_string();
        // Let the page lay itself out again before anything looks at it.
        tokio::time::sleep(Duration::from_millis(150)).await;
        Ok(())
    }

    /// Saves a screenshot of the whole page, beyond the window's height, as
    /// `label-NN-name-full.png` (Chromium's DevTools protocol, through chromedriver).
    pub async fn shoot_full(&mut self, name: &str) -> anyhow::Result<PathBuf> {
        use base64::Engine as _;
        let size = self
            .client
            .execute(
                // From the top: a sticky header is drawn where the window is scrolled to.
                "window.scrollTo(0, 0); return [window.innerWidth, \
                 Math.max(document.documentElement.scrollHeight, document.body.scrollHeight)];",
                vec![],
            )
            .await?;
        let width = size[0].as_f64().unwrap_or(1280.0);
        let height = size[1].as_f64().unwrap_or(800.0).min(12_000.0);
        let answer = self
            .client
            .issue_cmd(Cdp {
                cmd: "Page.captureScreenshot",
                params: serde_json::json!({
                    "format": "png",
                    "captureBeyondViewport": true,
                    "clip": { "x": 0, "y": 0, "width": width, "height": height, "scale": 1 },
                }),
            })
            .await
            .context("a full-page screenshot")?;
        let data = answer["data"]
            .as_str()
            .context("no picture in the DevTools answer")?;
        let png = base64::engine::general_purpose::STANDARD.decode(data)?;
        self.shot += 1;
        let path = self
            .shots
            .join(format!("{}-{:02}-{name}-full.png", self.label, self.shot));
        std::fs::write(&path, png)?;
        Ok(path)
    }

    pub async fn goto(&self, url: &str) -> anyhow::Result<()> {
        self.client.goto(url).await?;
        Ok(())
    }

    /// Waits until `<body data-state>` is `state`; the body's text on failure.
    pub async fn state(&self, state: &str, secs: u64) -> anyhow::Result<()> {
        let css = format!("body[data-state=\"{state}\"]");
        if self
            .client
            .wait()
            .at_most(Duration::from_secs(secs))
            .for_element(Locator::Css(&css))
            .await
            .is_ok()
        {
            return Ok(());
        }
        let body = self.text("body").await.unwrap_or_default();
        anyhow::bail!("the page never reached {state:?}; it says:\n{body}")
    }

    pub async fn text(&self, css: &str) -> anyhow::Result<String> {
        Ok(self.client.find(Locator::Css(css)).await?.text().await?)
    }

    pub async fn wait_text(&self, css: &str, text: &str, secs: u64) -> anyhow::Result<()> {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            let now = self.text(css).await.unwrap_or_default();
            if now.contains(text) {
                return Ok(());
            }
            anyhow::ensure!(
                Instant::now() < deadline,
                "{text:?} never appeared in {css}: {now}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits for an element matching `css`, for up to `secs`.
    pub async fn wait(&self, css: &str, secs: u64) -> anyhow::Result<()> {
        self.client
            .wait()
            .at_most(Duration::from_secs(secs))
            .for_element(Locator::Css(css))
            .await
            .with_context(|| format!("waiting for {css}"))?;
        Ok(())
    }

    pub async fn click(&self, css: &str) -> anyhow::Result<()> {
        self.client
            .wait()
            .at_most(Duration::from_secs(10))
            .for_element(Locator::Css(css))
            .await
            .with_context(|| format!("waiting for {css}"))?
            .click()
            .await?;
        Ok(())
    }

    /// Clicks `css` after scrolling it to the middle of the window, clear of a page's
    /// sticky header and footer (WebDriver scrolls it to an edge, under them).
    pub async fn click_centered(&self, css: &str) -> anyhow::Result<()> {
        let el = self
            .client
            .wait()
            .at_most(Duration::from_secs(10))
            .for_element(Locator::Css(css))
            .await
            .with_context(|| format!("waiting for {css}"))?;
        self.client
            .execute(
                "arguments[0].scrollIntoView({block: 'center', inline: 'nearest'});",
                vec![serde_json::to_value(&el)?],
            )
            .await?;
        el.click().await?;
        Ok(())
    }

    pub async fn type_into(&self, css: &str, text: &str) -> anyhow::Result<()> {
        let el = self
            .client
            .wait()
            .at_most(Duration::from_secs(10))
            .for_element(Locator::Css(css))
            .await
            .with_context(|| format!("waiting for {css}"))?;
        el.clear().await?;
        el.send_keys(text).await?;
        Ok(())
    }

    /// Saves a screenshot as `phone-NN-name.png` (`desktop-NN-...` at a desk's size).
    pub async fn shoot(&mut self, name: &str) -> anyhow::Result<PathBuf> {
        self.shot += 1;
        let png = self.client.screenshot().await?;
        let path = self
            .shots
            .join(format!("{}-{:02}-{name}.png", self.label, self.shot));
        std::fs::write(&path, png)?;
        Ok(path)
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if let Ok(pid) = i32::try_from(self.chromedriver.id()) {
            let _ = nix::sys::signal::killpg(
                nix::unistd::Pid::from_raw(pid),
                nix::sys::signal::Signal::SIGKILL,
            );
        }
        let _ = self.chromedriver.kill();
        let _ = self.chromedriver.wait();
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

/// An approval a kiosk asked for and the phone opened: the number the kiosk was shown,
/// and the flow's events from then on (the next is the phone's answer).
pub struct Asked {
    pub number: String,
    pub events: sspr_client::EventStream,
    pub flow_id: String,
}

/// A kiosk (over the API) asks for Ada's approval to reset; `phone` opens the page its QR
/// code carries and shows the question, and the kiosk is shown the number.
pub async fn approval_asked(phone: &Browser, server: &crate::TestServer) -> anyhow::Result<Asked> {
    use sspr_proto::{FlowEvent, Intent, MethodKind, StartFlowRequest};
    let kiosk = server.kiosk().await?;
    let flow = kiosk
        .start_flow(&StartFlowRequest {
            login: "ada".into(),
            intent: Intent::Reset,
            locale: None,
        })
        .await?;
    let method = flow
        .methods
        .iter()
        .find(|m| m.kind == MethodKind::Approval)
        .context("approval is not offered (no passkey registered?)")?
        .id
        .clone();
    let challenge = kiosk.challenge_with(&flow.flow_id, &method, false).await?;
    let mut events = kiosk.events(&flow.flow_id).await?;
    let url = challenge.approval_url.context("no approval URL")?;
    phone.goto(&url).await?;
    phone.state("ask", 15).await?;
    let number = loop {
        let event = tokio::time::timeout(Duration::from_secs(15), events.next())
            .await
            .context("no event from the kiosk's flow in 15 s")?
            .context("the event stream ended")??;
        if let FlowEvent::Scanned { number, .. } = event {
            break number;
        }
    };
    Ok(Asked {
        number,
        events,
        flow_id: flow.flow_id,
    })
}
