//! The S3 API: the router that picks an operation, and one file per operation.
//!
//! Every request goes through [`handle`]: route (method, bucket, key, query) to an
//! [`Operation`], verify its signature, apply the profile (request-rate limit, injected
//! faults), read and check its body where it has one, run the operation, wait the profile's
//! time to first byte, then stamp the response with the request id and count it. Nothing is
//! stored unless every check passed.

mod bucket;
mod copy_object;
mod delete_object;
mod get_object;
mod input;
mod list_objects;
mod list_objects_v2;
mod listing;
mod metadata;
mod multipart;
mod put_object;
mod unsupported;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

use arc_swap::ArcSwap;
use axum::body::Body;
use crossbeam_skiplist::SkipMap;
use http::{HeaderMap, Method, Request, Response, StatusCode};

use crate::auth::sigv4::{self, SecretLookup, Verified};
use crate::config::Config;
use crate::error::{RequestId, S3Error, S3Result};
use crate::metrics::{FaultKind, Metrics};
use crate::pace::Paced;
use crate::profile::{Fault, Profile};
use crate::ratelimit::{Limiter, partition};
use crate::store::Store;

pub use input::Payload;

/// Operations the mock knows, for routing and counting.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Operation {
    /// `GET /`
    ListBuckets,
    /// `PUT /bucket`
    CreateBucket,
    /// `HEAD /bucket`
    HeadBucket,
    /// `DELETE /bucket`
    DeleteBucket,
    /// `GET /bucket?location`
    GetBucketLocation,
    /// `GET /bucket?list-type=2`
    ListObjectsV2,
    /// `GET /bucket` (ListObjects, v1)
    ListObjects,
    /// `POST /bucket?delete`
    DeleteObjects,
    /// `PUT /bucket/key`
    PutObject,
    /// `GET /bucket/key`
    GetObject,
    /// `HEAD /bucket/key`
    HeadObject,
    /// `DELETE /bucket/key`
    DeleteObject,
    /// `PUT /bucket/key` with `x-amz-copy-source`
    CopyObject,
    /// `POST /bucket/key?uploads`
    CreateMultipartUpload,
    /// `PUT /bucket/key?partNumber&uploadId`
    UploadPart,
    /// `POST /bucket/key?uploadId`
    CompleteMultipartUpload,
    /// `DELETE /bucket/key?uploadId`
    AbortMultipartUpload,
    /// `GET /bucket/key?uploadId`
    ListParts,
    /// The admin API under `/__mock/`.
    Admin,
    /// The credential endpoints.
    Credentials,
    /// Anything the router could not match.
    Unknown,
}

impl Operation {
    /// Number of operations.
    pub const COUNT: usize = 21;

    /// Every operation.
    pub const ALL: [Operation; Self::COUNT] = [
        Operation::ListBuckets,
        Operation::CreateBucket,
        Operation::HeadBucket,
        Operation::DeleteBucket,
        Operation::GetBucketLocation,
        Operation::ListObjectsV2,
        Operation::ListObjects,
        Operation::DeleteObjects,
        Operation::PutObject,
        Operation::GetObject,
        Operation::HeadObject,
        Operation::DeleteObject,
        Operation::CopyObject,
        Operation::CreateMultipartUpload,
        Operation::UploadPart,
        Operation::CompleteMultipartUpload,
        Operation::AbortMultipartUpload,
        Operation::ListParts,
        Operation::Admin,
        Operation::Credentials,
        Operation::Unknown,
    ];

    /// The operation's S3 name.
    pub fn name(self) -> &'static str {
        match self {
            Operation::ListBuckets => "ListBuckets",
            Operation::CreateBucket => "CreateBucket",
            Operation::HeadBucket => "HeadBucket",
            Operation::DeleteBucket => "DeleteBucket",
            Operation::GetBucketLocation => "GetBucketLocation",
            Operation::ListObjectsV2 => "ListObjectsV2",
            Operation::ListObjects => "ListObjects",
            Operation::DeleteObjects => "DeleteObjects",
            Operation::PutObject => "PutObject",
            Operation::GetObject => "GetObject",
            Operation::HeadObject => "HeadObject",
            Operation::DeleteObject => "DeleteObject",
            Operation::CopyObject => "CopyObject",
            Operation::CreateMultipartUpload => "CreateMultipartUpload",
            Operation::UploadPart => "UploadPart",
            Operation::CompleteMultipartUpload => "CompleteMultipartUpload",
            Operation::AbortMultipartUpload => "AbortMultipartUpload",
            Operation::ListParts => "ListParts",
            Operation::Admin => "Admin",
            Operation::Credentials => "Credentials",
            Operation::Unknown => "Unknown",
        }
    }

    /// Writes are PUT/COPY/POST/DELETE in S3's request-rate terms; reads are GET/HEAD.
    pub fn is_write(self) -> bool {
        !matches!(
            self,
            Operation::ListBuckets
                | Operation::HeadBucket
                | Operation::GetBucketLocation
                | Operation::ListObjectsV2
                | Operation::ListObjects
                | Operation::GetObject
                | Operation::HeadObject
                | Operation::ListParts
        )
    }
}

