//! One file per S3 operation. Each says how to build its request (method, path and query,
//! extra headers, body) and how to read its success response; the client does the rest
//! (signing, sending, retries), the same way for every operation.
//!
//! Invariant: an operation is plain data borrowed from the caller. Building a request
//! allocates the path once per call (not per attempt), and the body is a `Bytes` that retries
//! clone by reference count.

mod create_bucket;
mod delete_object;
mod get_object;
mod head_object;
mod list_objects_v2;
mod put_object;

use bytes::Bytes;
use http::header::HeaderName;
use http::{HeaderMap, Method, Response};

pub use create_bucket::CreateBucketOutput;
pub use delete_object::DeleteObjectOutput;
pub use get_object::{GetObjectOutput, Verify};
pub use head_object::HeadObjectOutput;
pub use list_objects_v2::{CommonPrefix, ListObjectsV2Output, ListObjectsV2Request, Object};
pub use put_object::PutObjectOutput;

pub(crate) use create_bucket::CreateBucket;
pub(crate) use delete_object::DeleteObject;
pub(crate) use get_object::GetObject;
pub(crate) use head_object::HeadObject;
pub(crate) use list_objects_v2::ListObjectsV2;
pub(crate) use put_object::PutObject;

use super::error::ErrorDetail;
use super::outcome::Op;

/// An S3 operation, as the client needs to see it.
pub(crate) trait Operation {
    /// What a success yields.
    type Output;

    /// Which operation.
    const OP: Op;

    /// The HTTP method.
    fn method(&self) -> Method;

    /// The origin-form path and query (`/bucket/key?...`), with the key URI-encoded.
    fn path_and_query(&self) -> String;

    /// The body. Default: none.
    fn body(&self) -> Bytes {
        Bytes::new()
    }

    /// Headers of the operation's own, added before signing (so they are signed).
    fn headers(&self, _headers: &mut HeaderMap) {}

    /// Reads a 2xx response.
    fn parse(&self, response: Response<Bytes>) -> Result<Self::Output, ErrorDetail>;
}

/// `/bucket` or `/bucket/key` with the key encoded as S3 expects in a path: every byte but
/// the unreserved ones (`A-Z a-z 0-9 - _ . ~`) and `/` percent-encoded.
pub(crate) fn object_path(bucket: &str, key: &str, extra: usize) -> String {
    // Exactly the length of the path (plus `extra`), so that a path without a query becomes
    // the request's `PathAndQuery` without another allocation.
    let encoded: usize = key
        .bytes()
        .map(|b| if keeps(b, false) { 1 } else { 3 })
        .sum();
    let mut path =
        String::with_capacity(1 + bucket.len() + usize::from(!key.is_empty()) + encoded + extra);
    path.push('/');
    path.push_str(bucket);
    if !key.is_empty() {
        path.push('/');
        encode_into(&mut path, key, false);
    }
    path
}

/// Whether `b` is sent as is: `A-Z a-z 0-9 - _ . ~`, and `/` unless `slash` is true.
fn keeps(b: u8, slash: bool) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') || (b == b'/' && !slash)
}

/// Percent-encodes `value` into `out`; `/` is kept unless `slash` is true (query values).
pub(crate) fn encode_into(out: &mut String, value: &str, slash: bool) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for &b in value.as_bytes() {
        if keeps(b, slash) {
            out.push(b as char);
        } else {
            out.push('%');
            out.push(HEX[usize::from(b >> 4)] as char);
            out.push(HEX[usize::from(b & 15)] as char);
        }
    }
}

/// A header's value as a string, if present and visible ASCII. `name` is a `HeaderName`
/// (e.g. `http::header::ETAG`): a `&str` would be parsed again on every lookup.
pub(crate) fn header_str<'a>(response: &'a Response<Bytes>, name: &HeaderName) -> Option<&'a str> {
    response.headers().get(name).and_then(|v| v.to_str().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_encoded_like_s3_paths() {
        assert_eq!(object_path("b", "a b/c+d~é", 0), "/b/a%20b/c%2Bd~%C3%A9");
        assert_eq!(object_path("b", "", 0), "/b");
        for key in ["", "k", "a b/c+d~é", "%%%"] {
            let path = object_path("bucket", key, 0);
            assert_eq!(path.capacity(), path.len(), "{key:?}");
        }
        let mut q = String::new();
        encode_into(&mut q, "a/b c", true);
        assert_eq!(q, "a%2Fb%20c");
    }
}
