//! `cargo bench`: poolsweep's main job. Starts the embedded mock (`s3-like`), runs each sweep
//! as criterion benchmark groups (whole workloads timed with `iter_custom`, every object
//! checked as acknowledged), then writes poolsweep's own report next to criterion's:
//! `target/criterion/poolsweep/index.html` (criterion's is `target/criterion/report/index.html`).
//!
//! `cargo bench -- --quick` runs fewer points; `cargo bench -- --test` runs each once.
//!
//! A point that fails does not stop the run: it is marked in poolsweep's report and listed
//! at the end, and then the process exits with status 1.

mod batch_size;
mod client_reuse;
mod keep_alive;
mod max_sockets;
mod server_key;
mod support;
mod too_many;

use criterion::Criterion;

fn main() {
    let bench = support::Bench::start();
    let mut c = Criterion::default().configure_from_args();
    max_sockets::define(&mut c, &bench);
    batch_size::define(&mut c, &bench);
    client_reuse::define(&mut c, &bench);
    keep_alive::define(&mut c, &bench);
    server_key::define(&mut c, &bench);
    too_many::define(&mut c, &bench);
    c.final_summary();
    bench.write_report();
    bench.exit_if_failed();
}
