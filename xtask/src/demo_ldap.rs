//! `cargo xtask demo-ldap --listen ADDR --data DIR`: the demo against a real OpenLDAP.
//!
//! Starts a private slapd with ppolicy on loopback (the test kit's fixture), puts the demo
//! people into it (groups, one locked out by real bad binds, one disabled), and runs
//! `sspr-server demo` configured for that directory, which registers the demo people's
//! methods. `./run demo ldap` adds the kiosk window. Everything starts fresh each time.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use sspr_server::demo::PEOPLE;
use sspr_tests::dirs::{NewUser, Slapd};

pub fn run(args: &[&str]) -> anyhow::Result<()> {
    let mut listen = "127.0.0.1:8443".to_string();
    let mut data = PathBuf::from("data/demo-ldap");
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        match *arg {
            "--listen" => listen = it.next().map(|s| s.to_string()).unwrap_or(listen),
            "--data" => data = it.next().map(PathBuf::from).unwrap_or(data),
            other => anyhow::bail!("demo-ldap: unknown argument {other:?} (--listen, --data)"),
        }
    }
    if data.exists() {
        std::fs::remove_dir_all(&data)?;
    }
    std::fs::create_dir_all(&data)?;

    let slapd = Slapd::start()?;
    let mut groups: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for p in PEOPLE {
        let email = p.email();
        let dn = slapd.add_user(&NewUser {
            login: p.username,
            given_name: p.given,
            surname: p.surname,
            email: Some(&email),
            // Nobody knows this password: the demo is about setting a new one.
            password: &format!("Demo-{}-{}", p.username, rand_suffix()),
        })?;
        if p.locked {
            slapd.lock_out(&dn)?;
        }
        if p.disabled {
            slapd.disable(&dn)?;
        }
        for g in p.groups() {
            groups.entry(g).or_default().push(dn.clone());
        }
    }
    for (group, members) in &groups {
        let members: Vec<&str> = members.iter().map(String::as_str).collect();
        slapd.add_group(group, &members)?;
    }

    let config = data.join("sspr-server.toml");
    std::fs::write(
        &config,
        format!(
            "# Written by `cargo xtask demo-ldap`: the demo against a private slapd.\n\
             [directory]\n{}",
            slapd.directory_settings("OpenLDAP (demo)")
        ),
    )?;
    println!(
        "demo slapd on {} (base {}); {} people, groups: {}",
        slapd.ldap_url,
        slapd.base_dn,
        PEOPLE.len(),
        groups.keys().copied().collect::<Vec<_>>().join(", ")
    );
    // The server ends with this process (`./run demo ldap` stops it by its pid).
    let status = Command::new("setpriv")
        .args(["--pdeathsig", "TERM", "--"])
        .arg(server_binary()?)
        .arg("--config")
        .arg(&config)
        .arg("--data")
        .arg(&data)
        .args(["demo", "--listen", &listen])
        .status()?;
    drop(slapd);
    anyhow::ensure!(status.success(), "sspr-server demo ended: {status}");
    Ok(())
}

/// `sspr-server` beside this xtask binary (same profile folder).
fn server_binary() -> anyhow::Result<PathBuf> {
    let exe = std::env::current_exe()?;
    let dir = exe.parent().unwrap_or(Path::new("."));
    let path = dir.join("sspr-server");
    anyhow::ensure!(
        path.exists(),
        "{} is missing: build it first (cargo build -p sspr-server)",
        path.display()
    );
    Ok(path)
}

fn rand_suffix() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos() as u64)
        .unwrap_or(7)
}
