//! The per-agent rustls client configuration and its TLS session cache, which works as
//! Node's `https.Agent` cache does (`lib/https.js` at Node v20.20.2, lines cited below).
//!
//! Invariant: each [`HttpConnector`](super::HttpConnector) holds one [`SessionCache`], never
//! shared with another agent, with at most one session per origin: the latest one the origin's
//! server sent. A socket is bound to the cached session when it is created, before its TCP
//! connect, as Node passes `{ session }` to `tls.connect` in `createConnection`
//! (lines 162-171). Sessions arrive as Node's `'session'` events do (lines 176-179), replace
//! the origin's entry (`_cacheSession`, lines 326-346: an existing key keeps its place, a new
//! one evicts the oldest-inserted key beyond `maxCachedSessions`), and a connection that ends
//! with an error evicts its origin's entry (lines 181-185, `_evictSession`).
//!
//! Where it differs from Node, and why: a TLS 1.3 ticket is single-use in rustls (the
//! `ClientSessionStore` contract, and `Tls13ClientSessionValue` cannot be cloned). Node offers
//! its one cached session to every socket created until a newer one arrives; here the first
//! socket created takes the ticket, and the others created before a newer ticket arrives
//! offer none. The server sees the same thing when it accepts a ticket once, as the mock
//! (rustls, stateful cache) does: measured with Node v20.20.2 (OpenSSL 3.0.19) against the
//! mock, one warm-up request then a burst of 9 new sockets makes 1 resumed and 8 full
//! handshakes, as here (the Node comparison test in `connector/tests.rs`). A server that
//! accepts a ticket more than once (stateless tickets, as OpenSSL serves by default) resumes
//! all of Node's burst (measured: 9 of 9 against Node's own https server) and still only one
//! of ours. TLS 1.2 sessions are offered to every socket, as in Node.
//!
//! Sockets that start before any handshake has completed have nothing to resume, in both.

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use rustls::client::{
    ClientSessionStore, Resumption, Tls12ClientSessionValue, Tls13ClientSessionValue,
};
use rustls::pki_types::ServerName;
use rustls::{ClientConfig, NamedGroup, RootCertStore};

use super::origin::{BuildOriginHasher, Origin};

/// Builds the agent's base client config: aws-lc-rs provider, safe default protocol versions,
/// the caller's roots, ALPN `http/1.1` only (Node's https client speaks HTTP/1.1), and
/// resumption off: with a cache, each socket gets its own config bound to its session
/// ([`SessionCache::config_for`]).
pub(super) fn client_config(roots: Arc<RootCertStore>) -> Result<ClientConfig, rustls::Error> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    config.resumption = Resumption::disabled();
    Ok(config)
}

/// One origin's cached session (Node keeps one `session` per agent key) and rustls's
/// key-exchange hint (which group the server chose, to avoid a HelloRetryRequest).
#[derive(Default)]
struct Entry {
    tls13: Option<Tls13ClientSessionValue>,
    tls12: Option<Tls12ClientSessionValue>,
    kx_hint: Option<NamedGroup>,
}

#[derive(Default)]
struct Sessions {
    map: HashMap<Origin, Entry, BuildOriginHasher>,
    /// Keys in insertion order (Node's `_sessionCache.list`).
    list: VecDeque<Origin>,
}

/// An agent's TLS session cache: Node's `maxCachedSessions` origins, one session each.
pub(super) struct SessionCache {
    max: usize,
    sessions: Mutex<Sessions>,
}

impl fmt::Debug for SessionCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The sessions are secrets.
        f.debug_struct("SessionCache")
            .field("max", &self.max)
            .finish_non_exhaustive()
    }
}

