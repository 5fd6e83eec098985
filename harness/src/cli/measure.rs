//! The measuring commands: the suites (no command), `run`, `density` and
//! `throughput`. Each builds a [`Suite`] from its arguments and hands it to
//! [`coldbench::plan::execute`]; the tables printed come from the results
//! file it wrote.

use super::export::Exports;
use anyhow::{Context, Result, bail};
use clap::Parser;
use coldbench::artifacts::{CommandWorkload, WORKLOADS, register_command};
use coldbench::experiment::{coldstart, density, throughput};
use coldbench::plan::{RunOptions, execute};
use coldbench::progress::ProgressMode;
use coldbench::suite::{CasePick, ColdStartPlan, DensityPlan, Suite, SuiteName, ThroughputPlan};
use coldbench::targets::{catalog, picks};
use coldbench_results::{RunFile, ThroughputMode};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Pooling allocator capacity is capped here: each slot reserves 1 GiB of
/// address space (plus guards), and x86-64 user space is 128 TiB.
const MAX_POOL_INSTANCES: u64 = 100_000;

/// Options of a suite run (no command).
#[derive(Parser, Clone)]
pub struct SuiteArgs {
    /// Preset: `default` (≤ 3 min of measuring), `ci` (regression
    /// tracking), `full` (every variant × case × experiment).
    #[arg(long, value_enum, default_value = "default")]
    suite: SuiteName,
    /// Run the suite's plan with tiny budgets (2 starts per cell, ≤ 3
    /// instances per series, 100 ms windows): checks a set-up end to end;
    /// its figures are not for quoting.
    #[arg(long)]
    smoke: bool,
    #[command(flatten)]
    out: OutArgs,
}

/// Where results go and inputs come from, the bound on every wait.
#[derive(Parser, Clone)]
pub struct OutArgs {
    /// Directory for run.json (default: results/runs/<date>-<host>-<label>).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Inputs directory (default: the curated real inputs in workloads/inputs).
    #[arg(long)]
    inputs: Option<PathBuf>,
    /// Bound on every wait for an instance (ready, response, teardown), ms.
    #[arg(long, default_value_t = 30_000, value_parser = clap::value_parser!(u64).range(1..=3_600_000))]
    timeout_ms: u64,
    /// SHA-256 passes of the iterated `hash` case (the `hash-iterated`
    /// throughput row keeps its name: a way to check that `compare` sees
    /// a run doing more work).
    #[arg(long, default_value_t = coldbench::cases::HASH_HEAVY_ITERATIONS, value_parser = clap::value_parser!(u32).range(2..=1_000_000))]
    hash_iterations: u32,
    /// Container confinement: `on` (read-only root filesystem, all
    /// capabilities dropped, no-new-privileges, user 65534, 1 GiB, 64
    /// tasks) or `off` (Docker's defaults) — run both to measure its cost.
    #[arg(long, value_enum, default_value = "on")]
    container_hardening: OnOff,
}

/// A switch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OnOff {
    /// Enabled.
    On,
    /// Disabled.
    Off,
}

