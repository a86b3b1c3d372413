//! Multipart uploads: CreateMultipartUpload, UploadPart, CompleteMultipartUpload,
//! AbortMultipartUpload, ListParts.
//!
//! The ETag of a completed upload is S3's: the MD5 of the concatenated binary MD5s of the
//! parts, in hex, followed by `-N`.
//!
//! Checksums (<https://docs.aws.amazon.com/AmazonS3/latest/userguide/checking-object-integrity.html>):
//! CreateMultipartUpload names an algorithm (`x-amz-checksum-algorithm`) and a type
//! (`x-amz-checksum-type`: COMPOSITE, a checksum of the parts' checksums with `-N`; or
//! FULL_OBJECT, the CRC of the whole object, for the CRCs only). Every part gets that
//! algorithm's checksum (the one it sent, verified, or one computed here). Complete checks the
//! parts' checksums listed in its XML against the parts, a COMPOSITE upload needs one for every
//! part, and an `x-amz-checksum-*` header on Complete is the whole object's checksum, checked
//! against the value computed from the parts (400 BadDigest, nothing stored). The result comes
//! back in Complete's XML and on GET/HEAD with `x-amz-checksum-mode: ENABLED`.
//!
//! Completing an upload again returns the first completion's result (200, same ETag), as S3
//! does (recorded against S3 in adobe/S3Mock issue 2586 and minio/minio issue 13318: "fails
//! with Minio, succeeds with S3"). CompleteMultipartUpload takes `If-None-Match: *` and
//! `If-Match` as PutObject does (<https://docs.aws.amazon.com/AmazonS3/latest/API/API_CompleteMultipartUpload.html>),
//! checked after that replay, so a retried conditional Complete still succeeds.

use std::sync::Arc;
use std::time::SystemTime;

use axum::body::Body;
use bytes::{Bytes, BytesMut};
use http::{HeaderValue, Response, StatusCode};
use md5::{Digest as _, Md5};

use super::put_object::{is_conditional, store, write_preconditions};
use super::{App, S3Request, empty, input, unsupported, xml};
use crate::checksum::{Algorithm, ChecksumType, ObjectChecksum};
use crate::error::{S3Error, S3Result};
use crate::store::{Bucket, Completed, Data, Object, Part, Upload};
use crate::xml::{CompleteMultipartUpload, CompletedPart, XmlWriter, iso8601, parse_root};

/// S3's minimum size of every part but the last.
pub(super) const MIN_PART_SIZE: u64 = 5 << 20;
/// S3's largest part number.
const MAX_PART_NUMBER: u32 = 10_000;

fn upload(bucket: &Bucket, req: &S3Request) -> S3Result<Arc<Upload>> {
    bucket
        .upload(req.query.get("uploadId").unwrap_or(""), &req.key)
        .ok_or_else(|| S3Error::no_such_upload().with_resource(req.resource()))
}

/// The checksum algorithm and type CreateMultipartUpload asks for.
fn requested_checksum(req: &S3Request) -> S3Result<Option<(Algorithm, ChecksumType)>> {
    let kind = req
        .header("x-amz-checksum-type")
        .map(|v| {
            ChecksumType::parse(v).ok_or_else(|| {
                S3Error::invalid_request("Value for x-amz-checksum-type header is invalid.")
            })
        })
        .transpose()?;
    let Some(name) = req.header("x-amz-checksum-algorithm") else {
        return match kind {
            None => Ok(None),
            Some(_) => Err(S3Error::invalid_request(
                "The x-amz-checksum-type header can only be used with the x-amz-checksum-algorithm header.",
            )),
        };
    };
    let algorithm = Algorithm::from_name(name).ok_or_else(|| {
        S3Error::invalid_request("Value for x-amz-checksum-algorithm header is invalid.")
    })?;
    let kind = kind.unwrap_or(algorithm.default_multipart_type());
    let supported = match kind {
        ChecksumType::FullObject => algorithm.supports_full_object(),
        ChecksumType::Composite => algorithm != Algorithm::Crc64Nvme,
    };
    if !supported {
        return Err(S3Error::invalid_request(format!(
            "The {} checksum type cannot be used with the {} checksum algorithm.",
            kind.name(),
            algorithm.name().to_ascii_lowercase()
        )));
    }
    Ok(Some((algorithm, kind)))
}

