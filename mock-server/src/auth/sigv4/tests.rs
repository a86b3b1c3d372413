//! Unit tests of SigV4 verification: canonical requests, signatures, presigned URLs and
//! the header parsing around them, against AWS's documented examples and aws-sigv4's output.

use super::*;

#[test]
fn cached_signing_keys_match_fresh_ones() {
    let cases = [
        ("s1", "20260101", "us-east-1", "s3"),
        ("s2", "20260101", "us-east-1", "s3"),
        ("s1", "20260102", "us-east-1", "s3"),
        ("s1", "20260101", "eu-west-1", "s3"),
    ];
    for _ in 0..2 {
        for (secret, date, region, service) in cases {
            assert_eq!(
                signing_key(secret, date, region, service),
                derive_signing_key(secret, date, region, service)
            );
            // Asked twice in a row: the second answer comes from the cache.
            assert_eq!(
                signing_key(secret, date, region, service),
                derive_signing_key(secret, date, region, service)
            );
        }
    }
}
use crate::auth::chunked;
use aws_credential_types::Credentials;
use aws_sigv4::http_request::{
    PayloadChecksumKind, PercentEncodingMode, SignableBody, SignableRequest, SignatureLocation,
    SigningSettings, UriPathNormalizationMode, sign,
};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;
use std::time::UNIX_EPOCH;

const AK: &str = "AKIDEXAMPLE";
const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
const HOST_NAME: &str = "bucket.localhost:9000";

/// 2026-01-01T00:00:00Z.
fn t0() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_767_225_600)
}

fn keys() -> HashMap<String, String> {
    HashMap::from([(AK.to_owned(), SECRET.to_owned())])
}

#[derive(Clone)]
struct Opts {
    time: SystemTime,
    token: Option<&'static str>,
    location: SignatureLocation,
    expires: Option<Duration>,
    content_sha256_header: bool,
}

impl Default for Opts {
    fn default() -> Self {
        Self {
            time: t0(),
            token: None,
            location: SignatureLocation::Headers,
            expires: None,
            content_sha256_header: true,
        }
    }
}

/// Signs like aws-sdk-s3 does (single encoding, no path normalisation),
/// then returns the head as a server sees it (origin-form URI, Host header).
fn signed(
    method: &str,
    path_and_query: &str,
    headers: &[(&str, &str)],
    body: SignableBody<'_>,
    opts: &Opts,
) -> (Parts, String) {
    let uri = format!("https://{HOST_NAME}{path_and_query}");
    let mut builder = http::Request::builder()
        .method(method)
        .uri(&uri)
        .header(HOST, HOST_NAME);
    for (k, v) in headers {
        builder = builder.header(*k, *v);
    }
    let mut request = builder.body(()).unwrap();

    let identity: Identity =
        Credentials::new(AK, SECRET, opts.token.map(str::to_owned), None, "test").into();
    let mut settings = SigningSettings::default();
    settings.percent_encoding_mode = PercentEncodingMode::Single;
    settings.uri_path_normalization_mode = UriPathNormalizationMode::Disabled;
    if opts.content_sha256_header {
        settings.payload_checksum_kind = PayloadChecksumKind::XAmzSha256;
    }
    settings.signature_location = opts.location;
    settings.expires_in = opts.expires;
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region("us-east-1")
        .name("s3")
        .time(opts.time)
        .settings(settings)
        .build()
        .unwrap()
        .into();
    let signable = SignableRequest::new(
        method,
        uri.as_str(),
        request
            .headers()
            .iter()
            .map(|(k, v)| (k.as_str(), v.to_str().unwrap())),
        body,
    )
    .unwrap();
    let (instructions, signature) = sign(signable, &params).unwrap().into_parts();
    instructions.apply_to_request_http1x(&mut request);

    let (mut parts, ()) = request.into_parts();
    let origin = parts.uri.path_and_query().unwrap().as_str().to_owned();
    parts.uri = origin.parse().unwrap();
    (parts, signature)
}

