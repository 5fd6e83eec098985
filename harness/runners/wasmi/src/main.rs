//! `coldbench-runner-wasmi`: a small process that hosts WebAssembly instances
//! in the wasmi interpreter with WASI preview 1 (`wasmi_wasi`, on
//! `wasi-common`) on behalf of the coldbench harness (docs/design.md §1).
//!
//! Usage: `coldbench-runner-wasmi` (no options) or `--version`. The harness
//! sends control frames on stdin and reads events on stdout
//! (`coldbench_protocol::runner`).
//!
//! `Load` reads and validates the module's bytes. Every `Start` parses the
//! module (`Module::new`, lazy translation: functions become wasmi bytecode on
//! first call), instantiates it and runs `_start` on the instance's own thread.
//! The guest's stdin and stdout are OS pipes. In-runner stamps are
//! `CLOCK_MONOTONIC` nanoseconds, the clock the harness reads.
//!
//! Confinement of each instance: WASI preview 1 with arguments, stdin,
//! stdout and stderr only (no preopened directory — but a `--workload-dir`
//! command's, as `.` and writable: wasi-common has no read-only preopen —,
//! no environment variable,
//! no socket), linear memory capped at [`INSTANCE_MEMORY_LIMIT_BYTES`] by
//! wasmi's `StoreLimits` (a `memory.grow` beyond it returns -1). No fuel:
//! metering would slow every instruction of the interpreter, so a guest
//! that never stops is stopped by the harness killing this runner.

use coldbench_protocol::monotonic_ns;
use coldbench_protocol::runner::{
    EventSink, FloorPlan, InstanceEvents, RunnerHost, StartRequest, Workers, read_module,
    start_piped,
};
use std::collections::HashMap;
use std::sync::{Arc, mpsc};
use wasmi::{
    CompilationMode, Config, Engine, Linker, Module, Store, StoreLimits, StoreLimitsBuilder,
};
use wasmi_wasi::WasiCtx;

/// Version of the wasmi crate this runner was built against (its Cargo.toml pin).
const WASMI_VERSION: &str = "2.0.0";

/// Largest linear memory of one instance, bytes (1 GiB: the memory limit
/// coldbench gives a container, `coldbench_containers::Hardening::hardened`).
const INSTANCE_MEMORY_LIMIT_BYTES: usize = 1 << 30;

/// Store data of one instance: its WASI context and its limits.
struct Host {
    wasi: WasiCtx,
    limits: StoreLimits,
}

struct Runner {
    engine: Engine,
    linker: Arc<Linker<Host>>,
    modules: HashMap<u64, Arc<Vec<u8>>>,
    /// Feeds each instance's stdin writer thread; dropping the sender is end of file.
    stdins: HashMap<u64, mpsc::Sender<Vec<u8>>>,
    events: EventSink,
    /// Instance threads (and each instance's stdin writer and stdout
    /// forwarder), pre-spawned.
    workers: Workers,
}

impl RunnerHost for Runner {
    fn load(
        &mut self,
        module: u64,
        kv: &[(String, String)],
    ) -> Result<Vec<(&'static str, String)>, String> {
        let t0 = monotonic_ns();
        let (path, bytes) = read_module(kv)?;
        Module::validate(&self.engine, &bytes)
            .map_err(|e| format!("{} is not a valid WebAssembly module: {e}", path.display()))?;
        let out = vec![
            ("wasm_bytes", bytes.len().to_string()),
            ("prepare_ns", (monotonic_ns() - t0).to_string()),
        ];
        self.modules.insert(module, Arc::new(bytes));
        Ok(out)
    }

    fn start(&mut self, id: u64, request: StartRequest) -> Result<(), String> {
        let bytes = self
            .modules
            .get(&request.module)
            .cloned()
            .ok_or_else(|| format!("start: module {} was never loaded", request.module))?;
        let engine = self.engine.clone();
        let linker = self.linker.clone();
        let tx = start_piped(
            &mut self.workers,
            InstanceEvents::new(&self.events, id),
            move |stdin, stdout, events, thread_ns| {
                run_instance(
                    &engine, &linker, &bytes, request, thread_ns, stdin, stdout, events,
                )
            },
        )?;
        self.stdins.insert(id, tx);
        Ok(())
    }

    /// The start's own path ([`run_instance`]) on this thread: stdin a
    /// pipe at end of file, stdout a pipe nobody reads (noop writes a line).
    fn floor(
        &mut self,
        module: u64,
        args: &[String],
        plan: &FloorPlan,
    ) -> Result<(String, Vec<u64>), String> {
        let bytes = self
            .modules
            .get(&module)
            .cloned()
            .ok_or_else(|| format!("floor: module {module} was never loaded"))?;
        let samples = plan.time(|| {
            let (stdin, _stdout_read, stdout) = FloorPlan::piped_stdio()?;
            FloorPlan::timed_start(module, args, |request, events| {
                let t0 = request.received_ns;
                run_instance(
                    &self.engine,
                    &self.linker,
                    &bytes,
                    request,
                    t0,
                    stdin,
                    stdout,
                    events,
                )
            })
        })?;
        Ok((
            "parse + WASI context + store + instantiate + _start to exit: the runner's start path in process, back to back, stdout to a pipe, stdin at end of file".into(),
            samples,
        ))
    }

    fn stdin(&mut self, id: u64, bytes: Vec<u8>) {
        if let Some(tx) = self.stdins.get(&id) {
            let _ = tx.send(bytes);
        }
    }

    fn close_stdin(&mut self, id: u64) {
        self.stdins.remove(&id);
    }
}

