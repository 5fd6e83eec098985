//! Line-oriented reading of an instance's stdout with a deadline, whatever
//! carries the bytes (a pipe, a runner's frames, a Docker attach stream).

use coldbench_protocol::monotonic_ns;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender};
use std::time::{Duration, Instant};

/// Why a line could not be read.
#[derive(Debug, thiserror::Error)]
pub enum LineError {
    /// The deadline passed first.
    #[error("no complete line within the time limit (got {partial:?} so far)")]
    Timeout {
        /// Bytes received without a newline, lossy UTF-8, at most 200 chars.
        partial: String,
    },
    /// The stream ended first.
    #[error("output ended before a complete line (got {partial:?})")]
    Eof {
        /// Bytes received without a newline.
        partial: String,
    },
    /// More than [`MAX_LINE_BYTES`] arrived without a newline: the instance
    /// is not speaking the protocol (a guest flooding its stdout); reading
    /// stops there, so the harness never buffers more than that.
    #[error(
        "{bytes} bytes of output without a newline (a protocol line is at most {MAX_LINE_BYTES} bytes): the instance floods its stdout (got {partial:?})"
    )]
    TooLong {
        /// Bytes buffered when reading stopped.
        bytes: usize,
        /// The first bytes, lossy UTF-8, at most 200 chars.
        partial: String,
    },
    /// The instance wrote more than [`MAX_BACKLOG_BYTES`] (a command being
    /// digested: [`MAX_DIGEST_BACKLOG_BYTES`]) that this reader had not
    /// taken yet, and the sender cut its stream there (see
    /// [`stamped_channel`]): the instance floods its stdout faster than the
    /// harness reads it.
    #[error(
        "the instance wrote more than {limit_bytes} bytes of stdout the harness had not read yet: it floods its stdout; its output was cut there"
    )]
    Backlog {
        /// The bound that was passed, bytes ([`MAX_BACKLOG_BYTES`] or
        /// [`MAX_DIGEST_BACKLOG_BYTES`]).
        limit_bytes: usize,
    },
}

/// Most bytes a [`StampedSender`] holds sent but not yet received (8 MiB):
/// eight protocol lines at their longest ([`MAX_LINE_BYTES`]), and room for
/// a command's output while its reader digests it. A runner's event thread
/// reads every instance's frames from one pipe, so it cannot wait for one
/// slow reader; without a bound, a guest flooding its stdout grew the
/// harness by 42-148 MiB before its line was cut (wasmtime-pooling, AMD EPYC
/// 2-vCPU guest, 2026-12-07).
pub const MAX_BACKLOG_BYTES: usize = 8 << 20;

/// The bound of [`MAX_BACKLOG_BYTES`] once the reader digests a command's
/// whole output ([`LineReader::digest_to_end`]), 256 MiB: a command may
/// write any amount, and its reader is then taking it as fast as it comes (a
/// CRC-32 of each chunk), so only a reader that cannot keep up for that long
/// is cut. A held command (density) polled with [`LineReader::ended`] keeps
/// the 8 MiB bound: it answers at end of input, and many are held at once.
pub const MAX_DIGEST_BACKLOG_BYTES: usize = 256 << 20;

/// Bytes sent on a [`StampedSender`] and not yet received, the bound in
/// force, and whether the sender cut the stream for passing it.
struct Backlog {
    bytes: AtomicUsize,
    limit_bytes: AtomicUsize,
    cut: AtomicBool,
}

/// The sending half of [`stamped_channel`]: chunks stamped by the thread
/// that read them, never more than [`MAX_BACKLOG_BYTES`] unreceived.
pub struct StampedSender {
    tx: Sender<(Vec<u8>, u64)>,
    backlog: Arc<Backlog>,
}

/// A [`StampedSender::send`] that would have passed [`MAX_BACKLOG_BYTES`]:
/// nothing was sent, and the reader ends its stream with
/// [`LineError::Backlog`] once this sender is dropped.
#[derive(Debug, PartialEq, Eq)]
pub struct BacklogFull {
    /// Bytes sent and not yet received when the chunk came.
    pub backlog_bytes: usize,
    /// The chunk's length, bytes.
    pub chunk_bytes: usize,
    /// The bound in force, bytes.
    pub limit_bytes: usize,
}

