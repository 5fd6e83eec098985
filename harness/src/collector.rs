//! Everything a run measured, keyed for the results file: cold-start
//! distributions, prepare times, verification counts and errors — each
//! error and count tagged with the experiment that was running.

use crate::failure::StartFailure;
use coldbench_results::{
    ErrorRecord, Experiment, FailureKind, LatencyHistogram, Metric, MetricResult, Phase,
    VerificationRecord,
};
use std::collections::BTreeMap;

/// Who an error or a count concerns: workload, target and case, each optional.
#[derive(Debug, Clone, Copy, Default)]
pub struct Subject<'a> {
    /// Workload name.
    pub workload: Option<&'a str>,
    /// Target variant id.
    pub target: Option<&'a str>,
    /// Case name.
    pub case: Option<&'a str>,
}

impl<'a> Subject<'a> {
    /// A workload × target (× case) subject.
    pub fn of(workload: &'a str, target: &'a str, case: Option<&'a str>) -> Self {
        Subject {
            workload: Some(workload),
            target: Some(target),
            case,
        }
    }
}

/// Measurements of one run, in memory until the session writes them.
#[derive(Default)]
pub struct Collector {
    histograms: BTreeMap<(String, String, Metric), LatencyHistogram>,
    prepare: BTreeMap<(String, String), LatencyHistogram>,
    verification: BTreeMap<(Option<Experiment>, String, String), (u64, u64)>,
    /// The experiment running now (`None`: before any, or between them).
    experiment: Option<Experiment>,
    /// Errors, in the order they happened.
    pub errors: Vec<ErrorRecord>,
}

impl Collector {
    /// Tags what is recorded from now on with `experiment`.
    pub fn set_experiment(&mut self, experiment: Option<Experiment>) {
        self.experiment = experiment;
    }

    /// Records one cold-start duration of `metric` for `workload` × `target`, ns.
    pub fn record(&mut self, workload: &str, target: &str, metric: Metric, ns: u64) {
        self.histograms
            .entry((workload.to_string(), target.to_string(), metric))
            .or_default()
            .record_ns(ns);
    }

    /// Records how long preparing `workload` on `target` took, ns.
    pub fn record_prepare(&mut self, workload: &str, target: &str, ns: u64) {
        self.prepare
            .entry((workload.to_string(), target.to_string()))
            .or_default()
            .record_ns(ns);
    }

    /// Records an error about `who`.
    pub fn error(&mut self, who: Subject<'_>, phase: Phase, kind: FailureKind, message: String) {
        self.errors.push(ErrorRecord {
            experiment: self.experiment,
            workload: who.workload.map(str::to_string),
            target: who.target.map(str::to_string),
            case: who.case.map(str::to_string),
            phase,
            kind,
            message,
        });
    }

    /// Records a failed step about `who`.
    pub fn failure(&mut self, who: Subject<'_>, f: StartFailure) {
        self.error(who, f.phase, f.kind, f.message);
    }

    /// Adds `ok` matched and `bad` mismatched responses for `workload` × `target`.
    pub fn add_verified(&mut self, workload: &str, target: &str, ok: u64, bad: u64) {
        let e = self
            .verification
            .entry((self.experiment, workload.to_string(), target.to_string()))
            .or_default();
        e.0 += ok;
        e.1 += bad;
    }

    /// The cold-start distributions as results-file entries.
    pub fn results(&self) -> Vec<MetricResult> {
        self.histograms
            .iter()
            .filter_map(|((w, t, m), h)| entry(w, t, *m, h))
            .collect()
    }

    /// The prepare times as results-file entries.
    pub fn prepare_results(&self) -> Vec<MetricResult> {
        self.prepare
            .iter()
            .filter_map(|((w, t), h)| entry(w, t, Metric::Prepare, h))
            .collect()
    }

    /// The verification counts as results-file entries.
    pub fn verification(&self) -> Vec<VerificationRecord> {
        self.verification
            .iter()
            .map(|((e, w, t), (ok, bad))| VerificationRecord {
                experiment: *e,
                workload: w.clone(),
                target: t.clone(),
                verified: *ok,
                mismatched: *bad,
            })
            .collect()
    }
}

fn entry(w: &str, t: &str, m: Metric, h: &LatencyHistogram) -> Option<MetricResult> {
    h.summary().map(|summary| MetricResult {
        workload: w.to_string(),
        target: t.to_string(),
        metric: m,
        summary,
        histogram_v2_deflate_b64: h.to_base64(),
    })
}
