//! The `coldbench` command line.

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};
use coldbench::artifacts::{WORKLOADS, default_inputs_dir, repo_dir};
use coldbench::coldstart::{self, ColdStartConfig, Collector};
use coldbench::density;
use coldbench::host;
use coldbench::suite;
use coldbench::targets::native::NativeTarget;
use coldbench::targets::{HostProbe, Target, TargetOptions, Variant, catalog, selects};
use coldbench::throughput;
use coldbench_results::{
    DensityConfig, DockerEngineInfo, Metric, RunConfig, RunFile, SCHEMA_VERSION, ThroughputConfig,
    ThroughputMode, ToolInfo,
};
use rand::SeedableRng;
use rand::seq::SliceRandom;
use std::collections::{BTreeMap, HashSet};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

#[derive(Parser)]
#[command(name = "coldbench", version, about = "Cold start of the same workloads as Wasm modules, containers and native processes", long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Measure cold start (t_ready, t_first_response, t_teardown) of every workload × target.
    Run(RunArgs),
    /// Measure closed-loop throughput (requests/s, latency, slowdown against
    /// native) of every workload × target × mode.
    Throughput(ThroughputArgs),
    /// Fill the host with idle instances, one at a time, and sample memory
    /// per instance three ways (host MemAvailable, attributable PSS/USS,
    /// engine-reported) at 1, 2, 5, 10, 20, 50, … instances; project
    /// instances per host.
    Density(DensityArgs),
    /// List the target variants and whether each can run on this host.
    Targets,
    /// Print the tables of an existing results file.
    Report {
        /// Path to a `run.json`.
        path: PathBuf,
    },
}

/// What every measuring command takes: which workloads and targets, where
/// inputs come from and results go, and the bound on every wait.
#[derive(Parser, Clone)]
struct CommonArgs {
    /// Workloads to run (comma-separated).
    #[arg(long, value_delimiter = ',', default_values_t = WORKLOADS.map(String::from))]
    workloads: Vec<String>,
    /// Target variants to run (comma-separated ids or prefixes such as
    /// `docker`, `wasmtime`, `docker-debian`; `all` = every variant available
    /// on this host); see `coldbench targets`.
    #[arg(long, value_delimiter = ',', default_value = "all")]
    targets: Vec<String>,
    /// Seed of the RNG that interleaves targets.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Directory for run.json (default: results/runs/<date>-<host>-<label>).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Inputs directory (default: the curated real inputs in workloads/inputs).
    #[arg(long)]
    inputs: Option<PathBuf>,
    /// Bound on every wait for an instance (ready, response, teardown), ms.
    #[arg(long, default_value_t = 30_000)]
    timeout_ms: u64,
}

#[derive(Parser, Clone)]
struct RunArgs {
    #[command(flatten)]
    common: CommonArgs,
    /// Measured starts per case and target.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..))]
    runs: u32,
    /// Discarded warm-up starts per case and target.
    #[arg(long, default_value_t = 1)]
    warmup: u32,
    /// Label of the run (part of the default output directory name).
    #[arg(long, default_value = "coldstart")]
    label: String,
}

#[derive(Parser, Clone)]
struct ThroughputArgs {
    #[command(flatten)]
    common: CommonArgs,
    /// Concurrent closed-loop clients per cell (default: the number of logical cores).
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..))]
    clients: Option<u32>,
    /// Minimum measurement window per cell, seconds.
    #[arg(long, default_value_t = 5.0)]
    duration_s: f64,
    /// Minimum verified requests per cell (the window is extended, up to --max-cell-s).
    #[arg(long, default_value_t = 20)]
    min_requests: u64,
    /// Hard bound on one cell's window, seconds.
    #[arg(long, default_value_t = 60.0)]
    max_cell_s: f64,
    /// Requests per client run and discarded before each cell's window opens.
    #[arg(long, default_value_t = 2)]
    warmup_requests: u32,
    /// Equal slices of the window for the requests/s interval (batch means).
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u32).range(2..=31))]
    batches: u32,
    /// Modes (comma-separated): `reused`, `instance-per-request`.
    #[arg(long, value_delimiter = ',', default_values_t = ["reused".to_string(), "instance-per-request".to_string()])]
    modes: Vec<String>,
    /// Label of the run (part of the default output directory name).
    #[arg(long, default_value = "throughput")]
    label: String,
}

