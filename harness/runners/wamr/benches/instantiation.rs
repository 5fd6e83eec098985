//! The in-process floor under the WAMR runner's `t_ready`: per iteration,
//! what the runner does per start — load the module (`wasm_runtime_load`:
//! parse, validate, translate to fast-interpreter code; `wamr-interp` only),
//! instantiate it with the runner's arguments (1 MiB interpreter stack,
//! 16,384-page memory cap, WASI argv and stdio descriptors), run `_start` —
//! on the calling thread with stdin and stdout on `/dev/null`: no pipe to a
//! harness, no thread hand-off. Groups: `load` (the module phase alone),
//! `load_instantiate_and_start` (`wamr-interp`) and
//! `instantiate_and_start` (`wamr-interp-preloaded`).
//!
//! Run (built on demand, never by CI): `cd harness/runners/wamr &&
//! CMAKE_TOOLCHAIN_FILE=$PWD/simde-local.cmake
//! CARGO_TARGET_DIR=../../../target/nested/runner-wamr cargo bench --bench
//! instantiation`; `COLDBENCH_BENCH_WASM` overrides the module (default
//! `target/nested/wasm32-wasip1/release/noop.wasm`).

use criterion::{Criterion, criterion_group, criterion_main};
use std::ffi::{CString, c_char};
use std::os::fd::AsRawFd;
use wamrx_sys as sys;

fn module_bytes() -> Vec<u8> {
    coldbench_protocol::runner::bench_module_bytes(env!("CARGO_MANIFEST_DIR"))
}

/// A loaded module and the buffer WAMR keeps pointers into.
struct Loaded {
    module: sys::wasm_module_t,
    _buf: Vec<u8>,
}

impl Drop for Loaded {
    fn drop(&mut self) {
        // SAFETY: every instance of the module is gone.
        unsafe { sys::wasm_runtime_unload(self.module) }
    }
}

fn load(bytes: &[u8]) -> Loaded {
    let mut buf = bytes.to_vec();
    let mut err = [0 as c_char; 256];
    // SAFETY: buf is writable and outlives the module.
    let module = unsafe {
        sys::wasm_runtime_load(buf.as_mut_ptr(), buf.len() as u32, err.as_mut_ptr(), 256)
    };
    assert!(!module.is_null(), "wasm_runtime_load failed");
    Loaded { module, _buf: buf }
}

/// Instantiates `module` as the runner does and runs `_start` to its end.
fn instantiate_and_run(module: sys::wasm_module_t, null_in: i64, null_out: i64) {
    let argv = [
        CString::new("noop").unwrap(),
        CString::new("--serve").unwrap(),
    ];
    let mut argv_ptrs: Vec<*mut c_char> = argv.iter().map(|a| a.as_ptr() as *mut c_char).collect();
    let mut err = [0 as c_char; 256];
    // SAFETY: the WAMR embedding API in its documented order; argv and the
    // descriptors outlive the instance.
    unsafe {
        let mut args: *mut sys::InstantiationArgs2 = std::ptr::null_mut();
        assert!(sys::wasm_runtime_instantiation_args_create(&mut args));
        sys::wasm_runtime_instantiation_args_set_default_stack_size(args, 1 << 20);
        sys::wasm_runtime_instantiation_args_set_max_memory_pages(args, 16_384);
        sys::wasm_runtime_instantiation_args_set_wasi_arg(args, argv_ptrs.as_mut_ptr(), 2);
        sys::wasm_runtime_instantiation_args_set_wasi_stdio(args, null_in, null_out, 2);
        let inst = sys::wasm_runtime_instantiate_ex2(module, args, err.as_mut_ptr(), 256);
        assert!(!inst.is_null(), "instantiate failed");
        assert!(
            sys::wasm_application_execute_main(inst, 0, std::ptr::null_mut()),
            "_start trapped"
        );
        sys::wasm_runtime_deinstantiate(inst);
        sys::wasm_runtime_instantiation_args_destroy(args);
    }
}

fn benches(c: &mut Criterion) {
    // SAFETY: once, before any other WAMR call, on this (main) thread.
    assert!(unsafe { sys::wasm_runtime_init() });
    let bytes = module_bytes();
    let null_in = std::fs::File::open("/dev/null").expect("/dev/null");
    let null_out = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/null")
        .expect("/dev/null");
    let (fin, fout) = (
        i64::from(null_in.as_raw_fd()),
        i64::from(null_out.as_raw_fd()),
    );
    c.bench_function("load/noop.wasm", |b| b.iter(|| load(&bytes)));
    c.bench_function("load_instantiate_and_start/noop.wasm", |b| {
        b.iter(|| {
            let m = load(&bytes);
            instantiate_and_run(m.module, fin, fout);
        })
    });
    let preloaded = load(&bytes);
    c.bench_function("instantiate_and_start/noop.wasm", |b| {
        b.iter(|| instantiate_and_run(preloaded.module, fin, fout))
    });
}

criterion_group!(name = instantiation; config = Criterion::default(); targets = benches);
criterion_main!(instantiation);
