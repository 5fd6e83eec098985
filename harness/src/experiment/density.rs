//! Density: how memory grows with the number of live instances, and how many
//! fit on a host.
//!
//! A series starts instances of one workload on one target one at a time;
//! each answers one request (verified against native) and then stays alive
//! and idle (`--serve`, blocked reading stdin). At steps 1, 2, 5, 10, 20, 50, …
//! memory is sampled three ways, each labelled with its source:
//! - **host**: `MemAvailable` before the first instance minus now — everything
//!   the instances cost the host, engine daemons and page tables included;
//! - **attributable**: PSS and USS (`/proc/PID/smaps_rollup`) of the
//!   instances' own processes — for a container its init process and its
//!   containerd shim with everything under it, plus the container's memory
//!   cgroup; for an embedded runtime the runner's PSS/USS growth;
//! - **engine-reported**: Docker's own stats for containers, the Wasm
//!   runtime's linear-memory total for embedded instances.
//!
//! A series stops at the first of: `--max-instances`, a per-target cap, the
//! memory floor (a start that would leave `MemAvailable` below the floor, at
//! the per-instance cost measured so far), swap being used, the host's task
//! limit, the time limit, a failed start, Ctrl-C. The reason is recorded, and
//! every instance is torn down before the next series.

use crate::cases::Case;
use crate::collector::Subject;
use crate::experiment::steps::{
    command_response, exchange, start_command, start_ready, wait_until_startable,
};
use crate::failure::{FailureKind, Phase, StartFailure};
use crate::memory::{
    Footprint, HostMemory, ProcessTable, cgroup_memory_bytes, footprint, host_threads, map_count,
    max_map_count, task_limit,
};
use crate::session::Session;
use crate::targets::{Instance, MemoryScope, Target};
use coldbench_protocol::monotonic_ns;
use coldbench_results::journal::JournalEntry;
use coldbench_results::{
    DensityBaseline, DensityConfig, DensityProjection, DensitySample, DensitySection,
    DensitySeries, DensityStop, Experiment, LatencyHistogram, MemoryFigure, MemorySource,
};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// How series run and when they stop.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Largest number of live instances.
    pub max_instances: u64,
    /// Per-target caps: (target id or `-`-bounded prefix, instances).
    pub per_target_max: Vec<(String, u64)>,
    /// Stop before `MemAvailable` would drop below this fraction of `MemTotal`.
    pub floor_fraction: f64,
    /// Stop when the host's threads would exceed this fraction of its task limit.
    pub task_limit_fraction: f64,
    /// Bound on one series' starts and samples (teardown not included).
    pub time_limit: Duration,
    /// Host memory for the projection, bytes (`None`: this host's `MemTotal`).
    pub host_memory_bytes: Option<u64>,
    /// Bound on each wait (ready, response, teardown, a stats call).
    pub timeout: Duration,
}

impl Settings {
    /// The cap for `target` (the smallest matching per-target cap and `max_instances`),
    /// and whether a per-target cap set it.
    pub fn cap(&self, target: &str) -> (u64, bool) {
        let per = self
            .per_target_max
            .iter()
            .filter(|(p, _)| crate::targets::selects(p, target))
            .map(|(_, n)| *n)
            .min();
        match per {
            Some(n) if n < self.max_instances => (n, true),
            _ => (self.max_instances, false),
        }
    }
}

/// Instance counts at which memory is sampled: 1, 2, 5, 10, 20, 50, … ≤ `max`.
pub fn steps(max: u64) -> Vec<u64> {
    let mut v = Vec::new();
    let mut decade = 1u64;
    'outer: loop {
        for m in [1, 2, 5] {
            let Some(n) = decade.checked_mul(m) else {
                break 'outer;
            };
            if n > max {
                break 'outer;
            }
            v.push(n);
        }
        decade = match decade.checked_mul(10) {
            Some(d) => d,
            None => break,
        };
    }
    v
}

/// What a series produced besides its results entry: failures (phase, kind,
/// message) for the run's error list and the verification counts.
#[derive(Debug, Default)]
pub struct SeriesLog {
    /// Failures, each destined for `errors` in `run.json`.
    pub failures: Vec<StartFailure>,
    /// Responses that matched native.
    pub verified: u64,
    /// Responses that did not (never counted as instances).
    pub mismatched: u64,
}

/// A live instance and where its memory is.
struct Live {
    inst: Box<dyn Instance>,
    scope: MemoryScope,
}

/// Sums per-instance sources at one moment.
struct Sampler<'a> {
    baseline: &'a DensityBaseline,
    shared_pid: Option<u32>,
    timeout: Duration,
}

