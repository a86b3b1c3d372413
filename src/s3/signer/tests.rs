use std::time::Duration;

use aws_credential_types::Credentials;
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

use super::*;

fn identity(akid: &str, secret: &str, token: Option<&str>) -> Identity {
    Credentials::new(akid, secret, token.map(str::to_owned), None, "test").into()
}

fn at(secs: u64) -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(secs)
}

fn base_headers() -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert("host", HeaderValue::from_static("127.0.0.1:9443"));
    headers
}

#[test]
fn signs_the_payload_hash_or_unsigned_payload() {
    let signer = Signer::new("us-east-1", PayloadSigning::Sha256);
    let mut h = base_headers();
    let id = identity("AKID", "SECRET", None);
    let time = at(1_700_000_000);
    signer
        .sign(&id, time, &Method::PUT, "/bucket/a%20key", &mut h, b"hello")
        .unwrap();
    assert_eq!(
        h["x-amz-content-sha256"],
        "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
    );
    assert_eq!(h["x-amz-date"], "20231114T221320Z");
    let auth = h["authorization"].to_str().unwrap();
    assert!(
        auth.starts_with("AWS4-HMAC-SHA256 Credential=AKID/20231114/us-east-1/s3/aws4_request")
    );
    assert!(auth.contains("SignedHeaders=host;x-amz-content-sha256;x-amz-date"));
    assert!(h["authorization"].is_sensitive());

    let signer = Signer::new("us-east-1", PayloadSigning::Unsigned);
    let mut h = base_headers();
    let id = identity("AKID", "SECRET", Some("TOKEN"));
    signer
        .sign(&id, time, &Method::GET, "/bucket/k", &mut h, b"")
        .unwrap();
    assert_eq!(h["x-amz-content-sha256"], "UNSIGNED-PAYLOAD");
    assert_eq!(h["x-amz-security-token"], "TOKEN");
    assert!(
        h["authorization"]
            .to_str()
            .unwrap()
            .contains("SignedHeaders=host;x-amz-content-sha256;x-amz-date;x-amz-security-token,")
    );
}

/// The AWS documentation's GetObject example ("Example: GET Object", SigV4 header
/// authentication for S3), signature included.
#[test]
fn matches_the_aws_documentation_example() {
    let signer = Signer::new("us-east-1", PayloadSigning::Sha256);
    let id = identity(
        "AKIAIOSFODNN7EXAMPLE",
        "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        None,
    );
    let mut h = HeaderMap::new();
    h.insert(
        "host",
        HeaderValue::from_static("examplebucket.s3.amazonaws.com"),
    );
    h.insert("range", HeaderValue::from_static("bytes=0-9"));
    // 2013-05-24T00:00:00Z
    signer
        .sign(
            &id,
            at(1_369_353_600),
            &Method::GET,
            "/test.txt",
            &mut h,
            b"",
        )
        .unwrap();
    assert_eq!(
        h["authorization"],
        "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, \
         SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, \
         Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"
    );
}

#[test]
fn the_signing_key_is_derived_once_per_day_and_identity() {
    let signer = Signer::new("eu-west-1", PayloadSigning::Sha256);
    let a = identity("AKID", "SECRET", None);
    let sign = |id: &Identity, secs: u64| {
        let mut h = base_headers();
        signer
            .sign(id, at(secs), &Method::GET, "/b/k", &mut h, b"")
            .unwrap();
        signer.key.load_full().unwrap()
    };
    let first = sign(&a, 1_700_000_000);
    assert!(Arc::ptr_eq(&first, &sign(&a, 1_700_000_000 + 60)));
    // The next UTC day, another secret, a session token: a new key each time.
    let next_day = sign(&a, 1_700_006_400 + SECONDS_PER_DAY);
    assert!(!Arc::ptr_eq(&first, &next_day));
    assert_eq!(&*next_day.scope, "20231116/eu-west-1/s3/aws4_request");
    let other = sign(
        &identity("AKID", "OTHER", None),
        1_700_006_400 + SECONDS_PER_DAY,
    );
    assert!(!Arc::ptr_eq(&next_day, &other));
    let token = sign(
        &identity("AKID", "OTHER", Some("T")),
        1_700_006_400 + SECONDS_PER_DAY,
    );
    assert!(!Arc::ptr_eq(&other, &token));
    // A new signer starts cold.
    assert!(
        Signer::new("eu-west-1", PayloadSigning::Sha256)
            .key
            .load()
            .is_none()
    );
}

#[test]
fn dates_format_like_aws_sigv4() {
    let mut rng = SmallRng::seed_from_u64(7);
    for secs in [0, 86_399, 86_400, 951_782_400, 4_102_444_799]
        .into_iter()
        .chain((0..2_000).map(|_| rng.random_range(0..4_102_444_800u64)))
    {
        let t = OffsetDateTime::from(at(secs));
        let expected = format!(
            "{:04}{:02}{:02}T{:02}{:02}{:02}Z",
            t.year(),
            u8::from(t.month()),
            t.day(),
            t.hour(),
            t.minute(),
            t.second()
        );
        assert_eq!(format_date_time(secs), expected.as_bytes(), "{secs}");
        // A miss formats; a second call within the same second comes from the cache.
        for _ in 0..2 {
            let (formatted, value) = date_time(secs);
            assert_eq!(formatted, expected.as_bytes(), "{secs}");
            assert_eq!(value, expected.as_str(), "{secs}");
        }
    }
}

