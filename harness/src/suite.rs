//! Suites: presets of a whole run — which experiments, targets, cases and
//! budgets — in one place (docs/design.md §8). `coldbench` with no arguments
//! runs [`SuiteName::Default`]; `--suite ci` and `--suite full` the others.
//! A suite is printed at the start with its expected duration and recorded
//! in `run.json` (`suite`).
//!
//! The expected durations come from per-start priors — medians measured on
//! the reference host (README, "Default run") — and only plan the run and
//! seed the progress bar's ETA; nothing measured is ever taken from them.

use crate::cases::Case;
use crate::experiment::throughput::CellPlan;
use crate::experiment::{coldstart, density, throughput};
use crate::targets::Priors;
use coldbench_results::{Experiment, ThroughputMode};
use std::time::Duration;

/// The presets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SuiteName {
    /// One representative variant per family, every experiment, ≤ 3 min of
    /// measuring on a 2-core host: the first answer after a clean clone.
    Default,
    /// A stable subset with a fixed seed and enough runs for regression
    /// tracking between two runs (`coldbench compare`).
    Ci,
    /// Every available variant × every case × every experiment.
    Full,
}

impl SuiteName {
    /// Stable name as recorded in `run.json`.
    pub fn name(self) -> &'static str {
        match self {
            SuiteName::Default => "default",
            SuiteName::Ci => "ci",
            SuiteName::Full => "full",
        }
    }
}

/// Which cases an experiment uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CasePick {
    /// Every case the inputs give.
    All,
    /// Per workload, the case with the smallest inputs (the cheapest real
    /// request: cold start asks what a start costs, not the request) —
    /// `hash`'s iterated case excepted.
    SmallestPerWorkload,
}

impl CasePick {
    /// The indices of `cases` picked.
    pub fn pick(self, cases: &[Case]) -> Vec<usize> {
        match self {
            CasePick::All => (0..cases.len()).collect(),
            CasePick::SmallestPerWorkload => {
                let mut out: Vec<usize> = Vec::new();
                for (i, c) in cases.iter().enumerate() {
                    if c.request.param("iterations").is_some_and(|n| n != "1") {
                        continue;
                    }
                    let size = |c: &Case| c.inputs.iter().map(|f| f.bytes).sum::<u64>();
                    match out.iter_mut().find(|j| cases[**j].workload == c.workload) {
                        Some(j) if size(c) < size(&cases[*j]) => *j = i,
                        Some(_) => {}
                        None => out.push(i),
                    }
                }
                out.sort();
                out
            }
        }
    }
}

/// The cold-start part of a suite.
#[derive(Debug, Clone)]
pub struct ColdStartPlan {
    /// Runs, warm-ups, budget (cases are set from `cases` once inputs are read).
    pub settings: coldstart::Settings,
    /// Which cases.
    pub cases: CasePick,
}

/// The density part of a suite: the series to run.
#[derive(Debug, Clone)]
pub struct DensityPlan {
    /// Stops and bounds of every series.
    pub settings: density::Settings,
    /// The series, each capped by its own count; `None`: every workload ×
    /// every target, capped by `settings`.
    pub series: Option<Vec<SeriesSpec>>,
}

/// One density series of a suite preset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SeriesSpec {
    /// The workload held idle.
    pub workload: &'static str,
    /// A target id, or a prefix picking several ([`crate::targets::picks`]).
    pub targets: &'static str,
    /// The most live instances of the series.
    pub max_instances: u64,
}

/// A [`SeriesSpec`] of `max_instances` instances of `workload` on `targets`.
const fn series(workload: &'static str, targets: &'static str, max_instances: u64) -> SeriesSpec {
    SeriesSpec {
        workload,
        targets,
        max_instances,
    }
}

/// The throughput part of a suite.
#[derive(Debug, Clone)]
pub struct ThroughputPlan {
    /// Windows and bounds of every cell.
    pub settings: throughput::Settings,
    /// Clients per cell (`None`: logical cores).
    pub clients: Option<u32>,
    /// Row × mode cells; `None`: every row × every mode in `modes`.
    pub cells: Option<Vec<CellPlan>>,
    /// Modes for `cells: None`.
    pub modes: Vec<ThroughputMode>,
}

/// A whole run's preset.
#[derive(Debug, Clone)]
pub struct Suite {
    /// Which preset (`None`: a single-experiment command's plan).
    pub name: Option<SuiteName>,
    /// What it is for, in one sentence.
    pub description: &'static str,
    /// Target ids or prefixes.
    pub targets: Vec<String>,
    /// Workloads.
    pub workloads: Vec<String>,
    /// RNG seed.
    pub seed: u64,
    /// Cold start, if the suite measures it.
    pub cold_start: Option<ColdStartPlan>,
    /// Density, if the suite measures it.
    pub density: Option<DensityPlan>,
    /// Throughput, if the suite measures it.
    pub throughput: Option<ThroughputPlan>,
}

