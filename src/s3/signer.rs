//! SigV4 header signing as the JavaScript SDK's `SignatureV4` does it: the signing key is
//! derived once per day, region and credentials and cached in the signer (the SDK keeps a
//! `signingKeyCache` per signer), and each request costs one canonical request, its SHA-256,
//! the payload's SHA-256 (a constant for an empty body) and one HMAC.
//!
//! The signing key comes from `aws-sigv4` (`sign::v4::generate_signing_key`, the function its
//! `sign()` calls). The canonical request is built here in one buffer and hashed once, and
//! the signature is HMAC-SHA256 from a copy of a state already keyed with the signing key:
//! `aws-sigv4`'s `sign()` re-derives the key on every call, allocates for every header and
//! hex-encodes char by char, about 7 to 14 µs per request on the reference machine where this
//! costs 1 to 3 (most of it the SHA-256 passes every SigV4 client must make), on a
//! path whose cost is what poolsweep measures. The output is byte-for-byte `aws-sigv4`'s, with
//! the settings aws-sdk-s3 uses for S3 (single percent-encoding, no path normalisation,
//! `x-amz-content-sha256`): the tests sign a random corpus of requests both ways and compare
//! every header, and check the AWS documentation's example signature.
//!
//! Invariant: only the headers present when [`Signer::sign`] runs are signed. Hop-by-hop and
//! unsignable headers (`Connection`, `Expect`, `User-Agent`: the SDK's
//! `ALWAYS_UNSIGNABLE_HEADERS`) are added after signing.

use std::sync::Arc;
use std::time::SystemTime;

use arc_swap::ArcSwapOption;
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;
use bytes::Bytes;
use hmac::{Hmac, Mac};
use http::header::{AUTHORIZATION, HeaderName, HeaderValue};
use http::{HeaderMap, Method};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

/// How the request body is covered by the signature (`x-amz-content-sha256`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PayloadSigning {
    /// The body's SHA-256 is computed and signed, as the SDKs do for bodies held in memory.
    /// Default.
    #[default]
    Sha256,
    /// `UNSIGNED-PAYLOAD`: the body is not hashed (allowed over HTTPS).
    Unsigned,
}

const X_AMZ_DATE: HeaderName = HeaderName::from_static("x-amz-date");
const X_AMZ_CONTENT_SHA256: HeaderName = HeaderName::from_static("x-amz-content-sha256");
const X_AMZ_SECURITY_TOKEN: HeaderName = HeaderName::from_static("x-amz-security-token");
const UNSIGNED_PAYLOAD: &str = "UNSIGNED-PAYLOAD";
/// Hex SHA-256 of the empty string.
const EMPTY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
const ALGORITHM: &str = "AWS4-HMAC-SHA256";
const SERVICE: &str = "s3";
const SECONDS_PER_DAY: u64 = 86_400;

/// Signs S3 requests for one region, with a signing-key cache of its own: a new signer (a
/// new client) derives its key again, as a new SDK client does.
#[derive(Debug)]
pub struct Signer {
    region: Box<str>,
    payload: PayloadSigning,
    key: ArcSwapOption<SigningKey>,
}

/// A derived signing key and everything else that is fixed for one day and one identity.
struct SigningKey {
    /// Days since the Unix epoch (UTC) the key is for.
    day: u64,
    access_key_id: Box<str>,
    secret_access_key: Box<str>,
    session_token: Option<Box<str>>,
    /// `x-amz-security-token`, ready to insert.
    token_header: Option<HeaderValue>,
    /// `AWS4-HMAC-SHA256 Credential=AKID/20250101/region/s3/aws4_request, SignedHeaders=`.
    authorization_prefix: Box<str>,
    /// `20250101/region/s3/aws4_request`.
    scope: Box<str>,
    /// HMAC-SHA256 keyed with the signing key: the key's inner and outer blocks are hashed
    /// once, and each signature starts from a copy.
    mac: Hmac<Sha256>,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("day", &self.day)
            .field("access_key_id", &self.access_key_id)
            .finish_non_exhaustive()
    }
}

impl SigningKey {
    fn matches(&self, day: u64, credentials: &aws_credential_types::Credentials) -> bool {
        self.day == day
            && *self.access_key_id == *credentials.access_key_id()
            && *self.secret_access_key == *credentials.secret_access_key()
            && self.session_token.as_deref() == credentials.session_token()
    }
}

