//! `coldbench-runner-wasmer`: a small process that hosts WebAssembly instances
//! in wasmer with WASI (`wasmer-wasix`) on behalf of the coldbench harness, the
//! way a function platform embeds a runtime (docs/design.md §1).
//!
//! Usage: `coldbench-runner-wasmer --compiler cranelift|singlepass` or
//! `--version`. The harness sends control frames on stdin and reads events on
//! stdout (`coldbench_protocol::runner`).
//!
//! `Load` compiles the module with the chosen compiler and serializes the
//! artifact to `cache_dir` (`Module::serialize_to_file`); every `Start`
//! deserializes it (`Module::deserialize_from_file`, the cached-artifact path
//! wasmer's own CLI takes), builds a WASI environment and instantiates it, then
//! runs `_start` on the instance's own thread. In-runner stamps are
//! `CLOCK_MONOTONIC` nanoseconds, the clock the harness reads.
//!
//! Each instance's linear memory is capped at [`INSTANCE_MEMORY_LIMIT_BYTES`]
//! by the engine's tunables ([`LimitingTunables`], wasmer's documented way):
//! a `memory.grow` beyond it returns -1 to the guest. A `--workload-dir`
//! command's directory is its file system, preopened as `.`, read only
//! ([`ReadOnlyFs`]).

use coldbench_protocol::monotonic_ns;
use coldbench_protocol::runner::{
    EventSink, FloorPlan, InstanceEvents, RunnerHost, StartRequest, Workers, kv_get, read_module,
};
use std::collections::HashMap;
use std::io::{self, Write};
use std::path::PathBuf;
use std::pin::Pin;
use std::ptr::NonNull;
use std::sync::Arc;
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncSeek, AsyncWrite, ReadBuf};
use wasmer::sys::vm::{VMMemory, VMMemoryDefinition, VMTable, VMTableDefinition};
use wasmer::sys::{BaseTunables, NativeEngineExt, Tunables};
use wasmer::{
    Engine, MemoryError, MemoryStyle, MemoryType, Module, Pages, Store, TableStyle, TableType,
};
use wasmer_wasix::runtime::task_manager::tokio::TokioTaskManager;
use wasmer_wasix::virtual_fs::{self, VirtualFile, host_fs};
use wasmer_wasix::wasmer_wasix_types::wasi::ExitCode;
use wasmer_wasix::{Pipe, PluggableRuntime, Runtime, WasiEnv, WasiError};

/// Version of the wasmer crate this runner was built against: its
/// Cargo.toml pin, or the version `scripts/build-runtime-version.sh` built
/// it against (`COLDBENCH_RUNTIME_VERSION` at compile time).
const WASMER_VERSION: &str = match option_env!("COLDBENCH_RUNTIME_VERSION") {
    Some(v) => v,
    None => "7.4.2",
};

/// The WASI implementation's crate and version (wasmer-wasix's version
/// tracks wasmer's: 0.704.x for 7.4.x, 0.705.x for 7.5.x).
const WASIX_VERSION: &str = match option_env!("COLDBENCH_WASIX_VERSION") {
    Some(v) => v,
    None => "0.704.2",
};

/// Largest linear memory of one instance, bytes (1 GiB: the memory limit
/// coldbench gives a container, `coldbench_containers::Hardening::hardened`).
const INSTANCE_MEMORY_LIMIT_BYTES: u64 = 1 << 30;

/// wasmer's base tunables with every memory's maximum lowered to a limit
/// (memory styles unchanged, so the compiled code is the same).
struct LimitingTunables {
    base: BaseTunables,
    limit: Pages,
}

impl LimitingTunables {
    /// `ty` with its maximum at most the limit; an error if even its
    /// minimum exceeds it.
    fn adjust(&self, ty: &MemoryType) -> Result<MemoryType, MemoryError> {
        if ty.minimum > self.limit {
            return Err(MemoryError::Generic(format!(
                "the module needs {} pages of linear memory at start, over the runner's limit of {} pages",
                ty.minimum.0, self.limit.0
            )));
        }
        let mut adjusted = *ty;
        adjusted.maximum = Some(ty.maximum.map_or(self.limit, |m| m.min(self.limit)));
        Ok(adjusted)
    }
}

