//! What a run records besides its sections: the host fingerprint, the
//! configuration, the suite, every target with its knobs and artifacts, the
//! cases, verification counts and errors.

use super::*;

/// One reading of the harness's own process ([`RunFile::harness`]). A
/// reading that could not be taken is absent, never 0.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct HarnessSample {
    /// Since the run started, ns.
    pub t_ns: u64,
    /// Resident set (`VmRSS`), bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rss_bytes: Option<u64>,
    /// Open file descriptors (entries of `/proc/self/fd`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub open_fds: Option<u64>,
    /// Threads of the process.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub threads: Option<u64>,
}

/// A requested workload × target that produced no verified response
/// ([`RunFile::unmeasured`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unmeasured {
    /// Workload name.
    pub workload: String,
    /// Target variant id.
    pub target: String,
    /// Why, in one line.
    pub reason: String,
}

/// The preset a run followed: which experiments, cases, targets and budgets.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct SuiteRecord {
    /// Preset name: `default`, `ci` or `full`.
    pub name: String,
    /// What the preset is for, in one sentence.
    pub description: String,
    /// Experiments in the order they ran.
    pub experiments: Vec<Experiment>,
    /// The measuring time the plan expected before it started (prepare,
    /// reference checksums and every experiment; not the build), ns.
    pub expected_duration_ns: u64,
    /// The plan, one line per experiment (what runs where, with which budget),
    /// as printed at the start of the run.
    pub plan: Vec<String>,
}

/// The program that wrote a results file.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
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
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
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
    /// How idle CPUs wait (`/sys/devices/system/cpu/cpuidle`); absent in
    /// files written before it was recorded, or where the kernel has no
    /// cpuidle. On a VM it sets what every wake-up of a sleeping thread on
    /// another vCPU costs, so every start's hops (docs/design.md §1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu_idle: Option<CpuIdle>,
}

/// The kernel's idle-CPU policy, as read from sysfs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct CpuIdle {
    /// `current_driver`, e.g. `haltpoll` (a KVM guest), `intel_idle`, `acpi_idle`.
    pub driver: String,
    /// `current_governor`, e.g. `haltpoll`, `menu`, `teo`.
    pub governor: String,
    /// `/sys/module/haltpoll/parameters/guest_halt_poll_ns` when the guest
    /// halt-polling driver is loaded: how long an idle vCPU polls before it
    /// halts, ns (Linux's default 200000; 0: it halts at once, and waking it
    /// costs a VM exit and entry: ~22–26 µs more per cross-CPU hop on the
    /// 2-vCPU Firecracker guests of 2026-12-01 — wasmtime-pooling's hand-off
    /// and return, 3 alternated runs of n = 200; `scripts/tune-host.sh`).
    pub guest_halt_poll_ns: Option<u64>,
}

/// What the Docker engine reported about itself.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
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

/// What every experiment of a run shares.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct RunConfig {
    /// Seed of the RNG that interleaves targets (cold start) and orders cells (throughput).
    pub seed: u64,
    /// Workloads selected.
    pub workloads: Vec<String>,
    /// Target variant ids or prefixes selected.
    pub targets: Vec<String>,
    /// Directory the inputs were read from.
    pub inputs_dir: String,
    /// Bound on every wait for an instance (ready, response, teardown), ms.
    pub timeout_ms: u64,
}

/// One target variant (family + runtime + every knob).
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct TargetRecord {
    /// Stable variant id, e.g. `wasmtime-aot`.
    pub id: String,
    /// What kind of host starts its instances.
    pub family: Family,
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
    /// What one start creates and what was done before its clock (absent
    /// in files written before it was recorded: [`TargetRecord::start_path`]
    /// then tells it from the family and id).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start: Option<StartPath>,
}

impl TargetRecord {
    /// The start path as recorded, or as told from the family and id
    /// ([`StartPath::inferred`]) for older files.
    pub fn start_path(&self) -> StartPath {
        self.start
            .clone()
            .unwrap_or_else(|| StartPath::inferred(self.family, &self.id))
    }
}

/// Size of one artifact a target runs.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct Artifact {
    /// Workload name.
    pub workload: String,
    /// What it is.
    pub kind: ArtifactKind,
    /// Size, bytes.
    pub bytes: u64,
    /// Identity (path, image id).
    pub id: String,
}

/// One case: a workload applied to named input files with parameters.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
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
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct InputFile {
    /// Part name in the request.
    pub part: String,
    /// Path relative to the inputs directory.
    pub path: String,
    /// Size, bytes.
    pub bytes: u64,
}

/// Verification counts for one experiment × workload × target.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct VerificationRecord {
    /// The experiment whose responses these are (absent in files migrated
    /// from schema version 1 that cannot tell).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub experiment: Option<Experiment>,
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
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct ErrorRecord {
    /// The experiment it happened in; absent for what the run does before
    /// any experiment (inputs, prepare, reference checksums, clean-up).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub experiment: Option<Experiment>,
    /// Workload name, if the error concerns one.
    pub workload: Option<String>,
    /// Target variant id, if the error concerns one.
    pub target: Option<String>,
    /// Case name, if the error concerns one.
    pub case: Option<String>,
    /// Where it happened.
    pub phase: Phase,
    /// What went wrong.
    pub kind: FailureKind,
    /// Human-readable message naming the thing and what to do.
    pub message: String,
}
