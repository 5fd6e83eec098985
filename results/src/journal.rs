//! The run journal: `journal.jsonl` beside `run.json`, one JSON object per
//! line, appended as the run measures — every cold-start duration, prepare
//! time, verification count and error as it is recorded, every throughput
//! cell and density series as it finishes, and a density series in flight at
//! each of its sampling steps and after each instance it starts.
//!
//! `run.json` is rewritten (atomically) only at checkpoints; the journal is
//! what a harness killed outright (`SIGKILL`, the OOM killer) leaves between
//! two of them. Each line is one `write(2)` of a file opened for appending,
//! so a killed harness loses at most the line it was writing — the start in
//! flight — and a reader skips a torn last line. Lines reach the page cache
//! at once (a killed process loses none); they reach the disk at each
//! checkpoint's `fsync` (a host crash loses at most the time since).
//!
//! [`RunFile::read_run`] reads a run whose `run.json` was never finalised
//! (`in_progress`) with what its journal holds beyond the last checkpoint.

use crate::{
    DensitySeries, DensityStop, ErrorRecord, LatencyHistogram, Metric, MetricResult, ResultsError,
    RunFile, ThroughputResult, VerificationRecord,
};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};

/// The journal's file name, in the run directory beside `run.json`.
pub const JOURNAL_FILE: &str = "journal.jsonl";

/// One line of the journal.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "entry", rename_all = "snake_case")]
pub enum JournalEntry {
    /// The first line: the run it belongs to (`run.json`'s `started_utc`,
    /// RFC 3339). A journal of another run is never replayed.
    Open {
        /// When the run started, as `run.json` says.
        started_utc: String,
    },
    /// One cold-start duration of `metric`, ns.
    Sample {
        /// Workload name.
        workload: String,
        /// Target variant id.
        target: String,
        /// Which duration.
        metric: Metric,
        /// The duration, ns.
        ns: u64,
    },
    /// How long preparing `workload` on `target` took, ns.
    Prepare {
        /// Workload name.
        workload: String,
        /// Target variant id.
        target: String,
        /// The duration, ns.
        ns: u64,
    },
    /// Responses checked (added to the counts of the same experiment,
    /// workload and target).
    Verified(VerificationRecord),
    /// An error, in the order they happened.
    Error(ErrorRecord),
    /// A throughput cell that finished (slowdowns are filled in only when
    /// the whole experiment ends).
    ThroughputCell(Box<ThroughputResult>),
    /// A density series that finished.
    DensitySeries(Box<DensitySeries>),
    /// A density series in flight at one of its sampling steps (figures as
    /// of that sample; `stop_reason` [`DensityStop::HarnessStopped`]).
    DensityStep(Box<DensitySeries>),
    /// One instance of the density series in flight became ready (its
    /// `t_ready`, ns).
    DensityInstance {
        /// Workload name.
        workload: String,
        /// Target variant id.
        target: String,
        /// Start call → ready line, ns.
        t_ready_ns: u64,
    },
}

/// Appends [`JournalEntry`] lines to a run's journal.
#[derive(Debug)]
pub struct Journal {
    file: std::fs::File,
    path: PathBuf,
}

impl Journal {
    /// Creates (truncating) `dir/journal.jsonl` and writes its
    /// [`JournalEntry::Open`] line for the run started at `started_utc`.
    ///
    /// Errors: the file cannot be created or written (`std::io::Error`).
    pub fn create(dir: &Path, started_utc: &str) -> std::io::Result<Journal> {
        let path = dir.join(JOURNAL_FILE);
        let file = std::fs::OpenOptions::new()
            .create(true)
            .write(true)
            .truncate(true)
            .open(&path)?;
        drop(file);
        let file = std::fs::OpenOptions::new().append(true).open(&path)?;
        let mut j = Journal { file, path };
        j.append(&JournalEntry::Open {
            started_utc: started_utc.to_string(),
        })?;
        Ok(j)
    }

    /// The journal's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends one line with one `write(2)`.
    ///
    /// Errors: the write failed (a full disk, say).
    pub fn append(&mut self, e: &JournalEntry) -> std::io::Result<()> {
        let mut line = serde_json::to_vec(e).expect("journal entries serialize");
        line.push(b'\n');
        self.file.write_all(&line)
    }

    /// Flushes what was appended to the disk (`fdatasync`).
    ///
    /// Errors: the sync failed.
    pub fn sync(&self) -> std::io::Result<()> {
        self.file.sync_data()
    }
}

/// How the note [`replay`] adds to `run.notes` begins.
pub const REPLAY_NOTE: &str = "run.json was not finalised:";

/// What [`replay`] took from a journal beyond what `run.json` held.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Replayed {
    /// Cold-start durations read (all metrics).
    pub samples: u64,
    /// Throughput cells read.
    pub throughput_cells: u64,
    /// Finished density series read.
    pub density_series: u64,
    /// Whether a density series in flight was recovered from its last step.
    pub density_in_flight: bool,
    /// Errors read.
    pub errors: u64,
}

