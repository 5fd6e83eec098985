//! `coldbench compare`: the ratio NEW/BASE of every figure two runs share,
//! with an interval, and a verdict per row — *slower*, *faster*,
//! *unchanged* or *unsure* — for CI pipelines that track runtime versions,
//! OCI runtimes, images and kernels on noisy runners.
//!
//! # How the interval is computed
//!
//! Durations (cold-start metrics and phases, throughput latency) are
//! compared by a quantile (the median, or p99) read from each side's stored
//! HDR histogram. The interval of the ratio of the two quantiles is the
//! **exact bootstrap**: resampling a side of n values from its empirical
//! distribution, the q-quantile of the resample is its m-th order
//! statistic (m = ⌈q·n⌉), and the probability that it is at most the j-th
//! recorded value v_j is P(Binomial(n, F(v_j)) ≥ m) — a regularized
//! incomplete beta function (Efron, *The Jackknife, the Bootstrap and Other
//! Resampling Plans*, 1982, §10; Maritz & Jarrett, JASA 73, 1978). Each
//! side is resampled at its own n; the two bootstrap distributions are
//! independent, so the ratio's distribution is their product, and the
//! interval is its central `confidence` part. This is what "bootstrap
//! resampling of each side at its own n" converges to with infinitely many
//! resamples, without the Monte-Carlo noise or a seed: the same two files
//! always give the same verdict. For n > 4,000 the binomial tail is taken
//! from its normal approximation (continuity-corrected), where it is
//! accurate to well under the histogram's 0.1 % resolution.
//!
//! Why a quantile and not the mean: cold starts and latencies are skewed
//! and heavy-tailed (a page-cache miss, a scheduler hiccup); a median moves
//! only when most starts moved, and p99 is tracked separately.
//!
//! Requests/s (throughput) has no per-request distribution: each side's
//! 95 % batch-means interval is turned into a standard error on the log
//! scale and the two are combined (√(se₁² + se₂²)), giving a log-normal
//! interval of the ratio. Memory per instance and artifact sizes are single
//! figures: their rows carry no interval (`exact`), and the verdict is the
//! point ratio against the threshold — an artifact size does not vary from
//! run to run, and a per-instance figure is already an average over N
//! instances (say so when reading a memory verdict).
//!
//! # A baseline of several runs
//!
//! Everything above is sampling noise *within* a run. On a shared CI runner
//! the host itself drifts between runs (neighbours, frequency, page cache):
//! two back-to-back runs of the CI preset on the reference host differ by
//! 20–50 % on some rows, far outside their sampling intervals. Given a
//! baseline of k ≥ 2 runs, a row's interval is instead a prediction
//! interval from the baseline's run-to-run spread: on the log scale, the k
//! figures' mean m and standard deviation s, NEW/BASE = exp(x − m) with
//! half-width √((t₍ₖ₋₁₎·s·√(1 + 1/k))² + (NEW's own sampling half-width)²).
//! This also gives memory per instance an interval. Three or more baseline
//! runs are what CI should keep; with one, the output says that its
//! intervals cover sampling noise only.
//!
//! A row whose two sides are the same measurement — byte-identical
//! histograms or identical intervals, as when a run is compared with itself
//! or a baseline was copied — is paired data, not two samples: resampled
//! jointly, its ratio is exactly 1, and it is *unchanged*.
//!
//! # Verdicts
//!
//! With threshold t: **slower** (worse: longer, fewer requests/s, more
//! bytes) when the whole interval lies beyond 1 + t (below 1 − t for
//! requests/s), **faster** (better) when it lies wholly beyond the other
//! side, **unchanged** when it lies wholly within [1 − t, 1 + t], **unsure**
//! otherwise — with the sample size per side that would decide it if the
//! ratio stayed where it is (intervals narrow as 1/√n).

use coldbench_results::{
    HostFingerprint, LatencyHistogram, Metric, RunFile, Summary, ThroughputResult, stats,
};
use std::collections::{BTreeMap, BTreeSet};

mod differences;
mod figures;
mod render;
mod rows;
mod trends;

