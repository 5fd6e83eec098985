//! The sections of the HTML report, one function each: ledger, cold start,
//! floors, phases, sizing, density, throughput, artifacts, provenance, the
//! three answers.

use super::*;

pub(super) fn ledger(verdicts: &[Verdict]) -> String {
    let mut s = String::from(
        "<table><tr><th>claim</th><th>source</th><th>bound</th><th>measured here (median [95 % CI], n)</th><th>verdict</th></tr>\n",
    );
    for v in verdicts {
        let class = match v.kind {
            VerdictKind::Holds => "holds",
            VerdictKind::Fails => "fails",
            VerdictKind::Depends => "depends",
            VerdictKind::Inconclusive | VerdictKind::Indicative => "inconclusive",
            VerdictKind::NotMeasured | VerdictKind::NotComparable => "muted",
        };
        let figures: Vec<String> = v.figures.iter().map(|f| escape(&f.line(v.unit))).collect();
        // The first six figures, the rest folded (no script needed).
        let shown = if figures.len() > 6 {
            format!(
                "{}<details><summary>{} more</summary>{}</details>",
                figures[..6].join("<br>"),
                figures.len() - 6,
                figures[6..].join("<br>")
            )
        } else {
            figures.join("<br>")
        };
        s.push_str(&format!(
            "<tr><td class=\"quote\">“{}”<br><span class=\"muted\">{}{}</span></td><td>{}</td><td class=\"n\">{}</td><td class=\"figs\">{}</td><td class=\"{class}\"><b>{}</b><br>{}</td></tr>\n",
            escape(&v.claim.quote),
            escape(&v.claim.id),
            v.claim
                .note
                .as_deref()
                .map(|n| format!(" — {}", escape(n)))
                .unwrap_or_default(),
            escape(&v.attribution()),
            v.bound.as_deref().map(escape).unwrap_or_else(|| "—".into()),
            if figures.is_empty() { "—".into() } else { shown },
            escape(&v.word()),
            escape(&v.detail),
        ));
    }
    s.push_str("</table>\n");
    s
}

/// Box statistics of a stored histogram (`None` if it does not decode).
pub(super) fn box_stats(label: &str, r: &coldbench_results::MetricResult) -> Option<BoxStats> {
    let h = LatencyHistogram::from_base64(&r.histogram_v2_deflate_b64).ok()?;
    let q = |p: f64| h.inner().value_at_quantile(p) as f64;
    Some(BoxStats {
        label: label.to_string(),
        n: r.summary.n,
        p1: q(0.01),
        p25: q(0.25),
        p50: r.summary.p50_ns as f64,
        p75: q(0.75),
        p99: q(0.99),
        ci_low: r.summary.p50_ci95_low_ns as f64,
        ci_high: r.summary.p50_ci95_high_ns as f64,
    })
}

pub(super) fn cold_start(run: &RunFile, sink: &mut Vec<Chart>) -> String {
    let Some(c) = &run.cold_start else {
        return missing("cold-start section", "coldbench run");
    };
    let mut s = String::new();
    let mut workloads: Vec<&str> = Vec::new();
    for w in &run.config.workloads {
        if c.results.iter().any(|r| &r.workload == w) {
            workloads.push(w);
        }
    }
    for w in workloads {
        for m in [Metric::TReady, Metric::TFirstResponse] {
            let boxes: Vec<BoxStats> = c
                .results
                .iter()
                .filter(|r| r.workload == w && r.metric == m)
                .filter_map(|r| {
                    box_stats(
                        &format!("{} · {}", r.target, crate::start_label(run, &r.target)),
                        r,
                    )
                })
                .collect();
            if !boxes.is_empty() {
                s.push_str(&chart(
                    plot::distribution_chart(
                        &format!(
                            "{w}: {} (p1–p99, p25–p75, median and its 95 % CI)",
                            m.name()
                        ),
                        &boxes,
                    ),
                    sink,
                ));
            }
        }
        s.push_str(&phases(run, w, sink));
    }
    s.push_str(&format!(
        "<p class=\"muted\">{}</p>\n",
        escape(&crate::start_note(run))
    ));
    s.push_str(&floors(run));
    s
}

