//! AWS Signature Version 4 verification, the way S3 does it.
//!
//! Two mechanisms are understood: the `Authorization: AWS4-HMAC-SHA256 ...`
//! header and presigned URLs (`X-Amz-Algorithm=AWS4-HMAC-SHA256&...` in the
//! query). The canonical request is rebuilt from the request as received:
//! the path is percent-decoded and re-encoded (every byte but the unreserved
//! ones and `/`, uppercase hex, no normalisation of `//` or `.` segments), the
//! query pairs are decoded (`+` is a literal plus), re-encoded and sorted, and
//! the signed headers are trimmed with inner runs of spaces collapsed.
//!
//! Where it is more lenient than that, and why: two fallbacks are tried only
//! after the S3-exact canonical request failed to match, so that clients which
//! sign slightly differently still get through: the raw path exactly as
//! received (for clients that sign their path verbatim while leaving reserved
//! characters unencoded, or that encode `/` as `%2F`), and, when the raw query
//! holds a `+`, the query with `+` read as a space (as `form_urlencoded` based
//! signers do). A request accepted only through a fallback would fail the
//! canonical form S3 documents; it is logged at debug level
//! (`RUST_LOG=mock_s3=debug`), and the README says so.

use std::collections::HashMap;
use std::fmt;
use std::time::{Duration, SystemTime};

use hmac::{Hmac, Mac};
use http::header::{AUTHORIZATION, DATE, HOST};
use http::request::Parts;
use http::{HeaderMap, HeaderName, StatusCode};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode, percent_encode};
use sha2::{Digest, Sha256};

use super::chunked::ChunkSigner;

type HmacSha256 = Hmac<Sha256>;

/// The only signing algorithm accepted: `AWS4-HMAC-SHA256`.
pub const ALGORITHM: &str = "AWS4-HMAC-SHA256";
/// `x-amz-content-sha256` value for a payload not covered by the signature.
pub const UNSIGNED_PAYLOAD: &str = "UNSIGNED-PAYLOAD";
/// `x-amz-content-sha256` value for an `aws-chunked` body with signed chunks.
pub const STREAMING_SIGNED: &str = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD";
/// `x-amz-content-sha256` value for an `aws-chunked` body with signed chunks and signed trailers.
pub const STREAMING_SIGNED_TRAILER: &str = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER";
/// `x-amz-content-sha256` value for an `aws-chunked` body with unsigned chunks and trailers.
pub const STREAMING_UNSIGNED_TRAILER: &str = "STREAMING-UNSIGNED-PAYLOAD-TRAILER";
/// How far the request time may be from the server's clock (S3: 15 minutes).
pub const MAX_CLOCK_SKEW: Duration = Duration::from_secs(15 * 60);
/// The largest `X-Amz-Expires` a presigned URL may carry (seven days).
pub const MAX_PRESIGNED_EXPIRES: u64 = 604_800;

/// Lowercase hex SHA-256 of the empty string.
pub(crate) const EMPTY_SHA256: &str =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

// Names as constants: a lookup by `&str` parses and lowercases the name first.
const X_AMZ_DATE: HeaderName = HeaderName::from_static("x-amz-date");
const X_AMZ_CONTENT_SHA256: HeaderName = HeaderName::from_static("x-amz-content-sha256");
const X_AMZ_SECURITY_TOKEN: HeaderName = HeaderName::from_static("x-amz-security-token");

const Q_ALGORITHM: &[u8] = b"X-Amz-Algorithm";
const Q_CREDENTIAL: &[u8] = b"X-Amz-Credential";
const Q_DATE: &[u8] = b"X-Amz-Date";
const Q_EXPIRES: &[u8] = b"X-Amz-Expires";
const Q_SIGNED_HEADERS: &[u8] = b"X-Amz-SignedHeaders";
const Q_SIGNATURE: &[u8] = b"X-Amz-Signature";
const Q_SECURITY_TOKEN: &[u8] = b"X-Amz-Security-Token";
const Q_CONTENT_SHA256: &[u8] = b"X-Amz-Content-Sha256";

/// Every byte is encoded except the unreserved ones (`A-Z a-z 0-9 - . _ ~`).
const ENCODE_QUERY: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');
/// As [`ENCODE_QUERY`], but `/` is kept.
const ENCODE_PATH: &AsciiSet = &ENCODE_QUERY.remove(b'/');

const MALFORMED_CREDENTIAL: &str =
    "the Credential is mal-formed; expecting \"<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request\".";
const UNSUPPORTED_MECHANISM: &str =
    "The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256.";
const NEEDS_DATE: &str = "AWS authentication requires a valid Date or x-amz-date header";
const BAD_CONTENT_SHA256: &str = "x-amz-content-sha256 must be UNSIGNED-PAYLOAD, \
     STREAMING-UNSIGNED-PAYLOAD-TRAILER, STREAMING-AWS4-HMAC-SHA256-PAYLOAD, \
     STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER or a valid sha256 value.";

/// Looks up the secret key for an access key id.
pub trait SecretLookup: Send + Sync {
    /// The secret access key of `access_key`, or `None` if the key is unknown.
    fn secret_for(&self, access_key: &str) -> Option<String>;

    /// Calls `f` with the secret access key of `access_key`; false if the key is unknown. A
    /// store that can lend its secret overrides this to spare the copy of
    /// [`secret_for`](Self::secret_for).
    fn with_secret(&self, access_key: &str, f: &mut dyn FnMut(&str)) -> bool {
        self.secret_for(access_key).map(|s| f(&s)).is_some()
    }
}

