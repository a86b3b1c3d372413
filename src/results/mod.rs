//! The versioned result file of a run: one JSON document per sweep.
//!
//! A result file is self-describing: [`RunFile`] holds a [`SCHEMA_VERSION`], the [`Meta`] needed
//! to reproduce the run (commit, toolchain, machine, full config, command line), every measured
//! [`Point`] and the [`Recommendation`]s drawn from them. `results/schema.json` is its JSON
//! Schema; `results/README.md` explains each field.
//!
//! Invariant: the file on disk is always a complete, valid result file. [`ResultWriter`] replaces
//! it atomically after each finished point, so a run killed at any instant leaves every point that
//! had finished before the kill, and nothing half-written.
//!
//! maxSockets is an `Option<u32>` everywhere: `None` is Node's `Infinity` (no cap) and is written
//! as JSON `null`; [`display_max_sockets`] shows it as "∞".
//!
//! # Examples
//!
//! ```no_run
//! use poolsweep::results::{Meta, ResultWriter, RunFile};
//!
//! # fn points() -> Vec<poolsweep::results::Point> { Vec::new() }
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
mod point;
mod recommendation;
mod schema;
mod writer;

#[cfg(test)]
pub(crate) mod fixtures;
#[cfg(test)]
pub(crate) mod testutil;

use std::fmt;

pub use csv::write_csv;
pub use error::Error;
pub use file::{RunFile, SCHEMA_VERSION};
pub use meta::{Meta, RlimitNofile};
pub use point::{
    ClientMode, Errors, Latency, Op, Pattern, Point, PoolKind, Retries, SocketWait, Spread,
};
pub use recommendation::{Recommendation, RuleOfThumb};
pub use schema::SCHEMA_JSON;
pub use writer::ResultWriter;

/// Displays a maxSockets value: the number, or "∞" for `None` (Node's `Infinity`).
///
/// # Examples
///
/// ```
/// use poolsweep::results::display_max_sockets;
/// assert_eq!(display_max_sockets(Some(64)).to_string(), "64");
/// assert_eq!(display_max_sockets(None).to_string(), "∞");
/// ```
pub fn display_max_sockets(max_sockets: Option<u32>) -> impl fmt::Display {
    struct Show(Option<u32>);
    impl fmt::Display for Show {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            match self.0 {
                Some(n) => write!(f, "{n}"),
                None => f.write_str("∞"),
            }
        }
    }
    Show(max_sockets)
}

/// Orders maxSockets values with `None` (Infinity) after every finite cap.
///
/// `Option`'s own `Ord` puts `None` first, which is the wrong way round for a cap.
pub fn max_sockets_sort_key(max_sockets: Option<u32>) -> u64 {
    max_sockets.map_or(u64::MAX, u64::from)
}
