//! The curve: time per workload against maxSockets, one group per batch size, shared and
//! per-request clients side by side. The parameter is maxSockets (numeric, no `Throughput`),
//! so criterion's line chart plots time against maxSockets; Infinity cannot sit on that axis
//! and gets a group of its own. poolsweep's report draws all of it as objects/s.

use criterion::{BenchmarkId, Criterion};
use poolsweep::modes::ClientMode;

use crate::support::{Bench, Scale};

/// (batch, finite maxSockets values, objects per iteration) for each scale.
fn grid(scale: Scale) -> Vec<(u32, Vec<u32>, u64)> {
    match scale {
        Scale::Full => vec![
            (10, vec![1, 2, 5, 10, 20], 50),
            (100, vec![1, 5, 10, 25, 50, 100, 200], 200),
        ],
        Scale::Quick => vec![(100, vec![1, 10, 50, 100], 100)],
        Scale::Test => vec![(10, vec![1, 10], 20), (100, vec![10, 100], 100)],
    }
}

pub(crate) fn define(c: &mut Criterion, b: &Bench) {
    for (batch, max_sockets, objects) in grid(b.scale) {
        let config = b.config(objects);
        let mut g = b.group(c, &format!("max_sockets/batch_{batch}"));
        for client in [ClientMode::Shared, ClientMode::PerRequest] {
            for &ms in &max_sockets {
                let spec = Bench::spec(client, batch, Some(ms));
                b.bench(
                    &mut g,
                    BenchmarkId::new(client.as_str(), ms),
                    &b.server,
                    &config,
                    &spec,
                    true,
                );
            }
        }
        g.finish();
        let mut g = b.group(c, &format!("max_sockets_infinity/batch_{batch}"));
        for client in [ClientMode::Shared, ClientMode::PerRequest] {
            let spec = Bench::spec(client, batch, None);
            b.bench(
                &mut g,
                BenchmarkId::new(client.as_str(), "inf"),
                &b.server,
                &config,
                &spec,
                true,
            );
        }
        g.finish();
    }
}
