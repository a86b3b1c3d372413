//! [`PoolsweepClient`]: poolsweep's own S3 client (the Agent or the hyper-util pool) as a
//! client under test. A run is a [`ClientFactory`] for the point's mode: each request goes to
//! the client its mode picks (the shared one, a new one, or one of the shared-handler
//! clients), and its outcome becomes an [`OpReport`] with retries by reason and the error
//! class a sweep counts.
//!
//! The client is made for one service ([`ClientConfig`]: endpoint, trusted roots and any of
//! the S3 client's credential sources, the environment and the SDK's chain included), the
//! same for every run of a sweep; a run takes the point's settings from [`RunSettings`] and
//! is refused if it names another endpoint.
//!
//! Invariant: a run's counters are its factory's, and a factory is made per run, so they
//! cover exactly the run's clients. The request path is the S3 client's own: a run adds one
//! factory lookup and no allocation, lock or dynamic dispatch per request.

use std::time::Duration;

use super::{
    self as sut, ClientUnderTest, Error, ErrorClass, OpKind, OpReport, Request, Run, RunReport,
    RunSettings, Timeouts,
};
use crate::modes::ClientFactory;
use crate::pool::AgentOptions;
use crate::s3::{BuildError, ClientConfig, ErrorKind, Outcome, RetryReason, S3Error};
use crate::transport::{Endpoint, PoolConfig, PoolKind};

/// poolsweep's own S3 client, made per run from one base config.
#[derive(Debug, Clone)]
pub struct PoolsweepClient {
    base: ClientConfig,
}

impl PoolsweepClient {
    /// A client over `base` (endpoint, trusted roots, credentials, retry and signing
    /// settings); each run sets the pool, mode, keepAlive and timeouts.
    pub fn new(base: ClientConfig) -> Self {
        Self { base }
    }

    /// The client config of a run with `settings`.
    fn config(&self, settings: &RunSettings) -> ClientConfig {
        let cap = settings.max_sockets.map_or(0, |m| m as usize);
        let Timeouts {
            connection,
            request,
        } = settings.timeouts;
        let pool = match settings.pool {
            PoolKind::Agent => {
                let mut options = AgentOptions::sdk_default()
                    .max_sockets(cap)
                    .keep_alive(settings.keep_alive);
                if let Some(t) = connection {
                    options = options.connection_timeout(t);
                }
                if connection.is_some() || request.is_some() {
                    // The SDK arms its capacity warning after
                    // `(requestTimeout ?? 2000) + (connectionTimeout ?? 1000)` ms.
                    let warn = request.unwrap_or(Duration::from_millis(2000))
                        + connection.unwrap_or(Duration::from_millis(1000));
                    options = options.socket_acquisition_warning_timeout(Some(warn));
                }
                PoolConfig::agent(options)
            }
            PoolKind::HyperUtil => PoolConfig::hyper_util(cap),
        };
        let config = self.base.clone().pool(pool);
        match request {
            Some(after) => config.request_timeout(after, false),
            None => config,
        }
    }
}

impl ClientUnderTest for PoolsweepClient {
    type Run = PoolsweepRun;

    async fn start(&self, settings: &RunSettings) -> Result<PoolsweepRun, Error> {
        if settings.sdk != super::Sdk::Poolsweep {
            return Err(Error::Unsupported {
                client: "poolsweep's client",
                setting: format!("sdk {}", settings.sdk),
            });
        }
        let endpoint = Endpoint::parse(&settings.endpoint).map_err(BuildError::from)?;
        if endpoint.origin() != self.base.endpoint().origin() {
            return Err(Error::Unsupported {
                client: "poolsweep's client, made for another endpoint,",
                setting: format!("endpoint {}", settings.endpoint),
            });
        }
        if settings.pool == PoolKind::HyperUtil && settings.timeouts.connection.is_some() {
            return Err(Error::Unsupported {
                client: "poolsweep's hyper-util pool",
                setting: "a connection timeout".to_owned(),
            });
        }
        let config = self.config(settings);
        let factory =
            ClientFactory::with_clients(config, settings.mode, settings.shared_handler_clients)?;
        Ok(PoolsweepRun {
            factory,
            bucket: settings.bucket.clone(),
        })
    }
}

