//! `cargo xtask bench server`: builds the release server, runs it on loopback against a
//! load generator in this process, and prints what it measured next to two floors taken
//! on the same box in the same run (a bare axum handler, the bare argon2id hash rate).
//! Resets with a texted code run beside resets with an emailed one, through a real SMS
//! gateway (Kannel, with its fake SMSC standing in for the operator's network). Last, a
//! few people register security questions and a kiosk checks their answers one at a time,
//! beside the cost of one argon2id hash.
//!
//! Progress goes to stderr; the report (the figures and the goals) to stdout.

mod cpu;
mod floors;
mod load;
pub(crate) mod mail;
mod questions;
mod report;
mod target;
mod texts;
mod work;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use sspr_client::Client;
use sspr_mailbox::Mailbox;
use sspr_tests::kannel::Kannel;

use load::Run;
use target::{Channel, Person, ServerUnderTest};

/// Concurrent flows measured, one line each.
const FLOW_LEVELS: [usize; 3] = [1, 16, 64];
/// Concurrent flows in the runs that mix resets with a texted code and resets with an
/// emailed one: half of the flows each, at the same time.
const MIX_LEVELS: [usize; 2] = [16, 64];
/// Digits in a code (the server's default `policy.code_length`).
const CODE_LENGTH: usize = 6;
/// Kannel's processes, whose cores the mixed runs count apart.
const KANNEL_PROCESSES: [&str; 3] = ["bearerbox", "smsbox", "fakesmsc"];
/// The flow runs' workers start this far apart, as people walk up to kiosks (all 64 in
/// the same instant would measure one burst of 64 identifies, 64 code mails, ...).
pub const FLOW_STAGGER: Duration = Duration::from_millis(10);
/// Concurrency of the identify runs and of the bare handler they are compared with.
const REQUEST_CONCURRENCY: usize = 64;
/// Every loop in a run also stops after this many operations, whatever the window.
const MAX_OPS: usize = 10_000_000;

struct Options {
    /// Length of each measurement window.
    window: Duration,
    /// People to import (each is used for one reset at most); estimated when absent.
    people: Option<usize>,
    /// Keep the server's folder (store, config, log) for a look afterwards.
    keep: bool,
    /// Another server binary to measure (an earlier build, for a before/after).
    server: Option<PathBuf>,
    /// Resets with texted codes through Kannel beside the emailed ones.
    sms: bool,
    /// Security questions registered and checked.
    questions: bool,
    /// The store on PostgreSQL (a cluster of the test kit's, on loopback) instead of
    /// SQLite.
    postgres: bool,
}

impl Options {
    fn parse(args: &[&str]) -> anyhow::Result<Options> {
        let mut options = Options {
            window: Duration::from_secs(5),
            people: None,
            keep: false,
            server: None,
            sms: true,
            questions: true,
            postgres: false,
        };
        let mut args = args.iter();
        while let Some(arg) = args.next() {
            let mut value = |name: &str| {
                args.next()
                    .with_context(|| format!("{name} needs a value"))
                    .and_then(|v| {
                        v.parse::<u64>()
                            .with_context(|| format!("{name} {v:?}: not a number"))
                    })
            };
            match *arg {
                "--secs" => {
                    let secs = value("--secs")?;
                    anyhow::ensure!((1..=60).contains(&secs), "--secs: 1 to 60");
                    options.window = Duration::from_secs(secs);
                }
                "--people" => {
                    let n = value("--people")?;
                    anyhow::ensure!((100..=100_000).contains(&n), "--people: 100 to 100000");
                    options.people = Some(n as usize);
                }
                "--keep" => options.keep = true,
                "--no-sms" => options.sms = false,
                "--no-questions" => options.questions = false,
                "--store" => match args.next().copied() {
                    Some("sqlite") => options.postgres = false,
                    Some("postgres") => options.postgres = true,
                    other => anyhow::bail!("--store: sqlite or postgres, not {other:?}"),
                },
                "--server" => {
                    let v = args.next().context("--server needs a path")?;
                    options.server = Some(PathBuf::from(v));
                }
                other => anyhow::bail!(
                    "unknown argument {other:?}\n\
                     usage: cargo xtask bench server [--secs N] [--people N] [--keep] [--server BIN] [--no-sms]\n\
                     \x20                               [--no-questions] [--store sqlite|postgres]\n\
                     \x20 --secs N     seconds each measurement runs (default 5)\n\
                     \x20 --people N   people to import for each kind of reset (emailed code, texted\n\
                     \x20              code), one reset each (default: enough for the run)\n\
                     \x20 --keep       keep the server's folder (store, config, log)\n\
                     \x20 --server BIN measure this server binary instead (an earlier build)\n\
                     \x20 --no-sms     no resets with texted codes (no Kannel; a server from before SMS)\n\
                     \x20 --no-questions\n\
                     \x20              no security questions (a server from before them)\n\
                     \x20 --store postgres\n\
                     \x20              the store on PostgreSQL (a cluster of its own on loopback, TLS\n\
                     \x20              checked), to compare with the default SQLite in the same session"
                ),
            }
        }
        Ok(options)
    }
}

