//! Cold start (docs/design.md §3): start → ready → first verified response →
//! teardown, over every case and target, warm-ups discarded, the target
//! order of every case and round shuffled by a seeded RNG so that drift hits
//! every target alike.
//!
//! Each case × target cell gets `runs` measured starts, or — with a time
//! budget, as hyperfine's `--min-runs` and time target — `clamp(budget ÷ the
//! cell's first start, min_runs, runs)`: a 4 s JIT start gets `min_runs`, a
//! 300 µs pooled start gets `runs`.

use crate::collector::Subject;
use crate::session::Session;
use crate::steps::{WAITING_POLL, one_start};
use coldbench_protocol::runner::FloorPlan;
use coldbench_results::{
    ColdStartSection, Experiment, InProcessFloor, LatencyHistogram, Metric, StartCondition, Summary,
};
use rand::SeedableRng;
use rand::seq::SliceRandom;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

/// How many starts, in which order, with which bounds.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Largest number of measured starts per case and target.
    pub runs: u32,
    /// Fewest measured starts per case and target (with a budget).
    pub min_runs: u32,
    /// Discarded starts per case and target, run first.
    pub warmup: u32,
    /// Time budget per case × target; `None`: every cell gets `runs`.
    pub budget_per_cell: Option<Duration>,
    /// Which cases run: indices into the session's cases (`None`: all).
    pub cases: Option<Vec<usize>>,
}

impl Settings {
    /// Measured starts for a cell whose first start took `cost`.
    pub fn runs_for(&self, cost: Duration) -> u32 {
        match self.budget_per_cell {
            None => self.runs,
            Some(b) => {
                let fit = (b.as_secs_f64() / cost.as_secs_f64().max(1e-9)).floor();
                (fit.min(f64::from(self.runs)) as u32)
                    .clamp(self.min_runs.min(self.runs), self.runs)
            }
        }
    }
}

/// One case × target: starts done so far and the measured starts it gets.
#[derive(Debug, Clone, Copy)]
struct Cell {
    warm: u32,
    measured: u32,
    /// Measured starts planned; `None` until the first start set it.
    planned: Option<u32>,
}

