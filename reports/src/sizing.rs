//! The host-sizing sheet: how many idle instances of a workload fit on a
//! host, from a density series — for every limit the series can speak of,
//! with the count each allows, and the one that binds first. Memory is never
//! silently assumed to be the only limit.
//!
//! Limits, each from what the series measured:
//! - **memory**: host memory minus the run's floor, ÷ bytes per instance (the
//!   larger of the host `MemAvailable` figure and PSS: at small N the host
//!   drop can under-read the instances' own pages); scales with the host
//!   memory asked for;
//! - **tasks**: the task limit (`min(kernel.pid_max, kernel.threads-max)`)
//!   times the run's task-limit fraction, minus the threads the host had at
//!   the first sample, ÷ threads per instance (slope of the host's thread
//!   count between the first and last samples) — this host's kernel limits;
//! - **memory mappings** (runtimes whose instances share a runner process):
//!   95 % of `vm.max_map_count`, minus the runner's mappings at the first
//!   sample, ÷ mappings per instance — per runner process;
//! - **engine cap**: the pooling allocator's slots (`pool_instances` knob) —
//!   per runner process, as configured for the run.

use coldbench_results::{DensitySeries, MemorySource, RunFile};

/// Which limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    /// Host memory.
    Memory,
    /// The host's task limit (threads and processes).
    Tasks,
    /// Memory mappings of one runner process.
    Mappings,
    /// The engine's own capacity (pooling slots).
    EngineCap,
}

impl Limit {
    /// The limit as a word.
    pub fn name(self) -> &'static str {
        match self {
            Limit::Memory => "memory",
            Limit::Tasks => "tasks",
            Limit::Mappings => "memory mappings",
            Limit::EngineCap => "engine cap",
        }
    }
}

/// One limit's count of instances, with what it rests on.
#[derive(Debug, Clone, PartialEq)]
pub struct Allowance {
    /// Which limit.
    pub limit: Limit,
    /// Instances it allows.
    pub instances: u64,
    /// What the count rests on, in words.
    pub basis: String,
}

/// The sizing of one series for one host memory size.
#[derive(Debug, Clone, PartialEq)]
pub struct Sizing {
    /// Workload.
    pub workload: String,
    /// Target.
    pub target: String,
    /// Host memory sized for, bytes.
    pub host_memory_bytes: u64,
    /// Every limit the series speaks of.
    pub allowances: Vec<Allowance>,
}

impl Sizing {
    /// The limit that binds first (the smallest count).
    pub fn binding(&self) -> Option<&Allowance> {
        self.allowances.iter().min_by_key(|a| a.instances)
    }
}

/// Slope of `f` between the first and last samples, per instance.
fn per_instance(
    s: &DensitySeries,
    f: impl Fn(&coldbench_results::DensitySample) -> Option<u64>,
) -> Option<(f64, u64)> {
    let first = s.samples.first()?;
    let last = s.samples.last()?;
    let (a, b) = (f(first)?, f(last)?);
    let dn = last
        .instances
        .checked_sub(first.instances)
        .filter(|d| *d > 0)?;
    Some(((b as f64 - a as f64) / dn as f64, a))
}