pub use differences::*;
pub use figures::*;
pub use render::*;
use rows::*;
pub use trends::*;

/// How a figure is read: the unit of its values and which direction is better.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Quantity {
    /// A duration in ns; lower is better.
    DurationNs,
    /// Requests per second; higher is better.
    RequestsPerSecond,
    /// Bytes (memory per instance, artifact size); lower is better.
    Bytes,
}

impl Quantity {
    /// True when a larger value is better (requests/s).
    pub fn higher_is_better(self) -> bool {
        matches!(self, Quantity::RequestsPerSecond)
    }

    /// The value for a person, in this quantity's unit.
    pub fn format(self, v: f64) -> String {
        match self {
            Quantity::DurationNs => crate::format_ns(v.max(0.0).round() as u64),
            Quantity::RequestsPerSecond => format!("{} /s", crate::rate(v)),
            Quantity::Bytes => crate::format_bytes(v.max(0.0).round() as u64),
        }
    }
}

/// The verdict on one row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Verdict {
    /// Worse beyond the threshold, the whole interval: longer, fewer
    /// requests/s, or more bytes.
    Slower,
    /// Better beyond the threshold, the whole interval.
    Faster,
    /// The whole interval within ± threshold.
    Unchanged,
    /// Neither: the interval straddles a threshold (or the runs' hosts
    /// differ and the comparison was downgraded).
    Unsure,
}

impl Verdict {
    /// The word for `quantity`: `slower`/`faster` for durations and
    /// requests/s, `larger`/`smaller` for bytes.
    pub fn word(self, quantity: Quantity) -> &'static str {
        match (self, quantity) {
            (Verdict::Slower, Quantity::Bytes) => "larger",
            (Verdict::Faster, Quantity::Bytes) => "smaller",
            (Verdict::Slower, _) => "slower",
            (Verdict::Faster, _) => "faster",
            (Verdict::Unchanged, _) => "unchanged",
            (Verdict::Unsure, _) => "unsure",
        }
    }
}

/// How a row's interval was computed (see the module documentation).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// Exact bootstrap of a quantile of each side's HDR histogram.
    ExactBootstrap,
    /// Log-normal combination of each side's own interval.
    LogNormal,
    /// A single figure per side: no interval.
    Exact,
    /// A baseline of several runs: the run-to-run spread of the baseline's
    /// figures (Student t, k − 1 degrees of freedom) combined with NEW's own
    /// sampling interval.
    BetweenRuns,
}

/// One side's figure: a point with its own interval and sample count.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Figure {
    /// The point estimate, in the row's quantity.
    pub value: f64,
    /// Lower end of the side's own interval (equal to `value` without one).
    pub low: f64,
    /// Upper end of the side's own interval.
    pub high: f64,
    /// Samples behind it (1 for a single figure; for a baseline of several
    /// runs, the smallest run's).
    pub n: u64,
    /// Runs behind it (several for a baseline set: `value` is the geometric
    /// mean of the runs' figures, `low`–`high` their range).
    pub runs: usize,
}

/// What a row compares, before it is compared: one side's data.
#[derive(Debug, Clone)]
enum Source {
    /// A histogram and the quantile read from it.
    Histogram(LatencyHistogram, f64),
    /// A point with a 95 % interval (requests/s).
    Interval(Figure),
    /// A single figure.
    Point(f64),
}

/// Identity of a row: `<workload>/<target>/<metric>` (stable; the export
/// names use it too).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RowKey {
    /// Workload, or throughput row (`hash-iterated`).
    pub workload: String,
    /// Target variant id.
    pub target: String,
    /// Metric name: `t_ready`, `t_ready.p99`, `reused.rps`,
    /// `reused.latency.p50`, `density.pss`, `artifact.wasm`, ….
    pub metric: String,
}

impl std::fmt::Display for RowKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}/{}", self.workload, self.target, self.metric)
    }
}

