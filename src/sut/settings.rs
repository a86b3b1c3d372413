//! [`RunSettings`]: what a client under test is told at the start of a run (one point's
//! settings), whatever language it is written in.

use std::num::NonZeroUsize;
use std::path::PathBuf;
use std::time::Duration;

use crate::modes::{ClientMode, DEFAULT_SHARED_HANDLER_CLIENTS};
use crate::transport::PoolKind;

use super::Sdk;

/// Which kind of credentials source a sweep uses, as its result file records it.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum CredentialKind {
    /// Fixed keys: nothing is fetched. Default.
    #[default]
    Static,
    /// The container endpoint (ECS/EKS): each SDK's default chain fetches them, once per
    /// client (per request for a client per request).
    Container,
    /// IMDSv2 (EC2): token, role and credentials, once per client.
    Imds,
}

impl CredentialKind {
    /// What it means, for reports: "static keys (nothing fetched)", ….
    pub fn describe(self) -> &'static str {
        match self {
            CredentialKind::Static => "static keys (nothing fetched)",
            CredentialKind::Container => {
                "the container endpoint (ECS/EKS): every client's default chain fetches them, \
                 so a client per request fetches per request"
            }
            CredentialKind::Imds => {
                "IMDSv2 (EC2): every client's default chain fetches a token, the role and the \
                 keys, so a client per request fetches per request"
            }
        }
    }
}

impl std::fmt::Display for CredentialKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            CredentialKind::Static => "static",
            CredentialKind::Container => "container",
            CredentialKind::Imds => "imds",
        })
    }
}

/// Where every client of a run gets its credentials from.
#[derive(Clone, PartialEq, Eq)]
pub enum CredentialSource {
    /// Fixed keys, known up front: no fetch, whatever the client mode.
    Static {
        /// Access key id.
        access_key_id: String,
        /// Secret access key.
        secret_access_key: String,
        /// Session token, if any.
        session_token: Option<String>,
    },
    /// The container endpoint (ECS/EKS): `AWS_CONTAINER_CREDENTIALS_FULL_URI` and
    /// `AWS_CONTAINER_AUTHORIZATION_TOKEN`, read by each SDK's default credential chain. Every
    /// client that builds its own chain fetches once: a client per request fetches per request.
    Container {
        /// The full URI, e.g. `https://127.0.0.1:40123/__mock/credentials/container`.
        full_uri: String,
        /// The authorization token the endpoint checks.
        token: String,
    },
    /// IMDSv2 (EC2): `AWS_EC2_METADATA_SERVICE_ENDPOINT`, read by each SDK's default chain
    /// (token, role, credentials: three requests per fetch).
    Imds {
        /// The metadata service's root, e.g. the mock's
        /// [`metadata_endpoint`](mock_s3::MockS3::metadata_endpoint) `http://127.0.0.1:40124`.
        endpoint: String,
    },
}

impl CredentialSource {
    /// The name used in result files and reports: `static`, `container`, `imds`.
    pub fn name(&self) -> &'static str {
        match self {
            CredentialSource::Static { .. } => "static",
            CredentialSource::Container { .. } => "container",
            CredentialSource::Imds { .. } => "imds",
        }
    }

    /// Its kind.
    pub fn kind(&self) -> CredentialKind {
        match self {
            CredentialSource::Static { .. } => CredentialKind::Static,
            CredentialSource::Container { .. } => CredentialKind::Container,
            CredentialSource::Imds { .. } => CredentialKind::Imds,
        }
    }

    /// The embedded mock's source of `kind`: its keys, its container endpoint, or its IMDSv2
    /// (on the metadata listener, which the mock must have been started with).
    pub fn for_mock(mock: &mock_s3::MockS3, kind: CredentialKind) -> Result<Self, String> {
        match kind {
            CredentialKind::Static => Ok(Self::static_for_mock(mock)),
            CredentialKind::Container => Ok(Self::container_for_mock(mock)),
            CredentialKind::Imds => Self::imds_for_mock(mock).ok_or_else(|| {
                "IMDS credentials need the mock's metadata listener \
                 (MockS3Builder::metadata_listener)"
                    .to_owned()
            }),
        }
    }

    /// The mock's static keys.
    pub fn static_for_mock(mock: &mock_s3::MockS3) -> Self {
        CredentialSource::Static {
            access_key_id: mock.access_key().to_owned(),
            secret_access_key: mock.secret_key().to_owned(),
            session_token: None,
        }
    }

    /// The mock's container endpoint, over TLS.
    pub fn container_for_mock(mock: &mock_s3::MockS3) -> Self {
        CredentialSource::Container {
            full_uri: mock.container_credentials_url(),
            token: mock.container_token(),
        }
    }

    /// The mock's IMDSv2, on its metadata listener; `None` if the mock was started without
    /// one ([`MockS3Builder::metadata_listener`](mock_s3::MockS3Builder::metadata_listener)).
    pub fn imds_for_mock(mock: &mock_s3::MockS3) -> Option<Self> {
        mock.metadata_endpoint().map(|e| CredentialSource::Imds {
            endpoint: e.to_owned(),
        })
    }
}

