//! The line protocol between poolsweep and the js-v3 runner (`runners/js-v3/PROTOCOL.md`).
//!
//! One JSON object per line each way, `type` naming the message; the runner's stderr is for
//! logs only. poolsweep speaks first (`hello` with its [`PROTOCOL`] version) and the runner
//! answers `hello` with the same version, or a fatal `error` and exit status 2.
//!
//! ```text
//! poolsweep → runner                          runner → poolsweep
//! {"type":"hello","protocol":1}               {"type":"hello","protocol":1,"node":…,"packages":{…},"pid":…}
//! {"type":"start","run":1,"mode":…,…}         {"type":"started","run":1}
//! {"type":"op","id":0,"op":"put","key":…,"size":16384}
//! {"type":"op","id":1,…}   (any number in flight)
//!                                             {"type":"done","id":1,"ok":true,…}  (completion order)
//! {"type":"finish","run":1}  (nothing in flight)
//!                                             {"type":"finished","run":1,"sockets_opened":…,…}
//! {"type":"exit"}  or end of stdin            (the runner exits)
//!                                             {"type":"error","message":…,"fatal":false}
//! ```
//!
//! Invariant: every `op` gets exactly one `done` with its `id`.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::super::report::{OpReport, RunReport};
use super::super::settings::{CredentialSource, RunSettings};
use crate::modes::ClientMode;
use crate::sut::{ErrorClass, OpKind};

/// The protocol version this side speaks.
pub const PROTOCOL: u32 = 1;

/// Credentials as the runner reads them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "source", rename_all = "lowercase")]
pub enum WireCredentials<'a> {
    /// Static keys.
    Static {
        /// Access key id.
        access_key_id: &'a str,
        /// Secret access key.
        secret_access_key: &'a str,
        /// Session token.
        #[serde(skip_serializing_if = "Option::is_none")]
        session_token: Option<&'a str>,
    },
    /// `AWS_CONTAINER_CREDENTIALS_FULL_URI` and `AWS_CONTAINER_AUTHORIZATION_TOKEN`.
    Container {
        /// Full URI.
        full_uri: &'a str,
        /// Authorization token.
        token: &'a str,
    },
    /// `AWS_EC2_METADATA_SERVICE_ENDPOINT`.
    Imds {
        /// Endpoint.
        endpoint: &'a str,
    },
}

impl<'a> From<&'a CredentialSource> for WireCredentials<'a> {
    fn from(c: &'a CredentialSource) -> Self {
        match c {
            CredentialSource::Static {
                access_key_id,
                secret_access_key,
                session_token,
            } => WireCredentials::Static {
                access_key_id,
                secret_access_key,
                session_token: session_token.as_deref(),
            },
            CredentialSource::Container { full_uri, token } => {
                WireCredentials::Container { full_uri, token }
            }
            CredentialSource::Imds { endpoint } => WireCredentials::Imds { endpoint },
        }
    }
}

/// A message to the runner.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum ToRunner<'a> {
    /// The handshake: the version this side speaks.
    Hello {
        /// [`PROTOCOL`].
        protocol: u32,
    },
    /// Build the run's clients.
    Start {
        /// Run number, echoed in `started` and `finished`.
        run: u64,
        /// `shared`, `per-request` or `shared-handler`.
        mode: &'static str,
        /// Clients of a shared handler.
        clients: usize,
        /// maxSockets; `null` is Infinity.
        max_sockets: Option<u32>,
        /// The Agent's keepAlive.
        keep_alive: bool,
        /// S3 endpoint.
        endpoint: &'a str,
        /// Region.
        region: &'a str,
        /// Bucket.
        bucket: &'a str,
        /// Credentials.
        credentials: WireCredentials<'a>,
    },
    /// One operation.
    Op {
        /// Unique within the run; operation `id` of a shared handler goes to client
        /// `id % clients`.
        id: u64,
        /// `put` or `get`.
        op: &'static str,
        /// Object key.
        key: &'a str,
        /// Body size of a PUT (the runner makes the bytes).
        #[serde(skip_serializing_if = "Option::is_none")]
        size: Option<u64>,
    },
    /// Close the run (nothing in flight): destroy its clients and report.
    Finish {
        /// Run number.
        run: u64,
    },
    /// Exit now.
    Exit,
}

impl<'a> ToRunner<'a> {
    /// The `start` message of a run.
    pub fn start(run: u64, s: &'a RunSettings) -> Self {
        let clients = match s.mode {
            ClientMode::SharedHandler => s.shared_handler_clients.get(),
            _ => 1,
        };
        ToRunner::Start {
            run,
            mode: s.mode.as_str(),
            clients,
            max_sockets: s.max_sockets,
            keep_alive: s.keep_alive,
            endpoint: &s.endpoint,
            region: &s.region,
            bucket: &s.bucket,
            credentials: (&s.credentials).into(),
        }
    }