pub fn server(root: &Path, args: &[&str]) -> anyhow::Result<()> {
    let options = Options::parse(args)?;
    if options.sms {
        // Before any build: a box without Kannel hears so at once.
        Kannel::check_installed().context(
            "the SMS flows need Kannel, a real SMS gateway (bearerbox, smsbox) and its fake \
             SMSC (./run installs them; or measure without texted codes: --no-sms)",
        )?;
    }
    let Some(built) = release_server(root, "server", args)? else {
        return Ok(());
    };
    let binary = match &options.server {
        Some(other) => {
            anyhow::ensure!(
                other.is_file(),
                "--server {}: no such file",
                other.display()
            );
            progress(format!("measuring {}", other.display()));
            other.clone()
        }
        None => built,
    };

    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    // First, on an idle box: it also tells how many people the flows can use up.
    progress(format!(
        "argon2id floor: one hash at a time, then {cores} threads for {} s",
        options.window.as_secs()
    ));
    let hash = floors::argon2(cores, options.window)?;

    let kannel = if options.sms {
        progress("starting Kannel (bearerbox, smsbox) and its fake SMSC");
        Some(Kannel::start().context("starting Kannel")?)
    } else {
        None
    };

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let result = runtime.block_on(measure(&binary, &options, cores, hash, kannel.as_ref()));
    // Don't wait for stragglers (a dispatcher task, idle connections).
    runtime.shutdown_timeout(Duration::from_secs(2));
    // Kannel stops once the server has.
    drop(kannel);
    let report = result?;
    print!("{report}");
    Ok(())
}

/// `CARGO_TARGET_DIR` (made absolute, as cargo does) or the workspace's `target`.
/// Benches run in a release build of xtask beside a release server. From a debug build
/// this builds the release xtask and runs `bench <name> args` in it (None: done); in
/// the release build it builds the server and returns its path. (Built separately: built
/// together, cargo would unify their dependencies' features and the server would not be
/// the binary `-p sspr-server` alone makes.)
pub fn release_server(root: &Path, name: &str, args: &[&str]) -> anyhow::Result<Option<PathBuf>> {
    let target_dir = target_dir(root)?;
    if cfg!(debug_assertions) {
        // The load generators run in this process: a debug build would measure itself.
        cargo_build(root, &target_dir, "xtask")?;
        let status = Command::new(target_dir.join("release/xtask"))
            .args(["bench", name])
            .args(args)
            .status()
            .context("running the release build of xtask")?;
        anyhow::ensure!(status.success(), "the release bench failed ({status})");
        return Ok(None);
    }
    cargo_build(root, &target_dir, "sspr-server")?;
    let binary = target_dir.join("release/sspr-server");
    anyhow::ensure!(binary.exists(), "{} is missing", binary.display());
    Ok(Some(binary))
}

fn target_dir(root: &Path) -> anyhow::Result<PathBuf> {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) => Ok(std::env::current_dir()?.join(dir)),
        None => Ok(root.join("target")),
    }
}

fn cargo_build(root: &Path, target_dir: &Path, package: &str) -> anyhow::Result<()> {
    progress(format!("cargo build --release -p {package}"));
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let status = Command::new(cargo)
        .current_dir(root)
        .env("CARGO_TARGET_DIR", target_dir)
        .args(["build", "--release", "-p", package])
        .status()
        .context("running cargo")?;
    anyhow::ensure!(status.success(), "cargo build failed ({status})");
    Ok(())
}

