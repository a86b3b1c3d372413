//! Group `server_key`: an RSA-2048 server certificate (what S3 serves) against the main sweep's
//! ECDSA P-256, with a client per request so that every request pays a full handshake: the
//! per-request curve's cost. The RSA point is labelled as a scenario of its own; its ECDSA
//! twin is the main sweep's per-request point at the same batch and maxSockets.

use poolsweep::modes::ClientMode;
use poolsweep::sweep::Server;

use crate::max_sockets::objects;
use crate::support::{Bench, Scale};

pub(crate) fn define(b: &Bench, rsa: &Server) {
    let batch = 10;
    let mut config = b.config(objects(b.scale, batch));
    config.scenario = Some(
        "RSA-2048 server certificate as S3's (ECDSA P-256: the main sweep's per-request point)"
            .to_owned(),
    );
    let ms = if b.scale == Scale::Full {
        Some(50)
    } else {
        None
    };
    let spec = Bench::spec(ClientMode::PerRequest, batch, ms);
    b.measure(
        "server_key",
        crate::support::repetitions(b.scale),
        &[(rsa, config, spec)],
    );
}
