//! [`CredentialsProvider`]: the SDK's `memoizeIdentityProvider` over a [`CredentialsSource`].
//!
//! Invariant: at most one fetch runs per provider. The first caller that finds the cache stale
//! starts it as a task of its own (so dropping that caller does not strand the others) and
//! every concurrent caller waits on the same `watch` channel for its one result. The fast path
//! (a fresh identity) is one uncontended mutex and an `Arc` clone.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::SystemTime;

use aws_smithy_runtime_api::client::identity::Identity;
use rustls::RootCertStore;
use tokio::sync::watch;

use super::http::EndpointClient;
use super::{
    Credentials, CredentialsError, CredentialsSource, FetchResult, REFRESH_BEFORE_EXPIRATION,
};

/// A signing identity and when it must be refreshed.
#[derive(Debug)]
pub(crate) struct CachedIdentity {
    pub(crate) identity: Identity,
    expiration: Option<SystemTime>,
}

impl CachedIdentity {
    fn new(credentials: Credentials) -> Self {
        let expiration = credentials.expiration;
        let identity = aws_credential_types::Credentials::new(
            credentials.access_key_id,
            credentials.secret_access_key,
            credentials.session_token,
            credentials.expiration,
            "poolsweep",
        )
        .into();
        Self {
            identity,
            expiration,
        }
    }

    /// The SDK's rule: refresh when `expiration - now < 5 minutes`.
    fn is_fresh(&self, now: SystemTime) -> bool {
        self.expiration.is_none_or(|at| {
            at.duration_since(now)
                .is_ok_and(|left| left >= REFRESH_BEFORE_EXPIRATION)
        })
    }
}

/// Memoized credentials for one client (or for several, when shared). Cloning shares the
/// cache and the pending fetch.
#[derive(Clone, Debug)]
pub struct CredentialsProvider {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    source: CredentialsSource,
    http: EndpointClient,
    state: Mutex<State>,
    fetches: AtomicU64,
}

#[derive(Debug, Default)]
struct State {
    current: Option<Arc<CachedIdentity>>,
    pending: Option<watch::Receiver<Option<FetchResult>>>,
}

impl CredentialsProvider {
    /// A provider for `source`. `roots` are trusted for `https:` credentials endpoints. Static
    /// credentials are cached at once and never fetched.
    pub fn new(source: CredentialsSource, roots: Arc<RootCertStore>) -> Self {
        let current = match &source {
            CredentialsSource::Static(c) => Some(Arc::new(CachedIdentity::new(c.clone()))),
            _ => None,
        };
        Self {
            inner: Arc::new(Inner {
                source,
                http: EndpointClient::new(roots),
                state: Mutex::new(State {
                    current,
                    pending: None,
                }),
                fetches: AtomicU64::new(0),
            }),
        }
    }

    /// The source.
    pub fn source(&self) -> &CredentialsSource {
        &self.inner.source
    }

    /// Fetches started so far (static credentials: 0).
    pub fn fetches(&self) -> u64 {
        self.inner.fetches.load(Ordering::Relaxed)
    }

    /// Whether two handles share one cache.
    pub fn same_as(&self, other: &CredentialsProvider) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }

    /// Resolves credentials now: the cached ones if fresh, else the result of the (shared)
    /// fetch. Must be called within a tokio runtime.
    pub async fn resolve(&self) -> Result<(), Arc<CredentialsError>> {
        self.identity(SystemTime::now()).await.map(drop)
    }

    /// The identity to sign with at `now`.
    pub(crate) async fn identity(&self, now: SystemTime) -> FetchResult {
        let mut rx = {
            let mut state = self.inner.lock();
            if let Some(current) = &state.current
                && current.is_fresh(now)
            {
                return Ok(Arc::clone(current));
            }
            match &state.pending {
                Some(rx) => rx.clone(),
                None => {
                    let (tx, rx) = watch::channel(None);
                    state.pending = Some(rx.clone());
                    drop(state);
                    self.inner.fetches.fetch_add(1, Ordering::Relaxed);
                    tokio::spawn(Arc::clone(&self.inner).fetch(tx));
                    rx
                }
            }
        };
        match rx.wait_for(Option::is_some).await {
            Ok(result) => result
                .as_ref()
                .cloned()
                .unwrap_or_else(|| Err(Arc::new(CredentialsError::Abandoned))),
            Err(_) => Err(Arc::new(CredentialsError::Abandoned)),
        }
    }
}

