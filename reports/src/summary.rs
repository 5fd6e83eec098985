//! The three answers, generated from the runs: what a start costs by kind
//! of start, what an idle instance costs by workload, how much slower than
//! native each family executes. Every format opens with them, then the
//! claims ledger; each sentence names its figures' targets, intervals and n.

use crate::format::{format_bytes, format_ns};
use coldbench_results::{Metric, RunFile, StartKind, ThroughputMode};

/// One answer: the question and the generated sentence (empty runs give
/// the command that measures it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// The question, in a few words.
    pub question: &'static str,
    /// The answer, from the runs.
    pub sentence: String,
}

/// The workload the first answer reads in a cold-start section: `noop`
/// (the floor) where it was measured, else the first measured.
pub fn cold_start_workload(c: &coldbench_results::ColdStartSection) -> Option<&str> {
    if c.results.iter().any(|r| r.workload == "noop") {
        Some("noop")
    } else {
        c.results.first().map(|r| r.workload.as_str())
    }
}

/// The three answers for `runs` (each from the first run holding its
/// experiment).
pub fn answers(runs: &[&RunFile]) -> Vec<Answer> {
    vec![
        Answer {
            question: "What does a start cost?",
            sentence: cold_start(runs),
        },
        Answer {
            question: "What does an idle instance cost?",
            sentence: memory(runs),
        },
        Answer {
            question: "How much slower than native does it execute?",
            sentence: slowdown(runs),
        },
    ]
}

/// The fastest `noop` (or first workload's) `t_ready` median of each kind
/// of start.
fn cold_start(runs: &[&RunFile]) -> String {
    let Some(run) = runs.iter().find(|r| r.cold_start.is_some()) else {
        return "not measured: `coldbench run` (or `cargo run --release`) measures it".into();
    };
    let c = run.cold_start.as_ref().expect("found above");
    let Some(workload) = cold_start_workload(c) else {
        return "no start was measured".into();
    };
    let mut parts = Vec::new();
    for kind in StartKind::ALL {
        let best = run
            .targets
            .iter()
            .filter(|t| t.start_path().kind == kind)
            .filter_map(|t| run.result(workload, &t.id, Metric::TReady).map(|r| (t, r)))
            .min_by_key(|(_, r)| r.summary.p50_ns);
        if let Some((t, r)) = best {
            let s = &r.summary;
            parts.push(format!(
                "{}: {} {} [{}–{}] (n = {})",
                kind.label(),
                t.id,
                format_ns(s.p50_ns),
                format_ns(s.p50_ci95_low_ns),
                format_ns(s.p50_ci95_high_ns),
                s.n
            ));
        }
    }
    format!(
        "{workload}, start call → ready line (t_ready median [95 % CI]), the fastest target of each kind of start — {}; measured {}. Compare within a kind: across kinds the work before the clock differs.",
        parts.join("; "),
        c.condition_of().describe()
    )
}

/// Per workload, the least and most memory per idle instance by the one
/// per-instance rule.
fn memory(runs: &[&RunFile]) -> String {
    let Some(run) = runs.iter().find(|r| r.density.is_some()) else {
        return "not measured: `coldbench density` (or `cargo run --release`) measures it".into();
    };
    let d = run.density.as_ref().expect("found above");
    let mut workloads: Vec<&str> = d.series.iter().map(|s| s.workload.as_str()).collect();
    workloads.dedup();
    let label = |id: &str| crate::start_label(run, id);
    let mut parts = Vec::new();
    for w in workloads {
        let per: Vec<(&str, f64, u64)> = d
            .series
            .iter()
            .filter(|s| s.workload == w)
            .filter_map(|s| {
                s.memory_per_instance()
                    .map(|(b, _)| (s.target.as_str(), b, s.instances))
            })
            .collect();
        let lo = per.iter().min_by(|a, b| a.1.total_cmp(&b.1));
        let hi = per.iter().max_by(|a, b| a.1.total_cmp(&b.1));
        if let (Some(lo), Some(hi)) = (lo, hi) {
            parts.push(format!(
                "{w}: from {} ({}, {}, N = {}) to {} ({}, {}, N = {})",
                format_bytes(lo.1 as u64),
                lo.0,
                label(lo.0),
                lo.2,
                format_bytes(hi.1 as u64),
                hi.0,
                label(hi.0),
                hi.2
            ));
        }
    }
    if parts.is_empty() {
        return "no density series resolved a memory figure".into();
    }
    format!(
        "memory per idle instance (the larger of the host MemAvailable drop and PSS at the series' largest N; one series per target, so no interval) — {}.",
        parts.join("; ")
    )
}

/// The slowdown against native of each family on the first reused row.
fn slowdown(runs: &[&RunFile]) -> String {
    let Some(run) = runs.iter().find(|r| {
        r.throughput_cells()
            .iter()
            .any(|c| c.mode == ThroughputMode::Reused && c.slowdown_vs_native.is_some())
    }) else {
        return "not measured: `coldbench throughput` (or `cargo run --release`) measures it"
            .into();
    };
    let cells: Vec<_> = run
        .throughput_cells()
        .iter()
        .filter(|c| c.mode == ThroughputMode::Reused && c.slowdown_vs_native.is_some())
        .collect();
    let row = if cells.iter().any(|c| c.row == "hash-iterated") {
        "hash-iterated"
    } else {
        cells[0].row.as_str()
    };
    let mut parts = Vec::new();
    // As the ledger names them: Wasm in a containerd shim is Wasm.
    for family in ["wasm", "container"] {
        let of: Vec<_> = cells
            .iter()
            .filter(|c| c.row == row)
            .filter(|c| {
                run.targets
                    .iter()
                    .any(|t| t.id == c.target && crate::claims::selects(family, t))
            })
            .filter_map(|c| c.slowdown_vs_native.map(|s| (c.target.as_str(), s)))
            .collect();
        let best = of.iter().min_by(|a, b| a.1.ratio.total_cmp(&b.1.ratio));
        let worst = of.iter().max_by(|a, b| a.1.ratio.total_cmp(&b.1.ratio));
        if let (Some(b), Some(w)) = (best, worst) {
            parts.push(format!(
                "{}: {:.2}× [{:.2}×–{:.2}×] ({}) to {:.2}× [{:.2}×–{:.2}×] ({})",
                family,
                b.1.ratio,
                b.1.ci95_low,
                b.1.ci95_high,
                b.0,
                w.1.ratio,
                w.1.ci95_low,
                w.1.ci95_high,
                w.0
            ));
        }
    }
    format!(
        "{row}, reused instances, native's requests/s ÷ the target's (1× = native speed) — {}.",
        parts.join("; ")
    )
}

/// The answers as Markdown: a bold question, then its sentence.
pub fn markdown(answers: &[Answer]) -> String {
    let mut out = String::new();
    for a in answers {
        out.push_str(&format!(
            "- **{}** {}\n",
            a.question,
            crate::markdown::escape(&a.sentence)
        ));
    }
    out
}

/// The answers for a terminal, one paragraph each.
pub fn terminal(answers: &[Answer]) -> String {
    let mut out = String::from("\nThe three answers (from the run's figures):\n");
    for a in answers {
        out.push_str(&format!("  {} {}\n", a.question, a.sentence));
    }
    out
}
