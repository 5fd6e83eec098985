//! `native`: the workload's static musl binary, spawned as a process.

use super::{
    Instance, MemoryScope, Target, TargetError, TargetResult, file_artifact, require_built,
};
use crate::artifacts::static_binary;
use crate::stream::LineReader;
use coldbench_results::{ArtifactKind, Family, TargetRecord};
use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::os::unix::process::CommandExt;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

/// Spawns the static binary of a workload for each start.
pub struct NativeTarget {
    workloads: Vec<String>,
}

impl NativeTarget {
    /// A native target for `workloads`.
    pub fn new(workloads: &[String]) -> Self {
        NativeTarget {
            workloads: workloads.to_vec(),
        }
    }
}

impl Target for NativeTarget {
    fn id(&self) -> &str {
        "native"
    }

    fn record(&self) -> TargetRecord {
        TargetRecord {
            id: "native".into(),
            family: Family::Native,
            runtime: "linux".into(),
            runtime_version: sysinfo::System::kernel_version().unwrap_or_default(),
            knobs: BTreeMap::from([
                ("binary".into(), "static x86_64-unknown-linux-musl".into()),
                ("spawn".into(), "std::process::Command (fork/exec)".into()),
            ]),
            available: true,
            unavailable_reason: None,
            artifacts: self
                .workloads
                .iter()
                .filter(|w| crate::artifacts::native_missing(w).is_none())
                .map(|w| file_artifact(w, ArtifactKind::StaticBinary, &static_binary(w)))
                .collect(),
        }
    }

    fn prepare(&mut self, workload: &str, _timeout: Duration) -> TargetResult<Option<u64>> {
        if let Some(why) = crate::artifacts::native_missing(workload) {
            return Err(TargetError::Unavailable(why));
        }
        require_built("static binary", &static_binary(workload))?;
        Ok(None)
    }

    fn start(
        &mut self,
        workload: &str,
        serve: bool,
        _timeout: Duration,
    ) -> TargetResult<Box<dyn Instance>> {
        let bin = static_binary(workload);
        let child = Command::new(&bin)
            .args(super::workload_args(workload, serve))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            // Own process group: a terminal's Ctrl-C reaches the harness only,
            // which then tears every instance down itself.
            .process_group(0)
            // Names this harness: a later coldbench kills it if we are gone.
            .env(crate::reap::OWNER_ENV, crate::reap::owner())
            .spawn()
            .map_err(|e| TargetError::Failed(format!("cannot spawn {}: {e}", bin.display())))?;
        Ok(Box::new(NativeInstance::new(child)))
    }
}

/// A spawned process; killed and reaped on drop if still running.
pub struct NativeInstance {
    child: Child,
    stdin: Option<ChildStdin>,
    stdout: LineReader,
    stderr: Arc<Mutex<Vec<u8>>>,
    /// Set when the stderr reader reached end of file.
    stderr_done: Arc<std::sync::atomic::AtomicBool>,
}

impl NativeInstance {
    /// Wraps a child spawned with piped stdin, stdout and stderr.
    pub fn new(mut child: Child) -> Self {
        let stdin = child.stdin.take();
        let (tx, rx) = mpsc::channel();
        if let Some(mut out) = child.stdout.take() {
            std::thread::spawn(move || {
                let mut buf = vec![0u8; 64 * 1024];
                while let Ok(n) = out.read(&mut buf) {
                    if n == 0 || tx.send(buf[..n].to_vec()).is_err() {
                        break;
                    }
                }
            });
        }
        let stderr = Arc::new(Mutex::new(Vec::new()));
        let stderr_done = Arc::new(std::sync::atomic::AtomicBool::new(false));
        if let Some(mut err) = child.stderr.take() {
            let sink = stderr.clone();
            let done = stderr_done.clone();
            std::thread::spawn(move || {
                let mut buf = [0u8; 4096];
                while let Ok(n) = err.read(&mut buf) {
                    if n == 0 {
                        break;
                    }
                    let mut s = sink.lock().unwrap_or_else(|p| p.into_inner());
                    if s.len() < 64 * 1024 {
                        s.extend_from_slice(&buf[..n]);
                    }
                }
                done.store(true, std::sync::atomic::Ordering::SeqCst);
            });
        }
        NativeInstance {
            child,
            stdin,
            stdout: LineReader::new(rx),
            stderr,
            stderr_done,
        }
    }
}

impl Instance for NativeInstance {
    fn stdout(&mut self) -> &mut LineReader {
        &mut self.stdout
    }

    fn write_stdin(&mut self, bytes: &[u8], _timeout: Duration) -> TargetResult<()> {
        // A pipe write blocks only while the workload does not read; the caller's
        // response deadline bounds the sample, and a dead process gives EPIPE.
        let stdin = self
            .stdin
            .as_mut()
            .ok_or_else(|| TargetError::Failed("stdin already closed".into()))?;
        stdin
            .write_all(bytes)
            .and_then(|_| stdin.flush())
            .map_err(|e| {
                TargetError::Failed(format!("writing the request to the process failed: {e}"))
            })
    }

    fn close_stdin(&mut self) -> TargetResult<()> {
        drop(self.stdin.take());
        Ok(())
    }

    fn teardown(mut self: Box<Self>, timeout: Duration) -> TargetResult<()> {
        drop(self.stdin.take());
        let deadline = Instant::now() + timeout;
        // Poll with a short, growing sleep: resolution ≤ 200 µs, no extra thread.
        let mut nap = Duration::from_micros(5);
        loop {
            match self.child.try_wait() {
                Ok(Some(status)) if status.success() => return Ok(()),
                Ok(Some(status)) => {
                    return Err(TargetError::Failed(format!(
                        "process {} exited with {status}",
                        self.child.id()
                    )));
                }
                Ok(None) if Instant::now() >= deadline => {
                    let _ = self.child.kill();
                    let _ = self.child.wait();
                    return Err(TargetError::Timeout(format!(
                        "process {} did not exit within {} ms after its response; killed",
                        self.child.id(),
                        timeout.as_millis()
                    )));
                }
                Ok(None) => {
                    std::thread::sleep(nap);
                    nap = (nap * 2).min(Duration::from_micros(200));
                }
                Err(e) => return Err(TargetError::Failed(format!("waiting for the process: {e}"))),
            }
        }
    }

    /// Its stderr so far; if the process has ended, after its stderr reader
    /// has read everything (bounded: 200 ms), so that a dying process's last
    /// words (a panic message) are in the error.
    fn diagnostics(&mut self) -> String {
        // A process whose stdout just ended may still be exiting: give it
        // 20 ms to be gone, then its stderr reader up to 200 ms to finish.
        let t0 = Instant::now();
        while !self.stderr_done.load(std::sync::atomic::Ordering::SeqCst) {
            let exited = matches!(self.child.try_wait(), Ok(Some(_)));
            let waited = t0.elapsed();
            if waited >= Duration::from_millis(200)
                || (!exited && waited >= Duration::from_millis(20))
            {
                break;
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        String::from_utf8_lossy(&self.stderr.lock().unwrap_or_else(|p| p.into_inner())).into_owned()
    }

    fn memory_scope(&mut self, _timeout: Duration) -> MemoryScope {
        MemoryScope::Processes(vec![self.child.id()])
    }
}

impl Drop for NativeInstance {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