#[derive(Parser, Clone)]
struct DensityArgs {
    #[command(flatten)]
    common: CommonArgs,
    /// Largest number of live instances per series.
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u64).range(1..))]
    max_instances: u64,
    /// Per-target caps, comma-separated `target=N` (ids or prefixes, e.g. `docker=500`).
    #[arg(long, value_delimiter = ',')]
    max_per_target: Vec<String>,
    /// Memory floor: a series stops before a start would leave MemAvailable
    /// below this percentage of the host's memory.
    #[arg(long, default_value_t = 25.0)]
    floor_percent: f64,
    /// A series stops before the host's threads would exceed this percentage
    /// of its task limit (min of kernel.pid_max and kernel.threads-max).
    #[arg(long, default_value_t = 80.0)]
    task_limit_percent: f64,
    /// Bound on one series' starts and samples, seconds (teardown not included).
    #[arg(long, default_value_t = 600.0)]
    time_limit_s: f64,
    /// Host memory to project instances per host for (`64GiB`, `128G`,
    /// `512MiB`, bytes); default: this host's MemTotal.
    #[arg(long, value_parser = parse_bytes)]
    host_memory: Option<u64>,
    /// Label of the run (part of the default output directory name).
    #[arg(long, default_value = "density")]
    label: String,
}

/// Parses a size: a number with an optional unit, binary (`KiB`, `MiB`,
/// `GiB`, `TiB`, also `K`, `M`, `G`, `T`) or decimal (`KB`, `MB`, `GB`, `TB`); bytes.
fn parse_bytes(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: f64 = num
        .parse()
        .map_err(|_| format!("`{s}` is not a size (e.g. 64GiB, 512MiB, 1000000000)"))?;
    let mult: f64 = match unit.trim() {
        "" | "B" => 1.0,
        "K" | "KiB" => 1024.0,
        "M" | "MiB" => 1024f64.powi(2),
        "G" | "GiB" => 1024f64.powi(3),
        "T" | "TiB" => 1024f64.powi(4),
        "KB" | "kB" => 1e3,
        "MB" => 1e6,
        "GB" => 1e9,
        "TB" => 1e12,
        u => {
            return Err(format!(
                "unknown size unit `{u}` in `{s}` (B, KiB, MiB, GiB, TiB, KB, MB, GB, TB)"
            ));
        }
    };
    let bytes = n * mult;
    if !(bytes >= 1.0 && bytes < u64::MAX as f64) {
        return Err(format!("size `{s}` is out of range"));
    }
    Ok(bytes as u64)
}

