//! Cold-start measurement: start → ready → first verified response → teardown,
//! over every case and target, with warm-ups discarded and the target order of
//! every case shuffled by a seeded RNG so that drift hits every target alike.

use crate::suite::Case;
use crate::targets::{Target, TargetError};
use coldbench_protocol::{Response, monotonic_ns, parse_ready_line};
use coldbench_results::{ErrorRecord, LatencyHistogram, Metric, MetricResult, VerificationRecord};
use rand::SeedableRng;
use rand::seq::SliceRandom;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// How many starts, in which order, with which bounds.
#[derive(Debug, Clone)]
pub struct ColdStartConfig {
    /// Measured starts per case and target.
    pub runs: u32,
    /// Discarded starts per case and target, run first.
    pub warmup: u32,
    /// Seed of the interleaving RNG.
    pub seed: u64,
    /// Bound on each wait (ready, response, teardown).
    pub timeout: Duration,
}

/// Everything measured, keyed for the results file.
#[derive(Default)]
pub struct Collector {
    histograms: BTreeMap<(String, String, Metric), LatencyHistogram>,
    verification: BTreeMap<(String, String), (u64, u64)>,
    /// Errors, in the order they happened.
    pub errors: Vec<ErrorRecord>,
}

impl Collector {
    /// Records one duration of `metric` for `workload` × `target`, ns.
    pub fn record(&mut self, workload: &str, target: &str, metric: Metric, ns: u64) {
        self.histograms
            .entry((workload.to_string(), target.to_string(), metric))
            .or_default()
            .record_ns(ns);
    }

    /// Records an error.
    pub fn error(
        &mut self,
        workload: Option<&str>,
        target: Option<&str>,
        case: Option<&str>,
        phase: &str,
        kind: &str,
        message: impl Into<String>,
    ) {
        self.errors.push(ErrorRecord {
            workload: workload.map(str::to_string),
            target: target.map(str::to_string),
            case: case.map(str::to_string),
            phase: phase.to_string(),
            kind: kind.to_string(),
            message: message.into(),
        });
    }

    /// Adds `ok` matched and `bad` mismatched responses for `workload` × `target`.
    pub fn add_verified(&mut self, workload: &str, target: &str, ok: u64, bad: u64) {
        let e = self
            .verification
            .entry((workload.to_string(), target.to_string()))
            .or_default();
        e.0 += ok;
        e.1 += bad;
    }

    fn verified(&mut self, workload: &str, target: &str, ok: bool) {
        let e = self
            .verification
            .entry((workload.to_string(), target.to_string()))
            .or_default();
        if ok {
            e.0 += 1;
        } else {
            e.1 += 1;
        }
    }

    /// The distributions as results-file entries.
    pub fn results(&self) -> Vec<MetricResult> {
        self.histograms
            .iter()
            .filter_map(|((w, t, m), h)| {
                h.summary().map(|summary| MetricResult {
                    workload: w.clone(),
                    target: t.clone(),
                    metric: *m,
                    summary,
                    histogram_v2_deflate_b64: h.to_base64(),
                })
            })
            .collect()
    }

    /// The verification counts as results-file entries.
    pub fn verification(&self) -> Vec<VerificationRecord> {
        self.verification
            .iter()
            .map(|((w, t), (ok, bad))| VerificationRecord {
                workload: w.clone(),
                target: t.clone(),
                verified: *ok,
                mismatched: *bad,
            })
            .collect()
    }
}

/// The durations of one successful start, ns.
#[derive(Debug, Clone)]
pub struct Sample {
    /// Start call → ready line.
    pub t_ready_ns: u64,
    /// Start call → verified response.
    pub t_first_response_ns: u64,
    /// Response → resources released.
    pub t_teardown_ns: u64,
    /// Phases measured inside the target.
    pub inner: Vec<(Metric, u64)>,
    /// The response's checksum.
    pub crc32: u32,
}

/// Why one start failed: the phase and the error.
#[derive(Debug)]
pub struct StartFailure {
    /// `start`, `ready`, `request`, `verify` or `teardown`.
    pub phase: &'static str,
    /// Kind (`timeout`, `rejected`, `protocol`, ...).
    pub kind: &'static str,
    /// Message naming the problem.
    pub message: String,
}

