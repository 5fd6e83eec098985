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
//! - **open files, as set**: 95 % of the measured host's `fs.file-max`,
//!   minus the files open at the first sample, ÷ open files per instance
//!   (slope of `fs.file-nr`) — on the measured host's size only: its
//!   default is a tenth of the memory in KiB and it can be raised far past
//!   anything a host holds, so no column sizes it at its maximum.
//!
//! **Per-process** limits bind one runner process (or the harness process
//! driving the instances), and a host running more such processes has more
//! of them; they never bind a host, and the sheet gives how many processes
//! the host-wide count needs:
//! - **memory mappings**: 95 % of `vm.max_map_count`, minus the runner's
//!   mappings at the first sample, ÷ mappings per instance;
//! - **engine cap**: the pooling allocator's slots (`pool_instances` knob),
//!   as configured for the run;
//! - **open files of the harness**: 95 % of its `RLIMIT_NOFILE` (raised to
//!   the hard limit), minus its descriptors at the first sample, ÷ its
//!   descriptors per instance (its ends of each process's pipes, each
//!   container's socket or FIFOs; none for instances in a runner).

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
    /// The measured host's open files (`fs.file-max`), as set.
    OpenFiles,
    /// Memory mappings of one runner process.
    Mappings,
    /// The engine's own capacity (pooling slots) in one runner process.
    EngineCap,
    /// Descriptors of the one harness process driving the instances
    /// (`RLIMIT_NOFILE`).
    ProcessFiles,
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
            Limit::OpenFiles => "open files as set",
            Limit::Mappings => "memory mappings",
            Limit::EngineCap => "engine cap",
            Limit::ProcessFiles => "open files of the harness",
        }
    }

    /// Whether it binds the host or one runner process.
    pub fn scope(self) -> Scope {
        match self {
            Limit::Memory | Limit::Tasks | Limit::TasksAtMaximum | Limit::OpenFiles => Scope::Host,
            Limit::Mappings | Limit::EngineCap | Limit::ProcessFiles => Scope::PerProcess,
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

    /// Runner (or harness) processes the host-wide count needs under the
    /// per-process limit (`None` without either).
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
            allowances.push(Allowance {
                limit,
                instances: fits(of as f64 * fraction, base, per),
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
        allowances.push(Allowance {
            limit: Limit::Mappings,
            instances: fits(max as f64 * 0.95, base, per),
            basis: format!(
                "95 % of vm.max_map_count {max} − {base} mappings of the runner, ÷ {per:.1} per instance (per runner process)"
            ),
        });
    }
    let files_per_instance = |f: fn(&coldbench_results::DensitySample) -> Option<u64>| {
        per_instance(s, f).filter(|(per, _)| *per > 0.0)
    };
    if measured_host
        && let (Some(max), Some((per, base))) = (
            cfg.and_then(|c| c.file_max),
            files_per_instance(|x| x.host_open_files),
        )
    {
        allowances.push(Allowance {
            limit: Limit::OpenFiles,
            instances: fits(max as f64 * 0.95, base, per),
            basis: format!(
                "95 % of fs.file-max {max} as this host's kernel is set − {base} open at the first sample, ÷ {per:.2} per instance"
            ),
        });
    }
    if let (Some(max), Some((per, base))) = (
        cfg.and_then(|c| c.harness_open_files_limit),
        files_per_instance(|x| x.harness_open_files),
    ) {
        allowances.push(Allowance {
            limit: Limit::ProcessFiles,
            instances: fits(max as f64 * 0.95, base, per),
            basis: format!(
                "95 % of the harness's RLIMIT_NOFILE {max} − {base} descriptors at the first sample, ÷ {per:.2} per instance (per harness process)"
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

/// Instances that fit under `bound` (a share of a kernel limit) with `base`
/// taken at the first sample and `per` more per instance, rounded down: the
/// one count of the task, mapping and open-files allowances.
fn fits(bound: f64, base: u64, per: f64) -> u64 {
    ((bound - base as f64).max(0.0) / per).floor() as u64
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
pub const COLUMN_LIMITS: [Option<Limit>; 12] = [
    None,
    None,
    None,
    Some(Limit::Memory),
    Some(Limit::Tasks),
    Some(Limit::TasksAtMaximum),
    Some(Limit::OpenFiles),
    None,
    Some(Limit::Mappings),
    Some(Limit::EngineCap),
    Some(Limit::ProcessFiles),
    None,
];

/// The sheet's column heads, in [`row`] order.
pub const COLUMNS: [&str; 12] = [
    "workload",
    "target",
    "host memory",
    "memory allows",
    "tasks allow (as set)",
    "tasks allow (pid_max max)",
    "open files allow (as set)",
    "binds the host first",
    "mappings allow (per runner)",
    "engine cap (per runner)",
    "open files allow (per harness)",
    "processes needed",
];

/// The columns of [`row`] that hold counts (right-aligned): host memory,
/// every allowance, and the processes needed.
pub const NUMERIC_COLUMNS: [usize; 9] = [2, 3, 4, 5, 6, 8, 9, 10, 11];

/// The cells of a sheet row, as text (each renderer escapes and marks them
/// up): workload, target, host memory, what memory and tasks (as set on the
/// measured host; at pid_max's maximum) allow, the host-wide limit that
/// binds first with its count, what the per-process limits allow one
/// runner, and how many runner processes the host-wide count needs (`—`
/// where the series says nothing of a limit).
pub fn row(z: &Sizing) -> [String; 12] {
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
        get(6),
        z.binding()
            .map(|a| format!("{} ({})", a.limit.name(), a.instances))
            .unwrap_or_else(|| "—".into()),
        get(8),
        get(9),
        get(10),
        z.runner_processes()
            .map(|n| n.to_string())
            .unwrap_or_else(|| "—".into()),
    ]
}

/// What the sheet's scopes mean, one paragraph for every renderer.
pub const SCOPE_NOTE: &str = "Memory, tasks and open files bind the host: memory scales with host memory (per instance by the rule of the density table and the claims ledger); tasks as this host's kernel is set (measured size only) and with kernel.pid_max at its maximum; open files as fs.file-max is set (measured size only: it can be raised past any host's need). Mappings, the engine cap and the harness's open files bind one process (a runner, or the harness driving the instances): more processes lift them, so they never bind a host; the last column gives the processes the host-wide count needs.";

/// The sheet as a Markdown table, then [`SCOPE_NOTE`].
pub fn markdown(sheet: &[Sizing]) -> String {
    let mut out = format!(
        "| {} |\n|---|---|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|\n",
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
