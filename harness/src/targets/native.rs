//! `native`: the workload's static musl binary, spawned as a process.

use super::{
    BuildContext, HostProbe, Instance, MemoryScope, Priors, Target, TargetError, TargetFamily,
    TargetResult, Variant, file_artifact, heavy, require_built,
};
use crate::artifacts::static_binary;
use crate::stream::LineReader;
use coldbench_results::{ArtifactKind, Family, TargetRecord};
use std::collections::BTreeMap;
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::unix::process::CommandExt;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// The `native` family: one variant, the static binary as a process.
pub struct NativeFamily;

/// The `native` family's registration.
pub static FAMILY: NativeFamily = NativeFamily;

impl TargetFamily for NativeFamily {
    fn variants(&'static self) -> Vec<Variant> {
        vec![Variant {
            id: "native".into(),
            family: Family::Native,
            description: "static musl binary, one process per start".into(),
            start: super::new_process(&[]),
            provider: self,
        }]
    }

    fn availability(&self, _v: &Variant, _host: &HostProbe) -> Result<(), String> {
        Ok(())
    }

    fn build(&self, _v: &Variant, ctx: &BuildContext<'_>) -> Box<dyn Target> {
        Box::new(NativeTarget::new(ctx.workloads))
    }

    fn runtime(&self, _v: &Variant, _host: &HostProbe) -> (String, String) {
        ("linux".into(), String::new())
    }

    fn priors(&self, _v: &Variant, workload: &str) -> Priors {
        Priors::new(if heavy(workload) { 0.01 } else { 0.002 }, 0.0005)
    }
}

/// Spawns the static binary of a workload for each start.
pub struct NativeTarget {
    workloads: Vec<String>,
    /// For commands with a `--workload-dir`: the thread that spawns them,
    /// restricted by Landlock to no file-system writes ([`ReadOnlySpawner`]),
    /// or why there is none. `None`: no selected workload has a directory.
    read_only: Option<Result<ReadOnlySpawner, String>>,
}

impl NativeTarget {
    /// A native target for `workloads`.
    pub fn new(workloads: &[String]) -> Self {
        let read_only = super::any_workload_dir(workloads).then(ReadOnlySpawner::start);
        NativeTarget {
            workloads: workloads.to_vec(),
            read_only,
        }
    }

    /// The `workload_dir` knob: how a command's directory is given and
    /// whether read-only is enforced.
    fn workload_dir_knob(&self) -> Option<String> {
        self.read_only.as_ref().map(|r| match r {
            Ok(s) if s.partial => "the process's working directory; read-only enforced in part by Landlock (this kernel's Landlock ABI is older than 3): creating, writing, removing and renaming files is denied, truncation is not; spawned by a restricted spawner thread (one thread hand-off there and back inside each start)".into(),
            Ok(_) => "the process's working directory; read-only enforced by Landlock: every file-system write of the process is denied (a ruleset handling all write accesses of ABI 3, granting none), inherited from the harness's restricted spawner thread (one thread hand-off there and back inside each start)".into(),
            Err(why) => format!("the process's working directory; NOT read-only: {why}"),
        })
    }
}

/// A spawn job for the [`ReadOnlySpawner`]'s thread.
type SpawnJob = Box<dyn FnOnce() + Send>;

/// A thread of the harness that has restricted itself with Landlock (a
/// ruleset handling every file-system write access Landlock's ABI 3 knows —
/// write, truncate, create, remove, rename/link across directories — and
/// granting none; `no_new_privs` set, as Landlock requires) and spawns the
/// processes of `--workload-dir` commands, which inherit its restriction:
/// they read any file they could before and write none through a path
/// (their open stdout and stderr are not paths: they stay writable). The
/// rest of the harness is not restricted. The thread ends when this is
/// dropped.
pub struct ReadOnlySpawner {
    jobs: mpsc::Sender<SpawnJob>,
    /// Whether Landlock enforced the ruleset only in part (kernel ABI < 3:
    /// truncation not covered).
    partial: bool,
}

