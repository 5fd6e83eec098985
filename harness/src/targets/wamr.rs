//! WAMR (the WebAssembly Micro Runtime) embedded in its runner
//! (`harness/runners/wamr`, through the crates.io crate `wamrx-sys` =0.3.0,
//! WAMR 2.4.3), driven like every embedded runtime ([`RunnerFamily`]).
//!
//! The bundled build is WAMR's fast interpreter only: `wamrx-sys`
//! hard-disables AOT and every JIT tier (they need LLVM, and AOT needs
//! `wamrc`), so `wamr-aot` and `wamr-jit` are listed as unavailable with
//! that reason.

use super::embedded::{RunnerFamily, RunnerVariant};
use super::{Priors, heavy};

/// Why WAMR's compiled modes cannot run with this build.
const NO_COMPILER: &str = "the bundled WAMR build (crates.io wamrx-sys =0.3.0) is the fast interpreter only: it hard-disables AOT and every JIT tier (WAMR_BUILD_AOT=0, WAMR_BUILD_JIT=0, WAMR_BUILD_FAST_JIT=0); enabling them needs WAMR built with LLVM (and `wamrc` for AOT files), which no registry these machines reach provides";

/// A fast-interpreter start: the module is translated to WAMR's internal
/// bytecode at load (all functions, not lazily as wasmi), so the heavy
/// workloads' loads weigh more than wasmi's parses.
fn interp_priors(workload: &str) -> Priors {
    Priors::new(if heavy(workload) { 0.1 } else { 0.002 }, 0.0005)
}

/// WAMR's variants, in table order.
pub static FAMILY: RunnerFamily = RunnerFamily {
    variants: &[
        RunnerVariant {
            id: "wamr-interp",
            runtime: "wamr",
            args: &["--strategy", "fresh"],
            description: "fast interpreter: module loaded (parsed, validated, translated) at every start, then instantiated",
            precompiled: None,
            interrupts: false,
            pooled: false,
            module_in_process: false,
            priors: interp_priors,
            unavailable: None,
        },
        RunnerVariant {
            id: "wamr-interp-preloaded",
            runtime: "wamr",
            args: &["--strategy", "preloaded"],
            description: "fast interpreter: module loaded once, every start only instantiates",
            precompiled: None,
            interrupts: false,
            pooled: false,
            module_in_process: true,
            priors: |_| Priors::new(0.002, 0.0005),
            unavailable: None,
        },
        RunnerVariant {
            id: "wamr-aot",
            runtime: "wamr",
            args: &["--strategy", "aot"],
            description: "AOT: module compiled by wamrc ahead of time",
            precompiled: None,
            interrupts: false,
            pooled: false,
            module_in_process: false,
            priors: |_| Priors::new(0.002, 0.0005),
            unavailable: Some(NO_COMPILER),
        },
        RunnerVariant {
            id: "wamr-jit",
            runtime: "wamr",
            args: &["--strategy", "jit"],
            description: "Fast JIT / LLVM JIT",
            precompiled: None,
            interrupts: false,
            pooled: false,
            module_in_process: false,
            priors: |_| Priors::new(0.01, 0.0005),
            unavailable: Some(NO_COMPILER),
        },
    ],
};