/// What every single-experiment command takes: which workloads and
/// targets, the seed, and where results go.
#[derive(Parser, Clone)]
pub struct CommonArgs {
    /// Workloads to run (comma-separated; default: the shipped ones, or
    /// only your own when --workload is given).
    #[arg(long, value_delimiter = ',')]
    workloads: Option<Vec<String>>,
    /// Your own WASI command as a workload, `NAME=PATH.wasm[:NATIVE_BINARY]`
    /// (repeatable): run to exit with its arguments and one input on
    /// stdin, its response being its stdout's CRC-32 (exit status 0
    /// required), verified across targets. The static Linux binary of the
    /// same program gives native's reference and the container images;
    /// without it those targets are skipped with the reason.
    #[arg(long = "workload", value_name = "NAME=PATH.wasm[:NATIVE_BINARY]")]
    commands: Vec<String>,
    /// An argument of a --workload command, `NAME=ARG` (repeatable, in order).
    #[arg(long = "workload-arg", value_name = "NAME=ARG")]
    command_args: Vec<String>,
    /// An input file of a --workload command, `NAME=FILE` (repeatable):
    /// one case each, given whole on stdin; none: one case with empty stdin.
    #[arg(long = "workload-input", value_name = "NAME=FILE")]
    command_inputs: Vec<String>,
    /// A directory a --workload command sees as its working directory,
    /// read only, `NAME=DIR` (once per command): preopened as `.` in Wasm
    /// (relative paths resolve in it), the native process's working
    /// directory, bind-mounted read-only in containers. Each target's
    /// `workload_dir` knob says whether it enforces read-only.
    #[arg(long = "workload-dir", value_name = "NAME=DIR")]
    command_dirs: Vec<String>,
    /// Target variants to run (comma-separated ids or prefixes such as
    /// `docker`, `wasmtime`, `docker-debian`; `all` = every variant available
    /// on this host); see `coldbench targets`.
    #[arg(long, value_delimiter = ',', default_value = "all")]
    targets: Vec<String>,
    /// Seed of the RNG that interleaves targets.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    #[command(flatten)]
    out: OutArgs,
}

#[derive(Parser, Clone)]
pub struct RunArgs {
    #[command(flatten)]
    common: CommonArgs,
    /// Measured starts per case and target.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    runs: u32,
    /// Discarded warm-up starts per case and target.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(0..=1_000_000))]
    warmup: u32,
    /// Label of the run (part of the default output directory name).
    #[arg(long, default_value = "coldstart")]
    label: String,
}

#[derive(Parser, Clone)]
pub struct ThroughputArgs {
    #[command(flatten)]
    common: CommonArgs,
    /// Concurrent closed-loop clients per cell (default: the number of logical cores).
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=1024))]
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
    #[arg(long, value_enum, value_delimiter = ',', default_values_t = [ModeArg::Reused, ModeArg::InstancePerRequest])]
    modes: Vec<ModeArg>,
    /// Label of the run (part of the default output directory name).
    #[arg(long, default_value = "throughput")]
    label: String,
}

