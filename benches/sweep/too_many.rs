//! The too-many side of the curve: three scenarios in which more sockets than needed cost
//! something measurable, each a maxSockets sweep of one shared client labelled with its cause
//! (the label is drawn on its charts in poolsweep's report, and its recommendation names the
//! cost with numbers):
//!
//! - **a per-prefix write limit**: S3 allows 3,500 PUT/s per partitioned prefix; this machine
//!   pushes a few hundred small PUTs a second through one shared client at batch 50 on the
//!   `s3-like` profile, so the limit is scaled down to [`WRITE_RPS`] (3,500 / 23), where more
//!   sockets than the limit needs only draw SlowDown responses and retries with back-off;
//! - **a lowered file-descriptor limit**: the client's process gets [`FD_HEADROOM`]
//!   descriptors beyond those it holds, the mock runs in a process of its own (as S3 would),
//!   and past that many sockets connects fail with EMFILE (the guide's warning). These failed
//!   requests are the scenario's data, not a failure of `cargo bench`;
//! - **bursty demand with idle closes**: a pause between batches longer than the server's
//!   idle timeout, so every socket is closed between bursts and every burst pays its
//!   handshakes again, more of them the more sockets; the server presents an RSA-2048
//!   certificate, as S3 does, whose handshakes cost its CPU several times an ECDSA one's.

use std::time::Duration;

use criterion::Criterion;
use poolsweep::modes::ClientMode;
use poolsweep::sut::CredentialKind;
use poolsweep::sweep::{ChildMock, Server, SweepConfig};

use crate::support::{Bench, Scale};

/// The scaled per-prefix PUT limit (S3: 3,500/s).
pub(crate) const WRITE_RPS: f64 = 150.0;

/// Descriptors the client's process gets beyond those open when the scenario starts.
pub(crate) const FD_HEADROOM: u64 = 40;

/// The scenario whose failed requests are expected (EMFILE past a point).
pub(crate) fn emfile_scenario() -> String {
    format!(
        "too many: {FD_HEADROOM} file descriptors beyond the client's own (EMFILE past them; \
         the mock in a process of its own)"
    )
}

/// Runs per point.
const REPETITIONS: u32 = 3;

/// (batch, maxSockets values, objects per run) for each scale: a steady window of at least
/// 20 batches after the 2 of start-up, except in the smoke test.
fn grid(scale: Scale) -> (u32, Vec<u32>, u64) {
    match scale {
        Scale::Full => (50, vec![5, 10, 25, 50], 50 * 22),
        Scale::Quick => (50, vec![10, 50], 50 * 22),
        Scale::Test => (10, vec![5, 10], 10 * 4),
    }
}

pub(crate) fn define(_c: &mut Criterion, b: &Bench) {
    let (batch, max_sockets, objects) = grid(b.scale);
    // Whole workloads of seconds each: measured for poolsweep's report in rounds (every
    // maxSockets once per round, [`REPETITIONS`] rounds), not sampled by criterion, whose 10
    // samples per point would not fit the 15 minutes of `cargo bench`.
    let reps = if b.scale == Scale::Test {
        1
    } else {
        REPETITIONS
    };
    let sweep = |name: &str, server: &Server, config: &SweepConfig| {
        for round in 0..reps {
            for &ms in &max_sockets {
                let spec = Bench::spec(ClientMode::Shared, batch, Some(ms));
                let took = b.time_run(server, config, &spec, u64::from(round));
                eprintln!(
                    "{name}: shared batch {batch} maxSockets {ms}, round {} of {reps}: {:.2} s",
                    round + 1,
                    took.as_secs_f64()
                );
            }
        }
    };

    let mut config = b.config(objects);
    config.profile_overrides.write_rps = Some(WRITE_RPS);
    config.scenario = Some(format!(
        "too many: S3's 3,500 PUT/s per prefix scaled to {WRITE_RPS:.0}/s for this machine \
         (SlowDown beyond it)"
    ));
    sweep("too_many/write_limit", &b.server, &config);

    let rsa = mock_s3::MockS3::builder()
        .key_type(mock_s3::KeyType::Rsa)
        .storage(mock_s3::StorageMode::Discard)
        .profile(mock_s3::Profile::s3_like())
        .worker_threads(1)
        .start()
        .expect("the RSA mock starts");
    rsa.create_bucket(crate::support::BUCKET).expect("bucket");
    let rsa = Server::Embedded(rsa);
    let mut config = b.config(objects);
    config.pause_between_batches = Duration::from_millis(100);
    config.profile_overrides.idle_timeout_ms = Some(40);
    config.scenario = Some(
        "too many: bursts 100 ms apart, idle sockets closed after 40 ms, RSA-2048 as S3 \
         (full handshakes paid again every burst)"
            .to_owned(),
    );
    sweep("too_many/bursty_idle_close", &rsa, &config);
    if let Server::Embedded(mock) = rsa {
        mock.shutdown();
    }

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
    sweep("too_many/fd_limit", &server, &config);
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
