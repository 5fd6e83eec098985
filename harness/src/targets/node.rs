//! `node`: the Wasm module under V8 through Node.js `node:wasi`, one `node`
//! process per instance running the runner script shipped in
//! `harness/runners/node/runner.mjs`.
//!
//! The runner reports its own stamps (script start, module read, compiled,
//! instantiated) on stderr, so the results separate node's process start
//! (`t_runtime_boot`) from V8's compile (`t_runner_module`) and instantiate
//! (`t_runner_instantiate`).

use super::native::NativeInstance;
use super::{
    BuildContext, HostProbe, Instance, MemoryScope, Priors, Target, TargetError, TargetFamily,
    TargetResult, Variant, file_artifact, heavy, require_built,
};
use crate::artifacts::{repo_dir, wasm_module};
use crate::stream::LineReader;
use coldbench_protocol::monotonic_ns;
use coldbench_results::{ArtifactKind, Family, Metric, TargetRecord};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

/// The marker of the runner's phase line on stderr.
const PHASES_MARKER: &str = "COLDBENCH-NODE-PHASES";

/// Oldest Node.js major version whose `node:wasi` takes `version: 'preview1'`.
const MIN_NODE_MAJOR: u32 = 20;

/// The runner script shipped in the repository.
pub fn runner_script() -> PathBuf {
    repo_dir()
        .join("harness")
        .join("runners")
        .join("node")
        .join("runner.mjs")
}

/// `node --version` of the `node` on `PATH` (e.g. `v20.20.2`), or why it cannot be used.
pub fn probe_node() -> Result<String, String> {
    let out = Command::new("node").arg("--version").output().map_err(|e| {
        format!(
            "no `node` on PATH ({e}); install Node.js ≥ {MIN_NODE_MAJOR} (Debian package `nodejs`)"
        )
    })?;
    let version = String::from_utf8_lossy(&out.stdout).trim().to_string();
    let major: u32 = version
        .trim_start_matches('v')
        .split('.')
        .next()
        .and_then(|m| m.parse().ok())
        .ok_or_else(|| format!("cannot parse `node --version` output {version:?}"))?;
    if major < MIN_NODE_MAJOR {
        return Err(format!(
            "node {version} is too old: `node:wasi` preview1 needs Node.js ≥ {MIN_NODE_MAJOR}"
        ));
    }
    Ok(version)
}

/// The `node` family: one variant, V8 through Node.js, a process per start.
pub struct NodeFamily;

/// The `node` family's registration.
pub static FAMILY: NodeFamily = NodeFamily;

impl TargetFamily for NodeFamily {
    fn variants(&'static self) -> Vec<Variant> {
        vec![Variant {
            start: super::new_process(&[]),
            id: "node".into(),
            family: Family::Wasm,
            description: "V8 via Node.js node:wasi, one node process per start (runner reports compile/instantiate)".into(),
            provider: self,
        }]
    }

    fn availability(&self, _v: &Variant, host: &HostProbe) -> Result<(), String> {
        host.node.as_ref().map(|_| ()).map_err(Clone::clone)
    }

    fn build(&self, _v: &Variant, ctx: &BuildContext<'_>) -> Box<dyn Target> {
        Box::new(NodeTarget::new(
            ctx.host.node.clone().unwrap_or_default(),
            ctx.workloads,
        ))
    }

    fn runtime(&self, _v: &Variant, _host: &HostProbe) -> (String, String) {
        ("node".into(), String::new())
    }

    fn priors(&self, _v: &Variant, workload: &str) -> Priors {
        Priors::new(if heavy(workload) { 0.3 } else { 0.13 }, 0.0005)
    }
}

/// Spawns `node runner.mjs <module.wasm> <workload>` for each start.
pub struct NodeTarget {
    version: String,
    workloads: Vec<String>,
}

impl NodeTarget {
    /// A node target for `workloads`, with the version found by [`probe_node`].
    pub fn new(version: String, workloads: &[String]) -> Self {
        NodeTarget {
            version,
            workloads: workloads.to_vec(),
        }
    }
}

impl Target for NodeTarget {
    fn id(&self) -> &str {
        "node"
    }

    fn record(&self) -> TargetRecord {
        TargetRecord {
            id: "node".into(),
            family: Family::Wasm,
            runtime: "node".into(),
            runtime_version: self.version.clone(),
            knobs: BTreeMap::from([
                ("engine".to_string(), "V8 (Node.js)".to_string()),
                (
                    "compile".into(),
                    "WebAssembly.compile at every start (Liftoff baseline, TurboFan tier-up)"
                        .into(),
                ),
                ("wasi".into(), "node:wasi, version preview1".into()),
                (
                    "host".into(),
                    format!(
                        "one process per instance: node --no-warnings --wasm-max-mem-pages={NODE_MAX_MEMORY_PAGES} {}",
                        runner_script().display()
                    ),
                ),
                ("code_cache".into(), "none".into()),
                (
                    "instance_memory_limit_bytes".into(),
                    (u64::from(NODE_MAX_MEMORY_PAGES) * 65_536).to_string(),
                ),
            ])
            .into_iter()
            .chain(super::any_workload_dir(&self.workloads).then(|| {
                (
                    "workload_dir".into(),
                    "a --workload-dir command's directory preopened as `.` (node:wasi preopens), NOT read-only: node:wasi has no read-only preopen".into(),
                )
            }))
            .collect(),
            available: true,
            unavailable_reason: None,
            artifacts: self
                .workloads
                .iter()
                .map(|w| file_artifact(w, ArtifactKind::Wasm, &wasm_module(w)))
                .collect(),
            start: None,
        }
    }

