//! The coldbench data contract: what a results file (`run.json`) holds.
//!
//! Everything the reports show is rendered from these types, read back from a
//! results file, never from a live run. Every duration is an integer number of
//! nanoseconds (`*_ns`) on `CLOCK_MONOTONIC`; every size is bytes (`*_bytes`).
//! Raw HDR histograms are kept beside the summaries (V2 + deflate, base64), so
//! that percentiles can be recomputed and histograms merged later.
//!
//! The JSON Schema of the file is [`RUN_SCHEMA_JSON`] (`results/schema/run.schema.json`).
//! This crate has no runtime dependencies on any target or engine.

#![deny(missing_docs)]

mod histogram;

pub use histogram::{
    HistogramError, LatencyHistogram, MedianInterval, SIGNIFICANT_DIGITS, Summary,
    median_interval_ranks,
};

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;

/// Version of the results-file schema written by this crate.
pub const SCHEMA_VERSION: u32 = 1;

/// The JSON Schema (draft 2020-12) of `run.json`.
pub const RUN_SCHEMA_JSON: &str = include_str!("../schema/run.schema.json");

/// Errors reading or writing a results file.
#[derive(Debug, thiserror::Error)]
pub enum ResultsError {
    /// The file could not be read or written.
    #[error("cannot access results file {path}: {source}")]
    Io {
        /// File path.
        path: String,
        /// Underlying error.
        source: std::io::Error,
    },
    /// The file is not a valid results file.
    #[error("{path} is not a coldbench results file: {source}")]
    Parse {
        /// File path.
        path: String,
        /// Underlying error.
        source: serde_json::Error,
    },
    /// The file was written by an incompatible schema version.
    #[error("{path} has schema_version {found}; this build reads {SCHEMA_VERSION}")]
    Version {
        /// File path.
        path: String,
        /// Version found in the file.
        found: u32,
    },
}

/// A measured quantity. Phases a target does not have are absent, never zero.
/// In-target phases are declared in timeline order (reports sort by it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    /// Work done before any request and not part of cold start (image build, module precompile).
    Prepare,
    /// Harness start call → ready marker read (the isolation cost).
    TReady,
    /// Harness start call → first complete, verified response.
    TFirstResponse,
    /// Last response → instance resources released (process reaped, container removed, store dropped).
    TTeardown,
    /// Process-per-instance runtimes (node): harness spawn → the runner's first
    /// statement (the runtime's own process start, before any Wasm work).
    TRuntimeBoot,
    /// Embedded runtimes: harness start call → the runner read the start
    /// command (building and writing the frame, the pipe, the runner's
    /// control loop). The first of the runner phases, which add up to
    /// `t_ready` sample by sample.
    TRunnerDispatch,
    /// In-runner: start command read → the instance's thread running it
    /// (handing the start to a pre-spawned thread, or spawning one).
    TRunnerHandoff,
    /// In-runner: instance thread running (start command read, for runners
    /// that take no thread stamp) → module compiled (jit), deserialized (aot)
    /// or parsed (interpreter). Absent where nothing is done per start
    /// (`wasmtime-pooling`: the module was deserialized at prepare).
    TRunnerModule,
    /// In-runner: the previous stamp (module ready; the instance thread
    /// running if there is no module phase) → instance created (WASI context,
    /// store, linking, memory, data segments).
    TRunnerInstantiate,
    /// In-runner: instance created → the guest's first stdout bytes (its ready
    /// marker) handed to the runner's event pipe: the guest's `_start` up to
    /// `main` and its first write.
    TGuestReady,
    /// Embedded runtimes: the ready marker handed to the runner's event pipe →
    /// the harness read the ready line (the pipe, the harness's event thread,
    /// the hand-over to the measuring thread). The last runner phase.
    TReadyReturn,
}

impl Metric {
    /// Stable snake_case name used in files and tables.
    pub fn name(self) -> &'static str {
        match self {
            Metric::Prepare => "prepare",
            Metric::TReady => "t_ready",
            Metric::TFirstResponse => "t_first_response",
            Metric::TTeardown => "t_teardown",
            Metric::TRunnerDispatch => "t_runner_dispatch",
            Metric::TRunnerHandoff => "t_runner_handoff",
            Metric::TRunnerModule => "t_runner_module",
            Metric::TRunnerInstantiate => "t_runner_instantiate",
            Metric::TGuestReady => "t_guest_ready",
            Metric::TReadyReturn => "t_ready_return",
            Metric::TRuntimeBoot => "t_runtime_boot",
        }
    }
}

