//! Bring-your-own workload, end to end: a WASI command not written in this
//! repository (jaq, the jq clone from crates.io, built for `wasm32-wasip1`
//! and as a static musl binary by `scripts/build-byo-example.sh`) measured
//! with `--workload` on every target family — cold start, density and
//! throughput — with its stdout's checksum checked against the same program
//! run by hand; and the bad inputs a user can give, each refused by name.

mod common;

use coldbench_results::{Metric, RunFile, ThroughputMode};
use common::*;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;

/// Tests here start containers and count leftovers: one at a time.
static LOCK: Mutex<()> = Mutex::new(());

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// The example's two builds, built on first need: the test command builds
/// what only the tests use (issue 40), so `scripts/setup.sh` and the main
/// job never wait for it. `scripts/build-byo-example.sh` (jaq from
/// crates.io, about a minute on 2 cores; its progress on stderr) runs once
/// per test binary. `None` (a skip) when the build fails outside CI; under
/// CI (`CI` set) a failed build fails the test.
fn example() -> Option<(PathBuf, PathBuf)> {
    static BUILT: std::sync::OnceLock<Result<(), String>> = std::sync::OnceLock::new();
    let dir = repo().join("target").join("byo");
    let (wasm, native) = (dir.join("jaq.wasm"), dir.join("jaq"));
    let built = BUILT.get_or_init(|| {
        if wasm.is_file() && native.is_file() {
            return Ok(());
        }
        eprintln!("building the bring-your-own example (scripts/build-byo-example.sh)");
        let status = Command::new(repo().join("scripts/build-byo-example.sh"))
            .stdin(Stdio::null())
            .status()
            .map_err(|e| format!("cannot run scripts/build-byo-example.sh: {e}"))?;
        if !status.success() {
            return Err(format!("scripts/build-byo-example.sh failed ({status})"));
        }
        if !(wasm.is_file() && native.is_file()) {
            return Err(format!(
                "scripts/build-byo-example.sh left no {} / {}",
                wasm.display(),
                native.display()
            ));
        }
        Ok(())
    });
    match built {
        Ok(()) => Some((wasm, native)),
        Err(e) if std::env::var_os("CI").is_some() => {
            panic!("the bring-your-own example is required under CI: {e}")
        }
        Err(e) => {
            eprintln!("skipping: {e}");
            None
        }
    }
}

/// The input: a real package.json shipped with the repository (1.5 KB).
fn input() -> PathBuf {
    repo().join("workloads/inputs/json/package-schemastore/document.json")
}

/// The filter the example runs: compact output of every key and the type
/// of its value (touches the whole document, prints a few lines).
const FILTER: &str = "to_entries | map({key, t: (.value | type)}) | .[]";

/// `coldbench <args>` on the example with `filter`, results into `out`,
/// its children tagged `tag`.
fn jaq_command(
    args: &[&str],
    (wasm, native): (&Path, Option<&Path>),
    filter: &str,
    out: &Path,
    tag: &str,
) -> Command {
    let mut cmd = Command::new(bin());
    cmd.args(args)
        .arg("--out")
        .arg(out)
        .env("COLDBENCH_TEST_TAG", tag);
    byo_args(&mut cmd, wasm, native, filter);
    cmd
}

fn byo_args(cmd: &mut Command, wasm: &Path, native: Option<&Path>, filter: &str) {
    let spec = match native {
        Some(n) => format!("jaq={}:{}", wasm.display(), n.display()),
        None => format!("jaq={}", wasm.display()),
    };
    // -M: wasmer's WASI reports stdout as a character device (a terminal)
    // whatever is behind it, and jaq colours what it prints to a terminal:
    // without -M, wasmer's answer differs — caught as a mismatch.
    cmd.arg("--workload")
        .arg(spec)
        .args(["--workload-arg", "jaq=-c", "--workload-arg", "jaq=-M"])
        .arg("--workload-arg")
        .arg(format!("jaq={filter}"))
        .arg("--workload-input")
        .arg(format!("jaq={}", input().display()));
}

/// The same program run by hand: the CRC-32 of its stdout on the input.
fn by_hand(native: &Path) -> u32 {
    let o = Command::new(native)
        .args(["-c", "-M", FILTER])
        .stdin(std::fs::File::open(input()).unwrap())
        .stderr(Stdio::inherit())
        .output()
        .unwrap();
    assert!(o.status.success());
    assert!(o.stdout.len() > 50, "the filter prints something");
    coldbench_protocol::checksum(&o.stdout)
}

