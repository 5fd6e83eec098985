//! Builds what the harness runs, so that `cargo run` / `cargo test` need no manual step:
//!
//! 1. the workloads (`workloads/`), for `wasm32-wasip1`, as static
//!    `x86_64-unknown-linux-musl` binaries and as glibc
//!    `x86_64-unknown-linux-gnu` binaries (for the Debian image), in one cargo
//!    invocation;
//! 2. the runtime runners (`harness/runners/*`), for the host.
//!
//! Both are built in release mode into `COLDBENCH_NESTED_TARGET_DIR`
//! (`target/nested`, set in `.cargo/config.toml`), whatever profile the outer
//! build uses: the heavy runtime crates are compiled exactly once, with one
//! feature set. The resulting directory is exported to the harness as
//! `COLDBENCH_ARTIFACTS_DIR`.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The runner workspaces under `harness/runners/`. `wamr` builds WAMR's C
/// sources with cmake and binds them with bindgen: it needs `cmake` and
/// libclang, and SIMDe's headers (Debian `cmake`, `libclang-dev`,
/// `libsimde-dev`; `scripts/setup.sh` installs them).
const RUNNERS: &[&str] = &["wasmtime", "wasmer", "wasmi", "wamr"];

fn cargo_build(manifest: &Path, target_dir: &Path, targets: &[&str], envs: &[(&str, PathBuf)]) {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.arg("build")
        .arg("--release")
        .arg("--locked")
        .arg("--manifest-path")
        .arg(manifest)
        .arg("--target-dir")
        .arg(target_dir);
    for t in targets {
        cmd.arg("--target").arg(t);
    }
    // `COLDBENCH_NESTED_TIMINGS=1`: each nested build writes cargo's
    // `--timings` report (`<nested dir>/cargo-timings/`), for the breakdown of
    // a clean build (the outer build's own `--timings` shows the nested ones
    // only as the harness build script's run).
    if std::env::var_os("COLDBENCH_NESTED_TIMINGS").is_some() {
        cmd.arg("--timings");
    }
    // The outer build's settings must not leak into the nested one.
    for var in [
        "CARGO_ENCODED_RUSTFLAGS",
        "RUSTFLAGS",
        "CARGO_BUILD_TARGET",
        "CARGO_TARGET_DIR",
        "CARGO_PRIMARY_PACKAGE",
        "CARGO_MANIFEST_DIR",
        "CARGO_PKG_NAME",
        "RUSTC_WRAPPER",
        "RUSTC_WORKSPACE_WRAPPER",
        "PROFILE",
        "OPT_LEVEL",
        "DEBUG",
        "TARGET",
        "HOST",
        "OUT_DIR",
        "NUM_JOBS",
    ] {
        cmd.env_remove(var);
    }
    for (k, _) in std::env::vars() {
        if k.starts_with("CARGO_FEATURE_") || k.starts_with("CARGO_CFG_") {
            cmd.env_remove(k);
        }
    }
    for (k, v) in envs {
        cmd.env(k, v);
    }
    let status = cmd
        .status()
        .unwrap_or_else(|e| panic!("cannot run cargo for {}: {e}", manifest.display()));
    if !status.success() {
        panic!(
            "building {} failed (targets {targets:?}). If a target is missing, run \
             `rustup toolchain install` in the repository (it reads rust-toolchain.toml) \
             or `scripts/setup.sh` (which also installs cmake and libclang for the WAMR runner).",
            manifest.display()
        );
    }
}

fn main() {
    let manifest_dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets it"));
    let repo = manifest_dir
        .parent()
        .expect("harness/ is inside the repository")
        .to_path_buf();
    let target_dir = std::env::var("COLDBENCH_NESTED_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| repo.join("target").join("nested"));

    println!("cargo:rerun-if-env-changed=COLDBENCH_NESTED_TARGET_DIR");
    println!("cargo:rerun-if-env-changed=COLDBENCH_NESTED_TIMINGS");
    // A directory watch covers every file under it; a nested build with nothing
    // to do is a no-op, so also watching the shipped inputs costs nothing.
    let workloads = repo.join("workloads");
    println!("cargo:rerun-if-changed={}", workloads.display());
    cargo_build(
        &workloads.join("Cargo.toml"),
        &target_dir,
        &[
            "wasm32-wasip1",
            "x86_64-unknown-linux-musl",
            "x86_64-unknown-linux-gnu",
        ],
        &[],
    );
    for runner in RUNNERS {
        let dir = manifest_dir.join("runners").join(runner);
        println!("cargo:rerun-if-changed={}", dir.display());
        // WAMR's SIMD support fetches SIMDe from GitHub at configure time;
        // a toolchain file points that fetch at Debian's headers instead.
        let envs = match *runner {
            "wamr" => vec![("CMAKE_TOOLCHAIN_FILE", dir.join("simde-local.cmake"))],
            _ => Vec::new(),
        };
        cargo_build(&dir.join("Cargo.toml"), &target_dir, &[], &envs);
    }
    println!(
        "cargo:rustc-env=COLDBENCH_ARTIFACTS_DIR={}",
        target_dir.display()
    );
    println!("cargo:rustc-env=COLDBENCH_REPO_DIR={}", repo.display());
    // Dependency versions recorded in run.json, from the lock file rather
    // than a literal that a `cargo update` would leave stale.
    let lock = repo.join("Cargo.lock");
    println!("cargo:rerun-if-changed={}", lock.display());
    println!(
        "cargo:rustc-env=COLDBENCH_BOLLARD_VERSION={}",
        locked_version(&lock, "bollard")
    );
}

/// The version of `package` in the lock file `lock`.
///
/// Panics (failing the build with the reason) when the file cannot be read
/// or does not name the package.
fn locked_version(lock: &std::path::Path, package: &str) -> String {
    let text = std::fs::read_to_string(lock)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", lock.display()));
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        if line.trim() == format!("name = \"{package}\"")
            && let Some(v) = lines
                .next()
                .and_then(|l| l.trim().strip_prefix("version = \""))
                .and_then(|v| v.strip_suffix('"'))
        {
            return v.to_string();
        }
    }
    panic!("{} names no package {package}", lock.display())
}