/// What the comparison was asked to do.
#[derive(Debug, Clone)]
pub struct Options {
    /// Relative threshold, e.g. 0.05 for ±5 %.
    pub threshold: f64,
    /// Confidence level of the intervals, e.g. 0.95.
    pub confidence: f64,
    /// Metric filters: a row is kept when its metric equals a filter or
    /// starts with it followed by `.` (`t_ready` keeps `t_ready.p99`;
    /// `rps` keeps every mode's `*.rps`). Empty: every row.
    pub metrics: Vec<String>,
    /// Keep verdicts even when the CPU model or core count differ.
    pub same_host_not_required: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            threshold: 0.05,
            confidence: 0.95,
            metrics: Vec::new(),
            same_host_not_required: false,
        }
    }
}

fn metric_selected(metric: &str, filters: &[String]) -> bool {
    filters.is_empty()
        || filters.iter().any(|f| {
            metric == f
                || metric.starts_with(&format!("{f}."))
                || metric.ends_with(&format!(".{f}"))
                || metric.contains(&format!(".{f}."))
        })
}

/// One compared row.
#[derive(Debug, Clone)]
pub struct Row {
    /// What is compared.
    pub key: RowKey,
    /// Its unit and direction.
    pub quantity: Quantity,
    /// BASE's figure.
    pub base: Figure,
    /// NEW's figure.
    pub new: Figure,
    /// NEW / BASE, the point.
    pub ratio: f64,
    /// Lower end of the ratio's interval.
    pub low: f64,
    /// Upper end of the ratio's interval.
    pub high: f64,
    /// How the interval was computed.
    pub method: Method,
    /// The verdict (after any host downgrade).
    pub verdict: Verdict,
    /// For an *unsure* row: samples per side that would decide it if the
    /// ratio stayed where it is (`None`: not decidable by more samples —
    /// the ratio sits on the threshold, or the row has no interval).
    pub decisive_n: Option<u64>,
}

/// A field of the two runs' fingerprints that differs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Difference {
    /// What (e.g. `host.kernel`, `target wasmtime-pooling: runtime_version`).
    pub what: String,
    /// BASE's value (`—` when absent).
    pub base: String,
    /// NEW's value.
    pub new: String,
}

/// The comparison of two runs.
#[derive(Debug, Clone)]
pub struct Comparison {
    /// Runs in the baseline (1 on both sides: intervals cover each side's
    /// sampling noise only, not run-to-run drift).
    pub base_runs: usize,
    /// Runs on the NEW side.
    pub new_runs: usize,
    /// BASE's label (its path, as given).
    pub base_label: String,
    /// NEW's label.
    pub new_label: String,
    /// The options used.
    pub options: Options,
    /// Rows in both runs, in key order.
    pub rows: Vec<Row>,
    /// Rows only BASE has.
    pub only_base: Vec<RowKey>,
    /// Rows only NEW has.
    pub only_new: Vec<RowKey>,
    /// Fingerprint fields that differ.
    pub differences: Vec<Difference>,
    /// Set when the CPU model or core count differ: what differs, and
    /// whether the verdicts were downgraded to *unsure* for it.
    pub host_warning: Option<String>,
}

/// Errors of [`compare`].
#[derive(Debug, thiserror::Error)]
pub enum CompareError {
    /// The two runs share no row (after the metric filter).
    #[error(
        "{base} and {new} have no figure in common (workload × target × metric{filter}): nothing to compare; compare runs of the same suite or command"
    )]
    NothingInCommon {
        /// BASE's label.
        base: String,
        /// NEW's label.
        new: String,
        /// The metric filter, as text (empty without one).
        filter: String,
    },
}

impl Comparison {
    /// The rows one side has and the other not, per side that has any:
    /// `("BASE" | "NEW", row names)`.
    pub fn one_sided(&self) -> Vec<(&'static str, Vec<String>)> {
        [("BASE", &self.only_base), ("NEW", &self.only_new)]
            .into_iter()
            .filter(|(_, keys)| !keys.is_empty())
            .map(|(side, keys)| (side, keys.iter().map(|k| k.to_string()).collect()))
            .collect()
    }

