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

/// Busy and total CPU time of the whole host so far (`/proc/stat`, first
/// line), in clock ticks; `None` if unreadable.
fn cpu_ticks() -> Option<(u64, u64)> {
    use procfs::CurrentSI as _;
    let stat = procfs::KernelStats::current().ok()?;
    let t = stat.total;
    let idle = t.idle + t.iowait.unwrap_or(0);
    let total = t.user
        + t.nice
        + t.system
        + idle
        + t.irq.unwrap_or(0)
        + t.softirq.unwrap_or(0)
        + t.steal.unwrap_or(0);
    Some((total - idle, total))
}

/// How long [`settle`] waited and how busy the host was at the end.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Settled {
    /// Time spent waiting.
    pub waited: std::time::Duration,
    /// Busy fraction of all CPUs over the last 250 ms window (0..=1).
    pub busy: f64,
    /// Whether the host got quiet before `max`.
    pub quiet: bool,
}

/// Waits, at most `max`, until the whole host's CPUs are at most
/// `busy_fraction` busy over a 250 ms window (e.g. the kernel and the Docker
/// engine finishing the teardown of the previous experiment's containers
/// and network namespaces), so that the next experiment starts on a quiet
/// host. `None` if `/proc/stat` is unreadable.
pub fn settle(max: std::time::Duration, busy_fraction: f64) -> Option<Settled> {
    let t0 = std::time::Instant::now();
    let mut last = cpu_ticks()?;
    loop {
        std::thread::sleep(std::time::Duration::from_millis(250));
        let now = cpu_ticks()?;
        let busy = (now.0 - last.0) as f64 / (now.1 - last.1).max(1) as f64;
        last = now;
        let quiet = busy <= busy_fraction;
        if quiet || t0.elapsed() >= max {
            return Some(Settled {
                waited: t0.elapsed(),
                busy,
                quiet,
            });
        }
    }
}
