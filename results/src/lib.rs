//! The coldbench data contract: what a results file (`run.json`) holds.
//!
//! Everything the reports show is rendered from these types, read back from a
//! results file, never from a live run. Every duration is an integer number of
//! nanoseconds (`*_ns`) on `CLOCK_MONOTONIC`; every size is bytes (`*_bytes`).
//! Raw HDR histograms are kept beside the summaries (V2 + deflate, base64), so
//! that percentiles can be recomputed and histograms merged later.
//!
//! A file holds any mix of experiments, one typed section each
//! ([`RunFile::cold_start`], [`RunFile::density`], [`RunFile::throughput`]);
//! a section that is present says what it measured (its configuration) beside
//! its results, so a reader never guesses a file's kind from which fields are
//! filled. Outcomes (failure kinds, stop reasons, memory sources, target
//! families) are enums ([`outcome`]).
//!
//! The JSON Schema of the file is [`RUN_SCHEMA_JSON`]
//! (`results/schema/run.schema.json`), generated from these types by
//! `schemars` and checked against them by a test. Files of schema version 1
//! (written before the sections existed) are migrated on read
//! ([`RunFile::read`]). See `docs/design.md` §7.

#![deny(missing_docs)]

mod histogram;
pub mod journal;
mod migrate;
pub mod outcome;
pub mod stats;

pub use histogram::{HistogramError, LatencyHistogram, SIGNIFICANT_DIGITS, Summary};
pub use outcome::{
    ArtifactKind, BeforeClock, DensityStop, Experiment, FailureKind, Family, MemoryKind,
    MemorySource, Phase, StartCondition, StartKind, StartPath, ThroughputStop,
};
pub use stats::{MedianInterval, median_interval_ranks};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;

mod coldstart;
mod density;
mod file;
mod run;
mod schema;
mod throughput;

pub use coldstart::*;
pub use density::*;
pub use file::*;
pub use run::*;
pub use schema::*;
pub use throughput::*;

/// Version of the results-file schema written by this crate. Version 1
/// files (no experiment sections) are still read, migrated.
pub const SCHEMA_VERSION: u32 = 2;

/// Errors reading or writing a results file. Each names the file.
#[derive(Debug, thiserror::Error)]
pub enum ResultsError {
    /// The file could not be read or written.
    #[error("cannot access results file {path}: {source}")]
    Io {
        /// File path.
        path: String,
        /// Underlying error.
        source: std::io::Error,
    },
    /// The file is not JSON, is truncated, or does not have a results file's shape.
    #[error(
        "{path} is not a coldbench results file ({source}); give the run.json a coldbench command wrote"
    )]
    Parse {
        /// File path.
        path: String,
        /// Underlying error.
        source: serde_json::Error,
    },
    /// The file does not match the results-file schema ([`RUN_SCHEMA_JSON`]):
    /// a field missing, unknown, of the wrong type or out of range.
    #[error(
        "{path} does not match the coldbench results-file schema: {}{}; give the run.json a coldbench command wrote, unedited",
        problems.join("; "),
        if *more > 0 { format!(" (and {more} more)") } else { String::new() }
    )]
    Schema {
        /// File path.
        path: String,
        /// The first problems, each naming the field by its JSON pointer
        /// (`/cold_start/results/3/p50_ns: -5 is less than the minimum of 0`).
        problems: Vec<String>,
        /// How many more problems there are.
        more: usize,
    },
    /// The file is JSON but carries no `schema_version`.
    #[error(
        "{path} is JSON but not a coldbench results file (no schema_version); give the run.json a coldbench command wrote"
    )]
    NotResults {
        /// File path.
        path: String,
    },
    /// The file was written by a newer schema version than this build reads.
    #[error(
        "{path} has schema_version {found}; this build reads versions 1 to {SCHEMA_VERSION}: update coldbench to read it"
    )]
    Version {
        /// File path.
        path: String,
        /// Version found in the file.
        found: u64,
    },
}

