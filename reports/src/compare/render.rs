//! A comparison as text: the terminal table and the Markdown page (its HTML
//! page is `crate::html::compare`).

use super::*;

/// `1.08× [1.03–1.12]`.
pub fn ratio_text(r: &Row) -> String {
    if r.method == Method::Exact {
        format!("{:.3}× (exact)", r.ratio)
    } else {
        format!("{:.3}× [{:.3}–{:.3}]", r.ratio, r.low, r.high)
    }
}

/// A side's figure for a person: `262 µs [241–286] (n=200)`.
pub fn figure_text(q: Quantity, f: &Figure) -> String {
    if f.runs > 1 {
        return format!(
            "{} [{}–{}] ({} runs)",
            q.format(f.value),
            q.format(f.low),
            q.format(f.high),
            f.runs
        );
    }
    if f.n <= 1 && f.low == f.high {
        q.format(f.value)
    } else if f.low == f.high {
        format!("{} (n={})", q.format(f.value), f.n)
    } else {
        format!(
            "{} [{}–{}] (n={})",
            q.format(f.value),
            q.format(f.low),
            q.format(f.high),
            f.n
        )
    }
}

/// The verdict cell: the word, and for *unsure* what would decide it.
pub fn verdict_text(r: &Row) -> String {
    let w = r.verdict.word(r.quantity);
    match (r.verdict, r.decisive_n) {
        (Verdict::Unsure, Some(n)) => format!("{w} (n≈{n} per side would decide)"),
        _ => w.to_string(),
    }
}

/// The summary line: counts per verdict and rows on one side only.
pub fn summary_line(c: &Comparison) -> String {
    let [s, f, u, q] = c.counts();
    format!(
        "{} rows: {s} slower, {f} faster, {u} unchanged, {q} unsure (threshold ±{:.1} %, {:.0} % intervals, {}); {} only in BASE, {} only in NEW",
        c.rows.len(),
        c.options.threshold * 100.0,
        c.options.confidence * 100.0,
        if c.base_runs > 1 || c.new_runs > 1 {
            format!(
                "{} BASE run(s) vs {} NEW run(s): run-to-run spread included",
                c.base_runs, c.new_runs
            )
        } else {
            "one run per side: sampling noise only, not run-to-run drift".to_string()
        },
        c.only_base.len(),
        c.only_new.len()
    )
}

/// The comparison as a terminal table (hyperfine-style: what differs above
/// the verdicts, the verdict counts last). `all`: every row, otherwise
/// the rows that are not *unchanged*.
pub fn terminal(c: &Comparison, all: bool) -> String {
    use comfy_table::{Table, presets::UTF8_BORDERS_ONLY};
    let mut out = format!(
        "Comparing {} (BASE) → {} (NEW)\n",
        c.base_label, c.new_label
    );
    if let Some(w) = &c.host_warning {
        out.push_str(&format!("warning: {w}\n"));
    }
    if c.differences.is_empty() {
        out.push_str("Fingerprints: identical (same revision, versions, knobs, host).\n");
    } else {
        out.push_str("What differs:\n");
        for d in &c.differences {
            out.push_str(&format!("  {}: {} → {}\n", d.what, d.base, d.new));
        }
    }
    let mut t = Table::new();
    t.load_preset(UTF8_BORDERS_ONLY).set_header(vec![
        "workload / target / metric",
        "BASE",
        "NEW",
        "NEW/BASE",
        "verdict",
    ]);
    let mut hidden = 0;
    for r in &c.rows {
        if !all && r.verdict == Verdict::Unchanged {
            hidden += 1;
            continue;
        }
        t.add_row(vec![
            r.key.to_string(),
            figure_text(r.quantity, &r.base),
            figure_text(r.quantity, &r.new),
            ratio_text(r),
            verdict_text(r),
        ]);
    }
    out.push_str(&format!("{t}\n"));
    if hidden > 0 {
        out.push_str(&format!(
            "({hidden} unchanged rows not shown; --all shows them)\n"
        ));
    }
    for (side, keys) in c.one_sided() {
        out.push_str(&format!(
            "Only in {side} ({}): {}\n",
            keys.len(),
            keys.join(", ")
        ));
    }
    out.push_str(&summary_line(c));
    out.push('\n');
    out
}

/// The comparison as GitHub-flavoured Markdown (a PR comment or a job
/// summary): verdict counts, what differs, then every row that is not
/// *unchanged* and, folded, the unchanged ones.
pub fn markdown(c: &Comparison) -> String {
    use crate::markdown::escape;
    let mut out = format!(
        "## coldbench compare\n\n{} → {}: **{}**\n\n",
        escape(&c.base_label),
        escape(&c.new_label),
        escape(&summary_line(c))
    );
    if let Some(w) = &c.host_warning {
        out.push_str(&format!("> **Warning:** {}\n\n", escape(w)));
    }
    if !c.differences.is_empty() {
        out.push_str("| what differs | BASE | NEW |\n|---|---|---|\n");
        for d in &c.differences {
            out.push_str(&format!(
                "| {} | {} | {} |\n",
                escape(&d.what),
                escape(&d.base),
                escape(&d.new)
            ));
        }
        out.push('\n');
    }
    let table = |rows: &[&Row]| {
        let mut s = String::from(
            "| workload / target / metric | BASE | NEW | NEW/BASE | verdict |\n|---|---:|---:|---:|---|\n",
        );
        for r in rows {
            s.push_str(&format!(
                "| {} | {} | {} | {} | {} |\n",
                escape(&r.key.to_string()),
                escape(&figure_text(r.quantity, &r.base)),
                escape(&figure_text(r.quantity, &r.new)),
                escape(&ratio_text(r)),
                if r.verdict == Verdict::Slower {
                    format!("**{}**", escape(&verdict_text(r)))
                } else {
                    escape(&verdict_text(r))
                }
            ));
        }
        s
    };
    let changed: Vec<&Row> = c
        .rows
        .iter()
        .filter(|r| r.verdict != Verdict::Unchanged)
        .collect();
    let unchanged: Vec<&Row> = c
        .rows
        .iter()
        .filter(|r| r.verdict == Verdict::Unchanged)
        .collect();
    if !changed.is_empty() {
        out.push_str(&table(&changed));
        out.push('\n');
    }
    if !unchanged.is_empty() {
        out.push_str(&format!(
            "<details><summary>{} unchanged rows</summary>\n\n{}\n</details>\n\n",
            unchanged.len(),
            table(&unchanged)
        ));
    }
    for (side, keys) in c.one_sided() {
        let list: Vec<String> = keys.iter().map(|k| escape(k)).collect();
        out.push_str(&format!("Only in {side}: {}\n\n", list.join(", ")));
    }
    out
}
