//! Wasm runtimes embedded in a runner process (`wasmtime-jit`, `wasmtime-aot`,
//! `wasmtime-pooling`, `wasmer-cranelift`, `wasmer-singlepass`, `wasmi`): one
//! long-lived runner per variant (`coldbench-runner-<runtime>`, built by
//! `harness/build.rs`), driven over its stdin/stdout with the frames of
//! `coldbench_protocol::runner` (docs/design.md §1). Each start is one new instance
//! inside the runner, as on a function platform; the runner's own start is
//! not part of cold start.

use super::{
    BuildContext, HostProbe, Instance, MemoryScope, Priors, Recovery, SharedHost, Target,
    TargetError, TargetFamily, TargetResult, Variant, compile_prior_s, file_artifact, heavy,
    require_built,
};
use crate::artifacts::{runner_binary, wasm_module};
use crate::stream::LineReader;
use coldbench_protocol::monotonic_ns;
use coldbench_protocol::runner::{Frame, Kind, kv_get, kv_payload, parse_kv};
use coldbench_results::{
    Artifact, ArtifactKind, BeforeClock, Family, Metric, StartKind, StartPath, TargetRecord,
};
use std::collections::{BTreeMap, HashMap};
use std::io::{BufReader, BufWriter, Write};
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

/// Instance ids start here; lower ids name modules.
const FIRST_INSTANCE_ID: u64 = 1 << 32;

/// An embedded-runtime variant: which runner, configured how. A runtime
/// that joins is a [`RunnerFamily`] of such variants in its own file (e.g.
/// `wamr.rs`), registered in [`super::FAMILIES`].
#[derive(Debug, Clone, Copy)]
pub struct RunnerVariant {
    /// Stable variant id (`wasmtime-pooling`, `wasmer-singlepass`, `wasmi`, ...).
    pub id: &'static str,
    /// The runtime, which is also the runner's name (`coldbench-runner-<runtime>`);
    /// `<runtime>@<version>` for a runner built on demand against another
    /// version of the runtime ([`super::versions`]).
    pub runtime: &'static str,
    /// The runner's arguments that select this variant (`--strategy aot`).
    pub args: &'static [&'static str],
    /// What happens at each start, for `coldbench targets` and the results file.
    pub description: &'static str,
    /// The kind of the precompiled artifact this variant writes to its cache
    /// directory at prepare, if it writes one.
    pub precompiled: Option<ArtifactKind>,
    /// Whether the runtime stops a guest that runs too long itself (wasmtime:
    /// epoch interruption), leaving its runner and other instances alone;
    /// the runner then takes `--instance-timeout-ms`.
    pub interrupts: bool,
    /// Whether the runner takes `--pool-instances` (a pooling allocator's capacity).
    pub pooled: bool,
    /// Whether the module is compiled, deserialized or loaded into the
    /// runner's memory once at prepare, so that a start only instantiates
    /// (pooling, preloaded); otherwise every start loads it.
    pub module_in_process: bool,
    /// Planning priors of one start of a workload (ETA only).
    pub priors: fn(&str) -> Priors,
    /// Why this variant can never run with this build (e.g. a mode the
    /// bundled runtime was built without), and how to get it; `None`: it
    /// runs where its runner was built.
    pub unavailable: Option<&'static str>,
}

/// Priors of an ahead-of-time compiled runtime: the README's medians.
fn compiled_priors(workload: &str) -> Priors {
    Priors::new(if heavy(workload) { 0.01 } else { 0.002 }, 0.0005)
        .with_prepare_s(compile_prior_s(workload))
}

/// wasmtime's variants, in table order.
pub const WASMTIME: [RunnerVariant; 3] = [
    RunnerVariant {
        id: "wasmtime-jit",
        runtime: "wasmtime",
        args: &["--strategy", "jit"],
        description: "Cranelift compile at every start",
        precompiled: None,
        interrupts: true,
        pooled: false,
        module_in_process: false,
        priors: |w| {
            let start_s = match w {
                "json-validate" => 4.0,
                "thumbnail" => 1.0,
                "hash" => 0.3,
                _ => 0.08,
            };
            Priors::new(start_s, 0.0005)
        },
        unavailable: None,
    },
    RunnerVariant {
        id: "wasmtime-aot",
        runtime: "wasmtime",
        args: &["--strategy", "aot"],
        description: "precompiled .cwasm, deserialized from file (mmap) at every start",
        precompiled: Some(ArtifactKind::Cwasm),
        interrupts: true,
        pooled: false,
        module_in_process: false,
        priors: compiled_priors,
        unavailable: None,
    },
    RunnerVariant {
        id: "wasmtime-pooling",
        runtime: "wasmtime",
        args: &["--strategy", "pooling"],
        description: "precompiled module deserialized once, InstancePre, pooling instance allocator: every start only instantiates",
        precompiled: Some(ArtifactKind::Cwasm),
        interrupts: true,
        pooled: true,
        module_in_process: true,
        priors: compiled_priors,
        unavailable: None,
    },
];

