//! Memory as Linux accounts it, read through the `procfs` crate: the host's
//! `MemAvailable`, a process's PSS and USS (`/proc/PID/smaps_rollup`), process
//! trees, memory cgroups, and the host's task count. Every size is bytes.

use procfs::process::Process;
use procfs::{Current, LoadAverage, Meminfo};
use std::collections::HashMap;
use std::path::PathBuf;

/// A memory reading that could not be taken; each names what it read.
#[derive(Debug, thiserror::Error)]
pub enum MemoryError {
    /// A kernel file or directory could not be read or parsed.
    #[error("cannot read {path}: {detail}")]
    Unreadable {
        /// What was read (`/proc/meminfo`, `/proc/<pid>/smaps_rollup`, …).
        path: String,
        /// The reader's error.
        detail: String,
    },
    /// `/proc/meminfo` has no `MemAvailable` (kernels before 3.14).
    #[error("/proc/meminfo has no MemAvailable (kernel older than 3.14)")]
    NoMemAvailable,
    /// None of a process's cgroup memory files could be read.
    #[error("process {pid}'s memory cgroup is not readable (tried {})", tried.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", "))]
    NoCgroupMemory {
        /// The process.
        pid: u32,
        /// The files tried (`memory.usage_in_bytes` on v1, `memory.current` on v2).
        tried: Vec<PathBuf>,
    },
}

impl MemoryError {
    fn unreadable(path: impl Into<String>, e: impl std::fmt::Display) -> MemoryError {
        MemoryError::Unreadable {
            path: path.into(),
            detail: e.to_string(),
        }
    }
}

/// The host's memory now (`/proc/meminfo`), bytes.
#[derive(Debug, Clone, Copy)]
pub struct HostMemory {
    /// `MemTotal`.
    pub total_bytes: u64,
    /// `MemAvailable`: what can be allocated without swapping (free + reclaimable).
    pub available_bytes: u64,
    /// `SwapTotal − SwapFree`.
    pub swap_used_bytes: u64,
}

impl HostMemory {
    /// Reads `/proc/meminfo`.
    ///
    /// Errors: `/proc/meminfo` unreadable, or a kernel without `MemAvailable` (before 3.14).
    pub fn read() -> Result<HostMemory, MemoryError> {
        let m = Meminfo::current().map_err(|e| MemoryError::unreadable("/proc/meminfo", e))?;
        Ok(HostMemory {
            total_bytes: m.mem_total,
            available_bytes: m.mem_available.ok_or(MemoryError::NoMemAvailable)?,
            swap_used_bytes: m.swap_total.saturating_sub(m.swap_free),
        })
    }
}

/// Proportional and unique set size of one process, bytes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Footprint {
    /// PSS: private pages plus each shared page divided by the number of processes mapping it.
    pub pss_bytes: u64,
    /// USS: `Private_Clean + Private_Dirty`, what the process alone holds.
    pub uss_bytes: u64,
}

impl std::ops::AddAssign for Footprint {
    fn add_assign(&mut self, o: Footprint) {
        self.pss_bytes += o.pss_bytes;
        self.uss_bytes += o.uss_bytes;
    }
}

/// PSS and USS of process `pid` from `/proc/PID/smaps_rollup`.
///
/// Errors: the process is gone, or reading another user's process without
/// the privilege to (`ptrace` access: run as that user or root).
pub fn footprint(pid: u32) -> Result<Footprint, MemoryError> {
    let rollup = Process::new(pid as i32)
        .and_then(|p| p.smaps_rollup())
        .map_err(|e| MemoryError::unreadable(format!("/proc/{pid}/smaps_rollup"), e))?;
    let mut f = Footprint::default();
    for m in &rollup.memory_map_rollup.0 {
        let get = |k: &str| m.extension.map.get(k).copied().unwrap_or(0);
        f.pss_bytes += get("Pss");
        f.uss_bytes += get("Private_Clean") + get("Private_Dirty");
    }
    Ok(f)
}