#[test]
fn a_crates_io_command_is_measured_on_every_family_with_identical_checksums() {
    let Some((wasm, native)) = example() else {
        return;
    };
    let _g = LOCK.lock().unwrap_or_else(|p| p.into_inner());
    let docker = docker_up();
    let tag = format!("byo-{}", std::process::id());
    let mut families = vec![
        "native",
        "wasmtime-jit",
        "wasmtime-aot",
        "wasmtime-pooling",
        "wasmer-cranelift",
        "wasmer-singlepass",
        "wasmi",
        "node",
    ];
    if docker {
        families.extend(["docker-scratch-runc-none", "docker-debian-runc-bridge"]);
        // jaq reads its stdin to the end before it answers: under the Wasm
        // shim that needs the guest to see end of file (coldbench's shim
        // gives it a read-only stdin; runwasi's own never let it).
        let ci = std::env::var_os("CI").is_some();
        for id in ["containerd-runc", "containerd-wasm-wamr"] {
            if ci || listed_available(id) {
                families.push(id);
            }
        }
    }
    let targets = families.join(",");
    let want = by_hand(&native);

    // Cold start: every family, three measured starts.
    let out = tmpdir("byo-run");
    let cmd = jaq_command(
        &["run", "--targets", &targets, "--runs", "3", "--warmup", "1"],
        (&wasm, Some(&native)),
        FILTER,
        &out,
        &tag,
    );
    let (stdout, run) = run_ok(cmd, &out);
    assert!(run.errors.is_empty(), "errors: {:#?}", run.errors);
    let case = run.cases.iter().find(|c| c.workload == "jaq").unwrap();
    assert_eq!(
        case.expected_crc32.as_deref(),
        Some(format!("{want:08x}").as_str()),
        "the reference is the program's own output"
    );
    assert_eq!(case.params.get("mode").map(String::as_str), Some("command"));
    for t in &families {
        let r = run
            .result("jaq", t, Metric::TFirstResponse)
            .unwrap_or_else(|| panic!("no t_first_response for jaq on {t}"));
        assert_eq!(r.summary.n, 3, "{t}");
        // A command has no ready line: no t_ready is made up for it.
        assert!(run.result("jaq", t, Metric::TReady).is_none(), "{t}");
        assert!(run.result("jaq", t, Metric::TTeardown).is_some(), "{t}");
        let v = run
            .verification
            .iter()
            .find(|v| v.workload == "jaq" && v.target == *t)
            .unwrap();
        assert_eq!((v.verified, v.mismatched), (4, 0), "{t}");
        assert!(stdout.contains(t), "table lacks {t}");
    }
    assert!(
        stdout.contains("jaq: your own command(s), run to exit: no ready line"),
        "{stdout}"
    );
    // The module's own file is recorded as the Wasm artifact.
    let w = run.targets.iter().find(|t| t.id == "wasmtime-aot").unwrap();
    assert!(
        w.artifacts
            .iter()
            .any(|a| a.workload == "jaq" && a.id == wasm.display().to_string())
    );
    assert_nothing_left(&tag, docker);
    let _ = std::fs::remove_dir_all(&out);

    // Density: held blocked on stdin, verified when the series ends.
    let out = tmpdir("byo-density");
    let dens_targets = if docker {
        "native,wasmtime-pooling,wasmi,docker-scratch-runc-none"
    } else {
        "native,wasmtime-pooling,wasmi"
    };
    let cmd = jaq_command(
        &["density", "--targets", dens_targets, "--max-instances", "5"],
        (&wasm, Some(&native)),
        FILTER,
        &out,
        &tag,
    );
    let (_, run) = run_ok(cmd, &out);
    assert!(run.errors.is_empty(), "errors: {:#?}", run.errors);
    for t in dens_targets.split(',') {
        let s = run
            .density_series()
            .iter()
            .find(|s| s.workload == "jaq" && s.target == t)
            .unwrap_or_else(|| panic!("no density series on {t}"));
        assert_eq!(
            (s.instances, s.stop_reason.name()),
            (5, "max_instances"),
            "{t}: {}",
            s.stop_detail
        );
        let v = run
            .verification
            .iter()
            .find(|v| v.workload == "jaq" && v.target == t)
            .unwrap();
        assert_eq!((v.verified, v.mismatched), (5, 0), "{t}");
        let pss = s
            .bytes_per_instance
            .iter()
            .find(|f| f.source.name() == "pss")
            .map(|f| f.bytes_per_instance)
            .unwrap_or_else(|| panic!("{t}: no PSS"));
        assert!(pss > 0.0, "{t}: {pss}");
        if t == "wasmtime-pooling" {
            // Sampled only once held: every instance has instantiated its
            // linear memory, so the runtime's count grows in whole steps
            // (sampled as soon as started, the first samples read 0).
            let per: Vec<u64> = s
                .samples
                .iter()
                .map(|x| x.engine_bytes.unwrap() / x.instances)
                .collect();
            assert!(
                per[0] > 0 && per.iter().all(|p| *p == per[0]),
                "linear memory per held instance: {per:?}"
            );
        }
    }
    assert_nothing_left(&tag, docker);
    let _ = std::fs::remove_dir_all(&out);

    // Throughput: instance-per-request only; the reused cell is skipped, said so.
    let out = tmpdir("byo-tp");
    let cmd = jaq_command(
        &[
            "throughput",
            "--targets",
            "native,wasmtime-pooling,wasmi",
            "--clients",
            "2",
            "--duration-s",
            "0.3",
            "--min-requests",
            "4",
            "--warmup-requests",
            "1",
        ],
        (&wasm, Some(&native)),
        FILTER,
        &out,
        &tag,
    );
    let (_, run) = run_ok(cmd, &out);
    assert!(run.errors.is_empty(), "errors: {:#?}", run.errors);
    for t in ["native", "wasmtime-pooling", "wasmi"] {
        let cell = run
            .throughput_cells()
            .iter()
            .find(|c| c.row == "jaq" && c.target == t)
            .unwrap_or_else(|| panic!("no throughput cell on {t}"));
        assert_eq!(cell.mode, ThroughputMode::InstancePerRequest);
        assert!(cell.requests >= 4 && cell.rps > 0.0 && cell.mismatched == 0);
    }
    assert!(
        !run.throughput_cells()
            .iter()
            .any(|c| c.mode == ThroughputMode::Reused),
        "a command has no reused cell"
    );
    assert!(run.notes.iter().any(|n| n.contains("jaq is a command")));
    assert_nothing_left(&tag, false);
    let _ = std::fs::remove_dir_all(&out);
}

