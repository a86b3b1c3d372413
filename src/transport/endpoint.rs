//! [`Endpoint`]: the S3 endpoint a client talks to, parsed once into what every request needs
//! (the pool origin, the `Host` header, scheme and authority for absolute URIs).
//!
//! Invariant: requests are path-style (`/bucket/key`) on this one origin, as
//! `forcePathStyle: true` makes the SDK do. Virtual-hosted buckets would be one origin per
//! bucket and are not modelled.

use http::Uri;
use http::header::HeaderValue;
use http::uri::{Authority, PathAndQuery, Scheme};

use crate::pool::Origin;

/// An invalid endpoint URL.
#[derive(Debug, thiserror::Error)]
#[error("invalid S3 endpoint {url:?}: {reason}")]
pub struct InvalidEndpoint {
    url: String,
    reason: String,
}

/// A parsed S3 endpoint (`https://host:port`).
#[derive(Clone, Debug)]
pub struct Endpoint {
    origin: Origin,
    scheme: Scheme,
    authority: Authority,
    host: HeaderValue,
}

impl Endpoint {
    /// Parses `url`, e.g. `https://127.0.0.1:40123`. A path is not allowed.
    pub fn parse(url: &str) -> Result<Self, InvalidEndpoint> {
        let fail = |reason: &str| InvalidEndpoint {
            url: url.to_owned(),
            reason: reason.to_owned(),
        };
        let uri: Uri = url.parse().map_err(|_| fail("not a URI"))?;
        if uri.path_and_query().is_some_and(|p| p.as_str() != "/") {
            return Err(fail("an endpoint has no path or query"));
        }
        let origin = Origin::from_uri(&uri).map_err(|e| fail(&e.to_string()))?;
        let scheme = uri.scheme().cloned().ok_or_else(|| fail("no scheme"))?;
        let authority = uri.authority().cloned().ok_or_else(|| fail("no host"))?;
        let host = HeaderValue::from_str(authority.as_str()).map_err(|_| fail("bad host"))?;
        Ok(Self {
            origin,
            scheme,
            authority,
            host,
        })
    }

    /// The pool origin.
    pub fn origin(&self) -> &Origin {
        &self.origin
    }

    /// The `Host` header value (`host[:port]`, as written in the URL).
    pub fn host(&self) -> &HeaderValue {
        &self.host
    }

    /// An absolute URI for `path_and_query` on this endpoint.
    pub(crate) fn absolute(&self, path_and_query: PathAndQuery) -> Uri {
        let mut parts = http::uri::Parts::default();
        parts.scheme = Some(self.scheme.clone());
        parts.authority = Some(self.authority.clone());
        parts.path_and_query = Some(path_and_query);
        Uri::from_parts(parts).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_host_port_and_builds_absolute_uris() {
        let e = Endpoint::parse("https://127.0.0.1:9443").unwrap();
        assert_eq!(e.origin(), &Origin::https("127.0.0.1", 9443));
        assert_eq!(e.host(), "127.0.0.1:9443");
        let uri = e.absolute(PathAndQuery::from_static("/b/k?x=1"));
        assert_eq!(uri.to_string(), "https://127.0.0.1:9443/b/k?x=1");
        assert!(Endpoint::parse("https://h/path").is_err());
        assert!(Endpoint::parse("ftp://h").is_err());
    }
}
