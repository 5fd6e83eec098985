//! Containers started through containerd's own API, no Docker in between:
//! `containerd-wasm-wamr` runs the Wasm module through coldbench's runwasi
//! shim (`io.containerd.coldbench-wamr.v1`: runwasi's
//! `containerd-shim-wasm` with WAMR inside, `harness/shims/wamr`, built by
//! `harness/build.rs` and named to containerd by its path), the way
//! Docker 24+ with the containerd image store (`docker run
//! --runtime=io.containerd.<name>.v1`) and Kubernetes RuntimeClass run
//! Wasm; `containerd-runc` runs the static binary through runc's shim the
//! same way, so the two differ by the shim alone; `containerd-exec-runc` is
//! runc's warm path: one container per workload started at prepare, and
//! each start a new process in it (`tasks.exec` → `tasks.start` with its
//! exec id), as `docker-exec-*` does through Docker.
//!
//! This host's Docker 20.10 cannot take a containerd shim as a runtime (it
//! answers "Unknown runtime"); its containerd can, over gRPC
//! ([`coldbench_containers::containerd`]). Each start creates the
//! container record, the task (containerd spawns the shim, which creates
//! the container) and starts it; the root filesystem is a directory
//! prepared per workload (read-only), stdio are FIFOs, the network
//! namespace has loopback only.

use super::docker::{ENGINE_WAIT, EngineWatch};
use super::{
    BuildContext, HostProbe, Instance, Priors, Target, TargetError, TargetFamily, TargetResult,
    Variant,
};
use crate::artifacts::{static_binary, wasm_module};
use crate::stream::LineReader;
use coldbench_containers::Hardening;
use coldbench_containers::containerd::{
    ContainerdHost, DOCKER_CONTAINERD_SOCKET, RUNC_RUNTIME, STANDALONE_SOCKET, Task, TaskSpec,
    WAMR_SHIM_BINARY, WAMR_SHIM_RUNTIME,
};
use coldbench_results::{
    Artifact, ArtifactKind, BeforeClock, Family, StartKind, StartPath, TargetRecord,
};
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

mod instance;
use instance::{ContainerdExecInstance, ContainerdInstance};

/// What a containerd variant runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shim {
    /// runc's shim on the static musl binary.
    Runc,
    /// coldbench's runwasi shim (WAMR) on the Wasm module.
    WasmWamr,
}

fn shim(v: &Variant) -> Shim {
    if v.id == "containerd-wasm-wamr" {
        Shim::WasmWamr
    } else {
        Shim::Runc
    }
}

/// The warm-container variant's id.
const EXEC_VARIANT: &str = "containerd-exec-runc";

/// The containerd family.
pub struct ContainerdFamily;

/// The containerd family's registration.
pub static FAMILY: ContainerdFamily = ContainerdFamily;

/// The socket of the containerd to use: `COLDBENCH_CONTAINERD_SOCKET`, else
/// Docker's own containerd, else a standalone one.
pub fn socket() -> PathBuf {
    if let Some(s) = std::env::var_os("COLDBENCH_CONTAINERD_SOCKET") {
        return PathBuf::from(s);
    }
    [DOCKER_CONTAINERD_SOCKET, STANDALONE_SOCKET]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
        .unwrap_or_else(|| PathBuf::from(DOCKER_CONTAINERD_SOCKET))
}

/// The Wasm shim `harness/build.rs` builds:
/// `<artifacts>/shim-wamr/release/containerd-shim-coldbench-wamr-v1`.
fn shim_built() -> PathBuf {
    crate::artifacts::artifacts_dir()
        .join("shim-wamr")
        .join("release")
        .join(WAMR_SHIM_BINARY)
}

/// How containerd is told to run the Wasm shim, or `None` when there is
/// none: the absolute path of the one `harness/build.rs` built (containerd
/// 1.6 and later run a shim named by its path, containerd PR #6206), else
/// the runtime name [`WAMR_SHIM_RUNTIME`] when `scripts/install-containerd-shim.sh`
/// put the binary in a directory of containerd's usual `PATH`.
fn shim_runtime() -> Option<String> {
    let built = shim_built();
    if built.is_file() {
        return Some(built.display().to_string());
    }
    ["/usr/local/bin", "/usr/bin", "/usr/local/sbin", "/usr/sbin"]
        .iter()
        .map(|d| Path::new(d).join(WAMR_SHIM_BINARY))
        .find(|p| p.is_file())
        .map(|_| WAMR_SHIM_RUNTIME.to_string())
}

impl TargetFamily for ContainerdFamily {
    fn host_runtime(&self, _record: &TargetRecord) -> bool {
        true
    }