fn main() {
    let cli = Cli::parse();
    let result = match cli.command {
        None => run(RunArgs::parse_from(["coldbench-run"])),
        Some(Command::Run(a)) => run(a),
        Some(Command::Throughput(a)) => throughput(a),
        Some(Command::Density(a)) => density(a),
        Some(Command::Targets) => list_targets(),
        Some(Command::Report { path }) => report(&path),
    };
    if let Err(e) = result {
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
}

fn report(path: &Path) -> Result<()> {
    let run = RunFile::read(path)?;
    if !run.results.is_empty() {
        print!("{}", coldbench_reports::cold_start_table(&run));
    }
    if !run.throughput.is_empty() {
        print!("{}", coldbench_reports::throughput_table(&run));
    }
    if !run.density.is_empty() {
        print!("{}", coldbench_reports::density_table(&run));
    }
    Ok(())
}

fn list_targets() -> Result<()> {
    let probe = HostProbe::new("list");
    let mut table = comfy_table::Table::new();
    table
        .load_preset(comfy_table::presets::UTF8_BORDERS_ONLY)
        .set_header(vec![
            "target",
            "family",
            "available",
            "what / why not and how to enable",
        ]);
    for v in catalog() {
        let (avail, note) = match probe.availability(&v) {
            Ok(()) => ("yes", v.describe()),
            Err(why) => ("no", why),
        };
        table.add_row(vec![
            v.id.clone(),
            v.family.to_string(),
            avail.to_string(),
            note,
        ]);
    }
    println!("{table}");
    if let Some(i) = &probe.engine {
        println!(
            "Docker {} (API {}), storage {}, cgroup driver {}, runtimes: {}; host cgroup layout: {}",
            i.engine_version,
            i.api_version,
            i.storage_driver,
            i.cgroup_driver,
            i.runtimes.join(", "),
            probe.cgroup_layout
        );
    }
    Ok(())
}

/// What a command measured besides the collector's distributions: the
/// cold-start settings, and the throughput configuration and cells.
struct Measured {
    runs: u32,
    warmup: u32,
    throughput_cfg: Option<ThroughputConfig>,
    throughput: Vec<coldbench_results::ThroughputResult>,
    density_cfg: Option<DensityConfig>,
    density: Vec<coldbench_results::DensitySeries>,
}

impl Measured {
    /// Nothing measured besides the collector's distributions.
    fn cold_start(runs: u32, warmup: u32) -> Measured {
        Measured {
            runs,
            warmup,
            throughput_cfg: None,
            throughput: Vec::new(),
            density_cfg: None,
            density: Vec::new(),
        }
    }
}

/// What a measuring command sets up before measuring and needs to write its
/// results file: output directory, Ctrl-C flag, cases, the host probe, the
/// prepared targets and everything recorded on the way.
struct Session {
    common: CommonArgs,
    started: Instant,
    started_utc: chrono::DateTime<chrono::Utc>,
    timeout: Duration,
    out_dir: PathBuf,
    interrupted: Arc<AtomicBool>,
    inputs_dir: PathBuf,
    cases: Vec<suite::Case>,
    probe: HostProbe,
    out: Collector,
    /// Records of variants that cannot run (unavailable, or nothing prepared).
    unavailable: Vec<coldbench_results::TargetRecord>,
    /// (target id, workload) pairs a target could not prepare.
    skip: HashSet<(String, String)>,
    /// How targets are built (pooling capacity).
    target_options: TargetOptions,
}

impl Session {
    /// Checks the arguments, creates the output directory, installs the
    /// Ctrl-C handler, reads the inputs and probes the host.
    fn new(common: &CommonArgs, label: &str) -> Result<Session> {
        for w in &common.workloads {
            if !WORKLOADS.contains(&w.as_str()) {
                bail!("unknown workload `{w}` (known: {})", WORKLOADS.join(", "));
            }
        }
        let variants = catalog();
        for t in &common.targets {
            if !variants.iter().any(|v| selects(t, &v.id)) {
                bail!(
                    "unknown target `{t}` (known: all, {}; prefixes such as `docker` or `wasmtime` select families; see `coldbench targets`)",
                    variants
                        .iter()
                        .map(|v| v.id.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                );
            }
        }
        let started = Instant::now();
        let started_utc = chrono::Utc::now();
        let hostname = sysinfo::System::host_name().unwrap_or_else(|| "host".into());
        let run_id = format!(
            "{}-{}",
            started_utc.format("%Y%m%dT%H%M%SZ"),
            std::process::id()
        );
        let out_dir = common.out.clone().unwrap_or_else(|| {
            repo_dir().join("results").join("runs").join(format!(
                "{}-{}-{label}",
                started_utc.format("%Y-%m-%dT%H%M%S"),
                hostname,
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
        let inputs_dir = common.inputs.clone().unwrap_or_else(default_inputs_dir);
        let (cases, problems) = suite::discover(&inputs_dir, &common.workloads);
        let mut out = Collector::default();
        for p in &problems {
            out.error(
                Some(&p.workload),
                None,
                None,
                "input",
                "missing",
                p.message.clone(),
            );
        }
        Ok(Session {
            common: common.clone(),
            started,
            started_utc,
            timeout: Duration::from_millis(common.timeout_ms.max(1)),
            out_dir,
            interrupted,
            inputs_dir,
            cases,
            probe: HostProbe::new(&run_id),
            out,
            unavailable: Vec::new(),
            skip: HashSet::new(),
            target_options: TargetOptions::default(),
        })
    }

    /// The selected variants that can run here; the others are recorded
    /// (and, when asked for by name, reported as errors of this run).
    fn available_variants(&mut self) -> Vec<Variant> {
        let mut ok = Vec::new();
        for v in catalog()
            .into_iter()
            .filter(|v| self.common.targets.iter().any(|p| selects(p, &v.id)))
        {
            match self.probe.availability(&v) {
                Ok(()) => ok.push(v),
                Err(why) => {
                    eprintln!("{}: unavailable: {why}", v.id);
                    if self.common.targets.iter().any(|p| p == &v.id) {
                        self.out.error(
                            None,
                            Some(&v.id),
                            None,
                            "prepare",
                            "unavailable",
                            why.clone(),
                        );
                    }
                    self.unavailable
                        .push(self.probe.unavailable_record(&v, &why));
                }
            }
        }
        ok
    }

    /// Builds and prepares a target for `v` (module loads, precompiles, image
    /// builds: not cold start). A workload it cannot prepare (e.g. a module
    /// using SIMD under a compiler without it) is skipped on that target only,
    /// with its reason. `None` if it could prepare no workload at all.
    /// `record_prepare`: whether the prepare times go into the results.
    fn prepare(
        &mut self,
        v: &Variant,
        cache_dir: &Path,
        record_prepare: bool,
    ) -> Option<Box<dyn Target>> {
        let mut t = self
            .probe
            .build(v, cache_dir, &self.common.workloads, &self.target_options);
        let mut failed = Vec::new();
        for w in &self.common.workloads {
            eprint!("prepare {:<13} {:<14}\r", t.id(), w);
            match t.prepare(w, self.timeout) {
                Ok(Some(ns)) if record_prepare => self.out.record(w, t.id(), Metric::Prepare, ns),
                Ok(_) => {}
                Err(e) => failed.push((w.clone(), e.to_string())),
            }
        }
        for (w, why) in &failed {
            if self.skip.insert((t.id().to_string(), w.clone())) {
                eprintln!("{} / {w}: skipped: {why}", t.id());
                self.out.error(
                    Some(w),
                    Some(t.id()),
                    None,
                    "prepare",
                    "unavailable",
                    why.clone(),
                );
            }
        }
        if failed.len() < self.common.workloads.len() {
            Some(t)
        } else {
            let why = failed.first().map(|(_, e)| e.clone()).unwrap_or_default();
            let mut r = t.record();
            r.available = false;
            r.unavailable_reason = Some(why);
            self.unavailable.push(r);
            None
        }
    }

    /// One prepared target per available selected variant (prepare times
    /// recorded; precompiled modules in `<out>/precompiled`).
    fn prepare_all(&mut self) -> Vec<Box<dyn Target>> {
        let cache_dir = self.out_dir.join("precompiled");
        let mut targets = Vec::new();
        for v in self.available_variants() {
            if let Some(t) = self.prepare(&v, &cache_dir, true) {
                targets.push(t);
            }
        }
        eprintln!();
        targets
    }

    /// Native's checksum of every case (every target must reproduce it).
    fn reference(&mut self) -> Vec<Option<u32>> {
        let mut reference = NativeTarget::new(&self.common.workloads);
        coldstart::reference_checksums(&mut reference, &self.cases, self.timeout, &mut self.out)
    }

    /// Removes whatever container of this run is left, writes `run.json`
    /// (even after an interrupt: what was measured is kept) and returns it
    /// read back from disk with its path.
    fn finish(
        mut self,
        label: &str,
        mut target_records: Vec<coldbench_results::TargetRecord>,
        measured: Measured,
        expected: &[Option<u32>],
    ) -> Result<(RunFile, PathBuf)> {
        let Measured {
            runs,
            warmup,
            throughput_cfg,
            throughput,
            density_cfg,
            density,
        } = measured;
        target_records.append(&mut self.unavailable);
        let mut runtime_versions = BTreeMap::new();
        for r in &target_records {
            if r.family == "wasm" && r.available && !r.runtime_version.is_empty() {
                runtime_versions.insert(r.runtime.clone(), r.runtime_version.clone());
            }
        }
        let engine_info = self.probe.engine.clone();
        if let Some(i) = &engine_info {
            runtime_versions.insert("docker-engine".into(), i.engine_version.clone());
            runtime_versions.insert("bollard".into(), "0.21".into());
        }
        if let Ok(h) = &self.probe.docker {
            match h.remove_labelled(Duration::from_secs(30)) {
                Ok(0) => {}
                Ok(n) => eprintln!("removed {n} leftover container(s) of this run"),
                Err(e) => self
                    .out
                    .error(None, None, None, "teardown", "cleanup", e.to_string()),
            }
        }
        let run = RunFile {
            schema_version: SCHEMA_VERSION,
            tool: ToolInfo {
                name: "coldbench".into(),
                version: env!("CARGO_PKG_VERSION").into(),
                git_revision: host::git_revision(&repo_dir()),
                command_line: std::env::args().collect::<Vec<_>>().join(" "),
            },
            started_utc: self.started_utc.to_rfc3339(),
            duration_ns: self.started.elapsed().as_nanos() as u64,
            label: label.to_string(),
            interrupted: self.interrupted.load(Ordering::SeqCst),
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
                runs,
                warmup,
                seed: self.common.seed,
                workloads: self.common.workloads.clone(),
                targets: self.common.targets.clone(),
                inputs_dir: self.inputs_dir.display().to_string(),
                timeout_ms: self.common.timeout_ms,
                throughput: throughput_cfg,
                density: density_cfg,
            },
            targets: target_records,
            cases: self
                .cases
                .iter()
                .zip(expected)
                .map(|(c, e)| c.record(*e))
                .collect(),
            results: self.out.results(),
            verification: self.out.verification(),
            errors: self.out.errors.clone(),
            throughput,
            density,
        };
        let path = self.out_dir.join("run.json");
        run.write(&path)?;
        // Tables are rendered from the file just written, never from memory.
        Ok((RunFile::read(&path)?, path))
    }
}

/// Prints a table rendered from the written results file and where it is;
/// exits with 130 if the run was interrupted (its results are kept).
fn show(table: &str, back: &RunFile, path: &Path) {
    print!("{table}");
    println!("\nResults: {}", path.display());
    if back.interrupted {
        std::process::exit(130);
    }
}

fn run(args: RunArgs) -> Result<()> {
    let mut session = Session::new(&args.common, &args.label)?;
    let mut targets = session.prepare_all();
    let expected = session.reference();
    let cfg = ColdStartConfig {
        runs: args.runs,
        warmup: args.warmup,
        seed: args.common.seed,
        timeout: session.timeout,
    };
    let interrupted = session.interrupted.clone();
    coldstart::run(
        &mut targets,
        &session.cases,
        &session.skip,
        &expected,
        &cfg,
        &interrupted,
        &mut session.out,
        |done, total| {
            eprint!("\rcold start: {done}/{total} starts");
            let _ = std::io::stderr().flush();
        },
    );
    eprintln!();
    let records: Vec<_> = targets.iter().map(|t| t.record()).collect();
    drop(targets);
    let (back, path) = session.finish(
        &args.label,
        records,
        Measured::cold_start(args.runs, args.warmup),
        &expected,
    )?;
    show(&coldbench_reports::cold_start_table(&back), &back, &path);
    Ok(())
}

fn throughput(args: ThroughputArgs) -> Result<()> {
    let mut modes = Vec::new();
    for m in &args.modes {
        modes.push(match m.as_str() {
            "reused" => ThroughputMode::Reused,
            "instance-per-request" | "instance_per_request" => ThroughputMode::InstancePerRequest,
            other => bail!("unknown mode `{other}` (known: reused, instance-per-request)"),
        });
    }
    if !(args.duration_s > 0.0 && args.max_cell_s >= args.duration_s) {
        bail!("--duration-s must be > 0 and --max-cell-s at least --duration-s");
    }
    let clients = args.clients.unwrap_or_else(|| {
        std::thread::available_parallelism()
            .map(|n| n.get() as u32)
            .unwrap_or(1)
    });
    let settings = throughput::Settings {
        duration: Duration::from_secs_f64(args.duration_s),
        min_requests: args.min_requests,
        max_cell: Duration::from_secs_f64(args.max_cell_s),
        warmup_requests: args.warmup_requests,
        batches: args.batches,
        timeout: Duration::from_millis(args.common.timeout_ms.max(1)),
    };
    let mut session = Session::new(&args.common, &args.label)?;
    // One target per client, each with its own runner process / cache
    // directory, so that clients never share a runner's control pipe.
    let mut variants: Vec<(String, Vec<Box<dyn Target>>)> = Vec::new();
    for v in session.available_variants() {
        let mut per_client = Vec::new();
        for c in 0..clients {
            let cache_dir = session
                .out_dir
                .join("precompiled")
                .join(format!("client-{c}"));
            match session.prepare(&v, &cache_dir, c == 0) {
                Some(t) => per_client.push(t),
                None => break,
            }
        }
        if per_client.len() == clients as usize {
            variants.push((v.id.clone(), per_client));
        }
    }
    eprintln!();
    let expected = session.reference();
    let rows = throughput::rows(&session.cases, &expected);
    let timer_overhead_ns = throughput::timer_overhead_ns();
    let mut rng = rand::rngs::StdRng::seed_from_u64(args.common.seed);
    let mut results = Vec::new();
    let total = modes.len() * rows.len() * variants.len();
    let mut done = 0;
    'cells: for &mode in &modes {
        for row in &rows {
            let mut order: Vec<usize> = (0..variants.len()).collect();
            order.shuffle(&mut rng);
            for vi in order {
                if session.interrupted.load(Ordering::SeqCst) {
                    break 'cells;
                }
                let (id, targets) = &mut variants[vi];
                done += 1;
                if session.skip.contains(&(id.clone(), row.workload.clone())) {
                    continue;
                }
                eprint!(
                    "\rthroughput {done}/{total}: {:<13} {:<22} {:<20}",
                    row.name,
                    id,
                    mode.name()
                );
                let _ = std::io::stderr().flush();
                let (result, cell) = throughput::measure_cell(
                    targets,
                    id,
                    row,
                    &session.cases,
                    &expected,
                    mode,
                    &settings,
                    &session.interrupted,
                );
                for (case, phase, kind, message) in cell.failures {
                    session.out.error(
                        Some(&row.workload),
                        Some(id),
                        Some(&case),
                        phase,
                        kind,
                        message,
                    );
                }
                session
                    .out
                    .add_verified(&row.workload, id, cell.verified, cell.mismatched);
                match result {
                    Some(r) => results.push(r),
                    None => session.out.error(
                        Some(&row.workload),
                        Some(id),
                        None,
                        "throughput",
                        "no_requests",
                        format!(
                            "{} / {id} / {}: no verified request finished inside the window ({} failed)",
                            row.name,
                            mode.name(),
                            cell.failed
                        ),
                    ),
                }
            }
        }
    }
    eprintln!();
    throughput::fill_slowdown(&mut results);
    let records: Vec<_> = variants
        .iter()
        .filter_map(|(_, ts)| ts.first().map(|t| t.record()))
        .map(|mut r| {
            r.knobs.insert(
                "throughput_clients".into(),
                format!("{clients} clients, one target (runner process / container set) each"),
            );
            r
        })
        .collect();
    drop(variants);
    let cfg = ThroughputConfig {
        clients,
        duration_ns: settings.duration.as_nanos() as u64,
        min_requests: settings.min_requests,
        max_cell_ns: settings.max_cell.as_nanos() as u64,
        warmup_requests: settings.warmup_requests,
        batches: settings.batches,
        modes: modes.clone(),
        timer_overhead_ns,
    };
    let (back, path) = session.finish(
        &args.label,
        records,
        Measured {
            throughput_cfg: Some(cfg),
            throughput: results,
            ..Measured::cold_start(0, 0)
        },
        &expected,
    )?;
    show(&coldbench_reports::throughput_table(&back), &back, &path);
    Ok(())
}

/// Pooling allocator capacity is capped here: each slot reserves 1 GiB of
/// address space (plus guards), and x86-64 user space is 128 TiB.
const MAX_POOL_INSTANCES: u64 = 100_000;

fn density(args: DensityArgs) -> Result<()> {
    if !(0.0..100.0).contains(&args.floor_percent) {
        bail!("--floor-percent must be in [0, 100)");
    }
    if !(args.task_limit_percent > 0.0 && args.task_limit_percent <= 100.0) {
        bail!("--task-limit-percent must be in (0, 100]");
    }
    if args.time_limit_s.is_nan() || args.time_limit_s <= 0.0 {
        bail!("--time-limit-s must be > 0");
    }
    let mut per_target_max = Vec::new();
    for spec in &args.max_per_target {
        let (t, n) = spec
            .split_once('=')
            .and_then(|(t, n)| Some((t.to_string(), n.parse::<u64>().ok()?)))
            .filter(|(_, n)| *n > 0)
            .with_context(|| format!("--max-per-target: `{spec}` is not `target=N` with N > 0"))?;
        if !catalog().iter().any(|v| selects(&t, &v.id)) {
            bail!("--max-per-target: `{t}` selects no target (see `coldbench targets`)");
        }
        per_target_max.push((t, n));
    }
    let settings = density::Settings {
        max_instances: args.max_instances,
        per_target_max: per_target_max.clone(),
        floor_fraction: args.floor_percent / 100.0,
        task_limit_fraction: args.task_limit_percent / 100.0,
        time_limit: Duration::from_secs_f64(args.time_limit_s),
        host_memory_bytes: args.host_memory,
        timeout: Duration::from_millis(args.common.timeout_ms.max(1)),
    };
    let mut session = Session::new(&args.common, &args.label)?;
    let pool_cap = settings.cap("wasmtime-pooling").0;
    if pool_cap > MAX_POOL_INSTANCES {
        bail!(
            "wasmtime-pooling would need a pool of {pool_cap} instances; at most {MAX_POOL_INSTANCES} (1 GiB of address space each) — lower --max-instances or set --max-per-target wasmtime-pooling=N"
        );
    }
    // The pool holds every live instance of a series, plus the reference start.
    session.target_options.pool_instances = Some(pool_cap.max(1000) as u32 + 1);
    let mut targets = session.prepare_all();
    let expected = session.reference();
    let base = coldbench::memory::HostMemory::read().map_err(anyhow::Error::msg)?;
    let mut series = Vec::new();
    'all: for workload in &args.common.workloads {
        // Every instance of a series answers the workload's first case native answered.
        let Some((ci, case)) = session
            .cases
            .iter()
            .enumerate()
            .find(|(i, c)| &c.workload == workload && expected[*i].is_some())
        else {
            continue;
        };
        let case = case.clone();
        for t in targets.iter_mut() {
            if session.interrupted.load(Ordering::SeqCst) {
                break 'all;
            }
            let id = t.id().to_string();
            if session.skip.contains(&(id.clone(), workload.clone())) {
                continue;
            }
            let (s, log) = density::run_series(
                t.as_mut(),
                &case,
                expected[ci],
                &settings,
                &session.interrupted,
                |n| {
                    // A progress line that stays short in a log file too.
                    if n < 10 || n % 50 == 0 {
                        eprint!("\rdensity {workload:<13} {id:<26} {n:>6} instances");
                        let _ = std::io::stderr().flush();
                    }
                },
            );
            eprintln!();
            for (phase, kind, message) in log.failures {
                session.out.error(
                    Some(workload.as_str()),
                    Some(&id),
                    Some(&case.name),
                    phase,
                    kind,
                    message,
                );
            }
            session
                .out
                .add_verified(workload, &id, log.verified, log.mismatched);
            if let Some(s) = s {
                eprintln!(
                    "  {} instances, stopped: {} ({})",
                    s.instances, s.stop_reason, s.stop_detail
                );
                series.push(s);
            }
        }
    }
    let records: Vec<_> = targets.iter().map(|t| t.record()).collect();
    drop(targets);
    let cfg = DensityConfig {
        max_instances: settings.max_instances,
        per_target_max: per_target_max.into_iter().collect(),
        memory_floor_fraction: settings.floor_fraction,
        memory_floor_bytes: (base.total_bytes as f64 * settings.floor_fraction) as u64,
        series_time_limit_ns: settings.time_limit.as_nanos() as u64,
        task_limit_fraction: settings.task_limit_fraction,
        steps: density::steps(settings.max_instances),
        projection_host_memory_bytes: settings.host_memory_bytes.unwrap_or(base.total_bytes),
        vm_max_map_count: coldbench::memory::max_map_count(),
    };
    let (back, path) = session.finish(
        &args.label,
        records,
        Measured {
            density_cfg: Some(cfg),
            density: series,
            ..Measured::cold_start(0, 0)
        },
        &expected,
    )?;
    show(&coldbench_reports::density_table(&back), &back, &path);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::parse_bytes;

    #[test]
    fn sizes_parse_with_binary_and_decimal_units() {
        assert_eq!(parse_bytes("24GiB"), Ok(24 << 30));
        assert_eq!(parse_bytes("512M"), Ok(512 << 20));
        assert_eq!(parse_bytes("1GB"), Ok(1_000_000_000));
        assert_eq!(parse_bytes("4096"), Ok(4096));
        assert!(parse_bytes("12 parsecs").is_err());
        assert!(parse_bytes("GiB").is_err());
    }
}
