//! `DeleteObject`: `DELETE /bucket/key` (204, also for a key that does not exist).

use bytes::Bytes;
use http::{Method, Response};

use super::{Operation, object_path};
use crate::s3::error::ErrorDetail;
use crate::s3::outcome::Op;

/// `DeleteObject` returns nothing the harness uses.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DeleteObjectOutput;

pub(crate) struct DeleteObject<'a> {
    pub(crate) bucket: &'a str,
    pub(crate) key: &'a str,
}

impl Operation for DeleteObject<'_> {
    type Output = DeleteObjectOutput;
    const OP: Op = Op::DeleteObject;

    fn method(&self) -> Method {
        Method::DELETE
    }

    fn path_and_query(&self) -> String {
        object_path(self.bucket, self.key, 0)
    }

    fn parse(&self, _response: Response<Bytes>) -> Result<DeleteObjectOutput, ErrorDetail> {
        Ok(DeleteObjectOutput)
    }
}
