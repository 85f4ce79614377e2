//! `switchboard.toml`: routes to providers, guest limits and WASI grants.
//!
//! ```toml
//! [guest]                     # the waPC guest run by `switchboard run`; every key optional
//! engine = "switchboard"      # or "wasmtime-provider" (for comparison only)
//! memory_limit_mib = 64       # linear memory cap
//! timeout_ms = 10000          # deadline of one invocation, host calls included
//! init_timeout_ms = 10000     # deadline of instantiation and init functions
//! instances = 4               # pool size: parallel invocations
//!
//! [guest.wasi]                # WASI preview 1 grants; nothing is granted by default
//! env = { GREETING = "hi" }
//! args = ["guest", "--verbose"]
//! dirs = [{ host = "./data", guest = "/data" }]   # read-only; host path must exist
//!
//! [[route]]
//! namespace = "example"       # required
//! operation = "echo"          # omitted: the provider serves every operation of the namespace
//! binding = "demo"            # omitted: every waPC binding
//! provider = "echo"           # a provider name from the registry (see `switchboard providers`)
//! [route.options]             # handed to the provider's factory
//!
//! [[route]]
//! namespace = "database:kv"
//! component = "kv.wasm"       # same as provider = "component" with options.path = "kv.wasm"
//!
//! [preset.tarmac]             # a preset registers a whole suite of routes; the table is
//! binding = "tarmac"          # the preset's options
//!
//! [function.reports]          # a guest function other guests may call (Tarmac's `function`
//! guest = "reports.wasm"      # capability): operation `reports` invokes its `handler`
//! ```
//!
//! Unknown keys are errors. Relative paths resolve against the config file's directory.
//! Errors name the file, line, column and dotted key:
//! ``switchboard.toml:7:1: `route[0].provder`: unknown field `provder`, expected one of ...``.
//!
//! Loading ([`Config::load`]) checks everything the file alone decides; applying
//! ([`Config::apply`]) builds the providers through a [`ProviderRegistry`] and registers the
//! routes on a [`Router`].

mod error;
mod location;
mod raw;
mod registry;

use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub use error::ConfigError;
pub use location::Location;
pub use registry::{
    FactoryContext, FactoryError, PresetFactory, ProviderFactory, ProviderRegistry,
};

use raw::{RawConfig, RawFunction, RawGuest, RawRoute};
use toml::Spanned;

use crate::wapc::{EngineKind, GuestConfig, PreopenDir};
use crate::{Conflict, Provider, RouteInfo, RouteKey, Router};

/// The provider name a `component = "..."` route stands for; the component runtime registers a
/// factory under it that reads the `path` option.
pub const COMPONENT_PROVIDER: &str = "component";

/// A parsed, checked `switchboard.toml`.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct Config {
    /// The file it came from (`None` for [`Config::default`]).
    pub path: Option<PathBuf>,
    /// The directory relative paths resolve against: the file's directory.
    pub base_dir: PathBuf,
    /// `[guest]`: how the waPC guest is run.
    pub guest: GuestSettings,
    /// `[[route]]`, in file order.
    pub routes: Vec<RouteEntry>,
    /// `[preset.<name>]`, sorted by name.
    pub presets: Vec<PresetEntry>,
    /// `[function.<name>]`, sorted by name. The config only names the guests; whoever runs
    /// guests (the CLI) compiles them and serves them as the `function` capability.
    pub functions: Vec<FunctionEntry>,
}

/// One `[function.<name>]`: a guest whose `handler` other guests may call by `name`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct FunctionEntry {
    /// The name callers use as the operation (`function:<name>`).
    pub name: String,
    /// The guest module, resolved against the config directory (not checked for existence:
    /// loading it reports a missing file).
    pub guest: PathBuf,
    /// Where the table is.
    pub at: Location,
}

