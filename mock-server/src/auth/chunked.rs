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
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ChunkedError {
    /// The framing is invalid (400 `InvalidRequest`).
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
            Self::Malformed(_) | Self::Unsupported(_) => "InvalidRequest",
            Self::Truncated | Self::IncompleteBody { .. } => "IncompleteBody",
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

    /// The human-readable message.
    pub fn message(&self) -> String {
        match self {
            Self::Malformed(m) => format!("Invalid aws-chunked body: {m}"),
            Self::Unsupported(m) => m.clone(),
            Self::Truncated => "The request body terminated unexpectedly".to_owned(),
            Self::SignatureDoesNotMatch => "The request signature we calculated does not match \
                 the signature you provided. Check your key and signing method."
                .to_owned(),
            Self::IncompleteBody { .. } => "You did not provide the number of bytes specified \
                 by the x-amz-decoded-content-length HTTP header"
                .to_owned(),
        }
    }
}

impl fmt::Display for ChunkedError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code(), self.message())?;
        if let Self::IncompleteBody { expected, actual } = self {
            write!(f, " (expected {expected}, got {actual})")?;
        }
        Ok(())
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
mod tests {
    use super::*;
    use crate::auth::sigv4::signing_key;
    use aws_credential_types::Credentials;
    use aws_sigv4::http_request::SigningSettings;
    use aws_sigv4::sign::v4;
    use aws_smithy_runtime_api::client::identity::Identity;
    use aws_smithy_runtime_api::http::Headers;
    use std::time::{Duration, SystemTime, UNIX_EPOCH};

    const SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
    const SEED: &str = "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9";
    const AMZ_DATE: &str = "20130524T000000Z";
    const SCOPE: &str = "20130524/us-east-1/s3/aws4_request";

