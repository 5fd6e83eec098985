//! Files written by schema version 1 (coldbench before the experiment
//! sections, commit 06e345a: `coldbench run`, `throughput` and `density`,
//! one file each, on real runtimes) still read: each lands in its typed
//! section, prepare times in `prepare`, errors and counts tagged with the
//! experiment — and the migrated file matches the current JSON Schema.

mod common;

use coldbench_results::{Experiment, Metric, RunFile};
use common::valid_now;
use std::path::{Path, PathBuf};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/v1")
        .join(name)
}

#[test]
fn a_version_1_cold_start_file_reads_into_its_section() {
    let path = fixture("coldstart.json");
    let raw: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    assert_eq!(raw["schema_version"], 1);
    let run = RunFile::read(&path).unwrap();
    assert_eq!(run.migrated_from, Some(1));
    assert_eq!(run.experiments(), vec![Experiment::ColdStart]);
    let c = run.cold_start.as_ref().unwrap();
    assert_eq!((c.runs, c.warmup), (3, 1));
    // Every distribution of the old `results` is there, prepare times apart.
    let old = raw["results"].as_array().unwrap();
    let old_prepare = old.iter().filter(|r| r["metric"] == "prepare").count();
    assert!(old_prepare > 0);
    assert_eq!(run.prepare.len(), old_prepare);
    assert_eq!(c.results.len(), old.len() - old_prepare);
    let r = run
        .result("noop", "wasmtime-pooling", Metric::TReady)
        .unwrap();
    assert_eq!(r.summary.n, 3);
    assert!(
        run.verification
            .iter()
            .all(|v| v.experiment == Some(Experiment::ColdStart))
    );
    valid_now(&run);
}

#[test]
fn a_version_1_throughput_file_reads_into_its_section() {
    let run = RunFile::read(&fixture("throughput.json")).unwrap();
    assert_eq!(run.experiments(), vec![Experiment::Throughput]);
    let t = run.throughput.as_ref().unwrap();
    assert!(!t.cells.is_empty());
    assert!(t.cells.iter().any(|c| c.slowdown_vs_native.is_some()));
    assert!(t.config.timer_overhead_ns > 0);
    valid_now(&run);
}

#[test]
fn a_version_1_density_file_reads_into_its_section() {
    let run = RunFile::read(&fixture("density.json")).unwrap();
    assert_eq!(run.experiments(), vec![Experiment::Density]);
    let d = run.density.as_ref().unwrap();
    assert!(!d.series.is_empty());
    assert!(d.series.iter().all(|s| !s.bytes_per_instance.is_empty()));
    valid_now(&run);
}
