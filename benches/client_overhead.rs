//! Client overhead: the CPU time per request of poolsweep's S3 client (sign, send, read the
//! response) against the `ideal` mock, side by side in one run with a bare hyper client that
//! sends the same bytes on the same kind of connection: the floor. The goal (decided in
//! issue 15): the client costs at most 1.25 × the floor plus the body hash that signed-payload
//! SigV4 needs (the floor sends headers signed once up front, so it hashes nothing; run with
//! `CLIENT_OVERHEAD_PAYLOAD=unsigned` to see what the hash costs). No further signer
//! micro-optimisation is wanted.
//!
//! What is measured is the CPU time of the bench thread (`CLOCK_THREAD_CPUTIME_ID`): the
//! client runs on a current-thread runtime on that thread (its connection tasks too), and the
//! mock runs on a runtime of its own (one worker thread), so server work is not counted and
//! waiting for the server costs nothing. Requests go one at a time on one keep-alive TLS
//! connection (maxSockets 1), so both sides send and read the same bytes over the same socket
//! type; the floor's headers are those the client sends, signed once up front (valid for the
//! 15-minute skew window, longer than the run).
//!
//! Contenders per op (`put_1KiB`, `get_1KiB`): `floor`; the client over each pool (`agent`,
//! `hyper_util`); and two signers alone, without I/O: `signer`, poolsweep's (the one the
//! client calls, with its signing key cached as the JS SDK caches it), and `sigv4`, aws-sigv4's
//! `sign()` as the Rust SDK calls it (key derived on every call), so the table shows what
//! signing costs in each and how much of the client's cost is signing.
//!
//! After criterion's own output come two tables: one from criterion's estimates, and one from
//! interleaved rounds (each contender in turn, so load from elsewhere on the machine hits them
//! alike), each with the client's and the floor's CPU per request, the ratio (the goal), and
//! the two signers' cost per request.
//!
//! Bodies are signed as the SDKs sign a body held in memory (its SHA-256 in
//! `x-amz-content-sha256`); `CLIENT_OVERHEAD_PAYLOAD=unsigned` runs every contender with
//! `UNSIGNED-PAYLOAD` instead, which shows what hashing the body costs.
//!
//! Run: `cargo bench --bench client_overhead` (add `-- --quick` for a shorter run). For a
//! profiler, `CLIENT_OVERHEAD_ONLY=put_1KiB/agent/20000` runs only that many requests of one
//! contender (e.g. under `perf record` or `valgrind --tool=callgrind`).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use aws_smithy_runtime_api::client::identity::Identity;
use bytes::Bytes;
use criterion::{Criterion, SamplingMode};
use http::header::{CONNECTION, CONTENT_LENGTH, HOST, HeaderValue};
use http::{HeaderMap, Method, Request, Uri};
use http_body_util::{BodyExt as _, Full};
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use mock_s3::{MockS3, Profile};
use poolsweep::pool::AgentOptions;
use poolsweep::s3::{ClientConfig, PayloadSigning, S3Client, Signer};
use poolsweep::transport::PoolConfig;
use rustix::time::{ClockId, clock_gettime};
use tokio::runtime::Runtime;

const BUCKET: &str = "bench";
const BODY: usize = 1024;
const OPS: [(&str, Method, &str); 2] = [
    ("put_1KiB", Method::PUT, "/bench/put-me"),
    ("get_1KiB", Method::GET, "/bench/get-me"),
];
const CLIENTS: [&str; 2] = ["agent", "hyper_util"];

/// CPU time of the calling thread.
fn thread_cpu() -> Duration {
    let t = clock_gettime(ClockId::ThreadCPUTime);
    Duration::new(t.tv_sec as u64, t.tv_nsec as u32)
}

/// The floor: hyper's HTTP/1.1 connection over rustls, nothing else.
struct Floor {
    sender: SendRequest<Full<Bytes>>,
    uri: Uri,
    method: Method,
    headers: HeaderMap,
    body: Bytes,
}

