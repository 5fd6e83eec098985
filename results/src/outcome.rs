//! Outcomes and categories as enums: what a results file can say about a
//! failure, a stop, a memory source or a target family. Every value
//! serializes to the snake_case word that schema version 1 stored as a free
//! string, so version-1 files read into these types unchanged.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Implements `name()` (the stable snake_case word used in files and tables)
/// and `Display` for a fieldless enum.
macro_rules! named {
    ($t:ty { $($v:ident => $s:literal),+ $(,)? }) => {
        impl $t {
            /// Stable snake_case name, as written in `run.json`.
            pub fn name(self) -> &'static str {
                match self { $(Self::$v => $s),+ }
            }
        }
        impl std::fmt::Display for $t {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.name())
            }
        }
    };
}

/// The experiments a run can hold (each is one section of `run.json`).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Experiment {
    /// Start → ready → first verified response → teardown, phase by phase.
    ColdStart,
    /// Idle instances kept alive one by one; memory per instance.
    Density,
    /// Closed-loop load: requests/s, latency, slowdown against native.
    Throughput,
}
named!(Experiment { ColdStart => "cold_start", Density => "density", Throughput => "throughput" });

/// What kind of host starts a target's instances.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Family {
    /// The workload's static binary as a process.
    Native,
    /// A Wasm module under a runtime (embedded in a runner, or V8 via node).
    Wasm,
    /// A container started by an engine.
    Container,
}
named!(Family { Native => "native", Wasm => "wasm", Container => "container" });

/// What one start of a target creates: the kind of start. Two cold-start
/// figures are like for like only when their kinds are equal
/// (docs/design.md §1, "Start paths").
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum StartKind {
    /// A new OS process (native binary, a runtime's CLI, node).
    NewProcess,
    /// A new container: an engine, an OCI runtime (runc, runsc) and a process
    /// in new namespaces and cgroups.
    NewContainer,
    /// A Wasm module in a new sandbox: a containerd Wasm shim (runwasi)
    /// making a container whose process is a Wasm runtime.
    WasmInSandbox,
    /// A new instance inside a runtime process that is already running
    /// (embedded runtimes' runner).
    InstanceInWarmProcess,
    /// A new process inside a container that is already running (`exec`
    /// through the engine): the container analogue of an instance in a warm
    /// runtime, as platforms with pre-warmed containers do.
    ProcessInWarmContainer,
}
named!(StartKind {
    NewProcess => "new_process", NewContainer => "new_container",
    WasmInSandbox => "wasm_in_sandbox", InstanceInWarmProcess => "instance_in_warm_process",
    ProcessInWarmContainer => "process_in_warm_container",
});

impl StartKind {
    /// Every kind, in the order a reader meets them (process, warm runtime,
    /// warm container, Wasm sandbox, container).
    pub const ALL: [StartKind; 5] = [
        StartKind::NewProcess,
        StartKind::InstanceInWarmProcess,
        StartKind::ProcessInWarmContainer,
        StartKind::WasmInSandbox,
        StartKind::NewContainer,
    ];

    /// The kind in a few words, for tables and chart legends.
    pub fn label(self) -> &'static str {
        match self {
            StartKind::NewProcess => "new process",
            StartKind::NewContainer => "new container",
            StartKind::WasmInSandbox => "Wasm in a new sandbox",
            StartKind::InstanceInWarmProcess => "instance in a warm process",
            StartKind::ProcessInWarmContainer => "process in a warm container",
        }
    }
}

/// What was done before a start's clock began (at prepare, or by the
/// previous starts), so that a reader sees what a figure leaves out.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum BeforeClock {
    /// The workload's binary or module was built (every target).
    ArtifactBuilt,
    /// The module was compiled ahead of time to a file (`.cwasm`, a wasmer
    /// artifact); each start still loads it.
    ModuleCompiledToFile,
    /// The module was compiled or deserialized into the warm process's
    /// memory once: a start only instantiates.
    ModuleLoadedInProcess,
    /// The runtime's process was started and is running.
    ProcessRunning,
    /// The container image (or the root filesystem) was built.
    ImageBuilt,
    /// The container was created and its first process is running.
    ContainerRunning,
}
impl BeforeClock {
    /// The step in a few words.
    pub fn label(self) -> &'static str {
        match self {
            BeforeClock::ArtifactBuilt => "artifact built",
            BeforeClock::ModuleCompiledToFile => "module compiled to a file",
            BeforeClock::ModuleLoadedInProcess => "module loaded in the process",
            BeforeClock::ProcessRunning => "runtime process running",
            BeforeClock::ImageBuilt => "image built",
            BeforeClock::ContainerRunning => "container running",
        }
    }
}
named!(BeforeClock {
    ArtifactBuilt => "artifact_built", ModuleCompiledToFile => "module_compiled_to_file",
    ModuleLoadedInProcess => "module_loaded_in_process", ProcessRunning => "process_running",
    ImageBuilt => "image_built", ContainerRunning => "container_running",
});

