//! CopyObject: `x-amz-copy-source` to the request's key, metadata copied or replaced.

use std::time::SystemTime;

use axum::body::Body;
use http::Response;

use super::{App, S3Request, input, xml};
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

pub(super) fn handle(app: &App, req: &S3Request) -> S3Result<Response<Body>> {
    let (src_bucket, src_key) = parse_source(req.header("x-amz-copy-source").unwrap_or(""))?;
    let source = app.store.bucket(&src_bucket)?;
    let src = source
        .objects
        .get(&src_key)
        .map(|e| e.value().clone())
        .ok_or_else(|| S3Error::no_such_key().with_resource(format!("/{src_bucket}/{src_key}")))?;
    let dest = app.store.bucket(&req.bucket)?;
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
        Data::Stored(b) => app.store.keep(b.clone())?,
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
        parts: src.parts,
    };
    let mut w = XmlWriter::new("CopyObjectResult");
    w.elem("ETag", &object.etag)
        .elem("LastModified", &iso8601(object.last_modified));
    if let Some((alg, value)) = &object.checksum {
        w.elem(&format!("Checksum{}", alg.name()), value);
    }
    app.store.put(&dest, &req.key, object);
    Ok(xml(w.finish("CopyObjectResult")))
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
