//! Bucket operations: ListBuckets, CreateBucket, HeadBucket, DeleteBucket, GetBucketLocation.

use axum::body::Body;
use http::{HeaderValue, Response, StatusCode};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use super::{App, S3Request, empty, input, xml};
use crate::error::{S3Error, S3Result};
use crate::xml::{CreateBucketConfiguration, XmlWriter, iso8601, parse};

/// The owner id the mock reports.
const OWNER_ID: &str = "6d6f636b2d73332d6f776e65722d69642d706f6f6c7377656570";

/// Writes the `<Owner>` element of a listing: the canonical ID only, as S3 answers since it
/// stopped returning DisplayName (recorded ListObjects response in versity/versitygw issue
/// 1985: `<Owner><ID>6cf4…</ID></Owner>`).
pub(super) fn owner(w: &mut XmlWriter) {
    w.open("Owner").elem("ID", OWNER_ID).close("Owner");
}

/// ListBuckets, paged as S3 pages it when asked
/// (<https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListBuckets.html>): `max-buckets`
/// (1 to 10,000; without it every bucket comes back), `continuation-token` (opaque: here the
/// last name returned), `prefix` and `bucket-region`; `ContinuationToken` in the response
/// when more buckets follow, `Prefix` echoed.
pub(super) fn list_buckets(app: &App, req: &S3Request) -> S3Result<Response<Body>> {
    let max = match req.query.get("max-buckets") {
        None => usize::MAX,
        Some(v) => v
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=10_000).contains(n))
            .ok_or_else(|| {
                S3Error::invalid_argument(
                    "Argument max-buckets must be an integer between 1 and 10000",
                )
            })?,
    };
    let after = match req.query.get("continuation-token") {
        None => None,
        Some(t) => Some(
            URL_SAFE_NO_PAD
                .decode(t)
                .ok()
                .and_then(|b| String::from_utf8(b).ok())
                .ok_or_else(|| {
                    S3Error::invalid_argument("The continuation token provided is incorrect")
                })?,
        ),
    };
    let prefix = req.query.get("prefix").unwrap_or("");
    let region_matches = req
        .query
        .get("bucket-region")
        .is_none_or(|r| r == app.config.region);
    let mut buckets = app
        .store
        .list_buckets()
        .into_iter()
        .filter(|(name, _)| region_matches && name.starts_with(prefix))
        .filter(|(name, _)| after.as_deref().is_none_or(|a| name.as_str() > a));
    let page: Vec<_> = buckets.by_ref().take(max).collect();
    let more = buckets.next().is_some();

    let mut w = XmlWriter::new("ListAllMyBucketsResult");
    owner(&mut w);
    w.open("Buckets");
    for (name, created) in &page {
        w.open("Bucket")
            .elem("Name", name)
            .elem("CreationDate", &iso8601(*created))
            .elem("BucketRegion", &app.config.region)
            .close("Bucket");
    }
    w.close("Buckets");
    if more && let Some((last, _)) = page.last() {
        w.elem("ContinuationToken", &URL_SAFE_NO_PAD.encode(last));
    }
    if req.query.has("prefix") {
        w.elem("Prefix", prefix);
    }
    Ok(xml(w.finish("ListAllMyBucketsResult")))
}

pub(super) async fn create_bucket(
    app: &App,
    req: &S3Request,
    body: Body,
) -> S3Result<Response<Body>> {
    super::unsupported::refuse_bucket(req)?;
    let payload = input::read(app, req, body, false, false).await?;
    if !payload.data.iter().all(u8::is_ascii_whitespace) {
        let _: CreateBucketConfiguration = parse(&payload.data)?;
    }
    app.store.create_bucket(&req.bucket)?;
    let mut resp = empty(StatusCode::OK);
    if let Ok(v) = HeaderValue::from_str(&format!("/{}", req.bucket)) {
        resp.headers_mut().insert(http::header::LOCATION, v);
    }
    Ok(resp)
}

pub(super) fn head_bucket(app: &App, req: &S3Request) -> S3Result<Response<Body>> {
    app.store.bucket(&req.bucket)?;
    let mut resp = empty(StatusCode::OK);
    if let Ok(v) = HeaderValue::from_str(&app.config.region) {
        resp.headers_mut().insert("x-amz-bucket-region", v);
    }
    Ok(resp)
}

pub(super) fn delete_bucket(app: &App, req: &S3Request) -> S3Result<Response<Body>> {
    app.store.delete_bucket(&req.bucket)?;
    Ok(empty(StatusCode::NO_CONTENT))
}

pub(super) fn get_bucket_location(app: &App, req: &S3Request) -> S3Result<Response<Body>> {
    app.store.bucket(&req.bucket)?;
    // us-east-1 is reported as an empty LocationConstraint, as S3 does.
    let region = if app.config.region == "us-east-1" {
        ""
    } else {
        &app.config.region
    };
    // The region is the root element's text: `<LocationConstraint xmlns="...">eu-west-1</...>`.
    let doc = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<LocationConstraint xmlns=\"{}\">{}</LocationConstraint>",
        crate::xml::NS,
        quick_xml::escape::escape(region)
    );
    Ok(xml(doc))
}
