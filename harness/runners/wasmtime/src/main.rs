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

/// Why an instance was stopped by the epoch deadline: it ran this long
/// without reading its stdin.
#[derive(Debug)]
struct Interrupted {
    busy_ms: u64,
}

impl std::fmt::Display for Interrupted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "guest interrupted: it ran {} ms without reading its stdin (epoch deadline, --instance-timeout-ms)",
            self.busy_ms
        )
    }
}

impl std::error::Error for Interrupted {}

/// Linear memory of one store, bytes, added to the runner-wide total while
/// the store lives; a growth beyond [`INSTANCE_MEMORY_LIMIT_BYTES`] is refused.
struct MemoryAccount {
    own_bytes: u64,
    total_bytes: Arc<AtomicU64>,
}

impl ResourceLimiter for MemoryAccount {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> Result<bool> {
        // Called with current = 0 when a memory is created, then at every
        // `memory.grow`; a growth beyond the maximum fails after this call and
        // is not counted.
        if desired as u64 > INSTANCE_MEMORY_LIMIT_BYTES {
            return Ok(false);
        }
        if maximum.is_none_or(|m| desired <= m) && desired > current {
            let added = (desired - current) as u64;
            self.own_bytes += added;
            self.total_bytes.fetch_add(added, Ordering::Relaxed);
        }
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        _desired: usize,
        _maximum: Option<usize>,
    ) -> Result<bool> {
        Ok(true)
    }
}

impl Drop for MemoryAccount {
    fn drop(&mut self) {
        self.total_bytes
            .fetch_sub(self.own_bytes, Ordering::Relaxed);
    }
}

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

/// What confines one instance besides WASI: the runner-wide memory account
/// it adds to, the epoch of its last input and its deadline in ticks.
struct InstanceLimits {
    memory: Arc<AtomicU64>,
    last_input_epoch: Arc<AtomicU64>,
    deadline_ticks: Option<u64>,
}

