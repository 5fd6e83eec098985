//! Renders coldbench results files — and only results files — for people.
//!
//! Nothing here sees a runtime or a live measurement: every table is computed
//! from a [`RunFile`] read back from `run.json`, so a report can always be
//! reproduced from the file it cites.

#![deny(missing_docs)]

use coldbench_results::{Metric, RunFile, Summary};
use comfy_table::{Cell, CellAlignment, Table, presets::UTF8_BORDERS_ONLY};

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

fn median_cell(s: Option<&Summary>) -> String {
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

fn p99_cell(s: Option<&Summary>) -> String {
    s.map(|s| format_ns(s.p99_ns)).unwrap_or_else(|| "—".into())
}

/// Artifact sizes per target and workload (what a deployment ships: `.wasm`,
/// precompiled module, static binary, image), from the targets that ran.
pub fn artifact_table(run: &RunFile) -> String {
    let mut t = Table::new();
    t.load_preset(UTF8_BORDERS_ONLY)
        .set_header(vec!["target", "workload", "artifact", "size"]);
    let mut any = false;
    for target in run.targets.iter().filter(|t| t.available) {
        for a in &target.artifacts {
            any = true;
            t.add_row(vec![
                Cell::new(&target.id),
                Cell::new(&a.workload),
                Cell::new(&a.kind),
                Cell::new(format_bytes(a.bytes)).set_alignment(CellAlignment::Right),
            ]);
        }
    }
    if !any {
        return String::new();
    }
    format!("\nArtifact sizes\n{t}\n")
}

/// The cold-start table: one row per workload × target that produced samples,
/// with n and, per phase, the median [95 % CI] and p99. Followed by the
/// verification counts, skipped targets and errors.
pub fn cold_start_table(run: &RunFile) -> String {
    let mut table = Table::new();
    table.load_preset(UTF8_BORDERS_ONLY).set_header(vec![
        "workload",
        "target",
        "n",
        "t_ready p50 [95% CI]",
        "t_ready p99",
        "t_first_response p50 [95% CI]",
        "t_first_response p99",
        "t_teardown p50",
        "t_teardown p99",
    ]);
    let mut rows: Vec<(&str, &str)> = run
        .results
        .iter()
        .filter(|r| r.metric == Metric::TReady)
        .map(|r| (r.workload.as_str(), r.target.as_str()))
        .collect();
    // Workloads in configured order, targets in the order the run lists them.
    let rank = |w: &str, t: &str| -> (usize, usize) {
        (
            run.config
                .workloads
                .iter()
                .position(|x| x == w)
                .unwrap_or(usize::MAX),
            run.targets
                .iter()
                .position(|x| x.id == t)
                .unwrap_or(usize::MAX),
        )
    };
    rows.sort_by_key(|(w, t)| (rank(w, t), w.to_string(), t.to_string()));
    rows.dedup();
    for (w, t) in rows {
        let get = |m| run.result(w, t, m).map(|r| &r.summary);
        let ready = get(Metric::TReady);
        let first = get(Metric::TFirstResponse);
        let down = get(Metric::TTeardown);
        table.add_row(vec![
            Cell::new(w),
            Cell::new(t),
            Cell::new(ready.map(|s| s.n).unwrap_or(0)).set_alignment(CellAlignment::Right),
            Cell::new(median_cell(ready)).set_alignment(CellAlignment::Right),
            Cell::new(p99_cell(ready)).set_alignment(CellAlignment::Right),
            Cell::new(median_cell(first)).set_alignment(CellAlignment::Right),
            Cell::new(p99_cell(first)).set_alignment(CellAlignment::Right),
            Cell::new(
                down.map(|s| format_ns(s.p50_ns))
                    .unwrap_or_else(|| "—".into()),
            )
            .set_alignment(CellAlignment::Right),
            Cell::new(p99_cell(down)).set_alignment(CellAlignment::Right),
        ]);
    }
    let mut out = format!(
        "Cold start ({} measured starts per case and target after {} warm-up)\n",
        run.config.runs, run.config.warmup
    );
    out.push_str(&table.to_string());
    out.push('\n');

    let mut phases: Vec<_> = run
        .results
        .iter()
        .filter(|r| {
            matches!(
                r.metric,
                Metric::TRunnerModule
                    | Metric::TRunnerInstantiate
                    | Metric::TRuntimeBoot
                    | Metric::Prepare
            )
        })
        .collect();
    phases.sort_by_key(|r| (rank(&r.workload, &r.target), r.metric.name()));
    if !phases.is_empty() {
        let mut t = Table::new();
        t.load_preset(UTF8_BORDERS_ONLY)
            .set_header(vec!["workload", "target", "phase", "n", "p50", "p99"]);
        for r in phases {
            t.add_row(vec![
                Cell::new(&r.workload),
                Cell::new(&r.target),
                Cell::new(r.metric.name()),
                Cell::new(r.summary.n).set_alignment(CellAlignment::Right),
                Cell::new(format_ns(r.summary.p50_ns)).set_alignment(CellAlignment::Right),
                Cell::new(format_ns(r.summary.p99_ns)).set_alignment(CellAlignment::Right),
            ]);
        }
        out.push_str("\nPhases inside targets (prepare is not cold start)\n");
        out.push_str(&t.to_string());
        out.push('\n');
    }

    out.push_str(&artifact_table(run));

    let verified: u64 = run.verification.iter().map(|v| v.verified).sum();
    let mismatched: u64 = run.verification.iter().map(|v| v.mismatched).sum();
    out.push_str(&format!(
        "\nVerification: {verified} responses matched native, {mismatched} mismatched.\n"
    ));
    for t in run.targets.iter().filter(|t| !t.available) {
        out.push_str(&format!(
            "Skipped {}: {}\n",
            t.id,
            t.unavailable_reason.as_deref().unwrap_or("unavailable")
        ));
    }
    if !run.errors.is_empty() {
        out.push_str(&format!("\n{} error(s):\n", run.errors.len()));
        for e in run.errors.iter().take(30) {
            let who = [
                e.workload.as_deref(),
                e.case.as_deref(),
                e.target.as_deref(),
            ]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" / ");
            out.push_str(&format!(
                "  [{} {}] {}: {}\n",
                e.phase, e.kind, who, e.message
            ));
        }
        if run.errors.len() > 30 {
            out.push_str(&format!("  … {} more in run.json\n", run.errors.len() - 30));
        }
    }
    if run.interrupted {
        out.push_str(
            "\nThe run was interrupted: the figures above cover what was measured until then.\n",
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_are_scaled() {
        assert_eq!(format_ns(850), "850 ns");
        assert_eq!(format_ns(12_345), "12.3 µs");
        assert_eq!(format_ns(4_560_000), "4.56 ms");
        assert_eq!(format_ns(2_310_000_000), "2.31 s");
        assert_eq!(format_ns(123_400_000), "123 ms");
    }

    #[test]
    fn bytes_are_binary_units() {
        assert_eq!(format_bytes(512), "512 B");
        assert_eq!(format_bytes(1536), "1.5 KiB");
        assert_eq!(format_bytes(5 * 1024 * 1024), "5.0 MiB");
    }
}