impl Floor {
    async fn connect(
        server: &MockS3,
        payload: PayloadSigning,
        method: Method,
        path: &str,
        body: Bytes,
    ) -> Self {
        let mut roots = rustls::RootCertStore::empty();
        roots.add(server.ca_der().clone()).unwrap();
        let mut config = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::aws_lc_rs::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        let tcp = tokio::net::TcpStream::connect(server.addr()).await.unwrap();
        tcp.set_nodelay(true).unwrap();
        let host = server.addr().ip().to_string();
        let tls = tokio_rustls::TlsConnector::from(Arc::new(config))
            .connect(rustls::pki_types::ServerName::try_from(host).unwrap(), tcp)
            .await
            .unwrap();
        let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(tls))
            .await
            .unwrap();
        tokio::spawn(conn);
        Self {
            sender,
            uri: path.parse().unwrap(),
            headers: signed_headers(server, payload, &method, path, &body),
            method,
            body,
        }
    }

    async fn send(&mut self) -> u16 {
        let mut request = Request::new(Full::new(self.body.clone()));
        *request.method_mut() = self.method.clone();
        *request.uri_mut() = self.uri.clone();
        *request.headers_mut() = self.headers.clone();
        self.sender.ready().await.unwrap();
        let response = self.sender.send_request(request).await.unwrap();
        let status = response.status().as_u16();
        let body = response.into_body().collect().await.unwrap().to_bytes();
        std::hint::black_box(body);
        status
    }
}

/// The headers poolsweep's client sends for this request, before signing.
fn unsigned_headers(server: &MockS3, method: &Method, body: &[u8]) -> HeaderMap {
    let mut headers = HeaderMap::with_capacity(12);
    headers.insert(
        HOST,
        HeaderValue::from_str(&server.addr().to_string()).unwrap(),
    );
    if *method == Method::PUT {
        headers.insert(CONTENT_LENGTH, HeaderValue::from(body.len()));
    }
    headers.insert(
        "amz-sdk-invocation-id",
        HeaderValue::from_static("0f0e0d0c-0b0a-4908-8706-050403020100"),
    );
    headers.insert(
        "amz-sdk-request",
        HeaderValue::from_static("attempt=1; max=3"),
    );
    headers
}

fn identity(server: &MockS3) -> Identity {
    Credentials::new(
        server.access_key(),
        server.secret_key(),
        None,
        None,
        "bench",
    )
    .into()
}

/// The headers poolsweep's client sends for this request, signed once, now.
fn signed_headers(
    server: &MockS3,
    payload: PayloadSigning,
    method: &Method,
    path: &str,
    body: &[u8],
) -> HeaderMap {
    let mut headers = unsigned_headers(server, method, body);
    Signer::new(server.region(), payload)
        .sign_with_aws_sigv4(
            &identity(server),
            SystemTime::now(),
            method,
            path,
            &mut headers,
            body,
        )
        .unwrap();
    headers.insert(CONNECTION, HeaderValue::from_static("keep-alive"));
    headers
}

fn client(server: &MockS3, payload: PayloadSigning, name: &str) -> S3Client {
    let pool = match name {
        "agent" => PoolConfig::agent(AgentOptions::sdk_default().max_sockets(1)),
        _ => PoolConfig::hyper_util(1),
    };
    let config = ClientConfig::for_mock(server)
        .unwrap()
        .pool(pool)
        .payload_signing(payload);
    S3Client::new(&config).unwrap()
}

/// How bodies are signed in this run, from `CLIENT_OVERHEAD_PAYLOAD`: `signed` (default:
/// the body's SHA-256, as the SDKs sign a body held in memory) or `unsigned`
/// (`UNSIGNED-PAYLOAD`). With the suffix of criterion's group names, so that the two modes'
/// results are kept apart.
fn payload_from_env() -> Result<(PayloadSigning, &'static str), String> {
    match std::env::var("CLIENT_OVERHEAD_PAYLOAD") {
        Err(std::env::VarError::NotPresent) => Ok((PayloadSigning::Sha256, "")),
        Ok(v) if v == "signed" => Ok((PayloadSigning::Sha256, "")),
        Ok(v) if v == "unsigned" => Ok((PayloadSigning::Unsigned, "_unsigned")),
        Ok(v) => Err(format!(
            "CLIENT_OVERHEAD_PAYLOAD must be `signed` or `unsigned`, not {v:?}"
        )),
        Err(e) => Err(format!("CLIENT_OVERHEAD_PAYLOAD: {e}")),
    }
}