/// `[guest]`. Unset values keep the guest runtime's documented defaults.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct GuestSettings {
    /// `engine`: `"switchboard"` or `"wasmtime-provider"`.
    pub engine: Option<EngineKind>,
    /// `memory_limit_mib`, converted to bytes.
    pub memory_limit_bytes: Option<usize>,
    /// `timeout_ms`: deadline of one invocation.
    pub timeout: Option<std::time::Duration>,
    /// `init_timeout_ms`: deadline of instantiation and init functions.
    pub init_timeout: Option<std::time::Duration>,
    /// `instances`: the pool size.
    pub instances: Option<usize>,
    /// `[guest.wasi]`.
    pub wasi: WasiSettings,
}

impl GuestSettings {
    /// `base` with every setting the file gives; the rest of `base` stays.
    ///
    /// ```
    /// use switchboard::config::Config;
    /// use switchboard::wapc::GuestConfig;
    /// let config = Config::parse("[guest]\ninstances = 2", "switchboard.toml").unwrap();
    /// let guest = config.guest.apply_to(GuestConfig::default().with_name("demo"));
    /// assert_eq!((guest.pool_size, guest.name.as_deref()), (2, Some("demo")));
    /// ```
    pub fn apply_to(&self, mut base: GuestConfig) -> GuestConfig {
        if let Some(engine) = self.engine {
            base.engine = engine;
        }
        if let Some(bytes) = self.memory_limit_bytes {
            base.max_memory_bytes = bytes;
        }
        if let Some(timeout) = self.timeout {
            base.invoke_timeout = timeout;
        }
        if let Some(timeout) = self.init_timeout {
            base.init_timeout = timeout;
        }
        if let Some(instances) = self.instances {
            base.pool_size = instances;
        }
        base.wasi.env.extend(self.wasi.env.iter().cloned());
        base.wasi.args.extend(self.wasi.args.iter().cloned());
        base.wasi
            .read_only_dirs
            .extend(self.wasi.dirs.iter().map(|dir| PreopenDir {
                host: dir.host.clone(),
                guest: dir.guest.clone(),
            }));
        base
    }
}

/// `[guest.wasi]`: what a WASI guest may see. Empty by default.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct WasiSettings {
    /// `env`, sorted by name.
    pub env: Vec<(String, String)>,
    /// `args`.
    pub args: Vec<String>,
    /// `dirs`, host paths resolved against the config directory.
    pub dirs: Vec<DirGrant>,
}

/// One read-only directory grant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirGrant {
    /// The host directory (resolved, known to exist when the config was loaded).
    pub host: PathBuf,
    /// Where the guest sees it.
    pub guest: String,
}

/// One `[[route]]`.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct RouteEntry {
    /// The route key (binding scope, namespace, operation or all).
    pub key: RouteKey,
    /// The provider name (`component` for `component = "..."` routes).
    pub provider: String,
    /// `[route.options]` (for component routes, with `path` added).
    pub options: toml::Table,
    /// Where the `[[route]]` is.
    pub at: Location,
    /// Index among the routes (for keys like `route[2]`).
    pub index: usize,
    provider_at: Location,
}

/// One `[preset.<name>]`.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct PresetEntry {
    /// The preset name.
    pub name: String,
    /// The preset's table.
    pub options: toml::Table,
    /// Where the table is.
    pub at: Location,
}

/// `memory_limit_mib` above this cannot be honoured by a 32-bit linear memory.
const MAX_MEMORY_MIB: u64 = 4096;