impl SecretLookup for HashMap<String, String> {
    fn secret_for(&self, access_key: &str) -> Option<String> {
        self.get(access_key).cloned()
    }
}

impl<F> SecretLookup for F
where
    F: Fn(&str) -> Option<String> + Send + Sync,
{
    fn secret_for(&self, access_key: &str) -> Option<String> {
        self(access_key)
    }
}

/// How the payload is covered by the signature (from `x-amz-content-sha256`,
/// or the presigned-URL rule).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PayloadMode {
    /// `UNSIGNED-PAYLOAD`: the body is not covered.
    Unsigned,
    /// The lowercase hex SHA-256 the body must hash to; the caller checks it
    /// after reading the body (a mismatch is S3's `XAmzContentSHA256Mismatch`).
    Sha256(String),
    /// `STREAMING-AWS4-HMAC-SHA256-PAYLOAD`: `aws-chunked` body, signed chunks.
    StreamingSigned,
    /// `STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER`: signed chunks and a signed trailer.
    StreamingSignedTrailer,
    /// `STREAMING-UNSIGNED-PAYLOAD-TRAILER`: unsigned chunks followed by trailers.
    StreamingUnsignedTrailer,
}

impl PayloadMode {
    /// Parses an `x-amz-content-sha256` value; `None` if S3 would reject it.
    ///
    /// A hex digest is accepted in either case and stored in lowercase.
    pub fn parse(value: &str) -> Option<Self> {
        match value {
            UNSIGNED_PAYLOAD => Some(Self::Unsigned),
            STREAMING_SIGNED => Some(Self::StreamingSigned),
            STREAMING_SIGNED_TRAILER => Some(Self::StreamingSignedTrailer),
            STREAMING_UNSIGNED_TRAILER => Some(Self::StreamingUnsignedTrailer),
            v if v.len() == 64 && v.bytes().all(|b| b.is_ascii_hexdigit()) => {
                Some(Self::Sha256(v.to_ascii_lowercase()))
            }
            _ => None,
        }
    }

    /// Whether the body is `aws-chunked` framed.
    pub fn is_streaming(&self) -> bool {
        matches!(
            self,
            Self::StreamingSigned | Self::StreamingSignedTrailer | Self::StreamingUnsignedTrailer
        )
    }

    /// Whether each chunk carries a chained signature.
    pub fn is_signed_streaming(&self) -> bool {
        matches!(self, Self::StreamingSigned | Self::StreamingSignedTrailer)
    }

    /// Whether trailing headers may follow the last chunk.
    pub fn has_trailer(&self) -> bool {
        matches!(
            self,
            Self::StreamingSignedTrailer | Self::StreamingUnsignedTrailer
        )
    }
}

/// A request whose signature checked out.
#[derive(Debug)]
pub struct Verified {
    /// The credential, `AK/YYYYMMDD/region/service/aws4_request` (one string: see
    /// [`access_key`](Self::access_key), [`region`](Self::region), [`service`](Self::service)).
    credential: String,
    /// `x-amz-security-token` / `X-Amz-Security-Token`, if sent (not validated).
    pub session_token: Option<String>,
    /// Whether the request was authenticated by a presigned URL.
    pub presigned: bool,
    /// How the payload is covered.
    pub payload: PayloadMode,
    /// Set for the two signed streaming modes: verifies the chunk signatures,
    /// seeded with this request's signature.
    pub chunk_signer: Option<ChunkSigner>,
}

impl Verified {
    /// The credential's `n`th `/`-separated part (it has the five that `Credential::parse`
    /// checked).
    fn part(&self, n: usize) -> &str {
        split_byte(&self.credential, b'/')
            .nth(n)
            .unwrap_or_default()
    }

    /// The access key id that signed the request.
    pub fn access_key(&self) -> &str {
        self.part(0)
    }

    /// Region from the credential scope (not enforced).
    pub fn region(&self) -> &str {
        self.part(2)
    }

    /// Service from the credential scope (not enforced).
    pub fn service(&self) -> &str {
        self.part(3)
    }
}

/// What S3 reports along with a `SignatureDoesNotMatch` error.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignatureMismatch {
    /// The access key id of the request.
    pub access_key: String,
    /// The signature the request carried.
    pub signature_provided: String,
    /// The string to sign the server computed (S3-exact variant).
    pub string_to_sign: String,
    /// The canonical request the server computed (S3-exact variant).
    pub canonical_request: String,
}

/// Why a request was rejected; each maps to an S3 error code and HTTP status.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AuthError {
    /// The access key id is unknown (403). Holds the key id.
    InvalidAccessKeyId(String),
    /// The signature did not match (403).
    SignatureDoesNotMatch(Box<SignatureMismatch>),
    /// The request time is more than 15 minutes away from the server's (403).
    RequestTimeTooSkewed {
        /// The request time as sent.
        request_time: String,
        /// The server time, ISO 8601 basic format.
        server_time: String,
    },
    /// The `Authorization` header could not be parsed (400).
    AuthorizationHeaderMalformed(String),
    /// The presigned-URL query parameters are wrong (400).
    AuthorizationQueryParametersError(String),
    /// Authentication was refused, e.g. an expired presigned URL or no date (403).
    AccessDenied(String),
    /// The request is invalid, e.g. a missing `x-amz-content-sha256` or an
    /// unsupported authentication mechanism (400).
    InvalidRequest(String),
    /// An argument is invalid, e.g. a bad `x-amz-content-sha256` value (400).
    InvalidArgument(String),
}

