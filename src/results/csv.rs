//! CSV export: one row per point, nested fields flattened to `parent_child` columns.
//!
//! The columns are the fields of [`Point`] as they serialise, in declaration order, plus
//! `failed` (per-repetition values in one field, `;`-separated); a test walks a serialised point and fails when a field is added to one and not
//! the other, or when a cell does not hold the value the result file holds.
//!
//! Meant for spreadsheets and pandas, so it follows RFC 4180 (comma separated, fields quoted only
//! when they hold a comma, quote or line break). maxSockets Infinity is written as "inf", which
//! pandas and most spreadsheets read as a number. The server's counters become one
//! `server_<name>` column each, for every counter any point reported (sorted by name; empty
//! where a point lacks it).

use std::collections::BTreeSet;
use std::io::{self, Write};

use serde_json::Value;

use super::RunFile;
use crate::metrics::Point;

/// The fixed columns, in order; the `server_*` columns follow.
const COLUMNS: &[&str] = &[
    "sdk",
    "client",
    "pool",
    "pattern",
    "op",
    "profile",
    "scenario",
    "batch",
    "max_sockets",
    "repetitions",
    "objects",
    "completed",
    "object_size",
    "objects_per_s_median",
    "objects_per_s_min",
    "objects_per_s_max",
    "objects_per_s_by_run",
    "mb_per_s_median",
    "mb_per_s_min",
    "mb_per_s_max",
    "projected_s",
    "startup_batches",
    "startup_objects",
    "startup_time_ms_median",
    "startup_time_ms_min",
    "startup_time_ms_max",
    "startup_sockets_opened",
    "startup_tls_full",
    "startup_tls_resumed",
    "latency_ms_p50",
    "latency_ms_p90",
    "latency_ms_p99",
    "latency_ms_p999",
    "latency_ms_max",
    "socket_wait_ms_p50",
    "socket_wait_ms_p99",
    "sockets_opened",
    "peak_open_sockets",
    "tls_full",
    "tls_resumed",
    "retries_total",
    "retries_throttling",
    "retries_transient",
    "retries_timeout",
    "retries_other",
    "errors_total",
    "errors_emfile",
    "errors_timeout",
    "errors_reset",
    "errors_slowdown",
    "errors_other",
    "cpu_ns_per_request_client_ns",
    "cpu_ns_per_request_server_ns",
    "requests",
    "succeeded",
    "failure",
    "errors_expected",
    "failed",
];

/// Writes the run's points as CSV with a header row.
///
/// # Examples
///
/// ```no_run
/// let run = poolsweep::results::RunFile::load("results/local/run.json")?;
/// let file = std::fs::File::create("run.csv")?;
/// poolsweep::results::write_csv(&run, std::io::BufWriter::new(file))?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn write_csv(run: &RunFile, mut out: impl Write) -> io::Result<()> {
    let server_keys: BTreeSet<&str> = run
        .points
        .iter()
        .flat_map(|p| p.server.keys().map(String::as_str))
        .collect();

    let header = COLUMNS
        .iter()
        .map(|c| (*c).to_owned())
        .chain(server_keys.iter().map(|k| format!("server_{k}")));
    write_row(&mut out, header)?;

    for p in &run.points {
        let server = server_keys
            .iter()
            .map(|k| p.server.get(*k).map_or_else(String::new, server_value));
        write_row(&mut out, fixed_fields(p).into_iter().chain(server))?;
    }
    out.flush()
}

