//! Raw command-line flags (clap derive). Cross-flag rules live in [`super::plan`]. The
//! grid's axes are the domain types themselves (client mode, pool, pattern, operation), under
//! the names they serialise to, so a flag value is what the result file says.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::modes::ClientMode;
use crate::sut::Sdk;
use crate::transport::PoolKind;
use crate::workload::{Op, Pattern};

/// Find the maxSockets and batch size for a parallel S3 workload, by measuring it.
///
/// poolsweep sweeps an S3 client's connection-pool cap (Node's https.Agent maxSockets) ×
/// batch size × client mode against an embedded S3-like mock (or any S3 endpoint) and tells
/// you what to set, and why.
#[derive(Debug, Parser)]
#[command(name = "poolsweep", version, propagate_version = true)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Measure a grid of maxSockets × batch × client mode and write a result file.
    Sweep(Box<SweepArgs>),
    /// Render the HTML report (SVG charts, recommendation) from a result file.
    Report(ReportArgs),
    /// Compare two result files: throughput beyond noise, behaviour changes, knee shifts.
    Compare(CompareArgs),
    /// Export a result file as CSV or for CI dashboards (Bencher, github-action-benchmark).
    Export(ExportArgs),
    /// Run the mock S3 endpoint standalone (same flags as the mock-s3 binary).
    Serve(Box<mock_s3::cli::Cli>),
    /// The mock in a child process of a sweep (`--nofile`), driven over stdin and stdout.
    #[command(hide = true)]
    MockChild {
        /// The mock's worker threads.
        #[arg(long, default_value_t = 1)]
        worker_threads: usize,
    },
}

/// Named sweeps.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Preset {
    /// The guide's scenario: 10,000 objects, batch 100, maxSockets 1 to 1,000, shared and
    /// per-request clients, s3-like profile.
    Seed,
    /// A small grid (shared and per-request at batch 32, six maxSockets, 768 objects a run) that
    /// finishes in about two minutes (CI, first look).
    Quick,
}

/// Where credentials come from: for --endpoint, any of these; for the embedded mock, its
/// keys (static), its container endpoint or its IMDSv2.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum CredentialsArg {
    /// --access-key / --secret-key (the embedded mock: its own keys).
    Static,
    /// AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN.
    Env,
    /// The container endpoint (AWS_CONTAINER_CREDENTIALS_FULL_URI or _RELATIVE_URI).
    Container,
    /// IMDSv2 (AWS_EC2_METADATA_SERVICE_ENDPOINT or 169.254.169.254).
    Imds,
    /// env, then container, then IMDS: the SDK's chain (without profile files).
    Chain,
}

/// `poolsweep sweep`.
#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  poolsweep sweep --preset quick
  poolsweep sweep --preset seed --out seed.json --report seed-report
  poolsweep sweep --max-sockets 1,5,50,inf --batch 10,100 --clients shared,per-request
  poolsweep sweep --pattern rate --rate 2000 --max-sockets 10,50,inf --batch 50
  poolsweep sweep --endpoint https://127.0.0.1:9000 --ca minio.pem --access-key K --secret-key S --bucket test
  poolsweep sweep --nofile 256 --clients per-request --batch 500   # reproduce EMFILE
  poolsweep sweep --sdk poolsweep,js-v3,rust-sdk --credentials container --batch 10,100

