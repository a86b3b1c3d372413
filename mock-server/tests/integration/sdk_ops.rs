use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{
    ChecksumAlgorithm, ChecksumMode, CompletedMultipartUpload, CompletedPart, Delete, EncodingType,
    ObjectIdentifier,
};
use md5::Digest as _;

use crate::util::{TestServer, code};

#[tokio::test]
async fn buckets_create_head_list_delete() {
    let t = TestServer::start();
    let c = t.client();
    c.create_bucket().bucket("alpha").send().await.unwrap();
    c.create_bucket().bucket("beta").send().await.unwrap();
    c.head_bucket().bucket("alpha").send().await.unwrap();
    let names: Vec<String> = c
        .list_buckets()
        .send()
        .await
        .unwrap()
        .buckets()
        .iter()
        .filter_map(|b| b.name().map(str::to_owned))
        .collect();
    assert_eq!(names, ["alpha", "beta"]);
    c.delete_bucket().bucket("alpha").send().await.unwrap();
    let e = c.head_bucket().bucket("alpha").send().await.unwrap_err();
    assert_eq!(e.raw_response().unwrap().status().as_u16(), 404);
}

#[tokio::test]
async fn put_get_round_trip_with_metadata() {
    let t = TestServer::start();
    let c = t.bucket("data").await;
    let body = b"hello, parallel world".to_vec();
    let put = c
        .put_object()
        .bucket("data")
        .key("greeting.txt")
        .content_type("text/plain")
        .metadata("owner", "poolsweep")
        .metadata("purpose", "round trip")
        .body(ByteStream::from(body.clone()))
        .send()
        .await
        .unwrap();
    let md5 = md5::Md5::digest(&body);
    assert_eq!(
        put.e_tag(),
        Some(format!("\"{}\"", hex::encode(md5)).as_str())
    );
    let got = c
        .get_object()
        .bucket("data")
        .key("greeting.txt")
        .send()
        .await
        .unwrap();
    assert_eq!(got.content_type(), Some("text/plain"));
    assert_eq!(got.e_tag(), put.e_tag());
    assert!(got.last_modified().is_some());
    let meta = got.metadata().unwrap();
    assert_eq!(meta.get("owner").map(String::as_str), Some("poolsweep"));
    assert_eq!(meta.get("purpose").map(String::as_str), Some("round trip"));
    let bytes = got.body.collect().await.unwrap().into_bytes();
    assert_eq!(&bytes[..], &body[..]);

    let head = c
        .head_object()
        .bucket("data")
        .key("greeting.txt")
        .send()
        .await
        .unwrap();
    assert_eq!(head.content_length(), Some(body.len() as i64));
    assert_eq!(head.e_tag(), put.e_tag());
}

#[tokio::test]
async fn every_checksum_algorithm_is_verified_and_returned() {
    let t = TestServer::start();
    let c = t.bucket("sums").await;
    let body = vec![7u8; 100_000];
    for alg in [
        ChecksumAlgorithm::Crc32,
        ChecksumAlgorithm::Crc32C,
        ChecksumAlgorithm::Crc64Nvme,
        ChecksumAlgorithm::Sha1,
        ChecksumAlgorithm::Sha256,
    ] {
        let key = format!("k-{}", alg.as_str());
        c.put_object()
            .bucket("sums")
            .key(&key)
            .checksum_algorithm(alg.clone())
            .body(ByteStream::from(body.clone()))
            .send()
            .await
            .unwrap_or_else(|e| panic!("{alg:?}: {e:?}"));
        // The SDK validates the returned checksum against the bytes it reads.
        let got = c
            .get_object()
            .bucket("sums")
            .key(&key)
            .checksum_mode(ChecksumMode::Enabled)
            .send()
            .await
            .unwrap();
        let has = match alg {
            ChecksumAlgorithm::Crc32 => got.checksum_crc32().is_some(),
            ChecksumAlgorithm::Crc32C => got.checksum_crc32_c().is_some(),
            ChecksumAlgorithm::Crc64Nvme => got.checksum_crc64_nvme().is_some(),
            ChecksumAlgorithm::Sha1 => got.checksum_sha1().is_some(),
            _ => got.checksum_sha256().is_some(),
        };
        assert!(has, "{alg:?} checksum returned");
        let bytes = got.body.collect().await.unwrap().into_bytes();
        assert_eq!(bytes.len(), body.len());
    }
}

