//! The one error type of config loading and applying.

use std::path::PathBuf;

use super::{FactoryError, Location};
use crate::RegisterError;

/// Why a `switchboard.toml` could not be loaded or applied. Every variant but [`Io`](Self::Io)
/// names the file, line and column, and the dotted key (`route[2].provider`) when known; the
/// `Display` text is one line, `path:line:column: ...`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read config file {}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The file is not valid TOML, has an unknown key or a value of the wrong type, or a value
    /// is out of range.
    #[error("{at}: {}{message}", key_prefix(key.as_deref()))]
    Invalid {
        /// Where.
        at: Location,
        /// The dotted key, when known.
        key: Option<String>,
        /// What is wrong (toml's own message for syntax and type errors).
        message: String,
    },
    /// `provider = "..."` names no provider of the registry.
    #[error("{at}: `{key}`: unknown provider '{name}' (known: {})", known.join(", "))]
    UnknownProvider {
        /// Where.
        at: Location,
        /// The dotted key.
        key: String,
        /// The unknown name.
        name: String,
        /// The names the registry knows.
        known: Vec<String>,
    },
    /// `[preset.<name>]` names no preset of the registry.
    #[error("{at}: `{key}`: unknown preset '{name}' (known: {})", or_none(known))]
    UnknownPreset {
        /// Where.
        at: Location,
        /// The dotted key.
        key: String,
        /// The unknown name.
        name: String,
        /// The names the registry knows.
        known: Vec<String>,
    },
    /// The provider's (or preset's) factory refused its options or could not start.
    #[error("{at}: `{key}`: provider '{provider}': {source}")]
    Provider {
        /// Where.
        at: Location,
        /// The dotted key.
        key: String,
        /// The provider or preset name.
        provider: String,
        /// The factory's error.
        #[source]
        source: FactoryError,
    },
    /// The router refused the route (a duplicate of an earlier route or of a route registered
    /// outside the config).
    #[error("{at}: `{key}`: {source}")]
    Register {
        /// Where.
        at: Location,
        /// The dotted key.
        key: String,
        /// The router's error (boxed: it carries a whole route key).
        #[source]
        source: Box<RegisterError>,
    },
}

impl ConfigError {
    /// Where in the file the problem is (`None` for [`Io`](Self::Io)).
    pub fn location(&self) -> Option<&Location> {
        match self {
            ConfigError::Io { .. } => None,
            ConfigError::Invalid { at, .. }
            | ConfigError::UnknownProvider { at, .. }
            | ConfigError::UnknownPreset { at, .. }
            | ConfigError::Provider { at, .. }
            | ConfigError::Register { at, .. } => Some(at),
        }
    }

    /// The dotted key the problem is at, when known.
    pub fn key(&self) -> Option<&str> {
        match self {
            ConfigError::Io { .. } => None,
            ConfigError::Invalid { key, .. } => key.as_deref(),
            ConfigError::UnknownProvider { key, .. }
            | ConfigError::UnknownPreset { key, .. }
            | ConfigError::Provider { key, .. }
            | ConfigError::Register { key, .. } => Some(key),
        }
    }
}

fn key_prefix(key: Option<&str>) -> String {
    key.map(|k| format!("`{k}`: ")).unwrap_or_default()
}

fn or_none(names: &[String]) -> String {
    if names.is_empty() {
        "none".to_string()
    } else {
        names.join(", ")
    }
}
