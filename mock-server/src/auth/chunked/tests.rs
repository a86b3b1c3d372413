//! Unit tests of the aws-chunked decoder: framing, chunk signatures, trailers and checksums.

use super::*;
use crate::auth::sigv4::signing_key;
use aws_credential_types::Credentials;
use aws_sigv4::http_request::SigningSettings;
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;
use aws_smithy_runtime_api::http::Headers;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

const SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
const SEED: &str = "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9";
const AMZ_DATE: &str = "20130524T000000Z";
const SCOPE: &str = "20130524/us-east-1/s3/aws4_request";

fn time() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_369_353_600)
}

fn signer() -> ChunkSigner {
    ChunkSigner::new(
        signing_key(SECRET, "20130524", "us-east-1", "s3"),
        AMZ_DATE,
        SCOPE,
        SEED,
    )
}

fn identity() -> Identity {
    Credentials::new("AKIAIOSFODNN7EXAMPLE", SECRET, None, None, "test").into()
}

/// Frames `chunks` as a signed body, signing with aws-sigv4 (not with
/// [`ChunkSigner`]), optionally with signed trailers.
fn signed_body(chunks: &[&[u8]], trailers: Option<&[(&str, &str)]>) -> Vec<u8> {
    let identity = identity();
    let params = v4::SigningParams::<SigningSettings>::builder()
        .identity(&identity)
        .region("us-east-1")
        .name("s3")
        .time(time())
        .settings(SigningSettings::default())
        .build()
        .unwrap();
    let mut previous = SEED.to_owned();
    let mut body = Vec::new();
    for chunk in chunks.iter().chain([&&b""[..]]) {
        let bytes = Bytes::copy_from_slice(chunk);
        let signature = v4::sign_chunk(&bytes, &previous, &params)
            .unwrap()
            .signature()
            .to_owned();
        body.extend_from_slice(
            format!("{:X};chunk-signature={signature}\r\n", chunk.len()).as_bytes(),
        );
        if !chunk.is_empty() {
            body.extend_from_slice(chunk);
            body.extend_from_slice(b"\r\n");
        }
        previous = signature;
    }
    if let Some(trailers) = trailers {
        let mut headers = Headers::new();
        for (k, v) in trailers {
            headers.insert(k.to_string(), v.to_string());
            body.extend_from_slice(format!("{k}:{v}\r\n").as_bytes());
        }
        let signature = v4::sign_trailer(&headers, &previous, &params)
            .unwrap()
            .signature()
            .to_owned();
        body.extend_from_slice(format!("x-amz-trailer-signature:{signature}\r\n").as_bytes());
    }
    body.extend_from_slice(b"\r\n");
    body
}

