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

/// The Debian base image `scripts/build-debian-base.sh` imports into the engine.
pub const DEBIAN_BASE_IMAGE: &str = "coldbench/debian-base:bookworm-minbase";

/// Image flavour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageFlavour {
    /// `FROM scratch` + the static musl binary (a few MB).
    Scratch,
    /// [`DEBIAN_BASE_IMAGE`] + the glibc build (the size of image most users run).
    Debian,
}

/// OCI runtime the engine runs the container with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OciRuntime {
    /// runc, the engine's default.
    Runc,
    /// gVisor's runsc: a user-space kernel sandbox.
    Runsc,
    /// crun, the C implementation.
    Crun,
}

/// Container network mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NetworkMode {
    /// Docker's default bridge (a veth pair and a network namespace per container).
    Bridge,
    /// `none`: a network namespace with loopback only.
    None,
}

/// One Docker variant: image flavour × OCI runtime × network mode, and
/// whether a start is a new container or a process exec'd in a warm one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DockerVariant {
    /// Image flavour.
    pub image: ImageFlavour,
    /// OCI runtime.
    pub runtime: OciRuntime,
    /// Network mode.
    pub network: NetworkMode,
    /// A start is `exec` of the workload in a container of its image that
    /// was created and started at prepare (the warm path: pre-warmed
    /// containers), instead of a new container.
    pub exec: bool,
}

impl DockerVariant {
    /// Every variant, in table order.
    pub fn all() -> Vec<DockerVariant> {
        let mut v = Vec::new();
        for image in [ImageFlavour::Scratch, ImageFlavour::Debian] {
            for runtime in [OciRuntime::Runc, OciRuntime::Crun, OciRuntime::Runsc] {
                for network in [NetworkMode::Bridge, NetworkMode::None] {
                    v.push(DockerVariant {
                        image,
                        runtime,
                        network,
                        exec: false,
                    });
                }
            }
        }
        // The warm path, with runc: the network is set up before the clock,
        // so one mode (none) stands for both.
        for image in [ImageFlavour::Scratch, ImageFlavour::Debian] {
            v.push(DockerVariant {
                image,
                runtime: OciRuntime::Runc,
                network: NetworkMode::None,
                exec: true,
            });
        }
        v
    }

    /// `scratch` or `debian`.
    pub fn image_name(self) -> &'static str {
        match self.image {
            ImageFlavour::Scratch => "scratch",
            ImageFlavour::Debian => "debian",
        }
    }

    /// The runtime's name as registered with the engine.
    pub fn runtime_name(self) -> &'static str {
        match self.runtime {
            OciRuntime::Runc => "runc",
            OciRuntime::Runsc => "runsc",
            OciRuntime::Crun => "crun",
        }
    }

    /// The engine's network mode string.
    pub fn network_name(self) -> &'static str {
        match self.network {
            NetworkMode::Bridge => "bridge",
            NetworkMode::None => "none",
        }
    }

    /// Stable id, e.g. `docker-debian-crun-none`, or `docker-exec-scratch-runc`.
    pub fn id(self) -> String {
        if self.exec {
            return format!("docker-exec-{}-{}", self.image_name(), self.runtime_name());
        }
        format!(
            "docker-{}-{}-{}",
            self.image_name(),
            self.runtime_name(),
            self.network_name()
        )
    }

    /// One line for `coldbench targets`.
    pub fn describe(self) -> String {
        if self.exec {
            return format!(
                "the workload exec'd (Engine API exec) in a running container of the {} image, OCI runtime {}: the container created and started at prepare, its first process idle on stdin",
                self.image_name(),
                self.runtime_name()
            );
        }
        format!(
            "{} image, OCI runtime {}, network {}",
            match self.image {
                ImageFlavour::Scratch => "scratch + static musl binary",
                ImageFlavour::Debian => "Debian bookworm minbase + glibc binary",
            },
            self.runtime_name(),
            self.network_name()
        )
    }

    /// Whether the engine (`info`) and host can run this variant: `Err` says
    /// why not and how to enable it. The base image is checked at prepare.
    pub fn availability(self, info: &EngineInfo, cgroup_layout: &str) -> Result<(), String> {
        let rt = self.runtime_name();
        if self.runtime == OciRuntime::Crun && cgroup_layout == "hybrid" {
            return Err(
                "crun 1.8 refuses hybrid cgroup hosts like this one (cgroup v1 controllers plus a \
                 v2 `unified` mount): `OCI runtime create failed: cgroups in hybrid mode not \
                 supported, drop all controllers from cgroupv2`; it runs on a pure v1 or a unified \
                 v2 host (boot with systemd.unified_cgroup_hierarchy=1), then run \
                 `scripts/register-oci-runtimes.sh`"
                    .into(),
            );
        }
        if !info.runtimes.iter().any(|r| r == rt) {
            return Err(format!(
                "OCI runtime `{rt}` is not registered with the Docker engine (registered: {}); \
                 run `scripts/register-oci-runtimes.sh` (installs Debian's `{rt}` package and \
                 adds it to /etc/docker/daemon.json)",
                info.runtimes.join(", ")
            ));
        }
        Ok(())
    }
}

