//! `wasmtime-jit` and `wasmtime-aot`: Wasm instances hosted in a wasmtime runner
//! process (`coldbench-runner-wasmtime`), driven over its stdin/stdout with the
//! frames of `coldbench_protocol::runner` (DESIGN.md §1).

use super::{Instance, Target, TargetError, TargetResult, file_bytes};
use crate::artifacts::{runner_binary, wasm_module};
use crate::stream::LineReader;
use coldbench_protocol::runner::{Frame, Kind, kv_payload, parse_kv};
use coldbench_results::{Artifact, Metric, TargetRecord};
use std::collections::{BTreeMap, HashMap};
use std::io::{BufReader, BufWriter, Write};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

/// Instance ids start here; lower ids name modules.
const FIRST_INSTANCE_ID: u64 = 1 << 32;

/// How the runner gets a module ready for each start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Strategy {
    /// Compile with Cranelift at every start.
    Jit,
    /// Precompile during prepare; deserialize (mmap) at every start.
    Aot,
}

impl Strategy {
    fn name(self) -> &'static str {
        match self {
            Strategy::Jit => "jit",
            Strategy::Aot => "aot",
        }
    }
}

enum Event {
    Instantiated(Vec<(String, String)>),
    Exited(Vec<(String, String)>),
    Error(String),
}

struct Route {
    stdout: mpsc::Sender<Vec<u8>>,
    events: mpsc::Sender<Event>,
}

type Routes = Arc<Mutex<HashMap<u64, Route>>>;

/// The runner's command pipe, shared by the target and its instances.
type CommandPipe = Arc<Mutex<BufWriter<ChildStdin>>>;

