//! The real connector against a tiny local hyper server, over rustls or plain TCP. These
//! tests check the TLS session cache per agent (first socket full, later new sockets resumed,
//! one cache per agent), reuse after `ready()`, and error classification. They use real
//! sockets on 127.0.0.1:0 and real time, with no timing assertions.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use bytes::Bytes;
use http::header::{CONNECTION, HOST, HeaderValue};
use http::{Request, Response};
use http_body_util::Full;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair, KeyUsagePurpose};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::{HandshakeKind, RootCertStore, ServerConfig};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;
use tokio_rustls::TlsAcceptor;

use crate::pool::{
    Agent, AgentOptions, CloseReason, ConnectError, Handshake, HttpConnector, Origin,
    ReleaseOutcome, read_body_and_release,
};

/// Handshakes the server saw.
#[derive(Default)]
struct ServerCounts {
    full: AtomicUsize,
    resumed: AtomicUsize,
}

struct TestServer {
    addr: SocketAddr,
    roots: RootCertStore,
    counts: Arc<ServerCounts>,
}

impl TestServer {
    fn https_origin(&self) -> Origin {
        Origin::https("localhost", self.addr.port())
    }

    fn http_origin(&self) -> Origin {
        Origin::http("127.0.0.1", self.addr.port())
    }

    fn handshakes(&self) -> (usize, usize) {
        (
            self.counts.full.load(Ordering::SeqCst),
            self.counts.resumed.load(Ordering::SeqCst),
        )
    }
}

/// A CA and a `localhost` leaf signed by it. Returns the roots and the server config
/// (ALPN http/1.1, rustls's default stateful session cache).
fn tls_config() -> (RootCertStore, Arc<ServerConfig>) {
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let ca = CertifiedIssuer::self_signed(ca, KeyPair::generate().unwrap()).unwrap();
    let leaf_key = KeyPair::generate().unwrap();
    let leaf = CertificateParams::new(vec!["localhost".to_owned()])
        .unwrap()
        .signed_by(&leaf_key, &ca)
        .unwrap();

    let mut roots = RootCertStore::empty();
    roots.add(ca.der().clone()).unwrap();
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(leaf_key.serialize_der()));
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![CertificateDer::from(leaf.der().to_vec())], key)
        .unwrap();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    (roots, Arc::new(config))
}

/// Serves `ok` to every request, over TLS if `tls` is set. With `close_each`, every response
/// carries `Connection: close`, so every request needs a new socket. The first `hold` TCP
/// connections wait until all `hold` have been accepted before any TLS handshake starts.
/// So they all start before a session exists.
async fn spawn_server(tls: bool, close_each: bool, hold: usize) -> TestServer {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (roots, config) = tls_config();
    let acceptor = tls.then(|| TlsAcceptor::from(config));
    let counts = Arc::new(ServerCounts::default());
    let server_counts = Arc::clone(&counts);
    tokio::spawn(async move {
        let mut held = Vec::new();
        let mut released = false;
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                return;
            };
            held.push(tcp);
            if !released && held.len() < hold {
                continue;
            }
            released = true;
            for tcp in held.drain(..) {
                let (acceptor, counts) = (acceptor.clone(), Arc::clone(&server_counts));
                tokio::spawn(async move {
                    match acceptor {
                        None => serve(tcp, close_each).await,
                        Some(acceptor) => {
                            let Ok(stream) = acceptor.accept(tcp).await else {
                                return;
                            };
                            let counter = match stream.get_ref().1.handshake_kind() {
                                Some(HandshakeKind::Resumed) => &counts.resumed,
                                _ => &counts.full,
                            };
                            counter.fetch_add(1, Ordering::SeqCst);
                            serve(stream, close_each).await;
                        }
                    }
                });
            }
        }
    });
    TestServer {
        addr,
        roots,
        counts,
    }
}

async fn serve<I: AsyncRead + AsyncWrite + Unpin + Send + 'static>(io: I, close_each: bool) {
    let service = service_fn(move |_request| async move {
        let mut response = Response::new(Full::new(Bytes::from_static(b"ok")));
        if close_each {
            response
                .headers_mut()
                .insert(CONNECTION, HeaderValue::from_static("close"));
        }
        Ok::<_, Infallible>(response)
    });
    let _ = hyper::server::conn::http1::Builder::new()
        .serve_connection(TokioIo::new(io), service)
        .await;
}

