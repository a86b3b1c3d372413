//! The memory cap bounds what the server holds: bodies are refused before they are read when
//! they cannot fit, bodies being read hold their reservation, `--storage discard` holds no
//! body, the accounting stays exact under storms of concurrent writes, and the standalone
//! server's peak resident set stays under the cap plus a fixed overhead.

use std::sync::{Arc, Mutex};

use tokio::io::AsyncWriteExt as _;

use crate::util::{Framing, HANG_GUARD, Streaming, TestServer, eventually};

#[path = "../../benches/memory/scenario.rs"]
mod scenario;

fn capped(cap: u64, storage: mock_s3::StorageMode) -> TestServer {
    TestServer::with_config(mock_s3::Config {
        memory_cap: cap,
        storage,
        ..Default::default()
    })
}

#[tokio::test]
async fn a_body_that_cannot_fit_is_refused_before_it_is_read() {
    let t = capped(1 << 20, mock_s3::StorageMode::Memory);
    t.bucket("cap").await;
    t.server.reset_metrics();
    let big = vec![1u8; (1 << 20) + 1];
    // Content-Length, and aws-chunked declaring its decoded length (chunked framing).
    let plain = t.signed_at(
        "PUT",
        "/cap/plain",
        &[],
        &big,
        std::time::SystemTime::now(),
        Some("UNSIGNED-PAYLOAD"),
    );
    let r = t.send_framed(plain, Framing::Length, true).await;
    assert_eq!(
        (r.status, r.code()),
        (507, Some("MockStorageFull")),
        "{r:?}"
    );
    let len = big.len().to_string();
    let chunked = t.streaming(
        "/cap/chunked",
        &big,
        Streaming::UnsignedTrailer,
        Some(&len),
        None,
    );
    let r = t.send_framed(chunked, Framing::Chunked, true).await;
    assert_eq!(
        (r.status, r.code()),
        (507, Some("MockStorageFull")),
        "{r:?}"
    );
    // send_framed sends the body only after 100 Continue: none was read.
    assert_eq!(t.server.metrics().bytes_in, 0);
    assert_eq!(t.server.stored_bytes(), 0);
    // What fits is stored.
    let r = t
        .request(t.signed("PUT", "/cap/fits", &[], &big[..1 << 20]))
        .await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(t.server.stored_bytes(), 1 << 20);
}

#[tokio::test]
async fn bodies_being_read_hold_their_reservation() {
    let t = capped(1 << 20, mock_s3::StorageMode::Memory);
    t.bucket("cap").await;
    // 600 KiB declared, 100 KiB sent, then the client waits.
    let req = t.signed_at(
        "PUT",
        "/cap/slow",
        &[],
        b"",
        std::time::SystemTime::now(),
        Some("UNSIGNED-PAYLOAD"),
    );
    let mut head = String::from("PUT /cap/slow HTTP/1.1\r\n");
    for (k, v) in req.headers() {
        head.push_str(&format!("{k}: {}\r\n", v.to_str().unwrap()));
    }
    head.push_str("content-length: 614400\r\n\r\n");
    let mut slow = t.tls_stream().await;
    slow.write_all(head.as_bytes()).await.unwrap();
    slow.write_all(&[2u8; 102_400]).await.unwrap();
    slow.flush().await.unwrap();
    // Wait until the server has taken the first bytes (and so reserved all 600 KiB).
    assert!(eventually(|| t.server.metrics().bytes_in >= 102_400).await);
    assert_eq!(t.server.stored_bytes(), 614_400, "the reservation counts");
    // A second 600 KiB body cannot fit beside it: refused at once.
    let r = t
        .send_framed(
            t.signed("PUT", "/cap/second", &[], &[3u8; 614_400]),
            Framing::Length,
            true,
        )
        .await;
    assert_eq!(
        (r.status, r.code()),
        (507, Some("MockStorageFull")),
        "{r:?}"
    );
    // 400 KiB fits beside it.
    let r = t
        .request(t.signed("PUT", "/cap/small", &[], &[4u8; 409_600]))
        .await;
    assert_eq!(r.status, 200, "{r:?}");
    slow.write_all(&[2u8; 512_000]).await.unwrap();
    slow.flush().await.unwrap();
    let mut out = vec![0u8; 1024];
    let n = tokio::time::timeout(
        HANG_GUARD,
        tokio::io::AsyncReadExt::read(&mut slow, &mut out),
    )
    .await
    .unwrap()
    .unwrap();
    assert!(
        out[..n].starts_with(b"HTTP/1.1 200"),
        "{}",
        String::from_utf8_lossy(&out[..n])
    );
    assert_eq!(t.server.stored_bytes(), 614_400 + 409_600);
}