fn get(path_and_query: &str) -> Parts {
    signed(
        "GET",
        path_and_query,
        &[],
        SignableBody::empty(),
        &Opts::default(),
    )
    .0
}

fn ok(parts: &Parts) -> Verified {
    match verify(parts, &keys(), t0()) {
        Ok(Some(v)) => v,
        other => panic!("expected a verified request, got {other:?}"),
    }
}

fn err(parts: &Parts, now: SystemTime) -> AuthError {
    match verify(parts, &keys(), now) {
        Err(e) => e,
        other => panic!("expected an error, got {other:?}"),
    }
}

/// Replaces the last character of the Authorization signature.
fn flip_signature(parts: &mut Parts) {
    let auth = parts.headers[AUTHORIZATION].to_str().unwrap().to_owned();
    let last = if auth.ends_with('0') { '1' } else { '0' };
    let flipped = format!("{}{last}", &auth[..auth.len() - 1]);
    parts
        .headers
        .insert(AUTHORIZATION, flipped.parse().unwrap());
}

fn manual_parts(method: &str, uri: &str, headers: &[(&str, &str)]) -> Parts {
    let mut b = http::Request::builder().method(method).uri(uri);
    for (k, v) in headers {
        b = b.header(*k, *v);
    }
    b.body(()).unwrap().into_parts().0
}

#[test]
fn simple_get() {
    let v = ok(&get("/bucket/key.txt"));
    assert_eq!(v.access_key(), AK);
    assert_eq!(v.region(), "us-east-1");
    assert_eq!(v.service(), "s3");
    assert!(!v.presigned);
    assert_eq!(v.payload, PayloadMode::Sha256(EMPTY_SHA256.to_owned()));
    assert!(v.chunk_signer.is_none());
    assert!(v.session_token.is_none());
}

#[test]
fn put_with_payload_hash() {
    let body = b"hello, world";
    let (parts, _) = signed(
        "PUT",
        "/bucket/hello.txt",
        &[("content-type", "text/plain"), ("content-length", "12")],
        SignableBody::Bytes(body),
        &Opts::default(),
    );
    let v = ok(&parts);
    assert_eq!(v.payload, PayloadMode::Sha256(sha256_hex(body)));
}

#[test]
fn unsigned_payload() {
    let (parts, _) = signed(
        "PUT",
        "/bucket/k",
        &[],
        SignableBody::UnsignedPayload,
        &Opts::default(),
    );
    assert_eq!(ok(&parts).payload, PayloadMode::Unsigned);
}

#[test]
fn keys_with_special_characters() {
    for key in [
        "my file.txt",
        "a+b",
        "100%",
        "ünïcødé/日本語.txt",
        "k=v&x=y?z#frag",
        "dir/sub dir/~tilde_-.",
        "semi;colon,comma:colon@at!bang$dollar'quote(paren)*star",
    ] {
        let path = format!("/bucket/{}", percent_encode(key.as_bytes(), ENCODE_PATH));
        ok(&get(&path));
    }
}

#[test]
fn path_is_not_normalised() {
    ok(&get("/bucket//a/./b/../c/"));
}

#[test]
fn reserved_characters_signed_verbatim_are_accepted() {
    // A signer that leaves `=`, `:`, `@`, `!`, `+` raw in the path and signs
    // it verbatim (aws-sigv4 in single-encoding mode does that).
    ok(&get("/bucket/a=b:c@d!e+f,g"));
    // `/` sent as `%2F`.
    ok(&get("/bucket/dir%2Ffile"));
}

#[test]
fn query_parameters() {
    ok(&get(
        "/bucket?list-type=2&prefix=a%2Fb&continuation-token=1%2BAbC%3D%3D&delimiter=%2F&max-keys=10&start-after=x%20y",
    ));
    ok(&get("/bucket/key?uploads"));
    ok(&get("/bucket/key?uploadId=abc&partNumber=3"));
    ok(&get("/bucket?versions&key-marker=&prefix=%E6%97%A5"));
    // Unencoded reserved characters in values.
    ok(&get("/bucket?prefix=a/b&marker=x:y"));
}

