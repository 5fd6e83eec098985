//! Exports of a run to the formats CI dashboards already read. Benchmark
//! names are stable: `<workload>/<target>/<metric>` (the throughput row
//! stands for the workload, so `hash-iterated/wasmtime-pooling/reused`).
//!
//! - [`hyperfine_json`] — hyperfine's `--export-json` layout
//!   (`results[]` with `command`, `mean`, `stddev`, `median`, `min`, `max`,
//!   `times`, all in **seconds**), one entry per cold-start distribution:
//!   what hyperfine itself times is a start. `times` are the values of the
//!   stored HDR histogram (3 significant digits), one per sample; `user`
//!   and `system` (CPU time) are not measured by coldbench and are absent.
//! - [`bmf`] — Bencher Metric Format (<https://bencher.dev/docs/reference/bencher-metric-format>):
//!   `{benchmark: {measure: {value, lower_value, upper_value}}}`, measures
//!   `latency` (ns, median with its 95 % interval), `throughput` (requests/s
//!   with its 95 % interval), `memory-per-instance` (bytes) and `file-size`
//!   (bytes).
//! - [`github_benchmark`] — github-action-benchmark's custom tools
//!   (<https://github.com/benchmark-action/github-action-benchmark>):
//!   `[{name, unit, value, range, extra}]`, one list for
//!   `customSmallerIsBetter` (durations in ns, bytes) and one for
//!   `customBiggerIsBetter` (requests/s); a tool reads one direction per
//!   file.

use coldbench_results::{LatencyHistogram, RunFile, Summary};
use serde_json::{Value, json};

fn name(workload: &str, target: &str, metric: &str) -> String {
    format!("{workload}/{target}/{metric}")
}

/// hyperfine's JSON layout (see the module documentation), values in seconds.
pub fn hyperfine_json(run: &RunFile) -> Value {
    let s = |ns: f64| ns / 1e9;
    let mut results = Vec::new();
    for r in run.cold_start_results() {
        let Ok(h) = LatencyHistogram::from_base64(&r.histogram_v2_deflate_b64) else {
            continue;
        };
        let inner = h.inner();
        let mut times = Vec::with_capacity(inner.len() as usize);
        for v in inner.iter_recorded() {
            let t = s(inner.highest_equivalent(v.value_iterated_to()) as f64);
            for _ in 0..v.count_at_value() {
                times.push(t);
            }
        }
        let m = &r.summary;
        results.push(json!({
            "command": name(&r.workload, &r.target, r.metric.name()),
            "mean": s(m.mean_ns),
            "stddev": s(m.stddev_ns),
            "median": s(m.p50_ns as f64),
            "min": s(m.min_ns as f64),
            "max": s(m.max_ns as f64),
            "times": times,
        }));
    }
    json!({ "results": results })
}

fn interval(value: f64, low: f64, high: f64) -> Value {
    json!({ "value": value, "lower_value": low, "upper_value": high })
}

/// One exported figure, before it is laid out for a format.
struct Entry {
    name: String,
    measure: &'static str,
    value: f64,
    range: Option<(f64, f64)>,
    n: u64,
}

fn entries(run: &RunFile) -> Vec<Entry> {
    let mut out = Vec::new();
    let ci = |s: &Summary| Some((s.p50_ci95_low_ns as f64, s.p50_ci95_high_ns as f64));
    for r in run.cold_start_results() {
        out.push(Entry {
            name: name(&r.workload, &r.target, r.metric.name()),
            measure: "latency",
            value: r.summary.p50_ns as f64,
            range: ci(&r.summary),
            n: r.summary.n,
        });
    }
    for c in run.throughput_cells().iter().filter(|c| c.requests > 0) {
        let n = name(&c.row, &c.target, c.mode.name());
        out.push(Entry {
            name: n.clone(),
            measure: "throughput",
            value: c.rps,
            range: Some((c.rps_ci95_low, c.rps_ci95_high)),
            n: c.requests,
        });
        out.push(Entry {
            name: n,
            measure: "latency",
            value: c.latency.p50_ns as f64,
            range: ci(&c.latency),
            n: c.latency.n,
        });
    }
    for s in run.density_series() {
        for f in &s.bytes_per_instance {
            out.push(Entry {
                name: name(&s.workload, &s.target, &format!("density.{}", f.source)),
                measure: "memory-per-instance",
                value: f.bytes_per_instance,
                range: None,
                n: s.instances,
            });
        }
        if s.t_ready.n > 0 {
            out.push(Entry {
                name: name(&s.workload, &s.target, "density.t_ready"),
                measure: "latency",
                value: s.t_ready.p50_ns as f64,
                range: ci(&s.t_ready),
                n: s.t_ready.n,
            });
        }
    }
    for t in run.targets.iter().filter(|t| t.available) {
        for a in &t.artifacts {
            out.push(Entry {
                name: name(&a.workload, &t.id, &format!("artifact.{}", a.kind)),
                measure: "file-size",
                value: a.bytes as f64,
                range: None,
                n: 1,
            });
        }
    }
    out
}

/// Bencher Metric Format (see the module documentation).
pub fn bmf(run: &RunFile) -> Value {
    let mut out = serde_json::Map::new();
    for e in entries(run) {
        let metric = match e.range {
            Some((l, h)) => interval(e.value, l, h),
            None => json!({ "value": e.value }),
        };
        out.entry(e.name)
            .or_insert_with(|| json!({}))
            .as_object_mut()
            .expect("an object")
            .insert(e.measure.to_string(), metric);
    }
    Value::Object(out)
}

/// github-action-benchmark's custom-tool lists: `(smaller is better,
/// bigger is better)` (see the module documentation). `name` is
/// `<workload>/<target>/<metric>` plus ` (latency)` for a throughput cell's
/// latency.
pub fn github_benchmark(run: &RunFile) -> (Value, Value) {
    let mut smaller = Vec::new();
    let mut bigger = Vec::new();
    for e in entries(run) {
        let (unit, list) = match e.measure {
            "throughput" => ("requests/s", &mut bigger),
            "latency" => ("ns", &mut smaller),
            _ => ("bytes", &mut smaller),
        };
        let name = if e.measure == "latency"
            && run
                .throughput_cells()
                .iter()
                .any(|c| name(&c.row, &c.target, c.mode.name()) == e.name)
        {
            format!("{} (latency)", e.name)
        } else {
            e.name
        };
        let (range, extra) = match e.range {
            Some((l, h)) => (
                format!("± {:.0}", (h - e.value).max(e.value - l)),
                format!(
                    "median, 95 % interval [{l:.0}–{h:.0}] {unit}, n = {}; host {}, {}",
                    e.n, run.host.hostname, run.started_utc
                ),
            ),
            None => (
                "± 0".to_string(),
                format!(
                    "single figure (n = {}); host {}, {}",
                    e.n, run.host.hostname, run.started_utc
                ),
            ),
        };
        list.push(json!({
            "name": name,
            "unit": unit,
            "value": e.value,
            "range": range,
            "extra": extra,
        }));
    }
    (Value::Array(smaller), Value::Array(bigger))
}
