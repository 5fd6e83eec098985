//! The in-process floor a runner times in every run: its own per-start work on
//! the calling thread, hot and after idle, on coldbench's `noop` module.

use super::*;

/// The module a [`Kind::Load`] command names (`path=`): its path and bytes.
///
/// Errors: no `path`, or the file cannot be read (the message names it).
pub fn read_module(kv: &[(String, String)]) -> Result<(std::path::PathBuf, Vec<u8>), String> {
    let path = std::path::PathBuf::from(kv_get(kv, "path").ok_or("load: no `path`")?);
    let bytes = std::fs::read(&path)
        .map_err(|e| format!("cannot read Wasm module {}: {e}", path.display()))?;
    Ok((path, bytes))
}

/// The module a runner's criterion bench (`harness/runners/<runtime>/benches`)
/// starts: the file named by `COLDBENCH_BENCH_WASM`, else `noop.wasm` of
/// the nested build, found from the runner's `CARGO_MANIFEST_DIR`
/// (`<dir>/../../../target/nested/wasm32-wasip1/release/noop.wasm`).
pub fn bench_module_path(runner_manifest_dir: &str) -> std::path::PathBuf {
    std::env::var_os("COLDBENCH_BENCH_WASM")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| {
            std::path::Path::new(runner_manifest_dir)
                .join("../../../target/nested/wasm32-wasip1/release/noop.wasm")
        })
}

/// The bytes of [`bench_module_path`].
///
/// Panics naming the file when it cannot be read (for benches only).
pub fn bench_module_bytes(runner_manifest_dir: &str) -> Vec<u8> {
    let path = bench_module_path(runner_manifest_dir);
    std::fs::read(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// How many in-process starts a [`Kind::Floor`] command times.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FloorPlan {
    /// Starts run first and not kept.
    pub warmup: u32,
    /// Measured starts at most.
    pub iterations: u32,
    /// Measured starts at least, whatever the budget.
    pub min_iterations: u32,
    /// Time after which no new measured start begins once `min_iterations`
    /// are kept (warm-ups and pauses included), ns: a start that compiles
    /// (JIT, ~100 ms) gets fewer than `iterations`.
    pub budget_ns: u64,
    /// Sleep before each start (warm-ups too), ns, outside the timed
    /// region: 0 times starts back to back (hot); a pause lets the runner
    /// go idle first, as before a start coldbench sends (`idle_us=`).
    pub idle_ns: u64,
}

#[cfg(target_os = "linux")]
impl FloorPlan {
    /// Runs `start` (one start, returning its duration in ns, or why it
    /// failed) as the plan says — each after the plan's idle pause, warm-ups
    /// stopping early once the budget is spent — and returns the measured
    /// durations.
    pub fn time(&self, mut start: impl FnMut() -> Result<u64, String>) -> Result<Vec<u64>, String> {
        let t0 = crate::monotonic_ns();
        let spent = || crate::monotonic_ns() - t0 >= self.budget_ns;
        let mut start = || {
            if self.idle_ns > 0 {
                std::thread::sleep(std::time::Duration::from_nanos(self.idle_ns));
            }
            start()
        };
        for _ in 0..self.warmup {
            start()?;
            if spent() {
                break;
            }
        }
        let mut samples = Vec::with_capacity(self.iterations as usize);
        while samples.len() < self.iterations as usize
            && (samples.len() < self.min_iterations as usize || !spent())
        {
            samples.push(start()?);
        }
        Ok(samples)
    }

    /// One in-process start for [`FloorPlan::time`]: `run` gets a request
    /// for `module` with `args` (`received_ns`: when the clock started) and
    /// events that drop everything, runs the instance to its exit and returns
    /// the exit code. Returns the time from just before `run` to its return,
    /// ns; an error or a non-zero exit is an error. What `run` needs ready
    /// before the clock (stdio, limits) is made before calling this.
    pub fn timed_start(
        module: u64,
        args: &[String],
        run: impl FnOnce(StartRequest, &InstanceEvents) -> Result<i32, String>,
    ) -> Result<u64, String> {
        let events = InstanceEvents::discarding();
        let request = StartRequest {
            module,
            args: args.to_vec(),
            dir: None,
            received_ns: crate::monotonic_ns(),
        };
        let t0 = request.received_ns;
        let exit = run(request, &events);
        let t = crate::monotonic_ns() - t0;
        match exit {
            Ok(0) => Ok(t),
            Ok(code) => Err(format!("floor: the guest exited with {code}")),
            Err(e) => Err(format!("floor: {e}")),
        }
    }

    /// Stdio for an in-process start of a runtime whose WASI takes host
    /// descriptors: the read end of a pipe already at end of file (stdin),
    /// and a stdout pipe — keep its read end until the start returns (noop
    /// writes a line; nobody reads it).
    pub fn piped_stdio() -> Result<(io::PipeReader, io::PipeReader, io::PipeWriter), String> {
        let pipe =
            |what: &str| io::pipe().map_err(|e| format!("floor: cannot create a {what} pipe: {e}"));
        let (stdin, _) = pipe("stdin")?;
        let (stdout_read, stdout) = pipe("stdout")?;
        Ok((stdin, stdout_read, stdout))
    }
}