impl std::fmt::Debug for CredentialSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CredentialSource::Static { access_key_id, .. } => f
                .debug_struct("Static")
                .field("access_key_id", access_key_id)
                .finish_non_exhaustive(),
            CredentialSource::Container { full_uri, .. } => f
                .debug_struct("Container")
                .field("full_uri", full_uri)
                .finish_non_exhaustive(),
            CredentialSource::Imds { endpoint } => {
                f.debug_struct("Imds").field("endpoint", endpoint).finish()
            }
        }
    }
}

/// Where the service is, as a client under test is told it: the part of [`RunSettings`] that
/// is the same for every run of a sweep.
#[derive(Clone, Debug)]
pub struct Service {
    /// The S3 endpoint, e.g. `https://127.0.0.1:40123` (requests are path-style).
    pub endpoint: String,
    /// The region to sign for.
    pub region: String,
    /// Where credentials come from.
    pub credentials: CredentialSource,
    /// PEM file of the CA that signed the endpoint's certificate, trusted in addition to the
    /// system's; `None` to trust the system's roots only.
    pub ca_file: Option<PathBuf>,
}

impl Service {
    /// The embedded mock with its static keys, its CA in `ca`.
    pub fn for_mock(mock: &mock_s3::MockS3, ca: &CaFile) -> Self {
        Service {
            endpoint: mock.endpoint().to_owned(),
            region: mock.region().to_owned(),
            credentials: CredentialSource::static_for_mock(mock),
            ca_file: Some(ca.path().to_owned()),
        }
    }

    /// With credentials from `source` instead.
    pub fn with_credentials(mut self, source: CredentialSource) -> Self {
        self.credentials = source;
        self
    }
}

/// One run's settings: a point of the sweep, as a client under test needs them.
#[derive(Clone, Debug)]
pub struct RunSettings {
    /// Which S3 client the run measures; a client refuses a run for another.
    pub sdk: Sdk,
    /// How clients are made and what they share.
    pub mode: ClientMode,
    /// Clients sharing one handler in [`ClientMode::SharedHandler`] (operation `i` goes to
    /// client `i % n`). Default: [`DEFAULT_SHARED_HANDLER_CLIENTS`] (2, the guide's example).
    pub shared_handler_clients: NonZeroUsize,
    /// maxSockets; `None` is Node's Infinity (no cap).
    pub max_sockets: Option<u32>,
    /// The Agent's `keepAlive`. Default in the SDK: true.
    pub keep_alive: bool,
    /// Which pool, for a client that has more than one (poolsweep's own: the Agent or
    /// hyper-util's); a client with a pool of its own (an SDK's) runs only
    /// [`PoolKind::Agent`], the name of Node's pool, and refuses the other. Default: Agent.
    pub pool: PoolKind,
    /// The request handler's timeouts. Default: none, as in the SDK.
    pub timeouts: Timeouts,
    /// The S3 endpoint, e.g. `https://127.0.0.1:40123` (requests are path-style).
    pub endpoint: String,
    /// The region to sign for.
    pub region: String,
    /// The bucket every operation goes to.
    pub bucket: String,
    /// Where credentials come from.
    pub credentials: CredentialSource,
    /// PEM file of the CA that signed the endpoint's certificate (the mock's), trusted in
    /// addition to the system's; `None` to trust the system's roots only.
    pub ca_file: Option<PathBuf>,
    /// The file-descriptor limit (`RLIMIT_NOFILE`, soft) of the client's process for the run,
    /// for SDKs that run in their own process; `None` leaves it as inherited.
    pub nofile: Option<u64>,
    /// The point's time budget: the workload starts no request after it. A client in another
    /// process that has not answered some time after it is taken for hung and killed.
    /// Default: [`DEFAULT_TIME_BUDGET`].
    pub time_budget: Duration,
}

