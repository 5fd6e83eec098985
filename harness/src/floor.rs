//! The floor under runner transport: a pipe round trip with the runner
//! framing, measured against an echo process in the same run
//! (`ColdStartSection::pipe_round_trip`).
//!
//! The echo process is this binary's hidden `__echo-runner` command
//! ([`echo_runner`]): it reads `coldbench_protocol::runner` frames on stdin
//! and writes each back on stdout, flushed. The measuring thread writes one
//! frame, then reads the echoed frame itself — no thread between — so the
//! round trip is two pipe crossings and two process wake-ups: what any
//! transport between the harness and a runner process costs at least.

use coldbench_protocol::monotonic_ns;
use coldbench_protocol::runner::{Frame, Kind};
use coldbench_results::{LatencyHistogram, Summary};
use std::io::{BufReader, BufWriter, Write};
use std::process::{Command, Stdio};

/// Payload of each echoed frame, bytes: about a `Start` command's.
pub const PAYLOAD_BYTES: usize = 32;

/// The hidden command that runs [`echo_runner`].
pub const ECHO_COMMAND: &str = "__echo-runner";

/// Echoes frames from stdin to stdout until end of file (the echo process).
///
/// Errors: a malformed frame, or a closed stdout.
pub fn echo_runner() -> std::io::Result<()> {
    let mut input = BufReader::new(std::io::stdin().lock());
    let mut output = BufWriter::new(std::io::stdout().lock());
    while let Some(frame) = Frame::read_from(&mut input)? {
        frame.write_to(&mut output)?;
        output.flush()?;
    }
    Ok(())
}

/// Measures `n` round trips (after `warmup` discarded ones) against an echo
/// process started from `exe` (this binary), each after `pause` with both
/// sides idle (zero: back to back, both processes stay hot). Returns their
/// distribution.
///
/// Errors: the echo process cannot be started, or stops answering (named).
pub fn pipe_round_trip(
    exe: &std::path::Path,
    warmup: u32,
    n: u32,
    pause: std::time::Duration,
) -> Result<Summary, String> {
    let mut child = Command::new(exe)
        .arg(ECHO_COMMAND)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .env(crate::reap::OWNER_ENV, crate::reap::owner())
        .spawn()
        .map_err(|e| format!("cannot start the echo runner {}: {e}", exe.display()))?;
    let mut to = child.stdin.take().expect("piped");
    let mut from = BufReader::new(child.stdout.take().expect("piped"));
    let frame = Frame {
        kind: Kind::Stdin,
        instance: 1,
        payload: vec![b'x'; PAYLOAD_BYTES],
    };
    let mut hist = LatencyHistogram::new();
    let mut result = Ok(());
    for i in 0..warmup + n {
        if !pause.is_zero() {
            std::thread::sleep(pause);
        }
        let t0 = monotonic_ns();
        let sent = frame.write_to(&mut to).and_then(|_| to.flush());
        let back = sent.and_then(|_| Frame::read_from(&mut from));
        let t = monotonic_ns() - t0;
        match back {
            Ok(Some(f)) if f == frame => {
                if i >= warmup {
                    hist.record_ns(t);
                }
            }
            Ok(_) => {
                result = Err("the echo runner answered something else or ended".to_string());
                break;
            }
            Err(e) => {
                result = Err(format!("the echo runner stopped answering: {e}"));
                break;
            }
        }
    }
    drop(to);
    let _ = child.kill();
    let _ = child.wait();
    result?;
    hist.summary()
        .ok_or_else(|| "no round trip measured".to_string())
}
