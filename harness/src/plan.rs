//! Runs a [`Suite`] — a preset, or the plan a single-experiment command
//! builds — inside one [`Session`]: opens it, prints the plan with its
//! expected duration, prepares every target once, runs the experiments in
//! order and writes one `run.json` (docs/design.md §8).

use crate::experiment::{coldstart, density, throughput};
use crate::progress::{Progress, ProgressMode, human};
use crate::session::{Sections, Session, SessionOptions};
use crate::suite::{Suite, priors};
use crate::targets::TargetOptions;
use anyhow::Result;
use coldbench_results::{Experiment, RunFile, SuiteRecord};
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::time::Duration;

/// What a run needs besides its suite: where inputs come from and results
/// go, the bound on every wait, the label, and how progress is shown.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Output directory (default `results/runs/<date>-<host>-<label>`).
    pub out: Option<PathBuf>,
    /// Inputs directory (default: the shipped inputs).
    pub inputs: Option<PathBuf>,
    /// Bound on every wait for an instance.
    pub timeout: Duration,
    /// Label of the run.
    pub label: String,
    /// Progress display.
    pub progress: ProgressMode,
    /// SHA-256 passes of the iterated `hash` case (default
    /// [`crate::cases::HASH_HEAVY_ITERATIONS`]).
    pub hash_iterations: u32,
    /// Containers with Docker's defaults instead of coldbench's confinement.
    pub unhardened_containers: bool,
    /// Runtime CLIs given by `--cli-runtime` (tool → executable).
    pub cli_tools: std::collections::BTreeMap<String, PathBuf>,
}

/// Runs `suite` and returns the results file as read back from disk and its
/// path. After each experiment, `run.json` is written with what is finished
/// so far (`in_progress`) and `on_experiment` gets the experiment and that
/// file as read back (the CLI prints its table: the first answer comes
/// before the whole run ends).
///
/// Errors: bad selection or inputs directory, output directory or results
/// file not writable. Failures of starts, targets or inputs are not errors
/// of the run: they are recorded in the file.
pub fn execute(
    suite: &Suite,
    opts: &RunOptions,
    mut on_experiment: impl FnMut(Experiment, &RunFile),
) -> Result<(RunFile, PathBuf)> {
    let session_opts = SessionOptions {
        workloads: suite.workloads.clone(),
        targets: suite.targets.clone(),
        seed: suite.seed,
        out: opts.out.clone(),
        inputs: opts.inputs.clone(),
        timeout: opts.timeout,
        label: opts.label.clone(),
        target_options: TargetOptions {
            pool_instances: suite.pool_instances(),
            unhardened_containers: opts.unhardened_containers,
            // The session sets it to its timeout.
            instance_timeout: None,
        },
        hash_iterations: opts.hash_iterations,
        cli_tools: opts.cli_tools.clone(),
    };
    let mut session = Session::open(session_opts, Progress::quiet())?;
    let ids = session.available_ids();
    let estimates = suite.estimate(&ids, &session.cases);
    let prepare_s: f64 = ids
        .iter()
        .flat_map(|t| suite.workloads.iter().map(move |w| priors(t, w).prepare_s))
        .sum();
    let expected =
        Duration::from_secs_f64(prepare_s) + estimates.iter().map(|(_, d, _)| *d).sum::<Duration>();
    let mut lines = vec![format!(
        "{} on {} target(s) ({}); expected ≈ {} of measuring (prepare ≈ {})",
        match suite.name {
            Some(n) => format!("suite `{}`", n.name()),
            None => "run".to_string(),
        },
        ids.len(),
        ids.join(", "),
        human(expected),
        human(Duration::from_secs_f64(prepare_s)),
    )];
    lines.extend(
        estimates
            .iter()
            .map(|(_, d, l)| format!("  {l} — ≈ {}", human(*d))),
    );
    session.set_progress(Progress::new(
        opts.progress,
        estimates.iter().map(|(e, d, _)| (*e, *d)).collect(),
    ));
    if opts.progress != ProgressMode::Quiet {
        for l in &lines {
            eprintln!("{l}");
        }
    }
    session.prepare();
    let mut sections = Sections {
        suite: suite.name.map(|n| SuiteRecord {
            name: n.name().into(),
            description: suite.description.into(),
            experiments: suite.experiments(),
            expected_duration_ns: expected.as_nanos() as u64,
            plan: lines.clone(),
        }),
        ..Sections::default()
    };
    // run.json exists (in progress) from here on: a harness killed in the
    // first experiment leaves it for the journal to be replayed into.
    session.checkpoint(&sections)?;
    // The order is the suite's (`Suite::experiments`): one place says it.
    for e in suite.experiments() {
        if session.interrupted.load(Ordering::SeqCst) {
            break;
        }
        session.settle_before(&e.name().replace('_', " "));
        session.begin_experiment(&sections);
        match e {
            Experiment::ColdStart => {
                let c = suite.cold_start.as_ref().expect("listed by experiments()");
                let mut settings = c.settings.clone();
                settings.cases = Some(c.cases.pick(&session.cases));
                sections.cold_start = Some(coldstart::run(&mut session, &settings));
            }
            Experiment::Throughput => {
                let t = suite.throughput.as_ref().expect("listed by experiments()");
                let cells = t
                    .cells
                    .clone()
                    .unwrap_or_else(|| throughput::all_cells(&session, &t.modes));
                let clients = t.clients.unwrap_or_else(|| {
                    std::thread::available_parallelism()
                        .map(|n| n.get() as u32)
                        .unwrap_or(1)
                });
                sections.throughput =
                    Some(throughput::run(&mut session, &t.settings, clients, &cells));
            }
            Experiment::Density => {
                let d = suite.density.as_ref().expect("listed by experiments()");
                let series = suite.density_series(&session.available_ids());
                sections.density = Some(density::run(&mut session, &d.settings, &series));
            }
        }
        let (back, _) = session.checkpoint(&sections)?;
        on_experiment(e, &back);
    }
    session.finish(sections)
}