/// The time budget of a run when nothing says otherwise: 10 minutes.
pub const DEFAULT_TIME_BUDGET: Duration = Duration::from_secs(600);

impl RunSettings {
    /// What an SDK driving its own pool cannot honour here, if anything: a pool other than
    /// its own ([`PoolKind::Agent`], the name the grid gives Node's), or request handler
    /// timeouts (not passed to the SDKs yet). Such a run is refused before any request.
    pub fn beyond_an_sdk(&self) -> Option<String> {
        if self.pool != PoolKind::Agent {
            return Some(format!("pool {}", self.pool));
        }
        (self.timeouts != Timeouts::default()).then(|| format!("timeouts {:?}", self.timeouts))
    }

    /// Settings for the embedded mock: its endpoint, region and static keys, poolsweep's
    /// client, one shared client with keepAlive, the given maxSockets.
    pub fn for_mock(mock: &mock_s3::MockS3, bucket: &str, max_sockets: Option<u32>) -> Self {
        RunSettings {
            sdk: Sdk::Poolsweep,
            mode: ClientMode::Shared,
            shared_handler_clients: DEFAULT_SHARED_HANDLER_CLIENTS,
            max_sockets,
            keep_alive: true,
            pool: PoolKind::Agent,
            timeouts: Timeouts::default(),
            endpoint: mock.endpoint().to_owned(),
            region: mock.region().to_owned(),
            bucket: bucket.to_owned(),
            credentials: CredentialSource::static_for_mock(mock),
            ca_file: None,
            nofile: None,
            time_budget: DEFAULT_TIME_BUDGET,
        }
    }
}

/// The SDK's request handler timeouts (`requestHandler: { connectionTimeout,
/// requestTimeout }`). `None` is the SDK's default, 0: no timeout. A client that cannot set
/// one refuses a run that asks for it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Timeouts {
    /// From hand-over (queue wait included) until the socket's TCP connect.
    pub connection: Option<Duration>,
    /// From hand-over until the response headers; as in the SDK by default, passing it only
    /// logs a warning (no `throwOnRequestTimeout`).
    pub request: Option<Duration>,
}

/// A PEM file written for a client under test to read (e.g. the mock's CA for
/// `NODE_EXTRA_CA_CERTS`), removed when dropped.
#[derive(Debug)]
pub struct CaFile {
    path: PathBuf,
}

impl CaFile {
    /// Writes `pem` to a new file in the temporary directory.
    pub fn write(pem: &str) -> std::io::Result<Self> {
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let path =
            std::env::temp_dir().join(format!("poolsweep-ca-{}-{n}.pem", std::process::id()));
        std::fs::write(&path, pem)?;
        Ok(CaFile { path })
    }

    /// Where it is.
    pub fn path(&self) -> &std::path::Path {
        &self.path
    }
}

impl Drop for CaFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_an_sdk_cannot_honour_is_named() {
        let mut s = RunSettings {
            sdk: Sdk::JsV3,
            mode: ClientMode::PerRequest,
            shared_handler_clients: DEFAULT_SHARED_HANDLER_CLIENTS,
            max_sockets: None,
            keep_alive: true,
            pool: PoolKind::Agent,
            timeouts: Timeouts::default(),
            endpoint: "https://127.0.0.1:1".to_owned(),
            region: "us-east-1".to_owned(),
            bucket: "b".to_owned(),
            credentials: CredentialSource::Imds {
                endpoint: "http://127.0.0.1:2".to_owned(),
            },
            ca_file: None,
            nofile: None,
            time_budget: DEFAULT_TIME_BUDGET,
        };
        assert_eq!(s.beyond_an_sdk(), None);
        s.pool = PoolKind::HyperUtil;
        assert_eq!(s.beyond_an_sdk().as_deref(), Some("pool hyper-util"));
        s.pool = PoolKind::Agent;
        s.timeouts.request = Some(Duration::from_secs(1));
        assert!(s.beyond_an_sdk().unwrap().starts_with("timeouts"));
    }
}