/// Wraps one end of an OS pipe as a WASI file.
fn wasi_file(end: impl Into<std::os::fd::OwnedFd>) -> Box<dyn wasmi_wasi::WasiFile> {
    let file = std::fs::File::from(end.into());
    Box::new(wasmi_wasi::file::File::from_cap_std(
        cap_std::fs::File::from_std(file),
    ))
}

/// Parses, instantiates and runs one instance to its exit on the calling
/// (instance) thread; returns the guest's exit code. `thread_ns`: when this
/// thread took the start up. The stamps leave with the first stdout bytes,
/// as forwarded from the guest's stdout pipe (see [`InstanceEvents`]).
#[allow(clippy::too_many_arguments)]
fn run_instance(
    engine: &Engine,
    linker: &Linker<Host>,
    bytes: &[u8],
    request: StartRequest,
    thread_ns: u64,
    stdin: std::io::PipeReader,
    stdout_write: std::io::PipeWriter,
    events: &InstanceEvents,
) -> Result<i32, String> {
    let module = Module::new(engine, bytes).map_err(|e| format!("parsing module: {e}"))?;
    let t_module_ns = monotonic_ns();
    let mut builder = wasmi_wasi::WasiCtxBuilder::new();
    builder
        .args(&request.args)
        .map_err(|e| format!("guest arguments: {e}"))?
        .stdin(wasi_file(stdin))
        .stdout(wasi_file(stdout_write))
        .inherit_stderr();
    if let Some(dir) = &request.dir {
        // wasi-common has no read-only preopen: the guest could write here
        // (the `workload_dir` knob says so).
        let handle = wasmi_wasi::Dir::open_ambient_dir(dir, wasmi_wasi::ambient_authority())
            .map_err(|e| format!("cannot open {} for the guest: {e}", dir.display()))?;
        builder
            .preopened_dir(handle, ".")
            .map_err(|e| format!("cannot preopen {}: {e}", dir.display()))?;
    }
    let mut store = Store::new(
        engine,
        Host {
            wasi: builder.build(),
            limits: StoreLimitsBuilder::new()
                .memory_size(INSTANCE_MEMORY_LIMIT_BYTES)
                .build(),
        },
    );
    store.limiter(|h| &mut h.limits);
    let outcome = (|| {
        let instance = linker
            .instantiate_and_start(&mut store, &module)
            .map_err(|e| format!("instantiating module: {e}"))?;
        let start = instance
            .get_typed_func::<(), ()>(&store, "_start")
            .map_err(|e| format!("module has no `_start` export: {e}"))?;
        let t_instantiated_ns = monotonic_ns();
        events.instantiated(&[
            ("received_ns", Some(request.received_ns)),
            ("thread_ns", Some(thread_ns)),
            ("module_ready_ns", Some(t_module_ns)),
            ("instantiated_ns", Some(t_instantiated_ns)),
        ]);
        match start.call(&mut store, ()) {
            Ok(()) => Ok(0),
            Err(e) => match e.i32_exit_status() {
                Some(code) => Ok(code),
                None => Err(format!("guest trapped: {e}")),
            },
        }
    })();
    drop(store);
    outcome
}

fn main() {
    match std::env::args().nth(1).as_deref() {
        None => {}
        Some("--version") => {
            println!("wasmi {WASMI_VERSION}");
            return;
        }
        Some(other) => {
            eprintln!(
                "coldbench-runner-wasmi: unexpected argument {other:?}; usage: coldbench-runner-wasmi [--version]"
            );
            std::process::exit(2);
        }
    }
    let mut config = Config::default();
    config.compilation_mode(CompilationMode::LazyTranslation);
    config.wasm_simd(true);
    let engine = Engine::new(&config);
    let mut linker = Linker::new(&engine);
    if let Err(e) = wasmi_wasi::add_to_linker(&mut linker, |h: &mut Host| &mut h.wasi) {
        eprintln!("coldbench-runner-wasmi: cannot define WASI imports: {e}");
        std::process::exit(1);
    }
    let events = EventSink::default();
    // Three jobs per start (instance, stdin writer, stdout forwarder); the
    // interpreter recurses on the instance thread: 8 MiB stacks.
    let workers = Workers::new_or_exit("coldbench-runner-wasmi", "instance-worker", 8 << 20, 3);
    let threads = workers.describe();
    let mut runner = Runner {
        engine,
        linker: Arc::new(linker),
        modules: HashMap::new(),
        stdins: HashMap::new(),
        events: events.clone(),
        workers,
    };
    let hello = [
        ("instance_threads", threads),
        ("runtime", "wasmi".to_string()),
        ("version", WASMI_VERSION.into()),
        ("strategy", "interpreter".into()),
        ("compilation_mode", "lazy-translation".into()),
        (
            "simd",
            "enabled (cargo feature `simd`: 128-bit untyped values)".into(),
        ),
        (
            "wasi",
            "wasmi_wasi 2.0.0 (wasi-common 36, preview 1)".into(),
        ),
        (
            "wasi_capabilities",
            "args, stdin, stdout, stderr; no preopened directory (but a --workload-dir command's), no environment, no socket".into(),
        ),
        (
            "workload_dir",
            "a --workload-dir command's directory preopened as `.`, NOT read-only: wasi-common 36 has no read-only preopen".into(),
        ),
        (
            "instance_memory_limit_bytes",
            INSTANCE_MEMORY_LIMIT_BYTES.to_string(),
        ),
        (
            "interruption",
            "none (no fuel: it would slow every instruction); a hung guest costs its runner, restarted by the harness".into(),
        ),
    ];
    coldbench_protocol::runner::serve_or_exit(
        "coldbench-runner-wasmi",
        &mut runner,
        &events,
        &hello,
    );
}
