//! S3's input limits: keys over 1,024 bytes, CompleteMultipartUpload bodies outside S3's
//! schema, DeleteObjects without an integrity header, and Content-Length values that are not
//! numbers. Each gets S3's answer and stores (or deletes) nothing.

use aws_sdk_s3::primitives::ByteStream;

use crate::util::TestServer;

fn md5_b64(body: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(mock_s3::checksum::md5(body))
}

async fn keys(c: &aws_sdk_s3::Client, bucket: &str) -> Vec<String> {
    c.list_objects_v2()
        .bucket(bucket)
        .send()
        .await
        .unwrap()
        .contents()
        .iter()
        .map(|o| o.key().unwrap_or("").to_owned())
        .collect()
}

#[tokio::test]
async fn keys_over_1024_bytes_get_key_too_long_error() {
    let t = TestServer::start();
    let c = t.bucket("keys").await;
    let ok = "a".repeat(1024);
    let r = t
        .request(t.signed("PUT", &format!("/keys/{ok}"), &[], b"x"))
        .await;
    assert_eq!(r.status, 200, "{r:?}");
    // 1,025 and 2,003 bytes; 513 two-byte characters (1,026 bytes in UTF-8).
    let long = ["b".repeat(1025), "c".repeat(2003), "%C3%A9".repeat(513)];
    for key in &long {
        for (method, query) in [
            ("PUT", ""),
            ("POST", "?uploads"),
            ("GET", ""),
            ("DELETE", ""),
        ] {
            let r = t
                .request(t.signed(method, &format!("/keys/{key}{query}"), &[], b"x"))
                .await;
            assert_eq!(
                (r.status, r.code()),
                (400, Some("KeyTooLongError")),
                "{method} {} bytes: {r:?}",
                key.len()
            );
            assert!(r.body.contains("Your key is too long."), "{r:?}");
        }
    }
    assert_eq!(keys(&c, "keys").await, vec![ok]);
}

#[tokio::test]
async fn complete_multipart_upload_outside_the_schema_is_malformed_xml() {
    let t = TestServer::start();
    let c = t.bucket("mpx").await;
    let up = c
        .create_multipart_upload()
        .bucket("mpx")
        .key("k")
        .send()
        .await
        .unwrap();
    let id = up.upload_id().unwrap();
    let part = c
        .upload_part()
        .bucket("mpx")
        .key("k")
        .upload_id(id)
        .part_number(1)
        .body(ByteStream::from_static(b"part one"))
        .send()
        .await
        .unwrap();
    let etag = part.e_tag().unwrap();
    let part_xml = format!("<Part><PartNumber>1</PartNumber><ETag>{etag}</ETag></Part>");
    let bad = [
        format!("<Delete>{part_xml}</Delete>"),
        format!("<CompleteMultipartUploadX>{part_xml}</CompleteMultipartUploadX>"),
        format!(
            "<CompleteMultipartUpload>{part_xml}<Unknown>1</Unknown></CompleteMultipartUpload>"
        ),
        format!(
            "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>{etag}</ETag><Size>8</Size></Part></CompleteMultipartUpload>"
        ),
    ];
    for body in &bad {
        let r = t
            .request(t.signed(
                "POST",
                &format!("/mpx/k?uploadId={id}"),
                &[],
                body.as_bytes(),
            ))
            .await;
        assert_eq!(
            (r.status, r.code()),
            (400, Some("MalformedXML")),
            "{body}: {r:?}"
        );
    }
    assert!(keys(&c, "mpx").await.is_empty(), "nothing stored");
    // The upload is still open and completes with a body S3 accepts.
    let body = format!(
        "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">{part_xml}</CompleteMultipartUpload>"
    );
    let r = t
        .request(t.signed(
            "POST",
            &format!("/mpx/k?uploadId={id}"),
            &[],
            body.as_bytes(),
        ))
        .await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(keys(&c, "mpx").await, vec!["k".to_owned()]);
}

