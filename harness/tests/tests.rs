//! End-to-end tests of the `coldbench` binary against real workloads, a real
//! wasmtime runner and the real Docker engine (no mocks).
//!
//! Docker: under CI (`CI` set) or with `COLDBENCH_REQUIRE_DOCKER=1`, a missing
//! engine fails these tests; elsewhere the container parts are skipped with a
//! message.

use coldbench_results::{Metric, RunFile};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;

mod common;
use common::*;

/// Container tests must not overlap: they count labelled containers.
static DOCKER_LOCK: Mutex<()> = Mutex::new(());

/// `coldbench run` with the given selection, writing into `out`.
fn run_command(workloads: &str, targets: &str, runs: &str, warmup: &str, out: &Path) -> Command {
    let mut c = Command::new(bin());
    c.args(["run", "--workloads", workloads, "--targets", targets])
        .args(["--runs", runs, "--warmup", warmup])
        .arg("--out")
        .arg(out);
    c
}

#[test]
fn cold_start_run_writes_a_valid_verified_results_file() {
    let _g = DOCKER_LOCK.lock().unwrap_or_else(|p| p.into_inner());
    let docker = docker_up();
    let out = tmpdir("run");
    let targets = if docker {
        "native,wasmtime-jit,wasmtime-aot,docker-scratch-runc-bridge"
    } else {
        "native,wasmtime-jit,wasmtime-aot"
    };
    let (stdout, run) = run_ok(run_command("noop,hash", targets, "3", "1", &out), &out);
    let path = out.join("run.json");
    assert!(run.errors.is_empty(), "errors: {:#?}", run.errors);
    for t in targets.split(',') {
        for w in ["noop", "hash"] {
            let r = run
                .result(w, t, Metric::TReady)
                .unwrap_or_else(|| panic!("no t_ready for {w} on {t}"));
            // noop: 1 case, hash: 5 cases; 3 measured runs each.
            assert_eq!(r.summary.n, if w == "noop" { 3 } else { 15 }, "{w} {t}");
            assert!(run.result(w, t, Metric::TFirstResponse).is_some());
            assert!(run.result(w, t, Metric::TTeardown).is_some());
            let v = run
                .verification
                .iter()
                .find(|v| v.workload == w && v.target == t)
                .unwrap();
            assert_eq!(v.mismatched, 0);
            assert_eq!(
                v.verified,
                r.summary.n + r.summary.n / 3,
                "warm-ups are verified too"
            );
        }
        assert!(stdout.contains(t), "table lacks {t}");
    }
    // Every case has native's checksum; that of the plain SHA-256 case is
    // the CRC-32 of the digest `sha256sum` gives for its input file.
    assert!(run.cases.iter().all(|c| c.expected_crc32.is_some()));
    let sha = run
        .cases
        .iter()
        .find(|c| {
            c.workload == "hash"
                && c.params.get("algo").map(String::as_str) == Some("sha256")
                && c.params.get("iterations").is_none_or(|i| i == "1")
        })
        .expect("a plain sha256 case");
    // Input paths are relative to the run's inputs directory.
    let input = Path::new(&run.config.inputs_dir).join(&sha.inputs[0].path);
    let o = Command::new("sha256sum").arg(&input).output().unwrap();
    assert!(o.status.success(), "sha256sum {}", input.display());
    let hex = String::from_utf8_lossy(&o.stdout);
    let digest: Vec<u8> = (0..32)
        .map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).unwrap())
        .collect();
    assert_eq!(
        sha.expected_crc32.as_deref(),
        Some(format!("{:08x}", coldbench_protocol::checksum(&digest)).as_str()),
        "{}: sha256sum says {}",
        sha.inputs[0].path,
        &hex[..64]
    );
    assert!(run.host.runtime_versions.contains_key("wasmtime"));
    if docker {
        assert!(run.host.docker.is_some());
        assert!(labelled_containers().is_empty(), "containers left behind");
        let d = run
            .targets
            .iter()
            .find(|t| t.id == "docker-scratch-runc-bridge")
            .unwrap();
        assert!(
            d.artifacts
                .iter()
                .any(|a| a.kind.name() == "image" && a.bytes > 0)
        );
    }
    // The report subcommand renders the same file.
    let rep = Command::new(bin())
        .arg("report")
        .arg(&path)
        .output()
        .unwrap();
    assert!(rep.status.success());
    assert!(String::from_utf8_lossy(&rep.stdout).contains("t_ready p50"));
    let _ = std::fs::remove_dir_all(&out);
}

#[test]
fn corrupt_image_and_invalid_json_are_reported_and_the_run_completes() {
    let _g = DOCKER_LOCK.lock().unwrap_or_else(|p| p.into_inner());
    let docker = docker_up();
    let shipped = Path::new(env!("CARGO_MANIFEST_DIR")).join("../workloads/inputs");
    let inputs = tmpdir("bad-inputs");
    std::fs::create_dir_all(inputs.join("images")).unwrap();
    // A real PNG with part of its image data overwritten: the zlib/CRC checks fail.
    let mut png = std::fs::read(shipped.join("images/skimage_camera.png")).unwrap();
    for b in &mut png[2_000..6_000] {
        *b = 0x5a;
    }
    std::fs::write(inputs.join("images/corrupt-camera.png"), png).unwrap();
    // A file that claims to be a JPEG but is text.
    std::fs::write(
        inputs.join("images/not-really.jpg"),
        b"this is not an image",
    )
    .unwrap();
    std::fs::copy(
        shipped.join("images/mate_GreenMeadow.jpg"),
        inputs.join("images/good.jpg"),
    )
    .unwrap();
    // The first 50 KB of a real 848 KB photo: decoders take it silently and
    // thumbnail the top of the image; coldbench leaves the case out.
    let photo = std::fs::read(shipped.join("images/hato.jpg")).unwrap();
    std::fs::write(inputs.join("images/cut.jpg"), &photo[..50_000]).unwrap();
    // A real JSON document cut in the middle, and a good case beside it.
    let twitter = std::fs::read(shipped.join("json/twitter-parse/document.json")).unwrap();
    std::fs::create_dir_all(inputs.join("json/truncated")).unwrap();
    std::fs::write(
        inputs.join("json/truncated/document.json"),
        &twitter[..twitter.len() / 2],
    )
    .unwrap();
    std::fs::write(inputs.join("json/truncated/schema.json"), b"{}").unwrap();
    std::fs::create_dir_all(inputs.join("json/good")).unwrap();
    for f in ["document.json", "schema.json"] {
        std::fs::copy(
            shipped.join("json/canada-geojson").join(f),
            inputs.join("json/good").join(f),
        )
        .unwrap();
    }
    let out = tmpdir("bad-out");
    let targets = if docker {
        "native,wasmtime-aot,docker-scratch-runc-bridge"
    } else {
        "native,wasmtime-aot"
    };
    let mut cmd = run_command("thumbnail,json-validate", targets, "1", "0", &out);
    cmd.arg("--inputs").arg(&inputs);
    let (stdout, run) = run_ok(cmd, &out);
    let input_errors: Vec<_> = run
        .errors
        .iter()
        .filter(|e| e.phase.name() == "input")
        .collect();
    assert_eq!(input_errors.len(), 4, "{:#?}", run.errors);
    let cut = input_errors
        .iter()
        .find(|e| e.kind.name() == "bad_input")
        .unwrap_or_else(|| panic!("no bad_input error: {:#?}", run.errors));
    assert!(
        cut.message.contains("cut.jpg") && cut.message.contains("looks truncated"),
        "{}",
        cut.message
    );
    assert!(
        stdout.contains("cut.jpg"),
        "the table does not name cut.jpg"
    );
    assert!(!run.cases.iter().any(|c| c.case.contains("cut.jpg")));
    for (case, needle) in [
        ("corrupt-camera.png", "corrupt"),
        ("not-really.jpg", "neither a JPEG nor a PNG"),
        ("truncated", "not valid JSON"),
    ] {
        let e = input_errors
            .iter()
            .find(|e| e.case.as_deref() == Some(case))
            .unwrap_or_else(|| panic!("no error for {case}: {:#?}", run.errors));
        assert!(e.message.contains(needle), "{case}: {}", e.message);
        assert!(stdout.contains(case), "table does not name {case}");
    }
    assert_eq!(
        run.errors.len(),
        4,
        "only the bad inputs fail: {:#?}",
        run.errors
    );
    for t in targets.split(',') {
        for w in ["thumbnail", "json-validate"] {
            let r = run.result(w, t, Metric::TFirstResponse).unwrap();
            assert_eq!(r.summary.n, 1, "{w} {t}: the good input was measured");
        }
    }
    if docker {
        assert!(labelled_containers().is_empty());
    }
    let _ = std::fs::remove_dir_all(&out);
    let _ = std::fs::remove_dir_all(&inputs);
}

