//! Reading and checking a request body before anything is stored.
//!
//! Order of checks, as S3 applies them: declared length, then the bytes themselves
//! (`aws-chunked` framing and chunk signatures, for a STREAMING-* payload mode only), the signed
//! payload hash, Content-MD5, and the flexible checksum from a header or a trailer. Any failure
//! is an S3 error and nothing is kept.

use axum::body::Body;
use bytes::{Bytes, BytesMut};
use http::header::TRANSFER_ENCODING;
use http_body_util::BodyExt as _;
use md5::Digest as _;

use super::{App, S3Request};
use crate::auth::chunked::{self, ChunkedError};
use crate::auth::sigv4::PayloadMode;
use crate::body_md5::BodyMd5;
use crate::checksum::{self, Algorithm, Hasher};
use crate::config::StorageMode;
use crate::error::{S3Error, S3Result};
use crate::store::{Data, Reservation};

/// A body that passed every check.
#[derive(Debug)]
pub struct Payload<'a> {
    /// The decoded bytes, when held: every body but object data in `--storage discard`.
    pub data: Bytes,
    /// The size of the decoded bytes (held or not).
    pub size: u64,
    /// MD5 of the bytes, when asked for.
    pub md5: Option<[u8; 16]>,
    /// The checksum the client sent (header or trailer), verified.
    pub checksum: Option<(Algorithm, String)>,
    /// The checksum [`read_part`] was asked to compute.
    pub computed: Option<(Algorithm, String)>,
    reservation: Option<Reservation<'a>>,
}

impl Payload<'_> {
    /// The bytes as object data for the store: held, their reservation now the stored
    /// object's share of the memory cap, or in `--storage discard` only their size.
    pub fn into_data(self) -> Data {
        match self.reservation {
            Some(r) => r.keep(self.data),
            None => Data::Generated(self.size),
        }
    }
}

/// The largest XML request body read (CompleteMultipartUpload lists up to 10,000 parts of a
/// few hundred bytes each; DeleteObjects up to 1,000 keys of up to 1,024 bytes, escaped).
pub(super) const MAX_XML_BODY: u64 = 8 << 20;

fn payload_mode(value: &str) -> S3Result<PayloadMode> {
    PayloadMode::parse(value).ok_or_else(|| {
        S3Error::invalid_argument(
            "x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-... or a SHA-256 hex digest",
        )
    })
}

/// The payload mode of `req`: from its verified signature, else from `x-amz-content-sha256`.
fn mode_of(req: &S3Request) -> S3Result<PayloadMode> {
    const CONTENT_SHA256: http::HeaderName = http::HeaderName::from_static("x-amz-content-sha256");
    Ok(
        match (
            &req.auth,
            req.known_header(super::Present::CONTENT_SHA256, CONTENT_SHA256),
        ) {
            (Some(v), _) => v.payload.clone(),
            (None, Some(h)) => payload_mode(h)?,
            (None, None) => PayloadMode::Unsigned,
        },
    )
}

