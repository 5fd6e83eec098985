//! The Docker target of coldbench, through [bollard] against the real engine.
//!
//! - Images are built locally from an in-memory tar context (`FROM scratch` plus
//!   the workload's static binary); nothing is ever pulled.
//! - Every container and image carries the label [`LABEL_KEY`]` = "1"`, and
//!   every container also [`RUN_LABEL_KEY`]` = <run id>`, so that
//!   `docker ps -a --filter label=io.coldbench` shows what coldbench left
//!   behind (nothing, after any run) and [`DockerHost::remove_labelled`] can
//!   clean up after an interrupted one.
//! - The API is blocking: a [`DockerHost`] owns a small tokio runtime and every
//!   call waits at most the timeout it is given, so a hung engine never hangs
//!   the harness.

#![deny(missing_docs)]

pub mod containerd;

use bollard::Docker;
use bollard::container::LogOutput;
use bollard::models::{ContainerCreateBody, HostConfig, Mount, MountType};
use bollard::query_parameters::{
    AttachContainerOptionsBuilder, BuildImageOptionsBuilder, CreateContainerOptionsBuilder,
    ListContainersOptionsBuilder, RemoveContainerOptionsBuilder, StatsOptionsBuilder,
    WaitContainerOptionsBuilder,
};
use futures_util::StreamExt;
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncWrite, AsyncWriteExt};
mod image;
pub use image::*;
mod spec;
pub use spec::*;
mod exec;
pub use exec::*;
mod stdio;
use stdio::*;
mod container;
pub use container::*;

/// Label on every container and image coldbench creates (value `"1"`).
pub const LABEL_KEY: &str = "io.coldbench";
/// Label carrying the id of the run that created a container.
pub const RUN_LABEL_KEY: &str = "io.coldbench.run";
/// Label naming the harness process that created a container,
/// `<pid>:<start time in clock ticks since boot>` (a recycled pid has
/// another start time): a later coldbench removes the container once that
/// process is gone.
pub const OWNER_LABEL_KEY: &str = "io.coldbench.owner";

/// What to do when the engine cannot be reached (printed with the error).
pub const START_ENGINE_HINT: &str = "start the Docker engine (`sudo scripts/start-docker.sh`, \
which installs Debian's docker.io and runs dockerd) or point DOCKER_HOST at a running one";

/// Errors of the Docker target. Each names the object and, where useful, what to do.
#[derive(Debug, thiserror::Error)]
pub enum ContainerError {
    /// The engine did not answer.
    #[error("Docker engine unreachable ({detail}); {START_ENGINE_HINT}")]
    Unreachable {
        /// What failed.
        detail: String,
    },
    /// A call did not finish within its bound.
    #[error("Docker call `{call}` did not finish within {timeout_ms} ms")]
    Timeout {
        /// Which call.
        call: String,
        /// The bound, ms.
        timeout_ms: u64,
    },
    /// The engine answered with an error.
    #[error("Docker call `{call}` failed: {source}")]
    Engine {
        /// Which call.
        call: String,
        /// Engine error.
        source: bollard::errors::Error,
    },
    /// Building an image failed.
    #[error("building image {tag} failed: {message}")]
    Build {
        /// Image tag.
        tag: String,
        /// Build log excerpt.
        message: String,
    },
    /// The engine answered, but without what was asked for.
    #[error("{what}")]
    Unexpected {
        /// What was missing.
        what: String,
    },
    /// Reading the workload binary failed.
    #[error("cannot read {path}: {source}")]
    Io {
        /// File path.
        path: String,
        /// Underlying error.
        source: std::io::Error,
    },
}

/// Facts the engine reports about itself.
#[derive(Debug, Clone)]
pub struct EngineInfo {
    /// Engine version.
    pub engine_version: String,
    /// Negotiated API version.
    pub api_version: String,
    /// Default OCI runtime.
    pub default_runtime: String,
    /// Storage driver.
    pub storage_driver: String,
    /// Cgroup driver.
    pub cgroup_driver: String,
    /// Registered OCI runtimes.
    pub runtimes: Vec<String>,
}

