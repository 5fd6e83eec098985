//! The HTML report: one self-contained page — CSS inline, charts inline as
//! SVG drawn by [`crate::plot`], no JavaScript, nothing fetched from the
//! network — in the order a reader asks: the claims ledger, cold start,
//! density, throughput, artifacts, host and reproducibility. Every text
//! taken from a results or claims file goes through [`escape`].

use crate::claims::{Verdict, VerdictKind};
use crate::plot::{self, BoxStats, Chart, Curve, RatioRow};
use crate::{format_bytes, format_ns};
use coldbench_results::{LatencyHistogram, Metric, RunFile, ThroughputMode};
mod sections;
use sections::*;
mod compare_page;
pub use compare_page::*;

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

/// The whole page for `runs` (merged: each section from the first run that
/// holds it), the claims' verdicts, and the host-sizing sheet for this host
/// and `hosts` (bytes).
pub fn report(runs: &[&RunFile], verdicts: &[Verdict], hosts: &[u64]) -> String {
    page(runs, verdicts, hosts, &mut Vec::new())
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
