//! The claims ledger: published claims (a TOML file, [`SHIPPED_CLAIMS`] by
//! default) checked against results files, each with a verdict computed from
//! 95 % intervals — never from a bare median.
//!
//! For every target (or target × baseline pair) the claim concerns, the
//! measured interval is compared with the claim's bound: inside it
//! ([`Outcome::Holds`]), outside it ([`Outcome::Fails`]) or across it
//! ([`Outcome::Unsure`]). The claim's [`VerdictKind`] combines them: it holds
//! or fails when every pair agrees, depends (on the pairs named) when they
//! disagree, is inconclusive when every pair is unsure, is not measured when
//! no run holds the figure (the verdict says which command measures it), and
//! not comparable when the claim cannot be tested as stated.

use crate::{format_bytes, format_ns};
use coldbench_results::{ArtifactKind, Family, MemorySource, Metric, RunFile, ThroughputMode};
use serde::Deserialize;
use std::path::Path;

/// The claims shipped with coldbench (`reports/claims.toml`).
pub const SHIPPED_CLAIMS: &str = include_str!("../claims.toml");

/// Errors reading a claims file.
#[derive(Debug, thiserror::Error)]
pub enum ClaimsError {
    /// The file cannot be read.
    #[error("cannot read claims file {path}: {source}")]
    Io {
        /// File path.
        path: String,
        /// Underlying error.
        source: std::io::Error,
    },
    /// The file is not a claims file (TOML syntax or fields).
    #[error("{path} is not a claims file: {message} (see reports/claims.toml for the format)")]
    Parse {
        /// File path.
        path: String,
        /// What is wrong, with its position.
        message: String,
    },
    /// A bound cannot be read as a number with a unit.
    #[error("{path}: claim `{id}`: {message}")]
    Bound {
        /// File path.
        path: String,
        /// Claim id.
        id: String,
        /// What is wrong.
        message: String,
    },
}

/// A claims file: `[[claim]]` tables.
#[derive(Debug, Clone, Deserialize)]
pub struct ClaimsFile {
    /// The claims, in file order.
    pub claim: Vec<Claim>,
}

/// One measurable statement of a published claim.
#[derive(Debug, Clone, Deserialize)]
pub struct Claim {
    /// Stable identifier.
    pub id: String,
    /// The claim's words as published.
    pub quote: String,
    /// Who said it, where, and the year.
    pub source: String,
    /// How the claim is read here, when that needs saying.
    #[serde(default)]
    pub note: Option<String>,
    /// What the claim says about the figure (absent for not-comparable claims).
    #[serde(default)]
    pub bound: Option<BoundSpec>,
    /// What measures it.
    pub measure: Measure,
}

/// A bound as written in the file: numbers with units, as text.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BoundSpec {
    /// The figure is at most this.
    #[serde(default)]
    pub at_most: Option<String>,
    /// The figure is at least this.
    #[serde(default)]
    pub at_least: Option<String>,
    /// The figure lies in this range.
    #[serde(default)]
    pub between: Option<[String; 2]>,
}

/// What measures a claim.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Measure {
    /// A cold-start median (ns), or with `baseline` the ratio of medians.
    ColdStart {
        /// The metric (`t_ready`, `t_first_response`, a phase).
        metric: Metric,
        /// Workload.
        workload: String,
        /// Targets (families, ids or prefixes).
        targets: Vec<String>,
        /// Ratio denominator (families, ids or prefixes).
        #[serde(default)]
        baseline: Option<Vec<String>>,
    },
    /// The slowdown against native (native requests/s ÷ the target's).
    Slowdown {
        /// Throughput row.
        row: String,
        /// Mode.
        mode: ThroughputMode,
        /// Targets.
        targets: Vec<String>,
    },
    /// Bytes per idle instance, or with `baseline` the ratio of instances per host.
    Density {
        /// Workload.
        workload: String,
        /// Targets.
        targets: Vec<String>,
        /// Ratio denominator.
        #[serde(default)]
        baseline: Option<Vec<String>>,
        /// Memory source.
        source: MemorySource,
    },
    /// Projected instances per host.
    Projection {
        /// Workload.
        workload: String,
        /// Targets.
        targets: Vec<String>,
    },
    /// Artifact sizes (bytes).
    Artifact {
        /// Kinds of artifact.
        kinds: Vec<ArtifactKind>,
        /// Only this workload's.
        #[serde(default)]
        workload: Option<String>,
    },
    /// The claim cannot be tested by this harness as stated.
    NotComparable {
        /// Why.
        reason: String,
    },
}