#[test]
fn plus_in_query() {
    // aws-sigv4 reads `+` as a space (form encoding); S3 reads it literally.
    // Both are accepted.
    ok(&get("/bucket?prefix=a+b"));
    let creq = canonical_query(&split_query("prefix=a+b"), false, false);
    assert_eq!(creq, "prefix=a%2Bb");
}

#[test]
fn canonical_forms() {
    assert_eq!(
        canonical_uri("/b/a%20b/c+d/%7e/%2F"),
        "/b/a%20b/c%2Bd/~/%2F".replace("%2F", "/")
    );
    assert_eq!(canonical_uri("/b/ü"), "/b/%C3%BC");
    assert_eq!(canonical_uri("/b/%zz"), "/b/%25zz");
    assert_eq!(
        canonical_query(
            &split_query("b=2&a=1&a=0&c&&X-Amz-Signature=s"),
            true,
            false
        ),
        "a=0&a=1&b=2&c="
    );
    assert_eq!(
        canonical_query(&split_query("k=a/b~c d"), false, false),
        "k=a%2Fb~c%20d"
    );
    let mut out = Vec::new();
    push_trimmed(&mut out, b"  a   b \t c  ");
    assert_eq!(out, b"a b \t c");
}

#[test]
fn tampering_is_detected() {
    let mut parts = get("/bucket/key");
    flip_signature(&mut parts);
    let e = err(&parts, t0());
    assert_eq!(e.code(), "SignatureDoesNotMatch");
    assert_eq!(e.status(), StatusCode::FORBIDDEN);
    let AuthError::SignatureDoesNotMatch(detail) = &e else {
        unreachable!()
    };
    assert!(detail.canonical_request.starts_with("GET\n/bucket/key\n\n"));
    assert!(e.extra_fields().iter().any(|(k, _)| *k == "StringToSign"));

    let mut parts = get("/bucket/key");
    parts.uri = "/bucket/other".parse().unwrap();
    assert!(matches!(
        err(&parts, t0()),
        AuthError::SignatureDoesNotMatch(_)
    ));

    let mut parts = get("/bucket?prefix=a");
    parts.uri = "/bucket?prefix=b".parse().unwrap();
    assert!(matches!(
        err(&parts, t0()),
        AuthError::SignatureDoesNotMatch(_)
    ));

    let mut parts = get("/bucket/key");
    parts.method = http::Method::DELETE;
    assert!(matches!(
        err(&parts, t0()),
        AuthError::SignatureDoesNotMatch(_)
    ));

    let mut parts = get("/bucket/key");
    parts
        .headers
        .insert(HOST, "other.localhost:9000".parse().unwrap());
    assert!(matches!(
        err(&parts, t0()),
        AuthError::SignatureDoesNotMatch(_)
    ));

    // A different secret for the same key.
    let other = |_: &str| Some("not-the-secret".to_owned());
    let parts = get("/bucket/key");
    assert!(matches!(
        verify(&parts, &other, t0()),
        Err(AuthError::SignatureDoesNotMatch(_))
    ));
}

#[test]
fn unknown_access_key() {
    let parts = get("/bucket/key");
    let none = |_: &str| None;
    let e = verify(&parts, &none, t0()).unwrap_err();
    assert_eq!(e, AuthError::InvalidAccessKeyId(AK.to_owned()));
    assert_eq!(e.status(), StatusCode::FORBIDDEN);
}

#[test]
fn clock_skew() {
    let parts = get("/bucket/key");
    let minutes = |m: u64| Duration::from_secs(m * 60);
    assert!(verify(&parts, &keys(), t0() + minutes(14)).is_ok());
    assert!(verify(&parts, &keys(), t0() - minutes(14)).is_ok());
    for now in [t0() + minutes(20), t0() - minutes(20)] {
        let e = err(&parts, now);
        assert_eq!(e.code(), "RequestTimeTooSkewed");
        assert_eq!(e.status(), StatusCode::FORBIDDEN);
    }
}

