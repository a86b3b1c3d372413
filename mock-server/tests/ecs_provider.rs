//! The AWS SDK's own ECS (container) credentials provider against the mock's endpoint.
//!
//! The provider reads `AWS_CONTAINER_CREDENTIALS_FULL_URI` and
//! `AWS_CONTAINER_AUTHORIZATION_TOKEN` from the process environment, which a test may not
//! change (`set_var` is unsafe), so this test runs itself twice: the parent starts the mock and
//! re-runs this binary with those variables set; the child fetches credentials with
//! `EcsCredentialsProvider`, signs a PutObject with them, and reports through its exit status.
//! The parent then checks the server's counters.

use std::process::{Command, ExitCode};

use aws_config::ecs::EcsCredentialsProvider;
use aws_config::provider_config::ProviderConfig;
use aws_credential_types::provider::ProvideCredentials as _;
use aws_sdk_s3::config::{Credentials, Region};
use aws_sdk_s3::primitives::ByteStream;
use aws_smithy_http_client::tls::{self, TlsContext, TrustStore};

const CHILD: &str = "POOLSWEEP_ECS_CHILD_ENDPOINT";

fn http_client(ca_pem: &str) -> aws_smithy_runtime_api::client::http::SharedHttpClient {
    let trust = TrustStore::empty().with_pem_certificate(ca_pem.as_bytes());
    aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(
            tls::rustls_provider::CryptoMode::AwsLc,
        ))
        .tls_context(
            TlsContext::builder()
                .with_trust_store(trust)
                .build()
                .unwrap(),
        )
        .build_https()
}

fn main() -> ExitCode {
    if let Ok(endpoint) = std::env::var(CHILD) {
        return child(&endpoint);
    }
    let server = mock_s3::MockS3::builder().start().expect("server starts");
    server.create_bucket("ecs").unwrap();
    let status = Command::new(std::env::current_exe().unwrap())
        .env(CHILD, server.endpoint())
        .env("POOLSWEEP_ECS_CHILD_CA", server.ca_pem())
        .env(
            "AWS_CONTAINER_CREDENTIALS_FULL_URI",
            server.container_credentials_url(),
        )
        .env(
            "AWS_CONTAINER_AUTHORIZATION_TOKEN",
            server.container_token(),
        )
        .status()
        .expect("child runs");
    let m = server.metrics();
    let put_ok = m.count(mock_s3::ops::Operation::PutObject, 200);
    let ok = status.success() && m.credential_fetches.container == 1 && put_ok == 1;
    println!(
        "ecs_provider_credentials_sign_an_accepted_put: child {status}, container fetches {}, PutObject 200s {put_ok}",
        m.credential_fetches.container
    );
    println!("{} passed, {} failed", u8::from(ok), u8::from(!ok));
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

fn child(endpoint: &str) -> ExitCode {
    let ca = std::env::var("POOLSWEEP_ECS_CHILD_CA").unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let result: Result<(), String> = rt.block_on(async {
        let http = http_client(&ca);
        let config = ProviderConfig::without_region().with_http_client(http.clone());
        let provider = EcsCredentialsProvider::builder().configure(&config).build();
        let creds = provider
            .provide_credentials()
            .await
            .map_err(|e| format!("ECS provider: {e:?}"))?;
        if !creds.access_key_id().starts_with("ASIAMOCK") || creds.session_token().is_none() {
            return Err(format!("unexpected credentials {creds:?}"));
        }
        let s3 = aws_sdk_s3::Client::from_conf(
            aws_sdk_s3::Config::builder()
                .behavior_version(aws_sdk_s3::config::BehaviorVersion::latest())
                .endpoint_url(endpoint)
                .force_path_style(true)
                .region(Region::new("us-east-1"))
                .credentials_provider(Credentials::new(
                    creds.access_key_id(),
                    creds.secret_access_key(),
                    creds.session_token().map(str::to_owned),
                    None,
                    "ecs",
                ))
                .http_client(http)
                .build(),
        );
        s3.put_object()
            .bucket("ecs")
            .key("k")
            .body(ByteStream::from_static(b"via ecs"))
            .send()
            .await
            .map_err(|e| format!("PutObject: {e:?}"))?;
        Ok(())
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{e}");
            ExitCode::FAILURE
        }
    }
}
