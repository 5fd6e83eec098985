//! The coldbench data contract: what a results file (`run.json`) holds.
//!
//! Everything the reports show is rendered from these types, read back from a
//! results file, never from a live run. Every duration is an integer number of
//! nanoseconds (`*_ns`) on `CLOCK_MONOTONIC`; every size is bytes (`*_bytes`).
//! Raw HDR histograms are kept beside the summaries (V2 + deflate, base64), so
//! that percentiles can be recomputed and histograms merged later.
//!
//! A file holds any mix of experiments, one typed section each
//! ([`RunFile::cold_start`], [`RunFile::density`], [`RunFile::throughput`]);
//! a section that is present says what it measured (its configuration) beside
//! its results, so a reader never guesses a file's kind from which fields are
//! filled. Outcomes (failure kinds, stop reasons, memory sources, target
//! families) are enums ([`outcome`]).
//!
//! The JSON Schema of the file is [`RUN_SCHEMA_JSON`]
//! (`results/schema/run.schema.json`), generated from these types by
//! `schemars` and checked against them by a test. Files of schema version 1
//! (written before the sections existed) are migrated on read
//! ([`RunFile::read`]). See `docs/design.md` §7.

#![deny(missing_docs)]

mod histogram;
pub mod journal;
mod migrate;
pub mod outcome;
pub mod stats;

pub use histogram::{HistogramError, LatencyHistogram, SIGNIFICANT_DIGITS, Summary};
pub use outcome::{
    ArtifactKind, BeforeClock, DensityStop, Experiment, FailureKind, Family, MemoryKind,
    MemorySource, Phase, StartCondition, StartKind, StartPath, ThroughputStop,
};
pub use stats::{MedianInterval, median_interval_ranks};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;

/// Version of the results-file schema written by this crate. Version 1
/// files (no experiment sections) are still read, migrated.
pub const SCHEMA_VERSION: u32 = 2;

/// The JSON Schema (draft 2020-12) of `run.json`, generated from [`RunFile`].
pub const RUN_SCHEMA_JSON: &str = include_str!("../schema/run.schema.json");

/// The JSON Schema of [`RunFile`] as `schemars` derives it from the types
/// (what `results/schema/run.schema.json` must hold), pretty-printed. Every
/// object the types define is closed (`additionalProperties: false`): a
/// field no type declares — a typo, a field of another tool — is an error
/// naming it, not silently ignored.
pub fn generated_schema() -> String {
    let mut schema = schemars::schema_for!(RunFile).to_value();
    close_objects(&mut schema);
    drop_null_alternatives(&mut schema);
    let mut s = serde_json::to_string_pretty(&schema).expect("a schema serializes");
    s.push('\n');
    s
}

/// The compiled [`RUN_SCHEMA_JSON`], once per process.
fn schema_validator() -> &'static jsonschema::Validator {
    static V: std::sync::OnceLock<jsonschema::Validator> = std::sync::OnceLock::new();
    V.get_or_init(|| {
        let schema: serde_json::Value =
            serde_json::from_str(RUN_SCHEMA_JSON).expect("the shipped schema is JSON");
        jsonschema::validator_for(&schema).expect("the shipped schema compiles")
    })
}

