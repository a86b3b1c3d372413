//! rust-sdk: the AWS SDK for Rust (`aws-sdk-s3`) in-process, as a client under test.
//!
//! maxSockets is `aws-smithy-http-client`'s [`ConnectionPool`] `max_connections_per_host` (an
//! origin's establishing, idle and active connections together; Infinity leaves it unset).
//! The guide's three modes, in the Rust SDK's idioms:
//!
//! - `shared`: one [`SdkConfig`], one client;
//! - `per-request`: for every operation a fresh `SdkConfig` from `aws_config::defaults(..)`,
//!   with its own pool and its own default credentials chain (so remote credentials are
//!   fetched per request), and a client from it;
//! - `shared-handler`: several clients built from one `SdkConfig`: one HTTP client (pool),
//!   one credentials provider and one identity cache; operation `i` goes to client
//!   `i % clients`.
//!
//! Every config is loaded by `aws_config::defaults` with an environment and a filesystem of
//! its own (`ConfigLoader::env`/`fs`): the default chain sees the run's credential variables
//! (`AWS_CONTAINER_CREDENTIALS_FULL_URI`, `AWS_EC2_METADATA_SERVICE_ENDPOINT`) and no profile
//! files, never this machine's.
//!
//! What is counted, and where:
//! - sockets opened, the peak open and failed establishments by the pools' connection event
//!   listener (one listener shared by every pool of the run);
//! - per attempt, by an interceptor attached to each operation: the wait for a connection
//!   (the pool's acquisition telemetry, less the establishment of a fresh connection, so
//!   what remains is queueing at the cap), the reason of each failed attempt, and the time
//!   between attempts (backoff);
//! - TLS handshakes are not visible through the pool's API: [`RunReport::tls_full`] is `None`
//!   and the server's counts apply.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_config::{BehaviorVersion, SdkConfig};
use aws_sdk_s3::config::interceptors::{
    BeforeTransmitInterceptorContextMut, BeforeTransmitInterceptorContextRef,
    FinalizerInterceptorContextRef,
};
use aws_sdk_s3::config::{
    ConfigBag, Credentials, IdentityCache, Intercept, Region, RuntimeComponents,
    SharedCredentialsProvider, SharedHttpClient,
};
use aws_sdk_s3::error::{ProvideErrorMetadata as _, SdkError};
use aws_sdk_s3::primitives::ByteStream;
use aws_smithy_http_client::pool::{ConnectionEvent, ConnectionEventListener, ConnectionPool};
use aws_smithy_http_client::tls::{self, TlsContext, TrustStore};
use aws_smithy_runtime_api::client::http::telemetry::{
    CaptureHttpAttemptTelemetry, ConnectionUsage,
};
use aws_types::os_shim_internal::{Env, Fs};
use bytes::Bytes;

use super::op::{OpKind, Request};
use super::report::ErrorClass;
use super::report::{OpReport, RetryReason, RunReport};
use super::settings::{CredentialSource, RunSettings};
use super::{ClientUnderTest, Error, Run, Sdk};
use crate::modes::ClientMode;

/// Why a run could not start.
#[derive(Debug, thiserror::Error)]
pub enum RustSdkError {
    /// The CA file could not be read.
    #[error("reading the CA file {path}: {source}")]
    Ca {
        /// The file.
        path: String,
        /// The error.
        source: std::io::Error,
    },
    /// The HTTP client could not be built.
    #[error("building the aws-smithy-http-client pool: {0}")]
    Http(String),
    /// The settings ask for what this client does not have.
    #[error("rust-sdk cannot run with {0}")]
    Unsupported(String),
}

/// Counters of every pool of a run, fed by their event listener.
#[derive(Debug, Default)]
struct Counters {
    opened: AtomicU64,
    open: AtomicU64,
    peak: AtomicU64,
    connect_errors: AtomicU64,
    clients: AtomicU64,
    ops: AtomicU64,
}

/// The listener every pool of the run reports to.
#[derive(Debug, Clone)]
struct Listener(Arc<Counters>);

