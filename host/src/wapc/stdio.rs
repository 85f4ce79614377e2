//! Guest stdout/stderr captured line by line into `tracing` events.
//!
//! A guest's output must never reach the host's stdout (where `switchboard run` writes the
//! response). Each complete line becomes one event with target [`GUEST_LOG_TARGET`], tagged
//! with the guest's name and the stream; overlong lines are cut at [`MAX_LINE_BYTES`].

use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};

use bytes::Bytes;
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};
use wasmtime_wasi::p2::{OutputStream, Pollable, StreamResult};

/// The `tracing` target of guest output and `__console_log` messages.
pub const GUEST_LOG_TARGET: &str = "switchboard::guest";

/// Longest line kept in one event; longer output is split.
pub const MAX_LINE_BYTES: usize = 16 * 1024;

/// How much a guest may write in one WASI call; it never has to wait.
const WRITE_BUDGET: usize = 64 * 1024;

/// Which guest stream a sink receives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StdStream {
    Stdout,
    Stderr,
}

impl StdStream {
    fn name(self) -> &'static str {
        match self {
            StdStream::Stdout => "stdout",
            StdStream::Stderr => "stderr",
        }
    }
}

/// Emit one guest log line. `__console_log` uses it too.
pub(crate) fn emit(guest: &str, stream: &str, line: &[u8]) {
    let text = String::from_utf8_lossy(line);
    tracing::info!(target: GUEST_LOG_TARGET, guest, stream, "{text}");
}

/// Splits bytes into lines and emits each one.
#[derive(Debug)]
struct LineSink {
    guest: Arc<str>,
    stream: StdStream,
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
        emit(&self.guest, self.stream.name(), line);
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
pub(crate) struct GuestOutput(Arc<Mutex<LineSink>>);

impl GuestOutput {
    pub(crate) fn new(guest: Arc<str>, stream: StdStream) -> Self {
        GuestOutput(Arc::new(Mutex::new(LineSink {
            guest,
            stream,
            pending: Vec::new(),
        })))
    }

    fn push(&self, bytes: &[u8]) {
        // A panic elsewhere while holding the lock cannot leave the buffer invalid.
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(bytes);
    }
}

impl IsTerminal for GuestOutput {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdoutStream for GuestOutput {
    fn async_stream(&self) -> Box<dyn tokio::io::AsyncWrite + Send + Sync> {
        Box::new(self.clone())
    }

    // Overridden so writes happen synchronously, without the default adapter's task.
    fn p2_stream(&self) -> Box<dyn OutputStream> {
        Box::new(self.clone())
    }
}

impl OutputStream for GuestOutput {
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
impl Pollable for GuestOutput {
    async fn ready(&mut self) {}
}

impl tokio::io::AsyncWrite for GuestOutput {
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

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::sync::Mutex as StdMutex;
    use tracing::field::{Field, Visit};
    use tracing::subscriber::with_default;
    use tracing_subscriber::layer::{Context as LayerContext, SubscriberExt};
    use tracing_subscriber::Layer;

    /// One captured `tracing` event: (target, guest, stream, message).
    pub(crate) type Captured = (String, String, String, String);

    #[derive(Default)]
    struct Fields {
        guest: String,
        stream: String,
        message: String,
    }

    impl Visit for Fields {
        fn record_str(&mut self, field: &Field, value: &str) {
            match field.name() {
                "guest" => self.guest = value.to_owned(),
                "stream" => self.stream = value.to_owned(),
                _ => {}
            }
        }
        fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
            match field.name() {
                "message" => self.message = format!("{value:?}"),
                "guest" => self.guest = format!("{value:?}"),
                "stream" => self.stream = format!("{value:?}"),
                _ => {}
            }
        }
    }

    struct Capture(Arc<StdMutex<Vec<Captured>>>);

    impl<S: tracing::Subscriber> Layer<S> for Capture {
        fn on_event(&self, event: &tracing::Event<'_>, _ctx: LayerContext<'_, S>) {
            let mut fields = Fields::default();
            event.record(&mut fields);
            self.0.lock().unwrap_or_else(PoisonError::into_inner).push((
                event.metadata().target().to_owned(),
                fields.guest,
                fields.stream,
                fields.message,
            ));
        }
    }

    /// Run `f` with a subscriber capturing every event on this thread.
    pub(crate) fn capture_events<R>(f: impl FnOnce() -> R) -> (R, Vec<Captured>) {
        let events = Arc::new(StdMutex::new(Vec::new()));
        let subscriber = tracing_subscriber::registry().with(Capture(events.clone()));
        let result = with_default(subscriber, f);
        let events = events
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        (result, events)
    }

    fn ev(stream: &str, message: &str) -> Captured {
        (
            GUEST_LOG_TARGET.to_owned(),
            "g".to_owned(),
            stream.to_owned(),
            message.to_owned(),
        )
    }

    #[test]
    fn lines_are_split_joined_and_flushed_on_drop() {
        let ((), events) = capture_events(|| {
            let mut out = GuestOutput::new("g".into(), StdStream::Stdout);
            OutputStream::write(&mut out, Bytes::from_static(b"hel")).ok();
            OutputStream::write(&mut out, Bytes::from_static(b"lo\r\nworld\n\npartial")).ok();
        });
        assert_eq!(
            events,
            vec![
                ev("stdout", "hello"),
                ev("stdout", "world"),
                ev("stdout", ""),
                ev("stdout", "partial")
            ]
        );
    }

    #[test]
    fn overlong_lines_are_cut() {
        let ((), events) = capture_events(|| {
            let out = GuestOutput::new("g".into(), StdStream::Stderr);
            out.push(&vec![b'x'; MAX_LINE_BYTES + 3]);
        });
        assert_eq!(events.len(), 2);
        assert_eq!(events[0].3.len(), MAX_LINE_BYTES);
        assert_eq!(events[1], ev("stderr", "xxx"));
    }
}
