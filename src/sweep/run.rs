//! Running the grid: rounds, runs, points.

use std::num::NonZeroUsize;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use rand::SeedableRng as _;
use rand::seq::SliceRandom as _;
use serde_json::{Map, Value};

use super::config::SweepConfig;
use crate::metrics::{self, CpuPerRequest, Point, Repetition, Startup};
use crate::modes::ClientMode;
use crate::results::ResultWriter;
use crate::s3::credentials::{ContainerEndpoint, ImdsEndpoint};
use crate::s3::{ClientConfig, CredentialsSource, S3Client};
use crate::sut::{
    CaFile, ClientUnderTest, CredentialKind, CredentialSource, Run, RunReport, RunSettings, Sdk,
    Service, Timeouts,
};
use crate::transport::PoolKind;
use crate::workload::{self, OpMix, Pacing, Workload};

/// Where requests go.
#[derive(Debug)]
// One per sweep, never moved on the request path: its size does not matter.
#[allow(clippy::large_enum_variant)]
pub enum Server {
    /// The embedded mock: its profile is set per point and its counters read per run.
    Embedded(mock_s3::MockS3),
    /// Any S3-compatible endpoint (MinIO, real S3); the profile axis does not apply.
    External(External),
    /// The same mock in a child process (`--nofile`: the client's limit is its own), driven
    /// like the embedded one; static credentials only.
    Child(super::ChildMock),
}

/// An S3-compatible endpoint other than the embedded mock, as the command line gave it.
#[derive(Clone, Debug)]
pub struct External {
    /// How poolsweep's own client reaches it (the sweep also creates the bucket with it).
    pub config: ClientConfig,
    /// The same endpoint, region, credentials and CA as every client under test is told them.
    pub service: Service,
}

impl Server {
    /// The config poolsweep's own client is made from: the mock's endpoint and CA with
    /// credentials of `kind` (its keys, its container endpoint or its IMDSv2), or the external
    /// endpoint's (whose credentials the command line chose; `kind` does not apply).
    pub fn client_config(&self, kind: CredentialKind) -> anyhow::Result<ClientConfig> {
        match self {
            Server::Embedded(mock) => {
                let config = ClientConfig::for_mock(mock).context("client config for the mock")?;
                Ok(
                    match CredentialSource::for_mock(mock, kind).map_err(anyhow::Error::msg)? {
                        CredentialSource::Static { .. } => config,
                        CredentialSource::Container { full_uri, token } => {
                            config.credentials(CredentialsSource::Container(
                                ContainerEndpoint::new(full_uri, Some(token)),
                            ))
                        }
                        CredentialSource::Imds { endpoint } => {
                            config.credentials(CredentialsSource::Imds(ImdsEndpoint::new(endpoint)))
                        }
                    },
                )
            }
            Server::External(e) => Ok(e.config.clone()),
            Server::Child(child) => {
                anyhow::ensure!(
                    kind == CredentialKind::Static,
                    "the mock in a child process (--nofile) serves static credentials only, not {kind:?}"
                );
                child.client_config()
            }
        }
    }

    /// Whether this is the mock (embedded or in a child process): profiles apply.
    pub fn is_mock(&self) -> bool {
        !matches!(self, Server::External(_))
    }

    /// Puts the embedded mock back as it started, with `profile` and the random sequence
    /// seeded by `seed`: every run starts from the same server state (no connection, budget
    /// or draw of an earlier run or of a warm-up). A profile of the same name already set
    /// (a variation a test or program set on the mock) is kept. The same for the mock in a
    /// child process; nothing to do for an external endpoint.
    pub async fn reset(&self, profile: Option<mock_s3::Profile>, seed: u64) -> anyhow::Result<()> {
        let still_open = match self {
            Server::Embedded(mock) => {
                if let Some(p) = profile
                    && mock.profile().name != p.name
                {
                    mock.set_profile(p)?;
                }
                mock.reset(mock_s3::ResetOptions::seeded(seed))
                    .await
                    .still_open
            }
            // Between runs: nothing is in flight, and the child answers at once.
            Server::Child(child) => child
                .request(&super::child::Request::Reset {
                    profile: profile.map(Box::new),
                    seed,
                })?
                .get("still_open")
                .and_then(Value::as_u64)
                .unwrap_or(0),
            Server::External(_) => 0,
        };
        if still_open > 0 {
            tracing::warn!(
                still_open,
                "connections of an earlier run were still open after the reset's wait"
            );
        }
        Ok(())
    }

