//! Shared by every sweep: the embedded mock, a client runtime, the clients under test
//! (poolsweep's, and the real AWS SDK for JavaScript v3 when Node.js is here), the scale of the
//! run (full, `--quick`, `--test`), the points collected for poolsweep's own report, and the
//! points that failed.
//!
//! A failed point (a run that errs, a client that fails, or objects not acknowledged) does not
//! stop `cargo bench`: it is timed like any other, marked in poolsweep's report, listed after
//! the report is written, and then the process fails ([`Bench::exit_if_failed`]).
//!
//! Every client takes its credentials from the mock's container endpoint, as an application
//! on ECS or EKS does, so a client per request pays for a fetch per request as the guide says.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use criterion::{BenchmarkGroup, BenchmarkId, SamplingMode, measurement::WallTime};
use poolsweep::modes::ClientMode;
use poolsweep::sut::js_v3::{self, JsV3Client};
use poolsweep::sut::rust_sdk::RustSdkClient;
use poolsweep::sut::{CaFile, ClientUnderTest, CredentialKind, PoolsweepClient, Sdk, Service};
use poolsweep::sweep::{PointAcc, PointSpec, RunRecord, Server, SweepConfig, run_once};
use poolsweep::transport::PoolKind;
use poolsweep::workload::Pattern;

/// How much to measure: `cargo bench` (full), `-- --quick`, `-- --test`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Scale {
    /// The full sweeps (at most 15 minutes on 2 cores).
    Full,
    /// Fewer points (at most 3 minutes).
    Quick,
    /// Each benchmark once, as a smoke test (at most 2 minutes).
    Test,
}

impl Scale {
    fn from_args() -> Self {
        let args: Vec<String> = std::env::args().collect();
        if args.iter().any(|a| a == "--test") {
            Scale::Test
        } else if args.iter().any(|a| a == "--quick") {
            Scale::Quick
        } else {
            Scale::Full
        }
    }
}

/// The mock, the runtime and what the sweeps measured.
pub(crate) struct Bench {
    /// Client runtime (its own threads; the mock has its own).
    pub rt: tokio::runtime::Runtime,
    /// The embedded mock with ECDSA certificates.
    pub server: Server,
    /// Full, quick or test.
    pub scale: Scale,
    /// The real JavaScript SDK's runner, one process for the whole bench; `None` when Node.js
    /// or the runner is not available here (the bench then says so in one line).
    pub js_v3: Option<JsV3Client>,
    /// What the clients under test are told about `server`; `_ca` keeps its CA file (the
    /// runner reads it once, at start).
    service: Service,
    _ca: Option<CaFile>,
    /// Points for poolsweep's report, in the order first measured.
    points: RefCell<Vec<Kept>>,
    /// Points that failed, in the order they first failed.
    failures: RefCell<Vec<Failure>>,
}

/// One point's latest runs, for poolsweep's report.
struct Kept {
    config: SweepConfig,
    spec: PointSpec,
    /// Its last [`REPORT_RUNS`] runs, oldest first: `Ok` a measured run, `Err` why a run could
    /// not be measured at all.
    runs: VecDeque<Result<RunRecord, String>>,
}

/// A point that failed at least once.
struct Failure {
    label: String,
    /// Its runs that failed, of `runs` timed since the first failure.
    failed: u64,
    runs: u64,
    /// What went wrong the first time.
    first: String,
}

/// Where every bench client's credentials come from: the mock's container endpoint.
pub(crate) const CREDENTIALS: CredentialKind = CredentialKind::Container;

/// The profile every sweep runs against.
pub(crate) const PROFILE: &str = "s3-like";
/// The bucket.
pub(crate) const BUCKET: &str = "bench";
/// Runs per point kept for poolsweep's report: the point's last runs, which are runs
/// criterion timed for its estimate. Criterion first warms up (its warm-up runs come first
/// and are dropped here), then times `sample_size` (10) samples of at least one run each in
/// a full run; with `--quick` its estimate is its last two samples (n and 2n runs, at least
/// 3), and with `--test` it makes one run.
const REPORT_RUNS: usize = 5;

/// What the report says about its repetitions (in the result file's `meta.config`).
const REPORT_RUNS_NOTE: &str = "each point keeps its last 5 runs, which criterion timed for \
    its estimate (its warm-up runs are dropped); fewer when criterion timed fewer (--quick: \
    its last two samples; --test: its one run)";

