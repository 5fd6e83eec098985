//! The results-file schema rejects what no valid run holds: each broken
//! copy of a real run (the stored CI baseline, written by coldbench on the
//! reference host) is refused by the schema and by `RunFile::read`, with the
//! field named. The untouched file passes both (so the checks are not
//! refusing everything).

use coldbench_results::{RUN_SCHEMA_JSON, ResultsError, RunFile};
use serde_json::{Value, json};
use std::path::Path;

fn valid() -> Value {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../ci/baseline/1/run.json");
    serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap()
}

/// The schema's complaints about `doc`, each with its JSON pointer.
fn schema_errors(doc: &Value) -> Vec<String> {
    let schema: Value = serde_json::from_str(RUN_SCHEMA_JSON).unwrap();
    let v = jsonschema::validator_for(&schema).unwrap();
    v.iter_errors(doc)
        .map(|e| format!("{} {e}", e.instance_path()))
        .collect()
}

/// `doc` as `RunFile::from_slice` takes it: the error's text.
fn read_error(doc: &Value) -> String {
    let bytes = serde_json::to_vec(doc).unwrap();
    match RunFile::from_slice(&bytes, "broken/run.json") {
        Ok(_) => panic!("a broken file was read"),
        Err(e) => {
            let text = e.to_string();
            assert!(text.contains("broken/run.json"), "{text}");
            text
        }
    }
}

/// `doc` is refused by the schema and by the reader, both naming `field`.
fn refused(doc: &Value, field: &str) {
    let errors = schema_errors(doc);
    assert!(
        errors.iter().any(|e| e.contains(field)),
        "the schema does not name {field}: {errors:#?}"
    );
    let text = read_error(doc);
    assert!(
        text.contains(field),
        "the reader does not name {field}: {text}"
    );
}

#[test]
fn the_stored_run_passes_both() {
    let doc = valid();
    assert!(schema_errors(&doc).is_empty(), "{:#?}", schema_errors(&doc));
    RunFile::from_slice(&serde_json::to_vec(&doc).unwrap(), "run.json").unwrap();
}

#[test]
fn a_missing_section_is_refused() {
    let mut doc = valid();
    doc.as_object_mut().unwrap().remove("host");
    refused(&doc, "host");
    // Inside a section: a cold-start result without its median.
    let mut doc = valid();
    doc["cold_start"]["results"][0]
        .as_object_mut()
        .unwrap()
        .remove("p50_ns");
    refused(&doc, "p50_ns");
}

#[test]
fn an_unknown_field_is_refused() {
    let mut doc = valid();
    doc["cold_start"]["results"][0]["p50_milliseconds"] = json!(3);
    refused(&doc, "p50_milliseconds");
    let mut doc = valid();
    doc["hots"] = doc["host"].clone();
    refused(&doc, "hots");
}

#[test]
fn a_negative_duration_is_refused() {
    let mut doc = valid();
    doc["cold_start"]["results"][0]["p50_ns"] = json!(-5);
    refused(&doc, "/cold_start/results/0/p50_ns");
    let mut doc = valid();
    doc["cold_start"]["results"][0]["mean_ns"] = json!(-1.5);
    refused(&doc, "/cold_start/results/0/mean_ns");
}

#[test]
fn a_distribution_of_no_sample_is_refused() {
    let mut doc = valid();
    doc["cold_start"]["results"][0]["n"] = json!(0);
    refused(&doc, "/cold_start/results/0/n");
}

#[test]
fn a_wrong_version_is_refused_naming_it() {
    let mut doc = valid();
    doc["schema_version"] = json!(99);
    let errors = schema_errors(&doc);
    assert!(
        errors.iter().any(|e| e.contains("/schema_version")),
        "{errors:#?}"
    );
    // The reader says it is a newer file, not a broken one.
    let bytes = serde_json::to_vec(&doc).unwrap();
    let e = RunFile::from_slice(&bytes, "new/run.json").unwrap_err();
    assert!(matches!(e, ResultsError::Version { found: 99, .. }), "{e}");
    assert!(e.to_string().contains("new/run.json"), "{e}");
}

#[test]
fn an_unknown_metric_name_is_refused() {
    let mut doc = valid();
    doc["cold_start"]["results"][0]["metric"] = json!("t_readyy");
    refused(&doc, "/cold_start/results/0/metric");
}

/// Every results file stored in the repository — CI baselines and ground
/// truths, report fixtures, version-1 fixtures (migrated first) — is read
/// and passes the schema: what the checks refuse is never a real run.
#[test]
fn every_stored_run_is_read() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut files = Vec::new();
    let mut dirs = vec![
        root.join("ci"),
        root.join("reports/tests/fixtures"),
        root.join("results/tests/fixtures"),
    ];
    while let Some(d) = dirs.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() && p.file_name().is_some_and(|n| n != "schemas") {
                dirs.push(p);
            } else if p.extension().is_some_and(|x| x == "json") {
                files.push(p);
            }
        }
    }
    assert!(files.len() >= 12, "{files:?}");
    for f in &files {
        if let Err(e) = RunFile::read(f) {
            panic!("{e}");
        }
    }
}