/// Sends SIGINT to a running `coldbench` (as Ctrl-C would) and requires it to
/// exit with 130 after writing its results.
fn interrupt_expecting_130(child: std::process::Child) {
    let st = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(st.success());
    let o = child.wait_with_output().unwrap();
    assert_eq!(
        o.status.code(),
        Some(130),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}

#[test]
fn interrupted_run_keeps_results_and_leaves_no_container() {
    let _g = DOCKER_LOCK.lock().unwrap_or_else(|p| p.into_inner());
    if !docker_up() {
        return;
    }
    let out = tmpdir("interrupt");
    let child = run_command(
        "noop",
        "native,docker-scratch-runc-bridge",
        "200",
        "0",
        &out,
    )
    .stdout(std::process::Stdio::piped())
    .stderr(std::process::Stdio::piped())
    .spawn()
    .unwrap();
    // Wait until the journal holds a container start, then interrupt as
    // Ctrl-C would.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    let journalled = || {
        journal_entries(&out, "sample")
            .into_iter()
            .filter(|v| v["metric"] == "t_ready" && v["target"] == "docker-scratch-runc-bridge")
            .count()
    };
    while journalled() == 0 && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert!(journalled() > 0, "no container start within 120 s");
    interrupt_expecting_130(child);
    let run = RunFile::read(&out.join("run.json")).unwrap();
    assert!(run.interrupted);
    let n = run
        .result("noop", "docker-scratch-runc-bridge", Metric::TReady)
        .map(|r| r.summary.n)
        .unwrap_or(0);
    assert!((1..200).contains(&n), "measured before the interrupt: {n}");
    assert!(
        labelled_containers().is_empty(),
        "containers left after Ctrl-C"
    );
    let _ = std::fs::remove_dir_all(&out);
}

/// Whether a missing optional component (node, runsc, the Debian base image)
/// must fail the test: under CI the set-up script provides them.
fn required() -> bool {
    std::env::var_os("CI").is_some()
}

/// A small real input set: one photograph and one binary blob from the
/// shipped corpus (thumbnail: 1 case; hash: sha256, blake3, sha256x1000).
fn small_real_inputs(name: &str) -> PathBuf {
    let shipped = Path::new(env!("CARGO_MANIFEST_DIR")).join("../workloads/inputs");
    let inputs = tmpdir(name);
    for (dir, file) in [
        ("images", "skimage_camera.png"),
        ("blobs", "brotli_random_org_10k.bin"),
    ] {
        std::fs::create_dir_all(inputs.join(dir)).unwrap();
        std::fs::copy(shipped.join(dir).join(file), inputs.join(dir).join(file)).unwrap();
    }
    inputs
}

/// Runs `thumbnail` and `hash` on [`small_real_inputs`] for every variant that
/// `targets` (ids or a family prefix) selects and checks each ran on every
/// case with every response verified against native, with its engine version,
/// knobs and artifact sizes recorded. Returns the results file.
fn family_run(name: &str, targets: &str, expect: &[&str]) -> RunFile {
    let inputs = small_real_inputs(&format!("{name}-in"));
    let out = tmpdir(name);
    let mut cmd = run_command("thumbnail,hash", targets, "2", "0", &out);
    cmd.arg("--inputs").arg(&inputs);
    let (stdout, run) = run_ok(cmd, &out);
    assert!(run.errors.is_empty(), "errors: {:#?}", run.errors);
    for t in expect {
        let rec = run
            .targets
            .iter()
            .find(|r| r.id == *t)
            .unwrap_or_else(|| panic!("{t} not in run.json targets"));
        assert!(rec.available, "{t}: {:?}", rec.unavailable_reason);
        assert!(!rec.runtime_version.is_empty(), "{t}: no engine version");
        assert!(!rec.knobs.is_empty(), "{t}: no knobs");
        assert!(
            rec.artifacts.iter().all(|a| a.bytes > 0) && !rec.artifacts.is_empty(),
            "{t}: artifact sizes missing: {:?}",
            rec.artifacts
        );
        for (w, cases) in [("thumbnail", 1), ("hash", 3)] {
            let r = run
                .result(w, t, Metric::TFirstResponse)
                .unwrap_or_else(|| panic!("no t_first_response for {w} on {t}"));
            assert_eq!(r.summary.n, 2 * cases, "{w} {t}");
            let v = run
                .verification
                .iter()
                .find(|v| v.workload == w && v.target == *t)
                .unwrap();
            assert_eq!((v.verified, v.mismatched), (2 * cases, 0), "{w} {t}");
        }
        assert!(stdout.contains(t), "table lacks {t}");
    }
    let _ = std::fs::remove_dir_all(&out);
    let _ = std::fs::remove_dir_all(&inputs);
    run
}

/// The runner phases of `target` for `workload`: the chain from the harness's
/// start call to its read of the ready line is complete (every phase has as
/// many samples as `t_ready`, the module phase only where a start does module
/// work) and adds up to `t_ready` start by start, so the means add up too
/// (within HDR's 3-significant-digit bucketing).
fn assert_runner_phases_add_up(run: &RunFile, workload: &str, target: &str, module_phase: bool) {
    let mut phases = vec![Metric::TRunnerDispatch, Metric::TRunnerHandoff];
    if module_phase {
        phases.push(Metric::TRunnerModule);
    } else {
        assert!(
            run.result(workload, target, Metric::TRunnerModule)
                .is_none(),
            "{target}: a module phase where none is done"
        );
    }
    phases.extend([
        Metric::TRunnerInstantiate,
        Metric::TGuestReady,
        Metric::TReadyReturn,
    ]);
    assert_phases_add_up(run, workload, target, &phases);
    // Telescoping stamps add up whatever they stamp. What each phase can
    // get wrong: a stamp on the wrong side of another (the harness keeps no
    // phase of a start whose stamps are out of order, so the counts above
    // would differ), and work stamped into the wrong phase (the module,
    // instantiate and guest phases against the in-process floor, in
    // `in_process_floors_are_measured_in_the_run_and_reported`).
}

/// The phases of a container start (Docker and containerd), in order.
const CONTAINER_PHASES: [Metric; 4] = [
    Metric::TContainerCreate,
    Metric::TContainerAttach,
    Metric::TContainerStart,
    Metric::TContainerReady,
];

/// `phases` of `target` for `workload` were taken at every start and their
/// means add up to `t_ready`'s (within 1 %: each sample's phases add up to
/// its t_ready exactly; the stored means are rounded per histogram).
fn assert_phases_add_up(run: &RunFile, workload: &str, target: &str, phases: &[Metric]) {
    let ready = run
        .result(workload, target, Metric::TReady)
        .unwrap_or_else(|| panic!("no t_ready for {workload} on {target}"));
    let mut sum_mean_ns = 0.0;
    for &m in phases {
        let r = run
            .result(workload, target, m)
            .unwrap_or_else(|| panic!("{target}: no {} for {workload}", m.name()));
        assert_eq!(r.summary.n, ready.summary.n, "{target} {}", m.name());
        sum_mean_ns += r.summary.mean_ns;
    }
    let err = (sum_mean_ns - ready.summary.mean_ns).abs() / ready.summary.mean_ns;
    assert!(
        err < 0.01,
        "{target}: phases add up to {sum_mean_ns} ns on average, t_ready is {} ns",
        ready.summary.mean_ns
    );
}