impl AuthError {
    /// The S3 error code (`<Code>` in the error document).
    pub fn code(&self) -> &'static str {
        match self {
            Self::InvalidAccessKeyId(_) => "InvalidAccessKeyId",
            Self::SignatureDoesNotMatch(_) => "SignatureDoesNotMatch",
            Self::RequestTimeTooSkewed { .. } => "RequestTimeTooSkewed",
            Self::AuthorizationHeaderMalformed(_) => "AuthorizationHeaderMalformed",
            Self::AuthorizationQueryParametersError(_) => "AuthorizationQueryParametersError",
            Self::AccessDenied(_) => "AccessDenied",
            Self::InvalidRequest(_) => "InvalidRequest",
            Self::InvalidArgument(_) => "InvalidArgument",
        }
    }

    /// The HTTP status S3 answers with.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::InvalidAccessKeyId(_)
            | Self::SignatureDoesNotMatch(_)
            | Self::RequestTimeTooSkewed { .. }
            | Self::AccessDenied(_) => StatusCode::FORBIDDEN,
            Self::AuthorizationHeaderMalformed(_)
            | Self::AuthorizationQueryParametersError(_)
            | Self::InvalidRequest(_)
            | Self::InvalidArgument(_) => StatusCode::BAD_REQUEST,
        }
    }

    /// The human-readable message (`<Message>` in the error document).
    pub fn message(&self) -> String {
        match self {
            Self::InvalidAccessKeyId(_) => {
                "The AWS Access Key Id you provided does not exist in our records.".to_owned()
            }
            Self::SignatureDoesNotMatch(_) => "The request signature we calculated does not \
                 match the signature you provided. Check your key and signing method."
                .to_owned(),
            Self::RequestTimeTooSkewed { .. } => {
                "The difference between the request time and the current time is too large."
                    .to_owned()
            }
            Self::AuthorizationHeaderMalformed(detail) => {
                format!("The authorization header is malformed; {detail}")
            }
            Self::AuthorizationQueryParametersError(m)
            | Self::AccessDenied(m)
            | Self::InvalidRequest(m)
            | Self::InvalidArgument(m) => m.clone(),
        }
    }

    /// Extra elements S3 puts in the error document, as `(element, text)`.
    pub fn extra_fields(&self) -> Vec<(&'static str, String)> {
        match self {
            Self::InvalidAccessKeyId(key) => vec![("AWSAccessKeyId", key.clone())],
            Self::SignatureDoesNotMatch(m) => vec![
                ("AWSAccessKeyId", m.access_key.clone()),
                ("StringToSign", m.string_to_sign.clone()),
                ("SignatureProvided", m.signature_provided.clone()),
                ("CanonicalRequest", m.canonical_request.clone()),
            ],
            Self::RequestTimeTooSkewed {
                request_time,
                server_time,
            } => vec![
                ("RequestTime", request_time.clone()),
                ("ServerTime", server_time.clone()),
                (
                    "MaxAllowedSkewMilliseconds",
                    MAX_CLOCK_SKEW.as_millis().to_string(),
                ),
            ],
            _ => Vec::new(),
        }
    }
}

impl fmt::Display for AuthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code(), self.message())
    }
}

impl std::error::Error for AuthError {}

/// Derives the SigV4 signing key: the HMAC-SHA256 chain over `"AWS4" + secret`,
/// `date` (`YYYYMMDD`), `region`, `service` and `"aws4_request"`.
///
/// Cached per thread (see [`signer`]).
pub fn signing_key(secret: &str, date: &str, region: &str, service: &str) -> [u8; 32] {
    signer(secret, date, region, service).0
}

/// The signing key of [`signing_key`] and an HMAC keyed with it, ready for a string to sign.
///
/// The key changes once a day per credential scope, so the last one derived on each thread is
/// kept (as SDKs keep theirs), with the HMAC's keyed state: a request signed with the same
/// secret and scope skips the four HMACs of the derivation and the two blocks that key the
/// HMAC of its string to sign.
fn signer(secret: &str, date: &str, region: &str, service: &str) -> ([u8; 32], HmacSha256) {
    /// The last key derived on this thread, and what it was derived from.
    struct Last {
        secret: String,
        date: String,
        region: String,
        service: String,
        key: [u8; 32],
        mac: HmacSha256,
    }
    thread_local! {
        static LAST: std::cell::RefCell<Option<Last>> = const { std::cell::RefCell::new(None) };
    }
    let hit = LAST.with_borrow(|last| {
        last.as_ref()
            .filter(|l| {
                l.secret == secret && l.date == date && l.region == region && l.service == service
            })
            .map(|l| (l.key, l.mac.clone()))
    });
    if let Some(hit) = hit {
        return hit;
    }
    let key = derive_signing_key(secret, date, region, service);
    let mac = HmacSha256::new_from_slice(&key).expect("HMAC accepts keys of any length");
    LAST.with_borrow_mut(|last| {
        *last = Some(Last {
            secret: secret.to_owned(),
            date: date.to_owned(),
            region: region.to_owned(),
            service: service.to_owned(),
            key,
            mac: mac.clone(),
        });
    });
    (key, mac)
}

