//! Throughput under closed-loop load (docs/design.md §5): C concurrent clients,
//! each sending its next request only after the previous verified response,
//! cycling through a row's real inputs, in two modes:
//!
//! - `reused`: each client starts one long-lived instance (not timed) and
//!   sends every request to it; latency = request written → response read;
//! - `instance_per_request`: each client starts a fresh instance per request
//!   and tears it down before the next (as function platforms do); latency =
//!   start call → verified response, and the client's cycle includes teardown.
//!
//! Every response is checked against native's checksum; a mismatch or a
//! failure never counts as a request. Requests/s carries a 95 % interval from
//! batch means (the window cut into equal slices, Student t), and the slowdown
//! ratio against `native` is computed from cells of the same run and mode.
//! Closed-loop load cannot suffer coordinated omission (no request is ever
//! scheduled while another from the same client is outstanding), so latencies
//! are recorded as measured.

use crate::cases::Case;
#[cfg(doc)]
use crate::cases::HASH_HEAVY_ITERATIONS;
use crate::collector::Subject;
use crate::failure::{FailureKind, Phase, StartFailure};
use crate::session::Session;
use crate::steps::{exchange, one_start, start_ready, wait_until_startable};
use crate::targets::{Instance, Target};
use coldbench_protocol::monotonic_ns;
use coldbench_results::journal::JournalEntry;
use coldbench_results::{
    Experiment, LatencyHistogram, Ratio, ThroughputConfig, ThroughputMode, ThroughputResult,
    ThroughputSection, ThroughputStop, stats,
};
use rand::SeedableRng;
use rand::seq::SliceRandom;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Barrier, Mutex};
use std::time::{Duration, Instant};
mod client;
use client::*;

/// A row of the throughput table: a workload and the cases its clients cycle through.
#[derive(Debug, Clone)]
pub struct Row {
    /// Row name (`thumbnail`, `hash`, `hash-iterated`).
    pub name: String,
    /// Workload name.
    pub workload: String,
    /// Indices into the case list, in cycling order.
    pub cases: Vec<usize>,
    /// A command workload's row: one request per instance, so no `reused` mode.
    pub command: bool,
}

/// The rows for `cases`: one per workload over its cases, except that the
/// iterated `hash` case (CPU-heavy, `iterations` above 1: by default
/// [`HASH_HEAVY_ITERATIONS`]) is its own row `hash-iterated`, the one that
/// answers the "13× slower" claim.
/// Cases native could not run (`expected[i]` is `None`) are left out.
pub fn rows(cases: &[Case], expected: &[Option<u32>]) -> Vec<Row> {
    let mut out: Vec<Row> = Vec::new();
    for (i, c) in cases.iter().enumerate() {
        if expected.get(i).copied().flatten().is_none() {
            continue;
        }
        let iterated =
            c.workload == "hash" && c.request.param("iterations").is_some_and(|n| n != "1");
        let name = if iterated {
            "hash-iterated".to_string()
        } else {
            c.workload.clone()
        };
        match out.iter_mut().find(|r| r.name == name) {
            Some(r) => r.cases.push(i),
            None => out.push(Row {
                name,
                workload: c.workload.clone(),
                cases: vec![i],
                command: c.command,
            }),
        }
    }
    out
}

/// Bounds and sizes of every cell.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Minimum measurement window.
    pub duration: Duration,
    /// Minimum verified requests in the window (the window is extended).
    pub min_requests: u64,
    /// Hard bound on the window.
    pub max_cell: Duration,
    /// Requests per client run and discarded before the window opens.
    pub warmup_requests: u32,
    /// Slices of the window for the requests/s interval.
    pub batches: u32,
    /// Bound on every wait for an instance.
    pub timeout: Duration,
}

/// What one cell measured, before it becomes a [`ThroughputResult`].
pub struct Cell {
    /// Requests that failed in this cell.
    pub failed: u64,
    /// Responses whose checksum differed from native's.
    pub mismatched: u64,
    /// Failures, each with the case it concerns, at most 20 kept.
    pub failures: Vec<(String, StartFailure)>,
    /// Responses verified against native (warm-ups and out-of-window included).
    pub verified: u64,
}

