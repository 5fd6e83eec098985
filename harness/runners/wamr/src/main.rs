//! `coldbench-runner-wamr`: a small process that hosts WebAssembly instances
//! in WAMR (the WebAssembly Micro Runtime, 2.4.3, through the crates.io
//! crate `wamrx-sys` =0.3.0, which builds WAMR's C sources with cmake) on
//! behalf of the coldbench harness (docs/design.md §1).
//!
//! Usage: `coldbench-runner-wamr [--strategy fresh|preloaded]` or
//! `--version`. The harness sends control frames on stdin and reads events
//! on stdout (`coldbench_protocol::runner`).
//!
//! WAMR runs here as its **fast interpreter** (the only mode the bundled
//! build enables: `wamrx-sys` hard-disables AOT and every JIT tier, so no
//! LLVM is needed). `Load` reads the module's bytes; with `fresh` (variant
//! `wamr-interp`) every `Start` loads the module (`wasm_runtime_load`:
//! parse, validate and translate every function to fast-interpreter code)
//! and instantiates it, as `wasmi` parses at every start; with `preloaded`
//! (variant `wamr-interp-preloaded`) the module is loaded once at `Load` and
//! every start only instantiates, as on a platform that keeps modules warm.
//! `_start` runs on the instance's own thread; its stdin and stdout are OS
//! pipes handed to WAMR's libc-wasi as host descriptors
//! (`wasm_runtime_instantiation_args_set_wasi_stdio`). In-runner stamps are
//! `CLOCK_MONOTONIC` nanoseconds, the clock the harness reads.
//!
//! Confinement of each instance: WASI preview 1 with arguments, stdin,
//! stdout and stderr only (no preopened directory — but a `--workload-dir`
//! command's, as `.` and writable: libc-wasi has no read-only preopen —, no
//! environment variable, no socket address pool), linear memory capped at
//! [`INSTANCE_MEMORY_LIMIT_PAGES`] pages. WAMR's interpreter has no
//! interruption a harness can trigger here: a guest that never stops is
//! stopped by the harness killing this runner.

use coldbench_protocol::monotonic_ns;
use coldbench_protocol::runner::{
    EventSink, FloorPlan, InstanceEvents, RunnerHost, StartRequest, Workers, read_module,
    start_piped,
};
use std::cell::Cell;
use std::collections::HashMap;
use std::ffi::{CStr, CString, c_char};
use std::os::fd::{AsRawFd, OwnedFd};
use std::sync::{Arc, mpsc};
use wamrx_sys as sys;

/// Version of WAMR that `wamrx-sys` =0.3.0 bundles (its `wasm-micro-runtime`
/// sources; also read at run time from `wasm_runtime_get_version`).
const WAMRX_SYS_VERSION: &str = "0.3.0";

/// Largest linear memory of one instance, 64 KiB pages (16,384 pages = 1 GiB:
/// the memory limit coldbench gives a container).
const INSTANCE_MEMORY_LIMIT_PAGES: u32 = 16_384;

/// The interpreter's own stack per instance (operand and frame stack), bytes.
/// WAMR's default (16 KiB) is for microcontrollers; the shipped workloads
/// (image decoding, JSON Schema) recurse deeper. 1 MiB.
const WASM_STACK_BYTES: u32 = 1 << 20;

/// Length of WAMR's error buffers, bytes.
const ERROR_BUF_BYTES: usize = 256;

/// How starts get their module.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Strategy {
    /// Load (parse, validate, translate) the module at every start.
    Fresh,
    /// Load once at `Load`; every start only instantiates.
    Preloaded,
}

/// A loaded WAMR module and the buffer it was loaded from: WAMR may write to
/// the buffer and keeps pointers into it until `wasm_runtime_unload`.
struct LoadedModule {
    module: sys::wasm_module_t,
    _buf: Box<[u8]>,
}

// SAFETY: a loaded module is read-only to instantiation, which WAMR allows
// from any thread whose thread environment is initialised.
unsafe impl Send for LoadedModule {}
unsafe impl Sync for LoadedModule {}

impl LoadedModule {
    /// Loads `bytes` (copied: WAMR may modify its buffer).
    fn load(bytes: &[u8]) -> Result<Self, String> {
        let mut buf: Box<[u8]> = bytes.into();
        let mut err = [0 as c_char; ERROR_BUF_BYTES];
        let size = u32::try_from(buf.len()).map_err(|_| "module larger than 4 GiB".to_string())?;
        // SAFETY: buf is writable and outlives the module (dropped after unload).
        let module = unsafe {
            sys::wasm_runtime_load(buf.as_mut_ptr(), size, err.as_mut_ptr(), err.len() as u32)
        };
        if module.is_null() {
            return Err(c_text(&err));
        }
        Ok(LoadedModule { module, _buf: buf })
    }
}

