//! `cargo bench`: poolsweep's main job. Starts the embedded mock (`s3-like`, every client's
//! credentials from its container endpoint), measures each group in shuffled rounds of three
//! runs per point (every run from a clean mock, a start-up of 2 batches and a steady window of
//! 20), then writes poolsweep's report, `target/criterion/poolsweep/index.html` (its data:
//! `run.json` beside it), and prints each group's wall time and work.
//!
//! Groups: `max_sockets` (the main sweep, poolsweep's client and js-v3 when Node.js is here;
//! it holds the client modes of `client_reuse` and the ECDSA side of `server_key`),
//! `batch_size`, `keep_alive`, `server_key`, and the too-many scenarios `too_many/write_limit`,
//! `too_many/bursty_idle_close`, `too_many/fd_limit`.
//!
//! `cargo bench -- --quick` runs fewer points (three runs each); `cargo bench -- --test` runs
//! each point once with a steady window of 2 batches (a smoke test). Any other argument is
//! refused with exit status 2 before anything runs.
//!
//! Exit status: 0 when every point was measured; 1 when a point **failed**, i.e. a run of it
//! could not be measured (its client could not run it, or objects were not acknowledged in a
//! group that does not measure failed requests): the report is written first, with the failed
//! points marked, and they are listed on stderr. Failed requests that a scenario measures
//! (the descriptor limit's EMFILE, the write limit's SlowDown errors) are that scenario's
//! finding: those points are measured points with their errors, and do not change the exit
//! status.

mod batch_size;
mod keep_alive;
mod max_sockets;
mod server_key;
mod support;
mod too_many;

use poolsweep::sweep::Server;

fn main() {
    let bench = support::Bench::start();
    max_sockets::define(&bench);
    batch_size::define(&bench);
    keep_alive::define(&bench);
    let rsa = mock_s3::MockS3::builder()
        .key_type(mock_s3::KeyType::Rsa)
        .storage(mock_s3::StorageMode::Discard)
        .profile(mock_s3::Profile::s3_like())
        .worker_threads(1)
        .start()
        .expect("the RSA mock starts");
    rsa.create_bucket(support::BUCKET).expect("bucket");
    let rsa = Server::Embedded(rsa);
    server_key::define(&bench, &rsa);
    too_many::define(&bench, &rsa);
    if let Server::Embedded(mock) = rsa {
        mock.shutdown();
    }
    bench.write_report();
    bench.print_timings();
    bench.exit_if_failed();
}