#[tokio::test]
async fn discard_mode_holds_no_body() {
    let t = capped(1 << 20, mock_s3::StorageMode::Discard);
    let c = t.bucket("cap").await;
    let big = vec![9u8; 3 << 20];
    for framing in [Framing::Length, Framing::Chunked] {
        let len = big.len().to_string();
        let req = t.streaming(
            "/cap/big",
            &big,
            Streaming::UnsignedTrailer,
            Some(&len),
            None,
        );
        let r = t.send_framed(req, framing, true).await;
        assert_eq!(r.status, 200, "{framing:?}: {r:?}");
        // Three times the cap went through; nothing was reserved or kept.
        assert_eq!(t.server.stored_bytes(), 0);
    }
    let head = c
        .head_object()
        .bucket("cap")
        .key("big")
        .send()
        .await
        .unwrap();
    assert_eq!(head.content_length(), Some(3 << 20));
    assert_eq!(
        head.e_tag(),
        Some(format!("\"{}\"", hex::encode(mock_s3::checksum::md5(&big))).as_str())
    );
}

/// Storms of concurrent PUT, DELETE, UploadPart, CompleteMultipartUpload and
/// AbortMultipartUpload on four shared keys and two shared uploads; then the bytes the server
/// accounts equal the bytes it holds (the objects' sizes, every upload finished), and a fill
/// stores exactly the cap. Fails on a store that looks up the old object, inserts the new one
/// and frees the old one's bytes in three steps.
#[tokio::test]
async fn accounting_is_exact_after_storms_of_concurrent_writes() {
    const CAP: u64 = 8 << 20;
    let t = TestServer::with_config(mock_s3::Config {
        memory_cap: CAP,
        worker_threads: 4,
        ..Default::default()
    });
    let c = t.bucket("storm").await;
    for storm in 0..2u64 {
        // Two uploads at a time, on keys k0 and k1; their ids, as they change.
        let uploads: Arc<Mutex<Vec<String>>> = Arc::new(Mutex::new(Vec::new()));
        for u in 0..2 {
            let out = c
                .create_multipart_upload()
                .bucket("storm")
                .key(format!("k{u}"))
                .send()
                .await
                .unwrap();
            uploads
                .lock()
                .unwrap()
                .push(out.upload_id().unwrap().to_owned());
        }
        // 16 clients at once (the server runs them on its own four worker threads).
        let clients = (0..16u64).map(|task| {
            let (t, uploads) = (&t, &uploads);
            async move {
                let mut conn = t.connection().await;
                let mut x = (storm * 16 + task) * 0x9E37_79B9 + 1;
                for i in 0..40u64 {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    let k = x % 4;
                    let size = 1 + (x >> 8) as usize % (32 << 10);
                    let slot = (x % 2) as usize;
                    let id = uploads.lock().unwrap()[slot].clone();
                    let req = match (x >> 24) % 8 {
                        0..=2 => t.signed("PUT", &format!("/storm/k{k}"), &[], &vec![5u8; size]),
                        3 => t.signed("DELETE", &format!("/storm/k{k}"), &[], b""),
                        4 | 5 => t.signed(
                            "PUT",
                            &format!("/storm/k{slot}?partNumber={}&uploadId={id}", i % 3 + 1),
                            &[],
                            &vec![6u8; size],
                        ),
                        6 => {
                            // Complete with part 1 as it is now (it may change meanwhile).
                            let Ok(list) = conn
                                .send(t.signed("GET", &format!("/storm/k{slot}?uploadId={id}"), &[], b""))
                                .await
                            else {
                                conn = t.connection().await;
                                continue;
                            };
                            let Some(etag) = list
                                .body
                                .split("<ETag>")
                                .nth(1)
                                .and_then(|s| s.split("</ETag>").next())
                            else {
                                continue;
                            };
                            let xml = format!(
                                "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>{etag}</ETag></Part></CompleteMultipartUpload>"
                            );
                            t.signed("POST", &format!("/storm/k{slot}?uploadId={id}"), &[], xml.as_bytes())
                        }
                        _ => t.signed("DELETE", &format!("/storm/k{slot}?uploadId={id}"), &[], b""),
                    };
                    // A body refused before it is read (507) ends its connection.
                    let Ok(r) = conn.send(req).await else {
                        conn = t.connection().await;
                        continue;
                    };
                    assert!(
                        matches!(r.status, 200 | 204 | 400 | 404 | 507),
                        "{r:?}"
                    );
                    // A finished upload is replaced by a fresh one on its key.
                    if (x >> 24) % 8 >= 6 && matches!(r.status, 200 | 204) {
                        let out = conn
                            .send(t.signed("POST", &format!("/storm/k{slot}?uploads"), &[], b""))
                            .await
                            .unwrap();
                        let new = out.body.split("<UploadId>").nth(1).unwrap();
                        let new = new.split("</UploadId>").next().unwrap().to_owned();
                        let mut ids = uploads.lock().unwrap();
                        if ids[slot] == id {
                            ids[slot] = new;
                        } else {
                            ids.push(new);
                        }
                    }
                }
            }
        });
        futures_util::future::join_all(clients).await;
        // Every upload the storm started is finished: what is left is the objects.
        let ids = uploads.lock().unwrap().clone();
        for id in ids {
            for k in 0..2 {
                let _ = c
                    .abort_multipart_upload()
                    .bucket("storm")
                    .key(format!("k{k}"))
                    .upload_id(&id)
                    .send()
                    .await;
            }
        }
        let listed: u64 = c
            .list_objects_v2()
            .bucket("storm")
            .send()
            .await
            .unwrap()
            .contents()
            .iter()
            .map(|o| o.size().unwrap_or(0) as u64)
            .sum();
        assert_eq!(
            t.server.stored_bytes(),
            listed,
            "storm {storm}: accounted vs held"
        );
        // A fill stores exactly what is left of the cap, and then not one byte more.
        let left = CAP - listed;
        let r = t
            .request(t.signed("PUT", "/storm/fill", &[], &vec![7u8; left as usize]))
            .await;
        assert_eq!(r.status, 200, "storm {storm}: fill of {left}: {r:?}");
        let r = t
            .request(t.signed("PUT", "/storm/one-more", &[], b"x"))
            .await;
        assert_eq!(
            (r.status, r.code()),
            (507, Some("MockStorageFull")),
            "storm {storm}"
        );
        assert_eq!(t.server.stored_bytes(), CAP, "storm {storm}");
        for k in ["fill", "k0", "k1", "k2", "k3"] {
            c.delete_object()
                .bucket("storm")
                .key(k)
                .send()
                .await
                .unwrap();
        }
        assert_eq!(t.server.stored_bytes(), 0, "storm {storm}: all deleted");
    }
}