/// Reads a journal's lines. A last line that does not parse (torn by a
/// kill in the middle of its write) is dropped; any other that does not
/// parse is an error.
///
/// Errors: [`ResultsError::Io`] (unreadable), [`ResultsError::Parse`] (a bad
/// line other than the last).
pub fn read_journal(path: &Path) -> Result<Vec<JournalEntry>, ResultsError> {
    let p = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|source| ResultsError::Io {
        path: p.clone(),
        source,
    })?;
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    let mut out = Vec::with_capacity(lines.len());
    for (i, l) in lines.iter().enumerate() {
        match serde_json::from_str::<JournalEntry>(l) {
            Ok(e) => out.push(e),
            Err(_) if i + 1 == lines.len() => {}
            Err(source) => {
                return Err(ResultsError::Parse {
                    path: format!("{p} line {}", i + 1),
                    source,
                });
            }
        }
    }
    Ok(out)
}

/// Rebuilds, from a journal of the same run, everything the journal holds
/// in `run`: cold-start distributions, prepare times, verification counts
/// and errors (all journalled from the run's start, so they replace
/// `run.json`'s), the throughput cells and density series of the sections
/// `run.json` already has (a section absent there has no configuration to
/// put them under), and the density series in flight at the kill, as of
/// its last sampling step, with every instance's `t_ready` since (stop
/// reason [`DensityStop::HarnessStopped`]). A note in `run.notes` says what
/// was replayed. A journal whose first line names another run is ignored
/// (`Ok(None)`).
///
/// Errors: see [`read_journal`].
pub fn replay(run: &mut RunFile, path: &Path) -> Result<Option<Replayed>, ResultsError> {
    let entries = read_journal(path)?;
    match entries.first() {
        Some(JournalEntry::Open { started_utc }) if *started_utc == run.started_utc => {}
        _ => return Ok(None),
    }
    let mut r = Replayed::default();
    let mut hist: BTreeMap<(String, String, Metric), LatencyHistogram> = BTreeMap::new();
    let mut prepare: BTreeMap<(String, String, Metric), LatencyHistogram> = BTreeMap::new();
    let mut verified: Vec<VerificationRecord> = Vec::new();
    let mut errors = Vec::new();
    let mut cells = Vec::new();
    let mut series = Vec::new();
    let mut in_flight: Option<DensitySeries> = None;
    let mut in_flight_ready: Vec<u64> = Vec::new();
    for e in entries.into_iter().skip(1) {
        match e {
            JournalEntry::Open { .. } => {}
            JournalEntry::Sample {
                workload,
                target,
                metric,
                ns,
            } => {
                r.samples += 1;
                hist.entry((workload, target, metric))
                    .or_default()
                    .record_ns(ns);
            }
            JournalEntry::Prepare {
                workload,
                target,
                ns,
            } => prepare
                .entry((workload, target, Metric::Prepare))
                .or_default()
                .record_ns(ns),
            JournalEntry::Verified(v) => match verified.iter_mut().find(|x| {
                x.experiment == v.experiment && x.workload == v.workload && x.target == v.target
            }) {
                Some(x) => {
                    x.verified += v.verified;
                    x.mismatched += v.mismatched;
                }
                None => verified.push(v),
            },
            JournalEntry::Error(e) => {
                r.errors += 1;
                errors.push(e);
            }
            JournalEntry::ThroughputCell(c) => {
                r.throughput_cells += 1;
                cells.push(*c);
            }
            JournalEntry::DensitySeries(s) => {
                r.density_series += 1;
                series.push(*s);
                in_flight = None;
                in_flight_ready.clear();
            }
            JournalEntry::DensityStep(s) => in_flight = Some(*s),
            JournalEntry::DensityInstance { t_ready_ns, .. } => in_flight_ready.push(t_ready_ns),
        }
    }
    if let Some(c) = run.cold_start.as_mut() {
        c.results = results(&hist);
    }
    run.prepare = results(&prepare);
    verified.sort_by(|a, b| {
        (a.experiment, &a.workload, &a.target).cmp(&(b.experiment, &b.workload, &b.target))
    });
    run.verification = verified;
    run.errors = errors;
    if let Some(t) = run.throughput.as_mut() {
        t.cells = cells;
    }
    if let Some(d) = run.density.as_mut() {
        if let Some(mut s) = in_flight {
            let mut h = LatencyHistogram::new();
            for &ns in &in_flight_ready {
                h.record_ns(ns);
            }
            if let Some(summary) = h.summary() {
                s.t_ready = summary;
                s.t_ready_histogram_v2_deflate_b64 = h.to_base64();
            }
            let sampled = s.samples.last().map_or(0, |x| x.instances);
            s.instances = (in_flight_ready.len() as u64).max(sampled);
            s.stop_reason = DensityStop::HarnessStopped;
            s.stop_detail = format!(
                "the harness stopped (killed) with {} instance(s) started; memory figures are those of the last sample ({sampled} instances); the instances were not torn down by this run (the next coldbench command reaps them)",
                s.instances
            );
            series.push(s);
            r.density_in_flight = true;
        }
        d.series = series;
    }
    run.notes.push(format!(
        "{REPLAY_NOTE} {} cold-start durations, {} throughput cell(s), {} density series{} and {} error(s) replayed from {}",
        r.samples,
        r.throughput_cells,
        r.density_series,
        if r.density_in_flight {
            " (+ 1 in flight at its last step)"
        } else {
            ""
        },
        r.errors,
        JOURNAL_FILE
    ));
    Ok(Some(r))
}

fn results(h: &BTreeMap<(String, String, Metric), LatencyHistogram>) -> Vec<MetricResult> {
    h.iter()
        .filter_map(|((w, t, m), h)| MetricResult::of(w, t, *m, h))
        .collect()
}
