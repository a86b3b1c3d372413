//! `GetObject`: `GET /bucket/key`. The body is always read to its end (a socket is released
//! only then: an unread body is the socket leak of aws-sdk-js-v3#5517/#6691), and optionally
//! checked against what the caller expects.

use bytes::Bytes;
use http::header::ETAG;
use http::{Method, Response};
use sha2::{Digest as _, Sha256};

use super::{Operation, header_str, object_path};
use crate::s3::error::ErrorDetail;
use crate::s3::outcome::Op;

/// How to check a GetObject body. A mismatch fails the call with
/// [`ErrorDetail::Verification`] (not retried).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Verify {
    /// No check beyond HTTP framing (hyper checks `Content-Length`). Default.
    #[default]
    None,
    /// The body has this many bytes.
    Length(u64),
    /// The body is exactly these bytes.
    Bytes(Bytes),
    /// The body's SHA-256 is this digest.
    Sha256([u8; 32]),
}

/// An object and its metadata.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GetObjectOutput {
    /// The whole body.
    pub body: Bytes,
    /// The object's `ETag`.
    pub e_tag: Option<String>,
}

pub(crate) struct GetObject<'a> {
    pub(crate) bucket: &'a str,
    pub(crate) key: &'a str,
    pub(crate) verify: Verify,
}

impl Operation for GetObject<'_> {
    type Output = GetObjectOutput;
    const OP: Op = Op::GetObject;

    fn method(&self) -> Method {
        Method::GET
    }

    fn path_and_query(&self) -> String {
        object_path(self.bucket, self.key, 0)
    }

    fn parse(&self, response: Response<Bytes>) -> Result<GetObjectOutput, ErrorDetail> {
        let e_tag = header_str(&response, &ETAG).map(str::to_owned);
        let body = response.into_body();
        verify(&self.verify, &body)?;
        Ok(GetObjectOutput { body, e_tag })
    }
}

fn verify(how: &Verify, body: &Bytes) -> Result<(), ErrorDetail> {
    let failed = |what: String| Err(ErrorDetail::Verification(what));
    match how {
        Verify::None => Ok(()),
        Verify::Length(n) if body.len() as u64 != *n => {
            failed(format!("expected {n} bytes, got {}", body.len()))
        }
        Verify::Bytes(expected) if expected != body => failed(format!(
            "body differs from the expected {} bytes (got {})",
            expected.len(),
            body.len()
        )),
        Verify::Sha256(digest) if Sha256::digest(body).as_slice() != digest => {
            failed("SHA-256 differs".to_owned())
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verification_catches_mismatches() {
        let body = Bytes::from_static(b"hello");
        assert!(verify(&Verify::None, &body).is_ok());
        assert!(verify(&Verify::Length(5), &body).is_ok());
        assert!(verify(&Verify::Length(4), &body).is_err());
        assert!(verify(&Verify::Bytes(body.clone()), &body).is_ok());
        assert!(verify(&Verify::Bytes(Bytes::from_static(b"hellp")), &body).is_err());
        let digest: [u8; 32] = Sha256::digest(b"hello").into();
        assert!(verify(&Verify::Sha256(digest), &body).is_ok());
        assert!(verify(&Verify::Sha256([0; 32]), &body).is_err());
    }
}