impl Signer {
    /// A signer for `region` that covers the payload as `payload` says.
    pub fn new(region: &str, payload: PayloadSigning) -> Self {
        Self {
            region: region.into(),
            payload,
            key: ArcSwapOption::empty(),
        }
    }

    /// Signs a request whose head so far is `method`, `path_and_query` and `headers` (which
    /// must include `host`), adding `x-amz-date`, `x-amz-content-sha256`,
    /// `x-amz-security-token` (with session credentials) and `authorization` to `headers`.
    ///
    /// Fails when the identity holds no AWS credentials, a header value is not visible ASCII
    /// or the time is before 1970.
    pub fn sign(
        &self,
        identity: &Identity,
        time: SystemTime,
        method: &Method,
        path_and_query: &str,
        headers: &mut HeaderMap,
        body: &[u8],
    ) -> Result<(), String> {
        let credentials = identity
            .data::<aws_credential_types::Credentials>()
            .ok_or("the identity holds no AWS credentials")?;
        let since_epoch = time
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_err(|_| "signing time before 1970")?;
        let day = since_epoch.as_secs() / SECONDS_PER_DAY;
        let (date_time, date_header) = date_time(since_epoch.as_secs());
        // The cached key is used through the guard, without a reference count of its own.
        let cached = self.key.load();
        let derived;
        let key: &SigningKey = match &*cached {
            Some(key) if key.matches(day, credentials) => key,
            _ => {
                derived = Arc::new(self.derive(day, time, &date_time, credentials)?);
                self.key.store(Some(Arc::clone(&derived)));
                &derived
            }
        };

        let mut payload_hex = [0u8; 64];
        let (payload_hash, payload_header): (&[u8], HeaderValue) = match self.payload {
            // Most requests (GET, HEAD, DELETE) have no body: its hash is a constant.
            PayloadSigning::Sha256 if body.is_empty() => (
                EMPTY_SHA256.as_bytes(),
                HeaderValue::from_static(EMPTY_SHA256),
            ),
            PayloadSigning::Sha256 => {
                let hex = hex_into(&Sha256::digest(body), &mut payload_hex);
                (hex, HeaderValue::from_bytes(hex).map_err(str_err)?)
            }
            PayloadSigning::Unsigned => (
                UNSIGNED_PAYLOAD.as_bytes(),
                HeaderValue::from_static(UNSIGNED_PAYLOAD),
            ),
        };
        headers.insert(X_AMZ_DATE, date_header);
        headers.insert(X_AMZ_CONTENT_SHA256, payload_header);
        if let Some(token) = &key.token_header {
            headers.insert(X_AMZ_SECURITY_TOKEN, token.clone());
        }

        // Canonical headers: sorted by name (stable, so repeated names keep their order),
        // values trimmed, repeated names joined with commas. On the stack up to 16 headers.
        // Sorted by the names' first 8 bytes as one number, then by the rest: one comparison
        // of two integers for most pairs, where comparing byte by byte walks shared prefixes
        // such as `amz-sdk-` and `x-amz-`.
        let mut on_stack: [(u64, &str, Option<&HeaderValue>); 16] = [(0, "", None); 16];
        let mut on_heap: Vec<(u64, &str, Option<&HeaderValue>)> = Vec::new();
        let sorted: &mut [(u64, &str, Option<&HeaderValue>)] = if headers.len() <= on_stack.len() {
            for (slot, header) in on_stack.iter_mut().zip(headers.iter()) {
                *slot = sort_entry(header);
            }
            &mut on_stack[..headers.len()]
        } else {
            on_heap.extend(headers.iter().map(sort_entry));
            &mut on_heap
        };
        sorted.sort_by(|a, b| {
            a.0.cmp(&b.0)
                .then_with(|| a.1.as_bytes().get(8..).cmp(&b.1.as_bytes().get(8..)))
        });
        let sorted = &*sorted;

        // `Authorization`, sized exactly so that it becomes a `HeaderValue` without a copy.
        let mut signed_len = 0;
        let mut previous = "";
        for (_, name, _) in sorted {
            if *name != previous {
                signed_len += name.len() + usize::from(signed_len > 0);
                previous = name;
            }
        }
        const SIGNATURE: &str = ", Signature=";
        // Bytes, not a `String`: the hex digits go in without a UTF-8 check.
        let mut authorization =
            Vec::with_capacity(key.authorization_prefix.len() + signed_len + SIGNATURE.len() + 64);
        authorization.extend_from_slice(key.authorization_prefix.as_bytes());
        let signed_headers_at = authorization.len();
        let mut previous = "";
        for (_, name, _) in sorted {
            if *name != previous {
                if authorization.len() > signed_headers_at {
                    authorization.push(b';');
                }
                authorization.extend_from_slice(name.as_bytes());
                previous = name;
            }
        }

        // The canonical request, written into one (per-thread, reused) buffer and hashed once:
        // many small `update` calls cost more than the copy.
        let (path, query) = match path_and_query.split_once('?') {
            Some((path, query)) => (path, query),
            None => (path_and_query, ""),
        };
        thread_local! {
            static CREQ: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
        }
        let creq_hash = CREQ.with_borrow_mut(|creq| -> Result<_, String> {
            creq.clear();
            creq.extend_from_slice(method.as_str().as_bytes());
            creq.push(b'\n');
            creq.extend_from_slice(if path.is_empty() {
                b"/"
            } else {
                path.as_bytes()
            });
            creq.push(b'\n');
            canonical_query(query, creq);
            creq.push(b'\n');
            let mut previous = "";
            for (_, name, value) in sorted {
                if *name == previous {
                    creq.push(b',');
                } else {
                    if !previous.is_empty() {
                        creq.push(b'\n');
                    }
                    creq.extend_from_slice(name.as_bytes());
                    creq.push(b':');
                    previous = name;
                }
                push_trimmed(creq, value.map_or(&[][..], HeaderValue::as_bytes))?;
            }
            creq.extend_from_slice(b"\n\n");
            creq.extend_from_slice(&authorization[signed_headers_at..]);
            creq.push(b'\n');
            creq.extend_from_slice(payload_hash);
            let hash = Sha256::digest(&creq[..]);
            // A buffer grown by an odd request does not stay large.
            if creq.capacity() > 64 * 1024 {
                *creq = Vec::new();
            }
            Ok(hash)
        })?;
        let mut creq_hex = [0u8; 64];
        let creq_hex = hex_into(&creq_hash, &mut creq_hex);

        // AWS4-HMAC-SHA256 \n date-time \n scope \n hash, on the stack when it fits.
        let mut sts = [0u8; 256];
        let parts: [&[u8]; 7] = [
            ALGORITHM.as_bytes(),
            b"\n",
            &date_time,
            b"\n",
            key.scope.as_bytes(),
            b"\n",
            creq_hex,
        ];
        let sts_len: usize = parts.iter().map(|p| p.len()).sum();
        let heap;
        let string_to_sign: &[u8] = if sts_len <= sts.len() {
            let mut at = 0;
            for part in parts {
                sts[at..at + part.len()].copy_from_slice(part);
                at += part.len();
            }
            &sts[..at]
        } else {
            heap = parts.concat();
            &heap
        };
        let mut mac = key.mac.clone();
        mac.update(string_to_sign);
        let mut signature = [0u8; 64];
        authorization.extend_from_slice(SIGNATURE.as_bytes());
        authorization.extend_from_slice(hex_into(&mac.finalize().into_bytes(), &mut signature));
        let mut value =
            HeaderValue::from_maybe_shared(Bytes::from(authorization)).map_err(str_err)?;
        value.set_sensitive(true);
        headers.insert(AUTHORIZATION, value);
        Ok(())
    }

