//! The density section: its configuration, one series per workload × target
//! with its samples, memory per instance by source and the projection per host
//! (docs/design.md §4).

use super::*;

/// The density section: how series ran and what they found.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct DensitySection {
    /// How the series were run.
    pub config: DensityConfig,
    /// One series per workload × target.
    pub series: Vec<DensitySeries>,
}

/// How the density series of a run were measured.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct DensityConfig {
    /// Largest number of live instances a series may reach (`--max-instances`).
    pub max_instances: u64,
    /// Per-target caps (`--max-per-target id=N`), target id or prefix → instances.
    pub per_target_max: BTreeMap<String, u64>,
    /// Memory floor as a fraction of `MemTotal` (0.25: a series stops before a
    /// start would leave `MemAvailable` below 25 % of the host's memory).
    pub memory_floor_fraction: f64,
    /// The floor in bytes on this host (`memory_floor_fraction × MemTotal`).
    pub memory_floor_bytes: u64,
    /// Bound on one series' wall time (starts, samples, not teardown), ns.
    pub series_time_limit_ns: u64,
    /// Fraction of the host's task limit (`min(kernel.pid_max,
    /// kernel.threads-max)`) the system's threads may reach before a series stops.
    pub task_limit_fraction: f64,
    /// Instance counts at which memory is sampled (1, 2, 5, 10, 20, 50, …).
    pub steps: Vec<u64>,
    /// Host memory the projection is made for, bytes (`--host-memory`,
    /// default this host's `MemTotal`).
    pub projection_host_memory_bytes: u64,
    /// `vm.max_map_count` during the run (memory mappings per process; bounds
    /// instances per runner process), if readable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vm_max_map_count: Option<u64>,
    /// The host's task limit during the run, `min(kernel.pid_max,
    /// kernel.threads-max)` (every thread takes a pid), if readable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task_limit: Option<u64>,
    /// `fs.file-max` during the run: open files the whole host may hold
    /// (`/proc/sys/fs/file-max`), if readable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_max: Option<u64>,
    /// The harness process's open-files limit during the run (its
    /// `RLIMIT_NOFILE` soft limit, raised to the hard limit at start): file
    /// descriptors one process may hold (pipes, sockets, FIFOs of the
    /// instances it drives), if readable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub harness_open_files_limit: Option<u64>,
}

/// One density series: instances of one workload on one target, started one
/// at a time and kept alive and idle after one verified request.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct DensitySeries {
    /// Workload name.
    pub workload: String,
    /// Target variant id.
    pub target: String,
    /// The case every instance answered once (its response verified against native).
    pub case: String,
    /// Live instances when the series stopped (all verified, all idle).
    pub instances: u64,
    /// Why it stopped.
    pub stop_reason: DensityStop,
    /// The stop in words: numbers that triggered it, or the error.
    pub stop_detail: String,
    /// Host state before the first instance (targets prepared, shared runner started).
    pub baseline: DensityBaseline,
    /// One sample per step reached, plus one at the stopping point.
    pub samples: Vec<DensitySample>,
    /// Every instance's `t_ready` (start call → ready line), ns.
    pub t_ready: Summary,
    /// `t_ready` HDR histogram, V2 + deflate, base64, values in ns.
    pub t_ready_histogram_v2_deflate_b64: String,
    /// Per-instance memory at the last sample, one entry per source.
    pub bytes_per_instance: Vec<MemoryFigure>,
    /// Instances per host, projected from the host `MemAvailable` figure (or PSS, see its assumption).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub projection: Option<DensityProjection>,
    /// Teardown of every instance at the end: wall time, ns.
    pub teardown_ns: u64,
    /// Instances whose teardown failed (each also in `errors`).
    pub teardown_failed: u64,
}

/// What a series' memory per instance rests on ([`DensitySeries::memory_per_instance`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PerInstanceBasis {
    /// The host's `MemAvailable` drop ÷ N (fixed costs such as a runner or
    /// an engine's daemons spread over those N).
    HostMemAvailable,
    /// PSS ÷ N, because it is larger than the host drop (at small N the
    /// host's counters can under-read what the instances' own pages take).
    PssLarger,
    /// PSS ÷ N, because the host drop did not resolve (no positive drop).
    PssHostUnresolved,
}

impl PerInstanceBasis {
    /// The basis in words.
    pub fn describe(self) -> &'static str {
        match self {
            PerInstanceBasis::HostMemAvailable => "host MemAvailable drop",
            PerInstanceBasis::PssLarger => "PSS, larger than the host MemAvailable drop",
            PerInstanceBasis::PssHostUnresolved => "PSS (the host drop did not resolve)",
        }
    }
}

/// Memory per instance by the one rule the density table, the ledger and
/// the sizing sheet share: of a series' per-instance `figures`, the larger
/// of the host `MemAvailable` drop and PSS, bytes, with which it was.
/// `None` when neither is positive.
pub fn memory_per_instance(figures: &[MemoryFigure]) -> Option<(f64, PerInstanceBasis)> {
    let fig = |src: MemorySource| {
        figures
            .iter()
            .find(|f| f.source == src)
            .map(|f| f.bytes_per_instance)
            .filter(|b| *b > 0.0)
    };
    match (fig(MemorySource::HostMemAvailable), fig(MemorySource::Pss)) {
        (Some(h), Some(p)) if p > h => Some((p, PerInstanceBasis::PssLarger)),
        (Some(h), _) => Some((h, PerInstanceBasis::HostMemAvailable)),
        (None, Some(p)) => Some((p, PerInstanceBasis::PssHostUnresolved)),
        (None, None) => None,
    }
}

