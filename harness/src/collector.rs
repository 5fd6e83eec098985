//! Everything a run measured, keyed for the results file: cold-start
//! distributions, prepare times, verification counts and errors — each
//! error and count tagged with the experiment that was running.

use crate::failure::StartFailure;
use coldbench_results::journal::{Journal, JournalEntry};
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
    /// The run's journal (`journal.jsonl`): every record is appended to it
    /// as it is made. `None`: not opened, or a write failed.
    journal: Option<Journal>,
    /// Why the journal stopped, if a write to it failed.
    pub journal_failed: Option<String>,
}

impl Collector {
    /// An empty collector that journals every record to
    /// `dir/journal.jsonl` (created, truncated) for the run started at
    /// `started_utc` (RFC 3339, as `run.json` says). If the journal cannot
    /// be created, the collector works without it and says why in
    /// [`Collector::journal_failed`].
    pub fn journalled(dir: &std::path::Path, started_utc: &str) -> Collector {
        match Journal::create(dir, started_utc) {
            Ok(j) => Collector {
                journal: Some(j),
                ..Collector::default()
            },
            Err(e) => Collector {
                journal_failed: Some(format!(
                    "cannot create {} ({e}): a killed harness loses what was measured since the last checkpoint of run.json",
                    dir.join(coldbench_results::journal::JOURNAL_FILE).display()
                )),
                ..Collector::default()
            },
        }
    }

    /// Appends `e` to the journal (if there is one). A write that fails
    /// closes the journal for the rest of the run: the reason is kept in
    /// [`Collector::journal_failed`] (and printed), the run goes on with
    /// its checkpoints alone.
    pub fn journal(&mut self, e: &JournalEntry) {
        if let Some(j) = self.journal.as_mut()
            && let Err(err) = j.append(e)
        {
            let why = format!(
                "writing {} failed ({err}): from here on a killed harness loses what was measured since the last checkpoint of run.json",
                j.path().display()
            );
            eprintln!("{why}");
            self.journal_failed = Some(why);
            self.journal = None;
        }
    }

    /// Flushes the journal to the disk (at each checkpoint of `run.json`).
    pub fn sync_journal(&mut self) {
        if let Some(j) = &self.journal
            && let Err(e) = j.sync()
        {
            self.journal_failed = Some(format!("syncing {} failed: {e}", j.path().display()));
        }
    }

    /// Tags what is recorded from now on with `experiment`.
    pub fn set_experiment(&mut self, experiment: Option<Experiment>) {
        self.experiment = experiment;
    }

    /// Records one cold-start duration of `metric` for `workload` × `target`, ns.
    pub fn record(&mut self, workload: &str, target: &str, metric: Metric, ns: u64) {
        self.journal(&JournalEntry::Sample {
            workload: workload.to_string(),
            target: target.to_string(),
            metric,
            ns,
        });
        self.histograms
            .entry((workload.to_string(), target.to_string(), metric))
            .or_default()
            .record_ns(ns);
    }

    /// Records how long preparing `workload` on `target` took, ns.
    pub fn record_prepare(&mut self, workload: &str, target: &str, ns: u64) {
        self.journal(&JournalEntry::Prepare {
            workload: workload.to_string(),
            target: target.to_string(),
            ns,
        });
        self.prepare
            .entry((workload.to_string(), target.to_string()))
            .or_default()
            .record_ns(ns);
    }

    /// Records an error about `who`.
    pub fn error(&mut self, who: Subject<'_>, phase: Phase, kind: FailureKind, message: String) {
        let e = ErrorRecord {
            experiment: self.experiment,
            workload: who.workload.map(str::to_string),
            target: who.target.map(str::to_string),
            case: who.case.map(str::to_string),
            phase,
            kind,
            message,
        };
        self.journal(&JournalEntry::Error(e.clone()));
        self.errors.push(e);
    }

    /// Records a failed step about `who`.
    pub fn failure(&mut self, who: Subject<'_>, f: StartFailure) {
        self.error(who, f.phase, f.kind, f.message);
    }

    /// Adds `ok` matched and `bad` mismatched responses for `workload` × `target`.
    pub fn add_verified(&mut self, workload: &str, target: &str, ok: u64, bad: u64) {
        if ok + bad > 0 {
            self.journal(&JournalEntry::Verified(VerificationRecord {
                experiment: self.experiment,
                workload: workload.to_string(),
                target: target.to_string(),
                verified: ok,
                mismatched: bad,
            }));
        }
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
            .filter_map(|((w, t, m), h)| MetricResult::of(w, t, *m, h))
            .collect()
    }

    /// The prepare times as results-file entries.
    pub fn prepare_results(&self) -> Vec<MetricResult> {
        self.prepare
            .iter()
            .filter_map(|((w, t), h)| MetricResult::of(w, t, Metric::Prepare, h))
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