#[test]
fn session_token_header() {
    let opts = Opts {
        token: Some("session-token-value"),
        ..Opts::default()
    };
    let (parts, _) = signed("GET", "/bucket/key", &[], SignableBody::empty(), &opts);
    assert!(parts.headers.contains_key(X_AMZ_SECURITY_TOKEN));
    let v = ok(&parts);
    assert_eq!(v.session_token.as_deref(), Some("session-token-value"));
}

#[test]
fn content_sha256_is_required_and_checked() {
    let opts = Opts {
        content_sha256_header: false,
        ..Opts::default()
    };
    let (parts, _) = signed("GET", "/bucket/key", &[], SignableBody::empty(), &opts);
    let e = err(&parts, t0());
    assert_eq!(e.code(), "InvalidRequest");
    assert_eq!(e.status(), StatusCode::BAD_REQUEST);

    let (parts, _) = signed(
        "PUT",
        "/bucket/key",
        &[],
        SignableBody::Precomputed("not-a-hash".to_owned()),
        &Opts::default(),
    );
    let e = err(&parts, t0());
    assert_eq!(e.code(), "InvalidArgument");
}

#[test]
fn streaming_modes() {
    for (value, mode) in [
        (STREAMING_SIGNED, PayloadMode::StreamingSigned),
        (
            STREAMING_SIGNED_TRAILER,
            PayloadMode::StreamingSignedTrailer,
        ),
        (
            STREAMING_UNSIGNED_TRAILER,
            PayloadMode::StreamingUnsignedTrailer,
        ),
    ] {
        let (parts, signature) = signed(
            "PUT",
            "/bucket/key",
            &[
                ("content-encoding", "aws-chunked"),
                ("x-amz-decoded-content-length", "5"),
            ],
            SignableBody::Precomputed(value.to_owned()),
            &Opts::default(),
        );
        let v = ok(&parts);
        assert_eq!(v.payload, mode);
        match v.chunk_signer {
            Some(signer) => {
                assert!(mode.is_signed_streaming());
                assert_eq!(signer.previous_signature(), signature);
            }
            None => assert!(!mode.is_signed_streaming()),
        }
    }
}

#[test]
fn anonymous_and_mechanism_errors() {
    let parts = manual_parts("GET", "/bucket/key?prefix=x", &[("host", HOST_NAME)]);
    assert!(verify(&parts, &keys(), t0()).unwrap().is_none());

    let parts = manual_parts(
        "GET",
        "/bucket/key?AWSAccessKeyId=AK&Signature=abc&Expires=1",
        &[],
    );
    assert_eq!(err(&parts, t0()).code(), "InvalidRequest");

    let parts = manual_parts("GET", "/b", &[("authorization", "AWS AK:c2lnbmF0dXJl")]);
    assert_eq!(err(&parts, t0()).code(), "InvalidRequest");

    let parts = manual_parts("GET", "/b", &[("authorization", "Bearer xyz")]);
    assert_eq!(err(&parts, t0()).code(), "InvalidArgument");

    let mut parts = get("/bucket/key");
    parts.uri = "/bucket/key?X-Amz-Algorithm=AWS4-HMAC-SHA256"
        .parse()
        .unwrap();
    assert_eq!(err(&parts, t0()).code(), "InvalidArgument");
}

