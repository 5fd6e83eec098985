//! The terminal table of a throughput section: requests/s with its interval,
//! latency percentiles and the slowdown against native per cell.

use super::*;

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
