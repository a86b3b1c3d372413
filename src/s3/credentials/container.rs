//! [`ContainerEndpoint`]: ECS/EKS-style container credentials. `GET <url>` with
//! `Authorization: <token>` answers `{"AccessKeyId","SecretAccessKey","Token","Expiration"}`
//! (smithy `fromContainerMetadata`; aws-sdk-js-v3 `credential-provider-http` `fromHttp`).
//!
//! Invariant: all four fields must be strings and `Expiration` must be RFC 3339, as the SDK
//! checks; anything else is [`CredentialsError::InvalidResponse`].

use http::Method;
use http::header::{AUTHORIZATION, HeaderValue};
use serde::Deserialize;

use super::env::Environment;
use super::http::EndpointClient;
use super::{Credentials, CredentialsError, parse_rfc3339};

const FULL_URI: &str = "AWS_CONTAINER_CREDENTIALS_FULL_URI";
const RELATIVE_URI: &str = "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI";
const AUTHORIZATION_TOKEN: &str = "AWS_CONTAINER_AUTHORIZATION_TOKEN";
/// The ECS agent's address, prefixed to `AWS_CONTAINER_CREDENTIALS_RELATIVE_URI`.
const ECS_HOST: &str = "http://169.254.170.2";

/// Where container credentials are served, and the token they require.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContainerEndpoint {
    url: String,
    token: Option<String>,
}

impl ContainerEndpoint {
    /// An endpoint URL (the value of `AWS_CONTAINER_CREDENTIALS_FULL_URI`) and the
    /// `Authorization` value to send, if any.
    pub fn new(url: impl Into<String>, token: Option<String>) -> Self {
        Self {
            url: url.into(),
            token,
        }
    }

    /// The endpoint the SDK would use in `env`: `AWS_CONTAINER_CREDENTIALS_RELATIVE_URI`
    /// (prefixed with `http://169.254.170.2`) first, else `AWS_CONTAINER_CREDENTIALS_FULL_URI`,
    /// with `AWS_CONTAINER_AUTHORIZATION_TOKEN`. `None` if neither URI is set.
    pub fn from_env(env: &Environment) -> Option<Self> {
        let url = env
            .get(RELATIVE_URI)
            .map(|relative| format!("{ECS_HOST}{relative}"))
            .or_else(|| env.get(FULL_URI))?;
        Some(Self::new(url, env.get(AUTHORIZATION_TOKEN)))
    }

    /// The URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The `Authorization` value sent, if any.
    pub fn token(&self) -> Option<&str> {
        self.token.as_deref()
    }

    pub(super) async fn fetch(
        &self,
        client: &EndpointClient,
    ) -> Result<Credentials, CredentialsError> {
        let mut headers = Vec::with_capacity(1);
        if let Some(token) = &self.token {
            let value =
                HeaderValue::from_str(token).map_err(|_| CredentialsError::InvalidVariable {
                    name: AUTHORIZATION_TOKEN,
                    reason: "not a valid header value".to_owned(),
                })?;
            headers.push((AUTHORIZATION, value));
        }
        let body = client.call_ok(Method::GET, &self.url, &headers).await?;
        parse(&body)
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Body {
    access_key_id: String,
    secret_access_key: String,
    token: String,
    expiration: String,
}

fn parse(body: &[u8]) -> Result<Credentials, CredentialsError> {
    let body: Body = serde_json::from_slice(body)
        .map_err(|e| CredentialsError::InvalidResponse(e.to_string()))?;
    let expiration = parse_rfc3339(&body.expiration).map_err(CredentialsError::InvalidResponse)?;
    Ok(Credentials::new(body.access_key_id, body.secret_access_key)
        .with_session_token(body.token)
        .with_expiration(expiration))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_uri_wins_over_full_uri() {
        let env = Environment::from_vars([
            (RELATIVE_URI, "/v2/credentials/abc"),
            (FULL_URI, "http://localhost:8080/creds"),
            (AUTHORIZATION_TOKEN, "tok"),
        ]);
        let e = ContainerEndpoint::from_env(&env).unwrap();
        assert_eq!(e.url(), "http://169.254.170.2/v2/credentials/abc");
        assert_eq!(e.token.as_deref(), Some("tok"));
        assert!(ContainerEndpoint::from_env(&Environment::from_vars([("X", "1")])).is_none());
    }

    #[test]
    fn parses_the_four_fields() {
        let c = parse(
            br#"{"AccessKeyId":"A","SecretAccessKey":"S","Token":"T","Expiration":"2030-01-01T00:00:00Z"}"#,
        )
        .unwrap();
        assert_eq!((c.access_key_id(), c.session_token()), ("A", Some("T")));
        assert!(matches!(
            parse(br#"{"AccessKeyId":"A","SecretAccessKey":"S","Token":"T"}"#),
            Err(CredentialsError::InvalidResponse(_))
        ));
    }
}