impl ReadOnlySpawner {
    /// Starts the thread and restricts it.
    ///
    /// Errors: the thread cannot be started, or this kernel has no Landlock
    /// (the message says what it needs).
    pub fn start() -> Result<Self, String> {
        use landlock::{ABI, AccessFs, Ruleset, RulesetAttr, RulesetStatus};
        let (jobs, rx) = mpsc::channel::<SpawnJob>();
        let (status_tx, status_rx) = mpsc::channel();
        std::thread::Builder::new()
            .name("coldbench-ro-spawner".into())
            .spawn(move || {
                let status = Ruleset::default()
                    .handle_access(AccessFs::from_write(ABI::V3))
                    .and_then(|r| r.create())
                    .and_then(|r| r.restrict_self())
                    .map_err(|e| format!("Landlock: {e}"))
                    .and_then(|st| match st.ruleset {
                        RulesetStatus::FullyEnforced => Ok(false),
                        RulesetStatus::PartiallyEnforced => Ok(true),
                        RulesetStatus::NotEnforced => Err("this kernel has no Landlock (needs Linux >= 5.13 with `landlock` in CONFIG_LSM or the `lsm=` boot parameter)".to_string()),
                    });
                let ok = status.is_ok();
                let _ = status_tx.send(status);
                if ok {
                    for job in rx {
                        job();
                    }
                }
            })
            .map_err(|e| format!("cannot start the read-only spawner thread: {e}"))?;
        let partial = status_rx.recv().map_err(|_| {
            "the read-only spawner thread ended before restricting itself".to_string()
        })??;
        Ok(ReadOnlySpawner { jobs, partial })
    }

    /// Spawns `cmd` (named `what`) as a [`NativeInstance`] from the
    /// restricted thread.
    ///
    /// Errors: as [`NativeInstance::spawn`], or the thread is gone.
    pub fn spawn(&self, mut cmd: Command, what: String) -> TargetResult<NativeInstance> {
        let (tx, rx) = mpsc::channel();
        let gone = || TargetError::Failed("the read-only spawner thread is gone".into());
        self.jobs
            .send(Box::new(move || {
                let _ = tx.send(NativeInstance::spawn(&mut cmd, &what));
            }))
            .map_err(|_| gone())?;
        rx.recv().map_err(|_| gone())?
    }
}

impl Target for NativeTarget {
    fn id(&self) -> &str {
        "native"
    }

    fn record(&self) -> TargetRecord {
        TargetRecord {
            id: "native".into(),
            family: Family::Native,
            runtime: "linux".into(),
            runtime_version: sysinfo::System::kernel_version().unwrap_or_default(),
            knobs: {
                let mut k = BTreeMap::from([
                    ("binary".into(), "static x86_64-unknown-linux-musl".into()),
                    ("spawn".into(), "std::process::Command: posix_spawn (clone3 CLONE_VM|CLONE_VFORK, then execve; seen with strace), own process group".into()),
                ]);
                if let Some(v) = self.workload_dir_knob() {
                    k.insert("workload_dir".into(), v);
                }
                k
            },
            available: true,
            unavailable_reason: None,
            artifacts: self
                .workloads
                .iter()
                .filter(|w| crate::artifacts::native_missing(w).is_none())
                .map(|w| file_artifact(w, ArtifactKind::StaticBinary, &static_binary(w)))
                .collect(),
            start: None,
        }
    }

    fn prepare(&mut self, workload: &str, _timeout: Duration) -> TargetResult<Option<u64>> {
        if let Some(why) = crate::artifacts::native_missing(workload) {
            return Err(TargetError::Unavailable(why));
        }
        require_built("static binary", &static_binary(workload))?;
        Ok(None)
    }

