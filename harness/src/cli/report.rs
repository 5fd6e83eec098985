//! `coldbench report`: renders existing results files — never re-measures.
//! Several files merge into one report (a cold-start, a density and a
//! throughput run, say); files from different hosts are refused unless
//! `--allow-mixed-hosts`.

use anyhow::{Context, Result, bail};
use clap::{Parser, ValueEnum};
use coldbench_reports::claims::{self, Claim, SHIPPED_CLAIMS};
use coldbench_results::RunFile;
use std::path::{Path, PathBuf};

/// Output formats of `coldbench report`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Tables on stdout.
    Terminal,
    /// `report.md` in `--out` (GitHub-flavoured: a CI step summary, a PR comment).
    Markdown,
    /// `report.html` in `--out`: one self-contained page, charts inline as SVG.
    Html,
    /// The same charts as PNG files in `--out`/`charts/` (1200 px wide,
    /// drawn with an embedded font: no system font needed).
    Png,
}

#[derive(Parser)]
pub struct ReportArgs {
    /// Results files (`run.json`, any schema version) or run directories.
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    /// Formats, comma-separated.
    #[arg(long, value_enum, value_delimiter = ',', default_value = "terminal")]
    format: Vec<Format>,
    /// Directory for the files of file formats (default: the first run's directory).
    #[arg(long)]
    out: Option<PathBuf>,
    /// A claims file (the shipped one is reports/claims.toml; copy it to add your own).
    #[arg(long)]
    claims: Option<PathBuf>,
    /// Merge runs from different hosts (each figure still names its run's host).
    #[arg(long)]
    allow_mixed_hosts: bool,
    /// Host memory sizes to size for besides this host's (`8GiB,64GiB,256GiB`).
    #[arg(long, value_delimiter = ',', value_parser = super::measure::parse_bytes)]
    host_memory: Vec<u64>,
}

/// The claims to check: `--claims FILE` or the shipped ones.
pub fn load_claims(path: Option<&Path>) -> Result<Vec<Claim>> {
    Ok(match path {
        Some(p) => claims::read(p)?,
        None => claims::parse(SHIPPED_CLAIMS, "reports/claims.toml")?,
    })
}

/// Renders `args.paths` in every format asked for.
///
/// Errors: a file that cannot be read, is not a results file or has a newer
/// schema (named); runs from different hosts without `--allow-mixed-hosts`;
/// a bad claims file; an output directory that cannot be written. Nothing is
/// written before every input has been read.
pub fn print(args: ReportArgs) -> Result<()> {
    let paths: Vec<PathBuf> = args.paths.iter().map(|p| super::results_path(p)).collect();
    let runs = paths
        .iter()
        .map(|p| RunFile::read_run(p))
        .collect::<Result<Vec<_>, _>>()?;
    let refs: Vec<&RunFile> = runs.iter().collect();
    if let Some(why) = coldbench_reports::mixed_hosts(&refs)
        && !args.allow_mixed_hosts
    {
        bail!(
            "{why}: figures from different machines do not compare; pass --allow-mixed-hosts to merge them anyway"
        );
    }
    let claims = load_claims(args.claims.as_deref())?;
    let verdicts = claims::ledger(&claims, &refs);
    for f in &args.format {
        match f {
            Format::Terminal => {
                for (run, path) in runs.iter().zip(&paths) {
                    if runs.len() > 1 {
                        println!("== {}", path.display());
                    }
                    print!("{}", coldbench_reports::full(run));
                }
                print!(
                    "{}",
                    coldbench_reports::summary::terminal(&coldbench_reports::summary::answers(
                        &refs
                    ))
                );
                print!("{}", coldbench_reports::ledger_table(&verdicts, true));
            }
            Format::Markdown => {
                let md = coldbench_reports::markdown::report(&refs, &verdicts, &args.host_memory);
                let path = write_out(&args.out, &paths[0], "report.md", &md)?;
                eprintln!("Markdown report: {}", path.display());
            }
            Format::Png => {
                let dir = out_dir(&args.out, &paths[0]).join("charts");
                std::fs::create_dir_all(&dir)
                    .with_context(|| format!("cannot create {}", dir.display()))?;
                let charts = coldbench_reports::html::charts(&refs);
                for (i, c) in charts.iter().enumerate() {
                    let path = dir.join(format!("{:02}-{}.png", i + 1, slug(c.title())));
                    c.png(&path)?;
                }
                eprintln!("PNG charts: {} in {}", charts.len(), dir.display());
            }
            Format::Html => {
                let html = coldbench_reports::html::report(&refs, &verdicts, &args.host_memory);
                let path = write_out(&args.out, &paths[0], "report.html", &html)?;
                eprintln!("HTML report: {}", path.display());
            }
        }
    }
    Ok(())
}

/// The output directory: `out`, or `first`'s directory.
fn out_dir(out: &Option<PathBuf>, first: &Path) -> PathBuf {
    out.clone().unwrap_or_else(|| {
        first
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("."))
    })
}

/// A file-name stem from a chart title: lowercase ASCII letters and digits,
/// other runs of characters as one `-`, at most 60 characters.
fn slug(title: &str) -> String {
    let mut s = String::new();
    for c in title.chars() {
        if c.is_ascii_alphanumeric() {
            s.push(c.to_ascii_lowercase());
        } else if !s.ends_with('-') {
            s.push('-');
        }
    }
    s.trim_matches('-').chars().take(60).collect()
}

/// Writes `text` as `name` in `out` (default: `first`'s directory),
/// atomically (a temporary file renamed): no partial report is left behind.
fn write_out(out: &Option<PathBuf>, first: &Path, name: &str, text: &str) -> Result<PathBuf> {
    super::write_atomic(&out_dir(out, first), name, text)
}