/// Access keys the mock accepts: the configured pair plus keys issued by the credential
/// endpoints. Lock-free reads.
#[derive(Debug, Default)]
pub struct KeyStore {
    keys: SkipMap<String, String>,
}

impl KeyStore {
    /// Accepts `access_key` with `secret_key` from now on.
    pub fn insert(&self, access_key: &str, secret_key: &str) {
        self.keys
            .insert(access_key.to_owned(), secret_key.to_owned());
    }
}

impl SecretLookup for KeyStore {
    fn secret_for(&self, access_key: &str) -> Option<String> {
        self.keys.get(access_key).map(|e| e.value().clone())
    }

    fn with_secret(&self, access_key: &str, f: &mut dyn FnMut(&str)) -> bool {
        self.keys.get(access_key).map(|e| f(e.value())).is_some()
    }
}

/// Shared state of one server.
#[derive(Debug)]
pub struct App {
    /// Settings.
    pub config: Config,
    /// Stored data.
    pub store: Store,
    /// Counters.
    pub metrics: Arc<Metrics>,
    /// Accepted keys.
    pub keys: KeyStore,
    /// IMDS tokens handed out.
    pub issued: crate::credentials::Issued,
    /// Signalled whenever a connection closes (the max-connections gate waits on it).
    pub connection_closed: tokio::sync::Notify,
    /// Open connections, by the reset they were accepted after.
    pub cohorts: crate::reset::Cohorts,
    profile: ArcSwap<Profile>,
    limiter: ArcSwap<Limiter>,
    seq: AtomicU64,
}

impl App {
    /// State for `config`.
    pub fn new(config: Config, metrics: Arc<Metrics>) -> Self {
        let keys = KeyStore::default();
        keys.insert(&config.access_key, &config.secret_key);
        Self {
            store: Store::new(config.storage, config.memory_cap),
            profile: ArcSwap::from_pointee(config.profile.clone()),
            limiter: ArcSwap::from_pointee(Limiter::default()),
            seq: AtomicU64::new(0),
            issued: crate::credentials::Issued::default(),
            connection_closed: tokio::sync::Notify::new(),
            cohorts: crate::reset::Cohorts::default(),
            config,
            metrics,
            keys,
        }
    }

    /// The profile in effect.
    pub fn profile(&self) -> Arc<Profile> {
        self.profile.load_full()
    }

    /// Replaces the profile (after validating it); rate-limit budgets start afresh.
    pub fn set_profile(&self, profile: Profile) -> Result<(), String> {
        profile.validate()?;
        self.profile.store(Arc::new(profile));
        self.limiter.store(Arc::new(Limiter::default()));
        Ok(())
    }

    /// The next request sequence number (seeds that request's random draws).
    pub fn next_seq(&self) -> u64 {
        self.seq.fetch_add(1, Relaxed)
    }

    /// Starts the random sequence again from request 0 (with `seed`, if given) and gives every
    /// prefix a fresh rate-limit budget; returns the seed in effect. Part of
    /// [`App::reset`](crate::reset).
    pub(crate) fn restart_sequence(&self, seed: Option<u64>) -> u64 {
        if let Some(seed) = seed {
            let mut p = (*self.profile()).clone();
            p.seed = seed;
            self.profile.store(Arc::new(p));
        }
        self.limiter.store(Arc::new(Limiter::default()));
        self.seq.store(0, Relaxed);
        self.profile().seed
    }
}

/// Decoded query parameters, in the order sent.
#[derive(Debug, Default)]
pub struct Query(Vec<(String, String)>);

impl Query {
    /// Parses a raw query string. `+` stays `+` (S3 does not treat it as a space).
    pub fn parse(raw: Option<&str>) -> S3Result<Self> {
        let mut pairs = Vec::new();
        for part in raw.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
            let (k, v) = part.split_once('=').unwrap_or((part, ""));
            pairs.push((decode(k)?, decode(v)?));
        }
        Ok(Self(pairs))
    }

    /// The first value of `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Whether `name` is present.
    pub fn has(&self, name: &str) -> bool {
        self.0.iter().any(|(k, _)| k == name)
    }
}

fn decode(s: &str) -> S3Result<String> {
    decode_cow(s).map(std::borrow::Cow::into_owned)
}

/// `s` percent-decoded, borrowed when it has nothing to decode.
fn decode_cow(s: &str) -> S3Result<std::borrow::Cow<'_, str>> {
    if !s.contains('%') {
        return Ok(std::borrow::Cow::Borrowed(s));
    }
    percent_encoding::percent_decode_str(s)
        .decode_utf8()
        .map_err(|_| {
            S3Error::new(
                StatusCode::BAD_REQUEST,
                "InvalidURI",
                "Couldn't parse the specified URI.",
            )
        })
}

