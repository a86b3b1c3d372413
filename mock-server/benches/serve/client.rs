//! A minimal keep-alive HTTPS client for load: one hyper HTTP/1.1 connection per task,
//! requests signed with SigV4 (UNSIGNED-PAYLOAD) so the mock's auth path is exercised.

use std::sync::Arc;
use std::time::SystemTime;

use aws_sigv4::http_request::{
    PercentEncodingMode, SignableBody, SignableRequest, SigningSettings, UriPathNormalizationMode,
    sign,
};
use bytes::Bytes;
use http_body_util::{BodyExt as _, Full};
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use rustls::pki_types::{CertificateDer, ServerName};
use tokio::net::TcpStream;

/// Where to send requests and how to sign them.
#[derive(Clone)]
pub(crate) struct Target {
    pub addr: std::net::SocketAddr,
    pub ca: CertificateDer<'static>,
    pub access_key: String,
    pub secret_key: String,
}

/// One open connection.
pub(crate) struct Conn {
    send: SendRequest<Full<Bytes>>,
    target: Target,
}

impl Target {
    pub(crate) async fn connect(&self) -> Conn {
        let mut roots = rustls::RootCertStore::empty();
        roots.add(self.ca.clone()).unwrap();
        let config = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::aws_lc_rs::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
        let tcp = TcpStream::connect(self.addr).await.unwrap();
        tcp.set_nodelay(true).unwrap();
        let tls = tokio_rustls::TlsConnector::from(Arc::new(config))
            .connect(ServerName::try_from("localhost").unwrap(), tcp)
            .await
            .unwrap();
        let (send, conn) = hyper::client::conn::http1::handshake(TokioIo::new(tls))
            .await
            .unwrap();
        tokio::spawn(conn);
        Conn {
            send,
            target: self.clone(),
        }
    }
}

impl Conn {
    /// Sends one signed request and reads the whole response; returns the status.
    pub(crate) async fn send(&mut self, method: &str, path: &str, body: Bytes) -> u16 {
        let host = format!("localhost:{}", self.target.addr.port());
        let uri = format!("https://{host}{path}");
        let headers = [
            ("host", host.as_str()),
            ("x-amz-content-sha256", "UNSIGNED-PAYLOAD"),
        ];
        let mut settings = SigningSettings::default();
        settings.percent_encoding_mode = PercentEncodingMode::Single;
        settings.uri_path_normalization_mode = UriPathNormalizationMode::Disabled;
        let identity = aws_credential_types::Credentials::new(
            &self.target.access_key,
            &self.target.secret_key,
            None,
            None,
            "bench",
        )
        .into();
        let params = aws_sigv4::sign::v4::SigningParams::builder()
            .identity(&identity)
            .region("us-east-1")
            .name("s3")
            .time(SystemTime::now())
            .settings(settings)
            .build()
            .unwrap()
            .into();
        let signable = SignableRequest::new(
            method,
            uri,
            headers.iter().copied(),
            SignableBody::UnsignedPayload,
        )
        .unwrap();
        let (instructions, _) = sign(signable, &params).unwrap().into_parts();
        let mut req = http::Request::builder().method(method).uri(path);
        for (k, v) in headers {
            req = req.header(k, v);
        }
        let mut req = req.body(Full::new(body)).unwrap();
        instructions.apply_to_request_http1x(&mut req);
        self.send.ready().await.unwrap();
        let resp = self.send.send_request(req).await.unwrap();
        let status = resp.status().as_u16();
        resp.into_body().collect().await.unwrap();
        status
    }
}
