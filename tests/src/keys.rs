//! A keyboard through WebDriver: keys sent to whatever has the focus (never to an element
//! the test picks), and where the focus is, with whether it shows a focus ring. For the
//! keyboard-only walks of the kiosk window and the pages in Chromium.

use anyhow::Context as _;
use fantoccini::Client;

/// WebDriver's codes for keys that type no character.
pub const TAB: &str = "\u{E004}";
pub const ENTER: &str = "\u{E007}";
pub const SHIFT: &str = "\u{E008}";
pub const ESCAPE: &str = "\u{E00C}";

/// Sends `keys` to whatever has the focus, as a keyboard would (a modifier such as SHIFT
/// holds until the end of `keys`).
pub async fn press(client: &Client, keys: &str) -> anyhow::Result<()> {
    let el = client
        .active_element()
        .await
        .context("the focused element")?;
    el.send_keys(keys).await?;
    Ok(())
}

/// What has the focus (`tag#id "name"`), and whether it shows a focus ring on
/// `:focus-visible`: an outline of 2 px or more, or the products' ring (a box-shadow in
/// #1b64f2, `--focus` in the kiosk's and the pages' CSS).
pub async fn focus(client: &Client) -> anyhow::Result<(String, bool)> {
    let got = client
        .execute(
            "const e = document.activeElement; const s = getComputedStyle(e);
             const name = (e.getAttribute('aria-label') || e.textContent || '').trim().replace(/\\s+/g, ' ').slice(0, 40);
             const ring = e.matches(':focus-visible')
               && ((s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2) || s.boxShadow.includes('27, 100, 242'));
             return [e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + ' \"' + name + '\"', ring];",
            vec![],
        )
        .await?;
    Ok((
        got[0].as_str().unwrap_or_default().to_string(),
        got[1].as_bool().unwrap_or(false),
    ))
}

/// Fails unless the focus is on `want` (a CSS selector) and shows its ring.
pub async fn focused_on(client: &Client, want: &str) -> anyhow::Result<()> {
    let there = client
        .execute(
            "return document.activeElement.matches(arguments[0]);",
            vec![want.into()],
        )
        .await?
        .as_bool()
        .unwrap_or(false);
    let (what, ring) = focus(client).await?;
    anyhow::ensure!(there, "the focus should be on {want}, it is on {what}");
    anyhow::ensure!(ring, "{what} has the focus but no visible focus ring");
    Ok(())
}

/// Presses Tab and expects the focus on `want`, showing its ring.
pub async fn tab_to(client: &Client, want: &str) -> anyhow::Result<()> {
    press(client, TAB).await?;
    focused_on(client, want).await
}
