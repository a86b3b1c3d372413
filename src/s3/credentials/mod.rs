//! Credentials: where they come from ([`CredentialsSource`]: static, environment, container
//! endpoint, IMDSv2) and the memoizing [`CredentialsProvider`] a client signs with.
//!
//! Invariant: a provider fetches at most once at a time. Concurrent callers share the one
//! pending fetch, and a cached identity is served until it is within 5 minutes of its
//! expiration (identities without one are served forever). This is the SDK's
//! `memoizeIdentityProvider` with `EXPIRATION_MS = 300_000`. The cache lives in the provider,
//! so a client per request (each with its own provider) fetches once per request: the cost
//! the guide warns about.
//!
//! # Layout
//!
//! - `memo`: [`CredentialsProvider`], the memoizing cache and its shared pending fetch.
//! - `env`: [`Environment`], the variables the environment and container sources read.
//! - `container`: [`ContainerEndpoint`], ECS/EKS-style `GET` with an `Authorization` token.
//! - `imds`: [`ImdsEndpoint`], the EC2 metadata service, IMDSv2 (token, role, credentials).
//! - `http`: the small HTTP client both endpoints use, over its own Agent.

mod container;
mod env;
mod http;
mod imds;
mod memo;

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

pub use container::ContainerEndpoint;
pub use env::Environment;
pub use imds::ImdsEndpoint;
pub(crate) use memo::CachedIdentity;
pub use memo::CredentialsProvider;

use crate::pool::ConnectError;

/// How long before its expiration a cached identity is fetched again: the SDK's
/// `EXPIRATION_MS` (`memoizeIdentityProvider`) and `credentialsTreatedAsExpired` (5 minutes).
pub const REFRESH_BEFORE_EXPIRATION: Duration = Duration::from_secs(300);

/// The timeout of each credentials endpoint call: 1000 ms in the SDK's container and IMDS
/// providers (`fromContainerMetadata`, `fromInstanceMetadata`).
pub const ENDPOINT_TIMEOUT: Duration = Duration::from_millis(1000);

/// A set of AWS credentials.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    access_key_id: String,
    secret_access_key: String,
    session_token: Option<String>,
    expiration: Option<SystemTime>,
}

impl Credentials {
    /// Long-term credentials: no session token, no expiration.
    pub fn new(access_key_id: impl Into<String>, secret_access_key: impl Into<String>) -> Self {
        Self {
            access_key_id: access_key_id.into(),
            secret_access_key: secret_access_key.into(),
            session_token: None,
            expiration: None,
        }
    }

    /// With a session token (sent as `x-amz-security-token`).
    pub fn with_session_token(mut self, token: impl Into<String>) -> Self {
        self.session_token = Some(token.into());
        self
    }

    /// With an expiration.
    pub fn with_expiration(mut self, expiration: SystemTime) -> Self {
        self.expiration = Some(expiration);
        self
    }

    /// The access key id.
    pub fn access_key_id(&self) -> &str {
        &self.access_key_id
    }

    /// The secret access key.
    pub fn secret_access_key(&self) -> &str {
        &self.secret_access_key
    }

    /// The session token, if any.
    pub fn session_token(&self) -> Option<&str> {
        self.session_token.as_deref()
    }

    /// When the credentials expire, if they do.
    pub fn expiration(&self) -> Option<SystemTime> {
        self.expiration
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"** redacted **")
            .field(
                "session_token",
                &self.session_token.as_ref().map(|_| "** redacted **"),
            )
            .field("expiration", &self.expiration)
            .finish()
    }
}

/// Where a provider gets credentials from.
#[derive(Clone, Debug)]
pub enum CredentialsSource {
    /// Fixed credentials, known up front (no fetch).
    Static(Credentials),
    /// `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN` and
    /// `AWS_CREDENTIAL_EXPIRATION`, read when the provider first fetches (the SDK's `fromEnv`).
    Environment(Environment),
    /// The container credentials endpoint (the SDK's `fromContainerMetadata`/`fromHttp`).
    Container(ContainerEndpoint),
    /// The EC2 instance metadata service, IMDSv2 (the SDK's `fromInstanceMetadata`).
    Imds(ImdsEndpoint),
}

impl CredentialsSource {
    /// Whether fetching needs the network.
    pub fn is_remote(&self) -> bool {
        matches!(
            self,
            CredentialsSource::Container(_) | CredentialsSource::Imds(_)
        )
    }
}

/// A credentials fetch failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CredentialsError {
    /// A required environment variable is not set.
    #[error("{0} is not set")]
    MissingVariable(&'static str),
    /// An environment variable has a value that cannot be used.
    #[error("{name} is invalid: {reason}")]
    InvalidVariable {
        /// The variable.
        name: &'static str,
        /// Why.
        reason: String,
    },
    /// The endpoint URL cannot be used.
    #[error("invalid credentials endpoint URL {0:?}")]
    InvalidUrl(String),
    /// No connection to the endpoint.
    #[error("cannot connect to the credentials endpoint")]
    Connect(#[source] ConnectError),
    /// The connection failed during the exchange.
    #[error("the credentials endpoint connection failed")]
    Http(#[source] hyper::Error),
    /// The endpoint did not answer in time ([`ENDPOINT_TIMEOUT`]).
    #[error("the credentials endpoint did not answer within {} ms", .0.as_millis())]
    Timeout(Duration),
    /// The endpoint answered with an error status.
    #[error("the credentials endpoint answered HTTP {status}: {body}")]
    Status {
        /// The HTTP status.
        status: u16,
        /// The start of the body.
        body: String,
    },
    /// The endpoint's answer is not valid credentials.
    #[error("invalid credentials response: {0}")]
    InvalidResponse(String),
    /// The TLS configuration for the endpoint could not be built.
    #[error("TLS configuration for the credentials endpoint")]
    Tls(#[source] rustls::Error),
    /// The task fetching credentials ended without a result (its runtime shut down).
    #[error("the credentials fetch was abandoned")]
    Abandoned,
}

impl CredentialsError {
    /// True when the fetch failed for lack of file descriptors (EMFILE/ENFILE).
    pub fn is_fd_exhausted(&self) -> bool {
        matches!(self, CredentialsError::Connect(c) if c.is_fd_exhausted())
    }
}

/// The result every waiter of one fetch receives.
pub(crate) type FetchResult = Result<Arc<CachedIdentity>, Arc<CredentialsError>>;

/// Parses an RFC 3339 timestamp, as the SDK does for `Expiration`.
fn parse_rfc3339(value: &str) -> Result<SystemTime, String> {
    time::OffsetDateTime::parse(value, &time::format_description::well_known::Rfc3339)
        .map(SystemTime::from)
        .map_err(|e| format!("{value:?} is not an RFC 3339 timestamp: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_redacts_secrets() {
        let c = Credentials::new("AKID", "very-secret").with_session_token("tok");
        let s = format!("{c:?}");
        assert!(s.contains("AKID"));
        assert!(!s.contains("very-secret"));
        assert!(!s.contains("tok\""));
    }

    #[test]
    fn rfc3339_expirations_parse() {
        let t = parse_rfc3339("2021-09-21T04:16:53Z").unwrap();
        assert_eq!(
            t.duration_since(SystemTime::UNIX_EPOCH).unwrap().as_secs(),
            1_632_197_813
        );
        assert!(parse_rfc3339("yesterday").is_err());
    }
}