#[test]
fn without_a_native_build_a_wasm_target_gives_the_reference_and_the_rest_are_skipped() {
    let Some((wasm, native)) = example() else {
        return;
    };
    let _g = LOCK.lock().unwrap_or_else(|p| p.into_inner());
    let out = tmpdir("byo-nonative");
    let mut cmd = jaq_command(
        &[
            "run",
            "--targets",
            "native,wasmtime-aot,wasmi",
            "--runs",
            "2",
            "--warmup",
            "0",
        ],
        (&wasm, None),
        FILTER,
        &out,
        "byo-nonative",
    );
    let o = cmd.output().unwrap();
    // native cannot run it: that pair is unmeasured (exit 3), said why.
    assert_eq!(o.status.code(), Some(3), "{o:?}");
    let run = RunFile::read(&out.join("run.json")).unwrap();
    let n = run.targets.iter().find(|t| t.id == "native").unwrap();
    let why = n.unavailable_reason.as_deref().unwrap_or_default();
    assert!(why.contains("without a native binary"), "{why}");
    // The Wasm targets agree with the reference one of them gave, which is
    // the program's own output.
    let case = run.cases.iter().find(|c| c.workload == "jaq").unwrap();
    assert_eq!(
        case.expected_crc32.as_deref(),
        Some(format!("{:08x}", by_hand(&native)).as_str())
    );
    assert!(
        run.notes
            .iter()
            .any(|n| n.contains("reference checksums of `jaq`"))
    );
    for t in ["wasmtime-aot", "wasmi"] {
        assert_eq!(
            run.result("jaq", t, Metric::TFirstResponse)
                .map(|r| r.summary.n),
            Some(2),
            "{t}"
        );
    }
    let _ = std::fs::remove_dir_all(&out);
}