    /// The `op` message of one operation.
    pub fn op(id: u64, op: OpKind, key: &'a str, size: u64) -> Self {
        match op {
            OpKind::Put => ToRunner::Op {
                id,
                op: "put",
                key,
                size: Some(size),
            },
            OpKind::Get => ToRunner::Op {
                id,
                op: "get",
                key,
                size: None,
            },
        }
    }

    /// The message as one line, newline included.
    pub fn line(&self) -> String {
        let mut s = serde_json::to_string(self).expect("protocol messages serialize");
        s.push('\n');
        s
    }
}

/// How a failed operation is counted, as the runner classifies it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WireErrorKind {
    /// EMFILE or ENFILE.
    Emfile,
    /// A timeout.
    Timeout,
    /// Connection reset or broken pipe.
    Reset,
    /// SlowDown after the retries.
    Slowdown,
    /// Anything else.
    Other,
}

impl From<WireErrorKind> for ErrorClass {
    fn from(k: WireErrorKind) -> Self {
        match k {
            WireErrorKind::Emfile => ErrorClass::Emfile,
            WireErrorKind::Timeout => ErrorClass::Timeout,
            WireErrorKind::Reset => ErrorClass::Reset,
            WireErrorKind::Slowdown => ErrorClass::SlowDown,
            WireErrorKind::Other => ErrorClass::Other,
        }
    }
}

/// A failed operation's error.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct WireError {
    /// How it is counted.
    pub kind: WireErrorKind,
    /// The JS error's `name`.
    #[serde(default)]
    pub name: Option<String>,
    /// Its `code` (e.g. `EMFILE`), if any.
    #[serde(default)]
    pub code: Option<serde_json::Value>,
    /// Its message, cut to 300 characters.
    #[serde(default)]
    pub message: String,
}

/// `done`: one operation finished.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Done {
    /// The operation's id.
    pub id: u64,
    /// Whether it succeeded.
    pub ok: bool,
    /// Why not.
    #[serde(default)]
    pub error: Option<WireError>,
    /// From the runner reading the `op` line to the SDK's promise settling.
    pub latency_ms: f64,
    /// Time queued in the Agent for a socket, over all attempts.
    pub socket_wait_ms: f64,
    /// `$metadata.attempts`.
    pub attempts: u32,
    /// `$metadata.totalRetryDelay`.
    pub retry_delay_ms: f64,
    /// Retries by reason: throttling, transient, timeout, other.
    pub retries: [u32; 4],
    /// Bytes sent (PUT) or read (GET).
    pub bytes: u64,
}

fn ms(v: f64) -> Duration {
    Duration::from_secs_f64((v / 1000.0).max(0.0))
}

impl From<Done> for OpReport {
    fn from(d: Done) -> Self {
        let (error, message) = match (d.ok, d.error) {
            (true, _) => (None, String::new()),
            (false, Some(e)) => {
                let what = match (&e.name, &e.code) {
                    (Some(n), Some(c)) => format!("{n} ({c}): "),
                    (Some(n), None) => format!("{n}: "),
                    (None, Some(c)) => format!("{c}: "),
                    (None, None) => String::new(),
                };
                (Some(e.kind.into()), format!("{what}{}", e.message))
            }
            (false, None) => (Some(ErrorClass::Other), "no error given".to_owned()),
        };
        OpReport {
            latency: ms(d.latency_ms),
            socket_wait: ms(d.socket_wait_ms),
            attempts: d.attempts,
            retry_delay: ms(d.retry_delay_ms),
            retries: d.retries,
            bytes: d.bytes,
            error,
            message,
        }
    }
}

/// `finished`: a run's counters.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Finished {
    /// Run number.
    pub run: u64,
    /// Operations served.
    pub ops: u64,
    /// Clients made.
    pub clients: u64,
    /// Sockets that connected.
    pub sockets_opened: u64,
    /// Most open at once.
    pub peak_open: u64,
    /// Full TLS handshakes.
    pub tls_full: u64,
    /// Resumed TLS handshakes (`socket.isSessionReused()`).
    pub tls_resumed: u64,
    /// Sockets that closed without connecting.
    pub connect_errors: u64,
    /// `process.cpuUsage()` user time over the run, µs.
    pub cpu_user_us: u64,
    /// System time, µs.
    pub cpu_system_us: u64,
}

impl From<Finished> for RunReport {
    fn from(f: Finished) -> Self {
        RunReport {
            ops: f.ops,
            clients: f.clients,
            sockets_opened: f.sockets_opened,
            peak_open: f.peak_open,
            tls_full: Some(f.tls_full),
            tls_resumed: Some(f.tls_resumed),
            connect_errors: f.connect_errors,
            cpu: Some(Duration::from_micros(f.cpu_user_us + f.cpu_system_us)),
        }
    }
}

