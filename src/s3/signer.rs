//! SigV4 header signing with `aws-sigv4`, the signer the AWS SDKs use, so signing costs what
//! it costs a real client. The settings are built once per client and reused.
//!
//! Invariant: only the headers present when [`Signer::sign`] runs are signed. Hop-by-hop and
//! unsignable headers (`Connection`, `Expect`, `User-Agent`: the SDK's
//! `ALWAYS_UNSIGNABLE_HEADERS`) are added after signing, so the signer's own exclusion list is
//! not needed and its settings clone without allocating.

use std::time::SystemTime;

use aws_sigv4::http_request::{
    PayloadChecksumKind, PercentEncodingMode, SignableBody, SignableRequest, SigningSettings,
    UriPathNormalizationMode, sign,
};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;
use http::header::{HeaderName, HeaderValue};
use http::{HeaderMap, Method};
use serde::{Deserialize, Serialize};

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

/// Signs S3 requests for one region with reusable settings.
#[derive(Debug)]
pub(crate) struct Signer {
    region: Box<str>,
    settings: SigningSettings,
    payload: PayloadSigning,
}

impl Signer {
    pub(crate) fn new(region: &str, payload: PayloadSigning) -> Self {
        let mut settings = SigningSettings::default();
        // S3 signs the path as sent: single encoding, no dot-segment normalisation (as
        // aws-sdk-s3 configures it).
        settings.percent_encoding_mode = PercentEncodingMode::Single;
        settings.uri_path_normalization_mode = UriPathNormalizationMode::Disabled;
        settings.payload_checksum_kind = PayloadChecksumKind::XAmzSha256;
        // See the module docs: unsignable headers are never present at signing time.
        settings.excluded_headers = None;
        Self {
            region: region.into(),
            settings,
            payload,
        }
    }

    /// Signs a request whose head so far is `method`, `path_and_query` and `headers` (which
    /// must include `host`), adding `x-amz-date`, `x-amz-content-sha256`,
    /// `x-amz-security-token` (with session credentials) and `authorization` to `headers`.
    pub(crate) fn sign(
        &self,
        identity: &Identity,
        time: SystemTime,
        method: &Method,
        path_and_query: &str,
        headers: &mut HeaderMap,
        body: &[u8],
    ) -> Result<(), String> {
        let params = v4::SigningParams::builder()
            .identity(identity)
            .region(&self.region)
            .name("s3")
            .time(time)
            .settings(self.settings.clone())
            .build()
            .map_err(|e| e.to_string())?
            .into();
        let body = match self.payload {
            PayloadSigning::Sha256 => SignableBody::Bytes(body),
            PayloadSigning::Unsigned => SignableBody::UnsignedPayload,
        };
        let signable = SignableRequest::new(
            method.as_str(),
            path_and_query,
            headers
                .iter()
                .map(|(k, v)| (k.as_str(), v.to_str().unwrap_or_default())),
            body,
        )
        .map_err(|e| e.to_string())?;
        let (instructions, _signature) = sign(signable, &params)
            .map_err(|e| e.to_string())?
            .into_parts();
        let (signed, _query) = instructions.into_parts();
        for header in signed {
            let mut value = HeaderValue::from_str(header.value()).map_err(|e| e.to_string())?;
            value.set_sensitive(header.sensitive());
            headers.insert(HeaderName::from_static(header.name()), value);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_credential_types::Credentials;

    fn signed(payload: PayloadSigning, token: Option<&str>) -> HeaderMap {
        let signer = Signer::new("us-east-1", payload);
        let identity: Identity =
            Credentials::new("AKID", "SECRET", token.map(str::to_owned), None, "test").into();
        let mut headers = HeaderMap::new();
        headers.insert("host", HeaderValue::from_static("127.0.0.1:9443"));
        signer
            .sign(
                &identity,
                SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_700_000_000),
                &Method::PUT,
                "/bucket/a%20key",
                &mut headers,
                b"hello",
            )
            .unwrap();
        headers
    }

    #[test]
    fn signs_the_payload_hash_or_unsigned_payload() {
        let h = signed(PayloadSigning::Sha256, None);
        assert_eq!(
            h["x-amz-content-sha256"],
            "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
        );
        assert_eq!(h["x-amz-date"], "20231114T221320Z");
        let auth = h["authorization"].to_str().unwrap();
        assert!(
            auth.starts_with("AWS4-HMAC-SHA256 Credential=AKID/20231114/us-east-1/s3/aws4_request")
        );
        assert!(auth.contains("SignedHeaders=host;x-amz-content-sha256;x-amz-date"));

        let h = signed(PayloadSigning::Unsigned, Some("TOKEN"));
        assert_eq!(h["x-amz-content-sha256"], "UNSIGNED-PAYLOAD");
        assert_eq!(h["x-amz-security-token"], "TOKEN");
    }
}
