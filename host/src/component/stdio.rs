//! A component's stdout/stderr, line by line into `tracing` events tagged with the provider.
//!
//! Output never reaches the host's own stdout. Lines longer than [`MAX_LINE_BYTES`] are split.

use std::sync::{Arc, Mutex, PoisonError};

use bytes::Bytes;
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};
use wasmtime_wasi::p2::{OutputStream, Pollable, StreamResult};

/// The `tracing` target of component output and `host.log` lines.
pub const COMPONENT_LOG_TARGET: &str = "switchboard::component";

/// Longest line kept in one event; longer output is split.
pub const MAX_LINE_BYTES: usize = 16 * 1024;

/// How much a component may write in one WASI call; it never has to wait.
const WRITE_BUDGET: usize = 64 * 1024;

#[derive(Debug)]
struct Lines {
    provider: Arc<str>,
    stream: &'static str,
    pending: Vec<u8>,
}

impl Lines {
    fn push(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            if byte == b'\n' {
                self.emit();
            } else {
                self.pending.push(byte);
                if self.pending.len() == MAX_LINE_BYTES {
                    self.emit();
                }
            }
        }
    }

    fn emit(&mut self) {
        let line = self.pending.strip_suffix(b"\r").unwrap_or(&self.pending);
        let text = String::from_utf8_lossy(line);
        tracing::info!(target: COMPONENT_LOG_TARGET, provider = %self.provider, stream = self.stream, "{text}");
        self.pending.clear();
    }
}

impl Drop for Lines {
    fn drop(&mut self) {
        if !self.pending.is_empty() {
            self.emit();
        }
    }
}

/// A WASI output stream into `tracing`. Clones share one line buffer.
#[derive(Debug, Clone)]
pub(crate) struct ComponentOutput(Arc<Mutex<Lines>>);

impl ComponentOutput {
    pub(crate) fn new(provider: Arc<str>, stream: &'static str) -> Self {
        ComponentOutput(Arc::new(Mutex::new(Lines {
            provider,
            stream,
            pending: Vec::new(),
        })))
    }

    fn push(&self, bytes: &[u8]) {
        // A panic while holding the lock cannot leave the byte buffer invalid.
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(bytes);
    }
}

impl IsTerminal for ComponentOutput {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdoutStream for ComponentOutput {
    fn async_stream(&self) -> Box<dyn tokio::io::AsyncWrite + Send + Sync> {
        Box::new(AsyncOutput(self.clone()))
    }

    // Overridden so writes happen synchronously, without the default adapter's task.
    fn p2_stream(&self) -> Box<dyn OutputStream> {
        Box::new(self.clone())
    }
}

impl OutputStream for ComponentOutput {
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
impl Pollable for ComponentOutput {
    async fn ready(&mut self) {}
}

/// The `AsyncWrite` face wasmtime-wasi asks for (used only by async embeddings).
struct AsyncOutput(ComponentOutput);

impl tokio::io::AsyncWrite for AsyncOutput {
    fn poll_write(
        self: std::pin::Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        self.0.push(buf);
        std::task::Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(
        self: std::pin::Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::task::Poll::Ready(Ok(()))
    }

    fn poll_shutdown(
        self: std::pin::Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::task::Poll::Ready(Ok(()))
    }
}
