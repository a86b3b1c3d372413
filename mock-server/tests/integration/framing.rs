//! Every body framing a current SDK sends for PutObject and UploadPart (Content-Length or
//! HTTP/1.1 chunked around an aws-chunked body, with or without `Expect: 100-continue`), S3's
//! answer to the framings it refuses, and bad chunked input: each refused with S3's error,
//! nothing stored, the server still serving others.

use std::time::{Duration, Instant};

use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart};
use mock_s3::Profile;

use crate::util::{Framing, Response, Streaming, TestServer, with_body};

fn data(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i % 251) as u8).collect()
}

/// A server with a bucket `frm` holding `keep`, which every refused request must leave alone.
async fn setup() -> (TestServer, aws_sdk_s3::Client) {
    let t = TestServer::start();
    let c = t.bucket("frm").await;
    c.put_object()
        .bucket("frm")
        .key("keep")
        .body(ByteStream::from_static(b"precious"))
        .send()
        .await
        .unwrap();
    (t, c)
}

/// The object's bytes, `None` when there is no such key. Any other error fails the test with
/// the SDK's error, so that a failure says what went wrong rather than that nothing was read.
async fn stored(c: &aws_sdk_s3::Client, key: &str) -> Option<Vec<u8>> {
    match c.get_object().bucket("frm").key(key).send().await {
        Ok(got) => Some(got.body.collect().await.unwrap().into_bytes().to_vec()),
        Err(e) if e.as_service_error().is_some_and(|e| e.is_no_such_key()) => None,
        Err(e) => panic!("GET {key}: {}", aws_sdk_s3::error::DisplayErrorContext(&e)),
    }
}

async fn still_serving(c: &aws_sdk_s3::Client) {
    assert_eq!(stored(c, "keep").await.as_deref(), Some(&b"precious"[..]));
}

fn assert_error(r: &Response, status: u16, code: &str, what: &str) {
    assert_eq!((r.status, r.code()), (status, Some(code)), "{what}: {r:?}");
}

#[tokio::test]
async fn chunked_put_object_in_every_streaming_mode_with_and_without_expect() {
    let (t, c) = setup().await;
    let body = data(20_000);
    for mode in Streaming::ALL {
        for framing in [Framing::Length, Framing::Chunked] {
            for expect in [false, true] {
                let key = format!("{mode:?}-{framing:?}-{expect}");
                let req = t.streaming(&format!("/frm/{key}"), &body, mode, Some("20000"), None);
                let r = t.send_framed(req, framing, expect).await;
                assert_eq!(r.status, 200, "{key}: {r:?}");
                let etag = format!("\"{}\"", hex::encode(md5_of(&body)));
                assert_eq!(r.headers["etag"], etag.as_str(), "{key}");
                if mode != Streaming::Signed {
                    assert_eq!(
                        r.headers["x-amz-checksum-crc32"],
                        mock_s3::checksum::Algorithm::Crc32.compute(&body).as_str(),
                        "{key}"
                    );
                }
                assert_eq!(stored(&c, &key).await, Some(body.clone()), "{key}");
            }
        }
    }
}

fn md5_of(b: &[u8]) -> [u8; 16] {
    mock_s3::checksum::md5(b)
}

#[tokio::test]
async fn chunked_upload_part_in_every_streaming_mode() {
    let (t, c) = setup().await;
    let part = data(5 << 20);
    let last = data(1000);
    for mode in Streaming::ALL {
        let key = format!("mp-{mode:?}");
        let up = c
            .create_multipart_upload()
            .bucket("frm")
            .key(&key)
            .send()
            .await
            .unwrap();
        let id = up.upload_id().unwrap();
        let mut parts = Vec::new();
        for (n, bytes) in [(1, &part), (2, &last)] {
            let req = t.streaming(
                &format!("/frm/{key}?partNumber={n}&uploadId={id}"),
                bytes,
                mode,
                Some(&bytes.len().to_string()),
                None,
            );
            let r = t.send_framed(req, Framing::Chunked, true).await;
            assert_eq!(r.status, 200, "{key} part {n}: {r:?}");
            let etag = r.headers["etag"].to_str().unwrap().to_owned();
            assert_eq!(etag, format!("\"{}\"", hex::encode(md5_of(bytes))));
            parts.push(CompletedPart::builder().part_number(n).e_tag(etag).build());
        }
        c.complete_multipart_upload()
            .bucket("frm")
            .key(&key)
            .upload_id(id)
            .multipart_upload(
                CompletedMultipartUpload::builder()
                    .set_parts(Some(parts))
                    .build(),
            )
            .send()
            .await
            .unwrap();
        let mut whole = part.clone();
        whole.extend_from_slice(&last);
        assert!(stored(&c, &key).await == Some(whole), "{key}");
    }
}

