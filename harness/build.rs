//! Builds what the harness runs, so that `cargo run` / `cargo test` need no manual step:
//!
//! 1. the workloads (`workloads/`), for `wasm32-wasip1`, as static
//!    `x86_64-unknown-linux-musl` binaries and as glibc
//!    `x86_64-unknown-linux-gnu` binaries (for the Debian image), in one cargo
//!    invocation;
//! 2. the runtime runners (`harness/runners/*`), for the host;
//! 3. coldbench's containerd Wasm shim (`harness/shims/wamr`: runwasi with
//!    WAMR inside), which the `containerd-wasm-wamr` target names to
//!    containerd by its path. It needs Debian's protobuf-compiler,
//!    libseccomp-dev, libdbus-1-dev and pkg-config (`scripts/setup.sh`); a
//!    failed shim build fails the harness build only under CI (`CI` set) —
//!    elsewhere cargo prints a warning naming its log, and `coldbench
//!    targets` reports that one target unavailable with the reason.
//!
//! All are built in release mode under `COLDBENCH_NESTED_TARGET_DIR`
//! (`target/nested`, set in `.cargo/config.toml`), whatever profile the outer
//! build uses: the heavy runtime crates are compiled exactly once, with one
//! feature set. The resulting directory is exported to the harness as
//! `COLDBENCH_ARTIFACTS_DIR`.
//!
//! The six nested builds run at the same time, each in its own target
//! directory (the workloads in `target/nested`, each runner in
//! `target/nested/runner-<name>`, the shim in `target/nested/shim-wamr`:
//! cargo locks a target directory for the whole of a build, so builds
//! sharing one would wait for each other), taking their jobs from the outer
//! build's jobserver. One after another they already kept 2 CPUs ~95 % busy
//! (2026-12-08, docs/runs/2026-12-08-epyc-2vcpu/first-answer.md); at once,
//! the shim's build overlaps the others instead of preceding them in the
//! set-up.
//! `COLDBENCH_NESTED_JOBS=N` runs at most N of them at once (1: one after
//! another). Each build's output is kept in `target/nested/logs/<name>.log`
//! and its wall time in `target/nested/logs/build-times.tsv`.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Instant;