/// Checks how the request declares its body before any of it is read, as S3 does; returns
/// its `Content-Length` and the declared decoded length of an aws-chunked body.
///
/// - An aws-chunked body (a STREAMING-* payload mode) must declare its length in
///   `x-amz-decoded-content-length`, whatever its framing: without it, or with a value that
///   is not a number, S3 answers 411 MissingContentLength (sigv4-streaming: "For all
///   requests, you must include the x-amz-decoded-content-length header"; S3's recorded
///   answers in versity/versitygw#1043 and #1656).
/// - `Transfer-Encoding: chunked` is accepted for object data only around an aws-chunked
///   body (sigv4-streaming: "If you include the Transfer-Encoding header and specify any
///   value other than identity, you must omit the Content-Length header"). A plain body
///   sent chunked gets 501 NotImplemented naming the header (S3's recorded answer:
///   Automattic/knox#43, ikod/dlang-requests#64 with SigV4 and UNSIGNED-PAYLOAD,
///   boto/botocore#911).
/// - With both Content-Length and Transfer-Encoding, hyper follows RFC 9112 §6.3: the body
///   is read as chunked, Content-Length is dropped, and the connection is closed after the
///   answer. A signature that covered Content-Length then fails with 403
///   SignatureDoesNotMatch, as S3 answered in boto/botocore#3651.
fn declared_length(
    req: &S3Request,
    mode: &PayloadMode,
    object_data: bool,
    max: u64,
) -> S3Result<(Option<u64>, Option<u64>)> {
    // hyper has already refused a Content-Length that is not a number (400).
    let content_length = req.content_length;
    if content_length.is_some_and(|n| n > max) {
        return Err(S3Error::entity_too_large());
    }
    let decoded = if mode.is_streaming() {
        let n = chunked::decoded_content_length(&req.parts.headers)
            .ok()
            .flatten()
            .ok_or_else(S3Error::missing_content_length)?;
        if n > max {
            return Err(S3Error::entity_too_large());
        }
        Some(n)
    } else {
        None
    };
    if object_data
        && !mode.is_streaming()
        && req.present.may_have(super::Present::TRANSFER_ENCODING)
        && req.parts.headers.contains_key(TRANSFER_ENCODING)
    {
        let mut e = S3Error::not_implemented();
        e.extra.push(("Header", "Transfer-Encoding".to_owned()));
        return Err(e);
    }
    Ok((content_length, decoded))
}

/// Where the bytes of a body go while it is read: through the hashes asked for, and into
/// memory reserved for them beforehand when they are held. The hashes a plain PUT does not
/// need are boxed: the future that reads a body stays small (it is moved as a whole).
struct Sink<'a> {
    md5: Option<BodyMd5>,
    sha256: Option<Box<sha2::Sha256>>,
    checksum: Option<Box<Hasher>>,
    also: Option<Box<Hasher>>,
    held: Option<(BytesMut, Reservation<'a>)>,
    /// The most bytes a held body may grow to (its reservation grows up to it).
    limit: u64,
    size: u64,
}

impl Sink<'_> {
    fn write(&mut self, d: &[u8]) -> S3Result<()> {
        self.size += d.len() as u64;
        if let Some(h) = self.md5.as_mut() {
            h.update(d);
        }
        if let Some(h) = self.sha256.as_mut() {
            h.update(d);
        }
        if let Some(h) = self.checksum.as_mut() {
            h.update(d);
        }
        if let Some(h) = self.also.as_mut() {
            h.update(d);
        }
        if let Some((buf, reservation)) = self.held.as_mut() {
            let need = (buf.len() + d.len()) as u64;
            if need > reservation.bytes() {
                if need > self.limit {
                    return Err(S3Error::max_message_length_exceeded());
                }
                reservation.grow(need - reservation.bytes())?;
            }
            buf.extend_from_slice(d);
        }
        Ok(())
    }
}

impl From<ChunkedError> for S3Error {
    fn from(e: ChunkedError) -> Self {
        chunk_error(e)
    }
}

/// The checksum the request announces, in a header (with its value) or in `x-amz-trailer`
/// (its value comes at the end of the body). S3 refuses more than one, and a trailer that is
/// not a checksum ("The value specified in the x-amz-trailer header is not supported", its
/// recorded answer in versity/versitygw#1161).
fn announced_checksum(req: &S3Request) -> S3Result<Option<(Algorithm, Option<String>)>> {
    const TRAILER: http::HeaderName = http::HeaderName::from_static("x-amz-trailer");
    if !req.present.may_have(super::Present::ANY_AMZ) {
        return Ok(None);
    }
    let headers = &req.parts.headers;
    let mut found = None;
    let mut count = 0;
    // One pass over the names (each once, however many values it has), not a lookup per
    // algorithm: only `x-amz-checksum-*` and `x-amz-trailer` are looked at again.
    for name in headers.keys() {
        if name.as_str().starts_with("x-amz-checksum-") {
            if let Some(alg) = Algorithm::from_header(name.as_str())
                && let Some(v) = super::header_str(headers, name)
            {
                count += 1;
                found = Some((alg, Some(v.trim().to_owned())));
            }
        } else if *name == TRAILER {
            for value in headers.get_all(&TRAILER) {
                for name in value.to_str().unwrap_or("").split(',').map(str::trim) {
                    if name.is_empty() {
                        continue;
                    }
                    let alg = Algorithm::from_header(name).ok_or_else(|| {
                        S3Error::invalid_request(
                            "The value specified in the x-amz-trailer header is not supported",
                        )
                    })?;
                    count += 1;
                    found = Some((alg, None));
                }
            }
        }
    }
    if count > 1 {
        return Err(S3Error::invalid_request(
            "Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.",
        ));
    }
    Ok(found)
}

