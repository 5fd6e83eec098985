//! containerd driven directly through its gRPC API (crates.io
//! `containerd-client`): a container per start, made from an OCI runtime
//! spec whose root is a prepared host directory, run by a named runtime —
//! runc's shim ([`RUNC_RUNTIME`]) or a Wasm shim built on runwasi
//! ([`WAMR_SHIM_RUNTIME`]). No Docker in between, so the two differ by the
//! shim alone.
//!
//! Everything lives in the containerd namespace [`NAMESPACE`]; each
//! container carries the same labels as coldbench's Docker containers
//! ([`crate::LABEL_KEY`], [`crate::RUN_LABEL_KEY`],
//! [`crate::OWNER_LABEL_KEY`]), so a later coldbench removes what a killed
//! one left.

use crate::{Hardening, LABEL_KEY, OWNER_LABEL_KEY, RUN_LABEL_KEY, StartStamps};
use containerd_client::services::v1::container::Runtime as ContainerRuntime;
use containerd_client::services::v1::{
    CloseIoRequest, Container as ContainerRecord, CreateContainerRequest, CreateTaskRequest,
    DeleteContainerRequest, DeleteTaskRequest, KillRequest, ListContainersRequest, StartRequest,
    WaitRequest, containers_client::ContainersClient, tasks_client::TasksClient,
    version_client::VersionClient,
};
use containerd_client::tonic::Request;
use containerd_client::tonic::transport::Channel;
use containerd_client::with_namespace;
use std::collections::HashMap;
use std::fs::File;
use std::future::Future;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};
mod task;
pub use task::*;
mod exec;
pub use exec::*;
mod spec;
pub use spec::*;

/// The containerd namespace of everything coldbench creates through containerd.
pub const NAMESPACE: &str = "coldbench";

/// The socket of the containerd that Docker Engine 20.10 runs (its own, in
/// `/var/run/docker/containerd`); a standalone containerd listens on
/// [`STANDALONE_SOCKET`].
pub const DOCKER_CONTAINERD_SOCKET: &str = "/var/run/docker/containerd/containerd.sock";

/// The socket of a standalone containerd.
pub const STANDALONE_SOCKET: &str = "/run/containerd/containerd.sock";

/// runc's containerd shim (`containerd-shim-runc-v2`).
pub const RUNC_RUNTIME: &str = "io.containerd.runc.v2";

/// coldbench's runwasi shim with WAMR inside (`harness/shims/wamr`), which
/// containerd runs as `containerd-shim-coldbench-wamr-v1` from its `PATH`
/// when it is installed there (`scripts/install-containerd-shim.sh`); the
/// harness names the one `harness/build.rs` built by its path instead.
pub const WAMR_SHIM_RUNTIME: &str = "io.containerd.coldbench-wamr.v1";

/// The shim binary of [`WAMR_SHIM_RUNTIME`].
pub const WAMR_SHIM_BINARY: &str = "containerd-shim-coldbench-wamr-v1";

/// Errors of the containerd family, each naming the call or thing concerned.
#[derive(Debug, thiserror::Error)]
pub enum ContainerdError {
    /// containerd did not answer on its socket.
    #[error(
        "containerd at {socket} does not answer ({detail}); it runs with Docker (scripts/start-docker.sh) or on its own"
    )]
    Unreachable {
        /// The socket path.
        socket: String,
        /// What failed.
        detail: String,
    },
    /// A call did not finish within its bound.
    #[error("containerd call `{call}` did not finish within {timeout_ms} ms")]
    Timeout {
        /// Which call.
        call: String,
        /// The bound, ms.
        timeout_ms: u64,
    },
    /// containerd answered with an error.
    #[error("containerd call `{call}` failed: {message}")]
    Call {
        /// Which call.
        call: String,
        /// containerd's message.
        message: String,
    },
    /// A local file (FIFO, root filesystem) could not be made or opened.
    #[error("{what} {path}: {source}")]
    Io {
        /// What was being done.
        what: &'static str,
        /// The path.
        path: String,
        /// The error.
        source: std::io::Error,
    },
}

/// Shorthand.
pub type Result<T> = std::result::Result<T, ContainerdError>;

