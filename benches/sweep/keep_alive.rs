//! Group `keep_alive`: Node's keepAlive off, shared poolsweep client at batch 100, labelled as
//! a scenario of its own; keepAlive on is the main sweep's points at the same maxSockets. With
//! keepAlive off and a finite maxSockets, Node still reuses sockets for queued requests; with
//! maxSockets Infinity it sends `Connection: close` and opens a socket per request.

use poolsweep::modes::ClientMode;

use crate::max_sockets::objects;
use crate::support::{Bench, Scale};

pub(crate) fn define(b: &Bench) {
    let (batch, values): (u32, &[Option<u32>]) = match b.scale {
        Scale::Full => (100, &[Some(50), None]),
        Scale::Quick | Scale::Test => (10, &[None]),
    };
    let mut config = b.config(objects(b.scale, batch));
    config.keep_alive = false;
    config.scenario = Some(
        "keepAlive off (on: the main sweep's points); at maxSockets Infinity a socket per request"
            .to_owned(),
    );
    let points: Vec<_> = values
        .iter()
        .map(|&ms| {
            let spec = Bench::spec(ClientMode::Shared, batch, ms);
            (&b.server, config.clone(), spec)
        })
        .collect();
    b.measure("keep_alive", crate::support::repetitions(b.scale), &points);
}
