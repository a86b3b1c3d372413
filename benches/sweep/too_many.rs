//! The too-many side of the curve: three scenarios in which more sockets than needed cost
//! something measurable, each a maxSockets sweep of one shared client labelled with its cause
//! (the label is drawn on its charts in poolsweep's report, and its recommendation names the
//! cost with numbers):
//!
//! - **a per-prefix write limit**: S3 allows 3,500 PUT/s per partitioned prefix; this machine
//!   pushes several hundred small PUTs a second through one shared client, so the limit is
//!   scaled down to [`WRITE_RPS`], and a worker pool keeps [`WINDOW`] PUTs in flight (the
//!   `window` pattern: no batch barrier, so the limit is pressed all the time, as an upload
//!   queue presses it). The sockets that reach the limit get everything through; each socket
//!   beyond them only adds requests the limit refuses with 503 SlowDown. The client retries
//!   them as the SDK's standard retry mode does (3 attempts, back-off of up to 0.5 s and then
//!   1 s, a quota of 500 tokens per client of which each throttled retry holds 5 until its
//!   request succeeds): with enough requests refused at once the quota runs dry, the
//!   following SlowDowns are not retried, and they reach the application as errors. That is
//!   the measured fall-off. Objects stored per second hold at the limit, and the report says
//!   so; the cost is the requests that fail (and p99 latency). Those failed requests are the
//!   scenario's data, not a failure of `cargo bench`;
//! - **a lowered file-descriptor limit**: the client's process gets [`FD_HEADROOM`]
//!   descriptors beyond those it holds, the mock runs in a process of its own (as S3 would),
//!   and past that many sockets connects fail with EMFILE (the guide's warning). These failed
//!   requests are the scenario's data, not a failure of `cargo bench`;
//! - **bursty demand with idle closes**: a pause between batches longer than the server's
//!   idle timeout, so every socket is closed between bursts and every burst pays its
//!   handshakes again, more of them the more sockets; the server presents an RSA-2048
//!   certificate, as S3 does, whose handshakes cost its CPU several times an ECDSA one's, and
//!   serves them on one core. Measured with poolsweep's client and js-v3 (whose one
//!   JavaScript thread pays each handshake too). A handshake costs throughput only where it
//!   weighs against the requests it saves waiting for: at s3-like's write latency (4 + 20 ms
//!   median) 50 sockets per burst of 50 cost handshakes and CPU but no throughput, for either
//!   client (measured: poolsweep 340 against 342 objects/s at 25, js-v3 267 against 252), so
//!   the latency is single-digit milliseconds, as S3 Express One Zone's.

use std::time::Duration;

use poolsweep::modes::ClientMode;
use poolsweep::sut::{CredentialKind, Sdk};
use poolsweep::sweep::{ChildMock, Server, SweepConfig};
use poolsweep::workload::Pattern;

use crate::support::{Bench, Scale};

/// The scaled per-prefix PUT limit (S3: 3,500/s).
pub(crate) const WRITE_RPS: f64 = 300.0;

/// PUTs the write-limit scenario keeps in flight (its window; maxSockets caps it).
const WINDOW: u32 = 100;

/// The batch of the bursty and descriptor-limit scenarios.
const BATCH: u32 = 50;

/// The bursty scenario's pause between batches (not counted in throughput), ms.
const BURST_PAUSE_MS: u64 = 80;

/// The bursty scenario's server idle timeout, ms: shorter than the pause, so that every socket
/// is closed between bursts (at 25 ms, js-v3's event loop, busy with a burst's handshakes,
/// sometimes left a finished socket idle that long and its next request met the close: reset
/// retries that are not this scenario's point).
const BURST_IDLE_MS: u64 = 40;

/// The bursty scenario's time to first byte (log-normal part, after s3-like's fixed 4 ms for
/// writes), median and 99th percentile, ms: single-digit milliseconds, as S3 Express One
/// Zone's, so that a burst's handshakes weigh against its requests' latency.
const BURST_TTFB_MEDIAN_MS: f64 = 2.0;
/// See [`BURST_TTFB_MEDIAN_MS`].
const BURST_TTFB_P99_MS: f64 = 6.0;

/// The bursty scenario's label.
fn bursty_scenario() -> String {
    let fixed = mock_s3::Profile::s3_like().write_latency.fixed_ms;
    format!(
        "too many: bursts of {BATCH} PUTs {BURST_PAUSE_MS} ms apart, sockets closed after \
         {BURST_IDLE_MS} ms idle: every burst pays its handshakes again (RSA-2048 as S3, the \
         mock's on one core); latency {fixed:.0} + {BURST_TTFB_MEDIAN_MS:.0} ms median, \
         single-digit as S3 Express One Zone's"
    )
}

/// Descriptors the client's process gets beyond those open when the scenario starts.
pub(crate) const FD_HEADROOM: u64 = 40;

/// The scenario whose failed requests are expected (EMFILE past a point).
pub(crate) fn emfile_scenario() -> String {
    format!(
        "too many: {FD_HEADROOM} file descriptors beyond the client's own (EMFILE past them; \
         the mock in a process of its own)"
    )
}

