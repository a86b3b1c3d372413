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

/// How long a test waits for something that happens at any speed (a response, a close, a
/// counter catching up) before it calls it a hang. Not a speed bound: nothing here takes more
/// than a fraction of it on a machine whose cores are busy with something else.
pub(crate) const HANG_GUARD: Duration = Duration::from_secs(120);

/// Polls `check` every 10 ms until it holds; false only after [`HANG_GUARD`].
pub(crate) async fn eventually(mut check: impl FnMut() -> bool) -> bool {
    let deadline = tokio::time::Instant::now() + HANG_GUARD;
    while tokio::time::Instant::now() < deadline {
        if check() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    check()
}

/// `fut`, or a panic naming `what` if it has not finished after [`HANG_GUARD`].
pub(crate) async fn within_guard<F: std::future::Future>(what: &str, fut: F) -> F::Output {
    tokio::time::timeout(HANG_GUARD, fut)
        .await
        .unwrap_or_else(|_| panic!("hung: {what}"))
}

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

    /// Writes `raw` and reads until the server closes the connection (every caller sends
    /// something the server answers with a close), however long that takes.
    pub(crate) async fn raw(&self, raw: &[u8]) -> String {
        let mut s = self.tls_stream().await;
        s.write_all(raw).await.unwrap();
        s.flush().await.unwrap();
        let mut out = Vec::new();
        // A reset instead of a clean close ends the read too; what was read is the answer.
        let _ = within_guard("the server closes", s.read_to_end(&mut out)).await;
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

/// How a hand-written request frames its body on the wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Framing {
    /// `Content-Length: N`.
    Length,
    /// `Transfer-Encoding: chunked` (HTTP/1.1 chunks of at most 4,000 bytes), no Content-Length.
    Chunked,
    /// Both headers, the body chunked (RFC 9112 §6.3: Transfer-Encoding wins).
    Both,
}

impl TestServer {
    /// Writes `req` by hand on a new TLS connection, its body framed as `framing`, and reads
    /// one response. With `expect_continue`, sends `Expect: 100-continue` and the body only
    /// after `100 Continue` (a final answer instead is returned as is).
    pub(crate) async fn send_framed(
        &self,
        req: http::Request<Full<Bytes>>,
        framing: Framing,
        expect_continue: bool,
    ) -> Response {
        let (parts, body) = req.into_parts();
        let body = body.collect().await.unwrap().to_bytes();
        let mut head = format!(
            "{} {} HTTP/1.1\r\n",
            parts.method,
            parts.uri.path_and_query().unwrap()
        );
        for (k, v) in &parts.headers {
            if k == http::header::CONTENT_LENGTH || k == http::header::TRANSFER_ENCODING {
                continue;
            }
            head.push_str(&format!("{k}: {}\r\n", v.to_str().unwrap()));
        }
        if expect_continue {
            head.push_str("expect: 100-continue\r\n");
        }
        if framing != Framing::Chunked {
            head.push_str(&format!("content-length: {}\r\n", body.len()));
        }
        if framing != Framing::Length {
            head.push_str("transfer-encoding: chunked\r\n");
        }
        head.push_str("\r\n");
        let wire = match framing {
            Framing::Length => body.to_vec(),
            Framing::Chunked | Framing::Both => http_chunked(&body, 4000),
        };
        let mut s = self.tls_stream().await;
        // TLS buffers what it cannot send at once: every write is flushed before a read waits
        // for the answer to it.
        s.write_all(head.as_bytes()).await.unwrap();
        s.flush().await.unwrap();
        let mut reader = ResponseReader::default();
        if expect_continue {
            let interim = reader.next(&mut s).await;
            if interim.status != 100 {
                return interim;
            }
        }
        // The server may answer and close before taking the whole body.
        let _ = s.write_all(&wire).await;
        let _ = s.flush().await;
        reader.next(&mut s).await
    }
}

/// `body` as HTTP/1.1 chunks of at most `piece` bytes, with the last chunk.
pub(crate) fn http_chunked(body: &[u8], piece: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len() + 64);
    for c in body.chunks(piece) {
        out.extend_from_slice(format!("{:x}\r\n", c.len()).as_bytes());
        out.extend_from_slice(c);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"0\r\n\r\n");
    out
}

