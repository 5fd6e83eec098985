//! Control frames between the harness and a runtime runner process
//! (docs/design.md §1: one runner process per runtime, driven over a pipe).
//!
//! Each frame on the runner's stdin (commands) and stdout (events) is
//! `len: u32 LE | kind: u8 | instance: u64 LE | payload: len - 9 bytes`.
//! Text payloads are UTF-8 `key=value` lines.

use std::io::{self, Read, Write};

/// Frame kinds. Commands go harness → runner, events runner → harness.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Kind {
    /// Command: prepare a module; payload `path=..`, `strategy=..`, `cache_dir=..` lines.
    Load = 1,
    /// Command: start a new instance with this id; payload `module=..`, `arg=..`
    /// lines (guest argv after the program name, in order), an optional `dir=..`
    /// ([`StartRequest`]).
    Start = 2,
    /// Command: bytes for the instance's stdin.
    Stdin = 3,
    /// Command: close the instance's stdin.
    CloseStdin = 4,
    /// Command: exit the runner.
    Shutdown = 5,
    /// Command: report runner-wide statistics (answered by a `Report` event, instance 0).
    Query = 6,
    /// Command: time starts of a loaded module in process (its id as the
    /// frame's instance; payload `warmup=`, `iterations=`, `min_iterations=`,
    /// `budget_ms=`, `idle_us=` ([`FloorPlan`]) and `arg=` lines),
    /// answered by a `Floored` event or an `Error` for that module id.
    Floor = 7,
    /// Event: module prepared; payload `key=value` lines (times in ns, sizes in bytes).
    Loaded = 64,
    /// Event: the instance's in-runner phase stamps, `key=value` lines of
    /// `CLOCK_MONOTONIC` ns (see [`InstanceEvents`]); sent with its first
    /// stdout bytes, so it may follow them.
    Instantiated = 65,
    /// Event: bytes the instance wrote to stdout.
    Stdout = 66,
    /// Event: the instance finished and its store was dropped; payload `exit_code=..`, `dropped_ns=..`.
    Exited = 67,
    /// Event: a command failed; payload is the message.
    Error = 68,
    /// Event: answer to `Query`; payload `key=value` lines (`live_instances=`,
    /// `linear_memory_bytes=`: the live instances' linear memories, pages × 64 KiB).
    Report = 69,
    /// Event: answer to `Floor`, for the module id; payload `what=` (what was
    /// timed) and `samples_ns=` (comma-separated, one per start).
    Floored = 70,
}

impl Kind {
    fn from_u8(b: u8) -> Option<Kind> {
        Some(match b {
            1 => Kind::Load,
            2 => Kind::Start,
            3 => Kind::Stdin,
            4 => Kind::CloseStdin,
            5 => Kind::Shutdown,
            6 => Kind::Query,
            7 => Kind::Floor,
            64 => Kind::Loaded,
            65 => Kind::Instantiated,
            66 => Kind::Stdout,
            67 => Kind::Exited,
            68 => Kind::Error,
            69 => Kind::Report,
            70 => Kind::Floored,
            _ => return None,
        })
    }
}

/// One control frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    /// What the frame is.
    pub kind: Kind,
    /// Instance id it concerns (0 for runner-wide commands and events).
    pub instance: u64,
    /// Payload bytes.
    pub payload: Vec<u8>,
}

impl Frame {
    /// Writes the frame to `w` (does not flush).
    pub fn write_to(&self, w: &mut impl Write) -> io::Result<()> {
        write_frame(w, self.kind, self.instance, &self.payload)
    }

    /// Reads one frame; `Ok(None)` on end of file at a frame boundary.
    pub fn read_from(r: &mut impl Read) -> io::Result<Option<Frame>> {
        let mut head = [0u8; 13];
        match r.read_exact(&mut head[..1]) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(None),
            Err(e) => return Err(e),
        }
        r.read_exact(&mut head[1..])?;
        let len = u32::from_le_bytes(head[..4].try_into().expect("4 bytes")) as usize;
        if len < 9 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "frame shorter than its header",
            ));
        }
        let kind = Kind::from_u8(head[4]).ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("unknown frame kind {}", head[4]),
            )
        })?;
        let instance = u64::from_le_bytes(head[5..13].try_into().expect("8 bytes"));
        // Grown as bytes arrive, never allocated from the header's claim (up
        // to 4 GiB): a frame announcing more than will come costs nothing.
        let want = len - 9;
        let mut payload = Vec::new();
        r.by_ref().take(want as u64).read_to_end(&mut payload)?;
        if payload.len() != want {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!(
                    "frame announced {want} payload bytes, {} arrived",
                    payload.len()
                ),
            ));
        }
        Ok(Some(Frame {
            kind,
            instance,
            payload,
        }))
    }
}