/// Measures one cell: `targets` holds one prepared target of the same variant
/// per client. Returns `None` as the result when no verified request finished
/// inside the window (the failures then say why).
#[allow(clippy::too_many_arguments)]
pub fn measure_cell(
    targets: &mut [Box<dyn Target>],
    target_id: &str,
    row: &Row,
    cases: &[Case],
    expected: &[Option<u32>],
    mode: ThroughputMode,
    s: &Settings,
    interrupted: &AtomicBool,
) -> (Option<ThroughputResult>, Cell) {
    let clients = targets.len();
    let clock = Clock {
        open_ns: AtomicU64::new(0),
        close_ns: AtomicU64::new(u64::MAX),
        in_window: AtomicU64::new(0),
        clients_alive: AtomicU64::new(clients as u64),
    };
    // Warm-up barrier, then the window opens, then a second barrier releases
    // the clients: no in-window request starts before `open_ns`.
    let warmed = Barrier::new(clients + 1);
    let go = Barrier::new(clients + 1);
    let shared = Mutex::new(Shared::default());
    let mut stop_reason = ThroughputStop::Duration;
    let (open_ns, close_ns) = std::thread::scope(|sc| {
        for (i, t) in targets.iter_mut().enumerate() {
            let (clock, warmed, go, shared) = (&clock, &warmed, &go, &shared);
            sc.spawn(move || {
                client(
                    t.as_mut(),
                    row,
                    cases,
                    expected,
                    mode,
                    i,
                    s,
                    clock,
                    (warmed, go),
                    shared,
                )
            });
        }
        warmed.wait();
        let open = monotonic_ns();
        clock.open_ns.store(open, Ordering::SeqCst);
        go.wait();
        let opened = Instant::now();
        loop {
            std::thread::sleep(Duration::from_millis(5));
            let elapsed = opened.elapsed();
            if interrupted.load(Ordering::SeqCst) {
                stop_reason = ThroughputStop::Interrupted;
                break;
            }
            if clock.clients_alive.load(Ordering::SeqCst) == 0 {
                stop_reason = ThroughputStop::ClientsFailed;
                break;
            }
            if elapsed >= s.duration && clock.in_window.load(Ordering::SeqCst) >= s.min_requests {
                stop_reason = ThroughputStop::Duration;
                break;
            }
            if elapsed >= s.max_cell {
                stop_reason = ThroughputStop::MaxCell;
                break;
            }
        }
        let close = monotonic_ns();
        clock.close_ns.store(close, Ordering::SeqCst);
        (open, close)
        // Leaving the scope joins the clients: each finishes its current
        // request (bounded by the timeout) and tears its instance down.
    });
    let sh = shared.into_inner().unwrap_or_else(|p| p.into_inner());
    // A request checked just before the window closed may have finished after.
    let (latency, completions) = sh.completions.finish(open_ns, close_ns);
    let requests: u64 = completions.iter().map(|(_, c)| c).sum();
    let cell = Cell {
        failures: sh.failures,
        verified: sh.verified,
        failed: sh.failed,
        mismatched: sh.mismatched,
    };
    let Some(summary) = latency.summary() else {
        return (None, cell);
    };
    let (rps, lo, hi) = stats::batch_means_rate(&completions, open_ns, close_ns, s.batches);
    let result = ThroughputResult {
        row: row.name.clone(),
        workload: row.workload.clone(),
        cases: row.cases.iter().map(|&i| cases[i].name.clone()).collect(),
        target: target_id.to_string(),
        mode,
        clients: clients as u32,
        window_ns: close_ns - open_ns,
        requests,
        stop_reason,
        rps,
        rps_ci95_low: lo,
        rps_ci95_high: hi,
        latency: summary,
        latency_histogram_v2_deflate_b64: latency.to_base64(),
        slowdown_vs_native: None,
        failed: cell.failed,
        mismatched: cell.mismatched,
    };
    (Some(result), cell)
}

/// Fills `slowdown_vs_native` of every non-native cell from the native cell of
/// the same row and mode: `native_rps / rps`, interval `[native_low / high,
/// native_high / low]` (conservative: both intervals at their ends; an upper
/// end is `f64::MAX` when the target's lower end is 0).
pub fn fill_slowdown(results: &mut [ThroughputResult]) {
    let natives: Vec<(String, ThroughputMode, f64, f64, f64)> = results
        .iter()
        .filter(|r| r.target == "native")
        .map(|r| {
            (
                r.row.clone(),
                r.mode,
                r.rps,
                r.rps_ci95_low,
                r.rps_ci95_high,
            )
        })
        .collect();
    for r in results.iter_mut().filter(|r| r.target != "native") {
        if let Some((_, _, n, nlo, nhi)) = natives
            .iter()
            .find(|(row, mode, ..)| *row == r.row && *mode == r.mode)
            && r.rps > 0.0
        {
            let (low, ratio, high) = stats::conservative_ratio(
                (*nlo, *n, *nhi),
                (r.rps_ci95_low, r.rps, r.rps_ci95_high),
                f64::MIN_POSITIVE,
            );
            r.slowdown_vs_native = Some(Ratio {
                ratio,
                ci95_low: low,
                ci95_high: if r.rps_ci95_low > 0.0 { high } else { f64::MAX },
            });
        }
    }
}

