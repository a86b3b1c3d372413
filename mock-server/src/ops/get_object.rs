//! GetObject and HeadObject: conditional requests, byte ranges, `?partNumber=N`, and the
//! headers S3 returns.
//!
//! A checksum header is sent only when it describes the bytes returned: never for a range or
//! a part, never for a discarded object whose bytes are generated, and only when the client
//! asked with `x-amz-checksum-mode: ENABLED`; a multipart object's comes with its type
//! (`x-amz-checksum-type: COMPOSITE` or `FULL_OBJECT`).
//!
//! `?partNumber=N` "effectively performs a 'ranged' GET request for the part specified"
//! (<https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html>): 206 with the part's
//! bytes, its `Content-Range`, `x-amz-mp-parts-count` and the object's ETag; a part beyond
//! the last is 416 InvalidPartNumber ("The requested partnumber is not satisfiable",
//! <https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html>). An object uploaded
//! in one piece is its own part 1 (recorded S3 response: `206 Partial Content`,
//! `Content-Range: bytes 0-9/10` for `?partNumber=1` of a 10-byte object, quoted in
//! versity/versitygw issue 2074). With a `Range` header too, S3 answers 400 InvalidRequest
//! "Cannot specify both Range header and partNumber query parameter" (recorded in
//! ceph/ceph pull request 66780).

use std::convert::Infallible;
use std::time::SystemTime;

use axum::body::Body;
use http::{HeaderMap, HeaderValue, Response, StatusCode, header};

use super::put_object::etag_matches;
use super::{App, Present, S3Request, empty, metadata, unsupported};
use crate::error::{S3Error, S3Result};
use crate::store::{Data, Object, generated};

/// A parsed `Range: bytes=...` header, resolved against the object size.
/// `Ok(None)`: serve the whole object (no header, or a form S3 ignores).
pub(super) fn parse_range(value: Option<&str>, size: u64) -> S3Result<Option<(u64, u64)>> {
    let Some(spec) = value.and_then(|v| v.trim().strip_prefix("bytes=")) else {
        return Ok(None);
    };
    if spec.contains(',') {
        // S3 does not support multiple ranges and serves the whole object.
        return Ok(None);
    }
    let Some((a, b)) = spec.split_once('-') else {
        return Ok(None);
    };
    let (a, b) = (a.trim(), b.trim());
    let range = if a.is_empty() {
        // Suffix: the last N bytes.
        let Ok(n) = b.parse::<u64>() else {
            return Ok(None);
        };
        if n == 0 || size == 0 {
            return Err(S3Error::invalid_range(size));
        }
        (size.saturating_sub(n), size - 1)
    } else {
        let Ok(start) = a.parse::<u64>() else {
            return Ok(None);
        };
        let end = if b.is_empty() {
            u64::MAX
        } else {
            match b.parse::<u64>() {
                Ok(e) if e >= start => e,
                _ => return Ok(None),
            }
        };
        if start >= size {
            return Err(S3Error::invalid_range(size));
        }
        (start, end.min(size - 1))
    };
    Ok(Some(range))
}

fn parse_http_date(v: &str) -> Option<SystemTime> {
    httpdate::parse_http_date(v.trim()).ok()
}

/// Whole seconds, as HTTP dates carry them.
fn secs(t: SystemTime) -> u64 {
    t.duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// `Last-Modified` for `t`. Formatting a date is the dearest of an object's headers, and one
/// object is read many times: each thread keeps the last one it formatted.
fn http_date(t: SystemTime) -> HeaderValue {
    use std::cell::RefCell;
    thread_local! {
        static LAST: RefCell<Option<(u64, HeaderValue)>> = const { RefCell::new(None) };
    }
    let format = || {
        HeaderValue::from_str(&httpdate::fmt_http_date(t)).expect("an HTTP date is visible ASCII")
    };
    let Ok(since) = t.duration_since(SystemTime::UNIX_EPOCH) else {
        return format();
    };
    // HTTP dates have whole seconds: one formatting serves the whole second.
    let key = since.as_secs();
    LAST.with_borrow_mut(|last| match last {
        Some((k, v)) if *k == key => v.clone(),
        _ => {
            let v = format();
            *last = Some((key, v.clone()));
            v
        }
    })
}

/// Sets the headers S3 returns for an object.
pub(super) fn object_headers(h: &mut HeaderMap, o: &Object) {
    const PARTS_COUNT: http::HeaderName = http::HeaderName::from_static("x-amz-mp-parts-count");
    if let Some(v) = crate::header_value::shared(o.etag.as_bytes()) {
        h.insert(header::ETAG, v);
    }
    h.insert(header::LAST_MODIFIED, http_date(o.last_modified));
    match o.content_type.as_deref() {
        None => {
            h.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("binary/octet-stream"),
            );
        }
        Some(t) => {
            if let Ok(v) = HeaderValue::from_str(t) {
                h.insert(header::CONTENT_TYPE, v);
            }
        }
    }
    h.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    let mut set = |name: &str, value: &str| {
        if let (Ok(n), Ok(v)) = (
            http::HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(value),
        ) {
            h.insert(n, v);
        }
    };
    for (k, v) in &o.headers {
        set(k, v);
    }
    for (k, v) in &o.metadata {
        set(&format!("x-amz-meta-{k}"), &metadata::encode(v));
    }
    if let Some(parts) = &o.parts {
        h.insert(PARTS_COUNT, HeaderValue::from(parts.len()));
    }
    unsupported::sse_s3(h);
}

