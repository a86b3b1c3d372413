//! js-v3: the AWS SDK for JavaScript v3 (`@aws-sdk/client-s3` with
//! `@smithy/node-http-handler`) on Node.js, as a client under test.
//!
//! The runner lives in `runners/js-v3/` (its `package.json` and committed
//! `package-lock.json` pin exact versions; `PROTOCOL.md` documents the line protocol). It is
//! installed by `npm ci` into that folder on first use ([`install`]), started as a child
//! process ([`process`]) and spoken to one JSON object per line each way ([`protocol`]);
//! [`JsV3Client`] is the sweep's view of it, a [`ClientUnderTest`](crate::sut::ClientUnderTest).
//!
//! # Examples
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use poolsweep::sut::js_v3::{self, Runner};
//! use poolsweep::sut::{CaFile, RunSettings};
//! use poolsweep::sut::OpKind;
//!
//! let server = mock_s3::MockS3::builder().start()?;
//! server.create_bucket("bucket")?;
//! let installed = js_v3::ensure_installed(
//!     &js_v3::default_dir(),
//!     &js_v3::Toolchain::default(),
//!     &mut |line| eprintln!("{line}"),
//! )?;
//! let ca = CaFile::write(server.ca_pem())?;
//! let runner = Runner::spawn(&installed, Some(ca.path())).await?;
//! let run = runner.start(&RunSettings::for_mock(&server, "bucket", Some(10))).await?;
//! let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(60);
//! let done = runner.op(0, OpKind::Put, "k0", 16 * 1024, deadline).await;
//! assert!(done.error.is_none(), "{}", done.message);
//! let report = runner.finish(run).await?;
//! assert_eq!(report.sockets_opened, 1);
//! # Ok(()) }
//! ```

mod client;
pub mod install;
pub mod process;
pub mod protocol;

pub use client::{HANG_GRACE, JsV3Client, JsV3Run};
pub use install::{InstallError, Installed, Toolchain, default_dir, ensure_installed};
pub use process::{Runner, RunnerError, RunnerInfo};

/// Whether js-v3 can run on this machine: `Ok(node --version)`, or why not, in one line.
pub fn node_available() -> Result<String, InstallError> {
    install::node_version(&Toolchain::default(), &default_dir())
}