/// A target error in `phase` as a [`StartFailure`].
pub fn fail(phase: &'static str, e: TargetError) -> StartFailure {
    let kind = match e {
        TargetError::Timeout(_) => "timeout",
        TargetError::Unavailable(_) => "unavailable",
        TargetError::Failed(_) => "failed",
    };
    StartFailure {
        phase,
        kind,
        message: e.to_string(),
    }
}

/// Reads the instance's next stdout line; a timeout or end of output becomes a
/// failure of `phase` carrying what the instance said on the side.
fn read_line(
    inst: &mut Box<dyn crate::targets::Instance>,
    deadline: Instant,
    phase: &'static str,
    what: &str,
) -> Result<String, StartFailure> {
    inst.stdout().read_line(deadline).map_err(|e| {
        let kind = match e {
            crate::stream::LineError::Timeout { .. } => "timeout",
            crate::stream::LineError::Eof { .. } => "eof",
        };
        let mut message = format!("{what}: {e}");
        let diag = inst.diagnostics();
        if !diag.trim().is_empty() {
            let excerpt: String = diag.trim().chars().take(500).collect();
            message.push_str(&format!("; instance said: {excerpt}"));
        }
        StartFailure {
            phase,
            kind,
            message,
        }
    })
}

/// Starts an instance of `workload` and reads its ready line before
/// `deadline`. Returns the instance and `t_ready_ns`: `t0_ns` (the caller's
/// clock reading just before the start call) → ready line read, stamped before
/// the line is parsed. Errors: a failed start, no ready line, or a ready line
/// announcing another workload.
pub fn start_ready(
    target: &mut dyn Target,
    workload: &str,
    serve: bool,
    t0_ns: u64,
    deadline: Instant,
    timeout: Duration,
) -> Result<(Box<dyn crate::targets::Instance>, u64), StartFailure> {
    let mut inst = target
        .start(workload, serve, timeout)
        .map_err(|e| fail("start", e))?;
    let ready = read_line(&mut inst, deadline, "ready", "no ready line")?;
    let t_ready_ns = monotonic_ns() - t0_ns;
    match parse_ready_line(&ready) {
        Ok(name) if name == workload => Ok((inst, t_ready_ns)),
        Ok(name) => Err(StartFailure {
            phase: "ready",
            kind: "protocol",
            message: format!("instance announced workload `{name}`, expected `{workload}`"),
        }),
        Err(e) => Err(StartFailure {
            phase: "ready",
            kind: "protocol",
            message: e.to_string(),
        }),
    }
}

/// Sends `case`'s request to a ready instance and reads its response line
/// before `deadline`. Returns the response's CRC-32 (not yet compared with
/// anything). Errors: the request cannot be written, no response, a
/// malformed response, or the workload rejected the input.
pub fn exchange(
    inst: &mut Box<dyn crate::targets::Instance>,
    case: &Case,
    deadline: Instant,
    timeout: Duration,
) -> Result<u32, StartFailure> {
    inst.write_stdin(&case.request_bytes, timeout)
        .map_err(|e| fail("request", e))?;
    let line = read_line(inst, deadline, "request", "no response")?;
    match Response::parse_line(&line) {
        Ok(Response::Ok { crc32, .. }) => Ok(crc32),
        Ok(Response::Err { kind, message }) => Err(StartFailure {
            phase: "request",
            kind: "rejected",
            message: format!("workload rejected the input ({kind}): {message}"),
        }),
        Err(e) => Err(StartFailure {
            phase: "request",
            kind: "protocol",
            message: e.to_string(),
        }),
    }
}

/// The failure of a response whose checksum differs from native's.
pub fn mismatch(crc32: u32, expected: u32) -> StartFailure {
    StartFailure {
        phase: "verify",
        kind: "mismatch",
        message: format!("result crc32 {crc32:08x} differs from native's {expected:08x}"),
    }
}

