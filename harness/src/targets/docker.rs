//! `docker-<image>-<runtime>-<network>`: the workload in a container run by the
//! Docker Engine through bollard. Images are built locally and never pulled:
//! `scratch` holds the static musl binary alone; `debian` holds the glibc
//! build on a Debian bookworm (minbase) root filesystem made by
//! `scripts/build-debian-base.sh` (debootstrap, then `docker import`).

use super::{
    BuildContext, HostProbe, Instance, MemoryScope, Priors, Target, TargetError, TargetFamily,
    TargetResult, Variant,
};
use crate::artifacts::{glibc_binary, static_binary};
use crate::stream::LineReader;
use coldbench_containers::{
    Container, ContainerError, ContainerSpec, DockerHost, EngineInfo, Exec, Hardening, ImageBuild,
    ImageInfo,
};
use coldbench_results::{
    Artifact, ArtifactKind, BeforeClock, Family, Metric, StartKind, StartPath, TargetRecord,
};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant};
mod family;
pub use family::*;
mod engine_watch;
pub use engine_watch::*;
mod instance;
use instance::*;

/// The Debian base image `scripts/build-debian-base.sh` imports into the engine.
pub const DEBIAN_BASE_IMAGE: &str = "coldbench/debian-base:bookworm-minbase";

/// A Docker variant on a connected engine.
pub struct DockerTarget {
    variant: DockerVariant,
    id: String,
    host: Option<Arc<DockerHost>>,
    engine: Option<EngineInfo>,
    unavailable: Option<String>,
    images: HashMap<String, ImageInfo>,
    base: Option<ImageInfo>,
    hardening: Hardening,
    /// Exec variants: per workload, the warm container started at prepare
    /// (its first process the workload in serve mode, idle on its stdin,
    /// which this handle keeps open); removed when the target is dropped.
    warm: HashMap<String, Container>,
    /// Whether the engine answers (a restart, a crash).
    watch: EngineWatch,
}

impl DockerTarget {
    /// `variant` on `host`, or an unavailable target carrying why.
    pub fn new(
        variant: DockerVariant,
        host: Result<Arc<DockerHost>, String>,
        engine: Option<EngineInfo>,
    ) -> Self {
        let (host, unavailable) = match host {
            Ok(h) => (Some(h), None),
            Err(why) => (None, Some(why)),
        };
        DockerTarget {
            variant,
            id: variant.id(),
            host,
            engine,
            unavailable,
            images: HashMap::new(),
            base: None,
            hardening: Hardening::hardened(),
            warm: HashMap::new(),
            watch: EngineWatch::default(),
        }
    }

    /// Starts containers confined as `h` (default: [`Hardening::hardened`]).
    pub fn with_hardening(mut self, h: Hardening) -> Self {
        self.hardening = h;
        self
    }

    /// Why the target cannot run, if it cannot.
    pub fn unavailable_reason(&self) -> Option<&str> {
        self.unavailable.as_deref()
    }

    /// What to build for `workload`: base image and binary of this
    /// variant's flavour, and the tag. Errors: no native build of the
    /// workload, or the Debian base image is not in the engine (says how to
    /// make it).
    fn image_build(
        &mut self,
        host: &DockerHost,
        workload: &str,
        timeout: Duration,
    ) -> TargetResult<ImageBuild> {
        if let Some(why) = crate::artifacts::native_missing(workload) {
            return Err(TargetError::Unavailable(why));
        }
        let (base, binary) = match self.variant.image {
            ImageFlavour::Scratch => ("scratch", static_binary(workload)),
            ImageFlavour::Debian => {
                if self.base.is_none() {
                    let found = host.image(DEBIAN_BASE_IMAGE, timeout).map_err(cerr)?;
                    self.base = Some(found.ok_or_else(|| {
                        TargetError::Unavailable(format!(
                            "base image {DEBIAN_BASE_IMAGE} is not in the Docker engine; \
                             run `scripts/build-debian-base.sh` (debootstrap of Debian \
                             bookworm, minbase variant, imported with `docker import`)"
                        ))
                    })?);
                }
                (DEBIAN_BASE_IMAGE, glibc_binary(workload))
            }
        };
        Ok(ImageBuild {
            base: base.to_string(),
            workload: workload.to_string(),
            binary,
            tag: format!("coldbench/{workload}:{}", self.variant.image_name()),
        })
    }