/// One row × mode to measure on every target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CellPlan {
    /// Row name (`noop`, `hash-iterated`, a workload).
    pub row: String,
    /// How clients use instances.
    pub mode: ThroughputMode,
}

/// Every row of the session's cases × every mode in `modes`: the
/// `throughput` command's plan.
pub fn all_cells(session: &Session, modes: &[ThroughputMode]) -> Vec<CellPlan> {
    let rows = rows(&session.cases, &session.expected);
    modes
        .iter()
        .flat_map(|&mode| {
            rows.iter().map(move |r| CellPlan {
                row: r.name.clone(),
                mode,
            })
        })
        .collect()
}

/// Runs `plan` with `clients` closed-loop clients per cell, each owning its
/// own prepared target (the session's first client plus clients prepared
/// for the rows' workloads). The target order of every cell is shuffled by
/// the seeded RNG. Rows the session's cases do not give are skipped. Stops
/// early (keeping what was measured) on Ctrl-C.
pub fn run(
    session: &mut Session,
    settings: &Settings,
    clients: u32,
    plan: &[CellPlan],
) -> ThroughputSection {
    session.out.set_experiment(Some(Experiment::Throughput));
    let all_rows = rows(&session.cases, &session.expected);
    let (cells, skipped): (Vec<(&Row, ThroughputMode)>, Vec<_>) = plan
        .iter()
        .filter_map(|p| {
            all_rows
                .iter()
                .find(|r| r.name == p.row)
                .map(|r| (r, p.mode))
        })
        .partition(|(r, mode)| !(r.command && *mode == ThroughputMode::Reused));
    for (row, _) in skipped {
        session.note(format!(
            "throughput: {} is a command (it answers one input and exits): no `reused` cell, only instance-per-request",
            row.name
        ));
    }
    let mut workloads: Vec<String> = cells.iter().map(|(r, _)| r.workload.clone()).collect();
    workloads.sort();
    workloads.dedup();
    session.ensure_clients(clients as usize, &workloads);
    let usable: Vec<usize> = (0..session.entries.len())
        .filter(|&i| session.entries[i].clients.len() == clients as usize)
        .collect();
    let timer_overhead_ns = timer_overhead_ns();
    let mut rng = rand::rngs::StdRng::seed_from_u64(session.seed);
    let mut results = Vec::new();
    let total = (cells.len() * usable.len()) as u64;
    session.progress.stage(Experiment::Throughput, total);
    let mut done = 0u64;
    let mut modes: Vec<ThroughputMode> = plan.iter().map(|p| p.mode).collect();
    modes.sort();
    modes.dedup();
    // The section around the cells measured so far (slowdowns are filled
    // in at the end: a checkpoint in between carries none).
    let section = |cells: Vec<ThroughputResult>| ThroughputSection {
        config: ThroughputConfig {
            clients,
            duration_ns: settings.duration.as_nanos() as u64,
            min_requests: settings.min_requests,
            max_cell_ns: settings.max_cell.as_nanos() as u64,
            warmup_requests: settings.warmup_requests,
            batches: settings.batches,
            modes: modes.clone(),
            timer_overhead_ns,
        },
        cells,
    };
    // The section's configuration is on disk before the first cell, so a
    // journal replayed after a kill has a section to put its cells in.
    session.checkpoint_now(|x| x.throughput = Some(section(Vec::new())));
    'cells: for (row, mode) in cells {
        let mut order = usable.clone();
        order.shuffle(&mut rng);
        for ei in order {
            if session.interrupted.load(Ordering::SeqCst) {
                break 'cells;
            }
            done += 1;
            let id = session.entries[ei].id.clone();
            if session.skips(&id, &row.workload) {
                continue;
            }
            session
                .progress
                .working(&format!("{} × {id} ({})", row.name, mode.name()));
            let interrupted = session.interrupted.clone();
            let (result, cell) = measure_cell(
                &mut session.entries[ei].clients,
                &id,
                row,
                &session.cases,
                &session.expected,
                mode,
                settings,
                &interrupted,
            );
            for (case, f) in cell.failures {
                session
                    .out
                    .failure(Subject::of(&row.workload, &id, Some(&case)), f);
            }
            session
                .out
                .add_verified(&row.workload, &id, cell.verified, cell.mismatched);
            match result {
                Some(r) => {
                    session
                        .out
                        .journal(&JournalEntry::ThroughputCell(Box::new(r.clone())));
                    results.push(r)
                }
                None => session.out.error(
                    Subject::of(&row.workload, &id, None),
                    Phase::Throughput,
                    FailureKind::NoRequests,
                    format!(
                        "{} / {id} / {}: no verified request finished inside the window ({} failed)",
                        row.name,
                        mode.name(),
                        cell.failed
                    ),
                ),
            }
            session.progress.advance(done, total);
            session.checkpoint_partial(|x| x.throughput = Some(section(results.clone())));
        }
    }
    session.progress.finish_stage();
    fill_slowdown(&mut results);
    for &ei in &usable {
        let id = session.entries[ei].id.clone();
        session.knob(
            &id,
            "throughput_clients",
            format!("{clients} clients, one target (runner process / container set) each"),
        );
    }
    session.out.set_experiment(None);
    section(results)
}

