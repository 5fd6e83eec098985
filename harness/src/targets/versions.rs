//! The embedded runtimes at versions other than the pinned ones, side by
//! side in one run: `wasmtime@50-pooling` beside `wasmtime-pooling` (48),
//! `wasmer@7.5-cranelift` beside `wasmer-cranelift` (7.4). Each version is
//! the same runner source built against that version of the runtime's
//! crates, on demand, by `scripts/build-runtime-version.sh RUNTIME VERSION`
//! into `target/versions/bin/coldbench-runner-RUNTIME@VERSION` — never by
//! `cargo build`, which stays as fast as before. Until built, a version's
//! variants are listed unavailable with that command.
//!
//! The runtime is recorded as `RUNTIME@VERSION` (its exact crate version,
//! from the runner's hello, beside it), so two versions of one runtime never
//! share a line of the host fingerprint.

use super::embedded::{RunnerFamily, RunnerVariant, WASMER, WASMTIME};

/// `base` (a pinned variant) run by the `runtime` runner (`wasmtime@50`) as `id`.
const fn at(base: RunnerVariant, id: &'static str, runtime: &'static str) -> RunnerVariant {
    RunnerVariant {
        id,
        runtime,
        ..base
    }
}

/// Every on-demand version's variants, in table order: wasmtime 50
/// (latest on crates.io, 50.0.1) and 36 (previous LTS, 36.0.20), wasmer
/// 7.5 (7.5.0, wasmer-wasix 0.705.0).
pub static FAMILY: RunnerFamily = RunnerFamily {
    variants: &[
        at(WASMTIME[0], "wasmtime@50-jit", "wasmtime@50"),
        at(WASMTIME[1], "wasmtime@50-aot", "wasmtime@50"),
        at(WASMTIME[2], "wasmtime@50-pooling", "wasmtime@50"),
        at(WASMTIME[0], "wasmtime@36-jit", "wasmtime@36"),
        at(WASMTIME[1], "wasmtime@36-aot", "wasmtime@36"),
        at(WASMTIME[2], "wasmtime@36-pooling", "wasmtime@36"),
        at(WASMER[0], "wasmer@7.5-cranelift", "wasmer@7.5"),
        at(WASMER[1], "wasmer@7.5-singlepass", "wasmer@7.5"),
    ],
};
