//! Every interval coldbench computes, in one place: the median's
//! distribution-free interval (cold start, density steps), batch means with a
//! Student t interval (throughput's requests/s), conservative ratios of two
//! intervals (throughput's slowdown, the claims ledger), the exact bootstrap
//! of a quantile from an HDR histogram and the interval of a ratio of two such
//! distributions (`compare`, one run per side), and the log-scale run-to-run
//! spread with Welch's t or a prediction interval (`compare`, sets of runs).
//! Which experiment uses which, and why, is `docs/design.md` §6 and §10.
//!
//! Quantiles of the normal, Student t and binomial distributions come from
//! `statrs`; the tests hold each function against closed forms or published
//! tables.

use crate::LatencyHistogram;

/// 1-based ranks of the order statistics bounding a 95 % confidence interval of the median.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MedianInterval {
    /// Rank of the lower bound (1 ..= n).
    pub low_rank: u64,
    /// Rank of the upper bound (1 ..= n).
    pub high_rank: u64,
}

/// Distribution-free 95 % interval of the median for `n` samples: the order
/// statistics at ranks `n/2 ∓ 1.96·√n/2` (normal approximation of the binomial
/// B(n, ½); Conover, *Practical Nonparametric Statistics*, 3rd ed., §3.2),
/// rounded outwards and clamped to `1..=n`. For n < 6 the clamp makes the
/// interval the full range `[min, max]`, whose coverage is `1 − 2⁻ⁿ⁺¹` (< 95 %).
/// `n = 0` gives ranks 0.
pub fn median_interval_ranks(n: u64) -> MedianInterval {
    if n == 0 {
        return MedianInterval {
            low_rank: 0,
            high_rank: 0,
        };
    }
    let half_width = 1.96 * (n as f64).sqrt() / 2.0;
    let center = n as f64 / 2.0;
    let low = (center - half_width).floor().max(1.0) as u64;
    let high = ((center + half_width).ceil() as u64 + 1).min(n);
    MedianInterval {
        low_rank: low,
        high_rank: high.max(low),
    }
}

/// The median of `v` (the upper one for an even length), sorting `v` in
/// place; 0 for an empty slice. Used where a point figure of a few samples
/// is shown beside its interval (density's per-step `t_ready`).
pub fn median_u64(v: &mut [u64]) -> u64 {
    if v.is_empty() {
        return 0;
    }
    v.sort_unstable();
    v[v.len() / 2]
}

/// Two-sided 95 % Student t quantile for `df` degrees of freedom (df ≥ 1;
/// the standard t table to three decimals, 1.96 beyond df = 30; `df = 0`
/// gives infinity). Throughput's batch means use it, so recorded intervals
/// are reproduced exactly from their batches.
pub fn t_975(df: u32) -> f64 {
    const T: [f64; 30] = [
        12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160,
        2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056,
        2.052, 2.048, 2.045, 2.042,
    ];
    match df {
        0 => f64::INFINITY,
        d if (d as usize) <= T.len() => T[d as usize - 1],
        _ => 1.96,
    }
}

/// Two-sided Student t quantile for a `confidence` level (e.g. 0.95) at `df`
/// degrees of freedom (fractional df allowed, as Welch's gives; df below 1 is
/// taken as 1). `None` when statrs refuses the parameters (df not finite).
pub fn t_quantile(confidence: f64, df: f64) -> Option<f64> {
    use statrs::distribution::{ContinuousCDF, StudentsT};
    Some(
        StudentsT::new(0.0, 1.0, df.max(1.0))
            .ok()?
            .inverse_cdf(0.5 + confidence / 2.0),
    )
}

/// Standard normal quantile for a two-sided `confidence` level (0.95 → 1.95996…).
pub fn z_quantile(confidence: f64) -> f64 {
    use statrs::distribution::{ContinuousCDF, Normal};
    Normal::standard().inverse_cdf(0.5 + confidence / 2.0)
}

