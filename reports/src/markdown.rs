//! GitHub-flavoured Markdown: the claims ledger and one summary table per
//! section, for a CI step summary, a PR comment or the README. Everything
//! printed from a results file or a claims file goes through [`escape`].

use crate::claims::{Verdict, VerdictKind};
use coldbench_results::{Metric, RunFile, ThroughputMode};

/// Escapes text for a Markdown table cell: `|` (a column break), `<`, `>`
/// and `&` (HTML), backticks and `*`/`_`/`[`/`]` (emphasis, links), and line
/// breaks (a cell is one line).
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '|' => out.push_str("\\|"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '`' | '*' | '_' | '[' | ']' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            '\n' | '\r' => out.push(' '),
            _ => out.push(c),
        }
    }
    out
}

fn verdict_word(k: VerdictKind) -> String {
    match k {
        VerdictKind::Holds => "✅ holds".into(),
        VerdictKind::Fails => "❌ fails".into(),
        VerdictKind::Depends => "⚖️ depends".into(),
        VerdictKind::Inconclusive => "❔ inconclusive".into(),
        VerdictKind::Indicative => "〰️ indicative".into(),
        VerdictKind::NotMeasured => "— not measured".into(),
        VerdictKind::NotComparable => "≠ not comparable".into(),
    }
}

/// The claims ledger as a Markdown table: claim, source, bound, what was
/// measured (at most 6 figures, the rest counted), verdict and its detail.
pub fn ledger(verdicts: &[Verdict]) -> String {
    let mut out = String::from(
        "| claim | source (measured by) | bound | measured here (median [95 % CI], n, condition) | verdict |\n|---|---|---|---|---|\n",
    );
    for v in verdicts {
        let mut measured: Vec<String> = v
            .figures
            .iter()
            .take(6)
            .map(|f| escape(&f.line(v.unit)))
            .collect();
        if v.figures.len() > 6 {
            measured.push(format!("… {} more", v.figures.len() - 6));
        }
        let rest = v.word();
        let rest = rest.strip_prefix(v.kind.name()).unwrap_or("");
        out.push_str(&format!(
            "| “{}” <br>*{}*{} | {} | {} | {} | **{}**{}<br>{} |\n",
            escape(&v.claim.quote),
            escape(&v.claim.id),
            v.claim
                .note
                .as_deref()
                .map(|n| format!("<br>{}", escape(n)))
                .unwrap_or_default(),
            escape(&v.attribution()),
            v.bound.as_deref().map(escape).unwrap_or_else(|| "—".into()),
            if measured.is_empty() {
                "—".into()
            } else {
                measured.join("<br>")
            },
            verdict_word(v.kind),
            escape(rest),
            escape(&v.detail),
        ));
    }
    out
}

/// Position of `w` in the run's workload list (tables follow it).
fn workload_rank(run: &RunFile, w: &str) -> usize {
    run.config
        .workloads
        .iter()
        .position(|x| x == w)
        .unwrap_or(usize::MAX)
}

/// Position of `t` in the run's target list (catalog order).
fn target_rank(run: &RunFile, t: &str) -> usize {
    run.targets
        .iter()
        .position(|x| x.id == t)
        .unwrap_or(usize::MAX)
}

/// The cold-start summary: per workload × target, n, `t_ready` and
/// `t_first_response` medians with their intervals.
pub fn cold_start(run: &RunFile) -> String {
    let Some(c) = &run.cold_start else {
        return "No cold-start section in these runs: `coldbench run` (or `cargo run --release`) measures it.\n".into();
    };
    let mut out = String::from(
        "| workload | target | start | n | t_ready p50 [95 % CI] | t_first_response p50 [95 % CI] |\n|---|---|---|---:|---:|---:|\n",
    );
    // Commands (bring your own) have t_first_response and no t_ready.
    let commands = crate::command_workloads(run);
    let mut rows: Vec<_> = c
        .results
        .iter()
        .filter(|r| {
            r.metric == Metric::TReady
                || (r.metric == Metric::TFirstResponse && commands.contains(&r.workload.as_str()))
        })
        .collect();
    rows.sort_by_key(|r| (workload_rank(run, &r.workload), target_rank(run, &r.target)));
    for r in rows {
        let cell = |m| {
            run.result(&r.workload, &r.target, m)
                .map(|x| crate::median_cell(Some(&x.summary)))
                .unwrap_or_else(|| "—".into())
        };
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} |\n",
            escape(&r.workload),
            escape(&r.target),
            crate::start_label(run, &r.target),
            r.summary.n,
            cell(Metric::TReady),
            cell(Metric::TFirstResponse)
        ));
    }
    if !commands.is_empty() {
        out.push_str(&format!(
            "\n{}: your own command(s), run to exit — no ready line, so no `t_ready`; `t_first_response` is start → end of stdout.\n",
            escape(&commands.join(", "))
        ));
    }
    out.push_str(&format!("\n{}", escape(&crate::start_note(run))));
    out.push_str(&floors(run));
    out
}

