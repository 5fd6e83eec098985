//! The `coldbench` command line.

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};
use coldbench::artifacts::{WORKLOADS, default_inputs_dir, repo_dir};
use coldbench::coldstart::{self, ColdStartConfig, Collector};
use coldbench::host;
use coldbench::suite;
use coldbench::targets::Target;
use coldbench::targets::docker::DockerTarget;
use coldbench::targets::native::NativeTarget;
use coldbench::targets::wasmtime::{Strategy, WasmtimeTarget};
use coldbench_containers::DockerHost;
use coldbench_results::{DockerEngineInfo, Metric, RunConfig, RunFile, SCHEMA_VERSION, ToolInfo};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// Target variant ids this build knows, in table order.
const TARGETS: [&str; 4] = ["native", "wasmtime-jit", "wasmtime-aot", "docker"];

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
    /// List the target variants and whether each can run on this host.
    Targets,
    /// Print the tables of an existing results file.
    Report {
        /// Path to a `run.json`.
        path: PathBuf,
    },
}

#[derive(Parser, Clone)]
struct RunArgs {
    /// Workloads to run (comma-separated).
    #[arg(long, value_delimiter = ',', default_values_t = WORKLOADS.map(String::from))]
    workloads: Vec<String>,
    /// Target variants to run (comma-separated); see `coldbench targets`.
    #[arg(long, value_delimiter = ',', default_values_t = TARGETS.map(String::from))]
    targets: Vec<String>,
    /// Measured starts per case and target.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..))]
    runs: u32,
    /// Discarded warm-up starts per case and target.
    #[arg(long, default_value_t = 1)]
    warmup: u32,
    /// Seed of the RNG that interleaves targets.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Directory for run.json (default: results/runs/<date>-<host>-<label>).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Inputs directory (default: the curated real inputs in workloads/inputs).
    #[arg(long)]
    inputs: Option<PathBuf>,
    /// Label of the run (part of the default output directory name).
    #[arg(long, default_value = "coldstart")]
    label: String,
    /// Bound on every wait for an instance (ready, response, teardown), ms.
    #[arg(long, default_value_t = 30_000)]
    timeout_ms: u64,
}