/// The representative variant of every family the default suite runs, and
/// one of every kind of start: with `docker-exec-scratch-runc` (a process in
/// a warm container) and containerd's runc and Wasm shim, every Wasm kind of
/// start has a container start of its own kind to be paired with.
pub const DEFAULT_TARGETS: [&str; 14] = [
    "native",
    "wasmtime-aot",
    "wasmtime-pooling",
    "wasmtime-jit",
    "wasmer-cranelift",
    "wasmi",
    "wamr-interp",
    "node",
    "cli-wasmtime",
    "docker-scratch-runc-bridge",
    "docker-debian-runc-bridge",
    "docker-exec-scratch-runc",
    "containerd-runc",
    "containerd-wasm-wamr",
];

const CI_TARGETS: [&str; 6] = [
    "native",
    "wasmtime-aot",
    "wasmtime-pooling",
    "wasmer-cranelift",
    "wasmi",
    "docker-scratch-runc-none",
];

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

fn density_settings(max: u64, per: &[(&str, u64)], time_limit_s: u64) -> density::Settings {
    density::Settings {
        max_instances: max,
        per_target_max: per.iter().map(|(t, n)| (t.to_string(), *n)).collect(),
        floor_fraction: 0.25,
        task_limit_fraction: 0.8,
        time_limit: Duration::from_secs(time_limit_s),
        host_memory_bytes: None,
        timeout: Duration::from_secs(30),
    }
}

fn throughput_settings(
    duration_ms: u64,
    min_requests: u64,
    max_cell_s: u64,
) -> throughput::Settings {
    throughput::Settings {
        duration: Duration::from_millis(duration_ms),
        min_requests,
        max_cell: Duration::from_secs(max_cell_s),
        warmup_requests: 2,
        batches: 10,
        timeout: Duration::from_secs(30),
    }
}

fn cells(v: &[(&str, ThroughputMode)]) -> Vec<CellPlan> {
    v.iter()
        .map(|(row, mode)| CellPlan {
            row: row.to_string(),
            mode: *mode,
        })
        .collect()
}

impl Suite {
    /// The preset `name`.
    pub fn preset(name: SuiteName) -> Suite {
        let all_workloads = strings(&crate::artifacts::WORKLOADS);
        match name {
            SuiteName::Default => Suite {
                name: Some(name),
                description: "one representative variant per family; noop and one real case per workload; cold start, a short density series per family, hash-iterated reused and noop instance-per-request throughput",
                targets: strings(&DEFAULT_TARGETS),
                workloads: all_workloads,
                seed: 1,
                cold_start: Some(ColdStartPlan {
                    settings: coldstart::Settings {
                        runs: 20,
                        min_runs: 6,
                        warmup: 1,
                        budget_per_cell: Some(Duration::from_millis(1500)),
                        cases: None,
                    },
                    cases: CasePick::SmallestPerWorkload,
                }),
                density: Some(DensityPlan {
                    settings: density_settings(500, &[], 15),
                    series: Some(vec![
                        series("noop", "native", 200),
                        series("noop", "wasmtime-pooling", 500),
                        series("noop", "wasmtime-aot", 200),
                        series("noop", "wasmtime-jit", 20),
                        series("noop", "wasmer-cranelift", 100),
                        series("noop", "wasmi", 100),
                        series("noop", "wamr-interp", 100),
                        series("noop", "node", 10),
                        series("noop", "cli-wasmtime", 10),
                        series("noop", "docker-scratch-runc-bridge", 20),
                        series("noop", "docker-debian-runc-bridge", 10),
                        series("noop", "docker-exec-scratch-runc", 20),
                        series("noop", "containerd-runc", 10),
                        series("noop", "containerd-wasm-wamr", 10),
                        series("thumbnail", "native", 5),
                        series("thumbnail", "wasmtime-pooling", 5),
                        series("thumbnail", "docker-scratch-runc-bridge", 5),
                    ]),
                }),
                throughput: Some(ThroughputPlan {
                    settings: throughput_settings(1000, 10, 8),
                    clients: None,
                    modes: Vec::new(),
                    cells: Some(cells(&[
                        ("hash-iterated", ThroughputMode::Reused),
                        ("noop", ThroughputMode::InstancePerRequest),
                    ])),
                }),
            },
            SuiteName::Ci => Suite {
                name: Some(name),
                description: "a stable subset for regression tracking: fixed seed, 30 starts per cell, noop and one real case per workload, short density, reused and instance-per-request throughput",
                targets: strings(&CI_TARGETS),
                workloads: all_workloads,
                seed: 42,
                cold_start: Some(ColdStartPlan {
                    settings: coldstart::Settings {
                        runs: 30,
                        min_runs: 10,
                        warmup: 2,
                        budget_per_cell: Some(Duration::from_secs(3)),
                        cases: None,
                    },
                    cases: CasePick::SmallestPerWorkload,
                }),
                density: Some(DensityPlan {
                    settings: density_settings(200, &[("docker", 20)], 20),
                    series: Some(vec![
                        series("noop", "native", 100),
                        series("noop", "wasmtime-pooling", 200),
                        series("noop", "wasmtime-aot", 100),
                        series("noop", "wasmer-cranelift", 100),
                        series("noop", "wasmi", 100),
                        series("noop", "docker-scratch-runc-none", 20),
                    ]),
                }),
                throughput: Some(ThroughputPlan {
                    settings: throughput_settings(2000, 10, 10),
                    clients: None,
                    modes: Vec::new(),
                    cells: Some(cells(&[
                        ("hash-iterated", ThroughputMode::Reused),
                        ("noop", ThroughputMode::Reused),
                        ("noop", ThroughputMode::InstancePerRequest),
                    ])),
                }),
            },
            SuiteName::Full => Suite {
                name: Some(name),
                description: "every available variant × every case × every experiment",
                targets: vec!["all".into()],
                workloads: all_workloads,
                seed: 1,
                cold_start: Some(ColdStartPlan {
                    settings: coldstart::Settings {
                        runs: 10,
                        min_runs: 10,
                        warmup: 1,
                        budget_per_cell: None,
                        cases: None,
                    },
                    cases: CasePick::All,
                }),
                density: Some(DensityPlan {
                    settings: density_settings(
                        1000,
                        &[("docker", 100), ("node", 100), ("cli", 100)],
                        120,
                    ),
                    series: None,
                }),
                throughput: Some(ThroughputPlan {
                    settings: throughput_settings(3000, 10, 60),
                    clients: None,
                    modes: vec![ThroughputMode::Reused, ThroughputMode::InstancePerRequest],
                    cells: None,
                }),
            },
        }
    }

