//! `coldbench-runner-wasmtime`: a small process that hosts WebAssembly instances
//! in wasmtime on behalf of the coldbench harness, the way a function platform
//! embeds a runtime (DESIGN.md §1).
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
//! Each instance runs `_start` on its own thread with WASI preview 1; its stdin
//! is fed by `Stdin` frames and its stdout is forwarded as `Stdout` events.
//! In-runner phase stamps are `CLOCK_MONOTONIC` nanoseconds, the clock the
//! harness reads.

use coldbench_protocol::monotonic_ns;
use coldbench_protocol::runner::{EventSink, Kind, RunnerHost, StartRequest, kv_get, kv_payload};
use std::collections::HashMap;
use std::io;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::mpsc;
use wasmtime::error::Context as _;
use wasmtime::{
    Config, Engine, InstanceAllocationStrategy, InstancePre, Linker, Module,
    PoolingAllocationConfig, Store,
};
use wasmtime::{Result, bail, format_err as anyhow};
use wasmtime_wasi::WasiCtxBuilder;
use wasmtime_wasi::cli::{AsyncStdinStream, AsyncStdoutStream};
use wasmtime_wasi::p1::{self, WasiP1Ctx};

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
    Pooling(InstancePre<WasiP1Ctx>),
}

struct Runner {
    engine: Engine,
    linker: Arc<Linker<WasiP1Ctx>>,
    strategy: Strategy,
    modules: HashMap<u64, Arc<Prepared>>,
    stdins: HashMap<u64, mpsc::UnboundedSender<Vec<u8>>>,
    events: EventSink,
}

impl Runner {
    fn load_module(
        &mut self,
        module_id: u64,
        kv: &[(String, String)],
    ) -> Result<Vec<(&'static str, String)>> {
        let path = PathBuf::from(kv_get(kv, "path").ok_or_else(|| anyhow!("load: no `path`"))?);
        let t0 = monotonic_ns();
        let bytes = std::fs::read(&path)
            .with_context(|| format!("cannot read Wasm module {}", path.display()))?;
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
        let (tx, rx) = mpsc::unbounded_channel();
        self.stdins.insert(id, tx);
        let engine = self.engine.clone();
        let linker = self.linker.clone();
        let events = self.events.clone();
        std::thread::Builder::new()
            .name(format!("instance-{id}"))
            .stack_size(4 << 20)
            .spawn(move || {
                if let Err(e) = run_instance(id, &engine, &linker, &prepared, request, rx, &events)
                {
                    events.error(id, format!("{e:#}"));
                }
            })
            .context("cannot spawn instance thread")?;
        Ok(())
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
}

fn run_instance(
    id: u64,
    engine: &Engine,
    linker: &Linker<WasiP1Ctx>,
    prepared: &Prepared,
    request: StartRequest,
    stdin: mpsc::UnboundedReceiver<Vec<u8>>,
    events: &EventSink,
) -> Result<()> {
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
    let t_module_ns = monotonic_ns();
    let mut wasi = WasiCtxBuilder::new();
    wasi.args(&request.args)
        .stdin(AsyncStdinStream::new(ChannelReader {
            rx: stdin,
            pending: Vec::new(),
            pos: 0,
        }))
        .stdout(AsyncStdoutStream::new(
            64 * 1024,
            FrameWriter {
                id,
                events: events.clone(),
            },
        ))
        .inherit_stderr();
    let mut store = Store::new(engine, wasi.build_p1());
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
    events.send(
        Kind::Instantiated,
        id,
        kv_payload(&[
            ("received_ns", request.received_ns.to_string()),
            ("module_ready_ns", t_module_ns.to_string()),
            ("instantiated_ns", t_instantiated_ns.to_string()),
        ]),
    );
    let exit_code = match start.call(&mut store, ()) {
        Ok(()) => 0,
        Err(e) => match e.downcast_ref::<wasmtime_wasi::I32Exit>() {
            Some(exit) => exit.0,
            None => {
                drop(store);
                bail!("guest trapped: {e:#}");
            }
        },
    };
    drop(store);
    events.exited(id, exit_code);
    Ok(())
}

/// Guest stdin: bytes arrive from `Stdin` frames through a channel; closing the
/// channel is end of file.
struct ChannelReader {
    rx: mpsc::UnboundedReceiver<Vec<u8>>,
    pending: Vec<u8>,
    pos: usize,
}

impl AsyncRead for ChannelReader {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = &mut *self;
        while this.pos >= this.pending.len() {
            match this.rx.poll_recv(cx) {
                Poll::Ready(Some(chunk)) => {
                    this.pending = chunk;
                    this.pos = 0;
                }
                Poll::Ready(None) => return Poll::Ready(Ok(())),
                Poll::Pending => return Poll::Pending,
            }
        }
        let n = buf.remaining().min(this.pending.len() - this.pos);
        buf.put_slice(&this.pending[this.pos..this.pos + n]);
        this.pos += n;
        Poll::Ready(Ok(()))
    }
}

/// Guest stdout: every write becomes one `Stdout` event, written immediately.
struct FrameWriter {
    id: u64,
    events: EventSink,
}

impl AsyncWrite for FrameWriter {
    fn poll_write(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.events.stdout(self.id, buf);
        Poll::Ready(Ok(buf.len()))
    }
    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

/// Command line: `--strategy jit|aot|pooling [--pool-instances N]` or `--version`.
struct Options {
    strategy: Strategy,
    /// Pooling allocator capacity: instances, memories and tables alive at once.
    pool_instances: u32,
}

fn parse_options() -> Result<Options> {
    let mut strategy = None;
    let mut pool_instances = 1000u32;
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
            "--version" => {
                println!("wasmtime {}", wasmtime_version());
                std::process::exit(0);
            }
            other => bail!(
                "unexpected argument {other:?}; usage: coldbench-runner-wasmtime --strategy jit|aot|pooling [--pool-instances N] | --version"
            ),
        }
    }
    Ok(Options {
        strategy: strategy.ok_or_else(|| anyhow!("--strategy is required"))?,
        pool_instances,
    })
}

/// Version of the wasmtime crate this runner was built against (from its Cargo.lock pin).
fn wasmtime_version() -> &'static str {
    "48.0.8"
}

/// Linear-memory address space reserved per memory by the pooling allocator, bytes (1 GiB).
const POOL_MEMORY_RESERVATION_BYTES: u64 = 1 << 30;

fn main() -> Result<()> {
    let options = parse_options()?;
    let mut config = Config::new();
    config.cranelift_opt_level(wasmtime::OptLevel::Speed);
    let mut hello = vec![
        ("runtime", "wasmtime".to_string()),
        ("version", wasmtime_version().into()),
        ("strategy", options.strategy.name().into()),
        ("opt_level", "speed".into()),
    ];
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
    let engine = Engine::new(&config)?;
    let mut linker = Linker::new(&engine);
    p1::add_to_linker_sync(&mut linker, |cx| cx)?;
    let events = EventSink::default();
    let mut runner = Runner {
        engine,
        linker: Arc::new(linker),
        strategy: options.strategy,
        modules: HashMap::new(),
        stdins: HashMap::new(),
        events: events.clone(),
    };
    coldbench_protocol::runner::serve(&mut runner, &events, &hello)?;
    Ok(())
}
