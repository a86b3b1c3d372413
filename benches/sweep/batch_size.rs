//! Throughput against batch size at the SDK's default maxSockets (50), shared client. Each
//! iteration sends ten batches, so `Throughput::Elements` (objects per iteration) is 10 × the
//! batch size and criterion's throughput chart orders the points by batch size.

use criterion::{BenchmarkId, Criterion, Throughput};
use poolsweep::modes::ClientMode;

use crate::support::{Bench, Scale};

pub(crate) fn define(c: &mut Criterion, b: &Bench) {
    let batches: &[u32] = match b.scale {
        Scale::Full => &[1, 10, 50, 100, 200],
        Scale::Quick => &[10, 100],
        Scale::Test => &[10],
    };
    let mut g = b.group(c, "batch_size");
    for &batch in batches {
        let objects = 10 * u64::from(batch);
        let config = b.config(objects);
        let spec = Bench::spec(ClientMode::Shared, batch, Some(50));
        g.throughput(Throughput::Elements(objects));
        b.bench(
            &mut g,
            BenchmarkId::new("shared_ms50", batch),
            &b.server,
            &config,
            &spec,
            false,
        );
    }
    g.finish();
}
