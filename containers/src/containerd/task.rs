//! One containerd task: its start by phase, its stdio through FIFOs, its
//! teardown (kill, wait for the exit, delete) and the removal on drop.

use super::*;

/// Makes a FIFO at `p` with permission bits `mode` (less the umask).
pub(super) fn mkfifo(p: &Path, mode: u32) -> Result<()> {
    use rustix::fs::{CWD, FileType, Mode, mknodat};
    mknodat(CWD, p, FileType::Fifo, Mode::from_raw_mode(mode), 0).map_err(|e| ContainerdError::Io {
        what: "cannot make FIFO",
        path: p.display().to_string(),
        source: e.into(),
    })
}

/// Clears `O_NONBLOCK` on `f`.
pub(super) fn set_blocking(f: &File) -> Result<()> {
    use rustix::fs::{OFlags, fcntl_getfl, fcntl_setfl};
    fcntl_getfl(f)
        .and_then(|flags| fcntl_setfl(f, flags - OFlags::NONBLOCK))
        .map_err(|e| ContainerdError::Io {
            what: "cannot make the stdout FIFO blocking",
            path: String::new(),
            source: e.into(),
        })
}

/// A container's (or an exec's) stdio FIFOs in their own directory, made
/// and opened before the shim opens its ends, so neither side blocks:
/// stdout and stderr read-only (the shim writes), stdin read-write (the
/// shim reads; closing ours is its end of file).
pub(super) struct Fifos {
    pub(super) stdin_path: PathBuf,
    pub(super) stdout_path: PathBuf,
    pub(super) stderr_path: PathBuf,
    pub(super) stdin: File,
    pub(super) stdout: File,
    pub(super) stderr: File,
}

impl Fifos {
    /// Makes `dir` (mode 0700) and the three FIFOs in it, and opens them
    /// (non-blocking; stdout and stderr are made blocking once the shim
    /// holds their write ends). The stdin FIFO is readable by others too: a
    /// hardened guest (user 65534) reopens its stdin read-only through
    /// /proc/self/fd/0 (coldbench's Wasm shim, for end of input), which
    /// checks the FIFO's own mode but no directory's.
    pub(super) fn make(dir: &Path) -> Result<Fifos> {
        std::fs::create_dir_all(dir).map_err(|source| ContainerdError::Io {
            what: "cannot create the FIFO directory",
            path: dir.display().to_string(),
            source,
        })?;
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).map_err(
                |source| ContainerdError::Io {
                    what: "cannot restrict the FIFO directory",
                    path: dir.display().to_string(),
                    source,
                },
            )?;
        }
        let (stdin_path, stdout_path, stderr_path) =
            (dir.join("stdin"), dir.join("stdout"), dir.join("stderr"));
        mkfifo(&stdin_path, 0o604)?;
        mkfifo(&stdout_path, 0o600)?;
        mkfifo(&stderr_path, 0o600)?;
        let open = |p: &Path, write: bool| {
            std::fs::OpenOptions::new()
                .read(true)
                .write(write)
                .custom_flags(rustix::fs::OFlags::NONBLOCK.bits() as i32)
                .open(p)
                .map_err(|source| ContainerdError::Io {
                    what: "cannot open FIFO",
                    path: p.display().to_string(),
                    source,
                })
        };
        Ok(Fifos {
            stdout: open(&stdout_path, false)?,
            stderr: open(&stderr_path, false)?,
            stdin: open(&stdin_path, true)?,
            stdin_path,
            stdout_path,
            stderr_path,
        })
    }
}

/// Drains `stderr` (made blocking) on a thread of its own into `kept`, at
/// most 64 KiB kept, so a chatty guest never blocks on it; `what` names
/// the container or exec in an error.
pub(super) fn drain_stderr(
    stderr: File,
    kept: Arc<std::sync::Mutex<Vec<u8>>>,
    what: &str,
) -> Result<()> {
    set_blocking(&stderr)?;
    std::thread::Builder::new()
        .name("containerd-stderr".into())
        .spawn(move || {
            let mut stderr = stderr;
            let mut buf = [0u8; 8192];
            while let Ok(n) = std::io::Read::read(&mut stderr, &mut buf) {
                if n == 0 {
                    break;
                }
                let mut k = kept.lock().unwrap_or_else(|p| p.into_inner());
                if k.len() < 64 * 1024 {
                    k.extend_from_slice(&buf[..n]);
                }
            }
        })
        .map(|_| ())
        .map_err(|source| ContainerdError::Io {
            what: "cannot spawn the stderr reader of",
            path: what.to_string(),
            source,
        })
}