    fn start(
        &mut self,
        workload: &str,
        serve: bool,
        _timeout: Duration,
    ) -> TargetResult<Box<dyn Instance>> {
        let bin = static_binary(workload);
        let mut cmd = Command::new(&bin);
        cmd.args(super::workload_args(workload, serve));
        if let Some(dir) = crate::artifacts::workload_dir(workload) {
            cmd.current_dir(dir);
            if let Some(Ok(spawner)) = &self.read_only {
                return Ok(Box::new(spawner.spawn(cmd, bin.display().to_string())?));
            }
        }
        Ok(Box::new(NativeInstance::spawn(
            &mut cmd,
            &bin.display().to_string(),
        )?))
    }
}

/// A spawned process; killed and reaped on drop if still running.
pub struct NativeInstance {
    child: Child,
    /// Its stdin while no writer thread holds it.
    stdin: Option<ChildStdin>,
    /// A large input being written by its own thread ([`WRITE_INLINE_BYTES`]),
    /// which hands stdin back through the shared slot when done, or drops it
    /// if the slot says stdin was closed meanwhile.
    writer: Option<Writer>,
    stdout: LineReader,
    /// Its stderr: an anonymous in-memory file ([`stderr_file`]: no reader thread), read back
    /// by [`Instance::diagnostics`].
    stderr: Option<std::fs::File>,
}

/// Inputs up to this size are written by the caller's thread (they fit in
/// the pipe's buffer, 64 KiB on Linux); larger ones by a thread of their own,
/// so that the caller reads the process's stdout meanwhile: a process that
/// answers as its input streams in (a filter) would otherwise fill its stdout
/// pipe, stop reading, and leave both sides blocked. Bytes.
pub const WRITE_INLINE_BYTES: usize = 16 * 1024;

/// A thread writing a large input (see [`NativeInstance::writer`]).
struct Writer {
    done: std::thread::JoinHandle<std::io::Result<()>>,
    slot: std::sync::Arc<std::sync::Mutex<StdinSlot>>,
}

/// Where a writer thread's stdin stands.
enum StdinSlot {
    /// Still writing.
    Writing,
    /// Written; stdin handed back.
    Done(ChildStdin),
    /// Closed by the instance: the writer drops stdin when it finishes.
    Closed,
}

/// Largest part of a process's stderr kept for messages, bytes.
const STDERR_KEPT_BYTES: u64 = 64 * 1024;

/// An anonymous in-memory file for a child's stderr (`memfd_create(2)`:
/// about 1.4 µs here, against 17 µs for an unlinked file on the disk, and
/// created inside every start's clock), and the harness's own handle on it;
/// an unlinked temporary file where memfd is missing; `None` if neither can
/// be created (stderr is then discarded).
pub fn stderr_file() -> Option<(Stdio, std::fs::File)> {
    let f = rustix::fs::memfd_create("coldbench-stderr", rustix::fs::MemfdFlags::CLOEXEC)
        .map(std::fs::File::from)
        .or_else(|_| tempfile::tempfile())
        .ok()?;
    let ours = f.try_clone().ok()?;
    Some((Stdio::from(f), ours))
}

impl NativeInstance {
    /// Spawns `cmd` (named `what` in errors) as an instance: stdin and
    /// stdout piped, stderr to an in-memory file ([`stderr_file`]), in its own
    /// process group (a terminal's Ctrl-C reaches the harness only, which
    /// then tears every instance down itself) and naming this harness in
    /// its environment (a later coldbench kills it if we are gone).
    ///
    /// # Errors
    /// [`TargetError::Failed`] when the process cannot be spawned.
    pub fn spawn(cmd: &mut Command, what: &str) -> TargetResult<Self> {
        let (stderr, ours) = stderr_file().unzip();
        let child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(stderr.unwrap_or_else(Stdio::null))
            .process_group(0)
            .env(crate::reap::OWNER_ENV, crate::reap::owner())
            .spawn()
            .map_err(|e| TargetError::Failed(format!("cannot spawn {what}: {e}")))?;
        Ok(NativeInstance::new(child, ours))
    }