/// A target's start path: what one start creates and what was done before
/// its clock.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct StartPath {
    /// What one start creates.
    pub kind: StartKind,
    /// What was done before the clock, in the order it was done.
    pub before_clock: Vec<BeforeClock>,
}

impl StartPath {
    /// The path for what a start creates and what precedes it.
    pub fn new(kind: StartKind, before_clock: &[BeforeClock]) -> Self {
        StartPath {
            kind,
            before_clock: before_clock.to_vec(),
        }
    }

    /// The start path of a target recorded before start paths were (schema
    /// 2 files without the field), told from its family and id: runtime
    /// CLIs and node are new processes, containerd's Wasm shim is Wasm in
    /// a sandbox, `docker-exec-` a process in a warm container; other
    /// containers new containers, other Wasm targets instances in a warm
    /// runner.
    pub fn inferred(family: Family, id: &str) -> Self {
        use BeforeClock::*;
        match family {
            Family::Native => StartPath::new(StartKind::NewProcess, &[ArtifactBuilt]),
            Family::Container if id.starts_with("containerd-wasm") => {
                StartPath::new(StartKind::WasmInSandbox, &[ArtifactBuilt, ImageBuilt])
            }
            Family::Container if id.starts_with("docker-exec-") => StartPath::new(
                StartKind::ProcessInWarmContainer,
                &[ArtifactBuilt, ImageBuilt, ContainerRunning],
            ),
            Family::Container => {
                StartPath::new(StartKind::NewContainer, &[ArtifactBuilt, ImageBuilt])
            }
            Family::Wasm if id == "node" || id.starts_with("cli-") => {
                StartPath::new(StartKind::NewProcess, &[ArtifactBuilt])
            }
            Family::Wasm if id.contains("pooling") || id.ends_with("-preloaded") => StartPath::new(
                StartKind::InstanceInWarmProcess,
                &[ArtifactBuilt, ProcessRunning, ModuleLoadedInProcess],
            ),
            Family::Wasm => StartPath::new(
                StartKind::InstanceInWarmProcess,
                &[ArtifactBuilt, ProcessRunning],
            ),
        }
    }

    /// `kind` and what came before the clock, in words.
    pub fn describe(&self) -> String {
        let before: Vec<&str> = self.before_clock.iter().map(|b| b.label()).collect();
        format!(
            "{} (before the clock: {})",
            self.kind.label(),
            before.join(", ")
        )
    }
}

/// The condition cold starts were measured in: back to back (one target
/// alone) or interleaved with other targets in a seeded order. Native's
/// `noop` start on a 2-core host differs by about 2× between the two
/// (177-201 µs back to back vs 365-403 µs interleaved, issue 33), so a
/// pair of figures is like for like only in the same condition.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum StartCondition {
    /// One target: each start follows the previous one's teardown.
    BackToBack,
    /// Several targets, one start each per case and round, in an order drawn
    /// from the run's seed.
    Interleaved {
        /// How many targets took turns (this one included).
        targets: u32,
    },
}

impl StartCondition {
    /// The condition for a cold-start experiment over `targets` targets.
    pub fn for_targets(targets: usize) -> Self {
        if targets <= 1 {
            StartCondition::BackToBack
        } else {
            StartCondition::Interleaved {
                targets: targets as u32,
            }
        }
    }

    /// In words.
    pub fn describe(self) -> String {
        match self {
            StartCondition::BackToBack => "back to back".into(),
            StartCondition::Interleaved { targets } => {
                format!(
                    "interleaved with {} other targets",
                    targets.saturating_sub(1)
                )
            }
        }
    }
}

/// Where in a run something went wrong.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// Making a workload startable (image build, precompile).
    Prepare,
    /// The start call.
    Start,
    /// Waiting for the ready marker.
    Ready,
    /// Sending a request and reading its response.
    Request,
    /// Comparing the response with native's.
    Verify,
    /// Releasing the instance.
    Teardown,
    /// Reading or checking the inputs.
    Input,
    /// The density experiment itself (memory readings, host state).
    Density,
    /// The throughput experiment itself (a cell without a verified request).
    Throughput,
}
named!(Phase {
    Prepare => "prepare", Start => "start", Ready => "ready", Request => "request",
    Verify => "verify", Teardown => "teardown", Input => "input", Density => "density",
    Throughput => "throughput",
});

/// What went wrong.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum FailureKind {
    /// Something did not answer within its bound.
    Timeout,
    /// The instance's output ended before the expected line.
    Eof,
    /// The target (or the thing asked for) cannot run on this host.
    Unavailable,
    /// Anything else the target reported.
    Failed,
    /// The instance broke the stdio protocol.
    Protocol,
    /// The workload rejected the input (its own error response).
    Rejected,
    /// The response's checksum differs from native's.
    Mismatch,
    /// An input is missing or unreadable.
    Missing,
    /// An input file is malformed or truncated (e.g. an image without its
    /// end marker): the case is left out rather than measured on part of it.
    BadInput,
    /// A throughput cell finished no verified request in its window.
    NoRequests,
    /// A memory reading failed.
    MemorySource,
    /// A host reading (e.g. `/proc/meminfo`) failed.
    Host,
    /// Removing what the run left behind failed.
    Cleanup,
}
named!(FailureKind {
    Timeout => "timeout", Eof => "eof", Unavailable => "unavailable", Failed => "failed",
    Protocol => "protocol", Rejected => "rejected", Mismatch => "mismatch", Missing => "missing",
    NoRequests => "no_requests", MemorySource => "memory_source", Host => "host",
    Cleanup => "cleanup", BadInput => "bad_input",
});

