//! Leftovers of a killed harness, reaped by the next command. Its own test
//! binary: every coldbench command reaps what dead harnesses left, so a
//! concurrent test's command would race this one for the same leftovers
//! (test binaries run one after another).

mod common;
use common::*;
use std::process::Command;

/// A harness killed with SIGKILL cleans up nothing; the next coldbench
/// command (any: here `targets`) removes what it left — its runner and
/// workload processes and its containers — and says so in one line, while a
/// live run's instances are never touched (owner = pid + start time).
#[test]
fn leftovers_of_a_killed_harness_are_reaped_by_the_next_command() {
    let docker = docker_up();
    let out = tmpdir("reap");
    let tag = format!("reap-{}", std::process::id());
    let targets = if docker {
        "native,wasmtime-pooling,docker-scratch-runc-none"
    } else {
        "native,wasmtime-pooling"
    };
    let mut child = density_command("noop", targets, &out, &tag)
        .args([
            "--max-instances",
            "1000",
            "--max-per-target",
            "native=20,wasmtime-pooling=20",
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Idle instances accumulate: native processes, the wasmtime runner, and
    // (last in the series order) containers.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(180);
    // (Series run one after another and each tears its instances down:
    // with Docker, wait for containers; without, for processes.)
    let enough = || {
        if docker {
            labelled_containers().len() >= 3
        } else {
            tagged_processes(&tag).len() >= 3
        }
    };
    while !enough() && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    assert!(
        enough(),
        "the run did not get far enough: {:?}",
        tagged_processes(&tag)
    );
    child.kill().unwrap(); // SIGKILL: no clean-up runs
    child.wait().unwrap();
    let left_containers = if docker {
        settled_containers().len()
    } else {
        0
    };
    let left_processes = tagged_processes(&tag).len();
    assert!(
        left_processes + left_containers >= 3,
        "SIGKILL left nothing to reap? {left_processes} processes, {left_containers} containers"
    );
    let next = Command::new(bin()).arg("targets").output().unwrap();
    assert!(next.status.success());
    let stderr = String::from_utf8_lossy(&next.stderr);
    assert!(
        stderr.contains("left by coldbench run(s) that are gone"),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!("{left_containers} container(s)")),
        "{stderr} (expected {left_containers} containers)"
    );
    assert_nothing_left(&tag, docker);
    // And a second command finds nothing more.
    let again = Command::new(bin()).arg("targets").output().unwrap();
    assert!(!String::from_utf8_lossy(&again.stderr).contains("left by coldbench"));
    let _ = std::fs::remove_dir_all(&out);
}