/// One run: a client factory serving one bucket.
#[derive(Debug)]
pub struct PoolsweepRun {
    factory: ClientFactory,
    bucket: String,
}

impl PoolsweepRun {
    /// The factory (its clients, counters and config).
    pub fn factory(&self) -> &ClientFactory {
        &self.factory
    }
}

/// The class a sweep counts a retry of the S3 client under. The match is exhaustive, so a new
/// reason has to be placed here before it can be counted.
fn retry_class(reason: RetryReason) -> sut::RetryReason {
    match reason {
        RetryReason::Throttling => sut::RetryReason::Throttling,
        RetryReason::ServerError | RetryReason::Connection => sut::RetryReason::Transient,
        RetryReason::Timeout => sut::RetryReason::Timeout,
    }
}

/// Retries as a report counts them, by class: (throttling, transient, timeout, other). Every
/// retry the client counted lands in exactly one class; none of the S3 client's reasons is
/// classed `other` (the SDKs' runners report retries of that class).
fn retries(outcome: &Outcome) -> [u32; 4] {
    let mut by_class = [0; 4];
    for reason in RetryReason::ALL {
        by_class[retry_class(reason) as usize] += outcome.retries.get(reason);
    }
    by_class
}

/// An operation's report from its outcome.
fn report(outcome: &Outcome, bytes: u64, error: Option<ErrorClass>) -> OpReport {
    OpReport {
        latency: outcome.latency,
        socket_wait: outcome.socket_wait,
        attempts: outcome.attempts,
        retry_delay: outcome.backoff,
        retries: retries(outcome),
        bytes,
        error,
        message: String::new(),
    }
}

/// How a failed call is counted.
pub(crate) fn classify(e: &S3Error) -> ErrorClass {
    if e.is_fd_exhausted() {
        return ErrorClass::Emfile;
    }
    match e.kind() {
        ErrorKind::Timeout => ErrorClass::Timeout,
        ErrorKind::Connection => ErrorClass::Reset,
        ErrorKind::Service if e.code() == Some("SlowDown") => ErrorClass::SlowDown,
        _ => ErrorClass::Other,
    }
}

impl Run for PoolsweepRun {
    async fn call(&self, request: Request) -> OpReport {
        let client = match self.factory.client(request.index as usize) {
            Ok(c) => c,
            Err(e) => {
                tracing::warn!("building a client failed: {e}");
                return OpReport {
                    error: Some(ErrorClass::Other),
                    ..OpReport::default()
                };
            }
        };
        let result = match request.op {
            OpKind::Put => {
                let bytes = request.body.len() as u64;
                client
                    .put_object(&self.bucket, &request.key, request.body)
                    .await
                    .map(|o| (o.outcome, bytes))
            }
            OpKind::Get => client
                .get_object(&self.bucket, &request.key)
                .await
                .map(|o| (o.outcome, o.value.body.len() as u64)),
        };
        match result {
            Ok((outcome, bytes)) => report(&outcome, bytes, None),
            Err(e) => report(e.outcome(), 0, Some(classify(&e))),
        }
    }

    async fn finish(self) -> Result<RunReport, Error> {
        let pool = self.factory.pool_stats();
        let calls = self.factory.client_stats();
        Ok(RunReport {
            ops: calls.calls,
            clients: self.factory.clients_created(),
            sockets_opened: pool.sockets_opened,
            peak_open: pool.peak_open,
            tls_full: Some(pool.tls_full),
            tls_resumed: Some(pool.tls_resumed),
            connect_errors: pool.connect_errors,
            cpu: None,
        })
    }
}

#[cfg(test)]
mod tests {
    use std::num::NonZeroUsize;

    use super::*;
    use crate::modes::ClientMode;
    use crate::s3::{Credentials, CredentialsSource};
    use crate::sut::CredentialSource;