impl StampedSender {
    /// Sends `chunk`, read from the OS at `read_ns` (`CLOCK_MONOTONIC` ns).
    ///
    /// Errors: [`BacklogFull`] if the bytes sent and not yet received would
    /// pass [`MAX_BACKLOG_BYTES`] (the stream is then marked cut: drop this
    /// sender to end it). A reader gone is not an error: its bytes are
    /// dropped, as a closed pipe's would be.
    pub fn send(&self, chunk: Vec<u8>, read_ns: u64) -> Result<(), BacklogFull> {
        let chunk_bytes = chunk.len();
        let backlog_bytes = self.backlog.bytes.fetch_add(chunk_bytes, Ordering::AcqRel);
        let limit_bytes = self.backlog.limit_bytes.load(Ordering::Acquire);
        if backlog_bytes + chunk_bytes > limit_bytes {
            self.backlog.bytes.fetch_sub(chunk_bytes, Ordering::AcqRel);
            self.backlog.cut.store(true, Ordering::Release);
            return Err(BacklogFull {
                backlog_bytes,
                chunk_bytes,
                limit_bytes,
            });
        }
        if self.tx.send((chunk, read_ns)).is_err() {
            self.backlog.bytes.fetch_sub(chunk_bytes, Ordering::AcqRel);
        }
        Ok(())
    }
}

/// A stream of stamped chunks bounded at [`MAX_BACKLOG_BYTES`] in flight:
/// its sender (for the thread that reads the OS) and its reader, whose
/// [`LineReader::line_read_ns`] is the sender's stamp, not this thread's
/// later wake-up. The sender's drop is end of file, or
/// [`LineError::Backlog`] if it cut the stream.
pub fn stamped_channel() -> (StampedSender, LineReader) {
    let (tx, rx) = std::sync::mpsc::channel();
    let backlog = Arc::new(Backlog {
        bytes: AtomicUsize::new(0),
        limit_bytes: AtomicUsize::new(MAX_BACKLOG_BYTES),
        cut: AtomicBool::new(false),
    });
    (
        StampedSender {
            tx,
            backlog: backlog.clone(),
        },
        LineReader::over(Source::Stamped { rx, backlog }),
    )
}

/// Longest line accepted, bytes (1 MiB). Ready and response lines are a few
/// dozen bytes; a workload's extra response fields stay far below this.
pub const MAX_LINE_BYTES: usize = 1 << 20;

/// Where a [`LineReader`]'s bytes come from.
enum Source {
    /// Chunks sent by another thread without a stamp (a Docker attach
    /// stream's task: a container's ready line may arrive before the start
    /// call returns, and its phases end at that return), taken as read when
    /// received here; the sender's drop is end of file.
    Chunks(Receiver<Vec<u8>>),
    /// Chunks sent by the thread that read them (a runner's event thread),
    /// each with the `CLOCK_MONOTONIC` ns of that read; `backlog` counts
    /// the bytes in the channel ([`stamped_channel`]).
    Stamped {
        rx: Receiver<(Vec<u8>, u64)>,
        backlog: Arc<Backlog>,
    },
    /// A child's stdout pipe, read by the caller's own thread (no thread
    /// between the process and the harness: one wake-up per line, not two);
    /// `None` once it ended. `scratch`: the read buffer, allocated at the
    /// first read and reused (a chunk is copied out at its own length).
    Pipe {
        pipe: Option<std::process::ChildStdout>,
        scratch: Vec<u8>,
    },
}

/// Bytes read from a pipe at once (its default capacity on Linux).
const PIPE_READ_BYTES: usize = 64 * 1024;

/// One receive from a [`Source`].
enum Recv {
    /// Bytes, and the `CLOCK_MONOTONIC` ns at which the harness read them.
    Chunk(Vec<u8>, u64),
    /// Nothing arrived in time (or, polled, nothing is there now).
    Nothing,
    End,
    /// The sender cut the stream at the bound in force (bytes).
    Cut(usize),
}

impl Source {
    /// The reader digests a command's whole output from now on: a stamped
    /// stream's bound becomes [`MAX_DIGEST_BACKLOG_BYTES`].
    fn digesting(&self) {
        if let Source::Stamped { backlog, .. } = self {
            backlog
                .limit_bytes
                .store(MAX_DIGEST_BACKLOG_BYTES, Ordering::Release);
        }
    }

