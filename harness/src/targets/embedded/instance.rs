//! One instance in a runner: its start by phase (stamps on the runner's clock
//! placed on the harness's timeline), requests, and its teardown.

use super::*;

/// One instance inside the runner.
pub(super) struct RunnerInstance {
    pub(super) id: u64,
    pub(super) runtime: &'static str,
    pub(super) stdin: CommandPipe,
    pub(super) stdout: LineReader,
    pub(super) events: mpsc::Receiver<Event>,
    pub(super) instantiated: Option<Vec<(String, String)>>,
    pub(super) exited: Option<Vec<(String, String)>>,
    pub(super) closed: bool,
    /// An `Exited` or `Error` event was seen, or the runner is gone.
    pub(super) ended: bool,
    /// Where it goes if dropped before it ended.
    pub(super) abandoned: AbandonedList,
}

impl RunnerInstance {
    pub(super) fn send(&self, kind: Kind, payload: Vec<u8>) -> TargetResult<()> {
        write_frame(
            &self.stdin,
            Frame {
                kind,
                instance: self.id,
                payload,
            },
            self.runtime,
        )
    }

    /// Takes the events received so far; returns the runner's error for
    /// this instance, or a message if the runner is gone.
    pub(super) fn drain_events(&mut self) -> Option<String> {
        loop {
            match self.events.try_recv() {
                Ok(Event::Instantiated(kv)) => self.instantiated = Some(kv),
                Ok(Event::Error(e)) => {
                    self.ended = true;
                    return Some(e);
                }
                Ok(Event::Exited(kv)) => {
                    self.ended = true;
                    self.exited = Some(kv);
                }
                Err(mpsc::TryRecvError::Empty) => return None,
                Err(mpsc::TryRecvError::Disconnected) => {
                    if self.ended {
                        return None;
                    }
                    self.ended = true;
                    return Some(format!(
                        "the {} runner exited (killed or crashed) while this instance was alive: every instance it held is lost; the runner is restarted for the next start",
                        self.runtime
                    ));
                }
            }
        }
    }
}

/// The guest's argv as `arg=` pairs of a start (or floor) command: the
/// workload's name, then its arguments; a command's `--workload-dir` as `dir`.
pub(super) fn guest_args(workload: &str, serve: bool) -> Vec<(&'static str, String)> {
    std::iter::once(workload.to_string())
        .chain(crate::targets::workload_args(workload, serve))
        .map(|a| ("arg", a))
        .chain(crate::artifacts::workload_dir(workload).map(|d| ("dir", d.display().to_string())))
        .collect()
}

/// See [`RunnerInstance::inner_phases`]: each present stamp closes the phase
/// named beside it. The start-read and instantiated stamps are required; the
/// last phase (`t_ready_return`) only exists with the first-stdout stamp.
pub(super) fn runner_phases(
    kv: &[(String, String)],
    t0_ns: u64,
    ready_read_ns: u64,
) -> Vec<(Metric, u64)> {
    let (Some(received), Some(instantiated)) =
        (stamp(kv, "received_ns"), stamp(kv, "instantiated_ns"))
    else {
        return Vec::new();
    };
    let first_stdout = stamp(kv, "first_stdout_ns");
    let chain = [
        (Some(received), Metric::TRunnerDispatch),
        (stamp(kv, "thread_ns"), Metric::TRunnerHandoff),
        (stamp(kv, "module_ready_ns"), Metric::TRunnerModule),
        (Some(instantiated), Metric::TRunnerInstantiate),
        (first_stdout, Metric::TGuestReady),
        (first_stdout.map(|_| ready_read_ns), Metric::TReadyReturn),
    ];
    let mut out = Vec::new();
    let mut prev = t0_ns;
    for (at, metric) in chain {
        let Some(at) = at else { continue };
        if at < prev {
            return Vec::new();
        }
        out.push((metric, at - prev));
        prev = at;
    }
    out
}

pub(super) fn stamp(kv: &[(String, String)], key: &str) -> Option<u64> {
    kv_get(kv, key).and_then(|v| v.parse().ok())
}

pub(super) fn kv_get_owned(kv: &[(String, String)], key: &str) -> Option<String> {
    kv_get(kv, key).map(str::to_string)
}

impl Instance for RunnerInstance {
    fn stdout(&mut self) -> &mut LineReader {
        &mut self.stdout
    }

    fn write_stdin(&mut self, bytes: &[u8], _timeout: Duration) -> TargetResult<()> {
        self.send(Kind::Stdin, bytes.to_vec())
    }

    /// The runner phases from the stamps the runner sent with the guest's
    /// first stdout bytes: the chain harness start call → start read →
    /// thread running → module ready → instantiated → first stdout → ready
    /// line read. A stamp a runner does not take merges its interval into the
    /// next phase; the phases add up to `t_ready`. No phases if the stamps are
    /// missing or out of order.
    fn inner_phases(&mut self, t0_ns: u64, ready_read_ns: u64) -> Vec<(Metric, u64)> {
        self.drain_events();
        let Some(kv) = &self.instantiated else {
            return Vec::new();
        };
        runner_phases(kv, t0_ns, ready_read_ns)
    }

    fn close_stdin(&mut self) -> TargetResult<()> {
        if !self.closed {
            self.send(Kind::CloseStdin, Vec::new())?;
            self.closed = true;
        }
        Ok(())
    }

    fn teardown(mut self: Box<Self>, timeout: Duration) -> TargetResult<()> {
        self.close_stdin()?;
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let next = match self.exited.take() {
                Some(kv) => Ok(Event::Exited(kv)),
                None => self.events.recv_timeout(left),
            };
            match next {
                Ok(Event::Exited(kv)) => {
                    self.ended = true;
                    let Some(code) = kv_get(&kv, "exit_code").and_then(|v| v.parse::<i64>().ok())
                    else {
                        return Err(TargetError::Failed(format!(
                            "the {} runner reported the instance's exit without its exit code \
                             (a runner built from another revision? rebuild with cargo build --release)",
                            self.runtime
                        )));
                    };
                    return if code == 0 {
                        Ok(())
                    } else {
                        Err(TargetError::Exited {
                            what: "guest",
                            code,
                        })
                    };
                }
                Ok(Event::Instantiated(kv)) => self.instantiated = Some(kv),
                Ok(Event::Error(e)) => {
                    self.ended = true;
                    return Err(TargetError::Failed(format!("{} runner: {e}", self.runtime)));
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    return Err(TargetError::Timeout(format!(
                        "Wasm instance did not finish within {} ms after stdin closed",
                        timeout.as_millis()
                    )));
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    self.ended = true;
                    return Err(TargetError::Failed(format!(
                        "{} runner exited during teardown",
                        self.runtime
                    )));
                }
            }
        }
    }

    fn diagnostics(&mut self) -> String {
        self.drain_events().unwrap_or_default()
    }

    fn memory_scope(&mut self, _timeout: Duration) -> MemoryScope {
        MemoryScope::SharedHost
    }
}

impl Drop for RunnerInstance {
    fn drop(&mut self) {
        if !self.closed {
            let _ = self.send(Kind::CloseStdin, Vec::new());
        }
        if !self.ended {
            // Its end (or its hang) is for the target's recovery to see.
            let (_, dead) = mpsc::channel();
            let events = std::mem::replace(&mut self.events, dead);
            self.abandoned
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push(Abandoned {
                    id: self.id,
                    events,
                });
        }
    }
}