impl Config {
    /// Read and check a config file.
    pub fn load(path: impl AsRef<Path>) -> Result<Config, ConfigError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Config::parse(&text, path)
    }

    /// Check config text; `path` names it in errors and its directory is the base of relative
    /// paths (the file itself is not read).
    pub fn parse(text: &str, path: impl AsRef<Path>) -> Result<Config, ConfigError> {
        let path = path.as_ref();
        let raw: RawConfig = toml::from_str(text).map_err(|err| {
            let offset = err.span().map(|s| s.start);
            ConfigError::Invalid {
                at: offset.map_or_else(
                    || Location::file(path),
                    |o| Location::at_offset(path, text, o),
                ),
                key: offset.and_then(|o| location::key_path_at(text, o)),
                message: err.message().to_string(),
            }
        })?;
        let base_dir = match path.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let checker = Checker { path, text };
        Ok(Config {
            path: Some(path.to_path_buf()),
            guest: checker.guest(raw.guest, &base_dir)?,
            routes: raw
                .route
                .into_iter()
                .enumerate()
                .map(|(index, route)| checker.route(index, route))
                .collect::<Result<_, _>>()?,
            presets: raw
                .preset
                .into_iter()
                .map(|(name, options)| PresetEntry {
                    at: checker.table_at(&["preset", &name]),
                    name,
                    options,
                })
                .collect(),
            functions: raw
                .function
                .into_iter()
                .map(|(name, function)| checker.function(name, function, &base_dir))
                .collect::<Result<_, _>>()?,
            base_dir,
        })
    }

    /// Build every provider and preset through `registry`, then register all routes on
    /// `router`. Nothing is registered unless everything builds; if the router refuses a route
    /// (a duplicate), the routes this call added are removed again. Returns the registered
    /// routes, config routes first (file order), then preset routes.
    pub fn apply(
        &self,
        router: &Router,
        registry: &ProviderRegistry,
    ) -> Result<Vec<RouteInfo>, ConfigError> {
        let built = self.build(registry)?;
        let mut registered: Vec<RouteInfo> = Vec::with_capacity(built.len());
        for route in built {
            let info = RouteInfo {
                key: route.key.clone(),
                provider: route.provider.describe(),
            };
            if let Err(source) = router.register_key(route.key, route.provider, Conflict::Reject) {
                for info in &registered {
                    router.unregister(&info.key);
                }
                return Err(ConfigError::Register {
                    at: route.at,
                    key: route.config_key,
                    source: Box::new(source),
                });
            }
            registered.push(info);
        }
        Ok(registered)
    }

    /// Every provider of the routes and presets, built but not registered.
    fn build(&self, registry: &ProviderRegistry) -> Result<Vec<BuiltRoute>, ConfigError> {
        let mut built = Vec::new();
        for route in &self.routes {
            let config_key = format!("route[{}]", route.index);
            let factory =
                registry
                    .provider(&route.provider)
                    .ok_or_else(|| ConfigError::UnknownProvider {
                        at: route.provider_at.clone(),
                        key: format!("{config_key}.provider"),
                        name: route.provider.clone(),
                        known: registry.provider_names().map(str::to_string).collect(),
                    })?;
            let ctx = FactoryContext::new(&route.provider, &route.options, &self.base_dir)
                .with_route(&route.key);
            let provider = factory(&ctx).map_err(|source| ConfigError::Provider {
                at: route.at.clone(),
                key: config_key.clone(),
                provider: route.provider.clone(),
                source,
            })?;
            built.push(BuiltRoute {
                key: route.key.clone(),
                provider,
                at: route.at.clone(),
                config_key,
            });
        }
        for preset in &self.presets {
            let config_key = format!("preset.{}", preset.name);
            let factory =
                registry
                    .preset(&preset.name)
                    .ok_or_else(|| ConfigError::UnknownPreset {
                        at: preset.at.clone(),
                        key: config_key.clone(),
                        name: preset.name.clone(),
                        known: registry.preset_names().map(str::to_string).collect(),
                    })?;
            let ctx = FactoryContext::new(&preset.name, &preset.options, &self.base_dir);
            let routes = factory(&ctx).map_err(|source| ConfigError::Provider {
                at: preset.at.clone(),
                key: config_key.clone(),
                provider: preset.name.clone(),
                source,
            })?;
            built.extend(routes.into_iter().map(|(key, provider)| BuiltRoute {
                key,
                provider,
                at: preset.at.clone(),
                config_key: config_key.clone(),
            }));
        }
        Ok(built)
    }
}