/// A connection to a Docker engine, with the runtime that drives it.
pub struct DockerHost {
    rt: Arc<tokio::runtime::Runtime>,
    docker: Docker,
    run_id: String,
    owner: String,
}

fn engine_err(call: &str) -> impl FnOnce(bollard::errors::Error) -> ContainerError + '_ {
    move |source| ContainerError::Engine {
        call: call.to_string(),
        source,
    }
}

impl DockerHost {
    /// Connects to the local engine (`DOCKER_HOST` or `/var/run/docker.sock`),
    /// negotiates the API version and pings it, waiting at most `timeout`.
    /// `run_id` ([`RUN_LABEL_KEY`]) and `owner` ([`OWNER_LABEL_KEY`]) are
    /// put on every container this host creates.
    ///
    /// Errors: [`ContainerError::Unreachable`] with what to do.
    pub fn connect(
        run_id: &str,
        owner: &str,
        timeout: Duration,
    ) -> Result<DockerHost, ContainerError> {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("coldbench-docker")
            .enable_all()
            .build()
            .map_err(|e| ContainerError::Unreachable {
                detail: format!("cannot start an async runtime: {e}"),
            })?;
        let unreachable = |detail: String| ContainerError::Unreachable { detail };
        let docker = Docker::connect_with_local_defaults()
            .map_err(|e| unreachable(e.to_string()))?
            .with_timeout(timeout.max(Duration::from_secs(1)));
        let docker = rt
            .block_on(async { tokio::time::timeout(timeout, docker.negotiate_version()).await })
            .map_err(|_| unreachable(format!("no answer within {} ms", timeout.as_millis())))?
            .map_err(|e| unreachable(e.to_string()))?;
        rt.block_on(async { tokio::time::timeout(timeout, docker.ping()).await })
            .map_err(|_| unreachable(format!("ping unanswered within {} ms", timeout.as_millis())))?
            .map_err(|e| unreachable(e.to_string()))?;
        Ok(DockerHost {
            rt: Arc::new(rt),
            docker,
            run_id: run_id.to_string(),
            owner: owner.to_string(),
        })
    }

    fn call<T>(
        &self,
        call: &str,
        timeout: Duration,
        fut: impl Future<Output = Result<T, bollard::errors::Error>>,
    ) -> Result<T, ContainerError> {
        bounded(&self.rt, call, call, timeout, fut)
    }

    /// Whether the engine answers `/_ping` within `timeout` (a new
    /// connection if the old ones died with a restarted engine).
    pub fn ping(&self, timeout: Duration) -> bool {
        self.call("ping", timeout, self.docker.ping()).is_ok()
    }

    /// What the engine reports about itself.
    ///
    /// Errors: [`ContainerError::Engine`] or [`ContainerError::Timeout`].
    pub fn engine_info(&self, timeout: Duration) -> Result<EngineInfo, ContainerError> {
        let version = self.call("version", timeout, self.docker.version())?;
        let info = self.call("info", timeout, self.docker.info())?;
        let mut runtimes: Vec<String> = info.runtimes.unwrap_or_default().into_keys().collect();
        runtimes.sort();
        Ok(EngineInfo {
            engine_version: version.version.unwrap_or_default(),
            api_version: self.docker.client_version().to_string(),
            default_runtime: info.default_runtime.unwrap_or_default(),
            storage_driver: info.driver.unwrap_or_default(),
            cgroup_driver: info
                .cgroup_driver
                .map(|d| d.to_string())
                .unwrap_or_default(),
            runtimes,
        })
    }

