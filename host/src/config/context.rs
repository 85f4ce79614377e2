//! What a factory gets to build its providers from: [`FactoryContext`], and how it says it
//! could not: [`FactoryError`].

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::de::DeserializeOwned;

use super::model::{Config, FunctionEntry, GrantSettings, GuestSettings, PresetEntry};
use crate::{Provider, RouteKey, Router};

/// Why a factory could not build a provider from its options.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FactoryError {
    /// The options are wrong: unknown key, wrong type, value out of range. The message says
    /// which.
    #[error("invalid options: {0}")]
    InvalidOptions(String),
    /// The options are fine but the provider could not start (a file, a server, a module).
    #[error(transparent)]
    Other(Box<dyn std::error::Error + Send + Sync + 'static>),
}

impl FactoryError {
    /// An [`Other`](Self::Other) failure from any error or message.
    pub fn other(error: impl Into<Box<dyn std::error::Error + Send + Sync + 'static>>) -> Self {
        FactoryError::Other(error.into())
    }
}

/// Builds the provider of one `[[route]]` from its `[route.options]`.
pub type ProviderFactory =
    dyn Fn(&FactoryContext<'_>) -> Result<Arc<dyn Provider>, FactoryError> + Send + Sync;

/// The routes a preset or functions factory builds: keys and their providers, in
/// registration order.
pub type BuiltRoutes = Vec<(RouteKey, Arc<dyn Provider>)>;

/// Builds a set of routes from one context: every route of a `[preset.<name>]` (e.g. the
/// Tarmac suite under binding `tarmac`) from the preset's table, or the route serving the
/// config's `[function.<name>]` guests.
pub type PresetFactory =
    dyn Fn(&FactoryContext<'_>) -> Result<BuiltRoutes, FactoryError> + Send + Sync;

/// `[guest]` of a context built without a config: nothing set.
static NO_GUEST: GuestSettings = GuestSettings {
    engine: None,
    max_memory_bytes: None,
    max_table_elements: None,
    timeout: None,
    init_timeout: None,
    pool_max: None,
    grants: GrantSettings {
        env: Vec::new(),
        args: Vec::new(),
        dirs: Vec::new(),
    },
};

/// What a factory gets: the name it was registered under, its options, the directory relative
/// paths resolve against, and, when it is built by [`Config::apply_with`], the route being
/// built, the whole config (guest settings, functions, presets), the apply step's settings
/// ([`data_dir`](Self::data_dir)) and the router the routes will serve.
#[derive(Debug, Clone, Copy)]
pub struct FactoryContext<'a> {
    name: &'a str,
    options: &'a toml::Table,
    base_dir: &'a Path,
    route: Option<&'a RouteKey>,
    data_dir: Option<&'a Path>,
    config: Option<&'a Config>,
    router: Option<&'a Router>,
}

impl<'a> FactoryContext<'a> {
    /// A context for building `name` with `options`; relative paths resolve against
    /// `base_dir` (the config file's directory). Nothing else is known until the `with_*`
    /// methods add it.
    pub fn new(name: &'a str, options: &'a toml::Table, base_dir: &'a Path) -> Self {
        FactoryContext {
            name,
            options,
            base_dir,
            route: None,
            data_dir: None,
            config: None,
            router: None,
        }
    }

    /// The same context, for building the provider of `route`.
    pub fn with_route(mut self, route: &'a RouteKey) -> Self {
        self.route = Some(route);
        self
    }

    /// The same context, with the directory of embedded stores overridden (see
    /// [`ApplyOptions::data_dir`](super::ApplyOptions::data_dir)).
    pub fn with_data_dir(mut self, dir: &'a Path) -> Self {
        self.data_dir = Some(dir);
        self
    }

    /// The same context, seeing the whole config being applied.
    pub fn with_config(mut self, config: &'a Config) -> Self {
        self.config = Some(config);
        self
    }

    /// The same context, with the router the built routes will be registered on.
    pub fn with_router(mut self, router: &'a Router) -> Self {
        self.router = Some(router);
        self
    }

    /// The provider or preset name from the config.
    pub fn name(&self) -> &'a str {
        self.name
    }

    /// The raw options table (empty when the config has none).
    pub fn options(&self) -> &'a toml::Table {
        self.options
    }

    /// The options as a typed struct; use `#[serde(deny_unknown_fields)]` on it so a misspelt
    /// option is an error rather than silently ignored.
    ///
    /// ```
    /// # use switchboard::config::FactoryContext;
    /// #[derive(serde::Deserialize)]
    /// #[serde(deny_unknown_fields)]
    /// struct Options { message: String }
    ///
    /// let table: toml::Table = toml::from_str(r#"message = "hi""#).unwrap();
    /// let ctx = FactoryContext::new("fail", &table, std::path::Path::new("."));
    /// assert_eq!(ctx.parse_options::<Options>().unwrap().message, "hi");
    /// ```
    ///
    /// # Errors
    ///
    /// [`FactoryError::InvalidOptions`] with toml's message (unknown field, wrong type,
    /// missing field).
    pub fn parse_options<T: DeserializeOwned>(&self) -> Result<T, FactoryError> {
        toml::Value::Table(self.options.clone())
            .try_into()
            .map_err(|e: toml::de::Error| FactoryError::InvalidOptions(e.message().to_string()))
    }

    /// The directory relative paths in the config resolve against.
    pub fn base_dir(&self) -> &'a Path {
        self.base_dir
    }

    /// `path` resolved against the config file's directory (absolute paths stay as they are).
    pub fn resolve(&self, path: impl AsRef<Path>) -> PathBuf {
        self.base_dir.join(path)
    }

    /// The route being built; `None` for a preset.
    pub fn route(&self) -> Option<&'a RouteKey> {
        self.route
    }

    /// The directory of embedded stores the apply step imposes (`switchboard run
    /// --data-dir`), if any. Factories with embedded stores put their default files there
    /// instead of their own `data_dir` option; an explicit per-store file still wins. A
    /// relative path resolves against [`base_dir`](Self::base_dir) like every other path.
    pub fn data_dir(&self) -> Option<&'a Path> {
        self.data_dir
    }

    /// `[guest]` of the config being applied (all unset without a config).
    pub fn guest(&self) -> &'a GuestSettings {
        self.config.map_or(&NO_GUEST, |config| &config.guest)
    }

    /// `[function.<name>]` of the config being applied, sorted by name (empty without a
    /// config).
    pub fn functions(&self) -> &'a [FunctionEntry] {
        self.config
            .map_or(&[], |config| config.functions.as_slice())
    }

    /// `[preset.<name>]` of the config being applied, if it has one: lets one capability
    /// follow another's settings (guest functions serve under the Tarmac preset's binding).
    pub fn preset(&self, name: &str) -> Option<&'a PresetEntry> {
        self.config.and_then(|config| config.preset(name))
    }

    /// The router the built routes will be registered on: for providers that call back into
    /// it (a guest function's own host calls). `None` when built outside an apply step.
    pub fn router(&self) -> Option<&'a Router> {
        self.router
    }
}
