//! One series: instances of one workload on one target started one at a time,
//! each answering one verified request and then held idle, sampled at 1, 2, 5,
//! 10, … instances, until a limit binds; every instance torn down at the end.

use super::*;

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
pub(super) struct Live {
    pub(super) inst: Box<dyn Instance>,
    pub(super) scope: MemoryScope,
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
    let mut limits = Limits::read(settings, &mut log);
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
            Err(e) => break (DensityStop::StartFailed, e.to_string()),
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
        if let Some(stop) = limits.check(n, sampler.shared_pid) {
            break stop;
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
pub(super) fn is_container(live: &[Live]) -> bool {
    live.iter()
        .any(|l| matches!(l.scope, MemoryScope::Container { .. }))
}
