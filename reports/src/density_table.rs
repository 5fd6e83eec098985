//! The terminal table of a density section: bytes per instance by source,
//! `t_ready` of the N-th instance, the stop reason and the projection.

use super::*;

/// Bytes per instance of `source` in series `s`, signed (`−` when memory
/// was freed), or `—` when the series has no such figure.
pub fn per_instance(
    s: &coldbench_results::DensitySeries,
    source: coldbench_results::MemorySource,
) -> String {
    per_instance_or(s, |f| f == source, "—")
}

/// The per-instance figure of the first source `wanted` accepts, or `missing`.
pub(super) fn per_instance_or(
    s: &coldbench_results::DensitySeries,
    wanted: impl Fn(coldbench_results::MemorySource) -> bool,
    missing: &str,
) -> String {
    s.bytes_per_instance
        .iter()
        .find(|f| wanted(f.source))
        .map(|f| signed_bytes(f.bytes_per_instance))
        .unwrap_or_else(|| missing.into())
}

/// The cells of a density summary row, as text (each renderer escapes and
/// marks them up), headed by [`DENSITY_COLUMNS`]: workload, target, N, stop
/// reason, per instance PSS, host, cgroup and engine-reported bytes (with
/// its source), the `t_ready` median with its 95 % interval, the time to
/// reach N (sampling excluded), projected instances per host.
pub fn density_row(
    s: &coldbench_results::DensitySeries,
    config: &coldbench_results::DensityConfig,
) -> [String; 11] {
    use coldbench_results::MemorySource;
    let engine = s
        .bytes_per_instance
        .iter()
        .find(|f| f.kind == MemoryKind::EngineReported)
        .map(|f| format!("{} ({})", signed_bytes(f.bytes_per_instance), f.source))
        .unwrap_or_else(|| "—".into());
    [
        s.workload.clone(),
        s.target.clone(),
        s.instances.to_string(),
        s.stop_reason.name().to_string(),
        per_instance(s, MemorySource::Pss),
        per_instance(s, MemorySource::HostMemAvailable),
        per_instance(s, MemorySource::Cgroup),
        engine,
        median_cell((s.t_ready.n > 0).then_some(&s.t_ready)),
        s.samples
            .last()
            .map(|x| format_ns(x.t_reach_ns))
            .unwrap_or_else(|| "—".into()),
        projected(s, config).unwrap_or_else(|| "—".into()),
    ]
}

/// Instances per host of `s` on the run's projection host, by the one
/// per-instance rule the ledger and the sizing sheet share
/// ([`coldbench_results::DensitySeries::instances_per_host`]), with the
/// host memory: `183431 (23.4 GiB)`.
pub fn projected(
    s: &coldbench_results::DensitySeries,
    config: &coldbench_results::DensityConfig,
) -> Option<String> {
    let n = s.instances_per_host(
        config.projection_host_memory_bytes,
        config.memory_floor_fraction,
    )?;
    Some(format!(
        "{n} ({})",
        format_bytes(config.projection_host_memory_bytes)
    ))
}

