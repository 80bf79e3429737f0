//! `cargo xtask bench timing`: can a login be told from an unknown one by how long the
//! server takes? Through the release server, against the built-in directory, a private
//! slapd and a Samba DC, it times identify (`POST /v1/flows`) for a known person and for
//! unknown logins, alternating (in a random order within each pair), and sending an
//! email code (`POST .../challenges`) for the person and for a decoy; then it asks
//! whether the two samples are separable (Mann–Whitney U, two-sided). The command fails
//! when any pair is separable at p < 0.01.
//!
//! A benchmark, not a test: a busy neighbour on a shared 2-core machine moves timings by
//! more than the effects measured, and a test that fails one run in a hundred by design
//! (p < 0.01) would be a flaky test. Run it on a quiet machine.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use sspr_tests::sspr_client::Client;
use sspr_tests::sspr_proto::{Intent, MethodKind, StartFlowRequest};
use sspr_tests::{Options, TestServer};

use crate::dir_bench::through::NO_THROTTLES;
use crate::dir_bench::users::Target;
use crate::dir_bench::Kind;

/// Pairs run first and thrown away: the server's floors settle on its own durations.
const WARM_UP: usize = 300;
/// The level below which two samples count as separable.
const ALPHA: f64 = 0.01;
/// Unknown logins, taken in turn (each has a decoy of its own).
const UNKNOWN: usize = 64;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Dir {
    Builtin,
    Ldap(Kind),
}

impl Dir {
    fn label(self) -> &'static str {
        match self {
            Dir::Builtin => "built-in",
            Dir::Ldap(k) => k.label(),
        }
    }
}

struct TimingOptions {
    samples: usize,
    dirs: Vec<Dir>,
    /// Another server binary to measure (an earlier build, for a before/after).
    server: Option<std::path::PathBuf>,
}

fn parse(args: &[&str]) -> anyhow::Result<TimingOptions> {
    let mut o = TimingOptions {
        samples: 1000,
        dirs: vec![Dir::Builtin, Dir::Ldap(Kind::Slapd), Dir::Ldap(Kind::Samba)],
        server: None,
    };
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        match *arg {
            "--samples" => {
                let v = args.next().context("--samples needs a value")?;
                o.samples = v.parse().with_context(|| format!("--samples {v:?}"))?;
                anyhow::ensure!(
                    (100..=100_000).contains(&o.samples),
                    "--samples: 100 to 100000"
                );
            }
            "--server" => {
                let v = args.next().context("--server needs a path")?;
                o.server = Some(v.into());
            }
            "--only" => {
                let v = args.next().context("--only needs a value")?;
                o.dirs = vec![match *v {
                    "builtin" => Dir::Builtin,
                    "slapd" => Dir::Ldap(Kind::Slapd),
                    "samba" => Dir::Ldap(Kind::Samba),
                    other => anyhow::bail!("--only {other:?}: builtin, slapd or samba"),
                }];
            }
            other => anyhow::bail!(
                "unknown argument {other:?}\n\
                 usage: cargo xtask bench timing [--samples N] [--only builtin|slapd|samba] [--server BIN]\n\
                 \x20 --samples N   timed requests per login kind and call (default 1000)\n\
                 \x20 --only D      one directory (default: all three)\n\
                 \x20 --server BIN  measure this server binary instead (an earlier build)"
            ),
        }
    }
    Ok(o)
}

pub fn run(root: &Path, args: &[&str]) -> anyhow::Result<()> {
    let options = parse(args)?;
    let Some(binary) = crate::bench::release_server(root, "timing", args)? else {
        return Ok(());
    };
    std::env::set_var(
        "SSPR_SERVER_BIN",
        options.server.as_ref().unwrap_or(&binary),
    );
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let result = runtime.block_on(async {
        let mut lines = Vec::new();
        for dir in &options.dirs {
            lines.extend(measure(*dir, options.samples).await?);
        }
        anyhow::Ok(lines)
    });
    runtime.shutdown_timeout(Duration::from_secs(2));
    let lines = result?;
    println!(
        "bench timing: {} samples of each, alternating in random order within pairs, after {WARM_UP} \
         pairs of warm-up; Mann–Whitney U, two-sided; separable means p < {ALPHA}",
        options.samples
    );
    let mut separable = 0;
    for line in &lines {
        println!("{}", line.text);
        separable += usize::from(line.p < ALPHA);
    }
    anyhow::ensure!(
        separable == 0,
        "{separable} of {} calls tell a known login from an unknown one by timing",
        lines.len()
    );
    Ok(())
}

struct Line {
    text: String,
    p: f64,
}