/// The Docker family: image flavour × OCI runtime × network mode, a
/// container per start through the engine's API.
pub struct DockerFamily;

/// The Docker family's registration.
pub static FAMILY: DockerFamily = DockerFamily;

impl DockerFamily {
    fn variant(v: &Variant) -> DockerVariant {
        DockerVariant::all()
            .into_iter()
            .find(|d| d.id() == v.id)
            .expect("a Docker variant")
    }
}

impl TargetFamily for DockerFamily {
    fn variants(&'static self) -> Vec<Variant> {
        DockerVariant::all()
            .into_iter()
            .map(|d| Variant {
                id: d.id(),
                family: Family::Container,
                description: d.describe(),
                start: if d.exec {
                    StartPath::new(
                        StartKind::ProcessInWarmContainer,
                        &[
                            BeforeClock::ArtifactBuilt,
                            BeforeClock::ImageBuilt,
                            BeforeClock::ContainerRunning,
                        ],
                    )
                } else {
                    StartPath::new(
                        StartKind::NewContainer,
                        &[BeforeClock::ArtifactBuilt, BeforeClock::ImageBuilt],
                    )
                },
                provider: self,
            })
            .collect()
    }

    fn availability(&self, v: &Variant, host: &HostProbe) -> Result<(), String> {
        if let Err(why) = &host.docker {
            return Err(why.clone());
        }
        match &host.engine {
            Some(info) => Self::variant(v).availability(info, &host.cgroup_layout),
            None => Err("the Docker engine did not describe itself (docker info failed)".into()),
        }
    }

    fn build(&self, v: &Variant, ctx: &BuildContext<'_>) -> Box<dyn Target> {
        Box::new(
            DockerTarget::new(
                Self::variant(v),
                ctx.host.docker.clone(),
                ctx.host.engine.clone(),
            )
            .with_hardening(if ctx.options.unhardened_containers {
                Hardening::none()
            } else {
                Hardening::hardened()
            }),
        )
    }

    fn runtime(&self, _v: &Variant, host: &HostProbe) -> (String, String) {
        (
            "docker".into(),
            host.engine
                .as_ref()
                .map(|e| e.engine_version.clone())
                .unwrap_or_default(),
        )
    }

    /// A container start is ~0.33 s here (gVisor ~0.5 s), teardown ~0.12 s,
    /// an image build ~1.5 s, a density sample (docker stats) ~1 s.
    fn priors(&self, v: &Variant, _workload: &str) -> Priors {
        if Self::variant(v).exec {
            // An exec is ~28 ms here (default runs of 2026-12-07, n = 20);
            // prepare builds the image and starts the warm container.
            return Priors::new(0.03, 0.002)
                .with_prepare_s(2.0)
                .with_density_sample_s(0.2);
        }
        let start_s = if Self::variant(v).runtime == OciRuntime::Runsc {
            0.5
        } else {
            0.33
        };
        Priors::new(start_s, 0.12)
            .with_prepare_s(1.5)
            .with_density_sample_s(1.0)
    }
}

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