#[test]
fn a_command_failing_on_native_is_named_and_left_out() {
    let Some((wasm, native)) = example() else {
        return;
    };
    let out = tmpdir("byo-fails");
    // A filter jaq cannot parse: it exits non-zero on every target.
    let mut cmd = jaq_command(
        &["run", "--targets", "native,wasmi", "--runs", "1"],
        (&wasm, Some(&native)),
        ".[",
        &out,
        "byo-fails",
    );
    let o = cmd.output().unwrap();
    assert_eq!(o.status.code(), Some(3), "{o:?}");
    let run = RunFile::read(&out.join("run.json")).unwrap();
    let e = run
        .errors
        .iter()
        .find(|e| e.workload.as_deref() == Some("jaq"))
        .unwrap_or_else(|| panic!("no error for jaq: {:#?}", run.errors));
    assert!(
        e.message.contains("command `jaq`") && e.message.contains("exit"),
        "{}",
        e.message
    );
    let _ = std::fs::remove_dir_all(&out);
}

/// A file that is not a WASI command is refused before anything is
/// created, with the file and what to do in the message.
#[test]
fn files_that_are_not_wasi_commands_are_refused_by_name() {
    let dir = tmpdir("byo-bad");
    let text = dir.join("notes.wasm");
    std::fs::write(&text, "not wasm at all\n").unwrap();
    let library = dir.join("library.wasm");
    // An empty core module: valid, but no `_start`.
    std::fs::write(&library, b"\0asm\x01\0\0\0").unwrap();
    let component = dir.join("component.wasm");
    // The header of a component (layer 1).
    std::fs::write(&component, b"\0asm\x0d\0\x01\0").unwrap();
    let noop_wasm =
        Path::new(env!("COLDBENCH_ARTIFACTS_DIR")).join("wasm32-wasip1/release/noop.wasm");
    let cases: Vec<(String, &str)> = vec![
        (format!("x={}", text.display()), "magic bytes"),
        (format!("x={}", library.display()), "no `_start`"),
        (format!("x={}", component.display()), "component"),
        (
            format!("x={}", dir.join("absent.wasm").display()),
            "cannot read",
        ),
        // A dynamically linked native binary cannot go into a scratch image.
        (
            format!("x={}:/bin/ls", noop_wasm.display()),
            "dynamically linked",
        ),
        (format!("noop={}", noop_wasm.display()), "shipped workload"),
        (format!("Bad_Name={}", noop_wasm.display()), "lower-case"),
    ];
    for (spec, says) in cases {
        let out = dir.join("out");
        let o = Command::new(bin())
            .args(["run", "--targets", "native", "--workload", &spec])
            .arg("--out")
            .arg(&out)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(1), "{spec}: {err}");
        assert!(err.contains(says), "{spec}: {err}");
        assert!(!out.exists(), "{spec}: nothing is created");
    }
    let o = Command::new(bin())
        .args(["run", "--workload-arg", "jaq=-c"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&o.stderr).contains("no --workload jaq="));
    // A --workload-dir that is not a directory is named before anything runs.
    let out = dir.join("out");
    let o = Command::new(bin())
        .args(["run", "--targets", "native", "--workload"])
        .arg(format!("x={}", noop_wasm.display()))
        .arg("--workload-dir")
        .arg(format!("x={}", text.display()))
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.contains("--workload-dir")
            && err.contains("notes.wasm")
            && err.contains("not a directory"),
        "{err}"
    );
    assert!(!out.exists());
    let _ = std::fs::remove_dir_all(&dir);
}