/// Sets `additionalProperties: false` on every object schema with declared
/// `properties` that does not say otherwise (a map, whose keys are data, has
/// no `properties`; a flattened type's properties are merged into its
/// parent's by `schemars`, so the parent lists them all).
fn close_objects(v: &mut serde_json::Value) {
    match v {
        serde_json::Value::Object(map) => {
            if map.contains_key("properties") && !map.contains_key("additionalProperties") {
                map.insert(
                    "additionalProperties".into(),
                    serde_json::Value::Bool(false),
                );
            }
            for child in map.values_mut() {
                close_objects(child);
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(close_objects),
        _ => {}
    }
}

/// Replaces `anyOf: [{"$ref": X}, {"type": "null"}]` (what `schemars`
/// derives for an optional section or record) by the same constraint as
/// `if: {"type": "null"}, else: {"$ref": X}`: a validator then reports a
/// problem inside the section at its own field, not as "not valid under any
/// of the schemas listed in anyOf" at the section.
fn drop_null_alternatives(v: &mut serde_json::Value) {
    match v {
        serde_json::Value::Object(map) => {
            let replacement = match map.get("anyOf").and_then(|a| a.as_array()) {
                Some(alts)
                    if alts.len() == 2
                        && alts[1] == serde_json::json!({"type": "null"})
                        && alts[0].get("$ref").is_some() =>
                {
                    Some(alts[0]["$ref"].clone())
                }
                _ => None,
            };
            if let Some(r) = replacement {
                map.remove("anyOf");
                map.insert("if".into(), serde_json::json!({"type": "null"}));
                map.insert("else".into(), serde_json::json!({ "$ref": r }));
            }
            for child in map.values_mut() {
                drop_null_alternatives(child);
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(drop_null_alternatives),
        _ => {}
    }
}

/// Errors reading or writing a results file. Each names the file.
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
    /// The file is not JSON, is truncated, or does not have a results file's shape.
    #[error(
        "{path} is not a coldbench results file ({source}); give the run.json a coldbench command wrote"
    )]
    Parse {
        /// File path.
        path: String,
        /// Underlying error.
        source: serde_json::Error,
    },
    /// The file does not match the results-file schema ([`RUN_SCHEMA_JSON`]):
    /// a field missing, unknown, of the wrong type or out of range.
    #[error(
        "{path} does not match the coldbench results-file schema: {}{}; give the run.json a coldbench command wrote, unedited",
        problems.join("; "),
        if *more > 0 { format!(" (and {more} more)") } else { String::new() }
    )]
    Schema {
        /// File path.
        path: String,
        /// The first problems, each naming the field by its JSON pointer
        /// (`/cold_start/results/3/p50_ns: -5 is less than the minimum of 0`).
        problems: Vec<String>,
        /// How many more problems there are.
        more: usize,
    },
    /// The file is JSON but carries no `schema_version`.
    #[error(
        "{path} is JSON but not a coldbench results file (no schema_version); give the run.json a coldbench command wrote"
    )]
    NotResults {
        /// File path.
        path: String,
    },
    /// The file was written by a newer schema version than this build reads.
    #[error(
        "{path} has schema_version {found}; this build reads versions 1 to {SCHEMA_VERSION}: update coldbench to read it"
    )]
    Version {
        /// File path.
        path: String,
        /// Version found in the file.
        found: u64,
    },
}

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

/// One complete results file: one run of one or more experiments on one host.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct RunFile {
    /// [`SCHEMA_VERSION`] of the writer (after migration: the current version).
    #[schemars(range(min = SCHEMA_VERSION, max = SCHEMA_VERSION))]
    pub schema_version: u32,
    /// The schema version the file was written with, when it was migrated on
    /// read (absent in files as written).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub migrated_from: Option<u32>,
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
    /// True while the run is still going: the file was written after an
    /// experiment ended and holds the experiments finished so far (a run
    /// that died leaves such a file). False once the run finished.
    #[serde(default)]
    pub in_progress: bool,
    /// The machine the run happened on.
    pub host: HostFingerprint,
    /// What every experiment of the run shares: selection, inputs, seed, bounds.
    pub config: RunConfig,
    /// The preset the run followed (`coldbench` with no arguments, `--suite`);
    /// absent for single-experiment commands.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suite: Option<SuiteRecord>,
    /// Every target variant considered, with its knobs, whether it ran, and why not.
    pub targets: Vec<TargetRecord>,
    /// The cases (workload + inputs + parameters) the run used.
    pub cases: Vec<CaseRecord>,
    /// Prepare times (image builds, precompiles), one per workload × target;
    /// shared by every experiment (targets are prepared once per run).
    #[serde(default)]
    pub prepare: Vec<MetricResult>,
    /// The cold-start experiment, when the run measured it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cold_start: Option<ColdStartSection>,
    /// The density experiment, when the run measured it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub density: Option<DensitySection>,
    /// The throughput experiment, when the run measured it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub throughput: Option<ThroughputSection>,
    /// What the run did that no section says, in order (e.g. a wait for a
    /// quiet host between two experiments, with how long it took).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// The harness's own process, read every 10 s of the run and at its end:
    /// flat readings over a long run mean the harness leaks no memory, file
    /// descriptors or threads (the soak test checks it).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub harness: Vec<HarnessSample>,
    /// Per experiment × workload × target: how many responses were checked against native.
    pub verification: Vec<VerificationRecord>,
    /// Everything that went wrong, as data: a failed sample is never a fast sample.
    pub errors: Vec<ErrorRecord>,
}

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

