//! Decoding of `Content-Encoding: aws-chunked` request bodies.
//!
//! Three framings exist, chosen by `x-amz-content-sha256`:
//!
//! - `STREAMING-AWS4-HMAC-SHA256-PAYLOAD`: `hex(size);chunk-signature=SIG\r\n
//!   DATA\r\n` for each chunk, ending with `0;chunk-signature=SIG\r\n\r\n`.
//! - `STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER`: the same chunks; after
//!   `0;chunk-signature=SIG\r\n` come trailer lines `name:value\r\n`, then
//!   `x-amz-trailer-signature:SIG\r\n` and a final `\r\n`.
//! - `STREAMING-UNSIGNED-PAYLOAD-TRAILER`: `hex(size)\r\nDATA\r\n` chunks,
//!   `0\r\n`, trailer lines and a final `\r\n`.
//!
//! The decoder is liberal where it costs nothing: unknown chunk extensions
//! are ignored, and the final blank line may be missing at the end of the
//! body. Anything truncated, garbled or followed by extra bytes is rejected,
//! and it never panics.

use std::fmt;

use bytes::Bytes;
use http::{HeaderMap, StatusCode};

use super::sigv4::{EMPTY_SHA256, PayloadMode, ct_eq, hmac_sha256, sha256_hex};

const CHUNK_SIGNATURE: &str = "chunk-signature";
const TRAILER_SIGNATURE: &str = "x-amz-trailer-signature";
const X_AMZ_DECODED_CONTENT_LENGTH: &str = "x-amz-decoded-content-length";
const X_AMZ_TRAILER: &str = "x-amz-trailer";

/// Computes the chained chunk signatures of a signed streaming upload.
///
/// Each signature covers the previous one, starting from the seed: the
/// signature of the request head.
#[derive(Clone)]
pub struct ChunkSigner {
    key: [u8; 32],
    amz_date: String,
    scope: String,
    previous: String,
}

impl fmt::Debug for ChunkSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChunkSigner")
            .field("key", &"** redacted **")
            .field("amz_date", &self.amz_date)
            .field("scope", &self.scope)
            .field("previous", &self.previous)
            .finish()
    }
}

impl ChunkSigner {
    /// A signer for a request signed with `signing_key` at `amz_date`
    /// (ISO 8601 basic, e.g. `20130524T000000Z`) for `scope`
    /// (`YYYYMMDD/region/service/aws4_request`), whose head signature is
    /// `seed_signature`.
    pub fn new(
        signing_key: [u8; 32],
        amz_date: impl Into<String>,
        scope: impl Into<String>,
        seed_signature: impl Into<String>,
    ) -> Self {
        Self {
            key: signing_key,
            amz_date: amz_date.into(),
            scope: scope.into(),
            previous: seed_signature.into(),
        }
    }

    /// The signature the next chunk (or trailer) is chained to.
    pub fn previous_signature(&self) -> &str {
        &self.previous
    }

    /// The hex signature of the next chunk, holding `chunk_data`; advances the chain.
    pub fn next_chunk(&mut self, chunk_data: &[u8]) -> String {
        let hash = format!("{EMPTY_SHA256}\n{}", sha256_hex(chunk_data));
        let signature = self.sign("AWS4-HMAC-SHA256-PAYLOAD", &hash);
        self.previous.clone_from(&signature);
        signature
    }

    /// The hex signature of the trailer section whose canonical form (each
    /// trailer as `name:value\n`) is `canonical_trailer`; advances the chain.
    pub fn trailer(&mut self, canonical_trailer: &[u8]) -> String {
        let signature = self.trailer_signature(canonical_trailer);
        self.previous.clone_from(&signature);
        signature
    }

    fn trailer_signature(&self, canonical_trailer: &[u8]) -> String {
        self.sign("AWS4-HMAC-SHA256-TRAILER", &sha256_hex(canonical_trailer))
    }

    fn sign(&self, algorithm: &str, hash: &str) -> String {
        let string_to_sign = format!(
            "{algorithm}\n{}\n{}\n{}\n{hash}",
            self.amz_date, self.scope, self.previous
        );
        hex::encode(hmac_sha256(&self.key, string_to_sign.as_bytes()))
    }
}

