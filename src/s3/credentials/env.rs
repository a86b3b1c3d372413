//! [`Environment`]: the variables the environment and container sources read, from the process
//! or from a map.
//!
//! Invariant: reading never mutates the process environment. Tests hand a map instead of
//! calling `std::env::set_var`, which is `unsafe` in edition 2024 and racy in a test binary
//! whose tests run on parallel threads.

use std::collections::HashMap;
use std::sync::Arc;

use super::{Credentials, CredentialsError, parse_rfc3339};

/// `AWS_ACCESS_KEY_ID`.
pub(super) const ACCESS_KEY_ID: &str = "AWS_ACCESS_KEY_ID";
/// `AWS_SECRET_ACCESS_KEY`.
pub(super) const SECRET_ACCESS_KEY: &str = "AWS_SECRET_ACCESS_KEY";
/// `AWS_SESSION_TOKEN`.
pub(super) const SESSION_TOKEN: &str = "AWS_SESSION_TOKEN";
/// `AWS_CREDENTIAL_EXPIRATION`.
pub(super) const CREDENTIAL_EXPIRATION: &str = "AWS_CREDENTIAL_EXPIRATION";

/// Where environment variables are read from.
#[derive(Clone, Debug, Default)]
pub struct Environment {
    vars: Option<Arc<HashMap<String, String>>>,
}

impl Environment {
    /// The process environment, read at each lookup.
    pub fn process() -> Self {
        Self { vars: None }
    }

    /// A fixed set of variables, in place of the process environment.
    pub fn from_vars<K: Into<String>, V: Into<String>>(
        vars: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        Self {
            vars: Some(Arc::new(
                vars.into_iter()
                    .map(|(k, v)| (k.into(), v.into()))
                    .collect(),
            )),
        }
    }

    /// A variable's value; unset and empty are the same (the SDK tests truthiness).
    pub fn get(&self, name: &str) -> Option<String> {
        let value = match &self.vars {
            Some(vars) => vars.get(name).cloned(),
            None => std::env::var(name).ok(),
        };
        value.filter(|v| !v.is_empty())
    }

    /// The SDK's `fromEnv`: access key and secret are required; the session token and the
    /// RFC 3339 expiration are optional.
    pub(super) fn credentials(&self) -> Result<Credentials, CredentialsError> {
        let access = self
            .get(ACCESS_KEY_ID)
            .ok_or(CredentialsError::MissingVariable(ACCESS_KEY_ID))?;
        let secret = self
            .get(SECRET_ACCESS_KEY)
            .ok_or(CredentialsError::MissingVariable(SECRET_ACCESS_KEY))?;
        let mut credentials = Credentials::new(access, secret);
        if let Some(token) = self.get(SESSION_TOKEN) {
            credentials = credentials.with_session_token(token);
        }
        if let Some(expiration) = self.get(CREDENTIAL_EXPIRATION) {
            let at =
                parse_rfc3339(&expiration).map_err(|reason| CredentialsError::InvalidVariable {
                    name: CREDENTIAL_EXPIRATION,
                    reason,
                })?;
            credentials = credentials.with_expiration(at);
        }
        Ok(credentials)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_keys_token_and_expiration() {
        let env = Environment::from_vars([
            (ACCESS_KEY_ID, "AKID"),
            (SECRET_ACCESS_KEY, "SECRET"),
            (SESSION_TOKEN, "TOKEN"),
            (CREDENTIAL_EXPIRATION, "2030-01-01T00:00:00Z"),
        ]);
        let c = env.credentials().unwrap();
        assert_eq!(c.access_key_id(), "AKID");
        assert_eq!(c.session_token(), Some("TOKEN"));
        assert!(c.expiration().is_some());
    }

    #[test]
    fn missing_or_empty_keys_are_errors() {
        let env = Environment::from_vars([(ACCESS_KEY_ID, "AKID"), (SECRET_ACCESS_KEY, "")]);
        assert!(matches!(
            env.credentials(),
            Err(CredentialsError::MissingVariable(SECRET_ACCESS_KEY))
        ));
        let env = Environment::from_vars([
            (ACCESS_KEY_ID, "AKID"),
            (SECRET_ACCESS_KEY, "S"),
            (CREDENTIAL_EXPIRATION, "soon"),
        ]);
        assert!(matches!(
            env.credentials(),
            Err(CredentialsError::InvalidVariable { .. })
        ));
    }
}