/// One GET through the agent, reading the body to its end before releasing.
async fn get(agent: &Agent<HttpConnector>, origin: &Origin) -> (Handshake, ReleaseOutcome, bool) {
    let mut socket = agent.checkout(origin).await.expect("checkout");
    let request = Request::get("/bucket/key")
        .header(HOST, origin.authority())
        .header(CONNECTION, agent.connection_header())
        .body(Full::new(Bytes::new()))
        .unwrap();
    let response = socket.send_request(request).await.expect("response");
    let (handshake, reused) = (socket.socket().handshake, socket.is_reused());
    let (response, outcome) = read_body_and_release(socket, response).await.expect("body");
    assert_eq!(response.body().as_ref(), b"ok");
    (handshake, outcome, reused)
}

fn tls_agent(server: &TestServer, options: AgentOptions) -> Agent<HttpConnector> {
    Agent::new(HttpConnector::new(server.roots.clone()).unwrap(), options)
}

#[tokio::test]
async fn first_socket_is_full_and_later_new_sockets_resume() {
    let server = spawn_server(true, true, 1).await;
    let agent = tls_agent(&server, AgentOptions::sdk_default());
    let origin = server.https_origin();
    let mut handshakes = Vec::new();
    for _ in 0..4 {
        let (handshake, outcome, reused) = get(&agent, &origin).await;
        assert_eq!(
            outcome,
            ReleaseOutcome::Closed(CloseReason::ConnectionClose)
        );
        assert!(!reused);
        handshakes.push(handshake);
    }
    use Handshake::{Full, Resumed};
    assert_eq!(handshakes, [Full, Resumed, Resumed, Resumed]);
    let s = agent.stats();
    assert_eq!((s.sockets_created, s.tls_full, s.tls_resumed), (4, 1, 3));
    assert_eq!(s.closed.connection_close, 4);
    assert_eq!(server.handshakes(), (1, 3));
}

#[tokio::test]
async fn each_agent_has_its_own_session_cache() {
    let server = spawn_server(true, true, 1).await;
    let origin = server.https_origin();
    let first = tls_agent(&server, AgentOptions::sdk_default());
    let second = tls_agent(&server, AgentOptions::sdk_default());
    for agent in [&first, &second] {
        assert_eq!(get(agent, &origin).await.0, Handshake::Full);
        assert_eq!(get(agent, &origin).await.0, Handshake::Resumed);
    }
    for agent in [&first, &second] {
        let s = agent.stats();
        assert_eq!((s.tls_full, s.tls_resumed), (1, 1));
    }
    assert_eq!(server.handshakes(), (2, 2));
}

#[tokio::test]
async fn sockets_opened_before_the_first_handshake_cannot_resume() {
    let server = spawn_server(true, true, 3).await;
    let agent = tls_agent(&server, AgentOptions::sdk_default());
    let origin = server.https_origin();
    let burst: Vec<_> = (0..3)
        .map(|_| {
            let (agent, origin) = (agent.clone(), origin.clone());
            tokio::spawn(async move { get(&agent, &origin).await.0 })
        })
        .collect();
    for task in burst {
        assert_eq!(task.await.unwrap(), Handshake::Full);
    }
    assert_eq!(get(&agent, &origin).await.0, Handshake::Resumed);
    let s = agent.stats();
    assert_eq!((s.tls_full, s.tls_resumed, s.peak_open), (3, 1, 3));
}

#[tokio::test]
async fn keep_alive_reuses_one_connection_once_ready() {
    let server = spawn_server(true, false, 1).await;
    let agent = tls_agent(&server, AgentOptions::sdk_default());
    let origin = server.https_origin();
    let (handshake, outcome, reused) = get(&agent, &origin).await;
    assert_eq!(
        (handshake, outcome, reused),
        (Handshake::Full, ReleaseOutcome::Parked, false)
    );
    for _ in 0..4 {
        let (_, outcome, reused) = get(&agent, &origin).await;
        assert_eq!((outcome, reused), (ReleaseOutcome::Parked, true));
    }
    let s = agent.stats();
    assert_eq!(
        (s.sockets_created, s.reuses, s.idle_now, s.closed.total()),
        (1, 4, 1, 0)
    );
}

