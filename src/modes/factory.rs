//! [`ClientFactory`]: hands out S3 clients per [`ClientMode`] and keeps one set of counters
//! for all of them, so a run's totals (sockets, handshakes, retries, failures) do not depend
//! on how many clients it made.
//!
//! Invariant: in `shared` and `shared-handler` modes the factory makes its clients once, up
//! front, and hands out clones; in `per-request` mode every call makes a new client with a new
//! pool, TLS session cache and credentials provider. Either way, every pool records into the
//! factory's [`PoolCounters`] and every client into its [`ClientCounters`].

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use std::num::NonZeroUsize;

use super::mode::{ClientMode, DEFAULT_SHARED_HANDLER_CLIENTS};
use crate::s3::{
    BuildError, ClientConfig, ClientCounters, ClientStats, CredentialsProvider, S3Client,
};
use crate::transport::{Pool, PoolCounters, PoolStats};

/// Makes and hands out clients.
///
/// # Examples
///
/// ```no_run
/// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
/// use poolsweep::modes::{ClientFactory, ClientMode};
/// use poolsweep::pool::AgentOptions;
/// use poolsweep::s3::ClientConfig;
/// use poolsweep::transport::PoolConfig;
///
/// let server = mock_s3::MockS3::builder().start()?;
/// server.create_bucket("bucket")?;
/// let config = ClientConfig::for_mock(&server)?
///     .pool(PoolConfig::agent(AgentOptions::sdk_default().max_sockets(10)));
/// let factory = ClientFactory::new(config, ClientMode::PerRequest)?;
/// for i in 0..3 {
///     let client = factory.client(i)?;
///     client.put_object("bucket", &format!("k{i}"), bytes::Bytes::from_static(b"x")).await?;
/// }
/// assert_eq!(factory.pool_stats().sockets_opened, 3);
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct ClientFactory {
    config: ClientConfig,
    mode: ClientMode,
    pool_counters: Arc<PoolCounters>,
    counters: Arc<ClientCounters>,
    clients: Vec<S3Client>,
    created: AtomicU64,
}

impl ClientFactory {
    /// A factory for `mode`, with [`DEFAULT_SHARED_HANDLER_CLIENTS`] clients in
    /// shared-handler mode. Shared clients are built here.
    pub fn new(config: ClientConfig, mode: ClientMode) -> Result<Self, BuildError> {
        Self::with_clients(config, mode, DEFAULT_SHARED_HANDLER_CLIENTS)
    }

    /// A factory for `mode`, with `shared_handler_clients` clients sharing one handler in
    /// shared-handler mode (the other modes make one client, or one per request). Shared
    /// clients are built here.
    pub fn with_clients(
        config: ClientConfig,
        mode: ClientMode,
        shared_handler_clients: NonZeroUsize,
    ) -> Result<Self, BuildError> {
        let mut factory = Self {
            config,
            mode,
            pool_counters: Arc::default(),
            counters: Arc::default(),
            clients: Vec::new(),
            created: AtomicU64::new(0),
        };
        match mode {
            ClientMode::PerRequest => {}
            ClientMode::Shared => {
                let client = factory.build()?;
                factory.clients.push(client);
            }
            ClientMode::SharedHandler => {
                let first = factory.build()?;
                for _ in 1..shared_handler_clients.get() {
                    let client = S3Client::from_parts(
                        &factory.config,
                        first.pool().clone(),
                        first.credentials().clone(),
                        Arc::clone(&factory.pool_counters),
                        Arc::clone(&factory.counters),
                    );
                    factory.created.fetch_add(1, Ordering::Relaxed);
                    factory.clients.push(client);
                }
                factory.clients.insert(0, first);
            }
        }
        Ok(factory)
    }

    /// A client with its own pool and credentials provider, recording into the factory's
    /// counters.
    fn build(&self) -> Result<S3Client, BuildError> {
        let pool = Pool::new(
            &self.config.pool,
            &self.config.endpoint,
            Arc::clone(&self.config.roots),
            Arc::clone(&self.pool_counters),
        )?;
        let credentials = CredentialsProvider::new(
            self.config.credentials.clone(),
            Arc::clone(&self.config.roots),
        );
        self.created.fetch_add(1, Ordering::Relaxed);
        Ok(S3Client::from_parts(
            &self.config,
            pool,
            credentials,
            Arc::clone(&self.pool_counters),
            Arc::clone(&self.counters),
        ))
    }

    /// The client for request number `index`: the shared one, a new one, or client
    /// `index % n` of the shared handler's.
    pub fn client(&self, index: usize) -> Result<S3Client, BuildError> {
        match self.mode {
            ClientMode::PerRequest => self.build(),
            ClientMode::Shared | ClientMode::SharedHandler => {
                Ok(self.clients[index % self.clients.len()].clone())
            }
        }
    }

    /// The mode.
    pub fn mode(&self) -> ClientMode {
        self.mode
    }

    /// The config clients are built from.
    pub fn config(&self) -> &ClientConfig {
        &self.config
    }

    /// Clients made so far.
    pub fn clients_created(&self) -> u64 {
        self.created.load(Ordering::Relaxed)
    }

    /// All pools' counters together.
    pub fn pool_stats(&self) -> PoolStats {
        self.pool_counters.snapshot()
    }

    /// All clients' counters together.
    pub fn client_stats(&self) -> ClientStats {
        self.counters.snapshot()
    }
}
