//! One closed-loop client of a throughput cell: its own target, a warm-up,
//! then requests one after another (each sent only after the previous verified
//! response) until the window closes; completions kept bounded (exact recent
//! ones, the rest binned).

use super::*;

/// The in-window completions of a cell, in bounded memory: the most recent
/// ones kept exactly, older ones folded into a latency histogram and counts
/// per bin of the window (1 ms, coarsened to keep at most 8,192 bins) (a long cell at 100k requests/s would
/// otherwise hold 16 bytes per request until it ends).
pub(super) struct Completions {
    /// Recent completions: (completion instant, latency), ns.
    pub(super) recent: Vec<(u64, u64)>,
    /// Latencies of the folded completions.
    pub(super) folded_latency: LatencyHistogram,
    /// Folded completions per bin of `bin_ns` since the window opened.
    pub(super) folded_bins: Vec<u64>,
    /// Width of a bin, ns: 1 ms, doubled (bins merged in pairs) whenever a
    /// window needs more than [`MAX_BINS`] of them, so that memory stays
    /// constant however long the cell.
    pub(super) bin_ns: u64,
}

/// Most bins of folded completions (64 KiB): a 1 h window gets 0.5 s bins,
/// far finer than its batch slices.
pub(super) const MAX_BINS: usize = 8192;

/// Completions kept exactly before the older ones are folded.
pub(super) const KEEP_RECENT: usize = 4096;

/// The newest completions never folded while the window may be closing
/// (a completion just past the close instant must stay removable).
pub(super) const NEVER_FOLD_NEWEST: usize = 256;

impl Default for Completions {
    fn default() -> Self {
        Completions {
            recent: Vec::new(),
            folded_latency: LatencyHistogram::new(),
            folded_bins: Vec::new(),
            bin_ns: 1_000_000,
        }
    }
}

impl Completions {
    pub(super) fn fold_one(&mut self, open_ns: u64, done: u64, lat: u64) {
        self.folded_latency.record_ns(lat);
        let at = done.saturating_sub(open_ns);
        while (at / self.bin_ns) as usize >= MAX_BINS {
            let merged: Vec<u64> = self.folded_bins.chunks(2).map(|c| c.iter().sum()).collect();
            self.folded_bins = merged;
            self.bin_ns *= 2;
        }
        let i = (at / self.bin_ns) as usize;
        if self.folded_bins.len() <= i {
            self.folded_bins.resize(i + 1, 0);
        }
        self.folded_bins[i] += 1;
    }

    /// Records one in-window completion; folds the older ones while the
    /// window is open (they all finished before it closes).
    pub(super) fn push(&mut self, done: u64, lat: u64, clock: &Clock) {
        self.recent.push((done, lat));
        if self.recent.len() >= KEEP_RECENT && clock.close_ns.load(Ordering::SeqCst) == u64::MAX {
            let open = clock.open_ns.load(Ordering::SeqCst);
            let cut = self.recent.len() - NEVER_FOLD_NEWEST;
            let old: Vec<(u64, u64)> = self.recent.drain(..cut).collect();
            for (d, l) in old {
                self.fold_one(open, d, l);
            }
        }
    }

    /// Everything that finished by `close_ns`: the latency histogram and the
    /// (instant, count) events for [`stats::batch_means_rate`] (folded ones at the
    /// middle of their bin).
    pub(super) fn finish(
        mut self,
        open_ns: u64,
        close_ns: u64,
    ) -> (LatencyHistogram, Vec<(u64, u64)>) {
        let recent = std::mem::take(&mut self.recent);
        for (d, l) in recent {
            if d <= close_ns {
                self.fold_one(open_ns, d, l);
            }
        }
        let bin = self.bin_ns;
        let events = self
            .folded_bins
            .iter()
            .enumerate()
            .filter(|(_, c)| **c > 0)
            .map(|(i, c)| ((open_ns + i as u64 * bin + bin / 2).min(close_ns), *c))
            .collect();
        (self.folded_latency, events)
    }
}

#[derive(Default)]
pub(super) struct Shared {
    /// In-window requests.
    pub(super) completions: Completions,
    pub(super) verified: u64,
    pub(super) mismatched: u64,
    pub(super) failed: u64,
    pub(super) failures: Vec<(String, StartFailure)>,
}

impl Shared {
    pub(super) fn failure(&mut self, case: &str, f: StartFailure) {
        self.failed += 1;
        if f.is_mismatch() {
            self.mismatched += 1;
        }
        if self.failures.len() < 20 {
            self.failures.push((case.to_string(), f));
        }
    }
}