/// The density tables: one row per series (memory per instance from each
/// source at the largest N, start time, stop reason, projection); with
/// `curves`, then the curve of every series step by step. Empty without a
/// density section.
pub fn density_table(run: &RunFile, curves: bool) -> String {
    let Some(section) = &run.density else {
        return String::new();
    };
    let mut out = String::new();
    {
        let c = &section.config;
        out.push_str(&format!(
            "Density (instances started one at a time, each idle after one verified request; up to {} instances; floor: MemAvailable ≥ {:.0} % of memory = {}; time limit {} per series)\n",
            c.max_instances,
            c.memory_floor_fraction * 100.0,
            format_bytes(c.memory_floor_bytes),
            format_ns(c.series_time_limit_ns),
        ));
    }
    out.push_str(
        "Per instance at the largest N: host = MemAvailable drop ÷ N; PSS/USS = the instances' own processes (containers: + containerd shim; embedded: runner growth); cgroup = container memory cgroups; engine = docker stats (containers) or linear memory (Wasm, virtual).\n",
    );
    let mut table = Table::new();
    table.load_preset(UTF8_BORDERS_ONLY).set_header(vec![
        "workload",
        "target",
        "N",
        "stopped",
        "host/inst",
        "PSS/inst",
        "USS/inst",
        "cgroup/inst",
        "engine/inst",
        "t_ready p50 [95% CI]",
        "t_ready N-th",
        "time to N",
        "projected per host",
    ]);
    for s in &section.series {
        let last = s.samples.last();
        let engine = s
            .bytes_per_instance
            .iter()
            .find(|f| f.kind == MemoryKind::EngineReported)
            .map(|f| format!("{} ({})", signed_bytes(f.bytes_per_instance), f.source))
            .unwrap_or_else(|| "–".into());
        table.add_row(vec![
            Cell::new(&s.workload),
            Cell::new(&s.target),
            Cell::new(s.instances).set_alignment(CellAlignment::Right),
            Cell::new(s.stop_reason.name()),
            Cell::new(figure_cell(s, "host_mem_available")).set_alignment(CellAlignment::Right),
            Cell::new(figure_cell(s, "pss")).set_alignment(CellAlignment::Right),
            Cell::new(figure_cell(s, "uss")).set_alignment(CellAlignment::Right),
            Cell::new(figure_cell(s, "cgroup")).set_alignment(CellAlignment::Right),
            Cell::new(engine).set_alignment(CellAlignment::Right),
            Cell::new(median_cell(Some(&s.t_ready))).set_alignment(CellAlignment::Right),
            Cell::new(
                last.map(|l| format_ns(l.t_ready_last_ns))
                    .unwrap_or_default(),
            )
            .set_alignment(CellAlignment::Right),
            Cell::new(last.map(|l| format_ns(l.t_reach_ns)).unwrap_or_default())
                .set_alignment(CellAlignment::Right),
            Cell::new(projected(s, &section.config).unwrap_or_else(|| "–".into()))
                .set_alignment(CellAlignment::Right),
        ]);
    }
    out.push_str(&table.to_string());
    out.push('\n');
    if !curves {
        out.push_str(&projection_note(&section.config));
        return out;
    }

    let mut curve = Table::new();
    curve.load_preset(UTF8_BORDERS_ONLY).set_header(vec![
        "workload",
        "target",
        "N",
        "MemAvailable",
        "host/inst",
        "PSS/inst",
        "engine/inst",
        "t_ready p50 since last",
        "time to N",
        "threads",
    ]);
    for s in &section.series {
        for x in &s.samples {
            let per = |v: Option<f64>| {
                v.map(|b| signed_bytes(b / x.instances.max(1) as f64))
                    .unwrap_or_else(|| "–".into())
            };
            curve.add_row(vec![
                Cell::new(&s.workload),
                Cell::new(&s.target),
                Cell::new(x.instances).set_alignment(CellAlignment::Right),
                Cell::new(x.mem_available_bytes.map_or("—".to_string(), format_bytes))
                    .set_alignment(CellAlignment::Right),
                Cell::new(per(x.host_delta_bytes.map(|b| b as f64)))
                    .set_alignment(CellAlignment::Right),
                Cell::new(per(x.pss_bytes.map(|b| b as f64))).set_alignment(CellAlignment::Right),
                Cell::new(per(x.engine_bytes.map(|b| b as f64)))
                    .set_alignment(CellAlignment::Right),
                Cell::new(format_ns(x.t_ready_window_p50_ns)).set_alignment(CellAlignment::Right),
                Cell::new(format_ns(x.t_reach_ns)).set_alignment(CellAlignment::Right),
                Cell::new(x.host_threads.map_or("—".to_string(), |t| t.to_string()))
                    .set_alignment(CellAlignment::Right),
            ]);
        }
    }
    out.push_str("\nCurves (per instance at each step):\n");
    out.push_str(&curve.to_string());
    out.push('\n');
    for s in &section.series {
        out.push_str(&format!(
            "{} / {}: stopped at {} instances: {} — {}\n",
            s.workload, s.target, s.instances, s.stop_reason, s.stop_detail
        ));
    }
    out.push_str(&projection_note(&section.config));
    out
}

/// What the projected column assumes: the one per-instance rule, the
/// floor, memory as the only limit (the sizing sheet names the others).
pub fn projection_note(config: &coldbench_results::DensityConfig) -> String {
    format!(
        "Projection: {} of memory × {:.0} % (the run's floor kept free) ÷ memory per instance, the larger of the host MemAvailable drop and PSS at the series' largest N — the rule the claims ledger and the sizing sheet use; memory is the only limit here (the sizing sheet names the others).\n",
        format_bytes(config.projection_host_memory_bytes),
        (1.0 - config.memory_floor_fraction) * 100.0
    )
}

/// Headers of [`density_row`]'s cells, and which of them are numbers
/// (right-aligned).
pub const DENSITY_COLUMNS: [(&str, bool); 11] = [
    ("workload", false),
    ("target", false),
    ("N", true),
    ("stopped", false),
    ("PSS / instance", true),
    ("host / instance", true),
    ("cgroup / instance", true),
    ("engine-reported / instance", true),
    ("t_ready p50 [95 % CI]", true),
    ("time to N", true),
    ("projected per host", true),
];
