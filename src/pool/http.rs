//! The HTTP side of releasing a socket: the `Connection` header an agent sends, whether a
//! response allows keep-alive, and reading a body to its end before the socket is released.
//!
//! Invariant: a socket is returned to the pool only after its response body was read to EOF.
//! Node frees the socket on the response's `'end'`, and hyper can reuse a connection only
//! once its body is drained.

use http::header::{CONNECTION, HeaderValue};
use http::{HeaderMap, Response, Version};
use http_body_util::BodyExt;
use hyper::body::{Bytes, Incoming};

use super::agent::Agent;
use super::conn::Connect;
use super::pooled::{Pooled, ReleaseOutcome};

impl<C: Connect> Agent<C> {
    /// The `Connection` header Node's `ClientRequest` sends through this agent: `close` when
    /// keepAlive is off and maxSockets is Infinity, `keep-alive` otherwise
    /// (`lib/_http_client.js`).
    pub fn connection_header(&self) -> HeaderValue {
        HeaderValue::from_static(if self.sends_connection_close() {
            "close"
        } else {
            "keep-alive"
        })
    }
}

/// Whether a response lets its connection be reused (Node's `res.shouldKeepAlive`). HTTP/1.1
/// allows it unless a `Connection` header lists `close`. HTTP/1.0 allows it only with
/// `Connection: keep-alive`. Other versions never do.
pub fn response_keeps_alive<B>(response: &Response<B>) -> bool {
    keeps_alive(response.version(), response.headers())
}

fn keeps_alive(version: Version, headers: &HeaderMap) -> bool {
    let has = |token: &str| {
        headers
            .get_all(CONNECTION)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .any(|t| t.trim().eq_ignore_ascii_case(token))
    };
    match version {
        Version::HTTP_11 => !has("close"),
        Version::HTTP_10 => has("keep-alive"),
        _ => false,
    }
}

/// Reads `response`'s body to its end, then releases `pooled` with the response's
/// keep-alive verdict. If the body fails, the socket is closed as an error.
pub async fn read_body_and_release<C: Connect>(
    pooled: Pooled<C>,
    response: Response<Incoming>,
) -> Result<(Response<Bytes>, ReleaseOutcome), hyper::Error> {
    let keep_alive = response_keeps_alive(&response);
    let (parts, body) = response.into_parts();
    match body.collect().await {
        Ok(collected) => {
            let outcome = pooled.release(keep_alive).await;
            Ok((Response::from_parts(parts, collected.to_bytes()), outcome))
        }
        Err(error) => {
            pooled.close_on_error();
            Err(error)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn response(version: Version, connection: Option<&'static str>) -> Response<()> {
        let mut r = Response::new(());
        *r.version_mut() = version;
        if let Some(c) = connection {
            r.headers_mut()
                .insert(CONNECTION, HeaderValue::from_static(c));
        }
        r
    }

    #[test]
    fn keep_alive_follows_version_and_connection_header() {
        assert!(response_keeps_alive(&response(Version::HTTP_11, None)));
        assert!(!response_keeps_alive(&response(
            Version::HTTP_11,
            Some("Close")
        )));
        assert!(!response_keeps_alive(&response(
            Version::HTTP_11,
            Some("upgrade, close")
        )));
        assert!(!response_keeps_alive(&response(Version::HTTP_10, None)));
        assert!(response_keeps_alive(&response(
            Version::HTTP_10,
            Some("keep-alive")
        )));
    }
}
