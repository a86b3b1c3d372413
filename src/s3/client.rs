//! [`S3Client`]: S3 operations over a [`Pool`], signed with SigV4, retried as the SDK's
//! standard mode does, each call returning its [`Outcome`].
//!
//! Invariant: a call's attempts share one invocation id and one body (`Bytes`, never copied);
//! each attempt resolves credentials (a cache hit after the first), signs anew (a fresh
//! `x-amz-date`) and hands the request to the pool. The client's retry quota is its own;
//! its pool and credentials provider may be shared with other clients (the guide's shared
//! handler), and its counters with every client of a factory.

use std::io;
use std::sync::Arc;
use std::time::SystemTime;

use bytes::Bytes;
use http::header::{CONTENT_LENGTH, EXPECT, HOST, HeaderName, HeaderValue};
use http::uri::PathAndQuery;
use http::{HeaderMap, Method};
use tokio::time::Instant;

use super::config::{BuildError, ClientConfig};
use super::credentials::{CredentialsError, CredentialsProvider};
use super::error::{ErrorDetail, S3Error};
use super::ops::{
    CreateBucket, CreateBucketOutput, DeleteObject, DeleteObjectOutput, GetObject, GetObjectOutput,
    HeadObject, HeadObjectOutput, ListObjectsV2, ListObjectsV2Output, ListObjectsV2Request,
    Operation, PutObject, PutObjectOutput, Verify,
};
use super::outcome::Outcome;
use super::retry::{RetryConfig, RetryQuota, classify};
use super::signer::Signer;
use super::stats::{ClientCounters, ClientStats};
use super::xml;
use crate::transport::deadline::RequestTimeout;
use crate::transport::{Attempt, Pool, PoolCounters, PoolStats, Prepared};

/// `amz-sdk-invocation-id`: one UUID per call, the same on every attempt.
const AMZ_SDK_INVOCATION_ID: HeaderName = HeaderName::from_static("amz-sdk-invocation-id");
/// `amz-sdk-request: attempt=N; max=M`.
const AMZ_SDK_REQUEST: HeaderName = HeaderName::from_static("amz-sdk-request");

/// A successful call's result and what happened on the way.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Output<T> {
    /// What the operation returned.
    pub value: T,
    /// Attempts, retries, waits and the socket used.
    pub outcome: Outcome,
}

/// An S3 client. Cloning is cheap and shares everything, the retry quota included (one SDK
/// client instance); a new client from [`S3Client::new`] shares nothing.
///
/// # Examples
///
/// ```no_run
/// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
/// use poolsweep::transport::PoolConfig;
/// use poolsweep::pool::AgentOptions;
/// use poolsweep::s3::{ClientConfig, S3Client};
///
/// let server = mock_s3::MockS3::builder().start()?;
/// server.create_bucket("bucket")?;
/// let config = ClientConfig::for_mock(&server)?
///     .pool(PoolConfig::agent(AgentOptions::sdk_default().max_sockets(10)));
/// let client = S3Client::new(&config)?;
/// let put = client.put_object("bucket", "key", bytes::Bytes::from_static(b"hello")).await?;
/// assert_eq!(put.outcome.attempts, 1);
/// let got = client.get_object("bucket", "key").await?;
/// assert_eq!(got.value.body, "hello");
/// println!("{:?}", client.pool_stats());
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct S3Client {
    inner: Arc<Inner>,
}

struct Inner {
    host: HeaderValue,
    pool: Pool,
    credentials: CredentialsProvider,
    signer: Signer,
    retry: RetryConfig,
    quota: RetryQuota,
    expect_continue: Option<u64>,
    request_timeout: Option<RequestTimeout>,
    attempt_headers: Box<[HeaderValue]>,
    counters: Arc<ClientCounters>,
    pool_counters: Arc<PoolCounters>,
}

impl std::fmt::Debug for S3Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3Client")
            .field("host", &self.inner.host)
            .field("pool", &self.inner.pool)
            .finish_non_exhaustive()
    }
}

