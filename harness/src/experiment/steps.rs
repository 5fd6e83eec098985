//! The steps of an instance's life every experiment shares: start and read
//! the ready line, send a request and read the response, one whole cold
//! start, and native's reference checksums. The harness holds the clock
//! around each (docs/design.md §3).

use crate::cases::Case;
use crate::collector::{Collector, Subject};
use crate::failure::{FailureKind, Phase, StartFailure};
use crate::targets::{Instance, Target};
use coldbench_protocol::{Response, monotonic_ns, parse_ready_line};
use coldbench_results::Metric;
use std::time::{Duration, Instant};

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

/// Reads the instance's next stdout line; a timeout or end of output becomes a
/// failure of `phase` carrying what the instance said on the side.
fn read_line(
    inst: &mut Box<dyn Instance>,
    deadline: Instant,
    phase: Phase,
    what: &str,
) -> Result<String, StartFailure> {
    inst.stdout().read_line(deadline).map_err(|e| {
        let mut message = format!("{what}: {e}");
        let diag = inst.diagnostics();
        if !diag.trim().is_empty() {
            let excerpt: String = diag.trim().chars().take(500).collect();
            message.push_str(&format!("; instance said: {excerpt}"));
        }
        StartFailure::line(phase, &e, message)
    })
}

/// Starts an instance of `workload` and reads its ready line before
/// `deadline`. Returns the instance and `t_ready_ns`: `t0_ns` (the caller's
/// clock reading just before the start call) → ready line read, stamped before
/// the line is parsed. Errors: a failed start, no ready line, or a ready line
/// announcing another workload. An instance that failed is dropped, not torn
/// down (a hung one would hold the caller for a second timeout): the caller
/// calls [`Target::recover`], and the session removes leftover containers.
pub fn start_ready(
    target: &mut dyn Target,
    workload: &str,
    serve: bool,
    t0_ns: u64,
    deadline: Instant,
    timeout: Duration,
) -> Result<(Box<dyn Instance>, u64), StartFailure> {
    let mut inst = target
        .start(workload, serve, timeout)
        .map_err(|e| StartFailure::target(Phase::Start, e))?;
    let ready = read_line(&mut inst, deadline, Phase::Ready, "no ready line")?;
    let t_ready_ns = monotonic_ns() - t0_ns;
    let wrong = match parse_ready_line(&ready) {
        Ok(name) if name == workload => return Ok((inst, t_ready_ns)),
        Ok(name) => format!("instance announced workload `{name}`, expected `{workload}`"),
        Err(e) => e.to_string(),
    };
    Err(StartFailure::new(
        Phase::Ready,
        FailureKind::Protocol,
        wrong,
    ))
}

/// Sends `case`'s request to a ready instance and reads its response line
/// before `deadline`. Returns the response's CRC-32 (not yet compared with
/// anything). Errors: the request cannot be written, no response, a
/// malformed response, or the workload rejected the input.
pub fn exchange(
    inst: &mut Box<dyn Instance>,
    case: &Case,
    deadline: Instant,
    timeout: Duration,
) -> Result<u32, StartFailure> {
    inst.write_stdin(&case.request_bytes, timeout)
        .map_err(|e| StartFailure::target(Phase::Request, e))?;
    let line = read_line(inst, deadline, Phase::Request, "no response")?;
    match Response::parse_line(&line) {
        Ok(Response::Ok { crc32, .. }) => Ok(crc32),
        Ok(Response::Err { kind, message }) => Err(StartFailure::new(
            Phase::Request,
            FailureKind::Rejected,
            format!("workload rejected the input ({kind}): {message}"),
        )),
        Err(e) => Err(StartFailure::new(
            Phase::Request,
            FailureKind::Protocol,
            e.to_string(),
        )),
    }
}

/// One cold start of `case` on `target`: the harness holds the clock from the
/// start call to the release of the instance. The response is checked against
/// `expected_crc32` when given; a mismatching instance is still torn down.
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
        return Err(StartFailure::mismatch(crc32, expected));
    }
    let inner = inst.inner_phases(t0, t0 + t_ready_ns);
    let t1 = monotonic_ns();
    inst.teardown(timeout)
        .map_err(|e| StartFailure::target(Phase::Teardown, e))?;
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
                    Subject {
                        workload: Some(&case.workload),
                        target: None,
                        case: Some(&case.name),
                    },
                    Phase::Input,
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
