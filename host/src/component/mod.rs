//! Sandboxed WASM component providers (the `switchboard:provider@0.1.0` world, `wit/`).
//!
//! A component exports `handler.handle(call-info, payload) -> result<list<u8>, error>` and may
//! import `host` (`log`, and `call` back into the router when granted). Both import-free
//! components (wasm32-unknown-unknown + `switchboard-componentize`) and wasm32-wasip2 ones
//! load; WASI preview 2 is linked with nothing granted unless configured.
//!
//! - [`ComponentEngine`]: one wasmtime engine with epoch interruption, the linker, and an
//!   optional on-disk cache of compiled components.
//! - [`ComponentProvider`]: a [`Provider`](crate::Provider) backed by a bounded pool of warm
//!   instances, each in its own `Store` with memory/table/instance caps, a per-call epoch
//!   deadline, optional fuel and payload caps; instances are replaced after a trap, a deadline,
//!   a limit, or `recycle_after` calls.
//! - [`Router::register_component`](crate::Router::register_component) and
//!   [`Router::replace_component`](crate::Router::replace_component) (hot swap).
//!
//! Errors map onto [`ProviderError`](crate::ProviderError): an unknown operation is
//! `UnknownOperation`, a trap `Trapped`, a deadline `DeadlineExceeded`, cancellation
//! `Canceled`, memory/size/fuel/pool/cycle limits `LimitExceeded`, a component's failure
//! `Failed` with its payload.

pub mod bindings;
mod config;
mod engine;
mod error;
mod factory;
mod load;
mod provider;
mod register;
mod state;

pub use crate::pool::PoolStats;
pub use crate::wasi_output::{COMPONENT_LOG_TARGET, MAX_LINE_BYTES};
pub use config::{
    ComponentConfig, Grants, ReadOnlyDir, DEFAULT_CALL_TIMEOUT, DEFAULT_MAX_INSTANCES,
    DEFAULT_MAX_MEMORY_BYTES, DEFAULT_MAX_REQUEST_BYTES, DEFAULT_MAX_RESPONSE_BYTES,
    DEFAULT_MAX_TABLE_ELEMENTS, DEFAULT_POOL_MAX, DEFAULT_POOL_MIN, DEFAULT_POOL_WAIT,
    DEFAULT_RECYCLE_AFTER,
};
pub use engine::{ComponentEngine, EngineOptions, EPOCH_TICK};
pub use error::ComponentError;
pub use factory::LazyComponents;
pub use provider::ComponentProvider;

#[cfg(test)]
mod tests;