    fn time() -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(1_369_353_600)
    }

    fn signer() -> ChunkSigner {
        ChunkSigner::new(
            signing_key(SECRET, "20130524", "us-east-1", "s3"),
            AMZ_DATE,
            SCOPE,
            SEED,
        )
    }

    fn identity() -> Identity {
        Credentials::new("AKIAIOSFODNN7EXAMPLE", SECRET, None, None, "test").into()
    }

    /// Frames `chunks` as a signed body, signing with aws-sigv4 (not with
    /// [`ChunkSigner`]), optionally with signed trailers.
    fn signed_body(chunks: &[&[u8]], trailers: Option<&[(&str, &str)]>) -> Vec<u8> {
        let identity = identity();
        let params = v4::SigningParams::<SigningSettings>::builder()
            .identity(&identity)
            .region("us-east-1")
            .name("s3")
            .time(time())
            .settings(SigningSettings::default())
            .build()
            .unwrap();
        let mut previous = SEED.to_owned();
        let mut body = Vec::new();
        for chunk in chunks.iter().chain([&&b""[..]]) {
            let bytes = Bytes::copy_from_slice(chunk);
            let signature = v4::sign_chunk(&bytes, &previous, &params)
                .unwrap()
                .signature()
                .to_owned();
            body.extend_from_slice(
                format!("{:X};chunk-signature={signature}\r\n", chunk.len()).as_bytes(),
            );
            if !chunk.is_empty() {
                body.extend_from_slice(chunk);
                body.extend_from_slice(b"\r\n");
            }
            previous = signature;
        }
        if let Some(trailers) = trailers {
            let mut headers = Headers::new();
            for (k, v) in trailers {
                headers.insert(k.to_string(), v.to_string());
                body.extend_from_slice(format!("{k}:{v}\r\n").as_bytes());
            }
            let signature = v4::sign_trailer(&headers, &previous, &params)
                .unwrap()
                .signature()
                .to_owned();
            body.extend_from_slice(format!("x-amz-trailer-signature:{signature}\r\n").as_bytes());
        }
        body.extend_from_slice(b"\r\n");
        body
    }

    fn unsigned_body(chunks: &[&[u8]], trailers: &[(&str, &str)]) -> Vec<u8> {
        let mut body = Vec::new();
        for chunk in chunks {
            body.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
            body.extend_from_slice(chunk);
            body.extend_from_slice(b"\r\n");
        }
        body.extend_from_slice(b"0\r\n");
        for (k, v) in trailers {
            body.extend_from_slice(format!("{k}:{v}\r\n").as_bytes());
        }
        body.extend_from_slice(b"\r\n");
        body
    }

    fn unsigned(raw: &[u8]) -> Result<Decoded, ChunkedError> {
        decode(raw, &PayloadMode::StreamingUnsignedTrailer, None, None)
    }

    fn malformed(r: Result<Decoded, ChunkedError>) -> bool {
        matches!(r, Err(ChunkedError::Malformed(_)))
    }

    #[test]
    fn chunk_signer_known_answer() {
        // From the S3 documentation's chunked-upload example.
        let mut s = signer();
        assert_eq!(
            s.next_chunk(&[b'a'; 65536]),
            "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648"
        );
        assert_eq!(
            s.next_chunk(&[b'a'; 1024]),
            "0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497"
        );
        assert_eq!(
            s.next_chunk(b""),
            "b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9"
        );
        assert!(!format!("{s:?}").contains(&hex::encode(s.key)));
    }

    #[test]
    fn signed_round_trip() {
        let chunks: [&[u8]; 3] = [&[7u8; 9000], b"second chunk", b"!"];
        let body = signed_body(&chunks, None);
        let d = decode(
            &body,
            &PayloadMode::StreamingSigned,
            Some(signer()),
            Some(9013),
        )
        .unwrap();
        assert_eq!(d.data, chunks.concat());
        assert!(d.trailers.is_empty());

        // Without the final blank line.
        let d = decode(
            &body[..body.len() - 2],
            &PayloadMode::StreamingSigned,
            Some(signer()),
            None,
        )
        .unwrap();
        assert_eq!(d.data.len(), 9013);

        // Wrong seed.
        let other = ChunkSigner::new(
            signing_key(SECRET, "20130524", "us-east-1", "s3"),
            AMZ_DATE,
            SCOPE,
            "0".repeat(64),
        );
        assert_eq!(
            decode(&body, &PayloadMode::StreamingSigned, Some(other), None),
            Err(ChunkedError::SignatureDoesNotMatch)
        );

        // An empty object is just the final chunk.
        let body = signed_body(&[], None);
        let d = decode(
            &body,
            &PayloadMode::StreamingSigned,
            Some(signer()),
            Some(0),
        )
        .unwrap();
        assert!(d.data.is_empty());
    }

    #[test]
    fn signed_tampering() {
        let chunks: [&[u8]; 2] = [b"first chunk data", b"second"];
        let body = signed_body(&chunks, None);
        let run = |b: &[u8]| decode(b, &PayloadMode::StreamingSigned, Some(signer()), None);
        assert!(run(&body).is_ok());

        // A changed data byte.
        let mut t = body.clone();
        let at = t.windows(5).position(|w| w == b"first").unwrap();
        t[at] = b'F';
        assert_eq!(run(&t), Err(ChunkedError::SignatureDoesNotMatch));

        // Chunks swapped (each keeps its own signature line).
        let first_len = body.windows(2).position(|w| w == b"\r\n").unwrap() + 2 + 16 + 2;
        let second_len = body[first_len..]
            .windows(2)
            .position(|w| w == b"\r\n")
            .unwrap()
            + 2
            + 6
            + 2;
        let mut swapped = body[first_len..first_len + second_len].to_vec();
        swapped.extend_from_slice(&body[..first_len]);
        swapped.extend_from_slice(&body[first_len + second_len..]);
        assert_eq!(run(&swapped), Err(ChunkedError::SignatureDoesNotMatch));

        // Last data chunk dropped (its successor's signature no longer chains).
        let mut dropped = body[..first_len].to_vec();
        dropped.extend_from_slice(&body[first_len + second_len..]);
        assert_eq!(run(&dropped), Err(ChunkedError::SignatureDoesNotMatch));

        // A missing chunk-signature.
        let t = b"5\r\nhello\r\n0\r\n\r\n";
        assert!(malformed(run(t)));

        // Trailers are not allowed in this mode.
        let mut t = body[..body.len() - 2].to_vec();
        t.extend_from_slice(b"x-amz-checksum-crc32:AAAAAA==\r\n\r\n");
        assert!(malformed(run(&t)));
    }

    #[test]
    fn signed_trailer_round_trip() {
        let chunks: [&[u8]; 2] = [&[1u8; 8192], b"tail"];
        let trailers = [("x-amz-checksum-crc32c", "sOO8/Q==")];
        let body = signed_body(&chunks, Some(&trailers));
        let mode = PayloadMode::StreamingSignedTrailer;
        let d = decode(&body, &mode, Some(signer()), Some(8196)).unwrap();
        assert_eq!(d.data.len(), 8196);
        assert_eq!(
            d.trailers,
            vec![("x-amz-checksum-crc32c".to_owned(), "sOO8/Q==".to_owned())]
        );
        assert_eq!(d.trailer("X-Amz-Checksum-CRC32C"), Some("sOO8/Q=="));

        // A changed trailer value.
        let t = String::from_utf8_lossy(&body).replace("sOO8/Q==", "sOO8/Q=A");
        assert_eq!(
            decode(t.as_bytes(), &mode, Some(signer()), None),
            Err(ChunkedError::SignatureDoesNotMatch)
        );

        // Trailers without a signature.
        let cut = body
            .windows(TRAILER_SIGNATURE.len())
            .position(|w| w == TRAILER_SIGNATURE.as_bytes())
            .unwrap();
        let mut t = body[..cut].to_vec();
        t.extend_from_slice(b"\r\n");
        assert!(malformed(decode(&t, &mode, Some(signer()), None)));

        // Several trailers: aws-sigv4 signs them sorted by name; sent unsorted.
        let trailers = [
            ("x-amz-checksum-sha256", "abc="),
            ("x-amz-checksum-crc32", "def="),
        ];
        let body = signed_body(&[b"data"], Some(&trailers));
        let d = decode(&body, &mode, Some(signer()), Some(4)).unwrap();
        assert_eq!(d.trailers.len(), 2);
        assert_eq!(d.trailers[0].0, "x-amz-checksum-sha256");

        // No trailers at all is fine.
        let body = signed_body(&[b"data"], None);
        assert!(decode(&body, &mode, Some(signer()), Some(4)).is_ok());
    }

    #[test]
    fn chunk_signer_trailer_advances() {
        let mut s = signer();
        let sig = s.trailer(b"x-amz-checksum-crc32c:sOO8/Q==\n");
        assert_eq!(s.previous_signature(), sig);
        assert_ne!(sig, SEED);
    }

    #[test]
    fn unsigned_trailer_body() {
        // What aws-sdk-s3 sends for PutObject with a CRC32 checksum.
        let raw = b"B\r\nhello world\r\n0\r\nx-amz-checksum-crc32:DUoRhQ==\r\n\r\n";
        let mut headers = HeaderMap::new();
        headers.insert("x-amz-decoded-content-length", "11".parse().unwrap());
        headers.insert("x-amz-trailer", "x-amz-checksum-crc32".parse().unwrap());
        let d = decode_with_headers(raw, &headers, &PayloadMode::StreamingUnsignedTrailer, None)
            .unwrap();
        assert_eq!(&d.data[..], b"hello world");
        assert_eq!(d.trailer("x-amz-checksum-crc32"), Some("DUoRhQ=="));

        // Several chunks, lowercase hex, extensions, no trailer, no final CRLF.
        let body = unsigned_body(&[&[b'x'; 300], b"yz"], &[]);
        let d = unsigned(&body).unwrap();
        assert_eq!(d.data.len(), 302);
        assert!(unsigned(b"2;foo=bar;baz\r\nab\r\n0;x\r\n").is_ok());
        assert!(unsigned(b"02\r\nab\r\n000\r\n\r\n").is_ok());
        assert!(unsigned(b"2 \r\nab\r\n0\r\nName: Value \r\n").is_ok());

        // An announced trailer that is missing.
        let raw = b"B\r\nhello world\r\n0\r\n\r\n";
        assert!(malformed(decode_with_headers(
            raw,
            &headers,
            &PayloadMode::StreamingUnsignedTrailer,
            None
        )));
    }

    #[test]
    fn malformed_framings() {
        let ok = b"5\r\nhello\r\n0\r\n\r\n";
        assert!(unsigned(ok).is_ok());
        for (raw, what) in [
            (&b"zz\r\nhello\r\n0\r\n\r\n"[..], "non-hex size"),
            (b"+5\r\nhello\r\n0\r\n\r\n", "signed size"),
            (b"-5\r\nhello\r\n0\r\n\r\n", "negative size"),
            (b"\r\nhello\r\n0\r\n\r\n", "empty size"),
            (b"0x5\r\nhello\r\n0\r\n\r\n", "0x prefix"),
            (b"5\r\nhelloX\r\n0\r\n\r\n", "data longer than size"),
            (b"5\r\nhello\n0\r\n\r\n", "bare LF after data"),
            (b"5\r\nhello\r\n0\r\n\r\nextra", "garbage after the body"),
            (b"5\r\nhello\r\n0\r\n\r\n\r\n", "extra blank line"),
            (
                b"5\r\nhello\r\n0\r\nno-colon\r\n\r\n",
                "trailer without colon",
            ),
            (b"5\r\nhello\r\n0\r\n:v\r\n\r\n", "trailer without name"),
            (
                b"5\r\nhello\r\n0\r\nbad name:v\r\n\r\n",
                "trailer name with space",
            ),
            (b"11111111111111111\r\n", "size overflows"),
            (b"\xff\r\n", "non-ASCII size"),
        ] {
            assert!(malformed(unsigned(raw)), "{what}");
        }
        for (raw, what) in [
            (&b""[..], "empty body"),
            (b"5\r\nhel", "short data"),
            (b"5\r\nhello", "no CRLF after data"),
            (b"5\r\nhello\r", "half CRLF after data"),
            (b"5\r\nhello\r\n", "no last chunk"),
            (b"5\r\nhello\r\n0", "unterminated last chunk"),
            (
                b"5\r\nhello\r\n0\r\nx-amz-checksum-crc32:AAA",
                "unterminated trailer",
            ),
            (b"5\r\nhello\r\n0\r\n\r", "half final CRLF"),
            (b"ffffffff\r\nab\r\n0\r\n\r\n", "size beyond the body"),
        ] {
            assert_eq!(unsigned(raw), Err(ChunkedError::Truncated), "{what}");
        }
        assert_eq!(
            decode(ok, &PayloadMode::StreamingUnsignedTrailer, None, Some(6)),
            Err(ChunkedError::IncompleteBody {
                expected: 6,
                actual: 5
            })
        );
        assert_eq!(
            decode(ok, &PayloadMode::StreamingUnsignedTrailer, None, Some(4)),
            Err(ChunkedError::IncompleteBody {
                expected: 4,
                actual: 5
            })
        );
        for mode in [PayloadMode::Unsigned, PayloadMode::Sha256("00".repeat(32))] {
            assert!(matches!(
                decode(ok, &mode, None, None),
                Err(ChunkedError::Unsupported(_))
            ));
        }
        assert!(matches!(
            decode(ok, &PayloadMode::StreamingSigned, None, None),
            Err(ChunkedError::Unsupported(_))
        ));
        let mut headers = HeaderMap::new();
        headers.insert("x-amz-decoded-content-length", "five".parse().unwrap());
        assert!(malformed(decode_with_headers(
            ok,
            &headers,
            &PayloadMode::StreamingUnsignedTrailer,
            None
        )));
    }

    #[test]
    fn error_mapping() {
        assert_eq!(ChunkedError::Truncated.code(), "IncompleteBody");
        assert_eq!(ChunkedError::Truncated.status(), StatusCode::BAD_REQUEST);
        assert_eq!(
            ChunkedError::SignatureDoesNotMatch.status(),
            StatusCode::FORBIDDEN
        );
        let e = ChunkedError::IncompleteBody {
            expected: 2,
            actual: 1,
        };
        assert!(e.to_string().contains("expected 2, got 1"));
    }

    /// Every strict prefix of a valid body is rejected (except the one that
    /// only lacks the final blank line), and no corruption panics.
    #[test]
    fn prefixes_and_corruptions_never_panic() {
        let chunks: [&[u8]; 3] = [b"0123456789abcdef", b"x", b"ghijklmnopq"];
        let decoded_len = 28;
        let mut headers = HeaderMap::new();
        headers.insert("x-amz-decoded-content-length", "28".parse().unwrap());
        headers.insert("x-amz-trailer", "x-amz-checksum-crc32".parse().unwrap());
        let trailer = [("x-amz-checksum-crc32", "AAAAAA==")];
        let cases = [
            (PayloadMode::StreamingSigned, signed_body(&chunks, None)),
            (
                PayloadMode::StreamingSignedTrailer,
                signed_body(&chunks, Some(&trailer)),
            ),
            (
                PayloadMode::StreamingUnsignedTrailer,
                unsigned_body(&chunks, &trailer),
            ),
        ];
        for (mode, body) in &cases {
            let run = |raw: &[u8]| {
                let mut headers = headers.clone();
                if *mode == PayloadMode::StreamingSigned {
                    headers.remove("x-amz-trailer");
                }
                decode_with_headers(raw, &headers, mode, Some(signer()))
            };
            let full = run(body).unwrap();
            assert_eq!(full.data.len(), decoded_len);
            for len in 0..body.len() {
                let r = run(&body[..len]);
                if len == body.len() - 2 {
                    assert_eq!(r.as_ref(), Ok(&full), "{mode:?}: without final CRLF");
                } else {
                    assert!(r.is_err(), "{mode:?}: prefix of {len} bytes accepted");
                }
            }
            // Flip, drop or duplicate each byte in turn.
            for i in 0..body.len() {
                let mut flipped = body.clone();
                flipped[i] ^= 0x5a;
                let r = run(&flipped);
                if mode.is_signed_streaming() {
                    assert!(r.is_err(), "{mode:?}: byte {i} flipped, accepted");
                }
                let mut dropped = body.clone();
                dropped.remove(i);
                let _ = run(&dropped);
                let mut doubled = body.clone();
                doubled.insert(i, body[i]);
                let _ = run(&doubled);
            }
        }
        // Pseudo-random noise over the framing alphabet.
        const ALPHABET: &[u8] = b"0123456789abcdefABCDEF;=:\r\n \txz-";
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        for _ in 0..2000 {
            let len = usize::try_from(state % 64).unwrap();
            let noise: Vec<u8> = (0..len)
                .map(|_| {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    ALPHABET[usize::try_from(state).unwrap_or(0) % ALPHABET.len()]
                })
                .collect();
            for (mode, _) in &cases {
                let _ = decode(&noise, mode, Some(signer()), None);
            }
        }
    }
}