impl Tunables for LimitingTunables {
    fn memory_style(&self, memory: &MemoryType) -> MemoryStyle {
        self.base.memory_style(memory)
    }
    fn table_style(&self, table: &TableType) -> TableStyle {
        self.base.table_style(table)
    }
    fn create_host_memory(
        &self,
        ty: &MemoryType,
        style: &MemoryStyle,
    ) -> Result<VMMemory, MemoryError> {
        self.base.create_host_memory(&self.adjust(ty)?, style)
    }
    unsafe fn create_vm_memory(
        &self,
        ty: &MemoryType,
        style: &MemoryStyle,
        vm_definition_location: NonNull<VMMemoryDefinition>,
    ) -> Result<VMMemory, MemoryError> {
        let adjusted = self.adjust(ty)?;
        // SAFETY: forwarded unchanged from the caller's contract.
        unsafe {
            self.base
                .create_vm_memory(&adjusted, style, vm_definition_location)
        }
    }
    fn create_host_table(&self, ty: &TableType, style: &TableStyle) -> Result<VMTable, String> {
        self.base.create_host_table(ty, style)
    }
    unsafe fn create_vm_table(
        &self,
        ty: &TableType,
        style: &TableStyle,
        vm_definition_location: NonNull<VMTableDefinition>,
    ) -> Result<VMTable, String> {
        // SAFETY: forwarded unchanged from the caller's contract.
        unsafe { self.base.create_vm_table(ty, style, vm_definition_location) }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Compiler {
    Cranelift,
    Singlepass,
}

impl Compiler {
    fn name(self) -> &'static str {
        match self {
            Compiler::Cranelift => "cranelift",
            Compiler::Singlepass => "singlepass",
        }
    }
    fn engine(self) -> Engine {
        let mut engine: Engine = match self {
            Compiler::Cranelift => wasmer::sys::Cranelift::default().into(),
            Compiler::Singlepass => {
                wasmer::sys::EngineBuilder::new(wasmer::sys::Singlepass::default()).into()
            }
        };
        engine.set_tunables(LimitingTunables {
            base: BaseTunables::new(),
            limit: Pages((INSTANCE_MEMORY_LIMIT_BYTES / wasmer::WASM_PAGE_SIZE as u64) as u32),
        });
        engine
    }
}

struct Runner {
    engine: Engine,
    compiler: Compiler,
    wasi_runtime: Arc<dyn Runtime + Send + Sync>,
    tokio: tokio::runtime::Handle,
    /// Serialized artifacts by module id.
    modules: HashMap<u64, PathBuf>,
    /// The harness's end of each instance's stdin pipe; dropping it is end of file.
    stdins: HashMap<u64, Pipe>,
    events: EventSink,
    /// Instance threads, pre-spawned.
    workers: Workers,
}

impl Runner {
    /// One start of the serialized module at `artifact`, telling `events`.
    fn instance(&self, artifact: PathBuf, events: InstanceEvents) -> Instance {
        Instance {
            engine: self.engine.clone(),
            wasi_runtime: self.wasi_runtime.clone(),
            artifact,
            events,
        }
    }
}

impl RunnerHost for Runner {
    fn load(
        &mut self,
        module_id: u64,
        kv: &[(String, String)],
    ) -> Result<Vec<(&'static str, String)>, String> {
        let cache_dir = PathBuf::from(kv_get(kv, "cache_dir").ok_or("load: no `cache_dir`")?);
        let t0 = monotonic_ns();
        let (path, bytes) = read_module(kv)?;
        std::fs::create_dir_all(&cache_dir)
            .map_err(|e| format!("cannot create {}: {e}", cache_dir.display()))?;
        let module = Module::new(&self.engine, &bytes)
            .map_err(|e| format!("{} is not a valid WebAssembly module: {e}", path.display()))?;
        let stem = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "module".into());
        let out_path = cache_dir.join(format!(
            "{stem}-{}-{module_id}.wasmer",
            self.compiler.name()
        ));
        module
            .serialize_to_file(&out_path)
            .map_err(|e| format!("cannot write {}: {e}", out_path.display()))?;
        let precompiled_bytes = std::fs::metadata(&out_path).map(|m| m.len()).unwrap_or(0);
        let prepare_ns = monotonic_ns() - t0;
        self.modules.insert(module_id, out_path.clone());
        Ok(vec![
            ("wasm_bytes", bytes.len().to_string()),
            ("precompiled_bytes", precompiled_bytes.to_string()),
            ("precompiled_path", out_path.display().to_string()),
            ("prepare_ns", prepare_ns.to_string()),
        ])
    }