/// One complete results file: one run of one or more experiments on one host.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct RunFile {
    /// [`SCHEMA_VERSION`] of the writer (after migration: the current version).
    #[schemars(range(min = SCHEMA_VERSION, max = SCHEMA_VERSION))]
    pub schema_version: u32,
    /// The schema version the file was written with, when it was migrated on
    /// read (absent in files as written).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub migrated_from: Option<u32>,
    /// Tool that wrote the file.
    pub tool: ToolInfo,
    /// UTC time the run started, RFC 3339.
    pub started_utc: String,
    /// Wall-clock duration of the whole run, ns.
    pub duration_ns: u64,
    /// Free-form label given with `--label` (part of the results directory name).
    pub label: String,
    /// True if the run was interrupted (Ctrl-C): what was measured until then is kept.
    pub interrupted: bool,
    /// True while the run is still going: the file was written after an
    /// experiment ended and holds the experiments finished so far (a run
    /// that died leaves such a file). False once the run finished.
    #[serde(default)]
    pub in_progress: bool,
    /// The machine the run happened on.
    pub host: HostFingerprint,
    /// What every experiment of the run shares: selection, inputs, seed, bounds.
    pub config: RunConfig,
    /// The preset the run followed (`coldbench` with no arguments, `--suite`);
    /// absent for single-experiment commands.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suite: Option<SuiteRecord>,
    /// Every target variant considered, with its knobs, whether it ran, and why not.
    pub targets: Vec<TargetRecord>,
    /// The cases (workload + inputs + parameters) the run used.
    pub cases: Vec<CaseRecord>,
    /// Prepare times (image builds, precompiles), one per workload × target;
    /// shared by every experiment (targets are prepared once per run).
    #[serde(default)]
    pub prepare: Vec<MetricResult>,
    /// The cold-start experiment, when the run measured it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cold_start: Option<ColdStartSection>,
    /// The density experiment, when the run measured it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub density: Option<DensitySection>,
    /// The throughput experiment, when the run measured it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub throughput: Option<ThroughputSection>,
    /// What the run did that no section says, in order (e.g. a wait for a
    /// quiet host between two experiments, with how long it took).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// The harness's own process, read every 10 s of the run and at its end:
    /// flat readings over a long run mean the harness leaks no memory, file
    /// descriptors or threads (the soak test checks it).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub harness: Vec<HarnessSample>,
    /// Per experiment × workload × target: how many responses were checked against native.
    pub verification: Vec<VerificationRecord>,
    /// Everything that went wrong, as data: a failed sample is never a fast sample.
    pub errors: Vec<ErrorRecord>,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The checked-in schema is what the types derive. Regenerate with
    /// `COLDBENCH_BLESS=1 cargo test -p coldbench-results`.
    #[test]
    fn schema_file_is_generated_from_the_types() {
        let generated = generated_schema();
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("schema/run.schema.json");
        if std::env::var("COLDBENCH_BLESS").is_ok_and(|v| v == "1") {
            std::fs::write(&path, &generated).unwrap();
            return;
        }
        assert!(
            RUN_SCHEMA_JSON == generated,
            "results/schema/run.schema.json is stale: run `COLDBENCH_BLESS=1 cargo test -p coldbench-results`"
        );
    }

    #[test]
    fn bad_files_give_errors_naming_them() {
        let e =
            RunFile::from_slice(b"{\"schema_version\": 2, \"tool\": {", "cut.json").unwrap_err();
        assert!(matches!(e, ResultsError::Parse { .. }), "{e}");
        assert!(e.to_string().contains("cut.json"));
        let e = RunFile::from_slice(b"not json at all", "text.json").unwrap_err();
        assert!(matches!(e, ResultsError::Parse { .. }), "{e}");
        let e = RunFile::from_slice(b"{\"name\": \"package\"}", "package.json").unwrap_err();
        assert!(matches!(e, ResultsError::NotResults { .. }), "{e}");
        assert!(e.to_string().contains("package.json"));
        let e = RunFile::from_slice(b"{\"schema_version\": 3}", "future.json").unwrap_err();
        assert!(matches!(e, ResultsError::Version { found: 3, .. }), "{e}");
        assert!(e.to_string().contains("update coldbench"));
    }
}