/// A snapshot of the host's process tree (pid → parent pid).
pub struct ProcessTable {
    children: HashMap<u32, Vec<u32>>,
    parent: HashMap<u32, u32>,
}

impl ProcessTable {
    /// Reads every `/proc/PID/stat`. Processes that exit meanwhile are skipped.
    ///
    /// Errors: `/proc` cannot be listed.
    pub fn read() -> Result<ProcessTable, MemoryError> {
        let mut children: HashMap<u32, Vec<u32>> = HashMap::new();
        let mut parent = HashMap::new();
        for p in
            procfs::process::all_processes().map_err(|e| MemoryError::unreadable("/proc", e))?
        {
            let Ok(stat) = p.and_then(|p| p.stat()) else {
                continue;
            };
            let (pid, ppid) = (stat.pid as u32, stat.ppid as u32);
            parent.insert(pid, ppid);
            children.entry(ppid).or_default().push(pid);
        }
        Ok(ProcessTable { children, parent })
    }

    /// Parent of `pid`, if it is in the snapshot.
    pub fn parent(&self, pid: u32) -> Option<u32> {
        self.parent.get(&pid).copied()
    }

    /// `root` and all its descendants.
    pub fn tree(&self, root: u32) -> Vec<u32> {
        let mut out = vec![root];
        let mut i = 0;
        while i < out.len() {
            if let Some(c) = self.children.get(&out[i]) {
                out.extend_from_slice(c);
            }
            i += 1;
        }
        out
    }
}

/// Memory usage of the memory cgroup `pid` belongs to, bytes:
/// `memory.usage_in_bytes` (cgroup v1, includes page cache) or `memory.current` (v2).
///
/// Errors: the process is gone, or its cgroup has no readable memory controller.
pub fn cgroup_memory_bytes(pid: u32) -> Result<u64, MemoryError> {
    let groups = Process::new(pid as i32)
        .and_then(|p| p.cgroups())
        .map_err(|e| MemoryError::unreadable(format!("/proc/{pid}/cgroup"), e))?;
    let mut candidates: Vec<PathBuf> = Vec::new();
    for g in &groups.0 {
        let rel = g.pathname.trim_start_matches('/');
        if g.controllers.iter().any(|c| c == "memory") {
            candidates.push(
                PathBuf::from("/sys/fs/cgroup/memory")
                    .join(rel)
                    .join("memory.usage_in_bytes"),
            );
        } else if g.hierarchy == 0 {
            candidates.push(
                PathBuf::from("/sys/fs/cgroup")
                    .join(rel)
                    .join("memory.current"),
            );
        }
    }
    for c in &candidates {
        if let Ok(s) = std::fs::read_to_string(c)
            && let Ok(v) = s.trim().parse()
        {
            return Ok(v);
        }
    }
    Err(MemoryError::NoCgroupMemory {
        pid,
        tried: candidates,
    })
}

/// Threads (kernel scheduling entities) on the host now (`/proc/loadavg`,
/// its fourth field's total); `None` if unreadable.
pub fn host_threads() -> Option<u64> {
    LoadAverage::current().ok().map(|l| u64::from(l.max))
}

/// The host's task limit: `min(kernel.pid_max, kernel.threads-max)` (every
/// thread takes a pid); `None` if neither is readable.
pub fn task_limit() -> Option<u64> {
    ["/proc/sys/kernel/pid_max", "/proc/sys/kernel/threads-max"]
        .iter()
        .filter_map(|p| std::fs::read_to_string(p).ok()?.trim().parse::<u64>().ok())
        .min()
}

/// `vm.max_map_count` (memory mappings per process), if readable.
pub fn max_map_count() -> Option<u64> {
    std::fs::read_to_string("/proc/sys/vm/max_map_count")
        .ok()?
        .trim()
        .parse()
        .ok()
}

