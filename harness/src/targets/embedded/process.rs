//! The runner process: spawned once per target, commands written as frames on
//! its stdin, events read by one thread and routed to the instance they belong
//! to; killed and reaped on drop. Instances abandoned by a dead runner are kept
//! for a grace period so their late events are dropped quietly.

use super::*;

pub(super) enum Event {
    Instantiated(Vec<(String, String)>),
    Exited(Vec<(String, String)>),
    Error(String),
}

/// Where a runner's events for one instance go. Field order matters: fields
/// drop in declaration order, so when the instance sees its stdout end, its
/// events channel has already ended too and says why.
pub(super) struct Route {
    pub(super) events: mpsc::Sender<Event>,
    /// The guest's stdout bytes, each with the `CLOCK_MONOTONIC` ns at which
    /// the event thread read their frame ([`stamped_channel`]); `None` once
    /// the guest wrote more than [`crate::stream::MAX_BACKLOG_BYTES`] the
    /// instance had not read (its reader then ends with
    /// [`crate::stream::LineError::Backlog`]; its events still come).
    pub(super) stdout: Option<StampedSender>,
}

pub(super) type Routes = Arc<Mutex<HashMap<u64, Route>>>;

/// The runner's command pipe, shared by the target and its instances.
pub(super) type CommandPipe = Arc<Mutex<BufWriter<ChildStdin>>>;

/// Writes and flushes one command frame to the runner.
pub(super) fn write_frame(pipe: &CommandPipe, frame: Frame, runtime: &str) -> TargetResult<()> {
    let mut w = pipe.lock().unwrap_or_else(|p| p.into_inner());
    frame
        .write_to(&mut *w)
        .and_then(|_| w.flush())
        .map_err(|e| {
            TargetError::Failed(format!(
                "the {runtime} runner is gone (killed or crashed; writing a command to it failed: {e}): every instance it held is lost; the runner is restarted for the next start"
            ))
        })
}

/// A live runner process: commands go through `stdin`, a dispatcher thread
/// routes events to instances and module-level replies to `control`.
pub(super) struct RunnerProcess {
    pub(super) child: Child,
    pub(super) stdin: CommandPipe,
    pub(super) routes: Routes,
    pub(super) control: mpsc::Receiver<Frame>,
    pub(super) hello: Vec<(String, String)>,
    pub(super) runtime: &'static str,
    /// Set by the event thread when the runner's output ended: the runner
    /// is dead or dying (its pipe closes before it can be waited for).
    pub(super) gone: Arc<std::sync::atomic::AtomicBool>,
}

impl RunnerProcess {
    pub(super) fn spawn(
        variant: RunnerVariant,
        args: Vec<String>,
        timeout: Duration,
    ) -> TargetResult<RunnerProcess> {
        let runtime = variant.runtime;
        let bin = runner_binary(runtime);
        let mut child = Command::new(&bin)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            // Own process group: a terminal's Ctrl-C reaches the harness only,
            // which then tears every instance down itself.
            .process_group(0)
            // Names this harness: a later coldbench kills it if we are gone.
            .env(crate::reap::OWNER_ENV, crate::reap::owner())
            .spawn()
            .map_err(|e| {
                TargetError::Unavailable(format!(
                    "cannot start runner {}: {e}; rebuild with `cargo build --release`",
                    bin.display()
                ))
            })?;
        let stdin = Arc::new(Mutex::new(BufWriter::new(
            child.stdin.take().expect("piped"),
        )));
        let stdout = child.stdout.take().expect("piped");
        let routes: Routes = Arc::new(Mutex::new(HashMap::new()));
        let (ctl_tx, ctl_rx) = mpsc::channel();
        let r = routes.clone();
        let gone = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let gone_flag = gone.clone();
        std::thread::Builder::new()
            .name(format!("{runtime}-runner-events"))
            .spawn(move || {
                let mut input = BufReader::with_capacity(256 * 1024, stdout);
                while let Ok(Some(frame)) = Frame::read_from(&mut input) {
                    // When the harness had the frame: a ready line's read,
                    // not the measuring thread's wake-up after it.
                    let read_ns = monotonic_ns();
                    if frame.instance < FIRST_INSTANCE_ID {
                        let _ = ctl_tx.send(frame);
                        continue;
                    }
                    let mut routes = r.lock().unwrap_or_else(|p| p.into_inner());
                    let Some(route) = routes.get_mut(&frame.instance) else {
                        continue;
                    };
                    match frame.kind {
                        Kind::Stdout => {
                            // One pipe carries every instance's frames: a
                            // reader that falls behind is cut, not waited for.
                            let cut = route
                                .stdout
                                .as_ref()
                                .is_some_and(|tx| tx.send(frame.payload, read_ns).is_err());
                            if cut {
                                route.stdout = None;
                            }
                        }
                        Kind::Instantiated => {
                            let _ = route
                                .events
                                .send(Event::Instantiated(parse_kv(&frame.payload)));
                        }
                        Kind::Exited => {
                            let _ = route.events.send(Event::Exited(parse_kv(&frame.payload)));
                            routes.remove(&frame.instance);
                        }
                        Kind::Error => {
                            let msg = String::from_utf8_lossy(&frame.payload).into_owned();
                            let _ = route.events.send(Event::Error(msg));
                            routes.remove(&frame.instance);
                        }
                        _ => {}
                    }
                }
                // Runner gone: dropping every route closes every instance's stdout.
                gone_flag.store(true, std::sync::atomic::Ordering::SeqCst);
                r.lock().unwrap_or_else(|p| p.into_inner()).clear();
            })
            .map_err(|e| TargetError::Failed(format!("cannot spawn runner reader thread: {e}")))?;
        let mut rp = RunnerProcess {
            child,
            stdin,
            routes,
            control: ctl_rx,
            hello: Vec::new(),
            runtime,
            gone,
        };
        let hello = rp.recv_control(timeout)?;
        rp.hello = parse_kv(&hello.payload);
        Ok(rp)
    }

    pub(super) fn send(&self, frame: Frame) -> TargetResult<()> {
        write_frame(&self.stdin, frame, self.runtime)
    }

    pub(super) fn recv_control(&self, timeout: Duration) -> TargetResult<Frame> {
        self.control.recv_timeout(timeout).map_err(|e| match e {
            mpsc::RecvTimeoutError::Timeout => TargetError::Timeout(format!(
                "{} runner did not answer within {} ms",
                self.runtime,
                timeout.as_millis()
            )),
            mpsc::RecvTimeoutError::Disconnected => TargetError::Failed(format!(
                "{} runner exited (see its stderr above)",
                self.runtime
            )),
        })
    }
}

impl Drop for RunnerProcess {
    fn drop(&mut self) {
        let _ = self.send(Frame {
            kind: Kind::Shutdown,
            instance: 0,
            payload: Vec::new(),
        });
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An instance dropped before it finished (a failed start or request): the
/// target waits for its end at [`Target::recover`].
pub(super) struct Abandoned {
    pub(super) id: u64,
    pub(super) events: mpsc::Receiver<Event>,
}

/// Instances abandoned since the last recovery, shared with the instances.
pub(super) type AbandonedList = Arc<Mutex<Vec<Abandoned>>>;

/// How long [`Target::recover`] waits for an abandoned instance to end
/// beyond the runtime's own deadline (1 s): an instance that failed without
/// hanging ends as soon as its stdin is closed.
pub(super) const ABANDONED_GRACE: Duration = Duration::from_secs(1);
