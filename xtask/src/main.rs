//! `cargo xtask gen | bench server | bench kiosk` — project chores as Rust, so they run the same
//! everywhere.

mod approval_bench;
mod bench;
mod console_bench;
mod demo_ldap;
mod dir_bench;
mod kiosk_bench;
mod login_bench;
mod timing_bench;

use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

fn usage() -> anyhow::Result<()> {
    anyhow::bail!(
        "usage: cargo xtask <command>\n\
         \x20 gen            write docs/openapi.json and shared/wire.ts from the code, and build\n\
         \x20                the server's web pages (crates/sspr-server/web/dist)\n\
         \x20 gen --check    fail if any of those committed files differs from a fresh build\n\
         \x20 bench server   release build, server on loopback, load generator; prints figures\n\
         \x20 bench kiosk    release kiosk beside a bare Tauri window under Xvfb: start time, memory\n\
         \x20 bench kiosk --login-screen  LightDM's greeter: button press to the kiosk's screen\n\
         \x20                beside a bare window started the same way; the greeter's memory\n\
         \x20 bench directory  resets through the server into slapd and Samba, beside raw LDAP loops\n\
         \x20 bench approval   phone's final POST to the kiosk's SSE event, beside a bare SSE round trip\n\
         \x20 bench timing   known vs unknown logins' identify and code-sending times (Mann-Whitney)\n\
         \x20 bench console  the admin console's pages over a generated year of audit (5M events)\n\
         \x20                under kiosk load, beside count(*) floors; the export's memory\n\
         \x20 demo-ldap      the demo server against a private slapd (`./run demo ldap` adds the kiosk)"
    )
}

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["gen"] => gen(false),
        ["gen", "--check"] => gen(true),
        ["bench", "server", rest @ ..] => bench::server(&root(), rest),
        ["bench", "kiosk", rest @ ..] => kiosk_bench::run(&root(), rest),
        ["bench", "directory", rest @ ..] => dir_bench::run(&root(), rest),
        ["bench", "approval", rest @ ..] => approval_bench::run(&root(), rest),
        ["bench", "timing", rest @ ..] => timing_bench::run(&root(), rest),
        ["bench", "console", rest @ ..] => console_bench::run(&root(), rest),
        ["demo-ldap", rest @ ..] => demo_ldap::run(rest),
        _ => usage(),
    }
}

fn write(path: &Path, text: &str) -> anyhow::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let old = std::fs::read_to_string(path).unwrap_or_default();
    if old != text {
        std::fs::write(path, text)?;
        println!("wrote {}", path.display());
    } else {
        println!("unchanged {}", path.display());
    }
    Ok(())
}

/// The server's own pages (phone approval, "My security info"), bundled from
/// crates/sspr-server/web/src; the server embeds the bundles from web/dist.
const WEB_PAGES: [&str; 3] = ["phone", "my", "admin"];

fn gen(check: bool) -> anyhow::Result<()> {
    let root = root();
    let generated = [
        (
            root.join("docs/openapi.json"),
            sspr_server::http::openapi::document(),
        ),
        (
            root.join("shared/wire.ts"),
            sspr_proto::typescript_bindings(),
        ),
    ];
    if check {
        let mut stale = Vec::new();
        for (path, text) in generated.into_iter().chain(build_web(&root)?) {
            if std::fs::read_to_string(&path).ok().as_deref() != Some(text.as_str()) {
                stale.push(
                    path.strip_prefix(&root)
                        .unwrap_or(path.as_path())
                        .display()
                        .to_string(),
                );
            }
        }
        anyhow::ensure!(
            stale.is_empty(),
            "stale, run `cargo xtask gen`: {}",
            stale.join(", ")
        );
        println!("generated files are current");
        return Ok(());
    }
    for (path, text) in &generated {
        write(path, text)?;
    }
    // After wire.ts: the pages type-check against it.
    for (path, text) in build_web(&root)? {
        write(&path, &text)?;
    }
    Ok(())
}

/// Type-checks the pages with tsc and bundles each with esbuild (both from ui/node_modules)
/// into a temporary directory; answers each bundle's dist path and text.
fn build_web(root: &Path) -> anyhow::Result<Vec<(PathBuf, String)>> {
    let bin = root.join("ui/node_modules/.bin");
    let web = root.join("crates/sspr-server/web");
    for tool in ["tsc", "esbuild"] {
        if !bin.join(tool).exists() {
            anyhow::bail!(
                "{} is missing: install the UI's packages first (`npm install` in ui/, which ./run does)",
                bin.join(tool).display()
            );
        }
    }
    let run = |cmd: &mut Command, what: &str| -> anyhow::Result<()> {
        let status = cmd.status()?;
        anyhow::ensure!(status.success(), "{what} failed ({status})");
        Ok(())
    };
    run(
        Command::new(bin.join("tsc"))
            .arg("--noEmit")
            .arg("-p")
            .arg(&web),
        "type-checking crates/sspr-server/web",
    )?;
    let tmp = std::env::temp_dir().join(format!("sspr-web-{}", std::process::id()));
    std::fs::create_dir_all(&tmp)?;
    let built = WEB_PAGES
        .iter()
        .map(|page| -> anyhow::Result<(PathBuf, String)> {
            let file = tmp.join(format!("{page}.js"));
            run(
                Command::new(bin.join("esbuild"))
                    .current_dir(&web)
                    // The pages' npm packages (chart.js) are the UI's, in ui/node_modules.
                    .env("NODE_PATH", root.join("ui/node_modules"))
                    .arg(format!("src/{page}.ts"))
                    // Phones may be old; the console (a desk's current browser, with
                    // Chart.js) needs Safari 14.1's destructuring.
                    .args(["--bundle", "--format=iife"])
                    .arg(if *page == "admin" {
                        "--target=es2019,safari14.1"
                    } else {
                        "--target=es2019,safari13"
                    })
                    .args(["--minify", "--log-level=warning"])
                    .arg(format!("--outfile={}", file.display())),
                &format!("bundling crates/sspr-server/web/src/{page}.ts"),
            )?;
            Ok((
                web.join(format!("dist/{page}.js")),
                std::fs::read_to_string(&file)?,
            ))
        })
        .collect::<anyhow::Result<Vec<_>>>();
    let _ = std::fs::remove_dir_all(&tmp);
    built
}