/// The server against `dir`, with one person who has an email and an authenticator.
async fn server_for(dir: Dir) -> anyhow::Result<(TestServer, Option<Target>, String)> {
    match dir {
        Dir::Builtin => {
            let server = TestServer::with_config(NO_THROTTLES).await?;
            Ok((server, None, "ada".into()))
        }
        Dir::Ldap(kind) => {
            crate::bench::progress(format!("starting {}", kind.label()));
            let target = tokio::task::spawn_blocking(move || Target::start(kind, false)).await??;
            let login = "timed1".to_string();
            tokio::task::block_in_place(|| target.add_timed_person(&login))?;
            let server = TestServer::start_with(Options {
                extra_config: format!("{}{NO_THROTTLES}", target.server_toml()),
                real_directory: true,
                ..Options::default()
            })
            .await?;
            server.register(&format!(
                "[[person]]\nlogin = \"{login}\"\nemail = \"{login}@home.example.net\"\ntotp = \"{}\"\n",
                sspr_server::methods::totp::new_secret()
            ))?;
            Ok((server, Some(target), login))
        }
    }
}

async fn measure(dir: Dir, samples: usize) -> anyhow::Result<Vec<Line>> {
    let (server, _target, known) = server_for(dir).await?;
    let kiosk = server.kiosk().await?;
    let unknown: Vec<String> = (0..UNKNOWN).map(|i| format!("nobody{i:02}x")).collect();
    crate::bench::progress(format!("{}: warming up", dir.label()));
    identify_pairs(&kiosk, &known, &unknown, WARM_UP).await?;
    crate::bench::progress(format!("{}: identify, {samples} pairs", dir.label()));
    let (k, u) = identify_pairs(&kiosk, &known, &unknown, samples).await?;
    let mut lines = vec![line(dir, "identify", &k, &u)];
    crate::bench::progress(format!("{}: sending a code, {samples} pairs", dir.label()));
    code_pairs(&kiosk, &known, &unknown, WARM_UP / 3).await?;
    let (k, u) = code_pairs(&kiosk, &known, &unknown, samples).await?;
    lines.push(line(dir, "send code", &k, &u));
    Ok(lines)
}

fn start(login: &str) -> StartFlowRequest {
    StartFlowRequest {
        login: login.to_string(),
        intent: Intent::Reset,
        locale: None,
    }
}

/// Which of a pair goes first, from the clock's low bits (no generator needed).
fn known_first(i: usize) -> bool {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    (nanos as usize ^ i.wrapping_mul(0x9e37_79b9)) & 0x100 == 0
}

/// How long one request took, in milliseconds.
async fn ms<T>(
    request: impl std::future::Future<Output = Result<T, sspr_tests::sspr_client::ClientError>>,
) -> anyhow::Result<f64> {
    // The mailbox runs in this process: let it take the last code mail in before the
    // timed request, or its work lands on whichever request comes next.
    tokio::time::sleep(Duration::from_millis(5)).await;
    let t = Instant::now();
    request.await?;
    Ok(t.elapsed().as_secs_f64() * 1e3)
}

/// Times the known login's request and the unknown one's, in pair `i`'s order.
async fn pair<A, B>(
    i: usize,
    known: impl std::future::Future<Output = Result<A, sspr_tests::sspr_client::ClientError>>,
    unknown: impl std::future::Future<Output = Result<B, sspr_tests::sspr_client::ClientError>>,
) -> anyhow::Result<(f64, f64)> {
    // Futures start when awaited: the order below is the order sent.
    if known_first(i) {
        let k = ms(known).await?;
        Ok((k, ms(unknown).await?))
    } else {
        let u = ms(unknown).await?;
        Ok((ms(known).await?, u))
    }
}

async fn identify_pairs(
    kiosk: &Client,
    known: &str,
    unknown: &[String],
    n: usize,
) -> anyhow::Result<(Vec<f64>, Vec<f64>)> {
    let (mut k, mut u) = (Vec::with_capacity(n), Vec::with_capacity(n));
    for i in 0..n {
        let (a, b) = pair(
            i,
            kiosk.start_flow(&start(known)),
            kiosk.start_flow(&start(&unknown[i % unknown.len()])),
        )
        .await?;
        k.push(a);
        u.push(b);
    }
    Ok((k, u))
}

async fn code_pairs(
    kiosk: &Client,
    known: &str,
    unknown: &[String],
    n: usize,
) -> anyhow::Result<(Vec<f64>, Vec<f64>)> {
    let email = |f: &sspr_tests::sspr_proto::FlowView| {
        f.methods
            .iter()
            .find(|m| m.kind == MethodKind::Email)
            .map(|m| m.id.clone())
            .context("no email method")
    };
    let (mut k, mut u) = (Vec::with_capacity(n), Vec::with_capacity(n));
    for i in 0..n {
        // Flows first, untimed: only asking for the code is.
        let real = kiosk.start_flow(&start(known)).await?;
        let decoy = kiosk
            .start_flow(&start(&unknown[i % unknown.len()]))
            .await?;
        let (real_method, decoy_method) = (email(&real)?, email(&decoy)?);
        let (a, b) = pair(
            i,
            kiosk.challenge(&real.flow_id, &real_method),
            kiosk.challenge(&decoy.flow_id, &decoy_method),
        )
        .await?;
        k.push(a);
        u.push(b);
    }
    Ok((k, u))
}

