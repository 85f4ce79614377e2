//! Every provider name the CLI knows, and how a loaded config becomes a router.

use std::path::{Path, PathBuf};

use anyhow::Context;
use switchboard::component::{register_lazy_factory, EngineOptions};
use switchboard::config::{Config, ProviderRegistry};
use switchboard::wapc::{GuestConfig, GuestModule};
use switchboard::{RouteInfo, RouteKey, Router};
use switchboard_providers::function::{Functions, DEFAULT_MAX_DEPTH as FUNCTION_DEPTH};
use switchboard_providers::metrics::Metrics;
use switchboard_providers::tarmac::DEFAULT_BINDING;

use crate::args::StoreArgs;

/// The built-in providers, the Tarmac suite (preset `tarmac`, providers `kvstore`, `sql`,
/// `httpclient`, `logger`, `metrics`; the `metrics` capability writes to `metrics`) and
/// `component = "x.wasm"` routes, compiled once and cached on disk (see [`cache_root`]).
pub fn full(metrics: &Metrics) -> ProviderRegistry {
    let mut registry = ProviderRegistry::with_builtins();
    switchboard_providers::register_factories(&mut registry, metrics);
    let mut engine = EngineOptions::default();
    if let Some(root) = cache_root() {
        engine = engine.with_cache_dir(root.join("components"));
    }
    register_lazy_factory(&mut registry, engine);
    registry
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

/// The guest settings of `config` on top of the defaults, with the module cache.
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

/// Load the config (or the empty default) and apply the command-line store options to it.
pub fn load(path: Option<&Path>, stores: &StoreArgs) -> anyhow::Result<Config> {
    let mut config = match path {
        Some(path) => Config::load(path)?,
        None => Config::default(),
    };
    if let Some(dir) = &stores.data_dir {
        set_data_dir(&mut config, dir)?;
    }
    Ok(config)
}

/// `--data-dir`: the directory of the embedded stores of `[preset.tarmac]` and of `kvstore` /
/// `sql` routes, replacing their `data_dir` option (an explicit per-store `path` or a nested
/// `data_dir` in `[preset.tarmac.kvstore]` still wins). Relative to the working directory, as
/// command-line paths are.
fn set_data_dir(config: &mut Config, dir: &Path) -> anyhow::Result<()> {
    let dir = std::path::absolute(dir)
        .with_context(|| format!("cannot resolve --data-dir {}", dir.display()))?;
    let value = toml::Value::String(dir.to_string_lossy().into_owned());
    for preset in config.presets.iter_mut().filter(|p| p.name == "tarmac") {
        preset.options.insert("data_dir".to_string(), value.clone());
    }
    for route in config
        .routes
        .iter_mut()
        .filter(|r| r.provider == "kvstore" || r.provider == "sql")
    {
        route.options.insert("data_dir".to_string(), value.clone());
    }
    Ok(())
}

/// Register the config's routes, presets and `[function.<name>]` guests on `router`.
///
/// Functions are compiled with the config's `[guest]` settings (one instance each) and served
/// as namespace `function` under the binding of `[preset.tarmac]` (`tarmac` unless the preset
/// says otherwise; `*` for every binding). Only the listed names are callable, and nesting is
/// bounded by the `function` provider and by the router.
pub fn apply(
    config: &Config,
    router: &Router,
    metrics: &Metrics,
) -> anyhow::Result<Vec<RouteInfo>> {
    let mut routes = config.apply(router, &full(metrics))?;
    if config.functions.is_empty() {
        return Ok(routes);
    }
    let mut functions = Functions::new();
    for entry in &config.functions {
        let mut guest_config =
            guest_config(config, GuestConfig::default().with_name(entry.name.clone()));
        // A function may call itself (directly or through others) up to the depth bound; each
        // level needs its own instance, or the nested call would wait for the pool until the
        // deadline. Instances are created on demand, so this costs nothing unless used.
        guest_config.pool_size = guest_config.pool_size.max(FUNCTION_DEPTH as usize + 1);
        let runtime = GuestModule::from_file(&entry.guest, guest_config)
            .and_then(|module| module.runtime(router))
            .with_context(|| format!("{}: function '{}'", entry.at, entry.name))?;
        functions = functions.with(entry.name.clone(), runtime);
    }
    let functions = functions.max_depth(FUNCTION_DEPTH);
    let key = function_key(config);
    let info = RouteInfo {
        key: key.clone(),
        provider: switchboard::Provider::describe(&functions),
    };
    router
        .register_key(key, functions, switchboard::Conflict::Reject)
        .context("cannot register the `function` capability")?;
    routes.push(info);
    Ok(routes)
}

/// `function:*` under the Tarmac preset's binding.
fn function_key(config: &Config) -> RouteKey {
    let binding = config
        .presets
        .iter()
        .find(|p| p.name == "tarmac")
        .and_then(|p| p.options.get("binding"))
        .and_then(toml::Value::as_str)
        .unwrap_or(DEFAULT_BINDING);
    let key = RouteKey::namespace("function");
    if binding == "*" {
        key
    } else {
        key.with_binding(binding)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Config {
        match Config::parse(text, "/etc/sb/switchboard.toml") {
            Ok(config) => config,
            Err(err) => panic!("config: {err}"),
        }
    }

    #[test]
    fn functions_follow_the_tarmac_binding() {
        let key = |text: &str| function_key(&parse(text)).to_string();
        assert_eq!(key(""), "tarmac/function:*");
        assert_eq!(
            key("[preset.tarmac]\nbinding = \"default\"\n"),
            "default/function:*"
        );
        assert_eq!(key("[preset.tarmac]\nbinding = \"*\"\n"), "*/function:*");
    }

    #[test]
    fn data_dir_replaces_the_stores_directory_only() {
        let mut config = parse(
            "[preset.tarmac]\ndata_dir = \"old\"\n\n[[route]]\nnamespace = \"kv2\"\n\
             provider = \"kvstore\"\n\n[[route]]\nnamespace = \"e\"\nprovider = \"echo\"\n",
        );
        let stores = StoreArgs {
            data_dir: Some("/srv/data".into()),
        };
        if let Err(err) = set_data_dir(
            &mut config,
            stores.data_dir.as_deref().unwrap_or(Path::new("")),
        ) {
            panic!("{err}");
        }
        let data_dir = |options: &toml::Table| {
            options
                .get("data_dir")
                .and_then(toml::Value::as_str)
                .map(str::to_string)
        };
        assert_eq!(
            data_dir(&config.presets[0].options).as_deref(),
            Some("/srv/data")
        );
        assert_eq!(
            data_dir(&config.routes[0].options).as_deref(),
            Some("/srv/data")
        );
        assert_eq!(data_dir(&config.routes[1].options), None);
    }
}
