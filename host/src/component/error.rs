//! Why a component could not be loaded or set up. Call-time failures are
//! [`ProviderError`](crate::ProviderError)s instead.

use std::path::PathBuf;

/// A component that cannot serve: unreadable, invalid, not matching the world, or misconfigured.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ComponentError {
    /// The file could not be read.
    #[error("cannot read component {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
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