#[test]
fn malformed_authorization_headers() {
    let date = ("x-amz-date", "20260101T000000Z");
    let sha = ("x-amz-content-sha256", EMPTY_SHA256);
    for auth in [
        "AWS4-HMAC-SHA256",
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260101/us-east-1/s3/aws4_request",
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260101/us-east-1/s3, SignedHeaders=host, Signature=00",
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/2026-01-01/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=00",
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260101/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=00, Foo=bar",
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260101/us-east-1/s3/aws4_request, SignedHeaders=, Signature=00",
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260101/us-east-1/s3/aws4_request, SignedHeaders=host, SignedHeaders=host, Signature=00",
        // Credential date differs from x-amz-date.
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20251231/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=00",
    ] {
        let parts = manual_parts("GET", "/b", &[("authorization", auth), date, sha]);
        let e = err(&parts, t0());
        assert_eq!(e.code(), "AuthorizationHeaderMalformed", "{auth}: {e}");
        assert_eq!(e.status(), StatusCode::BAD_REQUEST);
    }
    // No usable date.
    let auth = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260101/us-east-1/s3/aws4_request,SignedHeaders=host,Signature=00";
    for date in [None, Some("2026-01-01T00:00:00Z"), Some("20261301T000000Z")] {
        let mut headers = vec![("authorization", auth), sha];
        if let Some(d) = date {
            headers.push(("x-amz-date", d));
        }
        let e = err(&manual_parts("GET", "/b", &headers), t0());
        assert_eq!(e.code(), "AccessDenied", "{date:?}");
    }
}

/// A request signed by hand with the `Date` header instead of `x-amz-date`;
/// the canonical request is spelled out literally.
#[test]
fn date_header_instead_of_x_amz_date() {
    let canonical = "GET\n/bucket/my%20key\nprefix=a%2Fb\n\
         date:Thu, 01 Jan 2026 00:00:00 GMT\nhost:bucket.localhost:9000\n\
         x-amz-content-sha256:UNSIGNED-PAYLOAD\n\n\
         date;host;x-amz-content-sha256\nUNSIGNED-PAYLOAD";
    let sts = format!(
        "AWS4-HMAC-SHA256\n20260101T000000Z\n20260101/eu-west-3/s3/aws4_request\n{}",
        sha256_hex(canonical.as_bytes())
    );
    let key = signing_key(SECRET, "20260101", "eu-west-3", "s3");
    let sig = hex::encode(hmac_sha256(&key, sts.as_bytes()));
    let auth = format!(
        "AWS4-HMAC-SHA256 Credential={AK}/20260101/eu-west-3/s3/aws4_request,SignedHeaders=date;host;x-amz-content-sha256,Signature={sig}"
    );
    let parts = manual_parts(
        "GET",
        "/bucket/my%20key?prefix=a/b",
        &[
            ("host", HOST_NAME),
            ("date", "Thu, 01 Jan 2026 00:00:00 GMT"),
            ("x-amz-content-sha256", "UNSIGNED-PAYLOAD"),
            ("authorization", &auth),
        ],
    );
    let v = ok(&parts);
    assert_eq!(v.region(), "eu-west-3");
}

#[test]
fn header_values_are_trimmed_and_joined() {
    let (parts, _) = signed(
        "GET",
        "/bucket/key",
        &[("x-amz-meta-a", "one   two"), ("x-amz-meta-b", "x")],
        SignableBody::empty(),
        &Opts::default(),
    );
    ok(&parts);
    // Extra spaces on the wire do not change the canonical value.
    let mut loose = parts;
    loose
        .headers
        .insert("x-amz-meta-a", "one two".parse().unwrap());
    ok(&loose);
    // Two values of one header are joined with ','.
    let canonical = canonical_headers(
        &manual_parts("GET", "/", &[("x-a", " 1 "), ("x-a", "2  3")]),
        "x-a",
    );
    assert_eq!(canonical, b"x-a:1,2 3\n");
}

// --- Presigned URLs ---

fn presigned(path_and_query: &str, expires: u64, opts: Opts) -> Parts {
    let opts = Opts {
        location: SignatureLocation::QueryParams,
        expires: Some(Duration::from_secs(expires)),
        ..opts
    };
    signed(
        "GET",
        path_and_query,
        &[],
        SignableBody::UnsignedPayload,
        &opts,
    )
    .0
}

