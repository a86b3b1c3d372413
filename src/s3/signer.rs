//! SigV4 header signing as the JavaScript SDK's `SignatureV4` does it: the signing key is
//! derived once per day, region and credentials and cached in the signer (the SDK keeps a
//! `signingKeyCache` per signer), and each request costs one canonical request, its SHA-256,
//! the payload's SHA-256 and one HMAC.
//!
//! The cryptographic steps are `aws-sigv4`'s own (`sign::v4::generate_signing_key` and
//! `calculate_signature`, the functions its `sign()` calls). The canonical request is built
//! here and streamed into SHA-256 without an intermediate string, because `aws-sigv4`'s
//! `sign()` re-derives the key on every call and allocates for every header: about 9 µs per
//! request where this costs 2 to 3, on a path whose cost is what poolsweep measures. The
//! output is byte-for-byte `aws-sigv4`'s, with the settings aws-sdk-s3 uses for S3 (single
//! percent-encoding, no path normalisation, `x-amz-content-sha256`): the tests sign a corpus
//! of requests both ways and compare every header.
//!
//! Invariant: only the headers present when [`Signer::sign`] runs are signed. Hop-by-hop and
//! unsignable headers (`Connection`, `Expect`, `User-Agent`: the SDK's
//! `ALWAYS_UNSIGNABLE_HEADERS`) are added after signing.

use std::borrow::Cow;
use std::sync::Arc;
use std::time::SystemTime;

use arc_swap::ArcSwapOption;
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;
use bytes::Bytes;
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
    key: [u8; 32],
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
        let date_time = format_date_time(time);
        let cached = self.key.load();
        let key = match &*cached {
            Some(key) if key.matches(day, credentials) => Arc::clone(key),
            _ => {
                let key = Arc::new(self.derive(day, time, &date_time, credentials)?);
                self.key.store(Some(Arc::clone(&key)));
                key
            }
        };
        drop(cached);

        let mut payload_hex = [0u8; 64];
        let payload_hash: &str = match self.payload {
            PayloadSigning::Sha256 => hex_into(&Sha256::digest(body), &mut payload_hex),
            PayloadSigning::Unsigned => UNSIGNED_PAYLOAD,
        };
        headers.insert(
            X_AMZ_DATE,
            HeaderValue::from_bytes(&date_time).map_err(str_err)?,
        );
        headers.insert(
            X_AMZ_CONTENT_SHA256,
            match self.payload {
                PayloadSigning::Sha256 => {
                    HeaderValue::from_bytes(payload_hash.as_bytes()).map_err(str_err)?
                }
                PayloadSigning::Unsigned => HeaderValue::from_static(UNSIGNED_PAYLOAD),
            },
        );
        if let Some(token) = &key.token_header {
            headers.insert(X_AMZ_SECURITY_TOKEN, token.clone());
        }

        // Canonical headers: sorted by name (stable, so repeated names keep their order),
        // values trimmed, repeated names joined with commas.
        let mut sorted: Vec<(&str, &HeaderValue)> = Vec::with_capacity(headers.len());
        sorted.extend(headers.iter().map(|(k, v)| (k.as_str(), v)));
        sorted.sort_by(|a, b| a.0.cmp(b.0));

        let mut authorization = String::with_capacity(
            key.authorization_prefix.len() + 16 * sorted.len() + ", Signature=".len() + 64,
        );
        authorization.push_str(&key.authorization_prefix);
        let signed_headers_at = authorization.len();
        let mut previous = "";
        for (name, _) in &sorted {
            if *name != previous {
                if authorization.len() > signed_headers_at {
                    authorization.push(';');
                }
                authorization.push_str(name);
                previous = name;
            }
        }

        let mut creq = Sha256::new();
        creq.update(method.as_str());
        creq.update(b"\n");
        let (path, query) = match path_and_query.split_once('?') {
            Some((path, query)) => (path, query),
            None => (path_and_query, ""),
        };
        creq.update(if path.is_empty() { "/" } else { path });
        creq.update(b"\n");
        canonical_query(query, &mut creq);
        creq.update(b"\n");
        let mut previous = "";
        for (name, value) in &sorted {
            let value = value.to_str().map_err(str_err)?;
            if *name == previous {
                creq.update(b",");
            } else {
                if !previous.is_empty() {
                    creq.update(b"\n");
                }
                creq.update(name);
                creq.update(b":");
                previous = name;
            }
            creq.update(trim_all(value).as_bytes());
        }
        creq.update(b"\n\n");
        creq.update(&authorization[signed_headers_at..]);
        creq.update(b"\n");
        creq.update(payload_hash);
        let mut creq_hex = [0u8; 64];
        let creq_hex = hex_into(&creq.finalize(), &mut creq_hex);

        let mut string_to_sign = String::with_capacity(
            ALGORITHM.len() + date_time.len() + key.scope.len() + creq_hex.len() + 3,
        );
        for part in [ALGORITHM, "\n"] {
            string_to_sign.push_str(part);
        }
        string_to_sign.push_str(std::str::from_utf8(&date_time).map_err(str_err)?);
        for part in ["\n", &key.scope, "\n", creq_hex] {
            string_to_sign.push_str(part);
        }
        let signature = v4::calculate_signature(key.key, string_to_sign.as_bytes());
        authorization.push_str(", Signature=");
        authorization.push_str(&signature);
        let mut value =
            HeaderValue::from_maybe_shared(Bytes::from(authorization)).map_err(str_err)?;
        value.set_sensitive(true);
        headers.insert(AUTHORIZATION, value);
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
        let key: [u8; 32] = derived
            .as_ref()
            .try_into()
            .map_err(|_| "signing key is not 32 bytes")?;
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
            key,
        })
    }
}

