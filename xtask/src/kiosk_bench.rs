//! `cargo xtask bench kiosk`: the release kiosk under Xvfb beside a bare Tauri 2 window
//! (src-tauri/examples/bare_window.rs) in the same run: cold start to the first
//! interactive screen (median of 10, through tauri-driver) and resident memory after a
//! minute idle, summed over the app and its WebKit processes.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use sspr_tests::kiosk::Driver;
use sspr_tests::TestServer;

const STARTS: usize = 10;
const IDLE: Duration = Duration::from_secs(60);

pub fn run(root: &Path, args: &[&str]) -> anyhow::Result<()> {
    if args.contains(&"--login-screen") {
        return crate::login_bench::run(root);
    }
    if args.first() == Some(&"--inner") {
        return tokio::runtime::Runtime::new()?.block_on(inner(root));
    }
    build(root)?;
    // An X server and a D-Bus session with an unlocked keyring of their own.
    let display = format!(":{}", 700 + std::process::id() % 200);
    let mut xvfb = Command::new("Xvfb")
        .args([&display, "-screen", "0", "1280x800x24", "-nolisten", "tcp"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .context("starting Xvfb")?;
    let tmp = std::env::temp_dir().join(format!("sspr-kiosk-bench-{}", std::process::id()));
    std::fs::create_dir_all(tmp.join("run"))?;
    std::fs::create_dir_all(tmp.join("data"))?;
    let me = std::env::current_exe()?;
    let status = Command::new("dbus-run-session")
        .args(["--", "bash", "-c"])
        .arg("printf sspr-kiosk | gnome-keyring-daemon --unlock --components=secrets >/dev/null 2>&1; exec \"$@\"")
        .arg("_")
        .arg(&me)
        .args(["bench", "kiosk", "--inner"])
        .env("DISPLAY", &display)
        .env("XDG_RUNTIME_DIR", tmp.join("run"))
        .env("XDG_DATA_HOME", tmp.join("data"))
        .env("NO_AT_BRIDGE", "1")
        .env("SSPR_SERVER_BIN", target(root).join("sspr-server"))
        .status();
    let _ = xvfb.kill();
    let _ = xvfb.wait();
    let _ = std::fs::remove_dir_all(&tmp);
    anyhow::ensure!(status?.success(), "the kiosk bench failed");
    Ok(())
}

pub(crate) fn build(root: &Path) -> anyhow::Result<()> {
    eprintln!("building the UI and the release kiosk, bare window and server…");
    let ok = Command::new("npm")
        .args(["run", "build", "--silent"])
        .current_dir(root.join("ui"))
        .status()?
        .success();
    anyhow::ensure!(ok, "npm run build failed");
    let ok = Command::new(env!("CARGO"))
        .args([
            "build",
            "--release",
            "-p",
            "sspr-kiosk",
            "--bins",
            "--example",
            "bare_window",
            "-p",
            "sspr-server",
        ])
        .current_dir(root)
        .status()?
        .success();
    anyhow::ensure!(ok, "cargo build --release failed");
    Ok(())
}

pub(crate) fn target(root: &Path) -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"))
        .join("release")
}

struct App {
    name: &'static str,
    binary: PathBuf,
    /// Arguments for each start.
    starts: Vec<Vec<String>>,
    ready_css: &'static str,
}

async fn inner(root: &Path) -> anyhow::Result<()> {
    let server = TestServer::start().await?;
    let driver = Driver::start().await?;
    let release = target(root);
    // One enrolled kiosk, as in service: the first start enrolls (not measured), the
    // measured starts read the key from the keyring and fetch the settings, signed.
    let code = server.enrollment_code("Bench kiosk")?;
    let config = server.dir.join("bench-kiosk.toml");
    std::fs::write(
        &config,
        format!(
            "server_url = \"{}\"\nkiosk_mode = false\nkeyring_service = \"sspr-bench\"\nenrollment_code = \"{code}\"\n",
            server.base
        ),
    )?;
    let kiosk_args = vec!["--config".to_string(), config.display().to_string()];
    let bare = App {
        name: "bare Tauri 2 window",
        binary: release.join("examples/bare_window"),
        starts: vec![Vec::new(); STARTS + 1],
        ready_css: "#ready",
    };
    let kiosk = App {
        name: "SSPR kiosk",
        binary: release.join("sspr-kiosk"),
        starts: vec![kiosk_args; STARTS + 1],
        ready_css: "#app[data-screen=\"start\"] button[data-intent=\"reset\"]",
    };

    let (_, warm_up) = cold_start(&driver, &kiosk, &kiosk.starts[0]).await?;
    warm_up.close().await?;
    let mut results = Vec::new();
    for app in [&bare, &kiosk] {
        let mut times = Vec::new();
        for args in &app.starts[..STARTS] {
            let (ms, client) = cold_start(&driver, app, args).await?;
            times.push(ms);
            client.close().await?;
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
        times.sort_by(f64::total_cmp);
        let median = (times[STARTS / 2 - 1] + times[STARTS / 2]) / 2.0;
        eprintln!(
            "{}: cold starts {:?} ms",
            app.name,
            times.iter().map(|t| t.round()).collect::<Vec<_>>()
        );

        let (_, client) = cold_start(&driver, app, &app.starts[STARTS]).await?;
        eprintln!("{}: idle for {} s…", app.name, IDLE.as_secs());
        tokio::time::sleep(IDLE).await;
        let (rss, pss) = memory_of(&app.binary)?;
        client.close().await?;
        tokio::time::sleep(Duration::from_millis(500)).await;
        results.push((app.name, median, rss, pss));
    }

    println!(
        "kiosk bench (release, Xvfb 1280x800, through tauri-driver + WebKitWebDriver; same run):"
    );
    for (name, median, rss, pss) in &results {
        println!(
            "  {name:<22} cold start to first interactive screen: {median:>7.0} ms (median of {STARTS})   \
             memory after {} s idle: RSS {rss:>6.1} MB, PSS {pss:>6.1} MB (app + WebKit processes)",
            IDLE.as_secs()
        );
    }
    let (b, k) = (&results[0], &results[1]);
    let start_ratio = k.1 / b.1;
    let rss_ratio = k.2 / b.2;
    let verdict = |r: f64| if r <= 1.3 { "PASS" } else { "SHORT" };
    println!(
        "  goal: within 1.3x the bare window — start {start_ratio:.2}x {}, RSS {rss_ratio:.2}x {} (PSS {:.2}x)",
        verdict(start_ratio),
        verdict(rss_ratio),
        k.3 / b.3
    );
    Ok(())
}

/// Milliseconds from asking for a session (which launches the app) to the ready element.
async fn cold_start(
    driver: &Driver,
    app: &App,
    args: &[String],
) -> anyhow::Result<(f64, fantoccini::Client)> {
    let mut caps = serde_json::Map::new();
    caps.insert(
        "tauri:options".into(),
        serde_json::json!({ "application": app.binary, "args": args }),
    );
    let started = Instant::now();
    let client = fantoccini::ClientBuilder::native()
        .capabilities(caps)
        .connect(&driver.url)
        .await
        .with_context(|| format!("starting {}", app.name))?;
    client
        .wait()
        .at_most(Duration::from_secs(30))
        .for_element(fantoccini::Locator::Css(app.ready_css))
        .await
        .with_context(|| format!("{} never showed {}", app.name, app.ready_css))?;
    Ok((started.elapsed().as_secs_f64() * 1000.0, client))
}

/// RSS and PSS (MB) of the processes running `binary` and all their descendants.
fn memory_of(binary: &Path) -> anyhow::Result<(f64, f64)> {
    let procs: Vec<(u32, u32, PathBuf)> = std::fs::read_dir("/proc")?
        .filter_map(|e| e.ok())
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter_map(|pid| {
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
            let after = stat.rsplit_once(") ")?.1;
            let ppid = after.split_whitespace().nth(1)?.parse().ok()?;
            let exe = std::fs::read_link(format!("/proc/{pid}/exe")).unwrap_or_default();
            Some((pid, ppid, exe))
        })
        .collect();
    let mut tree: Vec<u32> = procs
        .iter()
        .filter(|(_, _, exe)| exe == binary)
        .map(|p| p.0)
        .collect();
    anyhow::ensure!(!tree.is_empty(), "{} is not running", binary.display());
    let mut i = 0;
    while i < tree.len() {
        let parent = tree[i];
        tree.extend(procs.iter().filter(|p| p.1 == parent).map(|p| p.0));
        i += 1;
    }
    Ok(rss_pss(&tree))
}

/// RSS and PSS (MB) summed over processes (`/proc/PID/smaps_rollup`).
pub(crate) fn rss_pss(pids: &[u32]) -> (f64, f64) {
    let (mut rss, mut pss) = (0.0, 0.0);
    for pid in pids {
        let rollup =
            std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup")).unwrap_or_default();
        for line in rollup.lines() {
            let kb = |l: &str| {
                l.split_whitespace()
                    .nth(1)
                    .and_then(|v| v.parse::<f64>().ok())
                    .unwrap_or(0.0)
            };
            if line.starts_with("Rss:") {
                rss += kb(line) / 1024.0;
            } else if line.starts_with("Pss:") {
                pss += kb(line) / 1024.0;
            }
        }
    }
    (rss, pss)
}
