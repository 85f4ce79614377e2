//! Provider names used in `switchboard.toml`, mapped to factories that build providers from a
//! route's options. Crates outside `switchboard` (the Tarmac suite, the component runtime) add
//! their own names here.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::de::DeserializeOwned;

use crate::{Provider, RouteKey};

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

/// Builds every route of a `[preset.<name>]` (e.g. the Tarmac suite under binding `tarmac`)
/// from the preset's table.
pub type PresetFactory = dyn Fn(&FactoryContext<'_>) -> Result<Vec<(RouteKey, Arc<dyn Provider>)>, FactoryError>
    + Send
    + Sync;

/// What a factory gets: the name it was registered under, its options, the directory relative
/// paths resolve against, and (for routes) the route being built.
#[derive(Debug, Clone, Copy)]
pub struct FactoryContext<'a> {
    name: &'a str,
    options: &'a toml::Table,
    base_dir: &'a Path,
    route: Option<&'a RouteKey>,
}

impl<'a> FactoryContext<'a> {
    /// A context for building `name` with `options`; relative paths resolve against
    /// `base_dir` (the config file's directory).
    pub fn new(name: &'a str, options: &'a toml::Table, base_dir: &'a Path) -> Self {
        FactoryContext {
            name,
            options,
            base_dir,
            route: None,
        }
    }

    /// The same context, for building the provider of `route`.
    pub fn with_route(mut self, route: &'a RouteKey) -> Self {
        self.route = Some(route);
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
}

/// Named provider and preset factories: what `provider = "..."` and `[preset.<name>]` in
/// `switchboard.toml` may refer to.
///
/// ```
/// use std::sync::Arc;
/// use switchboard::config::ProviderRegistry;
/// use switchboard::{Provider, ProviderError, Request};
///
/// struct Hello;
/// impl Provider for Hello {
///     fn call(&self, _req: &Request<'_>) -> Result<Vec<u8>, ProviderError> {
///         Ok(b"hello".to_vec())
///     }
/// }
///
/// let mut registry = ProviderRegistry::with_builtins();
/// registry.register_provider("hello", |_ctx| Ok(Arc::new(Hello) as Arc<dyn Provider>));
/// assert!(registry.has_provider("hello") && registry.has_provider("echo"));
/// ```
#[derive(Clone, Default)]
pub struct ProviderRegistry {
    providers: BTreeMap<String, Arc<ProviderFactory>>,
    presets: BTreeMap<String, Arc<PresetFactory>>,
}

impl fmt::Debug for ProviderRegistry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProviderRegistry")
            .field("providers", &self.providers.keys().collect::<Vec<_>>())
            .field("presets", &self.presets.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl ProviderRegistry {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    /// A registry with the built-in providers of [`crate::builtin`].
    pub fn with_builtins() -> Self {
        let mut registry = Self::new();
        crate::builtin::register_builtins(&mut registry);
        registry
    }

    /// Make `provider = "<name>"` build its provider with `factory`. A later registration of
    /// the same name replaces the earlier one.
    pub fn register_provider<F>(&mut self, name: impl Into<String>, factory: F) -> &mut Self
    where
        F: Fn(&FactoryContext<'_>) -> Result<Arc<dyn Provider>, FactoryError>
            + Send
            + Sync
            + 'static,
    {
        self.providers.insert(name.into(), Arc::new(factory));
        self
    }

    /// Make `[preset.<name>]` build its routes with `factory`. A later registration of the same
    /// name replaces the earlier one.
    pub fn register_preset<F>(&mut self, name: impl Into<String>, factory: F) -> &mut Self
    where
        F: Fn(&FactoryContext<'_>) -> Result<Vec<(RouteKey, Arc<dyn Provider>)>, FactoryError>
            + Send
            + Sync
            + 'static,
    {
        self.presets.insert(name.into(), Arc::new(factory));
        self
    }

    /// Whether `provider = "<name>"` is known.
    pub fn has_provider(&self, name: &str) -> bool {
        self.providers.contains_key(name)
    }

    /// Whether `[preset.<name>]` is known.
    pub fn has_preset(&self, name: &str) -> bool {
        self.presets.contains_key(name)
    }

    /// Known provider names, sorted.
    pub fn provider_names(&self) -> impl Iterator<Item = &str> {
        self.providers.keys().map(String::as_str)
    }

    /// Known preset names, sorted.
    pub fn preset_names(&self) -> impl Iterator<Item = &str> {
        self.presets.keys().map(String::as_str)
    }

    /// The factory registered for a provider name.
    pub fn provider(&self, name: &str) -> Option<&Arc<ProviderFactory>> {
        self.providers.get(name)
    }

    /// The factory registered for a preset name.
    pub fn preset(&self, name: &str) -> Option<&Arc<PresetFactory>> {
        self.presets.get(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Opts {
        #[allow(dead_code)]
        size: u32,
    }

    #[test]
    fn typed_options_reject_unknown_keys_and_wrong_types() {
        let base = Path::new("/etc/sb");
        let table: toml::Table = toml::from_str("size = 1\nsise = 2").expect("toml");
        let err = FactoryContext::new("x", &table, base)
            .parse_options::<Opts>()
            .expect_err("unknown key");
        assert!(
            matches!(&err, FactoryError::InvalidOptions(m) if m.starts_with("unknown field `sise`")),
            "{err}"
        );
        let table: toml::Table = toml::from_str("size = \"big\"").expect("toml");
        let err = FactoryContext::new("x", &table, base)
            .parse_options::<Opts>()
            .expect_err("wrong type");
        assert_eq!(
            err.to_string(),
            "invalid options: invalid type: string \"big\", expected u32"
        );
    }

    #[test]
    fn relative_paths_resolve_against_the_config_directory() {
        let table = toml::Table::new();
        let ctx = FactoryContext::new("x", &table, Path::new("/etc/sb"));
        assert_eq!(ctx.resolve("kv.wasm"), PathBuf::from("/etc/sb/kv.wasm"));
        assert_eq!(ctx.resolve("/abs/kv.wasm"), PathBuf::from("/abs/kv.wasm"));
    }

    #[test]
    fn later_registration_replaces_and_names_are_sorted() {
        let mut registry = ProviderRegistry::new();
        registry
            .register_provider("b", |_| Err(FactoryError::other("first")))
            .register_provider("a", |_| Err(FactoryError::other("a")))
            .register_provider("b", |_| Err(FactoryError::other("second")));
        assert_eq!(registry.provider_names().collect::<Vec<_>>(), ["a", "b"]);
        let table = toml::Table::new();
        let ctx = FactoryContext::new("b", &table, Path::new("."));
        let factory = registry.provider("b").expect("registered");
        let err = factory(&ctx).err().expect("factory fails");
        assert_eq!(err.to_string(), "second");
        assert!(!registry.has_preset("b"));
    }
}
