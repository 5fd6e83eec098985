//! Helpers shared by the results crate's test binaries.

use coldbench_results::{RUN_SCHEMA_JSON, RunFile};

/// Asserts that `run`, as it would be written now, matches the current
/// JSON Schema (`results/schema/run.schema.json`).
pub fn valid_now(run: &RunFile) {
    let schema: serde_json::Value = serde_json::from_str(RUN_SCHEMA_JSON).unwrap();
    let doc = serde_json::to_value(run).unwrap();
    let v = jsonschema::validator_for(&schema).unwrap();
    let errors: Vec<String> = v.iter_errors(&doc).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "{errors:#?}");
}
