//! Mock vs floor: small PUT and GET over keep-alive TLS at 1, 16 and 64 concurrent
//! connections, side by side in one run. The floor is a minimal hyper + rustls server that
//! only reads the body and answers 200; the goal is that the mock serves at least 70% of the
//! floor's requests per second. After criterion's own output, a table gives both figures and
//! the ratio, read from criterion's estimates.
//!
//! Run: `cargo bench -p mock-s3 --bench serve` (add `-- --quick` for a shorter run).

mod client;
mod floor;

use std::time::{Duration, Instant};

use bytes::Bytes;
use criterion::{BenchmarkId, Criterion, SamplingMode, Throughput};
use mock_s3::MockS3;

const CONCURRENCY: [usize; 3] = [1, 16, 64];
const BODY: usize = 1024;
/// Requests per measured iteration, spread evenly over the connections.
const REQUESTS: usize = 512;
const SERVER_THREADS: usize = 1;

fn main() {
    mock_s3::tls::install_crypto_provider();
    let mock = MockS3::builder()
        .worker_threads(SERVER_THREADS)
        .start()
        .expect("mock starts");
    mock.create_bucket("bench").unwrap();
    let certs = mock_s3::tls::Certificates::generate(mock_s3::KeyType::Ecdsa).unwrap();
    let body = Bytes::from(vec![b'x'; BODY]);
    let floor = floor::start(certs.server_config().unwrap(), SERVER_THREADS, body.clone());
    let targets = [
        (
            "mock",
            client::Target {
                addr: mock.addr(),
                ca: mock.ca_der().clone(),
                access_key: mock.access_key().to_owned(),
                secret_key: mock.secret_key().to_owned(),
            },
        ),
        (
            "floor",
            client::Target {
                addr: floor.addr,
                ca: certs.ca_der().clone(),
                access_key: mock.access_key().to_owned(),
                secret_key: mock.secret_key().to_owned(),
            },
        ),
    ];
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    // The GET benchmark reads this object from the mock.
    rt.block_on(async {
        let mut c = targets[0].1.connect().await;
        assert_eq!(c.send("PUT", "/bench/get-me", body.clone()).await, 200);
    });

    let mut criterion = Criterion::default()
        .configure_from_args()
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3));
    for (op, method, path) in [
        ("put_1KiB", "PUT", "/bench/obj"),
        ("get_1KiB", "GET", "/bench/get-me"),
    ] {
        let mut group = criterion.benchmark_group(op);
        group.sampling_mode(SamplingMode::Flat);
        group.throughput(Throughput::Elements(REQUESTS as u64));
        for &c in &CONCURRENCY {
            for (name, target) in &targets {
                let conns = rt.block_on(async {
                    let mut v = Vec::new();
                    for _ in 0..c {
                        v.push(target.connect().await);
                    }
                    v
                });
                let conns = std::sync::Arc::new(tokio::sync::Mutex::new(conns));
                group.bench_with_input(BenchmarkId::new(*name, c), &c, |b, &c| {
                    b.to_async(&rt).iter_custom(|iters| {
                        let conns = conns.clone();
                        let body = body.clone();
                        async move {
                            let mut all = conns.lock().await;
                            let start = Instant::now();
                            for _ in 0..iters {
                                let per = REQUESTS / c;
                                let tasks: Vec<_> = all
                                    .drain(..)
                                    .map(|mut conn| {
                                        let body = if method == "PUT" {
                                            body.clone()
                                        } else {
                                            Bytes::new()
                                        };
                                        tokio::spawn(async move {
                                            for _ in 0..per {
                                                let status =
                                                    conn.send(method, path, body.clone()).await;
                                                assert_eq!(status, 200);
                                            }
                                            conn
                                        })
                                    })
                                    .collect();
                                for t in tasks {
                                    all.push(t.await.unwrap());
                                }
                            }
                            start.elapsed()
                        }
                    });
                });
            }
        }
        group.finish();
    }
    criterion.final_summary();
    summary();
}

/// Prints requests/s of mock and floor and their ratio from criterion's estimates.
fn summary() {
    let dir = std::env::var_os("CRITERION_HOME")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| {
            let target = std::env::var_os("CARGO_TARGET_DIR")
                .map(std::path::PathBuf::from)
                .unwrap_or_else(|| {
                    std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target")
                });
            target.join("criterion")
        });
    let rate = |group: &str, name: &str, c: usize| -> Option<f64> {
        let path = dir
            .join(group)
            .join(name)
            .join(c.to_string())
            .join("new/estimates.json");
        let text = std::fs::read_to_string(path).ok()?;
        let v: serde_json::Value = serde_json::from_str(&text).ok()?;
        let ns = v["median"]["point_estimate"].as_f64()?;
        Some(REQUESTS as f64 / (ns / 1e9))
    };
    println!("\nmock vs floor (median requests/s; goal: ratio >= 0.70)");
    println!(
        "{:<10} {:>5} {:>12} {:>12} {:>7}",
        "op", "conns", "mock", "floor", "ratio"
    );
    for group in ["put_1KiB", "get_1KiB"] {
        for c in CONCURRENCY {
            if let (Some(m), Some(f)) = (rate(group, "mock", c), rate(group, "floor", c)) {
                println!("{group:<10} {c:>5} {m:>12.0} {f:>12.0} {:>7.2}", m / f);
            }
        }
    }
}