struct Inner {
    rt: tokio::runtime::Runtime,
    channel: Channel,
}

impl Inner {
    fn call<T>(
        &self,
        call: &str,
        timeout: Duration,
        f: impl Future<Output = std::result::Result<T, containerd_client::tonic::Status>>,
    ) -> Result<T> {
        match self
            .rt
            .block_on(async { tokio::time::timeout(timeout, f).await })
        {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(s)) => Err(ContainerdError::Call {
                call: call.to_string(),
                message: s.message().to_string(),
            }),
            Err(_) => Err(ContainerdError::Timeout {
                call: call.to_string(),
                timeout_ms: timeout.as_millis() as u64,
            }),
        }
    }

    fn containers(&self) -> ContainersClient<Channel> {
        ContainersClient::new(self.channel.clone())
    }

    fn tasks(&self) -> TasksClient<Channel> {
        TasksClient::new(self.channel.clone())
    }

    /// `tasks.start` of the container `id`'s first process (`exec_id`
    /// empty) or of one of its execs; the pid the shim reports (0 if it
    /// has none yet).
    fn start_process(&self, id: &str, exec_id: &str, timeout: Duration) -> Result<u32> {
        self.call(
            "tasks.start",
            timeout,
            self.tasks().start(with_namespace!(
                StartRequest {
                    container_id: id.to_string(),
                    exec_id: exec_id.to_string(),
                },
                NAMESPACE
            )),
        )
        .map(|r| r.into_inner().pid)
    }

    /// Sends SIGKILL to every process of the container `id` (`exec_id`
    /// empty) or to one exec, and waits for its exit; errors of calls on
    /// what is already gone are ignored.
    fn kill_and_wait(&self, id: &str, exec_id: &str, timeout: Duration) {
        let _ = self.call(
            "tasks.kill",
            timeout,
            self.tasks().kill(with_namespace!(
                KillRequest {
                    container_id: id.to_string(),
                    exec_id: exec_id.to_string(),
                    signal: 9,
                    all: exec_id.is_empty(),
                },
                NAMESPACE
            )),
        );
        let _ = self.call(
            "tasks.wait",
            timeout,
            self.tasks().wait(with_namespace!(
                WaitRequest {
                    container_id: id.to_string(),
                    exec_id: exec_id.to_string(),
                },
                NAMESPACE
            )),
        );
    }

    /// Kills (SIGKILL) and deletes the task of `id` if there is one, then
    /// deletes the container record; errors of calls on what is already
    /// gone are ignored.
    fn remove(&self, id: &str, timeout: Duration) -> Result<()> {
        self.kill_and_wait(id, "", timeout);
        let _ = self.call(
            "tasks.delete",
            timeout,
            self.tasks().delete(with_namespace!(
                DeleteTaskRequest {
                    container_id: id.to_string(),
                },
                NAMESPACE
            )),
        );
        match self.call(
            "containers.delete",
            timeout,
            self.containers().delete(with_namespace!(
                DeleteContainerRequest { id: id.to_string() },
                NAMESPACE
            )),
        ) {
            Ok(_) => Ok(()),
            Err(ContainerdError::Call { message, .. }) if message.contains("not found") => Ok(()),
            Err(e) => Err(e),
        }
    }
}

/// A connection to containerd.
pub struct ContainerdHost {
    inner: Arc<Inner>,
    socket: PathBuf,
    run_id: String,
    owner: String,
    version: String,
    /// Where the FIFOs of this host's containers go.
    fifo_root: PathBuf,
    /// The start of this host's container ids (`coldbench-<run>-<host>`).
    prefix: String,
    next: std::sync::atomic::AtomicU64,
}