/// The decoded payload and any trailing headers.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Decoded {
    /// The object bytes, framing removed.
    pub data: Bytes,
    /// Trailing headers in the order received, names lowercased, values
    /// trimmed; `x-amz-trailer-signature` is not included.
    pub trailers: Vec<(String, String)>,
}

impl Decoded {
    /// The value of the trailer `name` (case-insensitive), if sent.
    pub fn trailer(&self, name: &str) -> Option<&str> {
        self.trailers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Why an `aws-chunked` body was rejected.
///
/// S3 answers any malformed or truncated framing with 400 IncompleteBody, "The request body
/// terminated unexpectedly" (its recorded answers to a wrong chunk size, missing CRLFs, a
/// cut body and a missing final CRLF: versity/versitygw#1666), and a decoded size that
/// differs from `x-amz-decoded-content-length` with 400 IncompleteBody naming both sizes
/// (versity/versitygw#1684).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ChunkedError {
    /// The framing is invalid (400 `IncompleteBody`); says what was wrong.
    Malformed(String),
    /// The body ends before its framing does (400 `IncompleteBody`).
    Truncated,
    /// A chunk or trailer signature did not match (403 `SignatureDoesNotMatch`).
    SignatureDoesNotMatch,
    /// The decoded size differs from `x-amz-decoded-content-length` (400 `IncompleteBody`).
    IncompleteBody {
        /// The size announced by `x-amz-decoded-content-length`.
        expected: u64,
        /// The size actually decoded.
        actual: u64,
    },
    /// The payload mode is not a streaming one, or a signed mode came
    /// without a [`ChunkSigner`] (400 `InvalidRequest`).
    Unsupported(String),
}

impl ChunkedError {
    /// The S3 error code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Unsupported(_) => "InvalidRequest",
            Self::Malformed(_) | Self::Truncated | Self::IncompleteBody { .. } => "IncompleteBody",
            Self::SignatureDoesNotMatch => "SignatureDoesNotMatch",
        }
    }

    /// The HTTP status S3 answers with.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::SignatureDoesNotMatch => StatusCode::FORBIDDEN,
            _ => StatusCode::BAD_REQUEST,
        }
    }

    /// The human-readable message, as S3 words it.
    pub fn message(&self) -> String {
        match self {
            Self::Unsupported(m) => m.clone(),
            Self::Malformed(_) | Self::Truncated => {
                "The request body terminated unexpectedly".to_owned()
            }
            Self::SignatureDoesNotMatch => "The request signature we calculated does not match \
                 the signature you provided. Check your key and signing method."
                .to_owned(),
            // S3 names Content-Length here even for the decoded length (versitygw#1684).
            Self::IncompleteBody { .. } => "You did not provide the number of bytes specified \
                 by the Content-Length HTTP header"
                .to_owned(),
        }
    }

    /// Extra elements S3 puts in the error document, as `(element, text)`.
    pub fn extra_fields(&self) -> Vec<(&'static str, String)> {
        match self {
            Self::IncompleteBody { expected, actual } => vec![
                ("NumberBytesExpected", expected.to_string()),
                ("NumberBytesProvided", actual.to_string()),
            ],
            _ => Vec::new(),
        }
    }
}

impl fmt::Display for ChunkedError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code(), self.message())?;
        match self {
            Self::IncompleteBody { expected, actual } => {
                write!(f, " (expected {expected}, got {actual})")
            }
            Self::Malformed(what) => write!(f, " ({what})"),
            _ => Ok(()),
        }
    }
}

impl std::error::Error for ChunkedError {}

