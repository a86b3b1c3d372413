//! Credentials from the mock's container and IMDSv2 endpoints: fetched once per provider and
//! shared by concurrent first requests, so a shared client fetches once while a client per
//! request fetches (and connects) once per request.

use http::StatusCode;
use mock_s3::MockS3;
use mock_s3::ops::Operation;
use poolsweep::modes::{ClientFactory, ClientMode};
use poolsweep::pool::AgentOptions;
use poolsweep::s3::credentials::{ContainerEndpoint, CredentialsError, ImdsEndpoint};
use poolsweep::s3::{CredentialsSource, ErrorDetail, ErrorKind};

use crate::util::{agent_config, put_batch, server, settled};

fn container(server: &MockS3) -> CredentialsSource {
    CredentialsSource::Container(ContainerEndpoint::new(
        server.container_credentials_url(),
        Some(server.container_token()),
    ))
}

fn factory(server: &MockS3, source: CredentialsSource, mode: ClientMode) -> ClientFactory {
    factory_of(
        server,
        source,
        mode,
        poolsweep::modes::DEFAULT_SHARED_HANDLER_CLIENTS,
    )
}

fn factory_of(
    server: &MockS3,
    source: CredentialsSource,
    mode: ClientMode,
    shared_handler_clients: std::num::NonZeroUsize,
) -> ClientFactory {
    let config =
        agent_config(server, AgentOptions::sdk_default().max_sockets(10)).credentials(source);
    ClientFactory::with_clients(config, mode, shared_handler_clients).unwrap()
}

#[tokio::test]
async fn a_shared_client_fetches_container_credentials_once() {
    let server = server();
    let factory = factory(&server, container(&server), ClientMode::Shared);
    server.reset_metrics();
    for batch in 0..2 {
        for r in put_batch(&factory, batch * 50, 50).await {
            r.expect("signed with the issued keys");
        }
    }
    assert_eq!(factory.client(0).unwrap().credentials().fetches(), 1);
    let m = settled(&server, |m| m.count(Operation::PutObject, 200) == 100).await;
    assert_eq!(m.credential_fetches.container, 1);
    // The provider's own agent made one connection; the S3 pool made ten.
    assert_eq!(m.connections_accepted, 11);
}

#[tokio::test]
async fn per_request_clients_fetch_credentials_for_every_request() {
    let server = server();
    let factory = factory(&server, container(&server), ClientMode::PerRequest);
    server.reset_metrics();
    for r in put_batch(&factory, 0, 20).await {
        r.expect("PUT succeeds");
    }
    let m = settled(&server, |m| m.count(Operation::PutObject, 200) == 20).await;
    assert_eq!(m.credential_fetches.container, 20);
    assert_eq!(
        m.connections_accepted, 40,
        "one S3 and one credentials connection each"
    );
}

#[tokio::test]
async fn a_shared_handler_shares_one_credentials_fetch() {
    let server = server();
    let clients = std::num::NonZeroUsize::new(4).unwrap();
    let factory = factory_of(
        &server,
        container(&server),
        ClientMode::SharedHandler,
        clients,
    );
    server.reset_metrics();
    for r in put_batch(&factory, 0, 40).await {
        r.expect("PUT succeeds");
    }
    let m = settled(&server, |m| m.count(Operation::PutObject, 200) == 40).await;
    assert_eq!(m.credential_fetches.container, 1);
}

#[tokio::test]
async fn imds_v2_is_token_then_role_then_credentials_once_per_provider() {
    let server = server();
    let source = CredentialsSource::Imds(ImdsEndpoint::new(server.imds_endpoint()));
    let factory = factory(&server, source, ClientMode::Shared);
    server.reset_metrics();
    for r in put_batch(&factory, 0, 30).await {
        r.expect("PUT succeeds");
    }
    let m = settled(&server, |m| m.count(Operation::PutObject, 200) == 30).await;
    let c = &m.credential_fetches;
    assert_eq!((c.imds_token, c.imds_role, c.imds_credentials), (1, 1, 1));
}

#[tokio::test]
async fn a_wrong_container_token_is_a_typed_credentials_error_and_not_retried() {
    let server = server();
    let source = CredentialsSource::Container(ContainerEndpoint::new(
        server.container_credentials_url(),
        Some("wrong".to_owned()),
    ));
    let factory = factory(&server, source, ClientMode::Shared);
    let e = factory
        .client(0)
        .unwrap()
        .put_object("bkt", "k", crate::util::body())
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Credentials);
    assert_eq!(e.outcome().attempts, 1);
    let ErrorDetail::Credentials(inner) = e.detail() else {
        panic!("{e:?}");
    };
    assert!(matches!(
        inner.as_ref(),
        CredentialsError::Status { status, .. } if *status == StatusCode::UNAUTHORIZED.as_u16()
    ));
}
