//! A run whose `run.json` was never finalised is read with what its journal
//! holds beyond the last checkpoint (`RunFile::read_run`): cold-start
//! durations rebuilt from their lines, errors and counts, the density series
//! in flight as of its last step — and nothing from a journal of another
//! run, a finalised run, or a journal broken before its last line.

mod common;

use coldbench_results::journal::{JOURNAL_FILE, Journal, JournalEntry};
use coldbench_results::{
    DensityStop, ErrorRecord, FailureKind, Metric, Phase, ResultsError, RunFile, VerificationRecord,
};
use common::valid_now;
use std::io::Write as _;
use std::path::{Path, PathBuf};

fn fixture(name: &str) -> RunFile {
    RunFile::read(
        &Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/v1")
            .join(name),
    )
    .unwrap()
}

fn dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("coldbench-journal-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn sample(ns: u64) -> JournalEntry {
    JournalEntry::Sample {
        workload: "noop".into(),
        target: "native".into(),
        metric: Metric::TReady,
        ns,
    }
}

/// A cold-start run killed after its checkpoint: `run.json` holds what the
/// fixture holds, the journal 9 later `t_ready` values, an error and a
/// count, then a line torn in the middle of its write.
fn killed_cold_start(name: &str, journal_run: Option<&str>) -> (PathBuf, RunFile) {
    let d = dir(name);
    let mut run = fixture("coldstart.json");
    run.in_progress = true;
    run.write(&d.join("run.json")).unwrap();
    let mut j = Journal::create(&d, journal_run.unwrap_or(&run.started_utc)).unwrap();
    for us in 1..=9u64 {
        j.append(&sample(us * 1_000_000)).unwrap();
    }
    j.append(&JournalEntry::Verified(VerificationRecord {
        experiment: None,
        workload: "noop".into(),
        target: "native".into(),
        verified: 9,
        mismatched: 0,
    }))
    .unwrap();
    j.append(&JournalEntry::Error(ErrorRecord {
        experiment: None,
        workload: Some("noop".into()),
        target: Some("native".into()),
        case: None,
        phase: Phase::Start,
        kind: FailureKind::Timeout,
        message: "no ready line within 10 s".into(),
    }))
    .unwrap();
    drop(j);
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(d.join(JOURNAL_FILE))
        .unwrap();
    f.write_all(br#"{"entry":"sample","workload":"noop","targ"#)
        .unwrap();
    (d, run)
}

#[test]
fn a_killed_cold_start_run_reads_with_every_journalled_start() {
    let (d, checkpoint) = killed_cold_start("cold", None);
    let before = checkpoint
        .result("noop", "native", Metric::TReady)
        .map(|r| r.summary.n);
    let run = RunFile::read_run(&d.join("run.json")).unwrap();
    let r = run.result("noop", "native", Metric::TReady).unwrap();
    // The distribution is the journal's (1..=9 ms), not the checkpoint's.
    assert_eq!(r.summary.n, 9, "checkpoint had {before:?}");
    let p50_ms = r.summary.p50_ns as f64 / 1e6;
    assert!((p50_ms - 5.0).abs() < 0.01, "p50 {p50_ms} ms");
    assert_eq!(run.errors.len(), 1);
    assert_eq!(run.errors[0].kind, FailureKind::Timeout);
    let v: Vec<_> = run
        .verification
        .iter()
        .filter(|v| v.target == "native")
        .collect();
    assert_eq!((v.len(), v[0].verified), (1, 9));
    assert!(run.in_progress, "still marked incomplete");
    assert!(
        run.notes
            .iter()
            .any(|n| n.contains("9 cold-start durations") && n.contains(JOURNAL_FILE)),
        "{:#?}",
        run.notes
    );
    valid_now(&run);
    // The file on disk is untouched.
    let plain = RunFile::read(&d.join("run.json")).unwrap();
    assert_eq!(
        plain
            .result("noop", "native", Metric::TReady)
            .map(|r| r.summary.n),
        before
    );
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn a_journal_of_another_run_or_of_a_finished_run_is_not_replayed() {
    let (d, checkpoint) = killed_cold_start("other", Some("2001-01-01T00:00:00+00:00"));
    let n = |r: &RunFile| {
        r.result("noop", "native", Metric::TReady)
            .map(|x| x.summary.n)
    };
    let run = RunFile::read_run(&d.join("run.json")).unwrap();
    assert_eq!(n(&run), n(&checkpoint));
    assert_eq!(run.errors.len(), checkpoint.errors.len());
    let _ = std::fs::remove_dir_all(&d);

    let (d, mut finished) = killed_cold_start("finished", None);
    finished.in_progress = false;
    finished.write(&d.join("run.json")).unwrap();
    let run = RunFile::read_run(&d.join("run.json")).unwrap();
    assert_eq!(n(&run), n(&finished));
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn a_journal_broken_before_its_last_line_is_an_error_naming_the_line() {
    let (d, _) = killed_cold_start("broken", None);
    let path = d.join(JOURNAL_FILE);
    let text = std::fs::read_to_string(&path).unwrap();
    let mut lines: Vec<&str> = text.lines().collect();
    lines[2] = "{not json";
    std::fs::write(&path, lines.join("\n")).unwrap();
    match RunFile::read_run(&d.join("run.json")) {
        Err(ResultsError::Parse { path, .. }) => {
            assert!(path.ends_with("journal.jsonl line 3"), "{path}")
        }
        other => panic!("{other:?}"),
    }
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn a_density_series_in_flight_is_kept_as_of_its_last_step() {
    let d = dir("density");
    let mut run = fixture("density.json");
    run.in_progress = true;
    let section = run.density.as_mut().unwrap();
    let series = std::mem::take(&mut section.series);
    assert!(series.len() >= 2, "the fixture has two series");
    run.write(&d.join("run.json")).unwrap();
    let mut j = Journal::create(&d, &run.started_utc).unwrap();
    j.append(&JournalEntry::DensitySeries(Box::new(series[0].clone())))
        .unwrap();
    // The second series got to a step of 2 instances, then 3 more started.
    let mut step = series[1].clone();
    step.samples.truncate(2);
    let sampled = step.samples.last().unwrap().instances;
    step.stop_reason = DensityStop::HarnessStopped;
    for k in 0..sampled {
        j.append(&JournalEntry::DensityInstance {
            workload: step.workload.clone(),
            target: step.target.clone(),
            t_ready_ns: 1_000_000 * (k + 1),
        })
        .unwrap();
    }
    j.append(&JournalEntry::DensityStep(Box::new(step.clone())))
        .unwrap();
    for k in 0..3 {
        j.append(&JournalEntry::DensityInstance {
            workload: step.workload.clone(),
            target: step.target.clone(),
            t_ready_ns: 50_000_000 + k,
        })
        .unwrap();
    }
    drop(j);
    let back = RunFile::read_run(&d.join("run.json")).unwrap();
    let s = back.density_series();
    assert_eq!(s.len(), 2);
    assert_eq!(s[0].stop_reason, series[0].stop_reason);
    assert_eq!(s[1].stop_reason, DensityStop::HarnessStopped);
    assert_eq!(s[1].instances, sampled + 3);
    assert_eq!(s[1].t_ready.n, sampled + 3);
    assert_eq!(s[1].samples.len(), 2);
    assert!(
        s[1].stop_detail.contains("last sample"),
        "{}",
        s[1].stop_detail
    );
    valid_now(&back);
    let _ = std::fs::remove_dir_all(&d);
}
