//! The instance-thread pool of a runner: each instance runs on a thread of its
//! own, idle threads are kept (up to a bound) so a start does not pay for a
//! thread spawn.

use super::*;

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
    pub(super) idle: std::sync::Arc<std::sync::Mutex<Vec<std::sync::mpsc::Sender<Job>>>>,
    pub(super) next: u64,
    pub(super) name: &'static str,
    pub(super) stack_bytes: usize,
    pub(super) spare: usize,
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
    pub(super) fn spawn(&mut self, job: Option<Job>) -> io::Result<()> {
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

    pub(super) fn top_up(&mut self) -> io::Result<()> {
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