impl Sampler<'_> {
    /// Samples memory with `live` instances. `t_reach_ns` and
    /// `t_ready_last_ns` go into the sample as they are; `window` (the
    /// `t_ready`s since the previous sample) is summarized and emptied.
    fn sample(
        &self,
        target: &mut dyn Target,
        live: &mut [Live],
        log: &mut SeriesLog,
        t_reach_ns: u64,
        t_ready_last_ns: u64,
        window: &mut Vec<u64>,
    ) -> DensitySample {
        let t0 = Instant::now();
        let n = live.len() as u64;
        let mut pss: Option<i64> = None;
        let mut uss: Option<i64> = None;
        let mut processes: Option<u64> = None;
        let mut cgroup: Option<u64> = None;
        let mut engine: Option<u64> = None;
        let mut problems: Vec<String> = Vec::new();
        // Shared host (embedded runtimes): the runner's growth and the runtime's report.
        if live.iter().any(|l| l.scope == MemoryScope::SharedHost) {
            let shared = target.shared_host(self.timeout);
            if let Some(pid) = shared.map(|s| s.pid).or(self.shared_pid) {
                match footprint(pid) {
                    Ok(f) => {
                        pss = Some(
                            f.pss_bytes as i64
                                - self.baseline.shared_host_pss_bytes.unwrap_or(0) as i64,
                        );
                        uss = Some(
                            f.uss_bytes as i64
                                - self.baseline.shared_host_uss_bytes.unwrap_or(0) as i64,
                        );
                        processes = Some(1);
                    }
                    Err(e) => problems.push(e),
                }
            }
            engine = shared.and_then(|s| s.linear_memory_bytes);
        }
        // Processes and containers: sum PSS/USS over each instance's processes.
        let needs_table = live
            .iter()
            .any(|l| matches!(l.scope, MemoryScope::Container { .. }));
        let table = if needs_table {
            match ProcessTable::read() {
                Ok(t) => Some(t),
                Err(e) => {
                    problems.push(e);
                    None
                }
            }
        } else {
            None
        };
        let mut sum = Footprint::default();
        let mut counted = 0u64;
        let mut any_process_scope = false;
        let mut process_failed = false;
        let mut cg_sum = 0u64;
        let mut cg_ok = true;
        let mut any_container = false;
        for l in live.iter_mut() {
            let pids: Vec<u32> = match &l.scope {
                MemoryScope::Processes(p) => p.clone(),
                MemoryScope::Container { pid, .. } => {
                    any_container = true;
                    match cgroup_memory_bytes(*pid) {
                        Ok(b) => cg_sum += b,
                        Err(e) => {
                            cg_ok = false;
                            problems.push(e);
                        }
                    }
                    // The shim is the init process's parent; gVisor's sandbox
                    // and gofer are also under it.
                    match table.as_ref().and_then(|t| Some((t, t.parent(*pid)?))) {
                        Some((t, shim)) if shim > 1 => t.tree(shim),
                        Some((t, _)) => t.tree(*pid),
                        None => vec![*pid],
                    }
                }
                MemoryScope::SharedHost => continue,
                MemoryScope::Unknown(why) => {
                    process_failed = true;
                    problems.push(why.clone());
                    continue;
                }
            };
            any_process_scope = true;
            for pid in pids {
                match footprint(pid) {
                    Ok(f) => {
                        sum += f;
                        counted += 1;
                    }
                    Err(e) => {
                        process_failed = true;
                        problems.push(e);
                    }
                }
            }
        }
        if any_process_scope && !process_failed {
            pss = Some(sum.pss_bytes as i64);
            uss = Some(sum.uss_bytes as i64);
            processes = Some(counted);
        }
        if any_container {
            cgroup = cg_ok.then_some(cg_sum);
            let ids: Vec<String> = live
                .iter()
                .filter_map(|l| match &l.scope {
                    MemoryScope::Container { id, .. } => Some(id.clone()),
                    _ => None,
                })
                .collect();
            engine = match target.engine_memory_bytes(&ids, self.timeout) {
                Some(all) => {
                    let mut sum = 0u64;
                    let mut ok = true;
                    for r in all {
                        match r {
                            Ok(b) => sum += b,
                            Err(e) => {
                                ok = false;
                                problems.push(format!("docker stats: {e}"));
                            }
                        }
                    }
                    ok.then_some(sum)
                }
                None => None,
            };
        }
        let host = HostMemory::read();
        if let Err(e) = &host {
            problems.push(format!("host MemAvailable not sampled: {e}"));
        }
        if let Some(first) = problems.first() {
            log.failures.push(StartFailure::new(
                Phase::Density,
                FailureKind::MemorySource,
                format!(
                    "at {n} instances, {} memory reading(s) failed; first: {first}",
                    problems.len()
                ),
            ));
        }
        let t_ready_window_p50_ns = coldbench_results::stats::median_u64(window);
        window.clear();
        DensitySample {
            instances: n,
            t_reach_ns,
            t_ready_last_ns,
            t_ready_window_p50_ns,
            mem_available_bytes: host.as_ref().ok().map(|h| h.available_bytes),
            host_delta_bytes: host
                .as_ref()
                .ok()
                .map(|h| self.baseline.mem_available_bytes as i64 - h.available_bytes as i64),
            pss_bytes: pss,
            uss_bytes: uss,
            cgroup_bytes: cgroup,
            engine_bytes: engine,
            processes,
            host_threads: host_threads(),
            runner_maps: self.shared_pid.and_then(map_count),
            sample_ns: t0.elapsed().as_nanos() as u64,
        }
    }
}