/// Why a density series stopped.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum DensityStop {
    /// `--max-instances` reached.
    MaxInstances,
    /// A per-target cap reached.
    TargetMax,
    /// One more instance would leave `MemAvailable` below the floor.
    MemoryFloor,
    /// The series' time limit passed.
    TimeLimit,
    /// The host's threads would pass the task-limit fraction.
    TaskLimit,
    /// The runner's memory mappings would pass `vm.max_map_count`.
    MapLimit,
    /// Open files would pass 95 % of the harness process's `RLIMIT_NOFILE`
    /// or of the host's `fs.file-max`.
    OpenFiles,
    /// Swap use grew.
    Swap,
    /// A start failed (the detail says how).
    StartFailed,
    /// Ctrl-C.
    Interrupted,
    /// The harness died mid-series (killed outright): the series is what
    /// its journal held (`results::journal`), figures as of its last sample.
    HarnessStopped,
}
named!(DensityStop {
    MaxInstances => "max_instances", TargetMax => "target_max", MemoryFloor => "memory_floor",
    TimeLimit => "time_limit", TaskLimit => "task_limit", MapLimit => "map_limit", OpenFiles => "open_files", Swap => "swap",
    StartFailed => "start_failed", Interrupted => "interrupted",
    HarnessStopped => "harness_stopped",
});

/// Why a throughput cell's window closed.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum ThroughputStop {
    /// The minimum window and the minimum request count were both reached.
    Duration,
    /// The hard bound on the window was reached first.
    MaxCell,
    /// Ctrl-C.
    Interrupted,
    /// Every client gave up (three failures in a row each).
    ClientsFailed,
}
named!(ThroughputStop {
    Duration => "duration", MaxCell => "max_cell", Interrupted => "interrupted",
    ClientsFailed => "clients_failed",
});

/// Where a per-instance memory figure comes from.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum MemorySource {
    /// Host `MemAvailable` drop since the series' baseline.
    HostMemAvailable,
    /// Proportional set size of the instances' processes.
    Pss,
    /// Unique set size (`Private_Clean + Private_Dirty`) of the same processes.
    Uss,
    /// The containers' memory cgroups.
    Cgroup,
    /// Docker's stats (`usage − cache` / `usage − inactive_file`).
    DockerStats,
    /// The Wasm runtime's linear memories (virtual: pages × 64 KiB).
    LinearMemory,
}
named!(MemorySource {
    HostMemAvailable => "host_mem_available", Pss => "pss", Uss => "uss", Cgroup => "cgroup",
    DockerStats => "docker_stats", LinearMemory => "linear_memory",
});

impl MemorySource {
    /// Which kind of figure the source gives.
    pub fn kind(self) -> MemoryKind {
        match self {
            MemorySource::HostMemAvailable => MemoryKind::Host,
            MemorySource::Pss | MemorySource::Uss | MemorySource::Cgroup => {
                MemoryKind::Attributable
            }
            MemorySource::DockerStats | MemorySource::LinearMemory => MemoryKind::EngineReported,
        }
    }
}

/// The three ways density reads memory.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum MemoryKind {
    /// Everything the instances cost the host.
    Host,
    /// The instances' own processes and cgroups.
    Attributable,
    /// What the engine or runtime says.
    EngineReported,
}
named!(MemoryKind { Host => "host", Attributable => "attributable", EngineReported => "engine_reported" });

/// What an artifact is.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum ArtifactKind {
    /// The `wasm32-wasip1` module.
    Wasm,
    /// A wasmtime precompiled module.
    Cwasm,
    /// A wasmer serialized artifact.
    WasmerArtifact,
    /// The static musl binary.
    StaticBinary,
    /// A container image built for the workload.
    Image,
    /// The base image under the workload images.
    BaseImage,
}
named!(ArtifactKind {
    Wasm => "wasm", Cwasm => "cwasm", WasmerArtifact => "wasmer_artifact",
    StaticBinary => "static_binary", Image => "image", BaseImage => "base_image",
});

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_the_serialized_words() {
        for s in [
            DensityStop::MaxInstances,
            DensityStop::MapLimit,
            DensityStop::StartFailed,
        ] {
            assert_eq!(serde_json::to_value(s).unwrap(), s.name());
        }
        for k in [FailureKind::NoRequests, FailureKind::MemorySource] {
            assert_eq!(serde_json::to_value(k).unwrap(), k.name());
        }
        assert_eq!(
            serde_json::to_value(MemorySource::HostMemAvailable).unwrap(),
            "host_mem_available"
        );
        assert_eq!(MemorySource::DockerStats.kind(), MemoryKind::EngineReported);
    }
}
