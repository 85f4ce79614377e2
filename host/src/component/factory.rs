//! `component = "kv.wasm"` routes in `switchboard.toml`: the factory behind the
//! [`COMPONENT_PROVIDER`] name.
//!
//! ```toml
//! [[route]]
//! namespace = "database:kv"
//! component = "kv.wasm"        # relative to the config file
//! [route.options]              # any ComponentConfig field; durations in ms
//! max_memory_bytes = 16777216
//! call_timeout_ms = 500
//! pool_min = 1
//! pool_max = 4
//! [route.options.grants]
//! env = [["MODE", "prod"]]
//! read_only_dirs = [{ host = "./data", guest = "/data" }]
//! host_calls = true
//! ```
//!
//! Each `[[route]]` gets its own provider (its own pool and state).

use std::sync::{Arc, OnceLock};

use super::config::ComponentConfig;
use super::engine::{ComponentEngine, EngineOptions};
use super::provider::ComponentProvider;
use crate::config::{
    Capability, FactoryContext, FactoryError, ProviderRegistry, COMPONENT_PROVIDER,
};
use crate::Provider;

/// Component routes on this engine: registers the [`COMPONENT_PROVIDER`] factory, so that
/// `component = "..."` routes load their components here.
impl Capability for ComponentEngine {
    fn register(&self, registry: &mut ProviderRegistry) {
        let engine = self.clone();
        registry.register_provider(COMPONENT_PROVIDER, move |ctx| build(&engine, ctx));
    }
}

/// Component routes on an engine created when the first such route is built: a config
/// without component routes pays nothing (no engine, no epoch ticker thread). All routes built
/// through one registry share that engine.
///
/// ```
/// use switchboard::component::{EngineOptions, LazyComponents};
/// use switchboard::config::{ProviderRegistry, COMPONENT_PROVIDER};
/// let registry = ProviderRegistry::new().with(&LazyComponents::new(EngineOptions::default()));
/// assert!(registry.has_provider(COMPONENT_PROVIDER));
/// ```
#[derive(Debug, Clone)]
pub struct LazyComponents {
    options: EngineOptions,
}

impl LazyComponents {
    /// Component routes on an engine with `options`, created on first use.
    pub fn new(options: EngineOptions) -> Self {
        LazyComponents { options }
    }
}

impl Capability for LazyComponents {
    fn register(&self, registry: &mut ProviderRegistry) {
        let options = self.options.clone();
        let engine: Arc<OnceLock<Result<ComponentEngine, String>>> = Arc::new(OnceLock::new());
        registry.register_provider(COMPONENT_PROVIDER, move |ctx| {
            let engine = engine
                .get_or_init(|| ComponentEngine::new(options.clone()).map_err(|e| e.to_string()))
                .as_ref()
                .map_err(|e| FactoryError::other(e.clone()))?;
            build(engine, ctx)
        });
    }
}

fn build(
    engine: &ComponentEngine,
    ctx: &FactoryContext<'_>,
) -> Result<Arc<dyn Provider>, FactoryError> {
    let mut options = ctx.options().clone();
    let path = match options.remove("path") {
        Some(toml::Value::String(path)) => ctx.resolve(path),
        Some(_) => {
            return Err(FactoryError::InvalidOptions(
                "`path` must be a string".into(),
            ))
        }
        None => {
            return Err(FactoryError::InvalidOptions(
                "missing `path` of the component".into(),
            ))
        }
    };
    let mut config: ComponentConfig = toml::Value::Table(options)
        .try_into()
        .map_err(|e: toml::de::Error| FactoryError::InvalidOptions(e.message().to_string()))?;
    for dir in &mut config.grants.read_only_dirs {
        dir.host = ctx.resolve(&dir.host);
    }
    let provider =
        ComponentProvider::from_file(engine, path, config).map_err(FactoryError::other)?;
    Ok(Arc::new(provider))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(text: &str) -> toml::Table {
        toml::from_str(text).unwrap()
    }

    #[test]
    fn lazy_factory_builds_component_routes() {
        let registry = ProviderRegistry::new().with(&LazyComponents::new(EngineOptions::default()));
        let factory = registry.provider(COMPONENT_PROVIDER).unwrap().clone();
        let base =
            std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../providers/components");
        let table = options("path = \"out/transform.wasm\"");
        let ctx = FactoryContext::new("component", &table, &base);
        let provider = factory(&ctx)
            .unwrap_or_else(|e| panic!("{e} (run `bash scripts/build-components.sh` first)"));
        assert_eq!(provider.describe(), "component transform.wasm");
        let missing = options("pool_max = 2");
        let ctx = FactoryContext::new("component", &missing, &base);
        match factory(&ctx) {
            Err(FactoryError::InvalidOptions(message)) => {
                assert_eq!(message, "missing `path` of the component");
            }
            Err(other) => panic!("expected InvalidOptions, got {other}"),
            Ok(provider) => panic!("built {} without a path", provider.describe()),
        }
    }

    #[test]
    fn missing_path_is_an_option_error() {
        let engine = ComponentEngine::shared().unwrap();
        let table = options("pool_max = 2");
        let ctx = FactoryContext::new("component", &table, std::path::Path::new("."));
        let err = build(&engine, &ctx).err().unwrap();
        assert_eq!(
            err.to_string(),
            "invalid options: missing `path` of the component"
        );
    }

    #[test]
    fn unknown_option_is_refused() {
        let engine = ComponentEngine::shared().unwrap();
        let table = options("path = \"kv.wasm\"\npool_size = 2");
        let ctx = FactoryContext::new("component", &table, std::path::Path::new("."));
        let err = build(&engine, &ctx).err().unwrap();
        assert!(
            matches!(&err, FactoryError::InvalidOptions(m) if m.starts_with("unknown field `pool_size`")),
            "{err}"
        );
    }

    #[test]
    fn loads_a_component_relative_to_the_config() {
        let engine = ComponentEngine::shared().unwrap();
        let base =
            std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../providers/components");
        let table = options("path = \"out/transform.wasm\"\ncall_timeout_ms = 250");
        let ctx = FactoryContext::new("component", &table, &base);
        let provider = build(&engine, &ctx)
            .unwrap_or_else(|e| panic!("{e} (run `bash scripts/build-components.sh` first)"));
        assert_eq!(provider.describe(), "component transform.wasm");
    }
}
