//! Reading files of older schema versions: each is rewritten, as JSON, into
//! the current shape before it is deserialized, so every reader sees one
//! shape.

use serde_json::{Map, Value, json};

/// Schema version 1 → 2. Version 1 had no experiment sections: one command
/// wrote one experiment, and a reader told which by the filled fields —
/// `config.throughput` (throughput run: cells in `throughput`),
/// `config.density` (density run: series in `density`), otherwise a
/// cold-start run (`config.runs`, `config.warmup`, distributions in
/// `results`). `results` also held the prepare times. Version 2 moves each
/// into its typed section, prepare times into `prepare`, tags errors and
/// verification counts with the file's one experiment, and records
/// `migrated_from: 1`.
pub(crate) fn v1_to_v2(v: &mut Value) {
    let Some(root) = v.as_object_mut() else {
        return;
    };
    let mut config = match root.remove("config") {
        Some(Value::Object(c)) => c,
        _ => Map::new(),
    };
    let runs = config.remove("runs").unwrap_or(json!(0));
    let warmup = config.remove("warmup").unwrap_or(json!(0));
    let throughput_cfg = config.remove("throughput");
    let density_cfg = config.remove("density");
    let results = match root.remove("results") {
        Some(Value::Array(a)) => a,
        _ => Vec::new(),
    };
    let (prepare, cold): (Vec<Value>, Vec<Value>) = results
        .into_iter()
        .partition(|r| r.get("metric").and_then(Value::as_str) == Some("prepare"));
    let cells = root.remove("throughput").unwrap_or(json!([]));
    let series = root.remove("density").unwrap_or(json!([]));

    let mut experiment = None;
    if let Some(cfg) = throughput_cfg.filter(|c| !c.is_null()) {
        root.insert(
            "throughput".into(),
            json!({ "config": cfg, "cells": cells }),
        );
        experiment = Some("throughput");
    }
    if let Some(cfg) = density_cfg.filter(|c| !c.is_null()) {
        root.insert("density".into(), json!({ "config": cfg, "series": series }));
        experiment = Some(if experiment.is_some() {
            "mixed"
        } else {
            "density"
        });
    }
    if experiment.is_none() || !cold.is_empty() {
        root.insert(
            "cold_start".into(),
            json!({ "runs": runs, "warmup": warmup, "results": cold }),
        );
        experiment = Some(if experiment.is_some() {
            "mixed"
        } else {
            "cold_start"
        });
    }
    root.insert("config".into(), Value::Object(config));
    root.insert("prepare".into(), Value::Array(prepare));
    // A version-1 file held one experiment: its errors (after prepare) and
    // verification counts are that experiment's.
    if let Some(e) = experiment.filter(|e| *e != "mixed") {
        if let Some(Value::Array(errors)) = root.get_mut("errors") {
            for err in errors.iter_mut().filter_map(Value::as_object_mut) {
                let before = matches!(
                    err.get("phase").and_then(Value::as_str),
                    Some("prepare" | "input")
                );
                if !before {
                    err.insert("experiment".into(), json!(e));
                }
            }
        }
        if let Some(Value::Array(ver)) = root.get_mut("verification") {
            for r in ver.iter_mut().filter_map(Value::as_object_mut) {
                r.insert("experiment".into(), json!(e));
            }
        }
    }
    root.insert("schema_version".into(), json!(crate::SCHEMA_VERSION));
    root.insert("migrated_from".into(), json!(1));
}
