//! The attach stream of a container or exec: writing its stdin, reading
//! lines of its stdout with a bound on each wait and on a line's length.

use super::*;

/// The stdio of an attached process (a container's first process or an
/// exec): stdout chunks on a channel, stderr kept (the first 64 KiB), stdin
/// writable until closed.
#[derive(Default)]
pub(super) struct Stdio {
    pub(crate) stdout: Option<mpsc::Receiver<Vec<u8>>>,
    pub(crate) input: Option<Pin<Box<dyn AsyncWrite + Send>>>,
    pub(crate) stderr: Arc<Mutex<Vec<u8>>>,
}

impl Stdio {
    /// Demultiplexes an engine's attach `output` on `rt`: stdout to the
    /// channel, stderr to the kept buffer; `input` is the process's stdin.
    pub(super) fn attach(
        rt: &tokio::runtime::Runtime,
        mut output: Pin<
            Box<dyn futures_util::Stream<Item = Result<LogOutput, bollard::errors::Error>> + Send>,
        >,
        input: Pin<Box<dyn AsyncWrite + Send>>,
    ) -> Stdio {
        let (tx, rx) = mpsc::channel();
        let stderr = Arc::new(Mutex::new(Vec::new()));
        let kept = stderr.clone();
        rt.spawn(async move {
            while let Some(Ok(item)) = output.next().await {
                match item {
                    LogOutput::StdOut { message } | LogOutput::Console { message } => {
                        if tx.send(message.to_vec()).is_err() {
                            break;
                        }
                    }
                    LogOutput::StdErr { message } => {
                        let mut e = kept.lock().unwrap_or_else(|p| p.into_inner());
                        if e.len() < 64 * 1024 {
                            e.extend_from_slice(&message);
                        }
                    }
                    LogOutput::StdIn { .. } => {}
                }
            }
        });
        Stdio {
            stdout: Some(rx),
            input: Some(input),
            stderr,
        }
    }

    pub(super) fn stderr_text(&self) -> String {
        String::from_utf8_lossy(&self.stderr.lock().unwrap_or_else(|p| p.into_inner())).into_owned()
    }

    /// Writes `bytes` to stdin (`what` names it in errors), at most `timeout`.
    pub(super) fn write(
        &mut self,
        rt: &tokio::runtime::Runtime,
        bytes: &[u8],
        timeout: Duration,
        what: String,
    ) -> Result<(), ContainerError> {
        let input = self.input.as_mut().ok_or_else(|| ContainerError::Io {
            path: what.clone(),
            source: std::io::Error::new(std::io::ErrorKind::BrokenPipe, "stdin already closed"),
        })?;
        rt.block_on(async {
            tokio::time::timeout(timeout, async {
                input.write_all(bytes).await?;
                input.flush().await
            })
            .await
        })
        .map_err(|_| ContainerError::Timeout {
            call: format!("write {what}"),
            timeout_ms: timeout.as_millis() as u64,
        })?
        .map_err(|source| ContainerError::Io { path: what, source })
    }

    /// Closes stdin (the process sees end of file); a second close is a no-op.
    pub(super) fn close(&mut self, rt: &tokio::runtime::Runtime) {
        if let Some(mut input) = self.input.take() {
            let _ = rt.block_on(async {
                tokio::time::timeout(Duration::from_secs(5), input.shutdown()).await
            });
        }
    }
}
