//! The three experiments, each run inside a [`Session`](crate::session::Session)
//! on its prepared targets, and the instance steps they share:
//!
//! - [`coldstart`]: start → ready → first verified response → teardown;
//! - [`density`]: idle instances kept alive one by one, memory per instance;
//! - [`throughput`]: closed-loop load, requests/s, latency, slowdown;
//! - [`crate::steps`]: start/ready, request/response, one whole start, reference
//!   checksums (below the experiments and the session, which both use them).

pub mod coldstart;
pub mod density;
pub mod throughput;

#[cfg(test)]
mod tests;