/// wasmer's variants, in table order.
pub const WASMER: [RunnerVariant; 2] = [
    RunnerVariant {
        id: "wasmer-cranelift",
        runtime: "wasmer",
        args: &["--compiler", "cranelift"],
        description: "Cranelift-compiled artifact, deserialized from file at every start (WASIX sys-minimal)",
        precompiled: Some(ArtifactKind::WasmerArtifact),
        interrupts: false,
        pooled: false,
        module_in_process: false,
        priors: |w| {
            Priors::new(if heavy(w) { 0.015 } else { 0.002 }, 0.0005)
                .with_prepare_s(compile_prior_s(w))
        },
        unavailable: None,
    },
    RunnerVariant {
        id: "wasmer-singlepass",
        runtime: "wasmer",
        args: &["--compiler", "singlepass"],
        description: "Singlepass-compiled artifact, deserialized from file at every start (WASIX sys-minimal)",
        precompiled: Some(ArtifactKind::WasmerArtifact),
        interrupts: false,
        pooled: false,
        module_in_process: false,
        priors: |w| {
            Priors::new(if heavy(w) { 0.015 } else { 0.002 }, 0.0005)
                .with_prepare_s(compile_prior_s(w) * 0.2)
        },
        unavailable: None,
    },
];

/// wasmi's variant.
pub const WASMI: [RunnerVariant; 1] = [RunnerVariant {
    id: "wasmi",
    runtime: "wasmi",
    args: &[],
    description: "interpreter: module parsed at every start, functions translated lazily to wasmi bytecode",
    precompiled: None,
    interrupts: false,
    pooled: false,
    module_in_process: false,
    priors: |w| Priors::new(if heavy(w) { 0.07 } else { 0.002 }, 0.0005),
    unavailable: None,
}];

impl RunnerVariant {
    /// A new instance in the warm runner; before the clock the module is
    /// built, precompiled to a file where the variant does that, the
    /// runner running and, for pooling and preloaded, the module in it.
    pub fn start_path(&self) -> StartPath {
        let mut b = vec![BeforeClock::ArtifactBuilt];
        if self.precompiled.is_some() {
            b.push(BeforeClock::ModuleCompiledToFile);
        }
        b.push(BeforeClock::ProcessRunning);
        if self.module_in_process {
            b.push(BeforeClock::ModuleLoadedInProcess);
        }
        StartPath::new(StartKind::InstanceInWarmProcess, &b)
    }

    /// The runner's command-line arguments for this variant; `pool_instances`
    /// sets the pooling allocator's capacity ([pooled](RunnerVariant::pooled)
    /// variants only), `instance_timeout` the time a guest may run without
    /// reading input (runtimes that [interrupt](RunnerVariant::interrupts) only).
    fn runner_args(
        &self,
        pool_instances: Option<u32>,
        instance_timeout: Option<Duration>,
    ) -> Vec<String> {
        let mut args: Vec<String> = self.args.iter().map(|s| s.to_string()).collect();
        if let (true, Some(n)) = (self.pooled, pool_instances) {
            args.extend(["--pool-instances".to_string(), n.to_string()]);
        }
        if let (true, Some(t)) = (self.interrupts, instance_timeout) {
            let ms = t.as_millis().max(1);
            args.extend(["--instance-timeout-ms".to_string(), ms.to_string()]);
        }
        args
    }
}

/// A family of embedded-runtime variants, each started in its runtime's
/// runner process (`coldbench-runner-<runtime>`, built by `harness/build.rs`).
pub struct RunnerFamily {
    /// The variants, in table order.
    pub variants: &'static [RunnerVariant],
}

/// wasmtime, wasmer and wasmi, embedded in their runners.
pub static FAMILY: RunnerFamily = RunnerFamily {
    variants: &[
        WASMTIME[0],
        WASMTIME[1],
        WASMTIME[2],
        WASMER[0],
        WASMER[1],
        WASMI[0],
    ],
};

impl RunnerFamily {
    fn variant(&self, v: &Variant) -> RunnerVariant {
        *self
            .variants
            .iter()
            .find(|r| r.id == v.id)
            .expect("a variant of this family")
    }
}

impl TargetFamily for RunnerFamily {
    fn variants(&'static self) -> Vec<Variant> {
        self.variants
            .iter()
            .map(|r| Variant {
                id: r.id.to_string(),
                family: Family::Wasm,
                description: format!("{}: {}", r.runtime, r.description),
                start: r.start_path(),
                provider: self,
            })
            .collect()
    }