/// A filter that answers while its input streams in (jaq on 60,000 JSON
/// lines, 3.3 MB in, 60,000 lines out) fills its stdout pipe before it has
/// read all its stdin: the harness must read one while it writes the other,
/// or both sides block. Bounded: the run must end within 60 s.
#[test]
fn a_filter_answering_while_its_input_streams_in_does_not_block() {
    let Some((wasm, native)) = example() else {
        return;
    };
    let dir = tmpdir("byo-stream");
    let input = dir.join("lines.ndjson");
    let mut text = String::new();
    for i in 0..60_000 {
        text.push_str(&format!("{{\"i\":{i},\"name\":\"item-{i}\"}}\n"));
    }
    std::fs::write(&input, &text).unwrap();
    let out = dir.join("out");
    let mut child = Command::new(bin())
        .args([
            "run",
            "--targets",
            "native,node",
            "--runs",
            "1",
            "--warmup",
            "0",
        ])
        .arg("--workload")
        .arg(format!("jaq={}:{}", wasm.display(), native.display()))
        .args(["--workload-arg", "jaq=-c", "--workload-arg", "jaq=-M"])
        .args(["--workload-arg", "jaq=.name"])
        .arg("--workload-input")
        .arg(format!("jaq={}", input.display()))
        .arg("--out")
        .arg(&out)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let t0 = std::time::Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if t0.elapsed() > std::time::Duration::from_secs(60) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the run is blocked: harness and command both wait on a full pipe");
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    assert!(status.success(), "{status}");
    let run = RunFile::read(&out.join("run.json")).unwrap();
    for t in ["native", "node"] {
        let v = run
            .verification
            .iter()
            .find(|v| v.workload == "jaq" && v.target == t)
            .unwrap();
        assert_eq!((v.verified, v.mismatched), (1, 0), "{t}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// Whether `coldbench targets` lists `id` as available here.
fn listed_available(id: &str) -> bool {
    let o = Command::new(bin()).arg("targets").output().unwrap();
    String::from_utf8_lossy(&o.stdout)
        .lines()
        .any(|l| l.contains(&format!(" {id} ")) && l.contains(" yes "))
}

/// The targets of the `--workload-dir` tests: one per way of giving the
/// directory (embedded runtimes, a CLI, a process per start, both container
/// APIs). Under CI every one is required; elsewhere those not set up here
/// are left out.
fn dir_targets(docker: bool) -> Vec<&'static str> {
    let mut ids = vec![
        "native",
        "wasmtime-pooling",
        "wasmtime-aot",
        "wasmer-cranelift",
        "wasmi",
        "wamr-interp-preloaded",
        "node",
    ];
    let ci = std::env::var_os("CI").is_some();
    if ci || listed_available("cli-wasmtime") {
        ids.push("cli-wasmtime");
    }
    if docker {
        ids.push("docker-scratch-runc-none");
        if ci || listed_available("containerd-runc") {
            ids.push("containerd-runc");
        }
    }
    ids
}

/// A fresh directory holding `name` (a copy of `src`), readable by the
/// hardened containers' user (65534).
fn dir_with(dir_name: &str, name: &str, bytes: &[u8]) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let d = tmpdir(dir_name);
    std::fs::set_permissions(&d, std::fs::Permissions::from_mode(0o755)).unwrap();
    let f = d.join(name);
    std::fs::write(&f, bytes).unwrap();
    std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o644)).unwrap();
    d
}

#[test]
fn a_command_reads_its_workload_dir_on_every_family_with_identical_checksums() {
    let Some((wasm, native)) = example() else {
        return;
    };
    let _g = LOCK.lock().unwrap_or_else(|p| p.into_inner());
    let docker = docker_up();
    let tag = format!("byo-dir-{}", std::process::id());
    let dir = dir_with(
        "byo-dir-in",
        "document.json",
        &std::fs::read(input()).unwrap(),
    );
    let targets = dir_targets(docker);
    // The program by hand, started in the directory with the file's name as
    // its argument (nothing on stdin).
    let o = Command::new(&native)
        .args(["-c", "-M", FILTER, "document.json"])
        .current_dir(&dir)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(o.status.success(), "{o:?}");
    let want = format!("{:08x}", coldbench_protocol::checksum(&o.stdout));

    let out = tmpdir("byo-dir-run");
    let mut cmd = Command::new(bin());
    cmd.args(["run", "--targets", &targets.join(","), "--runs", "2"])
        .args(["--warmup", "1", "--out"])
        .arg(&out)
        .env("COLDBENCH_TEST_TAG", &tag)
        .arg("--workload");
    // Paths relative to where coldbench is started (as a user types them):
    // they must still name the files once a start is in the directory.
    let rel = |p: &Path| p.strip_prefix(repo()).unwrap().to_path_buf();
    cmd.current_dir(repo()).arg(format!(
        "jaq={}:{}",
        rel(&wasm).display(),
        rel(&native).display()
    ));
    for a in ["-c", "-M", FILTER, "document.json"] {
        cmd.arg("--workload-arg").arg(format!("jaq={a}"));
    }
    cmd.arg("--workload-dir")
        .arg(format!("jaq={}", dir.display()));
    let (_, run) = run_ok(cmd, &out);
    assert!(run.errors.is_empty(), "errors: {:#?}", run.errors);
    let case = run.cases.iter().find(|c| c.workload == "jaq").unwrap();
    assert_eq!(case.expected_crc32.as_deref(), Some(want.as_str()));
    assert_eq!(
        case.params.get("dir").map(PathBuf::from),
        Some(std::fs::canonicalize(&dir).unwrap())
    );
    for t in &targets {
        let v = run
            .verification
            .iter()
            .find(|v| v.workload == "jaq" && v.target == *t)
            .unwrap_or_else(|| panic!("{t} not verified"));
        assert_eq!((v.verified, v.mismatched), (3, 0), "{t}");
        let rec = run.targets.iter().find(|r| r.id == *t).unwrap();
        let knob = rec.knobs.get("workload_dir");
        assert!(
            knob.is_some(),
            "{t} does not record how it gives the directory"
        );
    }
    // jaq only reads: the directory is as it was.
    let names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert_eq!(names, ["document.json"]);
    assert_nothing_left(&tag, docker);
    let _ = std::fs::remove_dir_all(&out);
    let _ = std::fs::remove_dir_all(&dir);
}

