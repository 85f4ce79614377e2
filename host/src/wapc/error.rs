//! Errors of waPC hosting: one enum for everything a guest invocation can end with.

use std::path::PathBuf;

use crate::sandbox::epoch::Interrupt;
use crate::sandbox::fault::{self, Stop};
use crate::sandbox::LimitHit;
use crate::CallError;

/// Why a guest invocation (or loading a guest) failed.
///
/// Each variant is a situation a user can act on: the guest's own error, a routed host call
/// that failed, a trap (with its cause), the invocation deadline, the memory cap, or a module
/// that cannot be used at all.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WapcError {
    /// The guest reported an error through `__guest_error`; its message, verbatim.
    #[error("guest error: {0}")]
    Guest(String),
    /// The guest failed after a host call it made failed. `error` is the router's error (whose
    /// message the guest received through `__host_error`), `guest_message` what the guest
    /// reported back.
    #[error("host call failed: {error} (guest reported: {guest_message})")]
    HostCall {
        /// The routed call's error.
        error: CallError,
        /// The guest's own error message.
        guest_message: String,
    },
    /// The guest trapped. The instance was discarded and will be replaced.
    #[error("guest trapped: {cause}")]
    Trap {
        /// What trapped.
        cause: TrapCause,
        /// The full engine error, with the wasm backtrace when available.
        detail: String,
    },
    /// The invocation ran past its deadline and was interrupted. The instance was discarded.
    #[error("guest invocation deadline exceeded")]
    DeadlineExceeded,
    /// The invocation's cancellation token was triggered. The instance was discarded.
    #[error("guest invocation canceled")]
    Canceled,
    /// The guest tried to grow its linear memory beyond the configured cap.
    #[error("guest memory limit exceeded: {requested} bytes requested, limit is {limit} bytes")]
    MemoryLimit {
        /// The configured cap in bytes.
        limit: usize,
        /// The size the guest asked for in bytes.
        requested: usize,
    },
    /// The bytes are not a usable waPC module (invalid wasm, missing `__guest_call` or
    /// `memory` export, an import nobody provides, ...).
    #[error("invalid guest module: {0}")]
    BadModule(String),
    /// Instantiating or initialising (`_initialize`, `_start`, `wapc_init`) the guest failed
    /// for a reason other than a trap, a deadline or the memory cap.
    #[error("guest instantiation failed: {0}")]
    Instantiation(String),
    /// The configuration cannot be honoured (e.g. a read-only directory grant on an engine
    /// that only supports read-write preopens).
    #[error("invalid guest configuration: {0}")]
    Config(String),
    /// Reading the module file failed. The I/O error is the `source()`, not part of the
    /// message, so a chain printer shows it once.
    #[error("cannot read guest module {}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
}

/// What made a guest trap.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TrapCause {
    /// A WebAssembly trap (unreachable, out-of-bounds memory access, stack overflow, ...).
    #[error("{0}")]
    Wasm(wasmtime::Trap),
    /// The guest broke the waPC ABI in a call to a host import (e.g. a pointer outside its
    /// memory). The host refused the call instead of panicking.
    #[error("{0}")]
    Abi(AbiViolation),
    /// The guest called WASI `proc_exit` with this status where the host did not expect it.
    #[error("guest exited with status {0}")]
    Exit(i32),
    /// The engine panicked while serving the guest (only the wasmtime-provider engine does
    /// this, on out-of-range pointers); the panic was contained.
    #[error("engine panicked: {0}")]
    EnginePanic(String),
    /// Any other failure raised while the guest ran.
    #[error("{0}")]
    Other(String),
}

/// A waPC ABI violation detected by the hardened host imports.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AbiViolation {
    /// A pointer/length pair does not lie inside the guest's linear memory.
    #[error(
        "{import}: range of {len} bytes at {ptr} is outside guest memory of {memory_size} bytes"
    )]
    OutOfBounds {
        /// The host import the guest called.
        import: &'static str,
        /// The guest pointer (as an unsigned wasm32 address).
        ptr: u32,
        /// The length in bytes.
        len: u32,
        /// The size of the guest memory at the time of the call.
        memory_size: usize,
    },
    /// A name passed to `__host_call` is not UTF-8.
    #[error("{import}: {what} is not valid UTF-8")]
    InvalidUtf8 {
        /// The host import the guest called.
        import: &'static str,
        /// Which argument.
        what: &'static str,
    },
    /// A buffer the host would report is longer than an `i32` length can express.
    #[error("{import}: {len} bytes do not fit the i32 length of the waPC ABI")]
    TooLarge {
        /// The host import the guest called.
        import: &'static str,
        /// The buffer's length.
        len: usize,
    },
    /// A waPC import was called while no waPC host was attached to the instance.
    #[error("{import}: called before the waPC host was attached")]
    NoHost {
        /// The host import the guest called.
        import: &'static str,
    },
    /// The guest does not export its linear memory as `memory`.
    #[error("{import}: the guest exports no linear memory named `memory`")]
    NoMemory {
        /// The host import the guest called.
        import: &'static str,
    },
}

