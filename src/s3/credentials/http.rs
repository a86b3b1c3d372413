//! The HTTP client the credentials endpoints are called with: one [`Agent`] per provider,
//! made on first use, with the SDK handler's defaults (keepAlive, maxSockets 50).
//!
//! Invariant: the agent belongs to one provider and is never shared with the S3 client's pool.
//! The SDK's container provider builds its own `NodeHttpHandler`, so a provider made per
//! client (the per-request anti-pattern) also pays for a new connection and a full TLS
//! handshake on each fetch.

use std::sync::{Arc, OnceLock};

use bytes::Bytes;
use http::header::{HOST, HeaderName, HeaderValue};
use http::{Method, Request, StatusCode, Uri};
use http_body_util::Full;
use rustls::RootCertStore;

use super::{CredentialsError, ENDPOINT_TIMEOUT};
use crate::pool::{Agent, AgentOptions, HttpConnector, Origin, read_body_and_release};

/// Calls credentials endpoints.
#[derive(Debug)]
pub(super) struct EndpointClient {
    roots: Arc<RootCertStore>,
    agent: OnceLock<Result<Agent<HttpConnector>, rustls::Error>>,
}

impl EndpointClient {
    pub(super) fn new(roots: Arc<RootCertStore>) -> Self {
        Self {
            roots,
            agent: OnceLock::new(),
        }
    }

    fn agent(&self) -> Result<&Agent<HttpConnector>, CredentialsError> {
        self.agent
            .get_or_init(|| {
                HttpConnector::new(Arc::clone(&self.roots))
                    .map(|c| Agent::new(c, AgentOptions::sdk_default()))
            })
            .as_ref()
            .map_err(|e| CredentialsError::Tls(e.clone()))
    }

    /// One call, bounded by [`ENDPOINT_TIMEOUT`]: the status and the whole body.
    pub(super) async fn call(
        &self,
        method: Method,
        url: &str,
        headers: &[(HeaderName, HeaderValue)],
    ) -> Result<(StatusCode, Bytes), CredentialsError> {
        let uri: Uri = url
            .parse()
            .map_err(|_| CredentialsError::InvalidUrl(url.to_owned()))?;
        let origin =
            Origin::from_uri(&uri).map_err(|_| CredentialsError::InvalidUrl(url.to_owned()))?;
        let path = uri.path_and_query().map_or("/", |p| p.as_str()).to_owned();
        let agent = self.agent()?;
        let exchange = async {
            let mut socket = agent
                .checkout(&origin)
                .await
                .map_err(CredentialsError::Connect)?;
            let mut request = Request::builder()
                .method(method)
                .uri(path)
                .header(HOST, origin.authority())
                .header(http::header::CONNECTION, agent.connection_header());
            for (name, value) in headers {
                request = request.header(name, value);
            }
            let request = request
                .body(Full::new(Bytes::new()))
                .map_err(|e| CredentialsError::InvalidUrl(e.to_string()))?;
            let response = match socket.send_request(request).await {
                Ok(response) => response,
                Err(error) => {
                    socket.close_on_error();
                    return Err(CredentialsError::Http(error));
                }
            };
            let (response, _) = read_body_and_release(socket, response)
                .await
                .map_err(CredentialsError::Http)?;
            let status = response.status();
            Ok((status, response.into_body()))
        };
        tokio::time::timeout(ENDPOINT_TIMEOUT, exchange)
            .await
            .map_err(|_| CredentialsError::Timeout(ENDPOINT_TIMEOUT))?
    }

    /// A call that must answer 2xx.
    pub(super) async fn call_ok(
        &self,
        method: Method,
        url: &str,
        headers: &[(HeaderName, HeaderValue)],
    ) -> Result<Bytes, CredentialsError> {
        let (status, body) = self.call(method, url, headers).await?;
        if !status.is_success() {
            let text = String::from_utf8_lossy(&body[..body.len().min(256)]).into_owned();
            return Err(CredentialsError::Status {
                status: status.as_u16(),
                body: text,
            });
        }
        Ok(body)
    }
}