/// The standalone server's peak resident set under concurrent large uploads, in both storage
/// modes: at most the cap plus [`OVERHEAD_MIB`]. The bench `memory` measures the same at
/// larger sizes on a release build.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn peak_rss_stays_under_the_cap_plus_a_fixed_overhead() {
    /// The debug binary's start-up set is larger than the release one's.
    const OVERHEAD_MIB: u64 = 64;
    let binary = std::path::Path::new(env!("CARGO_BIN_EXE_mock-s3"));
    mock_s3::tls::install_crypto_provider();
    for storage in ["memory", "discard"] {
        let server = Arc::new(scenario::Server::start(
            binary,
            &[
                "--memory-cap",
                "16m",
                "--storage",
                storage,
                "--worker-threads",
                "4",
            ],
        ));
        let start = server.rss_kib();
        let outcome = if storage == "memory" {
            // 12 × 4 MiB against a 16 MiB cap (four fit), beside 4 × 256 MiB refused at once.
            scenario::concurrent_uploads(&server, 2, 12, 4 << 20, 4, 256 << 20).await
        } else {
            // 4 × 24 MiB: six times the cap, held by nobody.
            scenario::concurrent_uploads(&server, 1, 4, 24 << 20, 0, 0).await
        };
        let peak = server.peak_kib();
        eprintln!(
            "--storage {storage}: {outcome:?}, RSS at start {} MiB, peak {} MiB",
            start / 1024,
            peak / 1024
        );
        assert!(outcome.other.is_empty(), "{outcome:?}");
        if storage == "memory" {
            assert_eq!(
                (outcome.stored, outcome.refused_at_once),
                (8, 24),
                "{outcome:?}"
            );
        } else {
            assert_eq!(outcome.stored, 4, "{outcome:?}");
        }
        assert!(
            peak <= (16 + OVERHEAD_MIB) << 10,
            "--storage {storage}: peak RSS {} MiB over cap 16 MiB + {OVERHEAD_MIB} MiB",
            peak / 1024
        );
    }
}