/// Decodes an `aws-chunked` body held whole in memory.
///
/// `signer` is required for the two signed modes (pass
/// [`Verified::chunk_signer`](super::Verified::chunk_signer)) and ignored
/// otherwise. When `decoded_content_length` is given the decoded size must
/// equal it.
pub fn decode(
    raw: &[u8],
    mode: &PayloadMode,
    signer: Option<ChunkSigner>,
    decoded_content_length: Option<u64>,
) -> Result<Decoded, ChunkedError> {
    let mut signer = match (mode, signer) {
        (PayloadMode::StreamingUnsignedTrailer, _) => None,
        (PayloadMode::StreamingSigned | PayloadMode::StreamingSignedTrailer, Some(s)) => Some(s),
        (PayloadMode::StreamingSigned | PayloadMode::StreamingSignedTrailer, None) => {
            return Err(ChunkedError::Unsupported(
                "a signed aws-chunked body needs the request's chunk signer".to_owned(),
            ));
        }
        (PayloadMode::Unsigned | PayloadMode::Sha256(_), _) => {
            return Err(ChunkedError::Unsupported(
                "aws-chunked bodies need a STREAMING-* x-amz-content-sha256".to_owned(),
            ));
        }
    };

    let mut cur = Cursor { raw, pos: 0 };
    let capacity = decoded_content_length
        .and_then(|n| usize::try_from(n).ok())
        .unwrap_or(raw.len())
        .min(raw.len());
    let mut data = Vec::with_capacity(capacity);

    // Chunks, up to and including the zero-sized one.
    loop {
        let line = cur.line()?;
        let (size, chunk_signature) = parse_chunk_header(line)?;
        let chunk = cur.take(size)?;
        if let Some(signer) = signer.as_mut() {
            let provided = chunk_signature
                .ok_or_else(|| ChunkedError::Malformed("missing chunk-signature".to_owned()))?;
            let expected = signer.next_chunk(chunk);
            if !ct_eq(expected.as_bytes(), provided.as_bytes()) {
                return Err(ChunkedError::SignatureDoesNotMatch);
            }
        }
        if size == 0 {
            break;
        }
        match cur.take(2) {
            Ok(b"\r\n") => {}
            Ok(_) => {
                return Err(ChunkedError::Malformed(
                    "chunk data is not followed by CRLF".to_owned(),
                ));
            }
            Err(e) => return Err(e),
        }
        data.extend_from_slice(chunk);
    }

    // Trailer section: `name:value` lines up to a blank line (or the end).
    let mut trailers = Vec::new();
    let mut trailer_signature = None;
    while !cur.at_end() {
        let line = cur.line()?;
        if line.is_empty() {
            if !cur.at_end() {
                return Err(ChunkedError::Malformed(
                    "unexpected data after the end of the body".to_owned(),
                ));
            }
            break;
        }
        if trailer_signature.is_some() {
            return Err(ChunkedError::Malformed(
                "x-amz-trailer-signature must be the last trailer".to_owned(),
            ));
        }
        let (name, value) = parse_trailer_line(line)?;
        if name == TRAILER_SIGNATURE {
            trailer_signature = Some(value);
        } else {
            trailers.push((name, value));
        }
    }

    match mode {
        PayloadMode::StreamingSigned if !trailers.is_empty() || trailer_signature.is_some() => {
            return Err(ChunkedError::Malformed(
                "trailers are not allowed with STREAMING-AWS4-HMAC-SHA256-PAYLOAD".to_owned(),
            ));
        }
        PayloadMode::StreamingSignedTrailer => {
            if let Some(signer) = signer.as_mut() {
                verify_trailer_signature(signer, &trailers, trailer_signature.as_deref())?;
            }
        }
        _ => {}
    }

    let actual = data.len() as u64;
    if let Some(expected) = decoded_content_length
        && expected != actual
    {
        return Err(ChunkedError::IncompleteBody { expected, actual });
    }
    Ok(Decoded {
        data: Bytes::from(data),
        trailers,
    })
}

/// As [`decode`], reading `x-amz-decoded-content-length` from `headers` and
/// requiring every trailer that `x-amz-trailer` announces to be present.
pub fn decode_with_headers(
    raw: &[u8],
    headers: &HeaderMap,
    mode: &PayloadMode,
    signer: Option<ChunkSigner>,
) -> Result<Decoded, ChunkedError> {
    let decoded_content_length = decoded_content_length(headers)?;
    let decoded = decode(raw, mode, signer, decoded_content_length)?;
    for value in headers.get_all(X_AMZ_TRAILER) {
        let value = value
            .to_str()
            .map_err(|_| ChunkedError::Malformed("x-amz-trailer is not valid ASCII".to_owned()))?;
        for name in value.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            if decoded.trailer(name).is_none() {
                return Err(ChunkedError::Malformed(format!(
                    "the trailer {name} announced by x-amz-trailer is missing"
                )));
            }
        }
    }
    Ok(decoded)
}

/// Parses `x-amz-decoded-content-length`, if present.
pub fn decoded_content_length(headers: &HeaderMap) -> Result<Option<u64>, ChunkedError> {
    let Some(value) = headers.get(X_AMZ_DECODED_CONTENT_LENGTH) else {
        return Ok(None);
    };
    value
        .to_str()
        .ok()
        .map(str::trim)
        .filter(|v| !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|v| v.parse().ok())
        .map(Some)
        .ok_or_else(|| {
            ChunkedError::Malformed("x-amz-decoded-content-length is not a number".to_owned())
        })
}

