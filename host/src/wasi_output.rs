//! The WASI stdout/stderr of untrusted wasm (waPC guests and component providers), line by line
//! into `tracing` events.
//!
//! Sandboxed output must never reach the host's stdout (where `switchboard run` writes the
//! guest's response). Each complete line becomes one event tagged with who wrote it and the
//! stream; lines longer than [`MAX_LINE_BYTES`] are split.

use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};

use bytes::Bytes;
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};
use wasmtime_wasi::p2::{OutputStream, Pollable, StreamResult};

/// The `tracing` target of waPC guest output and `__console_log` messages.
pub const GUEST_LOG_TARGET: &str = "switchboard::guest";

/// The `tracing` target of component provider output and `host.log` lines.
pub const COMPONENT_LOG_TARGET: &str = "switchboard::component";

/// Longest line kept in one event; longer output is split.
pub const MAX_LINE_BYTES: usize = 16 * 1024;

/// How much the wasm may write in one WASI call; it never has to wait.
const WRITE_BUDGET: usize = 64 * 1024;

/// Who writes: decides the event's target and the field naming the writer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Writer {
    /// A waPC guest: target [`GUEST_LOG_TARGET`], field `guest`.
    Guest,
    /// A component provider: target [`COMPONENT_LOG_TARGET`], field `provider`.
    Component,
}

/// Emit one line. `tracing` wants targets and field names at compile time, hence the match.
pub(crate) fn emit(writer: Writer, name: &str, stream: &str, line: &[u8]) {
    let text = String::from_utf8_lossy(line);
    match writer {
        Writer::Guest => tracing::info!(target: GUEST_LOG_TARGET, guest = name, stream, "{text}"),
        Writer::Component => {
            tracing::info!(target: COMPONENT_LOG_TARGET, provider = %name, stream, "{text}")
        }
    }
}

/// Splits bytes into lines and emits each one.
#[derive(Debug)]
struct LineSink {
    writer: Writer,
    name: Arc<str>,
    stream: &'static str,
    pending: Vec<u8>,
}

impl LineSink {
    fn push(&mut self, mut bytes: &[u8]) {
        while !bytes.is_empty() {
            match bytes.iter().position(|b| *b == b'\n') {
                Some(newline) => {
                    self.append(&bytes[..newline]);
                    self.flush_line();
                    bytes = &bytes[newline + 1..];
                }
                None => {
                    self.append(bytes);
                    bytes = &[];
                }
            }
        }
    }

    fn append(&mut self, mut bytes: &[u8]) {
        while !bytes.is_empty() {
            let room = MAX_LINE_BYTES - self.pending.len();
            let take = room.min(bytes.len());
            self.pending.extend_from_slice(&bytes[..take]);
            bytes = &bytes[take..];
            if self.pending.len() == MAX_LINE_BYTES {
                self.flush_line();
            }
        }
    }

    fn flush_line(&mut self) {
        let line = self.pending.strip_suffix(b"\r").unwrap_or(&self.pending);
        emit(self.writer, &self.name, self.stream, line);
        self.pending.clear();
    }
}

impl Drop for LineSink {
    fn drop(&mut self) {
        if !self.pending.is_empty() {
            self.flush_line();
        }
    }
}

/// A WASI stdout/stderr that writes into `tracing`. Cheap to clone; clones share one line
/// buffer, flushed when the last clone is dropped.
#[derive(Debug, Clone)]
pub(crate) struct WasiOutput(Arc<Mutex<LineSink>>);

impl WasiOutput {
    /// Output of `name` on `stream` (`"stdout"` or `"stderr"`).
    pub(crate) fn new(writer: Writer, name: Arc<str>, stream: &'static str) -> Self {
        WasiOutput(Arc::new(Mutex::new(LineSink {
            writer,
            name,
            stream,
            pending: Vec::new(),
        })))
    }

    pub(crate) fn push(&self, bytes: &[u8]) {
        // A panic elsewhere while holding the lock cannot leave the buffer invalid.
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(bytes);
    }
}

impl IsTerminal for WasiOutput {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdoutStream for WasiOutput {
    fn async_stream(&self) -> Box<dyn tokio::io::AsyncWrite + Send + Sync> {
        Box::new(self.clone())
    }

    // Overridden so writes happen synchronously, without the default adapter's task.
    fn p2_stream(&self) -> Box<dyn OutputStream> {
        Box::new(self.clone())
    }
}

impl OutputStream for WasiOutput {
    fn write(&mut self, bytes: Bytes) -> StreamResult<()> {
        self.push(&bytes);
        Ok(())
    }

    fn flush(&mut self) -> StreamResult<()> {
        Ok(())
    }

    fn check_write(&mut self) -> StreamResult<usize> {
        Ok(WRITE_BUDGET)
    }
}

#[wasmtime_wasi::async_trait]
impl Pollable for WasiOutput {
    async fn ready(&mut self) {}
}

impl tokio::io::AsyncWrite for WasiOutput {
    fn poll_write(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        self.push(buf);
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}