/// `coldbench run` of one start of the hostile guest's `--dir-probe` as a
/// command on `target`, given `dir`, results into `out`, tagged `tag`.
fn probe_run(target: &str, dir: &Path, out: &Path, tag: &str) -> Command {
    let wasm = coldbench::artifacts::wasm_module("hostile");
    let native = coldbench::artifacts::static_binary("hostile");
    let mut cmd = Command::new(bin());
    cmd.args(["run", "--targets", target, "--runs", "1", "--warmup", "0"])
        .arg("--out")
        .arg(out)
        .env("COLDBENCH_TEST_TAG", tag)
        .arg("--workload")
        .arg(format!("probe={}:{}", wasm.display(), native.display()))
        .args(["--workload-arg", "probe=--dir-probe", "--workload-dir"])
        .arg(format!("probe={}", dir.display()));
    cmd
}

/// Every target's `workload_dir` knob tells the truth: a guest that tries
/// to create a file in its directory (hostile `--dir-probe`) leaves nothing
/// where the knob says read-only is enforced, and leaves its file where the
/// knob says it is not. The runtimes coldbench can confine are required to.
#[test]
fn read_only_is_enforced_exactly_where_the_knob_says() {
    let _g = LOCK.lock().unwrap_or_else(|p| p.into_inner());
    let docker = docker_up();
    let tag = format!("byo-ro-{}", std::process::id());
    let must_enforce = [
        "native",
        "wasmtime-pooling",
        "wasmtime-aot",
        "wasmer-cranelift",
        "docker-scratch-runc-none",
        "containerd-runc",
    ];
    for t in dir_targets(docker) {
        let dir = dir_with("byo-ro-in", "probe.txt", b"read through the directory\n");
        let out = tmpdir("byo-ro-run");
        let (_, run) = run_ok(probe_run(t, &dir, &out, &tag), &out);
        assert!(run.errors.is_empty(), "{t}: {:#?}", run.errors);
        let knob = run
            .targets
            .iter()
            .find(|r| r.id == t)
            .and_then(|r| r.knobs.get("workload_dir").cloned())
            .unwrap_or_else(|| panic!("{t}: no workload_dir knob"));
        let written = dir.join("written-by-guest").exists();
        let says_enforced = !knob.contains("NOT read-only");
        assert_eq!(
            written,
            !says_enforced,
            "{t}: the guest's file {} but the knob says: {knob}",
            if written {
                "was written"
            } else {
                "was refused"
            }
        );
        if must_enforce.contains(&t) {
            assert!(!written, "{t} must keep the directory read-only ({knob})");
        }
        let _ = std::fs::remove_dir_all(&out);
        let _ = std::fs::remove_dir_all(&dir);
    }
    // Where the directory cannot be given at all, the target is skipped
    // with the reason, never run without it.
    if docker && (std::env::var_os("CI").is_some() || listed_available("containerd-wasm-wamr")) {
        let dir = dir_with("byo-ro-in", "probe.txt", b"x\n");
        let out = tmpdir("byo-ro-skip");
        let o = probe_run("containerd-wasm-wamr", &dir, &out, &tag)
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(3), "{o:?}");
        let run = RunFile::read(&out.join("run.json")).unwrap();
        let rec = run
            .targets
            .iter()
            .find(|r| r.id == "containerd-wasm-wamr")
            .unwrap();
        let why = rec.unavailable_reason.as_deref().unwrap_or_default();
        assert!(why.contains("--workload-dir"), "{why}");
        let _ = std::fs::remove_dir_all(&out);
        let _ = std::fs::remove_dir_all(&dir);
    }
    assert_nothing_left(&tag, docker);
}

