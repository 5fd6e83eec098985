//! `coldbench-runner-wasmtime`: a small process that hosts WebAssembly instances
//! in wasmtime on behalf of the coldbench harness, the way a function platform
//! embeds a runtime (docs/design.md §1).
//!
//! Usage: `coldbench-runner-wasmtime --strategy jit|aot|pooling [--pool-instances N]`. The harness sends
//! `Frame`s on stdin and reads events on stdout (see
//! `coldbench_protocol::runner`). Strategies:
//! - `jit`: `Load` keeps the module's bytes (and validates them); every `Start`
//!   compiles the module with Cranelift, then instantiates it.
//! - `aot`: `Load` precompiles the module to a `.cwasm` file in `cache_dir`;
//!   every `Start` deserializes it (`Module::deserialize_file`, mmap), then
//!   instantiates it.
//! - `pooling`: as `aot`, but `Load` also deserializes the module and resolves
//!   its imports once (`InstancePre`), and instances come from the pooling
//!   instance allocator: every `Start` only instantiates (wasmtime's
//!   `examples/fast_instantiation.rs` configuration).
//!
//! Each instance runs `_start` on its own thread (taken from pre-spawned idle
//! threads) with WASI preview 1; its stdin is fed by `Stdin` frames through a
//! blocking channel and its stdout is written as `Stdout` events from the
//! instance's thread: no async runtime sits on the stdio path. A `Query`
//! reports the live instances and their linear memory (counted by a
//! `ResourceLimiter` on each store).
//!
//! Confinement of each instance: WASI preview 1 with arguments, stdin,
//! stdout and stderr only (no preopened directory, no environment variable,
//! no socket) — a `--workload-dir` command also gets its directory as `.`,
//! read only (`FsPerms::ReadOnly`); linear memory capped at [`INSTANCE_MEMORY_LIMIT_BYTES`] (a
//! `memory.grow` beyond it returns -1 to the guest); with
//! `--instance-timeout-ms N`, a guest that runs N ms without reading its
//! stdin is stopped by epoch interruption (a ticker thread advances the
//! engine's epoch every [`EPOCH_TICK_MS`] ms) — that instance only: the
//! runner and its other instances go on.
//! In-runner phase stamps are `CLOCK_MONOTONIC` nanoseconds, the clock the
//! harness reads.

use coldbench_protocol::monotonic_ns;
use coldbench_protocol::runner::{
    EventSink, FloorPlan, InstanceEvents, RunnerHost, StartRequest, Workers, kv_get, read_module,
};
use compat::{Context as _, Result, WasiP1Ctx, anyhow, bail, p1};
use std::collections::HashMap;
use std::io;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use wasmtime::{
    Config, Engine, InstanceAllocationStrategy, InstancePre, Linker, Module,
    PoolingAllocationConfig, ResourceLimiter, Store, UpdateDeadline,
};
use wasmtime_wasi::WasiCtxBuilder;
use wasmtime_wasi::cli::{IsTerminal, StdinStream, StdoutStream};
use wasmtime_wasi::p2::{InputStream, OutputStream, Pollable, StreamError, StreamResult};
mod stdio;
use stdio::*;
mod options;
use options::*;
mod instance;
use instance::*;

/// Where wasmtime's API differs between the versions this runner builds
/// against (the pinned 48; 50; 36 with feature `runtime-36`, set by
/// `scripts/build-runtime-version.sh`): the one place the runner adapts.
mod compat {
    /// wasmtime ≥ 45 has its own error type; 36 uses anyhow's.
    #[cfg(feature = "runtime-36")]
    pub use anyhow::{Context, Result, bail, format_err as anyhow};
    #[cfg(not(feature = "runtime-36"))]
    pub use wasmtime::error::Context;
    #[cfg(not(feature = "runtime-36"))]
    pub use wasmtime::{Result, bail, format_err as anyhow};
    #[cfg(not(feature = "runtime-36"))]
    pub use wasmtime_wasi::p1::{self, WasiP1Ctx};
    /// WASI preview 1: `wasmtime_wasi::p1` (36: `preview1`).
    #[cfg(feature = "runtime-36")]
    pub use wasmtime_wasi::preview1::{self as p1, WasiP1Ctx};