/// Writes one frame from its parts to `w` (does not flush): no owned
/// [`Frame`] needed, so a payload borrowed from the guest is not copied.
fn write_frame(w: &mut impl Write, kind: Kind, instance: u64, payload: &[u8]) -> io::Result<()> {
    let len = u32::try_from(payload.len() + 9)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "frame payload over 4 GiB"))?;
    let mut head = [0u8; 13];
    head[..4].copy_from_slice(&len.to_le_bytes());
    head[4] = kind as u8;
    head[5..13].copy_from_slice(&instance.to_le_bytes());
    w.write_all(&head)?;
    w.write_all(payload)
}

/// Renders `key=value` lines (the text payload format).
pub fn kv_payload(pairs: &[(&str, String)]) -> Vec<u8> {
    let mut s = String::new();
    for (k, v) in pairs {
        s.push_str(k);
        s.push('=');
        s.push_str(v);
        s.push('\n');
    }
    s.into_bytes()
}

/// Parses `key=value` lines; lines without `=` are ignored.
pub fn parse_kv(payload: &[u8]) -> Vec<(String, String)> {
    String::from_utf8_lossy(payload)
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// Looks up `key` in parsed `key=value` pairs (the first occurrence).
pub fn kv_get<'a>(kv: &'a [(String, String)], key: &str) -> Option<&'a str> {
    kv.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
}

/// The event stream of a runner process (its stdout), shared by its control
/// loop and every instance thread. Each event is written and flushed whole.
#[derive(Clone)]
pub struct EventSink(std::sync::Arc<std::sync::Mutex<io::BufWriter<io::Stdout>>>);

impl Default for EventSink {
    fn default() -> Self {
        EventSink(std::sync::Arc::new(std::sync::Mutex::new(
            io::BufWriter::new(io::stdout()),
        )))
    }
}

impl std::fmt::Debug for EventSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("EventSink(stdout)")
    }
}

impl EventSink {
    /// Writes one event frame and flushes. If the harness has gone away there
    /// is nobody to tell, so write errors are dropped (the runner then exits at
    /// end of file on stdin).
    pub fn send(&self, kind: Kind, instance: u64, payload: Vec<u8>) {
        self.send_all(&[(kind, instance, &payload)]);
    }

    /// Sends bytes the guest of instance `id` wrote to stdout as a [`Kind::Stdout`] event.
    pub fn stdout(&self, id: u64, bytes: &[u8]) {
        self.send_all(&[(Kind::Stdout, id, bytes)]);
    }

    /// Sends the [`Kind::Exited`] event of instance `id`: its guest's exit
    /// code and `dropped_ns`, the `CLOCK_MONOTONIC` ns read now (call it right
    /// after the instance's store was dropped).
    #[cfg(target_os = "linux")]
    pub fn exited(&self, id: u64, exit_code: i32) {
        self.send(
            Kind::Exited,
            id,
            kv_payload(&[
                ("exit_code", exit_code.to_string()),
                ("dropped_ns", crate::monotonic_ns().to_string()),
            ]),
        );
    }

    /// Writes event frames `(kind, instance, payload)` under one lock and
    /// flushes once (one `write` on the pipe: the harness wakes once for all
    /// of them). Write errors are dropped, as in [`EventSink::send`].
    pub fn send_all(&self, frames: &[(Kind, u64, &[u8])]) {
        let mut w = self.0.lock().unwrap_or_else(|p| p.into_inner());
        for (kind, instance, payload) in frames {
            let _ = write_frame(&mut *w, *kind, *instance, payload);
        }
        let _ = w.flush();
    }

    /// Sends an [`Kind::Error`] event with `message`.
    pub fn error(&self, instance: u64, message: impl std::fmt::Display) {
        self.send(Kind::Error, instance, message.to_string().into_bytes());
    }
}