/// One request of `op` through the client; the status it got.
async fn client_send(client: &S3Client, op: &str, body: &Bytes) -> u16 {
    let outcome = if op == "put_1KiB" {
        client
            .put_object(BUCKET, "put-me", body.clone())
            .await
            .map(|o| o.outcome)
    } else {
        client.get_object(BUCKET, "get-me").await.map(|o| {
            std::hint::black_box(o.value.body);
            o.outcome
        })
    };
    outcome.map_or(0, |o| o.status.unwrap_or(0))
}

/// Who sends the requests being measured.
#[derive(Clone, Copy)]
enum Who {
    /// aws-sigv4's `sign()` alone (no I/O): what signing costs the Rust SDK.
    Sigv4,
    /// poolsweep's signer alone (no I/O), with its key cache warm as in the client.
    Signer,
    /// The bare hyper client.
    Floor,
    /// `CLIENTS[i]`.
    Client(usize),
}

impl Who {
    fn name(self) -> &'static str {
        match self {
            Who::Sigv4 => "sigv4",
            Who::Signer => "signer",
            Who::Floor => "floor",
            Who::Client(i) => CLIENTS[i],
        }
    }
}

/// Everything one op's measurements need.
struct Bench {
    op: &'static str,
    /// Criterion's group: the op, with `_unsigned` in that payload mode.
    group: String,
    method: Method,
    path: &'static str,
    body: Bytes,
    identity: Identity,
    unsigned: HeaderMap,
    signer: Signer,
    floor: Floor,
    clients: Vec<S3Client>,
}

impl Bench {
    /// `n` requests (or signatures) by `who` on the bench thread; the thread's CPU time.
    /// Every request must be answered 200: the work really happened.
    fn run(&mut self, runtime: &Runtime, who: Who, n: u64) -> Duration {
        let start = thread_cpu();
        match who {
            Who::Sigv4 | Who::Signer => {
                let sign = match who {
                    Who::Sigv4 => Signer::sign_with_aws_sigv4,
                    _ => Signer::sign,
                };
                for _ in 0..n {
                    let mut headers = self.unsigned.clone();
                    sign(
                        &self.signer,
                        &self.identity,
                        SystemTime::now(),
                        &self.method,
                        self.path,
                        &mut headers,
                        &self.body,
                    )
                    .unwrap();
                    std::hint::black_box(headers);
                }
            }
            Who::Floor => runtime.block_on(async {
                for _ in 0..n {
                    assert_eq!(self.floor.send().await, 200);
                }
            }),
            Who::Client(i) => runtime.block_on(async {
                for _ in 0..n {
                    assert_eq!(
                        client_send(&self.clients[i], self.op, &self.body).await,
                        200
                    );
                }
            }),
        }
        thread_cpu() - start
    }
}

/// The CPUs this process may run on.
fn allowed_cpus() -> Vec<usize> {
    use rustix::thread::{CpuSet, sched_getaffinity};
    sched_getaffinity(None)
        .map(|set| (0..CpuSet::MAX_CPU).filter(|&c| set.is_set(c)).collect())
        .unwrap_or_default()
}

/// Pins the calling thread (and the threads it starts from now on) to `cpu`.
fn pin_to(cpu: usize) -> bool {
    let mut set = rustix::thread::CpuSet::new();
    set.set(cpu);
    rustix::thread::sched_setaffinity(None, &set).is_ok()
}