fn str_err(e: impl std::fmt::Display) -> String {
    e.to_string()
}

/// `YYYYMMDD'T'HHMMSS'Z'` in UTC.
fn format_date_time(time: SystemTime) -> [u8; 16] {
    fn put(out: &mut [u8], value: u32) {
        let mut value = value;
        for slot in out.iter_mut().rev() {
            *slot = b'0' + (value % 10) as u8;
            value /= 10;
        }
    }
    let t = OffsetDateTime::from(time);
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
fn hex_into<'a>(bytes: &[u8], out: &'a mut [u8; 64]) -> &'a str {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    for (i, b) in bytes.iter().take(32).enumerate() {
        out[2 * i] = HEX[usize::from(b >> 4)];
        out[2 * i + 1] = HEX[usize::from(b & 15)];
    }
    let len = 2 * bytes.len().min(32);
    // Only ASCII hex digits were written.
    std::str::from_utf8(&out[..len]).unwrap_or_default()
}

/// SigV4's value normalisation as aws-sigv4 does it for S3: leading and trailing spaces
/// removed, runs of spaces collapsed to one (spaces only, not other whitespace).
fn trim_all(value: &str) -> Cow<'_, str> {
    let value = value.trim_matches(' ');
    if !value.contains("  ") {
        return Cow::Borrowed(value);
    }
    let mut out = String::with_capacity(value.len());
    let mut last_space = false;
    for c in value.chars() {
        if c == ' ' && last_space {
            continue;
        }
        last_space = c == ' ';
        out.push(c);
    }
    Cow::Owned(out)
}

/// The canonical query string, as aws-sigv4 builds it: parameters decoded (form-urlencoded,
/// so `+` is a space), re-encoded with every byte but `A-Z a-z 0-9 - . _ ~` escaped, sorted
/// by encoded name then value, joined with `&`.
fn canonical_query(query: &str, out: &mut Sha256) {
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
            out.update(b"&");
        }
        out.update(k);
        out.update(b"=");
        out.update(v);
    }
}

#[cfg(test)]
mod tests;