/// Sub-resources S3 has and the mock does not implement: NotImplemented rather than a wrong answer.
const UNIMPLEMENTED_SUBRESOURCES: &[&str] = &[
    "accelerate",
    "acl",
    "analytics",
    "attributes",
    "cors",
    "encryption",
    "intelligent-tiering",
    "inventory",
    "legal-hold",
    "lifecycle",
    "logging",
    "metrics",
    "notification",
    "object-lock",
    "ownershipControls",
    "policy",
    "policyStatus",
    "publicAccessBlock",
    "replication",
    "requestPayment",
    "restore",
    "retention",
    "select",
    "session",
    "tagging",
    "torrent",
    "versioning",
    "versions",
    "website",
];

/// A routed request.
#[derive(Debug)]
pub struct S3Request {
    /// Method, URI, headers.
    pub parts: http::request::Parts,
    /// Bucket name, if the path has one.
    pub bucket: String,
    /// Object key (may be empty for bucket operations).
    pub key: String,
    /// Query parameters.
    pub query: Query,
    /// The request's id.
    pub id: RequestId,
    /// The verified signature, when auth is on (boxed: the request is held in every
    /// request's future, and a signature is a third of its size).
    pub auth: Option<Box<Verified>>,
    /// Which of the headers that every request is asked about it carries.
    pub present: Present,
    /// The first `Content-Length` value as a number (none when absent or not a number).
    pub content_length: Option<u64>,
}

/// What one pass over a request's headers found ([`Present::scan`]).
#[derive(Debug)]
pub struct Scan<'a> {
    /// The headers asked about that are present.
    pub present: Present,
    /// The header section's size as S3 counts it.
    pub size: usize,
    /// The first `Host` value.
    pub host: Option<&'a http::HeaderValue>,
    /// The first `Content-Length` value.
    pub content_length: Option<&'a http::HeaderValue>,
}

/// Which of the headers that the request path asks about a request carries, found in one
/// pass over its names: a header it lacks is then known absent without a lookup (each hashes
/// the name, and the names asked about are mostly absent). A set bit only means "look it up":
/// [`Present::ALL`] gives the answers of plain lookups.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Present(u16);

impl Present {
    /// Every header may be present: every question is a lookup.
    pub const ALL: Self = Self(u16::MAX);
    /// `x-amz-copy-source`
    pub const COPY_SOURCE: u16 = 1;
    /// `if-match`, `if-none-match`, `if-modified-since` or `if-unmodified-since`
    pub const CONDITIONAL: u16 = 1 << 1;
    /// `transfer-encoding`
    pub const TRANSFER_ENCODING: u16 = 1 << 2;
    /// `x-amz-content-sha256`
    pub const CONTENT_SHA256: u16 = 1 << 3;
    /// `content-md5`
    pub const CONTENT_MD5: u16 = 1 << 4;
    /// `content-type`
    pub const CONTENT_TYPE: u16 = 1 << 5;
    /// Any `x-amz-*` header.
    pub const ANY_AMZ: u16 = 1 << 6;
    /// Any header stored with an object (`cache-control`, `content-disposition`,
    /// `content-language`, `expires`, `content-encoding`).
    pub const ANY_KEPT: u16 = 1 << 7;
    /// `range`
    pub const RANGE: u16 = 1 << 8;

    /// The headers among `headers`' names.
    pub fn of(headers: &HeaderMap) -> Self {
        Self::scan(headers).present
    }

    /// The headers among `headers`' names, the size of the header section as S3 counts it
    /// (each `name: value` and its line end), and the first `Host` and `Content-Length`
    /// values, in one pass.
    pub fn scan(headers: &HeaderMap) -> Scan<'_> {
        use http::header;
        let mut bits = 0;
        let mut size = 0;
        let (mut host, mut content_length) = (None, None);
        for (name, value) in headers {
            size += name.as_str().len() + value.len() + 4;
            let n = name.as_str();
            if *name == header::HOST {
                host = host.or(Some(value));
                continue;
            }
            if *name == header::CONTENT_LENGTH {
                content_length = content_length.or(Some(value));
                continue;
            }
            bits |= if let Some(amz) = n.strip_prefix("x-amz-") {
                Self::ANY_AMZ
                    | match amz {
                        "copy-source" => Self::COPY_SOURCE,
                        "content-sha256" => Self::CONTENT_SHA256,
                        _ => 0,
                    }
            } else if *name == header::IF_MATCH
                || *name == header::IF_NONE_MATCH
                || *name == header::IF_MODIFIED_SINCE
                || *name == header::IF_UNMODIFIED_SINCE
            {
                Self::CONDITIONAL
            } else if *name == header::RANGE {
                Self::RANGE
            } else if *name == header::TRANSFER_ENCODING {
                Self::TRANSFER_ENCODING
            } else if *name == header::CONTENT_TYPE {
                Self::CONTENT_TYPE
            } else if n == "content-md5" {
                Self::CONTENT_MD5
            } else if *name == header::CACHE_CONTROL
                || *name == header::CONTENT_DISPOSITION
                || *name == header::CONTENT_LANGUAGE
                || *name == header::EXPIRES
                || *name == header::CONTENT_ENCODING
            {
                Self::ANY_KEPT
            } else {
                0
            };
        }
        Scan {
            present: Self(bits),
            size,
            host,
            content_length,
        }
    }

    /// Whether the request may carry the header(s) of `bit` (false: it does not).
    pub fn may_have(self, bit: u16) -> bool {
        self.0 & bit != 0
    }
}

