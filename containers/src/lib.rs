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

/// A locally built image.
#[derive(Debug, Clone)]
pub struct ImageInfo {
    /// Tag, e.g. `coldbench/noop:scratch`.
    pub tag: String,
    /// Image id (`sha256:...`).
    pub id: String,
    /// Image size as the engine reports it, bytes.
    pub size_bytes: u64,
}

/// One image for [`DockerHost::build_workload_images`]: `FROM base`, the
/// file `binary` copied to `/<workload>` and made the entrypoint, tagged `tag`.
#[derive(Debug, Clone)]
pub struct ImageBuild {
    /// `scratch` or an image already in the engine.
    pub base: String,
    /// Workload name: the file's name inside the image.
    pub workload: String,
    /// The static (scratch) or glibc (Debian) binary on the host.
    pub binary: std::path::PathBuf,
    /// Tag to give the image, e.g. `coldbench/noop:scratch`.
    pub tag: String,
}

/// What an inspection of image `reference` says about it.
fn image_info(reference: &str, inspect: bollard::models::ImageInspect) -> ImageInfo {
    ImageInfo {
        tag: reference.to_string(),
        id: inspect.id.unwrap_or_default(),
        size_bytes: inspect.size.unwrap_or(0).max(0) as u64,
    }
}

/// Sends one build of `b` and reads its log to the end. Errors: the binary
/// cannot be read, or the engine reports an error (with the build's log).
async fn build_image(docker: Docker, b: &ImageBuild) -> Result<(), ContainerError> {
    let bin = std::fs::read(&b.binary).map_err(|source| ContainerError::Io {
        path: b.binary.display().to_string(),
        source,
    })?;
    let workload = &b.workload;
    let dockerfile = format!(
        "FROM {}\nCOPY {workload} /{workload}\nENTRYPOINT [\"/{workload}\"]\n",
        b.base
    );
    let context = tar_context(&[
        ("Dockerfile", dockerfile.as_bytes(), 0o644),
        (workload, &bin, 0o755),
    ])
    .map_err(|source| ContainerError::Io {
        path: "in-memory build context".into(),
        source,
    })?;
    let labels = HashMap::from([(LABEL_KEY.to_string(), "1".to_string())]);
    let options = BuildImageOptionsBuilder::default()
        .dockerfile("Dockerfile")
        .t(&b.tag)
        .rm(true)
        .forcerm(true)
        .labels(&labels)
        .build();
    let mut stream = docker.build_image(options, None, Some(bollard::body_full(context.into())));
    let mut log = String::new();
    while let Some(item) = stream.next().await {
        let info = item.map_err(|e| ContainerError::Build {
            tag: b.tag.clone(),
            message: e.to_string(),
        })?;
        if let Some(s) = info.stream {
            log.push_str(&s);
        }
        if let Some(detail) = info.error_detail {
            return Err(ContainerError::Build {
                tag: b.tag.clone(),
                message: format!("{}\n{log}", detail.message.unwrap_or_default()),
            });
        }
    }
    Ok(())
}

/// Where a container gets a command's `--workload-dir`: bind-mounted
/// read-only there, and the working directory of its process.
pub const WORKLOAD_DIR_MOUNT: &str = "/workload-dir";

/// How to run one container.
#[derive(Debug, Clone)]
pub struct ContainerSpec {
    /// Image tag or id.
    pub image: String,
    /// Arguments after the image's entrypoint.
    pub args: Vec<String>,
    /// OCI runtime name (`runc`, `runsc`, ...); `None` for the engine default.
    pub runtime: Option<String>,
    /// Network mode (`bridge`, `none`).
    pub network_mode: String,
    /// Confinement of the container.
    pub hardening: Hardening,
    /// A host directory (absolute) bind-mounted read-only at
    /// [`WORKLOAD_DIR_MOUNT`] and made the process's working directory (a
    /// hardened container's user, 65534, must be able to read it); `None`:
    /// no mount, the image's working directory.
    pub workload_dir: Option<std::path::PathBuf>,
}

/// How a container is confined (recorded as knobs by the harness).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hardening {
    /// Read-only root filesystem (`--read-only`).
    pub read_only_rootfs: bool,
    /// Every Linux capability dropped (`--cap-drop ALL`).
    pub drop_all_capabilities: bool,
    /// `--security-opt no-new-privileges` (no setuid gain).
    pub no_new_privileges: bool,
    /// `--user` (`uid:gid`), `None` for the image's (root).
    pub user: Option<String>,
    /// `--memory`, bytes.
    pub memory_bytes: Option<i64>,
    /// `--pids-limit`.
    pub pids_limit: Option<i64>,
}

impl Hardening {
    /// coldbench's default: read-only root filesystem, all capabilities
    /// dropped, no new privileges, user `65534:65534` (nobody), 1 GiB of
    /// memory (over 5× what the largest shipped input needs natively), 64
    /// tasks. The workloads read stdin and write stdout only.
    pub fn hardened() -> Self {
        Hardening {
            read_only_rootfs: true,
            drop_all_capabilities: true,
            no_new_privileges: true,
            user: Some("65534:65534".into()),
            memory_bytes: Some(1 << 30),
            pids_limit: Some(64),
        }
    }

    /// Docker's defaults (root, writable root filesystem, default
    /// capabilities, no limits): what `--container-hardening off` measures.
    pub fn none() -> Self {
        Hardening {
            read_only_rootfs: false,
            drop_all_capabilities: false,
            no_new_privileges: false,
            user: None,
            memory_bytes: None,
            pids_limit: None,
        }
    }