    /// What the process wrote to stderr so far (the first 64 KiB), read
    /// from its file at once, without waiting for anything.
    pub fn stderr_text(&mut self) -> String {
        let Some(f) = self.stderr.as_mut() else {
            return String::new();
        };
        let mut text = Vec::new();
        if f.seek(SeekFrom::Start(0)).is_ok() {
            let _ = f.take(STDERR_KEPT_BYTES).read_to_end(&mut text);
        }
        String::from_utf8_lossy(&text).into_owned()
    }

    /// Wraps a child spawned with piped stdin and stdout; `stderr`: the
    /// harness's handle on the file its stderr goes to ([`stderr_file`]).
    pub fn new(mut child: Child, stderr: Option<std::fs::File>) -> Self {
        let stdin = child.stdin.take();
        // Read by the harness's own thread: no reader thread to spawn at
        // start, none to wake between the process's write and the harness.
        let stdout = match child.stdout.take() {
            Some(out) => LineReader::from_pipe(out),
            None => LineReader::new(mpsc::channel().1),
        };
        NativeInstance {
            child,
            stdin,
            writer: None,
            stdout,
            stderr,
        }
    }
}

impl Instance for NativeInstance {
    fn stdout(&mut self) -> &mut LineReader {
        &mut self.stdout
    }

    fn write_stdin(&mut self, bytes: &[u8], _timeout: Duration) -> TargetResult<()> {
        // A pipe write blocks only while the workload does not read; the caller's
        // response deadline bounds the sample, and a dead process gives EPIPE.
        let failed = |e: std::io::Error| {
            TargetError::Failed(format!("writing the request to the process failed: {e}"))
        };
        if let Some(w) = self.writer.take() {
            // The previous input's writer must be done before the next one.
            w.done
                .join()
                .map_err(|_| TargetError::Failed("the stdin writer thread panicked".into()))?
                .map_err(failed)?;
            let slot = std::mem::replace(
                &mut *w.slot.lock().unwrap_or_else(|p| p.into_inner()),
                StdinSlot::Closed,
            );
            if let StdinSlot::Done(stdin) = slot {
                self.stdin = Some(stdin);
            }
        }
        let mut stdin = self
            .stdin
            .take()
            .ok_or_else(|| TargetError::Failed("stdin already closed".into()))?;
        if bytes.len() <= WRITE_INLINE_BYTES {
            let r = stdin.write_all(bytes).and_then(|_| stdin.flush());
            self.stdin = Some(stdin);
            return r.map_err(failed);
        }
        let slot = std::sync::Arc::new(std::sync::Mutex::new(StdinSlot::Writing));
        let (theirs, bytes) = (slot.clone(), bytes.to_vec());
        let done = std::thread::Builder::new()
            .name("stdin-writer".into())
            .spawn(move || {
                let r = stdin.write_all(&bytes).and_then(|_| stdin.flush());
                let mut s = theirs.lock().unwrap_or_else(|p| p.into_inner());
                if matches!(*s, StdinSlot::Writing) {
                    *s = StdinSlot::Done(stdin);
                }
                r
            })
            .map_err(|e| TargetError::Failed(format!("cannot spawn a stdin writer: {e}")))?;
        self.writer = Some(Writer { done, slot });
        Ok(())
    }

    fn close_stdin(&mut self) -> TargetResult<()> {
        drop(self.stdin.take());
        if let Some(w) = &self.writer {
            // Dropped here if the writer has finished, else by the writer.
            *w.slot.lock().unwrap_or_else(|p| p.into_inner()) = StdinSlot::Closed;
        }
        Ok(())
    }

