//! Every operation against the mock, through both pools and both payload-signing modes; S3's
//! errors come back typed, with code, status and request id.

use bytes::Bytes;
use poolsweep::pool::AgentOptions;
use poolsweep::s3::{
    ClientConfig, ErrorKind, ListObjectsV2Request, Op, PayloadSigning, S3Client, Verify,
};
use poolsweep::transport::PoolConfig;

use crate::util::server;

#[tokio::test]
async fn every_operation_round_trips_on_both_pools_and_signing_modes() {
    let server = server();
    for pool in [
        PoolConfig::agent(AgentOptions::sdk_default()),
        PoolConfig::hyper_util(4),
    ] {
        for signing in [PayloadSigning::Sha256, PayloadSigning::Unsigned] {
            let config = ClientConfig::for_mock(&server)
                .unwrap()
                .pool(pool.clone())
                .payload_signing(signing);
            let c = S3Client::new(&config).unwrap();
            let bucket = format!(
                "ops-{}-{signing:?}",
                u8::from(matches!(pool, PoolConfig::Agent { .. }))
            )
            .to_lowercase();
            let created = c.create_bucket(&bucket).await.unwrap();
            assert_eq!(created.outcome.op, Op::CreateBucket);

            let data = Bytes::from_static(b"hello, pool");
            let put = c
                .put_object(&bucket, "dir/a key+1", data.clone())
                .await
                .unwrap();
            assert!(put.value.e_tag.is_some());
            c.put_object(&bucket, "dir/b", Bytes::new()).await.unwrap();

            let head = c.head_object(&bucket, "dir/a key+1").await.unwrap();
            assert_eq!(head.value.content_length, data.len() as u64);
            assert_eq!(head.value.e_tag, put.value.e_tag);

            let got = c
                .get_object_verified(&bucket, "dir/a key+1", Verify::Bytes(data.clone()))
                .await
                .unwrap();
            assert_eq!(got.value.body, data);
            let bad = c
                .get_object_verified(&bucket, "dir/a key+1", Verify::Length(1))
                .await
                .unwrap_err();
            assert_eq!(bad.kind(), ErrorKind::Verification);

            let list = c
                .list_objects_v2(
                    &bucket,
                    &ListObjectsV2Request {
                        prefix: Some("dir/".to_owned()),
                        max_keys: Some(1),
                        ..Default::default()
                    },
                )
                .await
                .unwrap();
            assert_eq!(list.value.contents.len(), 1);
            assert!(list.value.is_truncated);
            let rest = c
                .list_objects_v2(
                    &bucket,
                    &ListObjectsV2Request {
                        prefix: Some("dir/".to_owned()),
                        continuation_token: list.value.next_continuation_token.clone(),
                        ..Default::default()
                    },
                )
                .await
                .unwrap();
            assert_eq!(rest.value.contents.len(), 1);
            assert_ne!(rest.value.contents[0].key, list.value.contents[0].key);

            c.delete_object(&bucket, "dir/a key+1").await.unwrap();
            let missing = c.head_object(&bucket, "dir/a key+1").await.unwrap_err();
            assert_eq!(missing.code(), Some("NotFound"));
            assert_eq!(missing.service().unwrap().status, 404);
            assert_eq!(missing.outcome().attempts, 1, "a 404 is not retried");

            let missing = c.get_object(&bucket, "nope").await.unwrap_err();
            assert_eq!(missing.code(), Some("NoSuchKey"));
            assert!(missing.service().unwrap().request_id.is_some());
            assert_eq!(missing.outcome().status, Some(404));
        }
    }
}

#[tokio::test]
async fn wrong_keys_are_a_typed_403() {
    let server = server();
    let config = ClientConfig::for_mock(&server).unwrap().credentials(
        poolsweep::s3::CredentialsSource::Static(poolsweep::s3::Credentials::new(
            server.access_key(),
            "not-the-secret",
        )),
    );
    let c = S3Client::new(&config).unwrap();
    let e = c
        .put_object("bkt", "k", Bytes::from_static(b"x"))
        .await
        .unwrap_err();
    assert_eq!(e.service().unwrap().status, 403);
    assert_eq!(e.code(), Some("SignatureDoesNotMatch"));
    assert_eq!(e.outcome().attempts, 1);
}