fn main() {
    let (payload, suffix) = payload_from_env().unwrap_or_else(|e| {
        eprintln!("error: {e}");
        std::process::exit(2);
    });
    // With two CPUs or more, the mock's threads get one CPU and the bench thread another, so
    // that neither ever waits for the other's CPU, and the kernel's loopback work lands the
    // same way for every contender (a packet's receive path runs on the sender's CPU).
    let cpus = allowed_cpus();
    let pinned = cpus.len() >= 2 && pin_to(cpus[1]);
    // Idle connections are never closed by the server during the run: one connection each.
    let server = MockS3::builder()
        .worker_threads(1)
        .profile(Profile::ideal())
        .header_timeout(Duration::from_secs(3600))
        .start()
        .expect("mock starts");
    server.create_bucket(BUCKET).unwrap();
    let pinned = pinned && pin_to(cpus[0]);
    if !pinned {
        eprintln!(
            "note: bench thread and mock not pinned to separate CPUs ({} available)",
            cpus.len()
        );
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let clients: Vec<S3Client> = CLIENTS
        .iter()
        .map(|&n| client(&server, payload, n))
        .collect();
    let object = Bytes::from(vec![b'x'; BODY]);
    runtime.block_on(async {
        let put = clients[0]
            .put_object(BUCKET, "get-me", object.clone())
            .await;
        assert_eq!(put.unwrap().outcome.status, Some(200));
    });
    let mut benches: Vec<Bench> = OPS
        .into_iter()
        .map(|(op, method, path)| {
            let body = if method == Method::PUT {
                object.clone()
            } else {
                Bytes::new()
            };
            Bench {
                op,
                group: format!("{op}{suffix}"),
                floor: runtime.block_on(Floor::connect(
                    &server,
                    payload,
                    method.clone(),
                    path,
                    body.clone(),
                )),
                unsigned: unsigned_headers(&server, &method, &body),
                signer: Signer::new(server.region(), payload),
                identity: identity(&server),
                method,
                path,
                body,
                clients: clients.clone(),
            }
        })
        .collect();
    let contenders: Vec<Who> = [Who::Sigv4, Who::Signer, Who::Floor]
        .into_iter()
        .chain((0..CLIENTS.len()).map(Who::Client))
        .collect();

    // For profilers: `CLIENT_OVERHEAD_ONLY=put_1KiB/agent/20000` runs that many requests of one
    // contender and nothing else (e.g. under `perf record` or `valgrind --tool=callgrind`).
    if let Ok(only) = std::env::var("CLIENT_OVERHEAD_ONLY") {
        let mut parts = only.split('/');
        let (op, name) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
        let n: u64 = parts.next().and_then(|n| n.parse().ok()).unwrap_or(10_000);
        let bench = benches.iter_mut().find(|b| b.op == op).expect("op");
        let who = *contenders
            .iter()
            .find(|w| w.name() == name)
            .expect("contender");
        let cpu = bench.run(&runtime, who, n);
        println!(
            "{op}/{name}: {n} requests, {:.2} µs CPU each",
            cpu.as_secs_f64() * 1e6 / n as f64
        );
        return;
    }

    let mut criterion = Criterion::default()
        .configure_from_args()
        .sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4));
    for bench in &mut benches {
        let mut group = criterion.benchmark_group(&bench.group);
        group.sampling_mode(SamplingMode::Flat);
        for &who in &contenders {
            group.bench_function(who.name(), |b| {
                b.iter_custom(|iters| bench.run(&runtime, who, iters));
            });
        }
        group.finish();
    }
    criterion.final_summary();
    println!(
        "\npayload: {}",
        match payload {
            PayloadSigning::Sha256 => "signed (SHA-256 of the body)",
            PayloadSigning::Unsigned => "UNSIGNED-PAYLOAD",
        }
    );
    summary(suffix);
    let skip = ["--test", "--list", "--profile-time"];
    if !std::env::args().any(|a| skip.contains(&a.as_str())) {
        interleaved(&runtime, &mut benches, &contenders);
    }

    println!("\nconnections per client over the whole run (the floor used one per op)");
    for (name, client) in CLIENTS.iter().zip(&clients) {
        let s = client.pool_stats();
        println!(
            "{name:<11} requests {:>8}  sockets opened {:>3}  tls full {:>3} resumed {:>3}",
            s.requests, s.sockets_opened, s.tls_full, s.tls_resumed
        );
        assert_eq!(s.sockets_opened, 1, "{name}: one connection throughout");
    }
}

