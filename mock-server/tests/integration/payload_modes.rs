//! Every `x-amz-content-sha256` value × `Content-Encoding` × body framing, signed with SigV4:
//! each request is either verified and stored exactly as S3 would store it, or refused with
//! S3's error, and a refused request leaves the object already at its key untouched.

use std::time::SystemTime;

use mock_s3::checksum::Algorithm;

use crate::util::{Framing, Response, TestServer, aws_chunked, chunk_signer};

/// The object's bytes: two aws-chunked chunks of 8 KiB and a short last one.
fn data() -> Vec<u8> {
    (0..18_000u32).map(|i| b'a' + (i % 26) as u8).collect()
}

const CHUNK: usize = 8192;
const BEFORE: &str = "the object that was here before";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Sha {
    Unsigned,
    /// The hash of the body as sent.
    RawHash,
    /// The hash of the object bytes (differs from the raw hash when the body is framed).
    DecodedHash,
    /// The hash of something else.
    OtherHash,
    StreamingUnsignedTrailer,
    StreamingSigned,
    StreamingSignedTrailer,
    /// Signed chunks, the first chunk's signature flipped.
    StreamingSignedTampered,
}

const SHAS: [Sha; 8] = [
    Sha::Unsigned,
    Sha::RawHash,
    Sha::DecodedHash,
    Sha::OtherHash,
    Sha::StreamingUnsignedTrailer,
    Sha::StreamingSigned,
    Sha::StreamingSignedTrailer,
    Sha::StreamingSignedTampered,
];

const ENCODINGS: [Option<&str>; 4] = [
    None,
    Some("aws-chunked"),
    Some("gzip"),
    Some("aws-chunked,gzip"),
];

impl Sha {
    fn streaming(self) -> bool {
        !matches!(
            self,
            Sha::Unsigned | Sha::RawHash | Sha::DecodedHash | Sha::OtherHash
        )
    }
}

