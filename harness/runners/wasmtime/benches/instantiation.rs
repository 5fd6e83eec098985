//! Instantiation cost as wasmtime's own criterion benchmark measures it
//! (wasmtime repository, `benches/instantiation.rs`, group `sequential`):
//! per iteration, a new `Store` with a WASI context and
//! `InstancePre::instantiate`, then drop — no `_start`, no I/O, no harness.
//!
//! Run: `COLDBENCH_BENCH_WASM=<path to noop.wasm> cargo bench --bench instantiation`
//! (default path: `../../../target/nested/wasm32-wasip1/release/noop.wasm`).
//! Both allocators are measured with the configuration the runner uses.

use criterion::{Criterion, criterion_group, criterion_main};
use std::path::PathBuf;
use wasmtime::{
    Config, Engine, InstanceAllocationStrategy, InstancePre, Linker, Module,
    PoolingAllocationConfig, Store,
};
use wasmtime_wasi::WasiCtxBuilder;
use wasmtime_wasi::p1::{self, WasiP1Ctx};

fn module_path() -> PathBuf {
    std::env::var_os("COLDBENCH_BENCH_WASM")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("../../../target/nested/wasm32-wasip1/release/noop.wasm")
        })
}

fn prepared(pooling: bool) -> (Engine, InstancePre<WasiP1Ctx>) {
    let mut config = Config::new();
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
    let path = module_path();
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

criterion_group!(benches, sequential);
criterion_main!(benches);
