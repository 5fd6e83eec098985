//! The host fingerprint written into every results file (docs/design.md §6).

use coldbench_results::{CpuIdle, DockerEngineInfo, HostFingerprint};
use std::collections::BTreeMap;
use std::path::Path;
use sysinfo::System;

/// Cgroup layout of a host, as `/sys/fs/cgroup` shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CgroupLayout {
    /// cgroup v2 only (`cgroup.controllers` at the root).
    Unified,
    /// cgroup v1 with a v2 hierarchy mounted at `unified/` (crun refuses it).
    Hybrid,
    /// cgroup v1 only.
    V1,
    /// No `/sys/fs/cgroup`.
    Unknown,
}

impl CgroupLayout {
    /// This host's layout.
    pub fn read() -> CgroupLayout {
        let root = Path::new("/sys/fs/cgroup");
        if root.join("cgroup.controllers").exists() {
            CgroupLayout::Unified
        } else if root.join("unified").exists() {
            CgroupLayout::Hybrid
        } else if root.exists() {
            CgroupLayout::V1
        } else {
            CgroupLayout::Unknown
        }
    }

    /// The name recorded in `run.json` (`host.cgroup_version`): `2`, `hybrid`, `1` or `unknown`.
    pub fn name(self) -> &'static str {
        match self {
            CgroupLayout::Unified => "2",
            CgroupLayout::Hybrid => "hybrid",
            CgroupLayout::V1 => "1",
            CgroupLayout::Unknown => "unknown",
        }
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
        cgroup_version: CgroupLayout::read().name().to_string(),
        docker,
        runtime_versions,
        cpu_idle: cpu_idle(),
    }
}

/// The kernel's idle-CPU policy from `/sys/devices/system/cpu/cpuidle` and,
/// with the guest halt-polling driver, its poll bound; `None` without cpuidle.
pub fn cpu_idle() -> Option<CpuIdle> {
    cpu_idle_at(std::path::Path::new("/"))
}

/// [`cpu_idle`] with sysfs under `root` (`/` on a host; a directory of the
/// same layout in tests). `None` where `sys/devices/system/cpu/cpuidle`
/// gives no driver (no cpuidle: containers, some guests).
pub fn cpu_idle_at(root: &std::path::Path) -> Option<CpuIdle> {
    let read = |p: &str| {
        std::fs::read_to_string(root.join(p.trim_start_matches('/')))
            .ok()
            .map(|s| s.trim().to_string())
    };
    let driver = read("/sys/devices/system/cpu/cpuidle/current_driver")?;
    let governor = read("/sys/devices/system/cpu/cpuidle/current_governor")
        .or_else(|| read("/sys/devices/system/cpu/cpuidle/current_governor_ro"))
        .unwrap_or_default();
    let guest_halt_poll_ns = read(HALT_POLL_NS).and_then(|v| v.parse().ok());
    Some(CpuIdle {
        driver,
        governor,
        guest_halt_poll_ns,
    })
}

/// Where a KVM guest's halt-polling bound lives (ns, writable by root).
pub const HALT_POLL_NS: &str = "/sys/module/haltpoll/parameters/guest_halt_poll_ns";

/// A warning for runs on a guest whose idle vCPUs halt at once
/// (`guest_halt_poll_ns` = 0): every cross-CPU wake-up then costs a VM exit
/// and entry, which lands in every start's hops. `None` otherwise.
pub fn cpu_idle_warning(idle: Option<&CpuIdle>) -> Option<String> {
    let idle = idle?;
    (idle.guest_halt_poll_ns == Some(0)).then(|| {
        format!(
            "this guest's idle vCPUs halt at once ({HALT_POLL_NS} = 0, cpuidle driver {}): \
             waking a thread on the other vCPU then costs ~22–26 µs more per hop, which every \
             start's phases carry; `sudo scripts/tune-host.sh` sets Linux's default (200000 ns) \
             — see README \"Why transport costs more on a VM\"",
            idle.driver
        )
    })
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

#[cfg(test)]
mod tests {
    use super::*;

    fn idle(poll: Option<u64>) -> CpuIdle {
        CpuIdle {
            driver: "haltpoll".into(),
            governor: "haltpoll".into(),
            guest_halt_poll_ns: poll,
        }
    }

    #[test]
    fn only_a_guest_whose_vcpus_halt_at_once_is_warned_about() {
        let w = cpu_idle_warning(Some(&idle(Some(0)))).expect("halt poll 0 warns");
        assert!(
            w.contains(HALT_POLL_NS) && w.contains("scripts/tune-host.sh"),
            "{w}"
        );
        assert_eq!(cpu_idle_warning(Some(&idle(Some(200_000)))), None);
        assert_eq!(cpu_idle_warning(Some(&idle(None))), None);
        assert_eq!(cpu_idle_warning(None), None);
    }

    #[test]
    fn cpuidle_is_read_where_sysfs_has_it_and_absent_where_not() {
        let root = std::env::temp_dir().join(format!("coldbench-sysfs-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        // No cpuidle directory: reported as absent, not as an empty driver.
        std::fs::create_dir_all(root.join("sys/devices/system/cpu")).unwrap();
        assert_eq!(cpu_idle_at(&root), None);
        let dir = root.join("sys/devices/system/cpu/cpuidle");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("current_driver"), "haltpoll\n").unwrap();
        std::fs::write(dir.join("current_governor_ro"), "haltpoll\n").unwrap();
        let module = root.join("sys/module/haltpoll/parameters");
        std::fs::create_dir_all(&module).unwrap();
        std::fs::write(module.join("guest_halt_poll_ns"), "0\n").unwrap();
        let i = cpu_idle_at(&root).expect("a driver");
        assert_eq!(i, idle(Some(0)));
        // This host: whatever it has, a driver read is one word.
        if let Some(i) = cpu_idle() {
            assert!(
                !i.driver.is_empty() && !i.driver.contains(char::is_whitespace),
                "{i:?}"
            );
        }
        let _ = std::fs::remove_dir_all(&root);
    }
}