impl RunFile {
    /// Writes the file as pretty JSON, atomically: to a temporary file in the
    /// same directory, synced, then renamed over `path` (a crash leaves the
    /// old file or the new one, never half of one).
    ///
    /// Errors: [`ResultsError::Io`] if the file cannot be written.
    pub fn write(&self, path: &Path) -> Result<(), ResultsError> {
        use std::io::Write as _;
        let io = |source| ResultsError::Io {
            path: path.display().to_string(),
            source,
        };
        let json = serde_json::to_vec_pretty(self).expect("RunFile serializes");
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "run.json".into());
        let tmp = path.with_file_name(format!(".{name}.tmp-{}", std::process::id()));
        let mut f = std::fs::File::create(&tmp).map_err(io)?;
        f.write_all(&json).map_err(io)?;
        f.sync_all().map_err(io)?;
        drop(f);
        std::fs::rename(&tmp, path).map_err(io)
    }

    /// Reads and checks a results file; a version-1 file is migrated to the
    /// current shape (`migrated_from: 1`).
    ///
    /// Errors: [`ResultsError::Io`] (unreadable), [`ResultsError::Parse`]
    /// (not JSON, truncated, wrong shape), [`ResultsError::NotResults`] (JSON
    /// without `schema_version`), [`ResultsError::Version`] (a newer schema)
    /// or [`ResultsError::Schema`] (a field missing, unknown, of the wrong
    /// type or out of range, checked against [`RUN_SCHEMA_JSON`] after any
    /// migration).
    pub fn read(path: &Path) -> Result<RunFile, ResultsError> {
        let p = path.display().to_string();
        let bytes = std::fs::read(path).map_err(|source| ResultsError::Io {
            path: p.clone(),
            source,
        })?;
        Self::from_slice(&bytes, &p)
    }

    /// Reads a results file as [`RunFile::read`] does and, when it was never
    /// finalised (`in_progress`: the harness was killed) and a journal of
    /// the same run lies beside it ([`journal::JOURNAL_FILE`]), replays the
    /// journal into it ([`journal::replay`]): what was measured after the
    /// last checkpoint is kept. The file on disk is not changed.
    ///
    /// Errors: those of [`RunFile::read`], and a journal line other than
    /// the last that does not parse.
    pub fn read_run(path: &Path) -> Result<RunFile, ResultsError> {
        let mut run = Self::read(path)?;
        if run.in_progress {
            let j = path.with_file_name(journal::JOURNAL_FILE);
            if j.is_file() {
                journal::replay(&mut run, &j)?;
            }
        }
        Ok(run)
    }

    /// Parses a results file's bytes; `name` names it in errors. See [`RunFile::read`].
    pub fn from_slice(bytes: &[u8], name: &str) -> Result<RunFile, ResultsError> {
        let mut v: serde_json::Value =
            serde_json::from_slice(bytes).map_err(|source| ResultsError::Parse {
                path: name.to_string(),
                source,
            })?;
        let Some(found) = v.get("schema_version").and_then(|x| x.as_u64()) else {
            return Err(ResultsError::NotResults {
                path: name.to_string(),
            });
        };
        match found {
            1 => migrate::v1_to_v2(&mut v),
            2 => {}
            _ => {
                return Err(ResultsError::Version {
                    path: name.to_string(),
                    found,
                });
            }
        }
        let problems: Vec<String> = schema_validator()
            .iter_errors(&v)
            .map(|e| {
                let at = e.instance_path().to_string();
                format!("{} {e}", if at.is_empty() { "/" } else { &at })
            })
            .collect();
        if !problems.is_empty() {
            const SHOWN: usize = 5;
            return Err(ResultsError::Schema {
                path: name.to_string(),
                more: problems.len().saturating_sub(SHOWN),
                problems: problems.into_iter().take(SHOWN).collect(),
            });
        }
        serde_json::from_value(v).map_err(|source| ResultsError::Parse {
            path: name.to_string(),
            source,
        })
    }

    /// Keeps only the targets `map` gives an id for, under that id, in
    /// every part of the file that names a target (records, cold-start and
    /// prepare distributions, throughput cells, density series, counts,
    /// errors); an error that names no target is kept. Used to compare two
    /// versions of a runtime measured side by side (`wasmtime-pooling`
    /// against `wasmtime@50-pooling`, each renamed to a common id).
    pub fn retarget(&mut self, map: impl Fn(&str) -> Option<String>) {
        fn apply<T>(
            v: &mut Vec<T>,
            id: impl Fn(&mut T) -> &mut String,
            map: &dyn Fn(&str) -> Option<String>,
        ) {
            v.retain_mut(|x| {
                let t = id(x);
                match map(t) {
                    Some(new) => {
                        *t = new;
                        true
                    }
                    None => false,
                }
            });
        }
        let map: &dyn Fn(&str) -> Option<String> = &map;
        apply(&mut self.targets, |t| &mut t.id, map);
        apply(&mut self.prepare, |m| &mut m.target, map);
        if let Some(c) = self.cold_start.as_mut() {
            apply(&mut c.results, |m| &mut m.target, map);
        }
        if let Some(t) = self.throughput.as_mut() {
            apply(&mut t.cells, |c| &mut c.target, map);
        }
        if let Some(d) = self.density.as_mut() {
            apply(&mut d.series, |s| &mut s.target, map);
        }
        apply(&mut self.verification, |v| &mut v.target, map);
        self.errors
            .retain_mut(|e| match e.target.as_deref().map(map) {
                None => true,
                Some(None) => false,
                Some(Some(new)) => {
                    e.target = Some(new);
                    true
                }
            });
    }

    /// The experiments this file holds, in section order.
    pub fn experiments(&self) -> Vec<Experiment> {
        let mut v = Vec::new();
        if self.cold_start.is_some() {
            v.push(Experiment::ColdStart);
        }
        if self.density.is_some() {
            v.push(Experiment::Density);
        }
        if self.throughput.is_some() {
            v.push(Experiment::Throughput);
        }
        v
    }

    /// The cold-start distribution of `workload` × `target` × `metric`, or
    /// the prepare time for [`Metric::Prepare`], if measured.
    pub fn result(&self, workload: &str, target: &str, metric: Metric) -> Option<&MetricResult> {
        let pool: &[MetricResult] = if metric == Metric::Prepare {
            &self.prepare
        } else {
            self.cold_start.as_ref().map_or(&[], |c| &c.results)
        };
        pool.iter()
            .find(|r| r.workload == workload && r.target == target && r.metric == metric)
    }

    /// Every requested workload × target (the configured workloads × the
    /// recorded targets) that produced no verified response in any
    /// experiment, with the reason: the target's unavailability, else the
    /// first error recorded for the pair, else that nothing answered. Empty
    /// when all requested work was measured. Order: targets as recorded,
    /// then workloads as configured.
    pub fn unmeasured(&self) -> Vec<Unmeasured> {
        let mut out = Vec::new();
        for t in &self.targets {
            for w in &self.config.workloads {
                let verified: u64 = self
                    .verification
                    .iter()
                    .filter(|v| v.workload == *w && v.target == t.id)
                    .map(|v| v.verified)
                    .sum();
                if verified > 0 {
                    continue;
                }
                let reason = match (&t.available, &t.unavailable_reason) {
                    (false, Some(why)) => format!("target unavailable: {why}"),
                    _ => self
                        .errors
                        .iter()
                        .find(|e| {
                            e.target.as_deref() == Some(t.id.as_str())
                                && e.workload.as_deref().is_none_or(|ew| ew == w.as_str())
                        })
                        .or_else(|| {
                            self.errors.iter().find(|e| {
                                e.target.is_none() && e.workload.as_deref() == Some(w.as_str())
                            })
                        })
                        .map(|e| format!("{} ({}): {}", e.phase, e.kind, e.message))
                        .unwrap_or_else(|| "no verified response and no error recorded".into()),
                };
                out.push(Unmeasured {
                    workload: w.clone(),
                    target: t.id.clone(),
                    reason,
                });
            }
        }
        out
    }

    /// The cold-start distributions (empty without a cold-start section).
    pub fn cold_start_results(&self) -> &[MetricResult] {
        self.cold_start.as_ref().map_or(&[], |c| &c.results)
    }

    /// The throughput cells (empty without a throughput section).
    pub fn throughput_cells(&self) -> &[ThroughputResult] {
        self.throughput.as_ref().map_or(&[], |t| &t.cells)
    }

    /// The density series (empty without a density section).
    pub fn density_series(&self) -> &[DensitySeries] {
        self.density.as_ref().map_or(&[], |d| &d.series)
    }
}

