//! A process started in a running container (`create_exec` → `start_exec`),
//! the container analogue of a new instance in a warm runtime.

use super::*;

/// When each engine call of [`DockerHost::exec`] returned (`Instant`s,
/// `CLOCK_MONOTONIC` on Linux).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExecStamps {
    /// `create_exec` returned: the engine registered the exec; nothing runs yet.
    pub created: Instant,
    /// `start_exec` returned attached: the engine took the connection over
    /// for the process's stdio and handed the start to the container's shim;
    /// the OCI runtime's exec (`runc exec`: join the container's namespaces
    /// and cgroup, exec the command) runs after this returns.
    pub started: Instant,
}

/// A process started by [`DockerHost::exec`] in a running container. The
/// engine offers no call to kill one exec: closing its stdin ends a
/// workload that reads it; one that hangs ends with its container.
pub struct Exec {
    pub(crate) id: String,
    pub(crate) container_id: String,
    pub(crate) host: HostHandle,
    pub(crate) io: Stdio,
    pub(crate) stamps: ExecStamps,
}

impl Exec {
    /// When each engine call of its start returned.
    pub fn stamps(&self) -> ExecStamps {
        self.stamps
    }

    /// Exec id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Takes the receiver of stdout chunks (closed when the process's output ends).
    pub fn take_stdout(&mut self) -> Option<mpsc::Receiver<Vec<u8>>> {
        self.io.stdout.take()
    }

    /// What the process wrote to stderr so far (at most 64 KiB).
    pub fn stderr(&self) -> String {
        self.io.stderr_text()
    }

    /// Writes bytes to the process's stdin, waiting at most `timeout`.
    ///
    /// Errors: [`ContainerError::Io`] if stdin is closed or the write fails, or a timeout.
    pub fn write_stdin(&mut self, bytes: &[u8], timeout: Duration) -> Result<(), ContainerError> {
        let what = format!(
            "stdin of exec {} in container {}",
            short(&self.id),
            short(&self.container_id)
        );
        self.io.write(&self.host.rt, bytes, timeout, what)
    }

    /// Closes the process's stdin (it then sees end of file).
    pub fn close_stdin(&mut self) {
        self.io.close(&self.host.rt);
    }

    pub(super) fn inspect(
        &self,
        timeout: Duration,
    ) -> Result<bollard::models::ExecInspectResponse, ContainerError> {
        bounded(
            &self.host.rt,
            "inspect_exec",
            &format!("inspect_exec {}", short(&self.id)),
            timeout,
            self.host.docker.inspect_exec(&self.id),
        )
    }

    /// The host pid of the process (`None` once it exited). The engine marks
    /// an exec running only when its runtime's exec call returned, which can
    /// be after the process has already answered: an exec neither running
    /// nor exited yet is polled (every millisecond, at most `timeout`).
    ///
    /// Errors: engine/timeout errors.
    pub fn pid(&self, timeout: Duration) -> Result<Option<u32>, ContainerError> {
        let until = Instant::now() + timeout;
        loop {
            let i = self.inspect(timeout)?;
            let pid = i.pid.filter(|p| *p > 0).map(|p| p as u32);
            match (i.running == Some(true), pid) {
                (true, Some(p)) => return Ok(Some(p)),
                // Not running with a pid: it ran and exited. (Docker 20.10
                // reports exit code 0, not null, for an exec not started
                // yet, and running before it has its pid.)
                (false, Some(_)) => return Ok(None),
                _ if Instant::now() >= until => return Ok(None),
                _ => {}
            }
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    /// Closes stdin and waits (at most `timeout`, polling the engine every
    /// millisecond) until the process exits; returns its exit code.
    ///
    /// Errors: engine errors; a process still running after `timeout`
    /// ([`ContainerError::Timeout`]: it ends with its container); an exit
    /// the engine reports without a code.
    pub fn wait(mut self, timeout: Duration) -> Result<i64, ContainerError> {
        self.close_stdin();
        let until = Instant::now() + timeout;
        loop {
            let i = self.inspect(timeout)?;
            if !i.running.unwrap_or(true) {
                return i.exit_code.ok_or_else(|| ContainerError::Io {
                    path: format!("exec {}", short(&self.id)),
                    source: std::io::Error::other("the engine reports no exit code"),
                });
            }
            if Instant::now() >= until {
                return Err(ContainerError::Timeout {
                    call: format!("wait for exec {} to exit", short(&self.id)),
                    timeout_ms: timeout.as_millis() as u64,
                });
            }
            std::thread::sleep(Duration::from_millis(1));
        }
    }
}
