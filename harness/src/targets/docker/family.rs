//! The Docker family's variants: image (`scratch`, `debian`), OCI runtime
//! (runc, runsc, crun), network (`bridge`, `none`) and the warm-container exec
//! variants; which of them this host can run, and why not.

use super::*;

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
    pub fn availability(
        self,
        info: &EngineInfo,
        cgroup_layout: crate::host::CgroupLayout,
    ) -> Result<(), String> {
        let rt = self.runtime_name();
        if self.runtime == OciRuntime::Crun && cgroup_layout == crate::host::CgroupLayout::Hybrid {
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
    pub(super) fn variant(v: &Variant) -> DockerVariant {
        DockerVariant::all()
            .into_iter()
            .find(|d| d.id() == v.id)
            .expect("a Docker variant")
    }
}

impl TargetFamily for DockerFamily {
    fn reap_containers(
        &self,
        me: &str,
        connect_timeout: Duration,
        dead: &dyn Fn(&str) -> bool,
    ) -> Vec<String> {
        let Ok(docker) = DockerHost::connect("reaper", me, connect_timeout) else {
            return Vec::new();
        };
        let timeout = Duration::from_secs(30);
        let owned = docker.owned_containers(timeout).unwrap_or_default();
        crate::targets::remove_dead_owners(owned, dead, |id| {
            docker.remove_by_id(id, timeout).is_ok()
        })
    }

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
            Some(info) => Self::variant(v).availability(info, host.cgroup_layout),
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
