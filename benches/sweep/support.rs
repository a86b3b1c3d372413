//! Shared by every sweep: the embedded mock, a client runtime, the clients under test
//! (poolsweep's, and the real AWS SDK for JavaScript v3 when Node.js is here), the scale of the
//! run (full, `--quick`, `--test`), the points collected for poolsweep's own report, and the
//! points that failed.
//!
//! Points are measured in shuffled rounds of [`repetitions`] runs each ([`Bench::measure`]),
//! every run from a clean mock, as `poolsweep sweep` does; criterion's sampling (at least 11
//! runs per point) would not fit workloads whose steady window holds 20 batches into the 15
//! minutes of `cargo bench`.
//!
//! A point is **failed** when one of its runs could not be measured: its client could not run
//! it (runner missing, crashed, hung), or objects were not acknowledged in a scenario that does
//! not measure failed requests. A failed point does not stop `cargo bench`: it is marked in
//! poolsweep's report, listed on stderr after the report is written, and then the process exits
//! with status 1 ([`Bench::exit_if_failed`]). Failed requests that a scenario measures (EMFILE
//! past a descriptor limit, SlowDown once retries run out) are that scenario's finding: its
//! points are measured points with their errors, not failed ones.
//!
//! Every client takes its credentials from the mock's container endpoint, as an application
//! on ECS or EKS does, so a client per request pays for a fetch per request as the guide says.

use std::cell::RefCell;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use poolsweep::modes::ClientMode;
use poolsweep::sut::js_v3::{self, JsV3Client};
use poolsweep::sut::rust_sdk::RustSdkClient;
use poolsweep::sut::{CaFile, ClientUnderTest, CredentialKind, PoolsweepClient, Sdk, Service};
use poolsweep::sweep::{PointAcc, PointSpec, RunRecord, Server, SweepConfig, run_once, run_seeds};
use poolsweep::transport::PoolKind;
use poolsweep::workload::Pattern;
use rand::SeedableRng;
use rand::seq::SliceRandom;

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
    /// The scale the command line asks for. `cargo bench` passes `--bench`; `--quick` and
    /// `--test` choose the scale; anything else is refused before anything runs (exit 2).
    pub(crate) fn from_args() -> Self {
        let mut scale = Scale::Full;
        for arg in std::env::args().skip(1) {
            match arg.as_str() {
                "--bench" => {}
                "--quick" if scale != Scale::Test => scale = Scale::Quick,
                "--test" => scale = Scale::Test,
                "--quick" => {}
                other => {
                    eprintln!(
                        "cargo bench: unknown argument {other:?}: the sweep bench takes \
                         --quick (fewer points) or --test (each point once); it measures in \
                         rounds of its own, not with criterion's sampling, so criterion's \
                         options (filters, --save-baseline, --baseline) do not apply: compare \
                         runs with `poolsweep compare` on target/criterion/poolsweep/run.json"
                    );
                    std::process::exit(2);
                }
            }
        }
        scale
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
    /// Each group's wall time and work, in the order measured.
    timings: RefCell<Vec<GroupTiming>>,
    /// When the bench started.
    started: Instant,
}

/// What one group measured and how long it took.
struct GroupTiming {
    group: String,
    points: usize,
    runs: u64,
    objects: u64,
    /// The shortest steady window of its points, in batches.
    steady_batches: u64,
    wall: Duration,
}

/// One point's latest runs, for poolsweep's report.
struct Kept {
    config: SweepConfig,
    spec: PointSpec,
    /// Its runs, oldest first: `Ok` a measured run, `Err` why a run could not be measured at
    /// all.
    runs: Vec<Result<RunRecord, String>>,
}

