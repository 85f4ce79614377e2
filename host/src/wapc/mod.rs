//! waPC hosting: the host callback adapters, a hardened engine and a pooled guest runtime.
//!
//! - [`Router::host_callback`](crate::Router::host_callback) /
//!   [`host_callback_async`](crate::Router::host_callback_async) plug the router into
//!   `wapc::WapcHost` / `wapc::WapcHostAsync` with any engine.
//! - [`SwitchboardEngineProvider`] is our engine for wapc's `WebAssemblyEngineProvider` trait on
//!   wasmtime 48: bounds-checked imports, `_initialize` support, epoch deadlines, a memory cap,
//!   WASI preview 1 with nothing granted, guest output into `tracing`.
//! - [`GuestModule`] / [`GuestRuntime`] compile a guest once and invoke it from many threads
//!   through a pool of instances; errors are one typed enum, [`WapcError`]. The runtime drives
//!   our engine itself, without a `WapcHost` in between (see `direct.rs` for why).
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
mod config;
mod direct;
mod engine;
mod epoch;
mod error;
mod imports;
mod legacy;
mod memory;
mod runtime;
mod scope;
mod stdio;
mod wasi;

pub use callback::with_call_context;
pub use config::{
    EngineKind, GuestConfig, PreopenDir, WasiGrants, DEFAULT_INIT_TIMEOUT, DEFAULT_INVOKE_TIMEOUT,
    DEFAULT_MAX_MEMORY_BYTES, DEFAULT_MAX_TABLE_ELEMENTS,
};
pub use engine::{SwitchboardEngineProvider, SwitchboardEngineProviderPre};
pub use epoch::{WasmEngine, EPOCH_TICK};
pub use error::{AbiViolation, TrapCause, WapcError};
pub use runtime::{GuestModule, GuestRuntime};
pub use stdio::{GUEST_LOG_TARGET, MAX_LINE_BYTES};

#[cfg(test)]
mod tests;
