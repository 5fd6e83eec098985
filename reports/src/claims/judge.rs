//! Judging a claim against runs: the figures it names (like-for-like pairs of
//! starts, density series, throughput cells, artifact sizes), each against the
//! bound, and one verdict from them (docs/design.md §9).

use super::*;

/// Whether `pattern` selects target `t`: `wasm` (Wasm family, and Wasm in
/// a containerd shim), `container` (containers, not Wasm shims), `native`,
/// `start:<kind>` (its start kind), or an id or `-`-bounded id prefix.
pub fn selects(pattern: &str, t: &TargetRecord) -> bool {
    let kind = t.start_path().kind;
    match pattern {
        "wasm" => t.family == Family::Wasm || kind == StartKind::WasmInSandbox,
        "container" => t.family == Family::Container && kind != StartKind::WasmInSandbox,
        "native" => t.family == Family::Native,
        p => match p.strip_prefix(START_PATTERN) {
            Some(k) => kind.name() == k,
            None => coldbench_results::selects(p, &t.id),
        },
    }
}

/// The available targets of `run` that `patterns` select, in run order.
pub(super) fn resolve<'a>(run: &'a RunFile, patterns: &[String]) -> Vec<&'a TargetRecord> {
    run.targets
        .iter()
        .filter(|t| t.available && patterns.iter().any(|p| selects(p, t)))
        .collect()
}

/// The median of `metric` with its interval and n.
pub(super) fn cold(run: &RunFile, w: &str, t: &str, m: Metric) -> Option<(f64, f64, f64, u64)> {
    run.result(w, t, m).map(|x| {
        let s = &x.summary;
        (
            s.p50_ci95_low_ns as f64,
            s.p50_ns as f64,
            s.p50_ci95_high_ns as f64,
            s.n,
        )
    })
}

/// The workloads density claims read: `w`, or every workload with a series.
pub(super) fn density_workloads(runs: &[&RunFile], w: &Option<String>) -> Vec<String> {
    match w {
        Some(w) => vec![w.clone()],
        None => {
            let mut out: Vec<String> = Vec::new();
            for r in runs {
                for s in r.density_series() {
                    if !out.contains(&s.workload) {
                        out.push(s.workload.clone());
                    }
                }
            }
            out
        }
    }
}

pub(super) fn series_bytes(
    run: &RunFile,
    w: &str,
    t: &str,
    src: MemorySource,
) -> Option<(f64, u64)> {
    let s = run
        .density_series()
        .iter()
        .find(|s| s.workload == w && s.target == t)?;
    let f = s.bytes_per_instance.iter().find(|f| f.source == src)?;
    Some((f.bytes_per_instance, s.instances))
}

/// The command that would measure `m`.
pub(super) fn command_for(m: &Measure) -> String {
    match m {
        Measure::ColdStart {
            workload,
            targets,
            baseline,
            ..
        } => {
            let mut t = targets.clone();
            t.extend(baseline.iter().flatten().cloned());
            format!(
                "coldbench run --workloads {workload} --targets {} (family and start: patterns name targets by kind; or the default suite: cargo run --release)",
                t.join(",")
            )
        }
        Measure::Slowdown { row, mode, .. } => format!(
            "coldbench throughput --workloads {} --modes {} (row {row}; or the default suite)",
            if row == "hash-iterated" {
                "hash"
            } else {
                row.as_str()
            },
            mode.name().replace('_', "-")
        ),
        Measure::Density { workload, .. } | Measure::Projection { workload, .. } => {
            format!(
                "coldbench density --workloads {} (or the default suite)",
                workload.as_deref().unwrap_or("noop,thumbnail")
            )
        }
        Measure::Artifact { .. } => "any coldbench run records artifact sizes".into(),
        Measure::NotComparable { .. } => String::new(),
    }
}