#[tokio::test]
async fn plain_http_origins_work_without_tls() {
    let server = spawn_server(false, false, 1).await;
    let agent = Agent::new(HttpConnector::plain(), AgentOptions::sdk_default());
    let origin = server.http_origin();
    assert_eq!(get(&agent, &origin).await.0, Handshake::Plain);
    assert!(
        get(&agent, &origin).await.2,
        "second request reuses the socket"
    );
    let s = agent.stats();
    assert_eq!((s.sockets_created, s.tls_full, s.tls_resumed), (1, 0, 0));

    let error = agent
        .checkout(&Origin::https("localhost", server.addr.port()))
        .await
        .unwrap_err();
    assert!(
        matches!(error, ConnectError::TlsNotConfigured(_)),
        "{error:?}"
    );
}

#[tokio::test]
async fn untrusted_certificate_is_a_tls_error() {
    let server = spawn_server(true, false, 1).await;
    let agent = Agent::new(
        HttpConnector::new(RootCertStore::empty()).unwrap(),
        AgentOptions::sdk_default(),
    );
    let error = agent.checkout(&server.https_origin()).await.unwrap_err();
    assert!(matches!(error, ConnectError::Tls(_)), "{error:?}");
    let s = agent.stats();
    assert_eq!((s.connect_errors, s.open_now), (1, 0));
}

#[tokio::test]
async fn refused_connect_is_classified() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let agent = Agent::new(HttpConnector::plain(), AgentOptions::sdk_default());
    let error = agent
        .checkout(&Origin::http("127.0.0.1", port))
        .await
        .unwrap_err();
    assert!(matches!(error, ConnectError::Refused(_)), "{error:?}");
    assert_eq!(agent.stats().connect_errors, 1);
}

#[tokio::test]
async fn idle_socket_the_server_closes_leaves_the_pool_when_it_closes() {
    // The server answers with keep-alive, so the socket is parked. Then the server closes the
    // idle connection: its close takes it out of the free list (Node's 'close' →
    // removeSocket), with no idle timeout and no checkout.
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let close = Arc::new(Notify::new());
    let server_close = Arc::clone(&close);
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            tokio::spawn(serve_one_then_close(tcp, Arc::clone(&server_close)));
        }
    });
    let agent = Agent::new(HttpConnector::plain(), AgentOptions::sdk_default());
    let origin = Origin::http("127.0.0.1", port);
    let mut socket = agent.checkout(&origin).await.unwrap();
    let request = Request::get("/")
        .header(HOST, origin.authority())
        .body(Full::new(Bytes::new()))
        .unwrap();
    let response = socket.send_request(request).await.unwrap();
    let (_, outcome) = read_body_and_release(socket, response).await.unwrap();
    assert_eq!(outcome, ReleaseOutcome::Parked);
    close.notify_one();
    // Wait (bounded, not timed) until the connection's end has reached the agent.
    let left = tokio::time::timeout(std::time::Duration::from_secs(60), async {
        while agent.stats().idle_now > 0 {
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
    });
    left.await.expect("the closed socket leaves the free list");
    let s = agent.stats();
    assert_eq!(
        (s.closed.server_closed_idle, s.open_now, s.checkouts),
        (1, 0, 1)
    );
    let socket = agent.checkout(&origin).await.unwrap();
    assert!(!socket.is_reused());
    assert_eq!(agent.stats().sockets_created, 2);
    socket.close_on_error();
}

/// Answers one request with a keep-alive response, then closes the connection when told.
async fn serve_one_then_close(tcp: TcpStream, close: Arc<Notify>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut tcp = tcp;
    let mut buf = [0u8; 1024];
    let mut seen = Vec::new();
    while !seen.windows(4).any(|w| w == b"\r\n\r\n") {
        match tcp.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => seen.extend_from_slice(&buf[..n]),
        }
    }
    let _ = tcp
        .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok")
        .await;
    close.notified().await;
    let _ = tcp.shutdown().await;
}
