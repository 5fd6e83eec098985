//! The cold-start section: one distribution per workload × target × metric,
//! the in-process floors and the pipe round trip (docs/design.md §3).

use super::*;

/// A measured quantity. Phases a target does not have are absent, never zero.
/// In-target phases are declared in timeline order (reports sort by it).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
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
    /// Containers: harness start call → the engine created the container
    /// (`create_container` returned: image layers mounted, config
    /// written). The first of the container phases, which add up to
    /// `t_ready` sample by sample.
    TContainerCreate,
    /// Containers: created → the engine streams its stdio (`attach_container` returned).
    TContainerAttach,
    /// Containers: attached → the engine and its OCI runtime (runc, runsc,
    /// a Wasm shim) report the process running (`start_container`
    /// returned: namespaces, cgroups, network set up, entry point exec'd).
    TContainerStart,
    /// Containers: running → the harness read the ready line (the
    /// workload's own start and the stdio path back through the engine).
    /// The last container phase.
    TContainerReady,
    /// A process exec'd in a warm container: harness start call → the
    /// engine registered the exec (`create_exec` returned). The first of the
    /// exec phases, which add up to `t_ready` sample by sample.
    TExecCreate,
    /// Exec registered → the engine took the connection over for its stdio
    /// and handed the start to the shim (`start_exec` returned attached).
    TExecStart,
    /// `start_exec` returned → the harness read the ready line: the OCI
    /// runtime's exec (`runc exec` joins the container's namespaces and
    /// cgroup, then execs the workload), the workload's own start and the
    /// stdio path back through the engine. The last exec phase.
    TExecReady,
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
            Metric::TContainerCreate => "t_container_create",
            Metric::TContainerAttach => "t_container_attach",
            Metric::TContainerStart => "t_container_start",
            Metric::TContainerReady => "t_container_ready",
            Metric::TExecCreate => "t_exec_create",
            Metric::TExecStart => "t_exec_start",
            Metric::TExecReady => "t_exec_ready",
        }
    }
}

/// The cold-start section: the settings it ran with and its distributions.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct ColdStartSection {
    /// Largest number of measured starts per case and target.
    pub runs: u32,
    /// Discarded warm-up starts per case and target.
    pub warmup: u32,
    /// Fewest measured starts per case and target when a time budget applies
    /// (absent: every cell got `runs`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_runs: Option<u32>,
    /// Time budget per case × target (measured starts, their teardowns), ns: a
    /// cell gets `clamp(budget ÷ its warm-up start's duration, min_runs, runs)`
    /// measured starts (absent: no budget, every cell got `runs`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub budget_per_cell_ns: Option<u64>,
    /// The floor under the embedded runtimes' transport, measured in the same
    /// run just before the first start: the round trip of one runner frame
    /// (13-byte header + 32-byte payload) from the measuring thread through a
    /// pipe to an echo process speaking the runner framing
    /// (`coldbench __echo-runner`) and back through a pipe, read on the same
    /// thread, each after 1 ms with both sides idle (as starts come); ns.
    /// Runner transport (`t_runner_dispatch` + `t_runner_handoff` +
    /// `t_ready_return`) is reported as a ratio to its median. Absent when no
    /// embedded runtime ran.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pipe_round_trip: Option<Summary>,
    /// The same round trips back to back (both processes stay hot: no
    /// wake-up from idle), ns.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pipe_round_trip_hot: Option<Summary>,
    /// Each embedded runtime's own per-start work on `noop`, timed in
    /// process by its runner in the same run (no pipe, no thread hand-off),
    /// beside which its `t_ready` is read. Empty when no embedded runtime
    /// ran, or for runtimes whose runner measures none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub in_process_floors: Vec<InProcessFloor>,
    /// The condition every start of this section was measured in (absent in
    /// older files: [`ColdStartSection::condition_of`] tells it from the
    /// targets measured).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub condition: Option<StartCondition>,
    /// Measured distributions, one per workload × target × metric.
    pub results: Vec<MetricResult>,
}

impl ColdStartSection {
    /// The condition its starts were measured in: as recorded, or — for
    /// files written before it was — told from how many targets have a
    /// `t_ready` (or `t_first_response`) distribution in it.
    pub fn condition_of(&self) -> StartCondition {
        self.condition.unwrap_or_else(|| {
            let mut ids: Vec<&str> = self.results.iter().map(|r| r.target.as_str()).collect();
            ids.sort();
            ids.dedup();
            StartCondition::for_targets(ids.len())
        })
    }
}

/// One embedded runtime's per-start work timed inside its runner process
/// (`ColdStartSection::in_process_floors`): the runner's own code path for a
/// start — module (if per start), WASI context, store, instantiate, the
/// guest's `_start` to its exit — run on the runner's control thread with
/// stdout discarded and stdin at end of file, back to back after warm-ups
/// (`summary`), and again each after an idle pause (`idle`).
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct InProcessFloor {
    /// Target id (an embedded variant).
    pub target: String,
    /// Workload whose module was started (`noop`).
    pub workload: String,
    /// What was timed, in the runner's words.
    pub what: String,
    /// Distribution of one start's in-process time, starts back to back
    /// (the runner hot), ns.
    pub summary: Summary,
    /// The same starts, each after the runner slept 1 ms (as the idle pipe
    /// round trip: a start coldbench sends finds the runner idle), ns.
    /// Absent in runs before 2026-12-02 or where it could not be timed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idle: Option<Summary>,
}

/// A measured distribution.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
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

impl MetricResult {
    /// The entry of `workload` × `target` × `metric` for histogram `h`
    /// (values in ns); `None` when `h` is empty.
    pub fn of(workload: &str, target: &str, metric: Metric, h: &LatencyHistogram) -> Option<Self> {
        h.summary().map(|summary| MetricResult {
            workload: workload.to_string(),
            target: target.to_string(),
            metric,
            summary,
            histogram_v2_deflate_b64: h.to_base64(),
        })
    }
}