    /// The server's counters now, as a JSON object (empty for an external endpoint).
    pub fn counters(&self) -> Map<String, Value> {
        match self {
            Server::Embedded(mock) => match serde_json::to_value(mock.metrics()) {
                Ok(Value::Object(m)) => m,
                _ => Map::new(),
            },
            Server::External(_) => Map::new(),
            Server::Child(child) => child.metrics().unwrap_or_else(|e| {
                tracing::warn!("reading the child mock's counters: {e:#}");
                Map::new()
            }),
        }
    }

    /// What every run tells a client under test about the service, with credentials of
    /// `kind` for the embedded mock. For the mock, its CA is written to a file for clients that
    /// read one; the file lives as long as the returned [`CaFile`].
    pub fn service(&self, kind: CredentialKind) -> anyhow::Result<(Service, Option<CaFile>)> {
        match self {
            Server::Embedded(mock) => {
                let ca = CaFile::write(mock.ca_pem()).context("writing the mock's CA")?;
                let source = CredentialSource::for_mock(mock, kind).map_err(anyhow::Error::msg)?;
                Ok((
                    Service::for_mock(mock, &ca).with_credentials(source),
                    Some(ca),
                ))
            }
            Server::External(e) => Ok((e.service.clone(), None)),
            Server::Child(child) => {
                anyhow::ensure!(
                    kind == CredentialKind::Static,
                    "the mock in a child process (--nofile) serves static credentials only, not {kind:?}"
                );
                let (service, ca) = child.service()?;
                Ok((service, Some(ca)))
            }
        }
    }
}

/// One cell of the grid.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PointSpec {
    /// The S3 client measured.
    pub sdk: Sdk,
    /// Client mode.
    pub client: ClientMode,
    /// Pool.
    pub pool: PoolKind,
    /// Batch size.
    pub batch: u32,
    /// maxSockets (`None`: Infinity).
    pub max_sockets: Option<u32>,
    /// Server profile name.
    pub profile: String,
}

impl PointSpec {
    /// A short label, the SDK first whichever it is (a sweep may measure several):
    /// `poolsweep shared agent b100 ms50 s3-like`, `js-v3 shared agent b100 ms50 s3-like`.
    pub fn label(&self) -> String {
        format!(
            "{} {} {} b{} ms{} {}",
            self.sdk,
            self.client,
            self.pool,
            self.batch,
            crate::metrics::display_max_sockets(self.max_sockets),
            self.profile
        )
    }
}

/// What the sweep reports while it runs.
#[derive(Debug)]
pub enum Event<'a> {
    /// A run is about to start.
    RunStarted {
        /// Runs done before this one.
        done: u64,
        /// Runs in the sweep.
        total: u64,
        /// The point.
        spec: &'a PointSpec,
        /// Repetition number (1-based).
        repetition: u32,
    },
    /// Requests of the current run finished so far, and the run's live throughput.
    Progress {
        /// Requests finished.
        finished: u64,
        /// Requests in the run.
        of: u64,
        /// Objects per second so far.
        objects_per_s: f64,
    },
    /// A run could not be measured; its point was written with the reason, and the sweep
    /// goes on.
    RunFailed {
        /// The point.
        spec: &'a PointSpec,
        /// Why.
        reason: &'a str,
        /// Whether the run's requests were counted all the same (then `RunFinished`
        /// follows); `false` when it did not get that far.
        measured: bool,
    },
    /// A run finished and its point was written.
    RunFinished {
        /// The point as written (all repetitions so far).
        point: &'a Point,
        /// This run's objects per second.
        objects_per_s: f64,
        /// Whether the time budget cut this run short.
        cut_by_budget: bool,
    },
}

/// How a sweep ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Summary {
    /// Runs completed.
    pub runs: u64,
    /// Runs in the grid.
    pub total: u64,
    /// Whether a stop request ended it early.
    pub interrupted: bool,
    /// Runs that failed outside any one request (the client under test could not start,
    /// crashed or hung); their points carry the reason.
    pub failed_runs: u64,
}

