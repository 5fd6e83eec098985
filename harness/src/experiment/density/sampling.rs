//! Sampling a series: memory from the host (`MemAvailable`), the instances' own
//! processes (PSS/USS) and cgroups, and the engine; the memory-mapping watch of
//! a runner; per-instance figures by source.

use super::*;

/// Sums per-instance sources at one moment.
pub(super) struct Sampler<'a> {
    pub(super) baseline: &'a DensityBaseline,
    pub(super) shared_pid: Option<u32>,
    pub(super) timeout: Duration,
}

impl Sampler<'_> {
    /// Samples memory with `live` instances. `t_reach_ns` and
    /// `t_ready_last_ns` go into the sample as they are; `window` (the
    /// `t_ready`s since the previous sample) is summarized and emptied.
    pub(super) fn sample(
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
                    Err(e) => problems.push(e.to_string()),
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
                    problems.push(e.to_string());
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
                            problems.push(e.to_string());
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
                        problems.push(e.to_string());
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
            host_open_files: host_open_files(),
            harness_open_files: own_open_files(),
            sample_ns: t0.elapsed().as_nanos() as u64,
        }
    }
}

/// Watches a shared host process's memory-mapping count (`/proc/PID/maps`
/// lines) against `vm.max_map_count` without reading a huge maps file at
/// every start (the kernel writes a line per mapping at each read). Between
/// readings the count is predicted from the mappings per instance measured
/// so far; a reading is due ([`MapWatch::must_read`]) when a quarter of the
/// predicted headroom to the stop threshold has been used since the last
/// one, or when the series has grown by a quarter (at least 256 instances):
/// a series of N instances reads the file O(log N) times, not O(N). With a
/// re-read at every start within 20 % of the limit, a 24,692-instance
/// wasmtime-pooling series (249,023 mappings at its end) took 7 min 38 s,
/// 7 min 24 s of it system time (2026-12-08, one run). A per-instance rate
/// growing more than fourfold between two readings could pass the threshold
/// unseen; the 5 % above it is the margin for that.
pub(super) struct MapWatch {
    /// `vm.max_map_count`.
    pub(super) limit: u64,
    /// (instances, mappings) at the baseline and at the last reading.
    pub(super) first: Option<(u64, u64)>,
    pub(super) last: Option<(u64, u64)>,
}

impl MapWatch {
    pub(super) fn new(limit: u64) -> MapWatch {
        MapWatch {
            limit,
            first: None,
            last: None,
        }
    }

    /// The mapping count at which the series stops: 95 % of the limit.
    fn stop_at(&self) -> u64 {
        self.limit * 95 / 100
    }

    /// Whether a series holding `now` mappings, `per` per instance, stops
    /// here: the next two instances would pass [`MapWatch::stop_at`].
    pub(super) fn stops(&self, now: u64, per: u64) -> bool {
        now + per.max(1) * 2 > self.stop_at()
    }

    /// Mappings per instance between the first and the last reading,
    /// rounded up (0 before two readings).
    fn per_instance(&self) -> u64 {
        match (self.first, self.last) {
            (Some((n0, m0)), Some((n1, m1))) if n1 > n0 => {
                (m1.saturating_sub(m0)).div_ceil(n1 - n0)
            }
            _ => 0,
        }
    }

    /// Whether the count must be read at instance `n` rather than
    /// predicted (see the type's documentation).
    fn must_read(&self, n: u64) -> bool {
        let Some((n1, m1)) = self.last else {
            return true;
        };
        if n < n1 || n >= n1 + 256.max(n1 / 4) {
            return true;
        }
        let headroom_instances = self.stop_at().saturating_sub(m1) / self.per_instance().max(1);
        n >= n1 + (headroom_instances / 4).max(1)
    }

    /// The runner `pid`'s mapping count at instance `n` (read from
    /// `/proc/PID/maps` or predicted) and mappings per instance.
    pub(super) fn predict(&mut self, pid: u32, n: u64) -> Option<(u64, u64)> {
        self.observe(n, || map_count(pid))
    }

    /// [`MapWatch::predict`] with the count read by `read` when a reading
    /// is due; `None` when that reading fails.
    pub(super) fn observe(
        &mut self,
        n: u64,
        read: impl FnOnce() -> Option<u64>,
    ) -> Option<(u64, u64)> {
        if self.must_read(n) {
            let m = read()?;
            if self.first.is_none() {
                self.first = Some((n, m));
            }
            self.last = Some((n, m));
            return Some((m, self.per_instance()));
        }
        let per = self.per_instance();
        self.last
            .map(|(n1, m1)| (m1 + per * n.saturating_sub(n1), per))
    }
}

/// Reads one source's total out of a sample, bytes (`None`: not measured).
pub(super) type SampleTotal = fn(&DensitySample) -> Option<f64>;

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
