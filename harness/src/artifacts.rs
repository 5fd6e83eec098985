//! Where the build put the workloads and runners (see `harness/build.rs`).

use std::path::PathBuf;

/// The workloads, in the order tables list them.
pub const WORKLOADS: [&str; 4] = ["noop", "thumbnail", "json-validate", "hash"];

/// Directory holding the nested build's output. `COLDBENCH_ARTIFACTS_DIR` in the
/// environment at run time overrides the path baked in at build time.
pub fn artifacts_dir() -> PathBuf {
    std::env::var_os("COLDBENCH_ARTIFACTS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("COLDBENCH_ARTIFACTS_DIR")))
}

/// The repository the harness was built from.
pub fn repo_dir() -> PathBuf {
    PathBuf::from(env!("COLDBENCH_REPO_DIR"))
}

/// The `wasm32-wasip1` module of `workload`.
pub fn wasm_module(workload: &str) -> PathBuf {
    artifacts_dir()
        .join("wasm32-wasip1")
        .join("release")
        .join(format!("{workload}.wasm"))
}

/// The static `x86_64-unknown-linux-musl` binary of `workload`.
pub fn static_binary(workload: &str) -> PathBuf {
    artifacts_dir()
        .join("x86_64-unknown-linux-musl")
        .join("release")
        .join(workload)
}

/// The dynamically linked `x86_64-unknown-linux-gnu` (glibc) binary of
/// `workload`, for images with a distribution root filesystem.
pub fn glibc_binary(workload: &str) -> PathBuf {
    artifacts_dir()
        .join("x86_64-unknown-linux-gnu")
        .join("release")
        .join(workload)
}

/// The runner binary for `runtime` (e.g. `wasmtime`).
pub fn runner_binary(runtime: &str) -> PathBuf {
    artifacts_dir()
        .join("release")
        .join(format!("coldbench-runner-{runtime}"))
}

/// The curated real inputs shipped in the repository (`workloads/inputs`).
pub fn default_inputs_dir() -> PathBuf {
    repo_dir().join("workloads").join("inputs")
}
