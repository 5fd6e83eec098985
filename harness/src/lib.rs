//! coldbench: measures what a workload costs — cold start, throughput and
//! memory per instance (density) — as a Wasm module under a runtime, as a container,
//! and as a native process, on the user's own host. See `DESIGN.md` for the
//! measurement contract.
//!
//! Layout: [`artifacts`] finds the built workloads and runners, [`suite`] turns an
//! inputs directory into request cases, [`targets`] starts instances (native,
//! wasmtime runner, Docker), [`coldstart`] schedules and times starts,
//! [`throughput`] drives closed-loop load, [`density`] fills the host with
//! idle instances and samples memory ([`memory`] reads it), [`host`]
//! fingerprints the machine. Results go through `coldbench-results`; tables come
//! from `coldbench-reports`, which only reads results files.

#![deny(missing_docs)]

pub mod artifacts;
pub mod coldstart;
pub mod density;
pub mod host;
pub mod memory;
pub mod stream;
pub mod suite;
pub mod targets;
pub mod throughput;
