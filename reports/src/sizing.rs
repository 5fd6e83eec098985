//! The host-sizing sheet: how many idle instances of a workload fit on a
//! host, from a density series — for every limit the series can speak of,
//! with the count each allows, and the one that binds first. Memory is never
//! silently assumed to be the only limit.
//!
//! Limits are of two scopes ([`Scope`]). **Host-wide** limits bind a host:
//! - **memory**: host memory minus the run's floor, ÷ memory per instance by
//!   the one rule the density table and the ledger share
//!   ([`coldbench_results::DensitySeries::memory_per_instance`]); scales
//!   with the host memory asked for;
//! - **tasks, as set**: the measured host's task limit (`min(kernel.pid_max,
//!   kernel.threads-max)`) times the run's task-limit fraction, minus the
//!   threads the host had at the first sample, ÷ threads per instance (slope
//!   of the host's thread count between the first and last samples) — on the
//!   measured host's size only, as its kernel is set;
//! - **tasks, at the kernel's maxima**: the same with `kernel.pid_max` at its
//!   64-bit maximum, [`PID_MAX_LIMIT`] (`threads-max` scales with memory and
//!   its ceiling is far above): what any host of that size can be set to.
//!
//! **Per-process** limits bind one runner process, and a host running more
//! runner processes has more of them; they never bind a host, and the sheet
//! gives how many runner processes the host-wide count needs:
//! - **memory mappings**: 95 % of `vm.max_map_count`, minus the runner's
//!   mappings at the first sample, ÷ mappings per instance;
//! - **engine cap**: the pooling allocator's slots (`pool_instances` knob),
//!   as configured for the run.

use coldbench_results::{DensitySeries, RunFile};

/// The largest `kernel.pid_max` a 64-bit Linux kernel accepts
/// (`PID_MAX_LIMIT`, 4 × 1024 × 1024: include/linux/threads.h).
pub const PID_MAX_LIMIT: u64 = 4 * 1024 * 1024;

/// Which limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    /// Host memory.
    Memory,
    /// The measured host's task limit (threads and processes), as set.
    Tasks,
    /// The task limit with `kernel.pid_max` at its maximum ([`PID_MAX_LIMIT`]).
    TasksAtMaximum,
    /// Memory mappings of one runner process.
    Mappings,
    /// The engine's own capacity (pooling slots) in one runner process.
    EngineCap,
}

/// Whether a limit binds a host or one runner process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// The whole host: nothing but a bigger host (or a kernel setting) lifts it.
    Host,
    /// One runner process: more runner processes on the host lift it.
    PerProcess,
}

impl Limit {
    /// The limit as a word.
    pub fn name(self) -> &'static str {
        match self {
            Limit::Memory => "memory",
            Limit::Tasks => "tasks as set",
            Limit::TasksAtMaximum => "tasks at pid_max's maximum",
            Limit::Mappings => "memory mappings",
            Limit::EngineCap => "engine cap",
        }
    }

    /// Whether it binds the host or one runner process.
    pub fn scope(self) -> Scope {
        match self {
            Limit::Memory | Limit::Tasks | Limit::TasksAtMaximum => Scope::Host,
            Limit::Mappings | Limit::EngineCap => Scope::PerProcess,
        }
    }
}

/// One limit's count of instances, with what it rests on.
#[derive(Debug, Clone, PartialEq)]
pub struct Allowance {
    /// Which limit.
    pub limit: Limit,
    /// Instances it allows (per runner process for per-process limits).
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
    /// Whether this is the measured host's size (its kernel settings apply).
    pub measured_host: bool,
    /// Every limit the series speaks of.
    pub allowances: Vec<Allowance>,
}

impl Sizing {
    /// The host-wide limit that binds first (the smallest count).
    pub fn binding(&self) -> Option<&Allowance> {
        self.allowances
            .iter()
            .filter(|a| a.limit.scope() == Scope::Host)
            .min_by_key(|a| a.instances)
    }

    /// The per-process limit that binds one runner process first.
    pub fn per_process(&self) -> Option<&Allowance> {
        self.allowances
            .iter()
            .filter(|a| a.limit.scope() == Scope::PerProcess)
            .min_by_key(|a| a.instances)
    }

