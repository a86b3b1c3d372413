//! The rustls client configuration of the hyper-util pool: the same settings as the Agent's
//! connector (`pool/tls.rs`, private to the pool): aws-lc-rs, ALPN `http/1.1` only, and an
//! in-memory session cache sized like Node's (`maxCachedSessions`, 100).
//!
//! Invariant: each call builds a new config and so a new session cache; a pool keeps one for
//! its life, and a client per request gets its own (rustls keeps the cache inside the config,
//! so sharing the `Arc` would let "fresh" clients resume each other's sessions).

use std::sync::Arc;

use rustls::client::Resumption;
use rustls::{ClientConfig, RootCertStore};

use crate::pool::NODE_MAX_CACHED_SESSIONS;

/// A fresh client config trusting `roots`.
pub(crate) fn client_config(roots: Arc<RootCertStore>) -> Result<ClientConfig, rustls::Error> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    config.resumption = Resumption::in_memory_sessions(NODE_MAX_CACHED_SESSIONS);
    Ok(config)
}