#[test]
fn wasmtime_family_jit_aot_pooling_run_real_inputs() {
    let run = family_run(
        "fam-wasmtime",
        "wasmtime",
        &["wasmtime-jit", "wasmtime-aot", "wasmtime-pooling"],
    );
    let pool = run
        .targets
        .iter()
        .find(|t| t.id == "wasmtime-pooling")
        .unwrap();
    assert_eq!(
        pool.knobs.get("allocator").map(String::as_str),
        Some("pooling")
    );
    assert!(pool.artifacts.iter().any(|a| a.kind.name() == "cwasm"));
    // Pooling resolves the module once at load: no per-start module phase.
    assert_runner_phases_add_up(&run, "hash", "wasmtime-pooling", false);
    assert_runner_phases_add_up(&run, "hash", "wasmtime-aot", true);
    assert_runner_phases_add_up(&run, "thumbnail", "wasmtime-jit", true);
    for t in ["wasmtime-jit", "wasmtime-aot", "wasmtime-pooling"] {
        assert_shared_threading(&run, t);
    }
    // The transport floor was measured in the same run, against the echo
    // process, idle and hot, 300 round trips each. (How it compares with
    // the runner's own transport is the report's to show, not a test's:
    // both are speeds of processes on a shared host.)
    let c = run.cold_start.as_ref().unwrap();
    let idle = c
        .pipe_round_trip
        .as_ref()
        .expect("pipe round trip measured");
    let hot = c
        .pipe_round_trip_hot
        .as_ref()
        .expect("hot round trip measured");
    assert_eq!((idle.n, hot.n), (300, 300));
    assert!(idle.p50_ns > 0 && hot.p50_ns > 0);
    let table = coldbench_reports::full(&run);
    assert!(
        table.contains("Embedded runtimes against their floors"),
        "{table}"
    );
}

/// Each embedded runtime's start path timed in process by its runner, in the
/// same run as its starts, and shown beside its `t_ready` (issue 18's bound):
/// wasmtime, wasmi, WAMR and wasmer each time one.
#[test]
fn in_process_floors_are_measured_in_the_run_and_reported() {
    let out = tmpdir("floors");
    let targets = "wasmtime-pooling,wasmi,wamr-interp-preloaded,wasmer-cranelift";
    let (stdout, run) = run_ok(run_command("noop", targets, "3", "0", &out), &out);
    let c = run.cold_start.as_ref().unwrap();
    let floor = |t: &str| {
        c.in_process_floors
            .iter()
            .find(|f| f.target == t && f.workload == "noop")
            .unwrap_or_else(|| panic!("no in-process floor for {t}: {:#?}", run.notes))
    };
    let plan = coldbench::experiment::coldstart::IN_PROCESS_FLOOR_PLAN;
    assert!(plan.warmup > 0);
    for t in [
        "wasmtime-pooling",
        "wasmi",
        "wamr-interp-preloaded",
        "wasmer-cranelift",
    ] {
        let f = floor(t);
        let n = f.summary.n;
        assert!(
            (u64::from(plan.min_iterations)..=u64::from(plan.iterations)).contains(&n),
            "{t}: n = {n}"
        );
        assert!(f.what.contains("_start"), "{t}: {}", f.what);
        // The same starts after 1 ms idle each: timed too, as many.
        let idle = f
            .idle
            .as_ref()
            .unwrap_or_else(|| panic!("{t}: no idle floor: {:#?}", run.notes));
        assert!(
            (u64::from(plan.min_iterations)..=u64::from(plan.iterations)).contains(&idle.n),
            "{t}: idle n = {}",
            idle.n
        );
    }
    // A floor that timed nothing reads a few ns; every one of these starts
    // builds a store and an instance and runs `_start` (tens of µs at
    // least). A busy host only makes them slower, so this cannot fail on
    // one; the runtimes' relative speed is the report's, not a test's.
    for t in [
        "wasmtime-pooling",
        "wasmi",
        "wamr-interp-preloaded",
        "wasmer-cranelift",
    ] {
        let p50 = floor(t).summary.p50_ns;
        assert!(
            p50 >= 1_000,
            "{t}: in-process floor {p50} ns: nothing was timed"
        );
    }
    // The phases that do what the floor times (a store, an instance, the
    // guest up to its ready line: module, instantiate and guest phases of a
    // real start) hold at least a quarter of the floor's median: phases
    // stamped at the wrong place would hand that work to dispatch or
    // return and read next to nothing here. (A real start is colder than
    // the floor's back-to-back loop, so a busy host only widens the margin.)
    for t in [
        "wasmtime-pooling",
        "wasmi",
        "wamr-interp-preloaded",
        "wasmer-cranelift",
    ] {
        let mean = |m: Metric| {
            run.result("noop", t, m)
                .map(|r| r.summary.mean_ns)
                .unwrap_or(0.0)
        };
        let work = mean(Metric::TRunnerModule)
            + mean(Metric::TRunnerInstantiate)
            + mean(Metric::TGuestReady);
        let p50 = floor(t).summary.p50_ns as f64;
        assert!(
            work >= 0.25 * p50,
            "{t}: module + instantiate + guest phases {work} ns on average, in-process floor {p50} ns"
        );
    }
    for table in [
        stdout,
        coldbench_reports::markdown::report(&[&run], &[], &[]),
    ] {
        let rows: Vec<&str> = table
            .lines()
            .filter(|l| {
                // Table rows only (the three answers above name targets
                // with their n too).
                (l.starts_with('│') || l.starts_with('|'))
                    && l.contains("wasmtime-pooling")
                    && l.contains("(n = ")
                    && !l.contains("Floors measured")
            })
            .collect();
        assert_eq!(rows.len(), 1, "{table}");
    }
}

#[test]
fn wasmer_family_cranelift_and_singlepass_run_real_inputs() {
    let run = family_run(
        "fam-wasmer",
        "wasmer",
        &["wasmer-cranelift", "wasmer-singlepass"],
    );
    for t in ["wasmer-cranelift", "wasmer-singlepass"] {
        let rec = run.targets.iter().find(|r| r.id == t).unwrap();
        assert!(
            rec.artifacts
                .iter()
                .any(|a| a.kind.name() == "wasmer_artifact")
        );
        assert!(
            run.result("hash", t, Metric::Prepare).is_some(),
            "{t}: compile time"
        );
        assert_runner_phases_add_up(&run, "hash", t, true);
        assert_shared_threading(&run, t);
    }
}

/// Every embedded runner runs its instances on the shared pre-spawned
/// threads (`coldbench_protocol::runner::Workers`) and says so in a knob.
fn assert_shared_threading(run: &RunFile, target: &str) {
    let rec = run.targets.iter().find(|r| r.id == target).unwrap();
    let knob = rec.knobs.get("instance_threads").map(String::as_str);
    assert!(
        knob.is_some_and(|k| k.starts_with("pre-spawned (coldbench_protocol::runner::Workers)")),
        "{target}: instance_threads = {knob:?}"
    );
}

#[test]
fn wasmi_interpreter_runs_real_inputs() {
    let run = family_run("fam-wasmi", "wasmi", &["wasmi"]);
    assert_runner_phases_add_up(&run, "hash", "wasmi", true);
    assert_shared_threading(&run, "wasmi");
}

#[test]
fn wamr_interpreter_runs_real_inputs_fresh_and_preloaded() {
    let ids = ["wamr-interp", "wamr-interp-preloaded"];
    let run = family_run("fam-wamr", &ids.join(","), &ids);
    for t in ids {
        let rec = run.targets.iter().find(|r| r.id == t).unwrap();
        assert_eq!(rec.runtime, "wamr");
        assert!(
            rec.runtime_version.starts_with("2."),
            "{t}: WAMR version {}",
            rec.runtime_version
        );
        // Only the fresh strategy loads (parses, translates) at each start.
        assert_runner_phases_add_up(&run, "hash", t, t == "wamr-interp");
        assert_shared_threading(&run, t);
    }
}

#[test]
fn wasmtime_cli_runs_real_inputs_cached_and_precompiled() {
    let ids = ["cli-wasmtime", "cli-wasmtime-aot"];
    if !required()
        && !targets_listing()
            .lines()
            .any(|l| l.contains(" cli-wasmtime ") && l.contains(" yes "))
    {
        eprintln!("skipping: no wasmtime CLI (scripts/install-cli-runtimes.sh)");
        return;
    }
    let run = family_run("fam-cli", &ids.join(","), &ids);
    for t in ids {
        let rec = run.targets.iter().find(|r| r.id == t).unwrap();
        // Its own name in the fingerprint: never the embedded wasmtime's.
        assert_eq!(rec.runtime, "wasmtime-cli");
        assert!(
            rec.runtime_version.starts_with("wasmtime "),
            "{t}: {}",
            rec.runtime_version
        );
    }
    let aot = run
        .targets
        .iter()
        .find(|r| r.id == "cli-wasmtime-aot")
        .unwrap();
    assert!(
        aot.artifacts
            .iter()
            .any(|a| a.kind.name() == "cwasm" && a.bytes > 0),
        "{:?}",
        aot.artifacts
    );
    assert!(
        run.result("hash", "cli-wasmtime-aot", Metric::Prepare)
            .is_some(),
        "wasmtime compile time"
    );
}