impl S3Request {
    /// A header's value as text. A [`HeaderName`](http::HeaderName) constant is found without
    /// parsing the name (a `&str` is parsed and lowercased on every call).
    pub fn header<K: http::header::AsHeaderName>(&self, name: K) -> Option<&str> {
        header_str(&self.parts.headers, name)
    }

    /// As [`header`](Self::header), for a header of [`Present`] bit `bit`: no lookup when the
    /// request has none.
    pub fn known_header<K: http::header::AsHeaderName>(&self, bit: u16, name: K) -> Option<&str> {
        if self.present.may_have(bit) {
            self.header(name)
        } else {
            None
        }
    }

    /// `/bucket/key`, for error resources.
    pub fn resource(&self) -> String {
        if self.key.is_empty() {
            format!("/{}", self.bucket)
        } else {
            format!("/{}/{}", self.bucket, self.key)
        }
    }
}

/// A header's value as text, if present and visible ASCII.
pub fn header_str<K: http::header::AsHeaderName>(headers: &HeaderMap, name: K) -> Option<&str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// Splits the request target into (bucket, key): path-style `/bucket/key`, or virtual-hosted
/// `bucket.localhost` with the key in the path.
/// `host` is the request's first `Host` value.
fn bucket_and_key(parts: &http::request::Parts, host: Option<&str>) -> S3Result<(String, String)> {
    let path = decode_cow(parts.uri.path())?;
    let path = path.strip_prefix('/').unwrap_or(&path);
    let host = host.unwrap_or("");
    let host = host.rsplit_once(':').map_or(host, |(h, p)| {
        if p.bytes().all(|b| b.is_ascii_digit()) {
            h
        } else {
            host
        }
    });
    if let Some(bucket) = host.strip_suffix(".localhost").filter(|b| !b.is_empty()) {
        return Ok((bucket.to_owned(), path.to_owned()));
    }
    Ok(match path.split_once('/') {
        Some((b, k)) => (b.to_owned(), k.to_owned()),
        None => (path.to_owned(), String::new()),
    })
}

fn route(
    method: &Method,
    bucket: &str,
    key: &str,
    query: &Query,
    headers: &HeaderMap,
    present: Present,
) -> S3Result<Operation> {
    use Operation as O;
    if bucket.is_empty() {
        return match *method {
            Method::GET => Ok(O::ListBuckets),
            _ => Err(S3Error::method_not_allowed()),
        };
    }
    if !query.0.is_empty() && UNIMPLEMENTED_SUBRESOURCES.iter().any(|s| query.has(s)) {
        return Err(S3Error::not_implemented());
    }
    const COPY_SOURCE: http::HeaderName = http::HeaderName::from_static("x-amz-copy-source");
    let copy = present.may_have(Present::COPY_SOURCE) && headers.contains_key(COPY_SOURCE);
    if key.is_empty() {
        return match *method {
            Method::GET if query.get("list-type") == Some("2") => Ok(O::ListObjectsV2),
            Method::GET if query.has("location") => Ok(O::GetBucketLocation),
            Method::GET if query.has("uploads") => Err(S3Error::new(
                StatusCode::NOT_IMPLEMENTED,
                "NotImplemented",
                "ListMultipartUploads is not implemented by mock-s3.",
            )),
            Method::GET => Ok(O::ListObjects),
            Method::PUT => Ok(O::CreateBucket),
            Method::HEAD => Ok(O::HeadBucket),
            Method::DELETE => Ok(O::DeleteBucket),
            Method::POST if query.has("delete") => Ok(O::DeleteObjects),
            Method::POST => Err(S3Error::not_implemented()),
            _ => Err(S3Error::method_not_allowed()),
        };
    }
    match *method {
        Method::PUT if query.has("uploadId") || query.has("partNumber") => {
            if copy {
                Err(S3Error::new(
                    StatusCode::NOT_IMPLEMENTED,
                    "NotImplemented",
                    "UploadPartCopy is not implemented by mock-s3.",
                ))
            } else {
                Ok(O::UploadPart)
            }
        }
        Method::PUT if copy => Ok(O::CopyObject),
        Method::PUT => Ok(O::PutObject),
        Method::GET if query.has("uploadId") => Ok(O::ListParts),
        Method::GET => Ok(O::GetObject),
        Method::HEAD => Ok(O::HeadObject),
        Method::DELETE if query.has("uploadId") => Ok(O::AbortMultipartUpload),
        Method::DELETE => Ok(O::DeleteObject),
        Method::POST if query.has("uploads") => Ok(O::CreateMultipartUpload),
        Method::POST if query.has("uploadId") => Ok(O::CompleteMultipartUpload),
        Method::POST => Err(S3Error::not_implemented()),
        _ => Err(S3Error::method_not_allowed()),
    }
}

