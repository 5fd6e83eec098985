//! `coldbench-runner-wasmtime`: a small process that hosts WebAssembly instances
//! in wasmtime on behalf of the coldbench harness, the way a function platform
//! embeds a runtime (DESIGN.md §1).
//!
//! Usage: `coldbench-runner-wasmtime --strategy jit|aot`. The harness sends
//! [`Frame`]s on stdin and reads events on stdout (see
//! `coldbench_protocol::runner`). Strategies:
//! - `jit`: `Load` keeps the module's bytes (and validates them); every `Start`
//!   compiles the module with Cranelift, then instantiates it.
//! - `aot`: `Load` precompiles the module to a `.cwasm` file in `cache_dir`;
//!   every `Start` deserializes it (`Module::deserialize_file`, mmap), then
//!   instantiates it.
//!
//! Each instance runs `_start` on its own thread with WASI preview 1; its stdin
//! is fed by `Stdin` frames and its stdout is forwarded as `Stdout` events.
//! In-runner phase stamps are `CLOCK_MONOTONIC` nanoseconds, the clock the
//! harness reads.

use coldbench_protocol::monotonic_ns;
use coldbench_protocol::runner::{Frame, Kind, kv_payload, parse_kv};
use std::collections::HashMap;
use std::io::{self, BufReader, BufWriter, Write};
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::mpsc;
use wasmtime::error::Context as _;
use wasmtime::{Config, Engine, Linker, Module, Store};
use wasmtime::{Result, bail, format_err as anyhow};
use wasmtime_wasi::WasiCtxBuilder;
use wasmtime_wasi::cli::{AsyncStdinStream, AsyncStdoutStream};
use wasmtime_wasi::p1::{self, WasiP1Ctx};

/// The event stream to the harness, shared by the control loop and every instance thread.
type Events = Arc<Mutex<BufWriter<io::Stdout>>>;

fn send(events: &Events, kind: Kind, instance: u64, payload: Vec<u8>) {
    let mut w = events.lock().unwrap_or_else(|p| p.into_inner());
    // If the harness has gone away there is nobody to tell; the runner exits at stdin EOF.
    let _ = Frame {
        kind,
        instance,
        payload,
    }
    .write_to(&mut *w);
    let _ = w.flush();
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Strategy {
    Jit,
    Aot,
}

enum Prepared {
    Jit(Arc<Vec<u8>>),
    Aot(PathBuf),
}

struct Runner {
    engine: Engine,
    linker: Arc<Linker<WasiP1Ctx>>,
    strategy: Strategy,
    modules: HashMap<u64, Arc<Prepared>>,
    stdins: HashMap<u64, mpsc::UnboundedSender<Vec<u8>>>,
    events: Events,
}

impl Runner {
    fn load(&mut self, module_id: u64, payload: &[u8]) -> Result<Vec<(&'static str, String)>> {
        let kv = parse_kv(payload);
        let get = |k: &str| kv.iter().find(|(key, _)| key == k).map(|(_, v)| v.clone());
        let path = PathBuf::from(get("path").ok_or_else(|| anyhow!("load: no `path`"))?);
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
            Strategy::Aot => {
                let cache_dir =
                    PathBuf::from(get("cache_dir").ok_or_else(|| anyhow!("load: no `cache_dir`"))?);
                std::fs::create_dir_all(&cache_dir)
                    .with_context(|| format!("cannot create {}", cache_dir.display()))?;
                let cwasm = self.engine.precompile_module(&bytes).with_context(|| {
                    format!("{} is not a valid WebAssembly module", path.display())
                })?;
                let stem = path
                    .file_stem()
                    .map(|s| s.to_string_lossy().into_owned())
                    .unwrap_or_else(|| "module".into());
                let out_path = cache_dir.join(format!("{stem}-{module_id}.cwasm"));
                std::fs::write(&out_path, &cwasm)
                    .with_context(|| format!("cannot write {}", out_path.display()))?;
                out.push(("precompiled_bytes", cwasm.len().to_string()));
                out.push(("precompiled_path", out_path.display().to_string()));
                Prepared::Aot(out_path)
            }
        };
        out.push(("prepare_ns", (monotonic_ns() - t0).to_string()));
        self.modules.insert(module_id, Arc::new(prepared));
        Ok(out)
    }

    fn start(&mut self, id: u64, payload: &[u8]) -> Result<()> {
        let t_received_ns = monotonic_ns();
        let kv = parse_kv(payload);
        let module_id: u64 = kv
            .iter()
            .find(|(k, _)| k == "module")
            .and_then(|(_, v)| v.parse().ok())
            .ok_or_else(|| anyhow!("start: no numeric `module`"))?;
        let args: Vec<String> = kv
            .iter()
            .filter(|(k, _)| k == "arg")
            .map(|(_, v)| v.clone())
            .collect();
        let prepared = self
            .modules
            .get(&module_id)
            .cloned()
            .ok_or_else(|| anyhow!("start: module {module_id} was never loaded"))?;
        let (tx, rx) = mpsc::unbounded_channel();
        self.stdins.insert(id, tx);
        let engine = self.engine.clone();
        let linker = self.linker.clone();
        let events = self.events.clone();
        std::thread::Builder::new()
            .name(format!("instance-{id}"))
            .stack_size(4 << 20)
            .spawn(move || {
                if let Err(e) = run_instance(
                    id,
                    &engine,
                    &linker,
                    &prepared,
                    args,
                    rx,
                    &events,
                    t_received_ns,
                ) {
                    send(&events, Kind::Error, id, format!("{e:#}").into_bytes());
                }
            })
            .context("cannot spawn instance thread")?;
        Ok(())
    }
}