fn malformed_trailer() -> S3Error {
    S3Error::new(
        http::StatusCode::BAD_REQUEST,
        "MalformedTrailerError",
        "The request contained trailing data that was not well-formed or did not conform to our published schema.",
    )
}

/// An error from the body while it was read: a stall (S3's RequestTimeout, counted) or a
/// connection that ended early.
fn body_error(app: &App, e: &(dyn std::error::Error + 'static)) -> S3Error {
    let mut source = Some(e);
    while let Some(err) = source {
        if err.is::<crate::pace::Stalled>() {
            app.metrics.request_timeout();
            return S3Error::request_timeout();
        }
        source = err.source();
    }
    S3Error::incomplete_body()
}

/// Reads the body of `req` as it arrives and checks it. `object_data`: the body is an
/// object's or a part's bytes (PutObject, UploadPart), for which S3 has rules on framing.
///
/// Memory: object data in `--storage discard` is hashed and counted, never held. Any other
/// body is held only in memory reserved against the cap before it is read: its declared
/// length (Content-Length, or `x-amz-decoded-content-length` for aws-chunked), refused at
/// once with MockStorageFull when it cannot fit; a body of undeclared length (an XML body sent
/// chunked) reserves as it grows, up to [`MAX_XML_BODY`].
pub(super) async fn read<'a>(
    app: &'a App,
    req: &S3Request,
    body: Body,
    object_data: bool,
    want_md5: bool,
) -> S3Result<Payload<'a>> {
    read_computing(app, req, body, object_data, want_md5, None).await
}

/// Reads the body of an UploadPart as [`read`] does, also computing the checksum of
/// `algorithm` over its bytes as they pass ([`Payload::computed`]).
pub(super) async fn read_part<'a>(
    app: &'a App,
    req: &S3Request,
    body: Body,
    algorithm: Option<Algorithm>,
) -> S3Result<Payload<'a>> {
    read_computing(app, req, body, true, true, algorithm).await
}