impl S3Client {
    /// A client with its own pool, credentials provider, retry quota and counters.
    pub fn new(config: &ClientConfig) -> Result<Self, BuildError> {
        let pool_counters = Arc::new(PoolCounters::default());
        let pool = Pool::new(
            &config.pool,
            &config.endpoint,
            Arc::clone(&config.roots),
            Arc::clone(&pool_counters),
        )?;
        let credentials =
            CredentialsProvider::new(config.credentials.clone(), Arc::clone(&config.roots));
        Ok(Self::from_parts(
            config,
            pool,
            credentials,
            pool_counters,
            Arc::default(),
        ))
    }

    /// A client over a given pool and credentials provider (shared with other clients or
    /// not), recording into the given counters. Its retry quota is its own.
    pub fn from_parts(
        config: &ClientConfig,
        pool: Pool,
        credentials: CredentialsProvider,
        pool_counters: Arc<PoolCounters>,
        counters: Arc<ClientCounters>,
    ) -> Self {
        let max = config.retry.attempts();
        let attempt_headers = (1..=max)
            .map(|n| {
                HeaderValue::from_str(&format!("attempt={n}; max={max}"))
                    .unwrap_or_else(|_| HeaderValue::from_static("attempt=1"))
            })
            .collect();
        Self {
            inner: Arc::new(Inner {
                host: config.endpoint.host().clone(),
                pool,
                credentials,
                signer: Signer::new(&config.region, config.payload_signing),
                quota: RetryQuota::new(config.retry.tokens()),
                retry: config.retry.clone(),
                expect_continue: config.expect_continue,
                request_timeout: config.request_timeout,
                attempt_headers,
                counters,
                pool_counters,
            }),
        }
    }

    /// The pool.
    pub fn pool(&self) -> &Pool {
        &self.inner.pool
    }

    /// The credentials provider.
    pub fn credentials(&self) -> &CredentialsProvider {
        &self.inner.credentials
    }

    /// The pool's counters (shared with every client of the same factory).
    pub fn pool_stats(&self) -> PoolStats {
        self.inner.pool_counters.snapshot()
    }

    /// The client counters (shared with every client of the same factory).
    pub fn stats(&self) -> ClientStats {
        self.inner.counters.snapshot()
    }

    /// Tokens left in this client's retry quota.
    pub fn retry_quota(&self) -> u32 {
        self.inner.quota.available()
    }

    /// Retryable failures this client did not retry for lack of quota.
    pub fn retries_denied_by_quota(&self) -> u64 {
        self.inner.quota.denied()
    }

    /// `PutObject`: stores `body` at `bucket/key`.
    pub async fn put_object(
        &self,
        bucket: &str,
        key: &str,
        body: Bytes,
    ) -> Result<Output<PutObjectOutput>, S3Error> {
        self.execute(PutObject { bucket, key, body }).await
    }

    /// `GetObject`: the whole body of `bucket/key`.
    pub async fn get_object(
        &self,
        bucket: &str,
        key: &str,
    ) -> Result<Output<GetObjectOutput>, S3Error> {
        self.get_object_verified(bucket, key, Verify::None).await
    }

    /// `GetObject`, with the body checked as `verify` says.
    pub async fn get_object_verified(
        &self,
        bucket: &str,
        key: &str,
        verify: Verify,
    ) -> Result<Output<GetObjectOutput>, S3Error> {
        self.execute(GetObject {
            bucket,
            key,
            verify,
        })
        .await
    }

    /// `HeadObject`: `bucket/key`'s size and ETag.
    pub async fn head_object(
        &self,
        bucket: &str,
        key: &str,
    ) -> Result<Output<HeadObjectOutput>, S3Error> {
        self.execute(HeadObject { bucket, key }).await
    }

    /// `DeleteObject`.
    pub async fn delete_object(
        &self,
        bucket: &str,
        key: &str,
    ) -> Result<Output<DeleteObjectOutput>, S3Error> {
        self.execute(DeleteObject { bucket, key }).await
    }