/// A message from the runner.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum FromRunner {
    /// The handshake's answer.
    Hello {
        /// The version it speaks.
        protocol: u32,
        /// `process.version`.
        node: String,
        /// Installed versions of the pinned packages.
        packages: BTreeMap<String, String>,
        /// The runner's process id.
        pid: u32,
    },
    /// The run's clients are built.
    Started {
        /// Run number.
        run: u64,
    },
    /// An operation finished.
    Done(Done),
    /// A run finished.
    Finished(Finished),
    /// Something went wrong; `fatal` means the runner exits.
    Error {
        /// What.
        message: String,
        /// Whether the runner is exiting.
        #[serde(default)]
        fatal: bool,
    },
}

impl FromRunner {
    /// Parses one line.
    pub fn parse(line: &str) -> Result<Self, serde_json::Error> {
        serde_json::from_str(line)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_to_the_runner_are_one_json_line_each() {
        let hello = ToRunner::Hello { protocol: PROTOCOL }.line();
        assert_eq!(hello, "{\"type\":\"hello\",\"protocol\":1}\n");
        let op = ToRunner::op(7, OpKind::Put, "p0000/obj-7", 16384).line();
        assert_eq!(
            op,
            "{\"type\":\"op\",\"id\":7,\"op\":\"put\",\"key\":\"p0000/obj-7\",\"size\":16384}\n"
        );
        let get = ToRunner::op(8, OpKind::Get, "k\"\n", 0).line();
        assert_eq!(get.matches('\n').count(), 1, "{get}");
        let v: serde_json::Value = serde_json::from_str(&get).unwrap();
        assert_eq!(v["key"], "k\"\n");
        assert!(v.get("size").is_none());
    }

    #[test]
    fn start_carries_the_points_settings() {
        let s = RunSettings {
            sdk: crate::sut::Sdk::JsV3,
            mode: ClientMode::SharedHandler,
            shared_handler_clients: std::num::NonZeroUsize::new(4).unwrap(),
            max_sockets: None,
            keep_alive: true,
            pool: crate::transport::PoolKind::Agent,
            timeouts: crate::sut::Timeouts::default(),
            endpoint: "https://127.0.0.1:1".into(),
            region: "us-east-1".into(),
            bucket: "b".into(),
            credentials: CredentialSource::Container {
                full_uri: "https://127.0.0.1:1/c".into(),
                token: "t".into(),
            },
            ca_file: None,
            nofile: None,
            time_budget: crate::sut::settings::DEFAULT_TIME_BUDGET,
        };
        let v: serde_json::Value = serde_json::from_str(&ToRunner::start(3, &s).line()).unwrap();
        assert_eq!(v["type"], "start");
        assert_eq!(v["mode"], "shared-handler");
        assert_eq!(v["clients"], 4);
        assert!(v["max_sockets"].is_null(), "Infinity is null");
        assert_eq!(v["credentials"]["source"], "container");
        assert_eq!(v["credentials"]["token"], "t");
    }

    #[test]
    fn runner_messages_parse() {
        let done = FromRunner::parse(
            r#"{"type":"done","id":3,"ok":false,"error":{"kind":"emfile","name":"Error","code":"EMFILE","message":"connect EMFILE 127.0.0.1:443"},"latency_ms":1.5,"socket_wait_ms":0,"attempts":1,"retry_delay_ms":0,"retries":[0,0,0,0],"bytes":0}"#,
        )
        .unwrap();
        let FromRunner::Done(d) = done else {
            panic!("{done:?}")
        };
        let r = OpReport::from(d);
        assert_eq!(r.error, Some(ErrorClass::Emfile));
        assert_eq!(
            r.message,
            "Error (\"EMFILE\"): connect EMFILE 127.0.0.1:443"
        );
        assert_eq!(r.latency, Duration::from_micros(1500));
        let fin = FromRunner::parse(
            r#"{"type":"finished","run":1,"ops":10,"clients":1,"sockets_opened":2,"peak_open":2,"tls_full":1,"tls_resumed":1,"connect_errors":0,"cpu_user_us":1000,"cpu_system_us":500}"#,
        )
        .unwrap();
        let FromRunner::Finished(f) = fin else {
            panic!("{fin:?}")
        };
        let r = RunReport::from(f);
        assert_eq!(r.cpu, Some(Duration::from_micros(1500)));
        assert_eq!((r.tls_full, r.tls_resumed), (Some(1), Some(1)));
    }

    #[test]
    fn a_line_that_is_not_the_protocol_is_an_error() {
        assert!(FromRunner::parse("hello").is_err());
        assert!(FromRunner::parse(r#"{"type":"nope"}"#).is_err());
        assert!(FromRunner::parse(r#"{"type":"done","id":"x"}"#).is_err());
    }
}