    /// The same signature by the reference path: `aws-sigv4`'s own `sign()`, with the
    /// settings aws-sdk-s3 signs S3 requests with (single percent-encoding, no path
    /// normalisation, `x-amz-content-sha256`). It adds the same headers as [`sign`](Self::sign)
    /// (the tests hold the two to byte equality) and costs what the Rust SDK pays per request,
    /// key derivation included: the `client_overhead` bench measures it beside [`sign`](Self::sign).
    pub fn sign_with_aws_sigv4(
        &self,
        identity: &Identity,
        time: SystemTime,
        method: &Method,
        path_and_query: &str,
        headers: &mut HeaderMap,
        body: &[u8],
    ) -> Result<(), String> {
        use aws_sigv4::http_request::{
            PayloadChecksumKind, PercentEncodingMode, SignableBody, SignableRequest,
            SigningSettings, UriPathNormalizationMode, sign,
        };
        let mut settings = SigningSettings::default();
        settings.percent_encoding_mode = PercentEncodingMode::Single;
        settings.uri_path_normalization_mode = UriPathNormalizationMode::Disabled;
        settings.payload_checksum_kind = PayloadChecksumKind::XAmzSha256;
        settings.excluded_headers = None;
        let params = v4::SigningParams::builder()
            .identity(identity)
            .region(&self.region)
            .name(SERVICE)
            .time(time)
            .settings(settings)
            .build()
            .map_err(str_err)?
            .into();
        let body = match self.payload {
            PayloadSigning::Sha256 => SignableBody::Bytes(body),
            PayloadSigning::Unsigned => SignableBody::UnsignedPayload,
        };
        let mut values = Vec::with_capacity(headers.len());
        for (name, value) in headers.iter() {
            values.push((name.as_str(), value.to_str().map_err(str_err)?));
        }
        let signable =
            SignableRequest::new(method.as_str(), path_and_query, values.into_iter(), body)
                .map_err(str_err)?;
        let (instructions, _signature) = sign(signable, &params).map_err(str_err)?.into_parts();
        let (signed, _query) = instructions.into_parts();
        for header in signed {
            let mut value = HeaderValue::from_str(header.value()).map_err(str_err)?;
            value.set_sensitive(header.sensitive());
            headers.insert(HeaderName::from_static(header.name()), value);
        }
        Ok(())
    }