/// The events of one instance: its guest's stdout and its in-runner phase
/// stamps (`CLOCK_MONOTONIC` ns).
///
/// The stamps are not sent when they are taken: [`InstanceEvents::instantiated`]
/// keeps them, and they leave in one write with the guest's first stdout bytes
/// (its ready marker), stamped `first_stdout_ns`, or at exit if the guest
/// wrote nothing. So no extra frame crosses the pipe between the start
/// command and the ready marker: the stamps never delay what they measure.
#[cfg(target_os = "linux")]
#[derive(Clone, Debug)]
pub struct InstanceEvents {
    id: u64,
    /// `None`: a start timed in process ([`RunnerHost::floor`]): nothing is sent.
    sink: Option<EventSink>,
    /// `key=value` payload of the `Instantiated` event, until it is sent.
    pending: std::sync::Arc<std::sync::Mutex<Option<Vec<u8>>>>,
}

#[cfg(target_os = "linux")]
impl InstanceEvents {
    /// Events of instance `id`, written to `sink`.
    pub fn new(sink: &EventSink, id: u64) -> Self {
        InstanceEvents {
            id,
            sink: Some(sink.clone()),
            pending: Default::default(),
        }
    }

    /// Events of a start timed in process ([`RunnerHost::floor`]): stdout
    /// and every event are dropped.
    pub fn discarding() -> Self {
        InstanceEvents {
            id: 0,
            sink: None,
            pending: Default::default(),
        }
    }

    /// Keeps the instance's phase stamps (ns, `CLOCK_MONOTONIC`) until its
    /// first stdout bytes: `received_ns`, optional `thread_ns` (instance
    /// thread running), optional `module_ready_ns` (compiled/deserialized),
    /// `instantiated_ns`. Stamps not taken by a runner are left out.
    pub fn instantiated(&self, stamps: &[(&str, Option<u64>)]) {
        let pairs: Vec<(&str, String)> = stamps
            .iter()
            .filter_map(|(k, v)| v.map(|v| (*k, v.to_string())))
            .collect();
        *self.pending.lock().unwrap_or_else(|p| p.into_inner()) = Some(kv_payload(&pairs));
    }

    fn take_pending(&self) -> Option<Vec<u8>> {
        self.pending
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take()
    }

    /// Sends bytes the guest wrote to stdout; the first bytes after
    /// [`InstanceEvents::instantiated`] carry the stamps, plus
    /// `first_stdout_ns` read now.
    pub fn stdout(&self, bytes: &[u8]) {
        let pending = self.take_pending();
        let Some(sink) = &self.sink else {
            return;
        };
        let stdout = (Kind::Stdout, self.id, bytes);
        match pending {
            None => sink.send_all(&[stdout]),
            Some(mut stamps) => {
                stamps.extend(kv_payload(&[(
                    "first_stdout_ns",
                    crate::monotonic_ns().to_string(),
                )]));
                sink.send_all(&[stdout, (Kind::Instantiated, self.id, &stamps)]);
            }
        }
    }

    /// Sends the stamps if they are still pending (the guest never wrote).
    fn flush_stamps(&self, sink: &EventSink) {
        if let Some(stamps) = self.take_pending() {
            sink.send(Kind::Instantiated, self.id, stamps);
        }
    }

    /// Sends the stamps if the guest never wrote to stdout, then the
    /// [`Kind::Exited`] event (see [`EventSink::exited`]).
    pub fn exited(&self, exit_code: i32) {
        if let Some(sink) = &self.sink {
            self.flush_stamps(sink);
            sink.exited(self.id, exit_code);
        }
    }

    /// Sends the stamps if still pending, then an [`Kind::Error`] event.
    pub fn error(&self, message: impl std::fmt::Display) {
        if let Some(sink) = &self.sink {
            self.flush_stamps(sink);
            sink.error(self.id, message);
        }
    }
}

/// A job for an instance thread ([`Workers`]).
#[cfg(target_os = "linux")]
pub type Job = Box<dyn FnOnce() + Send>;

/// Instance threads, spawned ahead of the starts that use them: a start hands
/// its job to an idle thread (a channel send) instead of paying for a new
/// thread (~100 µs with a 4 MiB stack on the reference host); a thread goes
/// back to the idle list when its job has finished. Every runner runs its
/// instances (and their stdio helpers) here, so the threading — what lands in
/// `t_runner_handoff` — is the same in all of them, and each says so in its
/// hello (`instance_threads`, [`Workers::describe`]).
#[cfg(target_os = "linux")]
pub struct Workers {
    idle: std::sync::Arc<std::sync::Mutex<Vec<std::sync::mpsc::Sender<Job>>>>,
    next: u64,
    name: &'static str,
    stack_bytes: usize,
    spare: usize,
}

