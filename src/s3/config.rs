//! [`ClientConfig`]: everything an [`S3Client`](super::S3Client) is built from. Each setter
//! states its default and the SDK behaviour it models.
//!
//! Invariant: a config is checked when it is made (the endpoint parses); building a client
//! from it can then only fail on TLS setup.

use std::sync::Arc;
use std::time::Duration;

use rustls::RootCertStore;

use super::credentials::{Credentials, CredentialsSource};
use super::retry::RetryConfig;
use super::signer::PayloadSigning;
use crate::transport::deadline::RequestTimeout;
use crate::transport::{Endpoint, InvalidEndpoint, PoolConfig};

/// The S3 client's default `expectContinueHeader`: bodies of 2 MiB and more are sent with
/// `Expect: 100-continue` (aws-sdk-js-v3 `middleware-sdk-s3` `s3Configuration.ts`,
/// aws-sdk-js-v3 PR #7450).
pub const DEFAULT_EXPECT_CONTINUE_THRESHOLD: u64 = 2 * 1024 * 1024;

/// A client could not be configured or built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// The endpoint URL is invalid.
    #[error(transparent)]
    Endpoint(#[from] InvalidEndpoint),
    /// The TLS configuration could not be built.
    #[error("TLS configuration")]
    Tls(#[from] rustls::Error),
    /// A root certificate was rejected.
    #[error("root certificate: {0}")]
    Roots(String),
}

/// How to build an S3 client.
#[derive(Clone, Debug)]
pub struct ClientConfig {
    pub(crate) endpoint: Endpoint,
    pub(crate) region: String,
    pub(crate) roots: Arc<RootCertStore>,
    pub(crate) credentials: CredentialsSource,
    pub(crate) payload_signing: PayloadSigning,
    pub(crate) expect_continue: Option<u64>,
    pub(crate) retry: RetryConfig,
    pub(crate) request_timeout: Option<RequestTimeout>,
    pub(crate) pool: PoolConfig,
}

impl ClientConfig {
    /// A config for `endpoint` (e.g. `https://127.0.0.1:9443`, path-style requests) in
    /// `region`, trusting `roots`, signing with `credentials`. Everything else is the SDK's
    /// default.
    pub fn new(
        endpoint: &str,
        region: impl Into<String>,
        roots: impl Into<Arc<RootCertStore>>,
        credentials: CredentialsSource,
    ) -> Result<Self, BuildError> {
        Ok(Self {
            endpoint: Endpoint::parse(endpoint)?,
            region: region.into(),
            roots: roots.into(),
            credentials,
            payload_signing: PayloadSigning::default(),
            expect_continue: Some(DEFAULT_EXPECT_CONTINUE_THRESHOLD),
            retry: RetryConfig::standard(),
            request_timeout: None,
            pool: PoolConfig::default(),
        })
    }

    /// A config for an embedded mock: its endpoint, region and CA, and its static keys.
    pub fn for_mock(server: &mock_s3::MockS3) -> Result<Self, BuildError> {
        let mut roots = RootCertStore::empty();
        roots
            .add(server.ca_der().clone())
            .map_err(|e| BuildError::Roots(e.to_string()))?;
        Self::new(
            server.endpoint(),
            server.region(),
            roots,
            CredentialsSource::Static(Credentials::new(server.access_key(), server.secret_key())),
        )
    }

    /// Where credentials come from. Default: what [`new`](Self::new) was given.
    pub fn credentials(mut self, source: CredentialsSource) -> Self {
        self.credentials = source;
        self
    }

    /// How bodies are covered by the signature. Default: [`PayloadSigning::Sha256`].
    pub fn payload_signing(mut self, payload: PayloadSigning) -> Self {
        self.payload_signing = payload;
        self
    }

    /// The smallest body sent with `Expect: 100-continue`, `None` to never send it (the S3
    /// client's `expectContinueHeader: false`). Default:
    /// [`DEFAULT_EXPECT_CONTINUE_THRESHOLD`] (2 MiB).
    pub fn expect_continue_threshold(mut self, bytes: Option<u64>) -> Self {
        self.expect_continue = bytes;
        self
    }

    /// The retry strategy. Default: [`RetryConfig::standard`].
    pub fn retry(mut self, retry: RetryConfig) -> Self {
        self.retry = retry;
        self
    }

    /// The SDK's `requestTimeout`: from hand-over (queue wait included) to the response
    /// headers. With `throw` (`throwOnRequestTimeout`) the attempt fails with a timeout, which
    /// is retried as transient; without it, as in the SDK by default, only a warning is logged
    /// and counted. Default: none (the SDK's 0).
    pub fn request_timeout(mut self, after: Duration, throw: bool) -> Self {
        self.request_timeout = (!after.is_zero()).then_some(RequestTimeout { after, throw });
        self
    }

    /// The pool. Default: [`PoolConfig::default`], the SDK's own agent (keepAlive,
    /// maxSockets 50).
    pub fn pool(mut self, pool: PoolConfig) -> Self {
        self.pool = pool;
        self
    }

    /// The pool settings.
    pub fn pool_config(&self) -> &PoolConfig {
        &self.pool
    }

    /// The endpoint.
    pub fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    /// The region.
    pub fn region(&self) -> &str {
        &self.region
    }

    /// The trusted roots.
    pub fn roots(&self) -> &Arc<RootCertStore> {
        &self.roots
    }

    /// The credentials source.
    pub fn credentials_source(&self) -> &CredentialsSource {
        &self.credentials
    }
}
