//! The harness's own readings during a run (RSS, open fds, threads every
//! 10 s: `harness[]` in `run.json`), so a long run shows whether coldbench
//! itself grows.

use super::*;

/// How often the harness reads its own process during a run.
pub const HARNESS_SAMPLE_EVERY: Duration = Duration::from_secs(10);

/// Reads the harness's own RSS, open file descriptors and threads every
/// [`HARNESS_SAMPLE_EVERY`] on a thread of its own, until dropped.
pub(super) struct HarnessSampler {
    samples: std::sync::Arc<std::sync::Mutex<Vec<coldbench_results::HarnessSample>>>,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl HarnessSampler {
    pub(super) fn start(started: Instant) -> Self {
        let samples = std::sync::Arc::new(std::sync::Mutex::new(vec![read_self(started)]));
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let (s, st) = (samples.clone(), stop.clone());
        let _ = std::thread::Builder::new()
            .name("harness-sampler".into())
            .spawn(move || {
                let mut next = started + HARNESS_SAMPLE_EVERY;
                while !st.load(Ordering::SeqCst) {
                    // Short naps, so that a dropped session ends the thread soon.
                    std::thread::sleep(Duration::from_millis(200));
                    if Instant::now() >= next {
                        next += HARNESS_SAMPLE_EVERY;
                        let r = read_self(started);
                        s.lock().unwrap_or_else(|p| p.into_inner()).push(r);
                    }
                }
            });
        HarnessSampler { samples, stop }
    }

    /// The readings so far plus one taken now.
    pub(super) fn samples_now(&self, started: Instant) -> Vec<coldbench_results::HarnessSample> {
        let mut v = self
            .samples
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        v.push(read_self(started));
        v
    }
}

impl Drop for HarnessSampler {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

/// One reading of this process; what cannot be read is left absent.
pub(super) fn read_self(started: Instant) -> coldbench_results::HarnessSample {
    let me = procfs::process::Process::myself().ok();
    let status = me.as_ref().and_then(|p| p.status().ok());
    coldbench_results::HarnessSample {
        t_ns: started.elapsed().as_nanos() as u64,
        rss_bytes: status.as_ref().and_then(|s| s.vmrss).map(|kib| kib * 1024),
        open_fds: me
            .as_ref()
            .and_then(|p| p.fd_count().ok())
            .map(|n| n as u64),
        threads: status.map(|s| s.threads),
    }
}
