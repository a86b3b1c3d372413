//! `PutObject`: `PUT /bucket/key` with the object as the body.

use bytes::Bytes;
use http::header::ETAG;
use http::{Method, Response};

use super::{Operation, header_str, object_path};
use crate::s3::error::ErrorDetail;
use crate::s3::outcome::Op;

/// What S3 returns for a stored object.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PutObjectOutput {
    /// The object's `ETag` (quoted, as S3 sends it).
    pub e_tag: Option<String>,
}

pub(crate) struct PutObject<'a> {
    pub(crate) bucket: &'a str,
    pub(crate) key: &'a str,
    pub(crate) body: Bytes,
}

impl Operation for PutObject<'_> {
    type Output = PutObjectOutput;
    const OP: Op = Op::PutObject;

    fn method(&self) -> Method {
        Method::PUT
    }

    fn path_and_query(&self) -> String {
        object_path(self.bucket, self.key, 0)
    }

    fn body(&self) -> Bytes {
        self.body.clone()
    }

    fn parse(&self, response: Response<Bytes>) -> Result<PutObjectOutput, ErrorDetail> {
        Ok(PutObjectOutput {
            e_tag: header_str(&response, &ETAG).map(str::to_owned),
        })
    }
}