#[test]
fn presigned_url() {
    let parts = presigned("/bucket/my%20key.txt?versionId=3", 3600, Opts::default());
    assert!(parts.uri.query().unwrap().contains("X-Amz-Signature="));
    assert!(!parts.headers.contains_key(AUTHORIZATION));
    let v = verify(&parts, &keys(), t0() + Duration::from_secs(3000))
        .unwrap()
        .unwrap();
    assert!(v.presigned);
    assert_eq!(v.access_key(), AK);
    assert_eq!(v.payload, PayloadMode::Unsigned);
    assert!(v.chunk_signer.is_none());
    // Exactly at expiry it is still valid.
    assert!(verify(&parts, &keys(), t0() + Duration::from_secs(3600)).is_ok());
}

#[test]
fn presigned_expired() {
    let parts = presigned("/bucket/key", 3600, Opts::default());
    let e = err(&parts, t0() + Duration::from_secs(3601));
    assert_eq!(e, AuthError::AccessDenied("Request has expired".to_owned()));
    assert_eq!(e.status(), StatusCode::FORBIDDEN);
}

#[test]
fn presigned_in_the_future() {
    let parts = presigned("/bucket/key", 3600, Opts::default());
    let e = err(&parts, t0() - Duration::from_secs(20 * 60));
    assert_eq!(e.code(), "RequestTimeTooSkewed");
    assert!(verify(&parts, &keys(), t0() - Duration::from_secs(10 * 60)).is_ok());
}

#[test]
fn presigned_tampered() {
    let parts = presigned(
        "/bucket/key?response-content-type=text%2Fplain",
        3600,
        Opts::default(),
    );
    let query = parts.uri.query().unwrap();
    for tampered in [
        query.replace("text%2Fplain", "text%2Fhtml"),
        query.replace("X-Amz-Expires=3600", "X-Amz-Expires=3601"),
        format!("{query}&extra=1"),
    ] {
        let mut p = parts.clone();
        p.uri = format!("/bucket/key?{tampered}").parse().unwrap();
        let e = err(&p, t0());
        assert!(matches!(e, AuthError::SignatureDoesNotMatch(_)), "{e}");
    }
    let mut p = parts.clone();
    p.uri = format!("/bucket/other?{query}").parse().unwrap();
    assert!(matches!(err(&p, t0()), AuthError::SignatureDoesNotMatch(_)));
}

#[test]
fn presigned_parameter_errors() {
    let parts = presigned("/bucket/key", 3600, Opts::default());
    let query = parts.uri.query().unwrap().to_owned();
    let with = |q: String| {
        let mut p = parts.clone();
        p.uri = format!("/bucket/key?{q}").parse().unwrap();
        err(&p, t0())
    };
    let e = with(query.replace("X-Amz-Expires=3600", "X-Amz-Expires=604801"));
    assert_eq!(e.code(), "AuthorizationQueryParametersError");
    assert_eq!(e.status(), StatusCode::BAD_REQUEST);
    let e = with(query.replace("X-Amz-Expires=3600", "X-Amz-Expires=soon"));
    assert_eq!(e.code(), "AuthorizationQueryParametersError");
    let e = with(query.replace("X-Amz-Algorithm=AWS4-HMAC-SHA256", "X-Amz-Algorithm=HMAC"));
    assert_eq!(e.code(), "AuthorizationQueryParametersError");
    let e = with(query.replace("X-Amz-Date=", "X-Amz-Nope="));
    assert_eq!(e.code(), "AuthorizationQueryParametersError");
    let e = with(query.replace("X-Amz-Credential=AKIDEXAMPLE", "X-Amz-Credential=NOBODY"));
    assert_eq!(e, AuthError::InvalidAccessKeyId("NOBODY".to_owned()));

    // A week is allowed.
    let parts = presigned("/bucket/key", 604_800, Opts::default());
    assert!(verify(&parts, &keys(), t0() + Duration::from_secs(600_000)).is_ok());
}

#[test]
fn presigned_with_session_token() {
    let opts = Opts {
        token: Some("tok/en+=="),
        ..Opts::default()
    };
    let parts = presigned("/bucket/key", 60, opts);
    assert!(parts.uri.query().unwrap().contains("X-Amz-Security-Token="));
    let v = ok(&parts);
    assert_eq!(v.session_token.as_deref(), Some("tok/en+=="));
}