/// A target whose binary gives a wrong answer, at the binary level: the
/// same jq program on both builds, with a filter whose answer depends on
/// where it runs — the number of environment variables (`$ENV | length`):
/// the native process inherits the harness's environment, a WASI guest
/// gets none. Every Wasm answer then differs from the native reference, in
/// cold start, density and throughput alike: each is counted as a
/// mismatch and an error, never as a sample, and the run says the pair
/// went unmeasured (exit 3).
#[test]
fn a_binary_giving_a_wrong_answer_is_an_error_in_every_experiment_never_a_sample() {
    let Some((wasm, native)) = example() else {
        return;
    };
    let _g = LOCK.lock().unwrap_or_else(|p| p.into_inner());
    let tag = format!("byo-wrong-{}", std::process::id());
    let filter = "$ENV | length";
    let targets = "native,wasmtime-pooling,wasmi";
    let wrong = ["wasmtime-pooling", "wasmi"];
    let experiments: [(&str, &[&str]); 3] = [
        ("run", &["--runs", "3", "--warmup", "0"]),
        ("density", &["--max-instances", "3"]),
        (
            "throughput",
            &[
                "--clients",
                "1",
                "--duration-s",
                "0.2",
                "--min-requests",
                "2",
                "--max-cell-s",
                "5",
                "--warmup-requests",
                "0",
            ],
        ),
    ];
    for (command, extra) in experiments {
        let out = tmpdir(&format!("byo-wrong-{command}"));
        let mut args = vec![command, "--targets", targets];
        args.extend_from_slice(extra);
        let o = jaq_command(&args, (&wasm, Some(&native)), filter, &out, &tag)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(3), "{command}: {stderr}");
        validate_schema(&out.join("run.json"));
        let run = RunFile::read(&out.join("run.json")).unwrap();
        // native agrees with its own reference: the check is not failing
        // everything.
        let count = |t: &str| {
            run.verification
                .iter()
                .filter(|v| v.workload == "jaq" && v.target == t)
                .fold((0, 0), |(a, b), v| (a + v.verified, b + v.mismatched))
        };
        let (ok, bad) = count("native");
        assert!(
            ok > 0 && bad == 0,
            "{command}: native {ok} verified, {bad} mismatched"
        );
        for t in wrong {
            let (ok, bad) = count(t);
            assert!(
                ok == 0 && bad > 0,
                "{command} {t}: {ok} verified, {bad} mismatched"
            );
            let mismatches = run
                .errors
                .iter()
                .filter(|e| {
                    e.target.as_deref() == Some(t)
                        && e.kind == coldbench::failure::FailureKind::Mismatch
                })
                .count();
            assert!(mismatches > 0, "{command} {t}: {:#?}", run.errors);
            // No sample of any kind.
            assert!(
                !run.cold_start_results().iter().any(|r| r.target == t),
                "{command} {t}: a cold-start sample of a wrong answer"
            );
            assert!(
                !run.throughput_cells().iter().any(|c| c.target == t),
                "{command} {t}: a throughput cell of wrong answers"
            );
            if let Some(s) = run.density_series().iter().find(|s| s.target == t) {
                assert!(
                    s.bytes_per_instance.is_empty(),
                    "{command} {t}: a per-instance figure from wrong answers: {s:#?}"
                );
            }
        }
        assert_nothing_left(&tag, false);
        let _ = std::fs::remove_dir_all(&out);
    }
}
