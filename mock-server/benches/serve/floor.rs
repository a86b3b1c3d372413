//! The floor: a minimal hyper + rustls server that reads the body and answers 200, with the
//! same certificate type, TLS config and runtime shape as the mock. Nothing on this machine
//! serves these requests faster with this stack.

use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt as _, Full};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

/// A running floor server.
pub(crate) struct Floor {
    pub addr: std::net::SocketAddr,
    _runtime: tokio::runtime::Runtime,
}

/// Starts the floor on its own runtime with `threads` workers; GETs return `get_body`.
pub(crate) fn start(config: Arc<rustls::ServerConfig>, threads: usize, get_body: Bytes) -> Floor {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads)
        .enable_all()
        .build()
        .unwrap();
    let std_listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    std_listener.set_nonblocking(true).unwrap();
    let addr = std_listener.local_addr().unwrap();
    runtime.spawn(async move {
        let listener = TcpListener::from_std(std_listener).unwrap();
        let acceptor = TlsAcceptor::from(config);
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                continue;
            };
            let _ = tcp.set_nodelay(true);
            let acceptor = acceptor.clone();
            let get_body = get_body.clone();
            tokio::spawn(async move {
                let Ok(tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let svc =
                    hyper::service::service_fn(move |req: http::Request<hyper::body::Incoming>| {
                        let get_body = get_body.clone();
                        async move {
                            let is_get = req.method() == http::Method::GET;
                            let _ = req.into_body().collect().await;
                            let body = if is_get { get_body } else { Bytes::new() };
                            Ok::<_, std::convert::Infallible>(http::Response::new(Full::new(body)))
                        }
                    });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(tls), svc)
                    .await;
            });
        }
    });
    Floor {
        addr,
        _runtime: runtime,
    }
}
