//! [`MockS3`]: the server embedded in another program, on its own runtime threads.
//!
//! The server gets a runtime of its own (default: one worker thread per core) so that its
//! work is never scheduled on the client's runtime: a benchmark's client tasks and the
//! server's tasks do not wait in one scheduler's queue. They still share what one process
//! shares: the cores, the open-file limit (`RLIMIT_NOFILE` caps the server's accepts and the
//! client's connects together) and the allocator. A standalone server (`mock-s3` binary) is
//! the way to keep them apart.

use std::sync::Arc;
use std::sync::mpsc;
use std::time::Duration;

use anyhow::Context as _;
use tokio::sync::oneshot;

use crate::config::{Config, KeyType, StorageMode};
use crate::metrics::{Metrics, MetricsSnapshot};
use crate::ops::App;
use crate::profile::Profile;
use crate::reset::{ResetOptions, ResetReport};
use crate::tls::Certificates;

/// Builds a [`MockS3`]. Each setter states its default.
#[derive(Debug, Default)]
pub struct MockS3Builder {
    config: Config,
    metadata_listener: bool,
}

impl MockS3Builder {
    /// Starts from a full configuration.
    pub fn config(mut self, config: Config) -> Self {
        self.config = config;
        self
    }

    /// Leaf key type. Default: ECDSA P-256.
    pub fn key_type(mut self, key_type: KeyType) -> Self {
        self.config.key_type = key_type;
        self
    }

    /// Storage mode. Default: memory.
    pub fn storage(mut self, storage: StorageMode) -> Self {
        self.config.storage = storage;
        self
    }

    /// Serve plain HTTP instead of TLS. Default: TLS.
    pub fn plain_http(mut self) -> Self {
        self.config.tls = false;
        self
    }

    /// Turn SigV4 verification off. Default: on.
    pub fn no_auth(mut self) -> Self {
        self.config.auth = false;
        self
    }

    /// Worker threads of the server's runtime. Default: the number of cores.
    pub fn worker_threads(mut self, n: usize) -> Self {
        self.config.worker_threads = n.max(1);
        self
    }

    /// Idle keep-alive and header timeout (the profile's `connections.idle_timeout_ms`).
    /// Default: 20 s.
    pub fn header_timeout(mut self, d: Duration) -> Self {
        self.config.profile.connections.idle_timeout_ms = d.as_millis() as u64;
        self
    }

    /// The server profile at start. Default: [`Profile::ideal`].
    pub fn profile(mut self, profile: Profile) -> Self {
        self.config.profile = profile;
        self
    }

    /// Also serve the credential endpoints on a plain-HTTP listener of their own, at the
    /// paths EC2 and ECS clients use (see [`crate::metadata`]; its address is
    /// [`MockS3::metadata_endpoint`]). Default: off.
    pub fn metadata_listener(mut self) -> Self {
        self.metadata_listener = true;
        self
    }

    /// Starts the server on its own runtime threads and returns once it is accepting.
    pub fn start(self) -> anyhow::Result<MockS3> {
        let config = self.config;
        config
            .profile
            .validate()
            .map_err(|e| anyhow::anyhow!("invalid server profile: {e}"))?;
        crate::tls::install_crypto_provider();
        let certs = Certificates::generate(config.key_type).context("generating certificates")?;
        let tls = if config.tls {
            Some(certs.server_config().context("building the TLS config")?)
        } else {
            None
        };
        let metrics = Arc::new(Metrics::default());
        // Every thread of the server's runtime counts its CPU time in the server's metrics.
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(config.worker_threads)
            .thread_name("mock-s3")
            .on_thread_start({
                let metrics = metrics.clone();
                move || metrics.cpu().register_current()
            })
            .on_thread_stop({
                let metrics = metrics.clone();
                move || metrics.cpu().unregister_current()
            })
            .enable_all()
            .build()
            .context("starting the server runtime")?;
        // Bind with std so that `start` also works when called from inside another runtime
        // (block_on would panic there), then hand the socket to the server's runtime.
        let std_listener = std::net::TcpListener::bind(config.listen)
            .with_context(|| format!("binding {}", config.listen))?;
        std_listener.set_nonblocking(true)?;
        let addr = std_listener.local_addr()?;
        let listener = {
            let _enter = runtime.enter();
            tokio::net::TcpListener::from_std(std_listener)?
        };
        let scheme = if config.tls { "https" } else { "http" };
        let endpoint = format!("{scheme}://{addr}");
        let app = Arc::new(App::new(config, metrics.clone()));
        let metadata_endpoint = if self.metadata_listener {
            let std_listener = std::net::TcpListener::bind((addr.ip(), 0))
                .context("binding the metadata listener")?;
            std_listener.set_nonblocking(true)?;
            let endpoint = format!("http://{}", std_listener.local_addr()?);
            let _enter = runtime.enter();
            let listener = tokio::net::TcpListener::from_std(std_listener)?;
            // It stops with the runtime.
            runtime.spawn(crate::metadata::run(listener, app.clone()));
            Some(endpoint)
        } else {
            None
        };
        let (stop_tx, stop_rx) = oneshot::channel::<()>();
        let (done_tx, done_rx) = mpsc::channel::<()>();
        runtime.spawn({
            let app = app.clone();
            async move {
                crate::server::run(listener, tls, app, async {
                    let _ = stop_rx.await;
                })
                .await;
                let _ = done_tx.send(());
            }
        });
        Ok(MockS3 {
            runtime: Some(runtime),
            stop: Some(stop_tx),
            done: done_rx,
            endpoint,
            metadata_endpoint,
            addr,
            certs,
            app,
        })
    }
}

