//! Figures as text: durations, sizes, rates, medians with their intervals and
//! ratios, scaled for reading. Every renderer (terminal, Markdown, HTML, the
//! ledger, compare) formats through these, so one figure reads the same
//! everywhere.

use super::*;

/// Formats a duration given in ns with a unit chosen for reading
/// (`850 ns`, `12.3 µs`, `4.56 ms`, `2.31 s`), 3 significant digits.
pub fn format_ns(ns: u64) -> String {
    let v = ns as f64;
    let (value, unit) = if v < 1e3 {
        (v, "ns")
    } else if v < 1e6 {
        (v / 1e3, "µs")
    } else if v < 1e9 {
        (v / 1e6, "ms")
    } else {
        (v / 1e9, "s")
    };
    if unit == "ns" {
        format!("{ns} ns")
    } else if value >= 100.0 {
        format!("{value:.0} {unit}")
    } else if value >= 10.0 {
        format!("{value:.1} {unit}")
    } else {
        format!("{value:.2} {unit}")
    }
}

/// Formats a byte count in binary units (`512 B`, `1.5 KiB`, `4.2 MiB`).
pub fn format_bytes(bytes: u64) -> String {
    let b = bytes as f64;
    if b < 1024.0 {
        format!("{bytes} B")
    } else if b < 1024.0 * 1024.0 {
        format!("{:.1} KiB", b / 1024.0)
    } else if b < 1024.0 * 1024.0 * 1024.0 {
        format!("{:.1} MiB", b / (1024.0 * 1024.0))
    } else {
        format!("{:.2} GiB", b / (1024.0 * 1024.0 * 1024.0))
    }
}

/// `p50 [low–high]` of a summary, `—` without one.
pub(crate) fn median_cell(s: Option<&Summary>) -> String {
    match s {
        Some(s) => format!(
            "{} [{}–{}]",
            format_ns(s.p50_ns),
            format_ns(s.p50_ci95_low_ns),
            format_ns(s.p50_ci95_high_ns)
        ),
        None => "—".into(),
    }
}

pub(super) fn p99_cell(s: Option<&Summary>) -> String {
    s.map(|s| format_ns(s.p99_ns)).unwrap_or_else(|| "—".into())
}

pub(crate) fn rate(v: f64) -> String {
    if v >= 100.0 {
        format!("{v:.0}")
    } else if v >= 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}

/// `ratio× [low–high]` (`∞` for an unbounded upper end), `—` without one.
pub(crate) fn ratio_cell(r: Option<&coldbench_results::Ratio>) -> String {
    match r {
        Some(r) => {
            let hi = if r.ci95_high >= 1e300 {
                "∞".to_string()
            } else {
                format!("{:.2}", r.ci95_high)
            };
            format!("{:.2}× [{:.2}–{hi}]", r.ratio, r.ci95_low)
        }
        None => "—".into(),
    }
}

pub(super) fn signed_bytes(b: f64) -> String {
    if b < 0.0 {
        format!("−{}", format_bytes((-b) as u64))
    } else {
        format_bytes(b as u64)
    }
}

pub(super) fn figure_cell(s: &coldbench_results::DensitySeries, source: &str) -> String {
    per_instance_or(s, |f| f.name() == source, "–")
}

/// A wall-clock duration for a person: `42 s`, `2 min 05 s` (whole seconds).
pub fn format_duration_s(ns: u64) -> String {
    let s = ns / 1_000_000_000;
    if s < 60 {
        format!("{s} s")
    } else {
        format!("{} min {:02} s", s / 60, s % 60)
    }
}