/// One complete results file.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunFile {
    /// [`SCHEMA_VERSION`] of the writer.
    pub schema_version: u32,
    /// Tool that wrote the file.
    pub tool: ToolInfo,
    /// UTC time the run started, RFC 3339.
    pub started_utc: String,
    /// Wall-clock duration of the whole run, ns.
    pub duration_ns: u64,
    /// Free-form label given with `--label` (part of the results directory name).
    pub label: String,
    /// True if the run was interrupted (Ctrl-C): what was measured until then is kept.
    pub interrupted: bool,
    /// The machine the run happened on.
    pub host: HostFingerprint,
    /// How the run was configured.
    pub config: RunConfig,
    /// Every target variant considered, with its knobs, whether it ran, and why not.
    pub targets: Vec<TargetRecord>,
    /// The cases (workload + inputs + parameters) the run used.
    pub cases: Vec<CaseRecord>,
    /// Measured distributions, one per workload × target × metric.
    pub results: Vec<MetricResult>,
    /// Per workload × target: how many responses were checked against native.
    pub verification: Vec<VerificationRecord>,
    /// Everything that went wrong, as data: a failed sample is never a fast sample.
    pub errors: Vec<ErrorRecord>,
    /// Closed-loop throughput cells (`coldbench throughput`), one per row ×
    /// target × mode; absent from cold-start-only runs.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub throughput: Vec<ThroughputResult>,
    /// Density series (`coldbench density`), one per workload × target;
    /// absent from runs that measured no density.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub density: Vec<DensitySeries>,
}

impl RunFile {
    /// Writes the file as pretty JSON.
    ///
    /// Errors: [`ResultsError::Io`] if the file cannot be written.
    pub fn write(&self, path: &Path) -> Result<(), ResultsError> {
        let io = |source| ResultsError::Io {
            path: path.display().to_string(),
            source,
        };
        let json = serde_json::to_vec_pretty(self).expect("RunFile serializes");
        std::fs::write(path, json).map_err(io)
    }

    /// Reads and checks a results file.
    ///
    /// Errors: [`ResultsError::Io`], [`ResultsError::Parse`] or [`ResultsError::Version`].
    pub fn read(path: &Path) -> Result<RunFile, ResultsError> {
        let p = path.display().to_string();
        let bytes = std::fs::read(path).map_err(|source| ResultsError::Io {
            path: p.clone(),
            source,
        })?;
        let v: serde_json::Value =
            serde_json::from_slice(&bytes).map_err(|source| ResultsError::Parse {
                path: p.clone(),
                source,
            })?;
        let found = v
            .get("schema_version")
            .and_then(|x| x.as_u64())
            .unwrap_or(0) as u32;
        if found != SCHEMA_VERSION {
            return Err(ResultsError::Version { path: p, found });
        }
        serde_json::from_value(v).map_err(|source| ResultsError::Parse { path: p, source })
    }

    /// The result for `workload` × `target` × `metric`, if measured.
    pub fn result(&self, workload: &str, target: &str, metric: Metric) -> Option<&MetricResult> {
        self.results
            .iter()
            .find(|r| r.workload == workload && r.target == target && r.metric == metric)
    }
}

/// The program that wrote a results file.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ToolInfo {
    /// Always `coldbench`.
    pub name: String,
    /// Crate version of the harness.
    pub version: String,
    /// `git rev-parse HEAD` of the source tree, or `unknown`.
    pub git_revision: String,
    /// The full command line, argv joined by spaces.
    pub command_line: String,
}

/// Facts about the host that make a figure comparable (or not) with another.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct HostFingerprint {
    /// Host name.
    pub hostname: String,
    /// CPU model string.
    pub cpu_model: String,
    /// Logical CPUs.
    pub cpu_logical_cores: u32,
    /// Total memory, bytes.
    pub memory_total_bytes: u64,
    /// Kernel release (`uname -r`).
    pub kernel: String,
    /// OS name and version.
    pub os: String,
    /// `1`, `2` or `hybrid` (from /sys/fs/cgroup).
    pub cgroup_version: String,
    /// Docker engine facts, absent if the engine was unreachable.
    pub docker: Option<DockerEngineInfo>,
    /// Crate or program versions of every runtime involved, e.g. `wasmtime` → `48.0.8`.
    pub runtime_versions: BTreeMap<String, String>,
}

/// What the Docker engine reported about itself.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DockerEngineInfo {
    /// Engine version, e.g. `20.10.24+dfsg1`.
    pub engine_version: String,
    /// API version negotiated with the engine.
    pub api_version: String,
    /// Default OCI runtime name, e.g. `runc`.
    pub default_runtime: String,
    /// Storage driver, e.g. `overlay2`.
    pub storage_driver: String,
    /// Cgroup driver, e.g. `cgroupfs`.
    pub cgroup_driver: String,
}