    /// Derives the key for `day` (aws-sigv4's `generate_signing_key`) and the strings that
    /// go with it.
    fn derive(
        &self,
        day: u64,
        time: SystemTime,
        date_time: &[u8; 16],
        credentials: &aws_credential_types::Credentials,
    ) -> Result<SigningKey, String> {
        let date = std::str::from_utf8(&date_time[..8]).map_err(str_err)?;
        let scope = format!("{date}/{}/{SERVICE}/aws4_request", self.region);
        let derived =
            v4::generate_signing_key(credentials.secret_access_key(), time, &self.region, SERVICE);
        let mac = Hmac::<Sha256>::new_from_slice(derived.as_ref()).map_err(str_err)?;
        let token_header = match credentials.session_token() {
            Some(token) => {
                let mut value = HeaderValue::from_str(token).map_err(str_err)?;
                value.set_sensitive(true);
                Some(value)
            }
            None => None,
        };
        Ok(SigningKey {
            day,
            access_key_id: credentials.access_key_id().into(),
            secret_access_key: credentials.secret_access_key().into(),
            session_token: credentials.session_token().map(Into::into),
            token_header,
            authorization_prefix: format!(
                "{ALGORITHM} Credential={}/{scope}, SignedHeaders=",
                credentials.access_key_id()
            )
            .into(),
            scope: scope.into(),
            mac,
        })
    }
}

fn str_err(e: impl std::fmt::Display) -> String {
    e.to_string()
}

/// A header's place in the canonical order: its name's first 8 bytes as a big-endian
/// number (zero-padded, which keeps a prefix before the longer name), the name, its value.
fn sort_entry<'h>(
    (name, value): (&'h HeaderName, &'h HeaderValue),
) -> (u64, &'h str, Option<&'h HeaderValue>) {
    let mut first = [0u8; 8];
    let bytes = name.as_str().as_bytes();
    let n = bytes.len().min(8);
    first[..n].copy_from_slice(&bytes[..n]);
    (u64::from_be_bytes(first), name.as_str(), Some(value))
}

/// `YYYYMMDD'T'HHMMSS'Z'` in UTC for `unix_secs` seconds since 1970, and the same as an
/// `x-amz-date` value. Requests come thousands per second: each thread makes a second's once.
fn date_time(unix_secs: u64) -> ([u8; 16], HeaderValue) {
    thread_local! {
        static LAST: std::cell::RefCell<Option<(u64, [u8; 16], HeaderValue)>> =
            const { std::cell::RefCell::new(None) };
    }
    LAST.with_borrow_mut(|last| match last {
        Some((secs, formatted, value)) if *secs == unix_secs => (*formatted, value.clone()),
        _ => {
            let formatted = format_date_time(unix_secs);
            // Sixteen ASCII digits and letters: always a valid value.
            let value = HeaderValue::from_bytes(&formatted)
                .unwrap_or_else(|_| HeaderValue::from_static("19700101T000000Z"));
            *last = Some((unix_secs, formatted, value.clone()));
            (formatted, value)
        }
    })
}

