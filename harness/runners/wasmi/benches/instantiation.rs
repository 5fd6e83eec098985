//! The in-process floor under the `wasmi` runner's `t_ready`: per
//! iteration, what the runner does per start — parse the module
//! (`Module::new`, lazy translation, as at every start), a WASI context and a
//! store with the runner's limits, instantiate, run `_start` — with
//! in-memory stdio and on the calling thread: no pipe, no thread hand-off,
//! no harness. Groups: `parse` (the module phase alone) and
//! `instantiate_and_start` (all of it).
//!
//! Run (built on demand, never by CI): `cd harness/runners/wasmi &&
//! CARGO_TARGET_DIR=../../../target/nested/runner-wasmi cargo bench --bench instantiation`;
//! `COLDBENCH_BENCH_WASM` overrides the module
//! (default `target/nested/wasm32-wasip1/release/noop.wasm`).

use criterion::{Criterion, criterion_group, criterion_main};
use wasmi::{CompilationMode, Config, Engine, Linker, Module, Store, StoreLimitsBuilder};
use wasmi_wasi::wasi_common::pipe::{ReadPipe, WritePipe};
use wasmi_wasi::{WasiCtx, WasiCtxBuilder};

fn module_bytes() -> Vec<u8> {
    coldbench_protocol::runner::bench_module_bytes(env!("CARGO_MANIFEST_DIR"))
}

/// The runner's engine configuration (src/main.rs).
fn engine() -> Engine {
    let mut config = Config::default();
    config.compilation_mode(CompilationMode::LazyTranslation);
    config.wasm_simd(true);
    Engine::new(&config)
}

struct Host {
    wasi: WasiCtx,
    limits: wasmi::StoreLimits,
}

fn parse(c: &mut Criterion) {
    let engine = engine();
    let bytes = module_bytes();
    c.bench_function("parse/noop.wasm", |b| {
        b.iter(|| Module::new(&engine, &bytes[..]).expect("module"))
    });
}

fn instantiate_and_start(c: &mut Criterion) {
    let engine = engine();
    let bytes = module_bytes();
    let mut linker = Linker::<Host>::new(&engine);
    wasmi_wasi::add_to_linker(&mut linker, |h: &mut Host| &mut h.wasi).expect("WASI imports");
    c.bench_function("instantiate_and_start/noop.wasm", |b| {
        b.iter(|| {
            let module = Module::new(&engine, &bytes[..]).expect("module");
            let mut builder = WasiCtxBuilder::new();
            builder
                .args(&["noop".to_string(), "--serve".to_string()])
                .expect("args")
                .stdin(Box::new(ReadPipe::from(Vec::new())))
                .stdout(Box::new(WritePipe::new_in_memory()));
            let mut store = Store::new(
                &engine,
                Host {
                    wasi: builder.build(),
                    limits: StoreLimitsBuilder::new().memory_size(1 << 30).build(),
                },
            );
            store.limiter(|h| &mut h.limits);
            let instance = linker
                .instantiate_and_start(&mut store, &module)
                .expect("instantiate");
            let start = instance
                .get_typed_func::<(), ()>(&store, "_start")
                .expect("_start");
            match start.call(&mut store, ()) {
                Ok(()) => {}
                Err(e) => assert_eq!(e.i32_exit_status(), Some(0), "noop did not exit 0: {e}"),
            }
        })
    });
}

criterion_group!(benches, parse, instantiate_and_start);
criterion_main!(benches);
