//! The instances of the containerd targets: a new container's task, or a
//! process exec'd into a warm container (`containerd-exec-runc`).

use super::super::{Instance, MemoryScope, TargetError, TargetResult};
use crate::stream::LineReader;
use coldbench_containers::containerd::{Task, TaskExec};
use coldbench_results::Metric;
use std::time::Duration;

/// A new container through containerd: its task until teardown.
pub(super) struct ContainerdInstance {
    pub(super) task: Option<Task>,
    pub(super) stdout: LineReader,
    /// When tasks.create, the stdio hand-over and tasks.start returned, ns.
    pub(super) stamps_ns: Option<[u64; 3]>,
}

impl Instance for ContainerdInstance {
    fn stdout(&mut self) -> &mut LineReader {
        &mut self.stdout
    }

    fn write_stdin(&mut self, bytes: &[u8], _timeout: Duration) -> TargetResult<()> {
        self.task
            .as_mut()
            .expect("live until teardown")
            .write_stdin(bytes)
            .map_err(|e| TargetError::Failed(format!("writing the container's stdin FIFO: {e}")))
    }

    fn close_stdin(&mut self) -> TargetResult<()> {
        self.task
            .as_mut()
            .expect("live until teardown")
            .close_stdin(Duration::from_secs(10))
            .map_err(|e| TargetError::Failed(e.to_string()))
    }

    /// create (start call → the shim created the container), attach (its
    /// stdout FIFO handed over), start (→ running), ready (→ ready line
    /// read): they add up to `t_ready` start by start.
    fn inner_phases(&mut self, t0_ns: u64, ready_read_ns: u64) -> Vec<(Metric, u64)> {
        self.stamps_ns
            .map(|st| super::super::container_phases(st, t0_ns, ready_read_ns))
            .unwrap_or_default()
    }

    /// Closes stdin and waits for the exit; under a shim that cannot pass
    /// the end of input on (runwasi's stock shims: no CloseIO, a read-write
    /// stdin; not coldbench's) the task is killed instead, and its status is
    /// not checked.
    fn teardown(mut self: Box<Self>, timeout: Duration) -> TargetResult<()> {
        let task = self.task.take().expect("live until teardown");
        let (code, killed) = task
            .wait_and_remove(timeout)
            .map_err(|e| TargetError::Failed(e.to_string()))?;
        if code != 0 && !killed {
            return Err(TargetError::Exited {
                what: "container",
                code: code.into(),
            });
        }
        Ok(())
    }

    fn diagnostics(&mut self) -> String {
        self.task
            .as_ref()
            .map(|t| t.stderr_text())
            .unwrap_or_default()
    }

    fn memory_scope(&mut self, _timeout: Duration) -> MemoryScope {
        let t = self.task.as_ref().expect("live until teardown");
        MemoryScope::Container {
            pid: t.pid(),
            id: t.id().to_string(),
        }
    }
}

/// A process exec'd into a warm container.
pub(super) struct ContainerdExecInstance {
    pub(super) exec: Option<TaskExec>,
    pub(super) stdout: LineReader,
    /// When tasks.exec and tasks.start returned, ns.
    pub(super) stamps_ns: [u64; 2],
}

impl Instance for ContainerdExecInstance {
    fn stdout(&mut self) -> &mut LineReader {
        &mut self.stdout
    }

    fn write_stdin(&mut self, bytes: &[u8], _timeout: Duration) -> TargetResult<()> {
        self.exec
            .as_mut()
            .expect("live until teardown")
            .write_stdin(bytes)
            .map_err(|e| TargetError::Failed(format!("writing the exec's stdin FIFO: {e}")))
    }

    fn close_stdin(&mut self) -> TargetResult<()> {
        self.exec
            .as_mut()
            .expect("live until teardown")
            .close_stdin(Duration::from_secs(10))
            .map_err(|e| TargetError::Failed(e.to_string()))
    }

    /// create (start call → tasks.exec registered the process), start (→
    /// tasks.start: runc exec joined the container and ran it), ready (→
    /// its ready line read): they add up to `t_ready` start by start.
    fn inner_phases(&mut self, t0_ns: u64, ready_read_ns: u64) -> Vec<(Metric, u64)> {
        super::super::stamped_phases(
            &[Metric::TExecCreate, Metric::TExecStart, Metric::TExecReady],
            &self.stamps_ns,
            t0_ns,
            ready_read_ns,
        )
    }

    fn teardown(mut self: Box<Self>, timeout: Duration) -> TargetResult<()> {
        let exec = self.exec.take().expect("live until teardown");
        let code = exec
            .wait_and_delete(timeout)
            .map_err(|e| TargetError::Failed(e.to_string()))?;
        if code != 0 {
            return Err(TargetError::Exited {
                what: "exec'd process",
                code: code.into(),
            });
        }
        Ok(())
    }

    fn diagnostics(&mut self) -> String {
        self.exec
            .as_ref()
            .map(|e| e.stderr_text())
            .unwrap_or_default()
    }

    fn memory_scope(&mut self, _timeout: Duration) -> MemoryScope {
        let e = self.exec.as_ref().expect("live until teardown");
        MemoryScope::Processes(vec![e.pid()])
    }
}