    /// The spec of a container of `workload`'s image with this target's
    /// runtime, network and confinement; `serve`: the workload answers
    /// requests until its stdin closes.
    fn spec(&self, workload: &str, serve: bool) -> TargetResult<ContainerSpec> {
        let image = self
            .images
            .get(workload)
            .ok_or_else(|| TargetError::NotPrepared {
                workload: workload.to_string(),
            })?
            .id
            .clone();
        Ok(ContainerSpec {
            image,
            args: super::workload_args(workload, serve),
            runtime: Some(self.variant.runtime_name().to_string()),
            network_mode: self.variant.network_name().to_string(),
            hardening: self.hardening.clone(),
            workload_dir: crate::artifacts::workload_dir(workload),
        })
    }

    /// Starts the warm container of `workload` (exec variants, at prepare):
    /// its first process is the workload in serve mode, which reads its
    /// stdin (kept open by the returned handle) and so stays up, idle; its
    /// ready line is read here, so the container is known to run.
    ///
    /// Errors: the engine's; a container whose process printed no ready
    /// line within `timeout` (removed).
    fn warm_container(
        &self,
        host: &DockerHost,
        workload: &str,
        timeout: Duration,
    ) -> TargetResult<Container> {
        let mut c = host
            .start(&self.spec(workload, true)?, timeout)
            .map_err(cerr)?;
        let rx = c
            .take_stdout()
            .ok_or_else(|| TargetError::Failed("warm container has no stdout stream".into()))?;
        if rx.recv_timeout(timeout).is_err() {
            let _ = c.remove(timeout);
            return Err(TargetError::Failed(format!(
                "the warm container of {workload} ({}) printed nothing within {} ms: its first process must stay up reading its stdin; stderr: {}",
                c.id(),
                timeout.as_millis(),
                c.stderr()
            )));
        }
        // The rest of its output is never read; the receiver is dropped
        // (the engine's stream stays open with the container's stdin).
        Ok(c)
    }

    /// One start of an exec variant: `create_exec` → `start_exec` attached
    /// of the workload's binary in its warm container.
    fn start_exec(
        &mut self,
        host: &DockerHost,
        workload: &str,
        serve: bool,
        timeout: Duration,
    ) -> TargetResult<Box<dyn Instance>> {
        let container = self.warm.get(workload).ok_or_else(|| {
            TargetError::Failed(format!(
                "the warm container of {workload} was never started"
            ))
        })?;
        let mut cmd = vec![format!("/{workload}")];
        cmd.extend(super::workload_args(workload, serve));
        let clock = (Instant::now(), coldbench_protocol::monotonic_ns());
        let mut exec = host
            .exec(
                container.id(),
                &cmd,
                self.hardening.user.as_deref(),
                timeout,
            )
            .map_err(cerr)?;
        let rx = exec
            .take_stdout()
            .ok_or_else(|| TargetError::Failed("exec has no stdout stream".into()))?;
        let stamps = exec.stamps();
        Ok(Box::new(ExecInstance {
            exec: Some(exec),
            stdout: LineReader::new(rx),
            stamps_ns: [stamps.created, stamps.started]
                .map(|t| clock.1 + t.saturating_duration_since(clock.0).as_nanos() as u64),
        }))
    }

    fn host(&self) -> TargetResult<&Arc<DockerHost>> {
        self.host.as_ref().ok_or_else(|| {
            TargetError::Unavailable(
                self.unavailable
                    .clone()
                    .unwrap_or_else(|| "Docker unavailable".into()),
            )
        })
    }
}

fn cerr(e: ContainerError) -> TargetError {
    match e {
        ContainerError::Timeout { .. } => TargetError::Timeout(e.to_string()),
        ContainerError::Unreachable { .. } => TargetError::Unavailable(e.to_string()),
        other => TargetError::Failed(other.to_string()),
    }
}