/// Whether `pattern` selects target variant `id`: `all`, the exact id, or a
/// prefix ending at a `-` boundary (`docker` selects every `docker-…`,
/// `docker-debian` every Debian-image variant, `wasmtime` every wasmtime
/// strategy). `all` leaves out the runtime versions built on demand
/// (`wasmtime@50-pooling`: an `@` in the id), which are picked by name or
/// by their own prefix (`wasmtime@50`). Used by `--targets` and by the
/// claims ledger.
pub fn selects(pattern: &str, id: &str) -> bool {
    (pattern == "all" && !id.contains('@'))
        || pattern == id
        || id
            .strip_prefix(pattern)
            .is_some_and(|rest| rest.starts_with('-'))
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

/// The density section: how series ran and what they found.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct DensitySection {
    /// How the series were run.
    pub config: DensityConfig,
    /// One series per workload × target.
    pub series: Vec<DensitySeries>,
}

/// The throughput section: how cells ran and what they measured.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct ThroughputSection {
    /// How the cells were run.
    pub config: ThroughputConfig,
    /// One cell per row × target × mode.
    pub cells: Vec<ThroughputResult>,
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

/// How the throughput cells of a run were measured.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
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
    /// Modes measured.
    pub modes: Vec<ThroughputMode>,
    /// Median cost of reading the harness clock twice back to back
    /// (`CLOCK_MONOTONIC`, the empty timing loop of docs/design.md §6), ns.
    pub timer_overhead_ns: u64,
}

