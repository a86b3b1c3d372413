//! The standalone `mock-s3` binary under concurrent large uploads, and its peak resident set.
//!
//! Shared by the `memory` bench (release build, large sizes) and the `memory_cap` integration
//! test (debug build, small sizes). Each upload is a PUT with `Expect: 100-continue` on its own
//! TLS connection, signed with SigV4 and `UNSIGNED-PAYLOAD`, its body written from one 64 KiB
//! buffer (the client holds no body): a server that refuses at once answers before any byte of
//! the body is sent. The peak is the kernel's high-water mark of the server process's
//! resident set (`VmHWM` in /proc/PID/status).

use std::io::BufRead as _;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::SystemTime;

use rustls::pki_types::{CertificateDer, ServerName};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

/// A running `mock-s3` process, killed when dropped.
pub(crate) struct Server {
    child: Child,
    dir: std::path::PathBuf,
    pub(crate) addr: std::net::SocketAddr,
    tls: tokio_rustls::TlsConnector,
    access_key: String,
    secret_key: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// One value of /proc/PID/status, in KiB.
fn status_kib(pid: u32, field: &str) -> u64 {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    text.lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

impl Server {
    /// Starts `binary` on a free loopback port with `args` added.
    pub(crate) fn start(binary: &Path, args: &[&str]) -> Self {
        static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("mock-s3-memory-{}-{n}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let ca = dir.join("ca.pem");
        let mut child = Command::new(binary)
            .args(["--listen", "127.0.0.1:0", "--ca-out"])
            .arg(&ca)
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("mock-s3 binary starts");
        let mut first = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut first)
            .unwrap();
        let field = |name: &str| {
            first
                .split_whitespace()
                .find_map(|kv| kv.strip_prefix(name))
                .unwrap_or_else(|| panic!("{name} in {first:?}"))
                .to_owned()
        };
        let addr = field("endpoint=")
            .trim_start_matches("https://")
            .parse()
            .unwrap();
        let mut roots = rustls::RootCertStore::empty();
        for cert in rustls_pemfile_certs(&std::fs::read(&ca).unwrap()) {
            roots.add(cert).unwrap();
        }
        let config = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::aws_lc_rs::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
        Self {
            child,
            dir,
            addr,
            tls: tokio_rustls::TlsConnector::from(Arc::new(config)),
            access_key: field("access_key="),
            secret_key: field("secret_key="),
        }
    }

    /// The CA certificate the server's certificate is signed by.
    #[allow(dead_code)]
    pub(crate) fn ca(&self) -> CertificateDer<'static> {
        rustls_pemfile_certs(&std::fs::read(self.dir.join("ca.pem")).unwrap()).remove(0)
    }

    /// The access key and secret key the server accepts.
    #[allow(dead_code)]
    pub(crate) fn keys(&self) -> (String, String) {
        (self.access_key.clone(), self.secret_key.clone())
    }

    /// The process's resident set now, in KiB.
    pub(crate) fn rss_kib(&self) -> u64 {
        status_kib(self.child.id(), "VmRSS:")
    }

    /// The process's peak resident set so far, in KiB.
    pub(crate) fn peak_kib(&self) -> u64 {
        status_kib(self.child.id(), "VmHWM:")
    }

    /// Sends `method path` with a body of `len` bytes (`Expect: 100-continue` when `len > 0`)
    /// on a new connection; returns the final status, whether the body was sent, and the
    /// answer's S3 error code if it has one.
    pub(crate) async fn request(&self, method: &str, path: &str, len: u64) -> (u16, bool, String) {
        let tcp = TcpStream::connect(self.addr).await.unwrap();
        tcp.set_nodelay(true).unwrap();
        let mut s = self
            .tls
            .connect(ServerName::try_from("localhost").unwrap(), tcp)
            .await
            .unwrap();
        let mut head = format!("{method} {path} HTTP/1.1\r\n");
        for (k, v) in self.signed_headers(method, path) {
            head.push_str(&format!("{k}: {v}\r\n"));
        }
        head.push_str(&format!("content-length: {len}\r\n"));
        if len > 0 {
            head.push_str("expect: 100-continue\r\n");
        }
        head.push_str("\r\n");
        // TLS buffers what it cannot send at once: every write is flushed before a read waits
        // for the answer to it.
        s.write_all(head.as_bytes()).await.unwrap();
        s.flush().await.unwrap();
        let mut buf = Vec::new();
        let mut sent = false;
        if len > 0 {
            let (status, code) = read_head(&mut s, &mut buf).await;
            if status != 100 {
                return (status, false, code);
            }
            let piece = vec![0x5Au8; 64 << 10];
            let mut left = len;
            while left > 0 {
                let n = left.min(piece.len() as u64) as usize;
                if s.write_all(&piece[..n]).await.is_err() {
                    break;
                }
                left -= n as u64;
            }
            sent = left == 0 && s.flush().await.is_ok();
        }
        let (status, code) = read_head(&mut s, &mut buf).await;
        (status, sent, code)
    }

    fn signed_headers(&self, method: &str, path: &str) -> Vec<(String, String)> {
        use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
        let host = format!("localhost:{}", self.addr.port());
        let headers = [
            ("host", host.as_str()),
            ("x-amz-content-sha256", "UNSIGNED-PAYLOAD"),
        ];
        let identity = aws_credential_types::Credentials::new(
            &self.access_key,
            &self.secret_key,
            None,
            None,
            "memory",
        )
        .into();
        let params = aws_sigv4::sign::v4::SigningParams::builder()
            .identity(&identity)
            .region("us-east-1")
            .name("s3")
            .time(SystemTime::now())
            .settings(SigningSettings::default())
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
        let mut out: Vec<(String, String)> = headers
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        for (k, v) in instructions.headers() {
            out.push((k.to_owned(), v.to_owned()));
        }
        out
    }
}

/// Reads one response head (and the body its Content-Length announces); returns the status
/// (0 if the connection ended first) and the body's `<Code>`, if any.
async fn read_head<S: tokio::io::AsyncRead + Unpin>(s: &mut S, buf: &mut Vec<u8>) -> (u16, String) {
    let mut tmp = [0u8; 4096];
    let end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i;
        }
        match s.read(&mut tmp).await {
            Ok(n) if n > 0 => buf.extend_from_slice(&tmp[..n]),
            _ => return (0, String::new()),
        }
    };
    let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
    buf.drain(..end + 4);
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let len: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    while buf.len() < len {
        match s.read(&mut tmp).await {
            Ok(n) if n > 0 => buf.extend_from_slice(&tmp[..n]),
            _ => break,
        }
    }
    let body: Vec<u8> = buf.drain(..len.min(buf.len())).collect();
    let body = String::from_utf8_lossy(&body);
    let code = body
        .split("<Code>")
        .nth(1)
        .and_then(|c| c.split("</Code>").next())
        .unwrap_or("")
        .to_owned();
    (status, code)
}