/// What a container start needs.
#[derive(Debug, Clone)]
pub struct TaskSpec<'a> {
    /// The runtime (shim) name, e.g. [`RUNC_RUNTIME`], or the absolute path
    /// of a shim binary (containerd 1.6 and later run it as it is).
    pub runtime: &'a str,
    /// The root filesystem: a host directory holding the program, mounted
    /// read-only at `/`, with `proc/` and `dev/` mount points in it.
    pub rootfs: &'a Path,
    /// `process.args`: the program's path inside `rootfs`, then its arguments.
    pub args: Vec<String>,
    /// Confinement: user, capabilities, `no-new-privileges`, memory and task
    /// limits (the root filesystem is read-only always).
    pub hardening: &'a Hardening,
    /// A host directory (absolute) bind-mounted read-only at
    /// [`crate::WORKLOAD_DIR_MOUNT`] (`rootfs` must hold that mount point)
    /// and made the process's working directory; `None`: `cwd` is `/`.
    pub workload_dir: Option<&'a Path>,
    /// The shim implements no CloseIO but its guest sees end of input once
    /// our end of the stdin FIFO closes: coldbench's own Wasm shim
    /// ([`WAMR_SHIM_RUNTIME`], which gives the guest a read-only stdin).
    /// `false` for runc's shim, which implements CloseIO.
    pub eof_on_close: bool,
}

impl ContainerdHost {
    /// Connects to the containerd at `socket` and asks its version; `run_id`
    /// and `owner` label every container it creates.
    ///
    /// # Errors
    /// [`ContainerdError::Unreachable`] naming the socket.
    pub fn connect(socket: &Path, run_id: &str, owner: &str, timeout: Duration) -> Result<Self> {
        let unreachable = |detail: String| ContainerdError::Unreachable {
            socket: socket.display().to_string(),
            detail,
        };
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .map_err(|e| unreachable(format!("cannot start a runtime: {e}")))?;
        let channel = rt
            .block_on(async {
                tokio::time::timeout(timeout, containerd_client::connect(socket)).await
            })
            .map_err(|_| unreachable("connect timed out".into()))?
            .map_err(|e| unreachable(e.to_string()))?;
        let inner = Inner { rt, channel };
        let version = inner
            .call(
                "version",
                timeout,
                VersionClient::new(inner.channel.clone()).version(()),
            )
            .map_err(|e| unreachable(e.to_string()))?
            .into_inner()
            .version;
        // Several hosts (one per target) may serve one run: each names its
        // own containers and FIFOs, and removes only those.
        static HOSTS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let prefix = format!(
            "coldbench-{run_id}-{}",
            HOSTS.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        );
        let fifo_root = std::env::temp_dir().join(&prefix);
        Ok(ContainerdHost {
            inner: Arc::new(inner),
            socket: socket.to_path_buf(),
            run_id: run_id.to_string(),
            owner: owner.to_string(),
            version,
            fifo_root,
            prefix,
            next: std::sync::atomic::AtomicU64::new(0),
        })
    }

    /// Whether containerd answers a version call within `timeout` (after a
    /// restart the connection is made again on this call).
    pub fn ping(&self, timeout: Duration) -> bool {
        self.inner
            .call(
                "version",
                timeout,
                VersionClient::new(self.inner.channel.clone()).version(()),
            )
            .is_ok()
    }

    /// containerd's version (`1.6.20~ds1`).
    pub fn version(&self) -> &str {
        &self.version
    }

    /// The socket it is connected to.
    pub fn socket(&self) -> &Path {
        &self.socket
    }