/// The run's configuration.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunConfig {
    /// Measured starts per case and target.
    pub runs: u32,
    /// Discarded warm-up starts per case and target.
    pub warmup: u32,
    /// Seed of the RNG that interleaves targets.
    pub seed: u64,
    /// Workloads selected.
    pub workloads: Vec<String>,
    /// Target variant ids selected.
    pub targets: Vec<String>,
    /// Directory the inputs were read from.
    pub inputs_dir: String,
    /// Bound on every wait for an instance (ready, response, teardown), ms.
    pub timeout_ms: u64,
    /// How the throughput cells were run, when the run measured throughput.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub throughput: Option<ThroughputConfig>,
    /// How the density series were run, when the run measured density.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub density: Option<DensityConfig>,
}

/// The configuration of a throughput run (`coldbench throughput`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ThroughputConfig {
    /// Concurrent closed-loop clients per cell (each owns its own instance or
    /// starts its own instances; a new request is sent only after the previous
    /// response).
    pub clients: u32,
    /// Minimum measurement window per cell, ns.
    pub duration_ns: u64,
    /// Minimum verified requests per cell; the window is extended until reached
    /// (bounded by `max_cell_ns`).
    pub min_requests: u64,
    /// Hard bound on a cell's measurement window, ns.
    pub max_cell_ns: u64,
    /// Requests per client run and discarded before the window opens.
    pub warmup_requests: u32,
    /// Number of equal batches the window is cut into for the requests/s
    /// interval (batch means, Student t, 95 %).
    pub batches: u32,
    /// Modes measured: `reused`, `instance_per_request`.
    pub modes: Vec<ThroughputMode>,
    /// Median cost of reading the harness clock twice back to back
    /// (`CLOCK_MONOTONIC`, the empty timing loop of DESIGN.md §4), ns.
    pub timer_overhead_ns: u64,
}

/// How a throughput client uses instances.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ThroughputMode {
    /// A long-lived instance per client serves every request.
    Reused,
    /// A fresh instance per request (start, ready, request, teardown), as
    /// function platforms do; latency is start call → verified response.
    InstancePerRequest,
}

impl ThroughputMode {
    /// Stable name used in files and tables.
    pub fn name(self) -> &'static str {
        match self {
            ThroughputMode::Reused => "reused",
            ThroughputMode::InstancePerRequest => "instance_per_request",
        }
    }
}

/// One throughput cell: a row (a workload, or a workload's CPU-heavy case) ×
/// target × mode, measured closed-loop.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ThroughputResult {
    /// Row name: the workload (`thumbnail`), or `hash-iterated` for the
    /// iterated SHA-256 case that answers the "13× slower" claim.
    pub row: String,
    /// Workload name.
    pub workload: String,
    /// Case names the clients cycled through, in order.
    pub cases: Vec<String>,
    /// Target variant id.
    pub target: String,
    /// How instances were used.
    pub mode: ThroughputMode,
    /// Concurrent clients.
    pub clients: u32,
    /// Measurement window (all clients past warm-up → stop), ns.
    pub window_ns: u64,
    /// Verified requests that started and completed inside the window.
    pub requests: u64,
    /// Why the window closed: `duration`, `max_cell`, `interrupted`, `clients_failed`.
    pub stop_reason: String,
    /// Requests per second over the window.
    pub rps: f64,
    /// 95 % interval of the requests/s (batch means over `batches` equal
    /// slices of the window, Student t); equal to `rps` when not computable.
    pub rps_ci95_low: f64,
    /// Upper end of the 95 % interval of the requests/s.
    pub rps_ci95_high: f64,
    /// Per-request latency inside the window, ns: request written → verified
    /// response (reused), or start call → verified response (instance per request).
    pub latency: Summary,
    /// The latency HDR histogram, V2 + deflate, base64, values in ns.
    pub latency_histogram_v2_deflate_b64: String,
    /// `native_rps / rps` for the same row and mode in the same run, with a
    /// conservative interval (`native_low / high`, `native_high / low`).
    /// Absent for `native` itself or when native was not measured.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slowdown_vs_native: Option<Ratio>,
    /// Requests that failed (start, timeout, protocol, rejection) in this cell.
    pub failed: u64,
    /// Responses whose checksum differed from native's (never counted as requests).
    pub mismatched: u64,
}

/// The configuration of a density run (`coldbench density`).
#[derive(Debug, Clone, Serialize, Deserialize)]
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
}

/// One density series: instances of one workload on one target, started one
/// at a time and kept alive and idle after one verified request.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DensitySeries {
    /// Workload name.
    pub workload: String,
    /// Target variant id.
    pub target: String,
    /// The case every instance answered once (its response verified against native).
    pub case: String,
    /// Live instances when the series stopped (all verified, all idle).
    pub instances: u64,
    /// Why it stopped: `max_instances`, `target_max`, `memory_floor`,
    /// `time_limit`, `task_limit`, `map_limit`, `swap`, `start_failed`, `interrupted`.
    pub stop_reason: String,
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

