//! `--export-json`, `--export-markdown`, `--export-bmf` and
//! `--export-github-benchmark`: a run's figures in the formats CI
//! dashboards read (layouts in `coldbench_reports::export`). Every
//! measuring command and `compare` (which exports its NEW run, and its own
//! Markdown) take them.

use anyhow::{Context, Result};
use clap::Args;
use coldbench_results::RunFile;
use std::path::{Path, PathBuf};

/// Where to export to; each flag is a file path.
#[derive(Args, Clone, Default)]
pub struct Exports {
    /// hyperfine's JSON layout (`results[]`: command, mean, stddev, median,
    /// min, max, times; seconds), one entry per cold-start distribution.
    #[arg(long, global = true, value_name = "FILE")]
    export_json: Option<PathBuf>,
    /// The Markdown report (for `compare`, the comparison).
    #[arg(long, global = true, value_name = "FILE")]
    export_markdown: Option<PathBuf>,
    /// Bencher Metric Format: latency (ns), throughput (requests/s),
    /// memory-per-instance and file-size (bytes), with 95 % intervals.
    #[arg(long, global = true, value_name = "FILE")]
    export_bmf: Option<PathBuf>,
    /// github-action-benchmark custom-tool JSON: FILE for
    /// `customSmallerIsBetter` (ns, bytes) and, when the run measured
    /// throughput, FILE with `-bigger` before its extension for
    /// `customBiggerIsBetter` (requests/s).
    #[arg(long, global = true, value_name = "FILE")]
    export_github_benchmark: Option<PathBuf>,
}

fn write_json(path: &Path, v: &serde_json::Value) -> Result<()> {
    let text = serde_json::to_string_pretty(v).expect("JSON values serialize");
    write(path, &text)
}

/// Writes `text` to `path` through a temporary file and a rename.
fn write(path: &Path, text: &str) -> Result<()> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .with_context(|| format!("{} is not a file path", path.display()))?;
    super::write_atomic(dir, &name.to_string_lossy(), text)?;
    eprintln!("Exported: {}", path.display());
    Ok(())
}

/// `stem-bigger.ext` beside `path`.
fn bigger_path(path: &Path) -> PathBuf {
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let name = match path.extension() {
        Some(e) => format!("{stem}-bigger.{}", e.to_string_lossy()),
        None => format!("{stem}-bigger"),
    };
    path.with_file_name(name)
}

impl Exports {
    /// Writes every export asked for, from `run` (and `markdown` for
    /// `--export-markdown`).
    ///
    /// Errors: a path that cannot be written (named).
    pub fn write(&self, run: &RunFile, markdown: &str) -> Result<()> {
        use coldbench_reports::export;
        if let Some(p) = &self.export_json {
            write_json(p, &export::hyperfine_json(run))?;
        }
        if let Some(p) = &self.export_markdown {
            write(p, markdown)?;
        }
        if let Some(p) = &self.export_bmf {
            write_json(p, &export::bmf(run))?;
        }
        if let Some(p) = &self.export_github_benchmark {
            let (smaller, bigger) = export::github_benchmark(run);
            write_json(p, &smaller)?;
            if bigger.as_array().is_some_and(|a| !a.is_empty()) {
                write_json(&bigger_path(p), &bigger)?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::bigger_path;
    use std::path::Path;

    #[test]
    fn the_bigger_is_better_file_sits_beside_the_other() {
        assert_eq!(
            bigger_path(Path::new("out/bench.json")),
            Path::new("out/bench-bigger.json")
        );
        assert_eq!(bigger_path(Path::new("bench")), Path::new("bench-bigger"));
    }
}
