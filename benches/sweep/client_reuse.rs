//! The guide's three client modes at batch 50 and maxSockets 50: one shared client, a client
//! per request (new pool, TLS cache and credentials each time), and several clients sharing one
//! handler.

use criterion::{BenchmarkId, Criterion, Throughput};
use poolsweep::modes::ClientMode;

use crate::support::{Bench, Scale};

pub(crate) fn define(c: &mut Criterion, b: &Bench) {
    let objects = if b.scale == Scale::Test { 50 } else { 200 };
    let config = b.config(objects);
    let mut g = b.group(c, "client_reuse");
    g.throughput(Throughput::Elements(objects));
    for client in [
        ClientMode::Shared,
        ClientMode::PerRequest,
        ClientMode::SharedHandler,
    ] {
        let spec = Bench::spec(client, 50, Some(50));
        b.bench(
            &mut g,
            BenchmarkId::new(client.as_str(), "b50_ms50"),
            &b.server,
            &config,
            &spec,
            false,
        );
    }
    g.finish();
}