#[allow(clippy::too_many_arguments)]
fn run_instance(
    id: u64,
    engine: &Engine,
    linker: &Linker<WasiP1Ctx>,
    prepared: &Prepared,
    args: Vec<String>,
    stdin: mpsc::UnboundedReceiver<Vec<u8>>,
    events: &Events,
    t_received_ns: u64,
) -> Result<()> {
    let module = match prepared {
        Prepared::Jit(bytes) => Module::new(engine, &bytes[..]).context("compiling module")?,
        // SAFETY: the file was written by `precompile_module` of this same engine
        // configuration during `Load`, in a directory owned by this run.
        Prepared::Aot(path) => unsafe { Module::deserialize_file(engine, path) }
            .with_context(|| format!("deserializing {}", path.display()))?,
    };
    let t_module_ns = monotonic_ns();
    let mut wasi = WasiCtxBuilder::new();
    wasi.args(&args)
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
    let instance = linker
        .instantiate(&mut store, &module)
        .context("instantiating module")?;
    let start = instance
        .get_typed_func::<(), ()>(&mut store, "_start")
        .context("module has no `_start` export")?;
    let t_instantiated_ns = monotonic_ns();
    send(
        events,
        Kind::Instantiated,
        id,
        kv_payload(&[
            ("received_ns", t_received_ns.to_string()),
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
    let dropped_ns = monotonic_ns();
    send(
        events,
        Kind::Exited,
        id,
        kv_payload(&[
            ("exit_code", exit_code.to_string()),
            ("dropped_ns", dropped_ns.to_string()),
        ]),
    );
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
    events: Events,
}

impl AsyncWrite for FrameWriter {
    fn poll_write(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        send(&self.events, Kind::Stdout, self.id, buf.to_vec());
        Poll::Ready(Ok(buf.len()))
    }
    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

fn parse_strategy() -> Result<Strategy> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["--strategy", "jit"] => Ok(Strategy::Jit),
        ["--strategy", "aot"] => Ok(Strategy::Aot),
        ["--version"] => {
            println!("wasmtime {}", wasmtime_version());
            std::process::exit(0);
        }
        _ => bail!("usage: coldbench-runner-wasmtime --strategy jit|aot | --version"),
    }
}

/// Version of the wasmtime crate this runner was built against (from its Cargo.lock pin).
fn wasmtime_version() -> &'static str {
    "48.0.8"
}

fn main() -> Result<()> {
    let strategy = parse_strategy()?;
    let mut config = Config::new();
    config.cranelift_opt_level(wasmtime::OptLevel::Speed);
    let engine = Engine::new(&config)?;
    let mut linker = Linker::new(&engine);
    p1::add_to_linker_sync(&mut linker, |cx| cx)?;
    let events: Events = Arc::new(Mutex::new(BufWriter::new(io::stdout())));
    let mut runner = Runner {
        engine,
        linker: Arc::new(linker),
        strategy,
        modules: HashMap::new(),
        stdins: HashMap::new(),
        events: events.clone(),
    };
    let hello = kv_payload(&[
        ("runtime", "wasmtime".into()),
        ("version", wasmtime_version().into()),
        (
            "strategy",
            match strategy {
                Strategy::Jit => "jit".into(),
                Strategy::Aot => "aot".into(),
            },
        ),
        ("opt_level", "speed".into()),
    ]);
    send(&events, Kind::Loaded, 0, hello);
    let mut input = BufReader::new(io::stdin().lock());
    while let Some(frame) = Frame::read_from(&mut input)? {
        match frame.kind {
            Kind::Load => match runner.load(frame.instance, &frame.payload) {
                Ok(kv) => send(&events, Kind::Loaded, frame.instance, kv_payload(&kv)),
                Err(e) => send(
                    &events,
                    Kind::Error,
                    frame.instance,
                    format!("{e:#}").into_bytes(),
                ),
            },
            Kind::Start => {
                if let Err(e) = runner.start(frame.instance, &frame.payload) {
                    send(
                        &events,
                        Kind::Error,
                        frame.instance,
                        format!("{e:#}").into_bytes(),
                    );
                }
            }
            Kind::Stdin => {
                if let Some(tx) = runner.stdins.get(&frame.instance) {
                    let _ = tx.send(frame.payload);
                }
            }
            Kind::CloseStdin => {
                runner.stdins.remove(&frame.instance);
            }
            Kind::Shutdown => break,
            other => bail!("unexpected frame {other:?} from the harness"),
        }
    }
    Ok(())
}