async fn read_computing<'a>(
    app: &'a App,
    req: &S3Request,
    mut body: Body,
    object_data: bool,
    want_md5: bool,
    also: Option<Algorithm>,
) -> S3Result<Payload<'a>> {
    let max = app.config.max_body;
    let mode = mode_of(req)?;
    let (content_length, decoded_len) = declared_length(req, &mode, object_data, max)?;
    let limit = if object_data { max } else { MAX_XML_BODY };
    let declared = decoded_len.or(content_length);
    if !object_data && declared.is_some_and(|n| n > limit) {
        return Err(S3Error::max_message_length_exceeded());
    }
    const CONTENT_MD5: http::HeaderName = http::HeaderName::from_static("content-md5");
    let content_md5 = match req.known_header(super::Present::CONTENT_MD5, CONTENT_MD5) {
        Some(v) => Some(checksum::decode_content_md5(v).ok_or_else(S3Error::invalid_digest)?),
        None => None,
    };
    let announced = announced_checksum(req)?;
    let hold = !(object_data && app.store.mode() == StorageMode::Discard);
    let held = if hold {
        let n = declared.unwrap_or(0);
        let reservation = app.store.reserve(n)?;
        Some((BytesMut::with_capacity(n as usize), reservation))
    } else {
        None
    };
    let mut sink = Sink {
        md5: (want_md5 || content_md5.is_some()).then(|| BodyMd5::new(declared)),
        sha256: match &mode {
            PayloadMode::Sha256(_) => Some(Box::new(sha2::Sha256::new())),
            _ => None,
        },
        checksum: announced.as_ref().map(|(a, _)| Box::new(Hasher::new(*a))),
        also: also.map(|a| Box::new(Hasher::new(a))),
        held,
        limit,
        size: 0,
    };
    // The payload mode alone says how the body is framed, as in S3: only a STREAMING-* value
    // means aws-chunked framing, and a signed mode is always checked against the bytes it
    // covers. `Content-Encoding: aws-chunked` on any other request is a label S3 strips from
    // the stored metadata; the payload hash covers the body as sent and the body is stored as
    // sent (recorded: developmentseed/multistore#92, "S3 only de-chunks a request signed with
    // a matching streaming sentinel"; rustfs/rustfs#4962). Deciding the framing from
    // Content-Encoding let a request whose signed hash matched neither the raw nor the
    // decoded body store the decoded bytes.
    let mut decoder = if mode.is_streaming() {
        // Without auth there is no key to check chunk signatures with: they are extensions.
        let framing = if req.auth.is_some() {
            mode.clone()
        } else {
            PayloadMode::StreamingUnsignedTrailer
        };
        let signer = req.auth.as_ref().and_then(|v| v.chunk_signer.clone());
        Some(Box::new(chunked::Decoder::new(
            &framing,
            signer,
            decoded_len,
        )?))
    } else {
        None
    };
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| body_error(app, &e))?;
        let Ok(data) = frame.into_data() else {
            continue;
        };
        app.metrics.bytes_in(data.len() as u64);
        match decoder.as_mut() {
            Some(d) => d.feed(&data, |piece| sink.write(piece))?,
            None => sink.write(&data)?,
        }
    }
    let trailers = match decoder {
        Some(d) => d.finish()?,
        None => Vec::new(),
    };

    if let (PayloadMode::Sha256(expected), Some(h)) = (&mode, sink.sha256.take())
        && hex::encode(h.finalize()) != *expected
    {
        return Err(S3Error::content_sha256_mismatch());
    }
    let md5: Option<[u8; 16]> = sink.md5.take().map(BodyMd5::finish);
    if content_md5.is_some() && content_md5 != md5 {
        return Err(S3Error::bad_digest());
    }
    let mut checksum = None;
    if let Some((alg, given)) = announced {
        let given = match given {
            Some(v) => v,
            None => trailers
                .iter()
                .find(|(k, _)| Algorithm::from_header(k) == Some(alg))
                .map(|(_, v)| v.clone())
                .ok_or_else(malformed_trailer)?,
        };
        let computed = sink.checksum.take().map(|h| h.finish()).unwrap_or_default();
        if computed != given {
            return Err(S3Error::checksum_mismatch(alg.name()));
        }
        checksum = Some((alg, given));
    }
    // A checksum trailer that x-amz-trailer did not announce.
    if trailers.iter().any(|(k, _)| {
        Algorithm::from_header(k).is_some_and(|a| checksum.as_ref().is_none_or(|(c, _)| *c != a))
    }) {
        return Err(malformed_trailer());
    }
    let (data, reservation) = match sink.held {
        Some((buf, r)) => (buf.freeze(), Some(r)),
        None => (Bytes::new(), None),
    };
    let computed = sink.also.take().map(|h| (h.algorithm(), h.finish()));
    Ok(Payload {
        data,
        size: sink.size,
        md5,
        checksum,
        computed,
        reservation,
    })
}

fn chunk_error(e: chunked::ChunkedError) -> S3Error {
    let mut err = S3Error::new(e.status(), e.code(), e.message());
    err.extra = e.extra_fields();
    err
}

/// Headers that are stored with an object and returned on GET/HEAD.
const KEPT_HEADERS: [http::HeaderName; 5] = [
    http::header::CACHE_CONTROL,
    http::header::CONTENT_DISPOSITION,
    http::header::CONTENT_LANGUAGE,
    http::header::EXPIRES,
    http::header::CONTENT_ENCODING,
];