    /// Counts of each verdict, in the order slower, faster, unchanged, unsure.
    pub fn counts(&self) -> [usize; 4] {
        let mut c = [0; 4];
        for r in &self.rows {
            c[match r.verdict {
                Verdict::Slower => 0,
                Verdict::Faster => 1,
                Verdict::Unchanged => 2,
                Verdict::Unsure => 3,
            }] += 1;
        }
        c
    }
}

/// Compares NEW against BASE (see the module documentation).
///
/// Errors: [`CompareError::NothingInCommon`] when no row is in both.
pub fn compare(
    base: &RunFile,
    base_label: &str,
    new: &RunFile,
    new_label: &str,
    options: &Options,
) -> Result<Comparison, CompareError> {
    compare_sets(&[base], base_label, &[new], new_label, options)
}

/// Compares NEW against BASE where either side may be several runs of the
/// same plan (see the module documentation: with several, the interval
/// includes the run-to-run spread). Fingerprints and hosts are compared
/// between the first run of each side.
///
/// Errors: [`CompareError::NothingInCommon`] when no row is in both.
///
/// Panics if either side is empty.
pub fn compare_sets(
    bases: &[&RunFile],
    base_label: &str,
    news: &[&RunFile],
    new_label: &str,
    options: &Options,
) -> Result<Comparison, CompareError> {
    let base = bases[0];
    let new = news[0];
    let gather = |runs: &[&RunFile]| {
        let mut out: BTreeMap<RowKey, (Quantity, Vec<Source>)> = BTreeMap::new();
        for r in runs {
            for (k, (q, src)) in figures(r) {
                out.entry(k).or_insert_with(|| (q, Vec::new())).1.push(src);
            }
        }
        out
    };
    let b = gather(bases);
    let n = gather(news);
    let selected = |k: &&RowKey| metric_selected(&k.metric, &options.metrics);
    let only_base: Vec<RowKey> = b
        .keys()
        .filter(selected)
        .filter(|k| !n.contains_key(*k))
        .cloned()
        .collect();
    let only_new: Vec<RowKey> = n
        .keys()
        .filter(selected)
        .filter(|k| !b.contains_key(*k))
        .cloned()
        .collect();
    let differences = differences(base, new);
    let host_warning = host_warning(&base.host, &new.host, options.same_host_not_required);
    let downgrade = host_warning.is_some() && !options.same_host_not_required;
    let mut rows = Vec::new();
    for (key, (quantity, bs)) in b.iter().filter(|(k, _)| selected(k)) {
        let Some((_, ns)) = n.get(key) else { continue };
        let row = if bs.len() == 1 && ns.len() == 1 {
            compare_row(key, *quantity, &bs[0], &ns[0], options)
        } else {
            between_runs_row(key, *quantity, bs, ns, options)
        };
        if let Some(mut row) = row {
            if downgrade && row.verdict != Verdict::Unsure {
                row.verdict = Verdict::Unsure;
                row.decisive_n = None;
            }
            rows.push(row);
        }
    }
    if rows.is_empty() {
        return Err(CompareError::NothingInCommon {
            base: base_label.to_string(),
            new: new_label.to_string(),
            filter: if options.metrics.is_empty() {
                String::new()
            } else {
                format!(", metrics {}", options.metrics.join(","))
            },
        });
    }
    Ok(Comparison {
        base_runs: bases.len(),
        new_runs: news.len(),
        base_label: base_label.to_string(),
        new_label: new_label.to_string(),
        options: options.clone(),
        rows,
        only_base,
        only_new,
        differences,
        host_warning,
    })
}

/// When the comparison should fail a CI job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailOn {
    /// Any *slower* (or *larger*) row.
    Slower,
    /// Any changed row, slower or faster.
    Any,
    /// Never.
    None,
}

impl Comparison {
    /// True when a verdict matches `fail_on`.
    pub fn fails(&self, fail_on: FailOn) -> bool {
        self.rows.iter().any(|r| match fail_on {
            FailOn::Slower => r.verdict == Verdict::Slower,
            FailOn::Any => matches!(r.verdict, Verdict::Slower | Verdict::Faster),
            FailOn::None => false,
        })
    }
}

#[cfg(test)]
mod tests;