    /// The runner's own start path ([`Instance::run`]) on the calling
    /// thread, back to back: stdin a WASIX pipe already at end of file,
    /// stdout dropped, the tokio context entered before the clock.
    fn floor(
        &mut self,
        module: u64,
        args: &[String],
        plan: &FloorPlan,
    ) -> Result<(String, Vec<u64>), String> {
        let artifact = self
            .modules
            .get(&module)
            .cloned()
            .ok_or_else(|| format!("floor: module {module} was never loaded"))?;
        let _context = self.tokio.enter();
        let samples = plan.time(|| {
            let (mut host_end, guest_end) = Pipe::channel();
            host_end.close();
            FloorPlan::timed_start(module, args, |request, events| {
                let t0 = request.received_ns;
                self.instance(artifact.clone(), events.clone())
                    .run(request, t0, guest_end)
            })
        })?;
        Ok((
            "deserialize + WASIX environment + store + instantiate + _start to exit: the runner's start path in process, back to back, stdout dropped, stdin at end of file".into(),
            samples,
        ))
    }

    fn start(&mut self, id: u64, request: StartRequest) -> Result<(), String> {
        let artifact = self
            .modules
            .get(&request.module)
            .cloned()
            .ok_or_else(|| format!("start: module {} was never loaded", request.module))?;
        let (host_end, guest_end) = Pipe::channel();
        self.stdins.insert(id, host_end);
        let tokio = self.tokio.clone();
        let events = InstanceEvents::new(&self.events, id);
        let instance = self.instance(artifact, events.clone());
        self.workers
            .run(Box::new(move || {
                let thread_ns = monotonic_ns();
                let _context = tokio.enter();
                match instance.run(request, thread_ns, guest_end) {
                    Ok(exit_code) => events.exited(exit_code),
                    Err(e) => events.error(e),
                }
            }))
            .map_err(|e| format!("cannot spawn an instance thread: {e}"))
    }

    fn stdin(&mut self, id: u64, bytes: Vec<u8>) {
        if let Some(pipe) = self.stdins.get_mut(&id) {
            let _ = pipe.write_all(&bytes);
        }
    }

    fn close_stdin(&mut self, id: u64) {
        if let Some(mut pipe) = self.stdins.remove(&id) {
            pipe.close();
        }
    }
}

/// One instance's start-to-exit, on its own thread.
struct Instance {
    engine: Engine,
    wasi_runtime: Arc<dyn Runtime + Send + Sync>,
    artifact: PathBuf,
    events: InstanceEvents,
}

