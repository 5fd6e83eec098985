//! Helpers shared by the end-to-end test binaries: the binary under test,
//! the Docker engine, and what a run left behind (labelled containers,
//! processes carrying a test tag).
#![allow(dead_code)] // each test binary uses its own subset

use std::path::{Path, PathBuf};
use std::process::Command;

pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_coldbench")
}

pub fn docker_up() -> bool {
    let up = Command::new("docker")
        .arg("info")
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    let required = std::env::var_os("CI").is_some()
        || std::env::var("COLDBENCH_REQUIRE_DOCKER").is_ok_and(|v| v == "1");
    if !up && required {
        panic!("Docker engine unreachable but required (CI): run scripts/start-docker.sh");
    }
    if !up {
        eprintln!("skipping container parts: Docker engine unreachable");
    }
    up
}

pub fn labelled_containers() -> Vec<String> {
    let out = Command::new("docker")
        .args(["ps", "-aq", "--filter", "label=io.coldbench"])
        .output()
        .expect("docker ps");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_string)
        .filter(|l| !l.is_empty())
        .collect()
}

pub fn tmpdir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("coldbench-test-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Processes on the host whose environment carries `COLDBENCH_TEST_TAG=<tag>`:
/// everything a tagged harness started (workloads, runners, node) inherits it.
pub fn tagged_processes(tag: &str) -> Vec<String> {
    let needle = format!("COLDBENCH_TEST_TAG={tag}");
    let mut out = Vec::new();
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if !name.bytes().all(|b| b.is_ascii_digit()) {
            continue;
        }
        if let Ok(env) = std::fs::read(e.path().join("environ"))
            && env.split(|b| *b == 0).any(|kv| kv == needle.as_bytes())
        {
            let comm = std::fs::read_to_string(e.path().join("comm")).unwrap_or_default();
            out.push(format!("{name} {}", comm.trim()));
        }
    }
    out
}

/// No process carrying the test's `tag` is left and, when Docker is up, no
/// labelled container — waited for (a killed process is gone once the
/// kernel has torn it down, a removed container once the engine has), for
/// up to 15 s; then asserted.
pub fn assert_nothing_left(tag: &str, docker: bool) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    let left = || {
        let mut l = tagged_processes(tag);
        if docker {
            l.extend(
                labelled_containers()
                    .into_iter()
                    .map(|c| format!("container {c}")),
            );
        }
        l
    };
    while !left().is_empty() && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert!(left().is_empty(), "left: {:?}", left());
}

/// The labelled containers once their number has stopped changing (the
/// same count on 5 reads 50 ms apart; at most 15 s): what a killed harness
/// left, once the engine has finished the calls it had in flight.
pub fn settled_containers() -> Vec<String> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    let mut last = labelled_containers();
    let mut same = 0;
    while same < 5 && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(50));
        let now = labelled_containers();
        same = if now.len() == last.len() { same + 1 } else { 0 };
        last = now;
    }
    last
}

/// `coldbench density` with the given selection, tagged so that its children can be found.
pub fn density_command(workloads: &str, targets: &str, out: &Path, tag: &str) -> Command {
    let mut c = Command::new(bin());
    c.args(["density", "--workloads", workloads, "--targets", targets])
        .arg("--out")
        .arg(out)
        .env("COLDBENCH_TEST_TAG", tag);
    c
}

/// Asserts that the results file at `path` matches `results/schema/run.schema.json`.
pub fn validate_schema(path: &Path) {
    let schema: serde_json::Value =
        serde_json::from_str(coldbench_results::RUN_SCHEMA_JSON).unwrap();
    let doc: serde_json::Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    let validator = jsonschema::validator_for(&schema).expect("schema compiles");
    let errors: Vec<String> = validator
        .iter_errors(&doc)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "run.json does not match its schema: {errors:#?}"
    );
}

/// Runs `cmd`, requires success, validates `out/run.json` against the schema
/// and returns what it printed on stdout and the parsed file.
pub fn run_ok(mut cmd: Command, out: &Path) -> (String, coldbench_results::RunFile) {
    let o = cmd.output().unwrap();
    let stdout = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(
        o.status.success(),
        "coldbench failed ({}):\n{stdout}\n{}",
        o.status,
        String::from_utf8_lossy(&o.stderr)
    );
    let path = out.join("run.json");
    validate_schema(&path);
    (stdout, coldbench_results::RunFile::read(&path).unwrap())
}

/// The lines of the run journal in `out` (`journal.jsonl`) that `keep`
/// keeps, parsed, in order; a torn last line is left out, as the reader does.
pub fn journal_lines(
    out: &Path,
    keep: impl Fn(&serde_json::Value) -> bool,
) -> Vec<serde_json::Value> {
    std::fs::read_to_string(out.join(coldbench_results::journal::JOURNAL_FILE))
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| keep(v))
        .collect()
}