/// What unit a figure is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// Nanoseconds.
    Ns,
    /// Bytes.
    Bytes,
    /// A ratio (×).
    Ratio,
    /// A count (instances).
    Count,
}

impl Unit {
    /// `v` formatted in this unit for a person.
    pub fn format(self, v: f64) -> String {
        match self {
            Unit::Ns => format_ns(v.max(0.0).round() as u64),
            Unit::Bytes => format_bytes(v.max(0.0).round() as u64),
            Unit::Ratio => {
                if v >= 100.0 {
                    format!("{v:.0}×")
                } else if v >= 10.0 {
                    format!("{v:.1}×")
                } else {
                    format!("{v:.2}×")
                }
            }
            Unit::Count => format!("{:.0}", v),
        }
    }
}

/// A parsed bound, in the figure's unit.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Bound {
    /// At most this.
    AtMost(f64),
    /// At least this.
    AtLeast(f64),
    /// In `[low, high]`.
    Between(f64, f64),
}

impl Bound {
    /// Where an interval `[low, high]` lies against the bound.
    pub fn judge(self, low: f64, high: f64) -> Outcome {
        match self {
            Bound::AtMost(x) if high <= x => Outcome::Holds,
            Bound::AtMost(x) if low > x => Outcome::Fails,
            Bound::AtLeast(x) if low >= x => Outcome::Holds,
            Bound::AtLeast(x) if high < x => Outcome::Fails,
            Bound::Between(a, b) if a <= low && high <= b => Outcome::Holds,
            Bound::Between(a, b) if high < a || low > b => Outcome::Fails,
            _ => Outcome::Unsure,
        }
    }

    /// The bound in words, in `unit`.
    pub fn describe(self, unit: Unit) -> String {
        match self {
            Bound::AtMost(x) => format!("≤ {}", unit.format(x)),
            Bound::AtLeast(x) => format!("≥ {}", unit.format(x)),
            Bound::Between(a, b) => format!("{} – {}", unit.format(a), unit.format(b)),
        }
    }
}

/// Parses a number with a unit into the base unit of `unit` (ns, bytes, ×).
pub fn parse_quantity(text: &str, unit: Unit) -> Result<f64, String> {
    let t = text.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == ','))
        .unwrap_or(t.len());
    let (num, suffix) = t.split_at(split);
    let n: f64 = num
        .replace(',', "")
        .parse()
        .map_err(|_| format!("`{text}` is not a number with a unit"))?;
    let suffix = suffix.trim();
    let mult = match (unit, suffix) {
        (Unit::Ns, "ns") => 1.0,
        (Unit::Ns, "µs" | "us" | "μs") => 1e3,
        (Unit::Ns, "ms") => 1e6,
        (Unit::Ns, "s") => 1e9,
        (Unit::Bytes, "B") => 1.0,
        (Unit::Bytes, "KB" | "kB") => 1e3,
        (Unit::Bytes, "MB") => 1e6,
        (Unit::Bytes, "GB") => 1e9,
        (Unit::Bytes, "KiB") => 1024.0,
        (Unit::Bytes, "MiB") => 1024.0 * 1024.0,
        (Unit::Bytes, "GiB") => 1024.0 * 1024.0 * 1024.0,
        (Unit::Ratio | Unit::Count, "" | "×" | "x") => 1.0,
        (u, s) => {
            return Err(format!(
                "`{text}`: unit `{s}` does not fit a figure in {}",
                match u {
                    Unit::Ns => "time (ns, µs, ms, s)",
                    Unit::Bytes => "bytes (B, KB, MB, GB, KiB, MiB, GiB)",
                    Unit::Ratio => "a ratio (a plain number)",
                    Unit::Count => "a count (a plain number)",
                }
            ));
        }
    };
    Ok(n * mult)
}