impl Instance {
    /// Runs the instance to its exit; returns the guest's exit code.
    /// `thread_ns`: when this thread took the start up.
    fn run(self, request: StartRequest, thread_ns: u64, stdin: Pipe) -> Result<i32, String> {
        // SAFETY: the artifact was written by `serialize_to_file` of this same
        // engine configuration during `Load`, in a directory owned by this run.
        let module = unsafe { Module::deserialize_from_file(&self.engine, &self.artifact) }
            .map_err(|e| format!("deserializing {}: {e}", self.artifact.display()))?;
        let t_module_ns = monotonic_ns();
        let mut store = Store::new(self.engine.clone());
        // argv[0] is the builder's program name: the harness sends it as
        // the first argument (as the other runners' WASI contexts take it).
        let (program, rest) = match request.args.split_first() {
            Some((p, rest)) => (p.as_str(), rest),
            None => ("workload", &[][..]),
        };
        let mut builder = WasiEnv::builder(program)
            .args(rest)
            .stdin(Box::new(stdin))
            .stdout(Box::new(FrameFile(self.events.clone())))
            .runtime(self.wasi_runtime.clone());
        if let Some(dir) = &request.dir {
            // The guest's file system is the directory (host-fs rooted at
            // it) with every change refused ([`ReadOnlyFs`]), preopened as
            // `.` with read rights only.
            let fs = host_fs::FileSystem::new(tokio::runtime::Handle::current(), dir)
                .map_err(|e| format!("cannot give {} to the guest: {e}", dir.display()))?;
            let fs: Arc<dyn virtual_fs::FileSystem + Send + Sync> = Arc::new(ReadOnlyFs(fs));
            builder = builder
                .fs(fs)
                .preopen_build(|p| {
                    p.directory("/")
                        .alias(".")
                        .read(true)
                        .write(false)
                        .create(false)
                })
                .map_err(|e| format!("cannot preopen {}: {e}", dir.display()))?;
        }
        let (instance, wasi_env) = builder
            .instantiate(module, &mut store)
            .map_err(|e| format!("instantiating module: {e}"))?;
        let start = instance
            .exports
            .get_function("_start")
            .map_err(|e| format!("module has no `_start` export: {e}"))?
            .clone();
        let t_instantiated_ns = monotonic_ns();
        self.events.instantiated(&[
            ("received_ns", Some(request.received_ns)),
            ("thread_ns", Some(thread_ns)),
            ("module_ready_ns", Some(t_module_ns)),
            ("instantiated_ns", Some(t_instantiated_ns)),
        ]);
        let outcome = match start.call(&mut store, &[]) {
            Ok(_) => Ok(0),
            Err(e) => match e.downcast::<WasiError>() {
                Ok(WasiError::Exit(code)) => Ok(code.raw()),
                Ok(other) => Err(format!("guest failed: {other}")),
                Err(trap) => Err(format!("guest trapped: {trap}")),
            },
        };
        let exit_code = outcome.as_ref().copied().unwrap_or(1);
        wasi_env.on_exit(&mut store, Some(ExitCode::from(exit_code as u16)));
        drop(instance);
        drop(store);
        outcome
    }
}

/// Guest stdout: every write becomes one `Stdout` event, sent immediately
/// (the first one with the phase stamps).
/// A `--workload-dir` command's file system: the host directory (host-fs
/// rooted at it) with every change refused. wasmer-wasix does not enforce
/// the rights of a preopen (a guest given `.` with read rights only still
/// created files in it, seen in `harness/tests/byo.rs`), so the refusal is
/// here: opening for write, append, truncate or create, and creating,
/// removing or renaming anything, fail with `PermissionDenied` (the guest's
/// `EACCES`/`EPERM`); reads pass through.
#[derive(Debug)]
struct ReadOnlyFs(host_fs::FileSystem);

impl virtual_fs::FileSystem for ReadOnlyFs {
    fn readlink(&self, path: &std::path::Path) -> virtual_fs::Result<PathBuf> {
        self.0.readlink(path)
    }
    fn read_dir(&self, path: &std::path::Path) -> virtual_fs::Result<virtual_fs::ReadDir> {
        self.0.read_dir(path)
    }
    fn create_dir(&self, _: &std::path::Path) -> virtual_fs::Result<()> {
        Err(virtual_fs::FsError::PermissionDenied)
    }
    fn remove_dir(&self, _: &std::path::Path) -> virtual_fs::Result<()> {
        Err(virtual_fs::FsError::PermissionDenied)
    }
    fn rename<'a>(
        &'a self,
        _: &'a std::path::Path,
        _: &'a std::path::Path,
    ) -> Pin<Box<dyn std::future::Future<Output = virtual_fs::Result<()>> + Send + 'a>> {
        Box::pin(async { Err(virtual_fs::FsError::PermissionDenied) })
    }
    fn metadata(&self, path: &std::path::Path) -> virtual_fs::Result<virtual_fs::Metadata> {
        self.0.metadata(path)
    }
    fn symlink_metadata(&self, path: &std::path::Path) -> virtual_fs::Result<virtual_fs::Metadata> {
        self.0.symlink_metadata(path)
    }
    fn remove_file(&self, _: &std::path::Path) -> virtual_fs::Result<()> {
        Err(virtual_fs::FsError::PermissionDenied)
    }
    fn new_open_options(&self) -> virtual_fs::OpenOptions<'_> {
        virtual_fs::OpenOptions::new(self)
    }
}

impl virtual_fs::FileOpener for ReadOnlyFs {
    fn open(
        &self,
        path: &std::path::Path,
        conf: &virtual_fs::OpenOptionsConfig,
    ) -> virtual_fs::Result<Box<dyn VirtualFile + Send + Sync + 'static>> {
        if conf.write || conf.append || conf.truncate || conf.create || conf.create_new {
            return Err(virtual_fs::FsError::PermissionDenied);
        }
        virtual_fs::FileOpener::open(&self.0, path, conf)
    }
}

