//! Everything that starts instances of a workload: the [`Target`] boundary the
//! harness owns the clock around (sightglass `Measure`, hyperfine `Executor`).
//!
//! A target's `start` is the beginning of the timed region; its setup
//! (`prepare`: image build, module precompile) is timed separately and is never
//! part of cold start.

use crate::stream::LineReader;
use coldbench_containers::{DockerHost, EngineInfo};
use coldbench_results::{
    Artifact, ArtifactKind, BeforeClock, Family, Metric, StartKind, StartPath, TargetRecord,
};
use std::time::Duration;

pub mod cli;
pub mod containerd;
pub mod docker;
pub mod embedded;
#[cfg(test)]
pub mod fake;
pub mod native;
pub mod node;
pub mod versions;
pub mod wamr;

mod host;
pub use host::HostProbe;

/// The workload argument that makes it serve every request until end of
/// input instead of exiting after one (`coldbench_protocol::workload::serve`).
pub const SERVE_ARG: &str = "--serve";

/// The guest's arguments after its name for a start of `workload` (a
/// shipped workload in `serve` mode gets [`SERVE_ARG`]; a command its own
/// arguments, `serve` being meaningless for it).
pub fn workload_args(workload: &str, serve: bool) -> Vec<String> {
    match crate::artifacts::command(workload) {
        Some(c) => c.args.clone(),
        None if serve => vec![SERVE_ARG.to_string()],
        None => Vec::new(),
    }
}

/// Whether one of `workloads` is a command given a `--workload-dir`: the
/// targets that record how they give it (the `workload_dir` knob) then.
pub fn any_workload_dir<'a>(workloads: impl IntoIterator<Item = &'a String>) -> bool {
    workloads
        .into_iter()
        .any(|w| crate::artifacts::workload_dir(w).is_some())
}

/// Errors of a target, each naming the thing concerned.
#[derive(Debug, thiserror::Error)]
pub enum TargetError {
    /// The target cannot run on this host; the message says why and how to enable it.
    #[error("{0}")]
    Unavailable(String),
    /// Something did not answer within its bound.
    #[error("timed out: {0}")]
    Timeout(String),
    /// The workload ended with a non-zero exit status at teardown.
    #[error("{what} exited with status {code}")]
    Exited {
        /// What exited: `guest` (a Wasm instance's `proc_exit`), `process`,
        /// `container` or `exec'd process`.
        what: &'static str,
        /// Its exit status (a process's code; a Wasm guest's `proc_exit` argument).
        code: i64,
    },
    /// A start of a workload this target never prepared (a harness bug, or a
    /// preparation that failed and was not honoured).
    #[error("{workload} was never prepared on this target")]
    NotPrepared {
        /// The workload's name.
        workload: String,
    },
    /// Anything else, with context.
    #[error("{0}")]
    Failed(String),
}

/// Shorthand for results of target operations.
pub type TargetResult<T> = Result<T, TargetError>;

