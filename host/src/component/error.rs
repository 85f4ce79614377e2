//! Why a component could not be loaded or set up. Call-time failures are
//! [`ProviderError`](crate::ProviderError)s instead.

use std::path::PathBuf;

use crate::sandbox::epoch::Interrupt;
use crate::sandbox::fault::{self, Stop};
use crate::ProviderError;

/// A component that cannot serve: unreadable, invalid, not matching the world, or misconfigured.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ComponentError {
    /// The file could not be read. The I/O error is the `source()`, not part of the message,
    /// so a chain printer shows it once.
    #[error("cannot read component {}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The bytes are not a valid component (a core module, corrupt, unsupported features).
    #[error("invalid component {name}: {message}")]
    Compile {
        /// The provider's name.
        name: String,
        /// wasmtime's reason.
        message: String,
    },
    /// The component does not export the world's `handler` interface.
    #[error("component {name} does not export {expected} (it exports: {found})")]
    MissingExport {
        /// The provider's name.
        name: String,
        /// The export the world requires.
        expected: &'static str,
        /// What the component exports instead, comma-separated (or `nothing`).
        found: String,
    },
    /// The `handler` export exists but its functions do not match the world.
    #[error("component {name}: export {export} does not match the world: {message}")]
    ExportMismatch {
        /// The provider's name.
        name: String,
        /// The mismatched export.
        export: &'static str,
        /// wasmtime's type-check message.
        message: String,
    },
    /// The component imports something the host does not provide.
    #[error(
        "component {name} imports {import}, which the host does not provide (allowed: {allowed})"
    )]
    UnknownImport {
        /// The provider's name.
        name: String,
        /// The import.
        import: String,
        /// What a component may import.
        allowed: &'static str,
    },
    /// An import the host provides has a type the component does not expect.
    #[error("component {name}: import does not match the host: {message}")]
    ImportMismatch {
        /// The provider's name.
        name: String,
        /// wasmtime's link message (names the import).
        message: String,
    },
    /// The first instance could not be created (e.g. its initial memory is over the cap).
    #[error("component {name} cannot be instantiated: {message}")]
    Instantiate {
        /// The provider's name.
        name: String,
        /// The reason.
        message: String,
    },
    /// A configuration value cannot work.
    #[error("invalid configuration for component {name}: {message}")]
    Config {
        /// The provider's name.
        name: String,
        /// What is wrong.
        message: String,
    },
    /// The engine could not be created.
    #[error("cannot create the component engine: {0}")]
    Engine(String),
}

/// The provider error for wasmtime's error of a failed call or instantiation: the sandbox's
/// classification ([`fault::classify`]) in the component's terms.
pub(crate) fn classify(err: wasmtime::Error) -> ProviderError {
    match fault::classify(&err) {
        Stop::Interrupted(Interrupt::Deadline) => ProviderError::DeadlineExceeded,
        Stop::Interrupted(Interrupt::Canceled) => ProviderError::Canceled,
        Stop::Limit(hit) => ProviderError::LimitExceeded(hit.to_string()),
        Stop::Trap(wasmtime::Trap::OutOfFuel) => {
            ProviderError::LimitExceeded("fuel exhausted".into())
        }
        Stop::Trap(trap) => ProviderError::Trapped(trap.to_string()),
        Stop::Exit(_) | Stop::Other => ProviderError::Trapped(err.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sandbox::LimitHit;

    #[test]
    fn each_stop_keeps_its_provider_error_and_text() {
        let cases = [
            (
                wasmtime::Error::new(Interrupt::Deadline),
                ProviderError::DeadlineExceeded,
            ),
            (
                wasmtime::Error::new(Interrupt::Canceled),
                ProviderError::Canceled,
            ),
            (
                wasmtime::Error::new(wasmtime::Trap::Interrupt),
                ProviderError::DeadlineExceeded,
            ),
            (
                wasmtime::Error::new(LimitHit::Memory {
                    requested: 131072,
                    limit: 65536,
                }),
                ProviderError::LimitExceeded(
                    "memory of 131072 bytes is over the cap of 65536 bytes".into(),
                ),
            ),
            (
                wasmtime::Error::new(LimitHit::Table {
                    requested: 11,
                    limit: 10,
                }),
                ProviderError::LimitExceeded("table of 11 elements is over the cap of 10".into()),
            ),
            (
                wasmtime::Error::new(wasmtime::Trap::OutOfFuel),
                ProviderError::LimitExceeded("fuel exhausted".into()),
            ),
            (
                wasmtime::Error::new(wasmtime::Trap::UnreachableCodeReached),
                ProviderError::Trapped("wasm trap: wasm `unreachable` instruction executed".into()),
            ),
            (
                wasmtime::format_err!("boom"),
                ProviderError::Trapped("boom".into()),
            ),
        ];
        for (err, expected) in cases {
            assert_eq!(classify(err), expected);
        }
    }
}