    const ENDPOINT: &str = "https://127.0.0.1:9443";

    fn client() -> PoolsweepClient {
        let config = ClientConfig::new(
            ENDPOINT,
            "us-east-1",
            rustls::RootCertStore::empty(),
            CredentialsSource::Static(Credentials::new("k", "s")),
        )
        .unwrap();
        PoolsweepClient::new(config)
    }

    fn settings(pool: PoolKind, max_sockets: Option<u32>) -> RunSettings {
        RunSettings {
            sdk: crate::sut::Sdk::Poolsweep,
            mode: ClientMode::Shared,
            shared_handler_clients: NonZeroUsize::MIN,
            max_sockets,
            keep_alive: false,
            pool,
            timeouts: Timeouts::default(),
            endpoint: ENDPOINT.to_owned(),
            region: "us-east-1".to_owned(),
            bucket: "b".to_owned(),
            credentials: CredentialSource::Static {
                access_key_id: "k".to_owned(),
                secret_access_key: "s".to_owned(),
                session_token: None,
            },
            ca_file: None,
            nofile: None,
            time_budget: crate::sut::settings::DEFAULT_TIME_BUDGET,
        }
    }

    #[test]
    fn every_retry_is_counted_in_one_class() {
        let mut outcome = Outcome::default();
        for (i, reason) in RetryReason::ALL.into_iter().enumerate() {
            for _ in 0..=i {
                outcome.retries.add(reason);
            }
        }
        // Throttling 1; server error 2 + connection 4 are transient; timeout 3.
        assert_eq!(retries(&outcome), [1, 6, 3, 0]);
        assert_eq!(
            retries(&outcome).iter().sum::<u32>(),
            outcome.retries.total()
        );
    }

    #[test]
    fn settings_become_the_sdks_pool_options() {
        let c = client();
        let agent = c.config(&settings(PoolKind::Agent, Some(8)));
        assert_eq!(
            agent.pool_config(),
            &PoolConfig::agent(AgentOptions::sdk_default().max_sockets(8).keep_alive(false))
        );
        assert_eq!(agent.request_timeout, None);
        // Infinity is Node's `maxSockets: Infinity` (0 here), for both pools.
        let inf = c.config(&settings(PoolKind::Agent, None));
        assert_eq!(
            inf.pool_config(),
            &PoolConfig::agent(AgentOptions::sdk_default().max_sockets(0).keep_alive(false))
        );
        let hyper = c.config(&settings(PoolKind::HyperUtil, None));
        assert_eq!(hyper.pool_config(), &PoolConfig::hyper_util(0));
    }

    #[test]
    fn timeouts_are_the_sdks() {
        let c = client();
        let mut s = settings(PoolKind::Agent, Some(8));
        s.timeouts = Timeouts {
            connection: Some(Duration::from_millis(300)),
            request: Some(Duration::from_millis(5000)),
        };
        let config = c.config(&s);
        assert_eq!(
            config.pool_config(),
            &PoolConfig::agent(
                AgentOptions::sdk_default()
                    .max_sockets(8)
                    .keep_alive(false)
                    .connection_timeout(Duration::from_millis(300))
                    .socket_acquisition_warning_timeout(Some(Duration::from_millis(5300)))
            )
        );
        let request = config.request_timeout.unwrap();
        assert_eq!(
            (request.after, request.throw),
            (Duration::from_secs(5), false)
        );
    }

    #[tokio::test]
    async fn what_it_cannot_honour_is_refused_before_any_request() {
        let mut s = settings(PoolKind::HyperUtil, Some(8));
        s.timeouts.connection = Some(Duration::from_secs(1));
        let err = client().start(&s).await.unwrap_err();
        assert!(matches!(err, Error::Unsupported { .. }), "{err}");
        let mut s = settings(PoolKind::Agent, Some(8));
        s.endpoint = "https://127.0.0.1:9444".to_owned();
        let err = client().start(&s).await.unwrap_err();
        assert!(err.to_string().contains("9444"), "{err}");
    }
}