fn fixed_fields(p: &Point) -> Vec<String> {
    let n = |v: u64| v.to_string();
    let f = |v: f64| v.to_string();
    vec![
        p.sdk.to_string(),
        p.client.to_string(),
        p.pool.to_string(),
        p.pattern.to_string(),
        p.op.to_string(),
        p.profile.clone(),
        p.scenario.clone().unwrap_or_default(),
        p.batch.to_string(),
        p.max_sockets
            .map_or_else(|| "inf".to_owned(), |m| m.to_string()),
        p.repetitions.to_string(),
        n(p.objects),
        n(p.completed),
        n(p.object_size),
        f(p.objects_per_s.median),
        f(p.objects_per_s.min),
        f(p.objects_per_s.max),
        runs(&p.objects_per_s_by_run),
        f(p.mb_per_s.median),
        f(p.mb_per_s.min),
        f(p.mb_per_s.max),
        p.projected_s.map_or_else(String::new, f),
        p.startup.batches.to_string(),
        n(p.startup.objects),
        f(p.startup.time_ms.median),
        f(p.startup.time_ms.min),
        f(p.startup.time_ms.max),
        n(p.startup.sockets_opened),
        n(p.startup.tls_full),
        n(p.startup.tls_resumed),
        f(p.latency_ms.p50),
        f(p.latency_ms.p90),
        f(p.latency_ms.p99),
        f(p.latency_ms.p999),
        f(p.latency_ms.max),
        f(p.socket_wait_ms.p50),
        f(p.socket_wait_ms.p99),
        n(p.sockets_opened),
        n(p.peak_open_sockets),
        n(p.tls_full),
        n(p.tls_resumed),
        n(p.retries.total),
        n(p.retries.throttling),
        n(p.retries.transient),
        n(p.retries.timeout),
        n(p.retries.other),
        n(p.errors.total),
        n(p.errors.emfile),
        n(p.errors.timeout),
        n(p.errors.reset),
        n(p.errors.slowdown),
        n(p.errors.other),
        p.cpu_ns_per_request.client_ns.map_or_else(String::new, f),
        p.cpu_ns_per_request.server_ns.map_or_else(String::new, f),
        n(p.requests),
        n(p.succeeded),
        p.failure.clone().unwrap_or_default(),
        p.errors_expected.to_string(),
        p.failed().to_string(),
    ]
}

/// Per-repetition values in one field, separated by `;` (in the order measured).
fn runs(values: &[f64]) -> String {
    values
        .iter()
        .map(f64::to_string)
        .collect::<Vec<_>>()
        .join(";")
}

/// A server counter as a CSV field: numbers and strings as is, anything else as compact JSON.
fn server_value(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Number(_) | Value::Bool(_) | Value::Array(_) | Value::Object(_) => v.to_string(),
    }
}