/// A family of instances (one target variant, e.g. `wasmtime-aot`).
pub trait Target: Send {
    /// Stable variant id (`native`, `wasmtime-jit`, `docker-scratch-runc-bridge`, ...).
    fn id(&self) -> &str;
    /// Version, knobs and artifact sizes, for the results file.
    fn record(&self) -> TargetRecord;
    /// Makes `workload` startable (not cold start). Returns the time it took, ns,
    /// if the target has such a phase.
    fn prepare(&mut self, workload: &str, timeout: Duration) -> TargetResult<Option<u64>>;
    /// [`Target::prepare`] for each of `workloads`, in their order: one
    /// result each. The default prepares them one after another; a target
    /// whose preparations wait on something else (the Docker engine's image
    /// builds) may overlap them, each result then giving its own wall time.
    fn prepare_all(
        &mut self,
        workloads: &[String],
        timeout: Duration,
    ) -> Vec<TargetResult<Option<u64>>> {
        workloads.iter().map(|w| self.prepare(w, timeout)).collect()
    }
    /// Starts one fresh instance of `workload`. Timed. `serve`: the workload
    /// gets [`SERVE_ARG`] and answers requests until its stdin closes (reused
    /// instances); otherwise it exits after one response (cold start).
    fn start(
        &mut self,
        workload: &str,
        serve: bool,
        timeout: Duration,
    ) -> TargetResult<Box<dyn Instance>>;
    /// Called after a sample failed (e.g. timed out) and its instance was
    /// dropped: release whatever may be stuck (a runner process with a hung
    /// instance) so the next start is clean, and say what was done.
    fn recover(&mut self) -> Recovery {
        Recovery::Nothing
    }
    /// Whether a start now would only wait for something the target
    /// depends on that went away and is expected back (the Docker engine
    /// restarting): `Some(why)` while it is, so that cold start defers this
    /// target's starts and measures the others meanwhile, and density and
    /// throughput wait before their clock starts
    /// ([`crate::steps::wait_until_startable`]); `None` (the
    /// default): start. Past its own bound a target says `None` again and
    /// its starts fail with the reason.
    fn waiting(&mut self) -> Option<String> {
        None
    }
    /// Times starts of `workload` (prepared first) as `plan` says, in
    /// process, inside the target's own host process, with no transport:
    /// what the runtime's per-start work costs at least.
    /// `None`: the target has no such host (the default); `Some(Err)`: it
    /// could not (the reason). `Ok((what was timed, one duration per
    /// measured start, ns))`.
    fn in_process_floor(
        &mut self,
        _workload: &str,
        _plan: &coldbench_protocol::runner::FloorPlan,
        _timeout: Duration,
    ) -> Option<Result<(String, Vec<u64>), String>> {
        None
    }
    /// For targets whose instances all live in one long-lived host process
    /// (embedded runtimes' runner): that process and what the runtime reports
    /// about its live instances. `None` for process-per-instance targets.
    fn shared_host(&mut self, _timeout: Duration) -> Option<SharedHost> {
        None
    }
    /// The engine's own account of each container's memory (Docker stats:
    /// `usage − cache` on cgroup v1, `usage − inactive_file` on v2), bytes, in
    /// the order of `container_ids`; `None` if the target keeps no such
    /// account (processes, embedded runtimes).
    fn engine_memory_bytes(
        &mut self,
        _container_ids: &[String],
        _timeout: Duration,
    ) -> Option<Vec<TargetResult<u64>>> {
        None
    }
}

/// What [`Target::recover`] did after a failure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recovery {
    /// Nothing was stuck (process-per-instance targets kill their own
    /// instance when it is dropped).
    Nothing,
    /// The runtime stopped the stuck instance itself (e.g. wasmtime's epoch
    /// deadline); its host process and other instances go on. The message
    /// says so.
    InstanceStopped(String),
    /// The shared host process (a runner) was killed or found dead, with
    /// every instance it held; the next start spawns a new one. The message
    /// says why.
    HostRestarted(String),
}

impl Recovery {
    /// The message to append to the failure that led here, if any.
    pub fn note(&self) -> Option<&str> {
        match self {
            Recovery::Nothing => None,
            Recovery::InstanceStopped(m) | Recovery::HostRestarted(m) => Some(m),
        }
    }
}

/// The host process shared by a target's instances, for density.
#[derive(Debug, Clone, Copy)]
pub struct SharedHost {
    /// Its pid.
    pub pid: u32,
    /// The runtime's count of live instances, if it reports one.
    pub live_instances: Option<u64>,
    /// The live instances' linear memories as the runtime reports them
    /// (pages × 64 KiB: virtual size, not resident), bytes.
    pub linear_memory_bytes: Option<u64>,
}

/// Where an instance's memory lives, for density.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MemoryScope {
    /// These processes are the instance (native, node).
    Processes(Vec<u32>),
    /// A container whose first process is `pid`: the instance is that process's
    /// containerd shim and everything under it (for gVisor: sandbox and gofer).
    Container {
        /// The container's init pid as the engine reports it.
        pid: u32,
        /// The container id.
        id: String,
    },
    /// The instance lives inside the target's [`SharedHost`] process.
    SharedHost,
    /// Not known (why).
    Unknown(String),
}

