//! ListObjects (v1, `GET /bucket` without `list-type=2`): prefix, delimiter, marker,
//! max-keys, encoding-type=url, and `NextMarker` when a delimiter is given
//! (<https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListObjects.html>: "NextMarker ...
//! is returned only if you have the delimiter request parameter specified. If the response
//! does not include the NextMarker element and it is truncated, you can use the value of the
//! last Key element in the response as the marker"). Every object carries its Owner.
//!
//! A marker that is one of the page's common prefixes (what NextMarker is when the page ended
//! on one) skips that prefix's keys, so a paginator never gets the same prefix twice.

use std::ops::Bound;

use axum::body::Body;
use http::Response;

use super::listing::{self, Cut, Item, url_encode};
use super::{App, S3Request, bucket, xml};
use crate::error::S3Result;
use crate::xml::{XmlWriter, iso8601};

pub(super) fn handle(app: &App, req: &S3Request) -> S3Result<Response<Body>> {
    let bucket = app.store.bucket(&req.bucket)?;
    let q = &req.query;
    let prefix = q.get("prefix").unwrap_or("");
    let delimiter = q.get("delimiter").unwrap_or("");
    let marker = q.get("marker").unwrap_or("");
    let max_keys = listing::max_keys(req)?;
    let url = listing::url_encoding(req)?;

    let mut lower: Bound<&str> = Bound::Included(prefix);
    if !marker.is_empty() {
        lower = listing::max_bound(lower, Bound::Excluded(marker));
    }
    let skip_prefix = listing::common_prefix(marker, prefix, delimiter).filter(|cp| *cp == marker);
    let page = listing::page(
        &bucket,
        &Cut {
            prefix,
            delimiter,
            lower,
            skip_prefix,
            max_keys,
        },
    );

    let enc = |s: &str| if url { url_encode(s) } else { s.to_owned() };
    let mut w = XmlWriter::new("ListBucketResult");
    w.elem("Name", &req.bucket)
        .elem("Prefix", &enc(prefix))
        .elem("Marker", &enc(marker));
    if page.truncated
        && !delimiter.is_empty()
        && let Some(Item::Key(last) | Item::Prefix(last)) = &page.last
    {
        w.elem("NextMarker", &enc(last));
    }
    w.elem("MaxKeys", &max_keys.to_string());
    if !delimiter.is_empty() {
        w.elem("Delimiter", &enc(delimiter));
    }
    w.elem("IsTruncated", if page.truncated { "true" } else { "false" });
    if url {
        w.elem("EncodingType", "url");
    }
    for (key, o) in &page.contents {
        w.open("Contents")
            .elem("Key", &enc(key))
            .elem("LastModified", &iso8601(o.last_modified))
            .elem("ETag", &o.etag);
        if let Some(c) = &o.checksum {
            w.elem("ChecksumAlgorithm", c.algorithm.name());
            w.elem("ChecksumType", c.kind.name());
        }
        w.elem("Size", &o.size.to_string());
        bucket::owner(&mut w);
        w.elem("StorageClass", "STANDARD").close("Contents");
    }
    for p in &page.prefixes {
        w.open("CommonPrefixes")
            .elem("Prefix", &enc(p))
            .close("CommonPrefixes");
    }
    Ok(xml(w.finish("ListBucketResult")))
}
