//! A process started in a running containerd container (`tasks.exec`, then
//! `tasks.start` with its exec id): the containerd analogue of `docker
//! exec`, with FIFOs of its own for stdio.

use super::*;
use containerd_client::services::v1::{DeleteProcessRequest, ExecProcessRequest};

/// One process exec'd into a running [`Task`]; killed and deleted on drop
/// if not waited for.
pub struct TaskExec {
    container_id: String,
    exec_id: String,
    inner: Arc<Inner>,
    stdin: Option<File>,
    stdout: Option<File>,
    dir: PathBuf,
    pid: u32,
    stamps: crate::ExecStamps,
    deleted: bool,
    stderr: Arc<std::sync::Mutex<Vec<u8>>>,
}

impl Task {
    /// Starts `args` (a path inside the container's root filesystem, then
    /// its arguments) as a new process in this running container, with the
    /// container's own user, capabilities, environment and working
    /// directory: `tasks.exec` (the shim registers the process and opens its
    /// FIFOs), then `tasks.start` with its exec id (the OCI runtime joins the
    /// container's namespaces and cgroup and execs it). Stamps when each
    /// returned.
    ///
    /// # Errors
    /// A FIFO cannot be made, or a call fails or times out (named); what
    /// was made is removed first.
    pub fn exec(&self, args: Vec<String>, timeout: Duration) -> Result<TaskExec> {
        let n = self
            .execs
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let exec_id = format!("exec-{n}");
        let dir = self.dir.join(&exec_id);
        let io = Fifos::make(&dir)?;
        let mut process = self.process.clone();
        process["args"] = serde_json::json!(args);
        let mut exec = TaskExec {
            container_id: self.id.clone(),
            exec_id: exec_id.clone(),
            inner: self.inner.clone(),
            stdin: Some(io.stdin),
            stdout: Some(io.stdout),
            dir,
            pid: 0,
            stamps: crate::ExecStamps {
                created: Instant::now(),
                started: Instant::now(),
            },
            deleted: true,
            stderr: Arc::new(std::sync::Mutex::new(Vec::new())),
        };
        self.inner.call(
            "tasks.exec",
            timeout,
            self.inner.tasks().exec(with_namespace!(
                ExecProcessRequest {
                    container_id: self.id.clone(),
                    exec_id: exec_id.clone(),
                    stdin: io.stdin_path.display().to_string(),
                    stdout: io.stdout_path.display().to_string(),
                    stderr: io.stderr_path.display().to_string(),
                    terminal: false,
                    spec: Some(prost_types::Any {
                        type_url: "types.containerd.io/opencontainers/runtime-spec/1/Process"
                            .into(),
                        value: process.to_string().into_bytes(),
                    }),
                },
                NAMESPACE
            )),
        )?;
        exec.deleted = false;
        exec.stamps.created = Instant::now();
        if let Some(out) = &exec.stdout {
            set_blocking(out)?;
        }
        exec.pid = self.inner.start_process(&self.id, &exec_id, timeout)?;
        exec.stamps.started = Instant::now();
        // Drained only now: an exec's FIFOs are opened by the shim at
        // tasks.start, not at tasks.exec, and a read before a writer exists
        // is end of file — the drain would close our end, and the shim's
        // open of its write end would then wait for a reader for ever
        // (tasks.start never returned).
        drain_stderr(io.stderr, exec.stderr.clone(), &exec.exec_id)?;
        Ok(exec)
    }
}

impl TaskExec {
    /// When `tasks.exec` and `tasks.start` returned.
    pub fn stamps(&self) -> crate::ExecStamps {
        self.stamps
    }

    /// The exec'd process's pid (host pid namespace).
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// Its stdout FIFO (blocking), once.
    pub fn take_stdout(&mut self) -> Option<File> {
        self.stdout.take()
    }

    /// What it wrote on stderr so far (the first 64 KiB).
    pub fn stderr_text(&self) -> String {
        String::from_utf8_lossy(&self.stderr.lock().unwrap_or_else(|p| p.into_inner())).into_owned()
    }

    /// Writes `bytes` to its stdin FIFO.
    ///
    /// # Errors
    /// Stdin was closed, or the write failed.
    pub fn write_stdin(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        write_fifo(self.stdin.as_mut(), bytes)
    }

    /// Closes its stdin: our end of the FIFO, and the shim told
    /// (`tasks.close_io` with the exec id), so the process reads end of file.
    ///
    /// # Errors
    /// The call fails or times out.
    pub fn close_stdin(&mut self, timeout: Duration) -> Result<()> {
        if self.stdin.take().is_none() {
            return Ok(());
        }
        self.inner
            .call(
                "tasks.close_io",
                timeout,
                self.inner.tasks().close_io(with_namespace!(
                    CloseIoRequest {
                        container_id: self.container_id.clone(),
                        exec_id: self.exec_id.clone(),
                        stdin: true,
                    },
                    NAMESPACE
                )),
            )
            .map(|_| ())
    }

    /// Closes stdin, waits (bounded) for the process to exit and deletes it
    /// (`tasks.delete_process`); returns its exit status.
    ///
    /// # Errors
    /// A call fails or does not finish within `timeout`: the process is
    /// then killed and deleted on drop.
    pub fn wait_and_delete(mut self, timeout: Duration) -> Result<u32> {
        self.close_stdin(timeout)?;
        let status = self
            .inner
            .call(
                "tasks.wait",
                timeout,
                self.inner.tasks().wait(with_namespace!(
                    WaitRequest {
                        container_id: self.container_id.clone(),
                        exec_id: self.exec_id.clone(),
                    },
                    NAMESPACE
                )),
            )?
            .into_inner()
            .exit_status;
        self.delete(timeout)?;
        Ok(status)
    }

    fn delete(&mut self, timeout: Duration) -> Result<()> {
        self.inner.call(
            "tasks.delete_process",
            timeout,
            self.inner.tasks().delete_process(with_namespace!(
                DeleteProcessRequest {
                    container_id: self.container_id.clone(),
                    exec_id: self.exec_id.clone(),
                },
                NAMESPACE
            )),
        )?;
        self.deleted = true;
        Ok(())
    }
}

impl Drop for TaskExec {
    fn drop(&mut self) {
        self.stdin = None;
        self.stdout = None;
        if !self.deleted {
            let t = Duration::from_secs(10);
            self.inner
                .kill_and_wait(&self.container_id, &self.exec_id, t);
            let _ = self.delete(t);
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
