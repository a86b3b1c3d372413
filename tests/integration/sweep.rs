//! The sweep engine and the `poolsweep` binary: pattern shapes counted at the mock, totals
//! that add up under injected faults, result files that survive Ctrl-C and a kill, and flags
//! rejected before any work starts.
//!
//! Nothing here depends on how fast the machine is: the mock's latencies are what the
//! patterns are measured against, so only bounds that hold at any speed are asserted at the
//! server (the exact shapes are the driver's, tested in paused time in `workload/tests.rs`),
//! and waits for a child sweep are bounded by the sweep's own finite grid, not by a clock.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use poolsweep::modes::ClientMode;
use poolsweep::results::{Meta, ResultWriter, RunFile};
use poolsweep::sut::{
    ClientUnderTest, ErrorClass, OpReport, PoolsweepClient, Request, Run, RunReport, RunSettings,
    Sdk,
};
use poolsweep::sweep::{Server, SweepConfig, run_sweep};
use poolsweep::transport::PoolKind;
use poolsweep::workload::Pattern;

use crate::util::HANG_GUARD;

pub(crate) fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("poolsweep-it-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn small(pattern: Pattern, batch: u32, objects: u64) -> SweepConfig {
    SweepConfig {
        max_sockets: vec![None],
        batches: vec![batch],
        clients: vec![ClientMode::Shared],
        pools: vec![PoolKind::Agent],
        profiles: vec!["ideal".to_owned()],
        pattern,
        objects,
        repetitions: 1,
        // Not what these tests measure: each run is bounded by its object count, and a budget
        // a busy machine could reach would cut a run short and fail a count.
        time_budget: Duration::from_secs(3600),
        ..SweepConfig::default()
    }
}

/// Runs `config` on a fresh embedded mock whose responses take `delay_ms`; returns the run
/// and the server's peak of requests in flight.
async fn sweep_on_mock(
    name: &str,
    config: &SweepConfig,
    profile: mock_s3::Profile,
) -> (RunFile, u64) {
    let mock = mock_s3::MockS3::builder()
        .storage(mock_s3::StorageMode::Discard)
        .start()
        .unwrap();
    let dir = temp_dir(name);
    let mut writer = ResultWriter::create(
        dir.join("run.json"),
        Meta::collect(serde_json::Value::Null, serde_json::Value::Null, Vec::new()),
    )
    .unwrap();
    // The sweep sets the preset named in the config; override it with `profile` by naming it
    // as the preset and switching the mock's profile after the sweep sets it.
    let server = Server::Embedded(mock);
    let stop = AtomicBool::new(false);
    let Server::Embedded(mock) = &server else {
        unreachable!()
    };
    let mut last_peak = 0;
    let profile_name = profile.name.clone();
    let sut = PoolsweepClient::new(server.client_config(config.credentials).unwrap());
    let summary = run_sweep(config, &server, &sut, &mut writer, &stop, |e| {
        if let poolsweep::sweep::Event::RunStarted { .. } = e {
            // Replace the preset with the test's profile before the run starts (same name,
            // so the run keeps it).
            mock.set_profile(profile.clone()).unwrap();
        }
        last_peak = mock.metrics().peak_in_flight.max(last_peak);
    })
    .await
    .unwrap();
    assert_eq!(summary.runs, summary.total);
    let peak = mock.metrics().peak_in_flight.max(last_peak);
    assert_eq!(mock.profile().name, profile_name);
    (writer.finish(), peak)
}