impl Claim {
    /// The unit of the figure this claim measures.
    pub fn unit(&self) -> Unit {
        match &self.measure {
            Measure::ColdStart { baseline: None, .. } => Unit::Ns,
            Measure::ColdStart { .. } | Measure::Slowdown { .. } => Unit::Ratio,
            Measure::Density { baseline: None, .. } | Measure::Artifact { .. } => Unit::Bytes,
            Measure::Density { .. } => Unit::Ratio,
            Measure::Projection { .. } => Unit::Count,
            Measure::NotComparable { .. } => Unit::Ratio,
        }
    }

    /// The bound parsed in the claim's unit (`None` without one).
    ///
    /// Errors: a bound with no field, several fields, or a number that does
    /// not read in the claim's unit.
    pub fn bound(&self) -> Result<Option<Bound>, String> {
        let Some(b) = &self.bound else {
            return Ok(None);
        };
        let unit = self.unit();
        let q = |s: &String| parse_quantity(s, unit);
        match (&b.at_most, &b.at_least, &b.between) {
            (Some(x), None, None) => Ok(Some(Bound::AtMost(q(x)?))),
            (None, Some(x), None) => Ok(Some(Bound::AtLeast(q(x)?))),
            (None, None, Some([a, c])) => {
                let (a, c) = (q(a)?, q(c)?);
                if a > c {
                    return Err(format!("`between` runs backwards ({a} > {c})"));
                }
                Ok(Some(Bound::Between(a, c)))
            }
            _ => Err("a bound has exactly one of at_most, at_least, between".into()),
        }
    }
}

/// Parses claims from TOML text; `name` names the file in errors. Every
/// bound is checked here, so that a bad file fails before any report.
pub fn parse(text: &str, name: &str) -> Result<Vec<Claim>, ClaimsError> {
    let file: ClaimsFile = toml::from_str(text).map_err(|e| ClaimsError::Parse {
        path: name.to_string(),
        message: e.to_string(),
    })?;
    for c in &file.claim {
        let missing = c.bound.is_none() && !matches!(c.measure, Measure::NotComparable { .. });
        if missing {
            return Err(ClaimsError::Bound {
                path: name.into(),
                id: c.id.clone(),
                message: "no bound (at_most, at_least or between)".into(),
            });
        }
        c.bound().map_err(|message| ClaimsError::Bound {
            path: name.into(),
            id: c.id.clone(),
            message,
        })?;
    }
    Ok(file.claim)
}

/// Reads a claims file.
pub fn read(path: &Path) -> Result<Vec<Claim>, ClaimsError> {
    let text = std::fs::read_to_string(path).map_err(|source| ClaimsError::Io {
        path: path.display().to_string(),
        source,
    })?;
    parse(&text, &path.display().to_string())
}

/// Where one measured interval lies against a claim's bound.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Outcome {
    /// Entirely inside the bound.
    Holds,
    /// Entirely outside it.
    Fails,
    /// Across it.
    Unsure,
}

/// One measured figure behind a verdict.
#[derive(Debug, Clone, PartialEq)]
pub struct Figure {
    /// Which target, or `target vs baseline`.
    pub label: String,
    /// Lower end of the 95 % interval (= `value` when there is no interval).
    pub low: f64,
    /// The point estimate (median, ratio of medians, bytes).
    pub value: f64,
    /// Upper end of the 95 % interval.
    pub high: f64,
    /// Sample count behind it, when it has one.
    pub n: Option<u64>,
    /// Whether the figure carries an interval.
    pub interval: bool,
    /// Against the bound.
    pub outcome: Outcome,
}

impl Figure {
    /// `value [low–high] (n = …)` in `unit`.
    pub fn describe(&self, unit: Unit) -> String {
        let mut s = unit.format(self.value);
        if self.interval {
            s.push_str(&format!(
                " [{}–{}]",
                unit.format(self.low),
                unit.format(self.high)
            ));
        }
        if let Some(n) = self.n {
            s.push_str(&format!(", n = {n}"));
        }
        s
    }
}