    /// Next bytes, waiting at most until `deadline` (`None`: not at all).
    fn recv(&mut self, deadline: Option<Instant>) -> Recv {
        match self {
            Source::Chunks(rx) => match receive(rx, deadline) {
                Ok(Some(c)) => Recv::Chunk(c, monotonic_ns()),
                Ok(None) => Recv::Nothing,
                Err(SenderGone) => Recv::End,
            },
            Source::Stamped { rx, backlog } => match receive(rx, deadline) {
                Ok(Some((c, read_ns))) => {
                    backlog.bytes.fetch_sub(c.len(), Ordering::AcqRel);
                    Recv::Chunk(c, read_ns)
                }
                Ok(None) => Recv::Nothing,
                Err(SenderGone) if backlog.cut.load(Ordering::Acquire) => {
                    Recv::Cut(backlog.limit_bytes.load(Ordering::Acquire))
                }
                Err(SenderGone) => Recv::End,
            },
            Source::Pipe { pipe, scratch } => {
                let Some(p) = pipe.as_mut() else {
                    return Recv::End;
                };
                match poll_readable(&*p, deadline) {
                    Ok(0) => return Recv::Nothing,
                    Ok(_) => {}
                    Err(rustix::io::Errno::INTR) => return Recv::Nothing,
                    Err(_) => {
                        *pipe = None;
                        return Recv::End;
                    }
                }
                if scratch.is_empty() {
                    scratch.resize(PIPE_READ_BYTES, 0);
                }
                match std::io::Read::read(p, scratch) {
                    Ok(0) | Err(_) => {
                        *pipe = None;
                        Recv::End
                    }
                    Ok(n) => Recv::Chunk(scratch[..n].to_vec(), monotonic_ns()),
                }
            }
        }
    }
}

/// The sending side of a channel was dropped: end of the stream.
struct SenderGone;

/// One item from `rx`, waiting at most until `deadline` (`None`: not at
/// all); `Ok(None)`: nothing in time.
fn receive<T>(rx: &Receiver<T>, deadline: Option<Instant>) -> Result<Option<T>, SenderGone> {
    match deadline {
        Some(d) => match rx.recv_timeout(d.saturating_duration_since(Instant::now())) {
            Ok(c) => Ok(Some(c)),
            Err(RecvTimeoutError::Timeout) => Ok(None),
            Err(RecvTimeoutError::Disconnected) => Err(SenderGone),
        },
        None => match rx.try_recv() {
            Ok(c) => Ok(Some(c)),
            Err(std::sync::mpsc::TryRecvError::Empty) => Ok(None),
            Err(std::sync::mpsc::TryRecvError::Disconnected) => Err(SenderGone),
        },
    }
}

/// Waits with `poll(2)` until `fd` is readable (or at its end), at most
/// until `deadline` (`None`: not at all); returns the count of ready
/// descriptors (0: nothing in time) or the error.
pub(crate) fn poll_readable(
    fd: impl std::os::fd::AsFd,
    deadline: Option<Instant>,
) -> rustix::io::Result<usize> {
    let left = deadline.map_or(Duration::ZERO, |d| {
        d.saturating_duration_since(Instant::now())
    });
    let timeout = rustix::event::Timespec {
        tv_sec: left.as_secs() as i64,
        tv_nsec: i64::from(left.subsec_nanos()),
    };
    let mut fds = [rustix::event::PollFd::new(
        &fd,
        rustix::event::PollFlags::IN,
    )];
    rustix::event::poll(&mut fds, Some(&timeout))
}

/// Reads newline-terminated lines from a channel of byte chunks or a pipe.
pub struct LineReader {
    source: Source,
    buf: Vec<u8>,
    /// When the harness read the last chunk added to `buf`,
    /// `CLOCK_MONOTONIC` ns (0 before any).
    buf_read_ns: u64,
    /// Chunks [`LineReader::ended`] took off the stream, already digested
    /// (command mode reads no lines).
    digested: Option<Digest>,
}

/// A running digest of a command's stdout: CRC-32, byte count, and its
/// first bytes (lossy UTF-8, at most 200 chars) for messages.
#[derive(Default)]
struct Digest {
    hasher: crc32fast::Hasher,
    bytes: u64,
    head: String,
}

impl Digest {
    fn add(&mut self, chunk: &[u8]) {
        if self.head.is_empty() {
            self.head = String::from_utf8_lossy(chunk).chars().take(200).collect();
        }
        self.bytes += chunk.len() as u64;
        self.hasher.update(chunk);
    }
}

impl LineReader {
    /// Wraps a channel of chunks; the sender's drop is end of file.
    pub fn new(rx: Receiver<Vec<u8>>) -> Self {
        LineReader::over(Source::Chunks(rx))
    }

    fn over(source: Source) -> Self {
        LineReader {
            source,
            buf: Vec::new(),
            buf_read_ns: 0,
            digested: None,
        }
    }

    /// Reads a child's stdout pipe directly, on the caller's thread (with
    /// `poll(2)` for the deadline); end of file is the stream's end.
    pub fn from_pipe(pipe: std::process::ChildStdout) -> Self {
        LineReader::over(Source::Pipe {
            pipe: Some(pipe),
            scratch: Vec::new(),
        })
    }

    fn partial(&self) -> String {
        String::from_utf8_lossy(&self.buf)
            .chars()
            .take(200)
            .collect()
    }

    /// When the harness read the bytes that completed the line
    /// [`LineReader::read_line`] returned last, `CLOCK_MONOTONIC` ns: on the
    /// caller's thread for a pipe (right after `read`) and for plain chunks
    /// (at their receipt), on the reading thread for [`stamped_channel`]
    /// chunks. 0 before any line.
    pub fn line_read_ns(&self) -> u64 {
        self.buf_read_ns
    }