/// What one run measured.
#[derive(Debug)]
pub struct RunRecord {
    /// The steady window's samples, folded.
    pub repetition: Repetition,
    /// The start-up's samples, folded (empty when the pattern has no start-up).
    pub startup: Repetition,
    /// Sockets, full and resumed handshakes of the start-up, as the server counted them (0
    /// against an external endpoint).
    pub startup_counts: [u64; 3],
    /// The run's report, as the client under test counted it (sockets, handshakes).
    pub counters: RunReport,
    /// Client CPU time and the requests it was spent on (the steady window's; the whole
    /// run's for a client in its own process, which reports it per run); `None` if unknown.
    pub client_cpu: Option<(u64, u64)>,
    /// Server CPU time of the steady window, ns, and its requests; `None` if unknown.
    pub server_cpu: Option<(u64, u64)>,
    /// The embedded server's counters for the run (empty for external endpoints).
    pub server: Map<String, Value>,
    /// Whether the time budget cut the run short.
    pub cut_by_budget: bool,
    /// Why the run's client failed to finish it (its requests are counted all the same).
    pub failure: Option<String>,
}

/// The runs of one point, accumulated into a [`Point`].
#[derive(Debug)]
pub struct PointAcc {
    spec: PointSpec,
    reps: Vec<Repetition>,
    startups: Vec<Repetition>,
    startup_counts: [u64; 3],
    sockets_opened: u64,
    peak_open: u64,
    tls_full: u64,
    tls_resumed: u64,
    /// (ns, requests) summed over runs that reported them.
    client_cpu: Option<(u64, u64)>,
    server_cpu: Option<(u64, u64)>,
    server: Map<String, Value>,
    failures: Vec<String>,
    slot: Option<usize>,
}

/// Adds `(ns, requests)` into a running sum.
fn add_cpu(into: &mut Option<(u64, u64)>, from: Option<(u64, u64)>) {
    if let Some((ns, n)) = from {
        let (a, b) = into.get_or_insert((0, 0));
        *a += ns;
        *b += n;
    }
}

impl PointAcc {
    /// No runs yet.
    pub fn new(spec: PointSpec) -> Self {
        Self {
            spec,
            reps: Vec::new(),
            startups: Vec::new(),
            startup_counts: [0; 3],
            sockets_opened: 0,
            peak_open: 0,
            tls_full: 0,
            tls_resumed: 0,
            client_cpu: None,
            server_cpu: None,
            server: Map::new(),
            failures: Vec::new(),
            slot: None,
        }
    }

    /// The point's cell.
    pub fn spec(&self) -> &PointSpec {
        &self.spec
    }

    /// Runs folded in so far.
    pub fn runs(&self) -> usize {
        self.reps.len()
    }

    /// Folds in one run.
    pub fn add(&mut self, r: RunRecord) {
        self.sockets_opened += r.counters.sockets_opened;
        self.peak_open = self.peak_open.max(r.counters.peak_open);
        // A client that cannot tell its handshakes (`None`) is counted by the server.
        let server = |k: &str| r.server.get(k).and_then(Value::as_u64).unwrap_or(0);
        self.tls_full += r.counters.tls_full.unwrap_or_else(|| server("tls_full"));
        self.tls_resumed += r
            .counters
            .tls_resumed
            .unwrap_or_else(|| server("tls_resumed"));
        add_cpu(&mut self.client_cpu, r.client_cpu);
        add_cpu(&mut self.server_cpu, r.server_cpu);
        for (a, b) in self.startup_counts.iter_mut().zip(r.startup_counts) {
            *a += b;
        }
        merge_counters(&mut self.server, &r.server);
        self.reps.push(r.repetition);
        self.startups.push(r.startup);
        if let Some(why) = r.failure {
            self.failures.push(why);
        }
    }

    /// Records a run that could not be measured at all.
    pub fn fail(&mut self, reason: String) {
        self.failures.push(reason);
    }

    /// Why runs failed, in one line ("2 runs failed: …"), if any did.
    fn failure(&self) -> Option<String> {
        let first = self.failures.first()?;
        let n = self.failures.len();
        let same = self.failures.iter().all(|f| f == first);
        Some(match (n, same) {
            (1, _) => format!("a run failed: {first}"),
            (_, true) => format!("{n} runs failed: {first}"),
            (_, false) => format!(
                "{n} runs failed: {}",
                self.failures
                    .iter()
                    .fold(Vec::<&str>::new(), |mut v, f| {
                        if !v.contains(&f.as_str()) {
                            v.push(f);
                        }
                        v
                    })
                    .join("; ")
            ),
        })
    }

    /// The point, from every run so far.
    pub fn point(&self, c: &SweepConfig) -> Point {
        build_point(c, self)
    }
}