// --- Known-answer vectors from the S3 SigV4 documentation ---

const DOC_AK: &str = "AKIAIOSFODNN7EXAMPLE";
const DOC_SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

fn doc_keys() -> HashMap<String, String> {
    HashMap::from([(DOC_AK.to_owned(), DOC_SECRET.to_owned())])
}

/// Fri, 24 May 2013 00:00:00 GMT.
fn doc_time() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_369_353_600)
}

fn doc_auth(signed_headers: &str, signature: &str) -> String {
    format!(
        "AWS4-HMAC-SHA256 Credential={DOC_AK}/20130524/us-east-1/s3/aws4_request,SignedHeaders={signed_headers},Signature={signature}"
    )
}

#[test]
fn doc_example_get_object() {
    let auth = doc_auth(
        "host;range;x-amz-content-sha256;x-amz-date",
        "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41",
    );
    let parts = manual_parts(
        "GET",
        "/test.txt",
        &[
            ("host", "examplebucket.s3.amazonaws.com"),
            ("range", "bytes=0-9"),
            ("x-amz-content-sha256", EMPTY_SHA256),
            ("x-amz-date", "20130524T000000Z"),
            ("authorization", &auth),
        ],
    );
    let v = verify(&parts, &doc_keys(), doc_time()).unwrap().unwrap();
    assert_eq!(v.access_key(), DOC_AK);
}

#[test]
fn doc_example_put_object() {
    let auth = doc_auth(
        "date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class",
        "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd",
    );
    let body_hash = sha256_hex(b"Welcome to Amazon S3.");
    let parts = manual_parts(
        "PUT",
        "/test%24file.text",
        &[
            ("host", "examplebucket.s3.amazonaws.com"),
            ("date", "Fri, 24 May 2013 00:00:00 GMT"),
            ("x-amz-date", "20130524T000000Z"),
            ("x-amz-storage-class", "REDUCED_REDUNDANCY"),
            ("x-amz-content-sha256", &body_hash),
            ("authorization", &auth),
        ],
    );
    let v = verify(&parts, &doc_keys(), doc_time()).unwrap().unwrap();
    assert_eq!(v.payload, PayloadMode::Sha256(body_hash));
}

#[test]
fn doc_example_list_objects() {
    let auth = doc_auth(
        "host;x-amz-content-sha256;x-amz-date",
        "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7",
    );
    let parts = manual_parts(
        "GET",
        "/?max-keys=2&prefix=J",
        &[
            ("host", "examplebucket.s3.amazonaws.com"),
            ("x-amz-content-sha256", EMPTY_SHA256),
            ("x-amz-date", "20130524T000000Z"),
            ("authorization", &auth),
        ],
    );
    verify(&parts, &doc_keys(), doc_time()).unwrap().unwrap();
}

#[test]
fn doc_example_presigned() {
    let parts = manual_parts(
        "GET",
        "/test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256\
         &X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request\
         &X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host\
         &X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404",
        &[("host", "examplebucket.s3.amazonaws.com")],
    );
    let v = verify(&parts, &doc_keys(), doc_time()).unwrap().unwrap();
    assert!(v.presigned);
    let e = verify(
        &parts,
        &doc_keys(),
        doc_time() + Duration::from_secs(86_401),
    )
    .unwrap_err();
    assert_eq!(e.code(), "AccessDenied");
}