/// The sizing of `s` (a series of `run`) for a host of `host_memory_bytes`.
pub fn size(run: &RunFile, s: &DensitySeries, host_memory_bytes: u64) -> Sizing {
    let mut allowances = Vec::new();
    let cfg = run.density.as_ref().map(|d| &d.config);
    let floor = cfg.map_or(0.25, |c| c.memory_floor_fraction);
    let fig = |src: MemorySource| {
        s.bytes_per_instance
            .iter()
            .find(|f| f.source == src)
            .map(|f| f.bytes_per_instance)
            .filter(|b| *b > 0.0)
    };
    // The larger of the host figure and PSS: at small N the host's
    // MemAvailable drop can under-read what the instances' own pages take.
    let per_src = match (fig(MemorySource::HostMemAvailable), fig(MemorySource::Pss)) {
        (Some(h), Some(p)) if p > h => Some((p, "PSS, larger than the host MemAvailable drop")),
        (Some(h), _) => Some((h, "host MemAvailable drop")),
        (None, Some(p)) => Some((p, "PSS (the host drop did not resolve)")),
        (None, None) => None,
    };
    if let Some((per, src)) = per_src {
        let usable = host_memory_bytes as f64 * (1.0 - floor);
        allowances.push(Allowance {
            limit: Limit::Memory,
            instances: (usable / per).floor() as u64,
            basis: format!(
                "{} of {} usable ({:.0} % kept free) ÷ {} per instance ({src}, N = {})",
                crate::format_bytes(usable as u64),
                crate::format_bytes(host_memory_bytes),
                floor * 100.0,
                crate::format_bytes(per as u64),
                s.instances
            ),
        });
    }
    if let (Some(limit), Some((per, base))) = (
        cfg.and_then(|c| c.task_limit),
        per_instance(s, |x| x.host_threads),
    ) && per > 0.0
    {
        let fraction = cfg.map_or(0.8, |c| c.task_limit_fraction);
        let room = (limit as f64 * fraction - base as f64).max(0.0);
        allowances.push(Allowance {
            limit: Limit::Tasks,
            instances: (room / per).floor() as u64,
            basis: format!(
                "{:.0} % of the task limit {limit} − {base} threads at the first sample, ÷ {per:.2} threads per instance (this host's kernel limits)",
                fraction * 100.0
            ),
        });
    }
    if let (Some(max), Some((per, base))) = (
        cfg.and_then(|c| c.vm_max_map_count),
        per_instance(s, |x| x.runner_maps),
    ) && per > 0.0
    {
        let room = (max as f64 * 0.95 - base as f64).max(0.0);
        allowances.push(Allowance {
            limit: Limit::Mappings,
            instances: (room / per).floor() as u64,
            basis: format!(
                "95 % of vm.max_map_count {max} − {base} mappings of the runner, ÷ {per:.1} per instance (per runner process)"
            ),
        });
    }
    let cap = run
        .targets
        .iter()
        .find(|t| t.id == s.target)
        .and_then(|t| t.knobs.get("pool_instances"))
        .and_then(|v| v.parse::<u64>().ok());
    if let Some(cap) = cap {
        allowances.push(Allowance {
            limit: Limit::EngineCap,
            instances: cap,
            basis: format!(
                "pooling allocator slots as configured for the run ({cap}; per runner process)"
            ),
        });
    }
    Sizing {
        workload: s.workload.clone(),
        target: s.target.clone(),
        host_memory_bytes,
        allowances,
    }
}

/// The sheet: every series of `run` × every host size (this host's
/// memory first, then `extra_hosts_bytes`).
pub fn sheet(run: &RunFile, extra_hosts_bytes: &[u64]) -> Vec<Sizing> {
    let Some(d) = &run.density else {
        return Vec::new();
    };
    let mut hosts = vec![d.config.projection_host_memory_bytes];
    hosts.extend(extra_hosts_bytes.iter().copied().filter(|b| *b > 0));
    let mut out = Vec::new();
    for s in &d.series {
        for &h in &hosts {
            out.push(size(run, s, h));
        }
    }
    out
}

/// The limit behind each column of [`row`] (`None`: not an allowance).
pub const COLUMN_LIMITS: [Option<Limit>; 8] = [
    None,
    None,
    None,
    Some(Limit::Memory),
    Some(Limit::Tasks),
    Some(Limit::Mappings),
    Some(Limit::EngineCap),
    None,
];

/// The cells of a sheet row, as text (each renderer escapes and marks them
/// up): workload, target, host memory, what memory, tasks, mappings and the
/// engine cap allow (`—` where the series says nothing of that limit), and
/// the limit that binds first with its count.
pub fn row(z: &Sizing) -> [String; 8] {
    let get = |i: usize| {
        COLUMN_LIMITS[i]
            .and_then(|l| z.allowances.iter().find(|a| a.limit == l))
            .map(|a| a.instances.to_string())
            .unwrap_or_else(|| "—".into())
    };
    [
        z.workload.clone(),
        z.target.clone(),
        crate::format_bytes(z.host_memory_bytes),
        get(3),
        get(4),
        get(5),
        get(6),
        z.binding()
            .map(|a| format!("{} ({})", a.limit.name(), a.instances))
            .unwrap_or_else(|| "—".into()),
    ]
}

/// The sheet as a Markdown table.
pub fn markdown(sheet: &[Sizing]) -> String {
    let mut out = String::from(
        "| workload | target | host memory | memory allows | tasks allow | mappings allow (per runner) | engine cap | binds first |\n|---|---|---:|---:|---:|---:|---:|---|\n",
    );
    for z in sheet {
        let cells: Vec<String> = row(z).iter().map(|c| crate::markdown::escape(c)).collect();
        out.push_str(&format!("| {} |\n", cells.join(" | ")));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_smallest_allowance_binds() {
        let z = Sizing {
            workload: "noop".into(),
            target: "wasmtime-pooling".into(),
            host_memory_bytes: 1 << 30,
            allowances: vec![
                Allowance {
                    limit: Limit::Memory,
                    instances: 183_431,
                    basis: String::new(),
                },
                Allowance {
                    limit: Limit::Tasks,
                    instances: 25_000,
                    basis: String::new(),
                },
                Allowance {
                    limit: Limit::EngineCap,
                    instances: 1001,
                    basis: String::new(),
                },
            ],
        };
        assert_eq!(z.binding().map(|a| a.limit), Some(Limit::EngineCap));
    }
}
