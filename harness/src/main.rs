//! The `coldbench` command line.

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};
use coldbench::artifacts::{WORKLOADS, default_inputs_dir, repo_dir};
use coldbench::coldstart::{self, ColdStartConfig, Collector};
use coldbench::host;
use coldbench::suite;
use coldbench::targets::native::NativeTarget;
use coldbench::targets::{HostProbe, Target, catalog, selects};
use coldbench_results::{DockerEngineInfo, Metric, RunConfig, RunFile, SCHEMA_VERSION, ToolInfo};
use std::collections::BTreeMap;
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
    /// Target variants to run (comma-separated ids or prefixes such as
    /// `docker`, `wasmtime`, `docker-debian`; `all` = every variant available
    /// on this host); see `coldbench targets`.
    #[arg(long, value_delimiter = ',', default_value = "all")]
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

fn run(args: RunArgs) -> Result<()> {
    for w in &args.workloads {
        if !WORKLOADS.contains(&w.as_str()) {
            bail!("unknown workload `{w}` (known: {})", WORKLOADS.join(", "));
        }
    }
    let variants = catalog();
    for t in &args.targets {
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

    let cache_dir = out_dir.join("precompiled");
    let probe = HostProbe::new(&run_id);
    let docker_host = probe.docker.as_ref().ok().cloned();
    let engine_info = probe.engine.clone();
    let mut targets: Vec<Box<dyn Target>> = Vec::new();
    let mut unavailable = Vec::new();
    for v in variants
        .iter()
        .filter(|v| args.targets.iter().any(|p| selects(p, &v.id)))
    {
        match probe.availability(v) {
            Ok(()) => targets.push(probe.build(v, &cache_dir, &args.workloads)),
            Err(why) => {
                eprintln!("{}: unavailable: {why}", v.id);
                // Asked for by name: that it cannot run is an error of this run.
                if args.targets.iter().any(|p| p == &v.id) {
                    out.error(
                        None,
                        Some(&v.id),
                        None,
                        "prepare",
                        "unavailable",
                        why.clone(),
                    );
                }
                unavailable.push(probe.unavailable_record(v, &why));
            }
        }
    }

    // Prepare (not cold start): load modules, precompile, build images. A
    // workload a target cannot prepare (e.g. a module using SIMD under a
    // compiler without it) is skipped on that target only, with its reason.
    let mut ready_targets: Vec<Box<dyn Target>> = Vec::new();
    let mut skip = std::collections::HashSet::new();
    for mut t in targets {
        let mut failed = Vec::new();
        for w in &args.workloads {
            eprint!("prepare {:<13} {:<14}\r", t.id(), w);
            match t.prepare(w, timeout) {
                Ok(Some(ns)) => out.record(w, t.id(), Metric::Prepare, ns),
                Ok(None) => {}
                Err(e) => failed.push((w.clone(), e.to_string())),
            }
        }
        for (w, why) in &failed {
            eprintln!("{} / {w}: skipped: {why}", t.id());
            out.error(
                Some(w),
                Some(t.id()),
                None,
                "prepare",
                "unavailable",
                why.clone(),
            );
            skip.insert((t.id().to_string(), w.clone()));
        }
        if failed.len() < args.workloads.len() {
            ready_targets.push(t);
        } else {
            let why = failed.first().map(|(_, e)| e.clone()).unwrap_or_default();
            let mut r = t.record();
            r.available = false;
            r.unavailable_reason = Some(why);
            unavailable.push(r);
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
        &skip,
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
        if r.family == "wasm" && r.available && !r.runtime_version.is_empty() {
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
            Err(e) => out.error(None, None, None, "teardown", "cleanup", e.to_string()),
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
