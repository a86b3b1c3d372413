//! [`ImdsEndpoint`]: EC2 instance credentials over IMDSv2 (smithy `fromInstanceMetadata`).
//!
//! Invariant: every fetch makes the three calls in order: `PUT /latest/api/token` with
//! `x-aws-ec2-metadata-token-ttl-seconds: 21600`, then `GET
//! /latest/meta-data/iam/security-credentials/` (the role name), then `GET
//! .../security-credentials/<role>` (the credentials), the last two with the token. The SDK
//! fetches a new token on every provider invocation; so does this. The fallback to IMDSv1
//! and the SDK's "static stability" extension of expired credentials are not modelled.

use http::Method;
use http::header::{HeaderName, HeaderValue};
use serde::Deserialize;

use super::http::EndpointClient;
use super::{Credentials, CredentialsError, parse_rfc3339};

/// The token lifetime the SDK asks for (6 hours).
const TOKEN_TTL_SECONDS: &str = "21600";
const TTL_HEADER: HeaderName = HeaderName::from_static("x-aws-ec2-metadata-token-ttl-seconds");
const TOKEN_HEADER: HeaderName = HeaderName::from_static("x-aws-ec2-metadata-token");
const CREDENTIALS_PATH: &str = "/latest/meta-data/iam/security-credentials/";

/// The metadata service's base URL: `http://169.254.169.254` on EC2, or
/// `AWS_EC2_METADATA_SERVICE_ENDPOINT`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImdsEndpoint {
    base: String,
}

impl ImdsEndpoint {
    /// A base URL; the standard paths are appended to it.
    pub fn new(base: impl Into<String>) -> Self {
        let mut base = base.into();
        while base.ends_with('/') {
            base.pop();
        }
        Self { base }
    }

    /// EC2's IPv4 endpoint.
    pub fn ec2() -> Self {
        Self::new("http://169.254.169.254")
    }

    /// The base URL.
    pub fn base(&self) -> &str {
        &self.base
    }

    pub(super) async fn fetch(
        &self,
        client: &EndpointClient,
    ) -> Result<Credentials, CredentialsError> {
        let token = client
            .call_ok(
                Method::PUT,
                &format!("{}/latest/api/token", self.base),
                &[(TTL_HEADER, HeaderValue::from_static(TOKEN_TTL_SECONDS))],
            )
            .await?;
        let token = HeaderValue::from_maybe_shared(token).map_err(|_| {
            CredentialsError::InvalidResponse("IMDS token is not a header value".to_owned())
        })?;
        let auth = [(TOKEN_HEADER, token)];
        let role = client
            .call_ok(
                Method::GET,
                &format!("{}{CREDENTIALS_PATH}", self.base),
                &auth,
            )
            .await?;
        let role = std::str::from_utf8(&role)
            .map_err(|_| {
                CredentialsError::InvalidResponse("IMDS role name is not UTF-8".to_owned())
            })?
            .trim();
        if role.is_empty() {
            return Err(CredentialsError::InvalidResponse(
                "IMDS reported no instance role".to_owned(),
            ));
        }
        let body = client
            .call_ok(
                Method::GET,
                &format!("{}{CREDENTIALS_PATH}{role}", self.base),
                &auth,
            )
            .await?;
        parse(&body)
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Body {
    #[serde(default)]
    code: Option<String>,
    access_key_id: String,
    secret_access_key: String,
    token: String,
    expiration: String,
}

fn parse(body: &[u8]) -> Result<Credentials, CredentialsError> {
    let body: Body = serde_json::from_slice(body)
        .map_err(|e| CredentialsError::InvalidResponse(e.to_string()))?;
    if let Some(code) = body.code.as_deref()
        && code != "Success"
    {
        return Err(CredentialsError::InvalidResponse(format!(
            "IMDS credentials Code is {code:?}"
        )));
    }
    let expiration = parse_rfc3339(&body.expiration).map_err(CredentialsError::InvalidResponse)?;
    Ok(Credentials::new(body.access_key_id, body.secret_access_key)
        .with_session_token(body.token)
        .with_expiration(expiration))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_ec2_credentials() {
        let c = parse(
            br#"{ "Code" : "Success", "LastUpdated" : "2021-09-20T21:42:26Z", "Type" : "AWS-HMAC",
  "AccessKeyId" : "ASIARTEST", "SecretAccessKey" : "testsecret", "Token" : "testtoken",
  "Expiration" : "2021-09-21T04:16:53Z" }"#,
        )
        .unwrap();
        assert_eq!(c.access_key_id(), "ASIARTEST");
        assert_eq!(c.session_token(), Some("testtoken"));
        assert!(parse(br#"{"Code":"Failure","AccessKeyId":"A","SecretAccessKey":"S","Token":"T","Expiration":"2030-01-01T00:00:00Z"}"#).is_err());
    }

    #[test]
    fn base_loses_trailing_slashes() {
        assert_eq!(ImdsEndpoint::new("http://x/imds//").base(), "http://x/imds");
    }
}
