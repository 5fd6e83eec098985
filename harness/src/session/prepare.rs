//! Preparing the targets of a run once: the variants available here, each
//! built or precompiled for the selected workloads (what a target cannot
//! prepare is skipped with the reason), and more clients of a prepared target
//! for throughput.

use super::*;

impl Session {
    /// The selected variants that can run here; the others are recorded
    /// (and, when asked for by exact id, reported as errors of this run).
    pub(super) fn available_variants(&mut self) -> Vec<Variant> {
        let Some(probe) = &self.probe else {
            return Vec::new();
        };
        let mut ok = Vec::new();
        for v in catalog()
            .into_iter()
            .filter(|v| self.target_selection.iter().any(|p| picks(p, &v.id)))
        {
            match probe.availability(&v) {
                Ok(()) => ok.push(v),
                Err(why) => {
                    self.progress.note(&format!("{}: unavailable: {why}", v.id));
                    if self.target_selection.iter().any(|p| p == &v.id) {
                        self.out.error(
                            Subject {
                                target: Some(&v.id),
                                ..Subject::default()
                            },
                            Phase::Prepare,
                            FailureKind::Unavailable,
                            why.clone(),
                        );
                    }
                    self.unavailable.push(probe.unavailable_record(&v, &why));
                }
            }
        }
        ok
    }

    /// Builds and prepares a target for `v` with `workloads` (module loads,
    /// precompiles, image builds: not cold start). A workload it cannot
    /// prepare is skipped on that target only, with its reason. `None` if it
    /// could prepare none. `primary`: the session's own target of `v` (its
    /// prepare times are recorded, its failures reported).
    pub(super) fn prepare_one(
        &mut self,
        v: &Variant,
        cache_dir: &Path,
        workloads: &[String],
        primary: bool,
    ) -> Option<Box<dyn Target>> {
        let probe = self.probe.as_ref()?;
        let mut t = probe.build(v, cache_dir, &self.workloads, &self.target_options);
        let mut failed = Vec::new();
        self.progress.working(&format!("prepare {}", t.id()));
        for (w, r) in workloads.iter().zip(t.prepare_all(workloads, self.timeout)) {
            match r {
                Ok(Some(ns)) if primary => self.out.record_prepare(w, t.id(), ns),
                Ok(_) => {}
                Err(e) => failed.push((w.clone(), e.to_string())),
            }
        }
        for (w, why) in &failed {
            if primary && self.skip.insert((t.id().to_string(), w.clone())) {
                self.progress
                    .note(&format!("{} / {w}: skipped: {why}", t.id()));
                self.out.error(
                    Subject {
                        workload: Some(w),
                        target: Some(t.id()),
                        case: None,
                    },
                    Phase::Prepare,
                    FailureKind::Unavailable,
                    why.clone(),
                );
            }
        }
        if failed.len() < workloads.len() {
            Some(t)
        } else {
            if primary {
                let why = failed.first().map(|(_, e)| e.clone()).unwrap_or_default();
                let mut r = t.record();
                r.available = false;
                r.unavailable_reason = Some(why);
                r.start = Some(declared_start(&r));
                self.unavailable.push(r);
            }
            None
        }
    }

    /// Prepares one target per available selected variant with every
    /// workload of the run (prepare times recorded; precompiled modules in
    /// `<out>/precompiled`), then takes native's reference checksums.
    pub fn prepare(&mut self) {
        if let Some(w) = crate::host::cpu_idle_warning(crate::host::cpu_idle().as_ref()) {
            self.note(w);
        }
        let variants = std::mem::take(&mut self.variants);
        let cache_dir = self.out_dir.join("precompiled");
        let total = (variants.len() * self.workloads.len()) as u64;
        self.progress.stage_untracked("prepare", total);
        for (i, v) in variants.into_iter().enumerate() {
            if self.interrupted.load(Ordering::SeqCst) {
                break;
            }
            let workloads = self.workloads.clone();
            if let Some(t) = self.prepare_one(&v, &cache_dir, &workloads, true) {
                self.entries.push(Entry {
                    id: v.id.clone(),
                    variant: Some(v),
                    clients: vec![t],
                });
            }
            self.progress
                .advance(((i + 1) * workloads.len()) as u64, total);
        }
        self.progress.working("reference checksums (native)");
        let mut reference = NativeTarget::new(&self.workloads);
        let mut expected = Vec::with_capacity(self.cases.len());
        let mut notes = BTreeMap::new();
        for i in 0..self.cases.len() {
            let case = &self.cases[i];
            if crate::artifacts::native_missing(&case.workload).is_none() {
                expected.push(reference_checksum(
                    &mut reference,
                    case,
                    self.timeout,
                    &mut self.out,
                ));
                continue;
            }
            // A command without a native build: the first prepared Wasm
            // target answers for it, and the run says so.
            let workload = case.workload.clone();
            let by = self
                .entries
                .iter()
                .position(|e| e.id != "native" && !self.skips(&e.id, &workload));
            match by {
                Some(ti) => {
                    let id = self.entries[ti].id.clone();
                    let crc = reference_checksum(
                        self.entries[ti].clients[0].as_mut(),
                        &self.cases[i],
                        self.timeout,
                        &mut self.out,
                    );
                    notes.insert(
                        workload.clone(),
                        format!(
                            "reference checksums of `{workload}` come from {id} (no native binary was given): every other target is verified against it"
                        ),
                    );
                    expected.push(crc);
                }
                None => {
                    self.out.error(
                        Subject {
                            workload: Some(&workload),
                            target: None,
                            case: Some(&self.cases[i].name),
                        },
                        Phase::Input,
                        FailureKind::Unavailable,
                        format!(
                            "no target can give `{workload}` a reference checksum (no native binary and no Wasm target prepared it): the case is left out"
                        ),
                    );
                    expected.push(None);
                }
            }
        }
        self.expected = expected;
        for (_, n) in notes {
            self.note(n);
        }
        self.progress.finish_stage();
    }

    /// Gives every entry `n` clients, preparing the extra ones with
    /// `workloads` only (each with its own runner process and cache
    /// directory, so that clients never share a runner's control pipe). An
    /// entry that cannot get `n` keeps what it has (throughput skips it).
    pub fn ensure_clients(&mut self, n: usize, workloads: &[String]) {
        for i in 0..self.entries.len() {
            while self.entries[i].clients.len() < n {
                let Some(v) = self.entries[i].variant.clone() else {
                    break;
                };
                let c = self.entries[i].clients.len();
                let cache_dir = self.out_dir.join("precompiled").join(format!("client-{c}"));
                match self.prepare_one(&v, &cache_dir, workloads, false) {
                    Some(t) => self.entries[i].clients.push(t),
                    None => break,
                }
            }
        }
    }
}
