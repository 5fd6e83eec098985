//! The host fingerprint written into every results file (docs/design.md §6).

use coldbench_results::{DockerEngineInfo, HostFingerprint};
use std::collections::BTreeMap;
use std::path::Path;
use sysinfo::System;

/// Cgroup layout of this host: `2` (unified), `hybrid` (v1 with a v2 mount) or `1`.
pub fn cgroup_version() -> String {
    let root = Path::new("/sys/fs/cgroup");
    if root.join("cgroup.controllers").exists() {
        "2".into()
    } else if root.join("unified").exists() {
        "hybrid".into()
    } else if root.exists() {
        "1".into()
    } else {
        "unknown".into()
    }
}

/// Reads CPU, memory, kernel and OS facts; `docker` and `runtime_versions` are filled by the caller.
pub fn fingerprint(
    docker: Option<DockerEngineInfo>,
    runtime_versions: BTreeMap<String, String>,
) -> HostFingerprint {
    let mut sys = System::new();
    sys.refresh_memory();
    sys.refresh_cpu_all();
    let cpu_model = sys
        .cpus()
        .first()
        .map(|c| c.brand().trim().to_string())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "unknown".into());
    HostFingerprint {
        hostname: System::host_name().unwrap_or_else(|| "unknown".into()),
        cpu_model,
        cpu_logical_cores: std::thread::available_parallelism()
            .map(|n| n.get() as u32)
            .unwrap_or(1),
        memory_total_bytes: sys.total_memory(),
        kernel: System::kernel_version().unwrap_or_else(|| "unknown".into()),
        os: System::long_os_version().unwrap_or_else(|| "unknown".into()),
        cgroup_version: cgroup_version(),
        docker,
        runtime_versions,
    }
}

/// `git rev-parse HEAD` of `repo`, or `unknown`.
pub fn git_revision(repo: &Path) -> String {
    std::process::Command::new("git")
        .arg("-C")
        .arg(repo)
        .args(["rev-parse", "HEAD"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_else(|| "unknown".into())
}
