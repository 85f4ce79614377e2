//! The wasmtime `Engine` guests run on, registered with the process-wide epoch ticker that
//! enforces deadlines (see [`crate::sandbox::epoch`]).
//!
//! Deadlines use epoch interruption, never fuel: fuel costs on every instruction and
//! wasmtime-provider's fuel mode traps at init. Every [`EPOCH_TICK`] a running store checks its
//! real deadline and cancellation token.

use std::sync::OnceLock;

use super::error::WapcError;
use crate::sandbox::epoch;
pub use crate::sandbox::EPOCH_TICK;

/// A wasmtime [`Engine`](wasmtime::Engine) configured for waPC guests (epoch interruption on)
/// and served by the process-wide epoch ticker. Cheap to clone. The ticker lets go of it once
/// every clone of the engine (including the ones inside compiled modules) is dropped.
#[derive(Clone)]
pub struct WasmEngine {
    engine: wasmtime::Engine,
}

impl std::fmt::Debug for WasmEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WasmEngine").finish_non_exhaustive()
    }
}

impl WasmEngine {
    /// A new engine, registered with the epoch ticker.
    ///
    /// # Errors
    /// [`WapcError::Config`] if wasmtime refuses the configuration or the ticker thread cannot
    /// be started.
    pub fn new() -> Result<Self, WapcError> {
        let mut config = wasmtime::Config::new();
        config.epoch_interruption(true);
        let engine = wasmtime::Engine::new(&config)
            .map_err(|e| WapcError::Config(format!("cannot create the wasm engine: {e}")))?;
        epoch::register(&engine).map_err(WapcError::Config)?;
        Ok(WasmEngine { engine })
    }

    /// The process-wide engine used by default (created on first use).
    ///
    /// # Errors
    /// As [`new`](Self::new), the first time and every time after a failed first time.
    pub fn shared() -> Result<Self, WapcError> {
        static SHARED: OnceLock<Result<WasmEngine, String>> = OnceLock::new();
        SHARED
            .get_or_init(|| WasmEngine::new().map_err(|e| e.to_string()))
            .clone()
            .map_err(WapcError::Config)
    }

    /// The underlying wasmtime engine.
    pub fn wasmtime(&self) -> &wasmtime::Engine {
        &self.engine
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shared_engine_is_one_engine() {
        let a = WasmEngine::shared().map(|e| e.engine);
        let b = WasmEngine::shared().map(|e| e.engine);
        assert!(matches!((a, b), (Ok(a), Ok(b)) if wasmtime::Engine::same(&a, &b)));
    }
}
