//! Config tests by topic: checking the file, `[guest]`, applying.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use super::*;
use crate::builtin::{Builtins, Echo};
use crate::wapc::{EngineKind, GuestConfig, PreopenDir};
use crate::{CallContext, CallError, Provider, RegisterError, RouteKey, Router};

const PATH: &str = "conf/switchboard.toml";

fn parse(text: &str) -> Result<Config, ConfigError> {
    Config::parse(text, PATH)
}

fn invalid(text: &str) -> (usize, usize, Option<String>, String) {
    match parse(text) {
        Err(ConfigError::Invalid { at, key, message }) => {
            assert_eq!(at.path, Path::new(PATH));
            (at.line, at.column, key, message)
        }
        other => panic!("expected ConfigError::Invalid, got {other:?}"),
    }
}

/// The registry of the library's own capabilities.
fn builtins() -> ProviderRegistry {
    ProviderRegistry::new().with(&Builtins)
}

mod apply;
mod guest;
mod parse;