/// The embedded runtimes' transport and in-process floors
/// ([`crate::floor_rows`]); empty without them.
pub(super) fn floors(run: &RunFile) -> String {
    let rows = crate::floor_rows(run);
    if rows.is_empty() {
        return String::new();
    }
    let mut s = String::from("<h3>Embedded runtimes against their floors</h3>\n<table><tr>");
    for c in crate::FLOOR_COLUMNS {
        s.push_str(&format!("<th>{}</th>", escape(c)));
    }
    s.push_str("</tr>\n");
    let numeric: Vec<usize> = (2..crate::FLOOR_COLUMNS.len()).collect();
    for r in &rows {
        s.push_str(&row(r, &numeric, |_| None));
    }
    s.push_str(&format!(
        "</table>\n<p class=\"muted\">{}</p>\n",
        escape(&crate::floor_note(run))
    ));
    s
}

/// The phase chart of workload `w`: every target's in-target phases (their
/// medians), or its undivided `t_ready` when it records none (containers).
pub(super) fn phases(run: &RunFile, w: &str, sink: &mut Vec<Chart>) -> String {
    let inner = |m: Metric| {
        !matches!(
            m,
            Metric::Prepare | Metric::TReady | Metric::TFirstResponse | Metric::TTeardown
        )
    };
    let results = run.cold_start_results();
    let mut order: Vec<Metric> = results
        .iter()
        .filter(|r| r.workload == w && inner(r.metric))
        .map(|r| r.metric)
        .collect();
    order.sort();
    order.dedup();
    if order.is_empty() {
        return String::new();
    }
    let undivided = "t_ready (undivided)".to_string();
    let mut names: Vec<String> = order.iter().map(|m| m.name().to_string()).collect();
    let mut bars = Vec::new();
    for r in results
        .iter()
        .filter(|r| r.workload == w && r.metric == Metric::TReady)
    {
        let mut ph: Vec<(String, f64)> = order
            .iter()
            .filter_map(|m| {
                run.result(w, &r.target, *m)
                    .map(|x| (m.name().to_string(), x.summary.p50_ns as f64))
            })
            .collect();
        if ph.is_empty() {
            ph.push((undivided.clone(), r.summary.p50_ns as f64));
            if !names.contains(&undivided) {
                names.push(undivided.clone());
            }
        }
        bars.push(plot::PhaseBar {
            label: format!("{} (t_ready {})", r.target, format_ns(r.summary.p50_ns)),
            phases: ph,
        });
    }
    chart(
        plot::phase_chart(
            &format!("{w}: where t_ready goes (phase medians, timeline order)"),
            &bars,
            &names,
        ),
        sink,
    )
}

pub(super) fn sizing(run: &RunFile, hosts: &[u64]) -> String {
    let sheet = crate::sizing::sheet(run, hosts);
    if sheet.is_empty() {
        return String::new();
    }
    let mut s = String::from("<h3>Host sizing: the limit that binds first</h3>\n<table><tr>");
    for h in crate::sizing::COLUMNS {
        s.push_str(&format!("<th>{}</th>", escape(h)));
    }
    s.push_str("</tr>\n");
    for z in &sheet {
        // The allowances carry what they rest on as a tooltip.
        s.push_str(&row(
            &crate::sizing::row(z),
            &crate::sizing::NUMERIC_COLUMNS,
            |i| {
                crate::sizing::COLUMN_LIMITS[i]
                    .and_then(|l| z.allowances.iter().find(|a| a.limit == l))
                    .map(|a| a.basis.clone())
            },
        ));
    }
    s.push_str(&format!(
        "</table>\n<p class=\"muted\">{} Hover a count for what it rests on.</p>\n",
        escape(crate::sizing::SCOPE_NOTE)
    ));
    s
}