    /// Returns the next line (without its newline), waiting until `deadline`.
    ///
    /// Errors: [`LineError::Timeout`] or [`LineError::Eof`].
    pub fn read_line(&mut self, deadline: Instant) -> Result<String, LineError> {
        loop {
            if let Some(i) = self.buf.iter().position(|&b| b == b'\n') {
                let line: Vec<u8> = self.buf.drain(..=i).collect();
                return Ok(String::from_utf8_lossy(&line[..line.len() - 1]).into_owned());
            }
            if self.buf.len() > MAX_LINE_BYTES {
                let bytes = self.buf.len();
                let partial = self.partial();
                // Drop what is buffered: a flooding instance must not grow
                // the harness.
                self.buf = Vec::new();
                return Err(LineError::TooLong { bytes, partial });
            }
            let now = Instant::now();
            if now >= deadline {
                return Err(LineError::Timeout {
                    partial: self.partial(),
                });
            }
            match self.source.recv(Some(deadline)) {
                Recv::Chunk(chunk, read_ns) => {
                    self.buf.extend_from_slice(&chunk);
                    self.buf_read_ns = read_ns;
                }
                Recv::Nothing => {
                    if Instant::now() >= deadline {
                        return Err(LineError::Timeout {
                            partial: self.partial(),
                        });
                    }
                }
                Recv::End => {
                    return Err(LineError::Eof {
                        partial: self.partial(),
                    });
                }
                Recv::Cut(limit_bytes) => {
                    self.buf = Vec::new();
                    return Err(LineError::Backlog { limit_bytes });
                }
            }
        }
    }
}

/// What a command wrote to its stdout, digested as it arrived: the harness
/// never holds more than one chunk of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutputDigest {
    /// CRC-32 (IEEE) of every byte, in order (`coldbench_protocol::checksum`'s).
    pub crc32: u32,
    /// How many bytes.
    pub bytes: u64,
}

impl LineReader {
    /// Digests everything left on the stream (bytes already buffered, then
    /// every chunk) until it ends, waiting until `deadline`: a command's
    /// whole stdout, in constant memory.
    ///
    /// Errors: [`LineError::Timeout`] if the stream has not ended by then
    /// (`partial`: the first bytes, for the message).
    pub fn digest_to_end(&mut self, deadline: Instant) -> Result<OutputDigest, LineError> {
        self.source.digesting();
        let mut d = self.take_digest();
        loop {
            if Instant::now() >= deadline {
                return Err(LineError::Timeout { partial: d.head });
            }
            match self.source.recv(Some(deadline)) {
                Recv::Chunk(chunk, _) => d.add(&chunk),
                Recv::Nothing => {}
                Recv::Cut(limit_bytes) => {
                    return Err(LineError::Backlog { limit_bytes });
                }
                Recv::End => {
                    return Ok(OutputDigest {
                        crc32: d.hasher.finalize(),
                        bytes: d.bytes,
                    });
                }
            }
        }
    }

    /// Waits until the stream ends (its sender is gone), discarding what
    /// arrives, at most until `deadline`. Returns whether it ended.
    pub fn wait_end(&mut self, deadline: Instant) -> bool {
        self.buf = Vec::new();
        self.digested = None;
        loop {
            let now = Instant::now();
            if now >= deadline {
                return false;
            }
            match self.source.recv(Some(deadline)) {
                Recv::Chunk(..) | Recv::Nothing => {}
                Recv::End | Recv::Cut(_) => return true,
            }
        }
    }

    /// The digest so far: the chunks [`LineReader::ended`] took, then
    /// whatever line bytes are buffered (moved out of the buffer).
    fn take_digest(&mut self) -> Digest {
        let mut d = self.digested.take().unwrap_or_default();
        let buffered = std::mem::take(&mut self.buf);
        if !buffered.is_empty() {
            d.add(&buffered);
        }
        d
    }

    /// Whether the stream has ended (its sender is gone), without waiting.
    /// Chunks that arrived are digested for [`LineReader::digest_to_end`]
    /// (not kept: call it only on a command's output, never before
    /// [`LineReader::read_line`]). A held command
    /// instance whose stdout ended has exited.
    pub fn ended(&mut self) -> bool {
        loop {
            match self.source.recv(None) {
                Recv::Chunk(chunk, _) => {
                    let mut d = self.take_digest();
                    d.add(&chunk);
                    self.digested = Some(d);
                }
                Recv::Nothing => return false,
                Recv::End | Recv::Cut(_) => return true,
            }
        }
    }
}

#[cfg(test)]
mod tests;
