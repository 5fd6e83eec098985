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

/// What one start of `target` creates, as [`coldbench_results::StartKind::label`]
/// words (`?` for a target the run does not list).
pub fn start_label(run: &RunFile, target: &str) -> &'static str {
    run.targets
        .iter()
        .find(|t| t.id == target)
        .map_or("?", |t| t.start_path().kind.label())
}

/// The condition of a cold-start section's starts, in words, with what
/// each target's start is made of: one line under every cold-start table.
pub fn start_note(run: &RunFile) -> String {
    let Some(c) = &run.cold_start else {
        return String::new();
    };
    format!(
        "Starts measured {}; `start` says what one start creates — a ratio is like for like only between the same kind (docs/design.md §1, Start paths).\n",
        c.condition_of().describe()
    )
}

/// The cold-start table: one row per workload × target that produced
/// samples, with n and, per phase, the median [95 % CI] and p99; with
/// `details`, followed by the in-target phases and the artifact sizes.
/// Empty without a cold-start section.
pub fn cold_start_table(run: &RunFile, details: bool) -> String {
    let Some(section) = &run.cold_start else {
        return String::new();
    };
    let mut table = Table::new();
    table.load_preset(UTF8_BORDERS_ONLY).set_header(vec![
        "workload",
        "target",
        "start",
        "n",
        "t_ready p50 [95% CI]",
        "t_ready p99",
        "t_first_response p50 [95% CI]",
        "t_first_response p99",
        "t_teardown p50",
        "t_teardown p99",
    ]);
    // A command workload (bring your own) has no ready line: its rows have
    // t_first_response (its whole run) and no t_ready.
    let mut rows: Vec<(&str, &str)> = section
        .results
        .iter()
        .filter(|r| matches!(r.metric, Metric::TReady | Metric::TFirstResponse))
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
            Cell::new(start_label(run, t)),
            Cell::new(ready.or(first).map(|s| s.n).unwrap_or(0))
                .set_alignment(CellAlignment::Right),
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
    let runs = match (section.min_runs, section.budget_per_cell_ns) {
        (Some(min), Some(b)) if min < section.runs => format!(
            "{min}–{} measured starts per case and target (as many as fit in {} per cell)",
            section.runs,
            format_ns(b)
        ),
        _ => format!("{} measured starts per case and target", section.runs),
    };
    let mut out = format!("Cold start ({runs}, after {} warm-up)\n", section.warmup);
    out.push_str(&table.to_string());
    out.push('\n');
    out.push_str(&start_note(run));
    let commands = command_workloads(run);
    if !commands.is_empty() {
        out.push_str(&format!(
            "{}: your own command(s), run to exit: no ready line, so no t_ready; t_first_response is start → end of its stdout (its whole run), t_teardown its reaping.\n",
            commands.join(", ")
        ));
    }
    if !details {
        return out;
    }

    let mut phases: Vec<_> = section
        .results
        .iter()
        .filter(|r| {
            !matches!(
                r.metric,
                Metric::TReady | Metric::TFirstResponse | Metric::TTeardown
            )
        })
        .collect();
    // Timeline order within a row (the enum's declaration order).
    phases.sort_by_key(|r| (rank(&r.workload, &r.target), r.metric));
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
        out.push_str("\nPhases of cold start, in timeline order (prepare is not cold start; for embedded runtimes, t_runner_dispatch … t_ready_return add up to t_ready start by start)\n");
        out.push_str(&t.to_string());
        out.push('\n');
    }
    out.push_str(&transport_table(run));

    out.push_str(&artifact_table(run));
    out
}

/// Columns of the floors table ([`floor_rows`]).
pub const FLOOR_COLUMNS: [&str; 12] = [
    "workload",
    "target",
    "dispatch p50",
    "handoff p50",
    "return p50",
    "transport ÷ pipe round trip",
    "in-process floor p50 [95 % CI] (n)",
    "t_ready p50",
    "2 × floor + 2 × round trip",
    "t_ready within it",
    "in-process floor after 1 ms idle p50 (n)",
    "t_ready within 2 × idle floor + 2 × round trip",
];

