//! The one error type of the S3 API, rendered as S3's XML.
//!
//! Client mistakes (NoSuchKey, a bad signature) are answers, not server faults: they are not
//! logged as errors. Every response, error or not, carries `x-amz-request-id` and
//! `x-amz-id-2` ([`RequestId`]).

use std::borrow::Cow;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use axum::body::Body;
use http::{HeaderValue, Response, StatusCode, header};
use quick_xml::escape::escape;

/// A request's id, as S3 puts it in `x-amz-request-id` (16 hex digits) and `x-amz-id-2`.
#[derive(Clone, Debug)]
pub struct RequestId {
    id: [u8; 16],
}

static NEXT_ID: AtomicU64 = AtomicU64::new(0);

impl RequestId {
    /// A new, process-unique id. Costs one atomic increment and no allocation.
    pub fn next() -> Self {
        // Mix the counter so ids look like S3's random ones but stay unique and cheap.
        let n = NEXT_ID.fetch_add(1, Relaxed);
        let mixed = n.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ (n >> 29);
        let mut id = [0u8; 16];
        const HEX: &[u8; 16] = b"0123456789ABCDEF";
        for (i, b) in id.iter_mut().enumerate() {
            *b = HEX[((mixed >> (60 - 4 * i)) & 0xF) as usize];
        }
        Self { id }
    }

    /// The 16-character id.
    pub fn as_str(&self) -> &str {
        // The bytes are ASCII hex digits by construction.
        std::str::from_utf8(&self.id).unwrap_or("0000000000000000")
    }

    /// The extended id (`x-amz-id-2`, `HostId`).
    pub fn host_id(&self) -> String {
        String::from_utf8_lossy(&self.host_id_bytes()).into_owned()
    }

    /// [`host_id`](Self::host_id) on the stack: base64 of the id and `mock-s3/host`. The id and
    /// the constant's first two bytes are 18 bytes, six whole base64 groups, so the rest is the
    /// base64 of the constant's other ten bytes, the same for every id.
    fn host_id_bytes(&self) -> [u8; 40] {
        const TAIL: &[u8; 16] = b"Y2stczMvaG9zdA==";
        let mut raw = [0u8; 18];
        raw[..16].copy_from_slice(&self.id);
        raw[16..].copy_from_slice(b"mo");
        let mut out = [0u8; 40];
        for (group, chars) in raw.chunks_exact(3).zip(out.chunks_exact_mut(4)) {
            let n = u32::from(group[0]) << 16 | u32::from(group[1]) << 8 | u32::from(group[2]);
            for (i, c) in chars.iter_mut().enumerate() {
                *c = BASE64[(n >> (18 - 6 * i) & 0x3F) as usize];
            }
        }
        out[24..].copy_from_slice(TAIL);
        out
    }

    /// Adds `x-amz-request-id` and `x-amz-id-2` to a response (values without an allocation
    /// each: they are cut from a chunk the thread fills). A response made from a template
    /// with empty slots for them ([`crate::ops::from_template`]) has them filled in place,
    /// without hashing their names again.
    pub fn stamp(&self, headers: &mut http::HeaderMap) {
        let Some((id, id_2)) = crate::header_value::shared_pair(&self.id, &self.host_id_bytes())
        else {
            return;
        };
        let (mut id, mut id_2) = (Some(id), Some(id_2));
        for (name, value) in headers.iter_mut() {
            let slot = if !value.is_empty() {
                None
            } else if *name == REQUEST_ID {
                id.take()
            } else if *name == ID_2 {
                id_2.take()
            } else {
                None
            };
            if let Some(v) = slot {
                *value = v;
            }
            if id.is_none() && id_2.is_none() {
                break;
            }
        }
        if let Some(v) = id {
            headers.insert(REQUEST_ID, v);
        }
        if let Some(v) = id_2 {
            headers.insert(ID_2, v);
        }
    }
}

/// `x-amz-request-id`
pub(crate) const REQUEST_ID: http::HeaderName = http::HeaderName::from_static("x-amz-request-id");
/// `x-amz-id-2`
pub(crate) const ID_2: http::HeaderName = http::HeaderName::from_static("x-amz-id-2");