fn derive_signing_key(secret: &str, date: &str, region: &str, service: &str) -> [u8; 32] {
    let k_secret = format!("AWS4{secret}");
    let k_date = hmac_sha256(k_secret.as_bytes(), date.as_bytes());
    let k_region = hmac_sha256(&k_date, region.as_bytes());
    let k_service = hmac_sha256(&k_region, service.as_bytes());
    hmac_sha256(&k_service, b"aws4_request")
}

/// Verifies the head of a request.
///
/// Returns `Ok(None)` if the request carries no authentication at all
/// (anonymous), `Ok(Some(_))` if its signature checks out. The body is not
/// looked at: see [`Verified::payload`].
pub fn verify(
    parts: &Parts,
    lookup: &dyn SecretLookup,
    now: SystemTime,
) -> Result<Option<Verified>, AuthError> {
    let query = parts.uri.query().unwrap_or("");
    let pairs = split_query(query);
    let has_key = |name: &[u8]| pairs.iter().any(|(k, _)| decode(k, false) == name);
    let presigned = has_key(Q_ALGORITHM) || has_key(Q_CREDENTIAL) || has_key(Q_SIGNATURE);

    let mut auth_headers = parts.headers.get_all(AUTHORIZATION).iter();
    let auth = auth_headers.next();
    if auth_headers.next().is_some() {
        return Err(AuthError::InvalidArgument(
            "Multiple Authorization headers are not allowed".to_owned(),
        ));
    }

    match (auth, presigned) {
        (Some(_), true) => Err(AuthError::InvalidArgument(
            "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, \
             Signature query string parameter or the Authorization header should be specified"
                .to_owned(),
        )),
        (Some(auth), false) => {
            let auth = auth.to_str().map_err(|_| {
                AuthError::AuthorizationHeaderMalformed("the header is not valid ASCII.".to_owned())
            })?;
            verify_header(parts, auth, &pairs, lookup, now).map(Some)
        }
        (None, true) => verify_presigned(parts, &pairs, lookup, now).map(Some),
        (None, false) => {
            if has_key(b"AWSAccessKeyId") && has_key(b"Signature") {
                Err(AuthError::InvalidRequest(UNSUPPORTED_MECHANISM.to_owned()))
            } else {
                Ok(None)
            }
        }
    }
}

/// `AK/YYYYMMDD/region/service/aws4_request`.
struct Credential<'a> {
    /// The whole value.
    text: &'a str,
    access_key: &'a str,
    date: &'a str,
    region: &'a str,
    service: &'a str,
}

impl<'a> Credential<'a> {
    fn parse(value: &'a str) -> Option<Self> {
        let mut it = split_byte(value, b'/');
        let access_key = it.next()?;
        let date = it.next()?;
        let region = it.next()?;
        let service = it.next()?;
        let terminator = it.next()?;
        if it.next().is_some()
            || terminator != "aws4_request"
            || access_key.is_empty()
            || region.is_empty()
            || service.is_empty()
            || date.len() != 8
            || !date.bytes().all(|b| b.is_ascii_digit())
        {
            return None;
        }
        Some(Self {
            text: value,
            access_key,
            date,
            region,
            service,
        })
    }

    /// `YYYYMMDD/region/service/aws4_request`, in pieces.
    fn scope_parts(&self) -> [&'a str; 6] {
        [
            self.date,
            "/",
            self.region,
            "/",
            self.service,
            "/aws4_request",
        ]
    }

    fn scope(&self) -> String {
        self.scope_parts().concat()
    }
}

/// The three components of an `Authorization: AWS4-HMAC-SHA256 ...` header.
struct AuthorizationHeader<'a> {
    credential: Credential<'a>,
    signed_headers: &'a str,
    signature: &'a str,
}

fn parse_authorization(value: &str) -> Result<AuthorizationHeader<'_>, AuthError> {
    // A header value is visible ASCII, spaces and tabs: its whitespace is ASCII whitespace.
    let value = value.trim_ascii();
    let (algorithm, rest) = match value.bytes().position(|b| b == b' ' || b == b'\t') {
        Some(i) => (&value[..i], &value[i + 1..]),
        None => (value, ""),
    };
    if algorithm == "AWS" || algorithm == "AWS4-ECDSA-P256-SHA256" {
        return Err(AuthError::InvalidRequest(UNSUPPORTED_MECHANISM.to_owned()));
    }
    if algorithm != ALGORITHM {
        return Err(AuthError::InvalidArgument(
            "Unsupported Authorization Type".to_owned(),
        ));
    }
    let (mut credential, mut signed_headers, mut signature) = (None, None, None);
    for component in split_byte(rest, b',') {
        let component = component.trim_ascii();
        if component.is_empty() {
            continue;
        }
        let slot = match split_once_byte(component, b'=') {
            Some(("Credential", v)) => Some((&mut credential, v)),
            Some(("SignedHeaders", v)) => Some((&mut signed_headers, v)),
            Some(("Signature", v)) => Some((&mut signature, v)),
            _ => None,
        };
        match slot {
            Some((slot, v)) if slot.is_none() => *slot = Some(v.trim_ascii()),
            _ => {
                return Err(AuthError::AuthorizationHeaderMalformed(format!(
                    "the authorization component \"{component}\" is malformed."
                )));
            }
        }
    }
    let (Some(credential), Some(signed_headers), Some(signature)) =
        (credential, signed_headers, signature)
    else {
        return Err(AuthError::AuthorizationHeaderMalformed(
            "the authorization header requires three components: Credential, SignedHeaders, \
             and Signature."
                .to_owned(),
        ));
    };
    let credential = Credential::parse(credential)
        .ok_or_else(|| AuthError::AuthorizationHeaderMalformed(MALFORMED_CREDENTIAL.to_owned()))?;
    if !valid_signed_headers(signed_headers) {
        return Err(AuthError::AuthorizationHeaderMalformed(format!(
            "the authorization component \"SignedHeaders={signed_headers}\" is malformed."
        )));
    }
    Ok(AuthorizationHeader {
        credential,
        signed_headers,
        signature,
    })
}

