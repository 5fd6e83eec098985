//! The figures a run holds, as rows of a comparison: every cold-start metric
//! and phase, throughput cells, bytes per instance, artifact sizes, each with
//! its source (a histogram, an interval or a point).

use super::*;

impl Source {
    pub(super) fn figure(&self) -> Option<Figure> {
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

/// Fewest samples for which a p99 row is compared: below 100 the 99th
/// percentile is the maximum, one sample.
pub const MIN_N_FOR_P99: u64 = 100;

/// Every comparable figure of a run, keyed by row.
pub(super) fn figures(run: &RunFile) -> BTreeMap<RowKey, (Quantity, Source)> {
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

pub(super) fn summary_figure(s: &Summary) -> Figure {
    Figure {
        value: s.p50_ns as f64,
        low: s.p50_ci95_low_ns as f64,
        high: s.p50_ci95_high_ns as f64,
        n: s.n,
        runs: 1,
    }
}

pub(super) fn throughput_figures(
    c: &ThroughputResult,
    out: &mut BTreeMap<RowKey, (Quantity, Source)>,
) {
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