#[test]
fn values_are_trimmed_like_aws_sigv4() {
    let trimmed = |v: &str| {
        let mut out = Vec::new();
        push_trimmed(&mut out, v.as_bytes()).map(|()| String::from_utf8(out).unwrap())
    };
    assert_eq!(trimmed("  a   b  c ").unwrap(), "a b c");
    assert_eq!(trimmed("a\t\tb").unwrap(), "a\t\tb");
    assert_eq!(trimmed("   ").unwrap(), "");
    assert_eq!(trimmed("x").unwrap(), "x");
    assert_eq!(trimmed("attempt=1; max=3").unwrap(), "attempt=1; max=3");
    assert_eq!(trimmed(" a b").unwrap(), "a b");
    assert_eq!(trimmed("a b ").unwrap(), "a b");
    assert_eq!(trimmed("a b  c").unwrap(), "a b c");
    assert_eq!(trimmed(" ").unwrap(), "");
    assert_eq!(trimmed("").unwrap(), "");
    assert!(trimmed("caf\u{e9}").is_err());
}

#[test]
fn many_headers_match_aws_sigv4_too() {
    let signer = Signer::new("us-east-1", PayloadSigning::Sha256);
    let id = identity("AKID", "SECRET", Some("TOKEN"));
    let mut headers = base_headers();
    for i in (0..40).rev() {
        headers.insert(
            HeaderName::try_from(format!("x-amz-meta-m{i:02}")).unwrap(),
            HeaderValue::from(i),
        );
    }
    let (mut ours, mut theirs) = (headers.clone(), headers);
    let (time, method) = (at(1_700_000_000), Method::PUT);
    signer
        .sign(&id, time, &method, "/b/k", &mut ours, b"body")
        .unwrap();
    signer
        .sign_with_aws_sigv4(&id, time, &method, "/b/k", &mut theirs, b"body")
        .unwrap();
    assert_eq!(ours, theirs);
}

/// Random requests signed by this signer and by aws-sigv4's `sign()`: every header the same.
#[test]
fn every_header_matches_aws_sigv4_on_a_random_corpus() {
    const KEY_CHARS: &[char] = &[
        'a', 'Z', '0', '-', '_', '.', '~', '/', ' ', '+', '%', '=', '&', '?', '#', '*', 'é', '中',
        '\'', '(', ':', '@',
    ];
    const VALUE_CHARS: &[char] = &['a', 'B', '9', ' ', ' ', '-', ',', ';', '=', '"', '/', '\t'];
    let mut rng = SmallRng::seed_from_u64(0x5157);
    let identities = [
        identity("AKIDA", "secret-a", None),
        identity("AKIDB", "secret/b+c", Some("token==")),
        identity("AKIDA", "secret-a", Some("other-token")),
    ];
    let regions = ["us-east-1", "eu-central-2"];
    let signers: Vec<Signer> = regions
        .iter()
        .flat_map(|r| {
            [PayloadSigning::Sha256, PayloadSigning::Unsigned]
                .map(|payload| Signer::new(r, payload))
        })
        .collect();
    let text = |rng: &mut SmallRng, chars: &[char], max: usize| -> String {
        let n = rng.random_range(0..=max);
        (0..n)
            .map(|_| chars[rng.random_range(0..chars.len())])
            .collect()
    };
    for case in 0..3_000 {
        let signer = &signers[rng.random_range(0..signers.len())];
        let id = &identities[rng.random_range(0..identities.len())];
        // Mostly within a few days, so the key cache hits and misses.
        let time = at(1_700_000_000 + rng.random_range(0..4 * SECONDS_PER_DAY));
        let method = [Method::GET, Method::PUT, Method::HEAD, Method::DELETE]
            [rng.random_range(0..4)]
        .clone();
        let key = text(&mut rng, KEY_CHARS, 12);
        let mut path = crate::s3::ops::object_path("bucket", &key, 0);
        match rng.random_range(0..5) {
            0 => {
                path.push_str("?list-type=2&prefix=");
                crate::s3::ops::encode_into(&mut path, &text(&mut rng, KEY_CHARS, 6), true);
                path.push_str("&delimiter=%2F");
            }
            1 => path.push_str("?uploads"),
            // Raw `+`, a repeated name and an empty value, as a hand-written URL might have.
            2 => path.push_str("?b=2&a=x+y&a=1&c="),
            _ => {}
        }
        let mut headers = base_headers();
        // A third of the requests have no body (its hash is a constant in the signer).
        let body = if rng.random_range(0..3) == 0 {
            Vec::new()
        } else {
            text(&mut rng, KEY_CHARS, 40).into_bytes()
        };
        if method == Method::PUT {
            headers.insert("content-length", HeaderValue::from(body.len()));
        }
        for _ in 0..rng.random_range(0..4) {
            let name = [
                "x-amz-meta-note",
                "content-type",
                "range",
                "amz-sdk-request",
            ][rng.random_range(0..4)];
            let value = text(&mut rng, VALUE_CHARS, 10);
            headers.append(name, HeaderValue::from_str(&value).unwrap());
        }
        let mut ours = headers.clone();
        signer
            .sign(id, time, &method, &path, &mut ours, &body)
            .unwrap();
        let mut theirs = headers;
        signer
            .sign_with_aws_sigv4(id, time, &method, &path, &mut theirs, &body)
            .unwrap();
        assert_eq!(ours, theirs, "case {case}: {method} {path}");
    }
}