/// Writes all of `bytes` to a non-blocking stdin FIFO (`None`: closed),
/// waiting out a full pipe.
pub(super) fn write_fifo(f: Option<&mut File>, bytes: &[u8]) -> std::io::Result<()> {
    let Some(f) = f else {
        return Err(std::io::Error::new(
            std::io::ErrorKind::BrokenPipe,
            "stdin already closed",
        ));
    };
    let mut rest = bytes;
    while !rest.is_empty() {
        match f.write(rest) {
            Ok(n) => rest = &rest[n..],
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                std::thread::sleep(Duration::from_micros(200));
            }
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// One started container; killed and removed on drop if not torn down.
pub struct Task {
    pub(super) id: String,
    pub(super) inner: Arc<Inner>,
    pub(super) stdin: Option<File>,
    pub(super) stdout: Option<File>,
    pub(super) dir: PathBuf,
    /// The OCI spec's `process` it runs: what [`Task::exec`] runs with
    /// other arguments.
    pub(super) process: serde_json::Value,
    /// Execs started so far (their ids).
    pub(super) execs: std::sync::atomic::AtomicU64,
    pub(super) pid: u32,
    pub(super) stamps: Option<StartStamps>,
    pub(super) removed: bool,
    /// What it wrote on stderr (the first 64 KiB).
    pub(super) stderr: Arc<std::sync::Mutex<Vec<u8>>>,
    /// The shim cannot be told that stdin ended (no CloseIO).
    pub(super) no_end_of_input: bool,
    /// The shim has no CloseIO, but its guest sees end of input once our end
    /// of the FIFO is closed: coldbench's runwasi shim, which gives the guest
    /// a read-only stdin (`harness/shims/wamr`). Consulted only when CloseIO
    /// answers "not supported" (runc's shim implements it).
    pub(super) eof_on_close: bool,
}

impl Task {
    /// What it wrote on stderr so far (the first 64 KiB), for error messages.
    pub fn stderr_text(&self) -> String {
        String::from_utf8_lossy(&self.stderr.lock().unwrap_or_else(|p| p.into_inner())).into_owned()
    }

    /// The container id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The pid of its first process as containerd reports it (for the Wasm
    /// shim: the container's init process running the engine).
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// When each call of its start returned.
    pub fn stamps(&self) -> Option<StartStamps> {
        self.stamps
    }

    /// Its stdout FIFO (blocking), once.
    pub fn take_stdout(&mut self) -> Option<File> {
        self.stdout.take()
    }

    /// Writes `bytes` to its stdin FIFO.
    ///
    /// # Errors
    /// Stdin was closed, or the write failed.
    pub fn write_stdin(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        write_fifo(self.stdin.as_mut(), bytes)
    }

    /// Closes its stdin: end of input for the guest. Our end of the FIFO is
    /// closed and the shim is told (`tasks.close_io`), as containerd's own
    /// clients do: a shim may hold the FIFO open itself. runwasi's shims
    /// answer CloseIO with "not supported" and hand the guest the FIFO
    /// read-write (so it is a writer of its own input, and never reads end
    /// of file); coldbench's shim gives the guest a read-only stdin, so the
    /// end of ours is the end of input there.
    pub fn close_stdin(&mut self, timeout: Duration) -> Result<()> {
        if self.stdin.take().is_none() {
            return Ok(());
        }
        match self.inner.call(
            "tasks.close_io",
            timeout,
            self.inner.tasks().close_io(with_namespace!(
                CloseIoRequest {
                    container_id: self.id.clone(),
                    stdin: true,
                    ..Default::default()
                },
                NAMESPACE
            )),
        ) {
            Ok(_) => Ok(()),
            // runwasi's shims implement no CloseIO. Under coldbench's own,
            // closing our end is the end of input (its guest holds stdin
            // read-only); under another, the guest never sees it, and
            // teardown has to stop the task instead.
            Err(ContainerdError::Call { message, .. }) if message.contains("not supported") => {
                self.no_end_of_input = !self.eof_on_close;
                Ok(())
            }
            Err(e) => Err(e),
        }
    }

    /// Whether the shim could not be told that stdin ended (no CloseIO), so
    /// that [`Task::wait_and_remove`] stops the task with SIGKILL.
    pub fn no_end_of_input(&self) -> bool {
        self.no_end_of_input
    }

    /// Closes stdin, waits (bounded) for the task to exit, deletes it and
    /// the container; returns the exit status and whether the task had to
    /// be killed: where the shim cannot pass the end of input on
    /// ([`Task::no_end_of_input`]) a task still running is killed (SIGKILL)
    /// first, and its status is that of the kill.
    ///
    /// # Errors
    /// A call fails or does not finish within `timeout`.
    pub fn wait_and_remove(mut self, timeout: Duration) -> Result<(u32, bool)> {
        self.close_stdin(timeout)?;
        if self.no_end_of_input {
            // A guest that ran to its end (one request) may have exited
            // already, or exit while the kill is delivered: runwasi then
            // answers "failed precondition" or "/proc/<pid>/stat: not found".
            // Either way the wait below tells (bounded), so a failed kill is
            // not an error by itself.
            if let Err(ContainerdError::Call { message, .. }) = self.inner.call(
                "tasks.kill",
                timeout,
                self.inner.tasks().kill(with_namespace!(
                    KillRequest {
                        container_id: self.id.clone(),
                        signal: 9,
                        all: true,
                        ..Default::default()
                    },
                    NAMESPACE
                )),
            ) && (message.contains("failed precondition") || message.contains("not found"))
            {
                self.no_end_of_input = false;
            }
        }
        let waited = self.inner.call(
            "tasks.wait",
            timeout,
            self.inner.tasks().wait(with_namespace!(
                WaitRequest {
                    container_id: self.id.clone(),
                    ..Default::default()
                },
                NAMESPACE
            )),
        );
        let status = match waited {
            Ok(r) => r.into_inner().exit_status,
            Err(e) => {
                let _ = self.inner.remove(&self.id, timeout);
                self.removed = true;
                return Err(e);
            }
        };
        self.inner.call(
            "tasks.delete",
            timeout,
            self.inner.tasks().delete(with_namespace!(
                DeleteTaskRequest {
                    container_id: self.id.clone(),
                },
                NAMESPACE
            )),
        )?;
        self.inner.call(
            "containers.delete",
            timeout,
            self.inner.containers().delete(with_namespace!(
                DeleteContainerRequest {
                    id: self.id.clone()
                },
                NAMESPACE
            )),
        )?;
        self.removed = true;
        Ok((status, self.no_end_of_input))
    }
}

impl Drop for Task {
    fn drop(&mut self) {
        self.stdin = None;
        self.stdout = None;
        if !self.removed {
            let _ = self.inner.remove(&self.id, Duration::from_secs(10));
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