    fn teardown(mut self: Box<Self>, timeout: Duration) -> TargetResult<()> {
        self.close_stdin()?;
        let deadline = Instant::now() + timeout;
        // Wait for the exit itself, as hyperfine's wait4 does: poll(2) on a
        // pidfd wakes once, when the process has become a zombie. Without
        // pidfds (Linux < 5.3): its stdout ends when it exits, and it is a
        // zombie within microseconds.
        if !wait_exit(self.child.id(), deadline) {
            let _ = self.stdout.wait_end(deadline);
        }
        // Whatever it started (its own process group) goes with it: a
        // process that forked and exited leaves nothing running. Its pid is
        // still held (a zombie, or still running past the deadline), so the
        // group cannot be another's.
        kill_group(self.child.id());
        // Not reaped yet (no pidfd, or the wait was interrupted): yield (a
        // sleep would cost the timer slack, 50 µs) for 1 ms, then nap.
        let spin_until = Instant::now() + Duration::from_millis(1);
        let mut nap = Duration::from_micros(50);
        loop {
            match self.child.try_wait() {
                Ok(Some(status)) if status.success() => return Ok(()),
                Ok(Some(status)) => {
                    return Err(match status.code() {
                        Some(code) => TargetError::Exited {
                            what: "process",
                            code: code.into(),
                        },
                        None => TargetError::Failed(format!(
                            "process {} ended by {status}",
                            self.child.id()
                        )),
                    });
                }
                Ok(None) if Instant::now() >= deadline => {
                    kill_group(self.child.id());
                    let _ = self.child.kill();
                    let _ = self.child.wait();
                    return Err(TargetError::Timeout(format!(
                        "process {} did not exit within {} ms after its response; killed",
                        self.child.id(),
                        timeout.as_millis()
                    )));
                }
                Ok(None) if Instant::now() < spin_until => std::thread::yield_now(),
                Ok(None) => {
                    std::thread::sleep(nap);
                    nap = (nap * 2).min(Duration::from_micros(200));
                }
                Err(e) => return Err(TargetError::Failed(format!("waiting for the process: {e}"))),
            }
        }
    }

    /// Its stderr so far (the first 64 KiB). A process that may be dying
    /// gets up to 20 ms to be gone first, so that its last words (a panic
    /// message) are in the file.
    fn diagnostics(&mut self) -> String {
        let t0 = Instant::now();
        while !matches!(self.child.try_wait(), Ok(Some(_)))
            && t0.elapsed() < Duration::from_millis(20)
        {
            std::thread::sleep(Duration::from_millis(1));
        }
        self.stderr_text()
    }

    fn memory_scope(&mut self, _timeout: Duration) -> MemoryScope {
        MemoryScope::Processes(vec![self.child.id()])
    }
}

/// Waits, at most until `deadline`, for process `pid` (a child not yet
/// reaped) to exit, on a pidfd (`pidfd_open(2)` + `poll(2)`). Returns false
/// when no pidfd can be had, so that the caller waits another way; true
/// otherwise (exited, or the deadline passed: the caller's `try_wait` says which).
fn wait_exit(pid: u32, deadline: Instant) -> bool {
    let Some(pid) = rustix::process::Pid::from_raw(pid as i32) else {
        return false;
    };
    let Ok(fd) = rustix::process::pidfd_open(pid, rustix::process::PidfdFlags::empty()) else {
        return false;
    };
    let _ = crate::stream::poll_readable(&fd, Some(deadline));
    true
}

impl Drop for NativeInstance {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            kill_group(self.child.id());
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// SIGKILL to the process group an instance leads (it is started as the
/// leader of its own, `process_group(0)`): every process it started dies
/// with it. Call only while its pid is not yet reaped (a zombie holds it),
/// so that the group is still its own; an empty group is no error.
fn kill_group(leader: u32) {
    if let Some(pid) = rustix::process::Pid::from_raw(leader as i32) {
        let _ = rustix::process::kill_process_group(pid, rustix::process::Signal::KILL);
    }
}