impl Target for DockerTarget {
    fn id(&self) -> &str {
        &self.id
    }

    fn waiting(&mut self) -> Option<String> {
        let host = self.host.clone();
        self.watch.waiting("the Docker engine", || {
            host.is_some_and(|h| h.ping(Duration::from_secs(1)))
        })
    }

    fn record(&self) -> TargetRecord {
        let mut names: Vec<&String> = self.images.keys().collect();
        names.sort();
        let v = self.variant;
        let mut knobs = BTreeMap::from([
            (
                "image".to_string(),
                match v.image {
                    ImageFlavour::Scratch => {
                        "scratch + static x86_64-unknown-linux-musl binary".into()
                    }
                    ImageFlavour::Debian => format!(
                        "{DEBIAN_BASE_IMAGE} (debootstrap --variant=minbase bookworm, docker import) + x86_64-unknown-linux-gnu binary"
                    ),
                },
            ),
            ("oci_runtime".into(), v.runtime_name().into()),
            ("network_mode".into(), v.network_name().into()),
            (
                "client".into(),
                if v.exec {
                    "bollard 0.21 (warm container at prepare; per start create_exec → start_exec attached; teardown: stdin closed, inspect_exec until exited)".into()
                } else {
                    "bollard 0.21 (create → attach → start; wait → remove)".into()
                },
            ),
            (
                "storage_driver".into(),
                self.engine
                    .as_ref()
                    .map(|e| e.storage_driver.clone())
                    .unwrap_or_default(),
            ),
            (
                "image_pull".into(),
                "never (built locally from an in-memory tar context)".into(),
            ),
            ("hardening".into(), self.hardening.flags()),
        ]);
        if super::any_workload_dir(self.images.keys()) {
            knobs.insert(
                "workload_dir".into(),
                format!(
                    "a --workload-dir command's directory bind-mounted read-only at {} as the working directory: read-only enforced by the kernel (and the Docker engine's mount)",
                    coldbench_containers::WORKLOAD_DIR_MOUNT
                ),
            );
        }
        if v.runtime == OciRuntime::Runsc {
            knobs.insert(
                "runsc_args".into(),
                "as registered by scripts/register-oci-runtimes.sh (--network=none: the sandbox sees loopback only, whatever the Docker network mode)".into(),
            );
        }
        let mut artifacts: Vec<Artifact> = names
            .into_iter()
            .map(|w| Artifact {
                workload: w.clone(),
                kind: ArtifactKind::Image,
                bytes: self.images[w].size_bytes,
                id: format!("{} {}", self.images[w].tag, self.images[w].id),
            })
            .collect();
        if let Some(b) = &self.base {
            artifacts.push(Artifact {
                workload: "*".into(),
                kind: ArtifactKind::BaseImage,
                bytes: b.size_bytes,
                id: format!("{} {}", b.tag, b.id),
            });
        }
        TargetRecord {
            id: self.id.clone(),
            family: Family::Container,
            runtime: "docker".into(),
            runtime_version: self
                .engine
                .as_ref()
                .map(|e| e.engine_version.clone())
                .unwrap_or_default(),
            knobs,
            available: self.unavailable.is_none(),
            unavailable_reason: self.unavailable.clone(),
            artifacts,
            start: None,
        }
    }

    fn prepare(&mut self, workload: &str, timeout: Duration) -> TargetResult<Option<u64>> {
        self.prepare_all(&[workload.to_string()], timeout)
            .pop()
            .expect("one workload, one result")
    }