/// Handles one S3 request end to end. Never panics on client input; every outcome is a
/// response (the connection is only closed by hyper for malformed HTTP, or by an injected
/// reset fault).
///
/// The body is boxed once here, with its pacing when it has bytes still to come: hyper's
/// `Incoming` from the connection, or the router's [`Body`].
///
/// Everything before the operation that does not wait (routing, the signature, the rate
/// limit and the fault dice) runs when this is called; the future returned holds the routed
/// request once and the operation's future, which borrows it. (An `async fn` would keep a
/// copy of each argument and of each value moved on, at every level: a future three times as
/// large, moved whole when a request starts.)
pub fn handle<B>(app: Arc<App>, req: Request<B>) -> impl Future<Output = Response<Body>> + Send
where
    B: http_body::Body<Data = bytes::Bytes> + Send + Unpin + 'static,
    B::Error: Into<axum::BoxError>,
{
    let id = RequestId::next();
    let seq = app.next_seq();
    app.metrics.request_started();
    // The profile in effect when the request starts. A request under a profile that neither
    // draws, limits nor paces needs two numbers of it; only the others keep it (an `Arc`
    // clone: a count that every thread writes).
    let (stall, bandwidth, profile) = {
        let p = app.profile.load();
        let keep = p.needs_rng() || p.rate_limit.is_some() || p.bandwidth_mb_per_s.is_some();
        (
            Duration::from_millis(p.connections.upload_stall_timeout_ms),
            p.bandwidth_mb_per_s,
            keep.then(|| arc_swap::Guard::into_inner(p)),
        )
    };
    let head = req.method() == Method::HEAD;
    let (parts, body) = req.into_parts();
    // Only a body that is still to come needs pacing or a stall watch.
    let body = if http_body::Body::is_end_stream(&body) {
        Body::new(body)
    } else {
        Body::new(Paced::new(body, bandwidth, Some(stall)))
    };
    // Boxed: only profiles that draw have one, and the future holds it (see below).
    let mut rng = profile
        .as_deref()
        .filter(|p| p.needs_rng())
        .map(|p| Box::new(p.rng(seq)));
    let mut fault = None;
    // A request that fails before its operation keeps its id beside the error; one that gets
    // there has it in the routed request.
    let (op, mut prepared) = match prepare(&app, parts, id) {
        Err((op, e, id)) => (op, Err((e, id))),
        Ok((op, s3req)) => {
            let admitted = match profile.as_deref() {
                Some(p) => admit(&app, p, op, &s3req, rng.as_deref_mut()),
                None => Ok(None),
            };
            match admitted {
                Err(e) => {
                    let id = s3req.id.clone();
                    (op, Err((e, id)))
                }
                Ok(f) => {
                    fault = f;
                    (op, Ok(s3req))
                }
            }
        }
    };
    // The future below is boxed by the server, once per request: at most 1,032 bytes, glibc's
    // largest size served from its per-thread cache (a larger one takes malloc's and free's
    // slow paths, several hundred instructions each). Hence the boxed random state, the
    // bandwidth read from the profile it kept, and the id held once.
    async move {
        let (result, id) = match prepared {
            Err((e, ref id)) => (Err(e), id),
            Ok(ref mut s3req) => {
                if let (Some(Fault::Stall), Some(p)) = (fault, profile.as_deref()) {
                    app.metrics.fault(FaultKind::Stall);
                    tokio::time::sleep(Duration::from_millis(p.faults.stall_ms)).await;
                }
                (dispatch(&app, op, s3req, body).await, &s3req.id)
            }
        };
        // Time to first byte: after the operation (a write's upload has been received).
        if let (Some(rng), Some(p)) = (rng.as_deref_mut(), profile.as_deref()) {
            let latency = if op.is_write() {
                &p.write_latency
            } else {
                &p.read_latency
            };
            let d = latency.sample(rng);
            if !d.is_zero() {
                tokio::time::sleep(d).await;
            }
        }
        let bandwidth = profile.as_deref().and_then(|p| p.bandwidth_mb_per_s);
        finish(&app, id, op, head, bandwidth, fault, result)
    }
}

