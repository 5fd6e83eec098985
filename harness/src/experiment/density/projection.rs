//! The projection of a series to a host: instances per host memory from the
//! per-instance figure, after the reserve.

use super::*;

/// Instances per host by the one per-instance rule the reports share
/// ([`coldbench_results::DensitySeries::memory_per_instance`]: the larger
/// of the host `MemAvailable` drop and PSS), memory the only limit.
pub fn project(
    figures: &[MemoryFigure],
    host_memory_bytes: u64,
    floor_fraction: f64,
) -> Option<DensityProjection> {
    let (per, basis) = coldbench_results::memory_per_instance(figures)?;
    Some(DensityProjection {
        host_memory_bytes,
        instances: coldbench_results::instances_in_memory(host_memory_bytes, floor_fraction, per),
        bytes_per_instance: per,
        assumption: format!(
            "memory is the only limit; {:.0} % of the host's memory is kept free (the same floor \
             as the run); every instance costs its {} at the series' largest N; the host's own \
             baseline use, task limits and CPU are ignored",
            floor_fraction * 100.0,
            basis.describe()
        ),
    })
}
