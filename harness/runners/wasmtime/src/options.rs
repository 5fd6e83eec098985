//! The runner's command line: strategy, allocator and limits.

use super::*;

/// Command line: `--strategy jit|aot|pooling [--pool-instances N]
/// [--instance-timeout-ms N]` or `--version`.
pub(super) struct Options {
    pub(super) strategy: Strategy,
    /// Pooling allocator capacity: instances, memories and tables alive at once.
    pub(super) pool_instances: u32,
    /// Time a guest may run without reading its stdin before it is
    /// interrupted, ms (`None`: never).
    pub(super) instance_timeout_ms: Option<u64>,
}

pub(super) fn parse_options() -> Result<Options> {
    let mut strategy = None;
    let mut pool_instances = 1000u32;
    let mut instance_timeout_ms = None;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--strategy" => {
                strategy = Some(match args.next().as_deref() {
                    Some("jit") => Strategy::Jit,
                    Some("aot") => Strategy::Aot,
                    Some("pooling") => Strategy::Pooling,
                    other => bail!("--strategy: expected jit, aot or pooling, got {other:?}"),
                })
            }
            "--pool-instances" => {
                pool_instances = args
                    .next()
                    .and_then(|v| v.parse().ok())
                    .filter(|n| *n > 0)
                    .ok_or_else(|| anyhow!("--pool-instances: expected a positive integer"))?
            }
            "--instance-timeout-ms" => {
                instance_timeout_ms = Some(
                    args.next()
                        .and_then(|v| v.parse().ok())
                        .filter(|n: &u64| *n > 0)
                        .ok_or_else(|| {
                            anyhow!("--instance-timeout-ms: expected a positive integer")
                        })?,
                )
            }
            "--version" => {
                println!("wasmtime {}", wasmtime_version());
                std::process::exit(0);
            }
            other => bail!(
                "unexpected argument {other:?}; usage: coldbench-runner-wasmtime --strategy jit|aot|pooling [--pool-instances N] [--instance-timeout-ms N] | --version"
            ),
        }
    }
    Ok(Options {
        strategy: strategy.ok_or_else(|| anyhow!("--strategy is required"))?,
        pool_instances,
        instance_timeout_ms,
    })
}
