use std::time::{Duration, SystemTime};

use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart};

use crate::util::{TestServer, code};

fn assert_xml_error(r: &crate::util::Response, status: u16, expected: &str) {
    assert_eq!(r.status, status, "{r:?}");
    assert_eq!(r.code(), Some(expected), "{r:?}");
    assert_eq!(
        r.headers.get("content-type").and_then(|v| v.to_str().ok()),
        Some("application/xml")
    );
    assert!(r.headers.contains_key("x-amz-request-id"));
    assert!(r.headers.contains_key("x-amz-id-2"));
    for tag in ["<Message>", "<RequestId>", "<HostId>"] {
        assert!(r.body.contains(tag), "{tag} in {}", r.body);
    }
}

#[tokio::test]
async fn sdk_visible_errors() {
    let t = TestServer::start();
    let c = t.bucket("errs").await;

    let e = c
        .get_object()
        .bucket("nobucket")
        .key("k")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "NoSuchBucket");
    let e = c
        .get_object()
        .bucket("errs")
        .key("nokey")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "NoSuchKey");
    let e = c.create_bucket().bucket("errs").send().await.unwrap_err();
    assert_eq!(code(&e), "BucketAlreadyOwnedByYou");
    c.put_object()
        .bucket("errs")
        .key("k")
        .body(ByteStream::from_static(b"x"))
        .send()
        .await
        .unwrap();
    let e = c.delete_bucket().bucket("errs").send().await.unwrap_err();
    assert_eq!(code(&e), "BucketNotEmpty");
    let e = c
        .list_parts()
        .bucket("errs")
        .key("k")
        .upload_id("nope")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "NoSuchUpload");

    // Multipart: order, unknown part, too-small parts.
    let id = c
        .create_multipart_upload()
        .bucket("errs")
        .key("mp")
        .send()
        .await
        .unwrap()
        .upload_id()
        .unwrap()
        .to_owned();
    let mut etags = Vec::new();
    for n in 1..=2 {
        let out = c
            .upload_part()
            .bucket("errs")
            .key("mp")
            .upload_id(&id)
            .part_number(n)
            .body(ByteStream::from(vec![n as u8; 10]))
            .send()
            .await
            .unwrap();
        etags.push(out.e_tag().unwrap().to_owned());
    }
    let part = |n: i32, e: &str| CompletedPart::builder().part_number(n).e_tag(e).build();
    let complete = |parts: Vec<CompletedPart>| {
        c.complete_multipart_upload()
            .bucket("errs")
            .key("mp")
            .upload_id(&id)
            .multipart_upload(
                CompletedMultipartUpload::builder()
                    .set_parts(Some(parts))
                    .build(),
            )
            .send()
    };
    let e = complete(vec![part(2, &etags[1]), part(1, &etags[0])])
        .await
        .unwrap_err();
    assert_eq!(code(&e), "InvalidPartOrder");
    let e = complete(vec![part(1, &etags[0]), part(3, "\"abc\"")])
        .await
        .unwrap_err();
    assert_eq!(code(&e), "InvalidPart");
    let e = complete(vec![part(1, &etags[0]), part(2, &etags[0])])
        .await
        .unwrap_err();
    assert_eq!(code(&e), "InvalidPart");
    let e = complete(vec![part(1, &etags[0]), part(2, &etags[1])])
        .await
        .unwrap_err();
    assert_eq!(code(&e), "EntityTooSmall");

    let e = c
        .put_object()
        .bucket("errs")
        .key("md5")
        .content_md5("1B2M2Y8AsgTpgAmY7PhCfg==")
        .body(ByteStream::from_static(b"not empty"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "BadDigest");
    // Nothing was stored by the rejected request.
    let e = c
        .head_object()
        .bucket("errs")
        .key("md5")
        .send()
        .await
        .unwrap_err();
    assert_eq!(e.raw_response().unwrap().status().as_u16(), 404);
}