fn grid(c: &SweepConfig) -> Vec<PointSpec> {
    let mut specs = Vec::new();
    for profile in &c.profiles {
        for (sdk, pool) in c.sdk_pools() {
            for &client in &c.clients {
                for &batch in &c.batches {
                    for &max_sockets in &c.max_sockets {
                        specs.push(PointSpec {
                            sdk,
                            client,
                            pool,
                            batch,
                            max_sockets,
                            profile: profile.clone(),
                        });
                    }
                }
            }
        }
    }
    specs
}

/// What a run of `spec` is told.
fn run_settings(c: &SweepConfig, service: &Service, spec: &PointSpec) -> RunSettings {
    RunSettings {
        sdk: spec.sdk,
        mode: spec.client,
        shared_handler_clients: NonZeroUsize::new(c.shared_handler_clients)
            .unwrap_or(NonZeroUsize::MIN),
        max_sockets: spec.max_sockets,
        keep_alive: c.keep_alive,
        pool: spec.pool,
        timeouts: Timeouts::default(),
        endpoint: service.endpoint.clone(),
        region: service.region.clone(),
        bucket: c.bucket.clone(),
        credentials: service.credentials.clone(),
        ca_file: service.ca_file.clone(),
        // The process's own limit, inherited (`--nofile` lowers it for the client's process;
        // the mock then runs in a child process of its own).
        nofile: None,
        time_budget: c.time_budget,
    }
}

fn workload(c: &SweepConfig, spec: &PointSpec, objects: u64, seed: u64) -> Workload {
    Workload {
        pacing: c.pattern.pacing(spec.batch, c.rate_per_s.unwrap_or(1.0)),
        ops: c.op,
        sizes: c.sizes,
        objects,
        prefixes: c.prefixes,
        time_budget: c.time_budget,
        seed,
        first_index: 0,
        pause: c.pause_between_batches,
    }
}

/// Adds the numbers of `from` into `into`: counters are summed, gauges and peaks take the
/// largest value.
fn merge_counters(into: &mut Map<String, Value>, from: &Map<String, Value>) {
    for (k, v) in from {
        match (into.get_mut(k), v) {
            (Some(Value::Object(a)), Value::Object(b)) => merge_counters(a, b),
            (Some(Value::Number(a)), Value::Number(b)) => {
                let (x, y) = (a.as_u64().unwrap_or(0), b.as_u64().unwrap_or(0));
                let gauge = k.contains("peak") || k.contains("open") || k.contains("in_flight");
                *a = (if gauge { x.max(y) } else { x + y }).into();
            }
            (None, v) => {
                into.insert(k.clone(), v.clone());
            }
            _ => {}
        }
    }
}

fn build_point(c: &SweepConfig, acc: &PointAcc) -> Point {
    let f = metrics::fold(&acc.reps);
    let up = metrics::fold(&acc.startups);
    let mut retries = f.retries;
    let mut errors = f.errors;
    metrics::add_counts(&mut retries, &mut errors, &up);
    let samples = f.samples + up.samples;
    let requests = samples + retries.total;
    let median = f.objects_per_s.median;
    let startup_objects = c.startup_objects(acc.spec.batch);
    let startup_ms: Vec<f64> = acc
        .startups
        .iter()
        .map(|r| r.elapsed.as_secs_f64() * 1000.0)
        .collect();
    let startup_time = metrics::spread(&startup_ms);
    let per_request =
        |cpu: Option<(u64, u64)>| cpu.and_then(|(ns, n)| (n > 0).then(|| ns as f64 / n as f64));
    let min_completed = acc
        .reps
        .iter()
        .zip(&acc.startups)
        .map(|(s, u)| s.succeeded + u.succeeded)
        .min()
        .unwrap_or(0);
    Point {
        sdk: acc.spec.sdk,
        client: acc.spec.client,
        pool: acc.spec.pool,
        pattern: c.pattern,
        op: c.op.op(),
        batch: acc.spec.batch,
        max_sockets: acc.spec.max_sockets,
        profile: c.profile_label(&acc.spec.profile),
        scenario: c.scenario.clone(),
        repetitions: acc.reps.len() as u32,
        objects: c.objects,
        completed: min_completed,
        object_size: c.sizes.mean().round() as u64,
        objects_per_s: f.objects_per_s,
        objects_per_s_by_run: acc.reps.iter().map(Repetition::objects_per_s).collect(),
        mb_per_s: f.mb_per_s,
        projected_s: (median > 0.0).then(|| {
            startup_time.median / 1000.0 + c.objects.saturating_sub(startup_objects) as f64 / median
        }),
        startup: Startup {
            batches: if startup_objects > 0 && acc.spec.batch > 0 {
                startup_objects.div_ceil(u64::from(acc.spec.batch)) as u32
            } else {
                0
            },
            objects: startup_objects,
            time_ms: startup_time,
            sockets_opened: acc.startup_counts[0],
            tls_full: acc.startup_counts[1],
            tls_resumed: acc.startup_counts[2],
        },
        latency_ms: f.latency_ms,
        socket_wait_ms: f.socket_wait_ms,
        sockets_opened: acc.sockets_opened,
        peak_open_sockets: acc.peak_open,
        tls_full: acc.tls_full,
        tls_resumed: acc.tls_resumed,
        retries,
        errors,
        cpu_ns_per_request: CpuPerRequest {
            client_ns: per_request(acc.client_cpu),
            server_ns: per_request(acc.server_cpu),
        },
        server: acc.server.clone(),
        requests,
        succeeded: f.succeeded + up.succeeded,
        failure: acc.failure(),
        errors_expected: false,
    }
}