    /// `ListObjectsV2`: one page.
    pub async fn list_objects_v2(
        &self,
        bucket: &str,
        request: &ListObjectsV2Request,
    ) -> Result<Output<ListObjectsV2Output>, S3Error> {
        self.execute(ListObjectsV2 { bucket, request }).await
    }

    /// `CreateBucket`.
    pub async fn create_bucket(&self, bucket: &str) -> Result<Output<CreateBucketOutput>, S3Error> {
        self.execute(CreateBucket { bucket }).await
    }

    /// The retry loop (smithy `retryMiddleware` with `StandardRetryStrategy`).
    async fn execute<O: Operation>(&self, op: O) -> Result<Output<O::Output>, S3Error> {
        let inner = &*self.inner;
        let called = Instant::now();
        let mut outcome = Outcome {
            op: O::OP,
            ..Outcome::default()
        };
        let body = op.body();
        let call = Call {
            method: op.method(),
            path: match PathAndQuery::try_from(op.path_and_query()) {
                Ok(path) => path,
                Err(e) => {
                    let detail = ErrorDetail::InvalidRequest(format!("bad path: {e}"));
                    inner.counters.failed(detail.kind());
                    return Err(S3Error::new(detail, outcome));
                }
            },
            expect_continue: inner
                .expect_continue
                .is_some_and(|min| body.len() as u64 >= min),
            body,
            invocation_id: invocation_id(),
        };
        let mut handed_over = None;
        let mut last_cost = None;
        loop {
            inner.counters.attempt(outcome.attempts == 0);
            outcome.attempts += 1;
            let result = self
                .attempt(&op, &call, &mut outcome, &mut handed_over)
                .await;
            let error = match result {
                Ok(value) => {
                    inner
                        .quota
                        .release(RetryQuota::refund_for_success(&inner.retry, last_cost));
                    inner.counters.succeeded();
                    outcome.latency = handed_over.unwrap_or(called).elapsed();
                    return Ok(Output { value, outcome });
                }
                Err(error) => error,
            };
            let retry = classify(&error).filter(|_| outcome.attempts < inner.retry.attempts());
            let Some(reason) = retry else {
                return Err(self.failed(error, outcome, handed_over.unwrap_or(called)));
            };
            let cost = inner.retry.cost(reason);
            if !inner.quota.try_acquire(cost) {
                outcome.quota_exhausted = true;
                inner.counters.quota_denied();
                return Err(self.failed(error, outcome, handed_over.unwrap_or(called)));
            }
            last_cost = Some(cost);
            let delay = inner.retry.backoff(reason, outcome.retries.total());
            outcome.retries.add(reason);
            inner.counters.retry(reason);
            tracing::debug!(op = O::OP.name(), ?reason, ?delay, %error, "retrying");
            tokio::time::sleep(delay).await;
            outcome.backoff += delay;
        }
    }

    fn failed(&self, error: ErrorDetail, mut outcome: Outcome, since: Instant) -> S3Error {
        self.inner.counters.failed(error.kind());
        outcome.latency = since.elapsed();
        S3Error::new(error, outcome)
    }