fn valid_signed_headers(list: &str) -> bool {
    !list.is_empty() && split_byte(list, b';').all(valid_header_name)
}

/// `s` split at each `sep` (an ASCII byte), as `str::split` does: a byte loop, cheaper than
/// the char searcher's on these short strings.
fn split_byte(s: &str, sep: u8) -> impl Iterator<Item = &str> {
    let mut rest = Some(s);
    std::iter::from_fn(move || {
        let r = rest?;
        match r.bytes().position(|b| b == sep) {
            Some(i) => {
                rest = Some(&r[i + 1..]);
                Some(&r[..i])
            }
            None => {
                rest = None;
                Some(r)
            }
        }
    })
}

/// As `str::split_once` with an ASCII byte.
fn split_once_byte(s: &str, sep: u8) -> Option<(&str, &str)> {
    let i = s.bytes().position(|b| b == sep)?;
    Some((&s[..i], &s[i + 1..]))
}

/// Whether `name` is a header name [`HeaderName::from_bytes`] accepts (a token of RFC 9110,
/// at most 65,535 bytes), without making one: that allocates for every name it does not know.
fn valid_header_name(name: &str) -> bool {
    const TOKEN: [bool; 256] = {
        let mut t = [false; 256];
        let mut b = 0;
        while b < 256 {
            let c = b as u8;
            t[b] = c.is_ascii_alphanumeric() || matches!(c, b'!' | b'#'..=b'\'' | b'*' | b'+');
            t[b] |= matches!(c, b'-' | b'.' | b'^' | b'_' | b'`' | b'|' | b'~');
            b += 1;
        }
        t
    };
    !name.is_empty() && name.len() < 1 << 16 && name.bytes().all(|b| TOKEN[usize::from(b)])
}

fn verify_header(
    parts: &Parts,
    auth: &str,
    pairs: &[(&str, &str)],
    lookup: &dyn SecretLookup,
    now: SystemTime,
) -> Result<Verified, AuthError> {
    let header = parse_authorization(auth)?;
    let content_sha256 = match parts.headers.get(X_AMZ_CONTENT_SHA256) {
        None => {
            return Err(AuthError::InvalidRequest(
                "Missing required header for this request: x-amz-content-sha256".to_owned(),
            ));
        }
        Some(v) => v
            .to_str()
            .map(str::trim)
            .map_err(|_| AuthError::InvalidArgument(BAD_CONTENT_SHA256.to_owned()))?,
    };
    let payload = PayloadMode::parse(content_sha256)
        .ok_or_else(|| AuthError::InvalidArgument(BAD_CONTENT_SHA256.to_owned()))?;

    let (amz_date, request_time) = header_date(&parts.headers)?;
    let credential = &header.credential;
    if amz_date[..8] != *credential.date {
        return Err(AuthError::AuthorizationHeaderMalformed(
            "Invalid credential date. Date is not the same as X-Amz-Date.".to_owned(),
        ));
    }
    let mut signed = None;
    lookup.with_secret(credential.access_key, &mut |secret| {
        signed = Some(signer(
            secret,
            credential.date,
            credential.region,
            credential.service,
        ));
    });
    let (key, mac) =
        signed.ok_or_else(|| AuthError::InvalidAccessKeyId(credential.access_key.to_owned()))?;
    if too_far_apart(request_time, now) {
        return Err(AuthError::RequestTimeTooSkewed {
            request_time: amz_date.into_owned(),
            server_time: format_amz_date(now),
        });
    }
    check_signature(&SignatureCheck {
        parts,
        pairs,
        presigned: false,
        signed_headers: header.signed_headers,
        payload_hash: content_sha256,
        amz_date: &amz_date,
        credential,
        mac,
        provided: header.signature,
    })?;

    let chunk_signer = payload.is_signed_streaming().then(|| {
        ChunkSigner::new(
            key,
            amz_date.into_owned(),
            credential.scope(),
            header.signature,
        )
    });
    Ok(Verified {
        credential: credential.text.to_owned(),
        session_token: header_string(&parts.headers, X_AMZ_SECURITY_TOKEN),
        presigned: false,
        payload,
        chunk_signer,
    })
}

