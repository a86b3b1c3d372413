//! The versioned result file of a run: one JSON document per sweep.
//!
//! A result file is self-describing: [`RunFile`] holds a [`SCHEMA_VERSION`], the [`Meta`] needed
//! to reproduce the run (commit, toolchain, machine, full config, command line), every measured
//! [`Point`](crate::metrics::Point) and the [`Recommendation`](crate::analysis::Recommendation)s
//! drawn from them. `results/schema.json` is its JSON
//! Schema; `results/README.md` explains each field.
//!
//! Invariant: the file on disk is always a complete, valid result file. [`ResultWriter`] replaces
//! it atomically after each finished point, so a run killed at any instant leaves every point that
//! had finished before the kill, and nothing half-written.
//!
//! maxSockets is an `Option<u32>` everywhere: `None` is Node's `Infinity` (no cap) and is written
//! as JSON `null`; [`display_max_sockets`](crate::metrics::display_max_sockets) shows it as "∞".
//!
//! # Examples
//!
//! ```no_run
//! use poolsweep::results::{Meta, ResultWriter, RunFile};
//!
//! # fn points() -> Vec<poolsweep::metrics::Point> { Vec::new() }
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let meta = Meta::collect(serde_json::json!({"batches": [64]}), serde_json::json!("default"),
//!     std::env::args().collect());
//! let mut writer = ResultWriter::create("results/local/run.json", meta)?;
//! for point in points() {
//!     writer.append_point(&point)?; // the file on disk now holds this point too
//! }
//! let run = RunFile::load("results/local/run.json")?;
//! poolsweep::results::write_csv(&run, std::io::stdout().lock())?;
//! # Ok(())
//! # }
//! ```

mod csv;
mod error;
mod file;
mod meta;
mod schema;
mod writer;

#[cfg(test)]
pub(crate) mod fixtures;
#[cfg(test)]
pub(crate) mod testutil;

pub use csv::write_csv;
pub use error::Error;
pub use file::{OLDEST_READABLE_VERSION, RunFile, SCHEMA_VERSION};
pub use meta::{Meta, RlimitNofile};
pub use schema::SCHEMA_JSON;
pub use writer::ResultWriter;