/// Reads HTTP/1.1 responses (heads, then a Content-Length body) from a stream.
#[derive(Default)]
struct ResponseReader {
    buf: Vec<u8>,
    /// Why the last read gave nothing.
    ended: Option<&'static str>,
}

impl ResponseReader {
    async fn fill<S: tokio::io::AsyncRead + Unpin>(&mut self, s: &mut S) -> bool {
        let mut tmp = [0u8; 8192];
        match tokio::time::timeout(HANG_GUARD, s.read(&mut tmp)).await {
            Ok(Ok(n)) if n > 0 => {
                self.buf.extend_from_slice(&tmp[..n]);
                true
            }
            Ok(Ok(_)) => {
                self.ended = Some("closed by the server");
                false
            }
            Ok(Err(_)) => {
                self.ended = Some("read error");
                false
            }
            Err(_) => {
                self.ended = Some("no answer within HANG_GUARD");
                false
            }
        }
    }

    /// The next response; status 0 if the connection ended before a whole head.
    async fn next<S: tokio::io::AsyncRead + Unpin>(&mut self, s: &mut S) -> Response {
        let end = loop {
            if let Some(i) = self.buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break i;
            }
            if !self.fill(s).await {
                return Response {
                    status: 0,
                    headers: http::HeaderMap::new(),
                    body: format!(
                        "{} [no whole response head: {}]",
                        String::from_utf8_lossy(&self.buf),
                        self.ended.unwrap_or("?")
                    ),
                };
            }
        };
        let head = String::from_utf8_lossy(&self.buf[..end]).into_owned();
        self.buf.drain(..end + 4);
        let mut lines = head.split("\r\n");
        let status = lines
            .next()
            .and_then(|l| l.split(' ').nth(1))
            .and_then(|c| c.parse().ok())
            .unwrap_or(0);
        let mut headers = http::HeaderMap::new();
        for line in lines {
            if let Some((k, v)) = line.split_once(':') {
                headers.append(
                    http::HeaderName::from_bytes(k.trim().as_bytes()).unwrap(),
                    http::HeaderValue::from_str(v.trim()).unwrap(),
                );
            }
        }
        let len: usize = headers
            .get("content-length")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        while self.buf.len() < len && self.fill(s).await {}
        let take = len.min(self.buf.len());
        let body = String::from_utf8_lossy(&self.buf[..take]).into_owned();
        self.buf.drain(..take);
        Response {
            status,
            headers,
            body,
        }
    }
}

/// The chunk signer of a request signed by [`TestServer::signed_at`] at `time` with a
/// STREAMING-AWS4-HMAC-SHA256-PAYLOAD* payload hash: seeded with its head signature.
pub(crate) fn chunk_signer(
    t: &TestServer,
    req: &http::Request<Full<Bytes>>,
    at: SystemTime,
) -> mock_s3::auth::ChunkSigner {
    let auth = req.headers()["authorization"].to_str().unwrap();
    let seed = auth.rsplit("Signature=").next().unwrap().to_owned();
    let t2 = time::OffsetDateTime::from(at);
    let date = format!("{:04}{:02}{:02}", t2.year(), t2.month() as u8, t2.day());
    let stamp = format!(
        "{date}T{:02}{:02}{:02}Z",
        t2.hour(),
        t2.minute(),
        t2.second()
    );
    let scope = format!("{date}/{}/s3/aws4_request", t.server.region());
    mock_s3::auth::ChunkSigner::new(
        mock_s3::auth::signing_key(t.server.secret_key(), &date, t.server.region(), "s3"),
        stamp,
        scope,
        seed,
    )
}