/// A failure of the engine itself, recorded per invocation so the runtime can report it typed
/// (wapc's `WapcHost` only forwards engine errors as strings).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Fault {
    Trap { cause: TrapCause, detail: String },
    DeadlineExceeded,
    Canceled,
    MemoryLimit { limit: usize, requested: usize },
    Instantiation(String),
}

impl Fault {
    /// The fault an engine error stands for. `init` maps unknown failures to instantiation
    /// errors rather than traps.
    pub(crate) fn of(err: &wasmtime::Error, init: bool) -> Fault {
        let trap = |cause| Fault::Trap {
            cause,
            detail: format!("{err:?}"),
        };
        if let Some(violation) = err.downcast_ref::<AbiViolation>() {
            return trap(TrapCause::Abi(violation.clone()));
        }
        match fault::classify(err) {
            Stop::Interrupted(Interrupt::Deadline) => Fault::DeadlineExceeded,
            Stop::Interrupted(Interrupt::Canceled) => Fault::Canceled,
            Stop::Limit(LimitHit::Memory { requested, limit }) => {
                Fault::MemoryLimit { limit, requested }
            }
            // Not raised for guests (a table overrun fails the grow, see `TableOverrun`);
            // reported as what it is all the same.
            Stop::Limit(hit @ LimitHit::Table { .. }) => trap(TrapCause::Other(hit.to_string())),
            Stop::Exit(status) => trap(TrapCause::Exit(status)),
            Stop::Trap(wasm) => trap(TrapCause::Wasm(wasm)),
            Stop::Other if init => Fault::Instantiation(format!("{err:#}")),
            Stop::Other => trap(TrapCause::Other(format!("{err:#}"))),
        }
    }
}

impl From<Fault> for WapcError {
    fn from(fault: Fault) -> Self {
        match fault {
            Fault::Trap { cause, detail } => WapcError::Trap { cause, detail },
            Fault::DeadlineExceeded => WapcError::DeadlineExceeded,
            Fault::Canceled => WapcError::Canceled,
            Fault::MemoryLimit { limit, requested } => WapcError::MemoryLimit { limit, requested },
            Fault::Instantiation(message) => WapcError::Instantiation(message),
        }
    }
}

impl std::fmt::Display for Fault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The text wapc's `WapcHost` forwards when the engine is used without our runtime.
        match self {
            Fault::Trap { cause, .. } => write!(f, "guest trapped: {cause}"),
            Fault::DeadlineExceeded => f.write_str("guest invocation deadline exceeded"),
            Fault::Canceled => f.write_str("guest invocation canceled"),
            Fault::MemoryLimit { limit, requested } => write!(
                f,
                "guest memory limit exceeded: {requested} bytes requested, limit is {limit} bytes"
            ),
            Fault::Instantiation(message) => write!(f, "guest instantiation failed: {message}"),
        }
    }
}

impl std::error::Error for Fault {}

impl WapcError {
    /// Whether the instance that produced this error must be discarded (it trapped, ran out of
    /// time or memory, or was canceled mid-flight).
    pub fn discards_instance(&self) -> bool {
        matches!(
            self,
            WapcError::Trap { .. }
                | WapcError::DeadlineExceeded
                | WapcError::Canceled
                | WapcError::MemoryLimit { .. }
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fault_display_matches_wapc_error_display() {
        let faults = [
            Fault::Trap {
                cause: TrapCause::Wasm(wasmtime::Trap::UnreachableCodeReached),
                detail: String::new(),
            },
            Fault::DeadlineExceeded,
            Fault::Canceled,
            Fault::MemoryLimit {
                limit: 65536,
                requested: 131072,
            },
            Fault::Instantiation("boom".into()),
        ];
        for fault in faults {
            let text = fault.to_string();
            assert_eq!(WapcError::from(fault).to_string(), text);
        }
    }

    #[test]
    fn abi_violation_message_names_the_import() {
        let v = AbiViolation::OutOfBounds {
            import: "__host_call",
            ptr: 70000,
            len: 10,
            memory_size: 65536,
        };
        assert_eq!(
            v.to_string(),
            "__host_call: range of 10 bytes at 70000 is outside guest memory of 65536 bytes"
        );
    }
}
