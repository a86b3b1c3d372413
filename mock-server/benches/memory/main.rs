//! Memory of the standalone server: its peak resident set (VmHWM) under load.
//!
//! 1. **Discard sweep**: `--storage discard`, 10,000 PUTs of 1 MiB over 16 keep-alive TLS
//!    connections. Fails if the peak reaches 200 MiB.
//! 2. **Memory cap under concurrent large uploads**: `--memory-cap 256m`, three rounds of 16
//!    concurrent PUTs of 64 MiB (four fit the cap, the others are refused at once with 507)
//!    beside 8 concurrent PUTs of 1 GiB (refused at once), every key deleted between rounds;
//!    then `--storage discard` with 8 concurrent PUTs of 512 MiB (held by nobody). Fails if
//!    the peak passes the cap plus [`OVERHEAD_MIB`].
//!
//! Run: `cargo bench -p mock-s3 --bench memory` (`-- --quick` for smaller sizes).

#[path = "../serve/client.rs"]
mod client;
mod scenario;

use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;

const OBJECTS: usize = 10_000;
const SIZE: usize = 1 << 20;
const CONNECTIONS: usize = 16;
const LIMIT_KIB: u64 = 200 * 1024;
/// What the server may hold beyond its memory cap: its resident set at start (code, TLS,
/// runtime: about 10 MiB) plus per-connection buffers (hyper's read buffer, rustls records:
/// under 256 KiB each) and the allocator's slack. Measured: see the README.
const OVERHEAD_MIB: u64 = 64;

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let quick = std::env::args().any(|a| a == "--test" || a == "--quick");
    mock_s3::tls::install_crypto_provider();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    // `-- cap` runs the memory-cap part alone.
    if !std::env::args().any(|a| a == "cap") {
        discard_sweep(&rt, if quick { 500 } else { OBJECTS });
    }
    let (cap_mib, size, huge, discard_size) = if quick {
        (32, 8 << 20, 256 << 20, 64 << 20)
    } else {
        (256, 64 << 20, 1 << 30, 512 << 20)
    };
    memory_cap(&rt, cap_mib, size, huge, discard_size);
}

fn discard_sweep(rt: &tokio::runtime::Runtime, objects: usize) {
    let server = scenario::Server::start(
        std::path::Path::new(env!("CARGO_BIN_EXE_mock-s3")),
        &["--storage", "discard"],
    );
    let (access_key, secret_key) = server.keys();
    let target = client::Target {
        addr: server.addr,
        ca: server.ca(),
        access_key,
        secret_key,
    };
    let baseline = server.rss_kib();
    let start = Instant::now();
    rt.block_on(async {
        let mut c = target.connect().await;
        assert_eq!(c.send("PUT", "/sweep", Bytes::new()).await, 200);
        let body = Bytes::from(vec![0xA5u8; SIZE]);
        let mut tasks = Vec::new();
        for t in 0..CONNECTIONS {
            let target = target.clone();
            let body = body.clone();
            tasks.push(tokio::spawn(async move {
                let mut c = target.connect().await;
                for i in (t..objects).step_by(CONNECTIONS) {
                    let status = c
                        .send("PUT", &format!("/sweep/obj-{i:05}"), body.clone())
                        .await;
                    assert_eq!(status, 200);
                }
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
    });
    let elapsed = start.elapsed();
    let peak = server.peak_kib();
    let now = server.rss_kib();
    println!(
        "discard sweep: {objects} PUTs of 1 MiB in {:.1} s; server RSS before {} MiB, after {} MiB, peak {} MiB (limit 200 MiB)",
        elapsed.as_secs_f64(),
        baseline / 1024,
        now / 1024,
        peak / 1024
    );
    assert!(
        peak < LIMIT_KIB,
        "peak RSS {peak} KiB is over the 200 MiB limit"
    );
}

fn memory_cap(rt: &tokio::runtime::Runtime, cap_mib: u64, size: u64, huge: u64, discard: u64) {
    let binary = std::path::Path::new(env!("CARGO_BIN_EXE_mock-s3"));
    let cap = format!("{cap_mib}m");
    for storage in ["memory", "discard"] {
        let server = Arc::new(scenario::Server::start(
            binary,
            &["--memory-cap", &cap, "--storage", storage],
        ));
        let baseline = server.rss_kib();
        let start = Instant::now();
        let outcome = rt.block_on(async {
            if storage == "memory" {
                scenario::concurrent_uploads(&server, 3, 16, size, 8, huge).await
            } else {
                scenario::concurrent_uploads(&server, 1, 8, discard, 0, 0).await
            }
        });
        let peak = server.peak_kib();
        let what = if storage == "memory" {
            format!(
                "3 rounds of 16 PUTs of {} MiB + 8 of {} MiB",
                size >> 20,
                huge >> 20
            )
        } else {
            format!("8 PUTs of {} MiB", discard >> 20)
        };
        println!(
            "--storage {storage} --memory-cap {cap}: {what} in {:.1} s: {} stored, {} refused at once, {} timed out, other {:?}; server RSS at start {} MiB, peak {} MiB = cap + {} MiB (bound: cap + {OVERHEAD_MIB} MiB)",
            start.elapsed().as_secs_f64(),
            outcome.stored,
            outcome.refused_at_once,
            outcome.timed_out,
            outcome.other,
            baseline / 1024,
            peak / 1024,
            (peak / 1024).saturating_sub(cap_mib),
        );
        assert!(outcome.other.is_empty(), "{outcome:?}");
        if storage == "memory" {
            let fit = (cap_mib << 20) / size;
            assert_eq!(
                (outcome.stored + outcome.timed_out) as u64,
                3 * fit,
                "{outcome:?}"
            );
        } else {
            assert_eq!(outcome.stored + outcome.timed_out, 8, "{outcome:?}");
        }
        assert!(
            peak <= (cap_mib + OVERHEAD_MIB) << 10,
            "peak RSS {} MiB is over the cap ({cap_mib} MiB) + {OVERHEAD_MIB} MiB",
            peak / 1024
        );
    }
}
