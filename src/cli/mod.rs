//! The `poolsweep` command line: flags ([`args`]), their validation ([`plan`]), and running
//! each subcommand. `main.rs` only parses, sets up logging and calls [`run`], so the whole
//! tool is callable in-process from tests.
//!
//! Exit status: 0 success; 1 a failure while running (message on stderr); 2 invalid flags or
//! files that cannot be compared (nothing was run); 130 interrupted (results kept).

pub mod args;
pub mod plan;

use std::io::IsTerminal as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};

use anyhow::Context as _;

use self::args::{Cli, Command, ExportArgs, ExportFormat, ReportArgs, SweepArgs};
use self::plan::SweepPlan;
use crate::metrics::display_max_sockets;
use crate::results::{Meta, ResultWriter, RunFile};
use crate::sweep::{Event, Server};

/// Exit status for invalid input (nothing was run).
pub const EXIT_USAGE: u8 = 2;
/// Exit status after Ctrl-C (every finished run is saved).
pub const EXIT_INTERRUPTED: u8 = 130;

/// Runs a parsed command line.
pub fn run(cli: Cli, argv: Vec<String>) -> ExitCode {
    let result = match cli.command {
        Command::Sweep(a) => sweep(&a, argv),
        Command::Report(a) => report(&a).map(|()| ExitCode::SUCCESS),
        Command::Compare(a) => compare(&a),
        Command::Export(a) => export(&a).map(|()| ExitCode::SUCCESS),
        Command::Serve(a) => serve(&a).map(|()| ExitCode::SUCCESS),
        Command::MockChild { worker_threads } => {
            crate::sweep::serve_child(worker_threads).map(|()| ExitCode::SUCCESS)
        }
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("poolsweep: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Writes to stdout; a closed pipe (`poolsweep ... | head`) is not an error worth a panic.
fn print_out(text: &str) {
    use std::io::Write as _;
    let mut stdout = std::io::stdout().lock();
    let _ = stdout.write_all(text.as_bytes());
    let _ = stdout.write_all(b"\n");
}

fn usage_error(message: &str) -> ExitCode {
    eprintln!("poolsweep: {message}");
    ExitCode::from(EXIT_USAGE)
}

fn sweep(a: &SweepArgs, argv: Vec<String>) -> anyhow::Result<ExitCode> {
    let plan = match SweepPlan::try_from(a) {
        Ok(p) => p,
        Err(message) => return Ok(usage_error(&message)),
    };
    if plan.nofile.is_some()
        && plan.external.is_none()
        && plan.config.credentials != crate::sut::CredentialKind::Static
    {
        return Ok(usage_error(
            "--nofile runs the mock in a child process, which serves static credentials only: \
             drop --credentials",
        ));
    }
    // Before the limit is lowered: the mock in a child process keeps the hard limit.
    let _ = rlimit::increase_nofile_limit(u64::MAX);
    if let Some(dir) = plan.out.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    mock_s3::tls::install_crypto_provider();
    let mock_threads = mock_threads(plan.config.client_threads);
    let server = match (&plan.external, plan.nofile) {
        // --nofile is the client's limit, as a Node.js application's would be: the mock runs
        // in a process of its own, so its sockets do not count against it.
        (None, Some(_)) => Server::Child(
            crate::sweep::ChildMock::spawn(
                &std::env::current_exe().context("finding the poolsweep binary")?,
                mock_threads,
            )
            .context("starting the mock in a child process")?,
        ),
        (None, None) => Server::Embedded(
            mock_s3::MockS3::builder()
                .storage(mock_s3::StorageMode::Discard)
                .metadata_listener()
                .worker_threads(mock_threads)
                .start()
                .context("starting the embedded mock")?,
        ),
        (Some(external), _) => Server::External(external.clone()),
    };
    if let Some(n) = plan.nofile {
        let (_, hard) = rlimit::Resource::NOFILE
            .get()
            .context("reading RLIMIT_NOFILE")?;
        rlimit::Resource::NOFILE
            .set(n.min(hard), hard)
            .context("lowering RLIMIT_NOFILE")?;
    }
    let (sut, sdk_versions) = sdk_clients(&plan.config, &server)?;
    let profiles: serde_json::Map<String, serde_json::Value> = plan
        .config
        .profiles
        .iter()
        .filter_map(|p| {
            let c = &plan.config;
            c.profile_overrides
                .apply(p)
                .and_then(|prof| serde_json::to_value(prof).ok())
                .map(|v| (c.profile_label(p), v))
        })
        .collect();
    let meta = Meta::collect(
        serde_json::to_value(&plan.config)?,
        serde_json::Value::Object(profiles),
        argv,
    )
    .with_sdks(sdk_versions);
    let mut writer = ResultWriter::create(&plan.out, meta)
        .with_context(|| format!("creating {}", plan.out.display()))?;
    eprintln!(
        "poolsweep: {} runs ({} points × {} repetitions) → {}",
        plan.config.runs(),
        plan.config.runs() / u64::from(plan.config.repetitions),
        plan.config.repetitions,
        plan.out.display()
    );

    let stop = Arc::new(AtomicBool::new(false));
    // The client on its own thread(s), counted as the client's CPU; the mock on the others.
    let runtime = crate::metrics::client_runtime(plan.config.client_threads)
        .context("starting the client runtime")?;
    {
        let stop = stop.clone();
        let presses = Arc::new(AtomicU8::new(0));
        runtime.spawn(async move {
            while tokio::signal::ctrl_c().await.is_ok() {
                if presses.fetch_add(1, Ordering::SeqCst) == 0 {
                    stop.store(true, Ordering::SeqCst);
                    eprintln!("\npoolsweep: stopping after the current run (Ctrl-C again to stop now; finished runs are saved)");
                } else {
                    eprintln!("\npoolsweep: stopped; finished runs are in the result file");
                    std::process::exit(i32::from(EXIT_INTERRUPTED));
                }
            }
        });
    }
    let mut progress = Progress::new(
        !plan.no_progress && std::io::stderr().is_terminal(),
        plan.config.runs(),
    );
    let summary = runtime.block_on(crate::sweep::run_sweep(
        &plan.config,
        &server,
        &sut,
        &mut writer,
        &stop,
        |e| progress.event(&e),
    ));
    progress.finish();
    let summary = summary?;
    let run = writer.finish();
    print_recommendations(&run);
    if let Some(path) = &plan.csv {
        let file =
            std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?;
        crate::results::write_csv(&run, std::io::BufWriter::new(file))
            .with_context(|| format!("writing {}", path.display()))?;
    }
    if let Some(dir) = &plan.report {
        let files = crate::report::render(&run, dir, criterion_index().as_deref())
            .with_context(|| format!("rendering the report into {}", dir.display()))?;
        eprintln!("poolsweep: report at {}", files.index.display());
    }
    eprintln!(
        "poolsweep: {} of {} runs done; results in {}",
        summary.runs,
        summary.total,
        plan.out.display()
    );
    if let Some(js) = sut.js_v3_client() {
        runtime.block_on(js.shutdown());
    }
    if let Server::Embedded(mock) = server {
        mock.shutdown();
    }
    Ok(if summary.interrupted {
        ExitCode::from(EXIT_INTERRUPTED)
    } else if summary.failed_runs > 0 {
        eprintln!(
            "poolsweep: {} runs failed; their points say why (marked failed in the result file \
             and the report)",
            summary.failed_runs
        );
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// The clients of the SDKs the sweep measures, and what each is (versions) for the result
/// file. js-v3's runner is installed here, before the first run (one line of progress); when
/// it cannot be (no Node.js, no registry), the sweep still runs and js-v3's points are marked
/// failed with the reason.
fn sdk_clients(
    c: &crate::sweep::SweepConfig,
    server: &Server,
) -> anyhow::Result<(
    crate::sut::SdkClients,
    std::collections::BTreeMap<String, String>,
)> {
    use crate::sut::js_v3::{self, JsV3Client};
    use crate::sut::{PoolsweepClient, SdkClients, rust_sdk::RustSdkClient};
    let mut clients = SdkClients::new();
    let mut versions = std::collections::BTreeMap::new();
    for &sdk in &c.sdks {
        match sdk {
            crate::sut::Sdk::Poolsweep => {
                clients =
                    clients.poolsweep(PoolsweepClient::new(server.client_config(c.credentials)?));
                versions.insert(
                    sdk.to_string(),
                    format!("poolsweep {}", env!("CARGO_PKG_VERSION")),
                );
            }
            crate::sut::Sdk::JsV3 => {
                let client = JsV3Client::install(
                    &js_v3::default_dir(),
                    &js_v3::Toolchain::default(),
                    &mut |line| eprintln!("poolsweep: {line}"),
                );
                match client.describe() {
                    Ok(v) => {
                        versions.insert(sdk.to_string(), v);
                    }
                    Err(why) => {
                        eprintln!(
                            "poolsweep: js-v3 cannot run, its points will be marked failed: {why}"
                        );
                        versions.insert(sdk.to_string(), format!("unavailable: {why}"));
                    }
                }
                clients = clients.js_v3(client);
            }
            crate::sut::Sdk::RustSdk => {
                clients = clients.rust_sdk(RustSdkClient);
                versions.insert(sdk.to_string(), crate::sut::rust_sdk::describe());
            }
        }
    }
    Ok((clients, versions))
}

/// Worker threads for the embedded mock: the cores the client does not use, one at least, so
/// that client and server do not take turns on an oversubscribed core.
pub fn mock_threads(client_threads: usize) -> usize {
    std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .saturating_sub(client_threads)
        .max(1)
}

/// criterion's report, if `cargo bench` made one (linked from poolsweep's report).
fn criterion_index() -> Option<PathBuf> {
    let target =
        std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| PathBuf::from("target"), PathBuf::from);
    let index = target.join("criterion/report/index.html");
    index.exists().then_some(index)
}

fn print_recommendations(run: &RunFile) {
    use std::fmt::Write as _;
    if run.recommendations.is_empty() {
        print_out("No recommendation: no point finished without failures.");
        return;
    }
    let mut text = String::new();
    let _ = writeln!(
        text,
        "{:<10} {:<15} {:>6} {:>16} {:>6} {:>10} {:>14}  group",
        "sdk", "client", "batch", "set", "best", "falls off", "rule (=batch)"
    );
    for r in &run.recommendations {
        let rule = match r.rule_of_thumb.vs_best_pct {
            Some(p) => format!("{p:+.1}%"),
            None => "not measured".to_owned(),
        };
        let g = &r.group;
        let _ = writeln!(
            text,
            "{:<10} {:<15} {:>6} {:>16} {:>6} {:>10} {:>14}  {}{}",
            g.sdk.to_string(),
            r.client.to_string(),
            r.batch,
            r.setting(),
            display_max_sockets(r.best_max_sockets).to_string(),
            r.falloff
                .map_or("-".to_owned(), |f| display_max_sockets(f.from).to_string()),
            rule,
            g.profile,
            g.scenario
                .as_deref()
                .map_or(String::new(), |s| format!(" ({s})")),
        );
    }
    for r in &run.recommendations {
        let _ = write!(text, "\n{}: {}\n", r.title(), r.reason);
    }
    print_out(text.trim_end());
}

/// A progress bar with ETA and the current run's live throughput on a terminal; plain log
/// lines otherwise (CI).
struct Progress {
    bar: Option<indicatif::ProgressBar>,
}

impl Progress {
    fn new(terminal: bool, total: u64) -> Self {
        let bar = terminal.then(|| {
            let bar = indicatif::ProgressBar::new(total);
            bar.set_style(
                indicatif::ProgressStyle::with_template(
                    "{elapsed_precise} [{bar:30}] {pos}/{len} runs, ETA {eta} {msg}",
                )
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
                .progress_chars("=> "),
            );
            bar
        });
        Self { bar }
    }

    fn event(&mut self, e: &Event<'_>) {
        match (e, &self.bar) {
            (
                Event::RunStarted {
                    spec, repetition, ..
                },
                Some(bar),
            ) => {
                bar.set_message(format!("{} #{repetition}", spec.label()));
            }
            (
                Event::RunStarted {
                    done,
                    total,
                    spec,
                    repetition,
                },
                None,
            ) => {
                eprintln!("[{}/{}] {} #{repetition}", done + 1, total, spec.label());
            }
            (
                Event::Progress {
                    finished,
                    of,
                    objects_per_s,
                },
                Some(bar),
            ) => {
                let msg = bar.message();
                let base = msg.split(" | ").next().unwrap_or("").to_owned();
                bar.set_message(format!(
                    "{base} | {finished}/{of} at {objects_per_s:.0} obj/s"
                ));
            }
            (Event::Progress { .. }, None) => {}
            (
                Event::RunFailed {
                    spec,
                    reason,
                    measured,
                },
                bar,
            ) => {
                let line = format!("{}: run failed: {reason}", spec.label());
                match bar {
                    Some(bar) => {
                        if !measured {
                            bar.inc(1);
                        }
                        bar.println(line);
                    }
                    None => eprintln!("    {line}"),
                }
            }
            (
                Event::RunFinished {
                    point,
                    objects_per_s,
                    cut_by_budget,
                },
                bar,
            ) => {
                let line = format!(
                    "    {objects_per_s:.0} objects/s{}{}",
                    if *cut_by_budget {
                        format!(
                            " (time budget hit: projected {:.0} s for all {})",
                            point.projected_s.unwrap_or(f64::INFINITY),
                            point.objects
                        )
                    } else {
                        String::new()
                    },
                    if point.failed() {
                        format!("; {}", point.failure_summary())
                    } else {
                        String::new()
                    }
                );
                match bar {
                    Some(bar) => {
                        bar.inc(1);
                        if *cut_by_budget || point.failed() {
                            bar.println(format!("{}{line}", point.label()));
                        }
                    }
                    None => eprintln!("{line}"),
                }
            }
        }
    }

    fn finish(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
    }
}

fn report_dir(result: &Path) -> PathBuf {
    let stem = result
        .file_stem()
        .map_or_else(|| "run".into(), |s| s.to_string_lossy().into_owned());
    result.with_file_name(format!("{stem}-report"))
}

fn report(a: &ReportArgs) -> anyhow::Result<()> {
    let out = a.out.clone().unwrap_or_else(|| report_dir(&a.result));
    let files = crate::report::render_from_file(&a.result, &out)?;
    print_out(&files.index.display().to_string());
    Ok(())
}

fn compare(a: &args::CompareArgs) -> anyhow::Result<ExitCode> {
    compare_impl(a)
}

fn export(a: &ExportArgs) -> anyhow::Result<()> {
    let run = RunFile::load(&a.result)?;
    let mut out: Box<dyn std::io::Write> = match &a.out {
        Some(path) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?,
        )),
        None => Box::new(std::io::stdout().lock()),
    };
    match a.format {
        ExportFormat::Csv => crate::results::write_csv(&run, &mut out)?,
        ExportFormat::Bencher | ExportFormat::GithubActionBenchmark => {
            export_ci(&run, a.format, &mut out)?;
        }
    }
    out.flush()?;
    Ok(())
}

fn serve(a: &mock_s3::cli::Cli) -> anyhow::Result<()> {
    mock_s3::cli::serve(a)
}

fn compare_impl(a: &args::CompareArgs) -> anyhow::Result<ExitCode> {
    use crate::compare::{CompareOptions, compare};
    let load = |p: &Path| RunFile::load(p);
    let (base, new) = match (load(&a.base), load(&a.new)) {
        (Ok(b), Ok(n)) => (b, n),
        (Err(e), _) | (_, Err(e)) => return Ok(usage_error(&e.to_string())),
    };
    let opts = CompareOptions {
        threshold: a.threshold / 100.0,
        strict_counters: !a.lenient_counters,
        report_only_throughput: a.report_only_throughput,
    };
    let cmp = match compare(&base, &new, &opts) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("poolsweep: {e}");
            return Ok(ExitCode::from(e.exit_code()));
        }
    };
    print_out(&cmp.to_text());
    if let Some(path) = &a.markdown {
        std::fs::write(path, cmp.to_markdown())
            .with_context(|| format!("writing {}", path.display()))?;
    }
    if let Some(dir) = &a.html {
        let files = cmp
            .write_html(dir)
            .with_context(|| format!("writing the comparison into {}", dir.display()))?;
        eprintln!("poolsweep: comparison at {}", files.index.display());
    }
    Ok(ExitCode::from(cmp.exit_code()))
}

fn export_ci(
    run: &RunFile,
    format: ExportFormat,
    out: &mut dyn std::io::Write,
) -> anyhow::Result<()> {
    let text = match format {
        ExportFormat::Bencher => crate::compare::export::bencher(run),
        _ => crate::compare::export::github_action_benchmark(run),
    };
    out.write_all(text.as_bytes())?;
    Ok(())
}