impl Bench {
    /// Starts the mock (`s3-like`, discard storage) and a client runtime.
    pub(crate) fn start() -> Self {
        mock_s3::tls::install_crypto_provider();
        let _ = rlimit::increase_nofile_limit(u64::MAX);
        let mock = mock_s3::MockS3::builder()
            .storage(mock_s3::StorageMode::Discard)
            .profile(mock_s3::Profile::s3_like())
            .worker_threads(1)
            .start()
            .expect("the embedded mock starts");
        mock.create_bucket(BUCKET).expect("bucket");
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("client runtime");
        let server = Server::Embedded(mock);
        let (service, ca) = server.service(CREDENTIALS).expect("the mock's service");
        Self {
            rt,
            server,
            scale: Scale::from_args(),
            js_v3: js_v3_client(),
            service,
            _ca: ca,
            points: RefCell::new(Vec::new()),
            failures: RefCell::new(Vec::new()),
        }
    }

    /// The SDKs the main sweep measures: poolsweep's client, and js-v3 when it can run.
    pub(crate) fn sdks(&self) -> Vec<Sdk> {
        let mut sdks = vec![Sdk::Poolsweep];
        if self.js_v3.is_some() {
            sdks.push(Sdk::JsV3);
        }
        sdks
    }

    /// A sweep config for `batch` with `objects` per iteration.
    pub(crate) fn config(&self, objects: u64) -> SweepConfig {
        SweepConfig {
            objects,
            repetitions: 1,
            startup_batches: 2,
            pattern: Pattern::Batch,
            profiles: vec![PROFILE.to_owned()],
            bucket: BUCKET.to_owned(),
            time_budget: Duration::from_secs(600),
            sizes: poolsweep::workload::SizeDist::Fixed { bytes: 16 * 1024 },
            credentials: CREDENTIALS,
            ..SweepConfig::default()
        }
    }

    /// A point of the grid, measured with poolsweep's client.
    pub(crate) fn spec(client: ClientMode, batch: u32, max_sockets: Option<u32>) -> PointSpec {
        Self::sdk_spec(Sdk::Poolsweep, client, batch, max_sockets)
    }

    /// A point of the grid, measured with `sdk`.
    pub(crate) fn sdk_spec(
        sdk: Sdk,
        client: ClientMode,
        batch: u32,
        max_sockets: Option<u32>,
    ) -> PointSpec {
        PointSpec {
            sdk,
            client,
            pool: PoolKind::Agent,
            batch,
            max_sockets,
            profile: PROFILE.to_owned(),
        }
    }

    /// Times `iters` whole workloads of `spec` against `server`, checking that every object
    /// was acknowledged; when `report` is set, the runs are kept for poolsweep's report. A run
    /// that fails is timed all the same (until its error, if it ends in one) and the point is
    /// noted as failed.
    pub(crate) fn time(
        &self,
        server: &Server,
        config: &SweepConfig,
        spec: &PointSpec,
        iters: u64,
        report: bool,
    ) -> Duration {
        self.time_from(server, config, spec, 0, iters, report)
    }