/// A provider built from the config, with where it came from for error messages.
struct BuiltRoute {
    key: RouteKey,
    provider: Arc<dyn Provider>,
    at: Location,
    config_key: String,
}

/// Turns spans into locations and raw sections into checked ones.
struct Checker<'a> {
    path: &'a Path,
    text: &'a str,
}

impl Checker<'_> {
    fn at(&self, span: &Range<usize>) -> Location {
        Location::at_offset(self.path, self.text, span.start)
    }

    /// Where the table at `keys` starts: its header, or for a table only implied by sub-tables
    /// (`[preset.tarmac.kvstore]` alone), its first entry; the file when neither is known.
    fn table_at(&self, keys: &[&str]) -> Location {
        location::table_offset(self.text, keys).map_or_else(
            || Location::file(self.path),
            |offset| Location::at_offset(self.path, self.text, offset),
        )
    }

    fn invalid(
        &self,
        span: &Range<usize>,
        key: impl Into<String>,
        message: impl Into<String>,
    ) -> ConfigError {
        ConfigError::Invalid {
            at: self.at(span),
            key: Some(key.into()),
            message: message.into(),
        }
    }

    fn positive(&self, value: &Spanned<u64>, key: &str) -> Result<u64, ConfigError> {
        match *value.get_ref() {
            0 => Err(self.invalid(&value.span(), key, "must be greater than 0")),
            n => Ok(n),
        }
    }

    fn guest(&self, raw: RawGuest, base_dir: &Path) -> Result<GuestSettings, ConfigError> {
        let mut guest = GuestSettings::default();
        if let Some(mib) = &raw.memory_limit_mib {
            let n = self.positive(mib, "guest.memory_limit_mib")?;
            if n > MAX_MEMORY_MIB {
                return Err(self.invalid(
                    &mib.span(),
                    "guest.memory_limit_mib",
                    format!("must be at most {MAX_MEMORY_MIB} (4 GiB, the wasm32 maximum)"),
                ));
            }
            guest.memory_limit_bytes = usize::try_from(n << 20).ok();
        }
        if let Some(ms) = &raw.timeout_ms {
            let n = self.positive(ms, "guest.timeout_ms")?;
            guest.timeout = Some(std::time::Duration::from_millis(n));
        }
        if let Some(ms) = &raw.init_timeout_ms {
            let n = self.positive(ms, "guest.init_timeout_ms")?;
            guest.init_timeout = Some(std::time::Duration::from_millis(n));
        }
        if let Some(count) = &raw.instances {
            let n = self.positive(count, "guest.instances")?;
            guest.instances = Some(usize::try_from(n).unwrap_or(usize::MAX));
        }
        if let Some(engine) = &raw.engine {
            guest.engine = Some(match engine.get_ref().as_str() {
                "switchboard" => EngineKind::Switchboard,
                #[cfg(feature = "wasmtime-provider")]
                "wasmtime-provider" => EngineKind::WasmtimeProvider,
                other => {
                    return Err(self.invalid(
                        &engine.span(),
                        "guest.engine",
                        format!("unknown engine '{other}' (known: switchboard, wasmtime-provider)"),
                    ))
                }
            });
        }

        if let Some(env) = raw.wasi.env {
            let span = env.span();
            for (name, value) in env.into_inner() {
                if name.is_empty()
                    || name.contains('=')
                    || name.contains('\0')
                    || value.contains('\0')
                {
                    return Err(self.invalid(
                        &span,
                        format!("guest.wasi.env.{name}"),
                        "environment variable names must be non-empty without `=` or NUL, values without NUL",
                    ));
                }
                guest.wasi.env.push((name, value));
            }
        }
        guest.wasi.args = raw.wasi.args;
        for (index, dir) in raw.wasi.dirs.into_iter().enumerate() {
            let host = base_dir.join(dir.host.get_ref());
            if !host.is_dir() {
                return Err(self.invalid(
                    &dir.host.span(),
                    format!("guest.wasi.dirs[{index}].host"),
                    format!("directory {} does not exist", host.display()),
                ));
            }
            if !dir.guest.get_ref().starts_with('/') {
                return Err(self.invalid(
                    &dir.guest.span(),
                    format!("guest.wasi.dirs[{index}].guest"),
                    "the guest path must be absolute (e.g. \"/data\")",
                ));
            }
            guest.wasi.dirs.push(DirGrant {
                host,
                guest: dir.guest.into_inner(),
            });
        }
        Ok(guest)
    }

    fn function(
        &self,
        name: String,
        raw: RawFunction,
        base_dir: &Path,
    ) -> Result<FunctionEntry, ConfigError> {
        let at = self.table_at(&["function", &name]);
        if name.is_empty() {
            return Err(ConfigError::Invalid {
                at,
                key: Some("function".to_string()),
                message: "a function name must not be empty".to_string(),
            });
        }
        if raw.guest.get_ref().is_empty() {
            return Err(self.invalid(
                &raw.guest.span(),
                format!("function.{name}.guest"),
                "must not be empty",
            ));
        }
        Ok(FunctionEntry {
            guest: base_dir.join(raw.guest.get_ref()),
            name,
            at,
        })
    }

    fn route(&self, index: usize, raw: Spanned<RawRoute>) -> Result<RouteEntry, ConfigError> {
        let at = self.at(&raw.span());
        let raw = raw.into_inner();
        let name = |field: &str| format!("route[{index}].{field}");
        let non_empty = |value: &Spanned<String>, field: &str, hint: &str| {
            if value.get_ref().is_empty() {
                Err(self.invalid(
                    &value.span(),
                    name(field),
                    format!("must not be empty{hint}"),
                ))
            } else {
                Ok(value.get_ref().clone())
            }
        };

        let namespace = non_empty(&raw.namespace, "namespace", "")?;
        let mut key = match &raw.operation {
            Some(op) => RouteKey::exact(
                namespace,
                non_empty(op, "operation", " (omit it to serve every operation)")?,
            ),
            None => RouteKey::namespace(namespace),
        };
        if let Some(binding) = &raw.binding {
            key = key.with_binding(non_empty(
                binding,
                "binding",
                " (omit it to match every binding)",
            )?);
        }

        let mut options = raw.options.unwrap_or_default();
        let (provider, provider_at) = match (raw.provider, raw.component) {
            (Some(provider), None) => {
                let name_ = non_empty(&provider, "provider", "")?;
                (name_, self.at(&provider.span()))
            }
            (None, Some(component)) => {
                let path = non_empty(&component, "component", "")?;
                if options.contains_key("path") {
                    return Err(self.invalid(
                        &component.span(),
                        name("options.path"),
                        "give the component's path once: `component = ...` or `options.path`",
                    ));
                }
                options.insert("path".to_string(), toml::Value::String(path));
                (COMPONENT_PROVIDER.to_string(), self.at(&component.span()))
            }
            (Some(provider), Some(_)) => {
                return Err(self.invalid(
                    &provider.span(),
                    name("provider"),
                    "a route has either `provider` or `component`, not both",
                ))
            }
            (None, None) => {
                return Err(ConfigError::Invalid {
                    at,
                    key: Some(format!("route[{index}]")),
                    message:
                        "a route needs `provider = \"<name>\"` or `component = \"<file>.wasm\"`"
                            .to_string(),
                })
            }
        };
        Ok(RouteEntry {
            key,
            provider,
            options,
            at,
            index,
            provider_at,
        })
    }
}

#[cfg(test)]
mod tests;