fn verify_presigned(
    parts: &Parts,
    pairs: &[(&str, &str)],
    lookup: &dyn SecretLookup,
    now: SystemTime,
) -> Result<Verified, AuthError> {
    let get = |name: &[u8]| {
        pairs
            .iter()
            .find(|(k, _)| decode(k, false) == name)
            .map(|(_, v)| String::from_utf8_lossy(&decode(v, false)).into_owned())
    };
    let query_error = |m: &str| AuthError::AuthorizationQueryParametersError(m.to_owned());

    let (
        Some(algorithm),
        Some(credential),
        Some(date),
        Some(expires),
        Some(signed_headers),
        Some(signature),
    ) = (
        get(Q_ALGORITHM),
        get(Q_CREDENTIAL),
        get(Q_DATE),
        get(Q_EXPIRES),
        get(Q_SIGNED_HEADERS),
        get(Q_SIGNATURE),
    )
    else {
        return Err(query_error(
            "Query-string authentication version 4 requires the X-Amz-Algorithm, \
             X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and \
             X-Amz-Expires parameters.",
        ));
    };
    if algorithm != ALGORITHM {
        return Err(query_error(
            "X-Amz-Algorithm only supports \"AWS4-HMAC-SHA256\"",
        ));
    }
    let credential = Credential::parse(&credential).ok_or_else(|| {
        query_error(&format!(
            "Error parsing the X-Amz-Credential parameter; {MALFORMED_CREDENTIAL}"
        ))
    })?;
    let request_time = parse_amz_date(&date).ok_or_else(|| {
        query_error("X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\"")
    })?;
    if date[..8] != *credential.date {
        return Err(query_error(
            "Invalid credential date. Date is not the same as X-Amz-Date.",
        ));
    }
    if expires.is_empty() || !expires.bytes().all(|b| b.is_ascii_digit()) {
        return Err(query_error("X-Amz-Expires should be a number"));
    }
    let expires = expires.parse::<u64>().unwrap_or(u64::MAX);
    if expires > MAX_PRESIGNED_EXPIRES {
        return Err(query_error(
            "X-Amz-Expires must be less than a week (in seconds) that is; 604800",
        ));
    }
    if !valid_signed_headers(&signed_headers) {
        return Err(query_error(&format!(
            "X-Amz-SignedHeaders \"{signed_headers}\" is malformed."
        )));
    }

    let secret = lookup
        .secret_for(credential.access_key)
        .ok_or_else(|| AuthError::InvalidAccessKeyId(credential.access_key.to_owned()))?;
    if request_time
        .duration_since(now)
        .is_ok_and(|ahead| ahead > MAX_CLOCK_SKEW)
    {
        return Err(AuthError::RequestTimeTooSkewed {
            request_time: date,
            server_time: format_amz_date(now),
        });
    }
    let expired = request_time
        .checked_add(Duration::from_secs(expires))
        .is_none_or(|end| end < now);
    if expired {
        return Err(AuthError::AccessDenied("Request has expired".to_owned()));
    }

    let query_sha256 = get(Q_CONTENT_SHA256);
    let payload_hash = query_sha256.as_deref().unwrap_or(UNSIGNED_PAYLOAD);
    // The signature only covers `payload_hash`; a hash or unsigned-trailer
    // framing announced by header is still honoured for the body.
    let announced = match &query_sha256 {
        Some(v) => Some(v.clone()),
        None => header_string(&parts.headers, X_AMZ_CONTENT_SHA256),
    };
    let payload = match announced {
        None => PayloadMode::Unsigned,
        Some(v) => match PayloadMode::parse(v.trim()) {
            Some(mode) if !mode.is_signed_streaming() => mode,
            _ => return Err(AuthError::InvalidArgument(BAD_CONTENT_SHA256.to_owned())),
        },
    };

    let (_, mac) = signer(
        &secret,
        credential.date,
        credential.region,
        credential.service,
    );
    check_signature(&SignatureCheck {
        parts,
        pairs,
        presigned: true,
        signed_headers: &signed_headers,
        payload_hash,
        amz_date: &date,
        credential: &credential,
        mac,
        provided: &signature,
    })?;

    Ok(Verified {
        credential: credential.text.to_owned(),
        session_token: get(Q_SECURITY_TOKEN)
            .or_else(|| header_string(&parts.headers, X_AMZ_SECURITY_TOKEN)),
        presigned: true,
        payload,
        chunk_signer: None,
    })
}

/// Inputs for rebuilding the canonical request and comparing signatures.
struct SignatureCheck<'a> {
    parts: &'a Parts,
    pairs: &'a [(&'a str, &'a str)],
    presigned: bool,
    signed_headers: &'a str,
    payload_hash: &'a str,
    amz_date: &'a str,
    credential: &'a Credential<'a>,
    /// HMAC-SHA256 keyed with the signing key.
    mac: HmacSha256,
    provided: &'a str,
}