fn slow_ideal(delay_ms: f64) -> mock_s3::Profile {
    let mut p = mock_s3::Profile::ideal();
    p.write_latency.fixed_ms = delay_ms;
    p.read_latency.fixed_ms = delay_ms;
    p
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn patterns_have_their_shape_at_the_server() {
    // The server never sees more in flight than the pattern lets out, whatever the speed;
    // that it sees exactly that many depends on how the mock's latency compares with how
    // fast a busy machine issues requests, so it is not asserted here.
    // batch: never more than the batch.
    let (run, peak) =
        sweep_on_mock("batch", &small(Pattern::Batch, 8, 64), slow_ideal(100.0)).await;
    assert_eq!(run.points[0].succeeded, 64);
    assert!((1..=8).contains(&peak), "batch of 8: peak {peak}");
    assert!(run.points[0].sockets_opened <= 8);
    // window: never more than the window.
    let (run, peak) =
        sweep_on_mock("window", &small(Pattern::Window, 5, 60), slow_ideal(100.0)).await;
    assert_eq!(run.points[0].succeeded, 60);
    assert!((1..=5).contains(&peak), "window of 5: peak {peak}");
    assert!(run.points[0].sockets_opened <= 5);
    // burst: everything at once, on a socket each at most.
    let (run, peak) =
        sweep_on_mock("burst", &small(Pattern::Burst, 1, 30), slow_ideal(100.0)).await;
    assert_eq!(run.points[0].succeeded, 30);
    assert!((1..=30).contains(&peak), "burst of 30: peak {peak}");
    assert!(run.points[0].sockets_opened <= 30);
    // maxSockets caps what reaches the server, and the sockets opened, whatever the batch.
    let mut capped = small(Pattern::Batch, 20, 60);
    capped.max_sockets = vec![Some(4)];
    let (run, peak) = sweep_on_mock("capped", &capped, slow_ideal(100.0)).await;
    assert_eq!(run.points[0].succeeded, 60);
    assert!((1..=4).contains(&peak), "maxSockets 4: peak {peak}");
    assert!((1..=4).contains(&run.points[0].sockets_opened));
    assert!(run.points[0].peak_open_sockets <= 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn totals_add_up_under_injected_faults() {
    let mut p = mock_s3::Profile::ideal();
    p.seed = 3;
    p.faults.internal_error = 0.2;
    p.faults.reset = 0.05;
    let mut config = small(Pattern::Window, 8, 300);
    config.repetitions = 2;
    let (run, _) = sweep_on_mock("faults", &config, p).await;
    let point = &run.points[0];
    assert_eq!(point.repetitions, 2);
    // Every request is a success or a counted error, and the retries were counted.
    assert_eq!(point.succeeded + point.errors.total, 600);
    assert!(point.retries.total > 0, "{:?}", point.retries);
    let faults = &point.server["faults"];
    let server_faults =
        faults["internal_error"].as_u64().unwrap() + faults["reset"].as_u64().unwrap();
    // The client retried or gave up on every fault the server injected.
    assert_eq!(
        server_faults,
        point.retries.total + point.errors.total,
        "{point:?}"
    );
}

/// A client under test that is not poolsweep's own: it answers at once without a network,
/// fails every tenth request with SlowDown after three retries (two throttled, one of a class
/// of its own), and counts one socket per call.
#[derive(Default)]
struct Fake {
    started: std::sync::Mutex<Vec<RunSettings>>,
}

#[derive(Default)]
struct FakeRun {
    calls: AtomicU64,
    /// Fails at `finish`, as a runner that died at the end of a run.
    dies_at_finish: bool,
}

/// For sweeps over several SDKs: js-v3 cannot start (its runner is missing), rust-sdk's runs
/// die at `finish`; poolsweep's run.
impl ClientUnderTest for Fake {
    type Run = FakeRun;

    async fn start(&self, settings: &RunSettings) -> Result<FakeRun, poolsweep::sut::Error> {
        self.started.lock().unwrap().push(settings.clone());
        match settings.sdk {
            Sdk::JsV3 => Err(poolsweep::sut::Error::Client {
                client: "js-v3",
                message: "js-v3 needs Node.js 20 or newer".to_owned(),
            }),
            sdk => Ok(FakeRun {
                dies_at_finish: sdk == Sdk::RustSdk,
                ..FakeRun::default()
            }),
        }
    }
}

impl Run for FakeRun {
    async fn call(&self, request: Request) -> OpReport {
        self.calls.fetch_add(1, Ordering::Relaxed);
        if request.index % 10 == 9 {
            OpReport {
                error: Some(ErrorClass::SlowDown),
                retries: [2, 0, 0, 1],
                attempts: 4,
                ..OpReport::default()
            }
        } else {
            OpReport {
                bytes: request.body.len() as u64,
                attempts: 1,
                ..OpReport::default()
            }
        }
    }

    async fn finish(self) -> Result<RunReport, poolsweep::sut::Error> {
        if self.dies_at_finish {
            return Err(poolsweep::sut::Error::Client {
                client: "rust-sdk",
                message: "the runner exited".to_owned(),
            });
        }
        let calls = self.calls.load(Ordering::Relaxed);
        Ok(RunReport {
            ops: calls,
            clients: 1,
            sockets_opened: calls,
            peak_open: 1,
            tls_full: Some(1),
            tls_resumed: Some(calls - 1),
            connect_errors: 0,
            cpu: None,
        })
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_client_under_test_is_measured_through_the_same_seam() {
    let mock = mock_s3::MockS3::builder()
        .storage(mock_s3::StorageMode::Discard)
        .start()
        .unwrap();
    let server = Server::Embedded(mock);
    let mut config = small(Pattern::Batch, 10, 50);
    config.clients = vec![ClientMode::Shared, ClientMode::PerRequest];
    config.max_sockets = vec![Some(2), None];
    config.repetitions = 2;
    config.startup_batches = 1;
    let dir = temp_dir("fake-client");
    let mut writer = ResultWriter::create(
        dir.join("run.json"),
        Meta::collect(serde_json::Value::Null, serde_json::Value::Null, Vec::new()),
    )
    .unwrap();
    let fake = Fake::default();
    let summary = run_sweep(
        &config,
        &server,
        &fake,
        &mut writer,
        &AtomicBool::new(false),
        |_| {},
    )
    .await
    .unwrap();
    assert_eq!(summary.runs, 8);
    let run = writer.finish();
    assert_eq!(run.points.len(), 4);
    for p in &run.points {
        // Two runs of 50 requests (10 of start-up, 40 steady), start-ups counted in the totals.
        assert_eq!(
            (p.repetitions, p.succeeded, p.errors.slowdown),
            (2, 90, 10),
            "{p:?}"
        );
        // Retries as the client classed them, `other` included.
        assert_eq!(
            (p.retries.throttling, p.retries.other, p.retries.total),
            (20, 10, 30)
        );
        assert_eq!((p.sockets_opened, p.tls_full, p.tls_resumed), (100, 2, 98));
        assert_eq!(p.peak_open_sockets, 1);
    }
    // Each run was started once, with its point's settings: no throwaway warm-up client (the
    // measured client's first batch is its start-up).
    let started = fake.started.lock().unwrap();
    assert_eq!(started.len(), 8);
    for measured in started.iter() {
        assert!(config.clients.contains(&measured.mode));
        assert!(config.max_sockets.contains(&measured.max_sockets));
        assert_eq!(measured.keep_alive, config.keep_alive);
        assert_eq!(measured.bucket, config.bucket);
        // Where the service is: the mock's endpoint and keys, its CA in a file.
        let Server::Embedded(mock) = &server else {
            unreachable!()
        };
        assert_eq!(measured.endpoint, mock.endpoint());
        assert_eq!(measured.credentials.name(), "static");
        assert!(measured.ca_file.is_some());
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runs_that_fail_are_data_and_the_sweep_goes_on() {
    let mock = mock_s3::MockS3::builder()
        .storage(mock_s3::StorageMode::Discard)
        .start()
        .unwrap();
    let server = Server::Embedded(mock);
    let mut config = small(Pattern::Batch, 10, 20);
    config.sdks = vec![Sdk::Poolsweep, Sdk::JsV3, Sdk::RustSdk];
    config.clients = vec![ClientMode::Shared];
    config.max_sockets = vec![Some(2), Some(10)];
    config.repetitions = 2;
    let dir = temp_dir("failing-runs");
    let mut writer = ResultWriter::create(
        dir.join("run.json"),
        Meta::collect(serde_json::Value::Null, serde_json::Value::Null, Vec::new()),
    )
    .unwrap();
    let mut failed_events = 0;
    let summary = run_sweep(
        &config,
        &server,
        &Fake::default(),
        &mut writer,
        &AtomicBool::new(false),
        |e| failed_events += u64::from(matches!(e, poolsweep::sweep::Event::RunFailed { .. })),
    )
    .await
    .unwrap();
    assert_eq!(
        (summary.runs, summary.total),
        (12, 12),
        "every run was tried"
    );
    assert_eq!(summary.failed_runs, 8, "js-v3's and rust-sdk's");
    assert_eq!(failed_events, 8);
    let run = RunFile::load(dir.join("run.json")).unwrap();
    assert_eq!(run.points.len(), 6);
    for p in &run.points {
        match p.sdk {
            Sdk::Poolsweep => {
                assert_eq!((p.failure.as_deref(), p.repetitions), (None, 2));
            }
            Sdk::JsV3 => {
                assert_eq!(
                    p.failure.as_deref(),
                    Some("2 runs failed: js-v3: js-v3 needs Node.js 20 or newer")
                );
                assert_eq!((p.repetitions, p.requests), (0, 0), "nothing was measured");
                assert!(p.failed());
                assert!(p.failure_summary().contains("Node.js"));
            }
            Sdk::RustSdk => {
                assert!(p.failure.as_deref().unwrap().contains("the runner exited"));
                // Its requests were counted all the same.
                assert_eq!((p.repetitions, p.succeeded + p.errors.total), (2, 40));
            }
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

pub(crate) fn poolsweep() -> Command {
    Command::new(env!("CARGO_BIN_EXE_poolsweep"))
}

/// Runs in the result file at `path` (every repetition of every point), if it loads.
fn runs_in(path: &Path) -> Option<u32> {
    let run = RunFile::load(path).ok()?;
    Some(run.points.iter().map(|p| p.repetitions).sum())
}

/// Waits until the result file at `path` holds at least `n` points. Bounded by the child's
/// own finite grid, not by a clock: if the child ends first, the test fails (and only a hang,
/// past [`HANG_GUARD`], fails it otherwise).
pub(crate) fn wait_for_points(child: &mut Child, path: &Path, n: usize) -> RunFile {
    let started = Instant::now();
    loop {
        if let Ok(run) = RunFile::load(path)
            && run.points.len() >= n
        {
            return run;
        }
        if let Some(status) = child.try_wait().unwrap() {
            panic!(
                "the sweep ended ({status}) before {n} points were in {}",
                path.display()
            );
        }
        if started.elapsed() > HANG_GUARD {
            let _ = child.kill();
            panic!("hung: no {n} points in {}", path.display());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A sweep with many slow runs, so that it is still running when the test interrupts it.
pub(crate) fn long_sweep(out: &Path) -> Command {
    let mut cmd = poolsweep();
    cmd.args([
        "sweep",
        "--no-progress",
        "--profile",
        "s3-like",
        "--max-sockets",
        "1,2,3,4,5,6,7,8",
        "--batch",
        "8",
        "--clients",
        "shared",
        "--objects",
        "40",
        "--repetitions",
        "3",
        "--startup-batches",
        "0",
        "--out",
    ])
    .arg(out)
    .stdout(Stdio::null())
    .stderr(Stdio::null());
    cmd
}

#[test]
fn a_killed_sweep_leaves_a_valid_file_with_every_finished_point() {
    let dir = temp_dir("kill");
    let out = dir.join("run.json");
    let mut child = long_sweep(&out).spawn().unwrap();
    let before = wait_for_points(&mut child, &out, 2);
    child.kill().unwrap();
    child.wait().unwrap();
    let after = RunFile::load(&out).expect("the file is valid JSON after a kill");
    assert!(after.points.len() >= before.points.len());
    assert!(
        after
            .points
            .iter()
            .all(|p| p.repetitions >= 1 && p.succeeded > 0)
    );
    // And it validates against the committed schema.
    let schema: serde_json::Value =
        serde_json::from_str(include_str!("../../results/schema.json")).unwrap();
    let mut schemas = boon::Schemas::new();
    let mut compiler = boon::Compiler::new();
    compiler.add_resource("schema.json", schema).unwrap();
    let id = compiler.compile("schema.json", &mut schemas).unwrap();
    let value: serde_json::Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    schemas.validate(&value, id).unwrap();
}

#[test]
fn ctrl_c_stops_after_the_current_run_and_keeps_it() {
    let dir = temp_dir("sigint");
    let out = dir.join("run.json");
    let mut child = long_sweep(&out).spawn().unwrap();
    wait_for_points(&mut child, &out, 1);
    // A run may end between this read and the signal, and the run under way finishes.
    let before = runs_in(&out).unwrap();
    let pid = rustix::process::Pid::from_raw(child.id() as i32).unwrap();
    rustix::process::kill_process(pid, rustix::process::Signal::INT).unwrap();
    // Bounded by runs, not by a clock: more than those two runs means it kept going.
    let signalled = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        let runs = runs_in(&out).unwrap_or(before);
        if runs > before + 2 {
            let _ = child.kill();
            panic!("the sweep kept running after Ctrl-C: {before} runs, then {runs}");
        }
        if signalled.elapsed() > HANG_GUARD {
            let _ = child.kill();
            panic!("hung after Ctrl-C: {before} runs, then {runs}");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(status.code(), Some(130));
    let run = RunFile::load(&out).unwrap();
    assert!(!run.points.is_empty());
    // Interrupted before the grid was done: fewer runs than 8 points × 3 repetitions, and at
    // most the run under way (and one that ended as the signal was sent) after it.
    let runs: u32 = run.points.iter().map(|p| p.repetitions).sum();
    assert!(
        runs < 24 && runs <= before + 2,
        "{before} runs, then {runs}"
    );
}

#[test]
fn invalid_flags_are_rejected_before_any_work() {
    let dir = temp_dir("flags");
    for (args, needle) in [
        (&["--max-sockets", "0"][..], "inf"),
        (&["--max-sockets", "ten"][..], "not a positive integer"),
        (&["--pattern", "rate"][..], "--rate"),
        (&["--batch", "0"][..], "at least 1"),
        (&["--profile", "fast"][..], "presets"),
        (&["--get-fraction", "0.5"][..], "--op mixed"),
        (&["--access-key", "x"][..], "--endpoint"),
        (&["--object-size", "big"][..], "size"),
        (
            &["--ttfb-median-ms", "9", "--ttfb-p99-ms", "5"][..],
            "below --ttfb-median-ms",
        ),
        (&["--ttfb-p99-ms", "6"][..], "below median"),
        (
            &["--endpoint", "https://127.0.0.1:9", "--ttfb-median-ms", "5"][..],
            "not --endpoint",
        ),
    ] {
        let out = dir.join("never.json");
        let o = poolsweep()
            .args(["sweep", "--out"])
            .arg(&out)
            .args(args)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(needle), "{args:?}: {stderr}");
        assert!(!out.exists(), "{args:?} must not start work");
    }
}

#[test]
fn sweep_then_report_then_export() {
    let dir = temp_dir("e2e");
    let out = dir.join("run.json");
    let o = poolsweep()
        .args([
            "sweep",
            "--no-progress",
            "--profile",
            "ideal",
            "--max-sockets",
            "2,inf",
            "--batch",
            "4",
            "--clients",
            "shared,per-request,shared-handler",
            "--pools",
            "agent,hyper-util",
            "--objects",
            "16",
            "--repetitions",
            "1",
            "--startup-batches",
            "2",
            "--out",
        ])
        .arg(&out)
        .arg("--csv")
        .arg(dir.join("run.csv"))
        .arg("--report")
        .arg(dir.join("report"))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let run = RunFile::load(&out).unwrap();
    assert_eq!(run.points.len(), 2 * 3 * 2);
    assert!(run.points.iter().all(|p| p.succeeded == 16 && !p.failed()));
    assert!(!run.recommendations.is_empty());
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        stdout.contains("client") && stdout.contains("batch"),
        "{stdout}"
    );
    assert!(dir.join("report/index.html").exists());
    let csv = std::fs::read_to_string(dir.join("run.csv")).unwrap();
    assert_eq!(csv.lines().count(), 1 + 12);

    let o = poolsweep()
        .args(["report"])
        .arg(&out)
        .arg("--out")
        .arg(dir.join("again"))
        .output()
        .unwrap();
    assert!(o.status.success());
    assert!(dir.join("again/throughput.svg").exists());
    for format in ["bencher", "github-action-benchmark"] {
        let o = poolsweep()
            .args(["export", "--format", format])
            .arg(&out)
            .output()
            .unwrap();
        assert!(o.status.success());
        let _: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    }
    let o = poolsweep()
        .args(["compare"])
        .arg(&out)
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
}

#[test]
fn sweeps_an_external_endpoint_with_its_ca_and_keys() {
    // Any S3-compatible endpoint: here a standalone mock, reached only through the flags a
    // MinIO or S3 user would give.
    let server = mock_s3::MockS3::builder().start().unwrap();
    let dir = temp_dir("external");
    let ca = dir.join("ca.pem");
    std::fs::write(&ca, server.ca_pem()).unwrap();
    let out = dir.join("run.json");
    let o = poolsweep()
        .args([
            "sweep",
            "--no-progress",
            "--endpoint",
            server.endpoint(),
            "--ca",
        ])
        .arg(&ca)
        .args([
            "--access-key",
            server.access_key(),
            "--secret-key",
            server.secret_key(),
            "--bucket",
            "external-bucket",
            "--max-sockets",
            "4",
            "--batch",
            "8",
            "--clients",
            "shared",
            "--objects",
            "24",
            "--repetitions",
            "1",
            "--startup-batches",
            "0",
            "--out",
        ])
        .arg(&out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let run = RunFile::load(&out).unwrap();
    assert_eq!(run.points[0].profile, "external");
    assert_eq!(run.points[0].succeeded, 24);
    assert_eq!(
        server
            .metrics()
            .count(mock_s3::ops::Operation::PutObject, 200),
        24
    );
    // The bucket was created through the S3 API.
    assert_eq!(
        server
            .metrics()
            .count(mock_s3::ops::Operation::CreateBucket, 200),
        1
    );
}

/// A throttled profile whose SlowDown count does not depend on timing: 20 writes of burst,
/// refilled one per 100 s (longer than the test), so the count depends only on how many
/// requests arrive, not on how fast.
fn throttled() -> mock_s3::Profile {
    let mut p = mock_s3::Profile::ideal();
    p.rate_limit = Some(mock_s3::profile::RateLimit {
        read_per_s: 1000.0,
        write_per_s: 0.01,
        prefix_depth: 1,
        burst_s: 2000.0,
        ramp: None,
    });
    p.write_latency.median_ms = 1.0;
    p.write_latency.p99_ms = 5.0;
    p
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_run_starts_from_a_clean_server_so_slowdowns_repeat() {
    // Two repetitions in one sweep, and a second identical sweep: the mock is reset before
    // every run, so each run gets the whole burst budget again and the same seeded draws.
    let mut config = small(Pattern::Batch, 10, 60);
    config.max_sockets = vec![Some(10)];
    config.repetitions = 2;
    let (a, _) = sweep_on_mock("throttled-a", &config, throttled()).await;
    let (b, _) = sweep_on_mock("throttled-b", &config, throttled()).await;
    for run in [&a, &b] {
        let p = &run.points[0];
        // Per run: 20 admitted, 40 refused three times (two retries each), so 40 failed.
        assert_eq!(p.server["slowdown"], 2 * 120, "{p:?}");
        assert_eq!(p.retries.throttling, 2 * 80, "{p:?}");
        assert_eq!((p.errors.slowdown, p.succeeded), (2 * 40, 2 * 20), "{p:?}");
    }
    let counts = |r: &RunFile| {
        let p = &r.points[0];
        (p.retries, p.errors, p.server["slowdown"].clone())
    };
    assert_eq!(counts(&a), counts(&b));
}

#[test]
fn nofile_limits_the_client_alone_the_mock_runs_in_a_process_of_its_own() {
    // 48 descriptors for the client's process: 4 sockets fit, 64 do not. The mock's 64
    // accepted sockets are in its own process, under its own limit, so every EMFILE is the
    // client's (and counted as such), and the mock answers every request it receives.
    let dir = temp_dir("nofile-child");
    let out = dir.join("run.json");
    let o = poolsweep()
        .args([
            "sweep",
            "--no-progress",
            "--profile",
            "ideal",
            "--max-sockets",
            "4,inf",
            "--batch",
            "64",
            "--clients",
            "shared",
            "--objects",
            "192",
            "--repetitions",
            "1",
            "--nofile",
            "48",
            "--out",
        ])
        .arg(&out)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    // Failed requests are data: the sweep itself succeeds.
    assert!(o.status.success(), "{stderr}");
    let run = RunFile::load(&out).unwrap();
    assert_eq!(run.meta.rlimit_nofile.as_ref().unwrap().soft, Some(48));
    let at = |ms: Option<u32>| run.points.iter().find(|p| p.max_sockets == ms).unwrap();
    let four = at(Some(4));
    assert_eq!((four.succeeded, four.errors.total), (192, 0), "{four:?}");
    assert_eq!(four.sockets_opened, 4, "{four:?}");
    // The counters and CPU come from the child's mock as from an embedded one.
    assert_eq!(four.server["connections_accepted"], 4, "{four:?}");
    assert!(four.cpu_ns_per_request.server_ns.is_some(), "{four:?}");
    let inf = at(None);
    assert!(inf.errors.emfile > 0, "{inf:?}");
    assert_eq!(inf.errors.emfile, inf.errors.total, "only EMFILE: {inf:?}");
    assert_eq!(
        inf.server["requests"].as_u64(),
        Some(inf.succeeded),
        "the mock answered every request that reached it: {inf:?}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