/// The certificates of a PEM file.
fn rustls_pemfile_certs(pem: &[u8]) -> Vec<CertificateDer<'static>> {
    use base64::Engine as _;
    let text = std::str::from_utf8(pem).unwrap();
    let mut out = Vec::new();
    let mut b64 = String::new();
    for line in text.lines() {
        if line.starts_with("-----BEGIN") {
            b64.clear();
        } else if line.starts_with("-----END") {
            let der = base64::engine::general_purpose::STANDARD
                .decode(&b64)
                .unwrap();
            out.push(CertificateDer::from(der));
        } else {
            b64.push_str(line.trim());
        }
    }
    out
}

/// What one run of [`concurrent_uploads`] saw.
#[derive(Debug, Default)]
pub(crate) struct Outcome {
    /// Uploads answered 200.
    pub(crate) stored: usize,
    /// Uploads refused with 507 before their body was sent.
    pub(crate) refused_at_once: usize,
    /// Uploads that got 400 RequestTimeout: on a machine busy with other work, an upload can
    /// go without a byte for the profile's 20 s stall timeout. Its reservation was held.
    pub(crate) timed_out: usize,
    /// Any other answer: (status, body sent, error code).
    pub(crate) other: Vec<(u16, bool, String)>,
}

/// `rounds` times: `n` concurrent PUTs of `size` bytes and `n_huge` of `huge` bytes to bucket
/// `mem` (created first), then DELETE of every key. Every upload is on its own connection.
pub(crate) async fn concurrent_uploads(
    server: &Arc<Server>,
    rounds: usize,
    n: usize,
    size: u64,
    n_huge: usize,
    huge: u64,
) -> Outcome {
    assert_eq!(server.request("PUT", "/mem", 0).await.0, 200);
    let mut outcome = Outcome::default();
    for round in 0..rounds {
        let mut tasks = Vec::new();
        for i in 0..n + n_huge {
            let server = server.clone();
            let len = if i < n { size } else { huge };
            tasks.push(tokio::spawn(async move {
                server
                    .request("PUT", &format!("/mem/r{round}-{i}"), len)
                    .await
            }));
        }
        for t in tasks {
            match t.await.unwrap() {
                (200, true, _) => outcome.stored += 1,
                (507, false, _) => outcome.refused_at_once += 1,
                (400, _, code) if code == "RequestTimeout" => outcome.timed_out += 1,
                other => outcome.other.push(other),
            }
        }
        for i in 0..n + n_huge {
            let (status, _, _) = server
                .request("DELETE", &format!("/mem/r{round}-{i}"), 0)
                .await;
            assert_eq!(status, 204);
        }
    }
    outcome
}
