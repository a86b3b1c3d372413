//! The curve: time per workload against maxSockets, one group per batch size, shared and
//! per-request clients side by side, and the real AWS SDK for JavaScript v3 next to poolsweep's
//! client when Node.js is here (ids `js-v3/shared`, `js-v3/per-request`). The parameter is
//! maxSockets (numeric, no `Throughput`), so criterion's line chart plots time against
//! maxSockets; Infinity cannot sit on that axis and gets a group of its own. poolsweep's report
//! draws all of it as objects/s, the SDKs' curves overlaid.

use criterion::{BenchmarkId, Criterion};
use poolsweep::modes::ClientMode;
use poolsweep::sut::Sdk;

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
        for (sdk, client) in sdk_clients(b) {
            for &ms in &max_sockets {
                let spec = Bench::sdk_spec(sdk, client, batch, Some(ms));
                b.bench(
                    &mut g,
                    BenchmarkId::new(id(sdk, client), ms),
                    &b.server,
                    &config,
                    &spec,
                    true,
                );
            }
        }
        g.finish();
        let mut g = b.group(c, &format!("max_sockets_infinity/batch_{batch}"));
        for (sdk, client) in sdk_clients(b) {
            let spec = Bench::sdk_spec(sdk, client, batch, None);
            b.bench(
                &mut g,
                BenchmarkId::new(id(sdk, client), "inf"),
                &b.server,
                &config,
                &spec,
                true,
            );
        }
        g.finish();
    }
}

/// (SDK, client mode) pairs of the sweep, poolsweep's first.
fn sdk_clients(b: &Bench) -> Vec<(Sdk, ClientMode)> {
    b.sdks()
        .into_iter()
        .flat_map(|sdk| [ClientMode::Shared, ClientMode::PerRequest].map(|c| (sdk, c)))
        .collect()
}

/// The benchmark id's function name: `shared` for poolsweep's client (as before the SDK
/// axis), `js-v3/shared` for another SDK.
fn id(sdk: Sdk, client: ClientMode) -> String {
    match sdk {
        Sdk::Poolsweep => client.as_str().to_owned(),
        other => format!("{other}/{client}"),
    }
}
