//! The engine component providers run on: one wasmtime `Engine` with epoch interruption
//! (advanced by the process-wide ticker of [`crate::sandbox::epoch`]), the `Linker` with WASI
//! preview 2 and the `host` interface, and the optional disk cache of compiled components.

use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use wasmtime::component::{HasSelf, Linker};
use wasmtime::Engine;

use super::bindings::Provider as ProviderWorld;
use super::error::ComponentError;
use super::state::InstanceState;
use crate::artifact_cache::DiskCache;
use crate::sandbox::epoch;
/// The epoch period: the precision of component deadlines and cancellation (the same tick as
/// waPC guests').
pub use crate::sandbox::EPOCH_TICK;

/// Settings of a [`ComponentEngine`]. Defaults: no fuel metering, no disk cache.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct EngineOptions {
    /// Meter fuel, so providers can set [`fuel_per_call`](super::ComponentConfig::fuel_per_call).
    /// Costs on every instruction; epoch deadlines already bound time.
    pub fuel: bool,
    /// Where compiled components are cached (created on demand). Must be writable only by
    /// whoever runs the host: its files are loaded as native code.
    pub cache_dir: Option<PathBuf>,
}

impl EngineOptions {
    /// Enable fuel metering.
    pub fn with_fuel(mut self, fuel: bool) -> Self {
        self.fuel = fuel;
        self
    }

    /// Cache compiled components in `dir`.
    pub fn with_cache_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.cache_dir = Some(dir.into());
        self
    }
}

/// A wasmtime engine configured for component providers, shared by every provider loaded on
/// it. Cheap to clone. The epoch ticker lets go of it once every clone (including those held
/// by loaded components) is dropped.
#[derive(Clone)]
pub struct ComponentEngine {
    inner: Arc<EngineInner>,
}

pub(crate) struct EngineInner {
    pub(crate) engine: Engine,
    pub(crate) linker: Linker<InstanceState>,
    pub(crate) cache: Option<DiskCache>,
    pub(crate) fuel: bool,
}

impl std::fmt::Debug for ComponentEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ComponentEngine")
            .field("fuel", &self.inner.fuel)
            .field("cache", &self.inner.cache)
            .finish_non_exhaustive()
    }
}

impl ComponentEngine {
    /// An engine with the given options, registered with the epoch ticker.
    ///
    /// # Errors
    /// [`ComponentError::Engine`] if wasmtime refuses the configuration, the linker cannot be
    /// set up, or the ticker thread cannot be started.
    pub fn new(options: EngineOptions) -> Result<Self, ComponentError> {
        let mut config = wasmtime::Config::new();
        config.wasm_component_model(true);
        config.epoch_interruption(true);
        config.consume_fuel(options.fuel);
        let engine = Engine::new(&config).map_err(|e| ComponentError::Engine(e.to_string()))?;

        let mut linker = Linker::<InstanceState>::new(&engine);
        wasmtime_wasi::p2::add_to_linker_sync(&mut linker)
            .map_err(|e| ComponentError::Engine(format!("cannot add WASI to the linker: {e}")))?;
        ProviderWorld::add_to_linker::<_, HasSelf<_>>(&mut linker, |state| state)
            .map_err(|e| ComponentError::Engine(format!("cannot add the host interface: {e}")))?;

        epoch::register(&engine).map_err(ComponentError::Engine)?;
        Ok(ComponentEngine {
            inner: Arc::new(EngineInner {
                engine,
                linker,
                cache: options.cache_dir.map(DiskCache::new),
                fuel: options.fuel,
            }),
        })
    }

    /// The process-wide engine with default options (created on first use).
    ///
    /// # Errors
    /// As [`new`](Self::new), the first time and every time after a failed first time.
    pub fn shared() -> Result<Self, ComponentError> {
        static SHARED: OnceLock<Result<ComponentEngine, String>> = OnceLock::new();
        SHARED
            .get_or_init(|| {
                ComponentEngine::new(EngineOptions::default()).map_err(|e| e.to_string())
            })
            .clone()
            .map_err(ComponentError::Engine)
    }

    /// The underlying wasmtime engine.
    pub fn wasmtime(&self) -> &Engine {
        &self.inner.engine
    }

    pub(crate) fn inner(&self) -> &EngineInner {
        &self.inner
    }
}