/// Checks `claim` against `runs`. A figure comes from the first run that
/// holds it; both sides of a ratio come from the same run.
pub fn check(claim: &Claim, runs: &[&RunFile]) -> Verdict {
    let unit = claim.unit();
    let bound = claim.bound().ok().flatten();
    let judge = |low: f64, high: f64| bound.map_or(Outcome::Unsure, |b| b.judge(low, high));
    let mut figures: Vec<Figure> = Vec::new();
    let seen = |figures: &Vec<Figure>, label: &str| figures.iter().any(|f| f.label == label);
    let point = |label: String, v: f64, n: Option<u64>| {
        Figure::plain(label, (v, v, v), n, false, judge(v, v))
    };
    // A size is counted, not sampled: its interval is the figure itself.
    let exact = |label: String, v: f64| Figure {
        exact: true,
        ..Figure::plain(label, (v, v, v), None, true, judge(v, v))
    };
    match &claim.measure {
        Measure::NotComparable { reason } => {
            return Verdict {
                claim: claim.clone(),
                kind: VerdictKind::NotComparable,
                direction: None,
                bound: None,
                unit,
                figures,
                detail: reason.clone(),
            };
        }
        Measure::ColdStart {
            metric,
            workload,
            targets,
            baseline,
        } => {
            for r in runs {
                let condition = r.cold_start.as_ref().map(|c| c.condition_of());
                let a_side = resolve(r, targets);
                match baseline {
                    None => {
                        for t in a_side {
                            if seen(&figures, &t.id) {
                                continue;
                            }
                            if let Some((lo, mid, hi, n)) = cold(r, workload, &t.id, *metric) {
                                let mut f = Figure::plain(
                                    t.id.clone(),
                                    (lo, mid, hi),
                                    Some(n),
                                    true,
                                    judge(lo, hi),
                                );
                                f.start = Some(t.start_path().kind);
                                f.condition = condition;
                                figures.push(f);
                            }
                        }
                    }
                    Some(b) => {
                        let b_side = resolve(r, b);
                        for t in &a_side {
                            for u in &b_side {
                                let label = format!("{} vs {}", t.id, u.id);
                                if t.id == u.id || seen(&figures, &label) {
                                    continue;
                                }
                                let (Some(a), Some(c)) = (
                                    cold(r, workload, &t.id, *metric),
                                    cold(r, workload, &u.id, *metric),
                                ) else {
                                    continue;
                                };
                                // Medians in ns: a divisor is at least 1 ns.
                                let (lo, mid, hi) = stats::conservative_ratio(
                                    (a.0, a.1, a.2),
                                    (c.0, c.1, c.2),
                                    1.0,
                                );
                                let mut f = Figure::plain(
                                    label,
                                    (lo, mid, hi),
                                    Some(a.3.min(c.3)),
                                    true,
                                    judge(lo, hi),
                                );
                                f.pairing = Some(Pairing::of(t, u));
                                f.condition = condition;
                                figures.push(f);
                            }
                        }
                    }
                }
            }
        }
        Measure::Slowdown {
            row,
            mode,
            targets,
            baseline,
        } => {
            for r in runs {
                let slowdown = |t: &str| {
                    let c = r
                        .throughput_cells()
                        .iter()
                        .find(|c| c.row == *row && c.mode == *mode && c.target == t)?;
                    c.slowdown_vs_native.map(|s| (s, c.requests))
                };
                for t in resolve(r, targets) {
                    match baseline {
                        None => {
                            if seen(&figures, &t.id) {
                                continue;
                            }
                            if let Some((s, n)) = slowdown(&t.id) {
                                figures.push(Figure::plain(
                                    t.id.clone(),
                                    (s.ci95_low, s.ratio, s.ci95_high),
                                    Some(n),
                                    true,
                                    judge(s.ci95_low, s.ci95_high),
                                ));
                            }
                        }
                        Some(b) => {
                            for u in resolve(r, b) {
                                let label = format!("{} vs {}", t.id, u.id);
                                if t.id == u.id || seen(&figures, &label) {
                                    continue;
                                }
                                if let (Some((a, na)), Some((c, nc))) =
                                    (slowdown(&t.id), slowdown(&u.id))
                                {
                                    let (lo, mid, hi) = stats::conservative_ratio(
                                        (a.ci95_low, a.ratio, a.ci95_high),
                                        (c.ci95_low, c.ratio, c.ci95_high),
                                        f64::MIN_POSITIVE,
                                    );
                                    figures.push(Figure::plain(
                                        label,
                                        (lo, mid, hi),
                                        Some(na.min(nc)),
                                        true,
                                        judge(lo, hi),
                                    ));
                                }
                            }
                        }
                    }
                }
            }
        }
        Measure::Density {
            workload,
            targets,
            baseline,
            source,
        } => {
            for w in density_workloads(runs, workload) {
                for r in runs {
                    for t in resolve(r, targets) {
                        match baseline {
                            None => {
                                let label = format!("{w}: {}", t.id);
                                if seen(&figures, &label) {
                                    continue;
                                }
                                if let Some((b, n)) = series_bytes(r, &w, &t.id, *source) {
                                    let mut f = point(label, b, Some(n));
                                    f.start = Some(t.start_path().kind);
                                    figures.push(f);
                                }
                            }
                            Some(base) => {
                                for u in resolve(r, base) {
                                    let label = format!("{w}: {} vs {}", t.id, u.id);
                                    if seen(&figures, &label) {
                                        continue;
                                    }
                                    if let (Some((a, n)), Some((c, _))) = (
                                        series_bytes(r, &w, &t.id, *source),
                                        series_bytes(r, &w, &u.id, *source),
                                    ) && a > 0.0
                                    {
                                        figures.push(point(label, c / a, Some(n)));
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        Measure::Projection { workload, targets } => {
            for w in density_workloads(runs, workload) {
                for r in runs {
                    let Some(d) = &r.density else { continue };
                    for t in resolve(r, targets) {
                        let label = format!("{w}: {}", t.id);
                        if seen(&figures, &label) {
                            continue;
                        }
                        let Some(s) = d
                            .series
                            .iter()
                            .find(|s| s.workload == w && s.target == t.id)
                        else {
                            continue;
                        };
                        if let Some(n) = s.instances_per_host(
                            d.config.projection_host_memory_bytes,
                            d.config.memory_floor_fraction,
                        ) {
                            let mut f = point(label, n as f64, Some(s.instances));
                            f.start = Some(t.start_path().kind);
                            figures.push(f);
                        }
                    }
                }
            }
        }
        Measure::Artifact {
            kinds,
            workload,
            baseline,
        } => {
            for r in runs {
                for t in r.targets.iter().filter(|t| t.available) {
                    for a in &t.artifacts {
                        let wanted = kinds.contains(&a.kind)
                            && workload.as_ref().is_none_or(|w| *w == a.workload);
                        if !wanted {
                            continue;
                        }
                        match baseline {
                            None => {
                                let label = format!("{} {} ({})", a.workload, a.kind.name(), t.id);
                                // One figure per artifact: the same module
                                // run by several runtimes counts once.
                                let dup = figures.iter().any(|f| {
                                    f.label.starts_with(&format!(
                                        "{} {} (",
                                        a.workload,
                                        a.kind.name()
                                    )) && f.value == a.bytes as f64
                                });
                                if !dup && !seen(&figures, &label) {
                                    figures.push(exact(label, a.bytes as f64));
                                }
                            }
                            Some(base) => {
                                let denom = r.targets.iter().flat_map(|u| {
                                    u.artifacts.iter().filter(|b| {
                                        base.contains(&b.kind) && b.workload == a.workload
                                    })
                                });
                                if let Some(b) = denom.min_by_key(|b| b.bytes)
                                    && b.bytes > 0
                                {
                                    let label = format!(
                                        "{} {} ({}) ÷ {}",
                                        a.workload,
                                        a.kind.name(),
                                        t.id,
                                        b.kind.name()
                                    );
                                    if !seen(&figures, &label) {
                                        figures.push(exact(label, a.bytes as f64 / b.bytes as f64));
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
    // Deciding figures first, each group in measured order.
    figures.sort_by_key(|f| !f.decides());
    let (kind, direction, detail) = combine(&figures, &claim.measure);
    // The bound as the claims file wrote it (its units), parsed or not.
    let written = claim
        .bound
        .as_ref()
        .and_then(|b| match (&b.at_most, &b.at_least, &b.between) {
            (Some(x), _, _) => Some(format!("≤ {x}")),
            (_, Some(x), _) => Some(format!(
                "≥ {x}{}",
                if unit == Unit::Ratio { "×" } else { "" }
            )),
            (_, _, Some([a, c])) => Some(format!(
                "{a} – {c}{}",
                if unit == Unit::Ratio { "×" } else { "" }
            )),
            _ => None,
        });
    Verdict {
        claim: claim.clone(),
        kind,
        direction,
        bound: written.or_else(|| bound.map(|b| b.describe(unit))),
        unit,
        figures,
        detail,
    }
}

/// The verdict of a set of figures by the module's rules, which side the
/// failing ones lie, and what it rests on.
pub(super) fn combine(figures: &[Figure], m: &Measure) -> (VerdictKind, Option<Direction>, String) {
    if figures.is_empty() {
        return (
            VerdictKind::NotMeasured,
            None,
            format!(
                "no run holds this figure; measure it with: {}",
                command_for(m)
            ),
        );
    }
    let deciding: Vec<&Figure> = figures.iter().filter(|f| f.decides()).collect();
    let pool: Vec<&Figure> = if deciding.is_empty() {
        figures.iter().collect()
    } else {
        deciding.clone()
    };
    let names = |keep: &dyn Fn(Outcome) -> bool| -> Vec<&str> {
        pool.iter()
            .filter(|f| keep(f.outcome))
            .map(|f| f.label.as_str())
            .collect()
    };
    let h = names(&|o| o == Outcome::Holds);
    let below = names(&|o| o == Outcome::Below);
    let above = names(&|o| o == Outcome::Above);
    let u = names(&|o| o == Outcome::Unsure);
    let direction = match (below.is_empty(), above.is_empty()) {
        (false, true) => Some(Direction::Below),
        (true, false) => Some(Direction::Above),
        (false, false) => Some(Direction::Both),
        (true, true) => None,
    };
    let mut parts = Vec::new();
    let lead = if deciding.is_empty() { "would " } else { "" };
    for (word, list) in [
        ("hold for", &h),
        ("fail (below) for", &below),
        ("fail (above) for", &above),
        ("be unsure for", &u),
    ] {
        if !list.is_empty() {
            let word = if lead.is_empty() {
                match word {
                    "hold for" => "holds for",
                    "fail (below) for" => "fails (below) for",
                    "fail (above) for" => "fails (above) for",
                    _ => "unsure for",
                }
            } else {
                word
            };
            parts.push(format!("{lead}{word} {}", list.join(", ")));
        }
    }
    let mut detail = parts.join("; ");
    if deciding.is_empty() {
        let why = if figures.iter().all(|f| !f.interval) {
            "no figure carries an interval (one density series per target)"
        } else {
            "only cross-kind pairs were measured (a like-for-like pair decides)"
        };
        return (
            VerdictKind::Indicative,
            direction,
            format!("indicative only: {why}; {detail}"),
        );
    }
    let cross = figures.iter().filter(|f| !f.decides()).count();
    if cross > 0 {
        detail.push_str(&format!(
            "; {cross} more figure(s) shown that do not decide (cross-kind or no interval)"
        ));
    }
    let failed = !below.is_empty() || !above.is_empty();
    let kind = match (!h.is_empty(), failed) {
        (true, true) => VerdictKind::Depends,
        (true, false) => VerdictKind::Holds,
        (false, true) => VerdictKind::Fails,
        (false, false) => VerdictKind::Inconclusive,
    };
    (kind, direction, detail)
}

/// Checks every claim against `runs`.
pub fn ledger(claims: &[Claim], runs: &[&RunFile]) -> Vec<Verdict> {
    claims.iter().map(|c| check(c, runs)).collect()
}