async fn ensure_bucket(server: &Server, bucket: &str) -> anyhow::Result<()> {
    match server {
        Server::Embedded(mock) => {
            // Already there from an earlier sweep on the same server: fine.
            let _ = mock.create_bucket(bucket);
            Ok(())
        }
        Server::Child(child) => child.create_bucket(bucket),
        Server::External(e) => {
            let client = S3Client::new(&e.config)?;
            match client.create_bucket(bucket).await {
                Ok(_) => Ok(()),
                Err(e)
                    if matches!(
                        e.code(),
                        Some("BucketAlreadyOwnedByYou" | "BucketAlreadyExists")
                    ) =>
                {
                    Ok(())
                }
                Err(e) => Err(anyhow::anyhow!("creating bucket {bucket}: {e}")),
            }
        }
    }
}

/// Ends a run once the driver has returned (every call returned, so the run is no longer
/// shared) and gives its report.
async fn finish<R: Run>(run: Arc<R>) -> anyhow::Result<RunReport> {
    let run = Arc::into_inner(run).context("a call of the run outlived the workload")?;
    Ok(run.finish().await?)
}

/// Puts the objects GET workloads read (not measured), through the sweep's first client under
/// test: one shared client on the Agent with keepAlive and 32 sockets.
async fn populate<C: ClientUnderTest>(
    c: &SweepConfig,
    service: &Service,
    sut: &C,
) -> anyhow::Result<()> {
    let spec = PointSpec {
        sdk: c.sdks.first().copied().unwrap_or_default(),
        client: ClientMode::Shared,
        pool: PoolKind::Agent,
        batch: 32,
        max_sockets: Some(32),
        profile: String::new(),
    };
    let settings = RunSettings {
        keep_alive: true,
        ..run_settings(c, service, &spec)
    };
    let run = Arc::new(sut.start(&settings).await?);
    let w = Workload {
        pacing: Pacing::Window { size: 32 },
        ops: OpMix::Put,
        sizes: c.sizes,
        objects: c.objects,
        prefixes: c.prefixes,
        time_budget: Duration::from_secs(3600),
        seed: c.seed,
        first_index: 0,
        pause: Duration::ZERO,
    };
    let mut failed = 0u64;
    workload::drive(&w, Arc::clone(&run), |s| {
        failed += u64::from(s.reply.error.is_some());
    })
    .await;
    finish(run).await?;
    anyhow::ensure!(failed == 0, "{failed} of {} setup PUTs failed", c.objects);
    Ok(())
}

/// A server counter of a snapshot (0 if absent).
fn counter(m: &Map<String, Value>, key: &str) -> u64 {
    m.get(key).and_then(Value::as_u64).unwrap_or(0)
}

/// The seeds of one run: the client's (`seed`, own to the point `index` and the `round`) and
/// the server's (`server_seed`, the same for every point of a round: common random numbers, so
/// points are compared on the same latencies; each round draws others).
pub fn run_seeds(base: u64, round: u32, index: usize) -> (u64, u64) {
    let server_seed = base ^ (u64::from(round) << 32);
    (server_seed ^ index as u64, server_seed)
}