/// One running instance.
pub trait Instance: Send {
    /// Its stdout, as lines.
    fn stdout(&mut self) -> &mut LineReader;
    /// Sends bytes to its stdin.
    fn write_stdin(&mut self, bytes: &[u8], timeout: Duration) -> TargetResult<()>;
    /// Closes its stdin (end of input for the guest) and leaves it running:
    /// a command then finishes and its stdout ends. Closing twice is a no-op.
    fn close_stdin(&mut self) -> TargetResult<()>;
    /// Phases measured inside the target (e.g. in-runner compile and
    /// instantiate), ns, placed on the harness's timeline: `t0_ns` is the
    /// harness's `CLOCK_MONOTONIC` reading just before the start call,
    /// `ready_read_ns` the reading when the ready line was read (so
    /// `ready_read_ns - t0_ns` is `t_ready`).
    fn inner_phases(&mut self, _t0_ns: u64, _ready_read_ns: u64) -> Vec<(Metric, u64)> {
        Vec::new()
    }
    /// Closes stdin, waits for the instance to finish and releases everything it
    /// holds (process reaped, container removed, store dropped). Timed as `t_teardown`.
    fn teardown(self: Box<Self>, timeout: Duration) -> TargetResult<()>;
    /// What the instance reported on the side (stderr, runner errors), for error messages.
    fn diagnostics(&mut self) -> String {
        String::new()
    }
    /// Where its memory lives (asked once, after it answered a request).
    fn memory_scope(&mut self, _timeout: Duration) -> MemoryScope {
        MemoryScope::Unknown("this target does not say where its instances live".into())
    }
}

/// The container phases of one start from when its engine calls returned
/// (`[created, attached, started]`, `CLOCK_MONOTONIC` ns):
/// `t_container_create` from `t0_ns`, `t_container_attach`,
/// `t_container_start`, then `t_container_ready` up to `ready_read_ns` —
/// adding up to `t_ready`. Empty if the stamps are out of order.
pub(crate) fn container_phases(
    stamps: [u64; 3],
    t0_ns: u64,
    ready_read_ns: u64,
) -> Vec<(Metric, u64)> {
    stamped_phases(
        &[
            Metric::TContainerCreate,
            Metric::TContainerAttach,
            Metric::TContainerStart,
            Metric::TContainerReady,
        ],
        &stamps,
        t0_ns,
        ready_read_ns,
    )
}

/// The phases between `t0_ns`, each of `stamps` (when an engine call
/// returned, `CLOCK_MONOTONIC` ns) and `ready_read_ns`, named by `metrics`
/// (one more than the stamps): they add up to `t_ready`. Empty if the
/// stamps are out of order.
pub(crate) fn stamped_phases(
    metrics: &[Metric],
    stamps: &[u64],
    t0_ns: u64,
    ready_read_ns: u64,
) -> Vec<(Metric, u64)> {
    debug_assert_eq!(metrics.len(), stamps.len() + 1);
    let mut points = Vec::with_capacity(stamps.len() + 2);
    points.push(t0_ns);
    points.extend_from_slice(stamps);
    points.push(ready_read_ns);
    if points.windows(2).any(|w| w[0] > w[1]) {
        return Vec::new();
    }
    metrics
        .iter()
        .zip(points.windows(2))
        .map(|(m, w)| (*m, w[1] - w[0]))
        .collect()
}

/// A file's size in bytes, 0 if it cannot be read.
pub(crate) fn file_bytes(p: &std::path::Path) -> u64 {
    std::fs::metadata(p).map(|m| m.len()).unwrap_or(0)
}

/// The artifact record of a built file (`kind`: `wasm`, `static_binary`, ...):
/// its size in bytes and its path as the id.
pub(crate) fn file_artifact(
    workload: &str,
    kind: ArtifactKind,
    path: &std::path::Path,
) -> Artifact {
    Artifact {
        workload: workload.to_string(),
        kind,
        bytes: file_bytes(path),
        id: path.display().to_string(),
    }
}

/// `Ok` if the build output `path` (described as `what`, e.g. `Wasm module`)
/// exists, else [`TargetError::Unavailable`] saying how to rebuild it.
pub(crate) fn require_built(what: &str, path: &std::path::Path) -> TargetResult<()> {
    if path.is_file() {
        Ok(())
    } else {
        Err(TargetError::Unavailable(format!(
            "{what} {} is missing: rebuild with `cargo build --release`",
            path.display()
        )))
    }
}