/// `fs.file-max` (open files the whole host may hold), if readable.
pub fn file_max() -> Option<u64> {
    std::fs::read_to_string("/proc/sys/fs/file-max")
        .ok()?
        .trim()
        .parse()
        .ok()
}

/// Open files on the host now: file handles allocated, the first field of
/// `/proc/sys/fs/file-nr`; `None` if unreadable.
pub fn host_open_files() -> Option<u64> {
    std::fs::read_to_string("/proc/sys/fs/file-nr")
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// File descriptors this process holds now (`/proc/self/fd` entries, less
/// the one the listing itself opens); `None` if unreadable.
pub fn own_open_files() -> Option<u64> {
    let n = std::fs::read_dir("/proc/self/fd").ok()?.count() as u64;
    Some(n.saturating_sub(1))
}

/// Raises this process's open-files soft limit (`RLIMIT_NOFILE`) to its
/// hard limit, as a server holding one descriptor per client does, and
/// returns the soft limit now in force (`None`: unlimited or unreadable).
/// A density series holds the harness's ends of every live instance's
/// pipes, sockets or FIFOs: with a soft limit of 1,024 (a common default)
/// a series of native processes would stop at ~340 instances on the
/// harness's own descriptors, not on anything the host lacks.
pub fn raise_open_files_limit() -> Option<u64> {
    use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};
    let now = getrlimit(Resource::Nofile);
    if now.current != now.maximum {
        let _ = setrlimit(
            Resource::Nofile,
            Rlimit {
                current: now.maximum,
                maximum: now.maximum,
            },
        );
    }
    open_files_limit()
}

/// This process's open-files soft limit (`RLIMIT_NOFILE`) in force; `None`:
/// unlimited.
pub fn open_files_limit() -> Option<u64> {
    rustix::process::getrlimit(rustix::process::Resource::Nofile).current
}

/// Number of memory mappings (VMAs) of `pid` (`/proc/PID/maps` lines), if readable.
pub fn map_count(pid: u32) -> Option<u64> {
    let s = std::fs::read(format!("/proc/{pid}/maps")).ok()?;
    Some(s.iter().filter(|&&b| b == b'\n').count() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn own_process_has_a_footprint_and_the_host_has_memory() {
        let m = HostMemory::read().unwrap();
        assert!(m.available_bytes > 0 && m.available_bytes <= m.total_bytes);
        let f = footprint(std::process::id()).unwrap();
        assert!(f.pss_bytes > 0 && f.uss_bytes > 0 && f.uss_bytes <= f.pss_bytes + 4096);
        let t = ProcessTable::read().unwrap();
        let me = std::process::id();
        assert!(t.tree(t.parent(me).unwrap()).contains(&me));
        // Read independently: procps's `sysctl` and `ps`.
        let sysctl = |k: &str| -> u64 {
            let o = std::process::Command::new("sysctl")
                .args(["-n", k])
                .output()
                .unwrap();
            String::from_utf8_lossy(&o.stdout).trim().parse().unwrap()
        };
        assert_eq!(
            task_limit(),
            Some(sysctl("kernel.pid_max").min(sysctl("kernel.threads-max")))
        );
        let ps = || -> f64 {
            let o = std::process::Command::new("ps")
                .args(["-eL", "--no-headers"])
                .output()
                .unwrap();
            String::from_utf8_lossy(&o.stdout).lines().count() as f64
        };
        // Both read a moving host (a build beside it starts and ends
        // threads by the hundred): the reading must fall between two `ps`
        // listings taken around it (± 5 for ps's own threads) in at least
        // one of 50 tries. A reader of the wrong field (the runnable count,
        // the last pid) never does.
        let mut seen = Vec::new();
        let agreed = (0..50).any(|_| {
            let before = ps();
            let threads = host_threads().unwrap() as f64;
            let after = ps();
            seen.push((before, threads, after));
            threads >= before.min(after) - 5.0 && threads <= before.max(after) + 5.0
        });
        assert!(agreed, "(ps -eL, loadavg, ps -eL): {seen:?}");
    }
}