/// Idle instance threads kept after their jobs finished; more end.
#[cfg(target_os = "linux")]
pub const MAX_IDLE_WORKERS: usize = 16;

#[cfg(target_os = "linux")]
impl Workers {
    /// A pool of threads named `name-N` with `stack_bytes` of stack, keeping
    /// `spare` idle ones ready. Errors: a thread cannot be spawned.
    pub fn new(name: &'static str, stack_bytes: usize, spare: usize) -> io::Result<Workers> {
        let mut w = Workers {
            idle: Default::default(),
            next: 0,
            name,
            stack_bytes,
            spare,
        };
        w.top_up()?;
        Ok(w)
    }

    /// [`Workers::new`] for runner binary `runner`: if no thread can be
    /// spawned, says so on stderr and exits with status 2.
    pub fn new_or_exit(
        runner: &str,
        name: &'static str,
        stack_bytes: usize,
        spare: usize,
    ) -> Workers {
        Workers::new(name, stack_bytes, spare).unwrap_or_else(|e| {
            eprintln!("{runner}: cannot spawn the instance threads: {e}");
            std::process::exit(2);
        })
    }

    /// The pool as a knob value.
    pub fn describe(&self) -> String {
        format!(
            "pre-spawned (coldbench_protocol::runner::Workers), {} spare, at most {MAX_IDLE_WORKERS} idle, {} B stack",
            self.spare, self.stack_bytes
        )
    }

    /// Spawns a worker thread; it parks itself on the idle list, or first runs `job`.
    fn spawn(&mut self, job: Option<Job>) -> io::Result<()> {
        let (tx, rx) = std::sync::mpsc::channel::<Job>();
        match job {
            Some(job) => tx.send(job).expect("receiver alive"),
            None => self
                .idle
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push(tx.clone()),
        }
        let idle = self.idle.clone();
        self.next += 1;
        std::thread::Builder::new()
            .name(format!("{}-{}", self.name, self.next))
            .stack_size(self.stack_bytes)
            .spawn(move || {
                while let Ok(job) = rx.recv() {
                    job();
                    let mut idle = idle.lock().unwrap_or_else(|p| p.into_inner());
                    if idle.len() >= MAX_IDLE_WORKERS {
                        // Enough threads wait already: this one ends, so that a
                        // burst of N live instances does not leave N idle threads.
                        break;
                    }
                    idle.push(tx.clone());
                }
            })?;
        Ok(())
    }

    fn top_up(&mut self) -> io::Result<()> {
        while self.idle.lock().unwrap_or_else(|p| p.into_inner()).len() < self.spare {
            self.spawn(None)?;
        }
        Ok(())
    }

    /// Runs `job` on an idle thread (a new one if none is idle), then spawns
    /// spares for the next starts. Errors: a thread cannot be spawned.
    pub fn run(&mut self, job: Job) -> io::Result<()> {
        let idle = self.idle.lock().unwrap_or_else(|p| p.into_inner()).pop();
        match idle {
            Some(tx) => {
                if let Err(std::sync::mpsc::SendError(job)) = tx.send(job) {
                    self.spawn(Some(job))?;
                }
            }
            None => self.spawn(Some(job))?,
        }
        self.top_up()
    }
}

