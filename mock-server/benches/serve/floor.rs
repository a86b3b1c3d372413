//! The floor: a bare hyper + tokio-rustls server that reads the body and answers 200 with an
//! ETag (a GET gets a stored 1 KiB body), with the same certificate type, TLS config and
//! runtime shape as the mock. Nothing on this machine serves these requests faster with this
//! stack: what the mock costs beyond it is the price of being S3.
//!
//! It runs as a process of its own (this bench binary with the argument `floor`), as the mock
//! does, so that both are measured the same way, by this bench's client or by oha.

use std::io::Write as _;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt as _, Full};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

/// An ETag as S3 sends one, fixed: the floor does not hash the body.
const ETAG: &str = "\"0f343b0931126a20f133d67c2b018a3b\"";

/// `floor [--worker-threads N] [--listen ADDR] [--ca-out FILE]`: serves until killed. The first
/// line on stdout is `endpoint=https://ADDR ca=PATH`, as the mock's.
pub(crate) fn main(args: &[String]) {
    let mut threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    let mut listen = "127.0.0.1:0".to_owned();
    let mut ca_out = std::env::temp_dir().join(format!("serve-floor-{}.pem", std::process::id()));
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut value = || {
            it.next()
                .cloned()
                .unwrap_or_else(|| panic!("{a} needs a value"))
        };
        match a.as_str() {
            "--worker-threads" => threads = value().parse().expect("--worker-threads N"),
            "--listen" => listen = value(),
            "--ca-out" => ca_out = value().into(),
            other => panic!("floor: unknown argument {other}"),
        }
    }
    mock_s3::tls::install_crypto_provider();
    let certs = mock_s3::tls::Certificates::generate(mock_s3::KeyType::Ecdsa).unwrap();
    std::fs::write(&ca_out, certs.ca_pem()).unwrap();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads)
        .enable_all()
        .build()
        .unwrap();
    let std_listener = std::net::TcpListener::bind(&listen).unwrap();
    std_listener.set_nonblocking(true).unwrap();
    let addr = std_listener.local_addr().unwrap();
    println!("endpoint=https://{addr} ca={}", ca_out.display());
    std::io::stdout().flush().unwrap();
    let config = certs.server_config().unwrap();
    runtime.block_on(serve(std_listener, config));
}

async fn serve(std_listener: std::net::TcpListener, config: Arc<rustls::ServerConfig>) {
    let get_body = Bytes::from(vec![b'x'; crate::BODY]);
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
                        let mut resp = http::Response::new(Full::new(body));
                        resp.headers_mut()
                            .insert(http::header::ETAG, http::HeaderValue::from_static(ETAG));
                        Ok::<_, std::convert::Infallible>(resp)
                    }
                });
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(tls), svc)
                .await;
        });
    }
}
