//! The claims file: parsing quantities and bounds, reading and validating
//! `claims.toml` (errors name the claim and the field).

use super::*;

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
    pub(super) fn patterns(&self) -> Vec<(&'static str, &String)> {
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
pub(super) const START_PATTERN: &str = "start:";

/// Checks one claim beyond its fields' types: a bound where one is needed,
/// in the claim's unit, and `start:` patterns naming a start kind.
pub(super) fn validate(c: &Claim) -> Result<(), String> {
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
