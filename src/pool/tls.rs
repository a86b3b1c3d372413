//! The per-agent rustls client configuration and its session cache.
//!
//! Invariant: every call builds a new `ClientConfig` with a new session store. rustls keeps
//! the resumption cache inside the config (`ClientConfig::resumption`), and cloning the config
//! or its `Arc` shares that cache. Two agents that shared one would resume each other's
//! sessions. Node's `https.Agent` keeps its cache per Agent (`lib/https.js`,
//! `maxCachedSessions`, default 100). So each [`HttpConnector`](super::HttpConnector) builds
//! one config here and never clones it out.
//!
//! The cache is rustls's, sized like Node's. It differs from Node's in two ways:
//! - rustls keys it by server name. Node keys it by the agent key, which includes the port.
//! - A TLS 1.3 ticket is used at most once (the `ClientSessionStore` contract), and each
//!   handshake stores the tickets the server sends (rustls servers send 2 by default).
//!   Node reuses the one latest session for every new socket. So when more new sockets open
//!   at once than tickets are cached, some do full handshakes here where Node would resume.
//!
//! Sockets that start before any handshake has completed have nothing to resume, in both.
//! rustls does not evict a session when its connection closes with an error; Node does.

use std::sync::Arc;

use rustls::client::Resumption;
use rustls::{ClientConfig, RootCertStore};

/// Builds a fresh client config: aws-lc-rs provider, safe default protocol versions, the
/// caller's roots, ALPN `http/1.1` only (Node's https client speaks HTTP/1.1), and a session
/// cache for `max_cached_sessions` servers (`0` turns resumption off, as in Node).
pub(super) fn client_config(
    roots: Arc<RootCertStore>,
    max_cached_sessions: usize,
) -> Result<ClientConfig, rustls::Error> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    config.resumption = if max_cached_sessions == 0 {
        Resumption::disabled()
    } else {
        Resumption::in_memory_sessions(max_cached_sessions)
    };
    Ok(config)
}