impl Drop for LoadedModule {
    fn drop(&mut self) {
        // SAFETY: every instance of this module was deinstantiated first
        // (instances hold an Arc of their module).
        unsafe { sys::wasm_runtime_unload(self.module) }
    }
}

/// A NUL-terminated C buffer as text.
fn c_text(buf: &[c_char]) -> String {
    // SAFETY: WAMR writes a NUL-terminated string into the buffer (zeroed before).
    unsafe { CStr::from_ptr(buf.as_ptr()) }
        .to_string_lossy()
        .into_owned()
}

struct Module {
    bytes: Arc<Vec<u8>>,
    /// Loaded once (`preloaded`); `None` with `fresh`.
    loaded: Option<Arc<LoadedModule>>,
}

struct Runner {
    strategy: Strategy,
    modules: HashMap<u64, Module>,
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
        // Loading validates: a bad module fails here in both strategies.
        let loaded = LoadedModule::load(&bytes)
            .map_err(|e| format!("WAMR cannot load {}: {e}", path.display()))?;
        let loaded = match self.strategy {
            Strategy::Preloaded => Some(Arc::new(loaded)),
            Strategy::Fresh => None,
        };
        let out = vec![
            ("wasm_bytes", bytes.len().to_string()),
            ("prepare_ns", (monotonic_ns() - t0).to_string()),
        ];
        self.modules.insert(
            module,
            Module {
                bytes: Arc::new(bytes),
                loaded,
            },
        );
        Ok(out)
    }

    /// The start's own path ([`run_instance`]), on an instance thread (as
    /// starts run: WAMR's thread environment, the 8 MiB stack) while this
    /// thread waits: stdin a pipe at end of file, stdout a pipe nobody
    /// reads (noop writes a line).
    fn floor(
        &mut self,
        module: u64,
        args: &[String],
        plan: &FloorPlan,
    ) -> Result<(String, Vec<u64>), String> {
        let m = self
            .modules
            .get(&module)
            .ok_or_else(|| format!("floor: module {module} was never loaded"))?;
        let (loaded, bytes) = (m.loaded.clone(), m.bytes.clone());
        let (args, plan) = (args.to_vec(), *plan);
        let what = match loaded {
            Some(_) => "instantiate (module loaded at prepare) + _start to exit",
            None => "load (parse, validate, translate) + instantiate + _start to exit",
        };
        let (tx, rx) = mpsc::channel();
        self.workers
            .run(Box::new(move || {
                let timed = plan.time(|| {
                    let source = match &loaded {
                        Some(l) => Source::Loaded(l.clone()),
                        None => Source::Bytes(bytes.clone()),
                    };
                    let (stdin, _stdout_read, stdout) = FloorPlan::piped_stdio()?;
                    FloorPlan::timed_start(module, &args, |request, events| {
                        let t0 = request.received_ns;
                        run_instance(source, request, t0, stdin.into(), stdout.into(), events)
                    })
                });
                let _ = tx.send(timed);
            }))
            .map_err(|e| format!("floor: cannot spawn an instance thread: {e}"))?;
        let samples = rx
            .recv()
            .map_err(|_| "floor: the instance thread died".to_string())??;
        Ok((
            format!(
                "{what}: the runner's start path in process on an instance thread, back to back, stdout to a pipe, stdin at end of file"
            ),
            samples,
        ))
    }

    fn start(&mut self, id: u64, request: StartRequest) -> Result<(), String> {
        let m = self
            .modules
            .get(&request.module)
            .ok_or_else(|| format!("start: module {} was never loaded", request.module))?;
        let source = match &m.loaded {
            Some(l) => Source::Loaded(l.clone()),
            None => Source::Bytes(m.bytes.clone()),
        };
        let tx = start_piped(
            &mut self.workers,
            InstanceEvents::new(&self.events, id),
            move |stdin, stdout, events, thread_ns| {
                run_instance(
                    source,
                    request,
                    thread_ns,
                    stdin.into(),
                    stdout.into(),
                    events,
                )
            },
        )?;
        self.stdins.insert(id, tx);
        Ok(())
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

/// Where a start gets its module.
enum Source {
    /// Load these bytes now (`fresh`).
    Bytes(Arc<Vec<u8>>),
    /// Already loaded (`preloaded`).
    Loaded(Arc<LoadedModule>),
}

thread_local! {
    static THREAD_ENV: Cell<bool> = const { Cell::new(false) };
}

/// Initialises WAMR's thread environment of the calling worker thread once
/// (required before a thread not created by WAMR calls into Wasm).
fn ensure_thread_env() -> Result<(), String> {
    THREAD_ENV.with(|done| {
        if done.get() {
            return Ok(());
        }
        // SAFETY: called on this thread before any Wasm call; never destroyed
        // (worker threads live as long as the runner).
        if unsafe { sys::wasm_runtime_init_thread_env() } {
            done.set(true);
            Ok(())
        } else {
            Err("WAMR cannot initialise the thread environment of an instance thread".into())
        }
    })
}

/// An instance and the instantiation arguments it was created with, freed
/// in the right order.
struct Instance {
    inst: sys::wasm_module_inst_t,
    args: *mut sys::InstantiationArgs2,
    _module: Arc<LoadedModule>,
}

impl Drop for Instance {
    fn drop(&mut self) {
        // SAFETY: created by wasm_runtime_instantiate_ex2 /
        // wasm_runtime_instantiation_args_create, each freed once here,
        // before the module (field order).
        unsafe {
            if !self.inst.is_null() {
                sys::wasm_runtime_deinstantiate(self.inst);
            }
            if !self.args.is_null() {
                sys::wasm_runtime_instantiation_args_destroy(self.args);
            }
        }
    }
}

/// Loads (fresh), instantiates and runs one instance to its exit on the
/// calling (instance) thread; returns the guest's exit code. `thread_ns`:
/// when this thread took the start up. The stamps leave with the first
/// stdout bytes (see [`InstanceEvents`]). The pipe ends are closed when
/// this returns, after the instance is gone.
fn run_instance(
    source: Source,
    request: StartRequest,
    thread_ns: u64,
    stdin: OwnedFd,
    stdout: OwnedFd,
    events: &InstanceEvents,
) -> Result<i32, String> {
    ensure_thread_env()?;
    // Only a start that loads its module has a module phase (as
    // `wasmtime-pooling`, `preloaded` has none).
    let (module, t_module_ns) = match source {
        Source::Loaded(m) => (m, None),
        Source::Bytes(b) => (
            Arc::new(LoadedModule::load(&b).map_err(|e| format!("loading module: {e}"))?),
            Some(monotonic_ns()),
        ),
    };
    let argv: Vec<CString> = request
        .args
        .iter()
        .map(|a| CString::new(a.as_str()).map_err(|_| format!("guest argument {a:?} contains NUL")))
        .collect::<Result<_, _>>()?;
    let mut argv_ptrs: Vec<*mut c_char> = argv.iter().map(|a| a.as_ptr() as *mut c_char).collect();
    // A --workload-dir command's directory, preopened as `.` (WAMR's
    // `guest::host` mapping). libc-wasi has no read-only preopen.
    let map_dir = request
        .dir
        .as_ref()
        .map(|d| {
            CString::new(format!(".::{}", d.display()))
                .map_err(|_| format!("directory {} contains NUL", d.display()))
        })
        .transpose()?;
    let map_dir_ptrs: Vec<*const c_char> = map_dir.iter().map(|m| m.as_ptr()).collect();
    let mut instance = Instance {
        inst: std::ptr::null_mut(),
        args: std::ptr::null_mut(),
        _module: module.clone(),
    };
    let mut err = [0 as c_char; ERROR_BUF_BYTES];
    // SAFETY: WAMR copies argv and takes the descriptors as host fds it
    // never closes (stdio); argv and the fds outlive the instance.
    unsafe {
        if !sys::wasm_runtime_instantiation_args_create(&mut instance.args) {
            return Err("WAMR cannot allocate instantiation arguments".into());
        }
        sys::wasm_runtime_instantiation_args_set_default_stack_size(
            instance.args,
            WASM_STACK_BYTES,
        );
        sys::wasm_runtime_instantiation_args_set_max_memory_pages(
            instance.args,
            INSTANCE_MEMORY_LIMIT_PAGES,
        );
        sys::wasm_runtime_instantiation_args_set_wasi_arg(
            instance.args,
            argv_ptrs.as_mut_ptr(),
            argv_ptrs.len() as i32,
        );
        if !map_dir_ptrs.is_empty() {
            sys::wasm_runtime_instantiation_args_set_wasi_dir(
                instance.args,
                std::ptr::null_mut(),
                0,
                map_dir_ptrs.as_ptr() as *mut *const c_char,
                map_dir_ptrs.len() as u32,
            );
        }
        sys::wasm_runtime_instantiation_args_set_wasi_stdio(
            instance.args,
            i64::from(stdin.as_raw_fd()),
            i64::from(stdout.as_raw_fd()),
            2,
        );
        instance.inst = sys::wasm_runtime_instantiate_ex2(
            module.module,
            instance.args,
            err.as_mut_ptr(),
            err.len() as u32,
        );
    }
    if instance.inst.is_null() {
        return Err(format!("instantiating module: {}", c_text(&err)));
    }
    // SAFETY: a live instance.
    if unsafe { sys::wasm_runtime_lookup_wasi_start_function(instance.inst) }.is_null() {
        return Err("module has no `_start` export (not a WASI command)".into());
    }
    let t_instantiated_ns = monotonic_ns();
    events.instantiated(&[
        ("received_ns", Some(request.received_ns)),
        ("thread_ns", Some(thread_ns)),
        ("module_ready_ns", t_module_ns),
        ("instantiated_ns", Some(t_instantiated_ns)),
    ]);
    // SAFETY: a live instance; execute_main runs `_start` and reports
    // proc_exit as success (the code is read below).
    let ran = unsafe { sys::wasm_application_execute_main(instance.inst, 0, std::ptr::null_mut()) };
    let outcome = if ran {
        // SAFETY: a live instance.
        Ok(unsafe { sys::wasm_runtime_get_wasi_exit_code(instance.inst) } as i32)
    } else {
        // SAFETY: a live instance; the exception string is NUL-terminated.
        let e = unsafe { sys::wasm_runtime_get_exception(instance.inst) };
        let text = if e.is_null() {
            "unknown exception".to_string()
        } else {
            unsafe { CStr::from_ptr(e) }.to_string_lossy().into_owned()
        };
        Err(format!("guest trapped: {text}"))
    };
    drop(instance);
    drop(stdout);
    drop(stdin);
    outcome
}

/// WAMR's version as the library reports it (`2.4.3`).
fn wamr_version() -> String {
    let (mut major, mut minor, mut patch) = (0u32, 0u32, 0u32);
    // SAFETY: writes three integers.
    unsafe { sys::wasm_runtime_get_version(&mut major, &mut minor, &mut patch) };
    format!("{major}.{minor}.{patch}")
}

fn main() {
    let mut args = std::env::args().skip(1);
    let mut strategy = Strategy::Fresh;
    while let Some(a) = args.next() {
        match (a.as_str(), args.next().as_deref()) {
            ("--version", _) => {
                println!("wamr {}", wamr_version());
                return;
            }
            ("--strategy", Some("fresh")) => strategy = Strategy::Fresh,
            ("--strategy", Some("preloaded")) => strategy = Strategy::Preloaded,
            (other, _) => {
                eprintln!(
                    "coldbench-runner-wamr: unexpected argument {other:?}; usage: coldbench-runner-wamr [--strategy fresh|preloaded] | --version"
                );
                std::process::exit(2);
            }
        }
    }
    // SAFETY: once, on the main thread, before any other WAMR call but the
    // version query. The system allocator (malloc): no fixed pool to size.
    if !unsafe { sys::wasm_runtime_init() } {
        eprintln!("coldbench-runner-wamr: wasm_runtime_init failed");
        std::process::exit(1);
    }
    let events = EventSink::default();
    // Three jobs per start (instance, stdin writer, stdout forwarder); the
    // interpreter recurses on the instance thread: 8 MiB stacks.
    let workers = Workers::new_or_exit("coldbench-runner-wamr", "instance-worker", 8 << 20, 3);
    let threads = workers.describe();
    let mut runner = Runner {
        strategy,
        modules: HashMap::new(),
        stdins: HashMap::new(),
        events: events.clone(),
        workers,
    };
    let hello = [
        ("instance_threads", threads),
        ("runtime", "wamr".to_string()),
        ("version", wamr_version()),
        (
            "bindings",
            format!("wamrx-sys {WAMRX_SYS_VERSION} (WAMR built by cmake)"),
        ),
        (
            "mode",
            "fast interpreter (AOT and JIT disabled in this build)".into(),
        ),
        (
            "strategy",
            match strategy {
                Strategy::Fresh => "fresh: wasm_runtime_load at every start".into(),
                Strategy::Preloaded => {
                    "preloaded: module loaded once, every start only instantiates".to_string()
                }
            },
        ),
        (
            "features",
            "bulk-memory, reference-types, simd (SIMDe), libc-wasi".into(),
        ),
        ("wasi", "WAMR libc-wasi (preview 1)".into()),
        (
            "wasi_capabilities",
            "args, stdin, stdout, stderr; no preopened directory (but a --workload-dir command's), no environment, no socket".into(),
        ),
        (
            "workload_dir",
            "a --workload-dir command's directory preopened as `.` (map_dir `.::DIR`), NOT read-only: WAMR's libc-wasi has no read-only preopen".into(),
        ),
        ("wasm_stack_bytes", WASM_STACK_BYTES.to_string()),
        (
            "instance_memory_limit_bytes",
            (u64::from(INSTANCE_MEMORY_LIMIT_PAGES) * 65_536).to_string(),
        ),
        (
            "interruption",
            "none: a hung guest costs its runner, restarted by the harness".into(),
        ),
    ];
    coldbench_protocol::runner::serve_or_exit(
        "coldbench-runner-wamr",
        &mut runner,
        &events,
        &hello,
    );
}