    /// Builds every image of `builds` at the same time, each from an
    /// in-memory context: `FROM <base>`, the workload's binary at
    /// `/<workload>`, entrypoint that binary ([`ImageBuild`]); nothing is
    /// ever pulled (`pull=false`). The engine's classic builder spends most
    /// of a build waiting on its own container create and commit steps, so
    /// four Debian-based images take ~3.6 s together where one after another
    /// took ~11.8 s (2 vCPU guest, Docker 28.2). Returns, in the order of
    /// `builds`, each image and its own wall time (request → image
    /// inspected; they overlap), or its error; `timeout` bounds each build
    /// and each inspection.
    ///
    /// Errors, per build: [`ContainerError::Io`] if the binary cannot be
    /// read, [`ContainerError::Build`] if the build fails (a missing base
    /// image among the reasons) or its image cannot be inspected, or
    /// [`ContainerError::Timeout`].
    pub fn build_workload_images(
        &self,
        builds: &[ImageBuild],
        timeout: Duration,
    ) -> Vec<Result<(ImageInfo, Duration), ContainerError>> {
        let futures = builds.iter().map(|b| {
            let docker = self.docker.clone();
            let b = b.clone();
            async move {
                let t0 = Instant::now();
                tokio::time::timeout(timeout, build_image(docker.clone(), &b))
                    .await
                    .map_err(|_| ContainerError::Timeout {
                        call: format!("build {}", b.tag),
                        timeout_ms: timeout.as_millis() as u64,
                    })??;
                let inspect = tokio::time::timeout(timeout, docker.inspect_image(&b.tag))
                    .await
                    .map_err(|_| ContainerError::Timeout {
                        call: format!("inspect_image {}", b.tag),
                        timeout_ms: timeout.as_millis() as u64,
                    })?
                    .map_err(|e| ContainerError::Build {
                        tag: b.tag.clone(),
                        message: format!(
                            "the build reported success but the image cannot be inspected: {e}"
                        ),
                    })?;
                Ok((image_info(&b.tag, inspect), t0.elapsed()))
            }
        });
        self.rt.block_on(futures_util::future::join_all(futures))
    }