    /// Builds the images of `workloads` not built yet by this target, all at
    /// once ([`DockerHost::build_workload_images`]): the first run on a host
    /// builds 8 images for the default suite, 11.8 s → 3.6 s for four
    /// Debian-based ones here.
    fn prepare_all(
        &mut self,
        workloads: &[String],
        timeout: Duration,
    ) -> Vec<TargetResult<Option<u64>>> {
        let host = match self.host() {
            Ok(host) => host.clone(),
            Err(e) => {
                let why = e.to_string();
                return workloads
                    .iter()
                    .map(|w| {
                        if self.images.contains_key(w) {
                            Ok(None)
                        } else {
                            Err(TargetError::Unavailable(why.clone()))
                        }
                    })
                    .collect();
            }
        };
        // Per workload: already built (`None`), to build, or why not.
        let planned: Vec<TargetResult<Option<ImageBuild>>> = workloads
            .iter()
            .map(|w| {
                if self.images.contains_key(w) {
                    Ok(None)
                } else {
                    self.image_build(&host, w, timeout).map(Some)
                }
            })
            .collect();
        let builds: Vec<ImageBuild> = planned
            .iter()
            .filter_map(|p| p.as_ref().ok().and_then(Option::clone))
            .collect();
        let mut built = host
            .build_workload_images(&builds, timeout.max(Duration::from_secs(120)))
            .into_iter();
        let results: Vec<TargetResult<Option<u64>>> = planned
            .into_iter()
            .map(|p| {
                let Some(b) = p? else { return Ok(None) };
                let (image, took) = built.next().expect("one result per build").map_err(cerr)?;
                self.images.insert(b.workload, image);
                Ok(Some(took.as_nanos() as u64))
            })
            .collect();
        if !self.variant.exec {
            return results;
        }
        // The warm path: one running container per workload, started now
        // (its time is prepare's), whose first process waits on its stdin.
        results
            .into_iter()
            .zip(workloads)
            .map(|(r, w)| {
                let built_ns = r?;
                if self.warm.contains_key(w) {
                    return Ok(built_ns);
                }
                let t = Instant::now();
                let c = self.warm_container(&host, w, timeout)?;
                self.warm.insert(w.clone(), c);
                Ok(Some(built_ns.unwrap_or(0) + t.elapsed().as_nanos() as u64))
            })
            .collect()
    }

    fn engine_memory_bytes(
        &mut self,
        container_ids: &[String],
        timeout: Duration,
    ) -> Option<Vec<TargetResult<u64>>> {
        let host = self.host().ok()?;
        Some(
            host.memory_usage_bytes(container_ids, timeout)
                .into_iter()
                .map(|r| r.map_err(cerr))
                .collect(),
        )
    }

    fn start(
        &mut self,
        workload: &str,
        serve: bool,
        timeout: Duration,
    ) -> TargetResult<Box<dyn Instance>> {
        let host = self.host()?.clone();
        if self.variant.exec {
            return self.start_exec(&host, workload, serve, timeout);
        }
        let spec = self.spec(workload, serve)?;
        // One reading of both clocks (both CLOCK_MONOTONIC) places the
        // engine calls' `Instant`s on the harness's ns timeline.
        let clock = (Instant::now(), coldbench_protocol::monotonic_ns());
        if let Err(down_s) = self
            .watch
            .before_start(|| host.ping(Duration::from_secs(1)))
        {
            return Err(TargetError::Unavailable(format!(
                "the Docker engine has not answered for {down_s:.0} s: container starts fail until it does; check `docker info` and restart it (scripts/start-docker.sh)"
            )));
        }
        let mut container = match host.start(&spec, timeout) {
            Ok(c) => c,
            Err(e) => {
                if !self.watch.lost(|| host.ping(Duration::from_secs(1))) {
                    return Err(cerr(e));
                }
                return Err(TargetError::Failed(format!(
                    "the Docker engine stopped answering during this start ({e}): this start is lost; container starts wait up to {} s for it to answer again while the other targets go on",
                    ENGINE_WAIT.as_secs()
                )));
            }
        };
        let rx = container
            .take_stdout()
            .ok_or_else(|| TargetError::Failed("container has no stdout stream".into()))?;
        let stamps = container.stamps();
        Ok(Box::new(DockerInstance {
            container: Some(container),
            stdout: LineReader::new(rx),
            stamps_ns: [stamps.created, stamps.attached, stamps.started]
                .map(|t| clock.1 + t.saturating_duration_since(clock.0).as_nanos() as u64),
        }))
    }
}