/// One cold start of `case` on `target`: the harness holds the clock from the
/// start call to the release of the instance. The response is checked against
/// `expected_crc32` when given.
pub fn one_start(
    target: &mut dyn Target,
    case: &Case,
    expected_crc32: Option<u32>,
    timeout: Duration,
) -> Result<Sample, StartFailure> {
    let t0 = monotonic_ns();
    let deadline = Instant::now() + timeout;
    let (mut inst, t_ready_ns) = start_ready(target, &case.workload, false, t0, deadline, timeout)?;
    let crc32 = exchange(&mut inst, case, deadline, timeout)?;
    let t_first_response_ns = monotonic_ns() - t0;
    if let Some(expected) = expected_crc32
        && crc32 != expected
    {
        // Still tear the instance down, but the sample does not count.
        let _ = inst.teardown(timeout);
        return Err(mismatch(crc32, expected));
    }
    let inner = inst.inner_phases(t0, t0 + t_ready_ns);
    let t1 = monotonic_ns();
    inst.teardown(timeout).map_err(|e| fail("teardown", e))?;
    let t_teardown_ns = monotonic_ns() - t1;
    Ok(Sample {
        t_ready_ns,
        t_first_response_ns,
        t_teardown_ns,
        inner,
        crc32,
    })
}

/// Runs every case on `reference` (native) once and returns, per case index,
/// the checksum every target must reproduce. A case native rejects is an input
/// error: recorded once, and left out of the measurement (`None`).
pub fn reference_checksums(
    reference: &mut dyn Target,
    cases: &[Case],
    timeout: Duration,
    out: &mut Collector,
) -> Vec<Option<u32>> {
    cases
        .iter()
        .map(|case| match one_start(reference, case, None, timeout) {
            Ok(s) => Some(s.crc32),
            Err(f) => {
                let paths: Vec<&str> = case.inputs.iter().map(|i| i.path.as_str()).collect();
                out.error(
                    Some(&case.workload),
                    None,
                    Some(&case.name),
                    "input",
                    f.kind,
                    format!(
                        "input {} cannot be used: {} (the case is left out; the rest of the run goes on)",
                        paths.join(", "),
                        f.message
                    ),
                );
                None
            }
        })
        .collect()
}

/// Measures every case on every target: `warmup + runs` rounds; in each round,
/// for each case, the targets in an order drawn from the seeded RNG. Stops
/// early (keeping what was measured) when `interrupted` is set. Pairs in
/// `skip` (target id, workload) — a workload a target could not prepare — are
/// not started.
#[allow(clippy::too_many_arguments)]
pub fn run(
    targets: &mut [Box<dyn Target>],
    cases: &[Case],
    skip: &std::collections::HashSet<(String, String)>,
    expected: &[Option<u32>],
    cfg: &ColdStartConfig,
    interrupted: &AtomicBool,
    out: &mut Collector,
    mut progress: impl FnMut(u64, u64),
) {
    let mut rng = rand::rngs::StdRng::seed_from_u64(cfg.seed);
    let usable: Vec<usize> = (0..cases.len())
        .filter(|&i| expected[i].is_some())
        .collect();
    let total = u64::from(cfg.warmup + cfg.runs) * usable.len() as u64 * targets.len() as u64;
    let mut done = 0u64;
    let mut order: Vec<usize> = (0..targets.len()).collect();
    for round in 0..(cfg.warmup + cfg.runs) {
        let measured = round >= cfg.warmup;
        for &ci in &usable {
            let case = &cases[ci];
            order.shuffle(&mut rng);
            for &ti in &order {
                if interrupted.load(Ordering::SeqCst) {
                    return;
                }
                let target = &mut targets[ti];
                let tid = target.id().to_string();
                if skip.contains(&(tid.clone(), case.workload.clone())) {
                    done += 1;
                    continue;
                }
                match one_start(target.as_mut(), case, expected[ci], cfg.timeout) {
                    Ok(s) => {
                        out.verified(&case.workload, &tid, true);
                        if measured {
                            out.record(&case.workload, &tid, Metric::TReady, s.t_ready_ns);
                            out.record(
                                &case.workload,
                                &tid,
                                Metric::TFirstResponse,
                                s.t_first_response_ns,
                            );
                            out.record(&case.workload, &tid, Metric::TTeardown, s.t_teardown_ns);
                            for (m, ns) in s.inner {
                                out.record(&case.workload, &tid, m, ns);
                            }
                        }
                    }
                    Err(f) => {
                        if f.kind == "mismatch" {
                            out.verified(&case.workload, &tid, false);
                        }
                        out.error(
                            Some(&case.workload),
                            Some(&tid),
                            Some(&case.name),
                            f.phase,
                            f.kind,
                            f.message,
                        );
                        target.recover();
                    }
                }
                done += 1;
                progress(done, total);
            }
        }
    }
}