/// How a throughput client uses instances.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
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
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
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
    /// Why the window closed.
    pub stop_reason: ThroughputStop,
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

/// A ratio with a 95 % interval.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, JsonSchema)]
pub struct Ratio {
    /// The point estimate.
    pub ratio: f64,
    /// Lower end of the interval.
    pub ci95_low: f64,
    /// Upper end of the interval.
    pub ci95_high: f64,
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The checked-in schema is what the types derive. Regenerate with
    /// `COLDBENCH_BLESS=1 cargo test -p coldbench-results`.
    #[test]
    fn schema_file_is_generated_from_the_types() {
        let generated = generated_schema();
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("schema/run.schema.json");
        if std::env::var("COLDBENCH_BLESS").is_ok_and(|v| v == "1") {
            std::fs::write(&path, &generated).unwrap();
            return;
        }
        assert!(
            RUN_SCHEMA_JSON == generated,
            "results/schema/run.schema.json is stale: run `COLDBENCH_BLESS=1 cargo test -p coldbench-results`"
        );
    }

    #[test]
    fn bad_files_give_errors_naming_them() {
        let e =
            RunFile::from_slice(b"{\"schema_version\": 2, \"tool\": {", "cut.json").unwrap_err();
        assert!(matches!(e, ResultsError::Parse { .. }), "{e}");
        assert!(e.to_string().contains("cut.json"));
        let e = RunFile::from_slice(b"not json at all", "text.json").unwrap_err();
        assert!(matches!(e, ResultsError::Parse { .. }), "{e}");
        let e = RunFile::from_slice(b"{\"name\": \"package\"}", "package.json").unwrap_err();
        assert!(matches!(e, ResultsError::NotResults { .. }), "{e}");
        assert!(e.to_string().contains("package.json"));
        let e = RunFile::from_slice(b"{\"schema_version\": 3}", "future.json").unwrap_err();
        assert!(matches!(e, ResultsError::Version { found: 3, .. }), "{e}");
        assert!(e.to_string().contains("update coldbench"));
    }
}