/// One nested cargo build: what it builds and where.
struct Nested {
    /// Its name in logs and errors: `workloads`, the runner's name or
    /// `shim-wamr`. The WAMR runner builds WAMR's C sources with cmake and
    /// binds them with bindgen: it needs `cmake`, libclang and SIMDe's
    /// headers (Debian `cmake`, `libclang-dev`, `libsimde-dev`;
    /// `scripts/setup.sh` installs them).
    name: String,
    manifest: PathBuf,
    /// Its own `--target-dir`.
    target_dir: PathBuf,
    /// `--target` triples (none: the host).
    targets: Vec<&'static str>,
    envs: Vec<(&'static str, PathBuf)>,
    /// Whether its failure fails the outer build (else: a cargo warning).
    required: bool,
}

impl Nested {
    /// Starts the build, its stdout and stderr written to `log`.
    fn spawn(&self, log: &Path) -> Child {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let mut cmd = Command::new(cargo);
        cmd.arg("build")
            .arg("--release")
            .arg("--locked")
            .arg("--manifest-path")
            .arg(&self.manifest)
            .arg("--target-dir")
            .arg(&self.target_dir);
        for t in &self.targets {
            cmd.arg("--target").arg(t);
        }
        // `COLDBENCH_NESTED_TIMINGS=1`: each nested build writes cargo's
        // `--timings` report (`<its target dir>/cargo-timings/`), for the
        // breakdown of a clean build (the outer build's own `--timings` shows
        // the nested ones only as the harness build script's run).
        if std::env::var_os("COLDBENCH_NESTED_TIMINGS").is_some() {
            cmd.arg("--timings");
        }
        // The outer build's settings must not leak into the nested one. Its
        // jobserver (CARGO_MAKEFLAGS) is kept: the nested builds take their
        // jobs from the same pool.
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
        for (k, v) in &self.envs {
            cmd.env(k, v);
        }
        let out = File::create(log)
            .unwrap_or_else(|e| panic!("cannot create the build log {}: {e}", log.display()));
        let err = out
            .try_clone()
            .unwrap_or_else(|e| panic!("cannot share the build log {}: {e}", log.display()));
        cmd.stdin(Stdio::null())
            .stdout(Stdio::from(out))
            .stderr(Stdio::from(err));
        cmd.spawn()
            .unwrap_or_else(|e| panic!("cannot run cargo for {}: {e}", self.manifest.display()))
    }
}

/// Runs `builds`, at most `jobs` at once, in order; records each one's wall
/// time in `logs/build-times.tsv`. Panics (failing the outer build) naming
/// every required build that failed, its log and the log's last lines; a
/// build not required that fails is named in a cargo warning.
fn run_all(builds: &[Nested], logs: &Path, jobs: usize) {
    let log_of = |b: &Nested| logs.join(format!("{}.log", b.name));
    let mut pending = builds.iter();
    let mut running: Vec<(&Nested, Child, Instant)> = Vec::new();
    let mut times = Vec::new();
    let mut failed = Vec::new();
    loop {
        while running.len() < jobs.max(1) {
            let Some(b) = pending.next() else { break };
            running.push((b, b.spawn(&log_of(b)), Instant::now()));
        }
        if running.is_empty() {
            break;
        }
        // Poll rather than wait on one: whichever ends first frees its slot.
        let mut i = 0;
        while i < running.len() {
            let status = running[i]
                .1
                .try_wait()
                .unwrap_or_else(|e| panic!("cannot wait for the {} build: {e}", running[i].0.name));
            match status {
                Some(status) => {
                    let (b, _, t0) = running.swap_remove(i);
                    times.push(format!("{}\t{:.1}\n", b.name, t0.elapsed().as_secs_f64()));
                    match (status.success(), b.required) {
                        (true, _) => {}
                        (false, true) => failed.push(b),
                        (false, false) => println!(
                            "cargo:warning=building {} failed ({status}); its log is {}",
                            b.name,
                            log_of(b).display()
                        ),
                    }
                }
                None => i += 1,
            }
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    let _ = std::fs::write(logs.join("build-times.tsv"), times.concat());
    if failed.is_empty() {
        return;
    }
    let mut msg = String::new();
    for b in failed {
        let log = log_of(b);
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        let tail = lines[lines.len().saturating_sub(40)..].join("\n");
        msg.push_str(&format!(
            "building {} ({}, targets {:?}) failed; its log is {}, ending:\n{tail}\n\n",
            b.name,
            b.manifest.display(),
            b.targets,
            log.display()
        ));
    }
    panic!(
        "{msg}If a target is missing, run `rustup toolchain install` in the repository (it \
         reads rust-toolchain.toml) or `scripts/setup.sh` (which also installs cmake and \
         libclang for the WAMR runner)."
    );
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
    println!("cargo:rerun-if-env-changed=COLDBENCH_NESTED_JOBS");
    // A directory watch covers every file under it; a nested build with nothing
    // to do is a no-op, so also watching the shipped inputs costs nothing.
    let workloads = repo.join("workloads");
    println!("cargo:rerun-if-changed={}", workloads.display());
    // WAMR's SIMD support fetches SIMDe from GitHub at configure time; a
    // toolchain file points that fetch at Debian's headers instead (the WAMR
    // runner and the shim, which embeds WAMR).
    let simde = manifest_dir.join("runners/wamr/simde-local.cmake");
    let runner = |name: &str| {
        let dir = manifest_dir.join("runners").join(name);
        println!("cargo:rerun-if-changed={}", dir.display());
        Nested {
            name: name.to_string(),
            manifest: dir.join("Cargo.toml"),
            target_dir: target_dir.join(format!("runner-{name}")),
            targets: Vec::new(),
            envs: match name {
                "wamr" => vec![("CMAKE_TOOLCHAIN_FILE", simde.clone())],
                _ => Vec::new(),
            },
            required: true,
        }
    };
    let shim = manifest_dir.join("shims").join("wamr");
    println!("cargo:rerun-if-changed={}", shim.display());
    // Longest first (the order they start in when fewer than all run at once).
    let builds = [
        runner("wasmer"),
        runner("wasmtime"),
        Nested {
            name: "workloads".into(),
            manifest: workloads.join("Cargo.toml"),
            target_dir: target_dir.clone(),
            targets: vec![
                "wasm32-wasip1",
                "x86_64-unknown-linux-musl",
                "x86_64-unknown-linux-gnu",
            ],
            envs: Vec::new(),
            required: true,
        },
        runner("wasmi"),
        runner("wamr"),
        Nested {
            name: "shim-wamr".into(),
            manifest: shim.join("Cargo.toml"),
            target_dir: target_dir.join("shim-wamr"),
            targets: Vec::new(),
            envs: vec![("CMAKE_TOOLCHAIN_FILE", simde.clone())],
            required: std::env::var_os("CI").is_some(),
        },
    ];
    let logs = target_dir.join("logs");
    std::fs::create_dir_all(&logs)
        .unwrap_or_else(|e| panic!("cannot create {}: {e}", logs.display()));
    let jobs = std::env::var("COLDBENCH_NESTED_JOBS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(builds.len());
    run_all(&builds, &logs, jobs);
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