/// Watches a shared host process's memory-mapping count (`/proc/PID/maps`
/// lines) against `vm.max_map_count` without reading a huge maps file at
/// every start: it re-reads when the linear prediction from the last reading
/// comes within 20 % of the limit's budget or every 256 instances.
struct MapWatch {
    /// `vm.max_map_count`.
    limit: u64,
    /// (instances, mappings) at the baseline and at the last reading.
    first: Option<(u64, u64)>,
    last: Option<(u64, u64)>,
}

impl MapWatch {
    fn new(limit: u64) -> MapWatch {
        MapWatch {
            limit,
            first: None,
            last: None,
        }
    }

    /// The mapping count now (read or predicted) and mappings per instance.
    fn predict(&mut self, pid: u32, n: u64) -> Option<(u64, u64)> {
        let per = match (self.first, self.last) {
            (Some((n0, m0)), Some((n1, m1))) if n1 > n0 => {
                (m1.saturating_sub(m0)).div_ceil(n1 - n0)
            }
            _ => 0,
        };
        let stale = match self.last {
            None => true,
            Some((n1, _)) => n >= n1 + 256 || n < n1,
        };
        let predicted = self.last.map(|(n1, m1)| m1 + per * n.saturating_sub(n1));
        let near = predicted.is_some_and(|p| p * 10 >= self.limit * 8);
        if stale || near {
            let m = map_count(pid)?;
            if self.first.is_none() {
                self.first = Some((n, m));
            }
            self.last = Some((n, m));
            return Some((m, per));
        }
        predicted.map(|p| (p, per))
    }
}

/// Reads one source's total out of a sample, bytes (`None`: not measured).
type SampleTotal = fn(&DensitySample) -> Option<f64>;

/// Per-instance figures at the last sample, one per source present.
pub fn figures(samples: &[DensitySample], container: bool) -> Vec<MemoryFigure> {
    let Some(last) = samples.last() else {
        return Vec::new();
    };
    let prev = samples.len().checked_sub(2).map(|i| &samples[i]);
    let mut out = Vec::new();
    let engine_source = if container {
        MemorySource::DockerStats
    } else {
        MemorySource::LinearMemory
    };
    let sources: [(MemorySource, SampleTotal); 5] = [
        (MemorySource::HostMemAvailable, |s| {
            s.host_delta_bytes.map(|b| b as f64)
        }),
        (MemorySource::Pss, |s| s.pss_bytes.map(|b| b as f64)),
        (MemorySource::Uss, |s| s.uss_bytes.map(|b| b as f64)),
        (MemorySource::Cgroup, |s| s.cgroup_bytes.map(|b| b as f64)),
        (engine_source, |s| s.engine_bytes.map(|b| b as f64)),
    ];
    for (source, get) in sources {
        let Some(total) = get(last) else { continue };
        let marginal = prev.and_then(|p| {
            let before = get(p)?;
            let dn = last.instances.checked_sub(p.instances).filter(|d| *d > 0)?;
            Some((total - before) / dn as f64)
        });
        out.push(MemoryFigure {
            source,
            kind: source.kind(),
            bytes_per_instance: total / last.instances.max(1) as f64,
            marginal_bytes_per_instance: marginal,
        });
    }
    out
}

/// Instances per host by the one per-instance rule the reports share
/// ([`coldbench_results::DensitySeries::memory_per_instance`]: the larger
/// of the host `MemAvailable` drop and PSS), memory the only limit.
pub fn project(
    figures: &[MemoryFigure],
    host_memory_bytes: u64,
    floor_fraction: f64,
) -> Option<DensityProjection> {
    let (per, basis) = coldbench_results::memory_per_instance(figures)?;
    Some(DensityProjection {
        host_memory_bytes,
        instances: coldbench_results::instances_in_memory(host_memory_bytes, floor_fraction, per),
        bytes_per_instance: per,
        assumption: format!(
            "memory is the only limit; {:.0} % of the host's memory is kept free (the same floor \
             as the run); every instance costs its {} at the series' largest N; the host's own \
             baseline use, task limits and CPU are ignored",
            floor_fraction * 100.0,
            basis.describe()
        ),
    })
}