    /// [`Bench::time`] with the runs' seeds counted from `first`.
    fn time_from(
        &self,
        server: &Server,
        config: &SweepConfig,
        spec: &PointSpec,
        first: u64,
        iters: u64,
        report: bool,
    ) -> Duration {
        // The service as clients under test are told it; `_ca` keeps another server's CA file.
        let (other, _ca);
        let service = if std::ptr::eq(server, &self.server) {
            &self.service
        } else {
            (other, _ca) = server.service(config.credentials).expect("the service");
            &other
        };
        let mut total = Duration::ZERO;
        for i in first..first + iters {
            let seed = config.seed ^ i;
            let started = Instant::now();
            let result = match spec.sdk {
                Sdk::Poolsweep => server
                    .client_config(config.credentials)
                    .map(PoolsweepClient::new)
                    .and_then(|sut| self.run_once(config, server, service, &sut, spec, seed)),
                Sdk::JsV3 => match self.js_v3.as_ref() {
                    Some(sut) => self.run_once(config, server, service, sut, spec, seed),
                    None => Err(anyhow::anyhow!("js-v3 cannot run here")),
                },
                Sdk::RustSdk => self.run_once(config, server, service, &RustSdkClient, spec, seed),
            };
            let result = match result {
                Ok(record) => {
                    total += record.repetition.elapsed;
                    let acknowledged = record.repetition.succeeded + record.startup.succeeded;
                    // Failed requests are the EMFILE scenario's data, not a failed point.
                    let expected = config.scenario.as_deref()
                        == Some(crate::too_many::emfile_scenario().as_str());
                    let failure = record.failure.clone().or_else(|| {
                        (acknowledged != config.objects && !expected).then(|| {
                            format!(
                                "{acknowledged} of {} objects acknowledged ({:?})",
                                config.objects, record.repetition.errors
                            )
                        })
                    });
                    self.note_run(spec, failure);
                    Ok(record)
                }
                Err(e) => {
                    total += started.elapsed();
                    let why = format!("{e:#}");
                    self.note_run(spec, Some(why.clone()));
                    Err(why)
                }
            };
            if report {
                self.keep(config, spec, result);
            }
        }
        total
    }

    /// One run of `spec` on `sut`.
    fn run_once<C: ClientUnderTest>(
        &self,
        config: &SweepConfig,
        server: &Server,
        service: &Service,
        sut: &C,
        spec: &PointSpec,
        seed: u64,
    ) -> anyhow::Result<RunRecord> {
        self.rt.block_on(run_once(
            config,
            server,
            service,
            sut,
            spec,
            seed,
            seed,
            &mut |_| {},
        ))
    }

    /// Keeps `run` as one of the point's last [`REPORT_RUNS`] runs.
    fn keep(&self, config: &SweepConfig, spec: &PointSpec, run: Result<RunRecord, String>) {
        let mut points = self.points.borrow_mut();
        let i = match points
            .iter()
            .position(|k| &k.config == config && &k.spec == spec)
        {
            Some(i) => i,
            None => {
                points.push(Kept {
                    config: config.clone(),
                    spec: spec.clone(),
                    runs: VecDeque::with_capacity(REPORT_RUNS),
                });
                points.len() - 1
            }
        };
        let runs = &mut points[i].runs;
        if runs.len() == REPORT_RUNS {
            runs.pop_front();
        }
        runs.push_back(run);
    }

    /// Counts one run of `spec`, failed with `failure` if it is set.
    fn note_run(&self, spec: &PointSpec, failure: Option<String>) {
        let label = spec.label();
        let mut failures = self.failures.borrow_mut();
        let known = failures.iter_mut().find(|f| f.label == label);
        match (known, failure) {
            (Some(f), failure) => {
                f.runs += 1;
                f.failed += u64::from(failure.is_some());
            }
            (None, Some(first)) => {
                eprintln!("\npoolsweep: point {label} failed: {first}");
                failures.push(Failure {
                    label,
                    failed: 1,
                    runs: 1,
                    first,
                });
            }
            (None, None) => {}
        }
    }

    /// After the reports are written: lists the points that failed and exits with status 1
    /// if there are any.
    pub(crate) fn exit_if_failed(&self) {
        let failures = self.failures.borrow();
        if failures.is_empty() {
            return;
        }
        eprintln!("\npoolsweep: {} point(s) failed:", failures.len());
        for f in failures.iter() {
            eprintln!(
                "  {}: {} of {} runs failed since its first failure; first: {}",
                f.label, f.failed, f.runs, f.first
            );
        }
        std::process::exit(1);
    }

    /// Runs `spec` once against `server` outside criterion (seed `seed`), kept for
    /// poolsweep's report like a timed run; returns the steady window's time.
    pub(crate) fn time_run(
        &self,
        server: &Server,
        config: &SweepConfig,
        spec: &PointSpec,
        seed: u64,
    ) -> Duration {
        self.time_from(server, config, spec, seed << 16, 1, true)
    }

    /// Benchmarks `spec` in `group` under `id`.
    pub(crate) fn bench(
        &self,
        group: &mut BenchmarkGroup<'_, WallTime>,
        id: BenchmarkId,
        server: &Server,
        config: &SweepConfig,
        spec: &PointSpec,
        report: bool,
    ) {
        group.bench_function(id, |b| {
            b.iter_custom(|iters| self.time(server, config, spec, iters, report));
        });
    }