/// The response to a request whose operation ended with `result`: an error rendered as S3's
/// XML, the request ids, the count, and an injected reset or the response's pacing.
fn finish(
    app: &App,
    id: &RequestId,
    op: Operation,
    head: bool,
    bandwidth: Option<f64>,
    fault: Option<Fault>,
    result: S3Result<Response<Body>>,
) -> Response<Body> {
    let mut resp = match result {
        Ok(resp) => resp,
        Err(e) => {
            if e.status.is_server_error() && e.code != "SlowDown" && e.code != "ServiceUnavailable"
            {
                tracing::warn!(
                    code = e.code,
                    request_id = id.as_str(),
                    "server error: {}",
                    e.message
                );
            }
            let timed_out = e.code == "RequestTimeout";
            let mut resp = e.into_response(id, head);
            if timed_out {
                // S3 closes a connection whose upload stalled.
                resp.headers_mut().insert(
                    http::header::CONNECTION,
                    http::HeaderValue::from_static("close"),
                );
            }
            resp
        }
    };
    id.stamp(resp.headers_mut());
    app.metrics.request_finished(op, resp.status().as_u16());
    if fault == Some(Fault::Reset) {
        app.metrics.fault(FaultKind::Reset);
        return broken(resp);
    }
    match bandwidth {
        Some(rate) if !head => resp.map(|b| Body::new(Paced::new(b, Some(rate), None))),
        _ => resp,
    }
}

/// The request-rate limit and the fault dice, before the operation runs.
fn admit(
    app: &App,
    profile: &Profile,
    op: Operation,
    req: &S3Request,
    rng: Option<&mut rand::rngs::SmallRng>,
) -> S3Result<Option<Fault>> {
    if let Some(limit) = &profile.rate_limit
        && op != Operation::ListBuckets
    {
        let prefix = partition(&req.bucket, &req.key, limit.prefix_depth);
        if !app.limiter.load().admit(limit, &prefix, op.is_write()) {
            app.metrics.slowdown();
            return Err(S3Error::slow_down().with_resource(req.resource()));
        }
    }
    let fault = rng.and_then(|rng| profile.faults.draw(rng));
    match fault {
        Some(Fault::InternalError) => {
            app.metrics.fault(FaultKind::InternalError);
            Err(S3Error::internal_error())
        }
        Some(Fault::ServiceUnavailable) => {
            app.metrics.fault(FaultKind::ServiceUnavailable);
            Err(S3Error::service_unavailable())
        }
        other => Ok(other),
    }
}

/// The response with its body replaced by one that breaks off: the headers go out (promising
/// at least one more byte than will come), then the connection is aborted.
fn broken(resp: Response<Body>) -> Response<Body> {
    let (mut parts, _) = resp.into_parts();
    let promised = parts
        .headers
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
        .unwrap_or(0)
        .max(1);
    parts
        .headers
        .insert(http::header::CONTENT_LENGTH, promised.into());
    let stream = futures_util::stream::iter([Err::<bytes::Bytes, _>(std::io::Error::new(
        std::io::ErrorKind::ConnectionReset,
        "injected reset",
    ))]);
    Response::from_parts(parts, Body::from_stream(stream))
}

/// S3's limit on a request's header section (8 KiB: "The PUT request header is limited to
/// 8 KB in size"). A larger head gets 400 RequestHeaderSectionTooLarge, whatever the
/// connection's read buffer happened to hold (hyper refuses heads beyond its own buffer
/// limit with 431 before they get here).
pub const MAX_HEADER_SECTION: usize = 8 * 1024;

/// S3's longest object key: "The object key name is a sequence of Unicode characters with
/// UTF-8 encoding of up to 1,024 bytes long" (User Guide, Naming Amazon S3 objects,
/// <https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-keys.html>); a longer one gets
/// 400 KeyTooLongError ("Your key is too long.", Error responses,
/// <https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html>).
pub const MAX_KEY_BYTES: usize = 1024;

#[allow(clippy::result_large_err)]
fn prepare(
    app: &App,
    parts: http::request::Parts,
    id: RequestId,
) -> Result<(Operation, S3Request), (Operation, S3Error, RequestId)> {
    match route_and_verify(app, &parts) {
        Ok((op, bucket, key, query, auth, present, content_length)) => Ok((
            op,
            S3Request {
                parts,
                bucket,
                key,
                query,
                id,
                auth,
                present,
                content_length,
            },
        )),
        Err((op, e)) => Err((op, e, id)),
    }
}

/// A routed request's parts, and its verified signature.
type Routed = (
    Operation,
    String,
    String,
    Query,
    Option<Box<Verified>>,
    Present,
    Option<u64>,
);