/// Rebuilds the canonical request and compares the signatures: the S3-exact form first, then
/// the lenient ones (see the module's documentation).
///
/// One buffer holds the canonical request, then the string to sign, each hashed in one go;
/// they are written out as strings only for the error of a signature that matched no form.
fn check_signature(c: &SignatureCheck<'_>) -> Result<(), AuthError> {
    let raw_path = match c.parts.uri.path() {
        "" => "/",
        p => p,
    };
    let canonical_path = canonical_uri(raw_path);
    let lenient_path = (raw_path != canonical_path).then_some(raw_path);
    let query = canonical_query(c.pairs, c.presigned, false);
    let lenient_query = c
        .pairs
        .iter()
        .any(|(k, v)| k.contains('+') || v.contains('+'))
        .then(|| canonical_query(c.pairs, c.presigned, true));

    // Room for a typical request (grown if need be), within malloc's thread cache (1,032 bytes).
    let mut buf = Vec::with_capacity(raw_path.len() + query.len() + 640);
    let paths = std::iter::once(&*canonical_path).chain(lenient_path);
    for (lenient_path, path) in paths.enumerate() {
        let queries = std::iter::once(query.as_str()).chain(lenient_query.as_deref());
        for (plus_as_space, query) in queries.enumerate() {
            // The canonical request, its headers written in place (the parts of
            // `canonical_request_parts`).
            buf.clear();
            for part in [c.parts.method.as_str(), "\n", path, "\n", query, "\n"] {
                buf.extend_from_slice(part.as_bytes());
            }
            canonical_headers_into(&mut buf, c.parts, c.signed_headers);
            for part in ["\n", c.signed_headers, "\n", c.payload_hash] {
                buf.extend_from_slice(part.as_bytes());
            }
            let creq_hash = hex32(&Sha256::digest(&buf).into());
            let creq_hash = std::str::from_utf8(&creq_hash).unwrap_or_default();
            buf.clear();
            for part in string_to_sign_parts(c.amz_date, c.credential, creq_hash) {
                buf.extend_from_slice(part.as_bytes());
            }
            let mut mac = c.mac.clone();
            mac.update(&buf);
            let signature = hex32(&mac.finalize().into_bytes().into());
            if ct_eq(&signature, c.provided.as_bytes()) {
                if lenient_path + plus_as_space > 0 {
                    // Accepted where the canonical form S3 documents did not match: say so to
                    // whoever debugs a client against the mock.
                    tracing::debug!(
                        raw_path = lenient_path > 0,
                        plus_as_space = plus_as_space > 0,
                        "SigV4 signature matched only a lenient canonical request"
                    );
                }
                return Ok(());
            }
        }
    }
    // What S3 reports: the S3-exact canonical request and string to sign.
    let headers = canonical_headers(c.parts, c.signed_headers);
    let creq = canonical_request_parts(
        c.parts.method.as_str(),
        &canonical_path,
        &query,
        &headers,
        c.signed_headers,
        c.payload_hash,
    )
    .concat();
    let creq_hash = sha256_hex(&creq);
    let sts = string_to_sign_parts(c.amz_date, c.credential, &creq_hash).concat();
    Err(AuthError::SignatureDoesNotMatch(Box::new(
        SignatureMismatch {
            access_key: c.credential.access_key.to_owned(),
            signature_provided: c.provided.to_owned(),
            string_to_sign: sts,
            canonical_request: String::from_utf8_lossy(&creq).into_owned(),
        },
    )))
}

/// The canonical request, in pieces.
fn canonical_request_parts<'a>(
    method: &'a str,
    path: &'a str,
    query: &'a str,
    headers: &'a [u8],
    signed_headers: &'a str,
    payload_hash: &'a str,
) -> [&'a [u8]; 11] {
    [
        method.as_bytes(),
        b"\n",
        path.as_bytes(),
        b"\n",
        query.as_bytes(),
        b"\n",
        headers,
        b"\n",
        signed_headers.as_bytes(),
        b"\n",
        payload_hash.as_bytes(),
    ]
}

/// The string to sign, in pieces.
fn string_to_sign_parts<'a>(
    amz_date: &'a str,
    credential: &Credential<'a>,
    canonical_request_hash: &'a str,
) -> [&'a str; 12] {
    let [d, s1, r, s2, s, end] = credential.scope_parts();
    [
        ALGORITHM,
        "\n",
        amz_date,
        "\n",
        d,
        s1,
        r,
        s2,
        s,
        end,
        "\n",
        canonical_request_hash,
    ]
}

/// Lowercase hex of a SHA-256 digest.
fn hex32(digest: &[u8; 32]) -> [u8; 64] {
    /// Each byte's two hex digits.
    const PAIRS: [[u8; 2]; 256] = {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut t = [[0; 2]; 256];
        let mut b = 0;
        while b < 256 {
            t[b] = [HEX[b >> 4], HEX[b & 0xF]];
            b += 1;
        }
        t
    };
    let mut out = [0; 64];
    for (pair, b) in out.chunks_exact_mut(2).zip(digest) {
        pair.copy_from_slice(&PAIRS[usize::from(*b)]);
    }
    out
}

/// The path percent-decoded, then every byte but unreserved ones and `/` encoded.
/// A path of unreserved bytes and `/` only is its own canonical form (borrowed).
fn canonical_uri(raw_path: &str) -> std::borrow::Cow<'_, str> {
    let unreserved = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~');
    if raw_path.bytes().all(|b| b == b'/' || unreserved(b)) {
        return std::borrow::Cow::Borrowed(raw_path);
    }
    let decoded: Vec<u8> = percent_decode(raw_path.as_bytes()).collect();
    percent_encode(&decoded, ENCODE_PATH).to_string().into()
}

/// Splits a raw query into raw `(key, value)` pairs; empty pieces are dropped
/// and a key without `=` has an empty value.
fn split_query(query: &str) -> Vec<(&str, &str)> {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| p.split_once('=').unwrap_or((p, "")))
        .collect()
}

fn decode(raw: &str, plus_as_space: bool) -> Vec<u8> {
    if plus_as_space && raw.contains('+') {
        let replaced = raw.replace('+', " ");
        percent_decode(replaced.as_bytes()).collect()
    } else {
        percent_decode(raw.as_bytes()).collect()
    }
}

fn canonical_query(pairs: &[(&str, &str)], presigned: bool, plus_as_space: bool) -> String {
    let mut encoded: Vec<(String, String)> = pairs
        .iter()
        .filter_map(|(k, v)| {
            let key = decode(k, plus_as_space);
            if presigned && key == Q_SIGNATURE {
                return None;
            }
            let value = decode(v, plus_as_space);
            Some((
                percent_encode(&key, ENCODE_QUERY).to_string(),
                percent_encode(&value, ENCODE_QUERY).to_string(),
            ))
        })
        .collect();
    encoded.sort_unstable();
    let mut out = String::new();
    for (i, (k, v)) in encoded.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        out.push_str(k);
        out.push('=');
        out.push_str(v);
    }
    out
}