    /// Creates and starts one container: `containers.create` (the record,
    /// with the spec), `tasks.create` (containerd spawns the shim, which
    /// creates the container through its OCI runtime or Wasm engine; stdio
    /// are FIFOs), then `tasks.start`. Stamps when each returned.
    ///
    /// # Errors
    /// A FIFO cannot be made, or a call fails or times out (named); what
    /// was created is removed first.
    pub fn start(&self, spec: &TaskSpec<'_>, timeout: Duration) -> Result<Task> {
        let n = self.next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let id = format!("{}-{n}", self.prefix);
        let dir = self.fifo_root.join(&id);
        let io = Fifos::make(&dir)?;
        let oci = oci_spec(spec, &id);
        let process = oci["process"].clone();
        let mut task = Task {
            id: id.clone(),
            inner: self.inner.clone(),
            stdin: Some(io.stdin),
            stdout: Some(io.stdout),
            dir,
            process,
            execs: std::sync::atomic::AtomicU64::new(0),
            pid: 0,
            stamps: None,
            removed: false,
            stderr: Arc::new(std::sync::Mutex::new(Vec::new())),
            no_end_of_input: false,
            eof_on_close: spec.eof_on_close,
        };
        let labels = HashMap::from([
            (LABEL_KEY.to_string(), "1".to_string()),
            (RUN_LABEL_KEY.to_string(), self.run_id.clone()),
            (OWNER_LABEL_KEY.to_string(), self.owner.clone()),
        ]);
        let record = ContainerRecord {
            id: id.clone(),
            labels,
            runtime: Some(ContainerRuntime {
                name: spec.runtime.to_string(),
                options: None,
            }),
            spec: Some(prost_types::Any {
                type_url: "types.containerd.io/opencontainers/runtime-spec/1/Spec".into(),
                value: oci.to_string().into_bytes(),
            }),
            ..Default::default()
        };
        self.inner.call(
            "containers.create",
            timeout,
            self.inner.containers().create(with_namespace!(
                CreateContainerRequest {
                    container: Some(record),
                },
                NAMESPACE
            )),
        )?;
        let created = self
            .inner
            .call(
                "tasks.create",
                timeout,
                self.inner.tasks().create(with_namespace!(
                    CreateTaskRequest {
                        container_id: id.clone(),
                        stdin: io.stdin_path.display().to_string(),
                        stdout: io.stdout_path.display().to_string(),
                        stderr: io.stderr_path.display().to_string(),
                        terminal: false,
                        ..Default::default()
                    },
                    NAMESPACE
                )),
            )?
            .into_inner();
        let created_at = Instant::now();
        task.pid = created.pid;
        // The shim holds the write end now: reads may block from here on.
        if let Some(out) = &task.stdout {
            set_blocking(out)?;
        }
        drain_stderr(io.stderr, task.stderr.clone(), &id)?;
        let attached_at = Instant::now();
        let started_pid = self.inner.start_process(&id, "", timeout)?;
        // runc's shim knows the init pid at create; runwasi's only at start.
        if started_pid != 0 {
            task.pid = started_pid;
        }
        task.stamps = Some(StartStamps {
            created: created_at,
            attached: attached_at,
            started: Instant::now(),
        });
        Ok(task)
    }

    /// Removes every container this host created that is still there (its
    /// run's label [`RUN_LABEL_KEY`]` = <run id>` and its own id prefix);
    /// returns how many.
    ///
    /// # Errors
    /// Listing or a removal fails.
    pub fn remove_run(&self, timeout: Duration) -> Result<usize> {
        let filter = format!("labels.\"{RUN_LABEL_KEY}\"=={}", self.run_id);
        let mine = format!("{}-", self.prefix);
        let ids: Vec<String> = self
            .list(&filter, timeout)?
            .into_iter()
            .map(|(id, _)| id)
            .filter(|id| id.starts_with(&mine))
            .collect();
        let n = ids.len();
        for id in ids {
            self.inner.remove(&id, timeout)?;
        }
        let _ = std::fs::remove_dir_all(&self.fifo_root);
        Ok(n)
    }

    /// Every coldbench container with its owner label value.
    ///
    /// # Errors
    /// Listing fails.
    pub fn owned_containers(&self, timeout: Duration) -> Result<Vec<(String, String)>> {
        self.list(&format!("labels.\"{LABEL_KEY}\""), timeout)
    }

    /// Removes the container `id` (and its task).
    ///
    /// # Errors
    /// A call fails.
    pub fn remove_by_id(&self, id: &str, timeout: Duration) -> Result<()> {
        self.inner.remove(id, timeout)
    }

    fn list(&self, filter: &str, timeout: Duration) -> Result<Vec<(String, String)>> {
        let list = self
            .inner
            .call(
                "containers.list",
                timeout,
                self.inner.containers().list(with_namespace!(
                    ListContainersRequest {
                        filters: vec![filter.to_string()],
                    },
                    NAMESPACE
                )),
            )?
            .into_inner();
        Ok(list
            .containers
            .into_iter()
            .map(|c| {
                let owner = c.labels.get(OWNER_LABEL_KEY).cloned().unwrap_or_default();
                (c.id, owner)
            })
            .collect())
    }
}
