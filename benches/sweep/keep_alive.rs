//! Node's keepAlive on and off. With keepAlive off and a finite maxSockets, Node still reuses
//! sockets for queued requests; with maxSockets Infinity it sends `Connection: close` and opens a
//! socket per request.

use criterion::{BenchmarkId, Criterion, Throughput};
use poolsweep::modes::ClientMode;

use crate::support::{Bench, Scale};

pub(crate) fn define(c: &mut Criterion, b: &Bench) {
    let objects = if b.scale == Scale::Test { 50 } else { 200 };
    let mut g = b.group(c, "keep_alive");
    g.throughput(Throughput::Elements(objects));
    for (keep_alive, ms) in [
        (true, Some(50)),
        (false, Some(50)),
        (true, None),
        (false, None),
    ] {
        let mut config = b.config(objects);
        config.keep_alive = keep_alive;
        let spec = Bench::spec(ClientMode::Shared, 50, ms);
        let id = BenchmarkId::new(
            if keep_alive { "on" } else { "off" },
            ms.map_or("ms_inf".to_owned(), |m| format!("ms{m}")),
        );
        b.bench(&mut g, id, &b.server, &config, &spec, false);
    }
    g.finish();
}
