//! Instantiation cost as wasmtime's own criterion benchmark measures it
//! (wasmtime repository, `benches/instantiation.rs`, group `sequential`):
//! per iteration, a new `Store` with a WASI context and
//! `InstancePre::instantiate`, then drop — no `_start`, no I/O, no harness.
//! A second group, `instantiate_and_start`, adds the guest's `_start` with
//! in-memory stdio: the in-process floor under the harness's `t_ready`.
//!
//! Run: `COLDBENCH_BENCH_WASM=<path to noop.wasm> cargo bench --bench instantiation`
//! (default path: `../../../target/nested/wasm32-wasip1/release/noop.wasm`).
//! Both allocators are measured with the configuration the runner uses.

use criterion::{Criterion, criterion_group, criterion_main};
use wasmtime::{
    Config, Engine, InstanceAllocationStrategy, InstancePre, Linker, Module,
    PoolingAllocationConfig, Store,
};
use wasmtime_wasi::WasiCtxBuilder;
use wasmtime_wasi::p1::{self, WasiP1Ctx};

fn prepared(pooling: bool) -> (Engine, InstancePre<WasiP1Ctx>) {
    prepared_with(pooling, true)
}

/// `backtraces`: wasmtime's default (a Wasm backtrace captured with every
/// trap and host error, `proc_exit` included), or none
/// (`wasm_backtrace_max_frames(None)`).
fn prepared_with(pooling: bool, backtraces: bool) -> (Engine, InstancePre<WasiP1Ctx>) {
    let mut config = Config::new();
    if !backtraces {
        config.wasm_backtrace_max_frames(None);
    }
    config.cranelift_opt_level(wasmtime::OptLevel::Speed);
    if pooling {
        // The runner's settings (see src/main.rs): 1000 slots, 1 GiB reservation.
        let mut pool = PoolingAllocationConfig::default();
        pool.total_core_instances(1000)
            .total_memories(1000)
            .total_tables(1000)
            .max_memory_size(1 << 30);
        config
            .allocation_strategy(InstanceAllocationStrategy::Pooling(pool))
            .memory_reservation(1 << 30);
    }
    let engine = Engine::new(&config).expect("engine");
    let path = coldbench_protocol::runner::bench_module_path(env!("CARGO_MANIFEST_DIR"));
    let module = Module::from_file(&engine, &path)
        .unwrap_or_else(|e| panic!("cannot load {}: {e:?}", path.display()));
    let mut linker = Linker::new(&engine);
    p1::add_to_linker_sync(&mut linker, |cx| cx).expect("WASI imports");
    let pre = linker.instantiate_pre(&module).expect("InstancePre");
    (engine, pre)
}

fn sequential(c: &mut Criterion) {
    let mut group = c.benchmark_group("sequential");
    for (name, pooling) in [("default", false), ("pooling", true)] {
        let (engine, pre) = prepared(pooling);
        group.bench_function(format!("{name}/noop.wasm"), |b| {
            b.iter(|| {
                let mut store = Store::new(&engine, WasiCtxBuilder::new().build_p1());
                let _instance = pre.instantiate(&mut store).expect("instantiate");
            })
        });
    }
    group.finish();
}

/// Not in wasmtime's benchmark: instantiation plus the guest's `_start`, as
/// the runner does per start but with no pipe and no thread hand-off: noop
/// with `--serve` writes its ready line to a sink, reads end of file from an
/// empty stdin and exits 0. The in-process floor of the harness's `t_ready`
/// (plus one read and the exit).
fn instantiate_and_start(c: &mut Criterion) {
    let mut group = c.benchmark_group("instantiate_and_start");
    // The runner's configuration, then the same without Wasm backtraces: the
    // guest's exit (`proc_exit`) is a host error, and wasmtime captures a
    // backtrace for it by default.
    for (name, backtraces) in [("pooling", true), ("pooling-no-backtrace", false)] {
        let (engine, pre) = prepared_with(true, backtraces);
        group.bench_function(format!("{name}/noop.wasm"), |b| {
            b.iter(|| {
                let wasi = WasiCtxBuilder::new()
                    .args(&["noop", "--serve"])
                    .stdin(std::io::empty())
                    .stdout(std::io::empty())
                    .build_p1();
                let mut store = Store::new(&engine, wasi);
                let instance = pre.instantiate(&mut store).expect("instantiate");
                let start = instance
                    .get_typed_func::<(), ()>(&mut store, "_start")
                    .expect("_start");
                match start.call(&mut store, ()) {
                    Ok(()) => {}
                    Err(e) => match e.downcast_ref::<wasmtime_wasi::I32Exit>() {
                        Some(exit) if exit.0 == 0 => {}
                        _ => panic!("noop did not exit 0: {e:?}"),
                    },
                }
            })
        });
    }
    group.finish();
}

criterion_group!(benches, sequential, instantiate_and_start);
criterion_main!(benches);
