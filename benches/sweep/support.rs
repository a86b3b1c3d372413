//! Shared by every sweep: the embedded mock, a client runtime, the scale of the run
//! (full, `--quick`, `--test`), and the points collected for poolsweep's own report.

use std::cell::RefCell;
use std::path::PathBuf;
use std::time::Duration;

use criterion::{BenchmarkGroup, BenchmarkId, SamplingMode, measurement::WallTime};
use poolsweep::modes::ClientMode;
use poolsweep::sut::PoolsweepClient;
use poolsweep::sweep::{PointAcc, PointSpec, Server, SweepConfig, run_once};
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
    /// Points for poolsweep's report, in the order first measured.
    points: RefCell<Vec<(SweepConfig, PointAcc)>>,
}

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
        Self {
            rt,
            server: Server::Embedded(mock),
            scale: Scale::from_args(),
            points: RefCell::new(Vec::new()),
        }
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
            ..SweepConfig::default()
        }
    }

    /// A point of the grid.
    pub(crate) fn spec(client: ClientMode, batch: u32, max_sockets: Option<u32>) -> PointSpec {
        PointSpec {
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
        let sut = PoolsweepClient::new(server.client_config().expect("client config"));
        // The service as clients under test are told it; `_ca` keeps the mock's CA file.
        let (service, _ca) = server.service().expect("the service");
        let mut total = Duration::ZERO;
        for i in 0..iters {
            let record = self
                .rt
                .block_on(run_once(
                    config,
                    server,
                    &service,
                    &sut,
                    spec,
                    config.seed ^ i,
                    &mut |_| {},
                ))
                .unwrap_or_else(|e| panic!("{}: {e:#}", spec.label()));
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
        let meta = poolsweep::results::Meta::collect(
            serde_json::to_value(config).unwrap_or_default(),
            serde_json::json!({ PROFILE: profile }),
            std::env::args().collect(),
        );
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
