//! The guest's stdio inside the runner: stdin fed from the harness's request
//! frames through a channel, stdout written back as frames; WASI's sync and
//! async stream traits on both.

use super::*;

/// Guest stdin, synchronous: bytes arrive from `Stdin` frames through a
/// channel and a read blocks the instance's own thread until some arrive
/// (as wasmtime-wasi's `InputFile` does for a file); a closed channel is end
/// of file. No async runtime is involved.
#[derive(Clone)]
pub(super) struct ChannelStdin(pub(super) Arc<Mutex<ChannelInput>>);

pub(super) struct ChannelInput {
    pub(super) rx: mpsc::Receiver<Vec<u8>>,
    pub(super) pending: Vec<u8>,
    pub(super) pos: usize,
    /// The epoch when input (or end of file) last arrived: the instance's
    /// deadline runs from it.
    pub(super) last_input_epoch: Arc<AtomicU64>,
}

impl ChannelInput {
    /// Blocks until bytes are pending; `false` at end of file. Either way the
    /// deadline restarts now: the time blocked here was the harness's, not
    /// the guest's. End of file counts as input too — an instance held idle
    /// past its deadline (density) must end by its end of input at teardown,
    /// not be interrupted at its next function entry.
    pub(super) fn fill(&mut self) -> bool {
        while self.pos >= self.pending.len() {
            let got = self.rx.recv();
            self.last_input_epoch
                .store(EPOCH.load(Ordering::Relaxed), Ordering::Relaxed);
            match got {
                Ok(chunk) => {
                    self.pending = chunk;
                    self.pos = 0;
                }
                Err(_) => return false,
            }
        }
        true
    }

    /// Copies at most `max` pending bytes out (after [`ChannelInput::fill`]).
    pub(super) fn take(&mut self, max: usize) -> &[u8] {
        let n = max.min(self.pending.len() - self.pos);
        let out = &self.pending[self.pos..self.pos + n];
        self.pos += n;
        out
    }
}

impl ChannelStdin {
    pub(super) fn lock(&self) -> std::sync::MutexGuard<'_, ChannelInput> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl IsTerminal for ChannelStdin {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdinStream for ChannelStdin {
    fn p2_stream(&self) -> Box<dyn InputStream> {
        Box::new(self.clone())
    }
    fn async_stream(&self) -> Box<dyn AsyncRead + Send + Sync> {
        Box::new(self.clone())
    }
}

#[wasmtime_wasi::async_trait]
impl Pollable for ChannelStdin {
    async fn ready(&mut self) {}
}

impl InputStream for ChannelStdin {
    fn read(&mut self, size: usize) -> StreamResult<bytes::Bytes> {
        let mut input = self.lock();
        if !input.fill() {
            return Err(StreamError::Closed);
        }
        Ok(bytes::Bytes::copy_from_slice(input.take(size)))
    }
}

impl AsyncRead for ChannelStdin {
    fn poll_read(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let mut input = self.lock();
        if input.fill() {
            let chunk = input.take(buf.remaining());
            buf.put_slice(chunk);
        }
        Poll::Ready(Ok(()))
    }
}

/// Guest stdout, synchronous: every write becomes one `Stdout` event, written
/// on the instance's own thread (the first one with the phase stamps).
#[derive(Clone)]
pub(super) struct FrameStdout(pub(super) InstanceEvents);

impl IsTerminal for FrameStdout {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdoutStream for FrameStdout {
    fn p2_stream(&self) -> Box<dyn OutputStream> {
        Box::new(self.clone())
    }
    fn async_stream(&self) -> Box<dyn AsyncWrite + Send + Sync> {
        Box::new(self.clone())
    }
}

#[wasmtime_wasi::async_trait]
impl Pollable for FrameStdout {
    async fn ready(&mut self) {}
}

impl OutputStream for FrameStdout {
    fn write(&mut self, bytes: bytes::Bytes) -> StreamResult<()> {
        self.0.stdout(&bytes);
        Ok(())
    }
    fn flush(&mut self) -> StreamResult<()> {
        Ok(())
    }
    fn check_write(&mut self) -> StreamResult<usize> {
        Ok(1 << 20)
    }
}

impl AsyncWrite for FrameStdout {
    fn poll_write(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.0.stdout(buf);
        Poll::Ready(Ok(buf.len()))
    }
    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}