/// Starts an instance whose guest reads an OS pipe as its stdin and writes
/// one as its stdout (runtimes whose WASI takes host descriptors: wasmi,
/// WAMR), as three jobs on `workers`: first the instance itself — `run`
/// gets the stdin pipe's read end, the stdout pipe's write end, `events`
/// and the `CLOCK_MONOTONIC` ns at which its thread took the start up, and
/// returns the guest's exit code — then a stdin writer (a guest that stops
/// reading blocks it, never the control loop) and a stdout forwarder
/// (`Stdout` events until the write end is dropped). The exit (or error) is
/// told after every stdout byte was forwarded. Returns the sender that feeds
/// the stdin writer: dropping it is end of file for the guest.
///
/// Errors: a pipe cannot be created or a thread spawned (the message says which).
#[cfg(target_os = "linux")]
pub fn start_piped<F>(
    workers: &mut Workers,
    events: InstanceEvents,
    run: F,
) -> Result<std::sync::mpsc::Sender<Vec<u8>>, String>
where
    F: FnOnce(io::PipeReader, io::PipeWriter, &InstanceEvents, u64) -> Result<i32, String>
        + Send
        + 'static,
{
    let (stdin_read, mut stdin_write) =
        io::pipe().map_err(|e| format!("cannot create a stdin pipe: {e}"))?;
    let (mut stdout_read, stdout_write) =
        io::pipe().map_err(|e| format!("cannot create a stdout pipe: {e}"))?;
    let (tx, rx) = std::sync::mpsc::channel::<Vec<u8>>();
    let forward_events = events.clone();
    let (forwarded_tx, forwarded_rx) = std::sync::mpsc::channel::<()>();
    let spawn_failed = |e: io::Error| format!("cannot spawn an instance thread: {e}");
    // The instance first: its hand-off is what `t_runner_handoff` times.
    workers
        .run(Box::new(move || {
            let thread_ns = crate::monotonic_ns();
            let outcome = run(stdin_read, stdout_write, &events, thread_ns);
            // Every stdout byte is forwarded before the exit is told.
            let _ = forwarded_rx.recv();
            match outcome {
                Ok(exit_code) => events.exited(exit_code),
                Err(e) => events.error(e),
            }
        }))
        .map_err(spawn_failed)?;
    workers
        .run(Box::new(move || {
            for chunk in rx {
                if stdin_write.write_all(&chunk).is_err() {
                    break;
                }
            }
        }))
        .map_err(spawn_failed)?;
    workers
        .run(Box::new(move || {
            let mut buf = vec![0u8; 64 * 1024];
            while let Ok(n) = stdout_read.read(&mut buf) {
                if n == 0 {
                    break;
                }
                forward_events.stdout(&buf[..n]);
            }
            let _ = forwarded_tx.send(());
        }))
        .map_err(spawn_failed)?;
    Ok(tx)
}

/// The module a [`Kind::Load`] command names (`path=`): its path and bytes.
///
/// Errors: no `path`, or the file cannot be read (the message names it).
pub fn read_module(kv: &[(String, String)]) -> Result<(std::path::PathBuf, Vec<u8>), String> {
    let path = std::path::PathBuf::from(kv_get(kv, "path").ok_or("load: no `path`")?);
    let bytes = std::fs::read(&path)
        .map_err(|e| format!("cannot read Wasm module {}: {e}", path.display()))?;
    Ok((path, bytes))
}

/// The module a runner's criterion bench (`harness/runners/<runtime>/benches`)
/// starts: the file named by `COLDBENCH_BENCH_WASM`, else `noop.wasm` of
/// the nested build, found from the runner's `CARGO_MANIFEST_DIR`
/// (`<dir>/../../../target/nested/wasm32-wasip1/release/noop.wasm`).
pub fn bench_module_path(runner_manifest_dir: &str) -> std::path::PathBuf {
    std::env::var_os("COLDBENCH_BENCH_WASM")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| {
            std::path::Path::new(runner_manifest_dir)
                .join("../../../target/nested/wasm32-wasip1/release/noop.wasm")
        })
}

/// The bytes of [`bench_module_path`].
///
/// Panics naming the file when it cannot be read (for benches only).
pub fn bench_module_bytes(runner_manifest_dir: &str) -> Vec<u8> {
    let path = bench_module_path(runner_manifest_dir);
    std::fs::read(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// A parsed [`Kind::Start`] command: which loaded module, with which guest argv.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StartRequest {
    /// Id of a module sent earlier in a [`Kind::Load`] frame.
    pub module: u64,
    /// Guest arguments after the program name, in order (`arg=` lines).
    pub args: Vec<String>,
    /// A host directory to give the guest as its working directory, read
    /// only (`dir=` line; a `--workload-dir` command): preopened as `.`, so
    /// that relative paths resolve in it. `None`: no directory at all.
    pub dir: Option<std::path::PathBuf>,
    /// `CLOCK_MONOTONIC` ns at which the runner read the command.
    pub received_ns: u64,
}

/// How many in-process starts a [`Kind::Floor`] command times.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FloorPlan {
    /// Starts run first and not kept.
    pub warmup: u32,
    /// Measured starts at most.
    pub iterations: u32,
    /// Measured starts at least, whatever the budget.
    pub min_iterations: u32,
    /// Time after which no new measured start begins once `min_iterations`
    /// are kept (warm-ups and pauses included), ns: a start that compiles
    /// (JIT, ~100 ms) gets fewer than `iterations`.
    pub budget_ns: u64,
    /// Sleep before each start (warm-ups too), ns, outside the timed
    /// region: 0 times starts back to back (hot); a pause lets the runner
    /// go idle first, as before a start coldbench sends (`idle_us=`).
    pub idle_ns: u64,
}