Exit status: 0 done; 1 a run failed to execute (its point in the result file says why, the
sweep went on) or the sweep could not go on; 2 invalid flags or grid (nothing was run); 130
interrupted (every finished run is in the result file).")]
pub struct SweepArgs {
    /// Start from a named sweep; other flags override it.
    #[arg(long, value_enum)]
    pub preset: Option<Preset>,
    /// A TOML sweep file (same names as the flags, e.g. `max_sockets = ["1", "inf"]`).
    #[arg(long, value_name = "FILE.toml")]
    pub config: Option<PathBuf>,
    /// S3 clients to measure, side by side: poolsweep's own, the AWS SDK for JavaScript v3
    /// (Node.js; its runner is installed with npm ci on first use), the AWS SDK for Rust
    /// [default: poolsweep].
    #[arg(long, value_delimiter = ',', value_enum)]
    pub sdk: Option<Vec<Sdk>>,
    /// maxSockets values, comma-separated; `inf` is Node's Infinity [default: 1,5,50,inf].
    #[arg(long, value_delimiter = ',', value_name = "N|inf,...")]
    pub max_sockets: Option<Vec<String>>,
    /// Batch sizes, comma-separated [default: 10,100].
    #[arg(long, value_delimiter = ',', value_name = "N,...")]
    pub batch: Option<Vec<u32>>,
    /// Client modes [default: shared,per-request].
    #[arg(long, value_delimiter = ',', value_enum)]
    pub clients: Option<Vec<ClientMode>>,
    /// Pools to compare [default: agent].
    #[arg(long, value_delimiter = ',', value_enum)]
    pub pools: Option<Vec<PoolKind>>,
    /// Request pattern [default: batch].
    #[arg(long, value_enum)]
    pub pattern: Option<Pattern>,
    /// Requests per second for --pattern rate.
    #[arg(long)]
    pub rate: Option<f64>,
    /// Operation [default: put].
    #[arg(long, value_enum)]
    pub op: Option<Op>,
    /// Fraction of GETs for --op mixed [default: 0.5].
    #[arg(long)]
    pub get_fraction: Option<f64>,
    /// Objects per point and repetition [default: 1000].
    #[arg(long)]
    pub objects: Option<u64>,
    /// Object size: BYTES, with k/m/g suffixes, or a range MIN-MAX for uniform sizes
    /// [default: 16k].
    #[arg(long, value_name = "SIZE|MIN-MAX")]
    pub object_size: Option<String>,
    /// Prefixes keys are spread over (S3's rate limits are per prefix) [default: 1].
    #[arg(long)]
    pub prefixes: Option<u32>,
    /// Repetitions per point, run in shuffled rounds [default: 3].
    #[arg(long)]
    pub repetitions: Option<u32>,
    /// The first N batches of each run, on the measured client, are its start-up (the pool
    /// fills, handshakes are paid), reported apart from the steady window [default: 2].
    #[arg(long, value_name = "N")]
    pub startup_batches: Option<u32>,
    /// Idle time between batches of --pattern batch, in ms: bursty demand (not counted in
    /// throughput) [default: 0].
    #[arg(long, value_name = "MS")]
    pub pause_ms: Option<u64>,
    /// Longest time for the steady window of one run (the start-up gets as long again), in
    /// seconds; it then reports its throughput and the projected time for all objects
    /// [default: 20].
    #[arg(long, value_name = "SECONDS")]
    pub time_budget: Option<f64>,
    /// Server profiles of the embedded mock: ideal, s3-like, congested [default: s3-like].
    #[arg(long, value_delimiter = ',')]
    pub profile: Option<Vec<String>>,
    /// Change every profile: PUT/COPY/POST/DELETE per second per prefix (S3: 3,500).
    #[arg(long, value_name = "N")]
    pub write_rps: Option<f64>,
    /// Change every profile: GET/HEAD per second per prefix (S3: 5,500).
    #[arg(long, value_name = "N")]
    pub read_rps: Option<f64>,
    /// Change every profile: the server closes connections idle this long (s3-like: 20,000).
    #[arg(long, value_name = "MS")]
    pub idle_timeout_ms: Option<u64>,
    /// Change every profile: the median of the time to first byte's log-normal part, reads
    /// and writes, ms (s3-like: 12 and 20, after a fixed 2 and 4).
    #[arg(long, value_name = "MS")]
    pub ttfb_median_ms: Option<f64>,
    /// Change every profile: the 99th percentile of that log-normal part, ms (s3-like: 60 and
    /// 100).
    #[arg(long, value_name = "MS")]
    pub ttfb_p99_ms: Option<f64>,
    /// What this sweep shows, drawn on its charts and kept with its points.
    #[arg(long, value_name = "TEXT")]
    pub scenario: Option<String>,
    /// Threads the client runs on; the mock gets the other cores (one at least)
    /// [default: 1, as a Node.js process runs its JavaScript on one].
    #[arg(long, value_name = "N")]
    pub client_threads: Option<usize>,
    /// Node's keepAlive on the Agent [default: true].
    #[arg(long)]
    pub keep_alive: Option<bool>,
    /// Clients sharing one handler in shared-handler mode [default: 2].
    #[arg(long)]
    pub shared_handler_clients: Option<usize>,
    /// Seed for the run order, sizes and operation mix [default: 1].
    #[arg(long)]
    pub seed: Option<u64>,
    /// Result file (default: target/poolsweep/run-<date>.json).
    #[arg(long, value_name = "FILE.json")]
    pub out: Option<PathBuf>,
    /// Also write the points as CSV.
    #[arg(long, value_name = "FILE.csv")]
    pub csv: Option<PathBuf>,
    /// Also render the HTML report into this directory.
    #[arg(long, value_name = "DIR")]
    pub report: Option<PathBuf>,
    /// Lower the client's soft file-descriptor limit (RLIMIT_NOFILE) to reproduce EMFILE; the
    /// embedded mock then runs in a child process with its own limit.
    #[arg(long, value_name = "N")]
    pub nofile: Option<u64>,
    /// Plain log lines instead of a progress bar.
    #[arg(long)]
    pub no_progress: bool,
    /// An S3 endpoint instead of the embedded mock (MinIO, real S3).
    #[arg(long, value_name = "URL")]
    pub endpoint: Option<String>,
    /// CA certificates (PEM) the endpoint's certificate chains to [default: the Mozilla roots
    /// bundled in the binary].
    #[arg(long, value_name = "PEM")]
    pub ca: Option<PathBuf>,
    /// Access key for --endpoint.
    #[arg(long)]
    pub access_key: Option<String>,
    /// Secret key for --endpoint.
    #[arg(long)]
    pub secret_key: Option<String>,
    /// Where every client's credentials come from. For --endpoint: static, env, container,
    /// imds or chain (default: static if --access-key, else chain). For the embedded mock:
    /// static (its keys, the default), container or imds (its endpoints: every client's default
    /// chain fetches, so a client per request fetches per request).
    #[arg(long, value_enum)]
    pub credentials: Option<CredentialsArg>,
    /// Region for --endpoint.
    #[arg(long, default_value = "us-east-1")]
    pub region: String,
    /// Bucket, created on the embedded mock; must exist or be creatable elsewhere
    /// [default: poolsweep].
    #[arg(long)]
    pub bucket: Option<String>,
}

