//! Reading and writing a results file: atomic writes, the journal replay of an
//! interrupted run, migration of older schema versions, and the lookups the
//! reports use.

use super::*;

impl RunFile {
    /// Writes the file as pretty JSON, atomically: to a temporary file in the
    /// same directory, synced, then renamed over `path` (a crash leaves the
    /// old file or the new one, never half of one).
    ///
    /// Errors: [`ResultsError::Io`] if the file cannot be written.
    pub fn write(&self, path: &Path) -> Result<(), ResultsError> {
        use std::io::Write as _;
        let io = |source| ResultsError::Io {
            path: path.display().to_string(),
            source,
        };
        let json = serde_json::to_vec_pretty(self).expect("RunFile serializes");
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "run.json".into());
        let tmp = path.with_file_name(format!(".{name}.tmp-{}", std::process::id()));
        let mut f = std::fs::File::create(&tmp).map_err(io)?;
        f.write_all(&json).map_err(io)?;
        f.sync_all().map_err(io)?;
        drop(f);
        std::fs::rename(&tmp, path).map_err(io)
    }

    /// Reads and checks a results file; a version-1 file is migrated to the
    /// current shape (`migrated_from: 1`).
    ///
    /// Errors: [`ResultsError::Io`] (unreadable), [`ResultsError::Parse`]
    /// (not JSON, truncated, wrong shape), [`ResultsError::NotResults`] (JSON
    /// without `schema_version`), [`ResultsError::Version`] (a newer schema)
    /// or [`ResultsError::Schema`] (a field missing, unknown, of the wrong
    /// type or out of range, checked against [`RUN_SCHEMA_JSON`] after any
    /// migration).
    pub fn read(path: &Path) -> Result<RunFile, ResultsError> {
        let p = path.display().to_string();
        let bytes = std::fs::read(path).map_err(|source| ResultsError::Io {
            path: p.clone(),
            source,
        })?;
        Self::from_slice(&bytes, &p)
    }

    /// Reads a results file as [`RunFile::read`] does and, when it was never
    /// finalised (`in_progress`: the harness was killed) and a journal of
    /// the same run lies beside it ([`journal::JOURNAL_FILE`]), replays the
    /// journal into it ([`journal::replay`]): what was measured after the
    /// last checkpoint is kept. The file on disk is not changed.
    ///
    /// Errors: those of [`RunFile::read`], and a journal line other than
    /// the last that does not parse.
    pub fn read_run(path: &Path) -> Result<RunFile, ResultsError> {
        let mut run = Self::read(path)?;
        if run.in_progress {
            let j = path.with_file_name(journal::JOURNAL_FILE);
            if j.is_file() {
                journal::replay(&mut run, &j)?;
            }
        }
        Ok(run)
    }

    /// Parses a results file's bytes; `name` names it in errors. See [`RunFile::read`].
    pub fn from_slice(bytes: &[u8], name: &str) -> Result<RunFile, ResultsError> {
        let mut v: serde_json::Value =
            serde_json::from_slice(bytes).map_err(|source| ResultsError::Parse {
                path: name.to_string(),
                source,
            })?;
        let Some(found) = v.get("schema_version").and_then(|x| x.as_u64()) else {
            return Err(ResultsError::NotResults {
                path: name.to_string(),
            });
        };
        match found {
            1 => migrate::v1_to_v2(&mut v),
            2 => {}
            _ => {
                return Err(ResultsError::Version {
                    path: name.to_string(),
                    found,
                });
            }
        }
        let problems: Vec<String> = schema_validator()
            .iter_errors(&v)
            .map(|e| {
                let at = e.instance_path().to_string();
                format!("{} {e}", if at.is_empty() { "/" } else { &at })
            })
            .collect();
        if !problems.is_empty() {
            const SHOWN: usize = 5;
            return Err(ResultsError::Schema {
                path: name.to_string(),
                more: problems.len().saturating_sub(SHOWN),
                problems: problems.into_iter().take(SHOWN).collect(),
            });
        }
        serde_json::from_value(v).map_err(|source| ResultsError::Parse {
            path: name.to_string(),
            source,
        })
    }

    /// Keeps only the targets `map` gives an id for, under that id, in
    /// every part of the file that names a target (records, cold-start and
    /// prepare distributions, throughput cells, density series, counts,
    /// errors); an error that names no target is kept. Used to compare two
    /// versions of a runtime measured side by side (`wasmtime-pooling`
    /// against `wasmtime@50-pooling`, each renamed to a common id).
    pub fn retarget(&mut self, map: impl Fn(&str) -> Option<String>) {
        fn apply<T>(
            v: &mut Vec<T>,
            id: impl Fn(&mut T) -> &mut String,
            map: &dyn Fn(&str) -> Option<String>,
        ) {
            v.retain_mut(|x| {
                let t = id(x);
                match map(t) {
                    Some(new) => {
                        *t = new;
                        true
                    }
                    None => false,
                }
            });
        }
        let map: &dyn Fn(&str) -> Option<String> = &map;
        apply(&mut self.targets, |t| &mut t.id, map);
        apply(&mut self.prepare, |m| &mut m.target, map);
        if let Some(c) = self.cold_start.as_mut() {
            apply(&mut c.results, |m| &mut m.target, map);
        }
        if let Some(t) = self.throughput.as_mut() {
            apply(&mut t.cells, |c| &mut c.target, map);
        }
        if let Some(d) = self.density.as_mut() {
            apply(&mut d.series, |s| &mut s.target, map);
        }
        apply(&mut self.verification, |v| &mut v.target, map);
        self.errors
            .retain_mut(|e| match e.target.as_deref().map(map) {
                None => true,
                Some(None) => false,
                Some(Some(new)) => {
                    e.target = Some(new);
                    true
                }
            });
    }

    /// The experiments this file holds, in section order.
    pub fn experiments(&self) -> Vec<Experiment> {
        let mut v = Vec::new();
        if self.cold_start.is_some() {
            v.push(Experiment::ColdStart);
        }
        if self.density.is_some() {
            v.push(Experiment::Density);
        }
        if self.throughput.is_some() {
            v.push(Experiment::Throughput);
        }
        v
    }

    /// The cold-start distribution of `workload` × `target` × `metric`, or
    /// the prepare time for [`Metric::Prepare`], if measured.
    pub fn result(&self, workload: &str, target: &str, metric: Metric) -> Option<&MetricResult> {
        let pool: &[MetricResult] = if metric == Metric::Prepare {
            &self.prepare
        } else {
            self.cold_start.as_ref().map_or(&[], |c| &c.results)
        };
        pool.iter()
            .find(|r| r.workload == workload && r.target == target && r.metric == metric)
    }

    /// Every requested workload × target (the configured workloads × the
    /// recorded targets) that produced no verified response in any
    /// experiment, with the reason: the target's unavailability, else the
    /// first error recorded for the pair, else that nothing answered. Empty
    /// when all requested work was measured. Order: targets as recorded,
    /// then workloads as configured.
    pub fn unmeasured(&self) -> Vec<Unmeasured> {
        let mut out = Vec::new();
        for t in &self.targets {
            for w in &self.config.workloads {
                let verified: u64 = self
                    .verification
                    .iter()
                    .filter(|v| v.workload == *w && v.target == t.id)
                    .map(|v| v.verified)
                    .sum();
                if verified > 0 {
                    continue;
                }
                let reason = match (&t.available, &t.unavailable_reason) {
                    (false, Some(why)) => format!("target unavailable: {why}"),
                    _ => self
                        .errors
                        .iter()
                        .find(|e| {
                            e.target.as_deref() == Some(t.id.as_str())
                                && e.workload.as_deref().is_none_or(|ew| ew == w.as_str())
                        })
                        .or_else(|| {
                            self.errors.iter().find(|e| {
                                e.target.is_none() && e.workload.as_deref() == Some(w.as_str())
                            })
                        })
                        .map(|e| format!("{} ({}): {}", e.phase, e.kind, e.message))
                        .unwrap_or_else(|| "no verified response and no error recorded".into()),
                };
                out.push(Unmeasured {
                    workload: w.clone(),
                    target: t.id.clone(),
                    reason,
                });
            }
        }
        out
    }

    /// The cold-start distributions (empty without a cold-start section).
    pub fn cold_start_results(&self) -> &[MetricResult] {
        self.cold_start.as_ref().map_or(&[], |c| &c.results)
    }

    /// The throughput cells (empty without a throughput section).
    pub fn throughput_cells(&self) -> &[ThroughputResult] {
        self.throughput.as_ref().map_or(&[], |t| &t.cells)
    }

    /// The density series (empty without a density section).
    pub fn density_series(&self) -> &[DensitySeries] {
        self.density.as_ref().map_or(&[], |d| &d.series)
    }
}

/// Whether `pattern` selects target variant `id`: `all`, the exact id, or a
/// prefix ending at a `-` boundary (`docker` selects every `docker-…`,
/// `docker-debian` every Debian-image variant, `wasmtime` every wasmtime
/// strategy). `all` leaves out the runtime versions built on demand
/// (`wasmtime@50-pooling`: an `@` in the id), which are picked by name or
/// by their own prefix (`wasmtime@50`). Used by `--targets` and by the
/// claims ledger.
pub fn selects(pattern: &str, id: &str) -> bool {
    (pattern == "all" && !id.contains('@'))
        || pattern == id
        || id
            .strip_prefix(pattern)
            .is_some_and(|rest| rest.starts_with('-'))
}
