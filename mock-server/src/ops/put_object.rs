//! PutObject: store a body after every check passed.

use std::time::SystemTime;

use axum::body::Body;
use http::{HeaderValue, Response, StatusCode};

use super::{App, S3Request, empty, input};
use crate::checksum;
use crate::error::{S3Error, S3Result};
use crate::store::Object;

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

/// Whether an `If-Match`-style list matches `etag` (quoted).
pub(super) fn etag_matches(list: &str, etag: &str) -> bool {
    let bare = etag.trim_matches('"');
    list.split(',')
        .map(str::trim)
        .any(|v| v == "*" || v.trim_start_matches("W/").trim_matches('"') == bare)
}

pub(super) async fn handle(app: &App, req: &S3Request, body: Body) -> S3Result<Response<Body>> {
    let bucket = app.store.bucket(&req.bucket)?;
    {
        let current = bucket.objects.get(&req.key).map(|e| e.value().clone());
        write_preconditions(req, current.as_deref())?;
    }
    let payload = input::read(app, req, body, true, true).await?;
    let md5 = payload.md5.unwrap_or_else(|| checksum::md5(&payload.data));
    let etag = checksum::etag_of(&md5);
    let size = payload.data.len() as u64;
    let (headers, metadata) = input::object_headers(req);
    let object = Object {
        data: app.store.keep(payload.data)?,
        size,
        etag: etag.clone(),
        last_modified: SystemTime::now(),
        content_type: req.header("content-type").map(str::to_owned),
        headers,
        metadata,
        checksum: payload.checksum.clone(),
        parts: None,
    };
    app.store.put(&bucket, &req.key, object);
    let mut resp = empty(StatusCode::OK);
    let h = resp.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&etag) {
        h.insert(http::header::ETAG, v);
    }
    if let Some((alg, value)) = payload.checksum
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
