use std::sync::Arc;
use std::time::{Duration, SystemTime};

use aws_sdk_s3::config::{Credentials, Region};
use aws_smithy_http_client::tls::{self, TlsContext, TrustStore};
use bytes::Bytes;
use http_body_util::{BodyExt as _, Full};
use hyper_util::rt::TokioIo;
use mock_s3::{Config, MockS3};
use rustls::pki_types::ServerName;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

/// A running server for one test.
pub(crate) struct TestServer {
    pub(crate) server: MockS3,
}

impl TestServer {
    pub(crate) fn start() -> Self {
        Self::with_config(Config::default())
    }

    pub(crate) fn with_config(config: Config) -> Self {
        let server = MockS3::builder()
            .config(config)
            .worker_threads(2)
            .start()
            .expect("server starts");
        Self { server }
    }

    pub(crate) fn client(&self) -> aws_sdk_s3::Client {
        self.client_with(self.server.access_key(), self.server.secret_key())
    }

    /// An SDK HTTP client that trusts the server's CA.
    pub(crate) fn http_client(&self) -> aws_smithy_runtime_api::client::http::SharedHttpClient {
        let trust = TrustStore::empty().with_pem_certificate(self.server.ca_pem().as_bytes());
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

    pub(crate) fn client_with(&self, access_key: &str, secret_key: &str) -> aws_sdk_s3::Client {
        let http = self.http_client();
        let config = aws_sdk_s3::Config::builder()
            .behavior_version(aws_sdk_s3::config::BehaviorVersion::latest())
            .endpoint_url(self.server.endpoint())
            .force_path_style(true)
            .region(Region::new(self.server.region().to_owned()))
            .credentials_provider(Credentials::new(access_key, secret_key, None, None, "test"))
            .http_client(http)
            .build();
        aws_sdk_s3::Client::from_conf(config)
    }

    pub(crate) async fn bucket(&self, name: &str) -> aws_sdk_s3::Client {
        let c = self.client();
        c.create_bucket().bucket(name).send().await.unwrap();
        c
    }

    pub(crate) fn tls_connector(&self) -> tokio_rustls::TlsConnector {
        let mut roots = rustls::RootCertStore::empty();
        roots.add(self.server.ca_der().clone()).unwrap();
        let config = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::aws_lc_rs::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
        tokio_rustls::TlsConnector::from(Arc::new(config))
    }

    /// A TLS connection to the server, for writing raw bytes.
    pub(crate) async fn tls_stream(&self) -> tokio_rustls::client::TlsStream<TcpStream> {
        let tcp = TcpStream::connect(self.server.addr()).await.unwrap();
        self.tls_connector()
            .connect(ServerName::try_from("localhost").unwrap(), tcp)
            .await
            .unwrap()
    }

    /// Writes `raw` and reads until the server closes or `read_for` passes.
    pub(crate) async fn raw(&self, raw: &[u8], read_for: Duration) -> String {
        let mut s = self.tls_stream().await;
        s.write_all(raw).await.unwrap();
        let mut out = Vec::new();
        let _ = tokio::time::timeout(read_for, s.read_to_end(&mut out)).await;
        String::from_utf8_lossy(&out).into_owned()
    }

    /// A keep-alive connection (one TLS handshake, many requests).
    pub(crate) async fn connection(&self) -> KeepAlive {
        let tls = self.tls_stream().await;
        let (send, conn) = hyper::client::conn::http1::handshake(TokioIo::new(tls))
            .await
            .unwrap();
        tokio::spawn(conn);
        KeepAlive { send }
    }

    /// Sends one request with hyper and returns (status, headers, body).
    pub(crate) async fn request(&self, req: http::Request<Full<Bytes>>) -> Response {
        let tls = self.tls_stream().await;
        let (mut send, conn) = hyper::client::conn::http1::handshake(TokioIo::new(tls))
            .await
            .unwrap();
        tokio::spawn(conn);
        let resp = send.send_request(req).await.unwrap();
        let (parts, body) = resp.into_parts();
        let body = body.collect().await.unwrap().to_bytes();
        Response {
            status: parts.status.as_u16(),
            headers: parts.headers,
            body: String::from_utf8_lossy(&body).into_owned(),
        }
    }

    /// A request signed with SigV4 (header auth) for this server's key.
    pub(crate) fn signed(
        &self,
        method: &str,
        path_and_query: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> http::Request<Full<Bytes>> {
        self.signed_at(
            method,
            path_and_query,
            headers,
            body,
            SystemTime::now(),
            None,
        )
    }

    pub(crate) fn signed_at(
        &self,
        method: &str,
        path_and_query: &str,
        headers: &[(&str, &str)],
        body: &[u8],
        time: SystemTime,
        payload_hash: Option<&str>,
    ) -> http::Request<Full<Bytes>> {
        use aws_sigv4::http_request::{
            PercentEncodingMode, SignableBody, SignableRequest, SigningSettings,
            UriPathNormalizationMode, sign,
        };
        let host = format!("localhost:{}", self.server.addr().port());
        let uri = format!("https://{host}{path_and_query}");
        let hash = payload_hash.map_or_else(
            || hex::encode(<sha2::Sha256 as sha2::Digest>::digest(body)),
            str::to_owned,
        );
        let mut all: Vec<(String, String)> = vec![
            ("host".into(), host.clone()),
            ("x-amz-content-sha256".into(), hash.clone()),
        ];
        all.extend(headers.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        let mut settings = SigningSettings::default();
        settings.percent_encoding_mode = PercentEncodingMode::Single;
        settings.uri_path_normalization_mode = UriPathNormalizationMode::Disabled;
        let identity = Credentials::new(
            self.server.access_key(),
            self.server.secret_key(),
            None,
            None,
            "test",
        )
        .into();
        let params = aws_sigv4::sign::v4::SigningParams::builder()
            .identity(&identity)
            .region(self.server.region())
            .name("s3")
            .time(time)
            .settings(settings)
            .build()
            .unwrap()
            .into();
        let signable = SignableRequest::new(
            method,
            uri.clone(),
            all.iter().map(|(k, v)| (k.as_str(), v.as_str())),
            SignableBody::Precomputed(hash),
        )
        .unwrap();
        let (instructions, _sig) = sign(signable, &params).unwrap().into_parts();
        let mut builder = http::Request::builder().method(method).uri(path_and_query);
        for (k, v) in &all {
            builder = builder.header(k, v);
        }
        let mut req = builder
            .body(Full::new(Bytes::copy_from_slice(body)))
            .unwrap();
        instructions.apply_to_request_http1x(&mut req);
        req
    }
}

/// A keep-alive HTTP/1.1 connection.
pub(crate) struct KeepAlive {
    pub(crate) send: hyper::client::conn::http1::SendRequest<Full<Bytes>>,
}

impl KeepAlive {
    /// Sends a request; `Err` if the connection broke.
    pub(crate) async fn send(
        &mut self,
        req: http::Request<Full<Bytes>>,
    ) -> Result<Response, hyper::Error> {
        self.send.ready().await?;
        let resp = self.send.send_request(req).await?;
        let (parts, body) = resp.into_parts();
        let body = body.collect().await?.to_bytes();
        Ok(Response {
            status: parts.status.as_u16(),
            headers: parts.headers,
            body: String::from_utf8_lossy(&body).into_owned(),
        })
    }
}

#[derive(Debug)]
pub(crate) struct Response {
    pub(crate) status: u16,
    pub(crate) headers: http::HeaderMap,
    pub(crate) body: String,
}

impl Response {
    pub(crate) fn code(&self) -> Option<&str> {
        let start = self.body.find("<Code>")? + 6;
        let end = self.body[start..].find("</Code>")? + start;
        Some(&self.body[start..end])
    }
}

/// The S3 error code of an SDK error.
pub(crate) fn code<E, R>(e: &aws_sdk_s3::error::SdkError<E, R>) -> String
where
    E: aws_sdk_s3::error::ProvideErrorMetadata + std::fmt::Debug,
    R: std::fmt::Debug,
{
    match e {
        aws_sdk_s3::error::SdkError::ServiceError(s) => s.err().code().unwrap_or("").to_owned(),
        other => format!("not a service error: {other:?}"),
    }
}