    /// Preopens host directory `dir` as the guest's `.`, read only: no file
    /// created, written, renamed or removed through it (48 and 50:
    /// `FsPerms::ReadOnly`; 36: `DirPerms::READ`, `FilePerms::READ`).
    pub fn preopen_read_only(
        wasi: &mut wasmtime_wasi::WasiCtxBuilder,
        dir: &std::path::Path,
    ) -> Result<()> {
        #[cfg(not(feature = "runtime-36"))]
        wasi.preopened_dir(dir, ".", wasmtime_wasi::FsPerms::ReadOnly)?;
        #[cfg(feature = "runtime-36")]
        wasi.preopened_dir(
            dir,
            ".",
            wasmtime_wasi::DirPerms::READ,
            wasmtime_wasi::FilePerms::READ,
        )?;
        Ok(())
    }

    /// Caps the Wasm backtrace captured on every error out of Wasm at
    /// `frames` and says what was set, for the record (36 has no cap: it
    /// captures the whole backtrace, its default).
    pub fn wasm_backtrace(config: &mut wasmtime::Config, frames: usize) -> String {
        #[cfg(not(feature = "runtime-36"))]
        {
            config.wasm_backtrace_max_frames(std::num::NonZeroUsize::new(frames));
            frames.to_string()
        }
        #[cfg(feature = "runtime-36")]
        {
            config.wasm_backtrace(true);
            format!("unbounded (wasmtime 36 has no frame cap; {frames} in later versions)")
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Strategy {
    Jit,
    Aot,
    Pooling,
}

impl Strategy {
    fn name(self) -> &'static str {
        match self {
            Strategy::Jit => "jit",
            Strategy::Aot => "aot",
            Strategy::Pooling => "pooling",
        }
    }
}

enum Prepared {
    /// Module bytes, compiled at every start.
    Jit(Arc<Vec<u8>>),
    /// A `.cwasm` file, deserialized at every start.
    Aot(PathBuf),
    /// Deserialized once at load, imports resolved once: every start only instantiates.
    Pooling(InstancePre<Host>),
}

/// Store data of one instance: its WASI context, its linear-memory account
/// and the epoch at which it last got input.
struct Host {
    wasi: WasiP1Ctx,
    memory: MemoryAccount,
    last_input_epoch: Arc<AtomicU64>,
}

/// Largest linear memory of one instance, bytes (1 GiB: the memory limit
/// coldbench gives a container, `coldbench_containers::Hardening::hardened`).
const INSTANCE_MEMORY_LIMIT_BYTES: u64 = 1 << 30;

/// How often the ticker thread advances the engine's epoch, ms: the
/// resolution of `--instance-timeout-ms`.
const EPOCH_TICK_MS: u64 = 10;

/// The epoch as the ticker thread last advanced it (mirrors the engine's,
/// which cannot be read back).
static EPOCH: AtomicU64 = AtomicU64::new(0);

/// Idle instance threads kept ready.
const SPARE_WORKERS: usize = 2;
/// Stack of an instance thread, bytes.
const WORKER_STACK_BYTES: usize = 4 << 20;

struct Runner {
    engine: Engine,
    linker: Arc<Linker<Host>>,
    strategy: Strategy,
    modules: HashMap<u64, Arc<Prepared>>,
    stdins: HashMap<u64, mpsc::Sender<Vec<u8>>>,
    events: EventSink,
    workers: Workers,
    /// Live stores.
    live: Arc<AtomicU64>,
    /// Linear memory of the live stores, bytes.
    linear_memory_bytes: Arc<AtomicU64>,
    /// `--instance-timeout-ms` in epoch ticks; `None`: no deadline.
    deadline_ticks: Option<u64>,
}

impl Runner {
    fn load_module(
        &mut self,
        module_id: u64,
        kv: &[(String, String)],
    ) -> Result<Vec<(&'static str, String)>> {
        let t0 = monotonic_ns();
        let (path, bytes) = read_module(kv).map_err(|e| anyhow!("{e}"))?;
        let mut out = vec![("wasm_bytes", bytes.len().to_string())];
        let prepared = match self.strategy {
            Strategy::Jit => {
                Module::validate(&self.engine, &bytes).with_context(|| {
                    format!("{} is not a valid WebAssembly module", path.display())
                })?;
                Prepared::Jit(Arc::new(bytes))
            }
            Strategy::Aot | Strategy::Pooling => {
                let cache_dir = PathBuf::from(
                    kv_get(kv, "cache_dir").ok_or_else(|| anyhow!("load: no `cache_dir`"))?,
                );
                std::fs::create_dir_all(&cache_dir)
                    .with_context(|| format!("cannot create {}", cache_dir.display()))?;
                let cwasm = self.engine.precompile_module(&bytes).with_context(|| {
                    format!("{} is not a valid WebAssembly module", path.display())
                })?;
                let stem = path
                    .file_stem()
                    .map(|s| s.to_string_lossy().into_owned())
                    .unwrap_or_else(|| "module".into());
                let out_path =
                    cache_dir.join(format!("{stem}-{}-{module_id}.cwasm", self.strategy.name()));
                std::fs::write(&out_path, &cwasm)
                    .with_context(|| format!("cannot write {}", out_path.display()))?;
                out.push(("precompiled_bytes", cwasm.len().to_string()));
                out.push(("precompiled_path", out_path.display().to_string()));
                if self.strategy == Strategy::Aot {
                    Prepared::Aot(out_path)
                } else {
                    // SAFETY: written just above by `precompile_module` of this engine.
                    let module = unsafe { Module::deserialize_file(&self.engine, &out_path) }
                        .with_context(|| format!("deserializing {}", out_path.display()))?;
                    let pre = self
                        .linker
                        .instantiate_pre(&module)
                        .context("resolving the module's imports (InstancePre)")?;
                    Prepared::Pooling(pre)
                }
            }
        };
        out.push(("prepare_ns", (monotonic_ns() - t0).to_string()));
        self.modules.insert(module_id, Arc::new(prepared));
        Ok(out)
    }

    fn start_instance(&mut self, id: u64, request: StartRequest) -> Result<()> {
        let prepared = self
            .modules
            .get(&request.module)
            .cloned()
            .ok_or_else(|| anyhow!("start: module {} was never loaded", request.module))?;
        let (tx, rx) = mpsc::channel();
        self.stdins.insert(id, tx);
        let engine = self.engine.clone();
        let linker = self.linker.clone();
        let events = InstanceEvents::new(&self.events, id);
        let live = self.live.clone();
        let memory = self.linear_memory_bytes.clone();
        let deadline_ticks = self.deadline_ticks;
        self.workers
            .run(Box::new(move || {
                let thread_ns = monotonic_ns();
                live.fetch_add(1, Ordering::Relaxed);
                let last_input_epoch = Arc::new(AtomicU64::new(EPOCH.load(Ordering::Relaxed)));
                let stdin = ChannelStdin(Arc::new(Mutex::new(ChannelInput {
                    rx,
                    pending: Vec::new(),
                    pos: 0,
                    last_input_epoch: last_input_epoch.clone(),
                })));
                let limits = InstanceLimits {
                    memory,
                    last_input_epoch,
                    deadline_ticks,
                };
                let r = run_instance(
                    &engine, &linker, &prepared, request, thread_ns, stdin, &events, limits,
                );
                live.fetch_sub(1, Ordering::Relaxed);
                match r {
                    Ok(exit_code) => events.exited(exit_code),
                    Err(e) => events.error(format!("{e:#}")),
                }
            }))
            .context("cannot spawn an instance thread")
    }
}

impl RunnerHost for Runner {
    fn load(
        &mut self,
        module: u64,
        kv: &[(String, String)],
    ) -> std::result::Result<Vec<(&'static str, String)>, String> {
        self.load_module(module, kv).map_err(|e| format!("{e:#}"))
    }
    fn start(&mut self, id: u64, request: StartRequest) -> std::result::Result<(), String> {
        self.start_instance(id, request)
            .map_err(|e| format!("{e:#}"))
    }
    fn stdin(&mut self, id: u64, bytes: Vec<u8>) {
        if let Some(tx) = self.stdins.get(&id) {
            let _ = tx.send(bytes);
        }
    }
    fn close_stdin(&mut self, id: u64) {
        self.stdins.remove(&id);
    }
    /// The start's own path ([`run_instance`]) on this thread: stdin a
    /// closed channel (end of file), stdout and events discarded.
    fn floor(
        &mut self,
        module: u64,
        args: &[String],
        plan: &FloorPlan,
    ) -> std::result::Result<(String, Vec<u64>), String> {
        let prepared = self
            .modules
            .get(&module)
            .cloned()
            .ok_or_else(|| format!("floor: module {module} was never loaded"))?;
        let samples = plan.time(|| {
            let last_input_epoch = Arc::new(AtomicU64::new(EPOCH.load(Ordering::Relaxed)));
            let stdin = ChannelStdin(Arc::new(Mutex::new(ChannelInput {
                rx: mpsc::channel().1,
                pending: Vec::new(),
                pos: 0,
                last_input_epoch: last_input_epoch.clone(),
            })));
            let limits = InstanceLimits {
                memory: self.linear_memory_bytes.clone(),
                last_input_epoch,
                deadline_ticks: self.deadline_ticks,
            };
            FloorPlan::timed_start(module, args, |request, events| {
                let t0 = request.received_ns;
                run_instance(
                    &self.engine,
                    &self.linker,
                    &prepared,
                    request,
                    t0,
                    stdin,
                    events,
                    limits,
                )
                .map_err(|e| format!("{e:#}"))
            })
        })?;
        let what = match self.strategy {
            Strategy::Jit => "compile + WASI context + store + instantiate + _start to exit",
            Strategy::Aot => "deserialize + WASI context + store + instantiate + _start to exit",
            Strategy::Pooling => "WASI context + store + instantiate (pooling) + _start to exit",
        };
        Ok((
            format!(
                "{what}: the runner's start path in process, back to back, stdout discarded, stdin at end of file"
            ),
            samples,
        ))
    }
    fn stats(&mut self) -> Vec<(&'static str, String)> {
        vec![
            (
                "live_instances",
                self.live.load(Ordering::Relaxed).to_string(),
            ),
            (
                "linear_memory_bytes",
                self.linear_memory_bytes.load(Ordering::Relaxed).to_string(),
            ),
        ]
    }
}

/// Version of the wasmtime crate this runner was built against: its
/// Cargo.toml pin, or the version `scripts/build-runtime-version.sh` built
/// it against (`COLDBENCH_RUNTIME_VERSION` at compile time).
fn wasmtime_version() -> &'static str {
    match option_env!("COLDBENCH_RUNTIME_VERSION") {
        Some(v) => v,
        None => "48.0.8",
    }
}

/// Frames of the Wasm backtrace attached to every error out of Wasm
/// (wasmtime 48's default, `Config::wasm_backtrace_max_frames`).
const WASM_BACKTRACE_MAX_FRAMES: usize = 20;

/// Linear-memory address space reserved per memory by the pooling allocator, bytes (1 GiB).
const POOL_MEMORY_RESERVATION_BYTES: u64 = 1 << 30;

fn main() -> Result<()> {
    let options = parse_options()?;
    let mut config = Config::new();
    config.cranelift_opt_level(wasmtime::OptLevel::Speed);
    // wasmtime's default, set explicitly so that the knob is recorded: every
    // error out of Wasm, the guest's `proc_exit` included, captures a Wasm
    // backtrace of up to this many frames (≈15 µs per exit of noop on the
    // reference host, per the criterion bench's `instantiate_and_start`).
    let backtrace_frames = compat::wasm_backtrace(&mut config, WASM_BACKTRACE_MAX_FRAMES);
    // Always on, deadline or not, so that the generated code (an epoch check
    // at every function entry and loop back-edge) is the same in every run.
    config.epoch_interruption(true);
    let mut hello = vec![
        ("runtime", "wasmtime".to_string()),
        ("version", wasmtime_version().into()),
        ("strategy", options.strategy.name().into()),
        ("opt_level", "speed".into()),
        ("wasm_backtrace_max_frames", backtrace_frames),
    ];
    if let Some(note) = option_env!("COLDBENCH_BUILD_NOTE") {
        hello.push(("build", note.into()));
    }
    if options.strategy == Strategy::Pooling {
        let mut pool = PoolingAllocationConfig::default();
        pool.total_core_instances(options.pool_instances)
            .total_memories(options.pool_instances)
            .total_tables(options.pool_instances)
            .max_memory_size(POOL_MEMORY_RESERVATION_BYTES as usize);
        config
            .allocation_strategy(InstanceAllocationStrategy::Pooling(pool))
            .memory_reservation(POOL_MEMORY_RESERVATION_BYTES);
        hello.push(("allocator", "pooling".into()));
        hello.push(("pool_instances", options.pool_instances.to_string()));
        hello.push((
            "pool_memory_reservation_bytes",
            POOL_MEMORY_RESERVATION_BYTES.to_string(),
        ));
    } else {
        hello.push(("allocator", "on-demand".into()));
    }
    hello.push((
        "instance_memory_limit_bytes",
        INSTANCE_MEMORY_LIMIT_BYTES.to_string(),
    ));
    hello.push((
        "wasi_capabilities",
        "args, stdin, stdout, stderr; no preopened directory (but a --workload-dir command's), no environment, no socket".into(),
    ));
    hello.push((
        "workload_dir",
        "a --workload-dir command's directory preopened as `.`, read-only: enforced by wasmtime-wasi (FsPerms::ReadOnly; 36: DirPerms::READ, FilePerms::READ)".into(),
    ));
    let deadline_ticks = options
        .instance_timeout_ms
        .map(|ms| ms.div_ceil(EPOCH_TICK_MS).max(1));
    hello.push((
        "interruption",
        match options.instance_timeout_ms {
            Some(ms) => format!(
                "epoch: a guest running {ms} ms without reading stdin is stopped ({EPOCH_TICK_MS} ms tick)"
            ),
            None => format!("epoch checks compiled in ({EPOCH_TICK_MS} ms tick), no deadline"),
        },
    ));
    if let Some(ms) = options.instance_timeout_ms {
        hello.push(("instance_timeout_ms", ms.to_string()));
    }
    let engine = Engine::new(&config)?;
    if deadline_ticks.is_some() {
        // The ticker: advances the epoch; ends with the process.
        let engine = engine.clone();
        std::thread::Builder::new()
            .name("epoch-ticker".into())
            .spawn(move || {
                loop {
                    std::thread::sleep(Duration::from_millis(EPOCH_TICK_MS));
                    EPOCH.fetch_add(1, Ordering::Relaxed);
                    engine.increment_epoch();
                }
            })
            .context("cannot spawn the epoch ticker thread")?;
    }
    let mut linker = Linker::new(&engine);
    p1::add_to_linker_sync(&mut linker, |h: &mut Host| &mut h.wasi)?;
    hello.push((
        "stdio",
        "synchronous (blocking channel stdin, stdout written as events on the instance thread)"
            .into(),
    ));
    let workers = Workers::new("instance-worker", WORKER_STACK_BYTES, SPARE_WORKERS)
        .context("cannot spawn the instance threads")?;
    hello.push(("instance_threads", workers.describe()));
    let events = EventSink::default();
    let mut runner = Runner {
        engine,
        linker: Arc::new(linker),
        strategy: options.strategy,
        modules: HashMap::new(),
        stdins: HashMap::new(),
        events: events.clone(),
        workers,
        live: Arc::new(AtomicU64::new(0)),
        linear_memory_bytes: Arc::new(AtomicU64::new(0)),
        deadline_ticks,
    };
    coldbench_protocol::runner::serve(&mut runner, &events, &hello)?;
    Ok(())
}