impl DensitySeries {
    /// [`memory_per_instance`] of this series at its largest N.
    pub fn memory_per_instance(&self) -> Option<(f64, PerInstanceBasis)> {
        memory_per_instance(&self.bytes_per_instance)
    }

    /// Instances a host of `host_memory_bytes` holds when memory is the
    /// only limit and `floor_fraction` of it is kept free, by
    /// [`DensitySeries::memory_per_instance`].
    pub fn instances_per_host(&self, host_memory_bytes: u64, floor_fraction: f64) -> Option<u64> {
        let (per, _) = self.memory_per_instance()?;
        Some(instances_in_memory(host_memory_bytes, floor_fraction, per))
    }
}

/// Instances of `bytes_per_instance` each that fit in `host_memory_bytes`
/// with `floor_fraction` of it kept free (rounded down): the one capacity
/// formula of the projection, the ledger and the sizing sheet.
pub fn instances_in_memory(
    host_memory_bytes: u64,
    floor_fraction: f64,
    bytes_per_instance: f64,
) -> u64 {
    (usable_memory_bytes(host_memory_bytes, floor_fraction) / bytes_per_instance).floor() as u64
}

/// The memory of a host of `host_memory_bytes` left once `floor_fraction`
/// of it is kept free, bytes.
pub fn usable_memory_bytes(host_memory_bytes: u64, floor_fraction: f64) -> f64 {
    host_memory_bytes as f64 * (1.0 - floor_fraction)
}

/// Host memory before a density series' first instance.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct DensityBaseline {
    /// `MemTotal`, bytes.
    pub mem_total_bytes: u64,
    /// `MemAvailable`, bytes.
    pub mem_available_bytes: u64,
    /// PSS of the shared host process (embedded runtimes' runner), bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shared_host_pss_bytes: Option<u64>,
    /// USS (`Private_Clean + Private_Dirty`) of the shared host process, bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shared_host_uss_bytes: Option<u64>,
}

/// Memory with `instances` live instances. Totals over all instances (divide
/// by `instances` for per-instance figures); a source a target does not have
/// is absent, never zero.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct DensitySample {
    /// Live, idle, verified instances.
    pub instances: u64,
    /// Wall time spent starting instances 1..=N (start → verified response,
    /// sampling pauses excluded), ns.
    pub t_reach_ns: u64,
    /// `t_ready` of the N-th instance, ns.
    pub t_ready_last_ns: u64,
    /// Median `t_ready` of the instances started since the previous sample, ns.
    pub t_ready_window_p50_ns: u64,
    /// Host `MemAvailable` now, bytes; absent when `/proc/meminfo` could
    /// not be read at this sample (the series' errors say so).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mem_available_bytes: Option<u64>,
    /// Host: baseline `MemAvailable` − now, bytes (negative if memory was
    /// freed); absent with `mem_available_bytes`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host_delta_bytes: Option<i64>,
    /// Attributable: PSS summed over the instances' processes (containers:
    /// container processes + containerd shim and its children; embedded: the
    /// runner's PSS − its baseline), bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pss_bytes: Option<i64>,
    /// Attributable: USS (`Private_Clean + Private_Dirty`), same scope as `pss_bytes`, bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uss_bytes: Option<i64>,
    /// Attributable (containers): the containers' memory cgroups' usage
    /// (`memory.usage_in_bytes` on cgroup v1, `memory.current` on v2), summed, bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cgroup_bytes: Option<u64>,
    /// Engine-reported: Docker stats memory (`usage − cache` on cgroup v1,
    /// `usage − inactive_file` on v2, as `docker stats` shows it), or the Wasm
    /// runtime's linear-memory size (virtual, pages × 64 KiB), summed, bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub engine_bytes: Option<u64>,
    /// Processes whose PSS was summed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub processes: Option<u64>,
    /// Threads on the whole host (`/proc/loadavg`), for the task limit;
    /// absent when it could not be read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host_threads: Option<u64>,
    /// Memory mappings of the shared host process (embedded runtimes'
    /// runner: `/proc/PID/maps` lines), against `vm.max_map_count`; absent
    /// for process-per-instance targets.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub runner_maps: Option<u64>,
    /// Open files on the whole host (`/proc/sys/fs/file-nr`, its first
    /// field: file handles allocated), against `fs.file-max`; absent when
    /// it could not be read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host_open_files: Option<u64>,
    /// File descriptors the harness process holds (`/proc/self/fd`
    /// entries: its ends of the instances' pipes, sockets and FIFOs),
    /// against its `RLIMIT_NOFILE`; absent when it could not be read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub harness_open_files: Option<u64>,
    /// How long taking this sample took, ns (not part of `t_reach_ns`).
    pub sample_ns: u64,
}

/// One per-instance memory figure with its source.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct MemoryFigure {
    /// Where the figure comes from.
    pub source: MemorySource,
    /// Which of the three ways of reading memory the source is.
    pub kind: MemoryKind,
    /// Total at the last sample ÷ instances, bytes.
    pub bytes_per_instance: f64,
    /// Slope between the last two samples ((total₂ − total₁) / (N₂ − N₁)),
    /// bytes per added instance; absent with fewer than two samples.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub marginal_bytes_per_instance: Option<f64>,
}

/// Instances per host, projected.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct DensityProjection {
    /// Host memory projected for, bytes.
    pub host_memory_bytes: u64,
    /// Projected instances.
    pub instances: u64,
    /// The per-instance bytes used: host `MemAvailable` drop ÷ instances at
    /// the last sample, or PSS ÷ instances when the host drop did not resolve
    /// (the assumption says which).
    pub bytes_per_instance: f64,
    /// What the projection assumes.
    pub assumption: String,
}
