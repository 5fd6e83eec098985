//! The terminal tables of a cold-start section: per workload × target the
//! medians of every metric with their intervals, the in-runner phases, the
//! in-process floors and the transport against the pipe round trip.

use super::*;

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