/// Median cost of reading the harness clock twice back to back, ns (the empty
/// timing loop of docs/design.md §6), over 10,001 pairs.
pub fn timer_overhead_ns() -> u64 {
    let mut v: Vec<u64> = (0..10_001)
        .map(|_| {
            let a = monotonic_ns();
            monotonic_ns() - a
        })
        .collect();
    v.sort_unstable();
    v[v.len() / 2]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batch_means_of_a_steady_rate_have_a_narrow_interval() {
        // 1000 completions evenly over 1 s: 1000 rps, every slice equal.
        let c: Vec<(u64, u64)> = (0..1000).map(|i| (i * 1_000_000 + 500_000, 1)).collect();
        let (rps, lo, hi) = stats::batch_means_rate(&c, 0, 1_000_000_000, 10);
        assert!((rps - 1000.0).abs() < 1e-9);
        assert!((hi - lo) < 1e-6, "{lo}..{hi}");
    }

    #[test]
    fn bursty_completions_widen_the_interval() {
        // Same count, all in the first slice.
        let c: Vec<(u64, u64)> = (0..1000).map(|i| (i * 100_000, 1)).collect();
        let (rps, lo, hi) = stats::batch_means_rate(&c, 0, 1_000_000_000, 10);
        assert!((rps - 1000.0).abs() < 1e-9);
        assert!(lo < 300.0 && hi > 1700.0, "{lo}..{hi}");
    }

    #[test]
    fn folded_completions_give_the_exact_count_and_latencies() {
        // 20,000 completions over 2 s, one every 100 µs, latency = index µs:
        // most are folded into per-ms counts, the newest stay exact; the
        // ones past the close instant are left out.
        let clock = Clock {
            open_ns: AtomicU64::new(1_000),
            close_ns: AtomicU64::new(u64::MAX),
            in_window: AtomicU64::new(0),
            clients_alive: AtomicU64::new(0),
        };
        let mut c = Completions::default();
        for i in 0..20_000u64 {
            c.push(1_000 + i * 100_000, (i + 1) * 1_000, &clock);
        }
        assert!(c.recent.len() < KEEP_RECENT, "{} kept", c.recent.len());
        let close = 1_000 + 19_990 * 100_000;
        let (lat, events) = c.finish(1_000, close);
        let n: u64 = events.iter().map(|(_, k)| k).sum();
        assert_eq!(n, 19_991);
        assert_eq!(lat.summary().unwrap().n, 19_991);
        let (rps, lo, hi) = stats::batch_means_rate(&events, 1_000, close, 10);
        assert!((rps - 10_000.0).abs() < 1.0, "{rps}");
        assert!(hi - lo < 0.02 * rps, "{lo}..{hi}");
    }

    #[test]
    fn a_long_window_keeps_a_bounded_number_of_bins() {
        // One completion per 10 ms for 3 h: 1,080,000 completions, bins
        // coarsened to stay within MAX_BINS, count and rate exact.
        let clock = Clock {
            open_ns: AtomicU64::new(0),
            close_ns: AtomicU64::new(u64::MAX),
            in_window: AtomicU64::new(0),
            clients_alive: AtomicU64::new(0),
        };
        let mut c = Completions::default();
        let n = 3 * 3600 * 100u64;
        for i in 0..n {
            c.push(i * 10_000_000 + 1, 1_000, &clock);
        }
        assert!(c.folded_bins.len() <= MAX_BINS, "{}", c.folded_bins.len());
        let close = n * 10_000_000;
        let (_, events) = c.finish(0, close);
        assert_eq!(events.iter().map(|(_, k)| k).sum::<u64>(), n);
        let (rps, lo, hi) = stats::batch_means_rate(&events, 0, close, 20);
        assert!(
            (rps - 100.0).abs() < 1e-6 && hi - lo < 1.0,
            "{rps} {lo}..{hi}"
        );
    }
}