pub fn progress(line: impl std::fmt::Display) {
    eprintln!("bench: {line}");
}

/// Everything after the argon2id floor, on the load generator's runtime; with `kannel`,
/// the runs that mix texted and emailed codes too.
async fn measure(
    binary: &Path,
    options: &Options,
    cores: usize,
    hash: floors::HashRate,
    kannel: Option<&Kannel>,
) -> anyhow::Result<report::Report> {
    let window = options.window;

    progress(format!(
        "bare axum floor: {REQUEST_CONCURRENCY} concurrent, {} s",
        window.as_secs()
    ));
    let bare = floors::bare_handler(cores, REQUEST_CONCURRENCY, window, MAX_OPS).await?;

    // Each flow spends one person, and flows can't outrun the hash rate (one hash a
    // reset), so this is enough for every level with a margin. Both kinds get as many.
    let mix_levels: &[usize] = if kannel.is_some() { &MIX_LEVELS } else { &[] };
    let windows = FLOW_LEVELS.len() + mix_levels.len();
    let people_needed = hash.per_sec() * windows as f64 * window.as_secs_f64() * 1.25;
    let people_needed = people_needed.ceil() as usize
        + FLOW_LEVELS.iter().sum::<usize>()
        + mix_levels.iter().sum::<usize>();
    let each = options.people.unwrap_or(people_needed.max(100));
    let people = target::people(each, Channel::Email);
    let texted = if kannel.is_some() {
        target::people(each, Channel::Sms)
    } else {
        Vec::new()
    };

    let questioned = if options.questions {
        target::questioned(questions::PEOPLE)
    } else {
        Vec::new()
    };

    let mailbox = Mailbox::start("127.0.0.1:0".parse()?).await?;
    let provider = kannel.map(|k| k.provider_toml("kannel"));
    // Kept running until the measurements are over.
    let postgres = if options.postgres {
        progress("starting PostgreSQL (a cluster of its own, on loopback)");
        Some(sspr_tests::postgres::Postgres::start().context("starting PostgreSQL")?)
    } else {
        None
    };
    let (store, store_section) = match &postgres {
        Some(pg) => {
            let database = pg.create_database()?;
            (
                "PostgreSQL (Debian's, a cluster of its own) on 127.0.0.1, TLS verify-full; its \
                 processes share the same cores and are not counted in the server's CPU"
                    .to_string(),
                Some(pg.store_settings(&database)),
            )
        }
        None => ("SQLite (one file, WAL)".to_string(), None),
    };
    let mut server = ServerUnderTest::prepare(
        binary,
        mailbox.addr().port(),
        provider.as_deref(),
        options.questions,
        store_section.as_deref(),
        options.keep,
    )?;
    let code = server.enrollment_code()?;
    progress(format!(
        "importing {} people ({cores} processes; each initial password is hashed){}",
        people.len() + texted.len() + questioned.len(),
        if texted.is_empty() {
            ""
        } else {
            "; then registering the mobile numbers of those texted"
        }
    ));
    let everyone: Vec<&Person> = people.iter().chain(&texted).chain(&questioned).collect();
    let import = server.import(&everyone, cores)?;
    server.start().await?;
    let mut kiosk = Client::new(&server.base, sspr_client::DeviceKey::generate(), None)?;
    kiosk.enroll(&code, None, None).await?;
    let kiosk = Arc::new(kiosk);
    let codes = Arc::new(mail::Codes::start(&mailbox));
    let texts = match kannel {
        Some(k) => Some(Arc::new(texts::start(k.fakesmsc_log(), CODE_LENGTH)?)),
        None => None,
    };
    let people = Arc::new(people);
    let texted = Arc::new(texted);

    // Opens the connections and warms the store; not counted.
    progress("warming up");
    identify_run(
        &kiosk,
        &people,
        false,
        REQUEST_CONCURRENCY,
        Duration::from_secs(1),
    )
    .await;

    progress(format!(
        "signed floor: GET /v1/kiosk/settings, {REQUEST_CONCURRENCY} concurrent, {} s",
        window.as_secs()
    ));
    let signed = {
        let before = cpu::Snapshot::take(server.pid());
        let kiosk = kiosk.clone();
        let run = load::closed_loop(REQUEST_CONCURRENCY, window, MAX_OPS, move |_| {
            let kiosk = kiosk.clone();
            async move { Ok(vec![work::settings(&kiosk).await?]) }
        })
        .await;
        Measured {
            run,
            cpu: before.and_then(|b| b.usage_since()),
        }
    };

    progress(format!(
        "identify: known and unknown logins, {REQUEST_CONCURRENCY} concurrent, {} s each; \
         then pairs one at a time",
        window.as_secs()
    ));
    let identify = identify_runs(&kiosk, &people, &server, window).await;

    let mut flows = Vec::new();
    let mut used = 0;
    for concurrency in FLOW_LEVELS {
        progress(format!(
            "reset flows: {concurrency} concurrent, {} s",
            window.as_secs()
        ));
        let level = flow_run(&kiosk, &codes, &people, used, concurrency, window, &server).await;
        used += level.measured.run.ok + level.measured.run.errors;
        flows.push(level);
    }

    let mut mix = Vec::new();
    let mut texted_used = 0;
    if let Some(texts) = &texts {
        let gateway = cpu::children_named(&KANNEL_PROCESSES);
        for &concurrency in mix_levels {
            progress(format!(
                "reset flows, texted and emailed codes side by side: {} + {} concurrent, {} s",
                concurrency / 2,
                concurrency - concurrency / 2,
                window.as_secs()
            ));
            // The two kinds' workers arrive in turns, one every FLOW_STAGGER as in the
            // other flow runs.
            let before = cpu::Snapshot::with_gateway(server.pid(), &gateway);
            let tallies = (texts.tally(), codes.tally());
            let (email, sms) = tokio::join!(
                resets(
                    &kiosk,
                    &codes,
                    &people,
                    used,
                    concurrency - concurrency / 2,
                    window,
                    FLOW_STAGGER * 2,
                ),
                async {
                    tokio::time::sleep(FLOW_STAGGER).await;
                    resets(
                        &kiosk,
                        texts,
                        &texted,
                        texted_used,
                        concurrency / 2,
                        window,
                        FLOW_STAGGER * 2,
                    )
                    .await
                },
            );
            used += email.measured.run.ok + email.measured.run.errors;
            texted_used += sms.measured.run.ok + sms.measured.run.errors;
            mix.push(report::MixLevel {
                concurrency,
                email,
                sms,
                cpu: before.and_then(|b| b.usage_since()),
                early: (
                    texts.tally().since(tallies.0),
                    codes.tally().since(tallies.1),
                ),
            });
        }
    }

    // Last: one check at a time wants a server that nothing else keeps busy.
    let questions = if options.questions {
        progress(format!(
            "security questions: {} people register theirs on My security info, then \
             answers are checked one at a time",
            questioned.len()
        ));
        Some(questions::measure(&server.base, &kiosk, &codes, &questioned).await?)
    } else {
        None
    };

    let server_log = options.keep.then(|| server.log_path());
    drop(server);
    drop(postgres);
    Ok(report::Report {
        cores,
        store,
        methods: target::methods(kannel.is_some(), options.questions),
        questions,
        window,
        people: people.len(),
        people_used: used,
        texted_used,
        mix: kannel.is_some().then_some(mix),
        import,
        hash,
        bare,
        signed,
        identify,
        flows,
        server_log,
    })
}