/// A claim's verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VerdictKind {
    /// Every measured figure lies inside the bound.
    Holds,
    /// Every measured figure lies outside it.
    Fails,
    /// Figures disagree: it holds for some targets and not for others.
    Depends,
    /// Every figure's interval straddles the bound: more runs would decide.
    Inconclusive,
    /// No run holds the figure.
    NotMeasured,
    /// The harness cannot test the claim as stated.
    NotComparable,
}

impl VerdictKind {
    /// The verdict as a word.
    pub fn name(self) -> &'static str {
        match self {
            VerdictKind::Holds => "holds",
            VerdictKind::Fails => "fails",
            VerdictKind::Depends => "depends",
            VerdictKind::Inconclusive => "inconclusive",
            VerdictKind::NotMeasured => "not measured",
            VerdictKind::NotComparable => "not comparable",
        }
    }
}

/// A claim checked against runs.
#[derive(Debug, Clone)]
pub struct Verdict {
    /// The claim.
    pub claim: Claim,
    /// The verdict.
    pub kind: VerdictKind,
    /// The bound in words (absent for not-comparable claims).
    pub bound: Option<String>,
    /// Unit of the figures.
    pub unit: Unit,
    /// Every figure behind it.
    pub figures: Vec<Figure>,
    /// The verdict explained: on what it depends, the command that would
    /// measure it, or why it is not comparable.
    pub detail: String,
}

/// Whether `pattern` (a family, an id, or a `-`-bounded id prefix) selects `id`.
fn selects(pattern: &str, id: &str, family: Family) -> bool {
    pattern == family.name() || coldbench_results::selects(pattern, id)
}

/// The ids of the targets of `runs` that `patterns` select, in run order.
fn resolve(runs: &[&RunFile], patterns: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for r in runs {
        for t in r.targets.iter().filter(|t| t.available) {
            if patterns.iter().any(|p| selects(p, &t.id, t.family)) && !out.contains(&t.id) {
                out.push(t.id.clone());
            }
        }
    }
    out
}

/// The median of `metric` with its interval and n, from the first run holding it.
fn cold(runs: &[&RunFile], w: &str, t: &str, m: Metric) -> Option<(f64, f64, f64, u64)> {
    runs.iter().find_map(|r| {
        r.result(w, t, m).map(|x| {
            let s = &x.summary;
            (
                s.p50_ci95_low_ns as f64,
                s.p50_ns as f64,
                s.p50_ci95_high_ns as f64,
                s.n,
            )
        })
    })
}

fn per_instance(runs: &[&RunFile], w: &str, t: &str, src: MemorySource) -> Option<(f64, u64)> {
    runs.iter().find_map(|r| {
        let s = r
            .density_series()
            .iter()
            .find(|s| s.workload == w && s.target == t)?;
        let f = s.bytes_per_instance.iter().find(|f| f.source == src)?;
        Some((f.bytes_per_instance, s.instances))
    })
}

/// The command that would measure `m`.
fn command_for(m: &Measure) -> String {
    match m {
        Measure::ColdStart {
            workload, targets, ..
        } => format!(
            "coldbench run --workloads {workload} --targets {} (or the default suite: cargo run --release)",
            targets.join(",")
        ),
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
            format!("coldbench density --workloads {workload} (or the default suite)")
        }
        Measure::Artifact { .. } => "any coldbench run records artifact sizes".into(),
        Measure::NotComparable { .. } => String::new(),
    }
}

