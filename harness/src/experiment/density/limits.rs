//! The kernel limits a series stops short of, checked before each start:
//! the host's task limit, the runner process's memory mappings, and open
//! files (the harness process's `RLIMIT_NOFILE`, the host's `fs.file-max`).
//! Each predicts the next instance's cost from what the instances so far
//! took, and stops the series while one more still fits.

use super::*;

/// Share of an open-files limit a series may reach (95 %): the rest is for
/// what the harness opens besides the instances (results files, `/proc`
/// reads, the engine's sockets).
const OPEN_FILES_FRACTION: f64 = 0.95;

/// Descriptors assumed for the first instance, before any was measured:
/// a process's stdin and stdout pipes and a pidfd, or a container's FIFOs.
const FIRST_INSTANCE_FILES: u64 = 4;

/// One open-files limit: its value, and the count before the first instance.
struct FileLimit {
    /// The limit (`RLIMIT_NOFILE` or `fs.file-max`).
    limit: u64,
    /// Open at the series' baseline.
    base: u64,
    /// Reads the count now.
    read: fn() -> Option<u64>,
    /// The limit in words, for the stop detail.
    what: &'static str,
}

impl FileLimit {
    fn new(limit: Option<u64>, read: fn() -> Option<u64>, what: &'static str) -> Option<Self> {
        Some(FileLimit {
            limit: limit?,
            base: read()?,
            read,
            what,
        })
    }

    /// The stop, if one more instance at the cost so far would pass
    /// [`OPEN_FILES_FRACTION`] of the limit with `n` live.
    fn check(&self, n: u64) -> Option<(DensityStop, String)> {
        let now = (self.read)()?;
        let per = if n == 0 {
            FIRST_INSTANCE_FILES
        } else {
            now.saturating_sub(self.base).div_ceil(n).max(1)
        };
        let bound = (self.limit as f64 * OPEN_FILES_FRACTION) as u64;
        (now + per > bound).then(|| {
            (
                DensityStop::OpenFiles,
                format!(
                    "{now} open files + {per} per instance would exceed {bound} ({:.0} % of {} {})",
                    OPEN_FILES_FRACTION * 100.0,
                    self.what,
                    self.limit
                ),
            )
        })
    }
}

/// The limits one series watches; each is checked only where it can be read
/// (a limit that cannot be is said so in the series' errors, never taken as
/// 0 or as unlimited).
pub(super) struct Limits {
    /// (task limit, host threads at the baseline).
    tasks: Option<(u64, u64)>,
    task_limit_fraction: f64,
    maps: Option<MapWatch>,
    files: Vec<FileLimit>,
}

impl Limits {
    /// The limits as the host has them now, before the first instance;
    /// limits that cannot be read are reported in `log`.
    pub(super) fn read(settings: &Settings, log: &mut SeriesLog) -> Limits {
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
        let files: Vec<FileLimit> = [
            // Raised to its hard limit when the experiment began.
            FileLimit::new(
                open_files_limit(),
                own_open_files,
                "the harness process's open-files limit (RLIMIT_NOFILE)",
            ),
            FileLimit::new(
                file_max(),
                host_open_files,
                "the host's open-files limit (fs.file-max)",
            ),
        ]
        .into_iter()
        .flatten()
        .collect();
        if files.len() < 2 {
            log.failures.push(StartFailure::new(
                Phase::Density,
                FailureKind::Host,
                "an open-files limit is not checked in this series: RLIMIT_NOFILE, /proc/self/fd, fs.file-max or fs.file-nr cannot be read",
            ));
        }
        Limits {
            tasks,
            task_limit_fraction: settings.task_limit_fraction,
            maps: max_map_count().map(MapWatch::new),
            files,
        }
    }

