//! Argument parsing and dispatch, one file per subcommand group:
//! [`measure`] (the suites and the `run`, `density`, `throughput`
//! commands), [`targets`], [`report`].

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
}

/// Runs the command line; returns the process exit status: 0 done, 1 an
/// error (printed), 2 bad arguments (clap), 130 interrupted (results kept).
pub fn main() -> i32 {
    let cli = Cli::parse();
    let quiet = cli.quiet;
    measure::set_report(!cli.no_report);
    let result = match cli.command {
        None => measure::suite(cli.suite, quiet),
        Some(Command::Run(a)) => measure::run(a, quiet),
        Some(Command::Throughput(a)) => measure::throughput(a, quiet),
        Some(Command::Density(a)) => measure::density(a, quiet),
        Some(Command::Targets) => targets::list().map(|()| 0),
        Some(Command::Report(a)) => report::print(a).map(|()| 0),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            1
        }
    }
}
