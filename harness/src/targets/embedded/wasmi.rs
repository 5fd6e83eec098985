//! wasmi's variant: the interpreter parsing the module (lazy translation) at
//! every start. The runner is `harness/runners/wasmi`.

use super::*;

/// wasmi's variant.
pub const WASMI: [RunnerVariant; 1] = [RunnerVariant {
    id: "wasmi",
    runtime: "wasmi",
    args: &[],
    description: "interpreter: module parsed at every start, functions translated lazily to wasmi bytecode",
    precompiled: None,
    interrupts: false,
    pooled: false,
    module_in_process: false,
    priors: |w| Priors::new(if heavy(w) { 0.07 } else { 0.002 }, 0.0005),
    unavailable: None,
}];