    /// The same plan — experiments, targets, cases, series, cells — with
    /// tiny budgets: two measured starts per cell and no warm-up, at most 3
    /// instances per density series, 100 ms throughput windows of at least 2
    /// requests. Checks a set-up end to end in about a minute; its figures
    /// are not for quoting (`--smoke`).
    pub fn smoke(mut self) -> Suite {
        if let Some(c) = &mut self.cold_start {
            c.settings.runs = 2;
            c.settings.min_runs = 1;
            c.settings.warmup = 0;
            c.settings.budget_per_cell = None;
        }
        if let Some(d) = &mut self.density {
            d.settings.max_instances = d.settings.max_instances.min(3);
            d.settings.time_limit = d.settings.time_limit.min(Duration::from_secs(10));
            if let Some(list) = &mut d.series {
                for s in list.iter_mut() {
                    s.max_instances = s.max_instances.min(3);
                }
            }
        }
        if let Some(t) = &mut self.throughput {
            t.settings.duration = Duration::from_millis(100);
            t.settings.min_requests = 2;
            t.settings.max_cell = Duration::from_secs(10);
            t.settings.warmup_requests = 1;
        }
        self
    }

    /// The experiments, in the order they run: cold start, throughput,
    /// density (last: tearing down its idle instances keeps the engine busy
    /// for seconds, which would disturb a throughput window that followed).
    pub fn experiments(&self) -> Vec<Experiment> {
        let mut v = Vec::new();
        if self.cold_start.is_some() {
            v.push(Experiment::ColdStart);
        }
        if self.throughput.is_some() {
            v.push(Experiment::Throughput);
        }
        if self.density.is_some() {
            v.push(Experiment::Density);
        }
        v
    }

    /// The density series for the targets `ids` the session holds.
    pub fn density_series(&self, ids: &[String]) -> Vec<density::SeriesPlan> {
        let Some(d) = &self.density else {
            return Vec::new();
        };
        match &d.series {
            Some(list) => list
                .iter()
                .flat_map(|spec| {
                    ids.iter()
                        .filter(|id| crate::targets::picks(spec.targets, id))
                        .map(|id| density::SeriesPlan {
                            workload: spec.workload.to_string(),
                            target: id.clone(),
                            cap: spec.max_instances,
                            capped_by_target: true,
                        })
                        .collect::<Vec<_>>()
                })
                .collect(),
            None => self
                .workloads
                .iter()
                .flat_map(|w| {
                    ids.iter().map(|id| {
                        let (cap, capped_by_target) = d.settings.cap(id);
                        density::SeriesPlan {
                            workload: w.clone(),
                            target: id.clone(),
                            cap,
                            capped_by_target,
                        }
                    })
                })
                .collect(),
        }
    }

