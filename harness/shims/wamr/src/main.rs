//! `containerd-shim-coldbench-wamr-v1`: a containerd shim built on runwasi's
//! library (crates.io `containerd-shim-wasm` =1.0.1) whose engine is WAMR's
//! fast interpreter (crates.io `wamrx-sys` =0.3.0, WAMR 2.4.3) — the
//! production path "containerd + a Wasm shim" that Docker 24+ (containerd
//! image store) and Kubernetes RuntimeClass use, measured by coldbench's
//! `containerd-wasm-*` targets beside a runc container started through the
//! same containerd API.
//!
//! `harness/build.rs` builds it; the harness names it to containerd by its
//! absolute path (containerd 1.6+). Installed on containerd's `PATH`
//! (`scripts/install-containerd-shim.sh`, into /usr/local/bin), containerd
//! also finds it by name: runtime `io.containerd.coldbench-wamr.v1` ↔ binary
//! `containerd-shim-coldbench-wamr-v1`.
//!
//! A container's entry point (`process.args[0]` of its OCI spec) names the
//! `.wasm` file inside its root filesystem; the other arguments are the
//! guest's. youki's libcontainer (inside runwasi) has set up the container —
//! namespaces, cgroup, root filesystem, stdio — before `run_wasi` runs in
//! its init process; the guest gets stdin, stdout and stderr as WASI's
//! descriptors 0–2, its arguments, and nothing else (no preopened directory,
//! no environment variable, no socket).
//!
//! End of input: runwasi (containerd-shimkit 0.1.2, `stdio::open`) opens the
//! stdin FIFO read-write, and a process holding a FIFO open for writing never
//! reads end of file from it — the guest would be a writer of its own input,
//! and a command that reads its stdin to the end would wait forever. Before
//! the guest runs, descriptor 0 is reopened read-only through
//! `/proc/self/fd/0` (the same FIFO) ([`stdin_read_only`]): once the client
//! closes its end, the guest reads end of file.

use anyhow::{Context, Result, bail};
use containerd_shim_wasm::sandbox::Sandbox;
use containerd_shim_wasm::sandbox::context::{RuntimeContext, Source};
use containerd_shim_wasm::shim::{Cli, Shim, Version, version};
use std::ffi::{CStr, CString, c_char};
use wamrx_sys as sys;

/// The interpreter's own stack per instance, bytes (as the runner: 1 MiB).
const WASM_STACK_BYTES: u32 = 1 << 20;

/// Largest linear memory, 64 KiB pages (1 GiB, as every coldbench target).
const MEMORY_LIMIT_PAGES: u32 = 16_384;

struct WamrShim;

#[derive(Default)]
struct WamrSandbox;

impl Shim for WamrShim {
    type Sandbox = WamrSandbox;

    fn name() -> &'static str {
        "coldbench-wamr"
    }

    fn version() -> Version {
        version!()
    }
}

impl Sandbox for WamrSandbox {
    async fn run_wasi(&self, ctx: &impl RuntimeContext) -> Result<i32> {
        let entrypoint = ctx.entrypoint();
        let bytes = match entrypoint.source {
            Source::File(path) => std::fs::read(&path)
                .with_context(|| format!("cannot read Wasm module {}", path.display()))?,
            Source::Oci([layer, ..]) => layer.layer.clone(),
            Source::Oci([]) => bail!("the image has no Wasm layer"),
        };
        if let Err(e) = stdin_read_only() {
            // Said on the container's stderr (the client shows it), not only
            // in containerd's log.
            eprintln!("containerd-shim-coldbench-wamr: {e:#}");
            return Err(e);
        }
        run(&bytes, ctx.args())
    }
}