pub(super) fn create(app: &App, req: &S3Request) -> S3Result<Response<Body>> {
    let bucket = app.store.bucket(&req.bucket)?;
    unsupported::refuse(req)?;
    let checksum = requested_checksum(req)?;
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
    app.store.add_upload(
        &bucket,
        &id,
        Upload::new(req.key.clone(), template, checksum),
    )?;
    let mut w = XmlWriter::new("InitiateMultipartUploadResult");
    w.elem("Bucket", &req.bucket)
        .elem("Key", &req.key)
        .elem("UploadId", &id);
    let mut resp = xml(w.finish("InitiateMultipartUploadResult"));
    let h = resp.headers_mut();
    if let Some((algorithm, kind)) = checksum {
        h.insert(
            "x-amz-checksum-algorithm",
            HeaderValue::from_static(algorithm.name()),
        );
        h.insert("x-amz-checksum-type", HeaderValue::from_static(kind.name()));
    }
    unsupported::sse_s3(h);
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
    // The part carries the upload's algorithm: the checksum it sent (verified by now), or one
    // computed as the body passes, so that Complete can build the object's checksum from the
    // parts.
    let payload = input::read_part(app, req, body, upload.checksum.map(|(alg, _)| alg)).await?;
    let md5 = payload.md5.unwrap_or_default();
    let size = payload.size;
    let sent_checksum = payload.checksum.clone();
    let checksum = match (upload.checksum, &payload.checksum) {
        (Some((alg, _)), Some((sent, _))) if *sent != alg => payload.computed.clone(),
        (Some(_), None) => payload.computed.clone(),
        (_, sent) => sent.clone(),
    };
    let part = Part {
        data: payload.into_data(),
        size,
        md5,
        last_modified: SystemTime::now(),
        checksum,
    };
    app.store
        .put_part(&upload, number, part)
        .map_err(|e| e.with_resource(req.resource()))?;
    let mut resp = empty(StatusCode::OK);
    let h = resp.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&format!("\"{}\"", hex::encode(md5))) {
        h.insert(http::header::ETAG, v);
    }
    if let Some((alg, value)) = sent_checksum
        && let Ok(v) = HeaderValue::from_str(&value)
    {
        h.insert(alg.header(), v);
    }
    Ok(resp)
}

/// The XML (and headers) of a completed upload's result.
fn completed_response(req: &S3Request, done: &Completed) -> Response<Body> {
    let mut w = XmlWriter::new("CompleteMultipartUploadResult");
    w.elem("Location", &format!("/{}/{}", req.bucket, req.key))
        .elem("Bucket", &req.bucket)
        .elem("Key", &req.key)
        .elem("ETag", &done.etag);
    if let Some(c) = &done.checksum {
        w.elem(&format!("Checksum{}", c.algorithm.name()), &c.value)
            .elem("ChecksumType", c.kind.name());
    }
    let mut resp = xml(w.finish("CompleteMultipartUploadResult"));
    unsupported::sse_s3(resp.headers_mut());
    resp
}

/// The object's checksum, from the parts' checksums, checked against what Complete says.
fn object_checksum(
    upload: &Upload,
    listed: &[CompletedPart],
    chosen: &[Part],
    claimed: &[(Algorithm, String)],
    req: &S3Request,
) -> S3Result<Option<ObjectChecksum>> {
    let Some((algorithm, kind)) = upload.checksum else {
        if let Some((alg, _)) = claimed.first() {
            return Err(S3Error::invalid_request(format!(
                "The upload was created without a checksum algorithm, so its {} cannot be checked.",
                alg.header()
            )));
        }
        return Ok(None);
    };
    if let Some(v) = req.header("x-amz-checksum-type")
        && ChecksumType::parse(v) != Some(kind)
    {
        return Err(S3Error::invalid_request(format!(
            "The upload was created using the {} checksum mode. The complete request must use the same checksum mode.",
            kind.name()
        )));
    }
    let mut digests = Vec::with_capacity(chosen.len());
    for (listed, part) in listed.iter().zip(chosen) {
        let stored = part
            .checksum
            .as_ref()
            .filter(|(alg, _)| *alg == algorithm)
            .map(|(_, v)| v.as_str())
            .ok_or_else(S3Error::internal_error)?;
        match listed.checksum(algorithm) {
            Some(given) if given.trim() != stored => {
                return Err(S3Error::invalid_part().with_resource(req.resource()));
            }
            None if kind == ChecksumType::Composite => {
                return Err(S3Error::invalid_request(format!(
                    "The upload was created using a {} checksum. The complete request must include the checksum for each part. It was missing for part {} in the request.",
                    algorithm.name().to_ascii_lowercase(),
                    listed.part_number
                )));
            }
            _ => {}
        }
        let digest = algorithm
            .decode(stored)
            .ok_or_else(S3Error::internal_error)?;
        digests.push((digest, part.size));
    }
    let value = match kind {
        ChecksumType::Composite => {
            let raw: Vec<Vec<u8>> = digests.into_iter().map(|(d, _)| d).collect();
            algorithm.composite(&raw)
        }
        ChecksumType::FullObject => algorithm
            .combine(&digests)
            .ok_or_else(S3Error::internal_error)?,
    };
    for (alg, given) in claimed {
        if *alg != algorithm || given.trim() != value {
            return Err(S3Error::checksum_mismatch(alg.name()));
        }
    }
    Ok(Some(ObjectChecksum {
        algorithm,
        value,
        kind,
    }))
}