pub(super) fn density(run: &RunFile, sink: &mut Vec<Chart>) -> String {
    let Some(d) = &run.density else {
        return missing("density section", "coldbench density");
    };
    let mut s = String::new();
    let mut workloads: Vec<&str> = d.series.iter().map(|x| x.workload.as_str()).collect();
    workloads.dedup();
    for w in workloads {
        let curves: Vec<Curve> = d
            .series
            .iter()
            .filter(|x| x.workload == w)
            .map(|x| Curve {
                label: format!("{} (stopped: {})", x.target, x.stop_reason.name()),
                points: x
                    .samples
                    .iter()
                    .filter_map(|p| {
                        p.pss_bytes
                            .map(|b| (p.instances as f64, b as f64 / p.instances.max(1) as f64))
                    })
                    .collect(),
            })
            .collect();
        s.push_str(&chart(
            plot::curve_chart(
                &format!("{w}: PSS per idle instance against N"),
                ("live instances N (log scale)", plot::axis_count),
                ("PSS per instance (log scale)", plot::axis_bytes),
                &curves,
            ),
            sink,
        ));
        let starts: Vec<Curve> = d
            .series
            .iter()
            .filter(|x| x.workload == w)
            .map(|x| Curve {
                label: x.target.clone(),
                points: x
                    .samples
                    .iter()
                    .map(|p| (p.instances as f64, p.t_ready_last_ns as f64))
                    .collect(),
            })
            .collect();
        s.push_str(&chart(
            plot::curve_chart(
                &format!("{w}: t_ready of the N-th instance"),
                ("live instances N (log scale)", plot::axis_count),
                ("t_ready of the N-th instance (log scale)", plot::axis_ns),
                &starts,
            ),
            sink,
        ));
    }
    s.push_str("<table><tr>");
    for (h, _) in crate::DENSITY_COLUMNS {
        s.push_str(&format!("<th>{}</th>", escape(h)));
    }
    s.push_str("</tr>\n");
    let numeric: Vec<usize> = (0..crate::DENSITY_COLUMNS.len())
        .filter(|i| crate::DENSITY_COLUMNS[*i].1)
        .collect();
    for x in &d.series {
        s.push_str(&row(&crate::density_row(x, &d.config), &numeric, |_| None));
    }
    s.push_str("</table>\n");
    s
}

pub(super) fn throughput(run: &RunFile, sink: &mut Vec<Chart>) -> String {
    let Some(t) = &run.throughput else {
        return missing("throughput section", "coldbench throughput");
    };
    let mut s = String::new();
    for mode in [ThroughputMode::Reused, ThroughputMode::InstancePerRequest] {
        let rows: Vec<RatioRow> = t
            .cells
            .iter()
            .filter(|c| c.mode == mode)
            .filter_map(|c| {
                c.slowdown_vs_native.map(|r| RatioRow {
                    label: format!("{} · {}", c.row, c.target),
                    value: r.ratio,
                    low: r.ci95_low,
                    high: r.ci95_high,
                })
            })
            .collect();
        if !rows.is_empty() {
            s.push_str(&chart(plot::ratio_chart(
                &format!("slowdown against native, {} (95 % CI)", mode.name()),
                "native requests/s ÷ target requests/s (log scale); red lines: 1× native, 1.25× (80 % of native), 13.5× (13–14× slower)",
                &rows,
                &[(1.0, "native"), (1.25, "80 % of native"), (13.5, "13–14× slower")],
            ), sink));
        }
    }
    // Latency percentile curves (HDR style), one chart per row × mode.
    let mut cells: Vec<(&str, ThroughputMode)> =
        t.cells.iter().map(|c| (c.row.as_str(), c.mode)).collect();
    cells.sort();
    cells.dedup();
    for (row, mode) in cells {
        let curves: Vec<Curve> = t
            .cells
            .iter()
            .filter(|c| c.row == row && c.mode == mode)
            .filter_map(|c| {
                let h = LatencyHistogram::from_base64(&c.latency_histogram_v2_deflate_b64).ok()?;
                let points = [0.0, 0.5, 0.75, 0.9, 0.95, 0.99, 0.999, 0.9999]
                    .iter()
                    .filter(|q| (h.len() as f64) * (1.0 - **q) >= 1.0 || **q == 0.0)
                    .map(|&q| (1.0 / (1.0 - q), h.inner().value_at_quantile(q) as f64))
                    .collect();
                Some(Curve {
                    label: format!("{} (n={})", c.target, c.requests),
                    points,
                })
            })
            .collect();
        s.push_str(&chart(
            plot::curve_chart(
                &format!("{row}, {}: latency by percentile", mode.name()),
                ("percentile (log of 1/(1−q))", plot::axis_percentile),
                ("latency (log scale)", plot::axis_ns),
                &curves,
            ),
            sink,
        ));
    }
    s.push_str("<table><tr><th>mode</th><th>row</th><th>target</th><th>requests</th><th>req/s [95 % CI]</th><th>p50</th><th>p99</th></tr>\n");
    for c in &t.cells {
        // The table leaves the slowdown to the chart above it.
        s.push_str(&row(&crate::throughput_row(c)[..7], &[3, 4, 5, 6], |_| {
            None
        }));
    }
    s.push_str("</table>\n");
    s
}

