//! The Docker engine, and then its containerd, restarted in the middle of a
//! run (its own test binary: no other test may use the engine meanwhile; one
//! restart at a time). Needs root; required in CI.

mod common;

use coldbench_results::{Metric, RunFile};
use common::{assert_nothing_left, bin, docker_up, journal_lines, tmpdir};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The first pid `lister` (pidof, pgrep) prints.
fn first_pid(lister: &mut Command) -> Option<u32> {
    let o = lister.output().ok()?;
    String::from_utf8_lossy(&o.stdout)
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

fn dockerd_pid() -> Option<u32> {
    first_pid(Command::new("pidof").arg("dockerd"))
}

const DOCKER: &str = "docker-scratch-runc-none";

/// One restart at a time: restarting dockerd restarts its containerd too.
static RESTART: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// A `t_ready` line of `target`.
fn is_sample(v: &serde_json::Value, target: &str) -> bool {
    v["entry"] == "sample" && v["metric"] == "t_ready" && v["target"] == target
}

/// `coldbench run` of `noop` on native and `target`, `runs` measured starts
/// each, tagged `tag`, results in `out`; returned once the journal holds 3
/// starts of `target` (at most 180 s), running on.
fn run_until_measuring(
    target: &str,
    runs: u32,
    out: &std::path::Path,
    tag: &str,
) -> std::process::Child {
    let child = Command::new(bin())
        .args([
            "run",
            "--workloads",
            "noop",
            "--targets",
            &format!("native,{target}"),
            "--runs",
            &runs.to_string(),
            "--warmup",
            "1",
            "--no-report",
            "--out",
        ])
        .arg(out)
        .env("COLDBENCH_TEST_TAG", tag)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let t0 = Instant::now();
    while journal_lines(out, |v| is_sample(v, target)).len() < 3 {
        assert!(
            t0.elapsed() < Duration::from_secs(180),
            "no {target} start measured within 180 s"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    child
}

/// The finished run of `child` (exit 0 required, schema-valid): every
/// native start measured; `target`'s measured starts and the messages of
/// its errors (its lost starts).
fn finished_run(
    child: std::process::Child,
    out: &std::path::Path,
    target: &str,
    runs: u32,
) -> (u64, Vec<String>) {
    let o = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    // Every requested pair got samples: the run went on after the outage.
    assert_eq!(o.status.code(), Some(0), "{stderr}");
    common::validate_schema(&out.join("run.json"));
    let run = RunFile::read(&out.join("run.json")).unwrap();
    let n = |t: &str| {
        run.result("noop", t, Metric::TReady)
            .map_or(0, |r| r.summary.n)
    };
    assert_eq!(n("native"), u64::from(runs));
    let lost = run
        .errors
        .iter()
        .filter(|e| e.target.as_deref() == Some(target))
        .map(|e| e.message.clone())
        .collect();
    (n(target), lost)
}

fn alive(pid: u32) -> bool {
    std::path::Path::new(&format!("/proc/{pid}")).exists()
}

/// Stops `dockerd` (SIGTERM, as a service manager would; at most 60 s) and
/// starts a new one with the repository's script; how long the engine was
/// gone, or what went wrong. Never panics (it also runs from a `Drop`).
fn try_restart_engine() -> Result<Duration, String> {
    let pid = dockerd_pid().ok_or("no dockerd runs")?;
    let t0 = Instant::now();
    let killed = Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .is_ok_and(|s| s.success());
    if !killed {
        return Err(format!("cannot signal dockerd {pid}"));
    }
    while alive(pid) {
        if t0.elapsed() >= Duration::from_secs(60) {
            return Err("dockerd did not stop within 60 s".into());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let script =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/start-docker.sh");
    match Command::new(script).status() {
        Ok(st) if st.success() => Ok(t0.elapsed()),
        _ => Err("scripts/start-docker.sh failed: the engine is down".into()),
    }
}

/// [`try_restart_engine`], asserted.
fn restart_engine() -> Duration {
    try_restart_engine().unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn a_restarted_docker_engine_costs_only_the_starts_it_interrupted() {
    let _one = RESTART.lock().unwrap_or_else(|p| p.into_inner());
    if !docker_up() {
        return;
    }
    let root = Command::new("id").arg("-u").output().unwrap().stdout == b"0\n";
    if !root {
        assert!(std::env::var_os("CI").is_none(), "CI runs as root");
        eprintln!("skipping: restarting dockerd needs root");
        return;
    }
    let out = tmpdir("daemon-restart");
    let tag = format!("daemon-{}", std::process::id());
    let runs = 120;
    // Restart once container starts are being measured: the run's journal
    // shows some.
    let mut child = run_until_measuring(DOCKER, runs, &out, &tag);
    let gone = restart_engine();
    // The premise: the run was still going when the engine came back (so
    // the outage fell inside it). A run that ended first says nothing about
    // the harness; it is a failure of this test's set-up, named as such.
    assert!(
        child.try_wait().unwrap().is_none(),
        "the run ended before the engine was back ({gone:?} after the kill): no outage to measure; {} container starts journalled",
        journal_lines(&out, |v| is_sample(v, DOCKER)).len()
    );
    let (containers, engine_errors) = finished_run(child, &out, DOCKER, runs);
    assert!(
        containers > 0 && containers < runs as u64,
        "{containers} container starts measured"
    );
    // The lost starts are errors that say what happened.
    assert!(!engine_errors.is_empty());
    assert!(
        engine_errors
            .iter()
            .any(|m| m.contains("Docker engine stopped answering")),
        "{engine_errors:#?}"
    );
    // While the engine was away, the native starts went on: in the
    // journal, between the error of the start the restart interrupted and
    // the next container start, native starts were measured.
    let lines = journal_lines(&out, |_| true);
    let lost = lines
        .iter()
        .position(|v| {
            v["entry"] == "error"
                && v["target"] == DOCKER
                && v["message"]
                    .as_str()
                    .is_some_and(|m| m.contains("stopped answering"))
        })
        .expect("the interrupted start's error is journalled");
    let resumed = lost
        + lines[lost..]
            .iter()
            .position(|v| is_sample(v, DOCKER))
            .expect("container starts resumed");
    let native_meanwhile = lines[lost..resumed]
        .iter()
        .filter(|v| is_sample(v, "native"))
        .count();
    assert!(
        native_meanwhile > 0,
        "no native start while the engine was away"
    );
    // Starts after the restart were measured: fewer lost than the restart lasted.
    assert_eq!(
        containers + engine_errors.len() as u64,
        runs as u64,
        "{engine_errors:#?}"
    );
    eprintln!(
        "engine gone {:.1} s; {containers} of {runs} container starts measured, {} lost, {native_meanwhile} native starts meanwhile: {engine_errors:#?}",
        gone.as_secs_f64(),
        engine_errors.len()
    );
    assert!(docker_up());
    assert_nothing_left(&tag, true);
    let _ = std::fs::remove_dir_all(&out);
}

/// Docker's containerd (the one coldbench's containerd targets use): its pid.
fn containerd_pid() -> Option<u32> {
    first_pid(Command::new("pgrep").args([
        "-f",
        "containerd --config /var/run/docker/containerd/containerd.toml",
    ]))
}

const CONTAINERD: &str = "containerd-runc";

/// containerd restarted in the middle of a run, as for Docker's engine
/// above: killed (SIGTERM), Docker's supervisor starts a new one; the start
/// it interrupted is lost and says so, the next ones wait for it (before
/// their clock) while native goes on, and every other start is measured.
#[test]
fn a_restarted_containerd_costs_only_the_starts_it_interrupted() {
    let _one = RESTART.lock().unwrap_or_else(|p| p.into_inner());
    if !docker_up() {
        return;
    }
    let root = Command::new("id").arg("-u").output().unwrap().stdout == b"0\n";
    let Some(pid) = containerd_pid().filter(|_| root) else {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI runs as root, with Docker's containerd"
        );
        eprintln!("skipping: needs root and Docker's containerd");
        return;
    };
    let out = tmpdir("containerd-restart");
    let tag = format!("containerd-{}", std::process::id());
    let runs = 60;
    // A containerd that dockerd's supervisor starts again inherits the
    // TMPDIR dockerd set for itself (/var/lib/docker/tmp, mode 0700), where
    // gVisor's sandbox cannot make its chroot: every runsc start fails
    // after ("cannot read client sync file"). The whole engine is restarted
    // when this test ends, however it ends, so that later tests get a
    // containerd as dockerd starts it.
    struct FreshEngine;
    impl Drop for FreshEngine {
        fn drop(&mut self) {
            if let Err(e) = try_restart_engine() {
                eprintln!("restarting the engine after the containerd test: {e}");
            }
        }
    }
    let _fresh = FreshEngine;
    let child = run_until_measuring(CONTAINERD, runs, &out, &tag);
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status()
            .unwrap()
            .success()
    );
    let killed = Instant::now();
    // Docker's supervisor starts another one.
    while containerd_pid().is_none_or(|p| p == pid) {
        assert!(
            killed.elapsed() < Duration::from_secs(60),
            "no new containerd within 60 s"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let (measured, lost) = finished_run(child, &out, CONTAINERD, runs);
    assert!(
        measured > 3 && measured + lost.len() as u64 == runs as u64,
        "{measured} measured, lost: {lost:#?}"
    );
    // Each lost start names containerd (a start, or the teardown of one,
    // the restart cut); the starts made while it was away waited instead.
    assert!(
        lost.iter().all(|m| m.contains("containerd"))
            && lost
                .iter()
                .any(|m| m.contains("containerd stopped answering")),
        "{lost:#?}"
    );
    eprintln!(
        "containerd restarted: {measured} of {runs} starts measured, {} lost",
        lost.len()
    );
    assert_nothing_left(&tag, true);
    let _ = std::fs::remove_dir_all(&out);
}
