//! The HTML page of `coldbench compare`: ratio chart, table and trend charts.

use super::*;

/// Most rows drawn in the compare page's ratio chart (rows that are not
/// *unchanged* first); the table lists every row.
pub(super) const MAX_CHART_ROWS: usize = 60;

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