#[cfg(target_os = "linux")]
impl FloorPlan {
    /// Runs `start` (one start, returning its duration in ns, or why it
    /// failed) as the plan says — each after the plan's idle pause, warm-ups
    /// stopping early once the budget is spent — and returns the measured
    /// durations.
    pub fn time(&self, mut start: impl FnMut() -> Result<u64, String>) -> Result<Vec<u64>, String> {
        let t0 = crate::monotonic_ns();
        let spent = || crate::monotonic_ns() - t0 >= self.budget_ns;
        let mut start = || {
            if self.idle_ns > 0 {
                std::thread::sleep(std::time::Duration::from_nanos(self.idle_ns));
            }
            start()
        };
        for _ in 0..self.warmup {
            start()?;
            if spent() {
                break;
            }
        }
        let mut samples = Vec::with_capacity(self.iterations as usize);
        while samples.len() < self.iterations as usize
            && (samples.len() < self.min_iterations as usize || !spent())
        {
            samples.push(start()?);
        }
        Ok(samples)
    }

    /// One in-process start for [`FloorPlan::time`]: `run` gets a request
    /// for `module` with `args` (`received_ns`: when the clock started) and
    /// events that drop everything, runs the instance to its exit and returns
    /// the exit code. Returns the time from just before `run` to its return,
    /// ns; an error or a non-zero exit is an error. What `run` needs ready
    /// before the clock (stdio, limits) is made before calling this.
    pub fn timed_start(
        module: u64,
        args: &[String],
        run: impl FnOnce(StartRequest, &InstanceEvents) -> Result<i32, String>,
    ) -> Result<u64, String> {
        let events = InstanceEvents::discarding();
        let request = StartRequest {
            module,
            args: args.to_vec(),
            dir: None,
            received_ns: crate::monotonic_ns(),
        };
        let t0 = request.received_ns;
        let exit = run(request, &events);
        let t = crate::monotonic_ns() - t0;
        match exit {
            Ok(0) => Ok(t),
            Ok(code) => Err(format!("floor: the guest exited with {code}")),
            Err(e) => Err(format!("floor: {e}")),
        }
    }

    /// Stdio for an in-process start of a runtime whose WASI takes host
    /// descriptors: the read end of a pipe already at end of file (stdin),
    /// and a stdout pipe — keep its read end until the start returns (noop
    /// writes a line; nobody reads it).
    pub fn piped_stdio() -> Result<(io::PipeReader, io::PipeReader, io::PipeWriter), String> {
        let pipe =
            |what: &str| io::pipe().map_err(|e| format!("floor: cannot create a {what} pipe: {e}"));
        let (stdin, _) = pipe("stdin")?;
        let (stdout_read, stdout) = pipe("stdout")?;
        Ok((stdin, stdout_read, stdout))
    }
}

