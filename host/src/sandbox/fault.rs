//! One classification of the error a sandboxed call failed with. Each side maps it to its own
//! error type: `wapc::WapcError` (through its `Fault`) for guests, `ProviderError` for
//! components.

use wasmtime_wasi::I32Exit;

use super::epoch::Interrupt;
use super::limits::LimitHit;

/// What stopped a sandboxed call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stop {
    /// The epoch callback stopped it (deadline or cancellation). wasmtime's own
    /// `Trap::Interrupt` counts as a deadline.
    Interrupted(Interrupt),
    /// The limiter refused to let it grow.
    Limit(LimitHit),
    /// A WebAssembly trap (unreachable, out-of-bounds access, stack overflow, out of fuel...).
    Trap(wasmtime::Trap),
    /// The guest called WASI `proc_exit` with this status.
    Exit(i32),
    /// Anything else (a host function's own error, a link or instantiation error...).
    Other,
}

/// Tell apart what stopped a call from the error wasmtime returned for it.
pub(crate) fn classify(err: &wasmtime::Error) -> Stop {
    if let Some(interrupt) = err.downcast_ref::<Interrupt>() {
        return Stop::Interrupted(*interrupt);
    }
    if let Some(hit) = err.downcast_ref::<LimitHit>() {
        return Stop::Limit(*hit);
    }
    if let Some(exit) = err.downcast_ref::<I32Exit>() {
        return Stop::Exit(exit.0);
    }
    match err.downcast_ref::<wasmtime::Trap>() {
        Some(wasmtime::Trap::Interrupt) => Stop::Interrupted(Interrupt::Deadline),
        Some(trap) => Stop::Trap(*trap),
        None => Stop::Other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_kind_is_recognised() {
        let cases = [
            (
                wasmtime::Error::new(Interrupt::Canceled),
                Stop::Interrupted(Interrupt::Canceled),
            ),
            (
                wasmtime::Error::new(wasmtime::Trap::Interrupt),
                Stop::Interrupted(Interrupt::Deadline),
            ),
            (
                wasmtime::Error::new(LimitHit::Memory {
                    requested: 2,
                    limit: 1,
                }),
                Stop::Limit(LimitHit::Memory {
                    requested: 2,
                    limit: 1,
                }),
            ),
            (
                wasmtime::Error::new(wasmtime::Trap::UnreachableCodeReached),
                Stop::Trap(wasmtime::Trap::UnreachableCodeReached),
            ),
            (wasmtime::Error::new(I32Exit(3)), Stop::Exit(3)),
            (wasmtime::format_err!("something else"), Stop::Other),
        ];
        for (err, expected) in cases {
            assert_eq!(classify(&err), expected, "{err:?}");
        }
    }
}