/// Header name/value pairs.
pub(super) type Pairs = Vec<(String, String)>;

/// The standard headers and `x-amz-meta-*` metadata of a request, as stored with an object.
/// One pass over the request's headers (a lookup per kept header hashed and probed five
/// times on every PUT); each kept header's first value, in [`KEPT_HEADERS`]' order.
pub(super) fn object_headers(req: &S3Request) -> (Pairs, Pairs) {
    use super::Present;
    if !req.present.may_have(Present::ANY_AMZ | Present::ANY_KEPT) {
        return (Vec::new(), Vec::new());
    }
    let mut kept: [Option<&http::HeaderValue>; 5] = [None; 5];
    let mut metadata = Vec::new();
    let mut last: Option<&http::HeaderName> = None;
    for (name, value) in &req.parts.headers {
        // The extra values of a name follow its first one.
        let first = last != Some(name);
        last = Some(name);
        if let Some(m) = name.as_str().strip_prefix("x-amz-meta-") {
            metadata.push((m.to_owned(), super::metadata::decode(value.as_bytes())));
        } else if first && let Some(i) = KEPT_HEADERS.iter().position(|k| k == name) {
            kept[i] = Some(value);
        }
    }
    let mut headers = Vec::new();
    for (name, value) in KEPT_HEADERS.iter().zip(kept) {
        let Some(v) = value.and_then(|v| v.to_str().ok()) else {
            continue;
        };
        let v = if *name == http::header::CONTENT_ENCODING {
            // aws-chunked describes the transfer, not the object.
            let rest: Vec<&str> = v
                .split(',')
                .map(str::trim)
                .filter(|e| *e != "aws-chunked" && !e.is_empty())
                .collect();
            if rest.is_empty() {
                continue;
            }
            rest.join(",")
        } else {
            v.to_owned()
        };
        headers.push((name.as_str().to_owned(), v));
    }
    (headers, metadata)
}

#[cfg(test)]
mod object_header_tests {
    use super::*;

    fn request(headers: &[(&str, &str)]) -> S3Request {
        let mut b = http::Request::builder().method("PUT").uri("/b/k");
        for (k, v) in headers {
            b = b.header(*k, *v);
        }
        let parts = b.body(()).unwrap().into_parts().0;
        S3Request {
            present: super::super::Present::of(&parts.headers),
            content_length: None,
            parts,
            bucket: "b".to_owned(),
            key: "k".to_owned(),
            query: super::super::Query::default(),
            id: crate::error::RequestId::next(),
            auth: None,
        }
    }

    fn pairs(v: &[(&str, &str)]) -> Pairs {
        v.iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn kept_headers_first_values_in_fixed_order_and_metadata() {
        let req = request(&[
            ("x-amz-meta-b", "2"),
            ("content-encoding", "aws-chunked, gzip"),
            ("expires", "Thu, 01 Dec 1994 16:00:00 GMT"),
            ("cache-control", "no-cache"),
            ("cache-control", "second"),
            ("host", "h"),
            ("x-amz-meta-a", "1"),
            ("x-amz-meta-a", "3"),
        ]);
        let (headers, metadata) = object_headers(&req);
        assert_eq!(
            headers,
            pairs(&[
                ("cache-control", "no-cache"),
                ("expires", "Thu, 01 Dec 1994 16:00:00 GMT"),
                ("content-encoding", "gzip"),
            ])
        );
        assert_eq!(metadata, pairs(&[("b", "2"), ("a", "1"), ("a", "3")]));
        // A first value that is not text hides the header, whatever follows it.
        let mut req = request(&[]);
        let h = &mut req.parts.headers;
        h.append(
            "cache-control",
            http::HeaderValue::from_bytes(b"caf\xc3\xa9").unwrap(),
        );
        h.append("cache-control", http::HeaderValue::from_static("ok"));
        req.present = super::super::Present::of(&req.parts.headers);
        assert!(object_headers(&req).0.is_empty());
        let req = request(&[("content-encoding", "aws-chunked")]);
        assert!(object_headers(&req).0.is_empty());
    }
}