#[tokio::test]
async fn delete_objects_needs_content_md5_or_a_checksum() {
    let t = TestServer::start();
    let c = t.bucket("dels").await;
    for k in ["a", "b", "c"] {
        c.put_object()
            .bucket("dels")
            .key(k)
            .body(ByteStream::from_static(b"x"))
            .send()
            .await
            .unwrap();
    }
    let body = |k: &str| format!("<Delete><Object><Key>{k}</Key></Object></Delete>");
    let r = t
        .request(t.signed("POST", "/dels?delete", &[], body("a").as_bytes()))
        .await;
    assert_eq!((r.status, r.code()), (400, Some("InvalidRequest")), "{r:?}");
    assert!(
        r.body
            .contains("Missing required header for this request: Content-MD5 OR x-amz-checksum-*"),
        "{r:?}"
    );
    assert_eq!(keys(&c, "dels").await, ["a", "b", "c"], "nothing deleted");
    // Content-MD5, or any flexible checksum, will do.
    let b = body("a");
    let r = t
        .request(t.signed(
            "POST",
            "/dels?delete",
            &[("content-md5", &md5_b64(b.as_bytes()))],
            b.as_bytes(),
        ))
        .await;
    assert_eq!(r.status, 200, "{r:?}");
    let b = body("b");
    let crc = mock_s3::checksum::Algorithm::Crc32.compute(b.as_bytes());
    let r = t
        .request(t.signed(
            "POST",
            "/dels?delete",
            &[("x-amz-checksum-crc32", &crc)],
            b.as_bytes(),
        ))
        .await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(keys(&c, "dels").await, ["c"]);
    // The SDK sends one by itself.
    c.delete_objects()
        .bucket("dels")
        .delete(
            aws_sdk_s3::types::Delete::builder()
                .objects(
                    aws_sdk_s3::types::ObjectIdentifier::builder()
                        .key("c")
                        .build()
                        .unwrap(),
                )
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    assert!(keys(&c, "dels").await.is_empty());
}

#[tokio::test]
async fn a_content_length_that_is_not_a_number_gets_400() {
    let t = TestServer::start();
    let c = t.bucket("cls").await;
    for (i, value) in [
        "18446744073709551615",
        "18446744073709551614",
        "99999999999999999999",
        "-1",
        "abc",
        "1e3",
        "",
    ]
    .into_iter()
    .enumerate()
    {
        let req = t.signed_at(
            "PUT",
            &format!("/cls/k{i}"),
            &[],
            b"",
            std::time::SystemTime::now(),
            Some("UNSIGNED-PAYLOAD"),
        );
        let mut head = format!("PUT /cls/k{i} HTTP/1.1\r\n");
        for (k, v) in req.headers() {
            head.push_str(&format!("{k}: {}\r\n", v.to_str().unwrap()));
        }
        head.push_str(&format!("content-length: {value}\r\n\r\nhello"));
        let out = t.raw(head.as_bytes()).await;
        assert!(
            out.starts_with("HTTP/1.1 400 "),
            "Content-Length {value:?}: {out}"
        );
    }
    // A number over S3's 5 GiB limit is S3's EntityTooLarge, answered before any byte.
    let req = t.signed_at(
        "PUT",
        "/cls/big",
        &[],
        b"",
        std::time::SystemTime::now(),
        Some("UNSIGNED-PAYLOAD"),
    );
    let mut head = String::from("PUT /cls/big HTTP/1.1\r\n");
    for (k, v) in req.headers() {
        head.push_str(&format!("{k}: {}\r\n", v.to_str().unwrap()));
    }
    head.push_str(&format!(
        "content-length: {}\r\nexpect: 100-continue\r\n\r\n",
        6u64 << 30
    ));
    let out = t.raw(head.as_bytes()).await;
    assert!(out.starts_with("HTTP/1.1 400 "), "{out}");
    assert!(out.contains("<Code>EntityTooLarge</Code>"), "{out}");
    assert!(keys(&c, "cls").await.is_empty());
    // Still serving.
    c.put_object()
        .bucket("cls")
        .key("after")
        .body(ByteStream::from_static(b"ok"))
        .send()
        .await
        .unwrap();
}