    /// The limit that stops the series before one more instance, with `n`
    /// live and the runner process `shared_pid` (embedded runtimes).
    pub(super) fn check(
        &mut self,
        n: u64,
        shared_pid: Option<u32>,
    ) -> Option<(DensityStop, String)> {
        if let Some((task_limit, base_threads)) = self.tasks
            && let Some(threads) = host_threads()
        {
            let per_threads = if n == 0 {
                8
            } else {
                threads.saturating_sub(base_threads).div_ceil(n).max(1)
            };
            let task_bound = (task_limit as f64 * self.task_limit_fraction) as u64;
            if threads + per_threads > task_bound {
                return Some((
                    DensityStop::TaskLimit,
                    format!(
                        "{threads} threads on the host + {per_threads} per instance would exceed {task_bound} ({:.0} % of the task limit {task_limit} = min(kernel.pid_max, kernel.threads-max))",
                        self.task_limit_fraction * 100.0
                    ),
                ));
            }
        }
        if let (Some(pid), Some(maps)) = (shared_pid, self.maps.as_mut())
            && let Some((now_maps, per)) = maps.predict(pid, n)
            && maps.stops(now_maps, per)
        {
            return Some((
                DensityStop::MapLimit,
                format!(
                    "the runner process holds {now_maps} memory mappings (~{per} per instance: thread stack, signal stacks, linear memory and table slots) and vm.max_map_count is {}: one more instance risks an mmap failure that takes every instance down; raise the limit (`sysctl -w vm.max_map_count=262144`, done by scripts/setup.sh)",
                    maps.limit
                ),
            ));
        }
        self.files.iter().find_map(|f| f.check(n))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs a series against a simulated mapping count `maps(n)` with the
    /// map-limit rule of [`Limits::check`]: the instance it stops at, the
    /// true count there, and how many times the maps file was read.
    fn map_series(limit: u64, maps: impl Fn(u64) -> u64) -> (u64, u64, u32) {
        let mut w = MapWatch::new(limit);
        let mut reads = 0;
        for n in 0.. {
            let (now, per) = w
                .observe(n, || {
                    reads += 1;
                    Some(maps(n))
                })
                .expect("the simulated reading never fails");
            if w.stops(now, per) {
                return (n, maps(n), reads);
            }
        }
        unreachable!()
    }

    #[test]
    fn the_map_limit_is_watched_with_a_logarithmic_number_of_reads() {
        // wasmtime-pooling measured here: ~11 mappings per instance over a
        // baseline of ~5,000, vm.max_map_count 262,144. Reading at every
        // start near the limit (the rule before) read the file ~5,700 times.
        let (n, at, reads) = map_series(262_144, |n| 5_000 + 11 * n);
        assert!(reads <= 60, "{reads} reads of the maps file");
        // The stop is where reading at every start puts it: the last
        // instance whose next two would stay under 95 % of the limit.
        assert_eq!(n, (262_144 * 95 / 100 - 5_000 - 22) / 11 + 1);
        assert!(at <= 262_144 * 95 / 100);
        // A per-instance cost that triples past 20,000 instances is caught
        // before the limit itself is reached.
        let (_, at, _) = map_series(262_144, |n| {
            if n <= 20_000 {
                5_000 + 11 * n
            } else {
                5_000 + 11 * 20_000 + 33 * (n - 20_000)
            }
        });
        assert!(at < 262_144, "{at} mappings: past the limit");
    }

    #[test]
    fn open_files_stop_one_instance_short_of_the_bound() {
        // 100 live instances took 300 descriptors over a base of 50: 3 each.
        fn at_350() -> Option<u64> {
            Some(350)
        }
        let f = |limit| FileLimit {
            limit,
            base: 50,
            read: at_350,
            what: "a limit",
        };
        // 95 % of 372 is 353: 350 + 3 fits; 95 % of 371 is 352: it does not.
        assert_eq!(f(372).check(100), None);
        let (stop, detail) = f(371).check(100).expect("stops");
        assert_eq!(stop, DensityStop::OpenFiles);
        assert!(
            detail.contains("350 open files + 3 per instance would exceed 352"),
            "{detail}"
        );
        // Before the first instance its cost is assumed (4), not zero: 95 %
        // of 373 is 354 = 350 + 4, which fits; of 372, 353 does not.
        assert!(f(373).check(0).is_none());
        assert!(f(372).check(0).is_some());
    }
}
