//! When a series stops besides its limits: an instance that is held (every
//! thread of it asleep), a held command that ended, and the series head that
//! names the stop reason with the numbers behind it.

use super::*;

/// What every [`DensitySeries`] of one series shares.
pub(super) struct SeriesHead<'a> {
    pub(super) workload: &'a str,
    pub(super) target: String,
    pub(super) case: &'a str,
    pub(super) baseline: &'a DensityBaseline,
    pub(super) projection_host_bytes: u64,
    pub(super) floor_fraction: f64,
}

impl SeriesHead<'_> {
    /// The series with `instances` live, its samples and `t_ready`
    /// histogram so far; `None` before any instance was ready.
    pub(super) fn series(
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
pub(super) fn settled(pids: &[u32], deadline: Instant) -> bool {
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
pub(super) fn stop_held(
    log: &mut SeriesLog,
    kind: FailureKind,
    detail: String,
) -> (DensityStop, String) {
    log.failures
        .push(StartFailure::new(Phase::Density, kind, detail.clone()));
    (DensityStop::StartFailed, detail)
}

/// Why a density series of command `workload` stops when its held
/// instance `k` (0-based) ended before its stdin was closed.
pub(super) fn held_command_ended(workload: &str, k: usize) -> String {
    format!(
        "instance {} of command `{workload}` exited before its input was closed: density holds a command started with its input written and its stdin open, so it needs one that reads its stdin to the end before it answers (a filter such as jq or gzip); cold start and throughput still measure this one",
        k + 1
    )
}