    fn prepare(&mut self, workload: &str, _timeout: Duration) -> TargetResult<Option<u64>> {
        require_built("Wasm module", &wasm_module(workload))?;
        if !runner_script().is_file() {
            return Err(TargetError::Unavailable(format!(
                "node runner {} is missing from the checkout",
                runner_script().display()
            )));
        }
        Ok(None)
    }

    fn start(
        &mut self,
        workload: &str,
        serve: bool,
        _timeout: Duration,
    ) -> TargetResult<Box<dyn Instance>> {
        let spawned_ns = monotonic_ns();
        let mut cmd = Command::new("node");
        cmd.arg("--no-warnings")
            .arg(format!("--wasm-max-mem-pages={NODE_MAX_MEMORY_PAGES}"))
            .arg(runner_script())
            .arg(wasm_module(workload))
            .arg(workload)
            .args(super::workload_args(workload, serve));
        if let Some(dir) = crate::artifacts::workload_dir(workload) {
            cmd.env("COLDBENCH_WORKLOAD_DIR", dir);
        }
        Ok(Box::new(NodeInstance {
            inner: NativeInstance::spawn(&mut cmd, "node")?,
            spawned_ns,
        }))
    }
}

/// Largest linear memory of a guest under node, 64 KiB pages: 16,384 =
/// 1 GiB, the cap of every coldbench Wasm target (V8's
/// `--wasm-max-mem-pages`; without it a guest may grow to 4 GiB and more).
pub const NODE_MAX_MEMORY_PAGES: u32 = 16_384;

struct NodeInstance {
    inner: NativeInstance,
    spawned_ns: u64,
}

/// Parses the runner's phase line out of its stderr: (script start, read,
/// compiled, instantiated), `CLOCK_MONOTONIC` ns.
fn parse_phases(stderr: &str) -> Option<[u64; 4]> {
    let line = stderr.lines().find(|l| l.starts_with(PHASES_MARKER))?;
    let get = |key: &str| {
        line.split_whitespace()
            .filter_map(|kv| kv.split_once('='))
            .find(|(k, _)| *k == key)
            .and_then(|(_, v)| v.parse::<u64>().ok())
    };
    Some([
        get("script_start_ns")?,
        get("read_ns")?,
        get("compiled_ns")?,
        get("instantiated_ns")?,
    ])
}

impl Instance for NodeInstance {
    fn stdout(&mut self) -> &mut LineReader {
        self.inner.stdout()
    }

    fn write_stdin(&mut self, bytes: &[u8], timeout: Duration) -> TargetResult<()> {
        self.inner.write_stdin(bytes, timeout)
    }

    fn inner_phases(&mut self, _t0_ns: u64, _ready_read_ns: u64) -> Vec<(Metric, u64)> {
        // The runner writes the line (synchronously, to the stderr file)
        // before the guest runs: it is there once the ready line was read.
        let Some([boot, _read, compiled, instantiated]) = parse_phases(&self.inner.stderr_text())
        else {
            return Vec::new();
        };
        if self.spawned_ns <= boot && boot <= compiled && compiled <= instantiated {
            vec![
                (Metric::TRuntimeBoot, boot - self.spawned_ns),
                (Metric::TRunnerModule, compiled - boot),
                (Metric::TRunnerInstantiate, instantiated - compiled),
            ]
        } else {
            Vec::new()
        }
    }

    fn memory_scope(&mut self, timeout: Duration) -> MemoryScope {
        self.inner.memory_scope(timeout)
    }

    fn close_stdin(&mut self) -> TargetResult<()> {
        self.inner.close_stdin()
    }

    fn teardown(self: Box<Self>, timeout: Duration) -> TargetResult<()> {
        Box::new(self.inner).teardown(timeout)
    }

    fn diagnostics(&mut self) -> String {
        self.inner
            .diagnostics()
            .lines()
            .filter(|l| !l.starts_with(PHASES_MARKER))
            .collect::<Vec<_>>()
            .join("\n")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phase_line_is_parsed_and_other_stderr_ignored() {
        let err = "warning: x\nCOLDBENCH-NODE-PHASES script_start_ns=10 read_ns=11 compiled_ns=15 instantiated_ns=17\n";
        assert_eq!(parse_phases(err), Some([10, 11, 15, 17]));
        assert_eq!(parse_phases("COLDBENCH-NODE-PHASES read_ns=1"), None);
        assert_eq!(parse_phases("nothing"), None);
    }
}