/// Checks `claim` against `runs` (merged: a figure comes from the first run
/// that holds it).
pub fn check(claim: &Claim, runs: &[&RunFile]) -> Verdict {
    let unit = claim.unit();
    let bound = claim.bound().ok().flatten();
    let judge = |low: f64, high: f64| bound.map_or(Outcome::Unsure, |b| b.judge(low, high));
    let mut figures = Vec::new();
    let point = |label: String, v: f64, n: Option<u64>| Figure {
        label,
        low: v,
        value: v,
        high: v,
        n,
        interval: false,
        outcome: judge(v, v),
    };
    match &claim.measure {
        Measure::NotComparable { reason } => {
            return Verdict {
                claim: claim.clone(),
                kind: VerdictKind::NotComparable,
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
            let a_ids = resolve(runs, targets);
            match baseline {
                None => {
                    for t in &a_ids {
                        if let Some((lo, mid, hi, n)) = cold(runs, workload, t, *metric) {
                            figures.push(Figure {
                                label: t.clone(),
                                low: lo,
                                value: mid,
                                high: hi,
                                n: Some(n),
                                interval: true,
                                outcome: judge(lo, hi),
                            });
                        }
                    }
                }
                Some(b) => {
                    let b_ids = resolve(runs, b);
                    for t in &a_ids {
                        for u in &b_ids {
                            let (Some(a), Some(c)) = (
                                cold(runs, workload, t, *metric),
                                cold(runs, workload, u, *metric),
                            ) else {
                                continue;
                            };
                            // Conservative: both intervals at their ends.
                            let lo = a.0 / c.2.max(1.0);
                            let hi = a.2 / c.0.max(1.0);
                            figures.push(Figure {
                                label: format!("{t} vs {u}"),
                                low: lo,
                                value: a.1 / c.1.max(1.0),
                                high: hi,
                                n: Some(a.3.min(c.3)),
                                interval: true,
                                outcome: judge(lo, hi),
                            });
                        }
                    }
                }
            }
        }
        Measure::Slowdown { row, mode, targets } => {
            for t in resolve(runs, targets) {
                let cell = runs.iter().find_map(|r| {
                    r.throughput_cells()
                        .iter()
                        .find(|c| c.row == *row && c.mode == *mode && c.target == t)
                });
                if let Some(c) = cell
                    && let Some(s) = c.slowdown_vs_native
                {
                    figures.push(Figure {
                        label: t.clone(),
                        low: s.ci95_low,
                        value: s.ratio,
                        high: s.ci95_high,
                        n: Some(c.requests),
                        interval: true,
                        outcome: judge(s.ci95_low, s.ci95_high),
                    });
                }
            }
        }
        Measure::Density {
            workload,
            targets,
            baseline,
            source,
        } => {
            let a_ids = resolve(runs, targets);
            match baseline {
                None => {
                    for t in &a_ids {
                        if let Some((b, n)) = per_instance(runs, workload, t, *source) {
                            figures.push(point(t.clone(), b, Some(n)));
                        }
                    }
                }
                Some(base) => {
                    for t in &a_ids {
                        for u in resolve(runs, base) {
                            if let (Some((a, n)), Some((c, _))) = (
                                per_instance(runs, workload, t, *source),
                                per_instance(runs, workload, &u, *source),
                            ) && a > 0.0
                            {
                                figures.push(point(format!("{t} vs {u}"), c / a, Some(n)));
                            }
                        }
                    }
                }
            }
        }
        Measure::Projection { workload, targets } => {
            for t in resolve(runs, targets) {
                let p = runs.iter().find_map(|r| {
                    r.density_series()
                        .iter()
                        .find(|s| s.workload == *workload && s.target == t)
                        .and_then(|s| s.projection.as_ref().map(|p| (p.instances, s.instances)))
                });
                if let Some((inst, n)) = p {
                    figures.push(point(t.clone(), inst as f64, Some(n)));
                }
            }
        }
        Measure::Artifact { kinds, workload } => {
            let mut seen: Vec<(String, ArtifactKind)> = Vec::new();
            for r in runs {
                for t in r.targets.iter().filter(|t| t.available) {
                    for a in &t.artifacts {
                        let wanted = kinds.contains(&a.kind)
                            && workload.as_ref().is_none_or(|w| *w == a.workload);
                        let key = (a.workload.clone(), a.kind);
                        if wanted && !seen.contains(&key) {
                            seen.push(key);
                            figures.push(point(
                                format!("{} {} ({})", a.workload, a.kind.name(), t.id),
                                a.bytes as f64,
                                None,
                            ));
                        }
                    }
                }
            }
        }
    }
    let (kind, detail) = combine(&figures, &claim.measure);
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
        bound: written.or_else(|| bound.map(|b| b.describe(unit))),
        unit,
        figures,
        detail,
    }
}