/// A family of target variants: what a new kind of target implements beside
/// [`Target`] and [`Instance`]. A family lives in one file of this module,
/// which defines a `static FAMILY`, and joins with one line in [`FAMILIES`];
/// nothing else in the harness (suite, experiments, reports) names a family.
pub trait TargetFamily: Sync {
    /// This family's variants, in table order (ids unique across families).
    fn variants(&'static self) -> Vec<Variant>;
    /// `Ok` if `variant` can run on this host, else why not and how to
    /// enable it (what to install, which command).
    fn availability(&self, variant: &Variant, host: &HostProbe) -> Result<(), String>;
    /// A target for `variant`, which is available.
    fn build(&self, variant: &Variant, ctx: &BuildContext<'_>) -> Box<dyn Target>;
    /// The runtime's name and, where known without starting it, version,
    /// for the record of a variant that cannot run.
    fn runtime(&self, variant: &Variant, host: &HostProbe) -> (String, String);
    /// Planning priors of `variant` on `workload` (ETA only, never a result).
    fn priors(&self, variant: &Variant, workload: &str) -> Priors;
    /// Whether starts travel a coldbench runner's command pipe (then the
    /// session measures the transport floor, [`crate::floor`]).
    fn through_runner(&self) -> bool {
        false
    }
    /// Whether a prepared target's runtime version belongs in the host's
    /// `runtime_versions` (the engines a run depends on): every Wasm
    /// runtime's by default; containerd's too (Docker's engine is recorded
    /// apart, in `host.docker`).
    fn host_runtime(&self, record: &TargetRecord) -> bool {
        record.family == Family::Wasm
    }
    /// Removes the containers this family's engine holds for coldbench runs
    /// whose owner `dead` says is gone (never those of a live run), when the
    /// engine answers within `connect_timeout`; returns the owner of each
    /// container removed. Families that start no containers remove nothing
    /// (their processes are reaped by [`crate::reap::leftovers`] itself).
    fn reap_containers(
        &self,
        _me: &str,
        _connect_timeout: Duration,
        _dead: &dyn Fn(&str) -> bool,
    ) -> Vec<String> {
        Vec::new()
    }
}

/// What [`TargetFamily::reap_containers`] does once an engine answered:
/// of the `(container id, owner)` pairs it listed, removes (with `remove`)
/// those whose owner `dead` says is gone, and returns their owners.
pub(crate) fn remove_dead_owners(
    owned: Vec<(String, String)>,
    dead: &dyn Fn(&str) -> bool,
    remove: impl Fn(&str) -> bool,
) -> Vec<String> {
    owned
        .into_iter()
        .filter(|(id, owner)| dead(owner) && remove(id))
        .map(|(_, owner)| owner)
        .collect()
}

/// Every family this build knows, in table order: one line per family.
pub static FAMILIES: &[&dyn TargetFamily] = &[
    &native::FAMILY,
    &embedded::FAMILY,
    &versions::FAMILY,
    &wamr::FAMILY,
    &node::FAMILY,
    &cli::FAMILY,
    &docker::FAMILY,
    &containerd::FAMILY,
];

/// What [`TargetFamily::build`] gets: where precompiled modules go, the
/// session's workloads and its target settings.
pub struct BuildContext<'a> {
    /// Directory for precompiled modules and other per-run caches.
    pub cache_dir: &'a std::path::Path,
    /// The workloads the session will start (native and node prepare them).
    pub workloads: &'a [String],
    /// Settings that change how targets are built.
    pub options: &'a TargetOptions,
    /// What the host offers (engine connection, node).
    pub host: &'a HostProbe,
}

/// Planning priors of one variant on one workload, seconds: medians of the
/// reference host's default run (README), for the ETA printed before a run.
/// Never a result.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Priors {
    /// One start, start call → first response, s.
    pub start_s: f64,
    /// One teardown, s.
    pub teardown_s: f64,
    /// Preparing the workload (image build, precompile), s.
    pub prepare_s: f64,
    /// One density sample (memory of every instance read), s.
    pub density_sample_s: f64,
}

impl Priors {
    /// Priors with these start and teardown times, a 20 ms prepare and a
    /// 20 ms density sample.
    pub fn new(start_s: f64, teardown_s: f64) -> Self {
        Priors {
            start_s,
            teardown_s,
            prepare_s: 0.02,
            density_sample_s: 0.02,
        }
    }

