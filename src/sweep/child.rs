//! The embedded mock in a process of its own, so that a limit set on the client's process
//! (`--nofile`) is the client's alone, as a Node.js application's would be: the mock keeps the
//! hard limit, and only the client meets EMFILE.
//!
//! The child is the poolsweep binary itself (`poolsweep mock-child`, a hidden subcommand): it
//! starts the same [`mock_s3::MockS3`] the sweep embeds otherwise, prints one JSON line
//! ([`Hello`]: endpoint, CA, keys, region), then answers one JSON line per request line on its
//! stdin ([`Request`]: reset with a profile and seed, the counters, a bucket) and stops at the
//! end of its stdin. The control channel is a pipe, not the mock's admin API: no control
//! connection is counted as an S3 connection or handshake, so the counters read the same as
//! those of an embedded mock.

use std::io::{BufRead as _, BufReader, Write as _};
use std::path::Path;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::Mutex;

use anyhow::Context as _;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::s3::{ClientConfig, Credentials, CredentialsSource};
use crate::sut::{CaFile, CredentialSource, Service};

/// What the child says first: where its mock is and how to reach it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Hello {
    /// The S3 endpoint, `https://127.0.0.1:PORT`.
    pub endpoint: String,
    /// The CA that signed its certificate, PEM.
    pub ca_pem: String,
    /// Its static access key id.
    pub access_key: String,
    /// Its static secret key.
    pub secret_key: String,
    /// Its region.
    pub region: String,
}

/// One request to the child.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "kebab-case")]
pub enum Request {
    /// Set `profile` (if given and not already set), then put the mock back as it started
    /// with its random sequence seeded by `seed`; answers the reset's report.
    Reset {
        /// The profile to run with.
        profile: Option<Box<mock_s3::Profile>>,
        /// The seed of the random sequence.
        seed: u64,
    },
    /// The counters now, as the embedded mock's `metrics()` serialises.
    Metrics,
    /// Create a bucket (already there is fine).
    CreateBucket {
        /// Its name.
        name: String,
    },
}

/// The answer to a [`Request`]: `{"ok": …}` or `{"error": "…"}`.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
enum Reply {
    Ok(Value),
    Error(String),
}

/// The mock in a child process, and the pipe that controls it. Dropping it ends the child.
#[derive(Debug)]
pub struct ChildMock {
    child: Child,
    io: Mutex<Option<(ChildStdin, BufReader<ChildStdout>)>>,
    hello: Hello,
}

impl ChildMock {
    /// Starts `exe mock-child --worker-threads N` (`exe`: a poolsweep binary) and waits for
    /// its [`Hello`].
    pub fn spawn(exe: &Path, worker_threads: usize) -> anyhow::Result<Self> {
        let mut child = Command::new(exe)
            .args([
                "mock-child",
                "--worker-threads",
                &worker_threads.to_string(),
            ])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .with_context(|| format!("starting the mock in a child process ({})", exe.display()))?;
        let stdin = child.stdin.take().context("the child's stdin")?;
        let mut stdout = BufReader::new(child.stdout.take().context("the child's stdout")?);
        let mut line = String::new();
        stdout
            .read_line(&mut line)
            .context("reading the child mock's first line")?;
        let hello: Hello = match serde_json::from_str(&line) {
            Ok(h) => h,
            Err(e) => {
                let _ = child.kill();
                let _ = child.wait();
                anyhow::bail!("the child mock did not start (its first line: {line:?}): {e}");
            }
        };
        Ok(ChildMock {
            child,
            io: Mutex::new(Some((stdin, stdout))),
            hello,
        })
    }

    /// Where the mock is.
    pub fn hello(&self) -> &Hello {
        &self.hello
    }

    /// The child's process id.
    pub fn id(&self) -> u32 {
        self.child.id()
    }

    /// Sends `request` and waits for its answer (the child answers in order, at once).
    pub fn request(&self, request: &Request) -> anyhow::Result<Value> {
        let mut io = self.io.lock().unwrap_or_else(|e| e.into_inner());
        let (stdin, stdout) = io.as_mut().context("the child mock was stopped")?;
        let mut line = serde_json::to_string(request)?;
        line.push('\n');
        stdin
            .write_all(line.as_bytes())
            .and_then(|()| stdin.flush())
            .context("writing to the child mock")?;
        let mut answer = String::new();
        let n = stdout
            .read_line(&mut answer)
            .context("reading from the child mock")?;
        anyhow::ensure!(n > 0, "the child mock exited");
        match serde_json::from_str::<Reply>(&answer)
            .with_context(|| format!("the child mock's answer {answer:?}"))?
        {
            Reply::Ok(v) => Ok(v),
            Reply::Error(e) => Err(anyhow::anyhow!("the child mock: {e}")),
        }
    }