/// The request boto3 1.44 sends for `put_object(Body=b"hello world")`, header for header
/// (issue 12), over HTTP/1.1 chunked with `Expect: 100-continue`.
#[tokio::test]
async fn boto3_put_object_as_captured() {
    let (t, c) = setup().await;
    let req = t.streaming(
        "/frm/boto3",
        b"hello world",
        Streaming::UnsignedTrailer,
        Some("11"),
        None,
    );
    let names: Vec<&str> = req.headers().keys().map(|k| k.as_str()).collect();
    for h in [
        "content-encoding",
        "x-amz-trailer",
        "x-amz-decoded-content-length",
        "x-amz-sdk-checksum-algorithm",
        "x-amz-content-sha256",
    ] {
        assert!(names.contains(&h), "{h} in {names:?}");
    }
    let r = t.send_framed(req, Framing::Chunked, true).await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(
        stored(&c, "boto3").await.as_deref(),
        Some(&b"hello world"[..])
    );
}

#[tokio::test]
async fn framings_s3_refuses() {
    let (t, c) = setup().await;
    let body = data(10_000);
    // aws-chunked without x-amz-decoded-content-length, or with one that is not a number:
    // 411 MissingContentLength, whatever the framing.
    for framing in [Framing::Length, Framing::Chunked] {
        for decoded in [None, Some("ten")] {
            let req = t.streaming(
                "/frm/no-length",
                &body,
                Streaming::UnsignedTrailer,
                decoded,
                None,
            );
            let r = t.send_framed(req, framing, false).await;
            assert_error(
                &r,
                411,
                "MissingContentLength",
                &format!("{framing:?} {decoded:?}"),
            );
        }
    }
    // A plain body sent chunked: 501 NotImplemented naming Transfer-Encoding.
    for sha in [None, Some("UNSIGNED-PAYLOAD")] {
        let req = t.signed_at(
            "PUT",
            "/frm/plain",
            &[],
            &body,
            std::time::SystemTime::now(),
            sha,
        );
        let r = t.send_framed(req, Framing::Chunked, false).await;
        assert_error(&r, 501, "NotImplemented", "plain chunked");
        assert!(
            r.body.contains("<Header>Transfer-Encoding</Header>"),
            "{r:?}"
        );
    }
    // Both Content-Length and Transfer-Encoding: read as chunked (RFC 9112 §6.3), Content-Length
    // dropped. Signed, it no longer matches: 403 SignatureDoesNotMatch.
    let raw = crate::util::aws_chunked(
        &body,
        8192,
        None,
        Some((
            "x-amz-checksum-crc32",
            &mock_s3::checksum::Algorithm::Crc32.compute(&body),
        )),
        false,
    );
    let signed_length = raw.len().to_string();
    let req = t.signed_at(
        "PUT",
        "/frm/both-signed",
        &[
            ("content-length", signed_length.as_str()),
            ("content-encoding", "aws-chunked"),
            ("x-amz-decoded-content-length", "10000"),
            ("x-amz-trailer", "x-amz-checksum-crc32"),
        ],
        b"",
        std::time::SystemTime::now(),
        Some("STREAMING-UNSIGNED-PAYLOAD-TRAILER"),
    );
    assert!(
        req.headers()["authorization"]
            .to_str()
            .unwrap()
            .contains("content-length")
    );
    let r = t
        .send_framed(with_body(req, raw), Framing::Both, false)
        .await;
    assert_error(
        &r,
        403,
        "SignatureDoesNotMatch",
        "both, Content-Length signed",
    );
    // Unsigned Content-Length: the chunked body is what counts.
    let req = t.streaming(
        "/frm/both",
        &body,
        Streaming::UnsignedTrailer,
        Some("10000"),
        None,
    );
    let r = t.send_framed(req, Framing::Both, false).await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(
        r.headers.get("connection").map(|v| v.to_str().unwrap()),
        Some("close")
    );
    assert_eq!(stored(&c, "both").await, Some(body.clone()));
    for key in ["no-length", "plain", "both-signed"] {
        assert_eq!(stored(&c, key).await, None, "{key} stored nothing");
    }
    still_serving(&c).await;
}