/// Makes descriptor 0 a read-only descriptor of the same file when it is a
/// FIFO (see the module documentation); anything else is left as it is.
fn stdin_read_only() -> Result<()> {
    use std::os::fd::AsRawFd;
    use std::os::unix::fs::FileTypeExt;
    let Ok(meta) = std::fs::metadata("/proc/self/fd/0") else {
        return Ok(());
    };
    if !meta.file_type().is_fifo() {
        return Ok(());
    }
    // Opening a FIFO read-only waits for a writer: descriptor 0 itself is
    // one until it is replaced, so this returns at once.
    let ro = std::fs::File::open("/proc/self/fd/0")
        .context("cannot reopen the stdin FIFO read-only through /proc/self/fd/0")?;
    // SAFETY: dup2 on two descriptors this process owns; `ro` stays valid
    // until dropped after the call.
    if unsafe { libc::dup2(ro.as_raw_fd(), 0) } < 0 {
        return Err(std::io::Error::last_os_error()).context("dup2 onto stdin");
    }
    Ok(())
}

/// Loads, instantiates and runs `bytes` with `args` (`argv[0]` first) on
/// descriptors 0–2; returns the guest's exit code.
fn run(bytes: &[u8], args: &[String]) -> Result<i32> {
    let mut err = [0 as c_char; 256];
    let text = |buf: &[c_char]| {
        // SAFETY: WAMR writes NUL-terminated text into a zeroed buffer.
        unsafe { CStr::from_ptr(buf.as_ptr()) }
            .to_string_lossy()
            .into_owned()
    };
    // SAFETY: the WAMR embedding API, used in the order it documents: init,
    // load, instantiate, run, read the exit code (the process ends after).
    unsafe {
        if !sys::wasm_runtime_init() {
            bail!("wasm_runtime_init failed");
        }
        let mut buf = bytes.to_vec();
        let module = sys::wasm_runtime_load(
            buf.as_mut_ptr(),
            buf.len() as u32,
            err.as_mut_ptr(),
            err.len() as u32,
        );
        if module.is_null() {
            bail!("WAMR cannot load the module: {}", text(&err));
        }
        let argv: Vec<CString> = args
            .iter()
            .map(|a| CString::new(a.as_str()))
            .collect::<Result<_, _>>()
            .context("an argument contains NUL")?;
        let mut argv_ptrs: Vec<*mut c_char> =
            argv.iter().map(|a| a.as_ptr() as *mut c_char).collect();
        let mut iargs: *mut sys::InstantiationArgs2 = std::ptr::null_mut();
        if !sys::wasm_runtime_instantiation_args_create(&mut iargs) {
            bail!("WAMR cannot allocate instantiation arguments");
        }
        sys::wasm_runtime_instantiation_args_set_default_stack_size(iargs, WASM_STACK_BYTES);
        sys::wasm_runtime_instantiation_args_set_max_memory_pages(iargs, MEMORY_LIMIT_PAGES);
        sys::wasm_runtime_instantiation_args_set_wasi_arg(
            iargs,
            argv_ptrs.as_mut_ptr(),
            argv_ptrs.len() as i32,
        );
        sys::wasm_runtime_instantiation_args_set_wasi_stdio(iargs, 0, 1, 2);
        let inst =
            sys::wasm_runtime_instantiate_ex2(module, iargs, err.as_mut_ptr(), err.len() as u32);
        if inst.is_null() {
            bail!("WAMR cannot instantiate the module: {}", text(&err));
        }
        if !sys::wasm_application_execute_main(inst, 0, std::ptr::null_mut()) {
            let e = sys::wasm_runtime_get_exception(inst);
            let why = if e.is_null() {
                "unknown exception".to_string()
            } else {
                CStr::from_ptr(e).to_string_lossy().into_owned()
            };
            bail!("guest trapped: {why}");
        }
        let code = sys::wasm_runtime_get_wasi_exit_code(inst) as i32;
        sys::wasm_runtime_deinstantiate(inst);
        sys::wasm_runtime_instantiation_args_destroy(iargs);
        sys::wasm_runtime_unload(module);
        drop(buf);
        Ok(code)
    }
}

fn main() {
    WamrShim::run(None);
}