#[derive(Parser, Clone)]
pub struct DensityArgs {
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
pub fn parse_bytes(s: &str) -> Result<u64, String> {
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

/// A number of seconds a flag can honour: finite, > 0, at most a day.
fn seconds(flag: &str, v: f64) -> Result<Duration> {
    if !(v.is_finite() && v > 0.0 && v <= 86_400.0) {
        bail!("{flag} must be a number of seconds in (0, 86400], not {v}");
    }
    Ok(Duration::from_secs_f64(v))
}

fn mode(progress_quiet: bool) -> ProgressMode {
    if progress_quiet {
        ProgressMode::Quiet
    } else {
        ProgressMode::Auto
    }
}

fn run_options(out: &OutArgs, label: &str, output: &Output) -> RunOptions {
    RunOptions {
        out: out.out.clone(),
        inputs: out.inputs.clone(),
        timeout: Duration::from_millis(out.timeout_ms),
        label: label.to_string(),
        progress: mode(output.quiet),
        hash_iterations: out.hash_iterations,
        unhardened_containers: out.container_hardening == OnOff::Off,
        cli_tools: output.cli_tools.clone(),
    }
}

/// Parses, checks and registers the `--workload` commands with their
/// arguments and inputs; returns their names in the order given.
///
/// Errors: a malformed flag, a name given twice, an argument or input for
/// a name no --workload gives, a module that is not a WASI command or a
/// native binary that is not a static x86-64 executable (each naming the
/// file and what to do).
pub fn register_commands(common: &CommonArgs) -> Result<Vec<String>> {
    let mut cmds: Vec<CommandWorkload> = Vec::new();
    for spec in &common.commands {
        let c = CommandWorkload::parse(spec)?;
        if cmds.iter().any(|d| d.name == c.name) {
            bail!("--workload: `{}` is given twice", c.name);
        }
        cmds.push(c);
    }
    for spec in &common.command_args {
        let (i, arg) = attach(&cmds, "--workload-arg", spec)?;
        cmds[i].args.push(arg);
    }
    for spec in &common.command_inputs {
        let (i, file) = attach(&cmds, "--workload-input", spec)?;
        cmds[i].inputs.push(PathBuf::from(file));
    }
    for spec in &common.command_dirs {
        let (i, dir) = attach(&cmds, "--workload-dir", spec)?;
        if cmds[i].dir.is_some() {
            bail!(
                "--workload-dir: `{}` is given a directory twice (one per command)",
                cmds[i].name
            );
        }
        cmds[i].dir = Some(PathBuf::from(dir));
    }
    let mut names = Vec::new();
    for mut c in cmds {
        c.check()?;
        names.push(c.name.clone());
        register_command(c);
    }
    Ok(names)
}

/// The command a `NAME=VALUE` flag (`flag`) is for: its index in `cmds`
/// and the value. Errors: no `=`, or no command of that name.
fn attach(cmds: &[CommandWorkload], flag: &str, spec: &str) -> Result<(usize, String)> {
    let (name, value) = spec
        .split_once('=')
        .with_context(|| format!("{flag} `{spec}` is not NAME=VALUE"))?;
    let i = cmds.iter().position(|c| c.name == name).with_context(|| {
        format!("{flag} `{spec}`: no --workload {name}=PATH.wasm gives a command named `{name}`")
    })?;
    Ok((i, value.to_string()))
}

/// A plan with no experiment yet, over `common`'s selection (the
/// `--workload` commands registered).
///
/// Errors: see [`register_commands`].
fn bare(common: &CommonArgs, description: &'static str) -> Result<Suite> {
    let commands = register_commands(common)?;
    let workloads = match &common.workloads {
        Some(w) => {
            let mut w = w.clone();
            for c in commands {
                if !w.contains(&c) {
                    w.push(c);
                }
            }
            w
        }
        None if !commands.is_empty() => commands,
        None => WORKLOADS.map(String::from).to_vec(),
    };
    Ok(Suite {
        name: None,
        description,
        targets: common.targets.clone(),
        workloads,
        seed: common.seed,
        cold_start: None,
        density: None,
        throughput: None,
    })
}

/// What a measuring command shows and writes besides `run.json`, from the
/// global flags: the progress display, the reports beside the file and the
/// `--export-*` files.
pub struct Output {
    /// `--quiet`: no progress display.
    pub quiet: bool,
    /// Write `report.html` and `report.md` next to `run.json` (not `--no-report`).
    pub write_report: bool,
    /// The `--export-*` files to write at the end.
    pub exports: Exports,
    /// Runtime CLIs given by `--cli-runtime` (tool → executable).
    pub cli_tools: std::collections::BTreeMap<String, std::path::PathBuf>,
}

/// Prints `text` (rendered from the written file), the claims its data
/// decides and where the file is; writes the HTML and Markdown reports next
/// to it (unless `--no-report`) and the `--export-*` files; returns 130 if
/// the run was interrupted (its results are kept), 1 if an export could not
/// be written, [`INCOMPLETE`] if a requested workload × target produced no
/// verified response, else 0.
fn show(text: &str, back: &RunFile, path: &Path, output: &Output) -> i32 {
    print!("{text}");
    let claims = super::report::load_claims(None)
        .inspect_err(|e| eprintln!("claims ledger skipped: {e:#}"))
        .unwrap_or_default();
    let verdicts = coldbench_reports::claims::ledger(&claims, &[back]);
    print!(
        "{}",
        coldbench_reports::summary::terminal(&coldbench_reports::summary::answers(&[back]))
    );
    print!("{}", coldbench_reports::ledger_table(&verdicts, false));
    let md = coldbench_reports::markdown::report(&[back], &verdicts, &[]);
    if output.write_report {
        let dir = path.parent().unwrap_or(Path::new("."));
        let html = coldbench_reports::html::report(&[back], &verdicts, &[]);
        for (name, text) in [("report.html", html.as_str()), ("report.md", md.as_str())] {
            match super::write_atomic(dir, name, text) {
                Ok(p) => println!("Report: {}", p.display()),
                Err(e) => eprintln!("{e:#}"),
            }
        }
    }
    let exported = output
        .exports
        .write(back, &md)
        .inspect_err(|e| eprintln!("error: {e:#}"))
        .is_ok();
    println!("\nResults: {}", path.display());
    // A variant that cannot run here, chosen implicitly (`all`, a family or
    // a prefix), is skipped with its reason; one named by its exact id was
    // asked for, and its absence counts.
    let skipped: Vec<&str> = back
        .targets
        .iter()
        .filter(|t| !back.interrupted && !t.available && !back.config.targets.contains(&t.id))
        .map(|t| {
            eprintln!(
                "skipped (unavailable here): {}: target unavailable: {}",
                t.id,
                t.unavailable_reason.as_deref().unwrap_or_default()
            );
            t.id.as_str()
        })
        .collect();
    let unmeasured: Vec<_> = if back.interrupted {
        Vec::new()
    } else {
        back.unmeasured()
    }
    .into_iter()
    .filter(|u| !skipped.contains(&u.target.as_str()))
    .collect();
    for u in &unmeasured {
        eprintln!("not measured: {} × {}: {}", u.workload, u.target, u.reason);
    }
    if back.interrupted {
        130
    } else if !exported {
        1
    } else if !unmeasured.is_empty() {
        eprintln!(
            "{} requested workload × target pair(s) produced no sample (exit status {INCOMPLETE})",
            unmeasured.len()
        );
        INCOMPLETE
    } else {
        0
    }
}

/// Exit status of a run that finished but left a requested workload ×
/// target without a single verified response (each printed with its reason).
pub const INCOMPLETE: i32 = 3;

/// Runs a single-experiment plan and prints every table of its file.
fn single(s: &Suite, common: &CommonArgs, label: &str, output: &Output) -> Result<i32> {
    let (back, path) = execute(s, &run_options(&common.out, label, output), |_, _| {})?;
    Ok(show(&coldbench_reports::full(&back), &back, &path, output))
}

/// No command: runs the suite preset.
pub fn suite(args: SuiteArgs, output: &Output) -> Result<i32> {
    let mut suite = Suite::preset(args.suite);
    let mut label = format!("suite-{}", args.suite.name());
    if args.smoke {
        suite = suite.smoke();
        label.push_str("-smoke");
    }
    let (back, path) = execute(&suite, &run_options(&args.out, &label, output), |e, run| {
        // Each experiment's table as soon as it ends, from the file written then.
        print!("\n{}", coldbench_reports::section(run, e, false));
        let _ = std::io::stdout().flush();
    })?;
    let end = format!(
        "\n{}{}",
        coldbench_reports::header(&back),
        coldbench_reports::footer(&back)
    );
    Ok(show(&end, &back, &path, output))
}

/// `coldbench run`: cold start only, every case, a fixed number of runs.
pub fn run(args: RunArgs, output: &Output) -> Result<i32> {
    let mut s = bare(&args.common, "cold start")?;
    s.cold_start = Some(ColdStartPlan {
        settings: coldstart::Settings {
            runs: args.runs,
            min_runs: args.runs,
            warmup: args.warmup,
            budget_per_cell: None,
            cases: None,
        },
        cases: CasePick::All,
    });
    single(&s, &args.common, &args.label, output)
}

/// A throughput mode as given on the command line (`--modes`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ModeArg {
    /// One long-lived instance per client serves every request.
    Reused,
    /// A fresh instance per request, torn down before the next.
    #[value(alias = "instance_per_request")]
    InstancePerRequest,
}

impl From<ModeArg> for ThroughputMode {
    fn from(m: ModeArg) -> ThroughputMode {
        match m {
            ModeArg::Reused => ThroughputMode::Reused,
            ModeArg::InstancePerRequest => ThroughputMode::InstancePerRequest,
        }
    }
}

/// `coldbench throughput`: every row × the given modes.
pub fn throughput(args: ThroughputArgs, output: &Output) -> Result<i32> {
    let mut modes: Vec<ThroughputMode> = Vec::new();
    for m in &args.modes {
        let mode = ThroughputMode::from(*m);
        if !modes.contains(&mode) {
            modes.push(mode);
        }
    }
    let duration = seconds("--duration-s", args.duration_s)?;
    let max_cell = seconds("--max-cell-s", args.max_cell_s)?;
    if max_cell < duration {
        bail!("--max-cell-s must be at least --duration-s");
    }
    let mut s = bare(&args.common, "throughput")?;
    s.throughput = Some(ThroughputPlan {
        settings: throughput::Settings {
            duration,
            min_requests: args.min_requests,
            max_cell,
            warmup_requests: args.warmup_requests,
            batches: args.batches,
            timeout: Duration::from_millis(args.common.out.timeout_ms),
        },
        clients: args.clients,
        cells: None,
        modes,
    });
    single(&s, &args.common, &args.label, output)
}

/// `coldbench density`: every workload × target, capped.
pub fn density(args: DensityArgs, output: &Output) -> Result<i32> {
    if !(0.0..100.0).contains(&args.floor_percent) {
        bail!("--floor-percent must be in [0, 100)");
    }
    if !(args.task_limit_percent > 0.0 && args.task_limit_percent <= 100.0) {
        bail!("--task-limit-percent must be in (0, 100]");
    }
    let time_limit = seconds("--time-limit-s", args.time_limit_s)?;
    let mut per_target_max = Vec::new();
    for spec in &args.max_per_target {
        let (t, n) = spec
            .split_once('=')
            .and_then(|(t, n)| Some((t.to_string(), n.parse::<u64>().ok()?)))
            .filter(|(_, n)| *n > 0)
            .with_context(|| format!("--max-per-target: `{spec}` is not `target=N` with N > 0"))?;
        if !catalog().iter().any(|v| picks(&t, &v.id)) {
            bail!("--max-per-target: `{t}` selects no target (see `coldbench targets`)");
        }
        per_target_max.push((t, n));
    }
    let settings = density::Settings {
        max_instances: args.max_instances,
        per_target_max,
        floor_fraction: args.floor_percent / 100.0,
        task_limit_fraction: args.task_limit_percent / 100.0,
        time_limit,
        host_memory_bytes: args.host_memory,
        timeout: Duration::from_millis(args.common.out.timeout_ms),
    };
    let pool_cap = settings.cap("wasmtime-pooling").0;
    if pool_cap > MAX_POOL_INSTANCES {
        bail!(
            "wasmtime-pooling would need a pool of {pool_cap} instances; at most {MAX_POOL_INSTANCES} (1 GiB of address space each) — lower --max-instances or set --max-per-target wasmtime-pooling=N"
        );
    }
    let mut s = bare(&args.common, "density")?;
    s.density = Some(DensityPlan {
        settings,
        series: None,
    });
    single(&s, &args.common, &args.label, output)
}

#[cfg(test)]
mod tests {
    use super::{parse_bytes, seconds};

    #[test]
    fn sizes_parse_with_binary_and_decimal_units() {
        assert_eq!(parse_bytes("24GiB"), Ok(24 << 30));
        assert_eq!(parse_bytes("512M"), Ok(512 << 20));
        assert_eq!(parse_bytes("1GB"), Ok(1_000_000_000));
        assert_eq!(parse_bytes("4096"), Ok(4096));
        assert!(parse_bytes("12 parsecs").is_err());
        assert!(parse_bytes("GiB").is_err());
    }

    #[test]
    fn seconds_reject_what_cannot_be_honoured() {
        assert!(seconds("--duration-s", f64::INFINITY).is_err());
        assert!(seconds("--duration-s", f64::NAN).is_err());
        assert!(seconds("--max-cell-s", 1e300).is_err());
        assert!(seconds("--duration-s", 0.0).is_err());
        assert!(seconds("--duration-s", 2.5).is_ok());
    }
}
