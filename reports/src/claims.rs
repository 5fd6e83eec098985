//! The claims ledger: published claims (a TOML file, [`SHIPPED_CLAIMS`] by
//! default) checked against results files, each with a verdict computed from
//! 95 % intervals.
//!
//! For every target (or target × baseline pair) the claim concerns, the
//! measured interval is compared with the claim's bound: inside it
//! ([`Outcome::Holds`]), entirely below or above it ([`Outcome::Below`],
//! [`Outcome::Above`]) or across it ([`Outcome::Unsure`]).
//!
//! **Like for like.** A ratio of two cold starts is only evidence when both
//! starts are the same kind of start ([`coldbench_results::StartKind`]):
//! a new instance in a warm runtime against a new process in a warm
//! container, a new process against a new container, a Wasm shim against
//! runc through the same containerd, or two starts of one kind. Every other
//! pair is shown, labelled *cross-kind* ([`Pairing::CrossKind`]), and never
//! decides a verdict. Both sides of a pair come from one run, so from one
//! start condition (back to back, or interleaved with the same targets).
//!
//! **Verdict rules** ([`VerdictKind`]), over the like-for-like figures that
//! carry an interval: *holds* when at least one holds and none fails;
//! *fails* (above or below the bound) when at least one fails and none
//! holds; *depends* only when at least one holds and at least one fails;
//! *inconclusive* when every one straddles the bound. Figures without an
//! interval (one density series per target) or only cross-kind pairs give
//! at most *indicative*. No figure: *not measured*, with the command that
//! measures it. A claim the harness cannot test as stated: *not
//! comparable*. A claim about a platform (AWS Lambda, Cloudflare Workers,
//! …) is judged on this host's runtimes as a *local stand-in*, said on
//! the verdict.