/// The same comparison with the contenders interleaved: each round runs every contender for
/// `PER_ROUND` requests in turn, so load from elsewhere on the machine hits them alike; the
/// table gives the median over rounds of each one's CPU per request and of the ratios.
fn interleaved(runtime: &Runtime, benches: &mut [Bench], contenders: &[Who]) {
    const ROUNDS: usize = 60;
    const PER_ROUND: u64 = 200;
    let median = |mut v: Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    println!(
        "\ninterleaved: {ROUNDS} rounds x {PER_ROUND} requests per contender, medians over rounds"
    );
    println!(
        "{:<10} {:<11} {:>9} {:>9} {:>7} {:>9} {:>9}",
        "op", "client", "client", "floor", "ratio", "signer", "sigv4"
    );
    for bench in benches {
        for &who in contenders {
            bench.run(runtime, who, PER_ROUND / 4);
        }
        let mut us: Vec<Vec<f64>> = vec![Vec::with_capacity(ROUNDS); contenders.len()];
        for _ in 0..ROUNDS {
            for (k, &who) in contenders.iter().enumerate() {
                let t = bench.run(runtime, who, PER_ROUND);
                us[k].push(t.as_secs_f64() * 1e6 / PER_ROUND as f64);
            }
            if std::env::var_os("ROUNDS_VERBOSE").is_some() {
                let last: Vec<String> = us
                    .iter()
                    .map(|v| format!("{:.1}", v[v.len() - 1]))
                    .collect();
                eprintln!("{} {}", bench.op, last.join(" "));
            }
        }
        // contenders = [sigv4, signer, floor, clients...]
        let (sigv4, signer, floor) = (0, 1, 2);
        for (k, &who) in contenders.iter().enumerate().skip(3) {
            let ratio: Vec<f64> = (0..ROUNDS).map(|r| us[k][r] / us[floor][r]).collect();
            println!(
                "{:<10} {:<11} {:>9.1} {:>9.1} {:>7.2} {:>9.1} {:>9.1}",
                bench.op,
                who.name(),
                median(us[k].clone()),
                median(us[floor].clone()),
                median(ratio),
                median(us[signer].clone()),
                median(us[sigv4].clone()),
            );
        }
    }
}

/// Prints µs of client CPU per request for the floor and each client, and the ratios, from
/// criterion's estimates.
fn summary(suffix: &str) {
    let dir = std::env::var_os("CRITERION_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            std::env::var_os("CARGO_TARGET_DIR")
                .map(PathBuf::from)
                .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target"))
                .join("criterion")
        });
    let us = |group: &str, name: &str| -> Option<f64> {
        let path = dir.join(group).join(name).join("new/estimates.json");
        let text = std::fs::read_to_string(path).ok()?;
        let v: serde_json::Value = serde_json::from_str(&text).ok()?;
        Some(v["median"]["point_estimate"].as_f64()? / 1e3)
    };
    println!(
        "\nclient CPU per request (median µs on the client thread; goal: client <= 1.25 × (floor + body hash), \
         the hash measured as signed minus CLIENT_OVERHEAD_PAYLOAD=unsigned)"
    );
    println!("signer: poolsweep's signer alone; sigv4: aws-sigv4's sign() alone");
    println!(
        "{:<10} {:<11} {:>9} {:>9} {:>7} {:>9} {:>9}",
        "op", "client", "client", "floor", "ratio", "signer", "sigv4"
    );
    for (op, _, _) in OPS {
        let group = format!("{op}{suffix}");
        let us = |name: &str| us(&group, name);
        for name in CLIENTS {
            if let (Some(c), Some(f)) = (us(name), us("floor")) {
                let or_dash = |v: Option<f64>| v.map_or("-".to_owned(), |v| format!("{v:.1}"));
                println!(
                    "{op:<10} {name:<11} {c:>9.1} {f:>9.1} {:>7.2} {:>9} {:>9}",
                    c / f,
                    or_dash(us("signer")),
                    or_dash(us("sigv4")),
                );
            }
        }
    }
}