/// The standard base64 alphabet.
const BASE64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// An S3 error: status, code, message and the resource it concerns.
#[derive(Clone, Debug)]
pub struct S3Error {
    /// HTTP status.
    pub status: StatusCode,
    /// S3 error code, e.g. `NoSuchKey`.
    pub code: &'static str,
    /// Human-readable message, as S3 words it.
    pub message: Cow<'static, str>,
    /// The bucket or object the error concerns (`/bucket/key`).
    pub resource: Option<String>,
    /// Extra elements S3 adds for some codes (e.g. `ActualObjectSize` for InvalidRange).
    pub extra: Vec<(&'static str, String)>,
    /// Headers to add to the response (e.g. `Content-Range` for a 416).
    pub headers: Vec<(&'static str, String)>,
}

/// Result of an S3 operation.
pub type S3Result<T> = Result<T, S3Error>;

impl std::fmt::Display for S3Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {}: {}",
            self.status.as_u16(),
            self.code,
            self.message
        )
    }
}

impl std::error::Error for S3Error {}

macro_rules! errors {
    ($( $(#[$doc:meta])* $fn:ident => ($status:ident, $code:literal, $msg:literal); )*) => {
        impl S3Error {
            $(
                $(#[$doc])*
                pub fn $fn() -> Self {
                    Self::new(StatusCode::$status, $code, $msg)
                }
            )*
        }
    };
}

errors! {
    /// 404 NoSuchBucket.
    no_such_bucket => (NOT_FOUND, "NoSuchBucket", "The specified bucket does not exist");
    /// 404 NoSuchKey.
    no_such_key => (NOT_FOUND, "NoSuchKey", "The specified key does not exist.");
    /// 404 NoSuchUpload.
    no_such_upload => (NOT_FOUND, "NoSuchUpload", "The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.");
    /// 409 BucketAlreadyOwnedByYou.
    bucket_already_owned_by_you => (CONFLICT, "BucketAlreadyOwnedByYou", "Your previous request to create the named bucket succeeded and you already own it.");
    /// 409 BucketNotEmpty.
    bucket_not_empty => (CONFLICT, "BucketNotEmpty", "The bucket you tried to delete is not empty");
    /// 400 InvalidPart.
    invalid_part => (BAD_REQUEST, "InvalidPart", "One or more of the specified parts could not be found.  The part may not have been uploaded, or the specified entity tag may not match the part's entity tag.");
    /// 400 InvalidPartOrder.
    invalid_part_order => (BAD_REQUEST, "InvalidPartOrder", "The list of parts was not in ascending order. The parts list must be specified in order by part number.");
    /// 400 EntityTooSmall.
    entity_too_small => (BAD_REQUEST, "EntityTooSmall", "Your proposed upload is smaller than the minimum allowed object size.");
    /// 400 EntityTooLarge.
    entity_too_large => (BAD_REQUEST, "EntityTooLarge", "Your proposed upload exceeds the maximum allowed object size.");
    /// 400 MalformedXML.
    malformed_xml => (BAD_REQUEST, "MalformedXML", "The XML you provided was not well-formed or did not validate against our published schema");
    /// 400 InvalidBucketName.
    invalid_bucket_name => (BAD_REQUEST, "InvalidBucketName", "The specified bucket is not valid.");
    /// 405 MethodNotAllowed.
    method_not_allowed => (METHOD_NOT_ALLOWED, "MethodNotAllowed", "The specified method is not allowed against this resource.");
    /// 501 NotImplemented.
    not_implemented => (NOT_IMPLEMENTED, "NotImplemented", "A header or query you provided implies functionality that is not implemented.");
    /// 403 SignatureDoesNotMatch.
    signature_does_not_match => (FORBIDDEN, "SignatureDoesNotMatch", "The request signature we calculated does not match the signature you provided. Check your key and signing method.");
    /// 403 AccessDenied for an anonymous request.
    access_denied => (FORBIDDEN, "AccessDenied", "Access Denied");
    /// 400 BadDigest for a Content-MD5 mismatch.
    bad_digest => (BAD_REQUEST, "BadDigest", "The Content-MD5 you specified did not match what we received.");
    /// 400 InvalidDigest for a Content-MD5 that is not base64 of 16 bytes.
    invalid_digest => (BAD_REQUEST, "InvalidDigest", "The Content-MD5 you specified is not valid.");
    /// 500 InternalError.
    internal_error => (INTERNAL_SERVER_ERROR, "InternalError", "We encountered an internal error. Please try again.");
    /// 503 SlowDown.
    slow_down => (SERVICE_UNAVAILABLE, "SlowDown", "Please reduce your request rate.");
    /// 503 ServiceUnavailable.
    service_unavailable => (SERVICE_UNAVAILABLE, "ServiceUnavailable", "Service is unable to handle request.");
    /// 412 PreconditionFailed.
    precondition_failed => (PRECONDITION_FAILED, "PreconditionFailed", "At least one of the pre-conditions you specified did not hold");
    /// 409 ConditionalRequestConflict: the key changed while a conditional write was under way.
    conditional_request_conflict => (CONFLICT, "ConditionalRequestConflict", "A conflicting conditional operation is currently in progress against this resource. Please try again.");
    /// 416 InvalidPartNumber: `?partNumber=N` beyond the object's parts.
    invalid_part_number => (RANGE_NOT_SATISFIABLE, "InvalidPartNumber", "The requested partnumber is not satisfiable");
    /// 400 AccessControlListNotSupported: an ACL on a bucket whose ACLs are disabled (S3's default).
    acl_not_supported => (BAD_REQUEST, "AccessControlListNotSupported", "The bucket does not allow ACLs");
    /// 411 MissingContentLength.
    missing_content_length => (LENGTH_REQUIRED, "MissingContentLength", "You must provide the Content-Length HTTP header.");
    /// 400 IncompleteBody.
    incomplete_body => (BAD_REQUEST, "IncompleteBody", "You did not provide the number of bytes specified by the Content-Length HTTP header.");
    /// 400 RequestTimeout for an upload that stalled.
    request_timeout => (BAD_REQUEST, "RequestTimeout", "Your socket connection to the server was not read from or written to within the timeout period. Idle connections will be closed.");
    /// 400 RequestHeaderSectionTooLarge: more than [`MAX_HEADER_SECTION`](crate::ops::MAX_HEADER_SECTION) bytes of headers.
    header_section_too_large => (BAD_REQUEST, "RequestHeaderSectionTooLarge", "Your request header section exceeds the maximum allowed size.");
    /// 400 XAmzContentSHA256Mismatch.
    content_sha256_mismatch => (BAD_REQUEST, "XAmzContentSHA256Mismatch", "The provided 'x-amz-content-sha256' header does not match what was computed.");
    /// 400 KeyTooLongError: a key over 1,024 bytes.
    key_too_long => (BAD_REQUEST, "KeyTooLongError", "Your key is too long.");
    /// 400 MaxMessageLengthExceeded: an XML request body over the mock's limit.
    max_message_length_exceeded => (BAD_REQUEST, "MaxMessageLengthExceeded", "Your request was too big.");
    /// 507-like: the mock's memory cap was reached (S3 has no such limit; the code says so).
    memory_cap_reached => (INSUFFICIENT_STORAGE, "MockStorageFull", "mock-s3 reached its memory cap (--memory-cap); use --storage discard for large sweeps.");
}

impl S3Error {
    /// An error with a custom status, code and message.
    pub fn new(
        status: StatusCode,
        code: &'static str,
        message: impl Into<Cow<'static, str>>,
    ) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            resource: None,
            extra: Vec::new(),
            headers: Vec::new(),
        }
    }

    /// 400 InvalidArgument with a message.
    pub fn invalid_argument(message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "InvalidArgument", message)
    }

    /// 400 InvalidRequest with a message.
    pub fn invalid_request(message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "InvalidRequest", message)
    }

    /// 400 BadDigest for a checksum algorithm's mismatch.
    pub fn checksum_mismatch(algorithm: &str) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "BadDigest",
            format!("The {algorithm} you specified did not match the calculated checksum."),
        )
    }

    /// 416 InvalidRange, with `Content-Range: bytes */size` as S3 sends it.
    pub fn invalid_range(size: u64) -> Self {
        let mut e = Self::new(
            StatusCode::RANGE_NOT_SATISFIABLE,
            "InvalidRange",
            "The requested range is not satisfiable",
        );
        e.extra.push(("ActualObjectSize", size.to_string()));
        e.headers.push(("content-range", format!("bytes */{size}")));
        e
    }

    /// Sets the resource the error concerns.
    pub fn with_resource(mut self, resource: impl Into<String>) -> Self {
        self.resource = Some(resource.into());
        self
    }

    /// Renders the XML body.
    pub fn to_xml(&self, request_id: &RequestId) -> String {
        let mut s = String::with_capacity(256);
        s.push_str(r#"<?xml version="1.0" encoding="UTF-8"?>"#);
        s.push('\n');
        let _ = write!(
            s,
            "<Error><Code>{}</Code><Message>{}</Message>",
            self.code,
            escape(self.message.as_ref())
        );
        if let Some(resource) = &self.resource {
            let _ = write!(s, "<Resource>{}</Resource>", escape(resource.as_str()));
        }
        for (name, value) in &self.extra {
            let _ = write!(s, "<{name}>{}</{name}>", escape(value.as_str()));
        }
        let _ = write!(
            s,
            "<RequestId>{}</RequestId><HostId>{}</HostId></Error>",
            request_id.as_str(),
            request_id.host_id()
        );
        s
    }

    /// Renders the response. HEAD errors have no body, as in S3.
    pub fn into_response(self, request_id: &RequestId, head: bool) -> Response<Body> {
        let body = if head {
            Body::empty()
        } else {
            Body::from(self.to_xml(request_id))
        };
        let mut resp = Response::new(body);
        *resp.status_mut() = self.status;
        let headers = resp.headers_mut();
        if !head {
            headers.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/xml"),
            );
        }
        for (name, value) in &self.headers {
            if let Ok(v) = HeaderValue::from_str(value) {
                headers.insert(*name, v);
            }
        }
        request_id.stamp(headers);
        resp
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_id_is_base64_of_id_and_host() {
        use base64::Engine as _;
        for _ in 0..1000 {
            let id = RequestId::next();
            let mut raw = id.as_str().as_bytes().to_vec();
            raw.extend_from_slice(b"mock-s3/host");
            let expected = base64::engine::general_purpose::STANDARD.encode(&raw);
            assert_eq!(id.host_id(), expected);
            let mut headers = http::HeaderMap::new();
            id.stamp(&mut headers);
            assert_eq!(headers["x-amz-request-id"], id.as_str());
            assert_eq!(headers["x-amz-id-2"], expected.as_str());
        }
    }

    #[test]
    fn request_ids_are_unique_hex() {
        let a = RequestId::next();
        let b = RequestId::next();
        assert_ne!(a.as_str(), b.as_str());
        assert_eq!(a.as_str().len(), 16);
        assert!(a.as_str().bytes().all(|c| c.is_ascii_hexdigit()));
    }

    #[test]
    fn slowdown_xml_matches_s3() {
        let id = RequestId::next();
        let xml = S3Error::slow_down().to_xml(&id);
        assert!(
            xml.contains(
                "<Code>SlowDown</Code><Message>Please reduce your request rate.</Message>"
            )
        );
        assert!(xml.contains(&format!("<RequestId>{}</RequestId>", id.as_str())));
        assert!(xml.contains("<HostId>"));
    }

    #[test]
    fn messages_are_escaped() {
        let id = RequestId::next();
        let xml = S3Error::no_such_key()
            .with_resource("/b/a<b>&c")
            .to_xml(&id);
        assert!(xml.contains("<Resource>/b/a&lt;b&gt;&amp;c</Resource>"));
    }
}
