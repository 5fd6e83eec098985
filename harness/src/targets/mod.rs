//! Everything that starts instances of a workload: the [`Target`] boundary the
//! harness owns the clock around (sightglass `Measure`, hyperfine `Executor`).
//!
//! A target's `start` is the beginning of the timed region; its setup
//! (`prepare`: image build, module precompile) is timed separately and is never
//! part of cold start.

use crate::stream::LineReader;
use coldbench_results::{Metric, TargetRecord};
use std::time::Duration;

pub mod docker;
pub mod native;
pub mod wasmtime;

/// Errors of a target, each naming the thing concerned.
#[derive(Debug, thiserror::Error)]
pub enum TargetError {
    /// The target cannot run on this host; the message says why and how to enable it.
    #[error("{0}")]
    Unavailable(String),
    /// Something did not answer within its bound.
    #[error("timed out: {0}")]
    Timeout(String),
    /// Anything else, with context.
    #[error("{0}")]
    Failed(String),
}

/// Shorthand for results of target operations.
pub type TargetResult<T> = Result<T, TargetError>;

/// A family of instances (one target variant, e.g. `wasmtime-aot`).
pub trait Target {
    /// Stable variant id (`native`, `wasmtime-jit`, `docker-scratch-runc-bridge`, ...).
    fn id(&self) -> &str;
    /// Version, knobs and artifact sizes, for the results file.
    fn record(&self) -> TargetRecord;
    /// Makes `workload` startable (not cold start). Returns the time it took, ns,
    /// if the target has such a phase.
    fn prepare(&mut self, workload: &str, timeout: Duration) -> TargetResult<Option<u64>>;
    /// Starts one fresh instance of `workload` in one-shot mode. Timed.
    fn start(&mut self, workload: &str, timeout: Duration) -> TargetResult<Box<dyn Instance>>;
    /// Called after a sample failed (e.g. timed out): release whatever may be
    /// stuck (a runner process with a hung instance) so the next start is clean.
    fn recover(&mut self) {}
}

/// One running instance.
pub trait Instance {
    /// Its stdout, as lines.
    fn stdout(&mut self) -> &mut LineReader;
    /// Sends bytes to its stdin.
    fn write_stdin(&mut self, bytes: &[u8], timeout: Duration) -> TargetResult<()>;
    /// Phases measured inside the target (e.g. in-runner compile and instantiate), ns.
    fn inner_phases(&mut self) -> Vec<(Metric, u64)> {
        Vec::new()
    }
    /// Closes stdin, waits for the instance to finish and releases everything it
    /// holds (process reaped, container removed, store dropped). Timed as `t_teardown`.
    fn teardown(self: Box<Self>, timeout: Duration) -> TargetResult<()>;
    /// What the instance reported on the side (stderr, runner errors), for error messages.
    fn diagnostics(&mut self) -> String {
        String::new()
    }
}

/// A file's size in bytes, 0 if it cannot be read.
pub(crate) fn file_bytes(p: &std::path::Path) -> u64 {
    std::fs::metadata(p).map(|m| m.len()).unwrap_or(0)
}