fn verify_trailer_signature(
    signer: &mut ChunkSigner,
    trailers: &[(String, String)],
    provided: Option<&str>,
) -> Result<(), ChunkedError> {
    let Some(provided) = provided else {
        if trailers.is_empty() {
            return Ok(());
        }
        return Err(ChunkedError::Malformed(
            "signed trailers need x-amz-trailer-signature".to_owned(),
        ));
    };
    let canonical = |list: &[&(String, String)]| {
        let mut out = Vec::new();
        for (name, value) in list {
            out.extend_from_slice(name.as_bytes());
            out.push(b':');
            out.extend_from_slice(value.as_bytes());
            out.push(b'\n');
        }
        out
    };
    let received: Vec<&(String, String)> = trailers.iter().collect();
    let mut sorted = received.clone();
    sorted.sort_by(|a, b| a.0.cmp(&b.0));
    let mut candidates = vec![canonical(&received)];
    if sorted != received {
        // The AWS SDKs sign the trailers sorted by name.
        candidates.push(canonical(&sorted));
    }
    for candidate in candidates {
        let expected = signer.trailer_signature(&candidate);
        if ct_eq(expected.as_bytes(), provided.as_bytes()) {
            signer.trailer(&candidate);
            return Ok(());
        }
    }
    Err(ChunkedError::SignatureDoesNotMatch)
}

/// Parses `hex-size[;ext[=value]]...`; returns the size and the
/// `chunk-signature` extension, if any.
fn parse_chunk_header(line: &[u8]) -> Result<(usize, Option<&str>), ChunkedError> {
    let line = std::str::from_utf8(line)
        .map_err(|_| ChunkedError::Malformed("chunk header is not valid ASCII".to_owned()))?;
    let mut fields = line.split(';');
    let size = fields.next().unwrap_or("").trim_matches([' ', '\t']);
    if size.is_empty() || !size.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(ChunkedError::Malformed(format!(
            "chunk size {size:?} is not hexadecimal"
        )));
    }
    let size = u64::from_str_radix(size, 16)
        .ok()
        .and_then(|n| usize::try_from(n).ok())
        .ok_or_else(|| ChunkedError::Malformed("chunk size is too large".to_owned()))?;
    let mut signature = None;
    for field in fields {
        let (name, value) = field.split_once('=').unwrap_or((field, ""));
        if name.trim() == CHUNK_SIGNATURE {
            signature = Some(value.trim());
        }
    }
    Ok((size, signature))
}

fn parse_trailer_line(line: &[u8]) -> Result<(String, String), ChunkedError> {
    let line = std::str::from_utf8(line)
        .map_err(|_| ChunkedError::Malformed("trailer is not valid UTF-8".to_owned()))?;
    let (name, value) = line
        .split_once(':')
        .ok_or_else(|| ChunkedError::Malformed(format!("trailer {line:?} has no ':'")))?;
    let name = name.trim();
    if name.is_empty() || http::HeaderName::from_bytes(name.as_bytes()).is_err() {
        return Err(ChunkedError::Malformed(format!(
            "trailer name {name:?} is invalid"
        )));
    }
    Ok((name.to_ascii_lowercase(), value.trim().to_owned()))
}

/// A read position in the raw body.
struct Cursor<'a> {
    raw: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn at_end(&self) -> bool {
        self.pos >= self.raw.len()
    }

    /// The bytes up to the next CRLF, which is consumed.
    fn line(&mut self) -> Result<&'a [u8], ChunkedError> {
        let rest = self.raw.get(self.pos..).unwrap_or_default();
        let end = rest
            .windows(2)
            .position(|w| w == b"\r\n")
            .ok_or(ChunkedError::Truncated)?;
        self.pos += end + 2;
        Ok(&rest[..end])
    }

    /// The next `n` bytes.
    fn take(&mut self, n: usize) -> Result<&'a [u8], ChunkedError> {
        let rest = self.raw.get(self.pos..).unwrap_or_default();
        let out = rest.get(..n).ok_or(ChunkedError::Truncated)?;
        self.pos += n;
        Ok(out)
    }
}

#[cfg(test)]
mod tests;