/// Measures the selected cases on every entry of the session (its first
/// client): warm-ups first, then measured rounds; in each round, for each
/// case, the targets in an order drawn from the seeded RNG. Stops early
/// (keeping what was measured) on Ctrl-C. Pairs in the session's skip list
/// (a workload a target could not prepare) are not started. Returns the
/// section's settings; the distributions stay in the session's collector.
pub fn run(session: &mut Session, s: &Settings) -> ColdStartSection {
    session.out.set_experiment(Some(Experiment::ColdStart));
    let floor = measure_floor(session);
    let floors = measure_in_process_floors(session);
    let condition = StartCondition::for_targets(session.entries.len());
    // The section is on disk before the first start: a journal replayed
    // after a kill (results::journal) fills its distributions.
    session.checkpoint_now(|x| x.cold_start = Some(section(s, &floor, &floors, condition)));
    let mut rng = rand::rngs::StdRng::seed_from_u64(session.seed);
    let usable: Vec<usize> = (0..session.cases.len())
        .filter(|&i| session.expected[i].is_some())
        .filter(|i| s.cases.as_ref().is_none_or(|c| c.contains(i)))
        .collect();
    let n_targets = session.entries.len();
    let mut cells = vec![
        vec![
            Cell {
                warm: 0,
                measured: 0,
                planned: None
            };
            n_targets
        ];
        usable.len()
    ];
    for (k, &ci) in usable.iter().enumerate() {
        for (ti, e) in session.entries.iter().enumerate() {
            if session.skips(&e.id, &session.cases[ci].workload) {
                cells[k][ti].planned = Some(0);
            }
        }
    }
    let planned_total = |cells: &Vec<Vec<Cell>>| -> u64 {
        cells
            .iter()
            .flatten()
            .map(|c| {
                u64::from(
                    c.planned
                        .map_or(s.warmup + s.runs, |p| p + c.warm.min(s.warmup)),
                )
            })
            .sum()
    };
    let timeout = session.timeout;
    let mut done = 0u64;
    session
        .progress
        .stage(Experiment::ColdStart, planned_total(&cells));
    let mut order: Vec<usize> = (0..n_targets).collect();
    let rounds = s.warmup + s.runs;
    // Targets whose starts are deferred now (`Target::waiting`: the Docker
    // engine restarting), with when they started waiting.
    let mut waiting: Vec<Option<Instant>> = vec![None; n_targets];
    let mut round = 0u32;
    let mut started_last_round = 0u32;
    'rounds: loop {
        let warm_round = round < s.warmup;
        // Past the planned rounds, only cells whose starts were deferred
        // are left: one more round for them, after a pause if every one
        // is still waiting.
        if round >= rounds {
            let behind = cells
                .iter()
                .flatten()
                .any(|c| wanted(c, s, false).is_some());
            if !behind {
                break;
            }
            // No start in the last round: every cell left is waiting.
            if started_last_round == 0 {
                std::thread::sleep(WAITING_POLL);
            }
        }
        round += 1;
        let mut started_this_round = 0u32;
        for (k, &ci) in usable.iter().enumerate() {
            // Between two cases: what is measured so far reaches run.json
            // (at most every CHECKPOINT_EVERY), should the harness be killed.
            if !warm_round {
                session.checkpoint_partial(|x| {
                    x.cold_start = Some(section(s, &floor, &floors, condition))
                });
            }
            order.shuffle(&mut rng);
            for &ti in &order {
                if session.interrupted.load(Ordering::SeqCst) {
                    break 'rounds;
                }
                let Some(warm_start) = wanted(&cells[k][ti], s, warm_round) else {
                    continue;
                };
                let case = &session.cases[ci];
                let entry = &mut session.entries[ti];
                let tid = entry.id.clone();
                // A target waiting for what it depends on is skipped, not
                // charged: its starts come in later rounds, the other
                // targets go on meanwhile.
                match entry.clients[0].waiting() {
                    Some(why) => {
                        if waiting[ti].is_none() {
                            waiting[ti] = Some(Instant::now());
                            session
                                .progress
                                .note(&format!("{tid}: starts deferred: {why}"));
                        }
                        continue;
                    }
                    None => {
                        if let Some(since) = waiting[ti].take() {
                            session.progress.note(&format!(
                                "{tid}: starts resume after {:.1} s",
                                since.elapsed().as_secs_f64()
                            ));
                        }
                    }
                }
                started_this_round += 1;
                session.progress.working(&format!("{} × {tid}", case.name));
                let t0 = Instant::now();
                let result = one_start(
                    entry.clients[0].as_mut(),
                    case,
                    session.expected[ci],
                    timeout,
                );
                let cost = t0.elapsed();
                let c = &mut cells[k][ti];
                if c.planned.is_none() {
                    c.planned = Some(s.runs_for(cost));
                }
                match result {
                    Ok(sample) => {
                        session.out.add_verified(&case.workload, &tid, 1, 0);
                        if warm_start {
                            c.warm += 1;
                        } else {
                            c.measured += 1;
                            let out = &mut session.out;
                            if let Some(ns) = sample.t_ready_ns {
                                out.record(&case.workload, &tid, Metric::TReady, ns);
                            }
                            out.record(
                                &case.workload,
                                &tid,
                                Metric::TFirstResponse,
                                sample.t_first_response_ns,
                            );
                            out.record(
                                &case.workload,
                                &tid,
                                Metric::TTeardown,
                                sample.t_teardown_ns,
                            );
                            for (m, ns) in sample.inner {
                                out.record(&case.workload, &tid, m, ns);
                            }
                        }
                    }
                    Err(f) => {
                        // A failed start uses up its slot: a target that always
                        // fails cannot hold the run forever.
                        if warm_start {
                            c.warm += 1;
                        } else {
                            c.measured += 1;
                        }
                        if f.is_mismatch() {
                            session.out.add_verified(&case.workload, &tid, 0, 1);
                        }
                        let recovery = session.entries[ti].clients[0].recover();
                        session.out.failure(
                            Subject::of(&case.workload, &tid, Some(&case.name)),
                            f.with_recovery(&recovery),
                        );
                    }
                }
                done += 1;
                let total = planned_total(&cells).max(done);
                session.progress.advance(done, total);
            }
        }
        started_last_round = started_this_round;
    }
    session.progress.finish_stage();
    session.out.set_experiment(None);
    section(s, &floor, &floors, condition)
}

/// Whether `cell` gets a start in this round, and if so whether it is a
/// warm-up (`Some(true)`) or measured (`Some(false)`). A cell does its
/// warm-ups first, in any round (one deferred in the warm-up rounds does
/// them later); measured starts come in measured rounds until it has
/// what was planned for it. A skipped pair is planned `Some(0)`: none.
fn wanted(cell: &Cell, s: &Settings, warm_round: bool) -> Option<bool> {
    if cell.planned == Some(0) {
        return None;
    }
    if cell.warm < s.warmup {
        return Some(true);
    }
    (!warm_round && cell.planned.is_none_or(|p| cell.measured < p)).then_some(false)
}

/// The section's settings; its distributions come from the session's
/// collector when the file is written.
fn section(
    s: &Settings,
    floor: &Option<(Summary, Summary)>,
    floors: &[InProcessFloor],
    condition: StartCondition,
) -> ColdStartSection {
    ColdStartSection {
        runs: s.runs,
        warmup: s.warmup,
        min_runs: s.budget_per_cell.map(|_| s.min_runs),
        budget_per_cell_ns: s.budget_per_cell.map(|b| b.as_nanos() as u64),
        pipe_round_trip: floor.map(|f| f.0),
        pipe_round_trip_hot: floor.map(|f| f.1),
        in_process_floors: floors.to_vec(),
        condition: Some(condition),
        results: Vec::new(),
    }
}

/// The workload whose starts are timed in process (`Target::in_process_floor`, in every cold-start run with it).
pub const IN_PROCESS_FLOOR_WORKLOAD: &str = "noop";