impl ConnectionEventListener for Listener {
    fn on_event(&self, event: &ConnectionEvent<'_>) {
        let c = &self.0;
        match event {
            ConnectionEvent::Opened(_) => {
                c.opened.fetch_add(1, Relaxed);
                let open = c.open.fetch_add(1, Relaxed) + 1;
                c.peak.fetch_max(open, Relaxed);
            }
            ConnectionEvent::PhysicalClose(_) => {
                c.open.fetch_sub(1, Relaxed);
            }
            ConnectionEvent::EstablishmentFailed(_) => {
                c.connect_errors.fetch_add(1, Relaxed);
            }
            _ => {}
        }
    }
}

/// One run of the Rust SDK: its clients (or what per-request clients are made from) and the
/// run's counters.
#[derive(Debug)]
pub struct RustSdkRun {
    settings: RunSettings,
    counters: Arc<Counters>,
    tls: TlsContext,
    clients: Vec<aws_sdk_s3::Client>,
}

impl RustSdkRun {
    /// Builds the run's clients per its mode (none up front for per-request).
    pub async fn start(settings: &RunSettings) -> Result<Self, RustSdkError> {
        if settings.sdk != Sdk::RustSdk {
            return Err(RustSdkError::Unsupported(format!("sdk {}", settings.sdk)));
        }
        if let Some(what) = settings.beyond_an_sdk() {
            return Err(RustSdkError::Unsupported(what));
        }
        let mut trust = TrustStore::default();
        if let Some(path) = &settings.ca_file {
            let pem = std::fs::read(path).map_err(|source| RustSdkError::Ca {
                path: path.display().to_string(),
                source,
            })?;
            trust = trust.with_pem_certificate(pem);
        }
        let tls = TlsContext::builder()
            .with_trust_store(trust)
            .build()
            .map_err(|e| RustSdkError::Http(e.to_string()))?;
        let mut run = RustSdkRun {
            settings: settings.clone(),
            counters: Arc::default(),
            tls,
            clients: Vec::new(),
        };
        match settings.mode {
            ClientMode::PerRequest => {}
            ClientMode::Shared => {
                let config = run.sdk_config(false).await?;
                run.clients.push(run.client(&config));
            }
            ClientMode::SharedHandler => {
                // One SdkConfig: one HTTP client, one credentials provider, one identity
                // cache, shared by every client built from it.
                let config = run.sdk_config(true).await?;
                for _ in 0..settings.shared_handler_clients.get() {
                    run.clients.push(run.client(&config));
                }
            }
        }
        Ok(run)
    }

    /// A new pool, capped at maxSockets, reporting to the run's listener.
    fn http_client(&self) -> Result<SharedHttpClient, RustSdkError> {
        let mut builder = ConnectionPool::builder().event_listener(Listener(self.counters.clone()));
        if let Some(cap) = self.settings.max_sockets {
            builder = builder.max_connections_per_host(cap as usize);
        }
        let pool = builder
            .tls_provider(tls::Provider::Rustls(
                tls::rustls_provider::CryptoMode::AwsLc,
            ))
            .tls_context(self.tls.clone())
            .build_https()
            .map_err(|e| RustSdkError::Http(e.to_string()))?;
        let client = aws_smithy_http_client::pool::Client::new(&pool)
            .map_err(|e| RustSdkError::Http(e.to_string()))?;
        Ok(SharedHttpClient::new(client))
    }

    /// A fresh `SdkConfig` with a pool of its own.
    async fn sdk_config(&self, shared_identity_cache: bool) -> Result<SdkConfig, RustSdkError> {
        let s = &self.settings;
        let env: Vec<(&str, &str)> = match &s.credentials {
            CredentialSource::Static { .. } => Vec::new(),
            CredentialSource::Container { full_uri, token } => vec![
                ("AWS_CONTAINER_CREDENTIALS_FULL_URI", full_uri.as_str()),
                ("AWS_CONTAINER_AUTHORIZATION_TOKEN", token.as_str()),
            ],
            CredentialSource::Imds { endpoint } => {
                vec![("AWS_EC2_METADATA_SERVICE_ENDPOINT", endpoint.as_str())]
            }
        };
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            .env(Env::from_slice(&env))
            .fs(Fs::from_slice(&[]))
            .http_client(self.http_client()?)
            .region(Region::new(s.region.clone()))
            .endpoint_url(&s.endpoint);
        if let CredentialSource::Static {
            access_key_id,
            secret_access_key,
            session_token,
        } = &s.credentials
        {
            loader = loader.credentials_provider(SharedCredentialsProvider::new(Credentials::new(
                access_key_id,
                secret_access_key,
                session_token.clone(),
                None,
                "poolsweep",
            )));
        }
        if shared_identity_cache {
            loader = loader.identity_cache(IdentityCache::lazy().build());
        }
        Ok(loader.load().await)
    }

