//! CopyObject: `x-amz-copy-source` to the request's key, metadata copied or replaced.
//!
//! The source's conditions, as CopyObject's API reference gives them
//! (<https://docs.aws.amazon.com/AmazonS3/latest/API/API_CopyObject.html>): each of
//! `x-amz-copy-source-if-match`, `-if-none-match`, `-if-unmodified-since` and
//! `-if-modified-since` that does not hold is 412 PreconditionFailed, except that a matching
//! `if-match` makes a failing `if-unmodified-since` irrelevant ("If both ... are present ...
//! and x-amz-copy-source-if-match condition evaluates to true, and;
//! x-amz-copy-source-if-unmodified-since condition evaluates to false; Amazon S3 returns 200
//! OK and copies the data"). The destination's own `If-Match` / `If-None-Match` are
//! conditional writes, as for PutObject.

use std::time::SystemTime;

use axum::body::Body;
use bytes::Bytes;
use http::Response;

use super::put_object::{etag_matches, is_conditional, store, write_preconditions};
use super::{App, S3Request, input, unsupported, xml};
use crate::error::{S3Error, S3Result};
use crate::store::{Data, Object};
use crate::xml::{XmlWriter, iso8601};

fn parse_source(value: &str) -> S3Result<(String, String)> {
    let value = value.split_once("?versionId=").map_or(value, |(s, _)| s);
    let decoded = percent_encoding::percent_decode_str(value)
        .decode_utf8()
        .map_err(|_| S3Error::invalid_argument("Invalid copy source encoding"))?;
    let decoded = decoded.strip_prefix('/').unwrap_or(&decoded);
    match decoded.split_once('/') {
        Some((b, k)) if !b.is_empty() && !k.is_empty() => Ok((b.to_owned(), k.to_owned())),
        _ => Err(S3Error::invalid_argument(
            "Copy Source must mention the source bucket and key: sourcebucket/sourcekey",
        )),
    }
}

/// Whole seconds since the epoch, as HTTP dates carry them.
fn secs(t: SystemTime) -> u64 {
    t.duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn date(req: &S3Request, name: &str) -> Option<u64> {
    req.header(name)
        .and_then(|v| httpdate::parse_http_date(v.trim()).ok())
        .map(secs)
}

/// The `x-amz-copy-source-if-*` conditions against the source object.
fn source_conditions(req: &S3Request, src: &Object) -> S3Result<()> {
    let failed = || Err(S3Error::precondition_failed().with_resource(req.resource()));
    let modified = secs(src.last_modified);
    let if_match = req.header("x-amz-copy-source-if-match");
    if let Some(v) = if_match
        && !etag_matches(v, &src.etag)
    {
        return failed();
    }
    if if_match.is_none()
        && date(req, "x-amz-copy-source-if-unmodified-since").is_some_and(|t| modified > t)
    {
        return failed();
    }
    if let Some(v) = req.header("x-amz-copy-source-if-none-match")
        && etag_matches(v, &src.etag)
    {
        return failed();
    }
    if date(req, "x-amz-copy-source-if-modified-since").is_some_and(|t| modified <= t) {
        return failed();
    }
    Ok(())
}

pub(super) fn handle(app: &App, req: &S3Request) -> S3Result<Response<Body>> {
    unsupported::refuse(req)?;
    let (src_bucket, src_key) = parse_source(req.header("x-amz-copy-source").unwrap_or(""))?;
    let source = app.store.bucket(&src_bucket)?;
    let src = source
        .object(&src_key)
        .ok_or_else(|| S3Error::no_such_key().with_resource(format!("/{src_bucket}/{src_key}")))?;
    source_conditions(req, &src)?;
    let dest = app.store.bucket(&req.bucket)?;
    let seen = if is_conditional(req) {
        let current = dest.object(&req.key);
        write_preconditions(req, current.as_deref())?;
        Some(current)
    } else {
        None
    };
    let replace = match req.header("x-amz-metadata-directive") {
        None | Some("COPY") => false,
        Some("REPLACE") => true,
        Some(_) => return Err(S3Error::invalid_argument("Unknown metadata directive.")),
    };
    if src_bucket == req.bucket && src_key == req.key && !replace {
        return Err(S3Error::invalid_request(
            "This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes.",
        ));
    }
    let data = match &src.data {
        Data::Stored(b) => app.store.keep(Bytes::clone(b))?,
        Data::Generated(n) => Data::Generated(*n),
    };
    let (content_type, headers, metadata) = if replace {
        let (h, m) = input::object_headers(req);
        (req.header("content-type").map(str::to_owned), h, m)
    } else {
        (
            src.content_type.clone(),
            src.headers.clone(),
            src.metadata.clone(),
        )
    };
    let object = Object {
        data,
        size: src.size,
        etag: src.etag.clone(),
        last_modified: SystemTime::now(),
        content_type,
        headers,
        metadata,
        checksum: src.checksum.clone(),
        parts: src.parts.clone(),
    };
    let mut w = XmlWriter::new("CopyObjectResult");
    w.elem("ETag", &object.etag)
        .elem("LastModified", &iso8601(object.last_modified));
    if let Some(c) = &object.checksum {
        w.elem("ChecksumType", c.kind.name());
        w.elem(&format!("Checksum{}", c.algorithm.name()), &c.value);
    }
    store(app, &dest, req, object, seen)?;
    let mut resp = xml(w.finish("CopyObjectResult"));
    unsupported::sse_s3(resp.headers_mut());
    Ok(resp)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copy_source_forms() {
        assert_eq!(
            parse_source("/b/k%20x").unwrap(),
            ("b".into(), "k x".into())
        );
        assert_eq!(
            parse_source("b/a/b?versionId=1").unwrap(),
            ("b".into(), "a/b".into())
        );
        assert!(parse_source("nokey").is_err());
        assert!(parse_source("").is_err());
    }
}
