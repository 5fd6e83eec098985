//! The in-process floor under the wasmer runners' `t_ready`: per iteration,
//! what the runner does per start — deserialize the module from its
//! serialized artifact (as at every start), a store, a WASIX environment
//! (args, stdin, stdout to a null file), instantiate — on the calling
//! thread: no pipe to the harness, no thread hand-off. One function per
//! compiler (Cranelift, Singlepass). `_start` is left out: with stdin at end
//! of file and the exit, WASIX's stdio and exit handling took 6–18 ms per
//! iteration here, growing from run to run. The runner's own in-process
//! floor (`RunnerHost::floor`, timed in every cold-start run with `noop`)
//! goes through `_start` to the exit on the runner's start path and does not
//! show that (444–657 µs per start, n = 100, 2026-12-02). The runner's
//! memory-limiting tunables are left out too (they only lower each memory's
//! maximum; noop's is unchanged).
//!
//! Run (built on demand, never by CI): `cd harness/runners/wasmer &&
//! CARGO_TARGET_DIR=../../../target/nested/runner-wasmer cargo bench --bench instantiation`;
//! `COLDBENCH_BENCH_WASM` overrides the module
//! (default `target/nested/wasm32-wasip1/release/noop.wasm`).

use criterion::{Criterion, criterion_group, criterion_main};
use std::sync::Arc;
use wasmer::{Engine, Module, Store};
use wasmer_wasix::runtime::task_manager::tokio::TokioTaskManager;
use wasmer_wasix::virtual_fs::NullFile;
use wasmer_wasix::{Pipe, PluggableRuntime, Runtime, WasiEnv};

fn instantiate(c: &mut Criterion) {
    let tokio = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime");
    let _context = tokio.enter();
    let bytes = coldbench_protocol::runner::bench_module_bytes(env!("CARGO_MANIFEST_DIR"));
    let mut group = c.benchmark_group("wasmer");
    for (name, engine) in [
        ("cranelift", Engine::from(wasmer::sys::Cranelift::default())),
        (
            "singlepass",
            wasmer::sys::EngineBuilder::new(wasmer::sys::Singlepass::default()).into(),
        ),
    ] {
        let mut rt = PluggableRuntime::new(Arc::new(TokioTaskManager::new(tokio.handle().clone())));
        rt.set_engine(engine.clone());
        let rt: Arc<dyn Runtime + Send + Sync> = Arc::new(rt);
        let artifact = std::env::temp_dir().join(format!(
            "coldbench-bench-noop-{name}-{}.wasmer",
            std::process::id()
        ));
        Module::new(&engine, &bytes)
            .expect("compile")
            .serialize_to_file(&artifact)
            .expect("serialize");
        group.bench_function(format!("instantiate/{name}/noop.wasm"), |b| {
            b.iter(|| {
                // SAFETY: written just above by this engine configuration.
                let module = unsafe { Module::deserialize_from_file(&engine, &artifact) }
                    .expect("deserialize");
                let mut store = Store::new(engine.clone());
                let (_host_end, guest_end) = Pipe::channel();
                let (instance, env) = WasiEnv::builder("noop")
                    .args(["--serve"])
                    .stdin(Box::new(guest_end))
                    .stdout(Box::new(NullFile::default()))
                    .runtime(rt.clone())
                    .instantiate(module, &mut store)
                    .expect("instantiate");
                drop((instance, env));
            })
        });
        let _ = std::fs::remove_file(&artifact);
    }
    group.finish();
}

criterion_group!(benches, instantiate);
criterion_main!(benches);
