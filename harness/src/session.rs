//! One run: the selection checked, the output directory made, inputs read,
//! the host probed, every target prepared **once** and shared by every
//! experiment of the run, native's reference checksums taken, and — at the
//! end, whatever happened — leftover containers removed and one `run.json`
//! written with a section per experiment (docs/design.md §8).

use crate::artifacts::{WORKLOADS, default_inputs_dir, repo_dir};
use crate::cases::{self, Case};
use crate::collector::{Collector, Subject};
use crate::experiment::steps::reference_checksum;
use crate::failure::{FailureKind, Phase};
use crate::host;
use crate::progress::Progress;
use crate::targets::native::NativeTarget;
use crate::targets::{HostProbe, Target, TargetOptions, Variant, catalog, picks};
use anyhow::{Context, Result, bail};
use coldbench_results::{
    ColdStartSection, DensitySection, DockerEngineInfo, Family, RunConfig, RunFile, SCHEMA_VERSION,
    SuiteRecord, TargetRecord, ThroughputSection, ToolInfo,
};
use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// What a run is asked to cover, and where its results go.
#[derive(Debug, Clone)]
pub struct SessionOptions {
    /// Workloads (names from [`WORKLOADS`]).
    pub workloads: Vec<String>,
    /// Target ids or `-`-bounded prefixes; `all` = every available variant.
    pub targets: Vec<String>,
    /// Seed of the RNG that interleaves targets and orders cells.
    pub seed: u64,
    /// Output directory (default `results/runs/<date>-<host>-<label>`).
    pub out: Option<PathBuf>,
    /// Inputs directory (default: the shipped `workloads/inputs`).
    pub inputs: Option<PathBuf>,
    /// Bound on every wait for an instance.
    pub timeout: Duration,
    /// Label of the run (part of the default output directory name).
    pub label: String,
    /// How targets are built (pooling capacity).
    pub target_options: TargetOptions,
    /// SHA-256 passes of the iterated `hash` case (default
    /// [`cases::HASH_HEAVY_ITERATIONS`]).
    pub hash_iterations: u32,
}

/// One selected target variant and its prepared targets: `clients[0]` serves
/// cold start and density; throughput adds one per extra client.
pub struct Entry {
    /// Variant id.
    pub id: String,
    /// The catalog variant (`None` for targets built by tests).
    pub variant: Option<Variant>,
    /// Prepared targets of this variant, one per client (at least one).
    pub clients: Vec<Box<dyn Target>>,
}

/// The experiments' sections, as they hand them to [`Session::finish`].
#[derive(Debug, Default, Clone)]
pub struct Sections {
    /// The preset followed, if any.
    pub suite: Option<SuiteRecord>,
    /// Cold-start settings (the distributions come from the collector).
    pub cold_start: Option<ColdStartSection>,
    /// Density section.
    pub density: Option<DensitySection>,
    /// Throughput section.
    pub throughput: Option<ThroughputSection>,
}

/// A run in progress.
pub struct Session {
    /// Workloads of the run.
    pub workloads: Vec<String>,
    /// Target selection as given.
    pub target_selection: Vec<String>,
    /// Seed of the run.
    pub seed: u64,
    /// Bound on every wait for an instance.
    pub timeout: Duration,
    /// Label of the run.
    pub label: String,
    /// Where `run.json` (and precompiled modules) go.
    pub out_dir: PathBuf,
    /// Set by Ctrl-C: experiments stop at the next step and keep what they measured.
    pub interrupted: Arc<AtomicBool>,
    /// Where the inputs came from.
    pub inputs_dir: PathBuf,
    /// Every case of the selected workloads.
    pub cases: Vec<Case>,
    /// Native's checksum per case (`None`: native rejected it; left out).
    pub expected: Vec<Option<u32>>,
    /// The prepared targets, in catalog order.
    pub entries: Vec<Entry>,
    /// Everything measured so far.
    pub out: Collector,
    /// Progress display (stderr).
    pub progress: Progress,
    started: Instant,
    started_utc: chrono::DateTime<chrono::Utc>,
    probe: Option<HostProbe>,
    target_options: TargetOptions,
    /// The selected variants available here (probed at open), not yet prepared.
    variants: Vec<Variant>,
    /// Records of variants that cannot run (unavailable, or nothing prepared).
    unavailable: Vec<TargetRecord>,
    /// (target id, workload) pairs a target could not prepare.
    skip: HashSet<(String, String)>,
    /// Knobs experiments add to a target's record (id → knob → value).
    extra_knobs: BTreeMap<String, BTreeMap<String, String>>,
    /// Notes for `run.json` (`notes`).
    notes: Vec<String>,
    /// The harness's own readings (`harness` in `run.json`).
    harness: HarnessSampler,
    /// The sections of the experiments finished so far (set by the plan
    /// before each experiment), the base of [`Session::checkpoint_partial`].
    pub done: Sections,
    /// When `run.json` was last written in progress.
    last_checkpoint: Instant,
    /// coldbench's git revision, read once (every write of `run.json`
    /// records it; in-progress writes happen between measured starts).
    git_revision: String,
}