    /// Containers started through containerd directly (namespace `coldbench`).
    fn reap_containers(
        &self,
        me: &str,
        connect_timeout: Duration,
        dead: &dyn Fn(&str) -> bool,
    ) -> Vec<String> {
        let socket = socket();
        if !socket.exists() {
            return Vec::new();
        }
        let Ok(ctrd) = ContainerdHost::connect(&socket, "reaper", me, connect_timeout) else {
            return Vec::new();
        };
        let timeout = Duration::from_secs(30);
        let owned = ctrd.owned_containers(timeout).unwrap_or_default();
        super::remove_dead_owners(owned, dead, |id| ctrd.remove_by_id(id, timeout).is_ok())
    }

    fn variants(&'static self) -> Vec<Variant> {
        vec![
            Variant {
                id: "containerd-runc".into(),
                family: Family::Container,
                description: "containerd API (no Docker): static binary in a read-only directory root, runc shim (io.containerd.runc.v2), loopback-only network".into(),
                start: StartPath::new(
                    StartKind::NewContainer,
                    &[BeforeClock::ArtifactBuilt, BeforeClock::ImageBuilt],
                ),
                provider: self,
            },
            Variant {
                id: EXEC_VARIANT.into(),
                family: Family::Container,
                description: "containerd API (no Docker): a new process (tasks.exec → tasks.start) in a warm container started at prepare (static binary, read-only directory root, runc shim, loopback-only network)".into(),
                start: StartPath::new(
                    StartKind::ProcessInWarmContainer,
                    &[
                        BeforeClock::ArtifactBuilt,
                        BeforeClock::ImageBuilt,
                        BeforeClock::ContainerRunning,
                    ],
                ),
                provider: self,
            },
            Variant {
                id: "containerd-wasm-wamr".into(),
                family: Family::Container,
                description: format!(
                    "containerd API (no Docker): Wasm module in a read-only directory root, runwasi shim with WAMR ({WAMR_SHIM_RUNTIME}), loopback-only network"
                ),
                start: StartPath::new(
                    StartKind::WasmInSandbox,
                    &[BeforeClock::ArtifactBuilt, BeforeClock::ImageBuilt],
                ),
                provider: self,
            },
        ]
    }

    fn availability(&self, v: &Variant, _host: &HostProbe) -> Result<(), String> {
        let socket = socket();
        if !socket.exists() {
            return Err(format!(
                "no containerd socket at {} (nor {STANDALONE_SOCKET}); start Docker (scripts/start-docker.sh) or containerd, or set COLDBENCH_CONTAINERD_SOCKET",
                socket.display()
            ));
        }
        if shim(v) == Shim::WasmWamr && shim_runtime().is_none() {
            return Err(format!(
                "the Wasm shim {WAMR_SHIM_BINARY} was not built ({} is missing: the build's warning and target/nested/logs/shim-wamr.log say why; it needs Debian protobuf-compiler, libseccomp-dev, libdbus-1-dev and pkg-config, installed by scripts/setup.sh) nor installed in containerd's PATH",
                shim_built().display()
            ));
        }
        Ok(())
    }

    fn build(&self, v: &Variant, ctx: &BuildContext<'_>) -> Box<dyn Target> {
        Box::new(ContainerdTarget {
            id: v.id.clone(),
            shim: shim(v),
            exec: v.id == EXEC_VARIANT,
            warm: HashMap::new(),
            host: None,
            run_id: ctx.host.run_id.clone(),
            rootfs: HashMap::new(),
            dir: ctx.cache_dir.join(&v.id),
            hardening: if ctx.options.unhardened_containers {
                Hardening::none()
            } else {
                Hardening::hardened()
            },
            watch: EngineWatch::default(),
            runtime: match shim(v) {
                Shim::Runc => RUNC_RUNTIME.to_string(),
                // Available (checked before build) means there is one.
                Shim::WasmWamr => shim_runtime().unwrap_or_else(|| WAMR_SHIM_RUNTIME.to_string()),
            },
        })
    }

    fn runtime(&self, _v: &Variant, _host: &HostProbe) -> (String, String) {
        ("containerd".into(), String::new())
    }

    /// A containerd start is Docker's without the engine's layers: 16-27 ms
    /// here (runc and the Wasm shim, default runs of 2026-12-07); a
    /// teardown ~11 ms; preparing copies one file.
    fn priors(&self, _v: &Variant, _workload: &str) -> Priors {
        Priors::new(0.03, 0.015).with_density_sample_s(0.1)
    }
}

