//! The real kiosk window, driven through tauri-driver and WebKitWebDriver (W3C WebDriver)
//! under Xvfb. Needs `DISPLAY` (an Xvfb), a D-Bus session with an unlocked Secret Service
//! (the kiosk keeps its key there), `tauri-driver` on PATH and the built kiosk binary; the
//! README's test command provides all of them.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use fantoccini::{Client, ClientBuilder, Locator};

use crate::{free_port, profile_dir, target_dir, TestServer};

/// The kiosk binary: `SSPR_KIOSK_BIN`, else the workspace's debug build.
pub fn kiosk_binary() -> anyhow::Result<PathBuf> {
    let path = std::env::var_os("SSPR_KIOSK_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| profile_dir().join("sspr-kiosk"));
    anyhow::ensure!(
        path.exists(),
        "{} is missing: build the UI and `cargo build -p sspr-kiosk` (the README's test command does)",
        path.display()
    );
    Ok(path)
}

/// A running tauri-driver; it stops when dropped.
pub struct Driver {
    child: Child,
    pub url: String,
}

impl Driver {
    pub async fn start() -> anyhow::Result<Driver> {
        anyhow::ensure!(
            std::env::var_os("DISPLAY").is_some(),
            "DISPLAY is not set: the kiosk e2e tests need an X server (run them through the README's test command)"
        );
        let port = free_port()?;
        let native = free_port()?;
        let child = Command::new("tauri-driver")
            .args([
                "--port",
                &port.to_string(),
                "--native-port",
                &native.to_string(),
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context("starting tauri-driver (cargo install tauri-driver --version ^2 --locked)")?;
        let url = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(15);
        let http = reqwest::Client::new();
        while Instant::now() < deadline {
            if http.get(format!("{url}/status")).send().await.is_ok() {
                return Ok(Driver { child, url });
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        anyhow::bail!("tauri-driver did not come up on {url}")
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One kiosk window with its own configuration and keyring entry.
pub struct KioskWindow {
    pub client: Client,
    pub shots: PathBuf,
    shot: usize,
}

/// How the kiosk under test is set up.
pub struct KioskSetup<'a> {
    pub name: &'a str,
    /// Enroll with a fresh code from the server (else start unenrolled).
    pub enroll: bool,
    pub idle_timeout_secs: Option<u32>,
    /// How often the idle kiosk asks for its settings (the kiosk's default when None).
    pub status_refresh_secs: Option<u32>,
    pub locale: &'a str,
}

impl Default for KioskSetup<'_> {
    fn default() -> Self {
        KioskSetup {
            name: "E2E kiosk",
            enroll: true,
            idle_timeout_secs: None,
            status_refresh_secs: None,
            locale: "en",
        }
    }
}

impl KioskWindow {
    /// Starts the kiosk binary against `server`; screenshots go to `target/e2e/<test>/`.
    pub async fn open(
        driver: &Driver,
        server: &TestServer,
        test: &str,
        setup: KioskSetup<'_>,
    ) -> anyhow::Result<KioskWindow> {
        let shots = profile_dir()
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(target_dir)
            .join("e2e")
            .join(test);
        let _ = std::fs::remove_dir_all(&shots);
        std::fs::create_dir_all(&shots)?;
        let mut config = format!(
            "server_url = \"{}\"\nkiosk_mode = false\ndefault_locale = \"{}\"\nkeyring_service = \"sspr-e2e-{}-{}\"\n",
            server.base,
            setup.locale,
            test,
            rand::random::<u32>()
        );
        if setup.enroll {
            let code = server.enrollment_code(setup.name)?;
            config.push_str(&format!("enrollment_code = \"{code}\"\n"));
        }
        if let Some(idle) = setup.idle_timeout_secs {
            config.push_str(&format!("idle_timeout_secs = {idle}\n"));
        }
        if let Some(every) = setup.status_refresh_secs {
            config.push_str(&format!("status_refresh_secs = {every}\n"));
        }
        let config_path = server.dir.join(format!("kiosk-{test}.toml"));
        std::fs::write(&config_path, config)?;

        let mut caps = serde_json::Map::new();
        caps.insert(
            "tauri:options".into(),
            serde_json::json!({
                "application": kiosk_binary()?,
                "args": ["--config", config_path],
            }),
        );
        let client = ClientBuilder::native()
            .capabilities(caps)
            .connect(&driver.url)
            .await
            .context("opening a WebDriver session on the kiosk")?;
        Ok(KioskWindow {
            client,
            shots,
            shot: 0,
        })
    }

    /// Waits for an element matching `css`, for up to `secs`.
    pub async fn wait(
        &self,
        css: &str,
        secs: u64,
    ) -> anyhow::Result<fantoccini::elements::Element> {
        self.client
            .wait()
            .at_most(Duration::from_secs(secs))
            .for_element(Locator::Css(css))
            .await
            .with_context(|| format!("waiting for {css}"))
    }

    /// Waits until the page's text contains `text`.
    pub async fn wait_text(&self, text: &str, secs: u64) -> anyhow::Result<()> {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            let body = self.text("body").await.unwrap_or_default();
            if body.contains(text) {
                return Ok(());
            }
            anyhow::ensure!(
                Instant::now() < deadline,
                "{text:?} never appeared; the page says:\n{body}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits until the app shows `screen` (the `data-screen` of #app).
    pub async fn screen(&self, screen: &str, secs: u64) -> anyhow::Result<()> {
        self.wait(&format!("#app[data-screen=\"{screen}\"]"), secs)
            .await
            .map(|_| ())
    }

    /// Waits until no call of the page is under way (`#app` not `aria-busy`): what a
    /// screen shows after then is the server's answer, not what stood before it.
    pub async fn settled(&self, secs: u64) -> anyhow::Result<()> {
        self.wait("#app:not([aria-busy])", secs).await.map(|_| ())
    }

    pub async fn text(&self, css: &str) -> anyhow::Result<String> {
        Ok(self.client.find(Locator::Css(css)).await?.text().await?)
    }

    pub async fn click(&self, css: &str) -> anyhow::Result<()> {
        self.wait(css, 10).await?.click().await?;
        Ok(())
    }

    pub async fn type_into(&self, css: &str, text: &str) -> anyhow::Result<()> {
        self.wait(css, 10).await?.send_keys(text).await?;
        Ok(())
    }

    /// Types a new password and its confirmation on the password screen and waits until
    /// it may be submitted (the server's checks passed).
    pub async fn choose_password(&self, password: &str) -> anyhow::Result<()> {
        self.type_into("#new-password", password).await?;
        self.type_into("#confirm-password", password).await?;
        self.wait("#password-submit:not([disabled])", 10).await?;
        Ok(())
    }

    /// Clicks on-screen keyboard keys, one a character, as a person at a touch kiosk would.
    pub async fn tap_keys(&self, text: &str) -> anyhow::Result<()> {
        for ch in text.chars() {
            let css = format!(".kbd button.key[aria-label=\"{ch}\"]");
            self.click(&css).await?;
        }
        Ok(())
    }

    /// Text that doesn't fit: each button, heading, paragraph or label whose content is
    /// wider than its box or that runs past the window's right edge, as `tag: text`.
    pub async fn overflowing(&self) -> anyhow::Result<Vec<String>> {
        let found = self
            .client
            .execute(
                "return [...document.querySelectorAll('button, .choice, .method, h1, h2, p, label, li')]
                   .filter(e => e.offsetParent !== null
                     && (e.scrollWidth > e.clientWidth + 1 || e.getBoundingClientRect().right > innerWidth + 1))
                   .map(e => e.tagName.toLowerCase() + ': ' + (e.textContent || '').trim().slice(0, 80))",
                vec![],
            )
            .await?;
        Ok(serde_json::from_value(found)?)
    }

    /// What can't be seen even by scrolling (content cut off): each shown control or text
    /// of `#app` that, scrolled into view, still ends outside the window, and the page
    /// itself when it is taller or wider than the window (the body doesn't scroll; only
    /// the screen's middle does). Scrolls back to the top after.
    pub async fn cut_off(&self) -> anyhow::Result<Vec<String>> {
        let found = self
            .client
            .execute(
                "const out = [];
                 const page = document.querySelector('.page');
                 if (page && (page.scrollHeight > innerHeight + 1 || page.scrollWidth > innerWidth + 1))
                   out.push('the page is ' + page.scrollWidth + 'x' + page.scrollHeight + ' in ' + innerWidth + 'x' + innerHeight);
                 for (const e of document.querySelectorAll('#app button, #app input, #app h1, #app p, #app label, #app li')) {
                   if (e.getClientRects().length === 0) continue;
                   e.scrollIntoView({ block: 'nearest', inline: 'nearest' });
                   const r = e.getBoundingClientRect();
                   if (r.top < -1 || r.left < -1 || r.bottom > innerHeight + 1 || r.right > innerWidth + 1)
                     out.push(e.tagName.toLowerCase() + ': ' + (e.textContent || e.id).trim().slice(0, 60)
                       + ' at ' + [r.left, r.top, r.right, r.bottom].map(Math.round).join(','));
                 }
                 document.querySelector('.content')?.scrollTo(0, 0);
                 return out;",
                vec![],
            )
            .await?;
        Ok(serde_json::from_value(found)?)
    }

    /// Records, from now until the page reloads, each thing the kiosk's live regions say
    /// (`#live-status`, `#live-alert`: what a screen reader announces without the focus
    /// moving), for `said`.
    pub async fn listen_live(&self) -> anyhow::Result<()> {
        self.client
            .execute(
                "if (window.sprSaid) return;
                 window.sprSaid = [];
                 for (const id of ['live-status', 'live-alert']) {
                   const el = document.getElementById(id);
                   new MutationObserver(() => {
                     if (el.textContent) window.sprSaid.push(id + ': ' + el.textContent);
                   }).observe(el, { childList: true, characterData: true, subtree: true });
                 }",
                vec![],
            )
            .await?;
        Ok(())
    }

    /// What the live regions said since `listen_live`, as `live-status: words` or
    /// `live-alert: words`, oldest first.
    pub async fn said(&self) -> anyhow::Result<Vec<String>> {
        let said = self
            .client
            .execute("return window.sprSaid || [];", vec![])
            .await?;
        Ok(serde_json::from_value(said)?)
    }

    /// Waits until `region` (`live-status` or `live-alert`) said words containing `text`;
    /// answers how often it said them.
    pub async fn wait_said(&self, region: &str, text: &str, secs: u64) -> anyhow::Result<usize> {
        let deadline = Instant::now() + Duration::from_secs(secs);
        let prefix = format!("{region}: ");
        loop {
            let said = self.said().await?;
            let n = said
                .iter()
                .filter(|s| s.starts_with(&prefix) && s.contains(text))
                .count();
            if n > 0 {
                return Ok(n);
            }
            anyhow::ensure!(
                Instant::now() < deadline,
                "{region} never said {text:?}; the live regions said: {said:?}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub async fn value(&self, css: &str) -> anyhow::Result<String> {
        Ok(self
            .wait(css, 10)
            .await?
            .prop("value")
            .await?
            .unwrap_or_default())
    }

    /// Saves a screenshot as `NN-name.png` and returns its path.
    /// A kiosk window the test didn't start (the login screen's button did), through a
    /// WebDriver session already attached to it; screenshots go to `shots/<sub>/`.
    pub fn attached(client: Client, shots: PathBuf, sub: &str) -> KioskWindow {
        let shots = shots.join(sub);
        let _ = std::fs::create_dir_all(&shots);
        KioskWindow {
            client,
            shots,
            shot: 0,
        }
    }

    pub async fn shoot(&mut self, name: &str) -> anyhow::Result<PathBuf> {
        self.shot += 1;
        let png = self.client.screenshot().await?;
        let path = self.shots.join(format!("{:02}-{name}.png", self.shot));
        std::fs::write(&path, png)?;
        Ok(path)
    }

    pub async fn close(self) -> anyhow::Result<()> {
        self.client.close().await?;
        Ok(())
    }
}

/// Every QR code found in a screenshot, decoded.
pub fn decode_qr(png: &Path) -> anyhow::Result<Vec<String>> {
    let img = image::open(png)?.to_luma8();
    let (w, h) = img.dimensions();
    let mut prepared =
        rqrr::PreparedImage::prepare_from_greyscale(w as usize, h as usize, |x, y| {
            img.get_pixel(x as u32, y as u32).0[0]
        });
    let mut out = Vec::new();
    for grid in prepared.detect_grids() {
        if let Ok((_, content)) = grid.decode() {
            out.push(content);
        }
    }
    Ok(out)
}