/// A rate and its 95 % interval from batch means: the window `[open_ns,
/// close_ns]` is cut into `batches` (at least 2) equal slices, each slice's
/// rate is one observation, and the interval is mean ± t(batches−1)·sd/√batches,
/// clamped at 0. `events` are (instant ns, count) pairs — one per completion,
/// or counts binned by millisecond. Returns `(per_second, low, high)`.
pub fn batch_means_rate(
    events: &[(u64, u64)],
    open_ns: u64,
    close_ns: u64,
    batches: u32,
) -> (f64, f64, f64) {
    let window_ns = close_ns.saturating_sub(open_ns).max(1);
    let total: u64 = events.iter().map(|(_, c)| c).sum();
    let rate = total as f64 / (window_ns as f64 / 1e9);
    let k = batches.max(2) as usize;
    let slice_s = window_ns as f64 / 1e9 / k as f64;
    let mut counts = vec![0u64; k];
    for &(t, c) in events {
        let i = ((t.saturating_sub(open_ns)) as u128 * k as u128 / window_ns as u128) as usize;
        counts[i.min(k - 1)] += c;
    }
    let rates: Vec<f64> = counts.iter().map(|&c| c as f64 / slice_s).collect();
    let mean = rates.iter().sum::<f64>() / k as f64;
    let var = rates.iter().map(|r| (r - mean).powi(2)).sum::<f64>() / (k as f64 - 1.0);
    let half = t_975(k as u32 - 1) * (var / k as f64).sqrt();
    (rate, (rate - half).max(0.0), rate + half)
}

/// A figure with its interval, `(low, value, high)`, in any unit.
pub type Interval = (f64, f64, f64);

/// `a ÷ b` of two figures with intervals, conservatively: each end of the
/// ratio takes the two intervals at their opposite ends (`a.low / b.high` to
/// `a.high / b.low`). Every divisor is kept at `min_divisor` or above, so a
/// lower end of 0 gives a finite (huge) upper end; pass `f64::MIN_POSITIVE`
/// where any positive divisor will do.
pub fn conservative_ratio(a: Interval, b: Interval, min_divisor: f64) -> Interval {
    (
        a.0 / b.2.max(min_divisor),
        a.1 / b.1.max(min_divisor),
        a.2 / b.0.max(min_divisor),
    )
}

