//! Write a [Switchboard](https://example.invalid/switchboard) component provider in Rust.
//!
//! A provider serves the routes it is registered for (for example `database:kv` / `Get`): the
//! host forwards each call into [`Provider::handle`]. Build it for `wasm32-unknown-unknown` and
//! wrap the module with `switchboard-componentize` (an import-free component, the smallest and
//! fastest to instantiate), or for `wasm32-wasip2` (a component directly, with WASI imports).
//!
//! ```ignore
//! use switchboard_guest::{dispatch, Call, Error, Provider};
//!
//! struct Upper;
//!
//! impl Provider for Upper {
//!     fn handle(call: &Call, payload: Vec<u8>) -> Result<Vec<u8>, Error> {
//!         dispatch(call, payload, &[("upper", upper)])
//!     }
//! }
//!
//! fn upper(payload: Vec<u8>) -> Result<Vec<u8>, Error> {
//!     Ok(payload.to_ascii_uppercase())
//! }
//!
//! switchboard_guest::export_provider!(Upper);
//! ```
//!
//! State kept in statics (a `thread_local!` or a `static` with interior mutability) lives as
//! long as the warm instance: the host recycles instances after a number of calls and after
//! any trap, so treat it as a cache, not as storage.

/// The `wit-bindgen` bindings of the `switchboard:provider@0.1.0` world.
#[allow(missing_docs, clippy::all)]
pub mod bindings {
    wit_bindgen::generate!({
        path: "../wit",
        world: "switchboard:provider/provider@0.1.0",
        pub_export_macro: true,
        export_macro_name: "__export_switchboard_provider",
        default_bindings_module: "switchboard_guest::bindings",
        additional_derives: [PartialEq, Eq],
    });
}

pub use bindings::switchboard::provider::types::{
    CallError, CallInfo as Call, Error, Failure, Level,
};

/// A component provider: serves every call routed to it.
///
/// Functions, not methods: a component has one instance per warm slot and no `self` to hand
/// out; keep state in statics.
pub trait Provider {
    /// Serve one call: `call` names the route, `payload` is the caller's bytes.
    fn handle(call: &Call, payload: Vec<u8>) -> Result<Vec<u8>, Error>;
}

/// Export `$ty` (an `impl Provider`) as the component's `handler`.
#[macro_export]
macro_rules! export_provider {
    ($ty:ty) => {
        #[doc(hidden)]
        struct __SwitchboardHandler;

        impl $crate::bindings::exports::switchboard::provider::handler::Guest for __SwitchboardHandler {
            fn handle(
                call: $crate::Call,
                payload: ::std::vec::Vec<u8>,
            ) -> ::std::result::Result<::std::vec::Vec<u8>, $crate::Error> {
                <$ty as $crate::Provider>::handle(&call, payload)
            }
        }

        $crate::bindings::__export_switchboard_provider!(__SwitchboardHandler with_types_in $crate::bindings);
    };
}

/// One operation's handler, for [`dispatch`].
pub type Operation = fn(Vec<u8>) -> Result<Vec<u8>, Error>;

/// Run the handler of `call.operation` from `operations`, or answer
/// [`Error::UnknownOperation`].
pub fn dispatch(
    call: &Call,
    payload: Vec<u8>,
    operations: &[(&str, Operation)],
) -> Result<Vec<u8>, Error> {
    match operations.iter().find(|(name, _)| *name == call.operation) {
        Some((_, operation)) => operation(payload),
        None => Err(Error::UnknownOperation),
    }
}

impl Error {
    /// A failure with a message (the caller sees it verbatim).
    pub fn failure(message: impl Into<String>) -> Self {
        Error::Failure(Failure {
            message: message.into(),
            payload: None,
        })
    }

    /// A failure with a message and a machine-readable payload.
    pub fn failure_with_payload(message: impl Into<String>, payload: Vec<u8>) -> Self {
        Error::Failure(Failure {
            message: message.into(),
            payload: Some(payload),
        })
    }

    /// The payload is malformed for this operation.
    pub fn invalid_input(message: impl Into<String>) -> Self {
        Error::InvalidInput(message.into())
    }
}

impl CallError {
    /// A one-line description (wit-bindgen's `Display` shows the debug form).
    pub fn message(&self) -> String {
        match self {
            CallError::NotGranted => "host calls are not granted to this provider".to_string(),
            CallError::NotFound => "no route".to_string(),
            CallError::UnknownOperation => "unknown operation".to_string(),
            CallError::InvalidInput(message) => format!("invalid input: {message}"),
            CallError::Failure(failure) => failure.message.clone(),
            CallError::Other(message) => message.clone(),
        }
    }
}

/// Call another route through the host's router (only when the provider's configuration
/// grants host calls; otherwise [`CallError::NotGranted`]).
pub fn call(namespace: &str, operation: &str, payload: &[u8]) -> Result<Vec<u8>, CallError> {
    bindings::switchboard::provider::host::call(namespace, operation, payload)
}

/// Log lines into the host's log, tagged with the provider.
pub mod log {
    use crate::bindings::switchboard::provider::host;
    use crate::Level;

    /// Log at any level.
    pub fn log(level: Level, message: &str) {
        host::log(level, message);
    }
    /// Log at `trace` level.
    pub fn trace(message: &str) {
        log(Level::Trace, message);
    }
    /// Log at `debug` level.
    pub fn debug(message: &str) {
        log(Level::Debug, message);
    }
    /// Log at `info` level.
    pub fn info(message: &str) {
        log(Level::Info, message);
    }
    /// Log at `warn` level.
    pub fn warn(message: &str) {
        log(Level::Warn, message);
    }
    /// Log at `error` level.
    pub fn error(message: &str) {
        log(Level::Error, message);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(operation: &str) -> Call {
        Call {
            binding: String::new(),
            namespace: "ns".into(),
            operation: operation.into(),
        }
    }

    fn upper(payload: Vec<u8>) -> Result<Vec<u8>, Error> {
        Ok(payload.to_ascii_uppercase())
    }

    fn fail(_: Vec<u8>) -> Result<Vec<u8>, Error> {
        Err(Error::failure_with_payload("nope", b"why".to_vec()))
    }

    #[test]
    fn dispatch_runs_the_named_operation() {
        let ops: &[(&str, Operation)] = &[("upper", upper), ("fail", fail)];
        assert_eq!(
            dispatch(&call("upper"), b"ab".to_vec(), ops),
            Ok(b"AB".to_vec())
        );
        assert_eq!(
            dispatch(&call("fail"), vec![], ops),
            Err(Error::Failure(Failure {
                message: "nope".into(),
                payload: Some(b"why".to_vec()),
            }))
        );
    }

    #[test]
    fn dispatch_reports_unknown_operations() {
        assert_eq!(
            dispatch(&call("Upper"), vec![], &[("upper", upper)]),
            Err(Error::UnknownOperation)
        );
    }

    #[test]
    fn call_error_messages() {
        assert_eq!(
            CallError::NotGranted.message(),
            "host calls are not granted to this provider"
        );
        assert_eq!(
            CallError::InvalidInput("bad".into()).message(),
            "invalid input: bad"
        );
        assert_eq!(Error::invalid_input("x"), Error::InvalidInput("x".into()));
    }
}