#[allow(clippy::result_large_err)]
fn route_and_verify(
    app: &App,
    parts: &http::request::Parts,
) -> Result<Routed, (Operation, S3Error)> {
    let unknown = |e| (Operation::Unknown, e);
    let scan = Present::scan(&parts.headers);
    let present = scan.present;
    if scan.size > MAX_HEADER_SECTION {
        return Err(unknown(S3Error::header_section_too_large()));
    }
    let host = scan.host.and_then(|v| v.to_str().ok());
    let (bucket, key) = bucket_and_key(parts, host).map_err(unknown)?;
    let query = Query::parse(parts.uri.query()).map_err(unknown)?;
    let op = route(
        &parts.method,
        &bucket,
        &key,
        &query,
        &parts.headers,
        present,
    )
    .map_err(unknown)?;
    let auth = if app.config.auth {
        match sigv4::verify(parts, &app.keys, std::time::SystemTime::now()) {
            Ok(Some(v)) => Some(Box::new(v)),
            Ok(None) => return Err((op, S3Error::access_denied())),
            Err(e) => {
                let mut err = S3Error::new(e.status(), e.code(), e.message());
                // S3 adds the string to sign, the canonical request and so on: the quickest
                // way to debug a client whose signatures do not match.
                err.extra = e.extra_fields();
                return Err((op, err));
            }
        }
    } else {
        None
    };
    if key.len() > MAX_KEY_BYTES {
        return Err((
            op,
            S3Error::key_too_long().with_resource(format!("/{bucket}")),
        ));
    }
    let content_length = scan
        .content_length
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    Ok((op, bucket, key, query, auth, present, content_length))
}

async fn dispatch(
    app: &App,
    op: Operation,
    req: &mut S3Request,
    body: Body,
) -> S3Result<Response<Body>> {
    use Operation as O;
    match op {
        O::ListBuckets => bucket::list_buckets(app, req),
        O::CreateBucket => bucket::create_bucket(app, req, body).await,
        O::HeadBucket => bucket::head_bucket(app, req),
        O::DeleteBucket => bucket::delete_bucket(app, req),
        O::GetBucketLocation => bucket::get_bucket_location(app, req),
        O::ListObjectsV2 => list_objects_v2::handle(app, req),
        O::ListObjects => list_objects::handle(app, req),
        O::DeleteObjects => delete_object::delete_objects(app, req, body).await,
        O::PutObject => put_object::handle(app, req, body).await,
        O::GetObject => get_object::handle(app, req, false),
        O::HeadObject => get_object::handle(app, req, true),
        O::DeleteObject => delete_object::delete_object(app, req),
        O::CopyObject => copy_object::handle(app, req),
        O::CreateMultipartUpload => multipart::create(app, req),
        O::UploadPart => multipart::upload_part(app, req, body).await,
        O::CompleteMultipartUpload => complete_boxed(app, req, body).await,
        O::AbortMultipartUpload => multipart::abort(app, req),
        O::ListParts => multipart::list_parts(app, req),
        O::Admin | O::Credentials | O::Unknown => Err(S3Error::not_implemented()),
    }
}

/// CompleteMultipartUpload's future, boxed where it is made: it is three times a PutObject's,
/// and inline it would make every request's future as large (that future is moved whole when
/// a request starts).
fn complete_boxed<'a>(
    app: &'a App,
    req: &'a mut S3Request,
    body: Body,
) -> std::pin::Pin<Box<dyn Future<Output = S3Result<Response<Body>>> + Send + 'a>> {
    Box::pin(multipart::complete(app, req, body))
}

/// Response headers cloned from `template`, whose empty values are slots: each is filled
/// with what `fill` gives for its name (found by position: no name is hashed), and the
/// request ids' slots by [`RequestId::stamp`] when the response is finished. Cloning a
/// template of a few headers costs less than inserting them one by one, each name hashed and
/// probed. `fill` must give a value for every slot but the request ids'.
pub(crate) fn from_template(
    template: &HeaderMap,
    mut fill: impl FnMut(&http::HeaderName) -> Option<http::HeaderValue>,
) -> HeaderMap {
    let mut h = template.clone();
    for (name, value) in h.iter_mut() {
        if value.is_empty()
            && let Some(v) = fill(name)
        {
            *value = v;
        }
    }
    h
}

