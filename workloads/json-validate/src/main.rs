//! `json-validate`: parse a JSON document and validate it against a JSON Schema
//! (drafts 7 and 2020-12 among others, detected from `$schema`).
//!
//! Request: part `document`, part `schema`, and any number of further parts,
//! each a sibling schema file that the main schema `$ref`s. Siblings are
//! registered under their own `$id` (or, without one, under their part name
//! resolved against the main schema's `$id`), so every `$ref` is resolved
//! locally: the validator is built offline and never touches the network.
//!
//! Result bytes: `valid` or `invalid:<error count>:<first error's instance path>`.
//! A document or schema that is not JSON is rejected with kind `parse`; a schema
//! that cannot be compiled (bad keyword, unresolvable `$ref`) with kind `schema`.

use coldbench_protocol::Request;
use coldbench_protocol::workload::{Output, Rejection, serve};
use jsonschema::{Registry, Resource};
use serde_json::Value;

fn parse(name: &str, bytes: &[u8]) -> Result<Value, Rejection> {
    serde_json::from_slice(bytes)
        .map_err(|e| Rejection::new("parse", format!("part `{name}` is not valid JSON: {e}")))
}

fn base_of(id: &str) -> &str {
    match id.rfind('/') {
        Some(i) => &id[..=i],
        None => "",
    }
}

fn handle(req: &Request) -> Result<Output, Rejection> {
    let doc_bytes = req
        .part("document")
        .ok_or_else(|| Rejection::new("params", "json-validate needs a part named `document`"))?;
    let schema_bytes = req
        .part("schema")
        .ok_or_else(|| Rejection::new("params", "json-validate needs a part named `schema`"))?;
    let schema = parse("schema", schema_bytes)?;
    let main_id = schema
        .get("$id")
        .or_else(|| schema.get("id"))
        .and_then(Value::as_str)
        .unwrap_or("urn:coldbench:schema")
        .to_string();
    let mut siblings = Vec::new();
    for p in req
        .parts
        .iter()
        .filter(|p| p.name != "document" && p.name != "schema")
    {
        let v = parse(&p.name, &p.bytes)?;
        let uri = match v.get("$id").and_then(Value::as_str) {
            Some(id) => id.trim_end_matches('#').to_string(),
            None => format!("{}{}", base_of(&main_id), p.name),
        };
        let resource = Resource::from_contents(v);
        siblings.push((uri, resource));
    }
    let registry = Registry::new()
        .extend(siblings)
        .and_then(|b| b.prepare())
        .map_err(|e| {
            Rejection::new(
                "schema",
                format!("sibling schemas cannot be registered: {e}"),
            )
        })?;
    let validator = jsonschema::options()
        .with_registry(&registry)
        .build(&schema)
        .map_err(|e| Rejection::new("schema", format!("schema cannot be compiled: {e}")))?;
    let document = parse("document", doc_bytes)?;
    let mut errors = validator.iter_errors(&document);
    let verdict = match errors.next() {
        None => "valid".to_string(),
        Some(first) => {
            let path = first.instance_path().to_string();
            let count = 1 + errors.count();
            format!("invalid:{count}:{path}")
        }
    };
    let valid = verdict == "valid";
    Ok(Output {
        bytes: verdict.into_bytes(),
        fields: vec![
            ("valid".into(), valid.to_string()),
            ("document_bytes".into(), doc_bytes.len().to_string()),
            ("siblings".into(), (req.parts.len() - 2).to_string()),
        ],
    })
}

fn main() {
    std::process::exit(serve("json-validate", handle));
}