#[derive(Debug)]
struct FrameFile(InstanceEvents);

impl AsyncWrite for FrameFile {
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

impl AsyncRead for FrameFile {
    fn poll_read(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        _: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

impl AsyncSeek for FrameFile {
    fn start_seek(self: Pin<&mut Self>, _: io::SeekFrom) -> io::Result<()> {
        Ok(())
    }
    fn poll_complete(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<u64>> {
        Poll::Ready(Ok(0))
    }
}

impl VirtualFile for FrameFile {
    fn last_accessed(&self) -> u64 {
        0
    }
    fn last_modified(&self) -> u64 {
        0
    }
    fn created_time(&self) -> u64 {
        0
    }
    fn size(&self) -> u64 {
        0
    }
    fn set_len(&mut self, _: u64) -> virtual_fs::Result<()> {
        Err(virtual_fs::FsError::PermissionDenied)
    }
    fn unlink(&mut self) -> virtual_fs::Result<()> {
        Ok(())
    }
    fn get_special_fd(&self) -> Option<u32> {
        Some(1)
    }
    fn poll_read_ready(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<usize>> {
        Poll::Ready(Ok(0))
    }
    fn poll_write_ready(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<usize>> {
        Poll::Ready(Ok(64 * 1024))
    }
}

fn parse_compiler() -> Result<Compiler, String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["--compiler", "cranelift"] => Ok(Compiler::Cranelift),
        ["--compiler", "singlepass"] => Ok(Compiler::Singlepass),
        ["--version"] => {
            println!("wasmer {WASMER_VERSION}");
            std::process::exit(0);
        }
        _ => {
            Err("usage: coldbench-runner-wasmer --compiler cranelift|singlepass | --version".into())
        }
    }
}

fn main() {
    let compiler = match parse_compiler() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("coldbench-runner-wasmer: {e}");
            std::process::exit(2);
        }
    };
    // WASIX drives its stdio and clocks through a tokio runtime; two workers
    // match this project's reference host (2 cores).
    let tokio = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("cannot start the tokio runtime WASIX needs");
    let engine = compiler.engine();
    let mut wasi_runtime =
        PluggableRuntime::new(Arc::new(TokioTaskManager::new(tokio.handle().clone())));
    wasi_runtime.set_engine(engine.clone());
    let events = EventSink::default();
    let workers = Workers::new_or_exit("coldbench-runner-wasmer", "instance-worker", 4 << 20, 2);
    let threads = workers.describe();
    let mut runner = Runner {
        engine,
        compiler,
        wasi_runtime: Arc::new(wasi_runtime),
        tokio: tokio.handle().clone(),
        modules: HashMap::new(),
        stdins: HashMap::new(),
        events: events.clone(),
        workers,
    };
    let mut hello = vec![
        ("instance_threads", threads),
        ("runtime", "wasmer".to_string()),
        ("version", WASMER_VERSION.into()),
        ("compiler", compiler.name().into()),
        ("wasi", format!("wasmer-wasix {WASIX_VERSION} (sys-minimal, host-fs)")),
        (
            "cache",
            "serialized artifact, deserialized per start".into(),
        ),
        (
            "wasi_capabilities",
            "args, stdin, stdout; no preopened directory (but a --workload-dir command's), no environment; WASIX sys-minimal: no host networking".into(),
        ),
        (
            "workload_dir",
            "a --workload-dir command's directory as the guest's file system (host-fs rooted at it), preopened as `.`; read-only enforced by the runner's file system wrapper (every open for writing and every create, remove or rename refused), not by wasmer-wasix's preopen rights, which it does not enforce".into(),
        ),
        (
            "instance_memory_limit_bytes",
            INSTANCE_MEMORY_LIMIT_BYTES.to_string(),
        ),
        (
            "interruption",
            "none (no metering middleware: it would change the compiled code); a hung guest costs its runner, restarted by the harness".into(),
        ),
    ];
    if let Some(note) = option_env!("COLDBENCH_BUILD_NOTE") {
        hello.push(("build", note.into()));
    }
    coldbench_protocol::runner::serve_or_exit(
        "coldbench-runner-wasmer",
        &mut runner,
        &events,
        &hello,
    );
}