/// `coldbench targets` as printed.
fn targets_listing() -> String {
    let out = Command::new(bin()).arg("targets").output().unwrap();
    assert!(out.status.success());
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn targets_lists_every_family_with_reasons_for_what_cannot_run() {
    let listing = targets_listing();
    let row = |id: &str| {
        listing
            .lines()
            .find(|l| l.contains(&format!(" {id} ")))
            .unwrap_or_else(|| panic!("{id} not listed:\n{listing}"))
            .to_string()
    };
    for id in ["wamr-interp", "wamr-interp-preloaded"] {
        assert!(row(id).contains(" yes "), "{}", row(id));
    }
    if required() {
        for id in [
            "cli-wasmtime",
            "cli-wasmtime-aot",
            "containerd-runc",
            "containerd-exec-runc",
            "containerd-wasm-wamr",
        ] {
            assert!(row(id).contains(" yes "), "{}", row(id));
        }
    }
    // Modes the bundled WAMR lacks and CLIs no registry here offers: listed
    // as unavailable, saying why and how to install (the table wraps long
    // cells, so the reason is looked for in the whole listing).
    for id in ["wamr-aot", "wamr-jit"] {
        assert!(row(id).contains(" no "), "{}", row(id));
    }
    assert!(listing.contains("hard-disables AOT"), "{listing}");
    for (id, install) in [
        ("cli-wasmedge", "WasmEdge/WasmEdge"),
        ("cli-wasm3", "wasm3/wasm3"),
    ] {
        let on_path = std::env::var_os("PATH").is_some_and(|p| {
            std::env::split_paths(&p).any(|d| d.join(id.trim_start_matches("cli-")).is_file())
        });
        if !on_path {
            assert!(row(id).contains(" no "), "{}", row(id));
            assert!(
                listing.contains(install),
                "{id}: no install command in\n{listing}"
            );
        }
    }
    // Runtime versions built on demand: with none built (an empty versions
    // directory), each is listed unavailable with the command that builds it.
    let empty = tmpdir("no-versions");
    let out = Command::new(bin())
        .arg("targets")
        .env("COLDBENCH_VERSIONS_DIR", &empty)
        .output()
        .unwrap();
    assert!(out.status.success());
    let listing = String::from_utf8_lossy(&out.stdout);
    for (id, command) in [
        (
            "wasmtime@50-pooling",
            "build-runtime-version.sh wasmtime 50",
        ),
        ("wasmtime@36-aot", "build-runtime-version.sh wasmtime 36"),
        (
            "wasmer@7.5-cranelift",
            "build-runtime-version.sh wasmer 7.5",
        ),
    ] {
        let row = listing
            .lines()
            .find(|l| l.contains(&format!(" {id} ")))
            .unwrap_or_else(|| panic!("{id} not listed:\n{listing}"));
        assert!(row.contains(" no "), "{row}");
        assert!(
            listing.replace(['│', '\n'], "").contains(command) || listing.contains(command),
            "{id}: no build command in\n{listing}"
        );
    }
    let _ = std::fs::remove_dir_all(&empty);
}

/// Containers coldbench left in containerd's `coldbench` namespace, as
/// containerd's own CLI lists them.
fn containerd_leftovers() -> Vec<String> {
    let socket = coldbench::targets::containerd::socket();
    let out = Command::new("ctr")
        .arg("--address")
        .arg(&socket)
        .args(["--namespace", "coldbench", "containers", "list", "--quiet"])
        .output()
        .expect("ctr (Debian containerd)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}

#[test]
fn containerd_runc_its_warm_exec_and_the_wasm_shim_run_real_inputs_with_their_phases() {
    let _g = DOCKER_LOCK.lock().unwrap_or_else(|p| p.into_inner());
    if !docker_up() {
        return;
    }
    let ids = [
        "containerd-runc",
        "containerd-exec-runc",
        "containerd-wasm-wamr",
    ];
    let listing = targets_listing();
    let available = |id: &str| {
        listing
            .lines()
            .any(|l| l.contains(&format!(" {id} ")) && l.contains(" yes "))
    };
    if !required() && !ids.iter().all(|id| available(id)) {
        eprintln!(
            "skipping: containerd or its Wasm shim unavailable (harness/build.rs builds the shim: see target/nested/logs/shim-wamr.log)"
        );
        return;
    }
    let run = family_run("fam-containerd", &ids.join(","), &ids);
    for id in ids {
        let rec = run.targets.iter().find(|r| r.id == id).unwrap();
        assert_eq!(rec.runtime, "containerd");
        assert!(
            rec.knobs["runtime"].starts_with("io.containerd."),
            "{:?}",
            rec.knobs
        );
        // The exec variant's start is a process in the container it
        // started at prepare, by phases of its own.
        let start = rec.start.clone().expect("start path recorded");
        if id == "containerd-exec-runc" {
            assert_eq!(
                start.kind,
                coldbench_results::StartKind::ProcessInWarmContainer
            );
            assert_phases_add_up(&run, "hash", id, &EXEC_PHASES);
        } else {
            assert_ne!(
                start.kind,
                coldbench_results::StartKind::ProcessInWarmContainer
            );
            assert_phases_add_up(&run, "hash", id, &CONTAINER_PHASES);
        }
    }
    assert!(
        containerd_leftovers().is_empty(),
        "left in containerd: {:?}",
        containerd_leftovers()
    );
}

#[test]
fn node_v8_runs_real_inputs_and_reports_its_own_phases() {
    let node = Command::new("node").arg("--version").output();
    if node.is_err() && !required() {
        eprintln!("skipping: no node on PATH");
        return;
    }
    let run = family_run("fam-node", "node", &["node"]);
    for m in [
        Metric::TRuntimeBoot,
        Metric::TRunnerModule,
        Metric::TRunnerInstantiate,
    ] {
        assert!(
            run.result("hash", "node", m).is_some(),
            "node runner did not report {}",
            m.name()
        );
    }
}

#[test]
fn docker_family_images_runtimes_and_networks_run_real_inputs() {
    let _g = DOCKER_LOCK.lock().unwrap_or_else(|p| p.into_inner());
    if !docker_up() {
        return;
    }
    // What this host offers, as `coldbench targets` reports it.
    let listing = Command::new(bin()).arg("targets").output().unwrap();
    assert!(listing.status.success());
    let listing = String::from_utf8_lossy(&listing.stdout).into_owned();
    let available = |id: &str| {
        listing
            .lines()
            .any(|l| l.contains(&format!(" {id} ")) && l.contains(" yes "))
    };
    if Path::new("/sys/fs/cgroup/unified").is_dir()
        && !Path::new("/sys/fs/cgroup/cgroup.controllers").exists()
    {
        let crun = listing
            .lines()
            .find(|l| l.contains(" docker-scratch-crun-none "))
            .expect("crun variant listed");
        assert!(
            crun.contains(" no ") && crun.contains("hybrid"),
            "crun on a hybrid cgroup host must be unavailable with the reason: {crun}"
        );
    }
    let mut want = vec!["docker-scratch-runc-none", "docker-scratch-runc-bridge"];
    for id in [
        "docker-debian-runc-bridge",
        "docker-scratch-runsc-none",
        "docker-debian-runsc-bridge",
    ] {
        if available(id) || required() {
            want.push(id);
        } else {
            eprintln!("skipping {id}: unavailable on this host");
        }
    }
    let run = family_run("fam-docker", &want.join(","), &want);
    let table = coldbench_reports::full(&run);
    for id in &want {
        // Where a container start's time goes: engine create, attach, the
        // OCI runtime's start, then the workload up to its ready line.
        assert_phases_add_up(&run, "hash", id, &CONTAINER_PHASES);
        assert!(table.contains("t_container_start"), "{table}");
        let rec = run.targets.iter().find(|r| r.id == *id).unwrap();
        let knob = |k: &str| rec.knobs.get(k).cloned().unwrap_or_default();
        let mut parts = id.split('-').skip(1);
        let (image, runtime, network) = (
            parts.next().unwrap(),
            parts.next().unwrap(),
            parts.next().unwrap(),
        );
        assert!(knob("image").starts_with(if image == "debian" {
            "coldbench/debian-base"
        } else {
            "scratch"
        }));
        assert_eq!(knob("oci_runtime"), runtime);
        assert_eq!(knob("network_mode"), network);
        if image == "debian" {
            assert!(rec.artifacts.iter().any(|a| a.kind.name() == "base_image"));
        }
    }
    // A Debian image is the size of a distribution, a scratch one the size of a binary.
    let size = |id: &str| {
        run.targets
            .iter()
            .find(|r| r.id == id)
            .and_then(|r| {
                r.artifacts
                    .iter()
                    .find(|a| a.kind.name() == "image" && a.workload == "hash")
            })
            .map(|a| a.bytes)
    };
    if let (Some(s), Some(d)) = (
        size("docker-scratch-runc-bridge"),
        size("docker-debian-runc-bridge"),
    ) {
        assert!(d > 10 * s, "debian image {d} B vs scratch {s} B");
    }
    assert!(labelled_containers().is_empty(), "containers left behind");
}

/// The phases of an exec in a warm container, in order.
const EXEC_PHASES: [Metric; 3] = [Metric::TExecCreate, Metric::TExecStart, Metric::TExecReady];

/// The warm path of a container: the workload exec'd in a container started
/// at prepare, on real inputs, verified; its start path says so (a process
/// in a warm container, the container running before the clock); the exec
/// phases add up to `t_ready`; a new container beside it records the other
/// kind; and the warm containers are gone afterwards.
#[test]
fn docker_exec_runs_real_inputs_in_a_warm_container() {
    use coldbench_results::{BeforeClock, StartKind};
    let _g = DOCKER_LOCK.lock().unwrap_or_else(|p| p.into_inner());
    if !docker_up() {
        return;
    }
    let ids = ["docker-exec-scratch-runc", "docker-scratch-runc-none"];
    let run = family_run("fam-docker-exec", &ids.join(","), &ids);
    assert_phases_add_up(&run, "hash", ids[0], &EXEC_PHASES);
    let start = |id: &str| {
        run.targets
            .iter()
            .find(|t| t.id == id)
            .and_then(|t| t.start.clone())
            .unwrap_or_else(|| panic!("{id}: no start path recorded"))
    };
    let exec = start(ids[0]);
    assert_eq!(exec.kind, StartKind::ProcessInWarmContainer);
    assert!(exec.before_clock.contains(&BeforeClock::ContainerRunning));
    let new = start(ids[1]);
    assert_eq!(new.kind, StartKind::NewContainer);
    assert!(!new.before_clock.contains(&BeforeClock::ContainerRunning));
    assert!(
        labelled_containers().is_empty(),
        "warm containers left behind"
    );
}

/// `coldbench throughput` on real inputs: every row × target × mode has
/// requests/s with an interval, latency percentiles and (except native) the
/// slowdown against native from the same run; the iterated-hash row exists for
/// the interpreter and a compiling runtime; every response was verified; the
/// results file matches its schema; and no container is left.
#[test]
fn throughput_both_modes_report_rates_latencies_and_slowdown() {
    let _g = DOCKER_LOCK.lock().unwrap_or_else(|p| p.into_inner());
    let docker = docker_up();
    let inputs = small_real_inputs("tp-in");
    let out = tmpdir("tp");
    let targets = if docker {
        "native,wasmtime-pooling,wasmi,docker-scratch-runc-none"
    } else {
        "native,wasmtime-pooling,wasmi"
    };
    let mut cmd = Command::new(bin());
    cmd.args([
        "throughput",
        "--workloads",
        "noop,hash",
        "--targets",
        targets,
    ])
    .args([
        "--clients",
        "2",
        "--duration-s",
        "0.3",
        "--min-requests",
        "4",
    ])
    .args(["--max-cell-s", "30", "--warmup-requests", "1"])
    .arg("--inputs")
    .arg(&inputs)
    .arg("--out")
    .arg(&out);
    let (stdout, run) = run_ok(cmd, &out);
    assert!(run.errors.is_empty(), "errors: {:#?}", run.errors);
    let ids: Vec<&str> = targets.split(',').collect();
    for mode in [
        coldbench_results::ThroughputMode::Reused,
        coldbench_results::ThroughputMode::InstancePerRequest,
    ] {
        for row in ["noop", "hash", "hash-iterated"] {
            for t in &ids {
                let r = run
                    .throughput_cells()
                    .iter()
                    .find(|r| r.row == row && r.target == *t && r.mode == mode)
                    .unwrap_or_else(|| panic!("no cell {row} / {t} / {mode:?}"));
                assert!(r.requests >= 4, "{row} {t} {mode:?}: {}", r.requests);
                // By Little's law (closed loop: at most one request per
                // client in flight) rps × mean latency — the latencies timed
                // one by one, apart from the count — cannot exceed the
                // clients (5 % for HDR rounding). The count and the window
                // themselves are checked against the targets' own stamps in
                // `experiment::tests` (requests_per_second_and_slowdown_…).
                let in_flight = r.rps * r.latency.mean_ns / 1e9;
                assert!(
                    in_flight > 0.0 && in_flight <= f64::from(r.clients) * 1.05,
                    "{row} {t} {mode:?}: {in_flight} requests in flight on average with {} clients",
                    r.clients
                );
                assert!(r.latency.p50_ns > 0 && r.latency.p50_ns <= r.latency.p99_ns);
                assert_eq!(r.mismatched, 0);
                assert_eq!(r.clients, 2);
                if *t == "native" {
                    assert!(r.slowdown_vs_native.is_none());
                } else {
                    let s = r.slowdown_vs_native.expect("slowdown vs native");
                    assert!(s.ratio.is_finite() && s.ratio > 0.0, "{row} {t}: {s:?}");
                    // An interpreter doing 1,000 SHA-256 passes per request
                    // is many times slower than native code doing them (and
                    // its start is slower too), so no busy host brings it to
                    // 1×; a ratio taken the wrong way round reads < 1.
                    if *t == "wasmi" && row == "hash-iterated" {
                        assert!(s.ratio > 1.0, "{mode:?}: wasmi {s:?} against native");
                    }
                }
            }
        }
    }
    // Every verified response counted per workload × target.
    for t in &ids {
        let v = run
            .verification
            .iter()
            .find(|v| v.workload == "hash" && v.target == *t)
            .unwrap();
        assert!(v.verified > 0 && v.mismatched == 0, "{v:?}");
    }
    assert!(stdout.contains("Harness overhead"), "{stdout}");
    assert!(stdout.contains("hash-iterated"));
    if docker {
        assert!(labelled_containers().is_empty(), "containers left");
    }
    let _ = std::fs::remove_dir_all(&out);
    let _ = std::fs::remove_dir_all(&inputs);
}

#[test]
fn density_samples_memory_three_ways_and_leaves_nothing_behind() {
    let _g = DOCKER_LOCK.lock().unwrap_or_else(|p| p.into_inner());
    let docker = docker_up();
    let targets = if docker {
        "native,wasmtime-pooling,docker-scratch-runc-none"
    } else {
        "native,wasmtime-pooling"
    };
    let inputs = small_real_inputs("density-in");
    let out = tmpdir("density");
    let tag = format!("density-{}", std::process::id());
    let mut cmd = density_command("noop,thumbnail", targets, &out, &tag);
    cmd.args(["--max-instances", "12"])
        .arg("--inputs")
        .arg(&inputs);
    let (stdout, run) = run_ok(cmd, &out);
    assert!(stdout.contains("host/inst") && stdout.contains("projected per host"));
    let cfg = &run.density.as_ref().expect("density section").config;
    assert_eq!(cfg.steps, vec![1, 2, 5, 10]);
    for t in targets.split(',') {
        for w in ["noop", "thumbnail"] {
            let s = run
                .density_series()
                .iter()
                .find(|s| s.workload == w && s.target == t)
                .unwrap_or_else(|| panic!("no density series for {w} on {t}: {:#?}", run.errors));
            assert_eq!(
                (s.instances, s.stop_reason.name()),
                (12, "max_instances"),
                "{w} {t}: {}",
                s.stop_detail
            );
            let ns: Vec<u64> = s.samples.iter().map(|x| x.instances).collect();
            assert_eq!(ns, vec![1, 2, 5, 10, 12], "{w} {t}");
            assert_eq!(s.t_ready.n, 12);
            let v = run
                .verification
                .iter()
                .find(|v| v.workload == w && v.target == t)
                .unwrap();
            assert_eq!((v.verified, v.mismatched), (12, 0), "{w} {t}");
            let fig = |src: &str| {
                s.bytes_per_instance
                    .iter()
                    .find(|f| f.source.name() == src)
                    .map(|f| f.bytes_per_instance)
            };
            assert!(fig("host_mem_available").is_some(), "{w} {t}");
            // Every live instance holds resident memory of its own.
            let pss = fig("pss").unwrap_or_else(|| panic!("{w} {t}: no PSS"));
            assert!(pss > 0.0, "{w} {t}: PSS per instance {pss}");
            assert!(fig("uss").is_some_and(|u| u > 0.0), "{w} {t}");
            match t {
                "wasmtime-pooling" => {
                    let lin = fig("linear_memory").expect("linear memory reported");
                    assert!(lin >= 65536.0 && lin % 65536.0 == 0.0, "{w}: {lin}");
                }
                "native" => {
                    assert!(fig("linear_memory").is_none() && fig("docker_stats").is_none())
                }
                _ => {
                    assert!(fig("docker_stats").is_some_and(|b| b > 0.0), "{w} {t}");
                    assert!(fig("cgroup").is_some_and(|b| b > 0.0), "{w} {t}");
                    // Container scope: init process + containerd shim at least.
                    let procs = s.samples.last().unwrap().processes.unwrap();
                    assert!(procs >= 2 * 12, "{w} {t}: {procs} processes");
                }
            }
            assert!(s.projection.as_ref().is_some_and(|p| p.instances > 0));
            assert_eq!(s.teardown_failed, 0);
        }
    }
    // Decoding a photo grows the guest's linear memory; the runtime's count shows it.
    let lin = |w: &str| {
        run.density_series()
            .iter()
            .find(|s| s.workload == w && s.target == "wasmtime-pooling")
            .and_then(|s| s.samples.last()?.engine_bytes)
            .unwrap()
    };
    assert!(
        lin("thumbnail") > lin("noop"),
        "{} vs {}",
        lin("thumbnail"),
        lin("noop")
    );
    assert_nothing_left(&tag, docker);
    let _ = std::fs::remove_dir_all(&out);
    let _ = std::fs::remove_dir_all(&inputs);
}

/// A series of native processes under an open-files limit of 128 (soft and
/// hard, so the harness cannot raise it): it stops on `open_files` one
/// instance short of 95 % of the limit, says which limit in its detail,
/// records the limit and the descriptors it counted, and tears every
/// instance down. With the check removed the series runs on until a start
/// fails on EMFILE (`start_failed`).
#[test]
fn density_stops_short_of_the_harness_open_files_limit() {
    let out = tmpdir("density-nofile");
    let tag = format!("density-nofile-{}", std::process::id());
    let mut cmd = Command::new("sh");
    cmd.arg("-c")
        .arg("ulimit -Sn 128 && ulimit -Hn 128 && exec \"$0\" \"$@\"")
        .arg(bin())
        .args(["density", "--workloads", "noop", "--targets", "native"])
        .args(["--max-instances", "500"])
        .arg("--out")
        .arg(&out)
        .env("COLDBENCH_TEST_TAG", &tag);
    let (_, run) = run_ok(cmd, &out);
    let d = run.density.as_ref().expect("density section");
    assert_eq!(d.config.harness_open_files_limit, Some(128));
    let s = &d.series[0];
    assert_eq!(s.stop_reason.name(), "open_files", "{}", s.stop_detail);
    assert!(s.stop_detail.contains("RLIMIT_NOFILE"), "{}", s.stop_detail);
    let last = s.samples.last().unwrap();
    let fds = last.harness_open_files.expect("descriptors counted");
    // Stopped while one more instance still fitted under 95 % of 128.
    assert!(
        fds <= 121 && fds > 121 - 16,
        "{fds} descriptors at {} instances",
        s.instances
    );
    assert!(s.instances >= 10, "{} instances", s.instances);
    assert_eq!(s.teardown_failed, 0);
    assert_nothing_left(&tag, false);
    let _ = std::fs::remove_dir_all(&out);
}

#[test]
fn interrupted_density_keeps_its_series_and_tears_everything_down() {
    let _g = DOCKER_LOCK.lock().unwrap_or_else(|p| p.into_inner());
    if !docker_up() {
        return;
    }
    let out = tmpdir("density-int");
    let tag = format!("density-int-{}", std::process::id());
    let child = density_command("noop", "native,docker-scratch-runc-none", &out, &tag)
        .args(["--max-instances", "1000", "--max-per-target", "native=50"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Native's series first, then containers accumulate: interrupt mid-series.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(180);
    while labelled_containers().len() < 4 && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    interrupt_expecting_130(child);
    let path = out.join("run.json");
    validate_schema(&path);
    let run = RunFile::read(&path).unwrap();
    assert!(run.interrupted);
    let native = run
        .density_series()
        .iter()
        .find(|s| s.target == "native")
        .unwrap();
    assert_eq!(
        (native.instances, native.stop_reason.name()),
        (50, "target_max")
    );
    let d = run
        .density_series()
        .iter()
        .find(|s| s.target == "docker-scratch-runc-none")
        .expect("the interrupted series is kept");
    assert_eq!(d.stop_reason.name(), "interrupted");
    assert!(d.instances >= 4, "{} instances", d.instances);
    assert_eq!(d.samples.last().unwrap().instances, d.instances);
    assert!(
        labelled_containers().is_empty(),
        "containers left after Ctrl-C"
    );
    assert!(
        tagged_processes(&tag).is_empty(),
        "left: {:?}",
        tagged_processes(&tag)
    );
    let _ = std::fs::remove_dir_all(&out);
}

/// `coldbench --suite default --smoke`: the default suite's whole plan (every
/// representative target, cold start on noop and one real case per
/// workload, a density series per family, hash-iterated reused and noop
/// instance-per-request throughput) with tiny budgets, on real runtimes and
/// real Docker, in one run writing one schema-valid `run.json` with three
/// sections — and nothing left behind.
#[test]
fn default_suite_plan_runs_every_experiment_in_one_run() {
    let _g = DOCKER_LOCK.lock().unwrap_or_else(|p| p.into_inner());
    let docker = docker_up();
    let out = tmpdir("suite");
    let tag = format!("suite-{}", std::process::id());
    let mut cmd = Command::new(bin());
    cmd.args(["--suite", "default", "--smoke", "--quiet"])
        .arg("--out")
        .arg(&out)
        .env("COLDBENCH_TEST_TAG", &tag);
    let o = cmd.output().unwrap();
    let stdout = String::from_utf8_lossy(&o.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&o.stderr).into_owned();
    assert!(o.status.success(), "suite failed:\n{stdout}\n{stderr}");
    assert!(stderr.is_empty(), "--quiet printed on stderr: {stderr}");
    let path = out.join("run.json");
    validate_schema(&path);
    let run = RunFile::read(&path).unwrap();
    let suite = run.suite.as_ref().expect("suite recorded");
    assert_eq!(suite.name, "default");
    assert!(suite.expected_duration_ns > 0 && !suite.plan.is_empty());
    use coldbench_results::{DensityStop, Experiment, ThroughputMode};
    assert_eq!(
        run.experiments(),
        vec![
            Experiment::ColdStart,
            Experiment::Density,
            Experiment::Throughput
        ]
    );
    let expected: Vec<&str> = coldbench::suite::DEFAULT_TARGETS
        .iter()
        .copied()
        .filter(|t| docker || !(t.starts_with("docker") || t.starts_with("containerd")))
        .collect();
    if docker {
        assert!(run.errors.is_empty(), "errors: {:#?}", run.errors);
    }
    for t in &expected {
        // Cold start: noop and one real case of every workload, 2 starts each.
        for w in ["noop", "thumbnail", "json-validate", "hash"] {
            let r = run
                .result(w, t, Metric::TReady)
                .unwrap_or_else(|| panic!("no cold start of {w} on {t}"));
            assert_eq!(r.summary.n, 2, "{w} {t}");
        }
        // Density: a noop series per target, capped at 3 by --smoke.
        let s = run
            .density_series()
            .iter()
            .find(|s| s.workload == "noop" && s.target == *t)
            .unwrap_or_else(|| panic!("no density series on {t}"));
        assert_eq!(
            (s.instances, s.stop_reason),
            (3, DensityStop::TargetMax),
            "{t}"
        );
        // Throughput: the two cells of the default plan.
        for (row, mode) in [
            ("hash-iterated", ThroughputMode::Reused),
            ("noop", ThroughputMode::InstancePerRequest),
        ] {
            let c = run
                .throughput_cells()
                .iter()
                .find(|c| c.row == row && c.mode == mode && c.target == *t)
                .unwrap_or_else(|| panic!("no {row} {mode:?} cell on {t}"));
            assert!(c.requests >= 2 && c.mismatched == 0, "{t} {row}");
        }
    }
    // Only the real workload's series of the plan beside noop's.
    assert!(
        run.density_series()
            .iter()
            .all(|s| s.workload == "noop" || s.workload == "thumbnail")
    );
    for part in ["Cold start", "Density", "Throughput", "Results:"] {
        assert!(stdout.contains(part), "summary lacks {part}:\n{stdout}");
    }
    // The ledger on the run just made (not a frozen fixture): the 770x
    // sentence gets a like-for-like figure of each pairing this suite has,
    // and no cross-kind figure decides it.
    use coldbench_reports::claims::{self, Pairing};
    let all = claims::parse(claims::SHIPPED_CLAIMS, "claims.toml").unwrap();
    let c = all
        .iter()
        .find(|c| c.id == "container-vs-wasm-770x")
        .unwrap();
    let v = claims::check(c, &[&run]);
    let pairings: Vec<Pairing> = v.figures.iter().filter_map(|f| f.pairing).collect();
    let mut want = vec![Pairing::ProcessVsContainer];
    if docker {
        want.extend([Pairing::WarmHost, Pairing::SameEngine]);
    }
    for p in want {
        assert!(pairings.contains(&p), "no {p:?} pair: {:#?}", v.figures);
    }
    for f in &v.figures {
        let cross = matches!(f.pairing, Some(Pairing::CrossKind(..)));
        assert_eq!(f.decides(), !cross, "{}", f.label);
    }
    assert!(stdout.contains("The three answers"), "{stdout}");
    assert_nothing_left(&tag, docker);
    let _ = std::fs::remove_dir_all(&out);
}

/// `coldbench report` on bad input: a truncated results file, a file that
/// is not JSON, JSON that is not a results file, and a file from a newer
/// schema each exit non-zero with an error naming the file — and leave no
/// report behind. A file written before the experiment sections existed
/// (schema version 1) renders.
#[test]
fn report_refuses_bad_results_files_by_name_and_writes_nothing() {
    let dir = tmpdir("report-bad");
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("../results/tests/fixtures/v1");
    let good = std::fs::read(fixtures.join("coldstart.json")).unwrap();
    let cases: [(&str, Vec<u8>, &str); 4] = [
        (
            "truncated.json",
            good[..good.len() / 2].to_vec(),
            "not a coldbench results file",
        ),
        (
            "notes.json",
            b"these are my notes, not JSON".to_vec(),
            "not a coldbench results file",
        ),
        (
            "package.json",
            br#"{"name": "x", "version": "1.0.0"}"#.to_vec(),
            "no schema_version",
        ),
        (
            "future.json",
            br#"{"schema_version": 99}"#.to_vec(),
            "update coldbench",
        ),
    ];
    for (name, bytes, says) in cases {
        let path = dir.join(name);
        std::fs::write(&path, bytes).unwrap();
        let out = dir.join(format!("out-{name}"));
        let o = Command::new(bin())
            .args(["report", "--format", "markdown,html", "--out"])
            .arg(&out)
            .arg(fixtures.join("coldstart.json"))
            .arg(&path)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(1), "{name}: {err}");
        assert!(err.contains(name) && err.contains(says), "{name}: {err}");
        assert!(!out.exists(), "{name}: a partial report was left behind");
    }
    // Version 1 renders, with the claims its data decides.
    let out = dir.join("out-v1");
    let o = Command::new(bin())
        .args(["report", "--format", "terminal,markdown", "--out"])
        .arg(&out)
        .arg(fixtures.join("coldstart.json"))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        stdout.contains("read from a schema-version-1 file"),
        "{stdout}"
    );
    assert!(stdout.contains("Claims ledger"));
    assert!(out.join("report.md").is_file());
    let _ = std::fs::remove_dir_all(&dir);
}

/// A variant this host cannot run, chosen by a prefix, is skipped with its
/// reason and leaves the exit status 0; named by its exact id it was asked
/// for, and the run exits 3 naming it. (WAMR's AOT and JIT are never built.)
#[test]
fn unavailable_variants_count_only_when_named_exactly() {
    let out = tmpdir("implicit");
    let run = |targets: &str, dir: &str| {
        let o = Command::new(bin())
            .args([
                "run",
                "--targets",
                targets,
                "--workloads",
                "noop",
                "--runs",
                "1",
            ])
            .args(["--warmup", "0", "--quiet", "--no-report", "--out"])
            .arg(out.join(dir))
            .output()
            .unwrap();
        (
            o.status.code(),
            String::from_utf8_lossy(&o.stderr).into_owned(),
        )
    };
    let (code, err) = run("wamr", "prefix");
    assert_eq!(code, Some(0), "{err}");
    assert!(
        err.contains("skipped (unavailable here): wamr-aot"),
        "{err}"
    );
    let (code, err) = run("wamr-interp,wamr-aot", "exact");
    assert_eq!(code, Some(3), "{err}");
    assert!(err.contains("not measured: noop × wamr-aot"), "{err}");
    let _ = std::fs::remove_dir_all(&out);
}

/// Bad arguments fail before anything is measured, with a message naming
/// what is wrong: an inputs directory that does not exist, an unknown
/// workload, a duration that cannot be honoured.
#[test]
fn bad_arguments_fail_before_measuring() {
    let out = tmpdir("bad-args");
    let run_dir = out.join("never");
    let empty = out.join("empty-inputs");
    std::fs::create_dir_all(&empty).unwrap();
    let empty_arg = empty.to_string_lossy().into_owned();
    // A 2 GiB input (sparse: no disk used), refused before it is read.
    let huge = out.join("huge-inputs");
    std::fs::create_dir_all(huge.join("blobs")).unwrap();
    std::fs::File::create(huge.join("blobs/two-gib.bin"))
        .unwrap()
        .set_len(2 << 30)
        .unwrap();
    let huge_arg = huge.to_string_lossy().into_owned();
    let cases: [(&[&str], &str); 8] = [
        (
            &["run", "--targets", "nosuch", "--workloads", "noop"],
            "unknown target `nosuch` (known: all, native",
        ),
        // A typo of a real id is told its closest ids.
        (
            &["run", "--targets", "wasmtime-pooing", "--workloads", "noop"],
            "unknown target `wasmtime-pooing`; did you mean `wasmtime-pooling`",
        ),
        (
            &["run", "--inputs", &huge_arg, "--workloads", "hash"],
            "two-gib.bin is 2048.0 MiB, over coldbench's 256 MiB per case",
        ),
        (
            &["run", "--inputs", "/nonexistent-coldbench-inputs"],
            "/nonexistent-coldbench-inputs",
        ),
        (
            &[
                "run",
                "--inputs",
                &empty_arg,
                "--workloads",
                "noop,thumbnail",
            ],
            "no case to measure for thumbnail (no .jpg/.jpeg/.png files under",
        ),
        (
            &["run", "--workloads", "noop,bogus"],
            "unknown workload `bogus`",
        ),
        (&["throughput", "--duration-s", "inf"], "--duration-s"),
        (&["density", "--time-limit-s", "inf"], "--time-limit-s"),
    ];
    for (args, says) in cases {
        let o = Command::new(bin())
            .args(args)
            .arg("--out")
            .arg(&run_dir)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(1), "{args:?}: {err}");
        assert!(err.contains(says), "{args:?}: {err}");
        assert!(
            !run_dir.join("run.json").exists(),
            "{args:?} measured something"
        );
    }
    let _ = std::fs::remove_dir_all(&out);
}

/// Runs from different hosts are not merged into one report unless asked.
#[test]
fn report_refuses_runs_of_different_hosts_unless_allowed() {
    let dir = tmpdir("report-hosts");
    let src =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../results/tests/fixtures/v1/coldstart.json");
    let mut other: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&src).unwrap()).unwrap();
    other["host"]["hostname"] = "another-machine".into();
    other["host"]["cpu_logical_cores"] = 64.into();
    let other_path = dir.join("other.json");
    std::fs::write(&other_path, serde_json::to_vec(&other).unwrap()).unwrap();
    let report = |extra: &[&str]| {
        Command::new(bin())
            .args(["report", "--format", "markdown", "--out"])
            .arg(dir.join("out"))
            .args(extra)
            .arg(&src)
            .arg(&other_path)
            .output()
            .unwrap()
    };
    let o = report(&[]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.contains("different hosts") && err.contains("another-machine"),
        "{err}"
    );
    assert!(!dir.join("out").exists());
    let o = report(&["--allow-mixed-hosts"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let md = std::fs::read_to_string(dir.join("out/report.md")).unwrap();
    assert!(
        md.contains("another-machine"),
        "the provenance names both hosts"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// The journal's lines whose `entry` is `entry`.
fn journal_entries(out: &Path, entry: &str) -> Vec<serde_json::Value> {
    journal_lines(out, |v| v["entry"] == entry)
}

/// A harness killed outright (SIGKILL) mid-experiment loses none of the
/// starts it finished: `run.json` is its last checkpoint (valid, marked in
/// progress), and `report` reads it with its journal — every `t_ready` the
/// journal holds at the kill is in the report's distribution, rendered
/// marked incomplete.
#[test]
fn a_killed_run_keeps_every_finished_start_and_reports_as_incomplete() {
    let out = tmpdir("killed");
    let tag = format!("killed-{}", std::process::id());
    let mut child = run_command("noop", "native", "1000000", "0", &out)
        .env("COLDBENCH_TEST_TAG", &tag)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let path = out.join("run.json");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(90);
    let t_ready = || {
        journal_entries(&out, "sample")
            .into_iter()
            .filter(|v| v["metric"] == "t_ready" && v["target"] == "native")
            .count() as u64
    };
    while t_ready() < 25 && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    child.kill().unwrap(); // SIGKILL: no final write
    child.wait().unwrap();
    let journalled = t_ready();
    assert!(journalled >= 25, "{journalled} starts journalled");
    validate_schema(&path);
    let checkpoint = RunFile::read(&path).unwrap();
    assert!(checkpoint.in_progress && !checkpoint.interrupted);
    let at_checkpoint = checkpoint
        .result("noop", "native", Metric::TReady)
        .map_or(0, |m| m.summary.n);
    let run = RunFile::read_run(&path).unwrap();
    let n = run
        .result("noop", "native", Metric::TReady)
        .map_or(0, |m| m.summary.n);
    assert_eq!(n, journalled, "checkpoint held {at_checkpoint}");
    assert!(n >= at_checkpoint);
    let report = Command::new(bin())
        .args(["report", "--format", "markdown", "--out"])
        .arg(out.join("report"))
        .arg(&out)
        .output()
        .unwrap();
    assert!(
        report.status.success(),
        "{}",
        String::from_utf8_lossy(&report.stderr)
    );
    let md = std::fs::read_to_string(out.join("report/report.md")).unwrap();
    assert!(
        md.contains("INCOMPLETE") || md.contains("incomplete"),
        "{md}"
    );
    assert!(
        md.contains("cold-start durations") && md.contains("replayed from journal.jsonl"),
        "the report says what was replayed: {md}"
    );
    // The next command reaps the runner-less native instance it left.
    let _ = Command::new(bin()).arg("targets").output().unwrap();
    assert_nothing_left(&tag, false);
    let _ = std::fs::remove_dir_all(&out);
}

/// A density series in flight when the harness is killed is kept as of its
/// last sampling step, with the `t_ready` of every instance started since,
/// stop reason `harness_stopped`; the instances it left are reaped by the
/// next command.
#[test]
fn a_killed_density_series_is_kept_as_of_its_last_step() {
    let out = tmpdir("killed-density");
    let tag = format!("killed-density-{}", std::process::id());
    let mut child = common::density_command("noop", "native", &out, &tag)
        .args(["--max-instances", "2000", "--time-limit-s", "300"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    let stepped = || {
        journal_entries(&out, "density_step")
            .last()
            .map_or(0, |v| v["instances"].as_u64().unwrap_or(0))
    };
    while stepped() < 50 && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let step = stepped();
    assert!(step >= 50, "last step {step}");
    let started = journal_entries(&out, "density_instance").len() as u64;
    let run = RunFile::read_run(&out.join("run.json")).unwrap();
    let s = run.density_series();
    assert_eq!(s.len(), 1, "{s:#?}");
    assert_eq!(
        s[0].stop_reason,
        coldbench_results::DensityStop::HarnessStopped
    );
    assert_eq!(s[0].instances, started);
    assert_eq!(s[0].t_ready.n, started);
    assert!(s[0].instances >= step);
    assert_eq!(s[0].samples.last().map(|x| x.instances), Some(step));
    assert!(!s[0].bytes_per_instance.is_empty());
    // Its instances (native processes) are reaped by the next command.
    let _ = Command::new(bin()).arg("targets").output().unwrap();
    assert_nothing_left(&tag, false);
    let _ = std::fs::remove_dir_all(&out);
}

/// Containers are confined by default — read-only root filesystem, every
/// capability dropped, no-new-privileges, user 65534, 1 GiB, 64 tasks — as
/// the engine itself reports for a live instance, and recorded as a knob;
/// `--container-hardening off` records Docker's defaults.
#[test]
fn containers_are_hardened_by_default_as_the_engine_reports() {
    let _g = DOCKER_LOCK.lock().unwrap_or_else(|p| p.into_inner());
    if !docker_up() {
        return;
    }
    let out = tmpdir("hardened");
    let tag = format!("hardened-{}", std::process::id());
    let mut child = density_command("noop", "docker-scratch-runc-none", &out, &tag)
        .args(["--max-instances", "5"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    let mut seen = None;
    while seen.is_none() && std::time::Instant::now() < deadline {
        for id in labelled_containers() {
            let o = Command::new("docker")
                .args([
                    "inspect",
                    "--format",
                    "{{.HostConfig.ReadonlyRootfs}} {{.HostConfig.CapDrop}} {{.HostConfig.SecurityOpt}} {{.Config.User}} {{.HostConfig.Memory}} {{.HostConfig.PidsLimit}}",
                    &id,
                ])
                .output()
                .unwrap();
            if o.status.success() {
                seen = Some(String::from_utf8_lossy(&o.stdout).trim().to_string());
                break;
            }
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert!(child.wait().unwrap().success());
    assert_eq!(
        seen.as_deref(),
        Some("true [ALL] [no-new-privileges] 65534:65534 1073741824 64")
    );
    let run = RunFile::read(&out.join("run.json")).unwrap();
    let t = run
        .targets
        .iter()
        .find(|t| t.id == "docker-scratch-runc-none")
        .unwrap();
    assert!(t.knobs["hardening"].contains("--read-only --cap-drop ALL"));
    let off = tmpdir("unhardened");
    let o = run_command("noop", "docker-scratch-runc-none", "1", "0", &off)
        .args(["--container-hardening", "off"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let run = RunFile::read(&off.join("run.json")).unwrap();
    assert_eq!(
        run.targets[0].knobs["hardening"].as_str(),
        "none (Docker defaults)"
    );
    assert_nothing_left(&tag, true);
    let _ = std::fs::remove_dir_all(&out);
    let _ = std::fs::remove_dir_all(&off);
}

#[test]
fn a_requested_pair_without_a_sample_exits_3_and_names_it() {
    // wasmer's Singlepass cannot compile json-validate's SIMD code (a known
    // gap of that compiler): the pair gets no sample, the rest is measured,
    // the results are kept and the exit status says the run is incomplete.
    let shipped = Path::new(env!("CARGO_MANIFEST_DIR")).join("../workloads/inputs");
    let inputs = tmpdir("incomplete-in");
    std::fs::create_dir_all(inputs.join("json/twitter")).unwrap();
    for f in ["document.json", "schema.json"] {
        std::fs::copy(
            shipped.join("json/twitter-parse").join(f),
            inputs.join("json/twitter").join(f),
        )
        .unwrap();
    }
    let out = tmpdir("incomplete");
    let mut cmd = run_command(
        "json-validate",
        "native,wasmer-singlepass,wasmer-cranelift",
        "2",
        "0",
        &out,
    );
    cmd.arg("--inputs").arg(&inputs).arg("--no-report");
    let o = cmd.output().unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(3), "{stderr}");
    assert!(
        stderr.contains("not measured: json-validate × wasmer-singlepass"),
        "{stderr}"
    );
    assert!(!stderr.contains("× wasmer-cranelift"), "{stderr}");
    let path = out.join("run.json");
    validate_schema(&path);
    let run = RunFile::read(&path).unwrap();
    assert!(
        run.result("json-validate", "wasmer-cranelift", Metric::TReady)
            .is_some_and(|r| r.summary.n == 2)
    );
    let missing = run.unmeasured();
    assert_eq!(missing.len(), 1, "{missing:?}");
    assert!(
        missing[0].reason.contains("not yet implemented: V128"),
        "{missing:?}"
    );
    let _ = std::fs::remove_dir_all(&out);
    let _ = std::fs::remove_dir_all(&inputs);
}