/// Per workload × embedded target with runner phases: its transport —
/// the medians of `t_runner_dispatch`, `t_runner_handoff` and
/// `t_ready_return`, their sum ÷ the run's pipe round trip median
/// (`ColdStartSection::pipe_round_trip`) — and, where its runner timed one
/// (`ColdStartSection::in_process_floors`), its `t_ready` median against 2 ×
/// its in-process floor + 2 × the round trip, the bound issue 18 sets, and
/// against the same bound with the floor taken after 1 ms idle (as the
/// round trip is), where that was timed. Cells as [`FLOOR_COLUMNS`]. Empty
/// without the round trip or runner phases.
pub fn floor_rows(run: &RunFile) -> Vec<Vec<String>> {
    let Some((section, rtt)) = run
        .cold_start
        .as_ref()
        .and_then(|c| Some((c, c.pipe_round_trip.as_ref()?)))
    else {
        return Vec::new();
    };
    let mut rows = Vec::new();
    for r in run.cold_start_results() {
        if r.metric != Metric::TRunnerDispatch {
            continue;
        }
        let p50 = |m| {
            run.result(&r.workload, &r.target, m)
                .map(|x| x.summary.p50_ns)
        };
        let d = r.summary.p50_ns;
        let Some(ret) = p50(Metric::TReadyReturn) else {
            continue;
        };
        let h = p50(Metric::TRunnerHandoff);
        let transport = d + h.unwrap_or(0) + ret;
        let floor = section
            .in_process_floors
            .iter()
            .find(|f| f.target == r.target && f.workload == r.workload);
        let t_ready = p50(Metric::TReady);
        let bound_over = |f: &Summary| 2 * f.p50_ns + 2 * rtt.p50_ns;
        let bound = floor.map(|f| bound_over(&f.summary));
        let idle = floor.and_then(|f| f.idle.as_ref());
        let within = |bound: Option<u64>| match (t_ready, bound) {
            (Some(t), Some(b)) if t <= b => "yes".to_string(),
            (Some(t), Some(b)) => format!("no ({:.2}×)", t as f64 / b.max(1) as f64),
            _ => "—".into(),
        };
        rows.push(vec![
            r.workload.clone(),
            r.target.clone(),
            format_ns(d),
            h.map_or("—".into(), format_ns),
            format_ns(ret),
            format!(
                "{} = {:.1}×",
                format_ns(transport),
                transport as f64 / rtt.p50_ns.max(1) as f64
            ),
            floor.map_or("—".into(), |f| {
                format!("{} (n = {})", median_cell(Some(&f.summary)), f.summary.n)
            }),
            t_ready.map_or("—".into(), format_ns),
            bound.map_or("—".into(), format_ns),
            within(bound),
            idle.map_or("—".into(), |s| {
                format!("{} (n = {})", format_ns(s.p50_ns), s.n)
            }),
            match idle.map(bound_over) {
                Some(b) => format!("{}: {}", format_ns(b), within(Some(b))),
                None => "—".into(),
            },
        ]);
    }
    rows
}

/// The sentence under the floors table: the round trip measured in this run
/// and what each floor timed. Empty without the round trip.
pub fn floor_note(run: &RunFile) -> String {
    let Some(section) = run.cold_start.as_ref() else {
        return String::new();
    };
    let Some(rtt) = section.pipe_round_trip.as_ref() else {
        return String::new();
    };
    let hot = section
        .pipe_round_trip_hot
        .as_ref()
        .map(|h| {
            format!(
                "; back to back, both sides hot: p50 {}",
                format_ns(h.p50_ns)
            )
        })
        .unwrap_or_default();
    let mut note = format!(
        "Floors measured in this run: a pipe round trip with the runner framing to an echo process, after 1 ms idle each, p50 {} [{}–{}] (n = {}){hot}; transport = dispatch + handoff + return (medians).",
        format_ns(rtt.p50_ns),
        format_ns(rtt.p50_ci95_low_ns),
        format_ns(rtt.p50_ci95_high_ns),
        rtt.n
    );
    for f in &section.in_process_floors {
        note.push_str(&format!(" In-process floor of {}: {}.", f.target, f.what));
    }
    if section.in_process_floors.iter().any(|f| f.idle.is_some()) {
        note.push_str(" The idle floor: the same starts, each after the runner slept 1 ms (a start coldbench sends finds the runner idle).");
    }
    note
}