/// Host memory before a density series' first instance.
#[derive(Debug, Clone, Serialize, Deserialize)]
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
#[derive(Debug, Clone, Serialize, Deserialize)]
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
    /// Host `MemAvailable` now, bytes.
    pub mem_available_bytes: u64,
    /// Host: baseline `MemAvailable` − now, bytes (negative if memory was freed).
    pub host_delta_bytes: i64,
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
    /// Threads on the whole host (`/proc/loadavg`), for the task limit.
    pub host_threads: u64,
    /// How long taking this sample took, ns (not part of `t_reach_ns`).
    pub sample_ns: u64,
}

/// One per-instance memory figure with its source.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MemoryFigure {
    /// `host_mem_available`, `pss`, `uss`, `cgroup`, `docker_stats` or `linear_memory`.
    pub source: String,
    /// `host`, `attributable` or `engine_reported`.
    pub kind: String,
    /// Total at the last sample ÷ instances, bytes.
    pub bytes_per_instance: f64,
    /// Slope between the last two samples ((total₂ − total₁) / (N₂ − N₁)),
    /// bytes per added instance; absent with fewer than two samples.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub marginal_bytes_per_instance: Option<f64>,
}

/// Instances per host, projected.
#[derive(Debug, Clone, Serialize, Deserialize)]
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

/// A ratio with a 95 % interval.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct Ratio {
    /// The point estimate.
    pub ratio: f64,
    /// Lower end of the interval.
    pub ci95_low: f64,
    /// Upper end of the interval.
    pub ci95_high: f64,
}

/// One target variant (family + runtime + every knob).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TargetRecord {
    /// Stable variant id, e.g. `wasmtime-aot`.
    pub id: String,
    /// `native`, `wasm` or `container`.
    pub family: String,
    /// Runtime name, e.g. `wasmtime`, `docker`, `linux`.
    pub runtime: String,
    /// Runtime version.
    pub runtime_version: String,
    /// Every knob of the variant (strategy, image, OCI runtime, network mode, ...).
    pub knobs: BTreeMap<String, String>,
    /// Whether the variant ran in this run.
    pub available: bool,
    /// Why it did not run, and how to make it run.
    pub unavailable_reason: Option<String>,
    /// Artifact sizes per workload (module, precompiled module, binary, image).
    pub artifacts: Vec<Artifact>,
}

/// Size of one artifact a target runs.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Artifact {
    /// Workload name.
    pub workload: String,
    /// What it is: `wasm`, `cwasm`, `static_binary`, `image`.
    pub kind: String,
    /// Size, bytes.
    pub bytes: u64,
    /// Identity (path, image id).
    pub id: String,
}

/// One case: a workload applied to named input files with parameters.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CaseRecord {
    /// Workload name.
    pub workload: String,
    /// Case name, unique within the workload.
    pub case: String,
    /// Request parameters.
    pub params: BTreeMap<String, String>,
    /// Input files (relative to the inputs directory) and their sizes.
    pub inputs: Vec<InputFile>,
    /// CRC-32 of the native result every target must reproduce; absent if native rejected the input.
    pub expected_crc32: Option<String>,
}

/// An input file of a case.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct InputFile {
    /// Part name in the request.
    pub part: String,
    /// Path relative to the inputs directory.
    pub path: String,
    /// Size, bytes.
    pub bytes: u64,
}

/// A measured distribution.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MetricResult {
    /// Workload name.
    pub workload: String,
    /// Target variant id.
    pub target: String,
    /// What was measured.
    pub metric: Metric,
    /// Summary statistics (ns).
    #[serde(flatten)]
    pub summary: Summary,
    /// The HDR histogram, V2 + deflate, base64 (standard alphabet), values in ns.
    pub histogram_v2_deflate_b64: String,
}

/// Verification counts for one workload × target.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct VerificationRecord {
    /// Workload name.
    pub workload: String,
    /// Target variant id.
    pub target: String,
    /// Responses whose checksum matched native (warm-ups included).
    pub verified: u64,
    /// Responses whose checksum differed from native (each also in `errors`).
    pub mismatched: u64,
}

/// One thing that went wrong.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ErrorRecord {
    /// Workload name, if the error concerns one.
    pub workload: Option<String>,
    /// Target variant id, if the error concerns one.
    pub target: Option<String>,
    /// Case name, if the error concerns one.
    pub case: Option<String>,
    /// Where it happened: `prepare`, `start`, `ready`, `request`, `verify`, `teardown`, `input`.
    pub phase: String,
    /// Short kind: `timeout`, `mismatch`, `rejected`, `unavailable`, `io`, ...
    pub kind: String,
    /// Human-readable message naming the thing and what to do.
    pub message: String,
}
