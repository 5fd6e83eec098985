//! The JSON Schema of `run.json`: generated from the types (schemars), closed
//! (no unknown field), and the validator every read goes through.

use super::*;

/// The JSON Schema (draft 2020-12) of `run.json`, generated from [`RunFile`].
pub const RUN_SCHEMA_JSON: &str = include_str!("../schema/run.schema.json");

/// The JSON Schema of [`RunFile`] as `schemars` derives it from the types
/// (what `results/schema/run.schema.json` must hold), pretty-printed. Every
/// object the types define is closed (`additionalProperties: false`): a
/// field no type declares — a typo, a field of another tool — is an error
/// naming it, not silently ignored.
pub fn generated_schema() -> String {
    let mut schema = schemars::schema_for!(RunFile).to_value();
    close_objects(&mut schema);
    drop_null_alternatives(&mut schema);
    let mut s = serde_json::to_string_pretty(&schema).expect("a schema serializes");
    s.push('\n');
    s
}

/// The compiled [`RUN_SCHEMA_JSON`], once per process.
pub(super) fn schema_validator() -> &'static jsonschema::Validator {
    static V: std::sync::OnceLock<jsonschema::Validator> = std::sync::OnceLock::new();
    V.get_or_init(|| {
        let schema: serde_json::Value =
            serde_json::from_str(RUN_SCHEMA_JSON).expect("the shipped schema is JSON");
        jsonschema::validator_for(&schema).expect("the shipped schema compiles")
    })
}

/// Sets `additionalProperties: false` on every object schema with declared
/// `properties` that does not say otherwise (a map, whose keys are data, has
/// no `properties`; a flattened type's properties are merged into its
/// parent's by `schemars`, so the parent lists them all).
pub(super) fn close_objects(v: &mut serde_json::Value) {
    match v {
        serde_json::Value::Object(map) => {
            if map.contains_key("properties") && !map.contains_key("additionalProperties") {
                map.insert(
                    "additionalProperties".into(),
                    serde_json::Value::Bool(false),
                );
            }
            for child in map.values_mut() {
                close_objects(child);
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(close_objects),
        _ => {}
    }
}

/// Replaces `anyOf: [{"$ref": X}, {"type": "null"}]` (what `schemars`
/// derives for an optional section or record) by the same constraint as
/// `if: {"type": "null"}, else: {"$ref": X}`: a validator then reports a
/// problem inside the section at its own field, not as "not valid under any
/// of the schemas listed in anyOf" at the section.
pub(super) fn drop_null_alternatives(v: &mut serde_json::Value) {
    match v {
        serde_json::Value::Object(map) => {
            let replacement = match map.get("anyOf").and_then(|a| a.as_array()) {
                Some(alts)
                    if alts.len() == 2
                        && alts[1] == serde_json::json!({"type": "null"})
                        && alts[0].get("$ref").is_some() =>
                {
                    Some(alts[0]["$ref"].clone())
                }
                _ => None,
            };
            if let Some(r) = replacement {
                map.remove("anyOf");
                map.insert("if".into(), serde_json::json!({"type": "null"}));
                map.insert("else".into(), serde_json::json!({ "$ref": r }));
            }
            for child in map.values_mut() {
                drop_null_alternatives(child);
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(drop_null_alternatives),
        _ => {}
    }
}