    /// The largest number of live pooled instances any density series needs.
    pub fn pool_instances(&self) -> Option<u32> {
        let d = self.density.as_ref()?;
        let max = match &d.series {
            Some(list) => list.iter().map(|s| s.max_instances).max().unwrap_or(0),
            None => d.settings.cap("wasmtime-pooling").0,
        };
        Some(max.max(1000) as u32 + 1)
    }

    /// The expected measuring time of each experiment on `targets` (ids),
    /// from the per-start priors, and one plan line per experiment.
    pub fn estimate(
        &self,
        targets: &[String],
        cases: &[Case],
    ) -> Vec<(Experiment, Duration, String)> {
        let mut out = Vec::new();
        if let Some(c) = &self.cold_start {
            let picked = c.cases.pick(cases);
            let mut total = 0.0;
            for &ci in &picked {
                for t in targets {
                    let p = priors(t, &cases[ci].workload);
                    let cost = p.start_s + p.teardown_s;
                    let runs = c.settings.runs_for(Duration::from_secs_f64(cost));
                    total += cost * f64::from(runs + c.settings.warmup);
                }
            }
            let budget = c
                .settings
                .budget_per_cell
                .map(|b| {
                    format!(
                        ", or as many as fit in {} ms per cell (at least {})",
                        b.as_millis(),
                        c.settings.min_runs
                    )
                })
                .unwrap_or_default();
            out.push((
                Experiment::ColdStart,
                Duration::from_secs_f64(total),
                format!(
                    "cold start: {} case(s) ({}) × {} target(s), {} warm-up + up to {} measured starts per cell{budget}",
                    picked.len(),
                    if picked.len() <= 8 {
                        picked
                            .iter()
                            .map(|&i| format!("{} {}", cases[i].workload, cases[i].name))
                            .collect::<Vec<_>>()
                            .join(", ")
                    } else {
                        "every case".to_string()
                    },
                    targets.len(),
                    c.settings.warmup,
                    c.settings.runs
                ),
            ));
        }
        if let Some(t) = &self.throughput {
            let n_rows = throughput::rows(cases, &vec![Some(0); cases.len()]).len();
            let n_cells = t.cells.as_ref().map_or(n_rows * t.modes.len(), |c| c.len());
            let per_cell = t.settings.duration.as_secs_f64() + 0.4;
            let total = per_cell * (n_cells * targets.len()) as f64;
            let what = t
                .cells
                .as_ref()
                .map(|c| {
                    c.iter()
                        .map(|c| format!("{} {}", c.row, c.mode.name()))
                        .collect::<Vec<_>>()
                        .join(", ")
                })
                .unwrap_or_else(|| {
                    format!(
                        "every row × {}",
                        t.modes
                            .iter()
                            .map(|m| m.name())
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                });
            out.push((
                Experiment::Throughput,
                Duration::from_secs_f64(total),
                format!(
                    "throughput: {what} × {} target(s), windows ≥ {} ms and ≥ {} requests (≤ {} s)",
                    targets.len(),
                    t.settings.duration.as_millis(),
                    t.settings.min_requests,
                    t.settings.max_cell.as_secs()
                ),
            ));
        }
        if self.density.is_some() {
            let series = self.density_series(targets);
            let total: f64 = series
                .iter()
                .map(|s| {
                    let p = priors(&s.target, &s.workload);
                    let per = p.start_s + p.teardown_s * 0.5;
                    let samples = density::steps(s.cap).len() as f64 * p.density_sample_s;
                    per * s.cap as f64 + samples
                })
                .sum();
            let limit = self
                .density
                .as_ref()
                .map(|d| d.settings.time_limit)
                .unwrap_or_default();
            out.push((
                Experiment::Density,
                Duration::from_secs_f64(total.min(limit.as_secs_f64() * series.len() as f64)),
                format!(
                    "density: {} series ({}), ≤ {} s each",
                    series.len(),
                    series
                        .iter()
                        .map(|s| format!("{}×{} {}", s.cap, s.workload, s.target))
                        .collect::<Vec<_>>()
                        .join(", "),
                    limit.as_secs()
                ),
            ));
        }
        out
    }
}

/// Planning priors of `workload` on the target with id `target`, from its
/// family ([`crate::targets::TargetFamily::priors`]); a target this build
/// does not know gets those of a light process start. Planning only.
pub fn priors(target: &str, workload: &str) -> Priors {
    crate::targets::variant(target)
        .map(|v| v.priors(workload))
        .unwrap_or_else(|| Priors::new(0.002, 0.0005))
}
