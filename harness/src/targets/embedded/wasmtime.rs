//! wasmtime's variants: JIT (Cranelift at every start), AOT (a precompiled
//! `.cwasm` deserialized at every start) and pooling (module loaded once,
//! `InstancePre`, pooling allocator). The runner is `harness/runners/wasmtime`.

use super::*;

/// wasmtime's variants, in table order.
pub const WASMTIME: [RunnerVariant; 3] = [
    RunnerVariant {
        id: "wasmtime-jit",
        runtime: "wasmtime",
        args: &["--strategy", "jit"],
        description: "Cranelift compile at every start",
        precompiled: None,
        interrupts: true,
        pooled: false,
        module_in_process: false,
        priors: |w| {
            let start_s = match w {
                "json-validate" => 4.0,
                "thumbnail" => 1.0,
                "hash" => 0.3,
                _ => 0.08,
            };
            Priors::new(start_s, 0.0005)
        },
        unavailable: None,
    },
    RunnerVariant {
        id: "wasmtime-aot",
        runtime: "wasmtime",
        args: &["--strategy", "aot"],
        description: "precompiled .cwasm, deserialized from file (mmap) at every start",
        precompiled: Some(ArtifactKind::Cwasm),
        interrupts: true,
        pooled: false,
        module_in_process: false,
        priors: compiled_priors,
        unavailable: None,
    },
    RunnerVariant {
        id: "wasmtime-pooling",
        runtime: "wasmtime",
        args: &["--strategy", "pooling"],
        description: "precompiled module deserialized once, InstancePre, pooling instance allocator: every start only instantiates",
        precompiled: Some(ArtifactKind::Cwasm),
        interrupts: true,
        pooled: true,
        module_in_process: true,
        priors: compiled_priors,
        unavailable: None,
    },
];
