//! Argument parsing and dispatch, one file per subcommand group:
//! [`measure`] (the suites and the `run`, `density`, `throughput`
//! commands), [`targets`], [`report`], [`compare`]; the `--export-*` flags
//! every measuring command and `compare` take are [`export`]'s.

mod compare;
mod export;
mod measure;
mod report;
mod targets;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "coldbench",
    version,
    about = "Cold start, memory per instance and throughput of the same workloads as Wasm modules, containers and native processes",
    long_about = "Cold start, memory per instance (density) and throughput of the same workloads as Wasm modules, containers and native processes.\n\nWith no command, runs a suite (default: `default`, ≤ 3 min of measuring on a 2-core host) that answers all three in one run and writes one run.json."
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    suite: measure::SuiteArgs,
    /// No progress display on stderr (tables and errors are still printed).
    #[arg(long, global = true)]
    quiet: bool,
    /// Do not write report.html and report.md next to run.json at the end
    /// of a measuring command.
    #[arg(long, global = true)]
    no_report: bool,
    /// A runtime's command-line tool for the `cli-<runtime>` targets,
    /// `NAME=PATH` (repeatable; e.g. `wasmedge=/opt/wasmedge/bin/wasmedge`).
    /// Without it a tool is looked up in target/tools/bin (the set-up's
    /// install), then on PATH.
    #[arg(long = "cli-runtime", global = true, value_name = "NAME=PATH")]
    cli_runtimes: Vec<String>,
    #[command(flatten)]
    exports: export::Exports,
}

#[derive(Subcommand)]
enum Command {
    /// Measure cold start (t_ready, t_first_response, t_teardown and the
    /// phases inside them) of every workload × target.
    Run(measure::RunArgs),
    /// Measure closed-loop throughput (requests/s, latency, slowdown against
    /// native) of every workload × target × mode.
    Throughput(measure::ThroughputArgs),
    /// Fill the host with idle instances, one at a time, and sample memory
    /// per instance three ways (host MemAvailable, attributable PSS/USS,
    /// engine-reported) at 1, 2, 5, 10, 20, 50, … instances; project
    /// instances per host.
    Density(measure::DensityArgs),
    /// List the target variants and whether each can run on this host.
    Targets,
    /// Render existing results files (any schema version), merged into one
    /// report: tables, the claims ledger, Markdown. Never re-measures.
    Report(report::ReportArgs),
    /// The echo process of the transport floor (internal: started by the
    /// cold-start experiment, speaks the runner framing on stdio).
    #[command(name = "__echo-runner", hide = true)]
    EchoRunner,
    /// Compare two runs (BASE NEW, or more for trends): NEW/BASE of every
    /// figure both hold with its interval, and a verdict per row (slower,
    /// faster, unchanged, unsure). Exit status 1 when a verdict matches
    /// --fail-on, 2 on bad input.
    Compare(compare::CompareArgs),
}

/// Runs the command line; returns the process exit status: 0 all requested
/// work measured, 1 an error (printed: bad input, unreachable engine, a
/// results file that cannot be written), 2 bad arguments (clap), 3 a
/// requested workload × target produced no verified response (each named
/// with its reason; results kept; a variant this host cannot run counts
/// only when named by its exact id — chosen by `all` or a prefix it is
/// listed as skipped), 130 interrupted (results kept);
/// `report`: 2 a claims file that is not one (the claim and field named);
/// `compare`: 1 a verdict matched `--fail-on`, 2 bad input.
pub fn main() -> i32 {
    let cli = Cli::parse();
    if let Some(Command::EchoRunner) = cli.command {
        return match coldbench::floor::echo_runner() {
            Ok(()) => 0,
            Err(e) => {
                eprintln!("echo runner: {e}");
                1
            }
        };
    }
    // What a killed coldbench left behind (bounded: 1.5 s for the engine).
    if let Some(line) = coldbench::reap::leftovers(std::time::Duration::from_millis(1500)).line() {
        eprintln!("{line}");
    }
    let mut cli_tools = std::collections::BTreeMap::new();
    for spec in &cli.cli_runtimes {
        match coldbench::targets::cli::parse_runtime(spec) {
            Ok((name, path)) => {
                cli_tools.insert(name, path);
            }
            Err(e) => {
                eprintln!("error: {e}");
                return 2;
            }
        }
    }
    if let Some(Command::Compare(a)) = cli.command {
        return compare::run(a, &cli.exports);
    }
    let output = measure::Output {
        quiet: cli.quiet,
        write_report: !cli.no_report,
        exports: cli.exports,
        cli_tools: cli_tools.clone(),
    };
    let result = match cli.command {
        None => measure::suite(cli.suite, &output),
        Some(Command::Run(a)) => measure::run(a, &output),
        Some(Command::Throughput(a)) => measure::throughput(a, &output),
        Some(Command::Density(a)) => measure::density(a, &output),
        Some(Command::Targets) => targets::list(cli_tools).map(|()| 0),
        Some(Command::Report(a)) => match report::print(a) {
            // A claims file that is not one is bad input: 2, naming the
            // claim and the field.
            Err(e)
                if e.downcast_ref::<coldbench_reports::claims::ClaimsError>()
                    .is_some() =>
            {
                eprintln!("error: {e:#}");
                return 2;
            }
            r => r.map(|()| 0),
        },
        Some(Command::Compare(_) | Command::EchoRunner) => unreachable!("handled above"),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            1
        }
    }
}

/// Writes `text` as `dir/name` through a temporary file and a rename (no
/// partial file is ever left under the final name).
///
/// Errors: the directory cannot be created or the file written (named).
pub fn write_atomic(
    dir: &std::path::Path,
    name: &str,
    text: &str,
) -> anyhow::Result<std::path::PathBuf> {
    use anyhow::Context as _;
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let path = dir.join(name);
    let tmp = dir.join(format!(".{name}.tmp"));
    std::fs::write(&tmp, text)
        .and_then(|()| std::fs::rename(&tmp, &path))
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(path)
}

/// A results file path: `p` itself, or `p/run.json` for a run directory.
pub fn results_path(p: &std::path::Path) -> std::path::PathBuf {
    if p.is_dir() {
        p.join("run.json")
    } else {
        p.to_path_buf()
    }
}