/// A running mock server. Dropping it shuts it down.
#[derive(Debug)]
pub struct MockS3 {
    runtime: Option<tokio::runtime::Runtime>,
    stop: Option<oneshot::Sender<()>>,
    done: mpsc::Receiver<()>,
    endpoint: String,
    metadata_endpoint: Option<String>,
    addr: std::net::SocketAddr,
    certs: Certificates,
    app: Arc<App>,
}

impl MockS3 {
    /// A builder with every default.
    pub fn builder() -> MockS3Builder {
        MockS3Builder::default()
    }

    /// The endpoint URL, e.g. `https://127.0.0.1:40123`.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// The bound address.
    pub fn addr(&self) -> std::net::SocketAddr {
        self.addr
    }

    /// The CA certificate (PEM) that signed the server's certificate.
    pub fn ca_pem(&self) -> &str {
        self.certs.ca_pem()
    }

    /// The CA certificate as DER.
    pub fn ca_der(&self) -> &rustls::pki_types::CertificateDer<'static> {
        self.certs.ca_der()
    }

    /// The access key id the server accepts.
    pub fn access_key(&self) -> &str {
        &self.app.config.access_key
    }

    /// The secret access key.
    pub fn secret_key(&self) -> &str {
        &self.app.config.secret_key
    }

    /// The region.
    pub fn region(&self) -> &str {
        &self.app.config.region
    }

    /// The configuration in effect.
    pub fn config(&self) -> &Config {
        &self.app.config
    }

    /// A copy of every counter.
    pub fn metrics(&self) -> MetricsSnapshot {
        self.app.metrics.snapshot()
    }

    /// The profile in effect.
    pub fn profile(&self) -> Profile {
        (*self.app.profile()).clone()
    }

    /// Replaces the profile while running (rate-limit budgets start afresh).
    pub fn set_profile(&self, profile: Profile) -> anyhow::Result<()> {
        self.app
            .set_profile(profile)
            .map_err(|e| anyhow::anyhow!("invalid server profile: {e}"))
    }

    /// The container-credentials URL (`AWS_CONTAINER_CREDENTIALS_FULL_URI`).
    pub fn container_credentials_url(&self) -> String {
        format!("{}/__mock/credentials/container", self.endpoint)
    }

    /// The token the container endpoint requires (`AWS_CONTAINER_AUTHORIZATION_TOKEN`).
    pub fn container_token(&self) -> String {
        self.app.profile().credentials.container_token.clone()
    }

    /// The IMDS endpoint (`AWS_EC2_METADATA_SERVICE_ENDPOINT`); the standard paths follow it.
    pub fn imds_endpoint(&self) -> String {
        format!("{}/__mock/imds", self.endpoint)
    }

    /// The plain-HTTP metadata listener, e.g. `http://127.0.0.1:40124`, when started with
    /// [`MockS3Builder::metadata_listener`]: IMDSv2 at its root paths (the value for
    /// `AWS_EC2_METADATA_SERVICE_ENDPOINT`), container credentials at `/credentials/container`.
    pub fn metadata_endpoint(&self) -> Option<&str> {
        self.metadata_endpoint.as_deref()
    }

    /// Sets the counters to zero, and nothing else (see [`MockS3::reset`] for the whole
    /// state). Gauges keep their value.
    pub fn reset_metrics(&self) {
        self.app.metrics.reset();
    }

    /// Puts the server back as it started, as `POST /__mock/reset` does: closes every
    /// connection from before (waiting up to `options.wait` for them to close), gives every
    /// prefix a fresh rate-limit budget, starts the random sequence again from request 0
    /// (with `options.seed` if given) and sets the counters to zero. The profile and stored
    /// objects stay. See [`crate::reset`].
    ///
    /// Runs on the server's own threads, so it can be awaited from any runtime.
    pub async fn reset(&self, options: ResetOptions) -> ResetReport {
        let app = self.app.clone();
        let task = self
            .runtime
            .as_ref()
            .expect("the runtime lives until the handle is dropped")
            .spawn(async move { app.reset(&options, false).await });
        task.await.expect("the reset task does not panic")
    }

    /// [`MockS3::reset`] for synchronous callers: blocks the calling thread until done
    /// (allowed inside another runtime too, as [`MockS3::shutdown`] is).
    pub fn reset_blocking(&self, options: ResetOptions) -> ResetReport {
        let app = self.app.clone();
        let (tx, rx) = mpsc::channel();
        self.runtime
            .as_ref()
            .expect("the runtime lives until the handle is dropped")
            .spawn(async move {
                let _ = tx.send(app.reset(&options, false).await);
            });
        rx.recv().expect("the reset task does not panic")
    }

    /// Bytes accounted against the memory cap now: object data held, plus the reservations of
    /// bodies being read.
    pub fn stored_bytes(&self) -> u64 {
        self.app.store.used_bytes()
    }

    /// Creates a bucket directly (no request), e.g. to prepare a benchmark.
    pub fn create_bucket(&self, name: &str) -> anyhow::Result<()> {
        self.app
            .store
            .create_bucket(name)
            .map_err(|e| anyhow::anyhow!("{e}"))
    }

    /// Stops accepting, lets open connections finish (up to 5 s) and stops the runtime.
    pub fn shutdown(mut self) {
        self.stop_now();
    }

    fn stop_now(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
            // Blocking on a std channel is allowed even inside another runtime.
            let _ = self.done.recv_timeout(Duration::from_secs(6));
        }
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_background();
        }
    }
}

impl Drop for MockS3 {
    fn drop(&mut self) {
        self.stop_now();
    }
}