/// A containerd variant, connected on first use.
pub struct ContainerdTarget {
    id: String,
    shim: Shim,
    /// Starts are execs in a warm container (`containerd-exec-runc`).
    exec: bool,
    /// Exec variant: per workload, the warm container started at prepare,
    /// its first process idle on its stdin (the reader keeps its stdout open).
    warm: HashMap<String, (Task, LineReader)>,
    host: Option<Arc<ContainerdHost>>,
    /// The run its containers are labelled with.
    run_id: String,
    /// workload → its prepared root filesystem and program path inside it.
    rootfs: HashMap<String, (PathBuf, String)>,
    /// Where the root filesystems go.
    dir: PathBuf,
    hardening: Hardening,
    /// Whether containerd answers (a restart, a crash).
    watch: EngineWatch,
    /// What containerd is told to run ([`shim_runtime`], or
    /// [`RUNC_RUNTIME`]): a runtime name or a shim's absolute path.
    runtime: String,
}

impl ContainerdTarget {
    fn host(&mut self, timeout: Duration) -> TargetResult<Arc<ContainerdHost>> {
        if let Some(h) = &self.host {
            return Ok(h.clone());
        }
        let h = ContainerdHost::connect(&socket(), &self.run_id, crate::reap::owner(), timeout)
            .map_err(|e| TargetError::Unavailable(e.to_string()))?;
        let h = Arc::new(h);
        self.host = Some(h.clone());
        Ok(h)
    }

    /// The task of one start of `workload` (`serve`: its serve mode), with
    /// the clock pair its stamps are placed by, or why not (containerd not
    /// answering: later starts then wait for it).
    fn start_task(
        &mut self,
        workload: &str,
        serve: bool,
        timeout: Duration,
    ) -> TargetResult<(Task, (Instant, u64))> {
        let host = self.host(timeout)?;
        let (root, args) = self.command(workload, serve)?;
        let workload_dir = crate::artifacts::workload_dir(workload);
        self.check_answering(&host)?;
        let clock = (Instant::now(), coldbench_protocol::monotonic_ns());
        let started = host.start(
            &TaskSpec {
                runtime: &self.runtime,
                rootfs: &root,
                args,
                hardening: &self.hardening,
                workload_dir: workload_dir.as_deref(),
                eof_on_close: self.shim == Shim::WasmWamr,
            },
            timeout,
        );
        match started {
            Ok(t) => Ok((t, clock)),
            Err(e) => Err(self.lost_or_failed(&host, e.to_string())),
        }
    }

    /// The prepared root filesystem of `workload` and the command a start
    /// runs in it (the program's path inside it, then its arguments).
    fn command(&self, workload: &str, serve: bool) -> TargetResult<(PathBuf, Vec<String>)> {
        let (root, prog) =
            self.rootfs
                .get(workload)
                .cloned()
                .ok_or_else(|| TargetError::NotPrepared {
                    workload: workload.to_string(),
                })?;
        let mut args = vec![prog];
        args.extend(super::workload_args(workload, serve));
        Ok((root, args))
    }

    /// Refuses a start while containerd has not answered since a start
    /// found it gone.
    fn check_answering(&mut self, host: &ContainerdHost) -> TargetResult<()> {
        self.watch
            .before_start(|| host.ping(Duration::from_secs(1)))
            .map_err(|down_s| {
                TargetError::Unavailable(format!(
                    "containerd at {} has not answered for {down_s:.0} s: its starts fail until it does; check `ctr --address {} version` and restart it (scripts/start-docker.sh restarts Docker's)",
                    host.socket().display(),
                    host.socket().display()
                ))
            })
    }

    /// A failed call's error: containerd's outage if it stopped answering
    /// (its starts then wait for it), else the call's own.
    fn lost_or_failed(&mut self, host: &ContainerdHost, e: String) -> TargetError {
        if !self.watch.lost(|| host.ping(Duration::from_secs(1))) {
            return TargetError::Failed(e);
        }
        TargetError::Failed(format!(
            "containerd stopped answering during this start ({e}): this start is lost; its starts wait up to {} s for it to answer again while the other targets go on",
            ENGINE_WAIT.as_secs()
        ))
    }

