//! `coldbench compare BASE NEW [RUN…]`: NEW/BASE of every figure both runs
//! hold, with an interval and a verdict per row (the statistics are
//! `coldbench_reports::compare`'s). Exit status: 0 nothing matched
//! `--fail-on`, 1 a verdict matched it, 2 bad input (a file that cannot be
//! read or is not a results file, no row in common, bad arguments).

use super::export::Exports;
use anyhow::{Context, Result, bail};
use clap::{Parser, ValueEnum};
use coldbench_reports::compare::{self, FailOn, Options};
use coldbench_results::RunFile;
use std::path::{Path, PathBuf};

/// When `compare` exits 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FailOnArg {
    /// Any row *slower* (or *larger*, for bytes).
    Slower,
    /// Any changed row, slower or faster.
    Any,
    /// Never (report only).
    None,
}

/// Output formats of `coldbench compare`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CompareFormat {
    /// A table on stdout.
    Terminal,
    /// `compare.md` in `--out` (a PR comment, a job summary).
    Markdown,
    /// `compare.html` in `--out`: ratio chart, table, trend charts.
    Html,
}

#[derive(Parser)]
pub struct CompareArgs {
    /// BASE, NEW and optionally more runs (results files or run
    /// directories). BASE and NEW may also be directories of runs (each
    /// `*/run.json` or `*.json` in it): a set, whose run-to-run spread
    /// widens every interval — what CI should keep as its baseline (3 runs
    /// or more). Verdicts compare the last argument against the first; the
    /// HTML page charts every run in the order given.
    #[arg(required = true, num_args = 2..)]
    runs: Vec<PathBuf>,
    /// Relative change that counts (`5%`, `0.05`).
    #[arg(long, default_value = "5%", value_parser = parse_fraction)]
    threshold: f64,
    /// Confidence level of the intervals, percent.
    #[arg(long, default_value_t = 95.0)]
    confidence: f64,
    /// Metrics to compare (comma-separated): `t_ready`, `t_first_response`,
    /// `t_teardown`, the phases, `rps`, `latency`, `density`, `artifact`,
    /// `p99`, …; a name selects every metric it is a dot-separated part of.
    #[arg(long, value_delimiter = ',')]
    metric: Vec<String>,
    /// Which verdicts make the exit status 1.
    #[arg(long, value_enum, default_value = "slower")]
    fail_on: FailOnArg,
    /// Keep the verdicts when the CPU model or core count differ (by
    /// default such a comparison's verdicts are all *unsure*).
    #[arg(long)]
    same_host_not_required: bool,
    /// Formats, comma-separated.
    #[arg(long, value_enum, value_delimiter = ',', default_value = "terminal")]
    format: Vec<CompareFormat>,
    /// Directory for compare.md / compare.html (default: the NEW run's directory).
    #[arg(long)]
    out: Option<PathBuf>,
    /// List unchanged rows in the terminal table too.
    #[arg(long)]
    all: bool,
    /// Two versions of one runtime measured side by side, `OLD=NEW` (e.g.
    /// `wasmtime=wasmtime@50`, `wasmer=wasmer@7.5`): BASE's rows are its
    /// `OLD-*` targets, NEW's its `NEW-*` targets, paired by the rest of the
    /// id (`wasmtime-pooling` against `wasmtime@50-pooling`); BASE and NEW
    /// may be the same run. The runtime's version is the difference the
    /// fingerprint shows.
    #[arg(long, value_parser = parse_versions)]
    versions: Option<(String, String)>,
}

/// `OLD=NEW` runtime names (`wasmtime=wasmtime@50`).
fn parse_versions(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((old, new)) if !old.is_empty() && !new.is_empty() && old != new => {
            Ok((old.to_string(), new.to_string()))
        }
        _ => Err(format!(
            "`{s}` is not OLD=NEW runtime names, such as wasmtime=wasmtime@50"
        )),
    }
}

/// Keeps the targets of runtime `keep` (ids `keep-*`), renamed to `as_-*`,
/// and records `keep`'s version as `as_`'s in the fingerprint.
fn side(run: &mut RunFile, keep: &str, as_: &str) {
    let prefix = format!("{keep}-");
    run.retarget(|id| id.strip_prefix(&prefix).map(|rest| format!("{as_}-{rest}")));
    let versions = &mut run.host.runtime_versions;
    let v = versions.get(keep).cloned();
    versions.retain(|k, _| !k.contains('@') && k != as_);
    if let Some(v) = v {
        versions.insert(as_.to_string(), v);
    }
}

/// `5%` or `0.05` as a fraction in (0, 1).
fn parse_fraction(s: &str) -> Result<f64, String> {
    let (text, scale) = match s.trim().strip_suffix('%') {
        Some(p) => (p.trim(), 100.0),
        None => (s.trim(), 1.0),
    };
    let v: f64 = text
        .parse()
        .map_err(|_| format!("`{s}` is not a threshold such as 5% or 0.05"))?;
    let f = v / scale;
    if !(f > 0.0 && f < 1.0) {
        return Err(format!("threshold `{s}` must be between 0 and 100 %"));
    }
    Ok(f)
}