/// How long a start waits for a Docker engine that stopped answering to
/// answer again (a daemon restart takes seconds), before giving up on it.
pub const ENGINE_WAIT: Duration = Duration::from_secs(60);

/// Whether a target's engine (Docker's, containerd) answers, for a target
/// that must wait for it: since when it has not, once a start found it gone.
#[derive(Debug, Default)]
pub struct EngineWatch {
    down_since: Option<Instant>,
}

impl EngineWatch {
    /// [`Target::waiting`]: why to wait for the engine (`what`: "the Docker
    /// engine", "containerd") while it is down for less than [`ENGINE_WAIT`]
    /// and `ping` fails; `None` once it answers (then it is up again), or past
    /// the bound (its starts then fail at once).
    pub fn waiting(&mut self, what: &str, ping: impl FnOnce() -> bool) -> Option<String> {
        let since = self.down_since?;
        if since.elapsed() >= ENGINE_WAIT {
            return None;
        }
        if ping() {
            self.down_since = None;
            return None;
        }
        Some(format!(
            "{what} has not answered for {:.1} s (waiting up to {} s)",
            since.elapsed().as_secs_f64(),
            ENGINE_WAIT.as_secs()
        ))
    }

    /// Before a start: `Err(seconds down)` when the engine has not answered
    /// for [`ENGINE_WAIT`] or more (callers waited for it before their clock
    /// started, [`Target::waiting`]; past that bound starts fail at once).
    pub fn before_start(&mut self, ping: impl FnOnce() -> bool) -> Result<(), f64> {
        let Some(since) = self.down_since else {
            return Ok(());
        };
        if ping() {
            self.down_since = None;
        } else if since.elapsed() >= ENGINE_WAIT {
            return Err(since.elapsed().as_secs_f64());
        }
        Ok(())
    }

    /// After a failed start: whether the engine went away under it (`ping`
    /// fails). Then this start is lost, and the next ones wait (bounded) for
    /// it before their clock starts — cold start defers them and goes on
    /// with the other targets.
    pub fn lost(&mut self, ping: impl FnOnce() -> bool) -> bool {
        if ping() {
            return false;
        }
        self.down_since.get_or_insert_with(Instant::now);
        true
    }
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
            .ok_or_else(|| TargetError::Failed(format!("image for {workload} was never built")))?
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

/// A process exec'd in a warm container.
struct ExecInstance {
    exec: Option<Exec>,
    stdout: LineReader,
    /// When the engine's create_exec and start_exec calls returned,
    /// `CLOCK_MONOTONIC` ns.
    stamps_ns: [u64; 2],
}

impl Instance for ExecInstance {
    fn stdout(&mut self) -> &mut LineReader {
        &mut self.stdout
    }

    /// create (start call → exec registered), start (→ the process running,
    /// attached), ready (→ its ready line read): they add up to `t_ready`
    /// start by start.
    fn inner_phases(&mut self, t0_ns: u64, ready_read_ns: u64) -> Vec<(Metric, u64)> {
        super::stamped_phases(
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
            return Err(TargetError::Failed(format!(
                "exec'd process exited with status {code}"
            )));
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

struct DockerInstance {
    container: Option<Container>,
    stdout: LineReader,
    /// When the engine's create, attach and start calls returned,
    /// `CLOCK_MONOTONIC` ns.
    stamps_ns: [u64; 3],
}

impl Instance for DockerInstance {
    fn stdout(&mut self) -> &mut LineReader {
        &mut self.stdout
    }

    /// create (start call → container created), attach, start (→ the OCI
    /// runtime reports it running), ready (→ its ready line read): they add
    /// up to `t_ready` start by start.
    fn inner_phases(&mut self, t0_ns: u64, ready_read_ns: u64) -> Vec<(Metric, u64)> {
        super::container_phases(self.stamps_ns, t0_ns, ready_read_ns)
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
            return Err(TargetError::Failed(format!(
                "container exited with status {code}"
            )));
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