/// A template of `names` with `values` (empty: a slot, see [`from_template`]).
pub(crate) fn template(headers: &[(http::HeaderName, &'static str)]) -> HeaderMap {
    let mut h = HeaderMap::with_capacity(headers.len() + 4);
    for (name, value) in headers {
        h.insert(name.clone(), http::HeaderValue::from_static(value));
    }
    h
}

/// An empty response with `status`.
pub fn empty(status: StatusCode) -> Response<Body> {
    let mut r = Response::new(Body::empty());
    *r.status_mut() = status;
    r
}

/// An XML response.
pub fn xml(body: String) -> Response<Body> {
    let mut r = Response::new(Body::from(body));
    r.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/xml"),
    );
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(method: Method, bucket: &str, key: &str, q: &str) -> S3Result<Operation> {
        route(
            &method,
            bucket,
            key,
            &Query::parse(Some(q)).unwrap(),
            &HeaderMap::new(),
            Present::ALL,
        )
    }

    #[test]
    fn routes() {
        assert_eq!(r(Method::GET, "", "", "").unwrap(), Operation::ListBuckets);
        assert_eq!(
            r(Method::GET, "b", "", "list-type=2&prefix=a").unwrap(),
            Operation::ListObjectsV2
        );
        assert_eq!(
            r(Method::PUT, "b", "k", "x-id=PutObject").unwrap(),
            Operation::PutObject
        );
        assert_eq!(
            r(Method::PUT, "b", "k", "partNumber=1&uploadId=u").unwrap(),
            Operation::UploadPart
        );
        assert_eq!(
            r(Method::POST, "b", "k", "uploads").unwrap(),
            Operation::CreateMultipartUpload
        );
        assert_eq!(
            r(Method::POST, "b", "", "delete").unwrap(),
            Operation::DeleteObjects
        );
        assert_eq!(
            r(Method::GET, "b", "k", "tagging").unwrap_err().code,
            "NotImplemented"
        );
        assert_eq!(
            r(Method::PATCH, "b", "k", "").unwrap_err().code,
            "MethodNotAllowed"
        );
        assert_eq!(
            r(Method::POST, "", "", "").unwrap_err().code,
            "MethodNotAllowed"
        );
    }

    /// The server boxes this future once per request: past 1,032 bytes glibc serves it from
    /// its slow paths instead of the thread's cache.
    #[test]
    fn a_request_future_fits_mallocs_thread_cache() {
        let app = Arc::new(App::new(Config::default(), Arc::default()));
        let req = Request::builder()
            .method(Method::PUT)
            .uri("/b/k")
            .body(Body::empty())
            .unwrap();
        let size = std::mem::size_of_val(&handle(app, req));
        assert!(size <= 1032, "a request's future is {size} bytes");
    }

    /// A header the request path asks about is never taken for absent when it is there.
    #[test]
    fn present_marks_every_header_asked_about() {
        let asked = [
            ("x-amz-copy-source", Present::COPY_SOURCE | Present::ANY_AMZ),
            ("if-match", Present::CONDITIONAL),
            ("if-none-match", Present::CONDITIONAL),
            ("if-modified-since", Present::CONDITIONAL),
            ("if-unmodified-since", Present::CONDITIONAL),
            ("range", Present::RANGE),
            ("x-amz-checksum-mode", Present::ANY_AMZ),
            ("transfer-encoding", Present::TRANSFER_ENCODING),
            (
                "x-amz-content-sha256",
                Present::CONTENT_SHA256 | Present::ANY_AMZ,
            ),
            ("content-md5", Present::CONTENT_MD5),
            ("content-type", Present::CONTENT_TYPE),
            ("x-amz-meta-a", Present::ANY_AMZ),
            ("x-amz-checksum-crc32", Present::ANY_AMZ),
            ("x-amz-trailer", Present::ANY_AMZ),
            ("x-amz-acl", Present::ANY_AMZ),
            ("cache-control", Present::ANY_KEPT),
            ("content-disposition", Present::ANY_KEPT),
            ("content-language", Present::ANY_KEPT),
            ("expires", Present::ANY_KEPT),
            ("content-encoding", Present::ANY_KEPT),
        ];
        let none = Present::of(&HeaderMap::new());
        for (name, bits) in asked {
            assert!(!none.may_have(bits), "{name}");
            let mut h = HeaderMap::new();
            h.insert("host", http::HeaderValue::from_static("h"));
            h.insert("content-length", http::HeaderValue::from_static("1"));
            h.insert("user-agent", http::HeaderValue::from_static("u"));
            h.insert(name, http::HeaderValue::from_static("v"));
            let scan = Present::scan(&h);
            assert_eq!(scan.host.map(|v| v.as_bytes()), Some(&b"h"[..]));
            assert_eq!(scan.content_length.map(|v| v.as_bytes()), Some(&b"1"[..]));
            let present = Present::of(&h);
            for bit in (0..16).map(|i| 1 << i).filter(|b| bits & b != 0) {
                assert!(present.may_have(bit), "{name}: bit {bit:#x}");
            }
            assert_eq!(present.0 & !bits, 0, "{name}: only its bits");
        }
    }

    #[test]
    fn query_keeps_plus() {
        let q = Query::parse(Some("prefix=a+b%20c&delimiter=%2F&flag")).unwrap();
        assert_eq!(q.get("prefix"), Some("a+b c"));
        assert_eq!(q.get("delimiter"), Some("/"));
        assert!(q.has("flag"));
        assert!(Query::parse(Some("a=%ff")).is_err());
    }

    #[test]
    fn virtual_hosted_and_path_style() {
        let req = Request::builder()
            .uri("/my%20key/x")
            .header("host", "bkt.localhost:9443")
            .body(())
            .unwrap();
        let (parts, ()) = req.into_parts();
        assert_eq!(
            bucket_and_key(&parts, header_str(&parts.headers, http::header::HOST)).unwrap(),
            ("bkt".to_owned(), "my key/x".to_owned())
        );
        let req = Request::builder()
            .uri("/bkt/a/b+c")
            .header("host", "127.0.0.1:9443")
            .body(())
            .unwrap();
        let (parts, ()) = req.into_parts();
        assert_eq!(
            bucket_and_key(&parts, header_str(&parts.headers, http::header::HOST)).unwrap(),
            ("bkt".to_owned(), "a/b+c".to_owned())
        );
    }
}
