//! The load: a lean keep-alive HTTPS client, so that the server saturates before it does.
//!
//! Every request is the same bytes, encoded once (a signed request is signed once, with
//! `UNSIGNED-PAYLOAD`: S3 accepts a signature for 15 minutes). Each connection writes them,
//! reads the response head, checks its status and skips its `Content-Length` body into one
//! reused buffer: no per-request allocation, no header map, no request builder. Connections
//! are spread over client threads, each a current-thread runtime, and each thread counts its
//! responses in an atomic of its own that the measuring thread samples.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::time::SystemTime;

use rustls::pki_types::{CertificateDer, ServerName};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

/// One request, as sent.
#[derive(Clone)]
pub(crate) struct Request {
    bytes: Arc<[u8]>,
}

impl Request {
    /// `method path` to `addr` with `body`, signed for `keys` (SigV4, `UNSIGNED-PAYLOAD`) if
    /// given.
    pub(crate) fn new(
        method: &str,
        path: &str,
        addr: std::net::SocketAddr,
        body: &[u8],
        keys: Option<&(String, String)>,
    ) -> Self {
        let host = addr.to_string();
        let mut head = format!("{method} {path} HTTP/1.1\r\nhost: {host}\r\n");
        if method != "GET" {
            head.push_str(&format!("content-length: {}\r\n", body.len()));
        }
        if let Some(keys) = keys {
            for (k, v) in signed_headers(method, &host, path, keys) {
                head.push_str(&format!("{k}: {v}\r\n"));
            }
        }
        head.push_str("\r\n");
        let mut bytes = head.into_bytes();
        bytes.extend_from_slice(body);
        Self {
            bytes: bytes.into(),
        }
    }
}

/// The headers SigV4 adds to `method host path` (with `x-amz-content-sha256: UNSIGNED-PAYLOAD`).
pub(crate) fn signed_headers(
    method: &str,
    host: &str,
    path: &str,
    (access_key, secret_key): &(String, String),
) -> Vec<(String, String)> {
    use aws_sigv4::http_request::{
        PercentEncodingMode, SignableBody, SignableRequest, SigningSettings,
        UriPathNormalizationMode, sign,
    };
    let headers = [("host", host), ("x-amz-content-sha256", "UNSIGNED-PAYLOAD")];
    let mut settings = SigningSettings::default();
    settings.percent_encoding_mode = PercentEncodingMode::Single;
    settings.uri_path_normalization_mode = UriPathNormalizationMode::Disabled;
    let identity =
        aws_credential_types::Credentials::new(access_key, secret_key, None, None, "bench").into();
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
        format!("https://{host}{path}"),
        headers.iter().copied(),
        SignableBody::UnsignedPayload,
    )
    .unwrap();
    let (instructions, _) = sign(signable, &params).unwrap().into_parts();
    let mut out = vec![(
        "x-amz-content-sha256".to_owned(),
        "UNSIGNED-PAYLOAD".to_owned(),
    )];
    for (k, v) in instructions.headers() {
        out.push((k.to_owned(), v.to_owned()));
    }
    out
}

/// A response counter on a cache line of its own (one per client thread).
#[repr(align(128))]
#[derive(Default)]
struct Counter(AtomicU64);

/// What a client thread is told to do next with its connections.
enum Command {
    /// Send requests on every connection: this many each, or until stopped.
    Run(Option<u64>),
    /// Close the connections and end.
    Quit,
}

/// Client threads that hold keep-alive connections and drive them when told.
pub(crate) struct Load {
    counters: Arc<[Counter]>,
    stop: Arc<AtomicBool>,
    cpu: Arc<mock_s3::cpu::ThreadCpu>,
    commands: Vec<std::sync::mpsc::Sender<Command>>,
    done: std::sync::mpsc::Receiver<()>,
    threads: Vec<std::thread::JoinHandle<()>>,
}

impl Load {
    /// Opens `connections` connections to `addr` (trusting `ca`), spread over `threads` client
    /// threads, that will send `request`. Returns once every connection is open (its TLS
    /// handshake done); nothing is sent before [`Load::run`] or [`Load::start`].
    pub(crate) fn connect(
        addr: std::net::SocketAddr,
        ca: &CertificateDer<'static>,
        request: &Request,
        connections: usize,
        threads: usize,
    ) -> Self {
        let tls = connector(ca);
        let counters: Arc<[Counter]> = (0..threads).map(|_| Counter::default()).collect();
        let stop = Arc::new(AtomicBool::new(false));
        let cpu = Arc::new(mock_s3::cpu::ThreadCpu::default());
        let (done_tx, done) = std::sync::mpsc::channel();
        let mut commands = Vec::new();
        let handles = (0..threads)
            .map(|t| {
                let mine = (t..connections).step_by(threads).count();
                let (tx, rx) = std::sync::mpsc::channel();
                commands.push(tx);
                let (tls, counters, stop, cpu, done) = (
                    tls.clone(),
                    counters.clone(),
                    stop.clone(),
                    cpu.clone(),
                    done_tx.clone(),
                );
                let request = request.clone();
                std::thread::Builder::new()
                    .name(format!("load-{t}"))
                    .spawn(move || {
                        cpu.register_current();
                        let rt = tokio::runtime::Builder::new_current_thread()
                            .enable_all()
                            .build()
                            .unwrap();
                        let mut streams = rt.block_on(async {
                            let mut streams = Vec::with_capacity(mine);
                            for _ in 0..mine {
                                streams.push(Conn::open(&tls, addr).await);
                            }
                            streams
                        });
                        done.send(()).unwrap();
                        while let Ok(Command::Run(limit)) = rx.recv() {
                            let count = &counters[t].0;
                            rt.block_on(futures_util::future::join_all(
                                streams
                                    .iter_mut()
                                    .map(|s| s.drive(&request.bytes, count, &stop, limit)),
                            ));
                            done.send(()).unwrap();
                        }
                        cpu.unregister_current();
                    })
                    .unwrap()
            })
            .collect();
        let load = Self {
            counters,
            stop,
            cpu,
            commands,
            done,
            threads: handles,
        };
        load.wait();
        load
    }

