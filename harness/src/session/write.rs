//! Writing the run: the final `run.json` and the checkpoints in between (at
//! most every 5 s, marked in progress), with every target's record.

use super::*;

impl Session {
    /// Drops every prepared target (runner processes stop, and so on),
    /// removes whatever container of this run is left, writes `run.json`
    /// atomically (even after an interrupt: what was measured is kept) and
    /// returns it read back from disk with its path.
    ///
    /// Errors: the results file cannot be written or read back.
    pub fn finish(mut self, sections: Sections) -> Result<(RunFile, PathBuf)> {
        let records = self.target_records();
        self.entries.clear();
        if let Some(Ok(h)) = self.probe.as_ref().map(|p| &p.docker) {
            match h.remove_labelled(Duration::from_secs(30)) {
                Ok(0) => {}
                Ok(n) => self
                    .progress
                    .note(&format!("removed {n} leftover container(s) of this run")),
                Err(e) => self.out.error(
                    Subject::default(),
                    Phase::Teardown,
                    FailureKind::Cleanup,
                    e.to_string(),
                ),
            }
        }
        self.write(records, &sections, false)
    }

    /// Writes `run.json` with the sections finished so far, marked
    /// `in_progress` (a run that dies later leaves it), and returns it read
    /// back with its path. Nothing is torn down.
    ///
    /// Errors: the results file cannot be written or read back.
    pub fn checkpoint(&mut self, sections: &Sections) -> Result<(RunFile, PathBuf)> {
        let records = self.target_records();
        self.write(records, sections, true)
    }

    /// At the start of an experiment: writes `run.json` in progress with
    /// the finished sections ([`Session::begin_experiment`]) plus `update` (the experiment's section, with its
    /// configuration and no results yet), at once, so that a journal
    /// replayed after a kill has the section to fill. A failed write is
    /// reported on stderr; the run goes on.
    pub fn checkpoint_now(&mut self, update: impl FnOnce(&mut Sections)) {
        let mut sections = self.done.clone();
        update(&mut sections);
        let records = self.target_records();
        match self.write(records, &sections, true) {
            Ok(_) => self.last_checkpoint = Instant::now(),
            Err(e) => eprintln!("checkpoint of run.json failed (the run goes on): {e:#}"),
        }
    }

    /// Between two steps of an experiment (a cold-start round, a
    /// throughput cell, a density series): writes `run.json` in progress
    /// with the finished sections ([`Session::begin_experiment`]) plus what `update` adds (the experiment's
    /// section so far), if [`CHECKPOINT_EVERY`] has passed since the last
    /// write. A write that fails is reported on stderr and retried at the
    /// next step; the run goes on (the final write reports for good).
    pub fn checkpoint_partial(&mut self, update: impl FnOnce(&mut Sections)) {
        if self.last_checkpoint.elapsed() >= CHECKPOINT_EVERY {
            self.checkpoint_now(update);
        }
    }

    /// The records of every prepared target (with the knobs experiments
    /// added) and of every variant that could not run.
    pub(super) fn target_records(&self) -> Records {
        let mut records = Records::default();
        for e in &self.entries {
            let mut r = e.clients[0].record();
            if let Some(k) = self.extra_knobs.get(&e.id) {
                r.knobs.extend(k.clone());
            }
            r.start = Some(declared_start(&r));
            // Which runtimes the host record names is the family's call.
            let host_runtime = match &e.variant {
                Some(v) => v.provider.host_runtime(&r),
                None => r.family == Family::Wasm,
            };
            if host_runtime && r.available && !r.runtime_version.is_empty() {
                records
                    .runtime_versions
                    .insert(r.runtime.clone(), r.runtime_version.clone());
            }
            records.targets.push(r);
        }
        records.targets.extend(self.unavailable.iter().cloned());
        records
    }

    pub(super) fn write(
        &mut self,
        records: Records,
        sections: &Sections,
        in_progress: bool,
    ) -> Result<(RunFile, PathBuf)> {
        let Records {
            targets: target_records,
            mut runtime_versions,
        } = records;
        let engine_info = self.probe.as_ref().and_then(|p| p.engine.clone());
        if let Some(i) = &engine_info {
            runtime_versions.insert("docker-engine".into(), i.engine_version.clone());
            runtime_versions.insert("bollard".into(), env!("COLDBENCH_BOLLARD_VERSION").into());
        }
        let cold_start = sections.cold_start.clone().map(|mut c| {
            c.results = self.out.results();
            c
        });
        let run = RunFile {
            schema_version: SCHEMA_VERSION,
            migrated_from: None,
            tool: ToolInfo {
                name: "coldbench".into(),
                version: env!("CARGO_PKG_VERSION").into(),
                git_revision: self.git_revision.clone(),
                command_line: std::env::args().collect::<Vec<_>>().join(" "),
            },
            started_utc: self.started_utc.to_rfc3339(),
            duration_ns: self.started.elapsed().as_nanos() as u64,
            label: self.label.clone(),
            interrupted: self.interrupted.load(Ordering::SeqCst),
            in_progress,
            host: host::fingerprint(
                engine_info.map(|i| DockerEngineInfo {
                    engine_version: i.engine_version,
                    api_version: i.api_version,
                    default_runtime: i.default_runtime,
                    storage_driver: i.storage_driver,
                    cgroup_driver: i.cgroup_driver,
                }),
                runtime_versions,
            ),
            config: RunConfig {
                seed: self.seed,
                workloads: self.workloads.clone(),
                targets: self.target_selection.clone(),
                inputs_dir: self.inputs_dir.display().to_string(),
                timeout_ms: self.timeout.as_millis() as u64,
            },
            suite: sections.suite.clone(),
            targets: target_records,
            cases: self
                .cases
                .iter()
                .zip(&self.expected)
                .map(|(c, e)| c.record(*e))
                .collect(),
            prepare: self.out.prepare_results(),
            cold_start,
            density: sections.density.clone(),
            throughput: sections.throughput.clone(),
            notes: self
                .notes
                .iter()
                .chain(&self.out.journal_failed)
                .cloned()
                .collect(),
            harness: self.harness.samples_now(self.started),
            verification: self.out.verification(),
            errors: self.out.errors.clone(),
        };
        let path = self.out_dir.join("run.json");
        // The journal reaches the disk before the file that summarises it.
        self.out.sync_journal();
        run.write(&path)?;
        // Tables are rendered from the file just written, never from memory.
        Ok((RunFile::read(&path)?, path))
    }
}

/// What the session writes about its targets: every target's record, and
/// the versions of the runtimes the host record names (the families say
/// which: [`crate::targets::TargetFamily::host_runtime`]).
#[derive(Default)]
pub(super) struct Records {
    targets: Vec<TargetRecord>,
    runtime_versions: BTreeMap<String, String>,
}