impl Inner {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    async fn fetch(self: Arc<Self>, tx: watch::Sender<Option<FetchResult>>) {
        let fetched = match &self.source {
            CredentialsSource::Static(c) => Ok(c.clone()),
            CredentialsSource::Environment(env) => env.credentials(),
            CredentialsSource::Container(endpoint) => endpoint.fetch(&self.http).await,
            CredentialsSource::Imds(endpoint) => endpoint.fetch(&self.http).await,
        };
        let result = match fetched {
            Ok(credentials) => Ok(Arc::new(CachedIdentity::new(credentials))),
            Err(error) => {
                tracing::debug!(%error, "credentials fetch failed");
                Err(Arc::new(error))
            }
        };
        {
            let mut state = self.lock();
            if let Ok(identity) = &result {
                state.current = Some(Arc::clone(identity));
            }
            state.pending = None;
        }
        let _ = tx.send(Some(result));
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::s3::credentials::Environment;

    fn roots() -> Arc<RootCertStore> {
        Arc::new(RootCertStore::empty())
    }

    fn env_source(expires_in: Option<Duration>) -> CredentialsSource {
        let mut vars = vec![
            ("AWS_ACCESS_KEY_ID".to_owned(), "AKID".to_owned()),
            ("AWS_SECRET_ACCESS_KEY".to_owned(), "SECRET".to_owned()),
        ];
        if let Some(d) = expires_in {
            let at = time::OffsetDateTime::from(SystemTime::now() + d)
                .format(&time::format_description::well_known::Rfc3339)
                .unwrap();
            vars.push(("AWS_CREDENTIAL_EXPIRATION".to_owned(), at));
        }
        CredentialsSource::Environment(Environment::from_vars(vars))
    }

    #[tokio::test]
    async fn static_credentials_are_never_fetched() {
        let p = CredentialsProvider::new(
            CredentialsSource::Static(Credentials::new("A", "S")),
            roots(),
        );
        for _ in 0..3 {
            p.resolve().await.unwrap();
        }
        assert_eq!(p.fetches(), 0);
    }

    #[tokio::test]
    async fn concurrent_callers_share_one_fetch() {
        let p = CredentialsProvider::new(env_source(None), roots());
        let calls: Vec<_> = (0..20)
            .map(|_| {
                let p = p.clone();
                tokio::spawn(async move { p.resolve().await })
            })
            .collect();
        for c in calls {
            c.await.unwrap().unwrap();
        }
        assert_eq!(p.fetches(), 1);
        p.resolve().await.unwrap();
        assert_eq!(p.fetches(), 1, "no expiration: cached forever");
    }

    #[tokio::test]
    async fn credentials_within_five_minutes_of_expiry_are_fetched_again() {
        let soon = CredentialsProvider::new(env_source(Some(Duration::from_secs(240))), roots());
        soon.resolve().await.unwrap();
        soon.resolve().await.unwrap();
        soon.resolve().await.unwrap();
        assert_eq!(soon.fetches(), 3, "4 minutes left: refreshed on every call");

        let later = CredentialsProvider::new(env_source(Some(Duration::from_secs(600))), roots());
        later.resolve().await.unwrap();
        later.resolve().await.unwrap();
        assert_eq!(later.fetches(), 1, "10 minutes left: served from the cache");
    }

    #[tokio::test]
    async fn failures_reach_every_waiter_and_the_next_call_fetches_again() {
        let p = CredentialsProvider::new(
            CredentialsSource::Environment(Environment::from_vars([("X", "1")])),
            roots(),
        );
        let (a, b) = tokio::join!(p.resolve(), p.resolve());
        assert!(matches!(
            a.unwrap_err().as_ref(),
            CredentialsError::MissingVariable(_)
        ));
        assert!(b.is_err());
        assert_eq!(p.fetches(), 1);
        assert!(p.resolve().await.is_err());
        assert_eq!(p.fetches(), 2);
    }
}