impl SessionCache {
    /// A cache for `max` origins (`max > 0`; Node's `maxCachedSessions: 0` means no cache).
    pub(super) fn new(max: usize) -> Self {
        Self {
            max,
            sessions: Mutex::default(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Sessions> {
        self.sessions.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The config for one new socket to `origin`, bound to the origin's cached session now
    /// (`createConnection`, lines 162-171). The TLS 1.3 ticket leaves the cache, because rustls
    /// uses it once.
    pub(super) fn config_for(
        self: &Arc<Self>,
        base: &ClientConfig,
        origin: &Origin,
    ) -> Arc<ClientConfig> {
        let offered = self
            .lock()
            .map
            .get_mut(origin)
            .and_then(|entry| entry.tls13.take());
        let mut config = base.clone();
        config.resumption = Resumption::store(Arc::new(SocketSessions {
            cache: Arc::clone(self),
            origin: origin.clone(),
            offered: Mutex::new(offered),
        }));
        Arc::new(config)
    }

    /// Node's `_cacheSession` (lines 326-346), applied to the origin's entry.
    fn cache(&self, origin: &Origin, update: impl FnOnce(&mut Entry)) {
        let mut sessions = self.lock();
        if let Some(entry) = sessions.map.get_mut(origin) {
            update(entry);
            return;
        }
        if sessions.list.len() >= self.max
            && let Some(oldest) = sessions.list.pop_front()
        {
            sessions.map.remove(&oldest);
        }
        let mut entry = Entry::default();
        update(&mut entry);
        sessions.list.push_back(origin.clone());
        sessions.map.insert(origin.clone(), entry);
    }

    /// Node's `_evictSession` (lines 348-355), on a connection that ended with an error.
    pub(super) fn evict(&self, origin: &Origin) {
        let mut sessions = self.lock();
        if sessions.map.remove(origin).is_some()
            && let Some(i) = sessions.list.iter().position(|o| o == origin)
        {
            sessions.list.remove(i);
        }
    }

    /// Origins with a cached entry, oldest first.
    #[cfg(test)]
    pub(super) fn origins(&self) -> Vec<Origin> {
        self.lock().list.iter().cloned().collect()
    }
}

/// The session store of one socket: it offers the session bound at creation, and passes
/// what the server sends to the agent's cache (the socket's `'session'` events). Keyed by
/// the socket's origin, as Node's cache is keyed by the agent key (host and port), not by
/// the TLS server name.
struct SocketSessions {
    cache: Arc<SessionCache>,
    origin: Origin,
    offered: Mutex<Option<Tls13ClientSessionValue>>,
}

impl fmt::Debug for SocketSessions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SocketSessions")
            .field("origin", &self.origin)
            .finish_non_exhaustive()
    }
}

impl ClientSessionStore for SocketSessions {
    fn set_kx_hint(&self, _: ServerName<'static>, group: NamedGroup) {
        self.cache
            .cache(&self.origin, |entry| entry.kx_hint = Some(group));
    }

    fn kx_hint(&self, _: &ServerName<'_>) -> Option<NamedGroup> {
        let sessions = self.cache.lock();
        sessions
            .map
            .get(&self.origin)
            .and_then(|entry| entry.kx_hint)
    }

    fn set_tls12_session(&self, _: ServerName<'static>, value: Tls12ClientSessionValue) {
        self.cache.cache(&self.origin, |entry| {
            entry.tls12 = Some(value);
            entry.tls13 = None;
        });
    }

    fn tls12_session(&self, _: &ServerName<'_>) -> Option<Tls12ClientSessionValue> {
        let sessions = self.cache.lock();
        sessions.map.get(&self.origin)?.tls12.clone()
    }

    fn remove_tls12_session(&self, _: &ServerName<'static>) {
        if let Some(entry) = self.cache.lock().map.get_mut(&self.origin) {
            entry.tls12 = None;
        }
    }

    fn insert_tls13_ticket(&self, _: ServerName<'static>, value: Tls13ClientSessionValue) {
        // The latest ticket replaces the one before, as each 'session' event does in Node.
        self.cache.cache(&self.origin, |entry| {
            entry.tls13 = Some(value);
            entry.tls12 = None;
        });
    }

    fn take_tls13_ticket(&self, _: &ServerName<'static>) -> Option<Tls13ClientSessionValue> {
        self.offered
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oldest_inserted_origin_is_evicted_and_updates_keep_their_place() {
        let cache = SessionCache::new(2);
        let [a, b, c] = ["a", "b", "c"].map(|h| Origin::https(h, 443));
        let hint = |entry: &mut Entry| entry.kx_hint = Some(NamedGroup::X25519);
        cache.cache(&a, hint);
        cache.cache(&b, hint);
        cache.cache(&a, hint);
        assert_eq!(cache.origins(), [a.clone(), b.clone()]);
        cache.cache(&c, hint);
        assert_eq!(cache.origins(), [b.clone(), c.clone()]);
        cache.evict(&b);
        assert_eq!(cache.origins(), [c]);
    }
}
