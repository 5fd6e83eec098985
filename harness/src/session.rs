//! One run: the selection checked, the output directory made, inputs read,
//! the host probed, every target prepared **once** and shared by every
//! experiment of the run, native's reference checksums taken, and — at the
//! end, whatever happened — leftover containers removed and one `run.json`
//! written with a section per experiment (docs/design.md §8).

use crate::artifacts::{WORKLOADS, default_inputs_dir, repo_dir};
use crate::cases::{self, Case};
use crate::collector::{Collector, Subject};
use crate::failure::{FailureKind, Phase};
use crate::host;
use crate::progress::Progress;
use crate::steps::reference_checksum;
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

mod harness_sampler;
mod prepare;
mod write;

pub use harness_sampler::*;

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
    /// Runtime CLIs given by `--cli-runtime` ([`HostProbe::cli_tools`]).
    pub cli_tools: BTreeMap<String, PathBuf>,
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
    /// The sections of the experiments finished so far (set by
    /// [`Session::begin_experiment`]), the base of [`Session::checkpoint_partial`].
    done: Sections,
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
            probe: Some(HostProbe::new(&run_id).with_cli_tools(opts.cli_tools.clone())),
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

    /// Replaces the progress display (the plan sets it once it knows the
    /// experiments and their estimates).
    pub fn set_progress(&mut self, progress: Progress) {
        self.progress = progress;
    }

    /// Marks the start of an experiment: `finished` holds the sections of the
    /// experiments done so far, the base of [`Session::checkpoint_partial`].
    pub fn begin_experiment(&mut self, finished: &Sections) {
        self.done = finished.clone();
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
}
