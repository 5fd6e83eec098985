//! The throughput section: its configuration and one cell per row × target ×
//! mode (docs/design.md §5).

use super::*;

/// The throughput section: how cells ran and what they measured.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct ThroughputSection {
    /// How the cells were run.
    pub config: ThroughputConfig,
    /// One cell per row × target × mode.
    pub cells: Vec<ThroughputResult>,
}

/// How the throughput cells of a run were measured.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct ThroughputConfig {
    /// Concurrent closed-loop clients per cell (each owns its own instance or
    /// starts its own instances; a new request is sent only after the previous
    /// response).
    pub clients: u32,
    /// Minimum measurement window per cell, ns.
    pub duration_ns: u64,
    /// Minimum verified requests per cell; the window is extended until reached
    /// (bounded by `max_cell_ns`).
    pub min_requests: u64,
    /// Hard bound on a cell's measurement window, ns.
    pub max_cell_ns: u64,
    /// Requests per client run and discarded before the window opens.
    pub warmup_requests: u32,
    /// Number of equal batches the window is cut into for the requests/s
    /// interval (batch means, Student t, 95 %).
    pub batches: u32,
    /// Modes measured.
    pub modes: Vec<ThroughputMode>,
    /// Median cost of reading the harness clock twice back to back
    /// (`CLOCK_MONOTONIC`, the empty timing loop of docs/design.md §6), ns.
    pub timer_overhead_ns: u64,
}

/// How a throughput client uses instances.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum ThroughputMode {
    /// A long-lived instance per client serves every request.
    Reused,
    /// A fresh instance per request (start, ready, request, teardown), as
    /// function platforms do; latency is start call → verified response.
    InstancePerRequest,
}

impl ThroughputMode {
    /// Stable name used in files and tables.
    pub fn name(self) -> &'static str {
        match self {
            ThroughputMode::Reused => "reused",
            ThroughputMode::InstancePerRequest => "instance_per_request",
        }
    }
}

/// One throughput cell: a row (a workload, or a workload's CPU-heavy case) ×
/// target × mode, measured closed-loop.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct ThroughputResult {
    /// Row name: the workload (`thumbnail`), or `hash-iterated` for the
    /// iterated SHA-256 case that answers the "13× slower" claim.
    pub row: String,
    /// Workload name.
    pub workload: String,
    /// Case names the clients cycled through, in order.
    pub cases: Vec<String>,
    /// Target variant id.
    pub target: String,
    /// How instances were used.
    pub mode: ThroughputMode,
    /// Concurrent clients.
    pub clients: u32,
    /// Measurement window (all clients past warm-up → stop), ns.
    pub window_ns: u64,
    /// Verified requests that started and completed inside the window.
    pub requests: u64,
    /// Why the window closed.
    pub stop_reason: ThroughputStop,
    /// Requests per second over the window.
    pub rps: f64,
    /// 95 % interval of the requests/s (batch means over `batches` equal
    /// slices of the window, Student t); equal to `rps` when not computable.
    pub rps_ci95_low: f64,
    /// Upper end of the 95 % interval of the requests/s.
    pub rps_ci95_high: f64,
    /// Per-request latency inside the window, ns: request written → verified
    /// response (reused), or start call → verified response (instance per request).
    pub latency: Summary,
    /// The latency HDR histogram, V2 + deflate, base64, values in ns.
    pub latency_histogram_v2_deflate_b64: String,
    /// `native_rps / rps` for the same row and mode in the same run, with a
    /// conservative interval (`native_low / high`, `native_high / low`).
    /// Absent for `native` itself or when native was not measured.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slowdown_vs_native: Option<Ratio>,
    /// Requests that failed (start, timeout, protocol, rejection) in this cell.
    pub failed: u64,
    /// Responses whose checksum differed from native's (never counted as requests).
    pub mismatched: u64,
}

/// A ratio with a 95 % interval.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, JsonSchema)]
pub struct Ratio {
    /// The point estimate.
    pub ratio: f64,
    /// Lower end of the interval.
    pub ci95_low: f64,
    /// Upper end of the interval.
    pub ci95_high: f64,
}