/// A point that failed at least once.
struct Failure {
    label: String,
    /// Its runs that failed, of `runs` measured since the first failure.
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
/// Repetitions per point (each a run from a clean mock, in shuffled rounds): `cargo bench`
/// and `--quick` 3, `--test` 1.
pub(crate) fn repetitions(scale: Scale) -> u32 {
    if scale == Scale::Test { 1 } else { 3 }
}

/// Whether `config`'s scenario measures failed requests (they are its finding, not a failed
/// point): the descriptor limit's EMFILE and the write limit's SlowDown errors.
pub(crate) fn errors_expected(config: &SweepConfig) -> bool {
    config
        .scenario
        .as_deref()
        .is_some_and(crate::too_many::errors_are_finding)
}

impl Bench {
    /// Starts the mock (`s3-like`, discard storage) and a client runtime.
    pub(crate) fn start() -> Self {
        let scale = Scale::from_args();
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
            scale,
            js_v3: js_v3_client(),
            service,
            _ca: ca,
            points: RefCell::new(Vec::new()),
            failures: RefCell::new(Vec::new()),
            timings: RefCell::new(Vec::new()),
            started: Instant::now(),
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
            repetitions: repetitions(self.scale),
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

    /// Measures `points` (server, config, point) in `reps` shuffled rounds, each point once
    /// per round from a clean mock (as `poolsweep sweep` does), and keeps every run for
    /// poolsweep's report. `group` names the group in the progress lines and the timing table
    /// printed at the end. A run that fails (its client could not run it, or objects were not
    /// acknowledged where the scenario does not measure failed requests) marks its point
    /// failed; the group goes on.
    pub(crate) fn measure(
        &self,
        group: &str,
        reps: u32,
        points: &[(&Server, SweepConfig, PointSpec)],
    ) {
        let started = Instant::now();
        let mut runs = 0u64;
        let mut objects = 0u64;
        let mut batches = u64::MAX;
        // A fixed shuffle per group and round: the same order on every machine.
        let mut rng = rand::rngs::SmallRng::seed_from_u64(
            group.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
                (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
            }),
        );
        let total = u64::from(reps) * points.len() as u64;
        // What clients under test are told about each other server, made once (the CA file
        // of a child mock is written then, before any run holds descriptors).
        let mut others: Vec<(*const Server, Service, Option<CaFile>)> = Vec::new();
        for (server, config, _) in points {
            let key: *const Server = *server;
            if !std::ptr::eq(key, &self.server) && !others.iter().any(|(k, ..)| *k == key) {
                let (service, ca) = server.service(config.credentials).expect("the service");
                others.push((key, service, ca));
            }
        }
        for round in 0..reps {
            let mut order: Vec<usize> = (0..points.len()).collect();
            order.shuffle(&mut rng);
            for i in order {
                let (server, config, spec) = &points[i];
                let (seed, server_seed) = run_seeds(config.seed, round, i);
                let t = Instant::now();
                let key: *const Server = *server;
                let service = others
                    .iter()
                    .find(|(k, ..)| *k == key)
                    .map_or(&self.service, |(_, service, _)| service);
                let line = self.run_point(server, service, config, spec, seed, server_seed);
                runs += 1;
                objects += config.objects;
                let steady = (config.objects - config.startup_objects(spec.batch))
                    .div_ceil(u64::from(spec.batch.max(1)));
                batches = batches.min(steady);
                eprintln!(
                    "{group} [{runs}/{total}] {} #{}: {line} ({:.1} s)",
                    spec.label(),
                    round + 1,
                    t.elapsed().as_secs_f64()
                );
            }
        }
        self.timings.borrow_mut().push(GroupTiming {
            group: group.to_owned(),
            points: points.len(),
            runs,
            objects,
            steady_batches: if batches == u64::MAX { 0 } else { batches },
            wall: started.elapsed(),
        });
    }

    /// One run of `spec` against `server`, kept for poolsweep's report; returns a line saying
    /// what it measured.
    fn run_point(
        &self,
        server: &Server,
        service: &Service,
        config: &SweepConfig,
        spec: &PointSpec,
        seed: u64,
        server_seed: u64,
    ) -> String {
        let result = match spec.sdk {
            Sdk::Poolsweep => server
                .client_config(config.credentials)
                .map(PoolsweepClient::new)
                .and_then(|sut| {
                    self.run_once(config, server, service, &sut, spec, seed, server_seed)
                }),
            Sdk::JsV3 => match self.js_v3.as_ref() {
                Some(sut) => self.run_once(config, server, service, sut, spec, seed, server_seed),
                None => Err(anyhow::anyhow!("js-v3 cannot run here")),
            },
            Sdk::RustSdk => self.run_once(
                config,
                server,
                service,
                &RustSdkClient,
                spec,
                seed,
                server_seed,
            ),
        };
        let (line, result) = match result {
            Ok(record) => {
                let acknowledged = record.repetition.succeeded + record.startup.succeeded;
                let errors = &record.repetition.errors;
                // Failed requests are a scenario's finding where it measures them (EMFILE past
                // a descriptor limit, SlowDown once retries run out), not a failed point.
                let expected = errors_expected(config);
                let failure = record.failure.clone().or_else(|| {
                    (acknowledged != config.objects && !expected && !record.cut_by_budget).then(
                        || {
                            format!(
                                "{acknowledged} of {} objects acknowledged ({errors:?})",
                                config.objects
                            )
                        },
                    )
                });
                let mut line = format!("{:.0} objects/s", record.repetition.objects_per_s());
                if record.cut_by_budget {
                    line.push_str(", cut by the time budget");
                }
                if errors.total > 0 {
                    line.push_str(&format!(", {} failed requests", errors.total));
                }
                if let Some(f) = &failure {
                    line.push_str(&format!(", FAILED: {f}"));
                }
                self.note_run(spec, config, failure);
                (line, Ok(record))
            }
            Err(e) => {
                let why = format!("{e:#}");
                self.note_run(spec, config, Some(why.clone()));
                (format!("FAILED: {why}"), Err(why))
            }
        };
        self.keep(config, spec, result);
        line
    }