    /// Starts the warm container of `workload` (exec variant, at prepare):
    /// its first process is the workload in serve mode, idle on its stdin
    /// (kept open by the returned task); its ready line is read here, so
    /// the container is known to run.
    ///
    /// Errors: containerd's; a container whose process printed no ready
    /// line within `timeout` (removed when the task drops).
    fn warm_container(
        &mut self,
        workload: &str,
        timeout: Duration,
    ) -> TargetResult<(Task, LineReader)> {
        let (mut task, _) = self.start_task(workload, true, timeout)?;
        let stdout = task
            .take_stdout()
            .ok_or_else(|| TargetError::Failed("the task has no stdout FIFO".into()))?;
        let mut reader = LineReader::from_pipe(std::process::ChildStdout::from(
            std::os::fd::OwnedFd::from(stdout),
        ));
        if let Err(e) = reader.read_line(Instant::now() + timeout) {
            return Err(TargetError::Failed(format!(
                "the warm container of {workload} ({}) gave no ready line ({e}): its first process must stay up reading its stdin; stderr: {}",
                task.id(),
                task.stderr_text()
            )));
        }
        Ok((task, reader))
    }

    /// One start of the exec variant: `tasks.exec` → `tasks.start` of the
    /// workload's binary in its warm container.
    fn start_exec(
        &mut self,
        workload: &str,
        serve: bool,
        timeout: Duration,
    ) -> TargetResult<Box<dyn Instance>> {
        let host = self.host(timeout)?;
        let (_, args) = self.command(workload, serve)?;
        self.check_answering(&host)?;
        let (task, _) = self.warm.get(workload).ok_or_else(|| {
            TargetError::Failed(format!(
                "the warm container of {workload} was never started"
            ))
        })?;
        let clock = (Instant::now(), coldbench_protocol::monotonic_ns());
        let mut exec = match task.exec(args, timeout) {
            Ok(e) => e,
            Err(e) => return Err(self.lost_or_failed(&host, e.to_string())),
        };
        let stdout = exec
            .take_stdout()
            .ok_or_else(|| TargetError::Failed("the exec has no stdout FIFO".into()))?;
        let s = exec.stamps();
        Ok(Box::new(ContainerdExecInstance {
            stdout: LineReader::from_pipe(std::process::ChildStdout::from(
                std::os::fd::OwnedFd::from(stdout),
            )),
            exec: Some(exec),
            stamps_ns: [s.created, s.started]
                .map(|t| clock.1 + t.saturating_duration_since(clock.0).as_nanos() as u64),
        }))
    }

    /// The runtime's name recorded in `run.json` (knob `runtime`), the same
    /// whether containerd is given it or the shim's path.
    fn runtime_name(&self) -> &'static str {
        match self.shim {
            Shim::Runc => RUNC_RUNTIME,
            Shim::WasmWamr => WAMR_SHIM_RUNTIME,
        }
    }
}

impl Drop for ContainerdTarget {
    fn drop(&mut self) {
        self.warm.clear();
        if let Some(h) = &self.host {
            let _ = h.remove_run(Duration::from_secs(10));
        }
    }
}

impl Target for ContainerdTarget {
    fn id(&self) -> &str {
        &self.id
    }

    fn waiting(&mut self) -> Option<String> {
        let host = self.host.clone();
        self.watch.waiting("containerd", || {
            host.is_some_and(|h| h.ping(Duration::from_secs(1)))
        })
    }

    fn record(&self) -> TargetRecord {
        let mut names: Vec<&String> = self.rootfs.keys().collect();
        names.sort();
        let artifacts = names
            .into_iter()
            .map(|w| {
                let (root, prog) = &self.rootfs[w];
                let file = root.join(prog.trim_start_matches('/'));
                Artifact {
                    workload: w.clone(),
                    kind: match self.shim {
                        Shim::Runc => ArtifactKind::StaticBinary,
                        Shim::WasmWamr => ArtifactKind::Wasm,
                    },
                    bytes: super::file_bytes(&file),
                    id: file.display().to_string(),
                }
            })
            .collect();
        let mut knobs = BTreeMap::from([
            ("runtime".to_string(), self.runtime_name().to_string()),
            ("socket".into(), socket().display().to_string()),
            ("namespace".into(), coldbench_containers::containerd::NAMESPACE.into()),
            (
                "client".into(),
                if self.exec {
                    "containerd-client 0.8 gRPC (warm container at prepare; per start tasks.exec → tasks.start with the exec id; teardown: tasks.close_io, tasks.wait → tasks.delete_process)".into()
                } else {
                    "containerd-client 0.8 gRPC (containers.create → tasks.create → tasks.start; tasks.wait → tasks.delete → containers.delete)".into()
                },
            ),
            (
                "rootfs".into(),
                "a prepared host directory (the program, proc/, dev/), read-only; no image, no snapshotter".into(),
            ),
            ("network".into(), "own network namespace, loopback only".into()),
            (
                "teardown".into(),
                match self.shim {
                    Shim::Runc if self.exec => "stdin closed (tasks.close_io with the exec id), exit awaited, process deleted; the warm container stays until the run ends".into(),
                    Shim::Runc => "stdin closed (tasks.close_io), exit awaited, task and container deleted".into(),
                    Shim::WasmWamr => "stdin closed (our end of the FIFO: runwasi's shim has no CloseIO, and coldbench's gives the guest a read-only stdin, so the guest reads end of file), exit awaited, task and container deleted".to_string(),
                },
            ),
            ("hardening".into(), self.hardening.flags()),
        ]);
        if self.shim == Shim::Runc && super::any_workload_dir(self.rootfs.keys()) {
            knobs.insert(
                "workload_dir".into(),
                format!(
                    "a --workload-dir command's directory bind-mounted at {} (rbind, ro) as the working directory: read-only enforced by the kernel",
                    coldbench_containers::WORKLOAD_DIR_MOUNT
                ),
            );
        }
        if self.shim == Shim::WasmWamr {
            knobs.insert(
                "shim".into(),
                format!("{WAMR_SHIM_BINARY}: runwasi containerd-shim-wasm 1.0.1 (youki libcontainer) + WAMR 2.4.3 fast interpreter (wamrx-sys 0.3.0)"),
            );
        }
        TargetRecord {
            id: self.id.clone(),
            family: Family::Container,
            runtime: "containerd".into(),
            runtime_version: self
                .host
                .as_ref()
                .map(|h| h.version().to_string())
                .unwrap_or_default(),
            knobs,
            available: true,
            unavailable_reason: None,
            artifacts,
            start: None,
        }
    }