/// P(Binomial(n, p) ≥ m): the regularized incomplete beta I_p(m, n − m + 1)
/// for n ≤ 4,000 (statrs' continued fraction converges there), its
/// continuity-corrected normal approximation above. `m` is 1 ..= n.
pub fn binomial_at_least(n: u64, m: u64, p: f64) -> f64 {
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

/// The exact bootstrap distribution of the q-quantile of a resample of `h`
/// (Efron's bootstrap without Monte Carlo: the quantile of a resample is the
/// m-th order statistic, m = ⌈q·n⌉, whose law follows from the binomial):
/// `(value ns, probability)` pairs, values ascending, masses below 1e-12
/// dropped. Empty for an empty histogram.
pub fn exact_bootstrap_quantile(h: &LatencyHistogram, q: f64) -> Vec<(f64, f64)> {
    let inner = h.inner();
    let n = inner.len();
    if n == 0 {
        return Vec::new();
    }
    let m = ((q * n as f64).ceil() as u64).clamp(1, n);
    let mut out = Vec::new();
    let mut cumulative = 0u64;
    let mut previous = 0.0;
    for v in inner.iter_recorded() {
        cumulative += v.count_at_value();
        let cdf = binomial_at_least(n, m, cumulative as f64 / n as f64);
        let mass = cdf - previous;
        previous = cdf;
        if mass > 1e-12 {
            out.push((inner.highest_equivalent(v.value_iterated_to()) as f64, mass));
        }
    }
    out
}

/// The central `confidence` interval of new ÷ base, each a discrete
/// distribution of independent values (`(value, probability)` pairs, as
/// [`exact_bootstrap_quantile`] gives). Returns `(low, high)`; NaN for an
/// empty side.
pub fn ratio_of_distributions(
    base: &[(f64, f64)],
    new: &[(f64, f64)],
    confidence: f64,
) -> (f64, f64) {
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

/// Several runs' figures of one quantity on the log scale: their count, mean
/// and sample variance (0 for one run).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LogSpread {
    /// Number of runs.
    pub k: f64,
    /// Mean of the natural logs of the figures.
    pub mean: f64,
    /// Sample variance of the logs (k − 1 in the denominator; 0 when k = 1).
    pub var: f64,
}

impl LogSpread {
    /// The spread of `values` (all > 0; `None` otherwise or when empty).
    pub fn of(values: &[f64]) -> Option<LogSpread> {
        if values.is_empty() || values.iter().any(|v| *v <= 0.0) {
            return None;
        }
        let k = values.len() as f64;
        let logs: Vec<f64> = values.iter().map(|v| v.ln()).collect();
        let mean = logs.iter().sum::<f64>() / k;
        let var = if values.len() > 1 {
            logs.iter().map(|l| (l - mean).powi(2)).sum::<f64>() / (k - 1.0)
        } else {
            0.0
        };
        Some(LogSpread { k, mean, var })
    }
}

/// Half-width, on the log scale, of Welch's `confidence` interval of the
/// difference of two sets' log means (Welch–Satterthwaite degrees of
/// freedom). Both sets need k ≥ 2; 0 when both variances are 0.
pub fn welch_half_width(a: &LogSpread, b: &LogSpread, confidence: f64) -> Option<f64> {
    let (va, vb) = (a.var / a.k, b.var / b.k);
    let se2 = va + vb;
    if se2 <= 0.0 {
        return Some(0.0);
    }
    let df = se2.powi(2) / (va.powi(2) / (a.k - 1.0) + vb.powi(2) / (b.k - 1.0));
    Some(t_quantile(confidence, df)? * se2.sqrt())
}

/// Half-width, on the log scale, of the `confidence` prediction interval of
/// one more run from `set`'s spread, t₍ₖ₋₁₎·s·√(1 + 1/k), with `single_own`
/// (the single run's own sampling half-width, log scale) added in
/// quadrature — conservative: that run's noise is then counted twice.
pub fn prediction_half_width(set: &LogSpread, single_own: f64, confidence: f64) -> Option<f64> {
    let drift = t_quantile(confidence, set.k - 1.0)? * (set.var * (1.0 + 1.0 / set.k)).sqrt();
    Some((drift.powi(2) + single_own.powi(2)).sqrt())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_ranks_follow_the_normal_approximation() {
        // n = 100: 50 ∓ 9.8 → ranks 40 and 61 (rounded outwards, +1 high).
        assert_eq!(
            median_interval_ranks(100),
            MedianInterval {
                low_rank: 40,
                high_rank: 61
            }
        );
        // n < 6: the whole range.
        assert_eq!(
            median_interval_ranks(3),
            MedianInterval {
                low_rank: 1,
                high_rank: 3
            }
        );
        assert_eq!(median_interval_ranks(0).low_rank, 0);
    }

    #[test]
    fn the_t_table_agrees_with_statrs() {
        for df in 1..=30u32 {
            let exact = t_quantile(0.95, df as f64).unwrap();
            assert!(
                (t_975(df) - exact).abs() < 6e-4,
                "df {df}: table {} vs {exact}",
                t_975(df)
            );
        }
        assert_eq!(t_975(0), f64::INFINITY);
        assert_eq!(t_975(1000), 1.96);
        assert!((z_quantile(0.95) - 1.959_964).abs() < 1e-6);
        assert!((z_quantile(0.99) - 2.575_829).abs() < 1e-6);
    }

    #[test]
    fn batch_means_of_a_constant_rate_have_no_width() {
        // One event per ms for 1 s in 10 batches: 1,000/s exactly.
        let events: Vec<(u64, u64)> = (0..1000).map(|i| (i * 1_000_000 + 1, 1)).collect();
        let (r, lo, hi) = batch_means_rate(&events, 0, 1_000_000_000, 10);
        assert!(
            (r - 1000.0).abs() < 1e-9 && (hi - lo).abs() < 1e-9,
            "{r} {lo} {hi}"
        );
        // All events in the first slice: the same mean, a wide interval.
        let burst: Vec<(u64, u64)> = (0..1000).map(|i| (i * 1000, 1)).collect();
        let (r, lo, hi) = batch_means_rate(&burst, 0, 1_000_000_000, 10);
        // Rates 10,000/s once and 0 nine times: sd = 3162.3, half = 2.262·1000.
        assert!((r - 1000.0).abs() < 1e-9);
        assert!((hi - r - 2262.0).abs() < 0.5, "{hi}");
        assert_eq!(lo, 0.0);
    }

    #[test]
    fn conservative_ratio_takes_opposite_ends() {
        assert_eq!(
            conservative_ratio((8.0, 10.0, 12.0), (1.0, 2.0, 4.0), 1e-9),
            (2.0, 5.0, 12.0)
        );
        let (_, _, hi) = conservative_ratio((1.0, 1.0, 1.0), (0.0, 1.0, 1.0), 0.5);
        assert_eq!(hi, 2.0);
    }

    #[test]
    fn the_binomial_tail_matches_closed_forms() {
        // P(B(n, p) ≥ 1) = 1 − (1 − p)^n; P(B(n, p) ≥ n) = p^n.
        for (n, p) in [(10u64, 0.3f64), (200, 0.01), (4000, 0.0005)] {
            let at_least_one = 1.0 - (1.0f64 - p).powi(n as i32);
            assert!((binomial_at_least(n, 1, p) - at_least_one).abs() < 1e-9);
        }
        assert!((binomial_at_least(5, 5, 0.5) - 0.03125).abs() < 1e-12);
        // The normal approximation above 4,000 is continuous with the exact one.
        let exact = binomial_at_least(4000, 2000, 0.5);
        let approx = binomial_at_least(4001, 2001, 0.5);
        assert!((exact - approx).abs() < 0.01, "{exact} vs {approx}");
    }

    #[test]
    fn the_exact_bootstrap_of_the_median_sums_to_one_and_centres_on_it() {
        let mut h = LatencyHistogram::new();
        for v in 1..=101u64 {
            h.record_ns(v * 1000);
        }
        let d = exact_bootstrap_quantile(&h, 0.5);
        let total: f64 = d.iter().map(|p| p.1).sum();
        assert!((total - 1.0).abs() < 1e-9, "{total}");
        let mode = d.iter().max_by(|a, b| a.1.total_cmp(&b.1)).unwrap().0;
        assert!((mode - 51_000.0).abs() <= 100.0, "{mode}");
        assert!(exact_bootstrap_quantile(&LatencyHistogram::new(), 0.5).is_empty());
    }

    #[test]
    fn a_ratio_of_point_masses_is_a_point() {
        let (lo, hi) = ratio_of_distributions(&[(2.0, 1.0)], &[(3.0, 1.0)], 0.95);
        assert_eq!((lo, hi), (1.5, 1.5));
        // Two equally likely values each side: ratios 0.5, 1, 1, 2 → the
        // central 95 % keeps both ends.
        let d = [(1.0, 0.5), (2.0, 0.5)];
        assert_eq!(ratio_of_distributions(&d, &d, 0.95), (0.5, 2.0));
    }

    #[test]
    fn welch_and_prediction_widths_match_hand_computation() {
        let a = LogSpread::of(&[1.0, std::f64::consts::E]).unwrap(); // logs 0, 1
        assert_eq!((a.k, a.mean, a.var), (2.0, 0.5, 0.5));
        // Equal sets: se² = 0.5, df = 2 → t(0.95, 2) = 4.303.
        let w = welch_half_width(&a, &a, 0.95).unwrap();
        assert!((w - 4.302_653 * 0.5f64.sqrt()).abs() < 1e-5, "{w}");
        // k = 2: t(0.95, 1) · √(0.5 · 1.5), plus nothing of the single run.
        let p = prediction_half_width(&a, 0.0, 0.95).unwrap();
        assert!((p - 12.706_205 * 0.75f64.sqrt()).abs() < 1e-4, "{p}");
        assert_eq!(LogSpread::of(&[1.0, 0.0]), None);
        assert_eq!(LogSpread::of(&[3.0]).unwrap().var, 0.0);
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
}