    /// A group tuned for whole workloads: flat sampling, 10 samples.
    pub(crate) fn group<'a>(
        &self,
        c: &'a mut criterion::Criterion,
        name: &str,
    ) -> BenchmarkGroup<'a, WallTime> {
        let mut g = c.benchmark_group(name);
        g.sampling_mode(SamplingMode::Flat)
            .sample_size(10)
            .warm_up_time(Duration::from_millis(300))
            .measurement_time(Duration::from_secs(2));
        g
    }

    /// Where criterion writes (`$CRITERION_HOME`, else `$CARGO_TARGET_DIR/criterion`, else
    /// `target/criterion`).
    pub(crate) fn criterion_home() -> PathBuf {
        if let Some(h) = std::env::var_os("CRITERION_HOME") {
            return PathBuf::from(h);
        }
        let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(
            || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target"),
            PathBuf::from,
        );
        target.join("criterion")
    }

    /// Writes the result file and poolsweep's report next to criterion's:
    /// `<criterion home>/poolsweep/{run.json,index.html,*.svg}`.
    pub(crate) fn write_report(&self) {
        let mut points = self.points.borrow_mut();
        let Some(first) = points.first() else {
            return;
        };
        let config = first.config.clone();
        let dir = Self::criterion_home().join("poolsweep");
        if let Err(e) = std::fs::create_dir_all(&dir) {
            eprintln!("poolsweep report: creating {}: {e}", dir.display());
            return;
        }
        let profile = serde_json::to_value(mock_s3::Profile::s3_like()).unwrap_or_default();
        let mut sdks = std::collections::BTreeMap::new();
        sdks.insert(
            Sdk::Poolsweep.to_string(),
            format!("poolsweep {}", env!("CARGO_PKG_VERSION")),
        );
        if let Some(Ok(v)) = self.js_v3.as_ref().map(JsV3Client::describe) {
            sdks.insert(Sdk::JsV3.to_string(), v);
        }
        let config = SweepConfig {
            sdks: self.sdks(),
            ..config.clone()
        };
        let mut config = serde_json::to_value(&config).unwrap_or_default();
        if let Some(config) = config.as_object_mut() {
            config.insert("repetitions".to_owned(), REPORT_RUNS_NOTE.into());
        }
        let meta = poolsweep::results::Meta::collect(
            config,
            serde_json::json!({ PROFILE: profile }),
            std::env::args().collect(),
        )
        .with_sdks(sdks);
        let mut run = poolsweep::results::RunFile::new(meta);
        run.points = points
            .iter_mut()
            .map(|k| {
                let mut acc = PointAcc::new(k.spec.clone());
                for run in k.runs.drain(..) {
                    match run {
                        Ok(record) => acc.add(record),
                        Err(why) => acc.fail(why),
                    }
                }
                acc.point(&k.config)
            })
            .collect();
        run.recommendations = poolsweep::analysis::recommend(&run.points);
        let json = dir.join("run.json");
        if let Err(e) = std::fs::write(&json, run.to_json_pretty()) {
            eprintln!("poolsweep report: writing {}: {e}", json.display());
            return;
        }
        let criterion_index = Self::criterion_home().join("report/index.html");
        match poolsweep::report::render(&run, &dir, Some(&criterion_index)) {
            Ok(files) => {
                println!("\npoolsweep report: {}", files.index.display());
                println!("repetitions: {REPORT_RUNS_NOTE}");
            }
            Err(e) => eprintln!("poolsweep report: {e}"),
        }
    }
}

/// The js-v3 runner, installed if needed; `None`, said in one line, when it cannot run here.
fn js_v3_client() -> Option<JsV3Client> {
    if let Err(e) = js_v3::node_available() {
        eprintln!("cargo bench: js-v3 skipped (poolsweep's client only): {e}");
        return None;
    }
    let client = JsV3Client::install(
        &js_v3::default_dir(),
        &js_v3::Toolchain::default(),
        &mut |line| eprintln!("cargo bench: {line}"),
    );
    match client.describe() {
        Ok(_) => Some(client),
        Err(e) => {
            eprintln!("cargo bench: js-v3 skipped (poolsweep's client only): {e}");
            None
        }
    }
}
