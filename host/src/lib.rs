//! Switchboard: a host-callback router for WebAssembly.
//!
//! A waPC guest calls `__host_call(binding, namespace, operation, payload)`; Switchboard routes the
//! call to the [`Provider`] registered for `(namespace, operation)`: native Rust code, or a
//! sandboxed WASM component. This page is the short tour; each module's page goes deeper.
//!
//! # A guest, a router, a provider
//!
//! ```
//! use switchboard::wapc::{GuestConfig, GuestModule, WapcError};
//! use switchboard::{CallError, ProviderError, Router};
//!
//! // Any waPC guest works unchanged; this one forwards its payload to `greeter`/`hello` under
//! // binding `demo` and answers with whatever the host answered.
//! let guest = r#"(module
//!   (import "wapc" "__guest_request" (func $request (param i32 i32)))
//!   (import "wapc" "__host_call" (func $call (param i32 i32 i32 i32 i32 i32 i32 i32) (result i32)))
//!   (import "wapc" "__host_response_len" (func $response_len (result i32)))
//!   (import "wapc" "__host_response" (func $response (param i32)))
//!   (import "wapc" "__guest_response" (func $reply (param i32 i32)))
//!   (memory (export "memory") 1)
//!   (data (i32.const 0) "demo") (data (i32.const 8) "greeter") (data (i32.const 16) "hello")
//!   (func (export "__guest_call") (param $op_len i32) (param $len i32) (result i32)
//!     (call $request (i32.const 1024) (i32.const 2048))
//!     (if (i32.eqz (call $call (i32.const 0) (i32.const 4) (i32.const 8) (i32.const 7)
//!                              (i32.const 16) (i32.const 5) (i32.const 2048) (local.get $len)))
//!       (then (return (i32.const 0))))
//!     (call $response (i32.const 4096))
//!     (call $reply (i32.const 4096) (call $response_len))
//!     (i32.const 1)))"#;
//!
//! let router = Router::new();
//! router.register("greeter", "hello", |name: &[u8]| {
//!     Ok::<_, ProviderError>([b"hello, ".as_slice(), name].concat())
//! })?;
//!
//! let runtime = GuestModule::from_bytes(guest.as_bytes(), GuestConfig::default())?.runtime(&router)?;
//! assert_eq!(runtime.invoke("greet", b"ada")?, b"hello, ada");
//!
//! // An unknown route is a typed error; the guest reads its text through `__host_error`.
//! router.unregister(&switchboard::RouteKey::exact("greeter", "hello"));
//! match runtime.invoke("greet", b"ada") {
//!     Err(WapcError::HostCall { error: CallError::NotFound { namespace, .. }, .. }) => {
//!         assert_eq!(namespace, "greeter")
//!     }
//!     other => panic!("expected a host-call error, got {other:?}"),
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Where things are
//!
//! - [`Router`] ([`router`]): routes keyed by `(binding, namespace, operation)` tuples, pre
//!   middleware, post observers, deadlines and cancellation through [`CallContext`], typed
//!   [`CallError`]s, lock-free reads while routes change.
//! - [`Provider`]: what serves a route. Any `Fn(&[u8]) -> Result<Vec<u8>, E>` closure is one;
//!   [`builtin`] has a few ready-made ones (`echo`, `memory-kv`, ...).
//! - [`wapc`]: waPC guests. [`wapc::GuestModule`] compiles once, [`wapc::GuestRuntime`] invokes
//!   from many threads through a pool of instances, each with a memory cap and an epoch deadline.
//! - [`component`]: providers that are WASM components (`wit/provider.wit`), each instance in
//!   its own store with its own limits and nothing granted by default.
//! - [`config`]: `switchboard.toml`: routes, presets, guest limits and grants, applied through a
//!   [`config::ProviderRegistry`] that each capability fills ([`config::Capability`]).
//!
//! # Cargo features
//!
//! - `wasmtime-provider` (off): the wasmtime-provider 2.25 waPC engine, only to compare engines
//!   ([`wapc::EngineKind`]); Switchboard's own engine is the default and the only one built
//!   without it.
#![warn(missing_docs)]

mod artifact_cache;
pub mod builtin;
pub mod component;
pub mod config;
mod context;
mod error;
mod pool;
mod provider;
pub mod router;
mod sandbox;
#[cfg(test)]
mod test_log;
pub mod wapc;
mod wasi_output;

pub use context::{CallContext, CancelToken};
pub use error::{CallError, ProviderError, RegisterError};
pub use provider::{provider_fn, FnProvider, IntoProvider, Provider, Request};
pub use router::{
    BatchError, CallInfo, CallResult, Conflict, PostCall, PreCall, PreOutcome, RouteInfo, RouteKey,
    Router, RouterBuilder,
};
