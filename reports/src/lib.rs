//! Renders coldbench results files — and only results files — for people:
//! terminal tables (this module), Markdown ([`markdown`]), a self-contained
//! HTML page with SVG charts ([`html`], charts in [`plot`]) and the claims
//! ledger ([`claims`]: published claims checked against the runs' intervals).
//!
//! Nothing here sees a runtime or a live measurement: every table is computed
//! from a [`RunFile`] read back from `run.json`, so a report can always be
//! reproduced from the file it cites.

#![deny(missing_docs)]

pub mod claims;
pub mod compare;
pub mod export;
pub mod html;
pub mod markdown;
pub mod plot;
pub mod sizing;
pub mod summary;

use coldbench_results::{MemoryKind, Metric, RunFile, Summary};
use comfy_table::{Cell, CellAlignment, Table, presets::UTF8_BORDERS_ONLY};

mod coldstart_table;
mod density_table;
mod format;
mod throughput_table;

pub use coldstart_table::*;
pub use density_table::*;
pub use format::*;
pub use throughput_table::*;

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
                Cell::new(a.kind.name()),
                Cell::new(format_bytes(a.bytes)).set_alignment(CellAlignment::Right),
            ]);
        }
    }
    if !any {
        return String::new();
    }
    format!("\nArtifact sizes\n{t}\n")
}

/// The command workloads (`--workload NAME=PATH.wasm`) of `run`: the
/// workloads of its cases recorded with `mode=command`.
pub fn command_workloads(run: &RunFile) -> Vec<&str> {
    let mut v: Vec<&str> = run
        .cases
        .iter()
        .filter(|c| c.params.get("mode").is_some_and(|m| m == "command"))
        .map(|c| c.workload.as_str())
        .collect();
    v.dedup();
    v
}

