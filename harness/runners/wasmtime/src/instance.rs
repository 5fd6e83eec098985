//! One instance's life in the runner: its store with the memory limiter and
//! epoch deadline, instantiation (pooled or not), `_start` and the exit.

use super::*;

/// Why an instance was stopped by the epoch deadline: it ran this long
/// without reading its stdin.
#[derive(Debug)]
pub(super) struct Interrupted {
    pub(super) busy_ms: u64,
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
pub(super) struct MemoryAccount {
    pub(super) own_bytes: u64,
    pub(super) total_bytes: Arc<AtomicU64>,
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

/// What confines one instance besides WASI: the runner-wide memory account
/// it adds to, the epoch of its last input and its deadline in ticks.
pub(super) struct InstanceLimits {
    pub(super) memory: Arc<AtomicU64>,
    pub(super) last_input_epoch: Arc<AtomicU64>,
    pub(super) deadline_ticks: Option<u64>,
}

/// Creates, instantiates and runs one instance to its exit on the calling
/// (instance) thread; returns the guest's exit code. Its phase stamps leave
/// with its first stdout bytes (see [`InstanceEvents`]); `thread_ns` is when
/// this thread took the start up. A guest stopped by its deadline is an
/// error saying so ([`Interrupted`]).
#[allow(clippy::too_many_arguments)]
pub(super) fn run_instance(
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
