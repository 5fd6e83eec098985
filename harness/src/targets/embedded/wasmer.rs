//! wasmer's variants: Cranelift and Singlepass artifacts compiled at prepare
//! and deserialized at every start. The runner is `harness/runners/wasmer`.

use super::*;

/// wasmer's variants, in table order.
pub const WASMER: [RunnerVariant; 2] = [
    RunnerVariant {
        id: "wasmer-cranelift",
        runtime: "wasmer",
        args: &["--compiler", "cranelift"],
        description: "Cranelift-compiled artifact, deserialized from file at every start (WASIX sys-minimal)",
        precompiled: Some(ArtifactKind::WasmerArtifact),
        interrupts: false,
        pooled: false,
        module_in_process: false,
        priors: |w| {
            Priors::new(if heavy(w) { 0.015 } else { 0.002 }, 0.0005)
                .with_prepare_s(compile_prior_s(w))
        },
        unavailable: None,
    },
    RunnerVariant {
        id: "wasmer-singlepass",
        runtime: "wasmer",
        args: &["--compiler", "singlepass"],
        description: "Singlepass-compiled artifact, deserialized from file at every start (WASIX sys-minimal)",
        precompiled: Some(ArtifactKind::WasmerArtifact),
        interrupts: false,
        pooled: false,
        module_in_process: false,
        priors: |w| {
            Priors::new(if heavy(w) { 0.015 } else { 0.002 }, 0.0005)
                .with_prepare_s(compile_prior_s(w) * 0.2)
        },
        unavailable: None,
    },
];