/// The embedded runtimes' transport and in-process floors
/// ([`crate::floor_rows`]); empty without them.
pub fn floors(run: &RunFile) -> String {
    let rows = crate::floor_rows(run);
    if rows.is_empty() {
        return String::new();
    }
    let mut out = format!(
        "\n### Embedded runtimes against their floors\n\n{}\n\n| {} |\n|---|---|{}\n",
        escape(&crate::floor_note(run)),
        crate::FLOOR_COLUMNS.join(" | "),
        "---:|".repeat(crate::FLOOR_COLUMNS.len() - 2)
    );
    for r in rows {
        let cells: Vec<String> = r.iter().map(|c| escape(c)).collect();
        out.push_str(&format!("| {} |\n", cells.join(" | ")));
    }
    out
}

/// The density summary: per series, N, stop reason, bytes per instance
/// (PSS, host, cgroup, engine-reported), `t_ready`, time to N and the
/// projection ([`crate::DENSITY_COLUMNS`]).
pub fn density(run: &RunFile) -> String {
    let Some(d) = &run.density else {
        return "No density section in these runs: `coldbench density` (or `cargo run --release`) measures it.\n".into();
    };
    let heads: Vec<&str> = crate::DENSITY_COLUMNS.iter().map(|c| c.0).collect();
    let aligns: Vec<&str> = crate::DENSITY_COLUMNS
        .iter()
        .map(|c| if c.1 { "---:" } else { "---" })
        .collect();
    let mut out = format!("| {} |\n|{}|\n", heads.join(" | "), aligns.join("|"));
    for s in &d.series {
        let cells: Vec<String> = crate::density_row(s, &d.config)
            .iter()
            .map(|c| escape(c))
            .collect();
        out.push_str(&format!("| {} |\n", cells.join(" | ")));
    }
    out
}

/// The throughput summary: per cell, requests/s with its interval, p50 and
/// p99 latency, and the slowdown against native with its interval.
pub fn throughput(run: &RunFile) -> String {
    let Some(t) = &run.throughput else {
        return "No throughput section in these runs: `coldbench throughput` (or `cargo run --release`) measures it.\n".into();
    };
    let mut out = String::from(
        "| mode | row | target | requests | req/s [95 % CI] | p50 | p99 | slowdown vs native [95 % CI] |\n|---|---|---|---:|---:|---:|---:|---:|\n",
    );
    let mut cells: Vec<_> = t.cells.iter().collect();
    cells.sort_by_key(|c| {
        (
            c.mode != ThroughputMode::Reused,
            workload_rank(run, &c.workload),
            c.row.clone(),
            target_rank(run, &c.target),
        )
    });
    for c in cells {
        // Row and target come from the file: escaped; the rest is ours.
        let mut cells = crate::throughput_row(c);
        for i in [1, 2] {
            cells[i] = escape(&cells[i]);
        }
        out.push_str(&format!("| {} |\n", cells.join(" | ")));
    }
    out
}

/// Host and reproducibility: per run, the host, when, the command and the
/// git revision.
pub fn provenance(runs: &[&RunFile]) -> String {
    let mut out = String::new();
    for r in runs {
        let h = &r.host;
        out.push_str(&format!(
            "- {}{}; started {}; `{}` at {}{}\n",
            escape(&crate::host_line(h)),
            h.docker
                .as_ref()
                .map(|d| format!(", Docker {}", escape(&d.engine_version)))
                .unwrap_or_default(),
            escape(&r.started_utc),
            escape(&r.tool.command_line),
            escape(&r.tool.git_revision),
            crate::incomplete(r)
                .map(|w| format!(" — **{}**", escape(&w)))
                .unwrap_or_default(),
        ));
    }
    out
}

/// The whole Markdown report: claims ledger first, then one table per
/// section (from the first run holding it) — density with its host-sizing
/// sheet for this host and `hosts` (bytes) —, then provenance.
pub fn report(runs: &[&RunFile], verdicts: &[Verdict], hosts: &[u64]) -> String {
    let pick = |has: fn(&RunFile) -> bool| runs.iter().copied().find(|r| has(r));
    let mut out = String::from("## The three answers\n\n");
    out.push_str(&crate::summary::markdown(&crate::summary::answers(runs)));
    out.push_str("\n## Claims ledger\n\n");
    out.push_str(&ledger(verdicts));
    out.push_str("\n## Cold start\n\n");
    out.push_str(&match pick(|r| r.cold_start.is_some()) {
        Some(r) => cold_start(r),
        None => cold_start(runs[0]),
    });
    out.push_str("\n## Density\n\n");
    out.push_str(&match pick(|r| r.density.is_some()) {
        Some(r) => {
            let sheet = crate::sizing::sheet(r, hosts);
            format!(
                "{}\n### Host sizing: the limit that binds first\n\n{}",
                density(r),
                crate::sizing::markdown(&sheet)
            )
        }
        None => density(runs[0]),
    });
    out.push_str("\n## Throughput\n\n");
    out.push_str(&match pick(|r| r.throughput.is_some()) {
        Some(r) => throughput(r),
        None => throughput(runs[0]),
    });
    out.push_str("\n## Host and reproducibility\n\n");
    out.push_str(&provenance(runs));
    out
}

#[cfg(test)]
mod tests {
    use super::escape;

    #[test]
    fn cells_cannot_break_the_table_or_inject_html() {
        assert_eq!(escape("a|b"), "a\\|b");
        assert_eq!(
            escape("<script>alert(1)</script>"),
            "&lt;script&gt;alert(1)&lt;/script&gt;"
        );
        assert_eq!(escape("two\nlines"), "two lines");
        assert_eq!(escape("`rm -rf` *x*"), "\\`rm -rf\\` \\*x\\*");
    }
}