/// The headers of [`object_headers`] and `Content-Length: len`, in the same order, from a
/// template (see [`super::from_template`]), for an object with no stored headers, metadata
/// or parts and a valid content type: the headers of almost every GET.
fn plain_object_headers(o: &Object, len: u64) -> Option<HeaderMap> {
    static TEMPLATE: std::sync::LazyLock<HeaderMap> = std::sync::LazyLock::new(|| {
        super::template(&[
            (header::ETAG, ""),
            (header::LAST_MODIFIED, ""),
            (header::CONTENT_TYPE, ""),
            (header::ACCEPT_RANGES, "bytes"),
            (unsupported::SSE, "AES256"),
            (header::CONTENT_LENGTH, ""),
            (crate::error::REQUEST_ID, ""),
            (crate::error::ID_2, ""),
        ])
    });
    if !o.headers.is_empty() || !o.metadata.is_empty() || o.parts.is_some() {
        return None;
    }
    let content_type = match o.content_type.as_deref() {
        None => HeaderValue::from_static("binary/octet-stream"),
        Some(t) => HeaderValue::from_str(t).ok()?,
    };
    let etag = crate::header_value::shared(o.etag.as_bytes())?;
    let mut values = [
        Some(etag),
        Some(http_date(o.last_modified)),
        Some(content_type),
        Some(crate::header_value::number(len)),
    ];
    Some(super::from_template(&TEMPLATE, |name| {
        let i = if *name == header::ETAG {
            0
        } else if *name == header::LAST_MODIFIED {
            1
        } else if *name == header::CONTENT_TYPE {
            2
        } else if *name == header::CONTENT_LENGTH {
            3
        } else {
            return None;
        };
        values[i].take()
    }))
}

/// The byte range `[start, end]` of part `number`, or 416 InvalidPartNumber.
fn part_range(o: &Object, number: &str) -> S3Result<(u64, u64)> {
    let n = number
        .parse::<usize>()
        .ok()
        .filter(|n| (1..=10_000).contains(n))
        .ok_or_else(|| {
            S3Error::invalid_argument(
                "Part number must be an integer between 1 and 10000, inclusive",
            )
        })?;
    let sizes: &[u64] = match &o.parts {
        Some(parts) => parts,
        None => &[o.size],
    };
    if n > sizes.len() {
        return Err(S3Error::invalid_part_number());
    }
    let start: u64 = sizes[..n - 1].iter().sum();
    Ok((start, (start + sizes[n - 1]).saturating_sub(1)))
}

/// `response-*` query overrides (used by presigned GETs).
const OVERRIDES: [(&str, &str); 6] = [
    ("response-content-type", "content-type"),
    ("response-content-language", "content-language"),
    ("response-expires", "expires"),
    ("response-cache-control", "cache-control"),
    ("response-content-disposition", "content-disposition"),
    ("response-content-encoding", "content-encoding"),
];

