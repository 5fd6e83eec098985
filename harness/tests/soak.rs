//! Soak: throughput for a long time, and the harness's own process stays
//! flat — resident memory, open file descriptors, threads — as read into
//! `run.json` (`harness[]`) every 10 s. It runs in every `cargo test` on a
//! short budget (1.5 min: one minute to settle, half a minute judged); the
//! long soak is the same test given `COLDBENCH_SOAK_MINUTES`:
//!
//! ```sh
//! COLDBENCH_SOAK_MINUTES=30 cargo test --release -p coldbench --test soak -- --nocapture
//! ```

mod common;

use coldbench_results::RunFile;
use common::{bin, tmpdir};
use std::process::Command;

/// The budget under `cargo test`, minutes: the shortest that leaves
/// readings after the first minute's settling to judge.
const SHORT_MINUTES: f64 = 1.5;

#[test]
fn a_long_throughput_run_leaves_the_harness_flat() {
    let minutes: f64 = std::env::var("COLDBENCH_SOAK_MINUTES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(SHORT_MINUTES)
        .max(SHORT_MINUTES);
    // Four cells (noop reused and instance-per-request, on native and
    // wasmtime-pooling), each a quarter of the time.
    let cell_s = (minutes * 60.0 / 4.0).max(5.0);
    let out = tmpdir("soak");
    let o = Command::new(bin())
        .args([
            "throughput",
            "--workloads",
            "noop",
            "--targets",
            "native,wasmtime-pooling",
            "--duration-s",
            &cell_s.to_string(),
            "--max-cell-s",
            &(cell_s * 1.5).to_string(),
            "--no-report",
            "--quiet",
            "--out",
        ])
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    common::validate_schema(&out.join("run.json"));
    let run = RunFile::read(&out.join("run.json")).unwrap();
    let cells = &run.throughput.as_ref().expect("throughput section").cells;
    let requests: u64 = cells.iter().map(|c| c.requests).sum();
    let h = &run.harness;
    assert!(h.len() >= (minutes * 6.0) as usize, "{} readings", h.len());
    // Flatness is judged after the first cell's warm-up (the first minute):
    // from then on every reading is within bounds of the one at 1 min.
    let settled = h
        .iter()
        .find(|s| s.t_ns >= 60_000_000_000)
        .expect("a reading after 1 min");
    let (last, first) = (h.last().unwrap(), &h[0]);
    let rss = |s: &coldbench_results::HarnessSample| s.rss_bytes.expect("rss read");
    let fds = |s: &coldbench_results::HarnessSample| s.open_fds.expect("fds read");
    let threads = |s: &coldbench_results::HarnessSample| s.threads.expect("threads read");
    println!(
        "soak: {:.1} min, {requests} requests; harness start {} KiB / {} fds / {} threads; at 1 min {} KiB / {} / {}; end {} KiB / {} / {}; peak {} KiB",
        last.t_ns as f64 / 60e9,
        rss(first) / 1024,
        fds(first),
        threads(first),
        rss(settled) / 1024,
        fds(settled),
        threads(settled),
        rss(last) / 1024,
        fds(last),
        threads(last),
        h.iter().map(rss).max().unwrap() / 1024
    );
    // A leak grows with the requests; what may appear once is a step when a
    // new kind of cell begins (glibc malloc arenas for the threads of
    // instance-per-request clients: +8.5 MiB in the run of 2026-11-30). So:
    // after the first minute, growth stays under 16 MiB in all and under a
    // quarter of a byte per request.
    let peak = h
        .iter()
        .filter(|s| s.t_ns >= settled.t_ns)
        .map(rss)
        .max()
        .unwrap();
    let grown = peak.saturating_sub(rss(settled));
    assert!(grown < 16 << 20, "RSS grew {grown} B after 1 min");
    assert!(
        (grown as f64) < 0.25 * requests as f64,
        "RSS grew {grown} B over {requests} requests"
    );
    for s in h.iter().filter(|s| s.t_ns >= settled.t_ns) {
        // Between cells the clients' threads and pipes come and go; at the
        // end everything is closed, so the end may not exceed the settled count.
        assert!(
            fds(s) <= fds(settled) + 16,
            "fds grew: {s:?} vs {settled:?}"
        );
        assert!(threads(s) <= threads(settled) + 16, "threads grew: {s:?}");
    }
    assert!(fds(last) <= fds(settled), "{last:?} vs {settled:?}");
    assert!(threads(last) <= threads(settled), "{last:?} vs {settled:?}");
    let _ = std::fs::remove_dir_all(&out);
}
