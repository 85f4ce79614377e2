//! `logger` (and the newer SDK's `logging`): a guest's log line becomes a `tracing` event at the
//! matching level, target `switchboard::guest`, with the guest (the calling waPC guest's name, `-` when unknown), binding and namespace as
//! fields.
//!
//! Operations: `info`, `warn`, `error`, `debug`, `trace` (Tarmac) and `Info`, `Warn`, `Error`,
//! `Debug`, `Trace` (the standalone SDK's `logging` capability, which Tarmac never routed).
//! The payload is the raw message (invalid UTF-8 is replaced, lines longer than
//! [`MAX_MESSAGE_BYTES`] are cut and say so); the answer is always empty bytes.

use switchboard::{Provider, ProviderError, Request};

/// Longest message logged as is; longer ones are cut and marked.
pub const MAX_MESSAGE_BYTES: usize = 64 * 1024;

/// The logging provider. Register it under `logger` and `logging`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Logger;

/// A log level a guest can ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// `trace`
    Trace,
    /// `debug`
    Debug,
    /// `info`
    Info,
    /// `warn`
    Warn,
    /// `error`
    Error,
}

impl Level {
    /// The level named by an operation, in Tarmac's lower-case or the newer SDK's capitalised
    /// spelling.
    pub fn from_operation(op: &str) -> Option<Level> {
        match op {
            "trace" | "Trace" => Some(Level::Trace),
            "debug" | "Debug" => Some(Level::Debug),
            "info" | "Info" => Some(Level::Info),
            "warn" | "Warn" => Some(Level::Warn),
            "error" | "Error" => Some(Level::Error),
            _ => None,
        }
    }
}

/// The message as logged: lossy UTF-8, cut at [`MAX_MESSAGE_BYTES`] with a marker.
pub fn message_text(payload: &[u8]) -> String {
    if payload.len() <= MAX_MESSAGE_BYTES {
        return String::from_utf8_lossy(payload).into_owned();
    }
    let mut text = String::from_utf8_lossy(&payload[..MAX_MESSAGE_BYTES]).into_owned();
    text.push_str(&format!(
        " ... [{} bytes cut]",
        payload.len() - MAX_MESSAGE_BYTES
    ));
    text
}

impl Provider for Logger {
    fn call(&self, req: &Request<'_>) -> Result<Vec<u8>, ProviderError> {
        let level = Level::from_operation(req.operation)
            .ok_or_else(|| ProviderError::UnknownOperation(req.operation.to_string()))?;
        let message = message_text(req.payload);
        let (binding, namespace) = (req.binding, req.namespace);
        let guest = req.ctx.caller().unwrap_or("-");
        // `tracing` needs the level at compile time, hence one macro call per level.
        match level {
            Level::Trace => {
                tracing::trace!(target: "switchboard::guest", guest, binding, namespace, "{message}")
            }
            Level::Debug => {
                tracing::debug!(target: "switchboard::guest", guest, binding, namespace, "{message}")
            }
            Level::Info => {
                tracing::info!(target: "switchboard::guest", guest, binding, namespace, "{message}")
            }
            Level::Warn => {
                tracing::warn!(target: "switchboard::guest", guest, binding, namespace, "{message}")
            }
            Level::Error => {
                tracing::error!(target: "switchboard::guest", guest, binding, namespace, "{message}")
            }
        }
        Ok(Vec::new())
    }

    fn describe(&self) -> String {
        "tarmac logger".to_string()
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::sync::{Arc, Mutex};

    use switchboard::{CallContext, CallError, Router};

    use super::*;

    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl Write for Captured {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn both_spellings_log_at_the_level_with_fields() {
        let out = Captured::default();
        let writer = out.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_ansi(false)
            .without_time()
            .with_writer(move || writer.clone())
            .finish();
        let router = Router::new();
        router.register_namespace("logger", Logger).unwrap();
        router.register_namespace("logging", Logger).unwrap();
        tracing::subscriber::with_default(subscriber, || {
            let ctx = CallContext::new().with_caller("orders");
            let r = router.call(&ctx, "tarmac", "logger", "warn", b"disk \xff low");
            assert_eq!(r, Ok(Vec::new()));
            let r = router.call(&ctx, "tarmac", "logging", "Error", b"boom");
            assert_eq!(r, Ok(Vec::new()));
            let r = router.call(&CallContext::new(), "tarmac", "logger", "trace", b"");
            assert_eq!(r, Ok(Vec::new()));
        });
        let text = String::from_utf8(out.0.lock().unwrap().clone()).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines,
            [
                " WARN switchboard::guest: disk \u{fffd} low guest=\"orders\" binding=\"tarmac\" namespace=\"logger\"",
                "ERROR switchboard::guest: boom guest=\"orders\" binding=\"tarmac\" namespace=\"logging\"",
                "TRACE switchboard::guest:  guest=\"-\" binding=\"tarmac\" namespace=\"logger\"",
            ]
        );
    }

    #[test]
    fn unknown_level_is_an_unknown_operation() {
        let router = Router::new();
        router.register_namespace("logger", Logger).unwrap();
        let err = router
            .call(&CallContext::new(), "tarmac", "logger", "fatal", b"x")
            .unwrap_err();
        assert_eq!(err, CallError::UnknownOperation("fatal".to_string()));
    }

    #[test]
    fn long_messages_are_cut_and_marked() {
        let long = vec![b'a'; MAX_MESSAGE_BYTES + 10];
        let text = message_text(&long);
        assert!(text.ends_with(" ... [10 bytes cut]"));
        assert_eq!(text.len(), MAX_MESSAGE_BYTES + " ... [10 bytes cut]".len());
    }
}
