//! Bucket operations: ListBuckets, CreateBucket, HeadBucket, DeleteBucket, GetBucketLocation.

use axum::body::Body;
use http::{HeaderValue, Response, StatusCode};

use super::{App, S3Request, empty, input, xml};
use crate::error::S3Result;
use crate::xml::{CreateBucketConfiguration, XmlWriter, iso8601, parse};

/// The owner id the mock reports.
const OWNER_ID: &str = "6d6f636b2d73332d6f776e65722d69642d706f6f6c7377656570";

pub(super) fn list_buckets(app: &App, _req: &S3Request) -> S3Result<Response<Body>> {
    let mut w = XmlWriter::new("ListAllMyBucketsResult");
    w.open("Owner")
        .elem("ID", OWNER_ID)
        .elem("DisplayName", "poolsweep")
        .close("Owner")
        .open("Buckets");
    for (name, created) in app.store.list_buckets() {
        w.open("Bucket")
            .elem("Name", &name)
            .elem("CreationDate", &iso8601(created))
            .close("Bucket");
    }
    w.close("Buckets");
    Ok(xml(w.finish("ListAllMyBucketsResult")))
}

pub(super) async fn create_bucket(
    app: &App,
    req: &S3Request,
    body: Body,
) -> S3Result<Response<Body>> {
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