fn write_row(out: &mut impl Write, fields: impl Iterator<Item = String>) -> io::Result<()> {
    let mut first = true;
    for field in fields {
        if !first {
            out.write_all(b",")?;
        }
        first = false;
        if field.contains([',', '"', '\n', '\r']) {
            write!(out, "\"{}\"", field.replace('"', "\"\""))?;
        } else {
            out.write_all(field.as_bytes())?;
        }
    }
    out.write_all(b"\r\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::results::fixtures;

    fn csv_of(run: &RunFile) -> String {
        let mut buf = Vec::new();
        write_csv(run, &mut buf).unwrap();
        String::from_utf8(buf).unwrap()
    }

    #[test]
    fn header_then_one_row_per_point() {
        let run = fixtures::small();
        let csv = csv_of(&run);
        let lines: Vec<&str> = csv.split_terminator("\r\n").collect();
        assert_eq!(lines.len(), 1 + run.points.len());
        let header: Vec<&str> = lines[0].split(',').collect();
        assert_eq!(&header[..COLUMNS.len()], COLUMNS);
        assert!(header.contains(&"server_slowdowns_sent"), "{header:?}");
        for line in &lines[1..] {
            assert_eq!(line.split(',').count(), header.len(), "{line}");
        }
        let col = |name: &str| header.iter().position(|h| *h == name).unwrap();
        let first: Vec<&str> = lines[1].split(',').collect();
        assert_eq!(first[col("client")], run.points[0].client.as_str());
        assert_eq!(first[col("batch")], run.points[0].batch.to_string());
    }

    #[test]
    fn infinity_is_inf_and_failures_are_flagged() {
        let run = fixtures::small();
        let csv = csv_of(&run);
        let lines: Vec<&str> = csv.split_terminator("\r\n").collect();
        let header: Vec<&str> = lines[0].split(',').collect();
        let ms = header.iter().position(|h| *h == "max_sockets").unwrap();
        let failed = header.iter().position(|h| *h == "failed").unwrap();
        let rows: Vec<Vec<&str>> = lines[1..].iter().map(|l| l.split(',').collect()).collect();
        for (row, point) in rows.iter().zip(&run.points) {
            match point.max_sockets {
                None => assert_eq!(row[ms], "inf"),
                Some(n) => assert_eq!(row[ms], n.to_string()),
            }
            assert_eq!(row[failed], point.failed().to_string());
        }
        assert!(rows.iter().any(|r| r[ms] == "inf"));
        assert!(rows.iter().any(|r| r[failed] == "true"));
    }

    /// The point's fields, as serde writes them, flattened to `parent_child` names (the
    /// server's counters apart: they get a `server_<name>` column each).
    fn flattened(prefix: &str, v: &Value, out: &mut Vec<(String, Value)>) {
        match v {
            Value::Object(m) => {
                for (k, v) in m {
                    let name = if prefix.is_empty() {
                        k.clone()
                    } else {
                        format!("{prefix}_{k}")
                    };
                    if name != "server" {
                        flattened(&name, v, out);
                    }
                }
            }
            other => out.push((prefix.to_owned(), other.clone())),
        }
    }

    #[test]
    fn columns_are_the_points_fields_and_cells_their_values() {
        let run = fixtures::small();
        assert!(run.points.iter().any(|p| p.projected_s.is_some()));
        assert!(run.points.iter().any(|p| p.max_sockets.is_none()));
        for p in &run.points {
            let mut fields = Vec::new();
            flattened("", &serde_json::to_value(p).unwrap(), &mut fields);
            let columns: BTreeSet<&str> =
                COLUMNS.iter().copied().filter(|c| *c != "failed").collect();
            let names: BTreeSet<&str> = fields.iter().map(|(n, _)| n.as_str()).collect();
            assert_eq!(
                columns, names,
                "CSV columns (left) and Point's fields (right) differ: add the field to both"
            );
            let cells = fixed_fields(p);
            assert_eq!(cells.len(), COLUMNS.len(), "one cell per column");
            let cell = |name: &str| &cells[COLUMNS.iter().position(|c| *c == name).unwrap()];
            for (name, value) in &fields {
                let got = cell(name);
                match value {
                    Value::Null if name == "max_sockets" => assert_eq!(got, "inf"),
                    Value::Null => assert_eq!(got, "", "{name}"),
                    Value::Array(items) => {
                        let parts: Vec<Option<f64>> =
                            got.split(';').map(|v| v.parse::<f64>().ok()).collect();
                        let want: Vec<Option<f64>> = items.iter().map(Value::as_f64).collect();
                        assert_eq!(parts, want, "{name}");
                    }
                    Value::String(s) => assert_eq!(got, s, "{name}"),
                    Value::Bool(b) => assert_eq!(got, &b.to_string(), "{name}"),
                    Value::Number(n) => assert_eq!(
                        got.parse::<f64>().ok(),
                        n.as_f64(),
                        "{name}: {got} in the CSV, {n} in the result file"
                    ),
                    other @ Value::Object(_) => panic!("{name}: no CSV form for {other}"),
                }
            }
            assert_eq!(cell("failed"), &p.failed().to_string());
        }
    }

    #[test]
    fn fields_with_commas_and_quotes_are_quoted() {
        let mut run = fixtures::small();
        run.points.truncate(1);
        run.points[0].profile = "slow, \"throttled\"".to_owned();
        let csv = csv_of(&run);
        assert!(csv.contains(",\"slow, \"\"throttled\"\"\","), "{csv}");
    }
}