fn main() {
    let cli = Cli::parse();
    let result = match cli.command {
        None => run(RunArgs::parse_from(["coldbench-run"])),
        Some(Command::Run(a)) => run(a),
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
    print!("{}", coldbench_reports::cold_start_table(&run));
    Ok(())
}

fn connect_docker(
    run_id: &str,
) -> (
    Result<Arc<DockerHost>, String>,
    Option<coldbench_containers::EngineInfo>,
) {
    match DockerHost::connect(run_id, Duration::from_secs(5)) {
        Ok(h) => {
            let info = h.engine_info(Duration::from_secs(10)).ok();
            (Ok(Arc::new(h)), info)
        }
        Err(e) => (Err(e.to_string()), None),
    }
}

fn list_targets() -> Result<()> {
    let (docker, info) = connect_docker("list");
    println!(
        "{:<14} {:<10} {:<10} notes",
        "target", "family", "available"
    );
    for id in TARGETS {
        let (family, avail, note) = match id {
            "native" => (
                "native",
                true,
                "static musl binary, spawned per start".to_string(),
            ),
            "wasmtime-jit" => (
                "wasm",
                true,
                "wasmtime 48, Cranelift compile at every start, runner process".into(),
            ),
            "wasmtime-aot" => (
                "wasm",
                true,
                "wasmtime 48, precompiled .cwasm deserialized at every start".into(),
            ),
            _ => match (&docker, &info) {
                (Ok(_), Some(i)) => (
                    "container",
                    true,
                    format!(
                        "Docker {} (API {}), runtime {}, scratch image, bridge network",
                        i.engine_version, i.api_version, i.default_runtime
                    ),
                ),
                (Ok(_), None) => ("container", true, "Docker engine reachable".into()),
                (Err(why), _) => ("container", false, why.clone()),
            },
        };
        println!(
            "{id:<14} {family:<10} {:<10} {note}",
            if avail { "yes" } else { "no" }
        );
    }
    Ok(())
}

fn run(args: RunArgs) -> Result<()> {
    for w in &args.workloads {
        if !WORKLOADS.contains(&w.as_str()) {
            bail!("unknown workload `{w}` (known: {})", WORKLOADS.join(", "));
        }
    }
    for t in &args.targets {
        if !TARGETS.contains(&t.as_str()) {
            bail!(
                "unknown target `{t}` (known: {}; see `coldbench targets`)",
                TARGETS.join(", ")
            );
        }
    }
    let started = Instant::now();
    let started_utc = chrono::Utc::now();
    let timeout = Duration::from_millis(args.timeout_ms.max(1));
    let hostname = sysinfo::System::host_name().unwrap_or_else(|| "host".into());
    let run_id = format!(
        "{}-{}",
        started_utc.format("%Y%m%dT%H%M%SZ"),
        std::process::id()
    );
    let out_dir = args.out.clone().unwrap_or_else(|| {
        repo_dir().join("results").join("runs").join(format!(
            "{}-{}-{}",
            started_utc.format("%Y-%m-%dT%H%M%S"),
            hostname,
            args.label
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
            eprintln!("\ninterrupted: finishing the current start, writing results, cleaning up (Ctrl-C again to force)");
        })
        .context("cannot install the Ctrl-C handler")?;
    }

    let inputs_dir = args.inputs.clone().unwrap_or_else(default_inputs_dir);
    let (cases, problems) = suite::discover(&inputs_dir, &args.workloads);
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

    let wants = |t: &str| args.targets.iter().any(|x| x == t);
    let cache_dir = out_dir.join("cwasm");
    let mut docker_host = None;
    let mut engine_info = None;
    let mut targets: Vec<Box<dyn Target>> = Vec::new();
    let mut unavailable = Vec::new();
    if wants("native") {
        targets.push(Box::new(NativeTarget::new(&args.workloads)));
    }
    if wants("wasmtime-jit") {
        targets.push(Box::new(WasmtimeTarget::new(
            Strategy::Jit,
            cache_dir.clone(),
        )));
    }
    if wants("wasmtime-aot") {
        targets.push(Box::new(WasmtimeTarget::new(
            Strategy::Aot,
            cache_dir.clone(),
        )));
    }
    if wants("docker") {
        let (host, info) = connect_docker(&run_id);
        docker_host = host.as_ref().ok().cloned();
        engine_info = info.clone();
        let dt = DockerTarget::new(host, info);
        if let Some(why) = dt.unavailable_reason() {
            eprintln!("docker: skipped: {why}");
            out.error(
                None,
                Some("docker"),
                None,
                "prepare",
                "unavailable",
                why.to_string(),
            );
            unavailable.push(dt.record());
        } else {
            targets.push(Box::new(dt));
        }
    }

    // Prepare (not cold start): load modules, precompile, build images.
    let mut ready_targets: Vec<Box<dyn Target>> = Vec::new();
    for mut t in targets {
        let mut failed = None;
        for w in &args.workloads {
            eprint!("prepare {:<13} {:<14}\r", t.id(), w);
            match t.prepare(w, timeout) {
                Ok(Some(ns)) => out.record(w, t.id(), Metric::Prepare, ns),
                Ok(None) => {}
                Err(e) => {
                    failed = Some(e.to_string());
                    break;
                }
            }
        }
        match failed {
            None => ready_targets.push(t),
            Some(why) => {
                eprintln!("{}: skipped: {why}", t.id());
                out.error(
                    None,
                    Some(t.id()),
                    None,
                    "prepare",
                    "unavailable",
                    why.clone(),
                );
                let mut r = t.record();
                r.available = false;
                r.unavailable_reason = Some(why);
                unavailable.push(r);
            }
        }
    }
    eprintln!();

    // Reference checksums from native: every target must reproduce them.
    let mut reference = NativeTarget::new(&args.workloads);
    let expected = coldstart::reference_checksums(&mut reference, &cases, timeout, &mut out);

    let cfg = ColdStartConfig {
        runs: args.runs,
        warmup: args.warmup,
        seed: args.seed,
        timeout,
    };
    coldstart::run(
        &mut ready_targets,
        &cases,
        &expected,
        &cfg,
        &interrupted,
        &mut out,
        |done, total| {
            eprint!("\rcold start: {done}/{total} starts");
            let _ = std::io::stderr().flush();
        },
    );
    eprintln!();

    let mut target_records: Vec<_> = ready_targets.iter().map(|t| t.record()).collect();
    target_records.extend(unavailable);
    let mut runtime_versions = BTreeMap::new();
    for r in &target_records {
        if r.family == "wasm" && !r.runtime_version.is_empty() {
            runtime_versions.insert(r.runtime.clone(), r.runtime_version.clone());
        }
    }
    if let Some(i) = &engine_info {
        runtime_versions.insert("docker-engine".into(), i.engine_version.clone());
        runtime_versions.insert("bollard".into(), "0.21".into());
    }
    drop(ready_targets);
    if let Some(h) = &docker_host {
        match h.remove_labelled(Duration::from_secs(30)) {
            Ok(0) => {}
            Ok(n) => eprintln!("removed {n} leftover container(s) of this run"),
            Err(e) => out.error(
                None,
                Some("docker"),
                None,
                "teardown",
                "cleanup",
                e.to_string(),
            ),
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
        started_utc: started_utc.to_rfc3339(),
        duration_ns: started.elapsed().as_nanos() as u64,
        label: args.label.clone(),
        interrupted: interrupted.load(Ordering::SeqCst),
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
            runs: args.runs,
            warmup: args.warmup,
            seed: args.seed,
            workloads: args.workloads.clone(),
            targets: args.targets.clone(),
            inputs_dir: inputs_dir.display().to_string(),
            timeout_ms: args.timeout_ms,
        },
        targets: target_records,
        cases: cases
            .iter()
            .zip(&expected)
            .map(|(c, e)| c.record(*e))
            .collect(),
        results: out.results(),
        verification: out.verification(),
        errors: out.errors.clone(),
    };
    let path = out_dir.join("run.json");
    run.write(&path)?;
    // The table is rendered from the file just written, never from memory.
    let back = RunFile::read(&path)?;
    print!("{}", coldbench_reports::cold_start_table(&back));
    println!("\nResults: {}", path.display());
    if back.interrupted {
        std::process::exit(130);
    }
    Ok(())
}