    /// Connects and prepares `<cache>/<id>/<workload>/`: the program (static
    /// binary or `.wasm`) and the `proc/` and `dev/` mount points.
    fn prepare(&mut self, workload: &str, timeout: Duration) -> TargetResult<Option<u64>> {
        self.host(timeout)?;
        let t0 = Instant::now();
        let (src, name) = match self.shim {
            Shim::Runc => {
                if let Some(why) = crate::artifacts::native_missing(workload) {
                    return Err(TargetError::Unavailable(why));
                }
                (static_binary(workload), workload.to_string())
            }
            Shim::WasmWamr => {
                if crate::artifacts::workload_dir(workload).is_some() {
                    return Err(TargetError::Unavailable(format!(
                        "workload `{workload}` has a --workload-dir, which coldbench's runwasi shim does not preopen for the guest (it gives stdio and arguments only)"
                    )));
                }
                (wasm_module(workload), format!("{workload}.wasm"))
            }
        };
        super::require_built("workload", &src)?;
        let root = self.dir.join(workload);
        let io = |what: &str, p: &Path, e: std::io::Error| {
            TargetError::Failed(format!("{what} {}: {e}", p.display()))
        };
        // Mount points: the root is mounted read-only, runc cannot make them.
        let mount_point = coldbench_containers::WORKLOAD_DIR_MOUNT.trim_start_matches('/');
        for d in ["proc", "dev", mount_point] {
            std::fs::create_dir_all(root.join(d))
                .map_err(|e| io("cannot create", &root.join(d), e))?;
        }
        let dest = root.join(&name);
        std::fs::copy(&src, &dest).map_err(|e| io("cannot copy to", &dest, e))?;
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = if self.shim == Shim::Runc {
                0o755
            } else {
                0o644
            };
            std::fs::set_permissions(&dest, std::fs::Permissions::from_mode(mode))
                .map_err(|e| io("cannot set the mode of", &dest, e))?;
        }
        self.rootfs
            .insert(workload.to_string(), (root, format!("/{name}")));
        if self.exec && !self.warm.contains_key(workload) {
            let warm = self.warm_container(workload, timeout)?;
            self.warm.insert(workload.to_string(), warm);
        }
        Ok(Some(t0.elapsed().as_nanos() as u64))
    }

    fn start(
        &mut self,
        workload: &str,
        serve: bool,
        timeout: Duration,
    ) -> TargetResult<Box<dyn Instance>> {
        if self.exec {
            return self.start_exec(workload, serve, timeout);
        }
        let (mut task, clock) = self.start_task(workload, serve, timeout)?;
        let stdout = task
            .take_stdout()
            .ok_or_else(|| TargetError::Failed("the task has no stdout FIFO".into()))?;
        let stamps_ns = task.stamps().map(|s| {
            [s.created, s.attached, s.started]
                .map(|t| clock.1 + t.saturating_duration_since(clock.0).as_nanos() as u64)
        });
        Ok(Box::new(ContainerdInstance {
            stdout: LineReader::from_pipe(std::process::ChildStdout::from(
                std::os::fd::OwnedFd::from(stdout),
            )),
            task: Some(task),
            stamps_ns,
        }))
    }
}
