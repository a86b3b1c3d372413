//! Why two result files cannot be compared; every message says what differs and how.
//!
//! These are exit status 2 ([`CompareError::EXIT_CODE`]): the comparison did not happen, which
//! CI must not mistake for "no regression" (0) or "regression" (1).

use std::fmt;

/// Which of the two runs a message is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// The baseline (`BASE.json`).
    Base,
    /// The run under test (`NEW.json`).
    New,
}

impl fmt::Display for Side {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Side::Base => "base",
            Side::New => "new",
        })
    }
}

/// One dimension of the workload whose values differ between the runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Difference {
    /// The dimension, e.g. "profile", "object size", "maxSockets".
    pub field: &'static str,
    /// Its values in the base run, sorted and displayed.
    pub base: Vec<String>,
    /// Its values in the new run.
    pub new: Vec<String>,
}

impl fmt::Display for Difference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} is {} in base but {} in new",
            self.field,
            self.base.join(", "),
            self.new.join(", ")
        )
    }
}

/// The two result files cannot be compared.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CompareError {
    /// The threshold option is negative, NaN or infinite.
    #[error("invalid threshold {threshold}: it must be a finite fraction ≥ 0 (0.10 = 10 %)")]
    InvalidThreshold {
        /// The value given.
        threshold: f64,
    },
    /// The files were written with different schema versions.
    #[error(
        "cannot compare: base has schema_version {base} but new has schema_version {new}; \
         re-run the older one with the same poolsweep"
    )]
    SchemaVersion {
        /// Base's version.
        base: u32,
        /// New's version.
        new: u32,
    },
    /// One run has no points (it stopped before finishing any).
    #[error(
        "cannot compare: the {side} run has no points (did it stop before its first point finished?)"
    )]
    NoPoints {
        /// The empty run.
        side: Side,
    },
    /// One run holds two points with the same workload key, so pairing is ambiguous.
    #[error(
        "cannot compare: the {side} run holds two points for {point}; a run measures each workload once"
    )]
    DuplicatePoint {
        /// The run.
        side: Side,
        /// The workload key, as a name.
        point: String,
    },
    /// The runs measured different workloads: server profile, object size or object count.
    #[error(
        "cannot compare: the runs measured different workloads: {}",
        join(differences)
    )]
    WorkloadDiffers {
        /// What differs.
        differences: Vec<Difference>,
    },
    /// Not a single point of one run has a counterpart in the other.
    #[error(
        "cannot compare: no point of the base run was measured in the new run{}",
        because(differences)
    )]
    NoCommonPoints {
        /// The sweep axes whose values differ (may be empty when only their combinations do).
        differences: Vec<Difference>,
    },
    /// Some points have counterparts, others do not.
    #[error(
        "cannot compare: the runs hold different points: {} only in base{}, {} only in new{}{}{}",
        only_in_base.len(), examples(only_in_base), only_in_new.len(), examples(only_in_new),
        because(differences), subset_hint(only_in_base, only_in_new)
    )]
    DifferentPoints {
        /// Points of base missing from new, as workload names.
        only_in_base: Vec<String>,
        /// Points of new missing from base.
        only_in_new: Vec<String>,
        /// The sweep axes whose values differ.
        differences: Vec<Difference>,
    },
}

impl CompareError {
    /// The process exit status for every comparison error: 2.
    pub const EXIT_CODE: u8 = 2;

    /// The process exit status: always [`CompareError::EXIT_CODE`].
    pub fn exit_code(&self) -> u8 {
        Self::EXIT_CODE
    }
}

fn join(differences: &[Difference]) -> String {
    differences
        .iter()
        .map(Difference::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

/// ": profile is … ; maxSockets is …", or nothing.
fn because(differences: &[Difference]) -> String {
    if differences.is_empty() {
        String::new()
    } else {
        format!(": {}", join(differences))
    }
}

/// " (a, b, c and 4 more)", or nothing for an empty list.
fn examples(names: &[String]) -> String {
    const SHOWN: usize = 3;
    match names.len() {
        0 => String::new(),
        n if n <= SHOWN => format!(" ({})", names.join(", ")),
        n => format!(" ({} and {} more)", names[..SHOWN].join(", "), n - SHOWN),
    }
}

/// A likely cause when one run's points are a subset of the other's.
fn subset_hint(only_in_base: &[String], only_in_new: &[String]) -> &'static str {
    match (only_in_base.is_empty(), only_in_new.is_empty()) {
        (false, true) => "; did the new run stop early, or sweep fewer values?",
        (true, false) => "; did the base run stop early, or sweep fewer values?",
        _ => "",
    }
}