pub(super) fn handle(app: &App, req: &S3Request, head: bool) -> S3Result<Response<Body>> {
    let bucket = app.store.bucket(&req.bucket)?;
    let object = bucket
        .object(&req.key)
        .ok_or_else(|| S3Error::no_such_key().with_resource(req.resource()))?;

    // Conditional requests (RFC 9110 order, as S3 applies it).
    let modified = secs(object.last_modified);
    if let Some(v) = req.known_header(Present::CONDITIONAL, header::IF_MATCH) {
        if !etag_matches(v, &object.etag) {
            return Err(S3Error::precondition_failed().with_resource(req.resource()));
        }
    } else if let Some(t) = req
        .known_header(Present::CONDITIONAL, header::IF_UNMODIFIED_SINCE)
        .and_then(parse_http_date)
        && modified > secs(t)
    {
        return Err(S3Error::precondition_failed().with_resource(req.resource()));
    }
    let not_modified =
        if let Some(v) = req.known_header(Present::CONDITIONAL, header::IF_NONE_MATCH) {
            etag_matches(v, &object.etag)
        } else if let Some(t) = req
            .known_header(Present::CONDITIONAL, header::IF_MODIFIED_SINCE)
            .and_then(parse_http_date)
        {
            modified <= secs(t)
        } else {
            false
        };
    if not_modified {
        let mut resp = empty(StatusCode::NOT_MODIFIED);
        let h = resp.headers_mut();
        if let Some(v) = crate::header_value::shared(object.etag.as_bytes()) {
            h.insert(header::ETAG, v);
        }
        h.insert(header::LAST_MODIFIED, http_date(object.last_modified));
        return Ok(resp);
    }

    let range = match req.query.get("partNumber") {
        Some(_) if req.known_header(Present::RANGE, header::RANGE).is_some() => {
            return Err(S3Error::invalid_request(
                "Cannot specify both Range header and partNumber query parameter",
            ));
        }
        Some(n) => Some(part_range(&object, n)?),
        None => parse_range(req.known_header(Present::RANGE, header::RANGE), object.size)?,
    };
    let (start, end_inclusive, status) = match range {
        Some((s, e)) => (s, e, StatusCode::PARTIAL_CONTENT),
        None => (0, object.size.saturating_sub(1), StatusCode::OK),
    };
    let len = if object.size == 0 {
        0
    } else {
        end_inclusive - start + 1
    };

    let body = if head || len == 0 {
        Body::empty()
    } else {
        app.metrics.bytes_out(len);
        match &object.data {
            Data::Stored(b) => Body::from(b.slice(start as usize..(start + len) as usize)),
            Data::Generated(_) => Body::from_stream(futures_util::stream::iter(
                generated(start, start + len).map(Ok::<_, Infallible>),
            )),
        }
    };
    let mut resp = Response::new(body);
    *resp.status_mut() = status;
    let h = resp.headers_mut();
    if let Some(headers) = plain_object_headers(&object, len) {
        *h = headers;
    } else {
        // Sized once for S3's headers of an object (and the request ids added last), rather
        // than grown on the way.
        *h = HeaderMap::with_capacity(16 + object.headers.len() + object.metadata.len());
        object_headers(h, &object);
        h.insert(header::CONTENT_LENGTH, crate::header_value::number(len));
    }
    if status == StatusCode::PARTIAL_CONTENT
        && let Ok(v) = HeaderValue::from_str(&format!(
            "bytes {start}-{}/{}",
            end_inclusive.max(start),
            object.size
        ))
    {
        h.insert(header::CONTENT_RANGE, v);
    }
    const CHECKSUM_MODE: http::HeaderName = http::HeaderName::from_static("x-amz-checksum-mode");
    let checksum_mode = req
        .known_header(Present::ANY_AMZ, CHECKSUM_MODE)
        .is_some_and(|v| v.eq_ignore_ascii_case("enabled"));
    if checksum_mode
        && range.is_none()
        && matches!(object.data, Data::Stored(_))
        && let Some(c) = &object.checksum
        && let Ok(v) = HeaderValue::from_str(&c.value)
    {
        h.insert(c.algorithm.header(), v);
        h.insert(
            "x-amz-checksum-type",
            HeaderValue::from_static(c.kind.name()),
        );
    }
    for (param, name) in OVERRIDES {
        if let Some(v) = req
            .query
            .get(param)
            .and_then(|v| HeaderValue::from_str(v).ok())
        {
            h.insert(name, v);
        }
    }
    Ok(resp)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        assert_eq!(parse_range(None, 10).unwrap(), None);
        assert_eq!(parse_range(Some("bytes=0-4"), 10).unwrap(), Some((0, 4)));
        assert_eq!(parse_range(Some("bytes=5-"), 10).unwrap(), Some((5, 9)));
        assert_eq!(parse_range(Some("bytes=-3"), 10).unwrap(), Some((7, 9)));
        assert_eq!(parse_range(Some("bytes=-30"), 10).unwrap(), Some((0, 9)));
        assert_eq!(parse_range(Some("bytes=3-100"), 10).unwrap(), Some((3, 9)));
        assert_eq!(
            parse_range(Some("bytes=10-"), 10).unwrap_err().code,
            "InvalidRange"
        );
        assert_eq!(
            parse_range(Some("bytes=0-1"), 0).unwrap_err().code,
            "InvalidRange"
        );
        // Forms S3 ignores: serve everything.
        assert_eq!(parse_range(Some("bytes=5-2"), 10).unwrap(), None);
        assert_eq!(parse_range(Some("bytes=0-1,3-4"), 10).unwrap(), None);
        assert_eq!(parse_range(Some("items=0-1"), 10).unwrap(), None);
        assert_eq!(parse_range(Some("bytes=x-1"), 10).unwrap(), None);
    }
}
