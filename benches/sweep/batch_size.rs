//! Group `batch_size`: objects/s against batch size at the SDK's default maxSockets (50), one
//! shared poolsweep client, labelled as a scenario of its own in poolsweep's report (its points
//! are one maxSockets per batch, not a curve along maxSockets).

use poolsweep::modes::ClientMode;

use crate::max_sockets::objects;
use crate::support::{Bench, Scale};

/// The scenario label on its charts.
pub(crate) const SCENARIO: &str = "batch size at maxSockets 50 (the SDK's default), shared client";

pub(crate) fn define(b: &Bench) {
    let batches: &[u32] = match b.scale {
        Scale::Full => &[1, 10, 50, 100, 200],
        Scale::Quick => &[1, 10],
        Scale::Test => &[1, 50],
    };
    let points: Vec<_> = batches
        .iter()
        .map(|&batch| {
            let mut config = b.config(objects(b.scale, batch));
            config.scenario = Some(SCENARIO.to_owned());
            let spec = Bench::spec(ClientMode::Shared, batch, Some(50));
            (&b.server, config, spec)
        })
        .collect();
    b.measure("batch_size", crate::support::repetitions(b.scale), &points);
}
