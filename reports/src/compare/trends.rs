//! Trends across a series of runs: each figure of every run against the first,
//! for the HTML trend charts.

use super::*;

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