    /// The config poolsweep's own client is made from: the child's endpoint, CA and keys.
    pub fn client_config(&self) -> anyhow::Result<ClientConfig> {
        let h = &self.hello;
        let mut roots = rustls::RootCertStore::empty();
        for cert in rustls::pki_types::pem::PemObject::pem_slice_iter(h.ca_pem.as_bytes()) {
            roots.add(cert.context("the child mock's CA")?)?;
        }
        ClientConfig::new(
            &h.endpoint,
            h.region.clone(),
            roots,
            CredentialsSource::Static(Credentials::new(&h.access_key, &h.secret_key)),
        )
        .context("client config for the child mock")
    }

    /// What every run tells a client under test about the child's mock (static keys; its CA
    /// in a file that lives as long as the returned [`CaFile`]).
    pub fn service(&self) -> anyhow::Result<(Service, CaFile)> {
        let h = &self.hello;
        let ca = CaFile::write(&h.ca_pem).context("writing the child mock's CA")?;
        Ok((
            Service {
                endpoint: h.endpoint.clone(),
                region: h.region.clone(),
                credentials: CredentialSource::Static {
                    access_key_id: h.access_key.clone(),
                    secret_access_key: h.secret_key.clone(),
                    session_token: None,
                },
                ca_file: Some(ca.path().to_owned()),
            },
            ca,
        ))
    }

    /// Creates a bucket (already there is fine).
    pub fn create_bucket(&self, name: &str) -> anyhow::Result<()> {
        self.request(&Request::CreateBucket {
            name: name.to_owned(),
        })
        .map(drop)
    }

    /// The counters now.
    pub fn metrics(&self) -> anyhow::Result<Map<String, Value>> {
        match self.request(&Request::Metrics)? {
            Value::Object(m) => Ok(m),
            other => Err(anyhow::anyhow!("the child mock's counters: {other}")),
        }
    }
}

impl Drop for ChildMock {
    fn drop(&mut self) {
        // The end of its stdin stops it; kill it if it does not go within a few seconds.
        drop(self.io.lock().unwrap_or_else(|e| e.into_inner()).take());
        for _ in 0..50 {
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The child's side (`poolsweep mock-child`): raises its own file-descriptor limit to the
/// hard limit, starts the mock, says [`Hello`] on stdout and answers requests from stdin
/// until it ends.
pub fn serve_child(worker_threads: usize) -> anyhow::Result<()> {
    let _ = rlimit::increase_nofile_limit(u64::MAX);
    mock_s3::tls::install_crypto_provider();
    let mock = mock_s3::MockS3::builder()
        .storage(mock_s3::StorageMode::Discard)
        .worker_threads(worker_threads.max(1))
        .start()
        .context("starting the mock")?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let hello = Hello {
        endpoint: mock.endpoint().to_owned(),
        ca_pem: mock.ca_pem().to_owned(),
        access_key: mock.access_key().to_owned(),
        secret_key: mock.secret_key().to_owned(),
        region: mock.region().to_owned(),
    };
    let mut out = std::io::stdout().lock();
    writeln!(out, "{}", serde_json::to_string(&hello)?)?;
    out.flush()?;
    for line in std::io::stdin().lock().lines() {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        let reply = match serde_json::from_str::<Request>(&line) {
            Err(e) => Reply::Error(format!("not a request: {e}")),
            Ok(Request::Metrics) => match serde_json::to_value(mock.metrics()) {
                Ok(v) => Reply::Ok(v),
                Err(e) => Reply::Error(e.to_string()),
            },
            Ok(Request::CreateBucket { name }) => {
                // Already there from an earlier sweep on the same server: fine.
                let _ = mock.create_bucket(&name);
                Reply::Ok(Value::Null)
            }
            Ok(Request::Reset { profile, seed }) => {
                let set = match profile {
                    Some(p) if mock.profile().name != p.name => mock.set_profile(*p),
                    _ => Ok(()),
                };
                match set {
                    Err(e) => Reply::Error(format!("{e:#}")),
                    Ok(()) => {
                        let report = rt.block_on(mock.reset(mock_s3::ResetOptions::seeded(seed)));
                        Reply::Ok(serde_json::json!({ "still_open": report.still_open }))
                    }
                }
            }
        };
        writeln!(out, "{}", serde_json::to_string(&reply)?)?;
        out.flush()?;
    }
    mock.shutdown();
    Ok(())
}