/// Verification counts, skipped targets, errors and the interrupt note: the
/// end of every report.
pub fn footer(run: &RunFile) -> String {
    let mut out = String::new();
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

/// Every section the file holds with every detail (phases, artifacts,
/// density curves), then the footer: what `coldbench report` and the
/// single-experiment commands print.
pub fn full(run: &RunFile) -> String {
    all_sections(run, true)
}

/// The header, every section the file holds (`details`: phases, artifacts,
/// density curves) and the footer.
fn all_sections(run: &RunFile, details: bool) -> String {
    let mut out = header(run);
    for e in run.experiments() {
        let part = section(run, e, details);
        if !part.is_empty() {
            out.push('\n');
            out.push_str(&part);
        }
    }
    out.push_str(&footer(run));
    out
}

/// The table of one experiment's section (`details`: with phases,
/// artifacts and density curves); empty if the file does not hold it.
pub fn section(run: &RunFile, e: coldbench_results::Experiment, details: bool) -> String {
    use coldbench_results::Experiment;
    match e {
        Experiment::ColdStart => cold_start_table(run, details),
        Experiment::Density => density_table(run, details),
        Experiment::Throughput => throughput_table(run),
    }
}

/// A host in one line, as text (each renderer escapes it):
/// `name: cores × CPU model, memory, kernel K, cgroup C`, then, where the
/// file records it, `, cpuidle D` and the guest halt-polling bound.
pub fn host_line(h: &coldbench_results::HostFingerprint) -> String {
    let mut line = format!(
        "{}: {} × {}, {}, kernel {}, cgroup {}",
        h.hostname,
        h.cpu_logical_cores,
        h.cpu_model,
        format_bytes(h.memory_total_bytes),
        h.kernel,
        h.cgroup_version
    );
    if let Some(idle) = &h.cpu_idle {
        line.push_str(&format!(", {}", cpu_idle_text(idle)));
    }
    line
}

/// `cpuidle D` and, with guest halt polling, `(halt poll N µs)`; "off"
/// for a 0 bound (idle vCPUs halt at once).
pub fn cpu_idle_text(idle: &coldbench_results::CpuIdle) -> String {
    match idle.guest_halt_poll_ns {
        Some(0) => format!("cpuidle {} (halt poll off)", idle.driver),
        Some(ns) => format!("cpuidle {} (halt poll {} µs)", idle.driver, ns / 1000),
        None => format!("cpuidle {}", idle.driver),
    }
}

/// One line naming the run: suite (if any), experiments, host, date, and
/// the schema version it was migrated from.
pub fn header(run: &RunFile) -> String {
    let experiments: Vec<&str> = run.experiments().iter().map(|e| e.name()).collect();
    let mut s = format!(
        "{}{} on {} ({} × {}, {}), started {}, {}",
        run.suite
            .as_ref()
            .map(|s| format!("Suite `{}`: ", s.name))
            .unwrap_or_default(),
        if experiments.is_empty() {
            "no experiment".to_string()
        } else {
            experiments.join(" + ")
        },
        run.host.hostname,
        run.host.cpu_logical_cores,
        run.host.cpu_model,
        format_bytes(run.host.memory_total_bytes),
        run.started_utc,
        format_duration_s(run.duration_ns),
    );
    if let Some(v) = run.migrated_from {
        s.push_str(&format!(" (read from a schema-version-{v} file)"));
    }
    if let Some(why) = incomplete(run) {
        s.push_str(" — ");
        s.push_str(&why);
    }
    s.push('\n');
    s
}

/// Why `run` is not a whole run, in one line for every format (terminal,
/// Markdown, HTML): never finalised (`in_progress`: still running, or its
/// harness was killed — with what was replayed from its journal, as
/// [`RunFile::read_run`] notes it), or interrupted; `None` for a whole run.
pub fn incomplete(run: &RunFile) -> Option<String> {
    if run.in_progress {
        // RunFile::read_run says in a note what it replayed from the journal.
        let what = run
            .notes
            .iter()
            .find(|n| n.starts_with(coldbench_results::journal::REPLAY_NOTE))
            .map_or("the figures are those of its last checkpoint", |n| {
                n.as_str()
            });
        Some(format!(
            "INCOMPLETE: never finalised (still running, or its harness was killed); {what}"
        ))
    } else if run.interrupted {
        Some("interrupted (Ctrl-C): partial".to_string())
    } else {
        None
    }
}

/// The claims ledger for a terminal: one line per claim whose verdict the
/// runs decide (`all`: every claim, with the command for those not measured).
pub fn ledger_table(verdicts: &[claims::Verdict], all: bool) -> String {
    use claims::VerdictKind;
    let mut t = Table::new();
    t.load_preset(UTF8_BORDERS_ONLY)
        .set_content_arrangement(comfy_table::ContentArrangement::Dynamic)
        .set_width(160)
        .set_header(vec!["claim", "bound", "measured here", "verdict"]);
    let mut any = false;
    for v in verdicts {
        let decided = !matches!(
            v.kind,
            VerdictKind::NotMeasured | VerdictKind::NotComparable
        );
        if !(all || decided) {
            continue;
        }
        any = true;
        let mut measured: Vec<String> = v.figures.iter().take(4).map(|f| f.line(v.unit)).collect();
        if v.figures.len() > 4 {
            measured.push(format!("… {} more", v.figures.len() - 4));
        }
        t.add_row(vec![
            Cell::new(&v.claim.id),
            Cell::new(v.bound.clone().unwrap_or_else(|| "—".into())),
            Cell::new(measured.join("\n")),
            Cell::new(format!("{}\n{}", v.word(), v.detail)),
        ]);
    }
    if !any {
        return String::new();
    }
    format!("\nClaims ledger (verdicts from 95 % intervals; reports/claims.toml)\n{t}\n")
}

/// Why `runs` should not be merged into one report: they come from
/// different hosts (host name, CPU model or logical cores differ, or total
/// memory by more than [`SAME_HOST_MEMORY_TOLERANCE`]: one guest's kernels
/// report its memory a few KiB apart). The message names both hosts by
/// what tells them apart.
pub fn mixed_hosts(runs: &[&RunFile]) -> Option<String> {
    let first = &runs.first()?.host;
    let same = |a: &coldbench_results::HostFingerprint, b: &coldbench_results::HostFingerprint| {
        let (lo, hi) = (
            a.memory_total_bytes.min(b.memory_total_bytes),
            a.memory_total_bytes.max(b.memory_total_bytes),
        );
        a.hostname == b.hostname
            && a.cpu_model == b.cpu_model
            && a.cpu_logical_cores == b.cpu_logical_cores
            && (hi - lo) as f64 <= hi as f64 * SAME_HOST_MEMORY_TOLERANCE
    };
    let describe = |h: &coldbench_results::HostFingerprint| {
        format!(
            "{} ({} × {}, {} of memory, kernel {})",
            h.hostname,
            h.cpu_logical_cores,
            h.cpu_model,
            format_bytes(h.memory_total_bytes),
            h.kernel
        )
    };
    runs.iter().skip(1).find_map(|r| {
        (!same(&r.host, first)).then(|| {
            format!(
                "runs from different hosts: {} and {}",
                describe(first),
                describe(&r.host)
            )
        })
    })
}

/// Largest difference in total memory, as a share of the larger, between
/// runs [`mixed_hosts`] counts as one host (1 %).
pub const SAME_HOST_MEMORY_TOLERANCE: f64 = 0.01;

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
