//! Shared by every sweep: the embedded mock, a client runtime, the clients under test
//! (poolsweep's, and the real AWS SDK for JavaScript v3 when Node.js is here), the scale of the
//! run (full, `--quick`, `--test`), and the points collected for poolsweep's own report.
//!
//! Every client takes its credentials from the mock's container endpoint, as an application
//! on ECS or EKS does, so a client per request pays for a fetch per request as the guide says.

use std::cell::RefCell;
use std::path::PathBuf;
use std::time::Duration;

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
    points: RefCell<Vec<(SweepConfig, PointAcc)>>,
}

/// Where every bench client's credentials come from: the mock's container endpoint.
pub(crate) const CREDENTIALS: CredentialKind = CredentialKind::Container;

/// The profile every sweep runs against.
pub(crate) const PROFILE: &str = "s3-like";
/// The bucket.
pub(crate) const BUCKET: &str = "bench";
/// Runs per point kept for poolsweep's report (criterion's warm-up and samples give each
/// point at least this many in a full run).
const REPORT_RUNS: usize = 5;

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
            warmup: 0,
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

    /// Times `iters` whole workloads of `spec` against `server`, asserting that every object
    /// was acknowledged; when `report` is set, the runs are kept for poolsweep's report.
    pub(crate) fn time(
        &self,
        server: &Server,
        config: &SweepConfig,
        spec: &PointSpec,
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
        for i in 0..iters {
            let seed = config.seed ^ i;
            let record = match spec.sdk {
                Sdk::Poolsweep => {
                    let sut = PoolsweepClient::new(
                        server
                            .client_config(config.credentials)
                            .expect("client config"),
                    );
                    self.run_once(config, server, service, &sut, spec, seed)
                }
                Sdk::JsV3 => {
                    let sut = self.js_v3.as_ref().expect("js-v3 points only when it runs");
                    self.run_once(config, server, service, sut, spec, seed)
                }
                Sdk::RustSdk => self.run_once(config, server, service, &RustSdkClient, spec, seed),
            };
            assert_eq!(record.failure, None, "{}: the client failed", spec.label());
            assert_eq!(
                record.repetition.succeeded,
                config.objects,
                "{}: every object must be acknowledged ({:?})",
                spec.label(),
                record.repetition.errors
            );
            total += record.repetition.elapsed;
            if report {
                let mut points = self.points.borrow_mut();
                match points
                    .iter_mut()
                    .find(|(c, acc)| c == config && acc.spec() == spec)
                {
                    // Criterion runs some points more often than others; the report keeps the
                    // same number of runs per point so that its totals compare.
                    Some((_, acc)) if acc.runs() >= REPORT_RUNS => {}
                    Some((_, acc)) => acc.add(record),
                    None => {
                        let mut acc = PointAcc::new(spec.clone());
                        acc.add(record);
                        points.push((config.clone(), acc));
                    }
                }
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
    ) -> RunRecord {
        self.rt
            .block_on(run_once(
                config,
                server,
                service,
                sut,
                spec,
                seed,
                &mut |_| {},
            ))
            .unwrap_or_else(|e| panic!("{}: {e:#}", spec.label()))
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
        let points = self.points.borrow();
        let Some((config, _)) = points.first() else {
            return;
        };
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
        let meta = poolsweep::results::Meta::collect(
            serde_json::to_value(&config).unwrap_or_default(),
            serde_json::json!({ PROFILE: profile }),
            std::env::args().collect(),
        )
        .with_sdks(sdks);
        let mut run = poolsweep::results::RunFile::new(meta);
        run.points = points.iter().map(|(c, acc)| acc.point(c)).collect();
        run.recommendations = poolsweep::analysis::recommend(&run.points);
        let json = dir.join("run.json");
        if let Err(e) = std::fs::write(&json, run.to_json_pretty()) {
            eprintln!("poolsweep report: writing {}: {e}", json.display());
            return;
        }
        let criterion_index = Self::criterion_home().join("report/index.html");
        match poolsweep::report::render(&run, &dir, Some(&criterion_index)) {
            Ok(files) => println!("\npoolsweep report: {}", files.index.display()),
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