/// The verdict of a set of figures, and what it depends on.
fn combine(figures: &[Figure], m: &Measure) -> (VerdictKind, String) {
    if figures.is_empty() {
        return (
            VerdictKind::NotMeasured,
            format!(
                "no run holds this figure; measure it with: {}",
                command_for(m)
            ),
        );
    }
    let names = |o: Outcome| -> Vec<&str> {
        figures
            .iter()
            .filter(|f| f.outcome == o)
            .map(|f| f.label.as_str())
            .collect()
    };
    let (h, f, u) = (
        names(Outcome::Holds),
        names(Outcome::Fails),
        names(Outcome::Unsure),
    );
    let mut parts = Vec::new();
    for (word, list) in [("holds for", &h), ("fails for", &f), ("unsure for", &u)] {
        if !list.is_empty() {
            parts.push(format!("{word} {}", list.join(", ")));
        }
    }
    let detail = parts.join("; ");
    let kind = match (h.is_empty(), f.is_empty(), u.is_empty()) {
        (false, true, true) => VerdictKind::Holds,
        (true, false, true) => VerdictKind::Fails,
        (true, true, false) => VerdictKind::Inconclusive,
        _ => VerdictKind::Depends,
    };
    (kind, detail)
}

/// Checks every claim against `runs`.
pub fn ledger(claims: &[Claim], runs: &[&RunFile]) -> Vec<Verdict> {
    claims.iter().map(|c| check(c, runs)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_claims_parse() {
        let claims = parse(SHIPPED_CLAIMS, "claims.toml").unwrap();
        assert!(claims.len() >= 20);
        let mut ids: Vec<&str> = claims.iter().map(|c| c.id.as_str()).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), claims.len(), "ids are unique");
    }

    #[test]
    fn quantities_read_in_the_claims_unit() {
        assert_eq!(parse_quantity("3 ms", Unit::Ns), Ok(3e6));
        assert_eq!(parse_quantity("50 µs", Unit::Ns), Ok(5e4));
        assert_eq!(parse_quantity("2.3 s", Unit::Ns), Ok(2.3e9));
        assert_eq!(parse_quantity("5 MB", Unit::Bytes), Ok(5e6));
        assert_eq!(parse_quantity("1 MiB", Unit::Bytes), Ok(1048576.0));
        assert_eq!(parse_quantity("15,000", Unit::Count), Ok(15000.0));
        assert!(parse_quantity("3 ms", Unit::Bytes).is_err());
        assert!(parse_quantity("fast", Unit::Ratio).is_err());
    }

    #[test]
    fn intervals_are_judged_whole() {
        let b = Bound::AtMost(3e6);
        assert_eq!(b.judge(1e6, 2e6), Outcome::Holds);
        assert_eq!(b.judge(4e6, 5e6), Outcome::Fails);
        assert_eq!(b.judge(2e6, 4e6), Outcome::Unsure);
        let r = Bound::Between(13.0, 14.0);
        assert_eq!(r.judge(13.2, 13.8), Outcome::Holds);
        assert_eq!(r.judge(5.0, 6.0), Outcome::Fails);
        assert_eq!(r.judge(12.0, 13.5), Outcome::Unsure);
    }

    #[test]
    fn a_bad_claims_file_names_itself_and_the_claim() {
        let e = parse("[[claim]]\nid = 1", "mine.toml").unwrap_err();
        assert!(e.to_string().contains("mine.toml"), "{e}");
        let bad = r#"
[[claim]]
id = "x"
quote = "q"
source = "s"
bound = { at_most = "3 parsecs" }
measure = { kind = "cold_start", metric = "t_ready", workload = "noop", targets = ["wasm"] }
"#;
        let e = parse(bad, "mine.toml").unwrap_err();
        assert!(e.to_string().contains("claim `x`"), "{e}");
    }
}