    /// `docker run` flags equivalent to this confinement (for the record).
    pub fn flags(&self) -> String {
        let mut f = Vec::new();
        if self.read_only_rootfs {
            f.push("--read-only".to_string());
        }
        if self.drop_all_capabilities {
            f.push("--cap-drop ALL".into());
        }
        if self.no_new_privileges {
            f.push("--security-opt no-new-privileges".into());
        }
        if let Some(u) = &self.user {
            f.push(format!("--user {u}"));
        }
        if let Some(m) = self.memory_bytes {
            f.push(format!("--memory {m}"));
        }
        if let Some(p) = self.pids_limit {
            f.push(format!("--pids-limit {p}"));
        }
        if f.is_empty() {
            "none (Docker defaults)".into()
        } else {
            f.join(" ")
        }
    }
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
    id: String,
    container_id: String,
    host: HostHandle,
    io: Stdio,
    stamps: ExecStamps,
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

    fn inspect(
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

/// The stdio of an attached process (a container's first process or an
/// exec): stdout chunks on a channel, stderr kept (the first 64 KiB), stdin
/// writable until closed.
#[derive(Default)]
struct Stdio {
    stdout: Option<mpsc::Receiver<Vec<u8>>>,
    input: Option<Pin<Box<dyn AsyncWrite + Send>>>,
    stderr: Arc<Mutex<Vec<u8>>>,
}

impl Stdio {
    /// Demultiplexes an engine's attach `output` on `rt`: stdout to the
    /// channel, stderr to the kept buffer; `input` is the process's stdin.
    fn attach(
        rt: &tokio::runtime::Runtime,
        mut output: Pin<
            Box<dyn futures_util::Stream<Item = Result<LogOutput, bollard::errors::Error>> + Send>,
        >,
        input: Pin<Box<dyn AsyncWrite + Send>>,
    ) -> Stdio {
        let (tx, rx) = mpsc::channel();
        let stderr = Arc::new(Mutex::new(Vec::new()));
        let kept = stderr.clone();
        rt.spawn(async move {
            while let Some(Ok(item)) = output.next().await {
                match item {
                    LogOutput::StdOut { message } | LogOutput::Console { message } => {
                        if tx.send(message.to_vec()).is_err() {
                            break;
                        }
                    }
                    LogOutput::StdErr { message } => {
                        let mut e = kept.lock().unwrap_or_else(|p| p.into_inner());
                        if e.len() < 64 * 1024 {
                            e.extend_from_slice(&message);
                        }
                    }
                    LogOutput::StdIn { .. } => {}
                }
            }
        });
        Stdio {
            stdout: Some(rx),
            input: Some(input),
            stderr,
        }
    }

    fn stderr_text(&self) -> String {
        String::from_utf8_lossy(&self.stderr.lock().unwrap_or_else(|p| p.into_inner())).into_owned()
    }

    /// Writes `bytes` to stdin (`what` names it in errors), at most `timeout`.
    fn write(
        &mut self,
        rt: &tokio::runtime::Runtime,
        bytes: &[u8],
        timeout: Duration,
        what: String,
    ) -> Result<(), ContainerError> {
        let input = self.input.as_mut().ok_or_else(|| ContainerError::Io {
            path: what.clone(),
            source: std::io::Error::new(std::io::ErrorKind::BrokenPipe, "stdin already closed"),
        })?;
        rt.block_on(async {
            tokio::time::timeout(timeout, async {
                input.write_all(bytes).await?;
                input.flush().await
            })
            .await
        })
        .map_err(|_| ContainerError::Timeout {
            call: format!("write {what}"),
            timeout_ms: timeout.as_millis() as u64,
        })?
        .map_err(|source| ContainerError::Io { path: what, source })
    }

    /// Closes stdin (the process sees end of file); a second close is a no-op.
    fn close(&mut self, rt: &tokio::runtime::Runtime) {
        if let Some(mut input) = self.input.take() {
            let _ = rt.block_on(async {
                tokio::time::timeout(Duration::from_secs(5), input.shutdown()).await
            });
        }
    }
}

#[derive(Clone)]
struct HostHandle {
    rt: Arc<tokio::runtime::Runtime>,
    docker: Docker,
}

/// A started container, removed (force) when dropped if not removed before.
pub struct Container {
    id: String,
    host: HostHandle,
    io: Stdio,
    removed: bool,
    stamps: StartStamps,
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

    fn call<T>(
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

/// Builds an uncompressed tar archive in memory from `(path, bytes, mode)` entries.
fn tar_context(entries: &[(&str, &[u8], u32)]) -> std::io::Result<Vec<u8>> {
    let mut builder = tar::Builder::new(Vec::new());
    for (path, bytes, mode) in entries {
        let mut header = tar::Header::new_gnu();
        header.set_size(bytes.len() as u64);
        header.set_mode(*mode);
        header.set_mtime(0);
        header.set_cksum();
        builder.append_data(&mut header, path, *bytes)?;
    }
    builder.into_inner()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tar_context_holds_entries() {
        let t = tar_context(&[
            ("Dockerfile", b"FROM scratch\n", 0o644),
            ("noop", b"\x7fELF", 0o755),
        ])
        .unwrap();
        let mut a = tar::Archive::new(t.as_slice());
        let names: Vec<String> = a
            .entries()
            .unwrap()
            .map(|e| e.unwrap().path().unwrap().display().to_string())
            .collect();
        assert_eq!(names, vec!["Dockerfile", "noop"]);
    }
}