/// In-process starts per embedded target: 10 warm-ups, then 100 measured
/// starts back to back, or fewer (at least 10) once 1 s is spent — a JIT
/// variant compiles at every start (~100 ms for `noop` here).
pub const IN_PROCESS_FLOOR_PLAN: FloorPlan = FloorPlan {
    warmup: 10,
    iterations: 100,
    min_iterations: 10,
    budget_ns: 1_000_000_000,
    idle_ns: 0,
};

/// The same starts, each after the runner slept [`FLOOR_PAUSE`] (the idle
/// pipe round trip's pause): a start after idle, as the measured starts
/// come, was 1.2–2.1× one back to back in process (README, 2026-12-02).
pub const IN_PROCESS_FLOOR_IDLE_PLAN: FloorPlan = FloorPlan {
    idle_ns: FLOOR_PAUSE.as_nanos() as u64,
    ..IN_PROCESS_FLOOR_PLAN
};

/// Each embedded runtime's per-start work timed in process by its runner
/// ([`crate::targets::Target::in_process_floor`]) on
/// [`IN_PROCESS_FLOOR_WORKLOAD`], when that workload is in the run. A target
/// whose runner times none, or fails to, gets a note of the run saying so.
fn measure_in_process_floors(session: &mut Session) -> Vec<InProcessFloor> {
    let workload = IN_PROCESS_FLOOR_WORKLOAD;
    if !session.cases.iter().any(|c| c.workload == workload) {
        return Vec::new();
    }
    let timeout = session.timeout;
    let mut floors = Vec::new();
    let mut notes = Vec::new();
    for i in 0..session.entries.len() {
        let id = session.entries[i].id.clone();
        if session.skips(&id, workload) {
            continue;
        }
        session
            .progress
            .working(&format!("in-process floor of {id} ({workload})"));
        let target = &mut session.entries[i].clients[0];
        match target.in_process_floor(workload, &IN_PROCESS_FLOOR_PLAN, timeout) {
            None => {}
            Some(Ok((what, samples))) => {
                let Some(summary) = summarize(&samples) else {
                    continue;
                };
                let idle =
                    match target.in_process_floor(workload, &IN_PROCESS_FLOOR_IDLE_PLAN, timeout) {
                        Some(Ok((_, samples))) => summarize(&samples),
                        Some(Err(e)) => {
                            notes.push(format!("idle in-process floor of {id} not measured: {e}"));
                            None
                        }
                        None => None,
                    };
                floors.push(InProcessFloor {
                    target: id,
                    workload: workload.to_string(),
                    what,
                    summary,
                    idle,
                });
            }
            Some(Err(e)) => notes.push(format!("in-process floor of {id} not measured: {e}")),
        }
    }
    for n in notes {
        session.note(n);
    }
    floors
}

/// Distribution of durations in ns; `None` if there are none.
fn summarize(samples_ns: &[u64]) -> Option<Summary> {
    let mut hist = LatencyHistogram::new();
    for t in samples_ns {
        hist.record_ns(*t);
    }
    hist.summary()
}

/// Round trips of the transport floor, each way (idle and hot).
pub const FLOOR_ROUND_TRIPS: u32 = 300;

/// Idle time before each round trip of the idle floor: starts come after a
/// teardown and a scheduling gap, with both sides asleep, not back to back.
pub const FLOOR_PAUSE: Duration = Duration::from_millis(1);

/// The transport floor ([`crate::floor`]), idle and hot, measured when an embedded
/// runtime is among the session's targets and this process is the
/// coldbench binary; a failure is recorded as an error of the run.
fn measure_floor(session: &mut Session) -> Option<(Summary, Summary)> {
    let embedded = session.entries.iter().any(|e| {
        e.variant
            .as_ref()
            .is_some_and(|v| v.provider.through_runner())
    });
    if !embedded {
        return None;
    }
    let exe = std::env::current_exe().ok()?;
    session
        .progress
        .working("transport floor (pipe round trip)");
    let measured = crate::floor::pipe_round_trip(&exe, 20, FLOOR_ROUND_TRIPS, FLOOR_PAUSE)
        .and_then(|idle| {
            crate::floor::pipe_round_trip(&exe, 50, FLOOR_ROUND_TRIPS, Duration::ZERO)
                .map(|hot| (idle, hot))
        });
    match measured {
        Ok(s) => Some(s),
        Err(e) => {
            session.out.error(
                Subject::default(),
                coldbench_results::Phase::Start,
                coldbench_results::FailureKind::Failed,
                format!("transport floor not measured: {e}"),
            );
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn budget_gives_each_cell_between_min_and_max_runs() {
        let s = Settings {
            runs: 30,
            min_runs: 6,
            warmup: 1,
            budget_per_cell: Some(Duration::from_secs(3)),
            cases: None,
        };
        assert_eq!(s.runs_for(Duration::from_micros(300)), 30);
        assert_eq!(s.runs_for(Duration::from_millis(300)), 10);
        assert_eq!(s.runs_for(Duration::from_secs(4)), 6);
        let unbounded = Settings {
            budget_per_cell: None,
            ..s
        };
        assert_eq!(unbounded.runs_for(Duration::from_secs(4)), 30);
    }
}
