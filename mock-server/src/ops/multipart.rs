//! Multipart uploads: CreateMultipartUpload, UploadPart, CompleteMultipartUpload,
//! AbortMultipartUpload, ListParts.
//!
//! The ETag of a completed upload is S3's: the MD5 of the concatenated binary MD5s of the
//! parts, in hex, followed by `-N`.

use std::ops::Bound;
use std::sync::Arc;
use std::time::SystemTime;

use axum::body::Body;
use bytes::{Bytes, BytesMut};
use crossbeam_skiplist::SkipMap;
use http::{HeaderValue, Response, StatusCode};
use md5::{Digest as _, Md5};

use super::{App, S3Request, empty, input, xml};
use crate::error::{S3Error, S3Result};
use crate::store::{Bucket, Data, Object, Part, Upload};
use crate::xml::{CompleteMultipartUpload, XmlWriter, iso8601, parse};

/// S3's minimum size of every part but the last.
pub(super) const MIN_PART_SIZE: u64 = 5 << 20;
/// S3's largest part number.
const MAX_PART_NUMBER: u32 = 10_000;

fn upload(bucket: &Bucket, req: &S3Request) -> S3Result<Arc<Upload>> {
    let id = req.query.get("uploadId").unwrap_or("");
    bucket
        .uploads
        .get(id)
        .map(|e| e.value().clone())
        .filter(|u| u.key == req.key)
        .ok_or_else(|| S3Error::no_such_upload().with_resource(req.resource()))
}

pub(super) fn create(app: &App, req: &S3Request) -> S3Result<Response<Body>> {
    let bucket = app.store.bucket(&req.bucket)?;
    let (headers, metadata) = input::object_headers(req);
    let id = app.store.new_upload_id();
    let template = Object {
        data: Data::Generated(0),
        size: 0,
        etag: String::new(),
        last_modified: SystemTime::now(),
        content_type: req.header("content-type").map(str::to_owned),
        headers,
        metadata,
        checksum: None,
        parts: None,
    };
    bucket.uploads.insert(
        id.clone(),
        Arc::new(Upload {
            key: req.key.clone(),
            template,
            parts: SkipMap::new(),
            initiated: SystemTime::now(),
        }),
    );
    let mut w = XmlWriter::new("InitiateMultipartUploadResult");
    w.elem("Bucket", &req.bucket)
        .elem("Key", &req.key)
        .elem("UploadId", &id);
    let mut resp = xml(w.finish("InitiateMultipartUploadResult"));
    if let Some(v) = req
        .header("x-amz-checksum-algorithm")
        .and_then(|v| HeaderValue::from_str(v).ok())
    {
        resp.headers_mut().insert("x-amz-checksum-algorithm", v);
    }
    Ok(resp)
}

pub(super) async fn upload_part(
    app: &App,
    req: &S3Request,
    body: Body,
) -> S3Result<Response<Body>> {
    let bucket = app.store.bucket(&req.bucket)?;
    let number = req
        .query
        .get("partNumber")
        .and_then(|v| v.parse::<u32>().ok())
        .filter(|n| (1..=MAX_PART_NUMBER).contains(n))
        .ok_or_else(|| {
            S3Error::invalid_argument(
                "Part number must be an integer between 1 and 10000, inclusive",
            )
        })?;
    let upload = upload(&bucket, req)?;
    let payload = input::read(app, req, body, true, true).await?;
    let md5 = payload.md5.unwrap_or_default();
    let size = payload.data.len() as u64;
    let part = Part {
        data: app.store.keep(payload.data)?,
        size,
        md5,
        last_modified: SystemTime::now(),
        checksum: payload.checksum.clone(),
    };
    if let Some(old) = upload.parts.get(&number) {
        app.store.release(&old.value().data);
    }
    upload.parts.insert(number, part);
    let mut resp = empty(StatusCode::OK);
    let h = resp.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&format!("\"{}\"", hex::encode(md5))) {
        h.insert(http::header::ETAG, v);
    }
    if let Some((alg, value)) = payload.checksum
        && let Ok(v) = HeaderValue::from_str(&value)
    {
        h.insert(alg.header(), v);
    }
    Ok(resp)
}

