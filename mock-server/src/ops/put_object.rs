//! PutObject: store a body after every check passed.
//!
//! Conditional writes (<https://docs.aws.amazon.com/AmazonS3/latest/userguide/conditional-writes.html>):
//! `If-None-Match: *` fails with 412 PreconditionFailed when the key exists, `If-Match: <etag>`
//! when the current ETag differs, and with 404 NoSuchKey when there is no object. Both are
//! checked before the body is read; if another write or delete lands on the key while the
//! body is still arriving, the conditional write is answered 409 ConditionalRequestConflict
//! ("If a conflicting operation occurs during the upload S3 returns a 409
//! ConditionalRequestConflict response", PutObject's API reference) and stores nothing.

use std::sync::{Arc, LazyLock};
use std::time::SystemTime;

use axum::body::Body;
use http::{HeaderMap, HeaderValue, Response, StatusCode};

use super::{App, S3Request, empty, input, unsupported};
use crate::checksum::{self, ChecksumType, ObjectChecksum};
use crate::error::{S3Error, S3Result};
use crate::store::{Bucket, Object};

/// Checks `If-Match` / `If-None-Match` on a write against the current object.
pub(super) fn write_preconditions(req: &S3Request, current: Option<&Object>) -> S3Result<()> {
    if let Some(v) = req.header("if-none-match")
        && v.trim() == "*"
        && current.is_some()
    {
        return Err(S3Error::precondition_failed().with_resource(req.resource()));
    }
    if let Some(v) = req.header("if-match") {
        match current {
            None => return Err(S3Error::no_such_key().with_resource(req.resource())),
            Some(o) if !etag_matches(v, &o.etag) => {
                return Err(S3Error::precondition_failed().with_resource(req.resource()));
            }
            Some(_) => {}
        }
    }
    Ok(())
}

/// Whether the request carries `If-Match` or `If-None-Match`.
pub(super) fn is_conditional(req: &S3Request) -> bool {
    req.present.may_have(super::Present::CONDITIONAL)
        && (req.parts.headers.contains_key(http::header::IF_MATCH)
            || req.parts.headers.contains_key(http::header::IF_NONE_MATCH))
}

/// Stores `object` at the request's key: unconditionally, or for a conditional write only if
/// the key still holds `seen`, the object its preconditions were checked against.
pub(super) fn store(
    app: &App,
    bucket: &Bucket,
    req: &S3Request,
    object: Object,
    seen: Option<Option<Arc<Object>>>,
) -> S3Result<()> {
    match seen {
        None => app
            .store
            .put(bucket, &req.key, object)
            .map_err(|e| e.with_resource(format!("/{}", req.bucket))),
        Some(seen) => app
            .store
            .put_if(bucket, &req.key, object, seen.as_ref())
            .map_err(|_| S3Error::conditional_request_conflict().with_resource(req.resource())),
    }
}

/// Whether an `If-Match`-style list matches `etag` (quoted).
pub(super) fn etag_matches(list: &str, etag: &str) -> bool {
    let bare = etag.trim_matches('"');
    list.split(',')
        .map(str::trim)
        .any(|v| v == "*" || v.trim_start_matches("W/").trim_matches('"') == bare)
}

pub(super) async fn handle(app: &App, req: &S3Request, body: Body) -> S3Result<Response<Body>> {
    let bucket = app.store.bucket(&req.bucket)?;
    unsupported::refuse(req)?;
    let seen = if is_conditional(req) {
        let current = bucket.object(&req.key);
        write_preconditions(req, current.as_deref())?;
        Some(current)
    } else {
        None
    };
    let payload = input::read(app, req, body, true, true).await?;
    let md5 = payload.md5.unwrap_or_default();
    let etag = checksum::etag_of(&md5);
    let size = payload.size;
    let (headers, metadata) = input::object_headers(req);
    let sent_checksum = payload.checksum.clone();
    let etag_header = crate::header_value::shared(etag.as_bytes());
    let object = Object {
        data: payload.into_data(),
        size,
        etag,
        last_modified: SystemTime::now(),
        content_type: req
            .known_header(super::Present::CONTENT_TYPE, http::header::CONTENT_TYPE)
            .map(str::to_owned),
        headers,
        metadata,
        checksum: sent_checksum
            .clone()
            .map(|(algorithm, value)| ObjectChecksum {
                algorithm,
                value,
                kind: ChecksumType::FullObject,
            }),
        parts: None,
    };
    store(app, &bucket, req, object, seen)?;
    let mut resp = empty(StatusCode::OK);
    let h = resp.headers_mut();
    match etag_header {
        Some(etag) => {
            // Server-side encryption, the ETag, then the request ids' slots.
            static TEMPLATE: LazyLock<HeaderMap> = LazyLock::new(|| {
                super::template(&[
                    (unsupported::SSE, "AES256"),
                    (http::header::ETAG, ""),
                    (crate::error::REQUEST_ID, ""),
                    (crate::error::ID_2, ""),
                ])
            });
            let mut etag = Some(etag);
            *h = super::from_template(&TEMPLATE, |name| {
                (*name == http::header::ETAG).then(|| etag.take()).flatten()
            });
        }
        None => unsupported::sse_s3(h),
    }
    if let Some((alg, value)) = sent_checksum
        && let Ok(v) = HeaderValue::from_str(&value)
    {
        h.insert(alg.header(), v);
        h.insert(
            "x-amz-checksum-type",
            HeaderValue::from_static("FULL_OBJECT"),
        );
    }
    Ok(resp)
}