#[tokio::test]
async fn reserved_characters_in_keys_round_trip() {
    let t = TestServer::start();
    let c = t.bucket("keys").await;
    let keys = [
        "plain",
        "with space",
        "plus+sign",
        "percent%20literal",
        "unicode/ünïcødé/日本語",
        "reserved !$&'()*,;=:@[]",
        "query?and#hash",
        "tilde~and-dash_.",
        "a//double/slash",
    ];
    for k in keys {
        c.put_object()
            .bucket("keys")
            .key(k)
            .body(ByteStream::from(k.as_bytes().to_vec()))
            .send()
            .await
            .unwrap_or_else(|e| panic!("put {k:?}: {e:?}"));
    }
    for k in keys {
        let got = c.get_object().bucket("keys").key(k).send().await.unwrap();
        let bytes = got.body.collect().await.unwrap().into_bytes();
        assert_eq!(&bytes[..], k.as_bytes(), "{k:?}");
    }
    let listed: Vec<String> = c
        .list_objects_v2()
        .bucket("keys")
        .send()
        .await
        .unwrap()
        .contents()
        .iter()
        .filter_map(|o| o.key().map(str::to_owned))
        .collect();
    let mut sorted: Vec<String> = keys.iter().map(|k| k.to_string()).collect();
    sorted.sort(); // byte order
    assert_eq!(listed, sorted);
}

#[tokio::test]
async fn ranges_and_conditionals() {
    let t = TestServer::start();
    let c = t.bucket("ranges").await;
    let body: Vec<u8> = (0..=255u8).cycle().take(1000).collect();
    let put = c
        .put_object()
        .bucket("ranges")
        .key("obj")
        .checksum_algorithm(ChecksumAlgorithm::Crc32)
        .body(ByteStream::from(body.clone()))
        .send()
        .await
        .unwrap();
    let got = c
        .get_object()
        .bucket("ranges")
        .key("obj")
        .range("bytes=10-19")
        .checksum_mode(ChecksumMode::Enabled)
        .send()
        .await
        .unwrap();
    assert_eq!(got.content_range(), Some("bytes 10-19/1000"));
    assert_eq!(
        got.checksum_crc32(),
        None,
        "a range must not carry the whole object's CRC"
    );
    let bytes = got.body.collect().await.unwrap().into_bytes();
    assert_eq!(&bytes[..], &body[10..20]);

    let tail = c
        .get_object()
        .bucket("ranges")
        .key("obj")
        .range("bytes=-5")
        .send()
        .await
        .unwrap();
    assert_eq!(tail.content_range(), Some("bytes 995-999/1000"));

    let e = c
        .get_object()
        .bucket("ranges")
        .key("obj")
        .range("bytes=5000-")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "InvalidRange");
    assert_eq!(e.raw_response().unwrap().status().as_u16(), 416);

    let etag = put.e_tag().unwrap();
    c.get_object()
        .bucket("ranges")
        .key("obj")
        .if_match(etag)
        .send()
        .await
        .unwrap();
    let e = c
        .get_object()
        .bucket("ranges")
        .key("obj")
        .if_match("\"nope\"")
        .send()
        .await
        .unwrap_err();
    assert_eq!(e.raw_response().unwrap().status().as_u16(), 412);
    let e = c
        .get_object()
        .bucket("ranges")
        .key("obj")
        .if_none_match(etag)
        .send()
        .await
        .unwrap_err();
    assert_eq!(e.raw_response().unwrap().status().as_u16(), 304);
    c.get_object()
        .bucket("ranges")
        .key("obj")
        .if_none_match("\"other\"")
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn list_objects_v2_prefix_delimiter_pages() {
    let t = TestServer::start();
    let c = t.bucket("list").await;
    let keys = ["a/1", "a/2", "a/b/3", "b/1", "b/2", "c", "d e/1", "z"];
    for k in keys {
        c.put_object()
            .bucket("list")
            .key(k)
            .body(ByteStream::from_static(b"x"))
            .send()
            .await
            .unwrap();
    }
    let out = c
        .list_objects_v2()
        .bucket("list")
        .delimiter("/")
        .send()
        .await
        .unwrap();
    let prefixes: Vec<&str> = out
        .common_prefixes()
        .iter()
        .filter_map(|p| p.prefix())
        .collect();
    assert_eq!(prefixes, ["a/", "b/", "d e/"]);
    let top: Vec<&str> = out.contents().iter().filter_map(|o| o.key()).collect();
    assert_eq!(top, ["c", "z"]);
    assert_eq!(out.key_count(), Some(5));

    let out = c
        .list_objects_v2()
        .bucket("list")
        .prefix("a/")
        .delimiter("/")
        .send()
        .await
        .unwrap();
    let keys_a: Vec<&str> = out.contents().iter().filter_map(|o| o.key()).collect();
    assert_eq!(keys_a, ["a/1", "a/2"]);
    assert_eq!(out.common_prefixes()[0].prefix(), Some("a/b/"));

    // Pages of 3 with a delimiter: items are keys and common prefixes alike.
    let mut token = None;
    let mut seen = Vec::new();
    loop {
        let out = c
            .list_objects_v2()
            .bucket("list")
            .delimiter("/")
            .max_keys(2)
            .set_continuation_token(token.clone())
            .send()
            .await
            .unwrap();
        seen.extend(
            out.common_prefixes()
                .iter()
                .filter_map(|p| p.prefix().map(str::to_owned)),
        );
        seen.extend(
            out.contents()
                .iter()
                .filter_map(|o| o.key().map(str::to_owned)),
        );
        if out.is_truncated() == Some(true) {
            token = out.next_continuation_token().map(str::to_owned);
        } else {
            break;
        }
    }
    seen.sort();
    assert_eq!(seen, ["a/", "b/", "c", "d e/", "z"]);

    let out = c
        .list_objects_v2()
        .bucket("list")
        .start_after("b/1")
        .send()
        .await
        .unwrap();
    let after: Vec<&str> = out.contents().iter().filter_map(|o| o.key()).collect();
    assert_eq!(after, ["b/2", "c", "d e/1", "z"]);

    let out = c
        .list_objects_v2()
        .bucket("list")
        .prefix("d ")
        .encoding_type(EncodingType::Url)
        .send()
        .await
        .unwrap();
    assert_eq!(out.contents()[0].key(), Some("d+e/1"));
}