use crate::{format_bytes, format_ns};
use coldbench_results::{
    ArtifactKind, Family, MemorySource, Metric, RunFile, StartCondition, StartKind, TargetRecord,
    ThroughputMode, stats,
};
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
    /// The file is not a claims file (TOML syntax, or no `[[claim]]` list).
    #[error("{path} is not a claims file: {message} (see reports/claims.toml for the format)")]
    Parse {
        /// File path.
        path: String,
        /// What is wrong, with its position.
        message: String,
    },
    /// One claim is malformed: a missing or unknown field, a bound that
    /// does not read in the claim's unit, a target pattern that names no
    /// start kind.
    #[error("{path}: claim `{id}`: {message} (see reports/claims.toml for the format)")]
    Claim {
        /// File path.
        path: String,
        /// Claim id (or `#n`, its position, when it has no id).
        id: String,
        /// What is wrong, naming the field.
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
#[serde(deny_unknown_fields)]
pub struct Claim {
    /// Stable identifier.
    pub id: String,
    /// The claim's words as published ("…" marks a cut).
    pub quote: String,
    /// The article (title, or a description of an untitled one) and year.
    pub source: String,
    /// The article's text file among the shipped claims' articles
    /// (`../shared/articles/`), against which a test checks `quote`.
    #[serde(default)]
    pub article: Option<String>,
    /// Whose measurement the article reports: the author's own, a
    /// vendor's benchmark it cites, a survey, or none given.
    #[serde(default)]
    pub measured_by: Option<String>,
    /// The platform the claim is about (AWS Lambda, Cloudflare Workers,
    /// Fastly Compute, Fermyon Cloud, a company's FaaS), when it is about
    /// one: the verdict is then labelled as judged on a local stand-in.
    #[serde(default)]
    pub platform: Option<String>,
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
    /// A cold-start median (ns), or with `baseline` the ratio of medians
    /// (targets ÷ baseline), paired like for like.
    ColdStart {
        /// The metric (`t_ready`, `t_first_response`, a runner or container phase).
        metric: Metric,
        /// Workload.
        workload: String,
        /// Targets (families, `start:<kind>`, ids or prefixes).
        targets: Vec<String>,
        /// Ratio denominator (same patterns).
        #[serde(default)]
        baseline: Option<Vec<String>>,
    },
    /// The slowdown against native (native requests/s ÷ the target's), or
    /// with `baseline` the targets' slowdown ÷ the baseline's (= the
    /// baseline's requests/s ÷ the targets': how many times faster the
    /// baseline executes).
    Slowdown {
        /// Throughput row.
        row: String,
        /// Mode.
        mode: ThroughputMode,
        /// Targets.
        targets: Vec<String>,
        /// Ratio denominator.
        #[serde(default)]
        baseline: Option<Vec<String>>,
    },
    /// Bytes per idle instance, or with `baseline` the ratio of instances
    /// per host (= the baseline's bytes per instance ÷ the targets'), on
    /// `workload` or — without one — on every workload measured.
    Density {
        /// Workload (absent: every workload with a series).
        #[serde(default)]
        workload: Option<String>,
        /// Targets.
        targets: Vec<String>,
        /// Ratio denominator.
        #[serde(default)]
        baseline: Option<Vec<String>>,
        /// Memory source.
        source: MemorySource,
    },
    /// Instances per host by the one per-instance rule
    /// ([`coldbench_results::DensitySeries::memory_per_instance`]), on this
    /// host's memory.
    Projection {
        /// Workload (absent: every workload with a series).
        #[serde(default)]
        workload: Option<String>,
        /// Targets.
        targets: Vec<String>,
    },
    /// Artifact sizes (bytes), one per target and workload; with
    /// `baseline`, the ratio of the `kinds` artifact ÷ the `baseline`
    /// artifact of the same workload.
    Artifact {
        /// Kinds of artifact.
        kinds: Vec<ArtifactKind>,
        /// Only this workload's.
        #[serde(default)]
        workload: Option<String>,
        /// Ratio denominator: kinds of artifact.
        #[serde(default)]
        baseline: Option<Vec<ArtifactKind>>,
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
        let (a, b) = match self {
            Bound::AtMost(x) => (f64::NEG_INFINITY, x),
            Bound::AtLeast(x) => (x, f64::INFINITY),
            Bound::Between(a, b) => (a, b),
        };
        if a <= low && high <= b {
            Outcome::Holds
        } else if high < a {
            Outcome::Below
        } else if low > b {
            Outcome::Above
        } else {
            Outcome::Unsure
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
            Measure::Density { baseline: None, .. } | Measure::Artifact { baseline: None, .. } => {
                Unit::Bytes
            }
            Measure::Density { .. } | Measure::Artifact { .. } => Unit::Ratio,
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
            (Some(x), None, None) => Ok(Some(Bound::AtMost(
                q(x).map_err(|e| format!("bound.at_most: {e}"))?,
            ))),
            (None, Some(x), None) => Ok(Some(Bound::AtLeast(
                q(x).map_err(|e| format!("bound.at_least: {e}"))?,
            ))),
            (None, None, Some([a, c])) => {
                let (a, c) = (
                    q(a).map_err(|e| format!("bound.between: {e}"))?,
                    q(c).map_err(|e| format!("bound.between: {e}"))?,
                );
                if a > c {
                    return Err(format!("bound.between runs backwards ({a} > {c})"));
                }
                Ok(Some(Bound::Between(a, c)))
            }
            _ => Err("bound: give exactly one of at_most, at_least, between".into()),
        }
    }

    /// The target patterns the claim names (targets, then baseline).
    fn patterns(&self) -> Vec<(&'static str, &String)> {
        let (t, b) = match &self.measure {
            Measure::ColdStart {
                targets, baseline, ..
            }
            | Measure::Slowdown {
                targets, baseline, ..
            }
            | Measure::Density {
                targets, baseline, ..
            } => (Some(targets), baseline.as_ref()),
            Measure::Projection { targets, .. } => (Some(targets), None),
            Measure::Artifact { .. } | Measure::NotComparable { .. } => (None, None),
        };
        let mut out = Vec::new();
        for p in t.into_iter().flatten() {
            out.push(("measure.targets", p));
        }
        for p in b.into_iter().flatten() {
            out.push(("measure.baseline", p));
        }
        out
    }
}

/// The `start:<kind>` patterns a claim may name.
const START_PATTERN: &str = "start:";

/// Checks one claim beyond its fields' types: a bound where one is needed,
/// in the claim's unit, and `start:` patterns naming a start kind.
fn validate(c: &Claim) -> Result<(), String> {
    if c.bound.is_none() && !matches!(c.measure, Measure::NotComparable { .. }) {
        return Err("bound: missing (give at_most, at_least or between)".into());
    }
    c.bound()?;
    for (field, p) in c.patterns() {
        if let Some(k) = p.strip_prefix(START_PATTERN)
            && !StartKind::ALL.iter().any(|s| s.name() == k)
        {
            return Err(format!(
                "{field}: `{p}` names no start kind (one of {})",
                StartKind::ALL
                    .iter()
                    .map(|s| format!("start:{}", s.name()))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
    }
    Ok(())
}

/// Parses claims from TOML text; `name` names the file in errors. Each
/// claim is read on its own, so that an error names it and its field, and
/// every bound and pattern is checked here: a bad file fails before any
/// report.
pub fn parse(text: &str, name: &str) -> Result<Vec<Claim>, ClaimsError> {
    let doc: toml::Table = toml::from_str(text).map_err(|e| ClaimsError::Parse {
        path: name.to_string(),
        message: e.to_string(),
    })?;
    let Some(list) = doc.get("claim").and_then(|v| v.as_array()) else {
        return Err(ClaimsError::Parse {
            path: name.to_string(),
            message: "no [[claim]] tables".into(),
        });
    };
    let mut out: Vec<Claim> = Vec::new();
    for (i, v) in list.iter().enumerate() {
        let id = v
            .get("id")
            .and_then(|x| x.as_str())
            .map_or_else(|| format!("#{}", i + 1), str::to_string);
        let err = |message: String| ClaimsError::Claim {
            path: name.to_string(),
            id: id.clone(),
            message,
        };
        let c: Claim = v
            .clone()
            .try_into()
            .map_err(|e: toml::de::Error| err(e.message().to_string()))?;
        validate(&c).map_err(err)?;
        if out.iter().any(|o| o.id == c.id) {
            return Err(err("id: used by an earlier claim".into()));
        }
        out.push(c);
    }
    Ok(out)
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
    /// Entirely below it (a figure smaller than claimed).
    Below,
    /// Entirely above it (a figure larger than claimed).
    Above,
    /// Across it.
    Unsure,
}

impl Outcome {
    /// Whether the interval lies outside the bound.
    pub fn fails(self) -> bool {
        matches!(self, Outcome::Below | Outcome::Above)
    }

    /// The outcome as words: `holds`, `fails (below)`, `fails (above)`, `unsure`.
    pub fn name(self) -> &'static str {
        match self {
            Outcome::Holds => "holds",
            Outcome::Below => "fails (below)",
            Outcome::Above => "fails (above)",
            Outcome::Unsure => "unsure",
        }
    }
}

/// How the two sides of a ratio were started: like for like, or not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pairing {
    /// Both sides the same kind of start.
    SameKind(StartKind),
    /// A new instance in a warm runtime process against a new process in
    /// a warm container: the warm paths of both.
    WarmHost,
    /// A new process (a runtime's CLI, native) against a new container.
    ProcessVsContainer,
    /// A Wasm shim against runc through the same engine (containerd): the
    /// two differ by the shim alone.
    SameEngine,
    /// Different kinds of start: shown, never the ground of a verdict.
    CrossKind(StartKind, StartKind),
}

impl Pairing {
    /// The pairing of targets `a` (numerator) and `b` (denominator).
    pub fn of(a: &TargetRecord, b: &TargetRecord) -> Pairing {
        use StartKind::*;
        let (ka, kb) = (a.start_path().kind, b.start_path().kind);
        match (ka, kb) {
            (x, y) if x == y => Pairing::SameKind(x),
            (ProcessInWarmContainer, InstanceInWarmProcess)
            | (InstanceInWarmProcess, ProcessInWarmContainer) => Pairing::WarmHost,
            (NewContainer, NewProcess) | (NewProcess, NewContainer) => Pairing::ProcessVsContainer,
            (NewContainer, WasmInSandbox) | (WasmInSandbox, NewContainer)
                if a.runtime == b.runtime =>
            {
                Pairing::SameEngine
            }
            (x, y) => Pairing::CrossKind(x, y),
        }
    }

    /// Whether the pair is like for like.
    pub fn like_for_like(self) -> bool {
        !matches!(self, Pairing::CrossKind(..))
    }

    /// The pairing in words.
    pub fn describe(self) -> String {
        match self {
            Pairing::SameKind(k) => format!("like for like: both {}", k.label()),
            Pairing::WarmHost => {
                "like for like: instance in a warm runtime vs process in a warm container".into()
            }
            Pairing::ProcessVsContainer => "like for like: new process vs new container".into(),
            Pairing::SameEngine => "like for like: Wasm shim vs runc, same engine".into(),
            Pairing::CrossKind(a, b) => format!("cross-kind: {} vs {}", a.label(), b.label()),
        }
    }
}

/// One measured figure behind a verdict.
#[derive(Debug, Clone, PartialEq)]
pub struct Figure {
    /// Which target, `target vs baseline`, or `workload: target`.
    pub label: String,
    /// Lower end of the 95 % interval (= `value` when there is no interval).
    pub low: f64,
    /// The point estimate (median, ratio of medians, bytes).
    pub value: f64,
    /// Upper end of the 95 % interval.
    pub high: f64,
    /// Sample count behind it, when it has one.
    pub n: Option<u64>,
    /// Whether the figure carries an interval (an exact figure, such as a
    /// file's size, carries the degenerate one).
    pub interval: bool,
    /// Whether the figure is exact: counted, not sampled (artifact sizes).
    pub exact: bool,
    /// Against the bound.
    pub outcome: Outcome,
    /// For a ratio of two starts: how the two sides were started.
    pub pairing: Option<Pairing>,
    /// For a single target's start: what kind of start.
    pub start: Option<StartKind>,
    /// For a cold-start figure: the condition its starts were measured in.
    pub condition: Option<StartCondition>,
}

impl Figure {
    /// A figure without pairing, start kind or condition.
    fn plain(
        label: String,
        (low, value, high): (f64, f64, f64),
        n: Option<u64>,
        interval: bool,
        outcome: Outcome,
    ) -> Self {
        Figure {
            label,
            low,
            value,
            high,
            n,
            interval,
            exact: false,
            outcome,
            pairing: None,
            start: None,
            condition: None,
        }
    }

    /// Whether the figure may decide a verdict: it carries an interval and,
    /// for a ratio of starts, pairs like with like.
    pub fn decides(&self) -> bool {
        self.interval && self.pairing.is_none_or(Pairing::like_for_like)
    }

    /// `value [low–high], n = …` in `unit`, then the condition of its starts.
    pub fn describe(&self, unit: Unit) -> String {
        let mut s = unit.format(self.value);
        if self.exact {
            s.push_str(" (exact)");
        } else if self.interval {
            s.push_str(&format!(
                " [{}–{}]",
                unit.format(self.low),
                unit.format(self.high)
            ));
        } else {
            s.push_str(" (no interval)");
        }
        if let Some(n) = self.n {
            s.push_str(&format!(", n = {n}"));
        }
        if let Some(c) = self.condition {
            s.push_str(&format!(", {}", c.describe()));
        }
        s
    }

    /// The figure as one line: its label, what kind of start or pairing it
    /// is, its value, and its outcome.
    pub fn line(&self, unit: Unit) -> String {
        let what = match (self.pairing, self.start) {
            (Some(p), _) => format!(" ({})", p.describe()),
            (None, Some(k)) => format!(" ({})", k.label()),
            (None, None) => String::new(),
        };
        format!(
            "{}{what}: {} → {}",
            self.label,
            self.describe(unit),
            self.outcome.name()
        )
    }
}

/// A claim's verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VerdictKind {
    /// At least one deciding figure lies inside the bound, none outside.
    Holds,
    /// At least one deciding figure lies outside the bound (the verdict's
    /// [`Verdict::direction`] says above or below), none inside.
    Fails,
    /// At least one deciding figure holds and at least one fails.
    Depends,
    /// Every deciding figure straddles the bound: more runs would decide.
    Inconclusive,
    /// Figures exist, but none decides (no interval, or only cross-kind
    /// pairs): what they suggest, never a verdict.
    Indicative,
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
            VerdictKind::Indicative => "indicative",
            VerdictKind::NotMeasured => "not measured",
            VerdictKind::NotComparable => "not comparable",
        }
    }
}