/// A run with the server's and this process's CPU use over it.
pub struct Measured {
    pub run: Run,
    pub cpu: Option<cpu::Usage>,
}

async fn identify_run(
    kiosk: &Arc<Client>,
    people: &Arc<Vec<Person>>,
    known: bool,
    concurrency: usize,
    window: Duration,
) -> Run {
    let (kiosk, people) = (kiosk.clone(), people.clone());
    load::closed_loop(concurrency, window, MAX_OPS, move |n| {
        let kiosk = kiosk.clone();
        // Unknown: a new login each time, so each gets its own decoy.
        let login = if known {
            known_login(&people, n)
        } else {
            Ok(format!("nobody{n:07}"))
        };
        async move { Ok(vec![work::identify(&kiosk, login?).await?]) }
    })
    .await
}

/// The imported people round robin: starting a flow spends nothing, so they can be reused.
fn known_login(people: &[Person], n: usize) -> anyhow::Result<String> {
    let person = people
        .get(n % people.len().max(1))
        .context("nobody was imported")?;
    Ok(person.username.clone())
}

/// One known and one unknown login after another, one request at a time, in alternating
/// order: the latency difference without queueing in the way (a timing side channel
/// would show here first).
async fn identify_pairs(kiosk: &Arc<Client>, people: &Arc<Vec<Person>>, window: Duration) -> Run {
    let (kiosk, people) = (kiosk.clone(), people.clone());
    load::closed_loop(1, window, MAX_OPS, move |n| {
        let kiosk = kiosk.clone();
        let known = known_login(&people, n);
        let unknown = format!("nobody-paired{n:07}");
        async move {
            let known = known?;
            let (known, unknown) = if n % 2 == 0 {
                let known = work::identify(&kiosk, known).await?;
                (known, work::identify(&kiosk, unknown).await?)
            } else {
                let unknown = work::identify(&kiosk, unknown).await?;
                (work::identify(&kiosk, known).await?, unknown)
            };
            Ok(vec![known, unknown])
        }
    })
    .await
}

