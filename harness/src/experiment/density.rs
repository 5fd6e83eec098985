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
//! limit, the runner's memory mappings, open files (the harness's
//! `RLIMIT_NOFILE`, the host's `fs.file-max`), the time limit, a failed start, Ctrl-C. The reason is recorded, and
//! every instance is torn down before the next series.

use crate::cases::Case;
use crate::collector::Subject;
use crate::failure::{FailureKind, Phase, StartFailure};
use crate::memory::{
    Footprint, HostMemory, ProcessTable, cgroup_memory_bytes, file_max, footprint, host_open_files,
    host_threads, map_count, max_map_count, open_files_limit, own_open_files,
    raise_open_files_limit, task_limit,
};
use crate::session::Session;
use crate::steps::{command_response, exchange, start_command, start_ready, wait_until_startable};
use crate::targets::{Instance, MemoryScope, Target};
use coldbench_protocol::monotonic_ns;
use coldbench_results::journal::JournalEntry;
use coldbench_results::{
    DensityBaseline, DensityConfig, DensityProjection, DensitySample, DensitySection,
    DensitySeries, DensityStop, Experiment, LatencyHistogram, MemoryFigure, MemorySource,
};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
mod sampling;
pub use sampling::*;
mod projection;
pub use projection::*;
mod stop;
use stop::*;
mod limits;
use limits::*;
mod series;
pub use series::*;

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
        file_max: file_max(),
        harness_open_files_limit: raise_open_files_limit(),
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
            host_open_files: None,
            harness_open_files: None,
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
