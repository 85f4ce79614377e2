//! The composition root: the capabilities the command offers, and the settings the command
//! line adds to an apply step. No provider is named here; each capability knows its own.

use std::path::{Path, PathBuf};

use anyhow::Context;
use switchboard::builtin::Builtins;
use switchboard::component::{EngineOptions, LazyComponents};
use switchboard::config::{ApplyOptions, Config, ProviderRegistry};
use switchboard::wapc::GuestConfig;
use switchboard::{RouteInfo, Router};
use switchboard_providers::metrics::Metrics;
use switchboard_providers::{FunctionGuests, Tarmac};

use crate::args::StoreArgs;

/// The built-in providers, `component = "x.wasm"` routes, the Tarmac suite (its `metrics`
/// capability writes to `metrics`) and `[function.<name>]` guests; components and guests are
/// compiled once and cached on disk (see [`cache_root`]).
pub fn full(metrics: &Metrics) -> ProviderRegistry {
    let mut components = EngineOptions::default();
    let mut functions = GuestConfig::default();
    if let Some(root) = cache_root() {
        components = components.with_cache_dir(root.join("components"));
        functions = functions.with_cache_dir(root.join("modules"));
    }
    ProviderRegistry::new()
        .with(&Builtins)
        .with(&LazyComponents::new(components))
        .with(&Tarmac::new(metrics.clone()))
        .with(&FunctionGuests::new(functions))
}

/// Where compiled wasm is cached (guest modules in `modules/`, components in `components/`):
/// `$SWITCHBOARD_CACHE_DIR`, else `$XDG_CACHE_HOME/switchboard`, else `~/.cache/switchboard`.
/// Compiling is seconds for a guest on every `run` (and for a Python or JavaScript component);
/// loading a cached artifact is milliseconds.
pub fn cache_root() -> Option<PathBuf> {
    let var = |name: &str| {
        std::env::var_os(name)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    var("SWITCHBOARD_CACHE_DIR")
        .or_else(|| var("XDG_CACHE_HOME").map(|d| d.join("switchboard")))
        .or_else(|| var("HOME").map(|d| d.join(".cache/switchboard")))
}

/// The guest settings of `config` on top of `base`, with the module cache.
pub fn guest_config(config: &Config, base: GuestConfig) -> GuestConfig {
    let guest = config.guest.apply_to(base);
    match cache_root() {
        Some(root) => guest.with_cache_dir(root.join("modules")),
        None => guest,
    }
}

/// A router whose every call is counted and timed in `metrics` (`wasm_callbacks`).
pub fn router(metrics: &Metrics) -> Router {
    Router::builder().post(metrics.observer()).build()
}

/// Load the config, or the empty default without one.
pub fn load(path: Option<&Path>) -> anyhow::Result<Config> {
    Ok(match path {
        Some(path) => Config::load(path)?,
        None => Config::default(),
    })
}

/// Register the config's routes, presets and functions on `router`, with the command line's
/// store directory.
pub fn apply(
    config: &Config,
    router: &Router,
    metrics: &Metrics,
    stores: &StoreArgs,
) -> anyhow::Result<Vec<RouteInfo>> {
    let options = apply_options(stores)?;
    Ok(config.apply_with(router, &full(metrics), &options)?)
}

/// `--data-dir` is relative to the working directory, as command-line paths are.
fn apply_options(stores: &StoreArgs) -> anyhow::Result<ApplyOptions> {
    let mut options = ApplyOptions::new();
    if let Some(dir) = &stores.data_dir {
        let dir = std::path::absolute(dir)
            .with_context(|| format!("cannot resolve --data-dir {}", dir.display()))?;
        options = options.with_data_dir(dir);
    }
    Ok(options)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_dir_is_made_absolute_against_the_working_directory() {
        let stores = StoreArgs {
            data_dir: Some("state".into()),
        };
        let options = apply_options(&stores).unwrap_or_else(|err| panic!("{err}"));
        let cwd = std::env::current_dir().expect("a working directory");
        assert_eq!(options.data_dir, Some(cwd.join("state")));
        let none =
            apply_options(&StoreArgs { data_dir: None }).unwrap_or_else(|err| panic!("{err}"));
        assert_eq!(none.data_dir, None);
    }
}
