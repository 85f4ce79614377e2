//! Applying: building every provider of a checked [`Config`] through a [`ProviderRegistry`]
//! and registering the routes on a [`Router`] in one all-or-nothing batch.

use std::path::PathBuf;
use std::sync::Arc;

use super::context::FactoryContext;
use super::model::Config;
use super::registry::ProviderRegistry;
use super::{ConfigError, Location};
use crate::{Conflict, Provider, RouteInfo, RouteKey, Router};

/// Settings of one apply step that are not in the file (e.g. command-line overrides), read by
/// factories through their [`FactoryContext`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ApplyOptions {
    /// The directory of embedded stores (`switchboard run --data-dir`): replaces the
    /// `data_dir` of presets and routes with embedded stores; an explicit per-store `path` or
    /// `data_dir` nested in a preset's store table still wins. Relative paths resolve against
    /// the config's directory (callers holding a command-line path make it absolute first).
    pub data_dir: Option<PathBuf>,
}

impl ApplyOptions {
    /// No overrides.
    pub fn new() -> Self {
        Self::default()
    }

    /// Override the directory of embedded stores (see [`data_dir`](Self::data_dir)).
    pub fn with_data_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.data_dir = Some(dir.into());
        self
    }
}

/// A provider built from the config, with where it came from for error messages.
struct BuiltRoute {
    key: RouteKey,
    provider: Arc<dyn Provider>,
    at: Location,
    config_key: String,
}

impl Config {
    /// [`apply_with`](Self::apply_with) without overrides.
    ///
    /// # Errors
    ///
    /// As [`apply_with`](Self::apply_with).
    pub fn apply(
        &self,
        router: &Router,
        registry: &ProviderRegistry,
    ) -> Result<Vec<RouteInfo>, ConfigError> {
        self.apply_with(router, registry, &ApplyOptions::default())
    }

    /// Build every provider of the routes, presets and `[function.<name>]` guests through
    /// `registry` (factories see `options` and `router` through their [`FactoryContext`]),
    /// then register all routes on `router` as one batch
    /// ([`Router::register_all`]): nothing is registered unless everything builds and
    /// registers. Returns the registered routes: config routes first (file order), then preset
    /// routes, then the functions route.
    ///
    /// ```
    /// use switchboard::builtin::Builtins;
    /// use switchboard::config::{ApplyOptions, Config, ProviderRegistry};
    /// use switchboard::{CallContext, Router};
    ///
    /// let config = Config::parse("[[route]]\nnamespace = \"e\"\nprovider = \"echo\"", "sb.toml")?;
    /// let router = Router::new();
    /// let registry = ProviderRegistry::new().with(&Builtins);
    /// config.apply_with(&router, &registry, &ApplyOptions::new())?;
    /// assert_eq!(router.call(&CallContext::new(), "", "e", "op", b"hi")?, b"hi");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`ConfigError::UnknownProvider`] / [`ConfigError::UnknownPreset`] for a name the
    /// registry does not know (also `[function.<name>]` without a functions factory, and a
    /// `component = ...` route without the component capability), [`ConfigError::Provider`]
    /// when a factory fails, [`ConfigError::Register`] when the router refuses a route (a
    /// duplicate); all located in the file.
    pub fn apply_with(
        &self,
        router: &Router,
        registry: &ProviderRegistry,
        options: &ApplyOptions,
    ) -> Result<Vec<RouteInfo>, ConfigError> {
        let built = self.build(router, registry, options)?;
        let mut origins = Vec::with_capacity(built.len());
        let routes: Vec<(RouteKey, Arc<dyn Provider>)> = built
            .into_iter()
            .map(|route| {
                origins.push((route.at, route.config_key));
                (route.key, route.provider)
            })
            .collect();
        router
            .register_all(routes, Conflict::Reject)
            .map_err(|refused| {
                let (at, key) = origins.swap_remove(refused.index);
                ConfigError::Register {
                    at,
                    key,
                    source: Box::new(refused.error),
                }
            })
    }

    /// The context every factory of this config starts from.
    fn context<'a>(
        &'a self,
        name: &'a str,
        table: &'a toml::Table,
        router: &'a Router,
        options: &'a ApplyOptions,
    ) -> FactoryContext<'a> {
        let ctx = FactoryContext::new(name, table, &self.base_dir)
            .with_config(self)
            .with_router(router);
        match &options.data_dir {
            Some(dir) => ctx.with_data_dir(dir),
            None => ctx,
        }
    }

    /// Every provider of the routes, presets and functions, built but not registered.
    fn build(
        &self,
        router: &Router,
        registry: &ProviderRegistry,
        options: &ApplyOptions,
    ) -> Result<Vec<BuiltRoute>, ConfigError> {
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
            let ctx = self
                .context(&route.provider, &route.options, router, options)
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
            let ctx = self.context(&preset.name, &preset.options, router, options);
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
        if let Some(first) = self.functions.first() {
            let config_key = format!("function.{}", first.name);
            let factory = registry.functions().ok_or_else(|| ConfigError::Invalid {
                at: first.at.clone(),
                key: Some(config_key.clone()),
                message: "`[function.<name>]` needs a functions factory, and none is registered"
                    .to_string(),
            })?;
            let no_options = toml::Table::new();
            let ctx = self.context(FUNCTION_SECTION, &no_options, router, options);
            let routes = factory(&ctx).map_err(|source| ConfigError::Provider {
                at: first.at.clone(),
                key: FUNCTION_SECTION.to_string(),
                provider: FUNCTION_SECTION.to_string(),
                source,
            })?;
            built.extend(routes.into_iter().map(|(key, provider)| BuiltRoute {
                key,
                provider,
                at: first.at.clone(),
                config_key: FUNCTION_SECTION.to_string(),
            }));
        }
        Ok(built)
    }
}

/// The section `[function.<name>]` guests are declared in; the name the functions factory's
/// context carries.
const FUNCTION_SECTION: &str = "function";
