//! `HeadObject`: `HEAD /bucket/key`, the object's metadata without its body. Errors come
//! without a body, so a missing key is `NotFound` (404), as the SDK names it.

use bytes::Bytes;
use http::header::{CONTENT_LENGTH, ETAG};
use http::{Method, Response};

use super::{Operation, header_str, object_path};
use crate::s3::error::ErrorDetail;
use crate::s3::outcome::Op;

/// An object's metadata.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HeadObjectOutput {
    /// `Content-Length`: the object's size.
    pub content_length: u64,
    /// The object's `ETag`.
    pub e_tag: Option<String>,
}

pub(crate) struct HeadObject<'a> {
    pub(crate) bucket: &'a str,
    pub(crate) key: &'a str,
}

impl Operation for HeadObject<'_> {
    type Output = HeadObjectOutput;
    const OP: Op = Op::HeadObject;

    fn method(&self) -> Method {
        Method::HEAD
    }

    fn path_and_query(&self) -> String {
        object_path(self.bucket, self.key, 0)
    }

    fn parse(&self, response: Response<Bytes>) -> Result<HeadObjectOutput, ErrorDetail> {
        let content_length = header_str(&response, &CONTENT_LENGTH)
            .and_then(|v| v.parse().ok())
            .ok_or_else(|| {
                ErrorDetail::InvalidResponse("HeadObject without a Content-Length".to_owned())
            })?;
        Ok(HeadObjectOutput {
            content_length,
            e_tag: header_str(&response, &ETAG).map(str::to_owned),
        })
    }
}
