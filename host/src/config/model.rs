//! What a checked `switchboard.toml` says: the types [`Config::parse`](super::Config::parse)
//! produces and factories read through their [`FactoryContext`](super::FactoryContext).

use std::path::PathBuf;
use std::time::Duration;

use super::Location;
use crate::wapc::{EngineKind, GuestConfig, PreopenDir};
use crate::RouteKey;

/// The provider name a `component = "..."` route stands for; the component runtime registers a
/// factory under it that reads the `path` option. The config core knows this one name only
/// because it expands the `component = ...` shorthand; it never builds a component itself.
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
    /// `[function.<name>]`, sorted by name. The config only names the guests; the functions
    /// factory of the [`ProviderRegistry`](super::ProviderRegistry) compiles and serves them.
    pub functions: Vec<FunctionEntry>,
}

impl Config {
    /// The table of `[preset.<name>]`, if the file has one.
    pub fn preset(&self, name: &str) -> Option<&PresetEntry> {
        self.presets.iter().find(|preset| preset.name == name)
    }
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
    /// `engine`.
    pub engine: Option<EngineKind>,
    /// `max_memory_mib` (alias `memory_limit_mib`), converted to bytes.
    pub max_memory_bytes: Option<usize>,
    /// `max_table_elements`: cap on every table of the guest.
    pub max_table_elements: Option<usize>,
    /// `timeout_ms`: deadline of one invocation.
    pub timeout: Option<Duration>,
    /// `init_timeout_ms`: deadline of instantiation and init functions.
    pub init_timeout: Option<Duration>,
    /// `pool_max` (alias `instances`): most instances, i.e. parallel invocations.
    pub pool_max: Option<usize>,
    /// `[guest.grants]` (alias `[guest.wasi]`).
    pub grants: GrantSettings,
}

impl GuestSettings {
    /// `base` with every setting the file gives; the rest of `base` stays.
    ///
    /// ```
    /// use switchboard::config::Config;
    /// use switchboard::wapc::GuestConfig;
    /// let config = Config::parse("[guest]\npool_max = 2", "switchboard.toml").unwrap();
    /// let guest = config.guest.apply_to(GuestConfig::default().with_name("demo"));
    /// assert_eq!((guest.pool_size, guest.name.as_deref()), (2, Some("demo")));
    /// ```
    pub fn apply_to(&self, mut base: GuestConfig) -> GuestConfig {
        if let Some(engine) = self.engine {
            base.engine = engine;
        }
        if let Some(bytes) = self.max_memory_bytes {
            base.max_memory_bytes = bytes;
        }
        if let Some(elements) = self.max_table_elements {
            base.max_table_elements = elements;
        }
        if let Some(timeout) = self.timeout {
            base.invoke_timeout = timeout;
        }
        if let Some(timeout) = self.init_timeout {
            base.init_timeout = timeout;
        }
        if let Some(pool_max) = self.pool_max {
            base.pool_size = pool_max;
        }
        base.wasi.env.extend(self.grants.env.iter().cloned());
        base.wasi.args.extend(self.grants.args.iter().cloned());
        base.wasi
            .read_only_dirs
            .extend(self.grants.dirs.iter().map(|dir| PreopenDir {
                host: dir.host.clone(),
                guest: dir.guest.clone(),
            }));
        base
    }
}

/// `[guest.grants]`: what a WASI guest may see. Empty by default.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct GrantSettings {
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
    /// The provider name ([`COMPONENT_PROVIDER`] for `component = "..."` routes).
    pub provider: String,
    /// `[route.options]` (for component routes, with `path` added).
    pub options: toml::Table,
    /// Where the `[[route]]` is.
    pub at: Location,
    /// Index among the routes (for keys like `route[2]`).
    pub index: usize,
    /// Where the provider name (or the component path) is.
    pub(super) provider_at: Location,
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
