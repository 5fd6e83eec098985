//! What differs between the runs compared (revision, runtime versions, knobs,
//! kernel, CPU, Docker, cases), and the warning when the hosts differ.

use super::*;

pub(super) fn host_warning(
    base: &HostFingerprint,
    new: &HostFingerprint,
    keep: bool,
) -> Option<String> {
    let mut what = Vec::new();
    if base.cpu_model != new.cpu_model {
        what.push(format!(
            "CPU model ({} vs {})",
            base.cpu_model, new.cpu_model
        ));
    }
    if base.cpu_logical_cores != new.cpu_logical_cores {
        what.push(format!(
            "logical cores ({} vs {})",
            base.cpu_logical_cores, new.cpu_logical_cores
        ));
    }
    if what.is_empty() {
        return None;
    }
    Some(format!(
        "the runs come from different hardware: {}; {}",
        what.join(", "),
        if keep {
            "verdicts kept (--same-host-not-required)"
        } else {
            "every verdict is reported as unsure (pass --same-host-not-required to keep them)"
        }
    ))
}

/// Fingerprint fields that differ between the two runs: tool version and git
/// revision, host (CPU, cores, memory, kernel, OS, cgroup version, Docker
/// engine), runtime versions, suite and configuration, and per target its
/// runtime version, availability and knobs.
pub fn differences(base: &RunFile, new: &RunFile) -> Vec<Difference> {
    let mut out = Vec::new();
    let mut diff = |what: String, b: String, n: String| {
        if b != n {
            out.push(Difference {
                what,
                base: b,
                new: n,
            });
        }
    };
    type Field = (&'static str, fn(&RunFile) -> String);
    let dash = || "—".to_string();
    let fields: [Field; 14] = [
        ("run state", |r| {
            if r.in_progress {
                "incomplete (never finalised: in progress, or its harness was killed)".into()
            } else if r.interrupted {
                "interrupted (Ctrl-C)".into()
            } else {
                "complete".into()
            }
        }),
        ("coldbench version", |r| r.tool.version.clone()),
        ("coldbench git revision", |r| r.tool.git_revision.clone()),
        ("host.cpu_model", |r| r.host.cpu_model.clone()),
        ("host.cpu_logical_cores", |r| {
            r.host.cpu_logical_cores.to_string()
        }),
        ("host.memory_total", |r| {
            crate::format_bytes(r.host.memory_total_bytes)
        }),
        ("host.kernel", |r| r.host.kernel.clone()),
        ("host.os", |r| r.host.os.clone()),
        ("host.cgroup_version", |r| r.host.cgroup_version.clone()),
        ("host.cpu_idle", |r| {
            r.host
                .cpu_idle
                .as_ref()
                .map_or_else(|| "—".to_string(), crate::cpu_idle_text)
        }),
        ("host.docker", |r| {
            r.host.docker.as_ref().map_or_else(
                || "—".to_string(),
                |d| {
                    format!(
                        "{} (API {}, runtime {}, {}, {})",
                        d.engine_version,
                        d.api_version,
                        d.default_runtime,
                        d.storage_driver,
                        d.cgroup_driver
                    )
                },
            )
        }),
        ("suite", |r| {
            r.suite
                .as_ref()
                .map_or_else(|| "—".to_string(), |s| s.name.clone())
        }),
        ("config.seed", |r| r.config.seed.to_string()),
        ("config.timeout_ms", |r| r.config.timeout_ms.to_string()),
    ];
    for (what, f) in fields {
        diff(what.to_string(), f(base), f(new));
    }
    let (bh, nh) = (&base.host, &new.host);
    let keys: BTreeSet<&String> = bh
        .runtime_versions
        .keys()
        .chain(nh.runtime_versions.keys())
        .collect();
    for k in keys {
        diff(
            format!("runtime {k}"),
            bh.runtime_versions.get(k).cloned().unwrap_or_else(dash),
            nh.runtime_versions.get(k).cloned().unwrap_or_else(dash),
        );
    }
    for bt in &base.targets {
        let Some(nt) = new.targets.iter().find(|t| t.id == bt.id) else {
            continue;
        };
        let who = |f: &str| format!("target {}: {f}", bt.id);
        diff(
            who("runtime_version"),
            bt.runtime_version.clone(),
            nt.runtime_version.clone(),
        );
        diff(
            who("available"),
            bt.available.to_string(),
            nt.available.to_string(),
        );
        // `cache_dir` is inside each run's own output directory: it always
        // differs and says nothing about what was measured.
        let knobs: BTreeSet<&String> = bt
            .knobs
            .keys()
            .chain(nt.knobs.keys())
            .filter(|k| *k != "cache_dir")
            .collect();
        for k in knobs {
            diff(
                who(k),
                bt.knobs.get(k).cloned().unwrap_or_else(|| "—".into()),
                nt.knobs.get(k).cloned().unwrap_or_else(|| "—".into()),
            );
        }
    }
    // Cases one run has and the other not (a case's name carries its
    // parameters: `…:sha256x1100`), then parameters under the same name.
    let names = |r: &RunFile| -> BTreeSet<String> {
        r.cases
            .iter()
            .map(|c| format!("{}/{}", c.workload, c.case))
            .collect()
    };
    let (bn, nn) = (names(base), names(new));
    for c in bn.difference(&nn) {
        diff(format!("case {c}"), "present".into(), "—".into());
    }
    for c in nn.difference(&bn) {
        diff(format!("case {c}"), "—".into(), "present".into());
    }
    for bc in &base.cases {
        if let Some(nc) = new
            .cases
            .iter()
            .find(|c| c.workload == bc.workload && c.case == bc.case)
        {
            diff(
                format!("case {}/{}: params", bc.workload, bc.case),
                format!("{:?}", bc.params),
                format!("{:?}", nc.params),
            );
        }
    }
    out
}
