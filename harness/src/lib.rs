//! coldbench: measures what a workload costs — cold start, throughput and
//! memory per instance (density) — as a Wasm module under a runtime, as a
//! container, and as a native process, on the user's own host. The
//! measurement contract is `docs/design.md`.
//!
//! Layout (one responsibility per module, dependencies flowing down):
//! - [`suite`]: presets of a whole run (`default`, `ci`, `full`): which
//!   experiments, targets, cases and budgets; [`plan`] runs one;
//! - [`session`]: one run — inputs read, host probed, targets prepared once
//!   and shared by every experiment, reference checksums, one `run.json`;
//! - [`experiment`]: [`experiment::coldstart`], [`experiment::density`],
//!   [`experiment::throughput`] and the instance [`steps`] they share;
//! - [`targets`]: what starts instances (native, embedded runtimes' runners,
//!   node, Docker), behind the [`targets::Target`] trait;
//! - [`cases`]: an inputs directory → request cases;
//! - [`collector`]: what a run measured, until it is written;
//! - [`failure`]: why a step failed, as enums;
//! - [`progress`]: the progress bar and plain progress lines (stderr);
//! - [`memory`]: memory readings (host, PSS/USS, cgroups); [`host`]: the
//!   fingerprint; [`artifacts`]: where the build put workloads and runners;
//!   [`stream`]: line reading with a deadline.
//!
//! Results go through `coldbench-results`; tables come from
//! `coldbench-reports`, which only reads results files.

#![deny(missing_docs)]

pub mod artifacts;
pub mod cases;
pub mod collector;
pub mod experiment;
pub mod failure;
pub mod floor;
pub mod host;
pub mod memory;
pub mod plan;
pub mod progress;
pub mod reap;
pub mod session;
pub mod steps;
pub mod stream;
pub mod suite;
pub mod targets;
