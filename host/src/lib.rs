//! Switchboard: a host-callback router for WebAssembly.
//!
//! A waPC guest calls `__host_call(binding, namespace, operation, payload)`; Switchboard routes the
//! call to a [`Provider`] registered for `(namespace, operation)`: native Rust code, or a sandboxed
//! WASM component.
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