/// Writes and flushes one command frame to the runner.
fn write_frame(pipe: &CommandPipe, frame: Frame) -> TargetResult<()> {
    let mut w = pipe.lock().unwrap_or_else(|p| p.into_inner());
    frame
        .write_to(&mut *w)
        .and_then(|_| w.flush())
        .map_err(|e| {
            TargetError::Failed(format!(
                "wasmtime runner is gone (writing a command failed: {e})"
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
}

impl RunnerProcess {
    fn spawn(strategy: Strategy, timeout: Duration) -> TargetResult<RunnerProcess> {
        let bin = runner_binary("wasmtime");
        let mut child = Command::new(&bin)
            .args(["--strategy", strategy.name()])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
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
        std::thread::Builder::new()
            .name("wasmtime-runner-events".into())
            .spawn(move || {
                let mut input = BufReader::with_capacity(256 * 1024, stdout);
                while let Ok(Some(frame)) = Frame::read_from(&mut input) {
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
                            let _ = route.stdout.send(frame.payload);
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
                r.lock().unwrap_or_else(|p| p.into_inner()).clear();
            })
            .map_err(|e| TargetError::Failed(format!("cannot spawn runner reader thread: {e}")))?;
        let mut rp = RunnerProcess {
            child,
            stdin,
            routes,
            control: ctl_rx,
            hello: Vec::new(),
        };
        let hello = rp.recv_control(timeout)?;
        rp.hello = parse_kv(&hello.payload);
        Ok(rp)
    }

    fn send(&self, frame: Frame) -> TargetResult<()> {
        write_frame(&self.stdin, frame)
    }

    fn recv_control(&self, timeout: Duration) -> TargetResult<Frame> {
        self.control.recv_timeout(timeout).map_err(|e| match e {
            mpsc::RecvTimeoutError::Timeout => TargetError::Timeout(format!(
                "wasmtime runner did not answer within {} ms",
                timeout.as_millis()
            )),
            mpsc::RecvTimeoutError::Disconnected => {
                TargetError::Failed("wasmtime runner exited (see its stderr above)".into())
            }
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

/// A wasmtime target variant (one strategy), with its runner process.
pub struct WasmtimeTarget {
    id: String,
    strategy: Strategy,
    cache_dir: PathBuf,
    runner: Option<RunnerProcess>,
    /// workload → (module id, facts reported by the runner at load).
    modules: HashMap<String, (u64, Vec<(String, String)>)>,
    next_module: u64,
    next_instance: u64,
    runtime_version: String,
}

impl WasmtimeTarget {
    /// A target with `strategy`; precompiled modules go to `cache_dir`.
    pub fn new(strategy: Strategy, cache_dir: PathBuf) -> Self {
        WasmtimeTarget {
            id: format!("wasmtime-{}", strategy.name()),
            strategy,
            cache_dir,
            runner: None,
            modules: HashMap::new(),
            next_module: 1,
            next_instance: FIRST_INSTANCE_ID,
            runtime_version: String::new(),
        }
    }

    fn runner(&mut self, timeout: Duration) -> TargetResult<&RunnerProcess> {
        if self.runner.is_none() {
            let rp = RunnerProcess::spawn(self.strategy, timeout)?;
            if let Some((_, v)) = rp.hello.iter().find(|(k, _)| k == "version") {
                self.runtime_version = v.clone();
            }
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
                let prepare_ns = kv
                    .iter()
                    .find(|(k, _)| k == "prepare_ns")
                    .and_then(|(_, v)| v.parse().ok())
                    .unwrap_or(0);
                self.modules.insert(workload.to_string(), (module_id, kv));
                Ok(prepare_ns)
            }
            _ => Err(TargetError::Failed(format!(
                "wasmtime cannot load {}: {}",
                path.display(),
                String::from_utf8_lossy(&reply.payload)
            ))),
        }
    }
}

impl Target for WasmtimeTarget {
    fn id(&self) -> &str {
        &self.id
    }

    /// Kills the runner (it may hold a hung instance); the next start spawns a
    /// new one and loads the modules again.
    fn recover(&mut self) {
        self.runner = None;
    }

    fn record(&self) -> TargetRecord {
        let mut artifacts = Vec::new();
        let mut names: Vec<&String> = self.modules.keys().collect();
        names.sort();
        for w in names {
            let (_, kv) = &self.modules[w];
            let get = |k: &str| kv.iter().find(|(key, _)| key == k).map(|(_, v)| v.clone());
            artifacts.push(Artifact {
                workload: w.clone(),
                kind: "wasm".into(),
                bytes: file_bytes(&wasm_module(w)),
                id: wasm_module(w).display().to_string(),
            });
            if let (Some(bytes), Some(path)) = (get("precompiled_bytes"), get("precompiled_path")) {
                artifacts.push(Artifact {
                    workload: w.clone(),
                    kind: "cwasm".into(),
                    bytes: bytes.parse().unwrap_or(0),
                    id: path,
                });
            }
        }
        let mut knobs = BTreeMap::from([
            ("strategy".to_string(), self.strategy.name().to_string()),
            ("compiler".into(), "cranelift".into()),
            ("opt_level".into(), "speed".into()),
            ("allocator".into(), "on-demand".into()),
            ("wasi".into(), "preview1 (wasmtime-wasi p1, sync)".into()),
            (
                "host".into(),
                "runner process coldbench-runner-wasmtime".into(),
            ),
            (
                "module_cache".into(),
                match self.strategy {
                    Strategy::Jit => "none (compiled at every start)".into(),
                    Strategy::Aot => {
                        "precompiled .cwasm, deserialized from file at every start".into()
                    }
                },
            ),
        ]);
        if self.strategy == Strategy::Aot {
            knobs.insert("cache_dir".into(), self.cache_dir.display().to_string());
        }
        TargetRecord {
            id: self.id.clone(),
            family: "wasm".into(),
            runtime: "wasmtime".into(),
            runtime_version: self.runtime_version.clone(),
            knobs,
            available: true,
            unavailable_reason: None,
            artifacts,
        }
    }

    fn prepare(&mut self, workload: &str, timeout: Duration) -> TargetResult<Option<u64>> {
        let module = wasm_module(workload);
        if !module.is_file() {
            return Err(TargetError::Unavailable(format!(
                "Wasm module {} is missing: rebuild with `cargo build --release`",
                module.display()
            )));
        }
        self.runner(timeout)?;
        if self.modules.contains_key(workload) {
            return Ok(None);
        }
        self.load(workload, timeout).map(Some)
    }

    fn start(&mut self, workload: &str, timeout: Duration) -> TargetResult<Box<dyn Instance>> {
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
                stdout: out_tx,
                events: ev_tx,
            },
        );
        rp.send(Frame {
            kind: Kind::Start,
            instance: id,
            payload: kv_payload(&[
                ("module", module_id.to_string()),
                ("arg", workload.to_string()),
            ]),
        })?;
        Ok(Box::new(WasmtimeInstance {
            id,
            stdin: rp.stdin.clone(),
            stdout: LineReader::new(out_rx),
            events: ev_rx,
            instantiated: None,
            exited: None,
            closed: false,
        }))
    }
}

/// One instance inside the runner.
struct WasmtimeInstance {
    id: u64,
    stdin: CommandPipe,
    stdout: LineReader,
    events: mpsc::Receiver<Event>,
    instantiated: Option<Vec<(String, String)>>,
    exited: Option<Vec<(String, String)>>,
    closed: bool,
}

impl WasmtimeInstance {
    fn send(&self, kind: Kind, payload: Vec<u8>) -> TargetResult<()> {
        write_frame(
            &self.stdin,
            Frame {
                kind,
                instance: self.id,
                payload,
            },
        )
    }

    fn drain_events(&mut self) -> Option<String> {
        while let Ok(ev) = self.events.try_recv() {
            match ev {
                Event::Instantiated(kv) => self.instantiated = Some(kv),
                Event::Error(e) => return Some(e),
                Event::Exited(kv) => self.exited = Some(kv),
            }
        }
        None
    }
}

fn stamp(kv: &[(String, String)], key: &str) -> Option<u64> {
    kv.iter()
        .find(|(k, _)| k == key)
        .and_then(|(_, v)| v.parse().ok())
}

impl Instance for WasmtimeInstance {
    fn stdout(&mut self) -> &mut LineReader {
        &mut self.stdout
    }

    fn write_stdin(&mut self, bytes: &[u8], _timeout: Duration) -> TargetResult<()> {
        self.send(Kind::Stdin, bytes.to_vec())
    }

    fn inner_phases(&mut self) -> Vec<(Metric, u64)> {
        self.drain_events();
        let Some(kv) = &self.instantiated else {
            return Vec::new();
        };
        match (
            stamp(kv, "received_ns"),
            stamp(kv, "module_ready_ns"),
            stamp(kv, "instantiated_ns"),
        ) {
            (Some(a), Some(b), Some(c)) if a <= b && b <= c => vec![
                (Metric::TRunnerModule, b - a),
                (Metric::TRunnerInstantiate, c - b),
            ],
            _ => Vec::new(),
        }
    }

    fn teardown(mut self: Box<Self>, timeout: Duration) -> TargetResult<()> {
        self.send(Kind::CloseStdin, Vec::new())?;
        self.closed = true;
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let next = match self.exited.take() {
                Some(kv) => Ok(Event::Exited(kv)),
                None => self.events.recv_timeout(left),
            };
            match next {
                Ok(Event::Exited(kv)) => {
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
                    return Err(TargetError::Failed(format!("wasmtime runner: {e}")));
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    return Err(TargetError::Timeout(format!(
                        "Wasm instance did not finish within {} ms after stdin closed",
                        timeout.as_millis()
                    )));
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    return Err(TargetError::Failed(
                        "wasmtime runner exited during teardown".into(),
                    ));
                }
            }
        }
    }

    fn diagnostics(&mut self) -> String {
        self.drain_events().unwrap_or_default()
    }
}

impl Drop for WasmtimeInstance {
    fn drop(&mut self) {
        if !self.closed {
            let _ = self.send(Kind::CloseStdin, Vec::new());
        }
    }
}