/// Least time between two in-progress writes of `run.json` inside an
/// experiment ([`Session::checkpoint_partial`]): a harness killed outright
/// loses at most this much measuring, and writing (a few ms of
/// serialization and an fsync) stays rare next to what it protects.
pub const CHECKPOINT_EVERY: Duration = Duration::from_secs(5);

/// What one start of `r`'s target creates: its catalog variant's
/// declaration; a target outside the catalog (tests' fakes) is told from
/// its family and id.
fn declared_start(r: &TargetRecord) -> coldbench_results::StartPath {
    crate::targets::variant(&r.id).map_or_else(
        || coldbench_results::StartPath::inferred(r.family, &r.id),
        |v| v.start,
    )
}

/// Checks a selection: known workloads, and target patterns that select at
/// least one catalog variant. Errors name the bad item and list the known ones.
pub fn check_selection(workloads: &[String], targets: &[String]) -> Result<()> {
    for w in workloads {
        if !crate::artifacts::is_known_workload(w) {
            bail!(
                "unknown workload `{w}` (known: {}; your own WASI command: --workload NAME=PATH.wasm[:NATIVE_BINARY])",
                WORKLOADS.join(", ")
            );
        }
    }
    let variants = catalog();
    for t in targets {
        if !variants.iter().any(|v| picks(t, &v.id)) {
            // The closest ids first (Jaro-Winkler similarity ≥ 0.8, at most 3).
            let mut close: Vec<(f64, &str)> = variants
                .iter()
                .map(|v| (strsim::jaro_winkler(t, &v.id), v.id.as_str()))
                .filter(|(d, _)| *d >= 0.8)
                .collect();
            close.sort_by(|a, b| b.0.total_cmp(&a.0));
            let hint = match close.first() {
                Some(_) => format!(
                    "; did you mean {}?",
                    close
                        .iter()
                        .take(3)
                        .map(|(_, id)| format!("`{id}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                None => String::new(),
            };
            bail!(
                "unknown target `{t}`{hint} (known: all, {}; prefixes such as `docker` or `wasmtime` select families; see `coldbench targets`)",
                variants
                    .iter()
                    .map(|v| v.id.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
    }
    Ok(())
}

impl Session {
    /// Checks the selection, creates the output directory, installs the
    /// Ctrl-C handler, reads the inputs and probes the host (Docker engine,
    /// node, runners). Nothing is prepared yet.
    ///
    /// Errors: an unknown workload or target, an inputs directory that does
    /// not exist or gives a selected workload no case (both before anything
    /// is created on disk), an output directory that cannot be created.
    pub fn open(opts: SessionOptions, progress: Progress) -> Result<Session> {
        check_selection(&opts.workloads, &opts.targets)?;
        let started = Instant::now();
        let started_utc = chrono::Utc::now();
        let hostname = sysinfo::System::host_name().unwrap_or_else(|| "host".into());
        let run_id = format!(
            "{}-{}",
            started_utc.format("%Y%m%dT%H%M%SZ"),
            std::process::id()
        );
        let inputs_dir = opts.inputs.clone().unwrap_or_else(default_inputs_dir);
        if !inputs_dir.is_dir() {
            bail!(
                "inputs directory {} does not exist: give --inputs a directory laid out like workloads/inputs (images/, blobs/, json/<case>/)",
                inputs_dir.display()
            );
        }
        let (cases, problems) = cases::discover(&inputs_dir, &opts.workloads, opts.hash_iterations);
        // A selected workload with no case at all would be "measured" as
        // nothing and the run would still exit 0: refuse before measuring,
        // and before the output directory exists.
        let empty: Vec<String> = opts
            .workloads
            .iter()
            .filter(|w| !cases.iter().any(|c| &c.workload == *w))
            .map(|w| {
                let why: Vec<&str> = problems
                    .iter()
                    .filter(|p| &p.workload == w)
                    .map(|p| p.message.as_str())
                    .collect();
                format!("{w} ({})", why.join("; "))
            })
            .collect();
        if !empty.is_empty() {
            bail!(
                "no case to measure for {} in inputs directory {}: add inputs laid out like workloads/inputs (images/, blobs/, json/<case>/), or leave the workload out of --workloads",
                empty.join(", "),
                inputs_dir.display()
            );
        }
        let out_dir = opts.out.clone().unwrap_or_else(|| {
            repo_dir().join("results").join("runs").join(format!(
                "{}-{}-{}",
                started_utc.format("%Y-%m-%dT%H%M%S"),
                hostname,
                opts.label
            ))
        });
        std::fs::create_dir_all(&out_dir)
            .with_context(|| format!("cannot create output directory {}", out_dir.display()))?;
        let interrupted = Arc::new(AtomicBool::new(false));
        {
            let flag = interrupted.clone();
            ctrlc::set_handler(move || {
                if flag.swap(true, Ordering::SeqCst) {
                    eprintln!("\nsecond interrupt: exiting now");
                    std::process::exit(130);
                }
                eprintln!("\ninterrupted: finishing the current step, writing results, cleaning up (Ctrl-C again to force)");
            })
            .context("cannot install the Ctrl-C handler")?;
        }
        // Everything recorded from here on is journalled as it happens
        // (results::journal): a harness killed between two checkpoints of
        // run.json loses at most the line in flight.
        let mut out = Collector::journalled(&out_dir, &started_utc.to_rfc3339());
        for p in problems {
            out.error(
                Subject {
                    workload: Some(&p.workload),
                    ..Subject::default()
                },
                Phase::Input,
                p.kind,
                p.message,
            );
        }
        let n = cases.len();
        let mut s = Session {
            workloads: opts.workloads,
            target_selection: opts.targets,
            seed: opts.seed,
            timeout: opts.timeout,
            label: opts.label,
            out_dir,
            interrupted,
            inputs_dir,
            cases,
            expected: vec![None; n],
            entries: Vec::new(),
            out,
            progress,
            started,
            started_utc,
            probe: Some(HostProbe::new(&run_id)),
            target_options: TargetOptions {
                instance_timeout: Some(opts.timeout),
                ..opts.target_options
            },
            variants: Vec::new(),
            unavailable: Vec::new(),
            skip: HashSet::new(),
            extra_knobs: BTreeMap::new(),
            notes: Vec::new(),
            harness: HarnessSampler::start(started),
            done: Sections::default(),
            last_checkpoint: started,
            git_revision: host::git_revision(&repo_dir()),
        };
        s.variants = s.available_variants();
        Ok(s)
    }

    /// Ids of the selected variants available on this host, in catalog
    /// order (before [`Session::prepare`]; afterwards the entries say which
    /// could be prepared).
    pub fn available_ids(&self) -> Vec<String> {
        if self.entries.is_empty() {
            self.variants.iter().map(|v| v.id.clone()).collect()
        } else {
            self.entries.iter().map(|e| e.id.clone()).collect()
        }
    }

    /// A session over targets built by the caller (tests: fake targets), with
    /// no host probe, no Ctrl-C handler and `expected` given. Extra
    /// throughput clients cannot be built in such a session.
    pub fn with_targets(
        cases: Vec<Case>,
        expected: Vec<Option<u32>>,
        targets: Vec<Box<dyn Target>>,
        out_dir: PathBuf,
        timeout: Duration,
    ) -> Session {
        let mut workloads: Vec<String> = cases.iter().map(|c| c.workload.clone()).collect();
        workloads.dedup();
        let started_utc = chrono::Utc::now();
        let out = Collector::journalled(&out_dir, &started_utc.to_rfc3339());
        Session {
            workloads,
            target_selection: targets.iter().map(|t| t.id().to_string()).collect(),
            seed: 1,
            timeout,
            label: "test".into(),
            out_dir,
            interrupted: Arc::new(AtomicBool::new(false)),
            inputs_dir: PathBuf::new(),
            cases,
            expected,
            entries: targets
                .into_iter()
                .map(|t| Entry {
                    id: t.id().to_string(),
                    variant: None,
                    clients: vec![t],
                })
                .collect(),
            out,
            progress: Progress::quiet(),
            started: Instant::now(),
            started_utc,
            probe: None,
            target_options: TargetOptions::default(),
            variants: Vec::new(),
            unavailable: Vec::new(),
            skip: HashSet::new(),
            extra_knobs: BTreeMap::new(),
            notes: Vec::new(),
            harness: HarnessSampler::start(Instant::now()),
            done: Sections::default(),
            last_checkpoint: Instant::now(),
            git_revision: host::git_revision(&repo_dir()),
        }
    }

    /// Whether `workload` is skipped on `target` (it could not be prepared there).
    pub fn skips(&self, target: &str, workload: &str) -> bool {
        self.skip
            .contains(&(target.to_string(), workload.to_string()))
    }

    /// Waits (at most 10 s) for the host's CPUs to be at most 10 % busy
    /// before `next` starts, shows and records how long it took.
    pub fn settle_before(&mut self, next: &str) {
        if let Some(s) = crate::host::settle(Duration::from_secs(10), 0.10) {
            let line = format!(
                "before {next}: waited {:.1} s for a quiet host ({}; CPUs {:.0} % busy over the last 250 ms)",
                s.waited.as_secs_f64(),
                if s.quiet {
                    "quiet"
                } else {
                    "still busy at the 10 s bound"
                },
                s.busy * 100.0
            );
            self.progress.note(&line);
            self.notes.push(line);
        }
    }

    /// Shows `line` and records it in `run.json`'s notes.
    pub fn note(&mut self, line: String) {
        self.progress.note(&line);
        self.notes.push(line);
    }

    /// Adds a knob to `target`'s record.
    pub fn knob(&mut self, target: &str, knob: &str, value: String) {
        self.extra_knobs
            .entry(target.to_string())
            .or_default()
            .insert(knob.to_string(), value);
    }

    /// The selected variants that can run here; the others are recorded
    /// (and, when asked for by exact id, reported as errors of this run).
    fn available_variants(&mut self) -> Vec<Variant> {
        let Some(probe) = &self.probe else {
            return Vec::new();
        };
        let mut ok = Vec::new();
        for v in catalog()
            .into_iter()
            .filter(|v| self.target_selection.iter().any(|p| picks(p, &v.id)))
        {
            match probe.availability(&v) {
                Ok(()) => ok.push(v),
                Err(why) => {
                    self.progress.note(&format!("{}: unavailable: {why}", v.id));
                    if self.target_selection.iter().any(|p| p == &v.id) {
                        self.out.error(
                            Subject {
                                target: Some(&v.id),
                                ..Subject::default()
                            },
                            Phase::Prepare,
                            FailureKind::Unavailable,
                            why.clone(),
                        );
                    }
                    self.unavailable.push(probe.unavailable_record(&v, &why));
                }
            }
        }
        ok
    }

    /// Builds and prepares a target for `v` with `workloads` (module loads,
    /// precompiles, image builds: not cold start). A workload it cannot
    /// prepare is skipped on that target only, with its reason. `None` if it
    /// could prepare none. `primary`: the session's own target of `v` (its
    /// prepare times are recorded, its failures reported).
    fn prepare_one(
        &mut self,
        v: &Variant,
        cache_dir: &Path,
        workloads: &[String],
        primary: bool,
    ) -> Option<Box<dyn Target>> {
        let probe = self.probe.as_ref()?;
        let mut t = probe.build(v, cache_dir, &self.workloads, &self.target_options);
        let mut failed = Vec::new();
        self.progress.working(&format!("prepare {}", t.id()));
        for (w, r) in workloads.iter().zip(t.prepare_all(workloads, self.timeout)) {
            match r {
                Ok(Some(ns)) if primary => self.out.record_prepare(w, t.id(), ns),
                Ok(_) => {}
                Err(e) => failed.push((w.clone(), e.to_string())),
            }
        }
        for (w, why) in &failed {
            if primary && self.skip.insert((t.id().to_string(), w.clone())) {
                self.progress
                    .note(&format!("{} / {w}: skipped: {why}", t.id()));
                self.out.error(
                    Subject {
                        workload: Some(w),
                        target: Some(t.id()),
                        case: None,
                    },
                    Phase::Prepare,
                    FailureKind::Unavailable,
                    why.clone(),
                );
            }
        }
        if failed.len() < workloads.len() {
            Some(t)
        } else {
            if primary {
                let why = failed.first().map(|(_, e)| e.clone()).unwrap_or_default();
                let mut r = t.record();
                r.available = false;
                r.unavailable_reason = Some(why);
                r.start = Some(declared_start(&r));
                self.unavailable.push(r);
            }
            None
        }
    }

    /// Prepares one target per available selected variant with every
    /// workload of the run (prepare times recorded; precompiled modules in
    /// `<out>/precompiled`), then takes native's reference checksums.
    pub fn prepare(&mut self) {
        if let Some(w) = crate::host::cpu_idle_warning(crate::host::cpu_idle().as_ref()) {
            self.note(w);
        }
        let variants = std::mem::take(&mut self.variants);
        let cache_dir = self.out_dir.join("precompiled");
        let total = (variants.len() * self.workloads.len()) as u64;
        self.progress.stage_untracked("prepare", total);
        for (i, v) in variants.into_iter().enumerate() {
            if self.interrupted.load(Ordering::SeqCst) {
                break;
            }
            let workloads = self.workloads.clone();
            if let Some(t) = self.prepare_one(&v, &cache_dir, &workloads, true) {
                self.entries.push(Entry {
                    id: v.id.clone(),
                    variant: Some(v),
                    clients: vec![t],
                });
            }
            self.progress
                .advance(((i + 1) * workloads.len()) as u64, total);
        }
        self.progress.working("reference checksums (native)");
        let mut reference = NativeTarget::new(&self.workloads);
        let mut expected = Vec::with_capacity(self.cases.len());
        let mut notes = BTreeMap::new();
        for i in 0..self.cases.len() {
            let case = &self.cases[i];
            if crate::artifacts::native_missing(&case.workload).is_none() {
                expected.push(reference_checksum(
                    &mut reference,
                    case,
                    self.timeout,
                    &mut self.out,
                ));
                continue;
            }
            // A command without a native build: the first prepared Wasm
            // target answers for it, and the run says so.
            let workload = case.workload.clone();
            let by = self
                .entries
                .iter()
                .position(|e| e.id != "native" && !self.skips(&e.id, &workload));
            match by {
                Some(ti) => {
                    let id = self.entries[ti].id.clone();
                    let crc = reference_checksum(
                        self.entries[ti].clients[0].as_mut(),
                        &self.cases[i],
                        self.timeout,
                        &mut self.out,
                    );
                    notes.insert(
                        workload.clone(),
                        format!(
                            "reference checksums of `{workload}` come from {id} (no native binary was given): every other target is verified against it"
                        ),
                    );
                    expected.push(crc);
                }
                None => {
                    self.out.error(
                        Subject {
                            workload: Some(&workload),
                            target: None,
                            case: Some(&self.cases[i].name),
                        },
                        Phase::Input,
                        FailureKind::Unavailable,
                        format!(
                            "no target can give `{workload}` a reference checksum (no native binary and no Wasm target prepared it): the case is left out"
                        ),
                    );
                    expected.push(None);
                }
            }
        }
        self.expected = expected;
        for (_, n) in notes {
            self.note(n);
        }
        self.progress.finish_stage();
    }

    /// Gives every entry `n` clients, preparing the extra ones with
    /// `workloads` only (each with its own runner process and cache
    /// directory, so that clients never share a runner's control pipe). An
    /// entry that cannot get `n` keeps what it has (throughput skips it).
    pub fn ensure_clients(&mut self, n: usize, workloads: &[String]) {
        for i in 0..self.entries.len() {
            while self.entries[i].clients.len() < n {
                let Some(v) = self.entries[i].variant.clone() else {
                    break;
                };
                let c = self.entries[i].clients.len();
                let cache_dir = self.out_dir.join("precompiled").join(format!("client-{c}"));
                match self.prepare_one(&v, &cache_dir, workloads, false) {
                    Some(t) => self.entries[i].clients.push(t),
                    None => break,
                }
            }
        }
    }

    /// Drops every prepared target (runner processes stop, and so on),
    /// removes whatever container of this run is left, writes `run.json`
    /// atomically (even after an interrupt: what was measured is kept) and
    /// returns it read back from disk with its path.
    ///
    /// Errors: the results file cannot be written or read back.
    pub fn finish(mut self, sections: Sections) -> Result<(RunFile, PathBuf)> {
        let records = self.target_records();
        self.entries.clear();
        if let Some(Ok(h)) = self.probe.as_ref().map(|p| &p.docker) {
            match h.remove_labelled(Duration::from_secs(30)) {
                Ok(0) => {}
                Ok(n) => self
                    .progress
                    .note(&format!("removed {n} leftover container(s) of this run")),
                Err(e) => self.out.error(
                    Subject::default(),
                    Phase::Teardown,
                    FailureKind::Cleanup,
                    e.to_string(),
                ),
            }
        }
        self.write(records, &sections, false)
    }

    /// Writes `run.json` with the sections finished so far, marked
    /// `in_progress` (a run that dies later leaves it), and returns it read
    /// back with its path. Nothing is torn down.
    ///
    /// Errors: the results file cannot be written or read back.
    pub fn checkpoint(&mut self, sections: &Sections) -> Result<(RunFile, PathBuf)> {
        let records = self.target_records();
        self.write(records, sections, true)
    }

    /// At the start of an experiment: writes `run.json` in progress with
    /// [`Session::done`] plus `update` (the experiment's section, with its
    /// configuration and no results yet), at once, so that a journal
    /// replayed after a kill has the section to fill. A failed write is
    /// reported on stderr; the run goes on.
    pub fn checkpoint_now(&mut self, update: impl FnOnce(&mut Sections)) {
        let mut sections = self.done.clone();
        update(&mut sections);
        let records = self.target_records();
        match self.write(records, &sections, true) {
            Ok(_) => self.last_checkpoint = Instant::now(),
            Err(e) => eprintln!("checkpoint of run.json failed (the run goes on): {e:#}"),
        }
    }

    /// Between two steps of an experiment (a cold-start round, a
    /// throughput cell, a density series): writes `run.json` in progress
    /// with [`Session::done`] plus what `update` adds (the experiment's
    /// section so far), if [`CHECKPOINT_EVERY`] has passed since the last
    /// write. A write that fails is reported on stderr and retried at the
    /// next step; the run goes on (the final write reports for good).
    pub fn checkpoint_partial(&mut self, update: impl FnOnce(&mut Sections)) {
        if self.last_checkpoint.elapsed() >= CHECKPOINT_EVERY {
            self.checkpoint_now(update);
        }
    }

    /// The records of every prepared target (with the knobs experiments
    /// added) and of every variant that could not run.
    fn target_records(&self) -> Vec<TargetRecord> {
        let mut target_records: Vec<TargetRecord> = self
            .entries
            .iter()
            .map(|e| {
                let mut r = e.clients[0].record();
                if let Some(k) = self.extra_knobs.get(&e.id) {
                    r.knobs.extend(k.clone());
                }
                r.start = Some(declared_start(&r));
                r
            })
            .collect();
        target_records.extend(self.unavailable.iter().cloned());
        target_records
    }

    fn write(
        &mut self,
        target_records: Vec<TargetRecord>,
        sections: &Sections,
        in_progress: bool,
    ) -> Result<(RunFile, PathBuf)> {
        let mut runtime_versions = BTreeMap::new();
        for r in &target_records {
            let engine = r.family == Family::Wasm || r.runtime == "containerd";
            if engine && r.available && !r.runtime_version.is_empty() {
                runtime_versions.insert(r.runtime.clone(), r.runtime_version.clone());
            }
        }
        let engine_info = self.probe.as_ref().and_then(|p| p.engine.clone());
        if let Some(i) = &engine_info {
            runtime_versions.insert("docker-engine".into(), i.engine_version.clone());
            runtime_versions.insert("bollard".into(), "0.21".into());
        }
        let cold_start = sections.cold_start.clone().map(|mut c| {
            c.results = self.out.results();
            c
        });
        let run = RunFile {
            schema_version: SCHEMA_VERSION,
            migrated_from: None,
            tool: ToolInfo {
                name: "coldbench".into(),
                version: env!("CARGO_PKG_VERSION").into(),
                git_revision: self.git_revision.clone(),
                command_line: std::env::args().collect::<Vec<_>>().join(" "),
            },
            started_utc: self.started_utc.to_rfc3339(),
            duration_ns: self.started.elapsed().as_nanos() as u64,
            label: self.label.clone(),
            interrupted: self.interrupted.load(Ordering::SeqCst),
            in_progress,
            host: host::fingerprint(
                engine_info.map(|i| DockerEngineInfo {
                    engine_version: i.engine_version,
                    api_version: i.api_version,
                    default_runtime: i.default_runtime,
                    storage_driver: i.storage_driver,
                    cgroup_driver: i.cgroup_driver,
                }),
                runtime_versions,
            ),
            config: RunConfig {
                seed: self.seed,
                workloads: self.workloads.clone(),
                targets: self.target_selection.clone(),
                inputs_dir: self.inputs_dir.display().to_string(),
                timeout_ms: self.timeout.as_millis() as u64,
            },
            suite: sections.suite.clone(),
            targets: target_records,
            cases: self
                .cases
                .iter()
                .zip(&self.expected)
                .map(|(c, e)| c.record(*e))
                .collect(),
            prepare: self.out.prepare_results(),
            cold_start,
            density: sections.density.clone(),
            throughput: sections.throughput.clone(),
            notes: self
                .notes
                .iter()
                .chain(&self.out.journal_failed)
                .cloned()
                .collect(),
            harness: self.harness.samples_now(self.started),
            verification: self.out.verification(),
            errors: self.out.errors.clone(),
        };
        let path = self.out_dir.join("run.json");
        // The journal reaches the disk before the file that summarises it.
        self.out.sync_journal();
        run.write(&path)?;
        // Tables are rendered from the file just written, never from memory.
        Ok((RunFile::read(&path)?, path))
    }
}

/// How often the harness reads its own process during a run.
pub const HARNESS_SAMPLE_EVERY: Duration = Duration::from_secs(10);

/// Reads the harness's own RSS, open file descriptors and threads every
/// [`HARNESS_SAMPLE_EVERY`] on a thread of its own, until dropped.
struct HarnessSampler {
    samples: std::sync::Arc<std::sync::Mutex<Vec<coldbench_results::HarnessSample>>>,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl HarnessSampler {
    fn start(started: Instant) -> Self {
        let samples = std::sync::Arc::new(std::sync::Mutex::new(vec![read_self(started)]));
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let (s, st) = (samples.clone(), stop.clone());
        let _ = std::thread::Builder::new()
            .name("harness-sampler".into())
            .spawn(move || {
                let mut next = started + HARNESS_SAMPLE_EVERY;
                while !st.load(Ordering::SeqCst) {
                    // Short naps, so that a dropped session ends the thread soon.
                    std::thread::sleep(Duration::from_millis(200));
                    if Instant::now() >= next {
                        next += HARNESS_SAMPLE_EVERY;
                        let r = read_self(started);
                        s.lock().unwrap_or_else(|p| p.into_inner()).push(r);
                    }
                }
            });
        HarnessSampler { samples, stop }
    }

    /// The readings so far plus one taken now.
    fn samples_now(&self, started: Instant) -> Vec<coldbench_results::HarnessSample> {
        let mut v = self
            .samples
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        v.push(read_self(started));
        v
    }
}

impl Drop for HarnessSampler {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

/// One reading of this process; what cannot be read is left absent.
fn read_self(started: Instant) -> coldbench_results::HarnessSample {
    let me = procfs::process::Process::myself().ok();
    let status = me.as_ref().and_then(|p| p.status().ok());
    coldbench_results::HarnessSample {
        t_ns: started.elapsed().as_nanos() as u64,
        rss_bytes: status.as_ref().and_then(|s| s.vmrss).map(|kib| kib * 1024),
        open_fds: me
            .as_ref()
            .and_then(|p| p.fd_count().ok())
            .map(|n| n as u64),
        threads: status.map(|s| s.threads),
    }
}