    /// The same with this prepare time, s.
    pub fn with_prepare_s(mut self, prepare_s: f64) -> Self {
        self.prepare_s = prepare_s;
        self
    }

    /// The same with this density sample time, s.
    pub fn with_density_sample_s(mut self, s: f64) -> Self {
        self.density_sample_s = s;
        self
    }
}

/// Whether `workload` is one of the shipped workloads whose start does real
/// work (`json-validate`, `thumbnail`), for priors.
pub(crate) fn heavy(workload: &str) -> bool {
    workload == "json-validate" || workload == "thumbnail"
}

/// Prior of compiling `workload`'s module ahead of time, s (planning only).
pub(crate) fn compile_prior_s(workload: &str) -> f64 {
    match workload {
        "json-validate" => 3.0,
        "thumbnail" => 1.0,
        "hash" => 0.4,
        _ => 0.1,
    }
}

/// The start path of a process per start (native, node, a runtime's CLI):
/// only the artifact is built before the clock, plus `more`.
pub(crate) fn new_process(more: &[BeforeClock]) -> StartPath {
    let mut b = vec![BeforeClock::ArtifactBuilt];
    b.extend_from_slice(more);
    StartPath::new(StartKind::NewProcess, &b)
}

/// One target variant of the catalog.
#[derive(Clone)]
pub struct Variant {
    /// Stable id used by `--targets`, in `run.json` and in reports.
    pub id: String,
    /// `native`, `wasm` or `container`.
    pub family: Family,
    /// One line saying what a start of this variant does.
    pub description: String,
    /// What one start creates and what is done before its clock
    /// (recorded in `run.json`, used to pair like with like).
    pub start: StartPath,
    /// The family that builds it.
    pub provider: &'static dyn TargetFamily,
}

impl std::fmt::Debug for Variant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Variant")
            .field("id", &self.id)
            .field("family", &self.family)
            .finish()
    }
}

impl Variant {
    /// One line saying what a start of this variant does.
    pub fn describe(&self) -> String {
        self.description.clone()
    }

    /// Planning priors of this variant on `workload`.
    pub fn priors(&self, workload: &str) -> Priors {
        self.provider.priors(self, workload)
    }
}

/// Every variant this build knows, in table order.
pub fn catalog() -> Vec<Variant> {
    FAMILIES.iter().flat_map(|f| f.variants()).collect()
}

/// The variant with id `id`, if this build knows one.
pub fn variant(id: &str) -> Option<Variant> {
    catalog().into_iter().find(|v| v.id == id)
}

/// Whether `pattern` (from `--targets`) selects variant `id` (defined with
/// the data contract, so that reports select targets the same way).
pub use coldbench_results::selects;

/// Whether `pattern` (from `--targets` or a suite) picks variant `id` of
/// this build's catalog: a pattern that is itself a variant id picks that
/// variant only (`cli-wasmtime` is not `cli-wasmtime-aot`, `wamr-interp`
/// not `wamr-interp-preloaded`); any other pattern as [`selects`] (`all`,
/// or a prefix at a `-` boundary: `wamr`, `cli`, `docker-debian`).
pub fn picks(pattern: &str, id: &str) -> bool {
    if pattern == id {
        return true;
    }
    if catalog().iter().any(|v| v.id == pattern) {
        return false;
    }
    selects(pattern, id)
}

/// Settings that change how targets are built.
#[derive(Debug, Clone, Default)]
pub struct TargetOptions {
    /// Capacity of `wasmtime-pooling`'s pooling allocator (instances, memories
    /// and tables alive at once); `None`: the runner's default (1000).
    pub pool_instances: Option<u32>,
    /// Start containers with Docker's defaults instead of coldbench's
    /// confinement ([`coldbench_containers::Hardening::hardened`]):
    /// `--container-hardening off`, to measure what the confinement costs.
    pub unhardened_containers: bool,
    /// How long a Wasm guest may run without reading its stdin before its
    /// runtime stops it, where the runtime can (wasmtime's epoch
    /// interruption); the session sets its `--timeout-ms`. `None`: never.
    pub instance_timeout: Option<Duration>,
}

#[cfg(test)]
mod tests;
