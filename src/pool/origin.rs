//! The pool key: scheme, host and port. This is Node's `agent.getName(options)` reduced to
//! what this harness varies.
//!
//! Invariant: two origins are equal exactly when scheme, host and port are equal. Limits,
//! queues and free lists are kept per origin. Cloning an origin only bumps a reference count,
//! so the checkout hot path never allocates for its key.

use std::fmt;
use std::hash::{BuildHasherDefault, Hash, Hasher};
use std::sync::Arc;

/// Plain HTTP or HTTPS.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Scheme {
    /// `http:`, no TLS (Node's `http.Agent`).
    Http,
    /// `https:`, TLS via rustls (Node's `https.Agent`).
    Https,
}

impl Scheme {
    /// The scheme's default port: 80 or 443.
    pub fn default_port(self) -> u16 {
        match self {
            Scheme::Http => 80,
            Scheme::Https => 443,
        }
    }
}

/// The key the agent pools sockets by. Node's name is `host:port:localAddress[:family]`,
/// plus the TLS options for `https.Agent` (`lib/_http_agent.js`, `lib/https.js`
/// `getName`). Local address, family and per-request TLS options are not modelled: one
/// agent has one TLS configuration.
#[derive(Clone)]
pub struct Origin(Arc<Inner>);

struct Inner {
    scheme: Scheme,
    host: Box<str>,
    port: u16,
    /// The hash of `(scheme, host, port)`, computed once: an agent looks its origin up
    /// twice per request (checkout and free).
    hash: u64,
}

impl PartialEq for Origin {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
            || (self.0.hash == other.0.hash
                && self.0.scheme == other.0.scheme
                && self.0.port == other.0.port
                && self.0.host == other.0.host)
    }
}

impl Eq for Origin {}

impl Hash for Origin {
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_u64(self.0.hash);
    }
}

/// A [`Hasher`] for maps keyed by [`Origin`]: the origin's hash, already computed, passes
/// through unchanged (other input is folded in with FNV-1a).
#[derive(Default)]
pub(crate) struct OriginHasher(u64);

impl Hasher for OriginHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
    }

    fn write_u64(&mut self, value: u64) {
        self.0 ^= value;
    }
}

/// Builds [`OriginHasher`]s.
pub(crate) type BuildOriginHasher = BuildHasherDefault<OriginHasher>;

/// A URI that cannot be used as an [`Origin`].
#[derive(Debug, thiserror::Error)]
pub enum InvalidOrigin {
    /// The URI has no host.
    #[error("URI has no host")]
    MissingHost,
    /// The scheme is neither `http` nor `https`.
    #[error("unsupported URI scheme {0:?}")]
    UnsupportedScheme(String),
}

impl Origin {
    /// An origin from its parts. `host` is a DNS name or an IP address without brackets.
    pub fn new(scheme: Scheme, host: impl Into<String>, port: u16) -> Self {
        let host: String = host.into();
        let mut hasher = std::hash::DefaultHasher::new();
        (scheme, host.as_str(), port).hash(&mut hasher);
        Origin(Arc::new(Inner {
            scheme,
            host: host.into_boxed_str(),
            port,
            hash: hasher.finish(),
        }))
    }

    /// An `http://host:port` origin.
    pub fn http(host: impl Into<String>, port: u16) -> Self {
        Self::new(Scheme::Http, host, port)
    }

    /// An `https://host:port` origin.
    pub fn https(host: impl Into<String>, port: u16) -> Self {
        Self::new(Scheme::Https, host, port)
    }

    /// The origin of an absolute URI. The port defaults to the scheme's port.
    pub fn from_uri(uri: &http::Uri) -> Result<Self, InvalidOrigin> {
        let scheme = match uri.scheme_str() {
            Some("http") => Scheme::Http,
            Some("https") => Scheme::Https,
            other => {
                return Err(InvalidOrigin::UnsupportedScheme(
                    other.unwrap_or("").to_owned(),
                ));
            }
        };
        let host = uri.host().ok_or(InvalidOrigin::MissingHost)?;
        let host = host.trim_start_matches('[').trim_end_matches(']');
        let port = uri.port_u16().unwrap_or(scheme.default_port());
        Ok(Self::new(scheme, host, port))
    }

    /// The scheme.
    pub fn scheme(&self) -> Scheme {
        self.0.scheme
    }

    /// The host: a DNS name or an IP address, without brackets.
    pub fn host(&self) -> &str {
        &self.0.host
    }

    /// The port.
    pub fn port(&self) -> u16 {
        self.0.port
    }

    /// The value for a `Host` header: `host:port` (IPv6 hosts in brackets).
    pub fn authority(&self) -> String {
        if self.0.host.contains(':') {
            format!("[{}]:{}", self.0.host, self.0.port)
        } else {
            format!("{}:{}", self.0.host, self.0.port)
        }
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scheme = match self.0.scheme {
            Scheme::Http => "http",
            Scheme::Https => "https",
        };
        write!(f, "{scheme}://{}", self.authority())
    }
}

impl fmt::Debug for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Origin({self})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_uris_with_default_ports() {
        let o = Origin::from_uri(&"https://bucket.s3.example/key".parse().unwrap()).unwrap();
        assert_eq!(o, Origin::https("bucket.s3.example", 443));
        let o = Origin::from_uri(&"http://[::1]:9000/".parse().unwrap()).unwrap();
        assert_eq!(o.host(), "::1");
        assert_eq!(o.to_string(), "http://[::1]:9000");
        assert!(matches!(
            Origin::from_uri(&"ftp://x/".parse().unwrap()),
            Err(InvalidOrigin::UnsupportedScheme(_))
        ));
    }

    #[test]
    fn scheme_is_part_of_the_key() {
        assert_ne!(Origin::http("h", 1), Origin::https("h", 1));
    }
}