/// Runs one point once, from a clean state: the embedded mock is reset (profile, connections,
/// rate-limit budgets, random sequence seeded by `server_seed`, counters), then one run of the
/// point's client drives the workload: its first batches are the **start-up** (the pool
/// fills, handshakes are paid; reported apart), the rest the **steady window** the rates,
/// latencies and CPU per request come from. Each part has the time budget; every request is
/// checked to be counted once.
#[allow(clippy::too_many_arguments)]
pub async fn run_once<C: ClientUnderTest>(
    c: &SweepConfig,
    server: &Server,
    service: &Service,
    sut: &C,
    spec: &PointSpec,
    seed: u64,
    server_seed: u64,
    events: &mut impl FnMut(Event<'_>),
) -> anyhow::Result<RunRecord> {
    let profile = if server.is_mock() {
        Some(
            c.profile_overrides
                .apply(&spec.profile)
                .with_context(|| format!("unknown profile {}", spec.profile))?,
        )
    } else {
        None
    };
    server.reset(profile, server_seed).await?;
    let settings = run_settings(c, service, spec);
    let run = Arc::new(sut.start(&settings).await?);
    let started = Instant::now();
    let step = (c.objects / 50).max(1);
    let mut finished = 0u64;
    let mut succeeded = 0u64;
    let mut progress = |s: &workload::Sample, events: &mut dyn FnMut(Event<'_>)| {
        finished += 1;
        succeeded += u64::from(s.reply.error.is_none());
        if finished.is_multiple_of(step) {
            let secs = started.elapsed().as_secs_f64();
            events(Event::Progress {
                finished,
                of: c.objects,
                objects_per_s: if secs > 0.0 {
                    succeeded as f64 / secs
                } else {
                    0.0
                },
            });
        }
    };

    // Start-up: the first batches on the measured client.
    let startup_objects = c.startup_objects(spec.batch);
    let mut startup = Repetition::default();
    let mut startup_cut = false;
    if startup_objects > 0 {
        let w = workload(c, spec, startup_objects, seed);
        let driven = workload::drive(&w, Arc::clone(&run), |s| {
            startup.add(&s);
            progress(&s, events);
        })
        .await;
        startup.elapsed = driven.elapsed.saturating_sub(driven.paused);
        check(spec, &startup, driven.started)?;
        startup_cut = driven.cut_by_budget;
        if !c.pause_between_batches.is_zero() {
            // The steady window's first batch follows a pause like every other batch.
            tokio::time::sleep(c.pause_between_batches).await;
        }
    }
    let at_steady = server.counters();
    let client_before = metrics::client_cpu_ns();

    // The steady window: the rest of the objects (none if the start-up ran out of time).
    let mut rep = Repetition::default();
    let steady_objects = if startup_cut {
        0
    } else {
        c.objects - startup_objects
    };
    let w = Workload {
        first_index: startup_objects,
        ..workload(c, spec, steady_objects, seed.wrapping_add(1))
    };
    let driven = workload::drive(&w, Arc::clone(&run), |s| {
        rep.add(&s);
        progress(&s, events);
    })
    .await;
    rep.elapsed = driven.elapsed.saturating_sub(driven.paused);
    check(spec, &rep, driven.started)?;
    let client_after = metrics::client_cpu_ns();
    let at_end = server.counters();
    // A client that fails to close the run (its runner died at the end) does not lose the
    // run's requests: they are counted, and the point says why its counters are missing.
    let (counters, failure) = match finish(run).await {
        Ok(counters) => (counters, None),
        Err(e) => (RunReport::default(), Some(format!("{e:#}"))),
    };
    // The run's connection tasks close their sockets when next polled: let them, so that the
    // result file written next does not compete with them for descriptors (`--nofile`).
    for _ in 0..4 {
        tokio::task::yield_now().await;
    }
    let server_counters = server.counters();

    let steady_requests = rep.samples + rep.retries.total;
    let whole_requests = steady_requests + startup.samples + startup.retries.total;
    // A client in its own process reports its process's CPU time for the whole run; an
    // in-process client's threads are read around the steady window.
    let client_cpu = match (counters.cpu, client_before, client_after) {
        (Some(cpu), _, _) => Some((cpu.as_nanos() as u64, whole_requests)),
        (None, Some(a), Some(b)) => Some((b.saturating_sub(a), steady_requests)),
        _ => None,
    };
    let server_cpu = match (at_end.get("cpu_ns"), at_steady.get("cpu_ns")) {
        (Some(Value::Number(b)), Some(Value::Number(a))) => Some((
            b.as_u64()
                .unwrap_or(0)
                .saturating_sub(a.as_u64().unwrap_or(0)),
            steady_requests,
        )),
        _ => None,
    };
    Ok(RunRecord {
        repetition: rep,
        startup,
        startup_counts: [
            counter(&at_steady, "connections_accepted"),
            counter(&at_steady, "tls_full"),
            counter(&at_steady, "tls_resumed"),
        ],
        client_cpu,
        server_cpu,
        counters,
        server: server_counters,
        cut_by_budget: startup_cut || driven.cut_by_budget,
        failure,
    })
}

/// Checks that a part of a run counted every request it started once.
fn check(spec: &PointSpec, rep: &Repetition, started: u64) -> anyhow::Result<()> {
    rep.check()
        .map_err(|e| anyhow::anyhow!("{}: {e}", spec.label()))?;
    anyhow::ensure!(
        rep.samples == started,
        "{}: {} requests started but {} ended",
        spec.label(),
        started,
        rep.samples
    );
    Ok(())
}

/// Runs the sweep on `sut`, updating `writer` after every run. `stop` ends it after the
/// current run.
pub async fn run_sweep<C: ClientUnderTest>(
    c: &SweepConfig,
    server: &Server,
    sut: &C,
    writer: &mut ResultWriter,
    stop: &AtomicBool,
    mut events: impl FnMut(Event<'_>),
) -> anyhow::Result<Summary> {
    c.validate().map_err(|e| anyhow::anyhow!(e))?;
    if server.is_mock() {
        c.validate_presets().map_err(|e| anyhow::anyhow!(e))?;
    }
    ensure_bucket(server, &c.bucket).await?;
    let (service, _ca) = server.service(c.credentials)?;
    if !matches!(c.op, OpMix::Put) {
        let ideal = server.is_mock().then(mock_s3::Profile::ideal);
        server.reset(ideal, c.seed).await?;
        populate(c, &service, sut)
            .await
            .context("creating the objects GETs read")?;
    }
    let specs = grid(c);
    let mut accs: Vec<PointAcc> = specs.iter().cloned().map(PointAcc::new).collect();
    let total = c.runs();
    let mut rng = rand::rngs::SmallRng::seed_from_u64(c.seed);
    let mut done = 0u64;
    let mut failed_runs = 0u64;
    'rounds: for round in 0..c.repetitions {
        let mut order: Vec<usize> = (0..specs.len()).collect();
        order.shuffle(&mut rng);
        for i in order {
            if stop.load(Ordering::Relaxed) {
                break 'rounds;
            }
            let spec = &specs[i];
            events(Event::RunStarted {
                done,
                total,
                spec,
                repetition: round + 1,
            });
            let (seed, server_seed) = run_seeds(c.seed, round, i);
            let acc = &mut accs[i];
            // A run that fails is data: its point says why, and the sweep goes on.
            let (finished, failure) = match run_once(
                c,
                server,
                &service,
                sut,
                spec,
                seed,
                server_seed,
                &mut events,
            )
            .await
            {
                Ok(record) => {
                    let failure = record.failure.clone();
                    let finished = (record.repetition.objects_per_s(), record.cut_by_budget);
                    acc.add(record);
                    (Some(finished), failure)
                }
                Err(e) => {
                    let reason = format!("{e:#}");
                    acc.fail(reason.clone());
                    (None, Some(reason))
                }
            };
            let point = acc.point(c);
            let slot = match acc.slot {
                Some(s) => s,
                None => {
                    let s = writer.run().points.len();
                    acc.slot = Some(s);
                    s
                }
            };
            writer.set_point(slot, &point)?;
            done += 1;
            if let Some(reason) = &failure {
                failed_runs += 1;
                events(Event::RunFailed {
                    spec,
                    reason,
                    measured: finished.is_some(),
                });
            }
            if let Some((objects_per_s, cut_by_budget)) = finished {
                events(Event::RunFinished {
                    point: &point,
                    objects_per_s,
                    cut_by_budget,
                });
            }
        }
    }
    let points = writer.run().points.clone();
    writer.set_recommendations(&crate::analysis::recommend(&points))?;
    Ok(Summary {
        runs: done,
        total,
        interrupted: done < total,
        failed_runs,
    })
}