#[tokio::test]
async fn copy_and_delete_objects() {
    let t = TestServer::start();
    let c = t.bucket("src").await;
    c.create_bucket().bucket("dst").send().await.unwrap();
    c.put_object()
        .bucket("src")
        .key("a b")
        .metadata("m", "1")
        .body(ByteStream::from_static(b"copy me"))
        .send()
        .await
        .unwrap();
    let copied = c
        .copy_object()
        .bucket("dst")
        .key("copied")
        .copy_source("src/a%20b")
        .send()
        .await
        .unwrap();
    assert!(copied.copy_object_result().unwrap().e_tag().is_some());
    let got = c
        .get_object()
        .bucket("dst")
        .key("copied")
        .send()
        .await
        .unwrap();
    assert_eq!(
        got.metadata().unwrap().get("m").map(String::as_str),
        Some("1")
    );
    assert_eq!(
        &got.body.collect().await.unwrap().into_bytes()[..],
        b"copy me"
    );

    for k in ["x1", "x2", "x3"] {
        c.put_object()
            .bucket("dst")
            .key(k)
            .body(ByteStream::from_static(b"x"))
            .send()
            .await
            .unwrap();
    }
    let ids: Vec<ObjectIdentifier> = ["x1", "x2", "missing"]
        .iter()
        .map(|k| ObjectIdentifier::builder().key(*k).build().unwrap())
        .collect();
    let out = c
        .delete_objects()
        .bucket("dst")
        .delete(Delete::builder().set_objects(Some(ids)).build().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(out.deleted().len(), 3);
    c.delete_object()
        .bucket("dst")
        .key("x3")
        .send()
        .await
        .unwrap();
    let left: Vec<&str> = Vec::new();
    let out = c
        .list_objects_v2()
        .bucket("dst")
        .prefix("x")
        .send()
        .await
        .unwrap();
    assert_eq!(
        out.contents()
            .iter()
            .filter_map(|o| o.key())
            .collect::<Vec<_>>(),
        left
    );
}

#[tokio::test]
async fn multipart_upload_list_complete_abort() {
    let t = TestServer::start();
    let c = t.bucket("multi").await;
    let create = c
        .create_multipart_upload()
        .bucket("multi")
        .key("big")
        .content_type("application/x-test")
        .send()
        .await
        .unwrap();
    let id = create.upload_id().unwrap().to_owned();
    let part_size = 5 << 20;
    let parts_data = [vec![1u8; part_size], vec![2u8; part_size], vec![3u8; 1234]];
    let mut completed = Vec::new();
    let mut md5s = md5::Md5::new();
    for (i, data) in parts_data.iter().enumerate() {
        let n = i as i32 + 1;
        let out = c
            .upload_part()
            .bucket("multi")
            .key("big")
            .upload_id(&id)
            .part_number(n)
            .body(ByteStream::from(data.clone()))
            .send()
            .await
            .unwrap();
        md5s.update(md5::Md5::digest(data));
        completed.push(
            CompletedPart::builder()
                .part_number(n)
                .e_tag(out.e_tag().unwrap())
                .build(),
        );
    }
    let listed = c
        .list_parts()
        .bucket("multi")
        .key("big")
        .upload_id(&id)
        .send()
        .await
        .unwrap();
    assert_eq!(listed.parts().len(), 3);
    assert_eq!(listed.parts()[2].size(), Some(1234));
    let done = c
        .complete_multipart_upload()
        .bucket("multi")
        .key("big")
        .upload_id(&id)
        .multipart_upload(
            CompletedMultipartUpload::builder()
                .set_parts(Some(completed))
                .build(),
        )
        .send()
        .await
        .unwrap();
    let expected = format!("\"{}-3\"", hex::encode(md5s.finalize()));
    assert_eq!(done.e_tag(), Some(expected.as_str()));
    let got = c
        .get_object()
        .bucket("multi")
        .key("big")
        .send()
        .await
        .unwrap();
    assert_eq!(got.content_type(), Some("application/x-test"));
    assert_eq!(got.e_tag(), Some(expected.as_str()));
    let bytes = got.body.collect().await.unwrap().into_bytes();
    assert_eq!(bytes.len(), 2 * part_size + 1234);
    assert_eq!(bytes[part_size], 2);
    assert_eq!(bytes[2 * part_size], 3);

    let id2 = c
        .create_multipart_upload()
        .bucket("multi")
        .key("gone")
        .send()
        .await
        .unwrap()
        .upload_id()
        .unwrap()
        .to_owned();
    c.abort_multipart_upload()
        .bucket("multi")
        .key("gone")
        .upload_id(&id2)
        .send()
        .await
        .unwrap();
    let e = c
        .list_parts()
        .bucket("multi")
        .key("gone")
        .upload_id(&id2)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "NoSuchUpload");
}

#[tokio::test]
async fn discard_mode_serves_generated_bytes_of_the_recorded_size() {
    let t = TestServer::with_config(mock_s3::Config {
        storage: mock_s3::StorageMode::Discard,
        ..Default::default()
    });
    let c = t.bucket("discard").await;
    let body = vec![9u8; 300_000];
    let put = c
        .put_object()
        .bucket("discard")
        .key("k")
        .body(ByteStream::from(body))
        .send()
        .await
        .unwrap();
    assert!(put.e_tag().is_some());
    assert_eq!(t.server.stored_bytes(), 0);
    let got = c
        .get_object()
        .bucket("discard")
        .key("k")
        .checksum_mode(ChecksumMode::Enabled)
        .send()
        .await
        .unwrap();
    assert_eq!(got.content_length(), Some(300_000));
    assert_eq!(got.checksum_crc32(), None);
    let bytes = got.body.collect().await.unwrap().into_bytes();
    assert_eq!(bytes.len(), 300_000);
}