    /// The image `reference` (tag or id) if the engine has it, `None` if not.
    ///
    /// Errors: engine/timeout errors other than "no such image".
    pub fn image(
        &self,
        reference: &str,
        timeout: Duration,
    ) -> Result<Option<ImageInfo>, ContainerError> {
        match self.call(
            "inspect_image",
            timeout,
            self.docker.inspect_image(reference),
        ) {
            Ok(inspect) => Ok(Some(image_info(reference, inspect))),
            Err(ContainerError::Engine {
                source:
                    bollard::errors::Error::DockerResponseServerError {
                        status_code: 404, ..
                    },
                ..
            }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Creates, attaches to (stdin, stdout, stderr) and starts a container — in
    /// that order, so no output is missed. The timed region of a container's
    /// `t_ready` starts before this call.
    ///
    /// Errors: engine/timeout errors; a container created before the failure is removed.
    pub fn start(
        &self,
        spec: &ContainerSpec,
        timeout: Duration,
    ) -> Result<Container, ContainerError> {
        let labels = HashMap::from([
            (LABEL_KEY.to_string(), "1".to_string()),
            (RUN_LABEL_KEY.to_string(), self.run_id.clone()),
            (OWNER_LABEL_KEY.to_string(), self.owner.clone()),
        ]);
        let body = ContainerCreateBody {
            image: Some(spec.image.clone()),
            cmd: Some(spec.args.clone()),
            labels: Some(labels),
            attach_stdin: Some(true),
            attach_stdout: Some(true),
            attach_stderr: Some(true),
            open_stdin: Some(true),
            stdin_once: Some(true),
            tty: Some(false),
            user: spec.hardening.user.clone(),
            working_dir: spec
                .workload_dir
                .as_ref()
                .map(|_| WORKLOAD_DIR_MOUNT.to_string()),
            host_config: Some(HostConfig {
                mounts: spec.workload_dir.as_ref().map(|d| {
                    vec![Mount {
                        target: Some(WORKLOAD_DIR_MOUNT.to_string()),
                        source: Some(d.display().to_string()),
                        typ: Some(MountType::BIND),
                        read_only: Some(true),
                        ..Default::default()
                    }]
                }),
                network_mode: Some(spec.network_mode.clone()),
                runtime: spec.runtime.clone(),
                readonly_rootfs: Some(spec.hardening.read_only_rootfs),
                cap_drop: spec
                    .hardening
                    .drop_all_capabilities
                    .then(|| vec!["ALL".to_string()]),
                security_opt: spec
                    .hardening
                    .no_new_privileges
                    .then(|| vec!["no-new-privileges".to_string()]),
                memory: spec.hardening.memory_bytes,
                pids_limit: spec.hardening.pids_limit,
                ..Default::default()
            }),
            ..Default::default()
        };
        let created = self.call(
            "create_container",
            timeout,
            self.docker
                .create_container(Some(CreateContainerOptionsBuilder::default().build()), body),
        )?;
        let created_at = Instant::now();
        let mut container = Container {
            id: created.id,
            host: self.handle(),
            io: Stdio::default(),
            removed: false,
            stamps: StartStamps {
                created: created_at,
                attached: created_at,
                started: created_at,
            },
        };
        let attach_opts = AttachContainerOptionsBuilder::default()
            .stream(true)
            .stdin(true)
            .stdout(true)
            .stderr(true)
            .build();
        let attached = self.call(
            "attach_container",
            timeout,
            self.docker
                .attach_container(&container.id, Some(attach_opts)),
        )?;
        container.io = Stdio::attach(&self.rt, attached.output, attached.input);
        container.stamps.attached = Instant::now();
        self.call(
            "start_container",
            timeout,
            self.docker.start_container(&container.id, None),
        )?;
        container.stamps.started = Instant::now();
        Ok(container)
    }

    /// Runs `cmd` as a new process in the running container `container_id`
    /// (`exec` through the Engine API: create, then start attached to its
    /// stdin, stdout and stderr), as `user` (the container's own user when
    /// `None`). The timed region of an exec start begins before this call.
    ///
    /// Errors: engine/timeout errors (a container that is not running is the
    /// engine's 409, named).
    pub fn exec(
        &self,
        container_id: &str,
        cmd: &[String],
        user: Option<&str>,
        timeout: Duration,
    ) -> Result<Exec, ContainerError> {
        let config = bollard::models::ExecConfig {
            attach_stdin: Some(true),
            attach_stdout: Some(true),
            attach_stderr: Some(true),
            tty: Some(false),
            cmd: Some(cmd.to_vec()),
            user: user.map(str::to_string),
            ..Default::default()
        };
        let created = self.call(
            "create_exec",
            timeout,
            self.docker.create_exec(container_id, config),
        )?;
        let created_at = Instant::now();
        let started = self.call(
            "start_exec",
            timeout,
            self.docker.start_exec(
                &created.id,
                Some(bollard::exec::StartExecOptions {
                    detach: false,
                    tty: false,
                    output_capacity: None,
                }),
            ),
        )?;
        let started_at = Instant::now();
        let bollard::exec::StartExecResults::Attached { output, input } = started else {
            return Err(ContainerError::Io {
                path: format!(
                    "exec {} in container {}",
                    short(&created.id),
                    short(container_id)
                ),
                source: std::io::Error::other("the engine started the exec detached"),
            });
        };
        Ok(Exec {
            id: created.id,
            container_id: container_id.to_string(),
            host: self.handle(),
            io: Stdio::attach(&self.rt, output, input),
            stamps: ExecStamps {
                created: created_at,
                started: started_at,
            },
        })
    }

    /// Every container, running or not, matching the label filter `label`
    /// (`key` or `key=value`).
    fn list_with_label(
        &self,
        label: String,
        timeout: Duration,
    ) -> Result<Vec<bollard::models::ContainerSummary>, ContainerError> {
        let filters = HashMap::from([("label".to_string(), vec![label])]);
        self.call(
            "list_containers",
            timeout,
            self.docker.list_containers(Some(
                ListContainersOptionsBuilder::default()
                    .all(true)
                    .filters(&filters)
                    .build(),
            )),
        )
    }

    /// Removes (force) every container of this host's run (label
    /// [`RUN_LABEL_KEY`]` = <run id>`): a last sweep after a run, finished or
    /// interrupted. Returns how many were removed.
    ///
    /// Errors: engine/timeout errors of the listing; removal errors are skipped.
    pub fn remove_labelled(&self, timeout: Duration) -> Result<usize, ContainerError> {
        let list = self.list_with_label(format!("{RUN_LABEL_KEY}={}", self.run_id), timeout)?;
        Ok(list
            .into_iter()
            .filter_map(|c| c.id)
            .filter(|id| self.remove_by_id(id, timeout).is_ok())
            .count())
    }

    /// Every container carrying [`OWNER_LABEL_KEY`], as `(id, owner)`.
    ///
    /// Errors: engine/timeout errors of the listing.
    pub fn owned_containers(
        &self,
        timeout: Duration,
    ) -> Result<Vec<(String, String)>, ContainerError> {
        let list = self.list_with_label(OWNER_LABEL_KEY.to_string(), timeout)?;
        Ok(list
            .into_iter()
            .filter_map(|c| {
                let owner = c.labels?.get(OWNER_LABEL_KEY)?.clone();
                Some((c.id?, owner))
            })
            .collect())
    }

    /// Removes (force) the container `id`.
    ///
    /// Errors: engine/timeout errors.
    pub fn remove_by_id(&self, id: &str, timeout: Duration) -> Result<(), ContainerError> {
        let opts = RemoveContainerOptionsBuilder::default().force(true).build();
        self.call(
            "remove_container",
            timeout,
            self.docker.remove_container(id, Some(opts)),
        )
    }

    /// The memory of each container in `ids` as `docker stats` shows it,
    /// bytes: the cgroup's `usage` minus its page cache (`stats.cache` on
    /// cgroup v1, `stats.inactive_file` on v2; Docker Engine API, "Get
    /// container stats"). One-shot reads, issued concurrently (at most 128
    /// in flight): Docker 20.10 answers each at its next 1 s collection tick,
    /// so one at a time would cost about a second per container. Results are
    /// in the order of `ids`.
    ///
    /// Errors (per container): engine/timeout errors, or an answer without memory usage.
    pub fn memory_usage_bytes(
        &self,
        ids: &[String],
        timeout: Duration,
    ) -> Vec<Result<u64, ContainerError>> {
        let docker = self.docker.clone();
        let one = move |id: String| {
            let docker = docker.clone();
            async move {
                let opts = StatsOptionsBuilder::default()
                    .stream(false)
                    .one_shot(true)
                    .build();
                let answer = tokio::time::timeout(timeout, async {
                    let mut s = docker.stats(&id, Some(opts));
                    s.next().await.transpose()
                })
                .await;
                let stats = match answer {
                    Err(_) => {
                        return Err(ContainerError::Timeout {
                            call: format!("stats {}", short(&id)),
                            timeout_ms: timeout.as_millis() as u64,
                        });
                    }
                    Ok(r) => r.map_err(engine_err("stats"))?,
                };
                let mem = stats.and_then(|s| s.memory_stats);
                let usage = mem.as_ref().and_then(|m| m.usage).ok_or_else(|| {
                    ContainerError::Unexpected {
                        what: format!("stats of container {} carry no memory usage", short(&id)),
                    }
                })?;
                let cache = mem
                    .and_then(|m| m.stats)
                    .and_then(|st| st.get("cache").or(st.get("inactive_file")).copied())
                    .unwrap_or(0);
                Ok(usage.saturating_sub(cache))
            }
        };
        let ids = ids.to_vec();
        self.rt.block_on(
            futures_util::stream::iter(ids.into_iter().map(one))
                .buffered(128)
                .collect::<Vec<_>>(),
        )
    }

    fn handle(&self) -> HostHandle {
        HostHandle {
            rt: self.rt.clone(),
            docker: self.docker.clone(),
        }
    }
}

/// Runs one engine call on `rt`, waiting at most `timeout`. `call` names the
/// API call in engine errors, `what` the call and its object in a timeout.
fn bounded<T>(
    rt: &tokio::runtime::Runtime,
    call: &str,
    what: &str,
    timeout: Duration,
    fut: impl Future<Output = Result<T, bollard::errors::Error>>,
) -> Result<T, ContainerError> {
    rt.block_on(async { tokio::time::timeout(timeout, fut).await })
        .map_err(|_| ContainerError::Timeout {
            call: what.to_string(),
            timeout_ms: timeout.as_millis() as u64,
        })?
        .map_err(engine_err(call))
}

fn short(id: &str) -> &str {
    &id[..id.len().min(12)]
}

#[cfg(test)]
mod tests;
