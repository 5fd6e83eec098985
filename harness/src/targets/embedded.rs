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
use crate::stream::{LineReader, StampedSender, stamped_channel};
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
mod wasmtime;
pub use wasmtime::*;
mod wasmer;
pub use wasmer::*;
mod wasmi;
pub use wasmi::*;
mod process;
use process::*;
mod instance;
use instance::*;

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
                let Some(prepare_ns) = stamp(&kv, "prepare_ns") else {
                    return Err(TargetError::Failed(format!(
                        "the {} runner loaded {} without saying how long it took (no prepare_ns): \
                         a runner built from another revision? rebuild with cargo build --release",
                        self.variant.runtime,
                        path.display()
                    )));
                };
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
        let (out_tx, stdout) = stamped_channel();
        let (ev_tx, ev_rx) = mpsc::channel();
        rp.routes.lock().unwrap_or_else(|p| p.into_inner()).insert(
            id,
            Route {
                events: ev_tx,
                stdout: Some(out_tx),
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
            stdout,
            events: ev_rx,
            instantiated: None,
            exited: None,
            closed: false,
            ended: false,
            abandoned: self.abandoned.clone(),
        }))
    }
}

#[cfg(test)]
mod tests;