/// Creates, instantiates and runs one instance to its exit on the calling
/// (instance) thread; returns the guest's exit code. Its phase stamps leave
/// with its first stdout bytes (see [`InstanceEvents`]); `thread_ns` is when
/// this thread took the start up. A guest stopped by its deadline is an
/// error saying so ([`Interrupted`]).
#[allow(clippy::too_many_arguments)]
fn run_instance(
    engine: &Engine,
    linker: &Linker<Host>,
    prepared: &Prepared,
    request: StartRequest,
    thread_ns: u64,
    stdin: ChannelStdin,
    events: &InstanceEvents,
    limits: InstanceLimits,
) -> Result<i32> {
    let module = match prepared {
        Prepared::Jit(bytes) => Some(Module::new(engine, &bytes[..]).context("compiling module")?),
        // SAFETY: the file was written by `precompile_module` of this same engine
        // configuration during `Load`, in a directory owned by this run.
        Prepared::Aot(path) => Some(
            unsafe { Module::deserialize_file(engine, path) }
                .with_context(|| format!("deserializing {}", path.display()))?,
        ),
        Prepared::Pooling(_) => None,
    };
    // Pooling has no module phase: the module was deserialized at load.
    let t_module_ns = module.as_ref().map(|_| monotonic_ns());
    let mut wasi = WasiCtxBuilder::new();
    wasi.args(&request.args)
        .stdin(stdin)
        .stdout(FrameStdout(events.clone()))
        .inherit_stderr();
    if let Some(dir) = &request.dir {
        // Read only: no file created, written, renamed or removed through it.
        compat::preopen_read_only(&mut wasi, dir)
            .with_context(|| format!("cannot preopen {} for the guest", dir.display()))?;
    }
    let host = Host {
        wasi: wasi.build_p1(),
        memory: MemoryAccount {
            own_bytes: 0,
            total_bytes: limits.memory,
        },
        last_input_epoch: limits.last_input_epoch,
    };
    let mut store = Store::new(engine, host);
    store.limiter(|h| &mut h.memory);
    match limits.deadline_ticks {
        // The deadline is checked at function entries and loop back-edges;
        // time blocked in a host call (waiting for stdin) is not counted,
        // because every arrival of input moves `last_input_epoch`.
        Some(ticks) => {
            store.set_epoch_deadline(ticks);
            store.epoch_deadline_callback(move |ctx| {
                let busy = EPOCH
                    .load(Ordering::Relaxed)
                    .saturating_sub(ctx.data().last_input_epoch.load(Ordering::Relaxed));
                if busy >= ticks {
                    Err(Interrupted {
                        busy_ms: busy * EPOCH_TICK_MS,
                    }
                    .into())
                } else {
                    Ok(UpdateDeadline::Continue(ticks - busy))
                }
            });
        }
        // Epoch interruption is on in the engine: without a deadline the
        // store must never reach one.
        None => store.set_epoch_deadline(u64::MAX / 2),
    }
    let instance = match (prepared, &module) {
        (Prepared::Pooling(pre), _) => pre.instantiate(&mut store),
        (_, Some(module)) => linker.instantiate(&mut store, module),
        (_, None) => unreachable!("every other strategy produced a module"),
    }
    .context("instantiating module")?;
    let start = instance
        .get_typed_func::<(), ()>(&mut store, "_start")
        .context("module has no `_start` export")?;
    let t_instantiated_ns = monotonic_ns();
    events.instantiated(&[
        ("received_ns", Some(request.received_ns)),
        ("thread_ns", Some(thread_ns)),
        ("module_ready_ns", t_module_ns),
        ("instantiated_ns", Some(t_instantiated_ns)),
    ]);
    let exit_code = match start.call(&mut store, ()) {
        Ok(()) => 0,
        Err(e) => match e.downcast_ref::<wasmtime_wasi::I32Exit>() {
            Some(exit) => exit.0,
            None => {
                drop(store);
                if let Some(i) = e.downcast_ref::<Interrupted>() {
                    bail!("{i}");
                }
                bail!("guest trapped: {e:#}");
            }
        },
    };
    drop(store);
    Ok(exit_code)
}

/// Guest stdin, synchronous: bytes arrive from `Stdin` frames through a
/// channel and a read blocks the instance's own thread until some arrive
/// (as wasmtime-wasi's `InputFile` does for a file); a closed channel is end
/// of file. No async runtime is involved.
#[derive(Clone)]
struct ChannelStdin(Arc<Mutex<ChannelInput>>);

struct ChannelInput {
    rx: mpsc::Receiver<Vec<u8>>,
    pending: Vec<u8>,
    pos: usize,
    /// The epoch when input last arrived (the instance's deadline runs from it).
    last_input_epoch: Arc<AtomicU64>,
}

impl ChannelInput {
    /// Blocks until bytes are pending; `false` at end of file.
    fn fill(&mut self) -> bool {
        while self.pos >= self.pending.len() {
            match self.rx.recv() {
                Ok(chunk) => {
                    self.pending = chunk;
                    self.pos = 0;
                    self.last_input_epoch
                        .store(EPOCH.load(Ordering::Relaxed), Ordering::Relaxed);
                }
                Err(_) => return false,
            }
        }
        true
    }

    /// Copies at most `max` pending bytes out (after [`ChannelInput::fill`]).
    fn take(&mut self, max: usize) -> &[u8] {
        let n = max.min(self.pending.len() - self.pos);
        let out = &self.pending[self.pos..self.pos + n];
        self.pos += n;
        out
    }
}

impl ChannelStdin {
    fn lock(&self) -> std::sync::MutexGuard<'_, ChannelInput> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl IsTerminal for ChannelStdin {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdinStream for ChannelStdin {
    fn p2_stream(&self) -> Box<dyn InputStream> {
        Box::new(self.clone())
    }
    fn async_stream(&self) -> Box<dyn AsyncRead + Send + Sync> {
        Box::new(self.clone())
    }
}

