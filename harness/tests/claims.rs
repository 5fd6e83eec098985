//! `coldbench report --claims FILE` with claims the authors never wrote:
//! any metric (a container phase, a runner phase), target ids, prefixes,
//! families and start kinds, on the recorded default run; a claim naming
//! what no run measured is *not measured* with the reason; a malformed file
//! exits 2 naming the claim and the field, and writes nothing.

use std::path::{Path, PathBuf};
use std::process::Command;

fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_coldbench")
}

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../reports/tests/fixtures/default-suite.json")
}

fn tmpdir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("coldbench-claims-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

const OWN: &str = r#"
[[claim]]
id = "runc-start-under-100ms"
quote = "a container is gone in under 1 s"
source = "our platform team"
bound = { at_most = "1 s" }
measure = { kind = "cold_start", metric = "t_teardown", workload = "noop", targets = ["docker-scratch"] }

[[claim]]
id = "pooled-instantiate-under-200us"
quote = "instantiating from a pool takes under 200 µs"
source = "our platform team"
bound = { at_most = "200 µs" }
measure = { kind = "cold_start", metric = "t_runner_instantiate", workload = "noop", targets = ["start:instance_in_warm_process"] }

[[claim]]
id = "wasmer-vs-wasmtime-aot"
quote = "wasmer starts within 5x of wasmtime"
source = "our platform team"
bound = { at_most = "5" }
measure = { kind = "cold_start", metric = "t_ready", workload = "noop", targets = ["wasmer"], baseline = ["wasmtime-aot"] }

[[claim]]
id = "crun-fast"
quote = "crun starts containers in under 50 ms"
source = "our platform team"
bound = { at_most = "50 ms" }
measure = { kind = "cold_start", metric = "t_ready", workload = "noop", targets = ["docker-scratch-crun"] }
"#;

#[test]
fn own_claims_on_any_metric_and_target_pattern() {
    let dir = tmpdir("own");
    let file = dir.join("own.toml");
    std::fs::write(&file, OWN).unwrap();
    let out = dir.join("report");
    let o = Command::new(bin())
        .args(["report", "--format", "markdown", "--claims"])
        .arg(&file)
        .arg("--out")
        .arg(&out)
        .arg(fixture())
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    let row = |id: &str| {
        md.lines()
            .find(|l| l.contains(&format!("*{id}*")))
            .unwrap_or_else(|| panic!("no ledger row for {id}"))
            .to_string()
    };
    // Teardown of the scratch Docker target ("docker-scratch" is a prefix;
    // this run predates the container phases), judged from its interval.
    let r = row("runc-start-under-100ms");
    assert!(r.contains("docker-scratch-runc-bridge"), "{r}");
    assert!(!r.contains("not measured"), "{r}");
    // A runner phase, by start kind.
    let r = row("pooled-instantiate-under-200us");
    assert!(r.contains("wasmtime-pooling") && !r.contains("node"), "{r}");
    // A ratio of two embedded runtimes: like for like.
    let r = row("wasmer-vs-wasmtime-aot");
    assert!(
        r.contains("like for like: both instance in a warm process"),
        "{r}"
    );
    // crun did not run here: not measured, with the command that measures it.
    let r = row("crun-fast");
    assert!(
        r.contains("not measured") && r.contains("coldbench run"),
        "{r}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_malformed_claims_file_exits_2_naming_the_claim_and_field() {
    let dir = tmpdir("bad");
    for (name, text, says) in [
        (
            "unit.toml",
            OWN.replace("\"1 s\"", "\"1 parsec\""),
            vec!["runc-start-under-100ms", "bound.at_most"],
        ),
        (
            "field.toml",
            OWN.replace(
                "source = \"our platform team\"\nbound = { at_most = \"200 µs\" }",
                "source = \"our platform team\"\nbund = { at_most = \"200 µs\" }",
            ),
            vec!["pooled-instantiate-under-200us", "bund"],
        ),
        (
            "kind.toml",
            OWN.replace("start:instance_in_warm_process", "start:warm"),
            vec![
                "pooled-instantiate-under-200us",
                "measure.targets",
                "start:warm",
            ],
        ),
        (
            "metric.toml",
            OWN.replace("t_teardown", "t_container_sprint"),
            vec!["runc-start-under-100ms", "t_container_sprint"],
        ),
    ] {
        let file = dir.join(name);
        std::fs::write(&file, text).unwrap();
        let out = dir.join(format!("out-{name}"));
        let o = Command::new(bin())
            .args(["report", "--format", "markdown", "--claims"])
            .arg(&file)
            .arg("--out")
            .arg(&out)
            .arg(fixture())
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{name}: {err}");
        for s in says {
            assert!(err.contains(s), "{name}: `{s}` not in: {err}");
        }
        assert!(!out.exists(), "{name}: a report was written");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