    fn availability(&self, v: &Variant, _host: &HostProbe) -> Result<(), String> {
        if let Some(why) = self.variant(v).unavailable {
            return Err(why.to_string());
        }
        let runtime = self.variant(v).runtime;
        let bin = runner_binary(runtime);
        if bin.is_file() {
            Ok(())
        } else if let Some((name, version)) = runtime.split_once('@') {
            Err(format!(
                "{name} {version} is built on demand, not by `cargo build`: run `scripts/build-runtime-version.sh {name} {version}` (8-15 min on 2 cores); it writes {}",
                bin.display()
            ))
        } else {
            Err(format!(
                "runner {} is missing: rebuild with `cargo build --release`",
                bin.display()
            ))
        }
    }

    fn build(&self, v: &Variant, ctx: &BuildContext<'_>) -> Box<dyn Target> {
        // One cache directory per runtime (and version): two versions of a
        // runtime must never read each other's precompiled modules.
        let runtime = self.variant(v).runtime;
        Box::new(
            RunnerTarget::new(self.variant(v), ctx.cache_dir.join(runtime))
                .with_pool_instances(ctx.options.pool_instances)
                .with_instance_timeout(ctx.options.instance_timeout),
        )
    }

    fn runtime(&self, v: &Variant, _host: &HostProbe) -> (String, String) {
        (self.variant(v).runtime.to_string(), String::new())
    }

    fn priors(&self, v: &Variant, workload: &str) -> Priors {
        (self.variant(v).priors)(workload)
    }

    fn through_runner(&self) -> bool {
        true
    }
}

enum Event {
    Instantiated(Vec<(String, String)>),
    Exited(Vec<(String, String)>),
    Error(String),
}

/// Where a runner's events for one instance go. Field order matters: fields
/// drop in declaration order, so when the instance sees its stdout end, its
/// events channel has already ended too and says why.
struct Route {
    events: mpsc::Sender<Event>,
    /// The guest's stdout bytes, each with the `CLOCK_MONOTONIC` ns at which
    /// the event thread read their frame ([`LineReader::stamped`]).
    stdout: mpsc::Sender<(Vec<u8>, u64)>,
}

type Routes = Arc<Mutex<HashMap<u64, Route>>>;

/// The runner's command pipe, shared by the target and its instances.
type CommandPipe = Arc<Mutex<BufWriter<ChildStdin>>>;

/// Writes and flushes one command frame to the runner.
fn write_frame(pipe: &CommandPipe, frame: Frame, runtime: &str) -> TargetResult<()> {
    let mut w = pipe.lock().unwrap_or_else(|p| p.into_inner());
    frame
        .write_to(&mut *w)
        .and_then(|_| w.flush())
        .map_err(|e| {
            TargetError::Failed(format!(
                "the {runtime} runner is gone (killed or crashed; writing a command to it failed: {e}): every instance it held is lost; the runner is restarted for the next start"
            ))
        })
}

/// A live runner process: commands go through `stdin`, a dispatcher thread
/// routes events to instances and module-level replies to `control`.
struct RunnerProcess {
    child: Child,
    stdin: CommandPipe,
    routes: Routes,
    control: mpsc::Receiver<Frame>,
    hello: Vec<(String, String)>,
    runtime: &'static str,
    /// Set by the event thread when the runner's output ended: the runner
    /// is dead or dying (its pipe closes before it can be waited for).
    gone: Arc<std::sync::atomic::AtomicBool>,
}

impl RunnerProcess {
    fn spawn(
        variant: RunnerVariant,
        args: Vec<String>,
        timeout: Duration,
    ) -> TargetResult<RunnerProcess> {
        let runtime = variant.runtime;
        let bin = runner_binary(runtime);
        let mut child = Command::new(&bin)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            // Own process group: a terminal's Ctrl-C reaches the harness only,
            // which then tears every instance down itself.
            .process_group(0)
            // Names this harness: a later coldbench kills it if we are gone.
            .env(crate::reap::OWNER_ENV, crate::reap::owner())
            .spawn()
            .map_err(|e| {
                TargetError::Unavailable(format!(
                    "cannot start runner {}: {e}; rebuild with `cargo build --release`",
                    bin.display()
                ))
            })?;
        let stdin = Arc::new(Mutex::new(BufWriter::new(
            child.stdin.take().expect("piped"),
        )));
        let stdout = child.stdout.take().expect("piped");
        let routes: Routes = Arc::new(Mutex::new(HashMap::new()));
        let (ctl_tx, ctl_rx) = mpsc::channel();
        let r = routes.clone();
        let gone = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let gone_flag = gone.clone();
        std::thread::Builder::new()
            .name(format!("{runtime}-runner-events"))
            .spawn(move || {
                let mut input = BufReader::with_capacity(256 * 1024, stdout);
                while let Ok(Some(frame)) = Frame::read_from(&mut input) {
                    // When the harness had the frame: a ready line's read,
                    // not the measuring thread's wake-up after it.
                    let read_ns = monotonic_ns();
                    if frame.instance < FIRST_INSTANCE_ID {
                        let _ = ctl_tx.send(frame);
                        continue;
                    }
                    let mut routes = r.lock().unwrap_or_else(|p| p.into_inner());
                    let Some(route) = routes.get(&frame.instance) else {
                        continue;
                    };
                    match frame.kind {
                        Kind::Stdout => {
                            let _ = route.stdout.send((frame.payload, read_ns));
                        }
                        Kind::Instantiated => {
                            let _ = route
                                .events
                                .send(Event::Instantiated(parse_kv(&frame.payload)));
                        }
                        Kind::Exited => {
                            let _ = route.events.send(Event::Exited(parse_kv(&frame.payload)));
                            routes.remove(&frame.instance);
                        }
                        Kind::Error => {
                            let msg = String::from_utf8_lossy(&frame.payload).into_owned();
                            let _ = route.events.send(Event::Error(msg));
                            routes.remove(&frame.instance);
                        }
                        _ => {}
                    }
                }
                // Runner gone: dropping every route closes every instance's stdout.
                gone_flag.store(true, std::sync::atomic::Ordering::SeqCst);
                r.lock().unwrap_or_else(|p| p.into_inner()).clear();
            })
            .map_err(|e| TargetError::Failed(format!("cannot spawn runner reader thread: {e}")))?;
        let mut rp = RunnerProcess {
            child,
            stdin,
            routes,
            control: ctl_rx,
            hello: Vec::new(),
            runtime,
            gone,
        };
        let hello = rp.recv_control(timeout)?;
        rp.hello = parse_kv(&hello.payload);
        Ok(rp)
    }

