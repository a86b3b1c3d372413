//! The main sweep, group `max_sockets`: objects/s against maxSockets, one curve per batch size,
//! shared and per-request clients side by side, and the real AWS SDK for JavaScript v3 next to
//! poolsweep's client when Node.js is here. It also holds the guide's three client modes
//! (`client_reuse`: shared, per-request and shared-handler at batch 100, maxSockets 50) and the
//! ECDSA side of `server_key` (per-request, batch 10, maxSockets 50), which were groups of their
//! own measuring the same points (`--quick` and `--test`: at batch 10, maxSockets Infinity).
//!
//! maxSockets values are where the curve bends: the too-few side up to the batch, the batch,
//! and Infinity (Node's default); a client per request gets two values (1 and 50), since
//! maxSockets caps nothing there and what it shows is its level against a shared client.

use poolsweep::modes::ClientMode;
use poolsweep::sut::Sdk;
use poolsweep::sweep::PointSpec;

use crate::support::{Bench, Scale};

/// Steady batches per run after the 2 of start-up (issue 15: at least 20).
pub(crate) const STEADY_BATCHES: u64 = 20;

/// One batch size of the sweep: its maxSockets values (`None` = Infinity) per client mode;
/// shared-handler points are poolsweep's only.
struct Curve {
    batch: u32,
    shared: Vec<Option<u32>>,
    per_request: Vec<Option<u32>>,
    shared_handler: Vec<Option<u32>>,
    /// js-v3's shared maxSockets values; when empty, js-v3 runs nothing at this batch (else
    /// also the per-request points).
    js_v3_shared: Vec<Option<u32>>,
}

fn grid(scale: Scale) -> Vec<Curve> {
    match scale {
        Scale::Full => vec![
            Curve {
                batch: 10,
                shared: vec![Some(2), Some(5), Some(10), None],
                per_request: vec![Some(1), Some(50)],
                shared_handler: vec![],
                js_v3_shared: vec![Some(2), Some(5), Some(10), None],
            },
            Curve {
                batch: 100,
                shared: vec![Some(10), Some(25), Some(50), Some(100), None],
                per_request: vec![Some(50)],
                shared_handler: vec![Some(50)],
                js_v3_shared: vec![Some(10), Some(25), Some(50), Some(100), None],
            },
        ],
        Scale::Quick => vec![
            Curve {
                batch: 10,
                shared: vec![Some(5), None],
                per_request: vec![None],
                shared_handler: vec![None],
                js_v3_shared: vec![None],
            },
            Curve {
                batch: 100,
                shared: vec![Some(25), None],
                per_request: vec![],
                shared_handler: vec![],
                js_v3_shared: vec![],
            },
        ],
        Scale::Test => vec![
            Curve {
                batch: 10,
                shared: vec![Some(1), Some(10), None],
                per_request: vec![None],
                shared_handler: vec![None],
                js_v3_shared: vec![Some(1), Some(10), None],
            },
            Curve {
                batch: 100,
                shared: vec![Some(10), None],
                per_request: vec![Some(50)],
                shared_handler: vec![],
                js_v3_shared: vec![Some(10), None],
            },
        ],
    }
}

/// Objects per run for `batch`: 2 batches of start-up and [`STEADY_BATCHES`]; the smoke test
/// (`--test`) runs 2 + 2.
pub(crate) fn objects(scale: Scale, batch: u32) -> u64 {
    let steady = if scale == Scale::Test {
        2
    } else {
        STEADY_BATCHES
    };
    (2 + steady) * u64::from(batch)
}

pub(crate) fn define(b: &Bench) {
    let mut points = Vec::new();
    for curve in grid(b.scale) {
        let config = b.config(objects(b.scale, curve.batch));
        for sdk in b.sdks() {
            let shared = if sdk == Sdk::Poolsweep {
                &curve.shared
            } else {
                &curve.js_v3_shared
            };
            let modes = [
                (ClientMode::Shared, shared),
                (ClientMode::PerRequest, &curve.per_request),
                (ClientMode::SharedHandler, &curve.shared_handler),
            ];
            for (client, values) in modes {
                // The shared-handler mode is poolsweep's alone in the bench (client_reuse).
                if client == ClientMode::SharedHandler && sdk != Sdk::Poolsweep
                    || sdk == Sdk::JsV3 && curve.js_v3_shared.is_empty()
                {
                    continue;
                }
                for &ms in values {
                    let spec: PointSpec = Bench::sdk_spec(sdk, client, curve.batch, ms);
                    points.push((&b.server, config.clone(), spec));
                }
            }
        }
    }
    b.measure("max_sockets", crate::support::repetitions(b.scale), &points);
}