/// Runs one density series of `case` on `target`. `expected`: native's
/// checksum for the case. Every instance is torn down before returning.
#[allow(clippy::too_many_arguments)]
pub fn run_series(
    target: &mut dyn Target,
    case: &Case,
    expected: Option<u32>,
    settings: &Settings,
    (cap, capped_by_target): (u64, bool),
    interrupted: &AtomicBool,
    mut on: impl FnMut(SeriesEvent<'_>),
) -> (Option<DensitySeries>, SeriesLog) {
    let mut log = SeriesLog::default();
    let workload = case.workload.as_str();
    let steps = steps(cap);
    let Ok(base) = HostMemory::read() else {
        log.failures.push(StartFailure::new(
            Phase::Density,
            FailureKind::Host,
            "cannot read /proc/meminfo: no density on this host",
        ));
        return (None, log);
    };
    let floor_bytes = (base.total_bytes as f64 * settings.floor_fraction) as u64;
    let shared = target.shared_host(settings.timeout);
    let shared_fp = shared.and_then(|s| footprint(s.pid).ok());
    let baseline = DensityBaseline {
        mem_total_bytes: base.total_bytes,
        mem_available_bytes: base.available_bytes,
        shared_host_pss_bytes: shared_fp.map(|f| f.pss_bytes),
        shared_host_uss_bytes: shared_fp.map(|f| f.uss_bytes),
    };
    // The task limit binds only if both readings can be taken; if not, the
    // series says so (never a limit of 0 or of u64::MAX).
    let tasks = match (task_limit(), host_threads()) {
        (Some(limit), Some(threads)) => Some((limit, threads)),
        (limit, _) => {
            log.failures.push(StartFailure::new(
                Phase::Density,
                FailureKind::Host,
                format!(
                    "the task limit is not checked in this series: {} cannot be read",
                    if limit.is_none() {
                        "kernel.pid_max and kernel.threads-max"
                    } else {
                        "/proc/loadavg (threads on the host)"
                    }
                ),
            ));
            None
        }
    };
    let sampler = Sampler {
        baseline: &baseline,
        shared_pid: shared.map(|s| s.pid),
        timeout: settings.timeout,
    };
    let mut live: Vec<Live> = Vec::new();
    let mut samples: Vec<DensitySample> = Vec::new();
    let mut hist = LatencyHistogram::new();
    let mut window: Vec<u64> = Vec::new();
    let mut t_reach_ns = 0u64;
    let mut last_t_ready = 0u64;
    let series_start = Instant::now();
    let mut next_step = 0usize;
    let mut maps = max_map_count().map(MapWatch::new);
    let head = SeriesHead {
        workload,
        target: target.id().to_string(),
        case: &case.name,
        baseline: &baseline,
        projection_host_bytes: settings.host_memory_bytes.unwrap_or(base.total_bytes),
        floor_fraction: settings.floor_fraction,
    };
    let (stop_reason, stop_detail) = loop {
        let n = live.len() as u64;
        if interrupted.load(Ordering::SeqCst) {
            break (DensityStop::Interrupted, format!("Ctrl-C at {n} instances"));
        }
        if n >= cap {
            break if capped_by_target {
                (
                    DensityStop::TargetMax,
                    format!("per-target cap of {cap} instances reached"),
                )
            } else {
                (
                    DensityStop::MaxInstances,
                    format!("--max-instances {cap} reached"),
                )
            };
        }
        if series_start.elapsed() >= settings.time_limit {
            break (
                DensityStop::TimeLimit,
                format!(
                    "{n} instances after the {} s limit",
                    settings.time_limit.as_secs()
                ),
            );
        }
        let now = match HostMemory::read() {
            Ok(m) => m,
            Err(e) => break (DensityStop::StartFailed, e),
        };
        if now.swap_used_bytes > base.swap_used_bytes + (1 << 20) {
            break (
                DensityStop::Swap,
                format!(
                    "swap in use grew by {} bytes at {n} instances: stopped so that no sample is taken while swapping",
                    now.swap_used_bytes - base.swap_used_bytes
                ),
            );
        }
        // Next instance's expected cost: the per-instance cost so far (at
        // least 1 MiB before anything is measured, so a first start on a
        // nearly full host is refused too).
        let per_instance = base
            .available_bytes
            .saturating_sub(now.available_bytes)
            .checked_div(n)
            .map_or(1 << 20, |b| b.max(1));
        if now.available_bytes.saturating_sub(per_instance) < floor_bytes {
            break (
                DensityStop::MemoryFloor,
                format!(
                    "MemAvailable {} bytes − {per_instance} bytes for one more instance would fall below the floor of {floor_bytes} bytes ({:.0} % of {} bytes)",
                    now.available_bytes,
                    settings.floor_fraction * 100.0,
                    base.total_bytes
                ),
            );
        }
        if let Some((task_limit, base_threads)) = tasks
            && let Some(threads) = host_threads()
        {
            let per_threads = if n == 0 {
                8
            } else {
                threads.saturating_sub(base_threads).div_ceil(n).max(1)
            };
            let task_bound = (task_limit as f64 * settings.task_limit_fraction) as u64;
            if threads + per_threads > task_bound {
                break (
                    DensityStop::TaskLimit,
                    format!(
                        "{threads} threads on the host + {per_threads} per instance would exceed {task_bound} ({:.0} % of the task limit {task_limit} = min(kernel.pid_max, kernel.threads-max))",
                        settings.task_limit_fraction * 100.0
                    ),
                );
            }
        }
        if let (Some(pid), Some(maps)) = (sampler.shared_pid, maps.as_mut())
            && let Some((now_maps, per)) = maps.predict(pid, n)
            && now_maps + per.max(1) * 2 > maps.limit * 95 / 100
        {
            break (
                DensityStop::MapLimit,
                format!(
                    "the runner process holds {now_maps} memory mappings (~{per} per instance: thread stack, signal stacks, linear memory and table slots) and vm.max_map_count is {}: one more instance risks an mmap failure that takes every instance down; raise the limit (`sysctl -w vm.max_map_count=262144`, done by scripts/setup.sh)",
                    maps.limit
                ),
            );
        }
        // One more instance: start, ready, one verified request; it stays alive.
        wait_until_startable(target);
        let t0_wall = Instant::now();
        let t0 = monotonic_ns();
        let deadline = t0_wall + settings.timeout;
        // A command has no ready line and answers only at end of input: it
        // is held started, its input written and its stdin open (blocked
        // reading); its response is verified when the series ends.
        // (Its t_ready, start → held, is taken once it is held, below.)
        let started = if case.command {
            start_command(target, case, settings.timeout).map(|inst| (inst, 0))
        } else {
            start_ready(target, workload, true, t0, deadline, settings.timeout).and_then(
                |(mut inst, t_ready)| match exchange(&mut inst, case, deadline, settings.timeout) {
                    Ok(crc) => match expected {
                        Some(e) if crc != e => {
                            log.mismatched += 1;
                            let _ = inst.teardown(settings.timeout);
                            Err(StartFailure::mismatch(crc, e))
                        }
                        _ => Ok((inst, t_ready)),
                    },
                    Err(f) => {
                        // A hung instance is dropped, not torn down (that would
                        // wait a second timeout): the recovery below waits for it.
                        if f.kind != FailureKind::Timeout {
                            let _ = inst.teardown(settings.timeout);
                        }
                        Err(f)
                    }
                },
            )
        };
        t_reach_ns += t0_wall.elapsed().as_nanos() as u64;
        let (mut inst, t_ready) = match started {
            Ok(x) => x,
            Err(f) => {
                let detail = format!(
                    "instance {} failed at {} ({}): {}",
                    n + 1,
                    f.phase,
                    f.kind,
                    f.message
                );
                log.failures
                    .push(StartFailure::new(f.phase, f.kind, detail.clone()));
                break (DensityStop::StartFailed, detail);
            }
        };
        let scope = inst.memory_scope(settings.timeout);
        let t_ready = if case.command {
            // Held once every thread of it sleeps (blocked reading its
            // stdin): only then is its memory that of a started command.
            let pids = match &scope {
                MemoryScope::Processes(p) => p.clone(),
                MemoryScope::Container { pid, .. } => vec![*pid],
                MemoryScope::SharedHost => sampler.shared_pid.into_iter().collect(),
                MemoryScope::Unknown(_) => Vec::new(),
            };
            let settling = Instant::now();
            let quiet = settled(&pids, deadline);
            t_reach_ns += settling.elapsed().as_nanos() as u64;
            if !quiet {
                let detail = format!(
                    "instance {} of command `{workload}` did not settle (every thread asleep, blocked reading its stdin) within {} ms",
                    n + 1,
                    settings.timeout.as_millis()
                );
                break stop_held(&mut log, FailureKind::Timeout, detail);
            }
            if inst.stdout().ended() {
                break stop_held(
                    &mut log,
                    FailureKind::Eof,
                    held_command_ended(workload, n as usize),
                );
            }
            monotonic_ns() - t0
        } else {
            log.verified += 1;
            t_ready
        };
        hist.record_ns(t_ready);
        window.push(t_ready);
        last_t_ready = t_ready;
        live.push(Live { inst, scope });
        let n = live.len() as u64;
        on(SeriesEvent::Ready {
            n,
            t_ready_ns: t_ready,
        });
        if next_step < steps.len() && n == steps[next_step] {
            next_step += 1;
            if case.command
                && let Some(k) = live.iter_mut().position(|l| l.inst.stdout().ended())
            {
                break stop_held(&mut log, FailureKind::Eof, held_command_ended(workload, k));
            }
            samples.push(sampler.sample(
                target,
                &mut live,
                &mut log,
                t_reach_ns,
                t_ready,
                &mut window,
            ));
            // The series as of this step, should the harness die before
            // it ends (results::journal replays the last one).
            let stop = (DensityStop::HarnessStopped, String::new());
            if let Some(snapshot) =
                head.series(&samples, &hist, n, is_container(&live), stop, (0, 0))
            {
                on(SeriesEvent::Step(&snapshot));
            }
        }
    };
    // A sample at the stopping point, if it is not a step.
    // (Not when a held command has exited: its memory is gone.)
    let held_ended = case.command && live.iter_mut().any(|l| l.inst.stdout().ended());
    if !held_ended
        && !live.is_empty()
        && samples.last().map(|s| s.instances) != Some(live.len() as u64)
    {
        samples.push(sampler.sample(
            target,
            &mut live,
            &mut log,
            t_reach_ns,
            last_t_ready,
            &mut window,
        ));
    }
    let instances = live.len() as u64;
    let is_container = is_container(&live);
    // The failure that stopped the series, if one did (teardown failures follow it).
    let stop_failure = log.failures.len().checked_sub(1);
    // A held command answers now: its stdin closes, its stdout is digested
    // and checked (before the timed teardown).
    let mut answered_wrong = 0u64;
    if case.command {
        let mut kept = Vec::with_capacity(live.len());
        for mut l in live.drain(..) {
            let deadline = Instant::now() + settings.timeout;
            let answer = command_response(&mut l.inst, deadline).and_then(|crc| match expected {
                Some(e) if crc != e => Err(StartFailure::mismatch(crc, e)),
                _ => Ok(()),
            });
            match answer {
                Ok(()) => log.verified += 1,
                Err(f) => {
                    answered_wrong += 1;
                    if f.is_mismatch() {
                        log.mismatched += 1;
                    }
                    if log.failures.len() < 8 {
                        log.failures.push(f);
                    }
                }
            }
            kept.push(l);
        }
        live = kept;
    }
    // Teardown: every instance, whatever happened.
    let t_down = Instant::now();
    let mut teardown_failed = 0;
    for l in live.drain(..) {
        if let Err(e) = l.inst.teardown(settings.timeout) {
            teardown_failed += 1;
            if teardown_failed <= 3 {
                log.failures.push(StartFailure::target(Phase::Teardown, e));
            }
        }
    }
    let teardown_ns = t_down.elapsed().as_nanos() as u64;
    // After a failed start, nothing of it may outlive the series: a hung
    // instance is stopped by its runtime or its runner is restarted (the
    // live instances were torn down first).
    if stop_reason == DensityStop::StartFailed {
        let recovery = target.recover();
        if let Some(i) = stop_failure {
            let f = log.failures[i].clone().with_recovery(&recovery);
            log.failures[i] = f;
        }
    }
    if teardown_failed > 3 {
        log.failures.push(StartFailure::new(
            Phase::Teardown,
            FailureKind::Failed,
            format!("{teardown_failed} teardowns failed in all (first 3 recorded)"),
        ));
    }
    if answered_wrong > 0 {
        // Held instances that did not do the work right are no sample: the
        // memory they held is not the workload's. No series; the failures
        // above say which answers were wrong.
        log.failures.push(StartFailure::new(
            Phase::Verify,
            FailureKind::Mismatch,
            format!(
                "{answered_wrong} of {instances} held instances of command `{workload}` answered wrong or not at all when their input closed: the series is dropped (their memory is no figure)"
            ),
        ));
        return (None, log);
    }
    let series = head.series(
        &samples,
        &hist,
        instances,
        is_container,
        (stop_reason, stop_detail),
        (teardown_ns, teardown_failed),
    );
    (series, log)
}

/// What a density series tells its caller as it goes.
pub enum SeriesEvent<'a> {
    /// Instance `n` (1-based) is up, verified (or held), `t_ready_ns` after its start call.
    Ready {
        /// Live instances now.
        n: u64,
        /// Its start call → ready line, ns.
        t_ready_ns: u64,
    },
    /// A sampling step was taken: the series as it stands (stop reason
    /// [`DensityStop::HarnessStopped`], no teardown yet).
    Step(&'a DensitySeries),
}

/// Whether any live instance is a container (its memory figures come from
/// its cgroup).
fn is_container(live: &[Live]) -> bool {
    live.iter()
        .any(|l| matches!(l.scope, MemoryScope::Container { .. }))
}

/// What every [`DensitySeries`] of one series shares.
struct SeriesHead<'a> {
    workload: &'a str,
    target: String,
    case: &'a str,
    baseline: &'a DensityBaseline,
    projection_host_bytes: u64,
    floor_fraction: f64,
}