    fn client(&self, config: &SdkConfig) -> aws_sdk_s3::Client {
        self.counters.clients.fetch_add(1, Relaxed);
        let conf = aws_sdk_s3::config::Builder::from(config)
            .force_path_style(true)
            .build();
        aws_sdk_s3::Client::from_conf(conf)
    }

    /// Sends one operation on the client its mode picks and reports on it.
    pub async fn op(&self, index: u64, op: OpKind, key: &str, body: Bytes) -> OpReport {
        self.counters.ops.fetch_add(1, Relaxed);
        let started = Instant::now();
        let fresh;
        let client = match self.settings.mode {
            ClientMode::PerRequest => match self.sdk_config(false).await {
                Ok(config) => {
                    fresh = self.client(&config);
                    &fresh
                }
                Err(e) => return OpReport::failed(ErrorClass::Other, e.to_string()),
            },
            _ => &self.clients[index as usize % self.clients.len()],
        };
        let state = Arc::new(Mutex::new(OpState::default()));
        let interceptor = OpInterceptor(state.clone());
        let bucket = &self.settings.bucket;
        let result: Result<u64, ErrorClassified> = match op {
            OpKind::Put => {
                let size = body.len() as u64;
                client
                    .put_object()
                    .bucket(bucket)
                    .key(key)
                    .body(ByteStream::from(body))
                    .customize()
                    .interceptor(interceptor)
                    .send()
                    .await
                    .map(|_| size)
                    .map_err(|e| classify(&e))
            }
            OpKind::Get => {
                match client
                    .get_object()
                    .bucket(bucket)
                    .key(key)
                    .customize()
                    .interceptor(interceptor)
                    .send()
                    .await
                {
                    Ok(out) => match out.body.collect().await {
                        Ok(data) => Ok(data.into_bytes().len() as u64),
                        Err(e) => Err(ErrorClassified {
                            kind: ErrorClass::Reset,
                            message: format!("reading the body: {e}"),
                        }),
                    },
                    Err(e) => Err(classify(&e)),
                }
            }
        };
        let latency = started.elapsed();
        let st = state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut retries = [0u32; 4];
        let failed = &st.failed_attempts;
        let retried = match result {
            Ok(_) => &failed[..],
            Err(_) => &failed[..failed.len().saturating_sub(1)],
        };
        for r in retried {
            retries[*r as usize] += 1;
        }
        let (bytes, error, message) = match result {
            Ok(b) => (b, None, String::new()),
            Err(e) => (0, Some(e.kind), e.message),
        };
        OpReport {
            latency,
            socket_wait: st.socket_wait,
            attempts: st.attempts,
            retry_delay: st.retry_delay,
            retries,
            bytes,
            error,
            message,
        }
    }

    /// Ends the run: drops its clients (their pools close their connections) and reports.
    pub fn report(self) -> RunReport {
        let c = self.counters.clone();
        drop(self);
        RunReport {
            ops: c.ops.load(Relaxed),
            clients: c.clients.load(Relaxed),
            sockets_opened: c.opened.load(Relaxed),
            peak_open: c.peak.load(Relaxed),
            tls_full: None,
            tls_resumed: None,
            connect_errors: c.connect_errors.load(Relaxed),
            cpu: None,
        }
    }
}

