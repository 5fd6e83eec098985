//! Leftovers of a harness that died without cleaning up (SIGKILL, OOM
//! kill, power cut): its containers, runner and workload processes. Every
//! process coldbench spawns carries [`OWNER_ENV`] and every container the
//! label [`coldbench_containers::OWNER_LABEL_KEY`], both set to the
//! harness's [`owner`] id `<pid>:<start time>`; [`leftovers`], run at the
//! start of every coldbench command, removes what belongs to an owner that
//! is no longer running. The start time (clock ticks since boot, field 22
//! of `/proc/<pid>/stat`) makes a recycled pid a different owner: a live
//! process is never touched.

use std::collections::BTreeSet;
use std::sync::OnceLock;
use std::time::Duration;

/// Environment variable naming the harness that spawned a process.
pub const OWNER_ENV: &str = "COLDBENCH_OWNER";

/// This process's owner id, `<pid>:<start time in clock ticks since boot>`.
pub fn owner() -> &'static str {
    static OWNER: OnceLock<String> = OnceLock::new();
    OWNER.get_or_init(|| {
        let pid = std::process::id();
        let start = procfs::process::Process::myself()
            .and_then(|p| p.stat())
            .map(|s| s.starttime)
            .unwrap_or(0);
        format!("{pid}:{start}")
    })
}

/// True when `id` names a process that is still running (same pid, same
/// start time). A malformed id counts as alive: never reap what cannot be
/// attributed.
pub fn alive(id: &str) -> bool {
    let Some((pid, start)) = id
        .split_once(':')
        .and_then(|(p, s)| Some((p.parse::<i32>().ok()?, s.parse::<u64>().ok()?)))
    else {
        return true;
    };
    match procfs::process::Process::new(pid).and_then(|p| p.stat()) {
        Ok(stat) => stat.starttime == start,
        Err(_) => false,
    }
}

/// What [`leftovers`] removed.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Reaped {
    /// Containers removed.
    pub containers: usize,
    /// Processes killed.
    pub processes: usize,
    /// The owners (`pid:start`) they belonged to.
    pub owners: BTreeSet<String>,
}

impl Reaped {
    /// One line for a person, or `None` when nothing was left.
    pub fn line(&self) -> Option<String> {
        if self.containers == 0 && self.processes == 0 {
            return None;
        }
        let pids: Vec<&str> = self
            .owners
            .iter()
            .map(|o| o.split(':').next().unwrap_or(o))
            .collect();
        Some(format!(
            "removed {} container(s) and {} process(es) left by coldbench run(s) that are gone (harness pid {})",
            self.containers,
            self.processes,
            pids.join(", ")
        ))
    }
}

/// Kills every process whose environment names a dead owner, then asks every
/// target family to remove the containers labelled with one
/// ([`crate::targets::TargetFamily::reap_containers`]: Docker's, and
/// containerd's in its `coldbench` namespace, when the engine answers within
/// `docker_timeout`; otherwise they are left for the next command).
/// Processes of other users, or that exit meanwhile, are skipped.
pub fn leftovers(docker_timeout: Duration) -> Reaped {
    let me = owner();
    let mut out = Reaped::default();
    let mut victims = Vec::new();
    if let Ok(all) = procfs::process::all_processes() {
        for p in all.flatten() {
            let Ok(env) = p.environ() else { continue };
            let Some(id) = env.get(std::ffi::OsStr::new(OWNER_ENV)) else {
                continue;
            };
            let id = id.to_string_lossy().into_owned();
            if id != me && !alive(&id) {
                victims.push((p.pid, id));
            }
        }
    }
    if !victims.is_empty() {
        use sysinfo::{Pid, ProcessesToUpdate, System};
        let pids: Vec<Pid> = victims
            .iter()
            .map(|(p, _)| Pid::from_u32(*p as u32))
            .collect();
        let mut sys = System::new();
        sys.refresh_processes(ProcessesToUpdate::Some(&pids), true);
        for (pid, id) in &victims {
            if let Some(p) = sys.process(Pid::from_u32(*pid as u32))
                && p.kill()
            {
                out.processes += 1;
                out.owners.insert(id.clone());
            }
        }
    }
    let dead = |owner: &str| owner != me && !alive(owner);
    for family in crate::targets::FAMILIES {
        for owner in family.reap_containers(me, docker_timeout, &dead) {
            out.containers += 1;
            out.owners.insert(owner);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_is_alive_and_a_recycled_pid_is_not() {
        assert!(alive(owner()));
        let (pid, start) = owner().split_once(':').unwrap();
        let later: u64 = start.parse::<u64>().unwrap() + 1;
        assert!(!alive(&format!("{pid}:{later}")));
        // No such pid (above pid_max).
        assert!(!alive("4194305:1"));
        // What cannot be attributed is never reaped.
        assert!(alive("garbage"));
    }

    #[test]
    fn nothing_reaped_says_nothing() {
        assert_eq!(Reaped::default().line(), None);
        let r = Reaped {
            containers: 3,
            processes: 1,
            owners: BTreeSet::from(["1234:99".to_string()]),
        };
        assert!(
            r.line()
                .unwrap()
                .contains("3 container(s) and 1 process(es)")
        );
        assert!(r.line().unwrap().contains("1234"));
    }
}
