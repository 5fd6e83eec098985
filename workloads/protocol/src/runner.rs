//! Control frames between the harness and a runtime runner process
//! (docs/design.md §1: one runner process per runtime, driven over a pipe).
//!
//! Each frame on the runner's stdin (commands) and stdout (events) is
//! `len: u32 LE | kind: u8 | instance: u64 LE | payload: len - 9 bytes`.
//! Text payloads are UTF-8 `key=value` lines.

use std::io::{self, Read, Write};

mod floor;
// The instance threads exist where runners run (Linux); the workloads build
// this crate for wasm32-wasip1 too.
#[cfg(target_os = "linux")]
mod workers;

pub use floor::*;
#[cfg(target_os = "linux")]
pub use workers::*;

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