/// The results files `p` names: `p` itself; `p/run.json` for a run
/// directory; for a directory without one, every `*/run.json` and `*.json`
/// in it, by name (a baseline set).
fn results_paths(p: &Path) -> Result<Vec<PathBuf>> {
    if !p.is_dir() || p.join("run.json").exists() {
        return Ok(vec![super::results_path(p)]);
    }
    let mut out: Vec<PathBuf> = std::fs::read_dir(p)
        .with_context(|| format!("cannot read directory {}", p.display()))?
        .flatten()
        .map(|e| e.path())
        .filter_map(|q| {
            if q.is_dir() && q.join("run.json").is_file() {
                Some(q.join("run.json"))
            } else if q.extension().is_some_and(|e| e == "json") && q.is_file() {
                Some(q)
            } else {
                None
            }
        })
        .collect();
    out.sort();
    if out.is_empty() {
        bail!(
            "{} holds no results file (neither run.json nor */run.json nor *.json)",
            p.display()
        );
    }
    Ok(out)
}

/// Runs `compare`; returns the exit status (errors are printed, status 2).
pub fn run(args: CompareArgs, exports: &Exports) -> i32 {
    match compare_runs(args, exports) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            2
        }
    }
}

fn compare_runs(args: CompareArgs, exports: &Exports) -> Result<i32> {
    if !(args.confidence > 50.0 && args.confidence < 100.0) {
        bail!(
            "--confidence must be a percentage in (50, 100), not {}",
            args.confidence
        );
    }
    // Each argument is one run or a set; BASE is the first, NEW the last,
    // every run in between only charted.
    let groups = args
        .runs
        .iter()
        .map(|p| results_paths(p))
        .collect::<Result<Vec<_>>>()?;
    let paths: Vec<PathBuf> = groups.iter().flatten().cloned().collect();
    let mut runs = paths
        .iter()
        .map(|p| RunFile::read_run(p))
        .collect::<Result<Vec<_>, _>>()?;
    let mut labels: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
    if let Some((old, new)) = &args.versions {
        for (i, (r, l)) in runs.iter_mut().zip(labels.iter_mut()).enumerate() {
            // BASE (the first group) is OLD; every later run is NEW.
            let runtime = if i < groups[0].len() { old } else { new };
            side(r, runtime, old);
            l.push_str(&format!(" ({runtime})"));
        }
    }
    let (kb, kn) = (groups[0].len(), groups[groups.len() - 1].len());
    // A set is named by its argument; with --versions, by the runtime too.
    let label = |arg: &Path, k: usize, one: &str, runtime: Option<&String>| {
        if k > 1 {
            let runtime = runtime.map(|r| format!(", {r}")).unwrap_or_default();
            format!("{} ({k} runs{runtime})", arg.display())
        } else {
            one.to_string()
        }
    };
    let last = runs.len() - 1;
    let (old, new) = match &args.versions {
        Some((o, n)) => (Some(o), Some(n)),
        None => (None, None),
    };
    let base_label = label(&args.runs[0], kb, &labels[0], old);
    let new_label = label(&args.runs[args.runs.len() - 1], kn, &labels[last], new);
    let options = Options {
        threshold: args.threshold,
        confidence: args.confidence / 100.0,
        metrics: args.metric.clone(),
        same_host_not_required: args.same_host_not_required,
    };
    let bases: Vec<&RunFile> = runs[..kb].iter().collect();
    let news: Vec<&RunFile> = runs[runs.len() - kn..].iter().collect();
    let c = compare::compare_sets(&bases, &base_label, &news, &new_label, &options)?;
    let out_dir = args.out.clone().unwrap_or_else(|| {
        paths[last]
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("."))
    });
    let markdown = compare::markdown(&c);
    for f in &args.format {
        match f {
            CompareFormat::Terminal => print!("{}", compare::terminal(&c, args.all)),
            CompareFormat::Markdown => {
                let p = super::write_atomic(&out_dir, "compare.md", &markdown)?;
                eprintln!("Markdown: {}", p.display());
            }
            CompareFormat::Html => {
                let pairs: Vec<(&RunFile, String)> =
                    runs.iter().zip(labels.iter().cloned()).collect();
                let trends = compare::trends(&pairs, &options);
                let html = coldbench_reports::html::compare(&c, &labels, &trends);
                let p = super::write_atomic(&out_dir, "compare.html", &html)?;
                eprintln!("HTML: {}", p.display());
            }
        }
    }
    exports.write(&runs[last], &markdown)?;
    let fail_on = match args.fail_on {
        FailOnArg::Slower => FailOn::Slower,
        FailOnArg::Any => FailOn::Any,
        FailOnArg::None => FailOn::None,
    };
    Ok(if c.fails(fail_on) { 1 } else { 0 })
}

#[cfg(test)]
mod tests {
    use super::parse_fraction;

    #[test]
    fn thresholds_parse_as_percent_or_fraction() {
        assert_eq!(parse_fraction("5%"), Ok(0.05));
        assert_eq!(parse_fraction("0.1"), Ok(0.1));
        assert!(parse_fraction("0%").is_err());
        assert!(parse_fraction("150%").is_err());
        assert!(parse_fraction("five").is_err());
    }
}