pub(super) async fn complete(
    app: &App,
    req: &mut S3Request,
    body: Body,
) -> S3Result<Response<Body>> {
    let bucket = app.store.bucket(&req.bucket)?;
    let id = upload_id(req);
    if let Some(done) = bucket.completed.get(&id)
        && done.value().key == req.key
    {
        return Ok(completed_response(req, done.value()));
    }
    let upload = upload(&bucket, req)?;
    // Complete's `x-amz-checksum-*` headers describe the object, not the XML body: they are
    // taken aside before the body is read, so that they are not checked against the XML.
    let mut claimed = Vec::new();
    for alg in Algorithm::ALL {
        if let Some(v) = req.parts.headers.remove(alg.header()) {
            claimed.push((alg, String::from_utf8_lossy(v.as_bytes()).into_owned()));
        }
    }
    let req = &*req;
    let payload = input::read(app, req, body, false, false).await?;
    let request: CompleteMultipartUpload =
        parse_root(&payload.data, CompleteMultipartUpload::ROOT)?;
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
        let part = upload
            .part(p.part_number)
            .ok_or_else(|| S3Error::invalid_part().with_resource(req.resource()))?;
        if p.etag.trim().trim_matches('"') != hex::encode(part.md5) {
            return Err(S3Error::invalid_part().with_resource(req.resource()));
        }
        chosen.push(part);
    }
    let last = chosen.len() - 1;
    if chosen[..last].iter().any(|p| p.size < MIN_PART_SIZE) {
        return Err(S3Error::entity_too_small().with_resource(req.resource()));
    }
    let checksum = object_checksum(&upload, &request.parts, &chosen, &claimed, req)?;
    let seen = if is_conditional(req) {
        let current = bucket.object(&req.key);
        write_preconditions(req, current.as_deref())?;
        Some(current)
    } else {
        None
    };

    let mut md5s = Md5::new();
    let total: u64 = chosen.iter().map(|p| p.size).sum();
    for p in &chosen {
        md5s.update(p.md5);
    }
    let etag = format!("\"{}-{}\"", hex::encode(md5s.finalize()), chosen.len());
    let data = match app.store.mode() {
        crate::StorageMode::Discard => Data::Generated(total),
        crate::StorageMode::Memory => {
            // The object's bytes are reserved before they are copied together.
            let reservation = app.store.reserve(total)?;
            let mut buf = BytesMut::with_capacity(total as usize);
            for p in &chosen {
                match &p.data {
                    Data::Stored(b) => buf.extend_from_slice(b),
                    Data::Generated(_) => return Err(S3Error::internal_error()),
                }
            }
            reservation.keep(Bytes::from(buf))
        }
    };
    let object = Object {
        data,
        size: total,
        etag: etag.clone(),
        last_modified: SystemTime::now(),
        checksum: checksum.clone(),
        parts: Some(chosen.iter().map(|p| p.size).collect()),
        ..upload.template.clone()
    };
    store(app, &bucket, req, object, seen)?;
    // The upload is gone once completed; its parts' memory is given back now, and its result
    // is kept for a repeated Complete.
    app.store.drop_upload(&bucket, &id);
    let done = Completed {
        key: req.key.clone(),
        etag,
        checksum,
    };
    let resp = completed_response(req, &done);
    app.store.remember_completed(&bucket, &id, done);
    Ok(resp)
}

fn upload_id(req: &S3Request) -> String {
    req.query.get("uploadId").unwrap_or("").to_owned()
}

pub(super) fn abort(app: &App, req: &S3Request) -> S3Result<Response<Body>> {
    let bucket = app.store.bucket(&req.bucket)?;
    upload(&bucket, req)?;
    app.store.drop_upload(&bucket, &upload_id(req));
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
    let (page, truncated) = upload.parts_after(marker, max_parts);
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
