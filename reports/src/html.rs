//! The HTML report: one self-contained page — CSS inline, charts inline as
//! SVG drawn by [`crate::plot`], no JavaScript, nothing fetched from the
//! network — in the order a reader asks: the claims ledger, cold start,
//! density, throughput, artifacts, host and reproducibility. Every text
//! taken from a results or claims file goes through [`escape`].

use crate::claims::{Verdict, VerdictKind};
use crate::plot::{self, BoxStats, Chart, Curve, RatioRow};
use crate::{format_bytes, format_ns};
use coldbench_results::{LatencyHistogram, Metric, RunFile, ThroughputMode};

/// Escapes text for HTML element content and attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;max-width:1000px;margin:2em auto;padding:0 1em;color:#222}\
table{border-collapse:collapse;margin:1em 0;font-size:13px}td,th{border:1px solid #ccc;padding:3px 6px;vertical-align:top}\
th{background:#f3f3f3}td.n{text-align:right;white-space:nowrap}.holds{color:#067d17}.fails{color:#b00020}\
.depends,.inconclusive{color:#8a5a00}.muted{color:#666}figure{margin:1em 0}svg{max-width:100%;height:auto}\
h2{border-bottom:1px solid #ddd;padding-bottom:.2em;margin-top:2em}code{background:#f6f6f6;padding:0 .2em}\
td.figs{min-width:22em;font-size:12px}td.quote{max-width:18em}summary{cursor:pointer;color:#0645ad}";

/// A chart as inline SVG (kept in `sink` for other formats), or a
/// paragraph saying why it could not be drawn.
fn chart(c: Chart, sink: &mut Vec<Chart>) -> String {
    let svg = c.svg();
    sink.push(c);
    match svg {
        Ok(s) => format!("<figure>{}</figure>\n", strip_xml_decl(&s)),
        Err(e) => format!("<p class=\"muted\">{}</p>\n", escape(&e.to_string())),
    }
}

/// SVG text without an XML declaration (invalid inside HTML).
fn strip_xml_decl(s: &str) -> &str {
    match s.strip_prefix("<?xml") {
        Some(rest) => rest.split_once("?>").map_or(s, |(_, r)| r.trim_start()),
        None => s,
    }
}

/// One table row: every cell escaped, the cells in `numeric` right-aligned,
/// `title(i)` an optional tooltip for cell `i`.
fn row(cells: &[String], numeric: &[usize], title: impl Fn(usize) -> Option<String>) -> String {
    let mut s = String::from("<tr>");
    for (i, c) in cells.iter().enumerate() {
        let class = if numeric.contains(&i) {
            " class=\"n\""
        } else {
            ""
        };
        let tip = title(i)
            .map(|t| format!(" title=\"{}\"", escape(&t)))
            .unwrap_or_default();
        s.push_str(&format!("<td{class}{tip}>{}</td>", escape(c)));
    }
    s.push_str("</tr>\n");
    s
}

fn missing(what: &str, command: &str) -> String {
    format!(
        "<p class=\"muted\">No {} in these runs: <code>{}</code> measures it.</p>\n",
        escape(what),
        escape(command)
    )
}

fn ledger(verdicts: &[Verdict]) -> String {
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
fn box_stats(label: &str, r: &coldbench_results::MetricResult) -> Option<BoxStats> {
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

fn cold_start(run: &RunFile, sink: &mut Vec<Chart>) -> String {
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
fn floors(run: &RunFile) -> String {
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
fn phases(run: &RunFile, w: &str, sink: &mut Vec<Chart>) -> String {
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

fn sizing(run: &RunFile, hosts: &[u64]) -> String {
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
        s.push_str(&row(&crate::sizing::row(z), &[2, 3, 4, 5, 7, 8, 9], |i| {
            crate::sizing::COLUMN_LIMITS[i]
                .and_then(|l| z.allowances.iter().find(|a| a.limit == l))
                .map(|a| a.basis.clone())
        }));
    }
    s.push_str(&format!(
        "</table>\n<p class=\"muted\">{} Hover a count for what it rests on.</p>\n",
        escape(crate::sizing::SCOPE_NOTE)
    ));
    s
}

fn density(run: &RunFile, sink: &mut Vec<Chart>) -> String {
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

fn throughput(run: &RunFile, sink: &mut Vec<Chart>) -> String {
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

fn artifacts(runs: &[&RunFile]) -> String {
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

fn provenance(runs: &[&RunFile]) -> String {
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

/// The whole page for `runs` (merged: each section from the first run that
/// holds it), the claims' verdicts, and the host-sizing sheet for this host
/// and `hosts` (bytes).
pub fn report(runs: &[&RunFile], verdicts: &[Verdict], hosts: &[u64]) -> String {
    page(runs, verdicts, hosts, &mut Vec::new())
}

/// The three answers as a definition list, then the cold start of every
/// target of the first answer's workload grouped by kind of start (the
/// memory and slowdown charts follow in their sections).
fn answers(runs: &[&RunFile], sink: &mut Vec<Chart>) -> String {
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

/// Every chart of the page for `runs`, in page order (the PNG files).
pub fn charts(runs: &[&RunFile]) -> Vec<Chart> {
    let mut sink = Vec::new();
    page(runs, &[], &[], &mut sink);
    sink
}

fn page(runs: &[&RunFile], verdicts: &[Verdict], hosts: &[u64], sink: &mut Vec<Chart>) -> String {
    let pick = |has: fn(&RunFile) -> bool| runs.iter().copied().find(|r| has(r)).unwrap_or(runs[0]);
    let names: Vec<String> = runs.iter().map(|r| escape(&r.host.hostname)).collect();
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>coldbench report</title><style>{STYLE}</style></head><body>\n\
<h1>coldbench report</h1>\n<p class=\"muted\">{} run(s) on {}; rendered from results files only.</p>\n\
<h2 id=\"answers\">The three answers</h2>\n{}\
<h2 id=\"claims\">Claims ledger</h2>\n{}\
<h2 id=\"cold-start\">Cold start</h2>\n{}\
<h2 id=\"density\">Density and host sizing</h2>\n{}\
<h2 id=\"throughput\">Throughput</h2>\n{}\
<h2 id=\"artifacts\">Artifacts</h2>\n{}\
<h2 id=\"host\">Host and reproducibility</h2>\n{}\
</body></html>\n",
        runs.len(),
        names.join(", "),
        answers(runs, sink),
        ledger(verdicts),
        cold_start(pick(|r| r.cold_start.is_some()), sink),
        {
            let r = pick(|r| r.density.is_some());
            format!("{}{}", density(r, sink), sizing(r, hosts))
        },
        throughput(pick(|r| r.throughput.is_some()), sink),
        artifacts(runs),
        provenance(runs),
    )
}

/// Most rows drawn in the compare page's ratio chart (rows that are not
/// *unchanged* first); the table lists every row.
const MAX_CHART_ROWS: usize = 60;

/// The `coldbench compare` page, self-contained like the report: the
/// verdict counts, what differs between the runs, NEW/BASE per row with its
/// interval on a log axis centred on 1× (reference lines at 1× and
/// ± threshold), every row's verdict, the rows on one side only, and — with
/// more than two runs (`labels`) — a trend chart per metric across them.
pub fn compare(
    c: &crate::compare::Comparison,
    labels: &[String],
    trends: &crate::compare::Trends,
) -> String {
    use crate::compare::{
        Method, Quantity, Verdict, figure_text, ratio_text, summary_line, verdict_text,
    };
    let mut sink = Vec::new();
    let mut body = format!(
        "<p><code>{}</code> (BASE) → <code>{}</code> (NEW): <strong>{}</strong></p>\n",
        escape(&c.base_label),
        escape(&c.new_label),
        escape(&summary_line(c))
    );
    if let Some(w) = &c.host_warning {
        body.push_str(&format!("<p class=\"fails\">Warning: {}</p>\n", escape(w)));
    }
    body.push_str("<h2 id=\"differs\">What differs</h2>\n");
    if c.differences.is_empty() {
        body.push_str("<p>Nothing: same revision, versions, knobs and host.</p>\n");
    } else {
        body.push_str("<table><tr><th>what</th><th>BASE</th><th>NEW</th></tr>\n");
        for d in &c.differences {
            body.push_str(&row(
                &[d.what.clone(), d.base.clone(), d.new.clone()],
                &[],
                |_| None,
            ));
        }
        body.push_str("</table>\n");
    }
    body.push_str("<h2 id=\"ratios\">NEW / BASE</h2>\n");
    let mut drawn: Vec<&crate::compare::Row> = c
        .rows
        .iter()
        .filter(|r| r.method != Method::Exact)
        .collect();
    drawn.sort_by_key(|r| (r.verdict == Verdict::Unchanged, r.key.clone()));
    drawn.truncate(MAX_CHART_ROWS);
    if !drawn.is_empty() {
        let t = c.options.threshold;
        let rows: Vec<RatioRow> = drawn
            .iter()
            .map(|r| RatioRow {
                label: format!("{} ({})", r.key, r.verdict.word(r.quantity)),
                value: r.ratio,
                low: r.low,
                high: r.high,
            })
            .collect();
        body.push_str(&chart(
            plot::ratio_chart(
                &format!(
                    "NEW / BASE with {:.0} % intervals ({} of {} rows; changed and unsure first)",
                    c.options.confidence * 100.0,
                    drawn.len(),
                    c.rows.len()
                ),
                &format!("NEW / BASE (lines: {:.3}×, 1×, {:.3}×)", 1.0 - t, 1.0 + t),
                &rows,
                &[
                    (1.0 - t, "−threshold"),
                    (1.0, "1×"),
                    (1.0 + t, "+threshold"),
                ],
            ),
            &mut sink,
        ));
    }
    body.push_str(
        "<table><tr><th>workload / target / metric</th><th>BASE</th><th>NEW</th><th>NEW/BASE</th><th>verdict</th></tr>\n",
    );
    for r in &c.rows {
        let class = match r.verdict {
            Verdict::Slower => "fails",
            Verdict::Faster => "holds",
            Verdict::Unsure => "depends",
            Verdict::Unchanged => "muted",
        };
        body.push_str(&format!(
            "<tr><td><code>{}</code></td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"{class}\">{}</td></tr>\n",
            escape(&r.key.to_string()),
            escape(&figure_text(r.quantity, &r.base)),
            escape(&figure_text(r.quantity, &r.new)),
            escape(&ratio_text(r)),
            escape(&verdict_text(r)),
        ));
    }
    body.push_str("</table>\n");
    for (side, keys) in c.one_sided() {
        let list: Vec<String> = keys
            .iter()
            .map(|k| format!("<code>{}</code>", escape(k)))
            .collect();
        body.push_str(&format!(
            "<p>Only in {side} ({}): {}</p>\n",
            keys.len(),
            list.join(", ")
        ));
    }
    if labels.len() > 2 {
        body.push_str("<h2 id=\"trends\">Trends across the runs</h2>\n");
        for (metric, (q, series)) in trends {
            let (desc, fmt): (&str, plot::AxisFormat) = match q {
                Quantity::DurationNs => ("median (log)", plot::axis_ns),
                Quantity::RequestsPerSecond => ("requests/s (log)", plot::axis_count),
                Quantity::Bytes => ("bytes (log)", plot::axis_bytes),
            };
            let lines: Vec<plot::TrendSeries> = series
                .iter()
                .map(|(label, points)| plot::TrendSeries {
                    label: label.clone(),
                    points: labels
                        .iter()
                        .map(|l| {
                            points
                                .iter()
                                .find(|p| &p.run == l)
                                .map(|p| (p.figure.value, p.figure.low, p.figure.high))
                        })
                        .collect(),
                })
                .collect();
            for (i, chunk) in lines.chunks(8).enumerate() {
                body.push_str(&chart(
                    plot::trend_chart(
                        &format!("{metric} across runs ({})", i + 1),
                        labels,
                        (desc, fmt),
                        chunk,
                    ),
                    &mut sink,
                ));
            }
        }
    }
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>coldbench compare</title><style>{STYLE}</style></head><body>\n<h1>coldbench compare</h1>\n{body}</body></html>\n"
    )
}

#[cfg(test)]
mod tests {
    use super::escape;

    #[test]
    fn text_cannot_become_markup() {
        assert_eq!(
            escape("<script>alert('x')</script> & \"q\""),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot;"
        );
    }
}
