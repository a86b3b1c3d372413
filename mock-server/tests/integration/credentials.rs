use aws_config::imds::credentials::ImdsCredentialsProvider;
use aws_config::provider_config::ProviderConfig;
use aws_credential_types::provider::ProvideCredentials as _;
use aws_sdk_s3::primitives::ByteStream;

use crate::util::TestServer;

#[tokio::test]
async fn imds_provider_of_the_aws_sdk_gets_keys_the_s3_api_accepts() {
    let t = TestServer::start();
    t.server.create_bucket("imds").unwrap();
    let config = ProviderConfig::without_region().with_http_client(t.http_client());
    let imds = aws_config::imds::Client::builder()
        .configure(&config)
        .endpoint(t.server.imds_endpoint())
        .unwrap()
        .build();
    let provider = ImdsCredentialsProvider::builder()
        .configure(&config)
        .imds_client(imds)
        .build();
    let creds = provider.provide_credentials().await.unwrap();
    assert!(creds.access_key_id().starts_with("ASIAMOCK"));
    assert!(creds.session_token().is_some());
    assert!(creds.expiry().is_some());

    let c = t.client_with(creds.access_key_id(), creds.secret_access_key());
    c.put_object()
        .bucket("imds")
        .key("k")
        .body(ByteStream::from_static(b"via imds"))
        .send()
        .await
        .unwrap();
    let m = t.server.metrics();
    assert_eq!(m.credential_fetches.imds_token, 1);
    assert_eq!(m.credential_fetches.imds_role, 1);
    assert_eq!(m.credential_fetches.imds_credentials, 1);
}

#[tokio::test]
async fn imds_refuses_requests_without_a_token() {
    let t = TestServer::start();
    let req = http::Request::builder()
        .uri("/__mock/imds/latest/meta-data/iam/security-credentials/")
        .header("host", "localhost")
        .body(http_body_util::Full::new(bytes::Bytes::new()))
        .unwrap();
    assert_eq!(t.request(req).await.status, 401);
    let req = http::Request::builder()
        .method("PUT")
        .uri("/__mock/imds/latest/api/token")
        .header("host", "localhost")
        .body(http_body_util::Full::new(bytes::Bytes::new()))
        .unwrap();
    assert_eq!(t.request(req).await.status, 400, "a TTL header is required");
}

#[tokio::test]
async fn container_endpoint_checks_its_token() {
    let t = TestServer::start();
    let get = |token: &str| {
        http::Request::builder()
            .uri("/__mock/credentials/container")
            .header("host", "localhost")
            .header("authorization", token)
            .body(http_body_util::Full::new(bytes::Bytes::new()))
            .unwrap()
    };
    assert_eq!(t.request(get("wrong")).await.status, 401);
    let r = t.request(get(&t.server.container_token())).await;
    assert_eq!(r.status, 200);
    let v: serde_json::Value = serde_json::from_str(&r.body).unwrap();
    for field in ["AccessKeyId", "SecretAccessKey", "Token", "Expiration"] {
        assert!(v[field].is_string(), "{field} in {}", r.body);
    }
    let expiration = time::OffsetDateTime::parse(
        v["Expiration"].as_str().unwrap(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    assert!(expiration > time::OffsetDateTime::now_utc() + time::Duration::minutes(5));
    assert_eq!(t.server.metrics().credential_fetches.container, 2);
}

#[tokio::test]
async fn the_metadata_listener_serves_imds_at_ec2s_paths_on_plain_http() {
    let server = mock_s3::MockS3::builder()
        .metadata_listener()
        .worker_threads(1)
        .start()
        .unwrap();
    let endpoint = server.metadata_endpoint().unwrap().to_owned();
    assert!(endpoint.starts_with("http://127.0.0.1:"), "{endpoint}");
    // The SDK's own IMDS client, pointed at the listener's root as at 169.254.169.254.
    let http = aws_smithy_http_client::Builder::new().build_http();
    let config = ProviderConfig::without_region().with_http_client(http);
    let imds = aws_config::imds::Client::builder()
        .configure(&config)
        .endpoint(&endpoint)
        .unwrap()
        .build();
    let provider = ImdsCredentialsProvider::builder()
        .configure(&config)
        .imds_client(imds)
        .build();
    let creds = provider.provide_credentials().await.unwrap();
    assert!(creds.access_key_id().starts_with("ASIAMOCK"));
    let m = server.metrics();
    assert_eq!(m.credential_fetches.imds_token, 1);
    assert_eq!(m.credential_fetches.imds_credentials, 1);
    // Only credentials live there, and nothing of it counts as an S3 connection.
    assert_eq!(m.connections_accepted, 0);
    let not_found = raw_get(&endpoint, "/poolsweep/key").await;
    assert!(not_found.starts_with("HTTP/1.1 404"), "{not_found}");
}

/// A bare HTTP/1.1 GET, to see what a path outside the credential routes gets.
async fn raw_get(endpoint: &str, path: &str) -> String {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let addr = endpoint.trim_start_matches("http://");
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    let req = format!("GET {path} HTTP/1.1\r\nhost: {addr}\r\nconnection: close\r\n\r\n");
    s.write_all(req.as_bytes()).await.unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).await.unwrap();
    out
}