/// An aws-chunked body of `data` in chunks of `chunk` bytes: with `chunk-signature`s when
/// `signer` is given (a `tamper`ed one on the first chunk), and with `trailer` lines after the
/// last chunk (signed with `x-amz-trailer-signature` when there is a signer).
pub(crate) fn aws_chunked(
    data: &[u8],
    chunk: usize,
    mut signer: Option<&mut mock_s3::auth::ChunkSigner>,
    trailer: Option<(&str, &str)>,
    tamper: bool,
) -> Vec<u8> {
    let mut body = Vec::new();
    for (i, piece) in data
        .chunks(chunk)
        .chain(std::iter::once(&[][..]))
        .enumerate()
    {
        body.extend_from_slice(format!("{:x}", piece.len()).as_bytes());
        if let Some(s) = signer.as_deref_mut() {
            let mut sig = s.next_chunk(piece);
            if tamper && i == 0 {
                let first = if sig.starts_with('0') { "1" } else { "0" };
                sig.replace_range(0..1, first);
            }
            body.extend_from_slice(format!(";chunk-signature={sig}").as_bytes());
        }
        body.extend_from_slice(b"\r\n");
        if !piece.is_empty() {
            body.extend_from_slice(piece);
            body.extend_from_slice(b"\r\n");
        }
    }
    if let Some((name, value)) = trailer {
        body.extend_from_slice(format!("{name}:{value}\r\n").as_bytes());
        if let Some(s) = signer {
            let sig = s.trailer(format!("{name}:{value}\n").as_bytes());
            body.extend_from_slice(format!("x-amz-trailer-signature:{sig}\r\n").as_bytes());
        }
    }
    body.extend_from_slice(b"\r\n");
    body
}

/// The three aws-chunked payload modes SDKs send.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Streaming {
    /// `STREAMING-AWS4-HMAC-SHA256-PAYLOAD`.
    Signed,
    /// `STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER` with a signed CRC32 trailer.
    SignedTrailer,
    /// `STREAMING-UNSIGNED-PAYLOAD-TRAILER` with a CRC32 trailer (boto3's and the JS SDK's).
    UnsignedTrailer,
}

impl Streaming {
    pub(crate) const ALL: [Streaming; 3] = [
        Streaming::Signed,
        Streaming::SignedTrailer,
        Streaming::UnsignedTrailer,
    ];

    fn sentinel(self) -> &'static str {
        match self {
            Streaming::Signed => "STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
            Streaming::SignedTrailer => "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER",
            Streaming::UnsignedTrailer => "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
        }
    }
}

impl TestServer {
    /// A signed aws-chunked upload of `data` to `path_and_query` as SDKs send it (8 KiB
    /// chunks, `Content-Encoding: aws-chunked`, `x-amz-sdk-checksum-algorithm` and
    /// `x-amz-trailer` for the trailer modes). `decoded_length`: the value of
    /// `x-amz-decoded-content-length` (`None` leaves the header out); `crc32`: the trailer's
    /// value (`None`: the right one).
    pub(crate) fn streaming(
        &self,
        path_and_query: &str,
        data: &[u8],
        mode: Streaming,
        decoded_length: Option<&str>,
        crc32: Option<&str>,
    ) -> http::Request<Full<Bytes>> {
        let now = SystemTime::now();
        let mut headers = vec![("content-encoding", "aws-chunked".to_owned())];
        if let Some(n) = decoded_length {
            headers.push(("x-amz-decoded-content-length", n.to_owned()));
        }
        let right = mock_s3::checksum::Algorithm::Crc32.compute(data);
        let crc = crc32.unwrap_or(&right);
        let trailer = (mode != Streaming::Signed).then_some(("x-amz-checksum-crc32", crc));
        if trailer.is_some() {
            headers.push(("x-amz-sdk-checksum-algorithm", "CRC32".to_owned()));
            headers.push(("x-amz-trailer", "x-amz-checksum-crc32".to_owned()));
        }
        let hdrs: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let head = self.signed_at(
            "PUT",
            path_and_query,
            &hdrs,
            b"",
            now,
            Some(mode.sentinel()),
        );
        let body = match mode {
            Streaming::UnsignedTrailer => aws_chunked(data, 8192, None, trailer, false),
            Streaming::Signed | Streaming::SignedTrailer => {
                let mut signer = chunk_signer(self, &head, now);
                aws_chunked(data, 8192, Some(&mut signer), trailer, false)
            }
        };
        with_body(head, body)
    }
}

/// `req` with its body replaced by `body` (the head, and so the signature, unchanged).
pub(crate) fn with_body(
    req: http::Request<Full<Bytes>>,
    body: impl Into<Bytes>,
) -> http::Request<Full<Bytes>> {
    let (parts, _) = req.into_parts();
    http::Request::from_parts(parts, Full::new(body.into()))
}