impl SeriesHead<'_> {
    /// The series with `instances` live, its samples and `t_ready`
    /// histogram so far; `None` before any instance was ready.
    fn series(
        &self,
        samples: &[DensitySample],
        hist: &LatencyHistogram,
        instances: u64,
        is_container: bool,
        (stop_reason, stop_detail): (DensityStop, String),
        (teardown_ns, teardown_failed): (u64, u64),
    ) -> Option<DensitySeries> {
        let t_ready = hist.summary()?;
        let bytes_per_instance = figures(samples, is_container);
        let projection = project(
            &bytes_per_instance,
            self.projection_host_bytes,
            self.floor_fraction,
        );
        Some(DensitySeries {
            workload: self.workload.to_string(),
            target: self.target.clone(),
            case: self.case.to_string(),
            instances,
            stop_reason,
            stop_detail,
            baseline: self.baseline.clone(),
            samples: samples.to_vec(),
            t_ready,
            t_ready_histogram_v2_deflate_b64: hist.to_base64(),
            bytes_per_instance,
            projection,
            teardown_ns,
            teardown_failed,
        })
    }
}

/// Whether every thread of every process in `pids` sleeps (state `S`, or
/// stopped, idle, dead or gone: anything but running `R` and disk wait `D`)
/// on two reads 2 ms apart, polled until `deadline`. A held command blocked
/// reading its stdin sleeps; one still starting, instantiating or reading
/// its input runs. With no pid to read, `true` at once.
fn settled(pids: &[u32], deadline: Instant) -> bool {
    let asleep = || {
        pids.iter().all(|&pid| {
            let Ok(p) = procfs::process::Process::new(pid as i32) else {
                return true;
            };
            let Ok(tasks) = p.tasks() else {
                return true;
            };
            tasks
                .flatten()
                .all(|t| t.stat().map_or(true, |s| !matches!(s.state, 'R' | 'D')))
        })
    };
    let mut quiet_once = false;
    loop {
        if asleep() {
            if quiet_once {
                return true;
            }
            quiet_once = true;
        } else {
            quiet_once = false;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// Records why a held command stopped its series (a failure of the
/// density phase) and returns the series' stop.
fn stop_held(log: &mut SeriesLog, kind: FailureKind, detail: String) -> (DensityStop, String) {
    log.failures
        .push(StartFailure::new(Phase::Density, kind, detail.clone()));
    (DensityStop::StartFailed, detail)
}

/// Why a density series of command `workload` stops when its held
/// instance `k` (0-based) ended before its stdin was closed.
fn held_command_ended(workload: &str, k: usize) -> String {
    format!(
        "instance {} of command `{workload}` exited before its input was closed: density holds a command started with its input written and its stdin open, so it needs one that reads its stdin to the end before it answers (a filter such as jq or gzip); cold start and throughput still measure this one",
        k + 1
    )
}

/// One series to run: a workload on a target (by id), up to `cap` instances.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeriesPlan {
    /// Workload name.
    pub workload: String,
    /// Target variant id.
    pub target: String,
    /// Largest number of live instances.
    pub cap: u64,
    /// Whether `cap` comes from a per-target cap (stop reason `target_max`)
    /// rather than `--max-instances` (`max_instances`).
    pub capped_by_target: bool,
}

/// Every workload × every entry of the session, capped by `settings`
/// (`--max-instances`, `--max-per-target`): the `density` command's plan.
pub fn all_series(session: &Session, settings: &Settings) -> Vec<SeriesPlan> {
    let mut v = Vec::new();
    for w in &session.workloads {
        for e in &session.entries {
            let (cap, capped_by_target) = settings.cap(&e.id);
            v.push(SeriesPlan {
                workload: w.clone(),
                target: e.id.clone(),
                cap,
                capped_by_target,
            });
        }
    }
    v
}

/// Runs `plan` in order, one series at a time (each torn down before the
/// next). A series' instances answer its workload's first case that native
/// answered. Series of a workload a target could not prepare, or of a target
/// the session does not hold, are skipped. Stops early (keeping what was
/// measured) on Ctrl-C.
pub fn run(session: &mut Session, settings: &Settings, plan: &[SeriesPlan]) -> DensitySection {
    session.out.set_experiment(Some(Experiment::Density));
    let base_total = HostMemory::read().map(|m| m.total_bytes).unwrap_or(0);
    let runnable: Vec<&SeriesPlan> = plan
        .iter()
        .filter(|p| !session.skips(&p.target, &p.workload))
        .filter(|p| session.entries.iter().any(|e| e.id == p.target))
        .collect();
    let total: u64 = runnable.iter().map(|p| p.cap).sum();
    session.progress.stage(Experiment::Density, total);
    let mut done_before = 0u64;
    let mut series = Vec::new();
    let config = DensityConfig {
        max_instances: settings.max_instances,
        per_target_max: settings.per_target_max.iter().cloned().collect(),
        memory_floor_fraction: settings.floor_fraction,
        memory_floor_bytes: (base_total as f64 * settings.floor_fraction) as u64,
        series_time_limit_ns: settings.time_limit.as_nanos() as u64,
        task_limit_fraction: settings.task_limit_fraction,
        steps: steps(settings.max_instances),
        projection_host_memory_bytes: settings.host_memory_bytes.unwrap_or(base_total),
        vm_max_map_count: max_map_count(),
        task_limit: task_limit(),
    };
    // The section's configuration is on disk before the first series, so a
    // journal replayed after a kill has a section to put its series in.
    session.checkpoint_now(|x| {
        x.density = Some(DensitySection {
            config: config.clone(),
            series: Vec::new(),
        })
    });
    for p in runnable {
        if session.interrupted.load(Ordering::SeqCst) {
            break;
        }
        let Some(ci) = (0..session.cases.len())
            .find(|&i| session.cases[i].workload == p.workload && session.expected[i].is_some())
        else {
            continue;
        };
        let case = session.cases[ci].clone();
        let expected = session.expected[ci];
        let interrupted = session.interrupted.clone();
        let ei = session
            .entries
            .iter()
            .position(|e| e.id == p.target)
            .expect("filtered above");
        session
            .progress
            .working(&format!("{} × {} (≤ {})", p.workload, p.target, p.cap));
        let progress = &mut session.progress;
        let journal = &mut session.out;
        let (s, log) = run_series(
            session.entries[ei].clients[0].as_mut(),
            &case,
            expected,
            settings,
            (p.cap, p.capped_by_target),
            &interrupted,
            |e| match e {
                SeriesEvent::Ready { n, t_ready_ns } => {
                    journal.journal(&JournalEntry::DensityInstance {
                        workload: p.workload.clone(),
                        target: p.target.clone(),
                        t_ready_ns,
                    });
                    if n < 10 || n % 25 == 0 {
                        progress.advance(done_before + n, total);
                    }
                }
                SeriesEvent::Step(s) => {
                    journal.journal(&JournalEntry::DensityStep(Box::new(s.clone())))
                }
            },
        );
        done_before += p.cap;
        session.progress.advance(done_before, total);
        let who = Subject::of(&p.workload, &p.target, Some(&case.name));
        for f in log.failures {
            session.out.failure(who, f);
        }
        session
            .out
            .add_verified(&p.workload, &p.target, log.verified, log.mismatched);
        if let Some(s) = s {
            session.progress.note(&format!(
                "density {} × {}: {} instances, stopped: {} ({})",
                s.workload, s.target, s.instances, s.stop_reason, s.stop_detail
            ));
            session
                .out
                .journal(&JournalEntry::DensitySeries(Box::new(s.clone())));
            series.push(s);
        }
        session.checkpoint_partial(|x| {
            x.density = Some(DensitySection {
                config: config.clone(),
                series: series.clone(),
            })
        });
    }
    session.progress.finish_stage();
    session.out.set_experiment(None);
    DensitySection { config, series }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_follow_one_two_five() {
        assert_eq!(steps(1), vec![1]);
        assert_eq!(steps(7), vec![1, 2, 5]);
        assert_eq!(
            steps(10_000),
            vec![1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10_000]
        );
        assert!(steps(0).is_empty());
    }

    fn sample(n: u64, host: i64, pss: Option<i64>) -> DensitySample {
        DensitySample {
            instances: n,
            t_reach_ns: 0,
            t_ready_last_ns: 0,
            t_ready_window_p50_ns: 0,
            mem_available_bytes: Some(0),
            host_delta_bytes: Some(host),
            pss_bytes: pss,
            uss_bytes: None,
            cgroup_bytes: None,
            engine_bytes: None,
            processes: None,
            host_threads: None,
            runner_maps: None,
            sample_ns: 0,
        }
    }

    #[test]
    fn figures_divide_by_n_and_take_the_last_slope() {
        let s = [
            sample(10, 10_000, Some(5_000)),
            sample(20, 30_000, Some(9_000)),
        ];
        let f = figures(&s, false);
        assert_eq!(f.len(), 2, "absent sources give no figure");
        assert_eq!(f[0].source, MemorySource::HostMemAvailable);
        assert_eq!(f[0].bytes_per_instance, 1_500.0);
        assert_eq!(f[0].marginal_bytes_per_instance, Some(2_000.0));
        assert_eq!(f[1].source, MemorySource::Pss);
        assert_eq!(f[1].bytes_per_instance, 450.0);
        let p = project(&f, 4_000_000, 0.25).unwrap();
        assert_eq!(p.instances, 2_000);
        let unresolved = [sample(10, -4_096, Some(5_000))];
        let p = project(&figures(&unresolved, false), 4_000_000, 0.25).unwrap();
        assert_eq!(p.bytes_per_instance, 500.0);
        assert!(p.assumption.contains("PSS"));
    }

    #[test]
    fn per_target_caps_use_prefixes() {
        let s = Settings {
            max_instances: 10_000,
            per_target_max: vec![("docker".into(), 500), ("native".into(), 20_000)],
            floor_fraction: 0.25,
            task_limit_fraction: 0.8,
            time_limit: Duration::from_secs(1),
            host_memory_bytes: None,
            timeout: Duration::from_secs(1),
        };
        assert_eq!(s.cap("docker-scratch-runc-none"), (500, true));
        assert_eq!(s.cap("native"), (10_000, false));
        assert_eq!(s.cap("wasmtime-pooling"), (10_000, false));
    }
}