/// State the coordinator and the clients share.
pub(super) struct Clock {
    /// Window start, ns (0 until the warm-up barrier is passed).
    pub(super) open_ns: AtomicU64,
    /// Window end, ns (u64::MAX while open). Its store is also the clients'
    /// stop signal: one store, so a client can finish at most the request it
    /// had in flight after the window closed (never start another).
    pub(super) close_ns: AtomicU64,
    pub(super) in_window: AtomicU64,
    pub(super) clients_alive: AtomicU64,
}

impl Clock {
    /// Whether the window has closed (the clients' stop signal).
    pub(super) fn closed(&self) -> bool {
        self.close_ns.load(Ordering::SeqCst) != u64::MAX
    }

    pub(super) fn counts(&self, started_ns: u64, done_ns: u64) -> bool {
        let open = self.open_ns.load(Ordering::SeqCst);
        open != 0 && started_ns >= open && done_ns <= self.close_ns.load(Ordering::SeqCst)
    }
}

/// One client's closed loop. `offset` staggers the clients over the cases.
#[allow(clippy::too_many_arguments)]
pub(super) fn client(
    target: &mut dyn Target,
    row: &Row,
    cases: &[Case],
    expected: &[Option<u32>],
    mode: ThroughputMode,
    offset: usize,
    s: &Settings,
    clock: &Clock,
    (warmed, go): (&Barrier, &Barrier),
    shared: &Mutex<Shared>,
) {
    let mut k = offset;
    let mut inst: Option<Box<dyn Instance>> = None;
    let mut consecutive_failures = 0u32;
    let mut warm = 0u32;
    let mut waited = false;
    loop {
        if !waited && (warm >= s.warmup_requests || consecutive_failures >= 3) {
            warmed.wait();
            go.wait();
            waited = true;
        }
        if waited && clock.closed() {
            break;
        }
        if consecutive_failures >= 3 && waited {
            // This client cannot make progress: leave the cell to the others.
            break;
        }
        let ci = row.cases[k % row.cases.len()];
        k += 1;
        let case = &cases[ci];
        let Some(want) = expected[ci] else { continue };
        // Only a request that starts an instance waits for its target.
        if mode == ThroughputMode::InstancePerRequest || inst.is_none() {
            wait_until_startable(target);
        }
        let t0 = monotonic_ns();
        // (start of the timed request, its latency) or a failure.
        let result: Result<(u64, u64), StartFailure> = match mode {
            ThroughputMode::Reused => {
                if inst.is_none() {
                    let deadline = Instant::now() + s.timeout;
                    match start_ready(target, &row.workload, true, t0, deadline, s.timeout) {
                        Ok((i, _)) => inst = Some(i),
                        Err(f) => {
                            let recovery = target.recover();
                            shared
                                .lock()
                                .unwrap_or_else(|p| p.into_inner())
                                .failure(&case.name, f.with_recovery(&recovery));
                            consecutive_failures += 1;
                            continue;
                        }
                    }
                }
                let t_req = monotonic_ns();
                let deadline = Instant::now() + s.timeout;
                exchange(inst.as_mut().expect("started"), case, deadline, s.timeout).and_then(
                    |crc32| {
                        let latency_ns = monotonic_ns() - t_req;
                        if crc32 == want {
                            Ok((t_req, latency_ns))
                        } else {
                            Err(StartFailure::mismatch(crc32, want))
                        }
                    },
                )
            }
            // The latency is the start's t_first_response; the client's cycle
            // (and so requests/s) also includes the teardown.
            ThroughputMode::InstancePerRequest => one_start(target, case, Some(want), s.timeout)
                .map(|sample| (t0, sample.t_first_response_ns)),
        };
        let done = monotonic_ns();
        let mut sh = shared.lock().unwrap_or_else(|p| p.into_inner());
        match result {
            Ok((started, latency_ns)) => {
                consecutive_failures = 0;
                sh.verified += 1;
                if !waited {
                    warm += 1;
                } else if clock.counts(started, done) {
                    sh.completions.push(done, latency_ns, clock);
                    clock.in_window.fetch_add(1, Ordering::SeqCst);
                }
            }
            Err(f) => {
                drop(sh);
                consecutive_failures += 1;
                // A hung instance is dropped, not torn down (that would wait
                // a second timeout): the recovery waits for its end.
                if let Some(i) = inst.take() {
                    if f.kind == FailureKind::Timeout {
                        drop(i);
                    } else {
                        let _ = i.teardown(s.timeout);
                    }
                }
                let recovery = target.recover();
                shared
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .failure(&case.name, f.with_recovery(&recovery));
            }
        }
    }
    if let Some(i) = inst.take()
        && let Err(e) = i.teardown(s.timeout)
    {
        shared
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .failure("-", StartFailure::target(Phase::Teardown, e));
    }
    if !waited {
        warmed.wait();
        go.wait();
    }
    clock.clients_alive.fetch_sub(1, Ordering::SeqCst);
}
