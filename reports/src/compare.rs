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
    HostFingerprint, LatencyHistogram, Metric, RunFile, Summary, ThroughputResult,
};
use std::collections::{BTreeMap, BTreeSet};

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

impl Source {
    fn figure(&self) -> Option<Figure> {
        match self {
            Source::Histogram(h, q) => {
                let n = h.len();
                if n == 0 {
                    return None;
                }
                let s = h.summary()?;
                let v = h.inner().value_at_quantile(*q) as f64;
                let (low, high) = if *q == 0.5 {
                    (s.p50_ci95_low_ns as f64, s.p50_ci95_high_ns as f64)
                } else {
                    (v, v)
                };
                Some(Figure {
                    value: v,
                    low,
                    high,
                    n,
                    runs: 1,
                })
            }
            Source::Interval(f) => Some(*f),
            Source::Point(v) => Some(Figure {
                value: *v,
                low: *v,
                high: *v,
                n: 1,
                runs: 1,
            }),
        }
    }
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

/// Fewest samples for which a p99 row is compared: below 100 the 99th
/// percentile is the maximum, one sample.
pub const MIN_N_FOR_P99: u64 = 100;

/// Every comparable figure of a run, keyed by row.
fn figures(run: &RunFile) -> BTreeMap<RowKey, (Quantity, Source)> {
    let mut out = BTreeMap::new();
    let key = |w: &str, t: &str, m: String| RowKey {
        workload: w.to_string(),
        target: t.to_string(),
        metric: m,
    };
    for r in run.cold_start_results() {
        let Ok(h) = LatencyHistogram::from_base64(&r.histogram_v2_deflate_b64) else {
            continue;
        };
        if h.is_empty() {
            continue;
        }
        let tail =
            matches!(r.metric, Metric::TReady | Metric::TFirstResponse) && h.len() >= MIN_N_FOR_P99;
        if tail {
            out.insert(
                key(&r.workload, &r.target, format!("{}.p99", r.metric.name())),
                (Quantity::DurationNs, Source::Histogram(h.clone(), 0.99)),
            );
        }
        out.insert(
            key(&r.workload, &r.target, r.metric.name().to_string()),
            (Quantity::DurationNs, Source::Histogram(h, 0.5)),
        );
    }
    for c in run.throughput_cells() {
        throughput_figures(c, &mut out);
    }
    for s in run.density_series() {
        for f in &s.bytes_per_instance {
            out.insert(
                key(&s.workload, &s.target, format!("density.{}", f.source)),
                (Quantity::Bytes, Source::Point(f.bytes_per_instance)),
            );
        }
        if s.t_ready.n > 0 {
            out.insert(
                key(&s.workload, &s.target, "density.t_ready".into()),
                (
                    Quantity::DurationNs,
                    Source::Interval(summary_figure(&s.t_ready)),
                ),
            );
        }
    }
    for t in run.targets.iter().filter(|t| t.available) {
        for a in &t.artifacts {
            out.insert(
                key(&a.workload, &t.id, format!("artifact.{}", a.kind)),
                (Quantity::Bytes, Source::Point(a.bytes as f64)),
            );
        }
    }
    out
}

fn summary_figure(s: &Summary) -> Figure {
    Figure {
        value: s.p50_ns as f64,
        low: s.p50_ci95_low_ns as f64,
        high: s.p50_ci95_high_ns as f64,
        n: s.n,
        runs: 1,
    }
}

fn throughput_figures(c: &ThroughputResult, out: &mut BTreeMap<RowKey, (Quantity, Source)>) {
    if c.requests == 0 {
        return;
    }
    let key = |m: String| RowKey {
        workload: c.row.clone(),
        target: c.target.clone(),
        metric: format!("{}.{m}", c.mode.name()),
    };
    out.insert(
        key("rps".into()),
        (
            Quantity::RequestsPerSecond,
            Source::Interval(Figure {
                value: c.rps,
                low: c.rps_ci95_low,
                high: c.rps_ci95_high,
                n: c.requests,
                runs: 1,
            }),
        ),
    );
    if let Ok(h) = LatencyHistogram::from_base64(&c.latency_histogram_v2_deflate_b64)
        && !h.is_empty()
    {
        if h.len() >= MIN_N_FOR_P99 {
            out.insert(
                key("latency.p99".into()),
                (Quantity::DurationNs, Source::Histogram(h.clone(), 0.99)),
            );
        }
        out.insert(
            key("latency.p50".into()),
            (Quantity::DurationNs, Source::Histogram(h, 0.5)),
        );
    }
}

/// P(Binomial(n, p) ≥ m): the regularized incomplete beta I_p(m, n − m + 1)
/// for n ≤ 4,000 (statrs' continued fraction converges there), its
/// continuity-corrected normal approximation above.
fn prob_at_least(n: u64, m: u64, p: f64) -> f64 {
    if p <= 0.0 {
        return 0.0;
    }
    if p >= 1.0 {
        return 1.0;
    }
    if n <= 4_000 {
        statrs::function::beta::beta_reg(m as f64, (n - m + 1) as f64, p)
    } else {
        let mean = n as f64 * p;
        let sd = (mean * (1.0 - p)).sqrt();
        let z = (m as f64 - 0.5 - mean) / sd;
        0.5 * statrs::function::erf::erfc(z / std::f64::consts::SQRT_2)
    }
}

/// The exact bootstrap distribution of the q-quantile of a resample of
/// `h`: `(value, probability)` pairs, values ascending, masses below 1e-12
/// dropped.
fn quantile_distribution(h: &LatencyHistogram, q: f64) -> Vec<(f64, f64)> {
    let inner = h.inner();
    let n = inner.len();
    let m = ((q * n as f64).ceil() as u64).clamp(1, n);
    let mut out = Vec::new();
    let mut cumulative = 0u64;
    let mut previous = 0.0;
    for v in inner.iter_recorded() {
        cumulative += v.count_at_value();
        let cdf = prob_at_least(n, m, cumulative as f64 / n as f64);
        let mass = cdf - previous;
        previous = cdf;
        if mass > 1e-12 {
            out.push((inner.highest_equivalent(v.value_iterated_to()) as f64, mass));
        }
    }
    out
}

/// The central `confidence` interval of new/base, each a discrete
/// distribution of independent values.
fn ratio_interval(base: &[(f64, f64)], new: &[(f64, f64)], confidence: f64) -> (f64, f64) {
    let mut pairs: Vec<(f64, f64)> = Vec::with_capacity(base.len() * new.len());
    for &(b, pb) in base {
        for &(a, pa) in new {
            pairs.push((a / b.max(1e-9), pa * pb));
        }
    }
    pairs.sort_by(|x, y| x.0.total_cmp(&y.0));
    let total: f64 = pairs.iter().map(|p| p.1).sum();
    let tail = (1.0 - confidence) / 2.0 * total;
    let mut acc = 0.0;
    let mut low = pairs.first().map(|p| p.0).unwrap_or(f64::NAN);
    let mut high = pairs.last().map(|p| p.0).unwrap_or(f64::NAN);
    let mut found_low = false;
    for &(r, p) in &pairs {
        acc += p;
        if !found_low && acc >= tail {
            low = r;
            found_low = true;
        }
        if acc >= total - tail {
            high = r;
            break;
        }
    }
    (low, high)
}

/// Standard normal quantile for a two-sided `confidence` level.
fn z_for(confidence: f64) -> f64 {
    use statrs::distribution::{ContinuousCDF, Normal};
    Normal::standard().inverse_cdf(0.5 + confidence / 2.0)
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

fn compare_row(
    key: &RowKey,
    quantity: Quantity,
    base: &Source,
    new: &Source,
    options: &Options,
) -> Option<Row> {
    let bf = base.figure()?;
    let nf = new.figure()?;
    if bf.value <= 0.0 || nf.value <= 0.0 {
        return None;
    }
    let ratio = nf.value / bf.value;
    let (low, high, method) = match (base, new) {
        // The same measurement on both sides (a run compared with itself,
        // a baseline copied): resampled jointly, as paired data must be,
        // every resample's ratio is exactly 1.
        (Source::Histogram(hb, _), Source::Histogram(hn, _)) if same_histogram(hb, hn) => {
            (1.0, 1.0, Method::ExactBootstrap)
        }
        (Source::Interval(a), Source::Interval(b)) if a == b => (1.0, 1.0, Method::LogNormal),
        (Source::Histogram(hb, q), Source::Histogram(hn, _)) => {
            let (l, h) = ratio_interval(
                &quantile_distribution(hb, *q),
                &quantile_distribution(hn, *q),
                options.confidence,
            );
            (l.min(ratio), h.max(ratio), Method::ExactBootstrap)
        }
        (Source::Point(_), Source::Point(_)) => (ratio, ratio, Method::Exact),
        _ => {
            // Each side's own 95 % interval → a log-scale standard error.
            let z95 = z_for(0.95);
            let se = |f: &Figure| {
                if f.low > 0.0 && f.high > f.low {
                    (f.high.ln() - f.low.ln()) / (2.0 * z95)
                } else {
                    0.0
                }
            };
            let s = (se(&bf).powi(2) + se(&nf).powi(2)).sqrt();
            let z = z_for(options.confidence);
            (
                (ratio.ln() - z * s).exp(),
                (ratio.ln() + z * s).exp(),
                Method::LogNormal,
            )
        }
    };
    let (verdict, decisive_n) = verdict(
        quantity,
        ratio,
        low,
        high,
        options.threshold,
        bf.n.min(nf.n),
        method,
    );
    Some(Row {
        key: key.clone(),
        quantity,
        base: bf,
        new: nf,
        ratio,
        low,
        high,
        method,
        verdict,
        decisive_n,
    })
}

/// One side of a row given by several runs: the geometric mean of their
/// figures, their range, and on the log scale their mean, sample variance
/// and count.
struct RunSet {
    figure: Figure,
    mean: f64,
    var: f64,
    k: f64,
    /// The sampling half-width (log scale, at the confidence asked) of the
    /// side when it is one run.
    own: f64,
}

fn run_set(sources: &[Source], confidence: f64) -> Option<RunSet> {
    let figs: Vec<Figure> = sources.iter().filter_map(Source::figure).collect();
    if figs.is_empty() || figs.iter().any(|f| f.value <= 0.0) {
        return None;
    }
    let k = figs.len() as f64;
    let logs: Vec<f64> = figs.iter().map(|f| f.value.ln()).collect();
    let mean = logs.iter().sum::<f64>() / k;
    let var = if figs.len() > 1 {
        logs.iter().map(|l| (l - mean).powi(2)).sum::<f64>() / (k - 1.0)
    } else {
        0.0
    };
    let f0 = figs[0];
    let own = if figs.len() == 1 && f0.low > 0.0 && f0.high > f0.low {
        z_for(confidence) * (f0.high.ln() - f0.low.ln()) / (2.0 * z_for(0.95))
    } else {
        0.0
    };
    let figure = if figs.len() == 1 {
        f0
    } else {
        Figure {
            value: mean.exp(),
            low: figs.iter().map(|f| f.value).fold(f64::INFINITY, f64::min),
            high: figs.iter().map(|f| f.value).fold(0.0, f64::max),
            n: figs.iter().map(|f| f.n).min().unwrap_or(0),
            runs: figs.len(),
        }
    };
    Some(RunSet {
        figure,
        mean,
        var,
        k,
        own,
    })
}

/// Two-sided Student t quantile for `confidence` at `df` degrees of freedom.
fn t_for(confidence: f64, df: f64) -> Option<f64> {
    use statrs::distribution::{ContinuousCDF, StudentsT};
    Some(
        StudentsT::new(0.0, 1.0, df.max(1.0))
            .ok()?
            .inverse_cdf(0.5 + confidence / 2.0),
    )
}

/// A row where at least one side is several runs (see the module
/// documentation): both sets → Welch's t on the log figures
/// (Welch–Satterthwaite degrees of freedom); one set against one run → a
/// prediction interval from the set's spread, t₍ₖ₋₁₎·s·√(1 + 1/k), with the
/// single run's own sampling half-width added in quadrature (conservative:
/// its noise is then counted twice).
fn between_runs_row(
    key: &RowKey,
    quantity: Quantity,
    bases: &[Source],
    news: &[Source],
    options: &Options,
) -> Option<Row> {
    let b = run_set(bases, options.confidence)?;
    let n = run_set(news, options.confidence)?;
    let c = options.confidence;
    let predict = |set: &RunSet, single: &RunSet| -> Option<f64> {
        let drift = t_for(c, set.k - 1.0)? * (set.var * (1.0 + 1.0 / set.k)).sqrt();
        Some((drift.powi(2) + single.own.powi(2)).sqrt())
    };
    let half = match (b.k > 1.0, n.k > 1.0) {
        (true, true) => {
            let (vb, vn) = (b.var / b.k, n.var / n.k);
            let se2 = vb + vn;
            if se2 <= 0.0 {
                0.0
            } else {
                let df = se2.powi(2) / (vb.powi(2) / (b.k - 1.0) + vn.powi(2) / (n.k - 1.0));
                t_for(c, df)? * se2.sqrt()
            }
        }
        (true, false) => predict(&b, &n)?,
        (false, true) => predict(&n, &b)?,
        (false, false) => return None,
    };
    let ratio = (n.mean - b.mean).exp();
    let (low, high) = (
        (n.mean - b.mean - half).exp(),
        (n.mean - b.mean + half).exp(),
    );
    let (verdict, _) = verdict(
        quantity,
        ratio,
        low,
        high,
        options.threshold,
        1,
        Method::BetweenRuns,
    );
    Some(Row {
        key: key.clone(),
        quantity,
        base: b.figure,
        new: n.figure,
        ratio,
        low,
        high,
        method: Method::BetweenRuns,
        verdict,
        // More samples per run do not narrow the run-to-run spread; more
        // runs do, which the summary line says.
        decisive_n: None,
    })
}

/// True when two histograms hold the same values with the same counts.
fn same_histogram(a: &LatencyHistogram, b: &LatencyHistogram) -> bool {
    a.len() == b.len()
        && a.inner()
            .iter_recorded()
            .map(|v| (v.value_iterated_to(), v.count_at_value()))
            .eq(b
                .inner()
                .iter_recorded()
                .map(|v| (v.value_iterated_to(), v.count_at_value())))
}

/// The verdict on an interval `[low, high]` around `ratio` at threshold
/// `t`, and for *unsure* the samples per side that would decide it.
fn verdict(
    quantity: Quantity,
    ratio: f64,
    low: f64,
    high: f64,
    t: f64,
    n: u64,
    method: Method,
) -> (Verdict, Option<u64>) {
    let (up, down) = (1.0 + t, 1.0 - t);
    let (worse, better) = if quantity.higher_is_better() {
        (high < down, low > up)
    } else {
        (low > up, high < down)
    };
    if worse {
        return (Verdict::Slower, None);
    }
    if better {
        return (Verdict::Faster, None);
    }
    if low >= down && high <= up {
        return (Verdict::Unchanged, None);
    }
    if method == Method::Exact || low.is_nan() || low <= 0.0 {
        return (Verdict::Unsure, None);
    }
    // Half-widths on the log scale shrink as 1/√n: the n at which the
    // interval would clear the nearest threshold, on whichever side the
    // ratio lies.
    let c = ratio.ln();
    let w = ((high.ln() - c).max(c - low.ln())).max(1e-12);
    let d = if ratio > up {
        c - up.ln()
    } else if ratio < down {
        down.ln() - c
    } else {
        (up.ln() - c).min(c - down.ln())
    };
    if d <= 1e-9 {
        return (Verdict::Unsure, None);
    }
    let factor = (w / d).powi(2);
    let needed = (n.max(1) as f64 * factor).ceil();
    (
        Verdict::Unsure,
        (needed.is_finite() && needed < 1e12).then_some(needed as u64),
    )
}

fn host_warning(base: &HostFingerprint, new: &HostFingerprint, keep: bool) -> Option<String> {
    let mut what = Vec::new();
    if base.cpu_model != new.cpu_model {
        what.push(format!(
            "CPU model ({} vs {})",
            base.cpu_model, new.cpu_model
        ));
    }
    if base.cpu_logical_cores != new.cpu_logical_cores {
        what.push(format!(
            "logical cores ({} vs {})",
            base.cpu_logical_cores, new.cpu_logical_cores
        ));
    }
    if what.is_empty() {
        return None;
    }
    Some(format!(
        "the runs come from different hardware: {}; {}",
        what.join(", "),
        if keep {
            "verdicts kept (--same-host-not-required)"
        } else {
            "every verdict is reported as unsure (pass --same-host-not-required to keep them)"
        }
    ))
}

/// Fingerprint fields that differ between the two runs: tool version and git
/// revision, host (CPU, cores, memory, kernel, OS, cgroup version, Docker
/// engine), runtime versions, suite and configuration, and per target its
/// runtime version, availability and knobs.
pub fn differences(base: &RunFile, new: &RunFile) -> Vec<Difference> {
    let mut out = Vec::new();
    let mut diff = |what: String, b: String, n: String| {
        if b != n {
            out.push(Difference {
                what,
                base: b,
                new: n,
            });
        }
    };
    type Field = (&'static str, fn(&RunFile) -> String);
    let dash = || "—".to_string();
    let fields: [Field; 14] = [
        ("run state", |r| {
            if r.in_progress {
                "incomplete (never finalised: in progress, or its harness was killed)".into()
            } else if r.interrupted {
                "interrupted (Ctrl-C)".into()
            } else {
                "complete".into()
            }
        }),
        ("coldbench version", |r| r.tool.version.clone()),
        ("coldbench git revision", |r| r.tool.git_revision.clone()),
        ("host.cpu_model", |r| r.host.cpu_model.clone()),
        ("host.cpu_logical_cores", |r| {
            r.host.cpu_logical_cores.to_string()
        }),
        ("host.memory_total", |r| {
            crate::format_bytes(r.host.memory_total_bytes)
        }),
        ("host.kernel", |r| r.host.kernel.clone()),
        ("host.os", |r| r.host.os.clone()),
        ("host.cgroup_version", |r| r.host.cgroup_version.clone()),
        ("host.cpu_idle", |r| {
            r.host
                .cpu_idle
                .as_ref()
                .map_or_else(|| "—".to_string(), crate::cpu_idle_text)
        }),
        ("host.docker", |r| {
            r.host.docker.as_ref().map_or_else(
                || "—".to_string(),
                |d| {
                    format!(
                        "{} (API {}, runtime {}, {}, {})",
                        d.engine_version,
                        d.api_version,
                        d.default_runtime,
                        d.storage_driver,
                        d.cgroup_driver
                    )
                },
            )
        }),
        ("suite", |r| {
            r.suite
                .as_ref()
                .map_or_else(|| "—".to_string(), |s| s.name.clone())
        }),
        ("config.seed", |r| r.config.seed.to_string()),
        ("config.timeout_ms", |r| r.config.timeout_ms.to_string()),
    ];
    for (what, f) in fields {
        diff(what.to_string(), f(base), f(new));
    }
    let (bh, nh) = (&base.host, &new.host);
    let keys: BTreeSet<&String> = bh
        .runtime_versions
        .keys()
        .chain(nh.runtime_versions.keys())
        .collect();
    for k in keys {
        diff(
            format!("runtime {k}"),
            bh.runtime_versions.get(k).cloned().unwrap_or_else(dash),
            nh.runtime_versions.get(k).cloned().unwrap_or_else(dash),
        );
    }
    for bt in &base.targets {
        let Some(nt) = new.targets.iter().find(|t| t.id == bt.id) else {
            continue;
        };
        let who = |f: &str| format!("target {}: {f}", bt.id);
        diff(
            who("runtime_version"),
            bt.runtime_version.clone(),
            nt.runtime_version.clone(),
        );
        diff(
            who("available"),
            bt.available.to_string(),
            nt.available.to_string(),
        );
        // `cache_dir` is inside each run's own output directory: it always
        // differs and says nothing about what was measured.
        let knobs: BTreeSet<&String> = bt
            .knobs
            .keys()
            .chain(nt.knobs.keys())
            .filter(|k| *k != "cache_dir")
            .collect();
        for k in knobs {
            diff(
                who(k),
                bt.knobs.get(k).cloned().unwrap_or_else(|| "—".into()),
                nt.knobs.get(k).cloned().unwrap_or_else(|| "—".into()),
            );
        }
    }
    // Cases one run has and the other not (a case's name carries its
    // parameters: `…:sha256x1100`), then parameters under the same name.
    let names = |r: &RunFile| -> BTreeSet<String> {
        r.cases
            .iter()
            .map(|c| format!("{}/{}", c.workload, c.case))
            .collect()
    };
    let (bn, nn) = (names(base), names(new));
    for c in bn.difference(&nn) {
        diff(format!("case {c}"), "present".into(), "—".into());
    }
    for c in nn.difference(&bn) {
        diff(format!("case {c}"), "—".into(), "present".into());
    }
    for bc in &base.cases {
        if let Some(nc) = new
            .cases
            .iter()
            .find(|c| c.workload == bc.workload && c.case == bc.case)
        {
            diff(
                format!("case {}/{}: params", bc.workload, bc.case),
                format!("{:?}", bc.params),
                format!("{:?}", nc.params),
            );
        }
    }
    out
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

/// `1.08× [1.03–1.12]`.
pub fn ratio_text(r: &Row) -> String {
    if r.method == Method::Exact {
        format!("{:.3}× (exact)", r.ratio)
    } else {
        format!("{:.3}× [{:.3}–{:.3}]", r.ratio, r.low, r.high)
    }
}

/// A side's figure for a person: `262 µs [241–286] (n=200)`.
pub fn figure_text(q: Quantity, f: &Figure) -> String {
    if f.runs > 1 {
        return format!(
            "{} [{}–{}] ({} runs)",
            q.format(f.value),
            q.format(f.low),
            q.format(f.high),
            f.runs
        );
    }
    if f.n <= 1 && f.low == f.high {
        q.format(f.value)
    } else if f.low == f.high {
        format!("{} (n={})", q.format(f.value), f.n)
    } else {
        format!(
            "{} [{}–{}] (n={})",
            q.format(f.value),
            q.format(f.low),
            q.format(f.high),
            f.n
        )
    }
}

/// The verdict cell: the word, and for *unsure* what would decide it.
pub fn verdict_text(r: &Row) -> String {
    let w = r.verdict.word(r.quantity);
    match (r.verdict, r.decisive_n) {
        (Verdict::Unsure, Some(n)) => format!("{w} (n≈{n} per side would decide)"),
        _ => w.to_string(),
    }
}

/// The summary line: counts per verdict and rows on one side only.
pub fn summary_line(c: &Comparison) -> String {
    let [s, f, u, q] = c.counts();
    format!(
        "{} rows: {s} slower, {f} faster, {u} unchanged, {q} unsure (threshold ±{:.1} %, {:.0} % intervals, {}); {} only in BASE, {} only in NEW",
        c.rows.len(),
        c.options.threshold * 100.0,
        c.options.confidence * 100.0,
        if c.base_runs > 1 || c.new_runs > 1 {
            format!(
                "{} BASE run(s) vs {} NEW run(s): run-to-run spread included",
                c.base_runs, c.new_runs
            )
        } else {
            "one run per side: sampling noise only, not run-to-run drift".to_string()
        },
        c.only_base.len(),
        c.only_new.len()
    )
}

/// The comparison as a terminal table (hyperfine-style: what differs above
/// the verdicts, the verdict counts last). `all`: every row, otherwise
/// the rows that are not *unchanged*.
pub fn terminal(c: &Comparison, all: bool) -> String {
    use comfy_table::{Table, presets::UTF8_BORDERS_ONLY};
    let mut out = format!(
        "Comparing {} (BASE) → {} (NEW)\n",
        c.base_label, c.new_label
    );
    if let Some(w) = &c.host_warning {
        out.push_str(&format!("warning: {w}\n"));
    }
    if c.differences.is_empty() {
        out.push_str("Fingerprints: identical (same revision, versions, knobs, host).\n");
    } else {
        out.push_str("What differs:\n");
        for d in &c.differences {
            out.push_str(&format!("  {}: {} → {}\n", d.what, d.base, d.new));
        }
    }
    let mut t = Table::new();
    t.load_preset(UTF8_BORDERS_ONLY).set_header(vec![
        "workload / target / metric",
        "BASE",
        "NEW",
        "NEW/BASE",
        "verdict",
    ]);
    let mut hidden = 0;
    for r in &c.rows {
        if !all && r.verdict == Verdict::Unchanged {
            hidden += 1;
            continue;
        }
        t.add_row(vec![
            r.key.to_string(),
            figure_text(r.quantity, &r.base),
            figure_text(r.quantity, &r.new),
            ratio_text(r),
            verdict_text(r),
        ]);
    }
    out.push_str(&format!("{t}\n"));
    if hidden > 0 {
        out.push_str(&format!(
            "({hidden} unchanged rows not shown; --all shows them)\n"
        ));
    }
    for (side, keys) in c.one_sided() {
        out.push_str(&format!(
            "Only in {side} ({}): {}\n",
            keys.len(),
            keys.join(", ")
        ));
    }
    out.push_str(&summary_line(c));
    out.push('\n');
    out
}

/// The comparison as GitHub-flavoured Markdown (a PR comment or a job
/// summary): verdict counts, what differs, then every row that is not
/// *unchanged* and, folded, the unchanged ones.
pub fn markdown(c: &Comparison) -> String {
    use crate::markdown::escape;
    let mut out = format!(
        "## coldbench compare\n\n{} → {}: **{}**\n\n",
        escape(&c.base_label),
        escape(&c.new_label),
        escape(&summary_line(c))
    );
    if let Some(w) = &c.host_warning {
        out.push_str(&format!("> **Warning:** {}\n\n", escape(w)));
    }
    if !c.differences.is_empty() {
        out.push_str("| what differs | BASE | NEW |\n|---|---|---|\n");
        for d in &c.differences {
            out.push_str(&format!(
                "| {} | {} | {} |\n",
                escape(&d.what),
                escape(&d.base),
                escape(&d.new)
            ));
        }
        out.push('\n');
    }
    let table = |rows: &[&Row]| {
        let mut s = String::from(
            "| workload / target / metric | BASE | NEW | NEW/BASE | verdict |\n|---|---:|---:|---:|---|\n",
        );
        for r in rows {
            s.push_str(&format!(
                "| {} | {} | {} | {} | {} |\n",
                escape(&r.key.to_string()),
                escape(&figure_text(r.quantity, &r.base)),
                escape(&figure_text(r.quantity, &r.new)),
                escape(&ratio_text(r)),
                if r.verdict == Verdict::Slower {
                    format!("**{}**", escape(&verdict_text(r)))
                } else {
                    escape(&verdict_text(r))
                }
            ));
        }
        s
    };
    let changed: Vec<&Row> = c
        .rows
        .iter()
        .filter(|r| r.verdict != Verdict::Unchanged)
        .collect();
    let unchanged: Vec<&Row> = c
        .rows
        .iter()
        .filter(|r| r.verdict == Verdict::Unchanged)
        .collect();
    if !changed.is_empty() {
        out.push_str(&table(&changed));
        out.push('\n');
    }
    if !unchanged.is_empty() {
        out.push_str(&format!(
            "<details><summary>{} unchanged rows</summary>\n\n{}\n</details>\n\n",
            unchanged.len(),
            table(&unchanged)
        ));
    }
    for (side, keys) in c.one_sided() {
        let list: Vec<String> = keys.iter().map(|k| escape(k)).collect();
        out.push_str(&format!("Only in {side}: {}\n\n", list.join(", ")));
    }
    out
}

/// One point of a trend: a row's figure in one run.
#[derive(Debug, Clone)]
pub struct TrendPoint {
    /// The run's label.
    pub run: String,
    /// Its figure.
    pub figure: Figure,
}

/// Per metric: its quantity and, per `workload/target`, the points in run
/// order ([`trends`]).
pub type Trends = BTreeMap<String, (Quantity, BTreeMap<String, Vec<TrendPoint>>)>;

/// Per metric (`t_ready`, `reused.rps`, …), per `workload/target`, the
/// figure in each run that has it, in the order given — the data of the
/// trend charts.
pub fn trends(
    runs: &[(&RunFile, String)],
    options: &Options,
) -> BTreeMap<String, (Quantity, BTreeMap<String, Vec<TrendPoint>>)> {
    let mut out: BTreeMap<String, (Quantity, BTreeMap<String, Vec<TrendPoint>>)> = BTreeMap::new();
    for (run, label) in runs {
        for (key, (q, source)) in figures(run) {
            if !metric_selected(&key.metric, &options.metrics) {
                continue;
            }
            let Some(figure) = source.figure() else {
                continue;
            };
            out.entry(key.metric.clone())
                .or_insert_with(|| (q, BTreeMap::new()))
                .1
                .entry(format!("{}/{}", key.workload, key.target))
                .or_default()
                .push(TrendPoint {
                    run: label.clone(),
                    figure,
                });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A `t_ready` row of `base` against `new`, default options.
    fn t_ready(base: &Source, new: &Source) -> Row {
        let key = RowKey {
            workload: "w".into(),
            target: "t".into(),
            metric: "t_ready".into(),
        };
        compare_row(&key, Quantity::DurationNs, base, new, &Options::default()).unwrap()
    }

    fn hist(values: impl IntoIterator<Item = u64>) -> LatencyHistogram {
        let mut h = LatencyHistogram::new();
        for v in values {
            h.record_ns(v);
        }
        h
    }

    #[test]
    fn exact_bootstrap_of_the_median_sums_to_one_and_centres_on_it() {
        let h = hist((1..=101).map(|i| i * 1_000));
        let d = quantile_distribution(&h, 0.5);
        let total: f64 = d.iter().map(|p| p.1).sum();
        assert!((total - 1.0).abs() < 1e-9, "{total}");
        let mode = d.iter().max_by(|a, b| a.1.total_cmp(&b.1)).unwrap();
        assert!((mode.0 - 51_000.0).abs() < 100.0, "{mode:?}");
    }

    #[test]
    fn normal_branch_agrees_with_the_beta_branch_at_the_seam() {
        // n = 4,000 (beta) vs the normal approximation at the same n.
        let n = 4_000u64;
        let m = 2_000u64;
        for p in [0.48, 0.49, 0.5, 0.51, 0.52] {
            let exact = statrs::function::beta::beta_reg(m as f64, (n - m + 1) as f64, p);
            let mean = n as f64 * p;
            let z = (m as f64 - 0.5 - mean) / (mean * (1.0 - p)).sqrt();
            let approx = 0.5 * statrs::function::erf::erfc(z / std::f64::consts::SQRT_2);
            assert!((exact - approx).abs() < 2e-3, "p {p}: {exact} vs {approx}");
        }
    }

    #[test]
    fn equal_distributions_are_unchanged_and_a_ten_percent_shift_is_slower() {
        // 1,000 values spread ±20 % around 1 ms; NEW is another draw of
        // the same distribution (offset by a tenth of the spacing).
        let base: Vec<u64> = (0..1_000).map(|i| 800_000 + i * 400).collect();
        let b = Source::Histogram(hist(base.iter().copied()), 0.5);
        let again = hist(base.iter().map(|v| v + 40));
        let r = t_ready(&b, &Source::Histogram(again, 0.5));
        assert_eq!(r.verdict, Verdict::Unchanged, "{r:?}");
        assert!(r.low < 1.0 && r.high > 1.0, "{r:?}");
        let slower = hist(base.iter().map(|v| v * 11 / 10));
        let r = t_ready(&b, &Source::Histogram(slower, 0.5));
        assert_eq!(r.verdict, Verdict::Slower, "{r:?}");
        assert!(r.low <= 1.1 && 1.1 <= r.high, "{r:?}");
    }

    #[test]
    fn the_same_measurement_on_both_sides_is_paired_and_unchanged() {
        // Five samples: as two independent samples this is unsure, as the
        // same measurement it is exactly 1.
        let v = [900_000, 1_000_000, 1_100_000, 1_200_000, 800_000];
        let r = t_ready(
            &Source::Histogram(hist(v), 0.5),
            &Source::Histogram(hist(v), 0.5),
        );
        assert_eq!((r.low, r.high, r.verdict), (1.0, 1.0, Verdict::Unchanged));
    }

    #[test]
    fn few_samples_are_unsure_with_the_n_that_would_decide() {
        let b = Source::Histogram(
            hist([900_000, 1_000_000, 1_100_000, 1_200_000, 800_000]),
            0.5,
        );
        let n = Source::Histogram(
            hist([950_000, 1_080_000, 1_150_000, 1_250_000, 850_000]),
            0.5,
        );
        let r = t_ready(&b, &n);
        assert_eq!(r.verdict, Verdict::Unsure, "{r:?}");
        assert!(r.decisive_n.is_some_and(|n| n > 5), "{r:?}");
    }

    #[test]
    fn fewer_requests_per_second_is_slower() {
        let f = |v: f64| Figure {
            value: v,
            low: v * 0.98,
            high: v * 1.02,
            n: 1_000,
            runs: 1,
        };
        let (v, _) = verdict(
            Quantity::RequestsPerSecond,
            0.9,
            0.87,
            0.93,
            0.05,
            1_000,
            Method::LogNormal,
        );
        assert_eq!(v, Verdict::Slower);
        let key = RowKey {
            workload: "w".into(),
            target: "t".into(),
            metric: "reused.rps".into(),
        };
        let r = compare_row(
            &key,
            Quantity::RequestsPerSecond,
            &Source::Interval(f(100.0)),
            &Source::Interval(f(90.0)),
            &Options::default(),
        )
        .unwrap();
        assert_eq!(r.verdict, Verdict::Slower, "{r:?}");
        assert_eq!(r.verdict.word(r.quantity), "slower");
    }

    #[test]
    fn sets_of_runs_use_their_spread() {
        let key = RowKey {
            workload: "hash-iterated".into(),
            target: "native".into(),
            metric: "reused.rps".into(),
        };
        let pt = |v: f64| Source::Point(v);
        // Five runs each, ±1 % apart; NEW 10 % lower: slower, and the
        // interval holds 0.909.
        let base: Vec<Source> = [100.0, 101.0, 99.0, 100.5, 99.5].map(pt).to_vec();
        let new: Vec<Source> = [90.9, 91.8, 90.0, 91.3, 90.4].map(pt).to_vec();
        let o = Options::default();
        let r = between_runs_row(&key, Quantity::RequestsPerSecond, &base, &new, &o).unwrap();
        assert_eq!(r.verdict, Verdict::Slower, "{r:?}");
        assert!(r.low < 0.909 && 0.909 < r.high, "{r:?}");
        assert_eq!((r.base.runs, r.new.runs), (5, 5));
        // Same spread, no shift: never slower or faster.
        let again: Vec<Source> = [100.2, 99.1, 100.9, 99.6, 100.0].map(pt).to_vec();
        let r = between_runs_row(&key, Quantity::RequestsPerSecond, &base, &again, &o).unwrap();
        assert_eq!(r.verdict, Verdict::Unchanged, "{r:?}");
        // Three drifting runs (±20 %) against one: a 15 % shift is unsure.
        let drift: Vec<Source> = [80.0, 100.0, 120.0].map(pt).to_vec();
        let r =
            between_runs_row(&key, Quantity::RequestsPerSecond, &drift, &[pt(85.0)], &o).unwrap();
        assert_eq!(r.verdict, Verdict::Unsure, "{r:?}");
    }

    #[test]
    fn metric_filters_match_whole_segments() {
        let f = vec!["t_ready".to_string()];
        assert!(metric_selected("t_ready", &f));
        assert!(metric_selected("t_ready.p99", &f));
        assert!(!metric_selected("t_ready_return", &f));
        let f = vec!["rps".to_string()];
        assert!(metric_selected("reused.rps", &f));
        assert!(!metric_selected("reused.latency.p50", &f));
        let f = vec!["latency".to_string()];
        assert!(metric_selected("reused.latency.p50", &f));
    }
}
