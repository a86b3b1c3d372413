//! `CreateBucket`: `PUT /bucket` with no body (the mock's only region needs no
//! `CreateBucketConfiguration`).

use bytes::Bytes;
use http::{Method, Response};

use super::{Operation, object_path};
use crate::s3::error::ErrorDetail;
use crate::s3::outcome::Op;

/// `CreateBucket` returns nothing the harness uses.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CreateBucketOutput;

pub(crate) struct CreateBucket<'a> {
    pub(crate) bucket: &'a str,
}

impl Operation for CreateBucket<'_> {
    type Output = CreateBucketOutput;
    const OP: Op = Op::CreateBucket;

    fn method(&self) -> Method {
        Method::PUT
    }

    fn path_and_query(&self) -> String {
        object_path(self.bucket, "", 0)
    }

    fn parse(&self, _response: Response<Bytes>) -> Result<CreateBucketOutput, ErrorDetail> {
        Ok(CreateBucketOutput)
    }
}
