//! DeleteObject and DeleteObjects.

use axum::body::Body;
use http::{Response, StatusCode};

use super::{App, S3Request, empty, input, xml};
use crate::checksum::Algorithm;
use crate::error::{S3Error, S3Result};
use crate::xml::{Delete, XmlWriter, parse};

pub(super) fn delete_object(app: &App, req: &S3Request) -> S3Result<Response<Body>> {
    let bucket = app.store.bucket(&req.bucket)?;
    {
        let current = bucket.object(&req.key);
        if let (Some(v), Some(o)) = (req.header("if-match"), current.as_deref())
            && !super::put_object::etag_matches(v, &o.etag)
        {
            return Err(S3Error::precondition_failed().with_resource(req.resource()));
        }
    }
    app.store.delete(&bucket, &req.key);
    Ok(empty(StatusCode::NO_CONTENT))
}

/// DeleteObjects needs Content-MD5 or a flexible checksum (`x-amz-checksum-*`, in a header or
/// announced by `x-amz-trailer`): "The Content-MD5 or x-amz-sdk-checksum-algorithm header is
/// required for all Multi-Object Delete requests" (DeleteObjects,
/// <https://docs.aws.amazon.com/AmazonS3/latest/API/API_DeleteObjects.html>). Without one, S3
/// answers 400 InvalidRequest "Missing required header for this request: Content-MD5 OR
/// x-amz-checksum-*" (its recorded answer in versity/versitygw#1040).
fn require_integrity_header(req: &S3Request) -> S3Result<()> {
    let has = |name: &str| req.parts.headers.contains_key(name);
    let checksum = Algorithm::ALL.into_iter().any(|a| has(a.header()));
    if has("content-md5") || checksum || has("x-amz-trailer") {
        return Ok(());
    }
    Err(S3Error::invalid_request(
        "Missing required header for this request: Content-MD5 OR x-amz-checksum-*",
    )
    .with_resource(req.resource()))
}

/// S3's limit on keys per DeleteObjects request.
const MAX_KEYS: usize = 1000;

pub(super) async fn delete_objects(
    app: &App,
    req: &S3Request,
    body: Body,
) -> S3Result<Response<Body>> {
    let bucket = app.store.bucket(&req.bucket)?;
    require_integrity_header(req)?;
    let payload = input::read(app, req, body, false, false).await?;
    let delete: Delete = parse(&payload.data)?;
    if delete.objects.is_empty() || delete.objects.len() > MAX_KEYS {
        return Err(S3Error::malformed_xml());
    }
    let quiet = delete.quiet.unwrap_or(false);
    let mut w = XmlWriter::new("DeleteResult");
    for o in &delete.objects {
        app.store.delete(&bucket, &o.key);
        if !quiet {
            w.open("Deleted").elem("Key", &o.key).close("Deleted");
        }
    }
    Ok(xml(w.finish("DeleteResult")))
}
