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

use crate::format::{format_bytes, format_ns};
use coldbench_results::{
    ArtifactKind, Family, MemorySource, Metric, RunFile, StartCondition, StartKind, TargetRecord,
    ThroughputMode, stats,
};
use serde::Deserialize;
use std::path::Path;
mod file;
pub use file::*;
mod judge;
pub use judge::*;

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