fn format_date_time(unix_secs: u64) -> [u8; 16] {
    fn put(out: &mut [u8], value: u32) {
        let mut value = value;
        for slot in out.iter_mut().rev() {
            *slot = b'0' + (value % 10) as u8;
            value /= 10;
        }
    }
    let t = i64::try_from(unix_secs)
        .ok()
        .and_then(|secs| OffsetDateTime::from_unix_timestamp(secs).ok())
        .unwrap_or(OffsetDateTime::UNIX_EPOCH);
    let mut out = *b"00000000T000000Z";
    put(&mut out[0..4], u32::try_from(t.year()).unwrap_or(0));
    put(&mut out[4..6], u32::from(u8::from(t.month())));
    put(&mut out[6..8], u32::from(t.day()));
    put(&mut out[9..11], u32::from(t.hour()));
    put(&mut out[11..13], u32::from(t.minute()));
    put(&mut out[13..15], u32::from(t.second()));
    out
}

/// Lower-case hex of `bytes` (at most 32) in `out`.
fn hex_into<'a>(bytes: &[u8], out: &'a mut [u8; 64]) -> &'a [u8] {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut len = 0;
    for (pair, &b) in out.chunks_exact_mut(2).zip(bytes) {
        pair[0] = HEX[usize::from(b >> 4)];
        pair[1] = HEX[usize::from(b & 15)];
        len += 2;
    }
    &out[..len]
}

/// Appends `value` normalised as aws-sigv4 does it for S3: leading and trailing spaces
/// removed, runs of spaces collapsed to one (spaces only, not other whitespace). Fails
/// unless the value is visible ASCII (with spaces and tabs), as `HeaderValue::to_str`.
fn push_trimmed(out: &mut Vec<u8>, value: &[u8]) -> Result<(), String> {
    // A `HeaderValue` holds visible ASCII, spaces, tabs and bytes from 0x80: ASCII is
    // exactly what `to_str` accepts.
    if !value.is_ascii() {
        return Err("a header value to sign is not visible ASCII".to_owned());
    }
    // Usual values have no space, or none at either end and no run of two
    // (`attempt=1; max=3`): copied whole.
    let untouched = !value.contains(&b' ')
        || (value.first() != Some(&b' ')
            && value.last() != Some(&b' ')
            && !value
                .windows(2)
                .any(|pair| pair[0] == b' ' && pair[1] == b' '));
    if untouched {
        out.extend_from_slice(value);
        return Ok(());
    }
    let mut value = value;
    while let [b' ', rest @ ..] = value {
        value = rest;
    }
    while let [rest @ .., b' '] = value {
        value = rest;
    }
    let mut last_space = false;
    for &b in value {
        if !(b == b' ' && last_space) {
            out.push(b);
        }
        last_space = b == b' ';
    }
    Ok(())
}

/// The canonical query string, as aws-sigv4 builds it: parameters decoded (form-urlencoded,
/// so `+` is a space), re-encoded with every byte but `A-Z a-z 0-9 - . _ ~` escaped, sorted
/// by encoded name then value, joined with `&`.
fn canonical_query(query: &str, out: &mut Vec<u8>) {
    if query.is_empty() {
        return;
    }
    let mut params: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes())
        .map(|(k, v)| {
            let (mut ek, mut ev) = (String::new(), String::new());
            super::ops::encode_into(&mut ek, &k, true);
            super::ops::encode_into(&mut ev, &v, true);
            (ek, ev)
        })
        .collect();
    params.sort();
    for (i, (k, v)) in params.iter().enumerate() {
        if i > 0 {
            out.push(b'&');
        }
        out.extend_from_slice(k.as_bytes());
        out.push(b'=');
        out.extend_from_slice(v.as_bytes());
    }
}

#[cfg(test)]
mod tests;
