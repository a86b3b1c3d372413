//! A server under test as a process of its own: the `mock-s3` binary, or the floor (this bench
//! binary run as `floor`). Both print `endpoint=https://ADDR ca=PATH ...` first; the process
//! is killed when dropped. Its CPU time is the sum over its threads of the kernel's on-CPU
//! nanoseconds (`/proc/PID/task/*/schedstat`, user and system).

use std::io::BufRead as _;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject as _;

/// A running server process.
pub(crate) struct Server {
    child: Child,
    ca_file: PathBuf,
    pub(crate) addr: std::net::SocketAddr,
    pub(crate) ca: CertificateDer<'static>,
    /// `access_key=` and `secret_key=` from the first line (the mock's; the floor has none).
    pub(crate) keys: Option<(String, String)>,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.ca_file);
    }
}

impl Server {
    /// Starts `program args... --listen 127.0.0.1:0 --ca-out FILE` and reads its first line.
    pub(crate) fn start(program: &std::path::Path, args: &[&str]) -> Self {
        static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let ca_file = std::env::temp_dir().join(format!("serve-{}-{n}.pem", std::process::id()));
        let mut child = Command::new(program)
            .args(args)
            .args(["--listen", "127.0.0.1:0", "--ca-out"])
            .arg(&ca_file)
            // The mock logs its start at INFO; warnings and errors still show.
            .env(
                "RUST_LOG",
                std::env::var("RUST_LOG").unwrap_or_else(|_| "warn".to_owned()),
            )
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("starting {}: {e}", program.display()));
        let mut first = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut first)
            .unwrap();
        let field = |name: &str| {
            first
                .split_whitespace()
                .find_map(|kv| kv.strip_prefix(name))
                .map(str::to_owned)
        };
        let addr = field("endpoint=")
            .unwrap_or_else(|| panic!("no endpoint in {first:?}"))
            .trim_start_matches("https://")
            .parse()
            .unwrap();
        let ca = CertificateDer::from_pem_file(&ca_file).expect("the server wrote its CA");
        let keys = field("access_key=").zip(field("secret_key="));
        Self {
            child,
            ca_file,
            addr,
            ca,
            keys,
        }
    }

    /// The process id.
    pub(crate) fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Context switches of every thread so far (voluntary ones are waits: a worker that
    /// parked, a futex).
    pub(crate) fn switches(&self) -> u64 {
        let dir = format!("/proc/{}/task", self.child.id());
        let Ok(tasks) = std::fs::read_dir(dir) else {
            return 0;
        };
        tasks
            .filter_map(|t| std::fs::read_to_string(t.ok()?.path().join("status")).ok())
            .flat_map(|s| {
                s.lines()
                    .filter(|l| l.contains("ctxt_switches:"))
                    .filter_map(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
                    .collect::<Vec<_>>()
            })
            .sum()
    }

    /// The process's CPU time so far, in ns (every thread, user and system).
    pub(crate) fn cpu_ns(&self) -> u64 {
        let dir = format!("/proc/{}/task", self.child.id());
        let Ok(tasks) = std::fs::read_dir(dir) else {
            return 0;
        };
        tasks
            .filter_map(|t| std::fs::read_to_string(t.ok()?.path().join("schedstat")).ok())
            .filter_map(|s| s.split_whitespace().next()?.parse::<u64>().ok())
            .sum()
    }
}
