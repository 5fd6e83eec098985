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
    /// Start call → ready line; `None` for a command (it has no ready
    /// line: its start is part of its one response).
    pub t_ready_ns: Option<u64>,
    /// Start call → verified response (a command: → end of its stdout).
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

/// ns from `t0_ns` to `read_ns` (a line's read, [`crate::stream::LineReader::line_read_ns`]);
/// 0 if the line was read before `t0_ns`, which only a stamp of another
/// clock could give.
fn since(t0_ns: u64, read_ns: u64) -> u64 {
    read_ns.saturating_sub(t0_ns)
}

/// Starts an instance of `workload` and reads its ready line before
/// `deadline`. Returns the instance and `t_ready_ns`: `t0_ns` (the caller's
/// clock reading just before the start call) → the harness's read of the
/// bytes that completed the ready line ([`crate::stream::LineReader::line_read_ns`]), before
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
    let t_ready_ns = since(t0_ns, inst.stdout().line_read_ns());
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

/// Starts a command instance for `case` (a [`Case::command`]) and writes
/// its whole input to its stdin, left open: [`command_response`] closes it
/// (at once for a cold start; density first holds the command blocked on
/// its input). Errors: the start failed (a failed write is not one: a
/// command may exit without reading its input; its exit status says why).
pub fn start_command(
    target: &mut dyn Target,
    case: &Case,
    timeout: Duration,
) -> Result<Box<dyn Instance>, StartFailure> {
    let mut inst = target
        .start(&case.workload, false, timeout)
        .map_err(|e| StartFailure::target(Phase::Start, e))?;
    // A command may exit without reading its input (a bad argument, or one
    // that reads no stdin): the write then fails with a broken pipe, and
    // what counts is its output and exit status, read next.
    let _ = inst.write_stdin(&case.request_bytes, timeout);
    Ok(inst)
}

/// A command's response: closes its stdin and digests its
/// stdout until it ends, before `deadline`. Returns the stdout's CRC-32
/// (its exit status is checked by the teardown). Errors: the stdout did
/// not end in time, with what the instance said on the side.
pub fn command_response(
    inst: &mut Box<dyn Instance>,
    deadline: Instant,
) -> Result<u32, StartFailure> {
    inst.close_stdin()
        .map_err(|e| StartFailure::target(Phase::Request, e))?;
    match inst.stdout().digest_to_end(deadline) {
        Ok(d) => Ok(d.crc32),
        Err(e) => {
            let mut message = format!("the command's stdout did not end: {e}");
            let diag = inst.diagnostics();
            if !diag.trim().is_empty() {
                let excerpt: String = diag.trim().chars().take(500).collect();
                message.push_str(&format!("; instance said: {excerpt}"));
            }
            Err(StartFailure::line(Phase::Request, &e, message))
        }
    }
}

/// Tears a command instance down; a non-zero exit is the command's
/// failure, said as such.
fn command_teardown(
    inst: Box<dyn Instance>,
    case: &Case,
    timeout: Duration,
) -> Result<(), StartFailure> {
    inst.teardown(timeout).map_err(|e| {
        let mut f = StartFailure::target(Phase::Teardown, e);
        f.message = format!(
            "command `{}` on input {}: {} (a command must exit with status 0; run it by hand on the same input to see why)",
            case.workload, case.name, f.message
        );
        f
    })
}

/// One cold start of a command (see [`one_start`]): start → input written
/// and closed → end of stdout (`t_first_response`) → exit reaped
/// (`t_teardown`). No ready line, so no `t_ready`; the target's inner
/// phases up to instantiation are kept.
fn one_command_start(
    target: &mut dyn Target,
    case: &Case,
    expected_crc32: Option<u32>,
    timeout: Duration,
) -> Result<Sample, StartFailure> {
    let t0 = monotonic_ns();
    let deadline = Instant::now() + timeout;
    let mut inst = start_command(target, case, timeout)?;
    let crc32 = command_response(&mut inst, deadline)?;
    let end_ns = monotonic_ns();
    let t_first_response_ns = end_ns - t0;
    if let Some(expected) = expected_crc32
        && crc32 != expected
    {
        let _ = inst.teardown(timeout);
        return Err(StartFailure::mismatch(crc32, expected));
    }
    let inner = inst
        .inner_phases(t0, end_ns)
        .into_iter()
        .filter(|(m, _)| !matches!(m, Metric::TGuestReady | Metric::TReadyReturn))
        .collect();
    let t1 = monotonic_ns();
    command_teardown(inst, case, timeout)?;
    let t_teardown_ns = monotonic_ns() - t1;
    Ok(Sample {
        t_ready_ns: None,
        t_first_response_ns,
        t_teardown_ns,
        inner,
        crc32,
    })
}

/// Pause between two polls of a target that is waiting ([`Target::waiting`]).
pub const WAITING_POLL: Duration = Duration::from_millis(250);

/// Waits while `target` says it cannot start yet (the Docker engine
/// restarting; bounded by the target's own limit, [`Target::waiting`]),
/// before a start's clock is read: for the experiments that cannot put a
/// start off (density, throughput). Cold start defers the target instead.
pub fn wait_until_startable(target: &mut dyn Target) {
    while target.waiting().is_some() {
        std::thread::sleep(WAITING_POLL);
    }
}

/// One cold start of `case` on `target`: the harness holds the clock from the
/// start call to the release of the instance. The response is checked against
/// `expected_crc32` when given; a mismatching instance is still torn down.
/// A command ([`Case::command`]) has no ready line: start → input written
/// and closed → end of stdout (`t_first_response`) → exit reaped.
pub fn one_start(
    target: &mut dyn Target,
    case: &Case,
    expected_crc32: Option<u32>,
    timeout: Duration,
) -> Result<Sample, StartFailure> {
    if case.command {
        return one_command_start(target, case, expected_crc32, timeout);
    }
    let t0 = monotonic_ns();
    let deadline = Instant::now() + timeout;
    let (mut inst, t_ready_ns) = start_ready(target, &case.workload, false, t0, deadline, timeout)?;
    let crc32 = exchange(&mut inst, case, deadline, timeout)?;
    let t_first_response_ns = since(t0, inst.stdout().line_read_ns());
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
        t_ready_ns: Some(t_ready_ns),
        t_first_response_ns,
        t_teardown_ns,
        inner,
        crc32,
    })
}

/// The checksum every target must reproduce for `case`, from one start on
/// `reference` (native, or for a command without a native build a Wasm
/// target); `None`, with the input error recorded, if the reference cannot
/// answer it: the case is then left out of the measurement.
pub fn reference_checksum(
    reference: &mut dyn Target,
    case: &Case,
    timeout: Duration,
    out: &mut Collector,
) -> Option<u32> {
    match one_start(reference, case, None, timeout) {
        Ok(s) => Some(s.crc32),
        Err(f) => {
            let paths: Vec<&str> = case.inputs.iter().map(|i| i.path.as_str()).collect();
            let what = if case.command {
                format!(
                    "command `{}` on {} fails on the reference target {}",
                    case.workload,
                    if paths.is_empty() {
                        "an empty stdin".to_string()
                    } else {
                        format!("input {}", paths.join(", "))
                    },
                    reference.id()
                )
            } else {
                format!("input {} cannot be used", paths.join(", "))
            };
            out.error(
                Subject {
                    workload: Some(&case.workload),
                    target: None,
                    case: Some(&case.name),
                },
                Phase::Input,
                f.kind,
                format!(
                    "{what}: {} (the case is left out; the rest of the run goes on)",
                    f.message
                ),
            );
            None
        }
    }
}
