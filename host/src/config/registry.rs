//! The registration contract: [`Capability`]s add their named factories to a
//! [`ProviderRegistry`], which [`Config::apply_with`](super::Config::apply_with) looks the
//! config's names up in.
//!
//! Spin's factors are the model: the config core knows only this contract, and each capability
//! knows itself. The built-ins (`switchboard::builtin::Builtins`), component routes
//! (`switchboard::component::ComponentEngine` and `LazyComponents`) and the Tarmac suite
//! (`switchboard_providers::Tarmac`, `switchboard_providers::function::FunctionGuests`) are
//! capabilities; so is any closure taking `&mut ProviderRegistry`. A program composes the registry it wants from them:
//!
//! ```
//! use switchboard::builtin::Builtins;
//! use switchboard::config::ProviderRegistry;
//!
//! let registry = ProviderRegistry::new().with(&Builtins);
//! assert_eq!(registry.provider_names().collect::<Vec<_>>(), ["echo", "fail", "memory-kv", "uppercase"]);
//! ```

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use super::context::{FactoryContext, FactoryError, PresetFactory, ProviderFactory};
use crate::{Provider, RouteKey};

/// A set of providers that registers itself: one call adds every name it serves (providers
/// for `provider = "..."`, presets for `[preset.<name>]`, the functions factory for
/// `[function.<name>]`). Registering is cheap and infallible; providers are only built (and
/// can only fail) when a config that names them is applied.
pub trait Capability {
    /// Add this capability's factories to `registry`. A name registered earlier is replaced.
    fn register(&self, registry: &mut ProviderRegistry);
}

impl<F> Capability for F
where
    F: Fn(&mut ProviderRegistry),
{
    fn register(&self, registry: &mut ProviderRegistry) {
        self(registry);
    }
}

/// Named provider and preset factories: what `provider = "..."`, `[preset.<name>]` and
/// `[function.<name>]` in `switchboard.toml` may refer to.
///
/// ```
/// use std::sync::Arc;
/// use switchboard::builtin::Builtins;
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
/// let mut registry = ProviderRegistry::new().with(&Builtins);
/// registry.register_provider("hello", |_ctx| Ok(Arc::new(Hello) as Arc<dyn Provider>));
/// assert!(registry.has_provider("hello") && registry.has_provider("echo"));
/// ```
#[derive(Clone, Default)]
pub struct ProviderRegistry {
    providers: BTreeMap<String, Arc<ProviderFactory>>,
    presets: BTreeMap<String, Arc<PresetFactory>>,
    functions: Option<Arc<PresetFactory>>,
}

impl fmt::Debug for ProviderRegistry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProviderRegistry")
            .field("providers", &self.providers.keys().collect::<Vec<_>>())
            .field("presets", &self.presets.keys().collect::<Vec<_>>())
            .field("functions", &self.functions.is_some())
            .finish()
    }
}

impl ProviderRegistry {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    /// This registry with `capability`'s factories added.
    pub fn with(mut self, capability: &dyn Capability) -> Self {
        capability.register(&mut self);
        self
    }

    /// Add `capability`'s factories.
    pub fn add(&mut self, capability: &dyn Capability) -> &mut Self {
        capability.register(self);
        self
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

    /// Make a config's `[function.<name>]` guests served by `factory`: it is called once per
    /// apply, when the config has any, and reads them through
    /// [`FactoryContext::functions`]. A later registration replaces the earlier one.
    pub fn register_functions<F>(&mut self, factory: F) -> &mut Self
    where
        F: Fn(&FactoryContext<'_>) -> Result<Vec<(RouteKey, Arc<dyn Provider>)>, FactoryError>
            + Send
            + Sync
            + 'static,
    {
        self.functions = Some(Arc::new(factory));
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

    /// The factory serving `[function.<name>]` guests, if one is registered.
    pub fn functions(&self) -> Option<&Arc<PresetFactory>> {
        self.functions.as_ref()
    }
}

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};

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

    #[test]
    fn capabilities_register_through_one_contract() {
        let mut registry = ProviderRegistry::new();
        let presets = |registry: &mut ProviderRegistry| {
            registry.register_preset("suite", |_| Ok(Vec::new()));
        };
        registry.add(&crate::builtin::Builtins).add(&presets);
        assert_eq!(
            registry.provider_names().collect::<Vec<_>>(),
            ["echo", "fail", "memory-kv", "uppercase"]
        );
        assert_eq!(registry.preset_names().collect::<Vec<_>>(), ["suite"]);
        assert!(registry.functions().is_none());
    }
}