/// What S3 does with a case: store these bytes, or answer with this status and code.
#[derive(Debug, PartialEq, Eq)]
enum Outcome {
    Stored(Vec<u8>),
    Refused(u16, &'static str),
}

fn hex_sha256(b: &[u8]) -> String {
    hex::encode(<sha2::Sha256 as sha2::Digest>::digest(b))
}

fn expected(sha: Sha, encoding: Option<&str>, framing: Framing, raw: &[u8]) -> Outcome {
    let data = data();
    let _ = encoding;
    if framing == Framing::Chunked && !sha.streaming() {
        // A plain body sent chunked (S3's recorded answer, see ops/input.rs).
        return Outcome::Refused(501, "NotImplemented");
    }
    match sha {
        Sha::Unsigned | Sha::RawHash => Outcome::Stored(raw.to_vec()),
        Sha::DecodedHash if raw == data.as_slice() => Outcome::Stored(raw.to_vec()),
        Sha::DecodedHash | Sha::OtherHash => Outcome::Refused(400, "XAmzContentSHA256Mismatch"),
        Sha::StreamingSignedTampered => Outcome::Refused(403, "SignatureDoesNotMatch"),
        Sha::StreamingUnsignedTrailer | Sha::StreamingSigned | Sha::StreamingSignedTrailer => {
            Outcome::Stored(data)
        }
    }
}

/// The request for one case, and the raw body it carries.
fn request(
    t: &TestServer,
    key: &str,
    sha: Sha,
    encoding: Option<&str>,
) -> (http::Request<http_body_util::Full<bytes::Bytes>>, Vec<u8>) {
    let data = data();
    let now = SystemTime::now();
    let crc = Algorithm::Crc32.compute(&data);
    let mut headers: Vec<(&str, String)> = Vec::new();
    if let Some(e) = encoding {
        headers.push(("content-encoding", e.to_owned()));
    }
    let framed = sha.streaming() || encoding.is_some_and(|e| e.contains("aws-chunked"));
    if framed {
        headers.push(("x-amz-decoded-content-length", data.len().to_string()));
    }
    let trailer = matches!(
        sha,
        Sha::StreamingUnsignedTrailer | Sha::StreamingSignedTrailer
    );
    if trailer {
        headers.push(("x-amz-trailer", "x-amz-checksum-crc32".to_owned()));
    }
    // A framed body that is not streaming is the probe: aws-chunked bytes under a
    // plain payload hash.
    let unsigned_framing = || aws_chunked(&data, CHUNK, None, None, false);
    let payload = match sha {
        Sha::Unsigned => "UNSIGNED-PAYLOAD".to_owned(),
        Sha::RawHash if framed => hex_sha256(&unsigned_framing()),
        Sha::RawHash | Sha::DecodedHash => hex_sha256(&data),
        Sha::OtherHash => hex_sha256(b"other"),
        Sha::StreamingUnsignedTrailer => "STREAMING-UNSIGNED-PAYLOAD-TRAILER".to_owned(),
        Sha::StreamingSigned | Sha::StreamingSignedTampered => {
            "STREAMING-AWS4-HMAC-SHA256-PAYLOAD".to_owned()
        }
        Sha::StreamingSignedTrailer => "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER".to_owned(),
    };
    let hdrs: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let head = t.signed_at(
        "PUT",
        &format!("/modes/{key}"),
        &hdrs,
        b"",
        now,
        Some(&payload),
    );
    let raw = match sha {
        Sha::StreamingUnsignedTrailer => aws_chunked(
            &data,
            CHUNK,
            None,
            Some(("x-amz-checksum-crc32", &crc)),
            false,
        ),
        Sha::StreamingSigned | Sha::StreamingSignedTampered => {
            let mut signer = chunk_signer(t, &head, now);
            aws_chunked(
                &data,
                CHUNK,
                Some(&mut signer),
                None,
                sha == Sha::StreamingSignedTampered,
            )
        }
        Sha::StreamingSignedTrailer => {
            let mut signer = chunk_signer(t, &head, now);
            aws_chunked(
                &data,
                CHUNK,
                Some(&mut signer),
                Some(("x-amz-checksum-crc32", &crc)),
                false,
            )
        }
        _ if framed => unsigned_framing(),
        _ => data,
    };
    let (parts, _) = head.into_parts();
    let req = http::Request::from_parts(
        parts,
        http_body_util::Full::new(bytes::Bytes::from(raw.clone())),
    );
    (req, raw)
}

async fn get(t: &TestServer, key: &str) -> Response {
    t.request(t.signed("GET", &format!("/modes/{key}"), &[], b""))
        .await
}

/// Checks one case; `Err` says how it went wrong.
async fn check(
    t: &TestServer,
    key: &str,
    sha: Sha,
    encoding: Option<&str>,
    framing: Framing,
) -> Result<(), String> {
    let before = t
        .request(t.signed("PUT", &format!("/modes/{key}"), &[], BEFORE.as_bytes()))
        .await;
    if before.status != 200 {
        return Err(format!("the object before was not stored: {before:?}"));
    }
    let (req, raw) = request(t, key, sha, encoding);
    let want = expected(sha, encoding, framing, &raw);
    let r = t.send_framed(req, framing, false).await;
    let got = get(t, key).await;
    if got.status != 200 {
        return Err(format!("GET after: {got:?}"));
    }
    match want {
        Outcome::Stored(bytes) => {
            if r.status != 200 {
                return Err(format!("refused with {} {:?}", r.status, r.code()));
            }
            if got.body.as_bytes() != bytes.as_slice() {
                return Err(format!(
                    "stored {} bytes, want {}",
                    got.body.len(),
                    bytes.len()
                ));
            }
            // aws-chunked describes the transfer: S3 strips it from what it stores.
            let stored = encoding
                .map(|e| {
                    e.split(',')
                        .filter(|x| *x != "aws-chunked")
                        .collect::<Vec<_>>()
                        .join(",")
                })
                .filter(|e| !e.is_empty());
            let returned = got
                .headers
                .get("content-encoding")
                .map(|v| v.to_str().unwrap().to_owned());
            if returned != stored {
                return Err(format!("Content-Encoding {returned:?}, want {stored:?}"));
            }
        }
        Outcome::Refused(status, code) => {
            if (r.status, r.code()) != (status, Some(code)) {
                return Err(format!(
                    "answered {} {:?}, want {status} {code}",
                    r.status,
                    r.code()
                ));
            }
            if got.body != BEFORE {
                return Err(format!(
                    "refused, but the object became {} bytes",
                    got.body.len()
                ));
            }
        }
    }
    Ok(())
}

#[tokio::test]
async fn every_payload_mode_is_verified_or_refused() {
    let t = TestServer::start();
    t.bucket("modes").await;
    let mut n = 0;
    let mut failures = Vec::new();
    for framing in [Framing::Length, Framing::Chunked] {
        for sha in SHAS {
            for encoding in ENCODINGS {
                n += 1;
                if let Err(e) = check(&t, &format!("k{n}"), sha, encoding, framing).await {
                    failures.push(format!("{sha:?} × {encoding:?} × {framing:?}: {e}"));
                }
            }
        }
    }
    assert_eq!(n, 64);
    assert!(
        failures.is_empty(),
        "{} of {n} cases:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
