//! TLS resumption on bursts of new sockets against the mock, compared with Node: poolsweep's
//! Agent runs each burst, and so does Node's `https.Agent` (`node_burst.js`) when `node` is
//! on PATH (without it, the Node side is skipped and said so on stderr). The expected counts
//! are Node v20.20.2's, measured against this server: the mock (rustls, stateful session
//! cache) accepts a ticket once, so a burst resumes one socket per cached session, in Node
//! (which offers its one session to every new socket) and here (which offers it to the first).
//! The server's own counts must agree with the client's.

use std::path::PathBuf;
use std::process::Command;

use bytes::Bytes;
use http::Request;
use http::header::HOST;
use http_body_util::Full;
use mock_s3::MockS3;
use rustls::RootCertStore;
use serde::Deserialize;

use crate::pool::{Agent, AgentOptions, HttpConnector, Origin, read_body_and_release};

/// TLS handshakes, as the clients and the server count them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
struct Handshakes {
    sockets: u64,
    full: u64,
    resumed: u64,
}

/// A burst scenario: `warm` requests one after another, then each burst at once, the
/// agent destroyed between bursts (so that each burst opens new sockets).
struct Scenario {
    max_sockets: usize,
    warm: usize,
    bursts: &'static [usize],
    /// Node v20.20.2's counts against the mock.
    node: Handshakes,
}

const SCENARIOS: [Scenario; 3] = [
    // One warm socket, reused; 9 new sockets share the one cached session: 1 resumes.
    Scenario {
        max_sockets: 10,
        warm: 1,
        bursts: &[10],
        node: Handshakes {
            sockets: 10,
            full: 9,
            resumed: 1,
        },
    },
    // A cold burst (nothing to resume), then after destroy() a second one: 1 resumes.
    Scenario {
        max_sockets: 10,
        warm: 0,
        bursts: &[10, 10],
        node: Handshakes {
            sockets: 20,
            full: 19,
            resumed: 1,
        },
    },
    // The cap holds the burst to 4 sockets, 3 of them new: 1 resumes.
    Scenario {
        max_sockets: 4,
        warm: 1,
        bursts: &[20],
        node: Handshakes {
            sockets: 4,
            full: 3,
            resumed: 1,
        },
    },
];

#[test]
fn bursts_of_new_sockets_resume_as_node_does() {
    let mock = MockS3::builder()
        .no_auth()
        .worker_threads(2)
        .start()
        .unwrap();
    let node = NodeRunner::find(&mock);
    for scenario in &SCENARIOS {
        let what = format!(
            "maxSockets {}, {} warm, bursts {:?}",
            scenario.max_sockets, scenario.warm, scenario.bursts
        );
        mock.reset_metrics();
        let ours = poolsweep_burst(&mock, scenario);
        assert_eq!(ours, server_counts(&mock), "server vs poolsweep, {what}");
        assert_eq!(ours, scenario.node, "poolsweep vs Node, {what}");
        if let Some(node) = &node {
            mock.reset_metrics();
            let theirs = node.burst(scenario);
            assert_eq!(theirs, server_counts(&mock), "server vs Node, {what}");
            assert_eq!(theirs, ours, "Node vs poolsweep, {what}");
        }
    }
}

fn server_counts(mock: &MockS3) -> Handshakes {
    let m = mock.metrics();
    Handshakes {
        sockets: m.connections_accepted,
        full: m.tls_full,
        resumed: m.tls_resumed,
    }
}

/// The scenario through poolsweep's Agent, on a current-thread runtime: as in Node, every
/// socket of a burst is created (and bound to the cached session) before any handshake of
/// the burst completes.
fn poolsweep_burst(mock: &MockS3, scenario: &Scenario) -> Handshakes {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let mut roots = RootCertStore::empty();
        roots.add(mock.ca_der().clone()).unwrap();
        let agent = Agent::new(
            HttpConnector::new(roots).unwrap(),
            AgentOptions::sdk_default().max_sockets(scenario.max_sockets),
        );
        let origin = Origin::https("localhost", mock.addr().port());
        for _ in 0..scenario.warm {
            get(agent.clone(), origin.clone()).await;
        }
        for (i, &size) in scenario.bursts.iter().enumerate() {
            if i > 0 {
                agent.destroy();
            }
            let burst: Vec<_> = (0..size)
                .map(|_| tokio::spawn(get(agent.clone(), origin.clone())))
                .collect();
            for request in burst {
                request.await.unwrap();
            }
        }
        let s = agent.stats();
        Handshakes {
            sockets: s.sockets_created,
            full: s.tls_full,
            resumed: s.tls_resumed,
        }
    })
}

async fn get(agent: Agent<HttpConnector>, origin: Origin) {
    let mut socket = agent.checkout(&origin).await.expect("checkout");
    let request = Request::get("/__mock/health")
        .header(HOST, origin.authority())
        .header(http::header::CONNECTION, agent.connection_header())
        .body(Full::new(Bytes::new()))
        .unwrap();
    let response = socket.send_request(request).await.expect("response");
    let (response, _) = read_body_and_release(socket, response).await.expect("body");
    assert!(response.status().is_success());
}

/// Runs `node_burst.js` against the mock.
struct NodeRunner {
    script: PathBuf,
    ca: CaFile,
    port: u16,
}

impl NodeRunner {
    /// `None`, said on stderr, when `node` is not on PATH.
    fn find(mock: &MockS3) -> Option<Self> {
        match Command::new("node").arg("--version").output() {
            Ok(out) if out.status.success() => {}
            _ => {
                eprintln!(
                    "node not found on PATH: the Node side of the TLS burst comparison is skipped"
                );
                return None;
            }
        }
        Some(Self {
            script: PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("src/pool/connector/node_burst.js"),
            ca: CaFile::write(mock.ca_pem()),
            port: mock.addr().port(),
        })
    }

    fn burst(&self, scenario: &Scenario) -> Handshakes {
        let bursts: Vec<String> = scenario.bursts.iter().map(usize::to_string).collect();
        let out = Command::new("node")
            .arg(&self.script)
            .arg(self.port.to_string())
            .arg(&self.ca.0)
            .arg(scenario.max_sockets.to_string())
            .arg(scenario.warm.to_string())
            .arg(bursts.join(","))
            .output()
            .expect("running node");
        assert!(
            out.status.success(),
            "node failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let line = String::from_utf8(out.stdout).unwrap();
        eprintln!("node: {}", line.trim());
        serde_json::from_str(&line).expect("node's JSON line")
    }
}

/// The mock's CA certificate in a temp file, for Node. Removed on drop.
struct CaFile(PathBuf);

impl CaFile {
    fn write(pem: &str) -> Self {
        let name = format!("poolsweep-node-burst-ca-{}.pem", std::process::id());
        let path = std::env::temp_dir().join(name);
        std::fs::write(&path, pem).unwrap();
        Self(path)
    }
}

impl Drop for CaFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}