    /// One run of `spec` on `sut`.
    #[allow(clippy::too_many_arguments)]
    fn run_once<C: ClientUnderTest>(
        &self,
        config: &SweepConfig,
        server: &Server,
        service: &Service,
        sut: &C,
        spec: &PointSpec,
        seed: u64,
        server_seed: u64,
    ) -> anyhow::Result<RunRecord> {
        self.rt.block_on(run_once(
            config,
            server,
            service,
            sut,
            spec,
            seed,
            server_seed,
            &mut |_| {},
        ))
    }

    /// Keeps `run` as one of the point's runs.
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
                    runs: Vec::new(),
                });
                points.len() - 1
            }
        };
        points[i].runs.push(run);
    }

    /// Counts one run of `spec`, failed with `failure` if it is set.
    fn note_run(&self, spec: &PointSpec, config: &SweepConfig, failure: Option<String>) {
        let label = match &config.scenario {
            Some(s) => format!("{} [{s}]", spec.label()),
            None => spec.label(),
        };
        let mut failures = self.failures.borrow_mut();
        let known = failures.iter_mut().find(|f| f.label == label);
        match (known, failure) {
            (Some(f), failure) => {
                f.runs += 1;
                f.failed += u64::from(failure.is_some());
            }
            (None, Some(first)) => {
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

    /// Prints each group's wall time and work (runs, objects, the shortest steady window in
    /// batches) and the total, so that a run's time can be judged on any machine.
    pub(crate) fn print_timings(&self) {
        let timings = self.timings.borrow();
        eprintln!("\ncargo bench: time per group (wall clock; steady window = its fewest batches)");
        let mut total = Duration::ZERO;
        let (mut runs, mut objects) = (0, 0);
        for t in timings.iter() {
            eprintln!(
                "  {:<28} {:>3} points {:>4} runs {:>7} objects  steady >= {:>2} batches  {:>6.1} s",
                t.group,
                t.points,
                t.runs,
                t.objects,
                t.steady_batches,
                t.wall.as_secs_f64()
            );
            total += t.wall;
            runs += t.runs;
            objects += t.objects;
        }
        eprintln!(
            "  {:<28} {:>3}        {:>4} runs {:>7} objects                      {:>6.1} s (since start: {:.1} s)",
            "total",
            "",
            runs,
            objects,
            total.as_secs_f64(),
            self.started.elapsed().as_secs_f64()
        );
    }

    /// After the reports are written: lists the points that failed (a run could not be
    /// measured: the client could not run it, or objects were not acknowledged where the
    /// scenario does not measure failed requests) and exits with status 1 if there are any.
    pub(crate) fn exit_if_failed(&self) {
        let failures = self.failures.borrow();
        if failures.is_empty() {
            return;
        }
        eprintln!("\npoolsweep: {} point(s) failed:", failures.len());
        for f in failures.iter() {
            eprintln!(
                "  {}: {} of {} runs failed; first: {}",
                f.label, f.failed, f.runs, f.first
            );
        }
        std::process::exit(1);
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
        let config = serde_json::to_value(&config).unwrap_or_default();
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
                let mut point = acc.point(&k.config);
                point.errors_expected = errors_expected(&k.config);
                point
            })
            .collect();
        run.recommendations = poolsweep::analysis::recommend(&run.points);
        let json = dir.join("run.json");
        if let Err(e) = std::fs::write(&json, run.to_json_pretty()) {
            eprintln!("poolsweep report: writing {}: {e}", json.display());
            return;
        }
        match poolsweep::report::render(&run, &dir, None) {
            Ok(files) => {
                println!("\npoolsweep report: {}", files.index.display());
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
