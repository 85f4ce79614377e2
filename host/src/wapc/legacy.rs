//! wasmtime-provider 2.25 as the second engine, for comparison.
//!
//! One `WasmtimeEngineProviderPre` per module, `rehydrate`d once per pooled instance (cloning an
//! initialised provider instantiates twice, `replace_module` leaks instances into the store).
//! It runs on our [`WasmEngine`] so its epoch deadlines are driven by our ticker.

use wapc::WasiParams;
use wasmtime_provider::{
    EpochDeadlines, ResourceLimits, WasmtimeEngineProvider, WasmtimeEngineProviderBuilder,
    WasmtimeEngineProviderPre,
};

use super::config::GuestConfig;
use super::epoch::{ticks_for, WasmEngine};
use super::error::WapcError;

/// What wasmtime-provider reports when its epoch deadline interrupts a guest call.
pub(crate) const INTERRUPTED_MESSAGE: &str = "guest code interrupted, execution deadline exceeded";

/// The cause reported for a wasmtime-provider trap: it flattens the engine error to its
/// outermost context (the backtrace) before we see it.
pub(crate) const TRAP_CAUSE: &str = "wasm trap (wasmtime-provider reports only the backtrace)";

/// A compiled module for wasmtime-provider.
#[derive(Clone)]
pub(crate) struct LegacyPre {
    pre: WasmtimeEngineProviderPre,
    deadlines: EpochDeadlines,
}

impl std::fmt::Debug for LegacyPre {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LegacyPre")
            .field("deadlines", &self.deadlines)
            .finish_non_exhaustive()
    }
}

impl LegacyPre {
    pub(crate) fn new(
        engine: &WasmEngine,
        module: wasmtime::Module,
        config: &GuestConfig,
    ) -> Result<Self, WapcError> {
        if !config.wasi.read_only_dirs.is_empty() {
            // It can only preopen read-write: refuse rather than grant more than asked.
            return Err(WapcError::Config(
                "the wasmtime-provider engine cannot preopen directories read-only; \
                 use the switchboard engine"
                    .into(),
            ));
        }
        let wasi = WasiParams {
            argv: config.wasi.args.clone(),
            env_vars: config.wasi.env.clone(),
            ..WasiParams::default()
        };
        let deadlines = EpochDeadlines {
            wapc_init: ticks_for(config.init_timeout),
            wapc_func: ticks_for(config.invoke_timeout),
        };
        let pre = WasmtimeEngineProviderBuilder::new()
            .engine(engine.wasmtime().clone())
            .module(module)
            .wasi_params(wasi)
            .enable_resource_limits(ResourceLimits {
                max_memory_size: Some(config.max_memory_bytes),
                max_table_elements: Some(config.max_table_elements),
            })
            .build_pre()
            .map_err(|e| WapcError::BadModule(e.to_string()))?;
        Ok(LegacyPre { pre, deadlines })
    }

    /// A fresh, uninitialised provider (`WapcHost::new` initialises it).
    pub(crate) fn provider(&self) -> Result<WasmtimeEngineProvider, WapcError> {
        self.pre
            .rehydrate(Some(self.deadlines))
            .map_err(|e| WapcError::Instantiation(e.to_string()))
    }
}

/// Whether a guest error text from wasmtime-provider is really a trap (it reports traps as
/// guest errors, with the wasm backtrace as the message).
pub(crate) fn looks_like_trap(message: &str) -> bool {
    message.starts_with("error while executing at wasm backtrace")
        || message.starts_with("wasm trap:")
}
