//! The wasmtime `Engine` guests run on, with the epoch ticker that enforces deadlines.
//!
//! Deadlines use epoch interruption, never fuel: fuel costs on every instruction and
//! wasmtime-provider's fuel mode traps at init. One ticker thread per engine bumps the epoch
//! every [`EPOCH_TICK`]; a store checks its real deadline and cancellation token each tick.

use std::sync::OnceLock;
use std::time::Duration;

use super::error::WapcError;

/// The epoch period, i.e. the precision of guest deadlines.
pub const EPOCH_TICK: Duration = Duration::from_millis(5);

/// A wasmtime [`Engine`](wasmtime::Engine) configured for waPC guests (epoch interruption on)
/// plus its ticker thread. Cheap to clone. The ticker stops once every clone of the engine
/// (including the ones inside compiled modules) is dropped.
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
    /// A new engine with its own ticker thread.
    pub fn new() -> Result<Self, WapcError> {
        let mut config = wasmtime::Config::new();
        config.epoch_interruption(true);
        let engine = wasmtime::Engine::new(&config)
            .map_err(|e| WapcError::Config(format!("cannot create the wasm engine: {e}")))?;
        start_ticker(&engine)?;
        Ok(WasmEngine { engine })
    }

    /// The process-wide engine used by default (created on first use).
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

fn start_ticker(engine: &wasmtime::Engine) -> Result<(), WapcError> {
    let weak = engine.weak();
    std::thread::Builder::new()
        .name("switchboard-epoch".into())
        .spawn(move || {
            // Holding only a weak reference lets the engine (and this thread) go away.
            while let Some(engine) = weak.upgrade() {
                engine.increment_epoch();
                drop(engine);
                std::thread::sleep(EPOCH_TICK);
            }
        })
        .map_err(|e| WapcError::Config(format!("cannot start the epoch ticker thread: {e}")))?;
    Ok(())
}

/// Whole ticks covering `timeout`, plus one for the tick already in progress.
pub(crate) fn ticks_for(timeout: Duration) -> u64 {
    let tick = EPOCH_TICK.as_nanos().max(1);
    let ticks = timeout.as_nanos().div_ceil(tick);
    u64::try_from(ticks).unwrap_or(u64::MAX).saturating_add(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_round_up_and_add_one() {
        assert_eq!(ticks_for(Duration::ZERO), 1);
        assert_eq!(ticks_for(EPOCH_TICK), 2);
        assert_eq!(ticks_for(EPOCH_TICK + Duration::from_nanos(1)), 3);
        assert_eq!(ticks_for(Duration::MAX), u64::MAX);
    }

    #[test]
    fn shared_engine_is_one_engine() {
        let a = WasmEngine::shared().map(|e| e.engine);
        let b = WasmEngine::shared().map(|e| e.engine);
        assert!(matches!((a, b), (Ok(a), Ok(b)) if wasmtime::Engine::same(&a, &b)));
    }
}