/// The chunked-upload example: the seed signature, then the body.
#[test]
fn doc_example_chunked_upload() {
    let seed = "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9";
    let auth = doc_auth(
        "content-encoding;content-length;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;x-amz-storage-class",
        seed,
    );
    let parts = manual_parts(
        "PUT",
        "/examplebucket/chunkObject.txt",
        &[
            ("host", "s3.amazonaws.com"),
            ("x-amz-date", "20130524T000000Z"),
            ("x-amz-storage-class", "REDUCED_REDUNDANCY"),
            ("authorization", &auth),
            ("x-amz-content-sha256", STREAMING_SIGNED),
            ("content-encoding", "aws-chunked"),
            ("x-amz-decoded-content-length", "66560"),
            ("content-length", "66824"),
        ],
    );
    let v = verify(&parts, &doc_keys(), doc_time()).unwrap().unwrap();
    assert_eq!(v.payload, PayloadMode::StreamingSigned);
    let signer = v.chunk_signer.unwrap();
    assert_eq!(signer.previous_signature(), seed);

    let mut body = Vec::new();
    body.extend_from_slice(b"10000;chunk-signature=ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648\r\n");
    body.extend_from_slice(&[b'a'; 65536]);
    body.extend_from_slice(b"\r\n400;chunk-signature=0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497\r\n");
    body.extend_from_slice(&[b'a'; 1024]);
    body.extend_from_slice(b"\r\n0;chunk-signature=b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9\r\n\r\n");
    assert_eq!(body.len(), 66824);

    let decoded =
        chunked::decode_with_headers(&body, &parts.headers, &v.payload, Some(signer.clone()))
            .unwrap();
    assert_eq!(decoded.data.len(), 66560);
    assert!(decoded.data.iter().all(|&b| b == b'a'));
    assert!(decoded.trailers.is_empty());

    // One changed byte of data breaks its chunk's signature.
    body[100] = b'b';
    assert_eq!(
        chunked::decode(&body, &v.payload, Some(signer), Some(66560)),
        Err(chunked::ChunkedError::SignatureDoesNotMatch)
    );
}

#[test]
fn signing_key_matches_aws_sigv4() {
    let key = signing_key(DOC_SECRET, "20130524", "us-east-1", "s3");
    let theirs = v4::generate_signing_key(DOC_SECRET, doc_time(), "us-east-1", "s3");
    assert_eq!(key.as_slice(), theirs.as_ref());
}

#[test]
fn amz_dates() {
    assert_eq!(parse_amz_date("20260101T000000Z"), Some(t0()));
    assert_eq!(format_amz_date(t0()), "20260101T000000Z");
    for bad in [
        "",
        "20260101T000000",
        "20260101 000000Z",
        "2026010AT000000Z",
        "20260230T000000Z",
        "20260101T250000Z",
        "+2026010T000000Z",
        "20260101T000000Zx",
        "２026010T00000Z",
    ] {
        assert_eq!(parse_amz_date(bad), None, "{bad}");
    }
}

#[test]
fn signed_header_names_are_valid_exactly_when_http_accepts_them() {
    for b in 0..=255u8 {
        let name = [b'x', b];
        let as_str = std::str::from_utf8(&name);
        let ours = as_str.is_ok_and(valid_header_name);
        assert_eq!(
            ours,
            http::HeaderName::from_bytes(&name).is_ok(),
            "byte {b:#04x}"
        );
    }
    for len in [0, 1, 64, 65, (1 << 16) - 1, 1 << 16] {
        let name = "a".repeat(len);
        assert_eq!(
            valid_header_name(&name),
            http::HeaderName::from_bytes(name.as_bytes()).is_ok(),
            "length {len}"
        );
    }
}

#[test]
fn byte_splits_are_str_splits() {
    for s in ["", ";", "a", "a;b", ";a;;b;", "host;x-amz-date", "ü;ß;;"] {
        assert_eq!(
            split_byte(s, b';').collect::<Vec<_>>(),
            s.split(';').collect::<Vec<_>>(),
            "{s:?}"
        );
        assert_eq!(split_once_byte(s, b';'), s.split_once(';'), "{s:?}");
    }
}

#[test]
fn trimmed_values_collapse_inner_spaces_only() {
    for (value, expected) in [
        ("  a  b   c ", "a b c"),
        ("a\t b", "a\t b"),
        ("\ta b\t", "a b"),
        ("plain", "plain"),
        ("", ""),
        ("   ", ""),
    ] {
        let mut out = Vec::new();
        push_trimmed(&mut out, value.as_bytes());
        assert_eq!(out, expected.as_bytes(), "{value:?}");
    }
}
