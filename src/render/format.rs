//! Numbers and sizes written for people, the same way in charts, tables and both pages.

/// Formats a tick or cell value compactly: 0, 12, 950, 1.2k, 15k, 2.5M; two decimals below 10.
pub(crate) fn short_number(v: f64) -> String {
    let a = v.abs();
    if a >= 1e6 {
        trim_zero(format!("{:.1}", v / 1e6)) + "M"
    } else if a >= 1e4 {
        format!("{:.0}k", v / 1e3)
    } else if a >= 1e3 {
        trim_zero(format!("{:.1}", v / 1e3)) + "k"
    } else if a >= 10.0 || a == 0.0 {
        format!("{v:.0}")
    } else if a >= 1.0 {
        trim_zero(format!("{v:.1}"))
    } else {
        trim_zero(format!("{v:.2}"))
    }
}

fn trim_zero(s: String) -> String {
    match s.strip_suffix(".0") {
        Some(t) => t.to_owned(),
        None => s,
    }
}

/// "256 KiB", "1 MiB", "100 B".
pub(crate) fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 4] = ["B", "KiB", "MiB", "GiB"];
    let mut v = n as f64;
    let mut u = 0;
    while v >= 1024.0 && u < UNITS.len() - 1 {
        v /= 1024.0;
        u += 1;
    }
    if v.fract() == 0.0 {
        format!("{v:.0} {}", UNITS[u])
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_numbers() {
        let cases = [
            (0.0, "0"),
            (0.25, "0.25"),
            (2.5, "2.5"),
            (3.0, "3"),
            (12.4, "12"),
            (950.0, "950"),
            (1000.0, "1k"),
            (1260.0, "1.3k"),
            (15_300.0, "15k"),
            (2_500_000.0, "2.5M"),
        ];
        for (v, s) in cases {
            assert_eq!(short_number(v), s, "{v}");
        }
    }

    #[test]
    fn bytes_for_humans() {
        assert_eq!(human_bytes(100), "100 B");
        assert_eq!(human_bytes(262_144), "256 KiB");
        assert_eq!(human_bytes(1_572_864), "1.5 MiB");
    }
}