/// `name:value\n` for each signed header, in the order listed.
fn canonical_headers(parts: &Parts, signed_headers: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(512);
    canonical_headers_into(&mut out, parts, signed_headers);
    out
}

/// [`canonical_headers`], appended to `out`.
fn canonical_headers_into(out: &mut Vec<u8>, parts: &Parts, signed_headers: &str) {
    for name in split_byte(signed_headers, b';') {
        let start = out.len();
        out.extend_from_slice(name.as_bytes());
        out[start..].make_ascii_lowercase();
        out.push(b':');
        let mut any = false;
        // A `&str` name is looked up lowercased.
        for value in parts.headers.get_all(name) {
            if any {
                out.push(b',');
            }
            any = true;
            push_trimmed(out, value.as_bytes());
        }
        if !any && name.eq_ignore_ascii_case(HOST.as_str()) {
            // HTTP/2 carries the host in `:authority`, which ends up in the URI.
            if let Some(authority) = parts.uri.authority() {
                push_trimmed(out, authority.as_str().as_bytes());
            }
        }
        out.push(b'\n');
    }
}

/// Appends `value` without leading/trailing whitespace and with inner runs of
/// spaces collapsed to one.
fn push_trimmed(out: &mut Vec<u8>, value: &[u8]) {
    let is_ws = |b: &u8| *b == b' ' || *b == b'\t';
    let start = value.iter().position(|b| !is_ws(b)).unwrap_or(value.len());
    let end = value
        .iter()
        .rposition(|b| !is_ws(b))
        .map_or(start, |i| i + 1);
    let value = &value[start..end];
    if !value.windows(2).any(|w| w == b"  ") {
        // Nothing to collapse (the usual value): copied whole.
        out.extend_from_slice(value);
        return;
    }
    let mut prev_space = false;
    for &b in value {
        if b == b' ' {
            if prev_space {
                continue;
            }
            prev_space = true;
        } else {
            prev_space = false;
        }
        out.push(b);
    }
}

fn header_string(headers: &HeaderMap, name: HeaderName) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.trim().to_owned())
}

/// The request time of header auth: `x-amz-date`, else `Date` (RFC 1123).
/// Returns it in ISO 8601 basic form (as signed) and as a time.
fn header_date(headers: &HeaderMap) -> Result<(std::borrow::Cow<'_, str>, SystemTime), AuthError> {
    let denied = || AuthError::AccessDenied(NEEDS_DATE.to_owned());
    if let Some(value) = headers.get(X_AMZ_DATE) {
        let value = value.to_str().map_err(|_| denied())?.trim();
        let time = parse_amz_date(value).ok_or_else(denied)?;
        return Ok((value.into(), time));
    }
    let value = headers.get(DATE).ok_or_else(denied)?;
    let value = value.to_str().map_err(|_| denied())?;
    let time = httpdate::parse_http_date(value.trim()).map_err(|_| denied())?;
    Ok((format_amz_date(time).into(), time))
}

/// Parses `YYYYMMDD'T'HHMMSS'Z'`.
pub(crate) fn parse_amz_date(value: &str) -> Option<SystemTime> {
    let b = value.as_bytes();
    let digits = |r: std::ops::Range<usize>| -> Option<u32> {
        let s = b.get(r)?;
        if !s.iter().all(u8::is_ascii_digit) {
            return None;
        }
        s.iter()
            .try_fold(0u32, |acc, d| Some(acc * 10 + u32::from(d - b'0')))
    };
    if b.len() != 16 || b[8] != b'T' || b[15] != b'Z' {
        return None;
    }
    let year = i32::try_from(digits(0..4)?).ok()?;
    let month = time::Month::try_from(u8::try_from(digits(4..6)?).ok()?).ok()?;
    let day = u8::try_from(digits(6..8)?).ok()?;
    let hour = u8::try_from(digits(9..11)?).ok()?;
    let minute = u8::try_from(digits(11..13)?).ok()?;
    let second = u8::try_from(digits(13..15)?).ok()?;
    let date = time::Date::from_calendar_date(year, month, day).ok()?;
    let clock = time::Time::from_hms(hour, minute, second).ok()?;
    Some(
        time::PrimitiveDateTime::new(date, clock)
            .assume_utc()
            .into(),
    )
}

/// Formats a time as `YYYYMMDD'T'HHMMSS'Z'`.
pub(crate) fn format_amz_date(t: SystemTime) -> String {
    let t = time::OffsetDateTime::from(t);
    format!(
        "{:04}{:02}{:02}T{:02}{:02}{:02}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

fn too_far_apart(a: SystemTime, b: SystemTime) -> bool {
    match a.duration_since(b) {
        Ok(d) => d > MAX_CLOCK_SKEW,
        Err(e) => e.duration() > MAX_CLOCK_SKEW,
    }
}

pub(crate) fn hmac_sha256(key: &[u8], data: &[u8]) -> [u8; 32] {
    let mut mac = HmacSha256::new_from_slice(key).expect("HMAC accepts keys of any length");
    mac.update(data);
    mac.finalize().into_bytes().into()
}

pub(crate) fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

/// Compares two byte strings in time independent of where they differ.
pub(crate) fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests;