    fn wait(&self) {
        for _ in 0..self.threads.len() {
            self.done.recv().expect("a client thread failed");
        }
    }

    /// Sends `n` requests on every connection and returns when all are answered.
    pub(crate) fn run(&self, n: u64) {
        for c in &self.commands {
            c.send(Command::Run(Some(n))).unwrap();
        }
        self.wait();
    }

    /// Starts sending on every connection, until [`Load::stop`].
    pub(crate) fn start(&self) {
        self.stop.store(false, Relaxed);
        for c in &self.commands {
            c.send(Command::Run(None)).unwrap();
        }
    }

    /// Stops every connection after its current request, and waits for them.
    pub(crate) fn stop(&self) {
        self.stop.store(true, Relaxed);
        self.wait();
    }

    /// Responses received so far.
    pub(crate) fn responses(&self) -> u64 {
        self.counters.iter().map(|c| c.0.load(Relaxed)).sum()
    }

    /// CPU time of the client threads so far, ns.
    pub(crate) fn cpu_ns(&self) -> u64 {
        self.cpu.total_ns().unwrap_or(0)
    }
}

impl Drop for Load {
    fn drop(&mut self) {
        for c in &self.commands {
            let _ = c.send(Command::Quit);
        }
        for t in self.threads.drain(..) {
            if let Err(e) = t.join()
                && !std::thread::panicking()
            {
                std::panic::resume_unwind(e);
            }
        }
    }
}

fn connector(ca: &CertificateDer<'static>) -> tokio_rustls::TlsConnector {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(ca.clone()).unwrap();
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::aws_lc_rs::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    tokio_rustls::TlsConnector::from(Arc::new(config))
}

/// One keep-alive connection and its read buffer.
struct Conn {
    s: tokio_rustls::client::TlsStream<TcpStream>,
    buf: Vec<u8>,
    filled: usize,
}

impl Conn {
    async fn open(tls: &tokio_rustls::TlsConnector, addr: std::net::SocketAddr) -> Self {
        let tcp = TcpStream::connect(addr).await.unwrap();
        tcp.set_nodelay(true).unwrap();
        let s = tls
            .connect(ServerName::try_from("localhost").unwrap(), tcp)
            .await
            .unwrap();
        Self {
            s,
            buf: vec![0u8; 64 << 10],
            filled: 0,
        }
    }

    /// Sends `request` and reads its response, again and again, until `stop` or `limit`.
    async fn drive(
        &mut self,
        request: &[u8],
        count: &AtomicU64,
        stop: &AtomicBool,
        limit: Option<u64>,
    ) {
        let mut sent = 0u64;
        while !stop.load(Relaxed) && limit.is_none_or(|l| sent < l) {
            self.s.write_all(request).await.unwrap();
            self.s.flush().await.unwrap();
            sent += 1;
            self.response().await;
            count.fetch_add(1, Relaxed);
        }
    }

    /// Reads one 200 response and skips its body.
    async fn response(&mut self) {
        let (head_end, body_len) = loop {
            if let Some(parsed) = parse_head(&self.buf[..self.filled]) {
                break parsed;
            }
            assert!(self.filled < self.buf.len(), "response head over 64 KiB");
            self.fill("the server closed the connection").await;
        };
        let whole = head_end + body_len;
        assert!(whole <= self.buf.len(), "response over 64 KiB");
        while self.filled < whole {
            self.fill("the server closed the connection mid-body").await;
        }
        self.buf.copy_within(whole..self.filled, 0);
        self.filled -= whole;
    }

    async fn fill(&mut self, closed: &str) {
        let n = self.s.read(&mut self.buf[self.filled..]).await.unwrap();
        assert!(n > 0, "{closed}");
        self.filled += n;
    }
}

/// `(length of the head, Content-Length)` of a complete 200 response head at the start of
/// `buf`; `None` while the head is incomplete. Panics on any other status.
fn parse_head(buf: &[u8]) -> Option<(usize, usize)> {
    let end = buf.windows(4).position(|w| w == b"\r\n\r\n")? + 4;
    let head = &buf[..end];
    assert!(
        head.starts_with(b"HTTP/1.1 200 "),
        "unexpected response: {}",
        String::from_utf8_lossy(head)
    );
    let len = head
        .split(|&b| b == b'\n')
        .find_map(|line| {
            let (name, value) = line.split_at(line.iter().position(|&b| b == b':')?);
            name.eq_ignore_ascii_case(b"content-length")
                .then(|| std::str::from_utf8(&value[1..]).ok()?.trim().parse().ok())?
        })
        .expect("a Content-Length");
    Some((end, len))
}