/// Known and unknown logins in turns (known, unknown, unknown, known; half a window each),
/// so a store that grows during the run weighs on both alike.
async fn identify_runs(
    kiosk: &Arc<Client>,
    people: &Arc<Vec<Person>>,
    server: &ServerUnderTest,
    window: Duration,
) -> report::Identify {
    let mut known = Vec::new();
    let mut unknown = Vec::new();
    for is_known in [true, false, false, true] {
        let before = cpu::Snapshot::take(server.pid());
        let run = identify_run(kiosk, people, is_known, REQUEST_CONCURRENCY, window / 2).await;
        let measured = Measured {
            run,
            cpu: before.and_then(|b| b.usage_since()),
        };
        if is_known {
            known.push(measured);
        } else {
            unknown.push(measured);
        }
    }
    report::Identify {
        concurrency: REQUEST_CONCURRENCY,
        known: Measured::merge(known),
        unknown: Measured::merge(unknown),
        pairs: identify_pairs(kiosk, people, window / 2).await,
    }
}

impl Measured {
    /// Several runs of the same thing as one.
    fn merge(parts: Vec<Measured>) -> Measured {
        let none = Measured {
            run: Run::empty(1),
            cpu: None,
        };
        parts.into_iter().fold(none, |all, part| Measured {
            run: all.run.merge(part.run),
            cpu: match (all.cpu, part.cpu) {
                (Some(a), Some(b)) => Some(a.add(&b)),
                (a, b) => a.or(b),
            },
        })
    }
}

/// Complete resets at `concurrency`, each with the next unused person from `first` on.
async fn flow_run(
    kiosk: &Arc<Client>,
    codes: &Arc<mail::Codes>,
    people: &Arc<Vec<Person>>,
    first: usize,
    concurrency: usize,
    window: Duration,
    server: &ServerUnderTest,
) -> report::FlowLevel {
    let before = cpu::Snapshot::take(server.pid());
    let mut level = resets(
        kiosk,
        codes,
        people,
        first,
        concurrency,
        window,
        FLOW_STAGGER,
    )
    .await;
    level.measured.cpu = before.and_then(|b| b.usage_since());
    level
}

/// Complete resets at `concurrency`, the workers starting `stagger` apart, each with the
/// next unused person of `people` from `first` on, whose codes `codes` holds; no CPU
/// figures.
async fn resets(
    kiosk: &Arc<Client>,
    codes: &Arc<mail::Codes>,
    people: &Arc<Vec<Person>>,
    first: usize,
    concurrency: usize,
    window: Duration,
    stagger: Duration,
) -> report::FlowLevel {
    let available = people.len().saturating_sub(first);
    let (kiosk, codes, people) = (kiosk.clone(), codes.clone(), people.clone());
    let run = load::ramped(concurrency, window, available, stagger, move |n| {
        let (kiosk, codes, people) = (kiosk.clone(), codes.clone(), people.clone());
        async move {
            let person = people.get(first + n).context("no unused person left")?;
            work::reset(&kiosk, &codes, person).await
        }
    })
    .await;
    let ran_out = run.ok + run.errors >= available;
    if ran_out {
        progress("ran out of people (use --people to import more)");
    }
    report::FlowLevel {
        concurrency,
        measured: Measured { run, cpu: None },
        ran_out,
    }
}