fn median(v: &[f64]) -> f64 {
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    s.get(s.len() / 2).copied().unwrap_or(f64::NAN)
}

fn line(dir: Dir, call: &str, known: &[f64], unknown: &[f64]) -> Line {
    let p = mann_whitney_p(known, unknown);
    Line {
        text: format!(
            "{:<9} {:<10} known median {:.3} ms, unknown {:.3} ms (diff {:+.3} ms); p = {:.3e}: {}",
            dir.label(),
            call,
            median(known),
            median(unknown),
            median(known) - median(unknown),
            p,
            if p < ALPHA {
                "SEPARABLE"
            } else {
                "not separable"
            }
        ),
        p,
    }
}

/// Two-sided p of the Mann–Whitney U test, normal approximation with the tie
/// correction (both samples are large here).
pub fn mann_whitney_p(a: &[f64], b: &[f64]) -> f64 {
    let (n1, n2) = (a.len() as f64, b.len() as f64);
    let mut all: Vec<(f64, bool)> = a
        .iter()
        .map(|&x| (x, true))
        .chain(b.iter().map(|&x| (x, false)))
        .collect();
    all.sort_by(|x, y| x.0.total_cmp(&y.0));
    let n = all.len();
    let (mut rank_a, mut ties) = (0.0, 0.0);
    let mut i = 0;
    while i < n {
        let mut j = i;
        while j + 1 < n && all[j + 1].0 == all[i].0 {
            j += 1;
        }
        // Ranks i+1..=j+1 share their average.
        let average = (i + j) as f64 / 2.0 + 1.0;
        let t = (j - i + 1) as f64;
        ties += t * t * t - t;
        rank_a += average * all[i..=j].iter().filter(|x| x.1).count() as f64;
        i = j + 1;
    }
    let u = rank_a - n1 * (n1 + 1.0) / 2.0;
    let mean = n1 * n2 / 2.0;
    let nn = n1 + n2;
    let variance = n1 * n2 / 12.0 * ((nn + 1.0) - ties / (nn * (nn - 1.0)));
    if variance <= 0.0 {
        return 1.0;
    }
    let z = (u - mean).abs() / variance.sqrt();
    erfc(z / std::f64::consts::SQRT_2).min(1.0)
}

/// The complementary error function (Numerical Recipes' erfcc: relative error below
/// 1.2e-7 everywhere), so p-values far below 0.01 are still right in their exponent.
fn erfc(x: f64) -> f64 {
    let z = x.abs();
    let t = 1.0 / (1.0 + 0.5 * z);
    let r = t
        * (-z * z - 1.265_512_23
            + t * (1.000_023_68
                + t * (0.374_091_96
                    + t * (0.096_784_18
                        + t * (-0.186_288_06
                            + t * (0.278_868_07
                                + t * (-1.135_203_98
                                    + t * (1.488_515_87
                                        + t * (-0.822_152_23 + t * 0.170_872_77)))))))))
            .exp();
    if x >= 0.0 {
        r
    } else {
        2.0 - r
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn erfc_matches_known_values() {
        for (x, want) in [
            (0.0, 1.0),
            (0.5, 0.479_500_122),
            (1.0, 0.157_299_207),
            (3.0, 2.209_049_7e-5),
        ] {
            assert!((erfc(x) - want).abs() / want < 1e-6, "{x}");
        }
    }

    #[test]
    fn mann_whitney_tells_shifted_samples_apart_and_not_equal_ones() {
        let a: Vec<f64> = (0..970).map(|i| (i % 97) as f64).collect();
        let same: Vec<f64> = (0..970).map(|i| ((i * 7) % 97) as f64).collect();
        assert!(mann_whitney_p(&a, &same) > 0.5);
        let shifted: Vec<f64> = a.iter().map(|x| x + 10.0).collect();
        assert!(mann_whitney_p(&a, &shifted) < 1e-10);
        // U = 2 for n1 = n2 = 5: z = 10.5 / sqrt(275 / 12), two-sided p = 0.0283 (as
        // scipy's mannwhitneyu gives, asymptotic, without continuity correction).
        let p = mann_whitney_p(&[1.0, 2.0, 3.0, 4.0, 7.0], &[5.0, 6.0, 8.0, 9.0, 10.0]);
        assert!((p - 0.0283).abs() < 0.0005, "{p}");
    }
}