    fn send(&self, frame: Frame) -> TargetResult<()> {
        write_frame(&self.stdin, frame, self.runtime)
    }

    fn recv_control(&self, timeout: Duration) -> TargetResult<Frame> {
        self.control.recv_timeout(timeout).map_err(|e| match e {
            mpsc::RecvTimeoutError::Timeout => TargetError::Timeout(format!(
                "{} runner did not answer within {} ms",
                self.runtime,
                timeout.as_millis()
            )),
            mpsc::RecvTimeoutError::Disconnected => TargetError::Failed(format!(
                "{} runner exited (see its stderr above)",
                self.runtime
            )),
        })
    }
}

impl Drop for RunnerProcess {
    fn drop(&mut self) {
        let _ = self.send(Frame {
            kind: Kind::Shutdown,
            instance: 0,
            payload: Vec::new(),
        });
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An instance dropped before it finished (a failed start or request): the
/// target waits for its end at [`Target::recover`].
struct Abandoned {
    id: u64,
    events: mpsc::Receiver<Event>,
}

/// Instances abandoned since the last recovery, shared with the instances.
type AbandonedList = Arc<Mutex<Vec<Abandoned>>>;

/// How long [`Target::recover`] waits for an abandoned instance to end
/// beyond the runtime's own deadline (1 s): an instance that failed without
/// hanging ends as soon as its stdin is closed.
const ABANDONED_GRACE: Duration = Duration::from_secs(1);

/// An embedded-runtime target (one [`RunnerVariant`]), with its runner process.
pub struct RunnerTarget {
    variant: RunnerVariant,
    cache_dir: PathBuf,
    runner: Option<RunnerProcess>,
    /// workload → (module id, facts reported by the runner at load).
    modules: HashMap<String, (u64, Vec<(String, String)>)>,
    next_module: u64,
    next_instance: u64,
    runtime_version: String,
    /// Facts the runner reported when it started (version, knobs).
    hello: Vec<(String, String)>,
    /// Pooling allocator capacity passed to the runner (`None`: its default).
    pool_instances: Option<u32>,
    /// How long a guest may run without reading input before the runtime
    /// stops it (runtimes that interrupt); `None`: never.
    instance_timeout: Option<Duration>,
    /// Instances dropped before they finished.
    abandoned: AbandonedList,
}

impl RunnerTarget {
    /// A target for `variant`; precompiled modules go to `cache_dir`.
    pub fn new(variant: RunnerVariant, cache_dir: PathBuf) -> Self {
        RunnerTarget {
            variant,
            cache_dir,
            runner: None,
            modules: HashMap::new(),
            next_module: 1,
            next_instance: FIRST_INSTANCE_ID,
            runtime_version: String::new(),
            hello: Vec::new(),
            pool_instances: None,
            instance_timeout: None,
            abandoned: Arc::new(Mutex::new(Vec::new())),
        }
    }

    /// Sets how long a guest may run without reading its stdin before the
    /// runtime stops it, for runners started from now on (wasmtime: epoch
    /// interruption; other runtimes cannot, and their runner is restarted).
    pub fn with_instance_timeout(mut self, t: Option<Duration>) -> Self {
        self.instance_timeout = t;
        self
    }

    fn args(&self) -> Vec<String> {
        self.variant
            .runner_args(self.pool_instances, self.instance_timeout)
    }

    /// Sets the pooling allocator's capacity (instances, memories and tables
    /// alive at once) of a `wasmtime-pooling` runner started from now on.
    pub fn with_pool_instances(mut self, n: Option<u32>) -> Self {
        self.pool_instances = n;
        self
    }

    fn runner(&mut self, timeout: Duration) -> TargetResult<&RunnerProcess> {
        if self.runner.is_none() {
            let rp = RunnerProcess::spawn(self.variant, self.args(), timeout)?;
            if let Some(v) = kv_get_owned(&rp.hello, "version") {
                self.runtime_version = v;
            }
            self.hello = rp.hello.clone();
            // A fresh runner knows no module: load again what was prepared.
            self.runner = Some(rp);
            let workloads: Vec<String> = self.modules.keys().cloned().collect();
            self.modules.clear();
            for w in workloads {
                self.load(&w, timeout)?;
            }
        }
        Ok(self.runner.as_ref().expect("just set"))
    }

    fn load(&mut self, workload: &str, timeout: Duration) -> TargetResult<u64> {
        let module_id = self.next_module;
        self.next_module += 1;
        let path = wasm_module(workload);
        let rp = self.runner.as_ref().expect("runner started");
        rp.send(Frame {
            kind: Kind::Load,
            instance: module_id,
            payload: kv_payload(&[
                ("path", path.display().to_string()),
                ("cache_dir", self.cache_dir.display().to_string()),
            ]),
        })?;
        let reply = rp.recv_control(timeout)?;
        match reply.kind {
            Kind::Loaded => {
                let kv = parse_kv(&reply.payload);
                let prepare_ns = stamp(&kv, "prepare_ns").unwrap_or(0);
                self.modules.insert(workload.to_string(), (module_id, kv));
                Ok(prepare_ns)
            }
            _ => Err(TargetError::Failed(format!(
                "{} cannot load {}: {}",
                self.variant.runtime,
                path.display(),
                String::from_utf8_lossy(&reply.payload)
            ))),
        }
    }
}

impl Target for RunnerTarget {
    fn id(&self) -> &str {
        self.variant.id
    }

    /// Waits (bounded) for every instance dropped since the last call to
    /// end: a runtime that interrupts stops a hung guest itself after its
    /// deadline, an instance that failed otherwise ends when its stdin is
    /// closed. If one does not end, or the runner has died, the runner is
    /// killed; the next start spawns a new one and loads the modules again
    /// (its other live instances are lost).
    fn recover(&mut self) -> Recovery {
        let abandoned: Vec<Abandoned> =
            std::mem::take(&mut *self.abandoned.lock().unwrap_or_else(|p| p.into_inner()));
        let runtime = self.variant.runtime;
        let Some(rp) = self.runner.as_mut() else {
            return Recovery::Nothing;
        };
        let pid = rp.child.id();
        let exited = match rp.child.try_wait() {
            Ok(Some(status)) => Some(status.to_string()),
            _ if rp.gone.load(std::sync::atomic::Ordering::SeqCst) => {
                Some("its output ended".to_string())
            }
            _ => None,
        };
        if let Some(how) = exited {
            self.runner = None;
            return Recovery::HostRestarted(format!(
                "the {runtime} runner (pid {pid}) had exited ({how}); a new one is started for the next instance"
            ));
        }
        let bound = ABANDONED_GRACE
            + if self.variant.interrupts {
                self.instance_timeout.unwrap_or_default()
            } else {
                Duration::ZERO
            };
        let deadline = Instant::now() + bound;
        let mut stopped = Vec::new();
        for a in abandoned {
            loop {
                let left = deadline.saturating_duration_since(Instant::now());
                match a.events.recv_timeout(left) {
                    Ok(Event::Instantiated(_)) => continue,
                    Ok(Event::Exited(_)) => break,
                    Ok(Event::Error(e)) => {
                        if e.contains("interrupted") {
                            stopped.push(e);
                        }
                        break;
                    }
                    Err(mpsc::RecvTimeoutError::Disconnected) => break,
                    Err(mpsc::RecvTimeoutError::Timeout) => {
                        self.runner = None;
                        return Recovery::HostRestarted(format!(
                            "instance {} did not end within {} ms of being abandoned: the {runtime} runner (pid {pid}) was killed, with every instance it held; a new one is started for the next instance",
                            a.id,
                            bound.as_millis()
                        ));
                    }
                }
            }
        }
        match stopped.into_iter().next() {
            Some(e) => Recovery::InstanceStopped(format!(
                "the {runtime} runtime stopped the instance itself ({e}); runner pid {pid} and its other instances go on"
            )),
            None => Recovery::Nothing,
        }
    }

    fn record(&self) -> TargetRecord {
        let mut artifacts = Vec::new();
        let mut names: Vec<&String> = self.modules.keys().collect();
        names.sort();
        for w in names {
            let (_, kv) = &self.modules[w];
            artifacts.push(file_artifact(w, ArtifactKind::Wasm, &wasm_module(w)));
            if let (Some(kind), Some(bytes), Some(path)) = (
                self.variant.precompiled,
                kv_get_owned(kv, "precompiled_bytes"),
                kv_get_owned(kv, "precompiled_path"),
            ) {
                artifacts.push(Artifact {
                    workload: w.clone(),
                    kind,
                    bytes: bytes.parse().unwrap_or(0),
                    id: path,
                });
            }
        }
        // Knobs the runner reported about itself, then what the harness does.
        let mut knobs: BTreeMap<String, String> = self
            .hello
            .iter()
            .filter(|(k, _)| k != "runtime" && k != "version")
            .cloned()
            .collect();
        knobs.insert("per_start".into(), self.variant.description.into());
        knobs.insert(
            "host".into(),
            format!(
                "runner process coldbench-runner-{} {}",
                self.variant.runtime,
                self.args().join(" ")
            )
            .trim_end()
            .to_string(),
        );
        if self.variant.precompiled.is_some() {
            knobs.insert("cache_dir".into(), self.cache_dir.display().to_string());
        }
        TargetRecord {
            id: self.variant.id.into(),
            family: Family::Wasm,
            runtime: self.variant.runtime.into(),
            runtime_version: self.runtime_version.clone(),
            knobs,
            available: true,
            unavailable_reason: None,
            artifacts,
            start: None,
        }
    }

    /// The runner process and its `Report` (live instances, linear memory).
    fn shared_host(&mut self, timeout: Duration) -> Option<SharedHost> {
        let rp = self.runner.as_ref()?;
        let pid = rp.child.id();
        let mut host = SharedHost {
            pid,
            live_instances: None,
            linear_memory_bytes: None,
        };
        let asked = rp.send(Frame {
            kind: Kind::Query,
            instance: 0,
            payload: Vec::new(),
        });
        if asked.is_ok()
            && let Ok(reply) = rp.recv_control(timeout)
            && reply.kind == Kind::Report
        {
            let kv = parse_kv(&reply.payload);
            host.live_instances = stamp(&kv, "live_instances");
            host.linear_memory_bytes = stamp(&kv, "linear_memory_bytes");
        }
        Some(host)
    }

    fn in_process_floor(
        &mut self,
        workload: &str,
        plan: &coldbench_protocol::runner::FloorPlan,
        timeout: Duration,
    ) -> Option<Result<(String, Vec<u64>), String>> {
        let measured = (|| {
            self.prepare(workload, timeout).map_err(|e| e.to_string())?;
            let module_id = self.modules[workload].0;
            let rp = self.runner.as_ref().expect("prepared");
            let mut kv = vec![
                ("warmup", plan.warmup.to_string()),
                ("iterations", plan.iterations.to_string()),
                ("min_iterations", plan.min_iterations.to_string()),
                ("budget_ms", (plan.budget_ns / 1_000_000).to_string()),
                ("idle_us", (plan.idle_ns / 1_000).to_string()),
            ];
            kv.extend(guest_args(workload, true));
            rp.send(Frame {
                kind: Kind::Floor,
                instance: module_id,
                payload: kv_payload(&kv),
            })
            .map_err(|e| e.to_string())?;
            let reply = rp.recv_control(timeout).map_err(|e| e.to_string())?;
            let text = String::from_utf8_lossy(&reply.payload).into_owned();
            if reply.kind != Kind::Floored {
                return Err(text);
            }
            let kv = parse_kv(&reply.payload);
            let samples: Result<Vec<u64>, _> = kv_get(&kv, "samples_ns")
                .unwrap_or("")
                .split(',')
                .filter(|v| !v.is_empty())
                .map(str::parse)
                .collect();
            match samples {
                Ok(samples) if !samples.is_empty() => {
                    Ok((kv_get_owned(&kv, "what").unwrap_or_default(), samples))
                }
                _ => Err(format!("the runner answered no durations: {text}")),
            }
        })();
        Some(measured)
    }

    fn prepare(&mut self, workload: &str, timeout: Duration) -> TargetResult<Option<u64>> {
        require_built("Wasm module", &wasm_module(workload))?;
        self.runner(timeout)?;
        if crate::artifacts::workload_dir(workload).is_some()
            && kv_get_owned(&self.hello, "workload_dir").is_none()
        {
            return Err(TargetError::Unavailable(format!(
                "workload `{workload}` has a --workload-dir and runner {} does not say it gives one (built before --workload-dir existed): rebuild it",
                runner_binary(self.variant.runtime).display()
            )));
        }
        if self.modules.contains_key(workload) {
            return Ok(None);
        }
        self.load(workload, timeout).map(Some)
    }

    fn start(
        &mut self,
        workload: &str,
        serve: bool,
        timeout: Duration,
    ) -> TargetResult<Box<dyn Instance>> {
        if !self.modules.contains_key(workload) || self.runner.is_none() {
            self.prepare(workload, timeout)?;
        }
        let module_id = self.modules[workload].0;
        let id = self.next_instance;
        self.next_instance += 1;
        let rp = self.runner.as_ref().expect("prepared");
        let (out_tx, out_rx) = mpsc::channel();
        let (ev_tx, ev_rx) = mpsc::channel();
        rp.routes.lock().unwrap_or_else(|p| p.into_inner()).insert(
            id,
            Route {
                events: ev_tx,
                stdout: out_tx,
            },
        );
        rp.send(Frame {
            kind: Kind::Start,
            instance: id,
            payload: {
                let mut kv = vec![("module", module_id.to_string())];
                kv.extend(guest_args(workload, serve));
                kv_payload(&kv)
            },
        })?;
        Ok(Box::new(RunnerInstance {
            id,
            runtime: self.variant.runtime,
            stdin: rp.stdin.clone(),
            stdout: LineReader::stamped(out_rx),
            events: ev_rx,
            instantiated: None,
            exited: None,
            closed: false,
            ended: false,
            abandoned: self.abandoned.clone(),
        }))
    }
}

/// One instance inside the runner.
struct RunnerInstance {
    id: u64,
    runtime: &'static str,
    stdin: CommandPipe,
    stdout: LineReader,
    events: mpsc::Receiver<Event>,
    instantiated: Option<Vec<(String, String)>>,
    exited: Option<Vec<(String, String)>>,
    closed: bool,
    /// An `Exited` or `Error` event was seen, or the runner is gone.
    ended: bool,
    /// Where it goes if dropped before it ended.
    abandoned: AbandonedList,
}

impl RunnerInstance {
    fn send(&self, kind: Kind, payload: Vec<u8>) -> TargetResult<()> {
        write_frame(
            &self.stdin,
            Frame {
                kind,
                instance: self.id,
                payload,
            },
            self.runtime,
        )
    }

    /// Takes the events received so far; returns the runner's error for
    /// this instance, or a message if the runner is gone.
    fn drain_events(&mut self) -> Option<String> {
        loop {
            match self.events.try_recv() {
                Ok(Event::Instantiated(kv)) => self.instantiated = Some(kv),
                Ok(Event::Error(e)) => {
                    self.ended = true;
                    return Some(e);
                }
                Ok(Event::Exited(kv)) => {
                    self.ended = true;
                    self.exited = Some(kv);
                }
                Err(mpsc::TryRecvError::Empty) => return None,
                Err(mpsc::TryRecvError::Disconnected) => {
                    if self.ended {
                        return None;
                    }
                    self.ended = true;
                    return Some(format!(
                        "the {} runner exited (killed or crashed) while this instance was alive: every instance it held is lost; the runner is restarted for the next start",
                        self.runtime
                    ));
                }
            }
        }
    }
}

/// The guest's argv as `arg=` pairs of a start (or floor) command: the
/// workload's name, then its arguments; a command's `--workload-dir` as `dir`.
fn guest_args(workload: &str, serve: bool) -> Vec<(&'static str, String)> {
    std::iter::once(workload.to_string())
        .chain(super::workload_args(workload, serve))
        .map(|a| ("arg", a))
        .chain(crate::artifacts::workload_dir(workload).map(|d| ("dir", d.display().to_string())))
        .collect()
}

/// See [`RunnerInstance::inner_phases`]: each present stamp closes the phase
/// named beside it. The start-read and instantiated stamps are required; the
/// last phase (`t_ready_return`) only exists with the first-stdout stamp.
fn runner_phases(kv: &[(String, String)], t0_ns: u64, ready_read_ns: u64) -> Vec<(Metric, u64)> {
    let (Some(received), Some(instantiated)) =
        (stamp(kv, "received_ns"), stamp(kv, "instantiated_ns"))
    else {
        return Vec::new();
    };
    let first_stdout = stamp(kv, "first_stdout_ns");
    let chain = [
        (Some(received), Metric::TRunnerDispatch),
        (stamp(kv, "thread_ns"), Metric::TRunnerHandoff),
        (stamp(kv, "module_ready_ns"), Metric::TRunnerModule),
        (Some(instantiated), Metric::TRunnerInstantiate),
        (first_stdout, Metric::TGuestReady),
        (first_stdout.map(|_| ready_read_ns), Metric::TReadyReturn),
    ];
    let mut out = Vec::new();
    let mut prev = t0_ns;
    for (at, metric) in chain {
        let Some(at) = at else { continue };
        if at < prev {
            return Vec::new();
        }
        out.push((metric, at - prev));
        prev = at;
    }
    out
}

fn stamp(kv: &[(String, String)], key: &str) -> Option<u64> {
    kv_get(kv, key).and_then(|v| v.parse().ok())
}

fn kv_get_owned(kv: &[(String, String)], key: &str) -> Option<String> {
    kv_get(kv, key).map(str::to_string)
}

impl Instance for RunnerInstance {
    fn stdout(&mut self) -> &mut LineReader {
        &mut self.stdout
    }

    fn write_stdin(&mut self, bytes: &[u8], _timeout: Duration) -> TargetResult<()> {
        self.send(Kind::Stdin, bytes.to_vec())
    }

    /// The runner phases from the stamps the runner sent with the guest's
    /// first stdout bytes: the chain harness start call → start read →
    /// thread running → module ready → instantiated → first stdout → ready
    /// line read. A stamp a runner does not take merges its interval into the
    /// next phase; the phases add up to `t_ready`. No phases if the stamps are
    /// missing or out of order.
    fn inner_phases(&mut self, t0_ns: u64, ready_read_ns: u64) -> Vec<(Metric, u64)> {
        self.drain_events();
        let Some(kv) = &self.instantiated else {
            return Vec::new();
        };
        runner_phases(kv, t0_ns, ready_read_ns)
    }

    fn close_stdin(&mut self) -> TargetResult<()> {
        if !self.closed {
            self.send(Kind::CloseStdin, Vec::new())?;
            self.closed = true;
        }
        Ok(())
    }

    fn teardown(mut self: Box<Self>, timeout: Duration) -> TargetResult<()> {
        self.close_stdin()?;
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let next = match self.exited.take() {
                Some(kv) => Ok(Event::Exited(kv)),
                None => self.events.recv_timeout(left),
            };
            match next {
                Ok(Event::Exited(kv)) => {
                    self.ended = true;
                    let code = stamp(&kv, "exit_code").unwrap_or(0);
                    return if code == 0 {
                        Ok(())
                    } else {
                        Err(TargetError::Failed(format!(
                            "guest exited with code {code}"
                        )))
                    };
                }
                Ok(Event::Instantiated(kv)) => self.instantiated = Some(kv),
                Ok(Event::Error(e)) => {
                    self.ended = true;
                    return Err(TargetError::Failed(format!("{} runner: {e}", self.runtime)));
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    return Err(TargetError::Timeout(format!(
                        "Wasm instance did not finish within {} ms after stdin closed",
                        timeout.as_millis()
                    )));
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    self.ended = true;
                    return Err(TargetError::Failed(format!(
                        "{} runner exited during teardown",
                        self.runtime
                    )));
                }
            }
        }
    }

    fn diagnostics(&mut self) -> String {
        self.drain_events().unwrap_or_default()
    }

    fn memory_scope(&mut self, _timeout: Duration) -> MemoryScope {
        MemoryScope::SharedHost
    }
}

impl Drop for RunnerInstance {
    fn drop(&mut self) {
        if !self.closed {
            let _ = self.send(Kind::CloseStdin, Vec::new());
        }
        if !self.ended {
            // Its end (or its hang) is for the target's recovery to see.
            let (_, dead) = mpsc::channel();
            let events = std::mem::replace(&mut self.events, dead);
            self.abandoned
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push(Abandoned {
                    id: self.id,
                    events,
                });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kv(pairs: &[(&str, u64)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn runner_phases_add_up_to_t_ready() {
        let stamps = kv(&[
            ("received_ns", 110),
            ("thread_ns", 130),
            ("module_ready_ns", 200),
            ("instantiated_ns", 260),
            ("first_stdout_ns", 300),
        ]);
        let phases = runner_phases(&stamps, 100, 345);
        assert_eq!(
            phases,
            vec![
                (Metric::TRunnerDispatch, 10),
                (Metric::TRunnerHandoff, 20),
                (Metric::TRunnerModule, 70),
                (Metric::TRunnerInstantiate, 60),
                (Metric::TGuestReady, 40),
                (Metric::TReadyReturn, 45),
            ]
        );
    }

    #[test]
    fn a_missing_stamp_merges_into_the_next_phase() {
        // wasmtime-pooling: no module phase; instantiate starts at the thread stamp.
        let stamps = kv(&[
            ("received_ns", 110),
            ("thread_ns", 130),
            ("instantiated_ns", 160),
            ("first_stdout_ns", 190),
        ]);
        let phases = runner_phases(&stamps, 100, 200);
        assert!(!phases.iter().any(|(m, _)| *m == Metric::TRunnerModule));
        assert!(phases.contains(&(Metric::TRunnerInstantiate, 30)));
        // No first-stdout stamp: no guest or return phase (never a merged one).
        let stamps = kv(&[("received_ns", 110), ("instantiated_ns", 160)]);
        let phases = runner_phases(&stamps, 100, 200);
        assert_eq!(
            phases,
            vec![
                (Metric::TRunnerDispatch, 10),
                (Metric::TRunnerInstantiate, 50)
            ]
        );
    }

    #[test]
    fn stamps_out_of_order_or_missing_give_no_phases() {
        let backwards = kv(&[("received_ns", 90), ("instantiated_ns", 160)]);
        assert!(runner_phases(&backwards, 100, 200).is_empty());
        let late_read = kv(&[
            ("received_ns", 110),
            ("instantiated_ns", 160),
            ("first_stdout_ns", 250),
        ]);
        assert!(runner_phases(&late_read, 100, 200).is_empty());
        assert!(runner_phases(&kv(&[("received_ns", 110)]), 100, 200).is_empty());
    }
}