/// What rust-sdk runs: "aws-sdk-s3 1.157.0 on aws-smithy-http-client's pool".
pub fn describe() -> String {
    format!(
        "aws-sdk-s3 {} on aws-smithy-http-client's connection pool (rustls, aws-lc-rs)",
        aws_sdk_s3::meta::PKG_VERSION
    )
}

/// The Rust SDK as a [`ClientUnderTest`]: each run builds its clients afresh.
#[derive(Debug, Clone, Copy, Default)]
pub struct RustSdkClient;

impl ClientUnderTest for RustSdkClient {
    type Run = RustSdkRun;

    async fn start(&self, settings: &RunSettings) -> Result<RustSdkRun, Error> {
        RustSdkRun::start(settings).await.map_err(|e| match e {
            RustSdkError::Unsupported(setting) => Error::Unsupported {
                client: "rust-sdk",
                setting,
            },
            other => Error::Client {
                client: "rust-sdk",
                message: other.to_string(),
            },
        })
    }
}

impl Run for RustSdkRun {
    async fn call(&self, request: Request) -> OpReport {
        self.op(request.index, request.op, &request.key, request.body)
            .await
    }

    async fn finish(self) -> Result<RunReport, Error> {
        Ok(self.report())
    }
}

/// What the interceptor saw of one operation.
#[derive(Debug, Default)]
struct OpState {
    attempts: u32,
    socket_wait: Duration,
    retry_delay: Duration,
    last_attempt_end: Option<Instant>,
    capture: Option<CaptureHttpAttemptTelemetry>,
    failed_attempts: Vec<RetryReason>,
}

/// Attached to one operation (`customize().interceptor(..)`): sees each of its attempts.
#[derive(Debug)]
struct OpInterceptor(Arc<Mutex<OpState>>);

impl OpInterceptor {
    fn state(&self) -> std::sync::MutexGuard<'_, OpState> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

impl Intercept for OpInterceptor {
    fn name(&self) -> &'static str {
        "poolsweep::sut::rust_sdk::OpInterceptor"
    }

    fn read_before_attempt(
        &self,
        _: &BeforeTransmitInterceptorContextRef<'_>,
        _: &RuntimeComponents,
        _: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let mut st = self.state();
        st.attempts += 1;
        if let Some(end) = st.last_attempt_end.take() {
            st.retry_delay += end.elapsed();
        }
        Ok(())
    }

    fn modify_before_transmit(
        &self,
        context: &mut BeforeTransmitInterceptorContextMut<'_>,
        _: &RuntimeComponents,
        _: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        // The pool records how long this attempt waited for a connection into the capture
        // the request carries; adopt one already there (e.g. the metrics plugin's).
        let request = context.request_mut();
        let capture = match request.extension::<CaptureHttpAttemptTelemetry>() {
            Some(c) => c.clone(),
            None => {
                let c = CaptureHttpAttemptTelemetry::new();
                request.add_extension(c.clone());
                c
            }
        };
        self.state().capture = Some(capture);
        Ok(())
    }

    fn read_after_attempt(
        &self,
        context: &FinalizerInterceptorContextRef<'_>,
        _: &RuntimeComponents,
        _: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let mut st = self.state();
        st.last_attempt_end = Some(Instant::now());
        if let Some(t) = st.capture.take().map(|c| c.get()) {
            let fresh_setup = t
                .connection()
                .and_then(|c| c.establishment())
                .map(|e| e.total_duration());
            if let Some(a) = t.acquisition() {
                let waited = a.duration().unwrap_or_default();
                st.socket_wait += match (a.usage(), fresh_setup) {
                    (ConnectionUsage::Fresh, Some(setup)) => waited.saturating_sub(setup),
                    _ => waited,
                };
            }
        }
        if let Some(Err(e)) = context.output_or_error() {
            let status = context.response().map(|r| r.status().as_u16());
            let reason = if let Some(op) = e.as_operation_error() {
                let code = op
                    .downcast_ref::<aws_sdk_s3::operation::put_object::PutObjectError>()
                    .and_then(|e| e.code())
                    .or_else(|| {
                        op.downcast_ref::<aws_sdk_s3::operation::get_object::GetObjectError>()
                            .and_then(|e| e.code())
                    });
                attempt_reason(code, status)
            } else if e.is_timeout_error() {
                RetryReason::Timeout
            } else if e.as_connector_error().is_some_and(|c| c.is_io()) {
                RetryReason::Transient
            } else {
                attempt_reason(None, status)
            };
            st.failed_attempts.push(reason);
        }
        Ok(())
    }
}