pub(super) async fn complete(app: &App, req: &S3Request, body: Body) -> S3Result<Response<Body>> {
    let bucket = app.store.bucket(&req.bucket)?;
    let upload = upload(&bucket, req)?;
    let payload = input::read(app, req, body, false, false).await?;
    let request: CompleteMultipartUpload = parse(&payload.data)?;
    if request.parts.is_empty() {
        return Err(S3Error::malformed_xml());
    }
    if request
        .parts
        .windows(2)
        .any(|w| w[0].part_number >= w[1].part_number)
    {
        return Err(S3Error::invalid_part_order().with_resource(req.resource()));
    }
    let mut chosen = Vec::with_capacity(request.parts.len());
    for p in &request.parts {
        let entry = upload
            .parts
            .get(&p.part_number)
            .ok_or_else(|| S3Error::invalid_part().with_resource(req.resource()))?;
        let part = entry.value().clone();
        if p.etag.trim().trim_matches('"') != hex::encode(part.md5) {
            return Err(S3Error::invalid_part().with_resource(req.resource()));
        }
        chosen.push(part);
    }
    let last = chosen.len() - 1;
    if chosen[..last].iter().any(|p| p.size < MIN_PART_SIZE) {
        return Err(S3Error::entity_too_small().with_resource(req.resource()));
    }

    let mut md5s = Md5::new();
    let total: u64 = chosen.iter().map(|p| p.size).sum();
    for p in &chosen {
        md5s.update(p.md5);
    }
    let etag = format!("\"{}-{}\"", hex::encode(md5s.finalize()), chosen.len());
    let data = match app.store.mode() {
        crate::StorageMode::Discard => Data::Generated(total),
        crate::StorageMode::Memory => {
            let mut buf = BytesMut::with_capacity(total as usize);
            for p in &chosen {
                match &p.data {
                    Data::Stored(b) => buf.extend_from_slice(b),
                    Data::Generated(_) => return Err(S3Error::internal_error()),
                }
            }
            app.store.keep(Bytes::from(buf))?
        }
    };
    // The upload is gone once completed; its parts' memory is given back.
    if let Some(u) = app.store.drop_upload(&bucket, &upload_id(req)) {
        app.store.release_upload(&u);
    }
    let object = Object {
        data,
        size: total,
        etag: etag.clone(),
        last_modified: SystemTime::now(),
        parts: Some(chosen.len() as u32),
        ..upload.template.clone()
    };
    app.store.put(&bucket, &req.key, object);
    let mut w = XmlWriter::new("CompleteMultipartUploadResult");
    w.elem("Location", &format!("/{}/{}", req.bucket, req.key))
        .elem("Bucket", &req.bucket)
        .elem("Key", &req.key)
        .elem("ETag", &etag);
    Ok(xml(w.finish("CompleteMultipartUploadResult")))
}

fn upload_id(req: &S3Request) -> String {
    req.query.get("uploadId").unwrap_or("").to_owned()
}

pub(super) fn abort(app: &App, req: &S3Request) -> S3Result<Response<Body>> {
    let bucket = app.store.bucket(&req.bucket)?;
    upload(&bucket, req)?;
    if let Some(u) = app.store.drop_upload(&bucket, &upload_id(req)) {
        app.store.release_upload(&u);
    }
    Ok(empty(StatusCode::NO_CONTENT))
}

pub(super) fn list_parts(app: &App, req: &S3Request) -> S3Result<Response<Body>> {
    let bucket = app.store.bucket(&req.bucket)?;
    let upload = upload(&bucket, req)?;
    let max_parts = match req.query.get("max-parts") {
        None => 1000,
        Some(v) => v
            .parse::<usize>()
            .map_err(|_| {
                S3Error::invalid_argument(
                    "Provided max-parts not an integer or within integer range",
                )
            })?
            .min(1000),
    };
    let marker = match req.query.get("part-number-marker") {
        None => 0,
        Some(v) => v.parse::<u32>().map_err(|_| {
            S3Error::invalid_argument(
                "Provided part-number-marker not an integer or within integer range",
            )
        })?,
    };
    let mut w = XmlWriter::new("ListPartsResult");
    w.elem("Bucket", &req.bucket)
        .elem("Key", &req.key)
        .elem("UploadId", &upload_id(req))
        .elem("PartNumberMarker", &marker.to_string())
        .elem("StorageClass", "STANDARD")
        .elem("MaxParts", &max_parts.to_string());
    let mut parts = upload
        .parts
        .range((Bound::Excluded(marker), Bound::Unbounded))
        .map(|e| (*e.key(), e.value().clone()));
    let page: Vec<(u32, Part)> = parts.by_ref().take(max_parts).collect();
    let truncated = parts.next().is_some();
    if let Some((n, _)) = page.last() {
        w.elem("NextPartNumberMarker", &n.to_string());
    }
    w.elem("IsTruncated", if truncated { "true" } else { "false" });
    for (n, p) in &page {
        w.open("Part")
            .elem("PartNumber", &n.to_string())
            .elem("LastModified", &iso8601(p.last_modified))
            .elem("ETag", &format!("\"{}\"", hex::encode(p.md5)))
            .elem("Size", &p.size.to_string());
        if let Some((alg, value)) = &p.checksum {
            w.elem(&format!("Checksum{}", alg.name()), value);
        }
        w.close("Part");
    }
    Ok(xml(w.finish("ListPartsResult")))
}