#[tokio::test]
async fn bad_chunked_input_gets_s3_errors_and_stores_nothing() {
    let (t, c) = setup().await;
    let body = data(10_000);
    let crc = mock_s3::checksum::Algorithm::Crc32.compute(&body);
    let good = crate::util::aws_chunked(
        &body,
        8192,
        None,
        Some(("x-amz-checksum-crc32", &crc)),
        false,
    );
    // The aws-chunked framing ends inside the second chunk (the HTTP message is complete).
    let truncated = good[..8300].to_vec();
    // A chunk-size line that overflows 64 bits.
    let mut overflow = b"11111111111111111\r\n".to_vec();
    overflow.extend_from_slice(&good[6..]);
    /// (key, x-amz-decoded-content-length, trailer CRC32 (None: right), raw body (empty: as
    /// built), status, code).
    type Case<'a> = (
        &'a str,
        Option<&'a str>,
        Option<&'a str>,
        Vec<u8>,
        u16,
        &'a str,
    );
    let cases: [Case<'_>; 5] = [
        (
            "truncated",
            Some("10000"),
            None,
            truncated,
            400,
            "IncompleteBody",
        ),
        (
            "lies-short",
            Some("9999"),
            None,
            good.clone(),
            400,
            "IncompleteBody",
        ),
        (
            "lies-long",
            Some("10001"),
            None,
            good.clone(),
            400,
            "IncompleteBody",
        ),
        (
            "overflow",
            Some("10000"),
            None,
            overflow,
            400,
            "IncompleteBody",
        ),
        (
            "bad-crc",
            Some("10000"),
            Some("AAAAAA=="),
            Vec::new(),
            400,
            "BadDigest",
        ),
    ];
    for (key, decoded, crc32, raw, status, code) in cases {
        for framing in [Framing::Chunked, Framing::Length] {
            let req = t.streaming(
                &format!("/frm/{key}"),
                &body,
                Streaming::UnsignedTrailer,
                decoded,
                crc32,
            );
            let req = if raw.is_empty() {
                req
            } else {
                with_body(req, raw.clone())
            };
            // Another client is served while this one is refused.
            let (r, ()) = tokio::join!(t.send_framed(req, framing, true), still_serving(&c));
            assert_error(&r, status, code, &format!("{key} {framing:?}"));
            if key.starts_with("lies") {
                assert!(r.body.contains("<NumberBytesExpected>"), "{r:?}");
                assert!(
                    r.body
                        .contains("<NumberBytesProvided>10000</NumberBytesProvided>"),
                    "{r:?}"
                );
            }
            assert_eq!(
                stored(&c, key).await,
                None,
                "{key} {framing:?} stored nothing"
            );
        }
    }
    // The client goes away in the middle of a chunked body.
    let req = t.streaming(
        "/frm/gone",
        &body,
        Streaming::UnsignedTrailer,
        Some("10000"),
        None,
    );
    let mut head = String::from("PUT /frm/gone HTTP/1.1\r\n");
    for (k, v) in req.headers() {
        head.push_str(&format!("{k}: {}\r\n", v.to_str().unwrap()));
    }
    head.push_str("transfer-encoding: chunked\r\n\r\n1000\r\n");
    let mut s = t.tls_stream().await;
    tokio::io::AsyncWriteExt::write_all(&mut s, head.as_bytes())
        .await
        .unwrap();
    tokio::io::AsyncWriteExt::write_all(&mut s, &[b'x'; 100])
        .await
        .unwrap();
    tokio::io::AsyncWriteExt::flush(&mut s).await.unwrap();
    drop(s);
    still_serving(&c).await;
    assert_eq!(stored(&c, "gone").await, None);
    assert_eq!(t.server.stored_bytes(), 8);
}

#[tokio::test]
async fn chunked_uploads_are_paced_timed_out_and_counted() {
    let mut p = Profile::ideal();
    p.connections.upload_stall_timeout_ms = 300;
    p.bandwidth_mb_per_s = Some(1.0);
    let t = TestServer::with_config(mock_s3::Config {
        profile: p,
        ..Default::default()
    });
    let c = t.bucket("frm").await;
    // 400 KB at 1 MB/s takes at least 0.4 s (minus the first frame), however busy the
    // machine: pacing holds for chunked bodies as for Content-Length ones.
    let body = data(400_000);
    t.server.reset_metrics();
    for framing in [Framing::Length, Framing::Chunked] {
        let req = t.streaming(
            &format!("/frm/paced-{framing:?}"),
            &body,
            Streaming::UnsignedTrailer,
            Some("400000"),
            None,
        );
        let wire = {
            let b = req.body().clone();
            http_body_util::BodyExt::collect(b)
                .await
                .unwrap()
                .to_bytes()
                .len() as u64
        };
        let before = t.server.metrics().bytes_in;
        let start = Instant::now();
        let r = t.send_framed(req, framing, false).await;
        assert_eq!(r.status, 200, "{r:?}");
        assert!(
            start.elapsed() >= Duration::from_millis(350),
            "{framing:?}: {:?}",
            start.elapsed()
        );
        // The raw aws-chunked bytes are counted, not the HTTP chunk framing.
        assert_eq!(t.server.metrics().bytes_in - before, wire, "{framing:?}");
    }
    let m = t.server.metrics();
    assert_eq!(
        m.requests_by_op
            .get("PutObject")
            .and_then(|s| s.get("200"))
            .copied(),
        Some(2),
        "{m:?}"
    );
    assert_eq!(stored(&c, "paced-Chunked").await, Some(body));

    // A chunked upload that stalls gets 400 RequestTimeout and is counted.
    let req = t.streaming(
        "/frm/stall",
        b"abc",
        Streaming::UnsignedTrailer,
        Some("3"),
        None,
    );
    let mut head = String::from("PUT /frm/stall HTTP/1.1\r\n");
    for (k, v) in req.headers() {
        head.push_str(&format!("{k}: {}\r\n", v.to_str().unwrap()));
    }
    head.push_str("transfer-encoding: chunked\r\n\r\n3\r\n3\r\n");
    let out = t.raw(head.as_bytes()).await;
    assert!(out.starts_with("HTTP/1.1 400"), "{out}");
    assert!(out.contains("<Code>RequestTimeout</Code>"), "{out}");
    assert_eq!(t.server.metrics().request_timeouts, 1);
    assert_eq!(stored(&c, "stall").await, None);
}
