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
    let r = between_runs_row(&key, Quantity::RequestsPerSecond, &drift, &[pt(85.0)], &o).unwrap();
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
