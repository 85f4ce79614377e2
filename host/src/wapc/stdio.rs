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
    use wasmtime_wasi::p2::OutputStream;

    /// One captured `tracing` event: (target, guest, stream, message).
    pub(crate) type Captured = (String, String, String, String);

    /// Run `f` capturing every event on this thread, as (target, guest, stream, message).
    pub(crate) fn capture_events<R>(f: impl FnOnce() -> R) -> (R, Vec<Captured>) {
        let (result, events) = crate::test_log::capture_events(f);
        let events = events
            .into_iter()
            .map(|e| {
                (
                    e.target.clone(),
                    e.field("guest"),
                    e.field("stream"),
                    e.field("message"),
                )
            })
            .collect();
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