/// What a runtime runner does with the harness's commands; [`serve`] drives it.
/// Errors are messages naming the thing concerned; they are sent back as
/// [`Kind::Error`] events for that instance.
pub trait RunnerHost {
    /// Prepares a module (`path=`, `cache_dir=` ...); returns the `Loaded` payload pairs.
    fn load(
        &mut self,
        module: u64,
        kv: &[(String, String)],
    ) -> Result<Vec<(&'static str, String)>, String>;
    /// Starts instance `id` (it must answer later with `Instantiated`, `Stdout`, `Exited` or `Error`).
    fn start(&mut self, id: u64, request: StartRequest) -> Result<(), String>;
    /// Feeds bytes to the instance's stdin.
    fn stdin(&mut self, id: u64, bytes: Vec<u8>);
    /// Closes the instance's stdin (end of file for the guest).
    fn close_stdin(&mut self, id: u64);
    /// Runner-wide statistics for a `Query` (`live_instances`,
    /// `linear_memory_bytes`); a runner that tracks none returns no pairs.
    fn stats(&mut self) -> Vec<(&'static str, String)> {
        Vec::new()
    }
    /// Times starts of loaded module `module` with guest arguments `args`
    /// in process, as `plan` says ([`FloorPlan::time`]): the runner's own
    /// per-start code path, back to back, stdout discarded, stdin at end of
    /// file, no pipe crossing and no thread hand-off inside the timed
    /// region. Returns what was timed (one line) and the measured starts'
    /// durations, ns. Errors: the module is not loaded, a start fails, or the
    /// runner measures no floor (the default: says why).
    fn floor(
        &mut self,
        module: u64,
        args: &[String],
        plan: &FloorPlan,
    ) -> Result<(String, Vec<u64>), String> {
        let _ = (module, args, plan);
        Err("this runner times no in-process floor".into())
    }
}

/// The runner's control loop: sends the `hello` pairs as a `Loaded` event for
/// instance 0, then reads command frames from stdin until `Shutdown` or end of
/// file. Errors: an unreadable or unexpected frame from the harness.
#[cfg(target_os = "linux")]
pub fn serve(
    host: &mut impl RunnerHost,
    events: &EventSink,
    hello: &[(&str, String)],
) -> io::Result<()> {
    events.send(Kind::Loaded, 0, kv_payload(hello));
    let mut input = io::BufReader::new(io::stdin().lock());
    while let Some(frame) = Frame::read_from(&mut input)? {
        let id = frame.instance;
        match frame.kind {
            Kind::Load => match host.load(id, &parse_kv(&frame.payload)) {
                Ok(kv) => events.send(Kind::Loaded, id, kv_payload(&kv)),
                Err(e) => events.error(id, e),
            },
            Kind::Start => {
                let received_ns = crate::monotonic_ns();
                let kv = parse_kv(&frame.payload);
                let module = kv_get(&kv, "module").and_then(|v| v.parse().ok());
                let Some(module) = module else {
                    events.error(id, "start: no numeric `module`");
                    continue;
                };
                let args = kv
                    .iter()
                    .filter(|(k, _)| k == "arg")
                    .map(|(_, v)| v.clone())
                    .collect();
                let dir = kv_get(&kv, "dir").map(std::path::PathBuf::from);
                let request = StartRequest {
                    module,
                    args,
                    dir,
                    received_ns,
                };
                if let Err(e) = host.start(id, request) {
                    events.error(id, e);
                }
            }
            Kind::Stdin => host.stdin(id, frame.payload),
            Kind::CloseStdin => host.close_stdin(id),
            Kind::Query => events.send(Kind::Report, 0, kv_payload(&host.stats())),
            Kind::Floor => {
                let kv = parse_kv(&frame.payload);
                let number = |key: &str, default: u32| {
                    kv_get(&kv, key)
                        .and_then(|v| v.parse().ok())
                        .unwrap_or(default)
                };
                let args: Vec<String> = kv
                    .iter()
                    .filter(|(k, _)| k == "arg")
                    .map(|(_, v)| v.clone())
                    .collect();
                let plan = FloorPlan {
                    warmup: number("warmup", 10),
                    iterations: number("iterations", 100),
                    min_iterations: number("min_iterations", 10),
                    budget_ns: u64::from(number("budget_ms", 1000)) * 1_000_000,
                    idle_ns: u64::from(number("idle_us", 0)) * 1_000,
                };
                match host.floor(id, &args, &plan) {
                    Ok((what, samples)) => {
                        let list: Vec<String> = samples.iter().map(u64::to_string).collect();
                        events.send(
                            Kind::Floored,
                            id,
                            kv_payload(&[("what", what), ("samples_ns", list.join(","))]),
                        );
                    }
                    Err(e) => events.error(id, e),
                }
            }
            Kind::Shutdown => break,
            other => {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("unexpected frame {other:?} from the harness"),
                ));
            }
        }
    }
    Ok(())
}

/// [`serve`] for a runner binary named `name`: on an error from the harness's
/// side of the pipe, prints it to stderr and exits with status 1.
#[cfg(target_os = "linux")]
pub fn serve_or_exit(
    name: &str,
    host: &mut impl RunnerHost,
    events: &EventSink,
    hello: &[(&str, String)],
) {
    if let Err(e) = serve(host, events, hello) {
        eprintln!("{name}: {e}");
        std::process::exit(1);
    }
}