/// Whether `scenario` measures failed requests as its finding (see [`errors_are_finding`]'s
/// callers): the descriptor limit (EMFILE) and the write limit (SlowDown errors once retries
/// run out).
pub(crate) fn errors_are_finding(scenario: &str) -> bool {
    scenario == emfile_scenario() || scenario == write_limit_scenario()
}

/// The write limit's label.
pub(crate) fn write_limit_scenario() -> String {
    format!(
        "too many: S3's 3,500 PUT/s per prefix scaled to {WRITE_RPS:.0}/s, {WINDOW} PUTs in flight \
         (SlowDown retries, then errors once the SDK's retries run out)"
    )
}

/// maxSockets values and objects per run (the batch and window patterns' start-up of 2 and a
/// steady window of 20 batches, or 2 in the smoke test) of the scenarios with batches of
/// `batch`.
fn grid(scale: Scale, batch: u32) -> (Vec<u32>, u64) {
    let objects = crate::max_sockets::objects(scale, batch);
    let values = match scale {
        Scale::Full => vec![5, 10, 25, 50],
        Scale::Quick => vec![10, 50],
        Scale::Test => vec![5, 50],
    };
    (values, objects)
}

pub(crate) fn define(b: &Bench, rsa: &Server) {
    let reps = crate::support::repetitions(b.scale);
    // A shared client of each of `sdks` at each of `values`.
    let sweep = |name: &str,
                 server: &Server,
                 config: &SweepConfig,
                 batch: u32,
                 values: &[u32],
                 sdks: &[Sdk]| {
        let mut points = Vec::new();
        for &sdk in sdks {
            for &ms in values {
                let spec = Bench::sdk_spec(sdk, ClientMode::Shared, batch, Some(ms));
                points.push((server, config.clone(), spec));
            }
        }
        b.measure(name, reps, &points);
    };

    // The write limit: a window of PUTs in flight, as a worker pool keeps it.
    let (_, objects) = grid(b.scale, WINDOW);
    let values = match b.scale {
        Scale::Full => vec![10, 25, 50, 100],
        Scale::Quick | Scale::Test => vec![10, 100],
    };
    let mut config = b.config(objects);
    config.pattern = Pattern::Window;
    config.profile_overrides.write_rps = Some(WRITE_RPS);
    config.scenario = Some(write_limit_scenario());
    let poolsweep = [Sdk::Poolsweep];
    sweep(
        "too_many/write_limit",
        &b.server,
        &config,
        WINDOW,
        &values,
        &poolsweep,
    );

    // Bursts with idle closes, on the RSA server, poolsweep's client and js-v3's.
    let (values, objects) = grid(b.scale, BATCH);
    let mut config = b.config(objects);
    config.pause_between_batches = Duration::from_millis(BURST_PAUSE_MS);
    config.profile_overrides.idle_timeout_ms = Some(BURST_IDLE_MS);
    config.profile_overrides.ttfb_median_ms = Some(BURST_TTFB_MEDIAN_MS);
    config.profile_overrides.ttfb_p99_ms = Some(BURST_TTFB_P99_MS);
    config.scenario = Some(bursty_scenario());
    sweep(
        "too_many/bursty_idle_close",
        rsa,
        &config,
        BATCH,
        &values,
        &b.sdks(),
    );

    // The mock in a process of its own keeps its own limit; the client's is lowered.
    let child = match ChildMock::spawn(std::path::Path::new(env!("CARGO_BIN_EXE_poolsweep")), 1) {
        Ok(child) => child,
        Err(e) => {
            eprintln!("cargo bench: the EMFILE scenario is skipped: {e:#}");
            return;
        }
    };
    if let Err(e) = child.create_bucket(crate::support::BUCKET) {
        eprintln!("cargo bench: the EMFILE scenario is skipped: {e:#}");
        return;
    }
    let server = Server::Child(child);
    let mut config = b.config(objects);
    config.credentials = CredentialKind::Static;
    config.scenario = Some(emfile_scenario());
    let Some(restore) = lower_nofile(FD_HEADROOM) else {
        eprintln!("cargo bench: the EMFILE scenario is skipped: RLIMIT_NOFILE cannot be read");
        return;
    };
    sweep(
        "too_many/fd_limit",
        &server,
        &config,
        BATCH,
        &values,
        &poolsweep,
    );
    let _ = rlimit::Resource::NOFILE.set(restore.0, restore.1);
}

/// Lowers this process's soft RLIMIT_NOFILE to the descriptors open now plus `headroom`;
/// returns the limits to restore.
fn lower_nofile(headroom: u64) -> Option<(u64, u64)> {
    let (soft, hard) = rlimit::Resource::NOFILE.get().ok()?;
    // New descriptors take the lowest free numbers below the limit: at least `headroom` of
    // them are free.
    let open = std::fs::read_dir("/proc/self/fd").ok()?.count() as u64;
    let limit = (open + headroom).min(hard);
    rlimit::Resource::NOFILE.set(limit, hard).ok()?;
    Some((soft, hard))
}