pub(super) fn artifacts(runs: &[&RunFile]) -> String {
    let mut s = String::from(
        "<table><tr><th>target</th><th>workload</th><th>artifact</th><th>size</th></tr>\n",
    );
    let mut any = false;
    for r in runs {
        for t in r.targets.iter().filter(|t| t.available) {
            for a in &t.artifacts {
                any = true;
                s.push_str(&format!(
                    "<tr><td>{}</td><td>{}</td><td>{}</td><td class=\"n\">{}</td></tr>\n",
                    escape(&t.id),
                    escape(&a.workload),
                    a.kind.name(),
                    format_bytes(a.bytes)
                ));
            }
        }
    }
    s.push_str("</table>\n");
    if any {
        s
    } else {
        missing("artifact sizes", "coldbench run")
    }
}

pub(super) fn provenance(runs: &[&RunFile]) -> String {
    let mut s = String::from("<ul>\n");
    for r in runs {
        let h = &r.host;
        s.push_str(&format!(
            "<li>{}{}; started {}; <code>{}</code> at {}; runtimes: {}</li>\n",
            crate::incomplete(r)
                .map(|w| format!("<strong>{}</strong> — ", escape(&w)))
                .unwrap_or_default(),
            escape(&crate::host_line(h)),
            escape(&r.started_utc),
            escape(&r.tool.command_line),
            escape(&r.tool.git_revision),
            escape(
                &h.runtime_versions
                    .iter()
                    .map(|(k, v)| format!("{k} {v}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ));
    }
    s.push_str("</ul>\n");
    s
}

/// The three answers as a definition list, then the cold start of every
/// target of the first answer's workload grouped by kind of start (the
/// memory and slowdown charts follow in their sections).
pub(super) fn answers(runs: &[&RunFile], sink: &mut Vec<Chart>) -> String {
    let mut s = String::from("<dl>\n");
    for a in crate::summary::answers(runs) {
        s.push_str(&format!(
            "<dt><b>{}</b></dt><dd>{}</dd>\n",
            escape(a.question),
            escape(&a.sentence)
        ));
    }
    s.push_str("</dl>\n");
    if let Some(run) = runs.iter().find(|r| r.cold_start.is_some()) {
        let c = run.cold_start.as_ref().expect("found above");
        let w = crate::summary::cold_start_workload(c).unwrap_or_default();
        let mut rows: Vec<(
            coldbench_results::StartKind,
            &coldbench_results::MetricResult,
        )> = c
            .results
            .iter()
            .filter(|r| r.workload == w && r.metric == Metric::TReady)
            .filter_map(|r| {
                let t = run.targets.iter().find(|t| t.id == r.target)?;
                Some((t.start_path().kind, r))
            })
            .collect();
        rows.sort_by_key(|(k, r)| (*k, r.summary.p50_ns));
        let boxes: Vec<BoxStats> = rows
            .iter()
            .filter_map(|(k, r)| box_stats(&format!("{} · {}", k.label(), r.target), r))
            .collect();
        if !boxes.is_empty() {
            s.push_str(&chart(
                plot::distribution_chart(
                    &format!("{w}: t_ready by kind of start (compare within a kind; p1–p99, p25–p75, median and its 95 % CI)"),
                    &boxes,
                ),
                sink,
            ));
        }
    }
    s
}
