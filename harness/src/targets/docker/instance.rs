//! A started container or exec as an [`Instance`]: requests over the attach
//! stream, teardown (removal) with its own timing.

use super::*;

/// A process exec'd in a warm container.
pub(super) struct ExecInstance {
    pub(super) exec: Option<Exec>,
    pub(super) stdout: LineReader,
    /// When the engine's create_exec and start_exec calls returned,
    /// `CLOCK_MONOTONIC` ns.
    pub(super) stamps_ns: [u64; 2],
}

impl Instance for ExecInstance {
    fn stdout(&mut self) -> &mut LineReader {
        &mut self.stdout
    }

    /// create (start call → exec registered), start (→ the process running,
    /// attached), ready (→ its ready line read): they add up to `t_ready`
    /// start by start.
    fn inner_phases(&mut self, t0_ns: u64, ready_read_ns: u64) -> Vec<(Metric, u64)> {
        crate::targets::stamped_phases(
            &[Metric::TExecCreate, Metric::TExecStart, Metric::TExecReady],
            &self.stamps_ns,
            t0_ns,
            ready_read_ns,
        )
    }

    fn write_stdin(&mut self, bytes: &[u8], timeout: Duration) -> TargetResult<()> {
        self.exec
            .as_mut()
            .expect("live until teardown")
            .write_stdin(bytes, timeout)
            .map_err(cerr)
    }

    fn close_stdin(&mut self) -> TargetResult<()> {
        self.exec
            .as_mut()
            .expect("live until teardown")
            .close_stdin();
        Ok(())
    }

    fn teardown(mut self: Box<Self>, timeout: Duration) -> TargetResult<()> {
        let e = self.exec.take().expect("live until teardown");
        let code = e.wait(timeout).map_err(cerr)?;
        if code != 0 {
            return Err(TargetError::Exited {
                what: "exec'd process",
                code,
            });
        }
        Ok(())
    }

    fn diagnostics(&mut self) -> String {
        self.exec.as_ref().map(|e| e.stderr()).unwrap_or_default()
    }

    fn memory_scope(&mut self, timeout: Duration) -> MemoryScope {
        let e = self.exec.as_ref().expect("live until teardown");
        match e.pid(timeout) {
            Ok(Some(pid)) => MemoryScope::Processes(vec![pid]),
            Ok(None) => MemoryScope::Unknown(format!("exec {} is not running", e.id())),
            Err(err) => MemoryScope::Unknown(err.to_string()),
        }
    }
}

pub(super) struct DockerInstance {
    pub(super) container: Option<Container>,
    pub(super) stdout: LineReader,
    /// When the engine's create, attach and start calls returned,
    /// `CLOCK_MONOTONIC` ns.
    pub(super) stamps_ns: [u64; 3],
}

impl Instance for DockerInstance {
    fn stdout(&mut self) -> &mut LineReader {
        &mut self.stdout
    }

    /// create (start call → container created), attach, start (→ the OCI
    /// runtime reports it running), ready (→ its ready line read): they add
    /// up to `t_ready` start by start.
    fn inner_phases(&mut self, t0_ns: u64, ready_read_ns: u64) -> Vec<(Metric, u64)> {
        crate::targets::container_phases(self.stamps_ns, t0_ns, ready_read_ns)
    }

    fn write_stdin(&mut self, bytes: &[u8], timeout: Duration) -> TargetResult<()> {
        self.container
            .as_mut()
            .expect("live until teardown")
            .write_stdin(bytes, timeout)
            .map_err(cerr)
    }

    fn close_stdin(&mut self) -> TargetResult<()> {
        self.container
            .as_mut()
            .expect("live until teardown")
            .close_stdin();
        Ok(())
    }

    fn teardown(mut self: Box<Self>, timeout: Duration) -> TargetResult<()> {
        let c = self.container.take().expect("live until teardown");
        let code = c.wait_and_remove(timeout).map_err(cerr)?;
        if code != 0 {
            return Err(TargetError::Exited {
                what: "container",
                code,
            });
        }
        Ok(())
    }

    fn diagnostics(&mut self) -> String {
        self.container
            .as_ref()
            .map(|c| c.stderr())
            .unwrap_or_default()
    }

    fn memory_scope(&mut self, timeout: Duration) -> MemoryScope {
        let c = self.container.as_ref().expect("live until teardown");
        match c.pid(timeout) {
            Ok(Some(pid)) => MemoryScope::Container {
                pid,
                id: c.id().to_string(),
            },
            Ok(None) => MemoryScope::Unknown(format!("container {} is not running", c.id())),
            Err(e) => MemoryScope::Unknown(e.to_string()),
        }
    }
}