/// [`floor_rows`] as a terminal table with [`floor_note`] above it.
pub fn transport_table(run: &RunFile) -> String {
    let rows = floor_rows(run);
    if rows.is_empty() {
        return String::new();
    }
    let mut t = Table::new();
    t.load_preset(UTF8_BORDERS_ONLY)
        .set_header(FLOOR_COLUMNS.to_vec());
    for r in rows {
        t.add_row(r.into_iter().enumerate().map(|(i, c)| {
            let cell = Cell::new(c);
            if i >= 2 {
                cell.set_alignment(CellAlignment::Right)
            } else {
                cell
            }
        }));
    }
    format!(
        "\nEmbedded runtimes against their floors. {}\n{t}\n",
        floor_note(run)
    )
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

/// The cells of a throughput cell's summary row, as text (each renderer
/// escapes and marks them up): mode, row, target, requests, requests/s with
/// its 95 % interval, p50, p99, slowdown against native with its interval.
pub fn throughput_row(c: &coldbench_results::ThroughputResult) -> [String; 8] {
    [
        c.mode.name().to_string(),
        c.row.clone(),
        c.target.clone(),
        c.requests.to_string(),
        format!(
            "{:.1} [{:.1}–{:.1}]",
            c.rps, c.rps_ci95_low, c.rps_ci95_high
        ),
        format_ns(c.latency.p50_ns),
        format_ns(c.latency.p99_ns),
        ratio_cell(c.slowdown_vs_native.as_ref()),
    ]
}

/// The throughput table: per row × target × mode, requests/s with its 95 %
/// interval, latency percentiles and the slowdown against native; then the
/// harness overhead (reused `noop` round trip vs the reused `hash-iterated`
/// request on the same target). Empty without a throughput section.
pub fn throughput_table(run: &RunFile) -> String {
    let Some(section) = &run.throughput else {
        return String::new();
    };
    let mut rows: Vec<&coldbench_results::ThroughputResult> = section.cells.iter().collect();
    let target_rank = |t: &str| {
        run.targets
            .iter()
            .position(|x| x.id == t)
            .unwrap_or(usize::MAX)
    };
    let row_rank = |r: &coldbench_results::ThroughputResult| {
        let w = run
            .config
            .workloads
            .iter()
            .position(|x| *x == r.workload)
            .unwrap_or(usize::MAX);
        (w, r.row.clone())
    };
    rows.sort_by_key(|r| (r.mode, row_rank(r), target_rank(&r.target)));
    let mut table = Table::new();
    table.load_preset(UTF8_BORDERS_ONLY).set_header(vec![
        "mode",
        "row",
        "target",
        "n",
        "req/s [95% CI]",
        "p50",
        "p90",
        "p99",
        "p99.9",
        "max",
        "slowdown vs native [95% CI]",
    ]);
    for r in &rows {
        let l = &r.latency;
        table.add_row(vec![
            Cell::new(r.mode.name()),
            Cell::new(&r.row),
            Cell::new(&r.target),
            Cell::new(r.requests).set_alignment(CellAlignment::Right),
            Cell::new(format!(
                "{} [{}–{}]",
                rate(r.rps),
                rate(r.rps_ci95_low),
                rate(r.rps_ci95_high)
            ))
            .set_alignment(CellAlignment::Right),
            Cell::new(format_ns(l.p50_ns)).set_alignment(CellAlignment::Right),
            Cell::new(format_ns(l.p90_ns)).set_alignment(CellAlignment::Right),
            Cell::new(format_ns(l.p99_ns)).set_alignment(CellAlignment::Right),
            Cell::new(format_ns(l.p999_ns)).set_alignment(CellAlignment::Right),
            Cell::new(format_ns(l.max_ns)).set_alignment(CellAlignment::Right),
            Cell::new(ratio_cell(r.slowdown_vs_native.as_ref()))
                .set_alignment(CellAlignment::Right),
        ]);
    }
    let mut out = String::new();
    {
        let c = &section.config;
        out.push_str(&format!(
            "Throughput (closed loop, {} clients, window ≥ {} and ≥ {} verified requests per cell, ≤ {}; {} warm-up requests per client; latency: reused = request → response, instance_per_request = start → verified response)\n",
            c.clients,
            format_ns(c.duration_ns),
            c.min_requests,
            format_ns(c.max_cell_ns),
            c.warmup_requests
        ));
    }
    out.push_str(&table.to_string());
    out.push('\n');

    // Harness overhead: the reused noop round trip against the reused
    // iterated-hash request on the same target.
    let find = |row: &str, t: &str| {
        section.cells.iter().find(|r| {
            r.row == row && r.target == t && r.mode == coldbench_results::ThroughputMode::Reused
        })
    };
    let mut t = Table::new();
    t.load_preset(UTF8_BORDERS_ONLY).set_header(vec![
        "target",
        "noop round trip p50",
        "hash-iterated request p50",
        "overhead share",
    ]);
    let mut any = false;
    let mut targets: Vec<&str> = section.cells.iter().map(|r| r.target.as_str()).collect();
    targets.sort_by_key(|t| target_rank(t));
    targets.dedup();
    for target in targets {
        if let (Some(n), Some(h)) = (find("noop", target), find("hash-iterated", target)) {
            any = true;
            t.add_row(vec![
                Cell::new(target),
                Cell::new(format_ns(n.latency.p50_ns)).set_alignment(CellAlignment::Right),
                Cell::new(format_ns(h.latency.p50_ns)).set_alignment(CellAlignment::Right),
                Cell::new(format!(
                    "{:.2} %",
                    100.0 * n.latency.p50_ns as f64 / h.latency.p50_ns.max(1) as f64
                ))
                .set_alignment(CellAlignment::Right),
            ]);
        }
    }
    if any {
        out.push_str("\nHarness overhead per reused-instance request (noop round trip: harness + transport + runtime call; share of the hash-iterated request)\n");
        out.push_str(&t.to_string());
        out.push('\n');
    }
    out.push_str(&format!(
        "Empty timing loop (two clock reads): {} ns\n",
        section.config.timer_overhead_ns
    ));
    out
}

fn signed_bytes(b: f64) -> String {
    if b < 0.0 {
        format!("−{}", format_bytes((-b) as u64))
    } else {
        format_bytes(b as u64)
    }
}

/// Bytes per instance of `source` in series `s`, signed (`−` when memory
/// was freed), or `—` when the series has no such figure.
pub fn per_instance(
    s: &coldbench_results::DensitySeries,
    source: coldbench_results::MemorySource,
) -> String {
    per_instance_or(s, |f| f == source, "—")
}

/// The per-instance figure of the first source `wanted` accepts, or `missing`.
fn per_instance_or(
    s: &coldbench_results::DensitySeries,
    wanted: impl Fn(coldbench_results::MemorySource) -> bool,
    missing: &str,
) -> String {
    s.bytes_per_instance
        .iter()
        .find(|f| wanted(f.source))
        .map(|f| signed_bytes(f.bytes_per_instance))
        .unwrap_or_else(|| missing.into())
}

/// The cells of a density summary row, as text (each renderer escapes and
/// marks them up), headed by [`DENSITY_COLUMNS`]: workload, target, N, stop
/// reason, per instance PSS, host, cgroup and engine-reported bytes (with
/// its source), the `t_ready` median with its 95 % interval, the time to
/// reach N (sampling excluded), projected instances per host.
pub fn density_row(
    s: &coldbench_results::DensitySeries,
    config: &coldbench_results::DensityConfig,
) -> [String; 11] {
    use coldbench_results::MemorySource;
    let engine = s
        .bytes_per_instance
        .iter()
        .find(|f| f.kind == MemoryKind::EngineReported)
        .map(|f| format!("{} ({})", signed_bytes(f.bytes_per_instance), f.source))
        .unwrap_or_else(|| "—".into());
    [
        s.workload.clone(),
        s.target.clone(),
        s.instances.to_string(),
        s.stop_reason.name().to_string(),
        per_instance(s, MemorySource::Pss),
        per_instance(s, MemorySource::HostMemAvailable),
        per_instance(s, MemorySource::Cgroup),
        engine,
        median_cell((s.t_ready.n > 0).then_some(&s.t_ready)),
        s.samples
            .last()
            .map(|x| format_ns(x.t_reach_ns))
            .unwrap_or_else(|| "—".into()),
        projected(s, config).unwrap_or_else(|| "—".into()),
    ]
}

/// Instances per host of `s` on the run's projection host, by the one
/// per-instance rule the ledger and the sizing sheet share
/// ([`coldbench_results::DensitySeries::instances_per_host`]), with the
/// host memory: `183431 (23.4 GiB)`.
pub fn projected(
    s: &coldbench_results::DensitySeries,
    config: &coldbench_results::DensityConfig,
) -> Option<String> {
    let n = s.instances_per_host(
        config.projection_host_memory_bytes,
        config.memory_floor_fraction,
    )?;
    Some(format!(
        "{n} ({})",
        format_bytes(config.projection_host_memory_bytes)
    ))
}

fn figure_cell(s: &coldbench_results::DensitySeries, source: &str) -> String {
    per_instance_or(s, |f| f.name() == source, "–")
}

/// The density tables: one row per series (memory per instance from each
/// source at the largest N, start time, stop reason, projection); with
/// `curves`, then the curve of every series step by step. Empty without a
/// density section.
pub fn density_table(run: &RunFile, curves: bool) -> String {
    let Some(section) = &run.density else {
        return String::new();
    };
    let mut out = String::new();
    {
        let c = &section.config;
        out.push_str(&format!(
            "Density (instances started one at a time, each idle after one verified request; up to {} instances; floor: MemAvailable ≥ {:.0} % of memory = {}; time limit {} per series)\n",
            c.max_instances,
            c.memory_floor_fraction * 100.0,
            format_bytes(c.memory_floor_bytes),
            format_ns(c.series_time_limit_ns),
        ));
    }
    out.push_str(
        "Per instance at the largest N: host = MemAvailable drop ÷ N; PSS/USS = the instances' own processes (containers: + containerd shim; embedded: runner growth); cgroup = container memory cgroups; engine = docker stats (containers) or linear memory (Wasm, virtual).\n",
    );
    let mut table = Table::new();
    table.load_preset(UTF8_BORDERS_ONLY).set_header(vec![
        "workload",
        "target",
        "N",
        "stopped",
        "host/inst",
        "PSS/inst",
        "USS/inst",
        "cgroup/inst",
        "engine/inst",
        "t_ready p50 [95% CI]",
        "t_ready N-th",
        "time to N",
        "projected per host",
    ]);
    for s in &section.series {
        let last = s.samples.last();
        let engine = s
            .bytes_per_instance
            .iter()
            .find(|f| f.kind == MemoryKind::EngineReported)
            .map(|f| format!("{} ({})", signed_bytes(f.bytes_per_instance), f.source))
            .unwrap_or_else(|| "–".into());
        table.add_row(vec![
            Cell::new(&s.workload),
            Cell::new(&s.target),
            Cell::new(s.instances).set_alignment(CellAlignment::Right),
            Cell::new(s.stop_reason.name()),
            Cell::new(figure_cell(s, "host_mem_available")).set_alignment(CellAlignment::Right),
            Cell::new(figure_cell(s, "pss")).set_alignment(CellAlignment::Right),
            Cell::new(figure_cell(s, "uss")).set_alignment(CellAlignment::Right),
            Cell::new(figure_cell(s, "cgroup")).set_alignment(CellAlignment::Right),
            Cell::new(engine).set_alignment(CellAlignment::Right),
            Cell::new(median_cell(Some(&s.t_ready))).set_alignment(CellAlignment::Right),
            Cell::new(
                last.map(|l| format_ns(l.t_ready_last_ns))
                    .unwrap_or_default(),
            )
            .set_alignment(CellAlignment::Right),
            Cell::new(last.map(|l| format_ns(l.t_reach_ns)).unwrap_or_default())
                .set_alignment(CellAlignment::Right),
            Cell::new(projected(s, &section.config).unwrap_or_else(|| "–".into()))
                .set_alignment(CellAlignment::Right),
        ]);
    }
    out.push_str(&table.to_string());
    out.push('\n');
    if !curves {
        out.push_str(&projection_note(&section.config));
        return out;
    }

    let mut curve = Table::new();
    curve.load_preset(UTF8_BORDERS_ONLY).set_header(vec![
        "workload",
        "target",
        "N",
        "MemAvailable",
        "host/inst",
        "PSS/inst",
        "engine/inst",
        "t_ready p50 since last",
        "time to N",
        "threads",
    ]);
    for s in &section.series {
        for x in &s.samples {
            let per = |v: Option<f64>| {
                v.map(|b| signed_bytes(b / x.instances.max(1) as f64))
                    .unwrap_or_else(|| "–".into())
            };
            curve.add_row(vec![
                Cell::new(&s.workload),
                Cell::new(&s.target),
                Cell::new(x.instances).set_alignment(CellAlignment::Right),
                Cell::new(x.mem_available_bytes.map_or("—".to_string(), format_bytes))
                    .set_alignment(CellAlignment::Right),
                Cell::new(per(x.host_delta_bytes.map(|b| b as f64)))
                    .set_alignment(CellAlignment::Right),
                Cell::new(per(x.pss_bytes.map(|b| b as f64))).set_alignment(CellAlignment::Right),
                Cell::new(per(x.engine_bytes.map(|b| b as f64)))
                    .set_alignment(CellAlignment::Right),
                Cell::new(format_ns(x.t_ready_window_p50_ns)).set_alignment(CellAlignment::Right),
                Cell::new(format_ns(x.t_reach_ns)).set_alignment(CellAlignment::Right),
                Cell::new(x.host_threads.map_or("—".to_string(), |t| t.to_string()))
                    .set_alignment(CellAlignment::Right),
            ]);
        }
    }
    out.push_str("\nCurves (per instance at each step):\n");
    out.push_str(&curve.to_string());
    out.push('\n');
    for s in &section.series {
        out.push_str(&format!(
            "{} / {}: stopped at {} instances: {} — {}\n",
            s.workload, s.target, s.instances, s.stop_reason, s.stop_detail
        ));
    }
    out.push_str(&projection_note(&section.config));
    out
}

/// What the projected column assumes: the one per-instance rule, the
/// floor, memory as the only limit (the sizing sheet names the others).
pub fn projection_note(config: &coldbench_results::DensityConfig) -> String {
    format!(
        "Projection: {} of memory × {:.0} % (the run's floor kept free) ÷ memory per instance, the larger of the host MemAvailable drop and PSS at the series' largest N — the rule the claims ledger and the sizing sheet use; memory is the only limit here (the sizing sheet names the others).\n",
        format_bytes(config.projection_host_memory_bytes),
        (1.0 - config.memory_floor_fraction) * 100.0
    )
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

/// Headers of [`density_row`]'s cells, and which of them are numbers
/// (right-aligned).
pub const DENSITY_COLUMNS: [(&str, bool); 11] = [
    ("workload", false),
    ("target", false),
    ("N", true),
    ("stopped", false),
    ("PSS / instance", true),
    ("host / instance", true),
    ("cgroup / instance", true),
    ("engine-reported / instance", true),
    ("t_ready p50 [95 % CI]", true),
    ("time to N", true),
    ("projected per host", true),
];

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

/// A wall-clock duration for a person: `42 s`, `2 min 05 s` (whole seconds).
pub fn format_duration_s(ns: u64) -> String {
    let s = ns / 1_000_000_000;
    if s < 60 {
        format!("{s} s")
    } else {
        format!("{} min {:02} s", s / 60, s % 60)
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
