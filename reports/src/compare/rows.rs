//! One row of a comparison: the ratio NEW ÷ BASE, its interval and its verdict,
//! from the exact bootstrap of each side (one run each) or the run-to-run spread
//! (sets of runs); the statistics are `coldbench_results::stats`.

use super::*;

pub(super) fn compare_row(
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
            let (l, h) = stats::ratio_of_distributions(
                &stats::exact_bootstrap_quantile(hb, *q),
                &stats::exact_bootstrap_quantile(hn, *q),
                options.confidence,
            );
            (l.min(ratio), h.max(ratio), Method::ExactBootstrap)
        }
        (Source::Point(_), Source::Point(_)) => (ratio, ratio, Method::Exact),
        _ => {
            // Each side's own 95 % interval → a log-scale standard error.
            let z95 = stats::z_quantile(0.95);
            let se = |f: &Figure| {
                if f.low > 0.0 && f.high > f.low {
                    (f.high.ln() - f.low.ln()) / (2.0 * z95)
                } else {
                    0.0
                }
            };
            let s = (se(&bf).powi(2) + se(&nf).powi(2)).sqrt();
            let z = stats::z_quantile(options.confidence);
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
pub(super) struct RunSet {
    figure: Figure,
    /// The figures' spread on the log scale.
    spread: stats::LogSpread,
    /// The sampling half-width (log scale, at the confidence asked) of the
    /// side when it is one run.
    own: f64,
}

pub(super) fn run_set(sources: &[Source], confidence: f64) -> Option<RunSet> {
    let figs: Vec<Figure> = sources.iter().filter_map(Source::figure).collect();
    let values: Vec<f64> = figs.iter().map(|f| f.value).collect();
    let spread = stats::LogSpread::of(&values)?;
    let f0 = figs[0];
    let own = if figs.len() == 1 && f0.low > 0.0 && f0.high > f0.low {
        stats::z_quantile(confidence) * (f0.high.ln() - f0.low.ln())
            / (2.0 * stats::z_quantile(0.95))
    } else {
        0.0
    };
    let figure = if figs.len() == 1 {
        f0
    } else {
        Figure {
            value: spread.mean.exp(),
            low: figs.iter().map(|f| f.value).fold(f64::INFINITY, f64::min),
            high: figs.iter().map(|f| f.value).fold(0.0, f64::max),
            n: figs.iter().map(|f| f.n).min().unwrap_or(0),
            runs: figs.len(),
        }
    };
    Some(RunSet {
        figure,
        spread,
        own,
    })
}

/// A row where at least one side is several runs (see the module
/// documentation): both sets → Welch's t on the log figures
/// (Welch–Satterthwaite degrees of freedom); one set against one run → a
/// prediction interval from the set's spread, t₍ₖ₋₁₎·s·√(1 + 1/k), with the
/// single run's own sampling half-width added in quadrature (conservative:
/// its noise is then counted twice).
pub(super) fn between_runs_row(
    key: &RowKey,
    quantity: Quantity,
    bases: &[Source],
    news: &[Source],
    options: &Options,
) -> Option<Row> {
    let b = run_set(bases, options.confidence)?;
    let n = run_set(news, options.confidence)?;
    let c = options.confidence;
    let half = match (b.spread.k > 1.0, n.spread.k > 1.0) {
        (true, true) => stats::welch_half_width(&b.spread, &n.spread, c)?,
        (true, false) => stats::prediction_half_width(&b.spread, n.own, c)?,
        (false, true) => stats::prediction_half_width(&n.spread, b.own, c)?,
        (false, false) => return None,
    };
    let ratio = (n.spread.mean - b.spread.mean).exp();
    let (low, high) = (
        (n.spread.mean - b.spread.mean - half).exp(),
        (n.spread.mean - b.spread.mean + half).exp(),
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
pub(super) fn same_histogram(a: &LatencyHistogram, b: &LatencyHistogram) -> bool {
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
pub(super) fn verdict(
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