/// Which side of the bound a failing claim's figures lie.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Every failing figure is below the bound (smaller than claimed).
    Below,
    /// Every failing figure is above it (larger than claimed).
    Above,
    /// Some below, some above.
    Both,
}

/// A claim checked against runs.
#[derive(Debug, Clone)]
pub struct Verdict {
    /// The claim.
    pub claim: Claim,
    /// The verdict.
    pub kind: VerdictKind,
    /// For [`VerdictKind::Fails`] (and the failing figures of
    /// [`VerdictKind::Depends`]): which side of the bound.
    pub direction: Option<Direction>,
    /// The bound in words (absent for not-comparable claims).
    pub bound: Option<String>,
    /// Unit of the figures.
    pub unit: Unit,
    /// Every figure behind it: deciding ones first, then the rest.
    pub figures: Vec<Figure>,
    /// The verdict explained: on what it depends, the command that would
    /// measure it, or why it is not comparable.
    pub detail: String,
}

impl Verdict {
    /// The verdict in words: `fails (below the bound)`, `holds (local
    /// stand-in for AWS Lambda)`.
    pub fn word(&self) -> String {
        let mut s = self.kind.name().to_string();
        if let Some(d) = self.direction
            && self.kind == VerdictKind::Fails
        {
            s.push_str(match d {
                Direction::Below => " (below the bound)",
                Direction::Above => " (above the bound)",
                Direction::Both => " (above and below)",
            });
        }
        if let Some(p) = &self.claim.platform
            && !matches!(
                self.kind,
                VerdictKind::NotMeasured | VerdictKind::NotComparable
            )
        {
            s.push_str(&format!(" — local stand-in for {p}"));
        }
        s
    }

