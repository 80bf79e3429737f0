//! `cargo xtask gen | bench server | bench kiosk` — project chores as Rust, so they run the same
//! everywhere.

mod bench;
mod demo_ldap;
mod dir_bench;
mod kiosk_bench;

use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

fn usage() -> anyhow::Result<()> {
    anyhow::bail!(
        "usage: cargo xtask <command>\n\
         \x20 gen            write docs/openapi.json and ui/src/api/wire.ts from the code\n\
         \x20 bench server   release build, server on loopback, load generator; prints figures\n\
         \x20 bench kiosk    release kiosk beside a bare Tauri window under Xvfb: start time, memory\n\
         \x20 bench directory  resets through the server into slapd and Samba, beside raw LDAP loops\n\
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
        ["gen"] => gen(),
        ["bench", "server", rest @ ..] => bench::server(&root(), rest),
        ["bench", "kiosk", rest @ ..] => kiosk_bench::run(&root(), rest),
        ["bench", "directory", rest @ ..] => dir_bench::run(&root(), rest),
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

fn gen() -> anyhow::Result<()> {
    let root = root();
    write(
        &root.join("docs/openapi.json"),
        &sspr_server::http::openapi::document(),
    )?;
    write(
        &root.join("ui/src/api/wire.ts"),
        &sspr_proto::typescript_bindings(),
    )?;
    Ok(())
}