/// `poolsweep report`.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// The result file.
    pub result: PathBuf,
    /// Output directory (default: next to the result file, `<name>-report/`).
    #[arg(long)]
    pub out: Option<PathBuf>,
}

/// `poolsweep compare`.
#[derive(Debug, Args)]
#[command(after_help = "\
Exit status: 0 unchanged or improved; 1 a regression beyond the threshold or a behaviour
change (different sockets, handshakes or retries for the same workload); 2 the files cannot
be compared (schema or workload differ).")]
pub struct CompareArgs {
    /// The baseline result file.
    pub base: PathBuf,
    /// The new result file.
    pub new: PathBuf,
    /// Throughput change that counts as a regression or an improvement, in percent.
    #[arg(long, default_value_t = 10.0)]
    pub threshold: f64,
    /// Report throughput changes and knee moves but decide the exit status on the counters'
    /// behaviour changes only (for baselines from another machine).
    #[arg(long)]
    pub report_only_throughput: bool,
    /// Do not compare the deterministic counters strictly.
    #[arg(long)]
    pub lenient_counters: bool,
    /// Also write the comparison as Markdown (CI job summary, PR comment).
    #[arg(long, value_name = "FILE.md")]
    pub markdown: Option<PathBuf>,
    /// Also write an HTML page with both curves into this directory.
    #[arg(long, value_name = "DIR")]
    pub html: Option<PathBuf>,
}

/// Export formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ExportFormat {
    /// One row per point.
    Csv,
    /// Bencher Metric Format JSON.
    Bencher,
    /// github-action-benchmark `customBiggerIsBetter` JSON.
    GithubActionBenchmark,
}

/// `poolsweep export`.
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// The result file.
    pub result: PathBuf,
    /// Format.
    #[arg(long, value_enum, default_value = "csv")]
    pub format: ExportFormat,
    /// Output file (default: stdout).
    #[arg(long)]
    pub out: Option<PathBuf>,
}