    /// Who measured what the claim reports, and where it was said.
    pub fn attribution(&self) -> String {
        match &self.claim.measured_by {
            Some(m) => format!("{} — measured by: {m}", self.claim.source),
            None => self.claim.source.clone(),
        }
    }
}

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
fn resolve<'a>(run: &'a RunFile, patterns: &[String]) -> Vec<&'a TargetRecord> {
    run.targets
        .iter()
        .filter(|t| t.available && patterns.iter().any(|p| selects(p, t)))
        .collect()
}

/// The median of `metric` with its interval and n.
fn cold(run: &RunFile, w: &str, t: &str, m: Metric) -> Option<(f64, f64, f64, u64)> {
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
fn density_workloads(runs: &[&RunFile], w: &Option<String>) -> Vec<String> {
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

fn series_bytes(run: &RunFile, w: &str, t: &str, src: MemorySource) -> Option<(f64, u64)> {
    let s = run
        .density_series()
        .iter()
        .find(|s| s.workload == w && s.target == t)?;
    let f = s.bytes_per_instance.iter().find(|f| f.source == src)?;
    Some((f.bytes_per_instance, s.instances))
}

/// The command that would measure `m`.
fn command_for(m: &Measure) -> String {
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
fn combine(figures: &[Figure], m: &Measure) -> (VerdictKind, Option<Direction>, String) {
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
        assert_eq!(b.judge(4e6, 5e6), Outcome::Above);
        assert_eq!(b.judge(2e6, 4e6), Outcome::Unsure);
        let r = Bound::Between(13.0, 14.0);
        assert_eq!(r.judge(13.2, 13.8), Outcome::Holds);
        assert_eq!(r.judge(5.0, 6.0), Outcome::Below);
        assert_eq!(r.judge(15.0, 16.0), Outcome::Above);
        assert_eq!(Bound::AtLeast(770.0).judge(5.0, 6.0), Outcome::Below);
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
        assert!(e.to_string().contains("bound.at_most"), "{e}");
        // A misspelt field and an unknown start kind name the claim and field.
        let typo = bad.replace("3 parsecs", "3 ms").replace(
            "source = \"s\"",
            "source = \"s\"\nplatfrom = \"AWS Lambda\"",
        );
        let e = parse(&typo, "mine.toml").unwrap_err();
        assert!(
            e.to_string().contains("claim `x`") && e.to_string().contains("platfrom"),
            "{e}"
        );
        let kind = bad
            .replace("3 parsecs", "3 ms")
            .replace("[\"wasm\"]", "[\"start:warm\"]");
        let e = parse(&kind, "mine.toml").unwrap_err();
        assert!(
            e.to_string().contains("measure.targets") && e.to_string().contains("start:warm"),
            "{e}"
        );
    }
}