#[wasmtime_wasi::async_trait]
impl Pollable for ChannelStdin {
    async fn ready(&mut self) {}
}

impl InputStream for ChannelStdin {
    fn read(&mut self, size: usize) -> StreamResult<bytes::Bytes> {
        let mut input = self.lock();
        if !input.fill() {
            return Err(StreamError::Closed);
        }
        Ok(bytes::Bytes::copy_from_slice(input.take(size)))
    }
}

impl AsyncRead for ChannelStdin {
    fn poll_read(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let mut input = self.lock();
        if input.fill() {
            let chunk = input.take(buf.remaining());
            buf.put_slice(chunk);
        }
        Poll::Ready(Ok(()))
    }
}

/// Guest stdout, synchronous: every write becomes one `Stdout` event, written
/// on the instance's own thread (the first one with the phase stamps).
#[derive(Clone)]
struct FrameStdout(InstanceEvents);

impl IsTerminal for FrameStdout {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdoutStream for FrameStdout {
    fn p2_stream(&self) -> Box<dyn OutputStream> {
        Box::new(self.clone())
    }
    fn async_stream(&self) -> Box<dyn AsyncWrite + Send + Sync> {
        Box::new(self.clone())
    }
}

#[wasmtime_wasi::async_trait]
impl Pollable for FrameStdout {
    async fn ready(&mut self) {}
}

impl OutputStream for FrameStdout {
    fn write(&mut self, bytes: bytes::Bytes) -> StreamResult<()> {
        self.0.stdout(&bytes);
        Ok(())
    }
    fn flush(&mut self) -> StreamResult<()> {
        Ok(())
    }
    fn check_write(&mut self) -> StreamResult<usize> {
        Ok(1 << 20)
    }
}

impl AsyncWrite for FrameStdout {
    fn poll_write(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.0.stdout(buf);
        Poll::Ready(Ok(buf.len()))
    }
    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

/// Command line: `--strategy jit|aot|pooling [--pool-instances N]
/// [--instance-timeout-ms N]` or `--version`.
struct Options {
    strategy: Strategy,
    /// Pooling allocator capacity: instances, memories and tables alive at once.
    pool_instances: u32,
    /// Time a guest may run without reading its stdin before it is
    /// interrupted, ms (`None`: never).
    instance_timeout_ms: Option<u64>,
}

fn parse_options() -> Result<Options> {
    let mut strategy = None;
    let mut pool_instances = 1000u32;
    let mut instance_timeout_ms = None;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--strategy" => {
                strategy = Some(match args.next().as_deref() {
                    Some("jit") => Strategy::Jit,
                    Some("aot") => Strategy::Aot,
                    Some("pooling") => Strategy::Pooling,
                    other => bail!("--strategy: expected jit, aot or pooling, got {other:?}"),
                })
            }
            "--pool-instances" => {
                pool_instances = args
                    .next()
                    .and_then(|v| v.parse().ok())
                    .filter(|n| *n > 0)
                    .ok_or_else(|| anyhow!("--pool-instances: expected a positive integer"))?
            }
            "--instance-timeout-ms" => {
                instance_timeout_ms = Some(
                    args.next()
                        .and_then(|v| v.parse().ok())
                        .filter(|n: &u64| *n > 0)
                        .ok_or_else(|| {
                            anyhow!("--instance-timeout-ms: expected a positive integer")
                        })?,
                )
            }
            "--version" => {
                println!("wasmtime {}", wasmtime_version());
                std::process::exit(0);
            }
            other => bail!(
                "unexpected argument {other:?}; usage: coldbench-runner-wasmtime --strategy jit|aot|pooling [--pool-instances N] [--instance-timeout-ms N] | --version"
            ),
        }
    }
    Ok(Options {
        strategy: strategy.ok_or_else(|| anyhow!("--strategy is required"))?,
        pool_instances,
        instance_timeout_ms,
    })
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
