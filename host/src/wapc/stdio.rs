//! Guest output into `tracing`: WASI stdout/stderr (through the crate's shared
//! [`WasiOutput`](crate::wasi_output::WasiOutput)) and `__console_log`, each line an event with
//! target [`GUEST_LOG_TARGET`] tagged with the guest's name and the stream.

use crate::wasi_output::{self, WasiOutput, Writer};
pub use crate::wasi_output::{GUEST_LOG_TARGET, MAX_LINE_BYTES};

/// A guest's stdout or stderr.
pub(crate) fn output(guest: std::sync::Arc<str>, stream: &'static str) -> WasiOutput {
    WasiOutput::new(Writer::Guest, guest, stream)
}

/// Emit one guest log line (`__console_log`).
pub(crate) fn emit(guest: &str, stream: &str, line: &[u8]) {
    wasi_output::emit(Writer::Guest, guest, stream, line);
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use bytes::Bytes;
    use std::sync::Mutex as StdMutex;
    use std::sync::{Arc, PoisonError};
    use tracing::field::{Field, Visit};
    use tracing::subscriber::with_default;
    use tracing_subscriber::layer::{Context as LayerContext, SubscriberExt};
    use tracing_subscriber::Layer;
    use wasmtime_wasi::p2::OutputStream;

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
            let mut out = output("g".into(), "stdout");
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
            let out = output("g".into(), "stderr");
            out.push(&vec![b'x'; MAX_LINE_BYTES + 3]);
        });
        assert_eq!(events.len(), 2);
        assert_eq!(events[0].3.len(), MAX_LINE_BYTES);
        assert_eq!(events[1], ev("stderr", "xxx"));
    }
}