    /// One attempt: credentials, sign, send, read, parse.
    async fn attempt<O: Operation>(
        &self,
        op: &O,
        call: &Call,
        outcome: &mut Outcome,
        handed_over: &mut Option<Instant>,
    ) -> Result<O::Output, ErrorDetail> {
        let inner = &*self.inner;
        let now = SystemTime::now();
        let identity = inner
            .credentials
            .identity(now)
            .await
            .map_err(credentials_error)?;
        let mut headers = HeaderMap::with_capacity(12);
        headers.insert(HOST, inner.host.clone());
        if !call.body.is_empty() || call.method == Method::PUT || call.method == Method::POST {
            headers.insert(CONTENT_LENGTH, HeaderValue::from(call.body.len()));
        }
        op.headers(&mut headers);
        headers.insert(AMZ_SDK_INVOCATION_ID, call.invocation_id.clone());
        let attempt = usize::try_from(outcome.attempts).unwrap_or(usize::MAX);
        if let Some(value) = inner.attempt_headers.get(attempt.saturating_sub(1)) {
            headers.insert(AMZ_SDK_REQUEST, value.clone());
        }
        inner
            .signer
            .sign(
                &identity.identity,
                now,
                &call.method,
                call.path.as_str(),
                &mut headers,
                &call.body,
            )
            .map_err(ErrorDetail::InvalidRequest)?;
        if call.expect_continue {
            // Unsignable (`ALWAYS_UNSIGNABLE_HEADERS`), so added after signing.
            headers.insert(EXPECT, HeaderValue::from_static("100-continue"));
        }
        let prepared = Prepared {
            method: call.method.clone(),
            path: call.path.clone(),
            headers,
            body: call.body.clone(),
            expect_continue: call.expect_continue,
            handed_over: Instant::now(),
        };
        if handed_over.is_none() {
            *handed_over = Some(prepared.handed_over);
        }
        // Dispatched here, not in a `Pool` method: an async layer less to build and move.
        let Attempt { facts, result } = match &inner.pool {
            Pool::Agent(pool) => pool.send(prepared, inner.request_timeout).await,
            Pool::HyperUtil(pool) => pool.send(prepared, inner.request_timeout).await,
        };
        outcome.socket_wait += facts.socket_wait;
        outcome.socket = facts.socket;
        if facts.expect_continue.is_some() {
            outcome.expect_continue = facts.expect_continue;
        }
        outcome.request_timeout_warnings += u32::from(facts.timeout_warning);
        let response = result?;
        let status = response.status();
        outcome.status = Some(status.as_u16());
        if !status.is_success() {
            return Err(ErrorDetail::Service(xml::service_error(
                status,
                response.headers(),
                response.body(),
            )));
        }
        op.parse(response)
    }
}

/// What stays the same across a call's attempts.
struct Call {
    method: Method,
    path: PathAndQuery,
    body: Bytes,
    expect_continue: bool,
    invocation_id: HeaderValue,
}

/// A credentials failure; running out of file descriptors while fetching is fd exhaustion.
fn credentials_error(error: Arc<CredentialsError>) -> ErrorDetail {
    if error.is_fd_exhausted() {
        ErrorDetail::FileDescriptorsExhausted(io::Error::from_raw_os_error(libc::EMFILE))
    } else {
        ErrorDetail::Credentials(error)
    }
}

/// A random (version 4) UUID, as the SDK's `amz-sdk-invocation-id`, from a per-thread
/// generator seeded from the OS (the ID needs to be unique, not secret).
fn invocation_id() -> HeaderValue {
    use rand::{Rng as _, SeedableRng as _};
    thread_local! {
        static RNG: std::cell::RefCell<rand::rngs::SmallRng> =
            std::cell::RefCell::new(rand::rngs::SmallRng::from_os_rng());
    }
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut bytes: [u8; 16] = RNG.with(|rng| rng.borrow_mut().random());
    bytes[6] = (bytes[6] & 0x0F) | 0x40;
    bytes[8] = (bytes[8] & 0x3F) | 0x80;
    let mut out = [b'-'; 36];
    let mut at = 0;
    for (i, b) in bytes.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            at += 1;
        }
        out[at] = HEX[usize::from(b >> 4)];
        out[at + 1] = HEX[usize::from(b & 15)];
        at += 2;
    }
    HeaderValue::from_bytes(&out).unwrap_or_else(|_| HeaderValue::from_static("invalid"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invocation_ids_are_v4_uuids() {
        let id = invocation_id();
        let s = id.to_str().unwrap();
        assert_eq!(s.len(), 36);
        assert_eq!(&s[14..15], "4");
        assert!(matches!(&s[19..20], "8" | "9" | "a" | "b"));
        for (i, c) in s.chars().enumerate() {
            if matches!(i, 8 | 13 | 18 | 23) {
                assert_eq!(c, '-', "{s}");
            } else {
                assert!(c.is_ascii_hexdigit() && !c.is_ascii_uppercase(), "{s}");
            }
        }
        assert_ne!(invocation_id(), id);
    }
}
