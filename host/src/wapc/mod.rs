//! waPC hosting: the host callback adapters, a hardened engine and a pooled guest runtime.
//!
//! - [`Router::host_callback`](crate::Router::host_callback) /
//!   [`host_callback_async`](crate::Router::host_callback_async) plug the router into
//!   `wapc::WapcHost` / `wapc::WapcHostAsync` with any engine.
//! - [`SwitchboardEngineProvider`] is our engine for wapc's `WebAssemblyEngineProvider` trait on
//!   wasmtime 48: bounds-checked imports, `_initialize` support, epoch deadlines, a memory cap,
//!   WASI preview 1 (and preview 0, `wasi_unstable`, for old TinyGo guests) with nothing
//!   granted, guest output into `tracing`.
//! - [`GuestModule`] / [`GuestRuntime`] compile a guest once and invoke it from many threads
//!   through a pool of instances; errors are one typed enum, [`WapcError`]. The runtime drives
//!   our engine itself, without a `WapcHost` in between (see `direct.rs` for why).
//! - With the cargo feature `wasmtime-provider`, [`EngineKind::WasmtimeProvider`] runs guests
//!   on wasmtime-provider 2.25 instead, for comparison.
//!
//! Inside, the waPC imports are written once against one trait (`view.rs`), implemented by the
//! runtime's own host (`direct_host.rs`) and by an adapter for wapc's `ModuleState`
//! (`module_state.rs`); the store's data (`store.rs`) holds those hosts and depends on nothing
//! else of the engine: `store` <- `imports` <- `instance` <- `compile` <- `runtime`.
//!
//! ```no_run
//! use switchboard::wapc::{GuestConfig, GuestModule};
//! use switchboard::{ProviderError, Router};
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let router = Router::new();
//! router.register("database:kv", "Get", |key: &[u8]| Ok::<_, ProviderError>(key.to_vec()))?;
//! let runtime = GuestModule::from_file("guest.wasm", GuestConfig::default())?.runtime(&router)?;
//! let reply = runtime.invoke("get", b"key")?;
//! # Ok(()) }
//! ```

mod callback;
mod compile;
mod config;
mod direct;
mod direct_host;
mod engine_provider;
mod epoch;
mod error;
mod imports;
mod instance;
mod memory;
mod module_state;
mod runtime;
mod scope;
mod stdio;
mod store;
mod view;
mod wasi;
#[cfg(feature = "wasmtime-provider")]
mod wasmtime_provider;

pub use callback::with_call_context;
pub use compile::SwitchboardEngineProviderPre;
pub use config::{
    EngineKind, GuestConfig, PreopenDir, WasiGrants, DEFAULT_INIT_TIMEOUT, DEFAULT_INVOKE_TIMEOUT,
    DEFAULT_MAX_MEMORY_BYTES, DEFAULT_MAX_TABLE_ELEMENTS,
};
pub use epoch::{WasmEngine, EPOCH_TICK};
pub use error::{AbiViolation, TrapCause, WapcError};
pub use instance::SwitchboardEngineProvider;
pub use runtime::{GuestModule, GuestRuntime};
pub use stdio::{GUEST_LOG_TARGET, MAX_LINE_BYTES};

#[cfg(test)]
mod tests;