#[tokio::test]
async fn auth_errors_store_nothing() {
    let t = TestServer::start();
    t.bucket("auth").await;
    let bad_secret = t.client_with(t.server.access_key(), "wrong-secret");
    let e = bad_secret
        .put_object()
        .bucket("auth")
        .key("k")
        .body(ByteStream::from_static(b"x"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "SignatureDoesNotMatch");
    let e = t
        .client_with("AKIDUNKNOWN", "whatever")
        .put_object()
        .bucket("auth")
        .key("k")
        .body(ByteStream::from_static(b"x"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "InvalidAccessKeyId");

    let old = SystemTime::now() - Duration::from_secs(20 * 60);
    let r = t
        .request(t.signed_at("GET", "/auth?list-type=2", &[], b"", old, None))
        .await;
    assert_xml_error(&r, 403, "RequestTimeTooSkewed");

    let anonymous = http::Request::builder()
        .method("PUT")
        .uri("/auth/k")
        .header("host", "localhost")
        .body(http_body_util::Full::new(bytes::Bytes::from_static(b"x")))
        .unwrap();
    let r = t.request(anonymous).await;
    assert_xml_error(&r, 403, "AccessDenied");

    // A tampered body under a signed SHA-256 payload hash.
    let mut req = t.signed("PUT", "/auth/k", &[], b"original");
    *req.body_mut() = http_body_util::Full::new(bytes::Bytes::from_static(b"tampered"));
    let r = t.request(req).await;
    assert_xml_error(&r, 400, "XAmzContentSHA256Mismatch");

    assert_eq!(t.server.stored_bytes(), 0);
    let out = t
        .client()
        .list_objects_v2()
        .bucket("auth")
        .send()
        .await
        .unwrap();
    assert_eq!(out.key_count(), Some(0));
}

fn md5_b64(body: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(mock_s3::checksum::md5(body))
}

#[tokio::test]
async fn raw_errors_have_s3_xml() {
    let t = TestServer::with_config(mock_s3::Config {
        max_body: 1024,
        ..Default::default()
    });
    t.bucket("raw").await;

    let r = t
        .request(t.signed(
            "POST",
            "/raw?delete",
            &[("content-md5", &md5_b64(b"<Delete><Object><Key>a"))],
            b"<Delete><Object><Key>a",
        ))
        .await;
    assert_xml_error(&r, 400, "MalformedXML");
    let r = t
        .request(t.signed("PUT", "/raw/k?partNumber=0&uploadId=x", &[], b""))
        .await;
    assert_xml_error(&r, 400, "InvalidArgument");
    let r = t
        .request(t.signed("PUT", "/Invalid_Bucket", &[], b""))
        .await;
    assert_xml_error(&r, 400, "InvalidBucketName");
    let r = t.request(t.signed("PATCH", "/raw/k", &[], b"")).await;
    assert_xml_error(&r, 405, "MethodNotAllowed");
    let r = t.request(t.signed("GET", "/raw/k?tagging", &[], b"")).await;
    assert_xml_error(&r, 501, "NotImplemented");
    let r = t.request(t.signed("GET", "/raw?uploads", &[], b"")).await;
    assert_xml_error(&r, 501, "NotImplemented");
    let big = vec![b'x'; 2048];
    let r = t.request(t.signed("PUT", "/raw/big", &[], &big)).await;
    assert_xml_error(&r, 400, "EntityTooLarge");
    let r = t
        .request(t.signed(
            "PUT",
            "/raw/k",
            &[("content-md5", "AAAAAAAAAAAAAAAAAAAAAA==")],
            b"x",
        ))
        .await;
    assert_xml_error(&r, 400, "BadDigest");
    let r = t
        .request(t.signed(
            "PUT",
            "/raw/k",
            &[("x-amz-checksum-crc32", "AAAAAA==")],
            b"x",
        ))
        .await;
    assert_xml_error(&r, 400, "BadDigest");
    let r = t.request(t.signed("GET", "/raw/missing", &[], b"")).await;
    assert_xml_error(&r, 404, "NoSuchKey");
    assert!(r.body.contains("<Resource>/raw/missing</Resource>"));

    // HEAD errors have no body, as in S3.
    let r = t.request(t.signed("HEAD", "/raw/missing", &[], b"")).await;
    assert_eq!(r.status, 404);
    assert!(r.body.is_empty());
    assert!(r.headers.contains_key("x-amz-request-id"));
    assert_eq!(t.server.stored_bytes(), 0);
}

#[tokio::test]
async fn internal_error_renders_as_s3_xml() {
    // InternalError is what the fault injector sends; its rendering is checked here directly.
    let id = mock_s3::error::RequestId::next();
    let resp = mock_s3::error::S3Error::internal_error().into_response(&id, false);
    assert_eq!(resp.status().as_u16(), 500);
    let xml = mock_s3::error::S3Error::internal_error().to_xml(&id);
    assert!(xml.contains("<Code>InternalError</Code>"));
}
