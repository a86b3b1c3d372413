//! Memory of the standalone server under a sweep-sized upload in `discard` mode.
//!
//! Starts the `mock-s3` binary with `--storage discard`, sends 10,000 PUTs of 1 MiB over 16
//! keep-alive TLS connections, then reads the server process's peak resident set (VmHWM in
//! /proc/PID/status). Fails if the peak reaches 200 MiB.
//!
//! Run: `cargo bench -p mock-s3 --bench discard_memory`.

#[path = "serve/client.rs"]
mod client;

use std::io::BufRead as _;
use std::process::{Command, Stdio};
use std::time::Instant;

use bytes::Bytes;

const OBJECTS: usize = 10_000;
const SIZE: usize = 1 << 20;
const CONNECTIONS: usize = 16;
const LIMIT_KIB: u64 = 200 * 1024;

fn status_kib(pid: u32, field: &str) -> u64 {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    text.lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let quick = std::env::args().any(|a| a == "--test" || a == "--quick");
    let objects = if quick { 500 } else { OBJECTS };
    mock_s3::tls::install_crypto_provider();
    let dir = std::env::temp_dir().join(format!("mock-s3-discard-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let ca = dir.join("ca.pem");
    let mut child = Command::new(env!("CARGO_BIN_EXE_mock-s3"))
        .args([
            "--listen",
            "127.0.0.1:0",
            "--storage",
            "discard",
            "--ca-out",
        ])
        .arg(&ca)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("mock-s3 binary starts");
    let mut first = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    let field = |name: &str| {
        first
            .split_whitespace()
            .find_map(|kv| kv.strip_prefix(name))
            .unwrap()
            .to_owned()
    };
    let endpoint = field("endpoint=");
    let addr: std::net::SocketAddr = endpoint.trim_start_matches("https://").parse().unwrap();
    let pem = std::fs::read(&ca).unwrap();
    let ca_der = rustls::pki_types::CertificateDer::from(base64_decode_pem(&pem));
    let target = client::Target {
        addr,
        ca: ca_der,
        access_key: field("access_key="),
        secret_key: field("secret_key="),
    };
    let baseline = status_kib(child.id(), "VmRSS:");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
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
    let peak = status_kib(child.id(), "VmHWM:");
    let now = status_kib(child.id(), "VmRSS:");
    let _ = child.kill();
    let _ = child.wait();
    let _ = std::fs::remove_dir_all(&dir);
    println!(
        "discard mode: {objects} PUTs of 1 MiB in {:.1} s; server RSS before {} MiB, after {} MiB, peak {} MiB (limit 200 MiB)",
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

/// The DER inside a one-certificate PEM file.
fn base64_decode_pem(pem: &[u8]) -> Vec<u8> {
    use base64::Engine as _;
    let text = std::str::from_utf8(pem).unwrap();
    let b64: String = text.lines().filter(|l| !l.starts_with("-----")).collect();
    base64::engine::general_purpose::STANDARD
        .decode(b64)
        .unwrap()
}