/// Why a failed attempt with this error code and status is retried (the SDK's classifiers:
/// throttling codes and 429; 500, 502, 503, 504 transient).
fn attempt_reason(code: Option<&str>, status: Option<u16>) -> RetryReason {
    const THROTTLING: [&str; 8] = [
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestThrottledException",
        "TooManyRequestsException",
        "ProvisionedThroughputExceededException",
        "RequestLimitExceeded",
        "SlowDown",
    ];
    match (code, status) {
        (Some(c), _) if THROTTLING.contains(&c) => RetryReason::Throttling,
        (_, Some(429)) => RetryReason::Throttling,
        (Some("RequestTimeout" | "RequestTimeoutException"), _) => RetryReason::Transient,
        (_, Some(500 | 502 | 503 | 504)) => RetryReason::Transient,
        _ => RetryReason::Other,
    }
}

#[derive(Debug)]
struct ErrorClassified {
    kind: ErrorClass,
    message: String,
}

/// Whether `e` or anything it wraps is EMFILE or ENFILE.
fn fd_exhausted(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = cur {
        if let Some(io) = err.downcast_ref::<std::io::Error>()
            && matches!(io.raw_os_error(), Some(libc::EMFILE | libc::ENFILE))
        {
            return true;
        }
        cur = err.source();
    }
    false
}

fn full_message(e: &(dyn std::error::Error + 'static)) -> String {
    let mut parts = vec![e.to_string()];
    let mut cur = e.source();
    while let Some(err) = cur {
        parts.push(err.to_string());
        cur = err.source();
    }
    parts.join(": ")
}

/// How a failed operation is counted.
fn classify<E, R>(e: &SdkError<E, R>) -> ErrorClassified
where
    E: std::error::Error + aws_sdk_s3::error::ProvideErrorMetadata + 'static,
    R: std::fmt::Debug + 'static,
{
    let message = full_message(e);
    let kind = if fd_exhausted(e) || message.contains("Too many open files") {
        ErrorClass::Emfile
    } else {
        match e {
            SdkError::ServiceError(s) if s.err().code() == Some("SlowDown") => ErrorClass::SlowDown,
            SdkError::TimeoutError(_) => ErrorClass::Timeout,
            SdkError::DispatchFailure(d) if d.is_timeout() => ErrorClass::Timeout,
            SdkError::DispatchFailure(d) if d.is_io() => ErrorClass::Reset,
            SdkError::ResponseError(_) => ErrorClass::Reset,
            _ => ErrorClass::Other,
        }
    };
    ErrorClassified { kind, message }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attempt_reasons_follow_the_sdks_classifiers() {
        assert_eq!(
            attempt_reason(Some("SlowDown"), Some(503)),
            RetryReason::Throttling
        );
        assert_eq!(attempt_reason(None, Some(503)), RetryReason::Transient);
        assert_eq!(
            attempt_reason(Some("InternalError"), Some(500)),
            RetryReason::Transient
        );
        assert_eq!(attempt_reason(None, Some(429)), RetryReason::Throttling);
        assert_eq!(
            attempt_reason(Some("AccessDenied"), Some(403)),
            RetryReason::Other
        );
    }

    #[test]
    fn emfile_is_found_anywhere_in_the_chain() {
        #[derive(Debug)]
        struct Wrap(std::io::Error);
        impl std::fmt::Display for Wrap {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("dispatch failure")
            }
        }
        impl std::error::Error for Wrap {
            fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
                Some(&self.0)
            }
        }
        let e = Wrap(std::io::Error::from_raw_os_error(libc::EMFILE));
        assert!(fd_exhausted(&e));
        let e = Wrap(std::io::Error::from_raw_os_error(libc::ECONNRESET));
        assert!(!fd_exhausted(&e));
    }
}
