//! One container: its start by phase (create, attach, start), its teardown
//! and the removal on drop that leaves nothing behind.

use super::*;

#[derive(Clone)]
pub(super) struct HostHandle {
    pub(crate) rt: Arc<tokio::runtime::Runtime>,
    pub(crate) docker: Docker,
}

/// A started container, removed (force) when dropped if not removed before.
pub struct Container {
    pub(crate) id: String,
    pub(crate) host: HostHandle,
    pub(crate) io: Stdio,
    pub(crate) removed: bool,
    pub(crate) stamps: StartStamps,
}

/// When each engine call of [`DockerHost::start`] returned (`Instant`s,
/// `CLOCK_MONOTONIC` on Linux): the phases of a container start are the
/// gaps between them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StartStamps {
    /// `create_container` returned: the engine made the container (image
    /// layers mounted, config written); nothing runs yet.
    pub created: Instant,
    /// `attach_container` returned: the engine streams its stdio.
    pub attached: Instant,
    /// `start_container` returned: the engine and its OCI runtime (runc,
    /// runsc, a shim) report the container's process running (namespaces,
    /// cgroups and network set up, the entry point exec'd).
    pub started: Instant,
}

impl Container {
    /// When each engine call of its start returned.
    pub fn stamps(&self) -> StartStamps {
        self.stamps
    }

    /// Container id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Takes the receiver of stdout chunks (closed when the container's output ends).
    pub fn take_stdout(&mut self) -> Option<mpsc::Receiver<Vec<u8>>> {
        self.io.stdout.take()
    }

    /// What the container wrote to stderr so far (at most 64 KiB).
    pub fn stderr(&self) -> String {
        self.io.stderr_text()
    }

    /// Writes bytes to the container's stdin, waiting at most `timeout`.
    ///
    /// Errors: [`ContainerError::Io`] if stdin is closed or the write fails, or a timeout.
    pub fn write_stdin(&mut self, bytes: &[u8], timeout: Duration) -> Result<(), ContainerError> {
        let what = format!("stdin of container {}", short(&self.id));
        self.io.write(&self.host.rt, bytes, timeout, what)
    }

    /// Closes the container's stdin (the workload then sees end of file).
    pub fn close_stdin(&mut self) {
        self.io.close(&self.host.rt);
    }

    /// Waits until the container's process exits (at most `timeout`, then it is
    /// killed), then removes the container. Returns the exit status code.
    ///
    /// Errors: engine errors of the removal, or a timeout of the wait (the
    /// container is still force-removed).
    pub fn wait_and_remove(mut self, timeout: Duration) -> Result<i64, ContainerError> {
        self.close_stdin();
        let docker = self.host.docker.clone();
        let id = self.id.clone();
        let waited = self.host.rt.block_on(async {
            tokio::time::timeout(timeout, async {
                let mut s = docker.wait_container(
                    &id,
                    Some(
                        WaitContainerOptionsBuilder::default()
                            .condition("not-running")
                            .build(),
                    ),
                );
                match s.next().await {
                    Some(Ok(r)) => Ok(r.status_code),
                    // bollard reports a non-zero exit as an error carrying the code.
                    Some(Err(bollard::errors::Error::DockerContainerWaitError {
                        code, ..
                    })) => Ok(code),
                    Some(Err(e)) => Err(e),
                    None => Ok(0),
                }
            })
            .await
        });
        let status = match waited {
            Ok(r) => r.map_err(engine_err("wait_container")),
            Err(_) => Err(ContainerError::Timeout {
                call: format!("wait for container {} to exit", short(&self.id)),
                timeout_ms: timeout.as_millis() as u64,
            }),
        };
        let removed = self.remove(timeout);
        let code = status?;
        removed?;
        Ok(code)
    }

    pub(super) fn call<T>(
        &self,
        call: &str,
        timeout: Duration,
        fut: impl Future<Output = Result<T, bollard::errors::Error>>,
    ) -> Result<T, ContainerError> {
        let what = format!("{call} {}", short(&self.id));
        bounded(&self.host.rt, call, &what, timeout, fut)
    }

    /// The host pid of the container's first process (`State.Pid` of
    /// `docker inspect`); `None` if it is not running.
    ///
    /// Errors: engine/timeout errors.
    pub fn pid(&self, timeout: Duration) -> Result<Option<u32>, ContainerError> {
        let info = self.call(
            "inspect_container",
            timeout,
            self.host.docker.inspect_container(&self.id, None),
        )?;
        Ok(info
            .state
            .and_then(|s| s.pid)
            .filter(|p| *p > 0)
            .map(|p| p as u32))
    }

    /// Force-removes the container now (kills it if running).
    ///
    /// Errors: engine/timeout errors.
    pub fn remove(&mut self, timeout: Duration) -> Result<(), ContainerError> {
        if self.removed {
            return Ok(());
        }
        let opts = RemoveContainerOptionsBuilder::default().force(true).build();
        let docker = self.host.docker.clone();
        let id = self.id.clone();
        let r = self
            .host
            .rt
            .block_on(async {
                tokio::time::timeout(timeout, docker.remove_container(&id, Some(opts))).await
            })
            .map_err(|_| ContainerError::Timeout {
                call: format!("remove container {}", short(&id)),
                timeout_ms: timeout.as_millis() as u64,
            })?;
        match r {
            Ok(()) => {
                self.removed = true;
                Ok(())
            }
            // Already gone.
            Err(bollard::errors::Error::DockerResponseServerError {
                status_code: 404, ..
            }) => {
                self.removed = true;
                Ok(())
            }
            Err(e) => Err(engine_err("remove_container")(e)),
        }
    }
}

impl Drop for Container {
    fn drop(&mut self) {
        if !self.removed {
            let _ = self.remove(Duration::from_secs(10));
        }
    }
}