    /// Runner processes the host-wide count needs under the per-process
    /// limit (`None` without either).
    pub fn runner_processes(&self) -> Option<u64> {
        let (h, p) = (self.binding()?, self.per_process()?);
        (p.instances > 0).then(|| h.instances.div_ceil(p.instances).max(1))
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

/// The sizing of `s` (a series of `run`) for a host of `host_memory_bytes`;
/// `measured_host`: the size is the measured host's, whose kernel settings
/// (task limit as set) apply.
pub fn size(
    run: &RunFile,
    s: &DensitySeries,
    host_memory_bytes: u64,
    measured_host: bool,
) -> Sizing {
    let mut allowances = Vec::new();
    let cfg = run.density.as_ref().map(|d| &d.config);
    let floor = cfg.map_or(0.25, |c| c.memory_floor_fraction);
    // The one per-instance rule of the density table and the ledger.
    let per_src = s
        .memory_per_instance()
        .map(|(b, basis)| (b, basis.describe()));
    if let Some((per, src)) = per_src {
        let usable = coldbench_results::usable_memory_bytes(host_memory_bytes, floor);
        allowances.push(Allowance {
            limit: Limit::Memory,
            instances: coldbench_results::instances_in_memory(host_memory_bytes, floor, per),
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
    if let Some((per, base)) = per_instance(s, |x| x.host_threads)
        && per > 0.0
    {
        let fraction = cfg.map_or(0.8, |c| c.task_limit_fraction);
        let mut task = |limit: Limit, of: u64, what: String| {
            let room = (of as f64 * fraction - base as f64).max(0.0);
            allowances.push(Allowance {
                limit,
                instances: (room / per).floor() as u64,
                basis: format!(
                    "{:.0} % of {what} − {base} threads at the first sample, ÷ {per:.2} threads per instance",
                    fraction * 100.0
                ),
            });
        };
        if measured_host && let Some(limit) = cfg.and_then(|c| c.task_limit) {
            task(
                Limit::Tasks,
                limit,
                format!("the task limit {limit} as this host's kernel is set"),
            );
        }
        task(
            Limit::TasksAtMaximum,
            PID_MAX_LIMIT,
            format!(
                "kernel.pid_max at its 64-bit maximum {PID_MAX_LIMIT} (sysctl; threads-max scales with memory)"
            ),
        );
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
        measured_host,
        allowances,
    }
}

/// The sheet: every series of `run` × every host size (this host's
/// memory first, then `extra_hosts_bytes`).
pub fn sheet(run: &RunFile, extra_hosts_bytes: &[u64]) -> Vec<Sizing> {
    let Some(d) = &run.density else {
        return Vec::new();
    };
    let measured = d.config.projection_host_memory_bytes;
    let mut hosts = vec![measured];
    hosts.extend(
        extra_hosts_bytes
            .iter()
            .copied()
            .filter(|b| *b > 0 && *b != measured),
    );
    let mut out = Vec::new();
    for s in &d.series {
        for (i, &h) in hosts.iter().enumerate() {
            out.push(size(run, s, h, i == 0));
        }
    }
    out
}

/// The limit behind each column of [`row`] (`None`: not an allowance).
pub const COLUMN_LIMITS: [Option<Limit>; 10] = [
    None,
    None,
    None,
    Some(Limit::Memory),
    Some(Limit::Tasks),
    Some(Limit::TasksAtMaximum),
    None,
    Some(Limit::Mappings),
    Some(Limit::EngineCap),
    None,
];

/// The sheet's column heads, in [`row`] order.
pub const COLUMNS: [&str; 10] = [
    "workload",
    "target",
    "host memory",
    "memory allows",
    "tasks allow (as set)",
    "tasks allow (pid_max max)",
    "binds the host first",
    "mappings allow (per runner)",
    "engine cap (per runner)",
    "runner processes needed",
];

/// The cells of a sheet row, as text (each renderer escapes and marks them
/// up): workload, target, host memory, what memory and tasks (as set on the
/// measured host; at pid_max's maximum) allow, the host-wide limit that
/// binds first with its count, what the per-process limits allow one
/// runner, and how many runner processes the host-wide count needs (`—`
/// where the series says nothing of a limit).
pub fn row(z: &Sizing) -> [String; 10] {
    let get = |i: usize| {
        COLUMN_LIMITS[i]
            .and_then(|l| z.allowances.iter().find(|a| a.limit == l))
            .map(|a| a.instances.to_string())
            .unwrap_or_else(|| "—".into())
    };
    [
        z.workload.clone(),
        z.target.clone(),
        format!(
            "{}{}",
            crate::format_bytes(z.host_memory_bytes),
            if z.measured_host { " (measured)" } else { "" }
        ),
        get(3),
        get(4),
        get(5),
        z.binding()
            .map(|a| format!("{} ({})", a.limit.name(), a.instances))
            .unwrap_or_else(|| "—".into()),
        get(7),
        get(8),
        z.runner_processes()
            .map(|n| n.to_string())
            .unwrap_or_else(|| "—".into()),
    ]
}

/// What the sheet's scopes mean, one paragraph for every renderer.
pub const SCOPE_NOTE: &str = "Memory and tasks bind the host: memory scales with host memory (per instance by the rule of the density table and the claims ledger); tasks as this host's kernel is set (measured size only) and with kernel.pid_max at its maximum. Mappings and the engine cap bind one runner process: more runner processes lift them, so they never bind a host; the last column gives the runner processes the host-wide count needs.";

/// The sheet as a Markdown table, then [`SCOPE_NOTE`].
pub fn markdown(sheet: &[Sizing]) -> String {
    let mut out = format!(
        "| {} |\n|---|---|---:|---:|---:|---:|---|---:|---:|---:|\n",
        COLUMNS.join(" | ")
    );
    for z in sheet {
        let cells: Vec<String> = row(z).iter().map(|c| crate::markdown::escape(c)).collect();
        out.push_str(&format!("| {} |\n", cells.join(" | ")));
    }
    out.push_str(&format!("\n{SCOPE_NOTE}\n"));
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
            measured_host: true,
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
        // The engine cap is one runner's: the host is bound by its tasks,
        // and 25 runners hold them.
        assert_eq!(z.binding().map(|a| a.limit), Some(Limit::Tasks));
        assert_eq!(z.per_process().map(|a| a.limit), Some(Limit::EngineCap));
        assert_eq!(z.runner_processes(), Some(25));
    }
}