fn unsigned_body(chunks: &[&[u8]], trailers: &[(&str, &str)]) -> Vec<u8> {
    let mut body = Vec::new();
    for chunk in chunks {
        body.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
        body.extend_from_slice(chunk);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(b"0\r\n");
    for (k, v) in trailers {
        body.extend_from_slice(format!("{k}:{v}\r\n").as_bytes());
    }
    body.extend_from_slice(b"\r\n");
    body
}

/// [`super::decode`] without S3's minimum chunk size, so that framings can be tested with
/// short chunks (the minimum has its own test).
fn decode(
    raw: &[u8],
    mode: &PayloadMode,
    signer: Option<ChunkSigner>,
    decoded_content_length: Option<u64>,
) -> Result<Decoded, ChunkedError> {
    decode_with(
        Decoder::new(mode, signer, decoded_content_length)?.min_chunk_size(0),
        raw,
    )
}

/// The same, fed one byte at a time.
fn decode_bytewise(
    raw: &[u8],
    mode: &PayloadMode,
    signer: Option<ChunkSigner>,
    decoded_content_length: Option<u64>,
) -> Result<Decoded, ChunkedError> {
    let mut d = Decoder::new(mode, signer, decoded_content_length)?.min_chunk_size(0);
    let mut data = Vec::new();
    for b in raw {
        d.feed(std::slice::from_ref(b), |piece| {
            data.extend_from_slice(piece);
            Ok::<_, ChunkedError>(())
        })?;
    }
    let trailers = d.finish()?;
    Ok(Decoded {
        data: Bytes::from(data),
        trailers,
    })
}

fn unsigned(raw: &[u8]) -> Result<Decoded, ChunkedError> {
    decode(raw, &PayloadMode::StreamingUnsignedTrailer, None, None)
}

fn malformed(r: Result<Decoded, ChunkedError>) -> bool {
    matches!(r, Err(ChunkedError::Malformed(_)))
}

#[test]
fn chunk_signer_known_answer() {
    // From the S3 documentation's chunked-upload example.
    let mut s = signer();
    assert_eq!(
        s.next_chunk(&[b'a'; 65536]),
        "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648"
    );
    assert_eq!(
        s.next_chunk(&[b'a'; 1024]),
        "0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497"
    );
    assert_eq!(
        s.next_chunk(b""),
        "b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9"
    );
    assert!(!format!("{s:?}").contains(&hex::encode(s.key)));
}

#[test]
fn signed_round_trip() {
    let chunks: [&[u8]; 3] = [&[7u8; 9000], b"second chunk", b"!"];
    let body = signed_body(&chunks, None);
    let d = decode(
        &body,
        &PayloadMode::StreamingSigned,
        Some(signer()),
        Some(9013),
    )
    .unwrap();
    assert_eq!(d.data, chunks.concat());
    assert!(d.trailers.is_empty());

    // Without the final blank line.
    let d = decode(
        &body[..body.len() - 2],
        &PayloadMode::StreamingSigned,
        Some(signer()),
        None,
    )
    .unwrap();
    assert_eq!(d.data.len(), 9013);

    // Wrong seed.
    let other = ChunkSigner::new(
        signing_key(SECRET, "20130524", "us-east-1", "s3"),
        AMZ_DATE,
        SCOPE,
        "0".repeat(64),
    );
    assert_eq!(
        decode(&body, &PayloadMode::StreamingSigned, Some(other), None),
        Err(ChunkedError::SignatureDoesNotMatch)
    );

    // An empty object is just the final chunk.
    let body = signed_body(&[], None);
    let d = decode(
        &body,
        &PayloadMode::StreamingSigned,
        Some(signer()),
        Some(0),
    )
    .unwrap();
    assert!(d.data.is_empty());
}

#[test]
fn signed_tampering() {
    let chunks: [&[u8]; 2] = [b"first chunk data", b"second"];
    let body = signed_body(&chunks, None);
    let run = |b: &[u8]| decode(b, &PayloadMode::StreamingSigned, Some(signer()), None);
    assert!(run(&body).is_ok());

    // A changed data byte.
    let mut t = body.clone();
    let at = t.windows(5).position(|w| w == b"first").unwrap();
    t[at] = b'F';
    assert_eq!(run(&t), Err(ChunkedError::SignatureDoesNotMatch));

    // Chunks swapped (each keeps its own signature line).
    let first_len = body.windows(2).position(|w| w == b"\r\n").unwrap() + 2 + 16 + 2;
    let second_len = body[first_len..]
        .windows(2)
        .position(|w| w == b"\r\n")
        .unwrap()
        + 2
        + 6
        + 2;
    let mut swapped = body[first_len..first_len + second_len].to_vec();
    swapped.extend_from_slice(&body[..first_len]);
    swapped.extend_from_slice(&body[first_len + second_len..]);
    assert_eq!(run(&swapped), Err(ChunkedError::SignatureDoesNotMatch));

    // Last data chunk dropped (its successor's signature no longer chains).
    let mut dropped = body[..first_len].to_vec();
    dropped.extend_from_slice(&body[first_len + second_len..]);
    assert_eq!(run(&dropped), Err(ChunkedError::SignatureDoesNotMatch));

    // A missing chunk-signature.
    let t = b"5\r\nhello\r\n0\r\n\r\n";
    assert!(malformed(run(t)));

    // Trailers are not allowed in this mode.
    let mut t = body[..body.len() - 2].to_vec();
    t.extend_from_slice(b"x-amz-checksum-crc32:AAAAAA==\r\n\r\n");
    assert!(malformed(run(&t)));
}

#[test]
fn signed_trailer_round_trip() {
    let chunks: [&[u8]; 2] = [&[1u8; 8192], b"tail"];
    let trailers = [("x-amz-checksum-crc32c", "sOO8/Q==")];
    let body = signed_body(&chunks, Some(&trailers));
    let mode = PayloadMode::StreamingSignedTrailer;
    let d = decode(&body, &mode, Some(signer()), Some(8196)).unwrap();
    assert_eq!(d.data.len(), 8196);
    assert_eq!(
        d.trailers,
        vec![("x-amz-checksum-crc32c".to_owned(), "sOO8/Q==".to_owned())]
    );
    assert_eq!(d.trailer("X-Amz-Checksum-CRC32C"), Some("sOO8/Q=="));

    // A changed trailer value.
    let t = String::from_utf8_lossy(&body).replace("sOO8/Q==", "sOO8/Q=A");
    assert_eq!(
        decode(t.as_bytes(), &mode, Some(signer()), None),
        Err(ChunkedError::SignatureDoesNotMatch)
    );

    // Trailers without a signature.
    let cut = body
        .windows(TRAILER_SIGNATURE.len())
        .position(|w| w == TRAILER_SIGNATURE.as_bytes())
        .unwrap();
    let mut t = body[..cut].to_vec();
    t.extend_from_slice(b"\r\n");
    assert!(malformed(decode(&t, &mode, Some(signer()), None)));

    // Several trailers: aws-sigv4 signs them sorted by name; sent unsorted.
    let trailers = [
        ("x-amz-checksum-sha256", "abc="),
        ("x-amz-checksum-crc32", "def="),
    ];
    let body = signed_body(&[b"data"], Some(&trailers));
    let d = decode(&body, &mode, Some(signer()), Some(4)).unwrap();
    assert_eq!(d.trailers.len(), 2);
    assert_eq!(d.trailers[0].0, "x-amz-checksum-sha256");

    // No trailers at all is fine.
    let body = signed_body(&[b"data"], None);
    assert!(decode(&body, &mode, Some(signer()), Some(4)).is_ok());
}

#[test]
fn chunk_signer_trailer_advances() {
    let mut s = signer();
    let sig = s.trailer(b"x-amz-checksum-crc32c:sOO8/Q==\n");
    assert_eq!(s.previous_signature(), sig);
    assert_ne!(sig, SEED);
}

#[test]
fn unsigned_trailer_body() {
    // What aws-sdk-s3 sends for PutObject with a CRC32 checksum.
    let raw = b"B\r\nhello world\r\n0\r\nx-amz-checksum-crc32:DUoRhQ==\r\n\r\n";
    let mut headers = HeaderMap::new();
    headers.insert("x-amz-decoded-content-length", "11".parse().unwrap());
    headers.insert("x-amz-trailer", "x-amz-checksum-crc32".parse().unwrap());
    let d =
        decode_with_headers(raw, &headers, &PayloadMode::StreamingUnsignedTrailer, None).unwrap();
    assert_eq!(&d.data[..], b"hello world");
    assert_eq!(d.trailer("x-amz-checksum-crc32"), Some("DUoRhQ=="));

    // Several chunks, lowercase hex, extensions, no trailer, no final CRLF.
    let body = unsigned_body(&[&[b'x'; 300], b"yz"], &[]);
    let d = unsigned(&body).unwrap();
    assert_eq!(d.data.len(), 302);
    assert!(unsigned(b"2;foo=bar;baz\r\nab\r\n0;x\r\n").is_ok());
    assert!(unsigned(b"02\r\nab\r\n000\r\n\r\n").is_ok());
    assert!(unsigned(b"2 \r\nab\r\n0\r\nName: Value \r\n").is_ok());

    // An announced trailer that is missing.
    let raw = b"B\r\nhello world\r\n0\r\n\r\n";
    assert!(malformed(decode_with_headers(
        raw,
        &headers,
        &PayloadMode::StreamingUnsignedTrailer,
        None
    )));
}

#[test]
fn malformed_framings() {
    let ok = b"5\r\nhello\r\n0\r\n\r\n";
    assert!(unsigned(ok).is_ok());
    for (raw, what) in [
        (&b"zz\r\nhello\r\n0\r\n\r\n"[..], "non-hex size"),
        (b"+5\r\nhello\r\n0\r\n\r\n", "signed size"),
        (b"-5\r\nhello\r\n0\r\n\r\n", "negative size"),
        (b"\r\nhello\r\n0\r\n\r\n", "empty size"),
        (b"0x5\r\nhello\r\n0\r\n\r\n", "0x prefix"),
        (b"5\r\nhelloX\r\n0\r\n\r\n", "data longer than size"),
        (b"5\r\nhello\n0\r\n\r\n", "bare LF after data"),
        (b"5\r\nhello\r\n0\r\n\r\nextra", "garbage after the body"),
        (b"5\r\nhello\r\n0\r\n\r\n\r\n", "extra blank line"),
        (
            b"5\r\nhello\r\n0\r\nno-colon\r\n\r\n",
            "trailer without colon",
        ),
        (b"5\r\nhello\r\n0\r\n:v\r\n\r\n", "trailer without name"),
        (
            b"5\r\nhello\r\n0\r\nbad name:v\r\n\r\n",
            "trailer name with space",
        ),
        (b"11111111111111111\r\n", "size overflows"),
        (b"\xff\r\n", "non-ASCII size"),
    ] {
        assert!(malformed(unsigned(raw)), "{what}");
    }
    for (raw, what) in [
        (&b""[..], "empty body"),
        (b"5\r\nhel", "short data"),
        (b"5\r\nhello", "no CRLF after data"),
        (b"5\r\nhello\r", "half CRLF after data"),
        (b"5\r\nhello\r\n", "no last chunk"),
        (b"5\r\nhello\r\n0", "unterminated last chunk"),
        (
            b"5\r\nhello\r\n0\r\nx-amz-checksum-crc32:AAA",
            "unterminated trailer",
        ),
        (b"5\r\nhello\r\n0\r\n\r", "half final CRLF"),
        (b"ffffffff\r\nab\r\n0\r\n\r\n", "size beyond the body"),
    ] {
        assert_eq!(unsigned(raw), Err(ChunkedError::Truncated), "{what}");
    }
    assert_eq!(
        decode(ok, &PayloadMode::StreamingUnsignedTrailer, None, Some(6)),
        Err(ChunkedError::IncompleteBody {
            expected: 6,
            actual: 5
        })
    );
    assert_eq!(
        decode(ok, &PayloadMode::StreamingUnsignedTrailer, None, Some(4)),
        Err(ChunkedError::IncompleteBody {
            expected: 4,
            actual: 5
        })
    );
    for mode in [PayloadMode::Unsigned, PayloadMode::Sha256("00".repeat(32))] {
        assert!(matches!(
            decode(ok, &mode, None, None),
            Err(ChunkedError::Unsupported(_))
        ));
    }
    assert!(matches!(
        decode(ok, &PayloadMode::StreamingSigned, None, None),
        Err(ChunkedError::Unsupported(_))
    ));
    let mut headers = HeaderMap::new();
    headers.insert("x-amz-decoded-content-length", "five".parse().unwrap());
    assert!(malformed(decode_with_headers(
        ok,
        &headers,
        &PayloadMode::StreamingUnsignedTrailer,
        None
    )));
}

fn chunked_len(headers: &HeaderMap) -> Option<u64> {
    decoded_content_length(headers).unwrap()
}

#[test]
fn chunks_under_8_kib_but_the_last_are_refused() {
    let big = [1u8; 8192];
    let ok = unsigned_body(&[&big, &big, b"tail"], &[]);
    assert!(super::decode(&ok, &PayloadMode::StreamingUnsignedTrailer, None, None).is_ok());
    // 5 bytes, then 1 more: S3's answer names chunk 2 and the size 5 (versitygw#1665).
    let bad = unsigned_body(&[b"hello", b"!"], &[]);
    assert_eq!(
        super::decode(&bad, &PayloadMode::StreamingUnsignedTrailer, None, None),
        Err(ChunkedError::InvalidChunkSize { chunk: 2, size: 5 })
    );
    let bad = signed_body(&[&big, b"abc", b"de"], None);
    let e = super::decode(&bad, &PayloadMode::StreamingSigned, Some(signer()), None).unwrap_err();
    assert_eq!(e, ChunkedError::InvalidChunkSize { chunk: 3, size: 3 });
    assert_eq!(
        (e.status(), e.code()),
        (StatusCode::FORBIDDEN, "InvalidChunkSizeError")
    );
    assert_eq!(
        e.extra_fields(),
        vec![("Chunk", "3".to_owned()), ("BadChunkSize", "3".to_owned())]
    );
    // One short chunk alone is the last one.
    assert!(
        super::decode(
            b"5\r\nhello\r\n0\r\n\r\n",
            &PayloadMode::StreamingUnsignedTrailer,
            None,
            Some(5)
        )
        .is_ok()
    );
}

#[test]
fn a_chunk_beyond_the_decoded_length_is_refused_at_its_header() {
    // The data of the oversized chunk never arrives: the header is enough.
    let mut d = Decoder::new(&PayloadMode::StreamingUnsignedTrailer, None, Some(10)).unwrap();
    let r = d.feed(b"ffffffffffff\r\n", |_| Ok::<_, ChunkedError>(()));
    assert_eq!(
        r,
        Err(ChunkedError::IncompleteBody {
            expected: 10,
            actual: 0xffff_ffff_ffff
        })
    );
}

#[test]
fn lines_and_trailers_are_bounded() {
    let mut long = vec![b'1'; 1];
    long.extend(std::iter::repeat_n(b' ', 5000));
    long.extend_from_slice(b"\r\n");
    assert!(malformed(unsigned(&long)));
    let mut d = Decoder::new(&PayloadMode::StreamingUnsignedTrailer, None, None).unwrap();
    d.feed(b"0\r\n", |_| Ok::<_, ChunkedError>(())).unwrap();
    let mut fed = Ok(());
    for i in 0..1000 {
        fed = d.feed(
            format!("x-amz-meta-{i}:{}\r\n", "v".repeat(40)).as_bytes(),
            |_| Ok::<_, ChunkedError>(()),
        );
        if fed.is_err() {
            break;
        }
    }
    assert!(matches!(fed, Err(ChunkedError::Malformed(_))), "{fed:?}");
}

#[test]
fn error_mapping() {
    assert_eq!(ChunkedError::Truncated.code(), "IncompleteBody");
    assert_eq!(ChunkedError::Truncated.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        ChunkedError::SignatureDoesNotMatch.status(),
        StatusCode::FORBIDDEN
    );
    let e = ChunkedError::IncompleteBody {
        expected: 2,
        actual: 1,
    };
    assert!(e.to_string().contains("expected 2, got 1"));
    assert_eq!(
        e.extra_fields(),
        vec![
            ("NumberBytesExpected", "2".to_owned()),
            ("NumberBytesProvided", "1".to_owned())
        ]
    );
    let m = ChunkedError::Malformed("chunk size is too large".to_owned());
    assert_eq!(
        (m.code(), m.status()),
        ("IncompleteBody", StatusCode::BAD_REQUEST)
    );
    assert!(m.to_string().contains("chunk size is too large"));
}

/// Every strict prefix of a valid body is rejected (except the one that
/// only lacks the final blank line), and no corruption panics.
#[test]
fn prefixes_and_corruptions_never_panic() {
    let chunks: [&[u8]; 3] = [b"0123456789abcdef", b"x", b"ghijklmnopq"];
    let decoded_len = 28;
    let mut headers = HeaderMap::new();
    headers.insert("x-amz-decoded-content-length", "28".parse().unwrap());
    headers.insert("x-amz-trailer", "x-amz-checksum-crc32".parse().unwrap());
    let trailer = [("x-amz-checksum-crc32", "AAAAAA==")];
    let cases = [
        (PayloadMode::StreamingSigned, signed_body(&chunks, None)),
        (
            PayloadMode::StreamingSignedTrailer,
            signed_body(&chunks, Some(&trailer)),
        ),
        (
            PayloadMode::StreamingUnsignedTrailer,
            unsigned_body(&chunks, &trailer),
        ),
    ];
    for (mode, body) in &cases {
        let run = |raw: &[u8]| {
            let mut headers = headers.clone();
            if *mode == PayloadMode::StreamingSigned {
                headers.remove("x-amz-trailer");
            }
            let decoded_len = chunked_len(&headers);
            let r = decode(raw, mode, Some(signer()), decoded_len);
            // Fed byte by byte, the decoder reaches the same verdict.
            assert_eq!(
                decode_bytewise(raw, mode, Some(signer()), decoded_len),
                r,
                "{mode:?}"
            );
            r.and_then(|d| {
                if *mode != PayloadMode::StreamingSigned
                    && d.trailer("x-amz-checksum-crc32").is_none()
                {
                    return Err(ChunkedError::Malformed(
                        "announced trailer missing".to_owned(),
                    ));
                }
                Ok(d)
            })
        };
        let full = run(body).unwrap();
        assert_eq!(full.data.len(), decoded_len);
        for len in 0..body.len() {
            let r = run(&body[..len]);
            if len == body.len() - 2 {
                assert_eq!(r.as_ref(), Ok(&full), "{mode:?}: without final CRLF");
            } else {
                assert!(r.is_err(), "{mode:?}: prefix of {len} bytes accepted");
            }
        }
        // Flip, drop or duplicate each byte in turn.
        for i in 0..body.len() {
            let mut flipped = body.clone();
            flipped[i] ^= 0x5a;
            let r = run(&flipped);
            if mode.is_signed_streaming() {
                assert!(r.is_err(), "{mode:?}: byte {i} flipped, accepted");
            }
            let mut dropped = body.clone();
            dropped.remove(i);
            let _ = run(&dropped);
            let mut doubled = body.clone();
            doubled.insert(i, body[i]);
            let _ = run(&doubled);
        }
    }
    // Pseudo-random noise over the framing alphabet.
    const ALPHABET: &[u8] = b"0123456789abcdefABCDEF;=:\r\n \txz-";
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    for _ in 0..2000 {
        let len = usize::try_from(state % 64).unwrap();
        let noise: Vec<u8> = (0..len)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                ALPHABET[usize::try_from(state).unwrap_or(0) % ALPHABET.len()]
            })
            .collect();
        for (mode, _) in &cases {
            let _ = decode(&noise, mode, Some(signer()), None);
        }
    }
}
