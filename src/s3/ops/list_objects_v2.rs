//! `ListObjectsV2`: `GET /bucket?list-type=2&...`, one page of keys.

use bytes::Bytes;
use http::{Method, Response};
use serde::Deserialize;

use super::{Operation, encode_into, object_path};
use crate::s3::error::ErrorDetail;
use crate::s3::outcome::Op;

/// The request's optional parameters.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ListObjectsV2Request {
    /// Only keys that start with this.
    pub prefix: Option<String>,
    /// Roll keys up to the first occurrence of this after the prefix.
    pub delimiter: Option<String>,
    /// Most keys per page (S3's default and cap: 1000).
    pub max_keys: Option<u32>,
    /// The previous page's `next_continuation_token`.
    pub continuation_token: Option<String>,
    /// Start after this key.
    pub start_after: Option<String>,
}

/// One listed object.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct Object {
    /// The key.
    #[serde(rename = "Key")]
    pub key: String,
    /// Size in bytes.
    #[serde(rename = "Size")]
    pub size: u64,
    /// The `ETag`.
    #[serde(rename = "ETag")]
    pub e_tag: Option<String>,
    /// `LastModified`, as S3 formats it.
    #[serde(rename = "LastModified")]
    pub last_modified: Option<String>,
}

/// A rolled-up prefix (with a delimiter).
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct CommonPrefix {
    /// The prefix.
    #[serde(rename = "Prefix")]
    pub prefix: String,
}

/// One page of a listing.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(default, rename = "ListBucketResult")]
pub struct ListObjectsV2Output {
    /// The bucket.
    #[serde(rename = "Name")]
    pub name: String,
    /// Keys on this page (and common prefixes), as S3 counts them.
    #[serde(rename = "KeyCount")]
    pub key_count: u32,
    /// Whether more pages follow.
    #[serde(rename = "IsTruncated")]
    pub is_truncated: bool,
    /// The token for the next page.
    #[serde(rename = "NextContinuationToken")]
    pub next_continuation_token: Option<String>,
    /// The objects.
    #[serde(rename = "Contents")]
    pub contents: Vec<Object>,
    /// The rolled-up prefixes.
    #[serde(rename = "CommonPrefixes")]
    pub common_prefixes: Vec<CommonPrefix>,
}

pub(crate) struct ListObjectsV2<'a> {
    pub(crate) bucket: &'a str,
    pub(crate) request: &'a ListObjectsV2Request,
}

impl Operation for ListObjectsV2<'_> {
    type Output = ListObjectsV2Output;
    const OP: Op = Op::ListObjectsV2;

    fn method(&self) -> Method {
        Method::GET
    }

    fn path_and_query(&self) -> String {
        let r = self.request;
        let mut path = object_path(self.bucket, "", 64);
        path.push_str("?list-type=2");
        let mut param = |name: &str, value: Option<&str>| {
            if let Some(value) = value {
                path.push('&');
                path.push_str(name);
                path.push('=');
                encode_into(&mut path, value, true);
            }
        };
        param("continuation-token", r.continuation_token.as_deref());
        param("delimiter", r.delimiter.as_deref());
        param("max-keys", r.max_keys.map(|n| n.to_string()).as_deref());
        param("prefix", r.prefix.as_deref());
        param("start-after", r.start_after.as_deref());
        path
    }

    fn parse(&self, response: Response<Bytes>) -> Result<ListObjectsV2Output, ErrorDetail> {
        let text = std::str::from_utf8(response.body())
            .map_err(|_| ErrorDetail::InvalidResponse("listing is not UTF-8".to_owned()))?;
        quick_xml::de::from_str(text)
            .map_err(|e| ErrorDetail::InvalidResponse(format!("listing XML: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_is_encoded_in_a_stable_order() {
        let request = ListObjectsV2Request {
            prefix: Some("a/b".to_owned()),
            max_keys: Some(10),
            continuation_token: Some("1+x=".to_owned()),
            ..Default::default()
        };
        let op = ListObjectsV2 {
            bucket: "bkt",
            request: &request,
        };
        assert_eq!(
            op.path_and_query(),
            "/bkt?list-type=2&continuation-token=1%2Bx%3D&max-keys=10&prefix=a%2Fb"
        );
    }

    #[test]
    fn parses_a_listing() {
        let xml = r#"<?xml version="1.0" encoding="UTF-8"?>
<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>b</Name><Prefix></Prefix><KeyCount>2</KeyCount><MaxKeys>1000</MaxKeys><IsTruncated>false</IsTruncated><Contents><Key>k1</Key><LastModified>2024-01-01T00:00:00.000Z</LastModified><ETag>"e"</ETag><Size>5</Size><StorageClass>STANDARD</StorageClass></Contents><Contents><Key>k2</Key><Size>7</Size></Contents></ListBucketResult>"#;
        let op = ListObjectsV2 {
            bucket: "b",
            request: &ListObjectsV2Request::default(),
        };
        let out = op
            .parse(Response::new(Bytes::from_static(xml.as_bytes())))
            .unwrap();
        assert_eq!(out.key_count, 2);
        assert_eq!(out.contents.len(), 2);
        assert_eq!(out.contents[1].size, 7);
        assert!(!out.is_truncated);
    }
}
